//! `crypto-basics.json`: the labeled operations of RFC 9420 sections 5.1 and 5.2, and
//! DeriveTreeSecret (section 9.1).

use concord_reference::crypto::{SignatureScheme, Suite};
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub ref_hash: RefHash,
    pub expand_with_label: ExpandWithLabel,
    pub derive_secret: DeriveSecret,
    pub derive_tree_secret: DeriveTreeSecret,
    pub sign_with_label: SignWithLabel,
    pub encrypt_with_label: EncryptWithLabel,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RefHash {
    pub label: String,
    pub value: HexBytes,
    pub out: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExpandWithLabel {
    pub secret: HexBytes,
    pub label: String,
    pub context: HexBytes,
    pub length: u16,
    pub out: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DeriveSecret {
    pub secret: HexBytes,
    pub label: String,
    pub out: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DeriveTreeSecret {
    pub secret: HexBytes,
    pub label: String,
    pub generation: u32,
    pub length: u16,
    pub out: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SignWithLabel {
    #[serde(rename = "priv")]
    pub private: HexBytes,
    #[serde(rename = "pub")]
    pub public: HexBytes,
    pub content: HexBytes,
    pub label: String,
    pub signature: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EncryptWithLabel {
    #[serde(rename = "priv")]
    pub private: HexBytes,
    #[serde(rename = "pub")]
    pub public: HexBytes,
    pub label: String,
    pub context: HexBytes,
    pub plaintext: HexBytes,
    pub kem_output: HexBytes,
    pub ciphertext: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let r = &case.ref_hash;
    expect_bytes(
        "ref_hash.out",
        &suite.ref_hash(r.label.as_bytes(), &r.value),
        &r.out,
    )?;

    let e = &case.expand_with_label;
    let out = suite
        .expand_with_label(&e.secret, e.label.as_bytes(), &e.context, e.length)
        .at("expand_with_label.out")?;
    expect_bytes("expand_with_label.out", &out, &e.out)?;

    let d = &case.derive_secret;
    let out = suite
        .derive_secret(&d.secret, d.label.as_bytes())
        .at("derive_secret.out")?;
    expect_bytes("derive_secret.out", &out, &d.out)?;

    let t = &case.derive_tree_secret;
    let out = suite
        .derive_tree_secret(&t.secret, t.label.as_bytes(), t.generation, t.length)
        .at("derive_tree_secret.out")?;
    expect_bytes("derive_tree_secret.out", &out, &t.out)?;

    let s = &case.sign_with_label;
    let public = suite
        .signature_public_key(&s.private)
        .at("sign_with_label.priv")?;
    expect_bytes("sign_with_label.pub", &public, &s.public)?;
    suite
        .verify_with_label(&s.public, s.label.as_bytes(), &s.content, &s.signature)
        .at("sign_with_label.signature")?;
    // ECDSA signatures may be randomized: ours must verify. EdDSA is deterministic
    // (RFC 8032): ours must match byte for byte.
    let ours = suite
        .sign_with_label(&s.private, s.label.as_bytes(), &s.content)
        .at("sign_with_label (signing)")?;
    if matches!(
        suite.signature_scheme(),
        SignatureScheme::Ed25519 | SignatureScheme::Ed448
    ) {
        expect_bytes(
            "sign_with_label.signature (EdDSA is deterministic)",
            &ours,
            &s.signature,
        )?;
    }
    suite
        .verify_with_label(&s.public, s.label.as_bytes(), &s.content, &ours)
        .at("sign_with_label (own signature)")?;

    let h = &case.encrypt_with_label;
    let public = suite
        .hpke_public_key(&h.private)
        .at("encrypt_with_label.priv")?;
    expect_bytes("encrypt_with_label.pub", &public, &h.public)?;
    let plaintext = suite
        .decrypt_with_label(
            &h.private,
            h.label.as_bytes(),
            &h.context,
            &h.kem_output,
            &h.ciphertext,
        )
        .at("encrypt_with_label.ciphertext")?;
    expect_bytes("encrypt_with_label.plaintext", &plaintext, &h.plaintext)?;
    // And our own encryption, under a seeded RNG, opens with the vector's key.
    let mut rng = super::seeded_rng(u64::from(case.cipher_suite));
    let (kem_output, ciphertext) = suite
        .encrypt_with_label(
            &h.public,
            h.label.as_bytes(),
            &h.context,
            &h.plaintext,
            &mut rng,
        )
        .at("encrypt_with_label (sealing)")?;
    let reopened = suite
        .decrypt_with_label(
            &h.private,
            h.label.as_bytes(),
            &h.context,
            &kem_output,
            &ciphertext,
        )
        .at("encrypt_with_label (own ciphertext)")?;
    expect_bytes(
        "encrypt_with_label (own ciphertext)",
        &reopened,
        &h.plaintext,
    )
}
