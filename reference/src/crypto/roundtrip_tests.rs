//! Round trips per suite (generate, seal/open, sign/verify), the typed error for each
//! kind of tampering, and a property test that arbitrary bytes in the place of keys,
//! signatures, encapsulations and ciphertexts never panic.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn suites() -> Result<Vec<Suite>, CryptoError> {
    CipherSuite::ALL.into_iter().map(Suite::new).collect()
}

fn is_nist(kem: Kem) -> bool {
    matches!(kem, Kem::DhKemP256 | Kem::DhKemP384 | Kem::DhKemP521)
}

fn flip_last(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(last) = out.last_mut() {
        *last ^= 0x01;
    }
    out
}

#[test]
fn unknown_suites_are_rejected() {
    for id in [0u16, 8, 0x0a0a, 0xf000, 0xffff] {
        assert_eq!(
            Suite::new(CipherSuite(id)),
            Err(CryptoError::UnsupportedCipherSuite(CipherSuite(id)))
        );
    }
}

#[test]
fn suite_parameters_follow_rfc9420_section_17_1() -> TestResult {
    // (Nh, Nk, Nn, Npk, Nsk, signature public key length)
    let expected = [
        (32, 16, 12, 32, 32, 32),
        (32, 16, 12, 65, 32, 65),
        (32, 32, 12, 32, 32, 32),
        (64, 32, 12, 56, 56, 57),
        (64, 32, 12, 133, 66, 133),
        (64, 32, 12, 56, 56, 57),
        (48, 32, 12, 97, 48, 97),
    ];
    for (suite, expected) in suites()?.into_iter().zip(expected) {
        let actual = (
            suite.hash_length(),
            suite.aead_key_length(),
            suite.aead_nonce_length(),
            suite.kem().public_key_length(),
            suite.kem().private_key_length(),
            suite.signature_scheme().public_key_length(),
        );
        assert_eq!(actual, expected, "{:?}", suite.id());
        assert_eq!(suite.hash(b"abc").len(), suite.hash_length());
        assert_eq!(suite.kdf_extract(b"", b"ikm").len(), suite.hash_length());
        assert_eq!(
            suite.kem().kdf(),
            suite.kdf(),
            "MLS suites use one KDF throughout"
        );
    }
    Ok(())
}

/// RFC 4231 test case 2 (key "Jefe"), for the three hashes the suites use.
#[test]
fn mac_is_hmac_rfc4231_case_2() -> TestResult {
    let expected = [
        (
            1u16,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            7,
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
        ),
        (
            5,
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        ),
    ];
    for (id, mac) in expected {
        let suite = Suite::new(CipherSuite(id))?;
        assert_eq!(
            hex::encode(suite.mac(b"Jefe", b"what do ya want for nothing?")),
            mac,
            "suite {id}"
        );
    }
    Ok(())
}

