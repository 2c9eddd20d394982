//! The cryptographic core: RFC 9420 section 5 cipher suites over RustCrypto primitives.
//!
//! ```text
//! CipherSuite(u16) ──Suite::new──> Suite { hash, kdf, aead, kem (HPKE, RFC 9180), signature }
//!                                     └── labeled operations (section 5.1.x): labeled.rs
//! ```
//!
//! | file           | job                                                              |
//! |----------------|------------------------------------------------------------------|
//! | `kdf.rs`       | hash, HMAC, HKDF-Extract/Expand (RFC 5869) for SHA-256/384/512   |
//! | `aead.rs`      | AES-128-GCM, AES-256-GCM, ChaCha20Poly1305 (RFC 5116 interface)  |
//! | `dh.rs`        | the five DHKEM groups of RFC 9180 section 7.1: keys and DH       |
//! | `hpke.rs`      | RFC 9180 base mode: DHKEM, key schedule, single-shot seal, open  |
//! |                | and export                                                       |
//! | `signature.rs` | Ed25519, Ed448, ECDSA over P-256/P-384/P-521 (RFC 9420 5.1.2)    |
//! | `labeled.rs`   | RefHash, ExpandWithLabel, SignWithLabel, EncryptWithLabel, ...   |
//!
//! Tests: `hpke_tests.rs` (RFC 9180 Appendix A, data in `rfc9180_vectors.rs`),
//! `vectors_tests.rs` (the official MLS `crypto-basics.json`), `roundtrip_tests.rs`
//! (per-suite round trips, tampering, and a no-panic property test).
//!
//! Randomness never comes from the OS here: every operation that needs it takes a
//! `&mut dyn CryptoRng` from the caller, so runs are reproducible from a seed.
//!
//! Keys, signatures, encapsulations and ciphertexts are byte strings in their wire
//! encodings (RFC 9420 section 5.1.1, RFC 9180 section 7.1.1). Every one of them may
//! come from a peer, so every malformed value is a [`CryptoError`], never a panic.

mod aead;
mod dh;
mod hpke;
mod kdf;
mod labeled;
mod signature;

#[cfg(test)]
mod hpke_tests;
#[cfg(test)]
mod rfc9180_vectors;
#[cfg(test)]
mod roundtrip_tests;

pub use aead::Aead;
pub use dh::Kem;
pub use kdf::Kdf;
pub use signature::SignatureScheme;

use crate::codec::{Codec, DecodeError, Reader};
use hpke::Hpke;

/// RFC 9420 section 17.1 cipher suite code point. Open: unknown values round-trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    pub const MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519: Self = Self(0x0001);
    pub const MLS_128_DHKEMP256_AES128GCM_SHA256_P256: Self = Self(0x0002);
    pub const MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519: Self = Self(0x0003);
    pub const MLS_256_DHKEMX448_AES256GCM_SHA512_ED448: Self = Self(0x0004);
    pub const MLS_256_DHKEMP521_AES256GCM_SHA512_P521: Self = Self(0x0005);
    pub const MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_ED448: Self = Self(0x0006);
    pub const MLS_256_DHKEMP384_AES256GCM_SHA384_P384: Self = Self(0x0007);

    /// The seven suites RFC 9420 registers, in code point order.
    pub const ALL: [CipherSuite; 7] = [
        Self(1),
        Self(2),
        Self(3),
        Self(4),
        Self(5),
        Self(6),
        Self(7),
    ];
}

impl Codec for CipherSuite {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out)
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(reader.u16("cipher_suite")?))
    }
}

