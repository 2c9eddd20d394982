//! The official MLS `crypto-basics.json` vectors (mlswg/mls-implementations), every
//! field, all seven cipher suites.
//!
//! The folder comes from `CONCORD_VECTORS`, else `../../shared/mls-vectors` relative to
//! this crate.

use std::path::PathBuf;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn vectors_folder() -> PathBuf {
    std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/mls-vectors"
            ))
        })
}

fn load(name: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let path = vectors_folder().join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_str(&text)? {
        Value::Array(cases) => Ok(cases),
        _ => Err(format!("{name}: not a JSON array").into()),
    }
}

/// A string field.
fn text<'a>(object: &'a Value, key: &str) -> Result<&'a str, String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string field {key}"))
}

/// A hex field, decoded.
fn bytes(object: &Value, key: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    Ok(hex::decode(text(object, key)?)?)
}

/// An integer field.
fn number(object: &Value, key: &str) -> Result<u64, String> {
    object
        .get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("missing integer field {key}"))
}

fn section<'a>(case: &'a Value, key: &str) -> Result<&'a Value, String> {
    case.get(key)
        .ok_or_else(|| format!("missing section {key}"))
}

fn check_case(case: &Value) -> Result<u16, Box<dyn std::error::Error>> {
    let id = u16::try_from(number(case, "cipher_suite")?)?;
    let suite = Suite::new(CipherSuite(id))?;
    let at = |what: &str| format!("suite {id}: {what}");

    let v = section(case, "ref_hash")?;
    assert_eq!(
        suite.ref_hash(text(v, "label")?.as_bytes(), &bytes(v, "value")?),
        bytes(v, "out")?,
        "{}",
        at("ref_hash")
    );

    let v = section(case, "expand_with_label")?;
    let expanded = suite.expand_with_label(
        &bytes(v, "secret")?,
        text(v, "label")?.as_bytes(),
        &bytes(v, "context")?,
        u16::try_from(number(v, "length")?)?,
    )?;
    assert_eq!(expanded, bytes(v, "out")?, "{}", at("expand_with_label"));

    let v = section(case, "derive_secret")?;
    let derived = suite.derive_secret(&bytes(v, "secret")?, text(v, "label")?.as_bytes())?;
    assert_eq!(derived, bytes(v, "out")?, "{}", at("derive_secret"));

    let v = section(case, "derive_tree_secret")?;
    let derived = suite.derive_tree_secret(
        &bytes(v, "secret")?,
        text(v, "label")?.as_bytes(),
        u32::try_from(number(v, "generation")?)?,
        u16::try_from(number(v, "length")?)?,
    )?;
    assert_eq!(derived, bytes(v, "out")?, "{}", at("derive_tree_secret"));

    let v = section(case, "sign_with_label")?;
    let (private, public) = (bytes(v, "priv")?, bytes(v, "pub")?);
    let (label, content, signature) = (
        text(v, "label")?.as_bytes(),
        bytes(v, "content")?,
        bytes(v, "signature")?,
    );
    suite
        .verify_with_label(&public, label, &content, &signature)
        .map_err(|e| at(&format!("verify given signature: {e}")))?;
    assert_eq!(
        suite.signature_public_key(&private)?,
        public,
        "{}",
        at("pub from priv")
    );
    let ours = suite.sign_with_label(&private, label, &content)?;
    suite
        .verify_with_label(&public, label, &content, &ours)
        .map_err(|e| at(&format!("verify own signature: {e}")))?;
    if matches!(
        suite.signature_scheme(),
        SignatureScheme::Ed25519 | SignatureScheme::Ed448
    ) {
        // EdDSA is deterministic: the same key and message give the same signature.
        assert_eq!(ours, signature, "{}", at("EdDSA signature"));
    }
    assert_eq!(
        suite.verify_with_label(&public, b"OtherLabel", &content, &signature),
        Err(CryptoError::SignatureVerificationFailed),
        "{}",
        at("wrong label")
    );

    let v = section(case, "encrypt_with_label")?;
    let (private, public) = (bytes(v, "priv")?, bytes(v, "pub")?);
    let (label, context, plaintext) = (
        text(v, "label")?.as_bytes(),
        bytes(v, "context")?,
        bytes(v, "plaintext")?,
    );
    let (kem_output, ciphertext) = (bytes(v, "kem_output")?, bytes(v, "ciphertext")?);
    assert_eq!(
        suite.hpke_public_key(&private)?,
        public,
        "{}",
        at("HPKE pub from priv")
    );
    let opened = suite
        .decrypt_with_label(&private, label, &context, &kem_output, &ciphertext)
        .map_err(|e| at(&format!("decrypt given ciphertext: {e}")))?;
    assert_eq!(opened, plaintext, "{}", at("decrypt_with_label"));
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(id));
    let (our_kem_output, our_ciphertext) =
        suite.encrypt_with_label(&public, label, &context, &plaintext, &mut rng)?;
    assert_eq!(
        suite.decrypt_with_label(&private, label, &context, &our_kem_output, &our_ciphertext)?,
        plaintext,
        "{}",
        at("own encrypt_with_label")
    );
    assert_eq!(
        suite.decrypt_with_label(&private, b"OtherLabel", &context, &kem_output, &ciphertext),
        Err(CryptoError::AeadOpenFailed),
        "{}",
        at("wrong label")
    );
    Ok(id)
}

#[test]
fn mls_crypto_basics_all_suites() -> TestResult {
    let mut seen = Vec::new();
    for case in load("crypto-basics.json")? {
        seen.push(check_case(&case)?);
    }
    seen.sort_unstable();
    assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7]);
    Ok(())
}

/// The encodings the vectors use, per suite: (signature private, signature public,
/// HPKE private, HPKE public) lengths, and the signature length range (ECDSA DER
/// signatures vary by a few bytes).
#[test]
fn mls_crypto_basics_key_and_signature_lengths() -> TestResult {
    for case in load("crypto-basics.json")? {
        let id = u16::try_from(number(&case, "cipher_suite")?)?;
        let suite = Suite::new(CipherSuite(id))?;
        let sign = section(&case, "sign_with_label")?;
        let encrypt = section(&case, "encrypt_with_label")?;
        let scheme = suite.signature_scheme();
        assert_eq!(
            bytes(sign, "priv")?.len(),
            scheme.private_key_length(),
            "suite {id}"
        );
        assert_eq!(
            bytes(sign, "pub")?.len(),
            scheme.public_key_length(),
            "suite {id}"
        );
        assert_eq!(
            bytes(encrypt, "priv")?.len(),
            suite.kem().private_key_length(),
            "suite {id}"
        );
        assert_eq!(
            bytes(encrypt, "pub")?.len(),
            suite.kem().public_key_length(),
            "suite {id}"
        );
        assert_eq!(
            bytes(encrypt, "kem_output")?.len(),
            suite.kem().enc_length(),
            "suite {id}"
        );
        let signature = bytes(sign, "signature")?;
        match scheme {
            SignatureScheme::Ed25519 => assert_eq!(signature.len(), 64),
            SignatureScheme::Ed448 => assert_eq!(signature.len(), 114),
            _ => assert_eq!(signature.first(), Some(&0x30), "suite {id}: DER SEQUENCE"),
        }
    }
    Ok(())
}
