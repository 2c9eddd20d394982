//! The signature schemes of the RFC 9420 cipher suites (section 17.1), with the
//! encodings of section 5.1.1 and 5.1.2.
//!
//! ```text
//! scheme            private key               public key              signature
//! Ed25519           32-byte seed (RFC 8032)   32 bytes (RFC 8032)     R || S, 64 bytes
//! Ed448             57-byte seed (RFC 8032)   57 bytes (RFC 8032)     R || S, 114 bytes
//! ECDSA P-256/SHA256 32-byte scalar, BE       65-byte uncompressed    DER (SEC1 Ecdsa-Sig-Value)
//! ECDSA P-384/SHA384 48-byte scalar, BE       97-byte uncompressed    DER
//! ECDSA P-521/SHA512 66-byte scalar, BE       133-byte uncompressed   DER
//! ```
//!
//! Ed448 is pure Ed448 with an empty context. Signing is deterministic for every scheme
//! (ECDSA nonces per RFC 6979). Verification follows RFC 8032 section 5.1.7 / 5.2.7
//! (the cofactorless equation, `S` below the group order) and SEC1 for ECDSA, which
//! accepts both low and high `s`.
//!
//! Errors: a public key that does not decode is [`CryptoError::InvalidPublicKey`]; a
//! signature of the wrong length (EdDSA) or not valid DER with `r`, `s` in
//! `[1, n - 1]` (ECDSA) is [`CryptoError::InvalidSignatureEncoding`]; anything else
//! that fails, including an EdDSA `R` that is not a point or an `S` that is not
//! reduced, is [`CryptoError::SignatureVerificationFailed`].

use p256::NistP256;
use p256::ecdsa::signature::{SignatureEncoding, Signer, Verifier};
use p256::elliptic_curve::sec1::{FromSec1Point, ModulusSize, ToSec1Point};
use p256::elliptic_curve::{
    AffinePoint, CurveArithmetic, FieldBytes, FieldBytesSize, PublicKey, SecretKey,
};
use p384::NistP384;
use p521::NistP521;
use zeroize::Zeroizing;

use super::dh::{nist_decode_public, nist_public_key};
use super::{CryptoError, SignatureKeyPair};

/// How many random candidates [`SignatureScheme::generate`] draws for an ECDSA scalar
/// before giving up; a working generator needs more than one with probability below
/// 2^-32.
const MAX_SCALAR_ATTEMPTS: usize = 64;

/// A signature scheme, named by its TLS `SignatureScheme` code point (RFC 8446
/// section 4.2.3), as RFC 9420 section 17.1 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// 0x0807: Ed25519.
    Ed25519,
    /// 0x0808: Ed448.
    Ed448,
    /// 0x0403: ecdsa_secp256r1_sha256.
    EcdsaP256Sha256,
    /// 0x0503: ecdsa_secp384r1_sha384.
    EcdsaP384Sha384,
    /// 0x0603: ecdsa_secp521r1_sha512.
    EcdsaP521Sha512,
}

impl SignatureScheme {
    /// The TLS `SignatureScheme` code point.
    pub const fn id(self) -> u16 {
        match self {
            SignatureScheme::Ed25519 => 0x0807,
            SignatureScheme::Ed448 => 0x0808,
            SignatureScheme::EcdsaP256Sha256 => 0x0403,
            SignatureScheme::EcdsaP384Sha384 => 0x0503,
            SignatureScheme::EcdsaP521Sha512 => 0x0603,
        }
    }

    /// Length of an encoded private key.
    pub const fn private_key_length(self) -> usize {
        match self {
            SignatureScheme::Ed25519 => 32,
            SignatureScheme::Ed448 => 57,
            SignatureScheme::EcdsaP256Sha256 => 32,
            SignatureScheme::EcdsaP384Sha384 => 48,
            SignatureScheme::EcdsaP521Sha512 => 66,
        }
    }

    /// Length of an encoded public key.
    pub const fn public_key_length(self) -> usize {
        match self {
            SignatureScheme::Ed25519 => 32,
            SignatureScheme::Ed448 => 57,
            SignatureScheme::EcdsaP256Sha256 => 65,
            SignatureScheme::EcdsaP384Sha384 => 97,
            SignatureScheme::EcdsaP521Sha512 => 133,
        }
    }

    /// The private key in its fixed-length form. ECDSA scalars are big-endian integers,
    /// and some encoders drop leading zero bytes (the official vectors carry 65-byte
    /// P-521 keys): a shorter scalar is left-padded. EdDSA seeds must be exact.
    fn normalized_private(self, private: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let length = self.private_key_length();
        let ecdsa = !matches!(self, SignatureScheme::Ed25519 | SignatureScheme::Ed448);
        if private.len() == length || (ecdsa && !private.is_empty() && private.len() < length) {
            let mut padded = Zeroizing::new(vec![0u8; length - private.len()]);
            padded.extend_from_slice(private);
            Ok(padded)
        } else {
            Err(CryptoError::InvalidPrivateKey {
                what: "wrong length for the signature scheme",
            })
        }
    }