/// Why a cryptographic operation failed. Variants name the fault precisely enough for a
/// conformance report; none carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The code point is not one of the seven suites of RFC 9420 section 17.1.
    #[error("unsupported cipher suite {0:?}")]
    UnsupportedCipherSuite(CipherSuite),
    /// A public key does not decode: wrong length, wrong SEC1 form, not on the curve,
    /// or the identity (RFC 9180 section 7.1.4, RFC 8032 section 5.1.3 / 5.2.3).
    #[error("invalid public key ({what})")]
    InvalidPublicKey { what: &'static str },
    /// A private key does not decode: wrong length, zero, or not below the group order.
    #[error("invalid private key ({what})")]
    InvalidPrivateKey { what: &'static str },
    /// A signature is not in the suite's encoding: strict DER with `r` and `s` in
    /// `[1, n - 1]` for ECDSA, 64 or 114 bytes of `R || S` for EdDSA.
    #[error("signature is not validly encoded")]
    InvalidSignatureEncoding,
    /// A well-formed signature that does not verify under the given key and message.
    #[error("signature verification failed")]
    SignatureVerificationFailed,
    /// AEAD decryption failed: authentication tag mismatch or a ciphertext shorter
    /// than the tag.
    #[error("AEAD open failed")]
    AeadOpenFailed,
    /// A symmetric key or nonce has the wrong length for the algorithm.
    #[error("{what} has length {actual}, expected {expected}")]
    InvalidKeyLength {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A Diffie-Hellman output is all zero (small-order peer key; RFC 9180 section 7.1.4,
    /// RFC 7748 section 6).
    #[error("Diffie-Hellman output is all zero")]
    DhOutputAllZero,
    /// HKDF-Expand can produce at most 255 * Nh bytes (RFC 5869 section 2.3).
    #[error("KDF output of {requested} bytes is too long")]
    KdfOutputTooLong { requested: usize },
    /// RFC 9180 section 7.1.3: 256 rejected candidates in a row.
    #[error("DeriveKeyPair found no valid scalar")]
    DeriveKeyPairFailed,
}

/// An HPKE key pair in wire encodings: `private` is `SerializePrivateKey(sk)` and
/// `public` is `SerializePublicKey(pk)` (RFC 9180 section 7.1.1 and 7.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpkeKeyPair {
    pub private: Vec<u8>,
    pub public: Vec<u8>,
}

/// A signature key pair in the suite's encodings (see [`SignatureScheme`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureKeyPair {
    pub private: Vec<u8>,
    pub public: Vec<u8>,
}

/// One of the cipher suites of RFC 9420 section 17.1, resolved to its algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    id: CipherSuite,
    kem: Kem,
    kdf: Kdf,
    aead: Aead,
    signature: SignatureScheme,
}

impl Suite {
    /// Resolves a code point (RFC 9420 section 17.1 table); unregistered values are
    /// [`CryptoError::UnsupportedCipherSuite`].
    pub fn new(id: CipherSuite) -> Result<Self, CryptoError> {
        let (kem, aead, kdf, signature) = match id.0 {
            1 => (
                Kem::DhKemX25519,
                Aead::Aes128Gcm,
                Kdf::HkdfSha256,
                SignatureScheme::Ed25519,
            ),
            2 => (
                Kem::DhKemP256,
                Aead::Aes128Gcm,
                Kdf::HkdfSha256,
                SignatureScheme::EcdsaP256Sha256,
            ),
            3 => (
                Kem::DhKemX25519,
                Aead::ChaCha20Poly1305,
                Kdf::HkdfSha256,
                SignatureScheme::Ed25519,
            ),
            4 => (
                Kem::DhKemX448,
                Aead::Aes256Gcm,
                Kdf::HkdfSha512,
                SignatureScheme::Ed448,
            ),
            5 => (
                Kem::DhKemP521,
                Aead::Aes256Gcm,
                Kdf::HkdfSha512,
                SignatureScheme::EcdsaP521Sha512,
            ),
            6 => (
                Kem::DhKemX448,
                Aead::ChaCha20Poly1305,
                Kdf::HkdfSha512,
                SignatureScheme::Ed448,
            ),
            7 => (
                Kem::DhKemP384,
                Aead::Aes256Gcm,
                Kdf::HkdfSha384,
                SignatureScheme::EcdsaP384Sha384,
            ),
            _ => return Err(CryptoError::UnsupportedCipherSuite(id)),
        };
        Ok(Suite {
            id,
            kem,
            kdf,
            aead,
            signature,
        })
    }

    pub fn id(&self) -> CipherSuite {
        self.id
    }

    /// The HPKE KEM of the suite.
    pub fn kem(&self) -> Kem {
        self.kem
    }

    /// The KDF (and hash, and MAC) of the suite.
    pub fn kdf(&self) -> Kdf {
        self.kdf
    }

    /// The AEAD of the suite.
    pub fn aead(&self) -> Aead {
        self.aead
    }

    /// The signature scheme of the suite.
    pub fn signature_scheme(&self) -> SignatureScheme {
        self.signature
    }

    fn hpke(&self) -> Hpke {
        Hpke::new(self.kem, self.kdf, self.aead)
    }

    /// `KDF.Nh`, also the hash output length.
    pub fn hash_length(&self) -> usize {
        self.kdf.hash_length()
    }

    /// `AEAD.Nk`.
    pub fn aead_key_length(&self) -> usize {
        self.aead.key_length()
    }

    /// `AEAD.Nn`.
    pub fn aead_nonce_length(&self) -> usize {
        self.aead.nonce_length()
    }