#[test]
fn signatures_round_trip_and_reject_tampering() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(9420);
    for suite in suites()? {
        let id = suite.id();
        let pair = suite.signature_generate(&mut rng)?;
        assert_eq!(
            suite.signature_public_key(&pair.private)?,
            pair.public,
            "{id:?}"
        );
        let signature = suite.sign(&pair.private, b"message")?;
        suite.verify(&pair.public, b"message", &signature)?;

        assert_eq!(
            suite.verify(&pair.public, b"messagf", &signature),
            Err(CryptoError::SignatureVerificationFailed),
            "{id:?} other message"
        );
        assert_eq!(
            suite.verify(&pair.public, b"message", &flip_last(&signature)),
            Err(CryptoError::SignatureVerificationFailed),
            "{id:?} flipped signature bit"
        );
        let truncated = &signature[..signature.len() - 1];
        assert_eq!(
            suite.verify(&pair.public, b"message", truncated),
            Err(CryptoError::InvalidSignatureEncoding),
            "{id:?} truncated signature"
        );
        assert_eq!(
            suite.verify(&pair.public, b"message", &[]),
            Err(CryptoError::InvalidSignatureEncoding),
            "{id:?} empty signature"
        );
        let other = suite.signature_generate(&mut rng)?;
        assert_ne!(other, pair);
        assert_eq!(
            suite.verify(&other.public, b"message", &signature),
            Err(CryptoError::SignatureVerificationFailed),
            "{id:?} other key"
        );
        assert!(matches!(
            suite.verify(&pair.public[1..], b"message", &signature),
            Err(CryptoError::InvalidPublicKey { .. })
        ));
        let longer = [pair.private.as_slice(), &[0]].concat();
        assert!(matches!(
            suite.sign(&longer, b"message"),
            Err(CryptoError::InvalidPrivateKey { .. })
        ));
        // ECDSA scalars may come without their leading zero bytes (the official vectors
        // have such P-521 keys); EdDSA seeds must be exact.
        let with_zero = [&[0u8][..], &pair.private[1..]].concat();
        let short = &pair.private[1..];
        match suite.signature_scheme() {
            SignatureScheme::Ed25519 | SignatureScheme::Ed448 => assert!(matches!(
                suite.sign(short, b"message"),
                Err(CryptoError::InvalidPrivateKey { .. })
            )),
            _ if pair.private[0] == 0 => {
                assert_eq!(
                    suite.signature_public_key(short)?,
                    pair.public,
                    "{id:?} short scalar"
                )
            }
            _ => assert_eq!(
                suite.signature_public_key(&with_zero)?.len(),
                pair.public.len(),
                "{id:?} scalar with a zero top byte"
            ),
        }

        // Labeled signatures bind the label.
        let labeled = suite.sign_with_label(&pair.private, b"LeafNodeTBS", b"content")?;
        suite.verify_with_label(&pair.public, b"LeafNodeTBS", b"content", &labeled)?;
        assert_eq!(
            suite.verify_with_label(&pair.public, b"GroupInfoTBS", b"content", &labeled),
            Err(CryptoError::SignatureVerificationFailed)
        );
        assert_eq!(
            suite.verify(&pair.public, b"content", &labeled),
            Err(CryptoError::SignatureVerificationFailed)
        );
    }
    Ok(())
}

#[test]
fn ecdsa_public_keys_must_be_uncompressed_points_on_the_curve() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for id in [2u16, 5, 7] {
        let suite = Suite::new(CipherSuite(id))?;
        let pair = suite.signature_generate(&mut rng)?;
        let signature = suite.sign(&pair.private, b"m")?;
        let mut compressed_tag = pair.public.clone();
        compressed_tag[0] = 0x02;
        assert!(matches!(
            suite.verify(&compressed_tag, b"m", &signature),
            Err(CryptoError::InvalidPublicKey { .. })
        ));
        assert!(matches!(
            suite.verify(&flip_last(&pair.public), b"m", &signature),
            Err(CryptoError::InvalidPublicKey { .. })
        ));
        // DER: a zero component, a trailing byte, and a raw r || s are encoding errors.
        let zero_r = [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01];
        let mut trailing = signature.clone();
        trailing.push(0);
        let raw = vec![0x11; 2 * suite.kem().private_key_length()];
        for bad in [&zero_r[..], &trailing, &raw] {
            assert_eq!(
                suite.verify(&pair.public, b"m", bad),
                Err(CryptoError::InvalidSignatureEncoding),
                "suite {id}"
            );
        }
    }
    Ok(())
}

