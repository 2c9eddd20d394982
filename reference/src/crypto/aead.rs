//! The AEADs of RFC 9180 section 7.3, with the single-output interface of RFC 5116
//! that RFC 9420 section 5.1 assumes: `Seal` returns `ciphertext || tag`.
//!
//! ```text
//! Aead        id      Nk  Nn  Nt
//! Aes128Gcm   0x0001  16  12  16
//! Aes256Gcm   0x0002  32  12  16
//! ChaCha20..  0x0003  32  12  16
//! ```
//!
//! Key and nonce lengths are checked up front ([`CryptoError::InvalidKeyLength`]); any
//! failure to open, including a ciphertext shorter than the tag, is
//! [`CryptoError::AeadOpenFailed`].

use aes_gcm::aead::{Aead as _, AeadInOut, KeyInit, Nonce, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;

use super::CryptoError;

/// Authentication tag length `Nt`, the same for all three AEADs.
pub(crate) const TAG_LENGTH: usize = 16;

/// An AEAD algorithm (RFC 9180 section 7.3 code points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Aead {
    /// 0x0001: AES-128-GCM.
    Aes128Gcm,
    /// 0x0002: AES-256-GCM.
    Aes256Gcm,
    /// 0x0003: ChaCha20Poly1305 (RFC 8439).
    ChaCha20Poly1305,
}

impl Aead {
    /// The RFC 9180 `aead_id`.
    pub const fn id(self) -> u16 {
        match self {
            Aead::Aes128Gcm => 0x0001,
            Aead::Aes256Gcm => 0x0002,
            Aead::ChaCha20Poly1305 => 0x0003,
        }
    }

    /// `Nk`.
    pub const fn key_length(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::ChaCha20Poly1305 => 32,
        }
    }

    /// `Nn`.
    pub const fn nonce_length(self) -> usize {
        12
    }

    /// `Nt`.
    pub const fn tag_length(self) -> usize {
        TAG_LENGTH
    }

    fn check_lengths(self, key: &[u8], nonce: &[u8]) -> Result<(), CryptoError> {
        if key.len() != self.key_length() {
            return Err(CryptoError::InvalidKeyLength {
                what: "AEAD key",
                expected: self.key_length(),
                actual: key.len(),
            });
        }
        if nonce.len() != self.nonce_length() {
            return Err(CryptoError::InvalidKeyLength {
                what: "AEAD nonce",
                expected: self.nonce_length(),
                actual: nonce.len(),
            });
        }
        Ok(())
    }

    /// `Seal(key, nonce, aad, pt)`: returns `ct || tag`, `pt.len() + Nt` bytes.
    pub fn seal(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_lengths(key, nonce)?;
        match self {
            Aead::Aes128Gcm => seal_with::<Aes128Gcm>(key, nonce, aad, plaintext),
            Aead::Aes256Gcm => seal_with::<Aes256Gcm>(key, nonce, aad, plaintext),
            Aead::ChaCha20Poly1305 => seal_with::<ChaCha20Poly1305>(key, nonce, aad, plaintext),
        }
    }

    /// `Open(key, nonce, aad, ct)`: authenticates and decrypts `ct || tag`.
    pub fn open(
        self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_lengths(key, nonce)?;
        if ciphertext.len() < TAG_LENGTH {
            return Err(CryptoError::AeadOpenFailed);
        }
        match self {
            Aead::Aes128Gcm => open_with::<Aes128Gcm>(key, nonce, aad, ciphertext),
            Aead::Aes256Gcm => open_with::<Aes256Gcm>(key, nonce, aad, ciphertext),
            Aead::ChaCha20Poly1305 => open_with::<ChaCha20Poly1305>(key, nonce, aad, ciphertext),
        }
    }
}

fn cipher_and_nonce<C: KeyInit + AeadInOut>(
    key: &[u8],
    nonce: &[u8],
) -> Result<(C, Nonce<C>), CryptoError> {
    let cipher = C::new_from_slice(key).map_err(|_| CryptoError::InvalidKeyLength {
        what: "AEAD key",
        expected: C::key_size(),
        actual: key.len(),
    })?;
    let nonce = Nonce::<C>::try_from(nonce).map_err(|_| CryptoError::InvalidKeyLength {
        what: "AEAD nonce",
        expected: 12,
        actual: nonce.len(),
    })?;
    Ok((cipher, nonce))
}

fn seal_with<C: KeyInit + AeadInOut>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (cipher, nonce) = cipher_and_nonce::<C>(key, nonce)?;
    // Encryption fails only for inputs past the algorithm's length limits (2^36 bytes
    // for GCM), which no MLS message reaches; report it as the AEAD refusing.
    cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::AeadOpenFailed)
}

fn open_with<C: KeyInit + AeadInOut>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (cipher, nonce) = cipher_and_nonce::<C>(key, nonce)?;
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| CryptoError::AeadOpenFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const ALL: [Aead; 3] = [Aead::Aes128Gcm, Aead::Aes256Gcm, Aead::ChaCha20Poly1305];

    /// RFC 8439 section 2.8.2.
    #[test]
    fn chacha20poly1305_rfc8439_vector() -> TestResult {
        let key = hex::decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")?;
        let nonce = hex::decode("070000004041424344454647")?;
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7")?;
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let sealed = Aead::ChaCha20Poly1305.seal(&key, &nonce, &aad, plaintext)?;
        let hex_sealed = hex::encode(&sealed);
        assert!(hex_sealed.starts_with("d31a8d34648e60db7b86afbc53ef7ec2"));
        assert!(hex_sealed.ends_with("1ae10b594f09e26a7e902ecbd0600691"));
        assert_eq!(
            Aead::ChaCha20Poly1305.open(&key, &nonce, &aad, &sealed)?,
            plaintext.to_vec()
        );
        Ok(())
    }

    #[test]
    fn round_trip_and_tamper() -> TestResult {
        for aead in ALL {
            let key = vec![0x42; aead.key_length()];
            let nonce = vec![0x24; aead.nonce_length()];
            let sealed = aead.seal(&key, &nonce, b"aad", b"plaintext")?;
            assert_eq!(sealed.len(), 9 + aead.tag_length());
            assert_eq!(aead.open(&key, &nonce, b"aad", &sealed)?, b"plaintext");
            assert_eq!(
                aead.open(&key, &nonce, b"aaD", &sealed),
                Err(CryptoError::AeadOpenFailed)
            );
            let mut tampered = sealed.clone();
            if let Some(byte) = tampered.first_mut() {
                *byte ^= 1;
            }
            assert_eq!(
                aead.open(&key, &nonce, b"aad", &tampered),
                Err(CryptoError::AeadOpenFailed)
            );
            assert_eq!(
                aead.open(&key, &nonce, b"aad", &sealed[..TAG_LENGTH - 1]),
                Err(CryptoError::AeadOpenFailed)
            );
            assert!(matches!(
                aead.seal(&key[1..], &nonce, b"", b""),
                Err(CryptoError::InvalidKeyLength {
                    what: "AEAD key",
                    ..
                })
            ));
            assert!(matches!(
                aead.open(&key, &nonce[1..], b"", &sealed),
                Err(CryptoError::InvalidKeyLength {
                    what: "AEAD nonce",
                    ..
                })
            ));
            // Empty plaintext: the output is the tag alone.
            let tag_only = aead.seal(&key, &nonce, b"", b"")?;
            assert_eq!(tag_only.len(), TAG_LENGTH);
            assert_eq!(aead.open(&key, &nonce, b"", &tag_only)?, Vec::<u8>::new());
        }
        Ok(())
    }
}