    /// The suite's hash function.
    pub fn hash(&self, data: &[u8]) -> Vec<u8> {
        self.kdf.hash(data)
    }

    /// HMAC (RFC 2104) with the suite's hash: the MAC of RFC 9420 section 5.1.
    pub fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        self.kdf.mac(key, data)
    }

    /// `KDF.Extract(salt, ikm)`, HKDF-Extract (RFC 5869 section 2.2).
    pub fn kdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
        self.kdf.extract(salt, ikm)
    }

    /// `KDF.Expand(prk, info, length)`, HKDF-Expand (RFC 5869 section 2.3).
    pub fn kdf_expand(
        &self,
        prk: &[u8],
        info: &[u8],
        length: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        self.kdf.expand(prk, info, length)
    }

    /// AEAD encryption; the tag is appended to the ciphertext (RFC 5116).
    pub fn aead_seal(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.aead.seal(key, nonce, aad, plaintext)
    }

    /// AEAD decryption of `ciphertext || tag`.
    pub fn aead_open(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.aead.open(key, nonce, aad, ciphertext)
    }

    /// RFC 9180 section 7.1.3 `DeriveKeyPair(ikm)` of the suite's KEM.
    pub fn hpke_derive_key_pair(&self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
        self.kem.derive_key_pair(ikm)
    }

    /// `GenerateKeyPair()`, implemented as `DeriveKeyPair(random(Nsk))` (RFC 9180
    /// section 4).
    pub fn hpke_generate_key_pair(
        &self,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<HpkeKeyPair, CryptoError> {
        self.kem.generate_key_pair(rng)
    }

    /// `SerializePublicKey(pk(DeserializePrivateKey(private)))`.
    pub fn hpke_public_key(&self, private: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.kem.public_key(private)
    }

    /// RFC 9180 section 6.1 `SealBase(pkR, info, aad, pt)`: returns `(enc, ct)`.
    pub fn hpke_seal(
        &self,
        public: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke().seal_base(public, info, aad, plaintext, rng)
    }

    /// `SealBase` with the ephemeral key pair `DeriveKeyPair(ephemeral_ikm)`, the way
    /// RFC 9180 Appendix A produces its vectors. Deterministic: for test vectors only;
    /// reusing `ephemeral_ikm` reuses the ephemeral key.
    pub fn hpke_seal_with_ephemeral(
        &self,
        public: &[u8],
        ephemeral_ikm: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke()
            .seal_base_with_ephemeral(public, ephemeral_ikm, info, aad, plaintext)
    }

    /// RFC 9180 section 6.1 `OpenBase(enc, skR, info, aad, ct)`.
    pub fn hpke_open(
        &self,
        private: &[u8],
        enc: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.hpke().open_base(private, enc, info, aad, ciphertext)
    }

    /// RFC 9180 section 6.2 `SendExport` in base mode: `(enc, exported_value)`. RFC 9420
    /// section 8.3 derives an external `init_secret` this way (info "", exporter
    /// context "MLS 1.0 external init secret", length Nh).
    pub fn hpke_send_export(
        &self,
        public: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke()
            .send_export(public, info, exporter_context, length, rng)
    }

    /// `SendExport` with the ephemeral key pair `DeriveKeyPair(ephemeral_ikm)`:
    /// deterministic, for test vectors only.
    pub fn hpke_send_export_with_ephemeral(
        &self,
        public: &[u8],
        ephemeral_ikm: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke().send_export_with_ephemeral(
            public,
            ephemeral_ikm,
            info,
            exporter_context,
            length,
        )
    }

    /// RFC 9180 section 6.2 `ReceiveExport` in base mode.
    pub fn hpke_receive_export(
        &self,
        private: &[u8],
        enc: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        self.hpke()
            .receive_export(private, enc, info, exporter_context, length)
    }

    /// A fresh signature key pair from the caller's randomness.
    pub fn signature_generate(
        &self,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<SignatureKeyPair, CryptoError> {
        self.signature.generate(rng)
    }

    /// The public key of a signature private key.
    pub fn signature_public_key(&self, private: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.signature.public_key(private)
    }

    /// `Signature.Sign(private, message)`; deterministic for every suite (RFC 8032 for
    /// EdDSA, RFC 6979 nonces for ECDSA).
    pub fn sign(&self, private: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.signature.sign(private, message)
    }

    /// `Signature.Verify(public, message, signature)`.
    pub fn verify(
        &self,
        public: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.signature.verify(public, message, signature)
    }
}