#[test]
fn hpke_round_trips_and_rejects_tampering() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(9180);
    for suite in suites()? {
        let id = suite.id();
        let pair = suite.hpke_generate_key_pair(&mut rng)?;
        assert_eq!(suite.hpke_public_key(&pair.private)?, pair.public, "{id:?}");
        let (enc, ct) = suite.hpke_seal(&pair.public, b"info", b"aad", b"plaintext", &mut rng)?;
        assert_eq!(enc.len(), suite.kem().enc_length());
        assert_eq!(ct.len(), b"plaintext".len() + 16);
        assert_eq!(
            suite.hpke_open(&pair.private, &enc, b"info", b"aad", &ct)?,
            b"plaintext"
        );

        // A second seal uses a fresh ephemeral key.
        let (enc2, ct2) = suite.hpke_seal(&pair.public, b"info", b"aad", b"plaintext", &mut rng)?;
        assert_ne!(enc, enc2);
        assert_ne!(ct, ct2);

        let open = |private: &[u8], enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]| {
            suite.hpke_open(private, enc, info, aad, ct)
        };
        let failed = Err(CryptoError::AeadOpenFailed);
        assert_eq!(
            open(&pair.private, &enc, b"info", b"aad", &flip_last(&ct)),
            failed
        );
        assert_eq!(open(&pair.private, &enc, b"inf0", b"aad", &ct), failed);
        assert_eq!(open(&pair.private, &enc, b"info", b"", &ct), failed);
        assert_eq!(
            open(&pair.private, &enc, b"info", b"aad", &ct[..15]),
            failed
        );
        let other = suite.hpke_generate_key_pair(&mut rng)?;
        assert_eq!(open(&other.private, &enc, b"info", b"aad", &ct), failed);
        if is_nist(suite.kem()) {
            // Changing y moves the point off the curve.
            assert!(matches!(
                open(&pair.private, &flip_last(&enc), b"info", b"aad", &ct),
                Err(CryptoError::InvalidPublicKey { .. })
            ));
            let zero_scalar = vec![0u8; pair.private.len()];
            assert!(matches!(
                open(&zero_scalar, &enc, b"info", b"aad", &ct),
                Err(CryptoError::InvalidPrivateKey { .. })
            ));
        } else {
            // Every u-coordinate is a key; a different one decapsulates differently.
            assert_eq!(
                open(&pair.private, &flip_last(&enc), b"info", b"aad", &ct),
                failed
            );
            let zero = vec![0u8; enc.len()];
            assert_eq!(
                open(&pair.private, &zero, b"info", b"aad", &ct),
                Err(CryptoError::DhOutputAllZero)
            );
            assert_eq!(
                suite.hpke_seal(&zero, b"", b"", b"", &mut rng),
                Err(CryptoError::DhOutputAllZero)
            );
        }
        assert!(matches!(
            open(&pair.private, &enc[1..], b"info", b"aad", &ct),
            Err(CryptoError::InvalidPublicKey { .. })
        ));
        assert!(matches!(
            suite.hpke_seal(&pair.public[1..], b"", b"", b"", &mut rng),
            Err(CryptoError::InvalidPublicKey { .. })
        ));

        // Labeled encryption binds label and context.
        let (kem_output, sealed) = suite.encrypt_with_label(
            &pair.public,
            b"UpdatePathNode",
            b"ctx",
            b"secret",
            &mut rng,
        )?;
        assert_eq!(
            suite.decrypt_with_label(
                &pair.private,
                b"UpdatePathNode",
                b"ctx",
                &kem_output,
                &sealed
            )?,
            b"secret"
        );
        assert_eq!(
            suite.decrypt_with_label(
                &pair.private,
                b"UpdatePathNode",
                b"ctX",
                &kem_output,
                &sealed
            ),
            failed
        );
        assert_eq!(
            suite.decrypt_with_label(&pair.private, b"Welcome", b"ctx", &kem_output, &sealed),
            failed
        );

        // Export: sender and receiver agree.
        let (enc, sent) = suite.hpke_send_export(&pair.public, b"", b"exporter", 32, &mut rng)?;
        assert_eq!(
            suite.hpke_receive_export(&pair.private, &enc, b"", b"exporter", 32)?,
            sent
        );
        assert_ne!(
            suite.hpke_receive_export(&pair.private, &enc, b"", b"exporteR", 32)?,
            sent
        );
    }
    Ok(())
}

#[test]
fn derive_key_pair_is_deterministic_and_generated_keys_differ() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for suite in suites()? {
        let a = suite.hpke_derive_key_pair(b"input keying material")?;
        assert_eq!(suite.hpke_derive_key_pair(b"input keying material")?, a);
        assert_ne!(suite.hpke_derive_key_pair(b"input keying materiaL")?, a);
        // Short and empty ikm are allowed (RFC 9180 only recommends Nsk bytes).
        suite.hpke_derive_key_pair(b"")?;
        let g1 = suite.hpke_generate_key_pair(&mut rng)?;
        let g2 = suite.hpke_generate_key_pair(&mut rng)?;
        assert_ne!(g1, g2);
        let s1 = suite.signature_generate(&mut rng)?;
        let s2 = suite.signature_generate(&mut rng)?;
        assert_ne!(s1, s2);
    }
    Ok(())
}

