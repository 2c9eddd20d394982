//! RFC 9180 Appendix A known-answer tests, base mode: DeriveKeyPair, Encap/Decap, the
//! key schedule, sealing at several sequence numbers, single-shot seal/open and export,
//! both through the internal HPKE and, where the combination is an MLS suite, through
//! the public [`Suite`] API.

use super::hpke::Hpke;
use super::rfc9180_vectors::{ALL, Kat};
use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn unhex(s: &str) -> Result<Vec<u8>, hex::FromHexError> {
    hex::decode(s)
}

/// `base_nonce XOR I2OSP(seq, Nn)` (RFC 9180 section 5.2).
fn nonce_for(base_nonce: &[u8], sequence_number: u64) -> Vec<u8> {
    let mut nonce = base_nonce.to_vec();
    let seq = sequence_number.to_be_bytes();
    for (n, s) in nonce.iter_mut().rev().zip(seq.iter().rev()) {
        *n ^= s;
    }
    nonce
}

fn check_key_pairs(name: &str, kat: &Kat) -> TestResult {
    let ephemeral = kat.kem.derive_key_pair(&unhex(kat.ikm_e)?)?;
    assert_eq!(hex::encode(&ephemeral.private), kat.sk_em, "{name} skEm");
    assert_eq!(hex::encode(&ephemeral.public), kat.pk_em, "{name} pkEm");
    let recipient = kat.kem.derive_key_pair(&unhex(kat.ikm_r)?)?;
    assert_eq!(hex::encode(&recipient.private), kat.sk_rm, "{name} skRm");
    assert_eq!(hex::encode(&recipient.public), kat.pk_rm, "{name} pkRm");
    assert_eq!(
        hex::encode(kat.kem.public_key(&unhex(kat.sk_rm)?)?),
        kat.pk_rm,
        "{name} pk(skRm)"
    );
    Ok(())
}

fn check_kem_and_schedule(name: &str, kat: &Kat) -> TestResult {
    let hpke = Hpke::new(kat.kem, kat.kdf, kat.aead);
    let (shared_secret, enc) = kat
        .kem
        .encap_with_ephemeral(&unhex(kat.pk_rm)?, &unhex(kat.ikm_e)?)?;
    assert_eq!(hex::encode(&enc), kat.enc, "{name} enc");
    assert_eq!(
        hex::encode(&*shared_secret),
        kat.shared_secret,
        "{name} shared_secret"
    );
    let decapsulated = kat.kem.decap(&enc, &unhex(kat.sk_rm)?)?;
    assert_eq!(
        hex::encode(&*decapsulated),
        kat.shared_secret,
        "{name} Decap"
    );

    let schedule = hpke.key_schedule_base(&shared_secret, &unhex(kat.info)?)?;
    assert_eq!(hex::encode(&*schedule.key), kat.key, "{name} key");
    assert_eq!(
        hex::encode(&schedule.base_nonce),
        kat.base_nonce,
        "{name} base_nonce"
    );
    assert_eq!(
        hex::encode(&*schedule.exporter_secret),
        kat.exporter_secret,
        "{name} exporter_secret"
    );

    for encryption in kat.encryptions {
        let seq = encryption.sequence_number;
        let nonce = nonce_for(&schedule.base_nonce, seq);
        assert_eq!(hex::encode(&nonce), encryption.nonce, "{name} nonce {seq}");
        let aad = unhex(encryption.aad)?;
        let pt = unhex(encryption.pt)?;
        let ct = kat.aead.seal(&schedule.key, &nonce, &aad, &pt)?;
        assert_eq!(hex::encode(&ct), encryption.ct, "{name} ct {seq}");
        assert_eq!(kat.aead.open(&schedule.key, &nonce, &aad, &ct)?, pt);
    }
    for export in kat.exports {
        let value = hpke.export(
            &schedule.exporter_secret,
            &unhex(export.context)?,
            export.length,
        )?;
        assert_eq!(
            hex::encode(&value),
            export.value,
            "{name} export {}",
            export.context
        );
    }
    Ok(())
}