    fn check_public_length(self, public: &[u8]) -> Result<(), CryptoError> {
        if public.len() == self.public_key_length() {
            Ok(())
        } else {
            Err(CryptoError::InvalidPublicKey {
                what: "wrong length for the signature scheme",
            })
        }
    }

    /// A fresh key pair. EdDSA: a random seed. ECDSA: a random scalar, redrawn while it
    /// is zero or not below the group order.
    pub fn generate(
        self,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<SignatureKeyPair, CryptoError> {
        let mut private = Zeroizing::new(vec![0u8; self.private_key_length()]);
        let mut attempts = 0;
        loop {
            rng.fill_bytes(&mut private);
            if self == SignatureScheme::EcdsaP521Sha512 {
                // P-521 scalars have 521 bits: the top byte holds one bit.
                if let Some(first) = private.first_mut() {
                    *first &= 0x01;
                }
            }
            match self.public_key(&private) {
                Ok(public) => {
                    return Ok(SignatureKeyPair {
                        private: private.to_vec(),
                        public,
                    });
                }
                Err(error) => {
                    attempts += 1;
                    if attempts >= MAX_SCALAR_ATTEMPTS {
                        return Err(error);
                    }
                }
            }
        }
    }

    /// The public key of `private`.
    pub fn public_key(self, private: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let private = &self.normalized_private(private)?[..];
        match self {
            SignatureScheme::Ed25519 => {
                let key = ed25519_signing_key(private)?;
                Ok(key.verifying_key().to_bytes().to_vec())
            }
            SignatureScheme::Ed448 => {
                let key = ed448_signing_key(private)?;
                Ok(key.verifying_key().to_bytes().to_vec())
            }
            SignatureScheme::EcdsaP256Sha256 => nist_public_key::<NistP256>(private),
            SignatureScheme::EcdsaP384Sha384 => nist_public_key::<NistP384>(private),
            SignatureScheme::EcdsaP521Sha512 => nist_public_key::<NistP521>(private),
        }
    }

    /// `Signature.Sign(private, message)`.
    pub fn sign(self, private: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let private = &self.normalized_private(private)?[..];
        match self {
            SignatureScheme::Ed25519 => {
                let key = ed25519_signing_key(private)?;
                let signature: ed25519_dalek::Signature = key.sign(message);
                Ok(signature.to_bytes().to_vec())
            }
            SignatureScheme::Ed448 => {
                let key = ed448_signing_key(private)?;
                Ok(key.sign_raw(message).to_bytes().to_vec())
            }
            SignatureScheme::EcdsaP256Sha256 => {
                ecdsa_sign::<NistP256, p256::ecdsa::SigningKey, p256::ecdsa::DerSignature>(
                    private, message,
                )
            }
            SignatureScheme::EcdsaP384Sha384 => {
                ecdsa_sign::<NistP384, p384::ecdsa::SigningKey, p384::ecdsa::DerSignature>(
                    private, message,
                )
            }
            SignatureScheme::EcdsaP521Sha512 => {
                ecdsa_sign::<NistP521, p521::ecdsa::SigningKey, p521::ecdsa::DerSignature>(
                    private, message,
                )
            }
        }
    }

    /// `Signature.Verify(public, message, signature)`.
    pub fn verify(
        self,
        public: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.check_public_length(public)?;
        match self {
            SignatureScheme::Ed25519 => {
                let bytes =
                    <&[u8; 32]>::try_from(public).map_err(|_| CryptoError::InvalidPublicKey {
                        what: "wrong length for the signature scheme",
                    })?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| {
                    CryptoError::InvalidPublicKey {
                        what: "not an Ed25519 point",
                    }
                })?;
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::InvalidSignatureEncoding)?;
                key.verify(message, &signature)
                    .map_err(|_| CryptoError::SignatureVerificationFailed)
            }
            SignatureScheme::Ed448 => {
                let bytes =
                    <&[u8; 57]>::try_from(public).map_err(|_| CryptoError::InvalidPublicKey {
                        what: "wrong length for the signature scheme",
                    })?;
                let key = ed448_goldilocks::VerifyingKey::from_bytes(bytes).map_err(|_| {
                    CryptoError::InvalidPublicKey {
                        what: "not an Ed448 point",
                    }
                })?;
                let signature = ed448_goldilocks::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::InvalidSignatureEncoding)?;
                key.verify_raw(&signature, message)
                    .map_err(|_| CryptoError::SignatureVerificationFailed)
            }
            SignatureScheme::EcdsaP256Sha256 => {
                ecdsa_verify::<NistP256, p256::ecdsa::VerifyingKey, _, _>(
                    public,
                    message,
                    signature,
                    p256::ecdsa::Signature::from_der,
                )
            }
            SignatureScheme::EcdsaP384Sha384 => {
                ecdsa_verify::<NistP384, p384::ecdsa::VerifyingKey, _, _>(
                    public,
                    message,
                    signature,
                    p384::ecdsa::Signature::from_der,
                )
            }
            SignatureScheme::EcdsaP521Sha512 => {
                ecdsa_verify::<NistP521, p521::ecdsa::VerifyingKey, _, _>(
                    public,
                    message,
                    signature,
                    p521::ecdsa::Signature::from_der,
                )
            }
        }
    }
}