#[test]
fn labeled_expand_length_limits() -> TestResult {
    for suite in suites()? {
        let secret = vec![1u8; suite.hash_length()];
        let max = 255 * suite.hash_length();
        let max16 = u16::try_from(max)?;
        assert_eq!(
            suite.expand_with_label(&secret, b"l", b"", max16)?.len(),
            max
        );
        assert_eq!(
            suite.expand_with_label(&secret, b"l", b"", max16 + 1),
            Err(CryptoError::KdfOutputTooLong { requested: max + 1 })
        );
        assert_eq!(
            suite.derive_secret(&secret, b"l")?.len(),
            suite.hash_length()
        );
        assert_eq!(
            suite.derive_tree_secret(&secret, b"key", 0, 16)?,
            suite.expand_with_label(&secret, b"key", &[0, 0, 0, 0], 16)?
        );
    }
    Ok(())
}

/// Bytes of arbitrary length, or of the length `target` (padded or cut), so that both
/// the length checks and the decoders behind them see random input.
fn sized(bytes: &[u8], fit: bool, target: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if fit {
        out.resize(target, 0x5a);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(
        suite_index in 0usize..7,
        fit in any::<bool>(),
        sec1_tag in any::<bool>(),
        key in proptest::collection::vec(any::<u8>(), 0..160),
        other in proptest::collection::vec(any::<u8>(), 0..160),
        signature in proptest::collection::vec(any::<u8>(), 0..160),
        ciphertext in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let suite = Suite::new(CipherSuite::ALL[suite_index])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let kem = suite.kem();
        let scheme = suite.signature_scheme();

        let mut hpke_public = sized(&key, fit, kem.public_key_length());
        let mut sig_public = sized(&key, fit, scheme.public_key_length());
        if sec1_tag && is_nist(kem) {
            if let Some(first) = hpke_public.first_mut() { *first = 0x04; }
            if let Some(first) = sig_public.first_mut() { *first = 0x04; }
        }
        let hpke_private = sized(&other, fit, kem.private_key_length());
        let sig_private = sized(&other, fit, scheme.private_key_length());
        let enc = sized(&signature, fit, kem.enc_length());

        // Random signatures never verify, whatever the key.
        prop_assert!(suite.verify(&sig_public, b"m", &signature).is_err());
        prop_assert!(suite.verify_with_label(&sig_public, b"l", b"m", &signature).is_err());
        let _ = suite.signature_public_key(&sig_private);
        if let Ok(produced) = suite.sign(&sig_private, b"m") {
            let public = suite.signature_public_key(&sig_private)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(suite.verify(&public, b"m", &produced), Ok(()));
        }

        let _ = suite.hpke_public_key(&hpke_private);
        let _ = suite.hpke_seal_with_ephemeral(&hpke_public, &other, b"info", b"aad", b"pt");
        prop_assert!(suite.hpke_open(&hpke_private, &enc, b"info", b"aad", &ciphertext).is_err());
        prop_assert!(suite
            .decrypt_with_label(&hpke_private, b"l", b"c", &enc, &ciphertext)
            .is_err());
        let _ = suite.hpke_receive_export(&hpke_private, &enc, b"", b"ctx", 32);

        let aead_key = sized(&key, fit, suite.aead_key_length());
        let nonce = sized(&other, fit, suite.aead_nonce_length());
        prop_assert!(suite.aead_open(&aead_key, &nonce, b"", &ciphertext).is_err());
        let _ = suite.aead_seal(&aead_key, &nonce, b"", &ciphertext);
        let _ = suite.kdf_expand(&key, &other, usize::from(u16::from_be_bytes([
            signature.first().copied().unwrap_or(0),
            signature.get(1).copied().unwrap_or(0),
        ])));
    }
}