fn check_single_shot(name: &str, kat: &Kat) -> TestResult {
    let hpke = Hpke::new(kat.kem, kat.kdf, kat.aead);
    let first = kat
        .encryptions
        .first()
        .ok_or("a section without encryptions")?;
    assert_eq!(first.sequence_number, 0);
    let (pk_r, sk_r, ikm_e, info) = (
        unhex(kat.pk_rm)?,
        unhex(kat.sk_rm)?,
        unhex(kat.ikm_e)?,
        unhex(kat.info)?,
    );
    let (aad, pt) = (unhex(first.aad)?, unhex(first.pt)?);
    let (enc, ct) = hpke.seal_base_with_ephemeral(&pk_r, &ikm_e, &info, &aad, &pt)?;
    assert_eq!(hex::encode(&enc), kat.enc, "{name} SealBase enc");
    assert_eq!(hex::encode(&ct), first.ct, "{name} SealBase ct");
    assert_eq!(
        hpke.open_base(&sk_r, &enc, &info, &aad, &ct)?,
        pt,
        "{name} OpenBase"
    );

    for export in kat.exports {
        let context = unhex(export.context)?;
        let (enc, sent) =
            hpke.send_export_with_ephemeral(&pk_r, &ikm_e, &info, &context, export.length)?;
        assert_eq!(hex::encode(&enc), kat.enc);
        assert_eq!(hex::encode(&sent), export.value, "{name} SendExport");
        let received = hpke.receive_export(&sk_r, &enc, &info, &context, export.length)?;
        assert_eq!(hex::encode(&received), export.value, "{name} ReceiveExport");
    }
    Ok(())
}

fn check_through_suite(name: &str, suite: u16, kat: &Kat) -> TestResult {
    let suite = Suite::new(CipherSuite(suite))?;
    assert_eq!(
        (suite.kem(), suite.kdf(), suite.aead()),
        (kat.kem, kat.kdf, kat.aead)
    );
    let pair = suite.hpke_derive_key_pair(&unhex(kat.ikm_r)?)?;
    assert_eq!(
        hex::encode(&pair.public),
        kat.pk_rm,
        "{name} suite DeriveKeyPair"
    );
    assert_eq!(suite.hpke_public_key(&pair.private)?, pair.public);
    let first = kat.encryptions.first().ok_or("no encryptions")?;
    let (info, aad, pt) = (unhex(kat.info)?, unhex(first.aad)?, unhex(first.pt)?);
    let (enc, ct) =
        suite.hpke_seal_with_ephemeral(&pair.public, &unhex(kat.ikm_e)?, &info, &aad, &pt)?;
    assert_eq!(hex::encode(&enc), kat.enc, "{name} suite enc");
    assert_eq!(hex::encode(&ct), first.ct, "{name} suite ct");
    assert_eq!(suite.hpke_open(&pair.private, &enc, &info, &aad, &ct)?, pt);
    Ok(())
}

#[test]
fn rfc9180_appendix_a_derive_key_pair() -> TestResult {
    for (name, _, kat) in ALL {
        check_key_pairs(name, kat)?;
    }
    Ok(())
}

#[test]
fn rfc9180_appendix_a_encap_decap_key_schedule_and_encryptions() -> TestResult {
    for (name, _, kat) in ALL {
        check_kem_and_schedule(name, kat)?;
    }
    Ok(())
}

#[test]
fn rfc9180_appendix_a_single_shot_seal_open_and_export() -> TestResult {
    for (name, _, kat) in ALL {
        check_single_shot(name, kat)?;
    }
    Ok(())
}

#[test]
fn rfc9180_appendix_a_through_the_mls_suites() -> TestResult {
    let mut covered = Vec::new();
    for (name, suite, kat) in ALL {
        if let Some(suite) = suite {
            check_through_suite(name, suite, kat)?;
            covered.push(suite);
        }
    }
    assert_eq!(covered, [1, 3, 2, 5]);
    Ok(())
}

#[test]
fn open_rejects_wrong_inputs_with_typed_errors() -> TestResult {
    for (name, _, kat) in ALL {
        let hpke = Hpke::new(kat.kem, kat.kdf, kat.aead);
        let first = kat.encryptions.first().ok_or("no encryptions")?;
        let (sk_r, enc, info, aad, ct) = (
            unhex(kat.sk_rm)?,
            unhex(kat.enc)?,
            unhex(kat.info)?,
            unhex(first.aad)?,
            unhex(first.ct)?,
        );
        let open = |enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]| {
            hpke.open_base(&sk_r, enc, info, aad, ct)
        };
        assert_eq!(
            open(&enc, b"other info", &aad, &ct),
            Err(CryptoError::AeadOpenFailed),
            "{name}"
        );
        assert_eq!(
            open(&enc, &info, b"other aad", &ct),
            Err(CryptoError::AeadOpenFailed),
            "{name}"
        );
        let mut flipped = ct.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 0x80;
        }
        assert_eq!(
            open(&enc, &info, &aad, &flipped),
            Err(CryptoError::AeadOpenFailed),
            "{name}"
        );
        assert!(
            matches!(
                open(&enc[1..], &info, &aad, &ct),
                Err(CryptoError::InvalidPublicKey { .. })
            ),
            "{name} short enc"
        );
        // Another valid public key as enc: decapsulates to a different secret.
        assert_eq!(
            open(&unhex(kat.pk_rm)?, &info, &aad, &ct),
            Err(CryptoError::AeadOpenFailed),
            "{name} wrong enc"
        );
    }
    Ok(())
}