fn ed25519_signing_key(private: &[u8]) -> Result<ed25519_dalek::SigningKey, CryptoError> {
    let seed = Zeroizing::new(<[u8; 32]>::try_from(private).map_err(|_| {
        CryptoError::InvalidPrivateKey {
            what: "wrong length for the signature scheme",
        }
    })?);
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

fn ed448_signing_key(private: &[u8]) -> Result<ed448_goldilocks::SigningKey, CryptoError> {
    ed448_goldilocks::SigningKey::try_from(private).map_err(|_| CryptoError::InvalidPrivateKey {
        what: "wrong length for the signature scheme",
    })
}

/// ECDSA signing with the curve's hash and RFC 6979 nonces; DER output.
fn ecdsa_sign<C, K, S>(private: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    C: CurveArithmetic,
    K: From<SecretKey<C>> + Signer<S>,
    S: SignatureEncoding,
{
    let bytes =
        <&FieldBytes<C>>::try_from(private).map_err(|_| CryptoError::InvalidPrivateKey {
            what: "wrong length for the curve",
        })?;
    let secret = SecretKey::<C>::from_bytes(bytes).map_err(|_| CryptoError::InvalidPrivateKey {
        what: "scalar is zero or not below the group order",
    })?;
    let key = K::from(secret);
    // Signing with a valid scalar fails only with negligible probability (a zero `r` or
    // `s` for every RFC 6979 candidate); report it rather than panic.
    let signature = key
        .try_sign(message)
        .map_err(|_| CryptoError::InvalidPrivateKey {
            what: "signing failed",
        })?;
    Ok(signature.to_bytes().as_ref().to_vec())
}

/// ECDSA verification of a DER signature under an uncompressed SEC1 public key.
/// `from_der` parses strict DER and requires `r` and `s` in `[1, n - 1]`.
fn ecdsa_verify<C, K, S, E>(
    public: &[u8],
    message: &[u8],
    signature: &[u8],
    from_der: fn(&[u8]) -> Result<S, E>,
) -> Result<(), CryptoError>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
    K: From<PublicKey<C>> + Verifier<S>,
{
    let key = K::from(nist_decode_public::<C>(public)?);
    let signature = from_der(signature).map_err(|_| CryptoError::InvalidSignatureEncoding)?;
    key.verify(message, &signature)
        .map_err(|_| CryptoError::SignatureVerificationFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// RFC 8032 section 7.1, TEST 1 (empty message).
    #[test]
    fn ed25519_rfc8032_test_1() -> TestResult {
        let private =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")?;
        let public = SignatureScheme::Ed25519.public_key(&private)?;
        assert_eq!(
            hex::encode(&public),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let signature = SignatureScheme::Ed25519.sign(&private, b"")?;
        assert_eq!(
            hex::encode(&signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        SignatureScheme::Ed25519.verify(&public, b"", &signature)?;
        Ok(())
    }

    /// RFC 8032 section 7.4, "1 octet" (pure Ed448, empty context).
    #[test]
    fn ed448_rfc8032_one_octet() -> TestResult {
        let private = hex::decode(
            "c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463afbea67c5e8d2877c5e3bc397a659949ef8021e954e0a12274e",
        )?;
        let public = SignatureScheme::Ed448.public_key(&private)?;
        assert_eq!(
            hex::encode(&public),
            "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb00742802b8438ea4cb82169c235160627b4c3a9480"
        );
        let signature = SignatureScheme::Ed448.sign(&private, &[0x03])?;
        assert_eq!(
            hex::encode(&signature),
            "26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cbcee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d234441cf807c03a00"
        );
        SignatureScheme::Ed448.verify(&public, &[0x03], &signature)?;
        Ok(())
    }
}
