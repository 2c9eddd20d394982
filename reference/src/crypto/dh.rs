//! The Diffie-Hellman groups behind the five DHKEMs of RFC 9180 section 7.1, and their
//! key encodings.
//!
//! ```text
//! Kem          kem_id  KDF          Nsecret Nenc=Npk Nsk  Ndh  private key encoding
//! DhKemP256    0x0010  HKDF-SHA256  32      65       32   32   big-endian scalar
//! DhKemP384    0x0011  HKDF-SHA384  48      97       48   48   big-endian scalar
//! DhKemP521    0x0012  HKDF-SHA512  64      133      66   66   big-endian scalar
//! DhKemX25519  0x0020  HKDF-SHA256  32      32       32   32   raw RFC 7748 bytes
//! DhKemX448    0x0021  HKDF-SHA512  64      56       56   56   raw RFC 7748 bytes
//! ```
//!
//! Public keys (section 7.1.1): uncompressed SEC1 points `04 || x || y` for the NIST
//! curves, the raw u-coordinate for X25519/X448.
//!
//! Private keys (section 7.1.2): for X25519/X448 the bytes are kept as
//! `DeriveKeyPair` produced them and clamped when used, as RFC 7748's
//! `decodeScalar` does; this is the encoding RFC 9180 Appendix A and the MLS test
//! vectors list. For the NIST curves a private key is a scalar in `[1, order - 1]`.
//!
//! Validation (section 7.1.4): NIST public keys must be on the curve and not the
//! identity; X25519/X448 accept any u-coordinate but a DH output of all zeros (a
//! small-order peer key) is [`CryptoError::DhOutputAllZero`].

use p256::NistP256;
use p256::elliptic_curve::sec1::{FromSec1Point, ModulusSize, ToSec1Point};
use p256::elliptic_curve::{
    AffinePoint, CurveArithmetic, FieldBytes, FieldBytesSize, PublicKey, SecretKey,
};
use p384::NistP384;
use p521::NistP521;
use zeroize::Zeroizing;

use super::{CryptoError, Kdf};

/// A DHKEM (RFC 9180 section 7.1 code points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kem {
    /// 0x0010: DHKEM(P-256, HKDF-SHA256).
    DhKemP256,
    /// 0x0011: DHKEM(P-384, HKDF-SHA384).
    DhKemP384,
    /// 0x0012: DHKEM(P-521, HKDF-SHA512).
    DhKemP521,
    /// 0x0020: DHKEM(X25519, HKDF-SHA256).
    DhKemX25519,
    /// 0x0021: DHKEM(X448, HKDF-SHA512).
    DhKemX448,
}

impl Kem {
    /// The RFC 9180 `kem_id`.
    pub const fn id(self) -> u16 {
        match self {
            Kem::DhKemP256 => 0x0010,
            Kem::DhKemP384 => 0x0011,
            Kem::DhKemP521 => 0x0012,
            Kem::DhKemX25519 => 0x0020,
            Kem::DhKemX448 => 0x0021,
        }
    }

    /// The KDF inside the KEM (ExtractAndExpand and DeriveKeyPair).
    pub const fn kdf(self) -> Kdf {
        match self {
            Kem::DhKemP256 | Kem::DhKemX25519 => Kdf::HkdfSha256,
            Kem::DhKemP384 => Kdf::HkdfSha384,
            Kem::DhKemP521 | Kem::DhKemX448 => Kdf::HkdfSha512,
        }
    }

    /// `Nsecret`: length of the KEM shared secret.
    pub const fn shared_secret_length(self) -> usize {
        self.kdf().hash_length()
    }

    /// `Nenc`: length of an encapsulated key (equal to `Npk` for every DHKEM).
    pub const fn enc_length(self) -> usize {
        self.public_key_length()
    }

    /// `Npk`: length of an encoded public key.
    pub const fn public_key_length(self) -> usize {
        match self {
            Kem::DhKemP256 => 65,
            Kem::DhKemP384 => 97,
            Kem::DhKemP521 => 133,
            Kem::DhKemX25519 => 32,
            Kem::DhKemX448 => 56,
        }
    }

    /// `Nsk`: length of an encoded private key.
    pub const fn private_key_length(self) -> usize {
        match self {
            Kem::DhKemP256 => 32,
            Kem::DhKemP384 => 48,
            Kem::DhKemP521 => 66,
            Kem::DhKemX25519 => 32,
            Kem::DhKemX448 => 56,
        }
    }

    /// The DeriveKeyPair rejection-sampling mask for the first candidate byte
    /// (RFC 9180 section 7.1.3); `None` for the Montgomery curves, which need no
    /// rejection sampling.
    pub(crate) const fn candidate_bitmask(self) -> Option<u8> {
        match self {
            Kem::DhKemP256 | Kem::DhKemP384 => Some(0xff),
            Kem::DhKemP521 => Some(0x01),
            Kem::DhKemX25519 | Kem::DhKemX448 => None,
        }
    }

    /// The private key in its fixed `Nsk`-byte form. NIST scalars are big-endian
    /// integers (RFC 9180 section 7.1.2) and some encoders drop leading zero bytes (the
    /// official MLS vectors carry 65-byte P-521 keys): a shorter, non-empty scalar is
    /// left-padded with zeros. X25519/X448 keys must be exact.
    fn normalized_private(self, private: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let length = self.private_key_length();
        let nist = !matches!(self, Kem::DhKemX25519 | Kem::DhKemX448);
        if private.len() == length || (nist && !private.is_empty() && private.len() < length) {
            let mut padded = Zeroizing::new(vec![0u8; length - private.len()]);
            padded.extend_from_slice(private);
            Ok(padded)
        } else {
            Err(CryptoError::InvalidPrivateKey {
                what: "wrong length for the KEM",
            })
        }
    }

    fn check_public_length(self, public: &[u8]) -> Result<(), CryptoError> {
        if public.len() == self.public_key_length() {
            Ok(())
        } else {
            Err(CryptoError::InvalidPublicKey {
                what: "wrong length for the KEM",
            })
        }
    }

    /// `DeserializePrivateKey` then `SerializePublicKey(pk(sk))`.
    pub fn public_key(self, private: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let private = self.normalized_private(private)?;
        let private = private.as_slice();
        match self {
            Kem::DhKemP256 => nist_public_key::<NistP256>(private),
            Kem::DhKemP384 => nist_public_key::<NistP384>(private),
            Kem::DhKemP521 => nist_public_key::<NistP521>(private),
            Kem::DhKemX25519 => {
                let secret = x25519_dalek::StaticSecret::from(array::<32>(private)?);
                Ok(x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec())
            }
            Kem::DhKemX448 => {
                let scalar = Zeroizing::new(array::<56>(private)?);
                Ok(x448::x448_unchecked(*scalar, x448::X448_BASEPOINT_BYTES).to_vec())
            }
        }
    }

    /// `DeserializePublicKey(public)` with the validation of RFC 9180 section 7.1.4;
    /// the NIST checks (length, uncompressed form, on the curve, not the identity) and
    /// the length check for X25519/X448.
    pub fn validate_public_key(self, public: &[u8]) -> Result<(), CryptoError> {
        self.check_public_length(public)?;
        match self {
            Kem::DhKemP256 => nist_decode_public::<NistP256>(public).map(|_| ()),
            Kem::DhKemP384 => nist_decode_public::<NistP384>(public).map(|_| ()),
            Kem::DhKemP521 => nist_decode_public::<NistP521>(public).map(|_| ()),
            Kem::DhKemX25519 | Kem::DhKemX448 => Ok(()),
        }
    }

    /// `DH(skX, pkY)` of RFC 9180 section 4.1: the x-coordinate of the shared point
    /// (NIST), or the RFC 7748 function output (X25519/X448), which must not be all
    /// zero.
    pub(crate) fn dh(
        self,
        private: &[u8],
        public: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let private = self.normalized_private(private)?;
        let private = private.as_slice();
        self.check_public_length(public)?;
        let shared = match self {
            Kem::DhKemP256 => nist_dh::<NistP256>(private, public)?,
            Kem::DhKemP384 => nist_dh::<NistP384>(private, public)?,
            Kem::DhKemP521 => nist_dh::<NistP521>(private, public)?,
            Kem::DhKemX25519 => {
                let scalar = Zeroizing::new(array::<32>(private)?);
                let point = array::<32>(public)?;
                Zeroizing::new(x25519_dalek::x25519(*scalar, point).to_vec())
            }
            Kem::DhKemX448 => {
                let scalar = Zeroizing::new(array::<56>(private)?);
                let point = array::<56>(public)?;
                Zeroizing::new(x448::x448_unchecked(*scalar, point).to_vec())
            }
        };
        if matches!(self, Kem::DhKemX25519 | Kem::DhKemX448) && is_all_zero(&shared) {
            return Err(CryptoError::DhOutputAllZero);
        }
        Ok(shared)
    }

    /// For the NIST curves: whether `candidate` (Nsk bytes, big-endian) is a valid
    /// private key, that is, in `[1, order - 1]`. Always true for X25519/X448.
    pub(crate) fn is_valid_private_key(self, candidate: &[u8]) -> bool {
        if candidate.len() != self.private_key_length() {
            return false;
        }
        match self {
            Kem::DhKemP256 => nist_decode_private::<NistP256>(candidate).is_ok(),
            Kem::DhKemP384 => nist_decode_private::<NistP384>(candidate).is_ok(),
            Kem::DhKemP521 => nist_decode_private::<NistP521>(candidate).is_ok(),
            Kem::DhKemX25519 | Kem::DhKemX448 => true,
        }
    }
}

/// Copies a slice whose length the caller has checked into an array.
fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], CryptoError> {
    <[u8; N]>::try_from(bytes).map_err(|_| CryptoError::InvalidKeyLength {
        what: "key",
        expected: N,
        actual: bytes.len(),
    })
}

/// Whether every byte is zero, without an early exit.
fn is_all_zero(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, byte| acc | byte) == 0
}

/// SEC1 `Octet-String-to-Field-Element` for a scalar, requiring `1 <= sk < order`.
fn nist_decode_private<C>(private: &[u8]) -> Result<SecretKey<C>, CryptoError>
where
    C: CurveArithmetic,
{
    let bytes =
        <&FieldBytes<C>>::try_from(private).map_err(|_| CryptoError::InvalidPrivateKey {
            what: "wrong length for the curve",
        })?;
    SecretKey::<C>::from_bytes(bytes).map_err(|_| CryptoError::InvalidPrivateKey {
        what: "scalar is zero or not below the group order",
    })
}

/// Uncompressed SEC1 `Octet-String-to-Elliptic-Curve-Point`, with partial public key
/// validation (coordinates in range, on the curve, not the identity).
pub(crate) fn nist_decode_public<C>(public: &[u8]) -> Result<PublicKey<C>, CryptoError>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    if public.first() != Some(&0x04) {
        return Err(CryptoError::InvalidPublicKey {
            what: "not an uncompressed SEC1 point",
        });
    }
    PublicKey::<C>::from_sec1_bytes(public).map_err(|_| CryptoError::InvalidPublicKey {
        what: "not a point on the curve",
    })
}

/// The uncompressed SEC1 encoding of `sk * G`.
pub(crate) fn nist_public_key<C>(private: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let secret = nist_decode_private::<C>(private)?;
    Ok(secret.public_key().to_sec1_point(false).as_bytes().to_vec())
}

fn nist_dh<C>(private: &[u8], public: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let secret = nist_decode_private::<C>(private)?;
    let point = nist_decode_public::<C>(public)?;
    // A nonzero scalar times a non-identity point of a prime-order group is never the
    // point at infinity, so the x-coordinate always exists.
    let shared = secret.diffie_hellman(&point);
    Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Kem; 5] = [
        Kem::DhKemP256,
        Kem::DhKemP384,
        Kem::DhKemP521,
        Kem::DhKemX25519,
        Kem::DhKemX448,
    ];

    #[test]
    fn dh_agrees_both_ways() -> Result<(), CryptoError> {
        for kem in ALL {
            let mut a = vec![0x11; kem.private_key_length()];
            let mut b = vec![0x22; kem.private_key_length()];
            if kem == Kem::DhKemP521 {
                a[0] = 0;
                b[0] = 1;
            }
            let pa = kem.public_key(&a)?;
            let pb = kem.public_key(&b)?;
            assert_eq!(pa.len(), kem.public_key_length());
            kem.validate_public_key(&pa)?;
            assert_eq!(kem.dh(&a, &pb)?, kem.dh(&b, &pa)?);
        }
        Ok(())
    }

    #[test]
    fn nist_scalars_without_leading_zeros_are_left_padded() -> Result<(), CryptoError> {
        for kem in ALL {
            let mut full = vec![0x11; kem.private_key_length()];
            full[0] = 0;
            let short = &full[1..];
            if matches!(kem, Kem::DhKemX25519 | Kem::DhKemX448) {
                assert!(matches!(
                    kem.public_key(short),
                    Err(CryptoError::InvalidPrivateKey { .. })
                ));
            } else {
                assert_eq!(kem.public_key(short)?, kem.public_key(&full)?);
                let peer = kem.public_key(&vec![0x01; kem.private_key_length()])?;
                assert_eq!(kem.dh(short, &peer)?, kem.dh(&full, &peer)?);
            }
            assert!(matches!(
                kem.public_key(&[]),
                Err(CryptoError::InvalidPrivateKey { .. })
            ));
        }
        Ok(())
    }

    #[test]
    fn small_order_montgomery_points_give_all_zero_output() {
        for kem in [Kem::DhKemX25519, Kem::DhKemX448] {
            let private = vec![0x55; kem.private_key_length()];
            let zero = vec![0; kem.public_key_length()];
            let mut one = vec![0; kem.public_key_length()];
            one[0] = 1;
            assert_eq!(kem.dh(&private, &zero), Err(CryptoError::DhOutputAllZero));
            assert_eq!(kem.dh(&private, &one), Err(CryptoError::DhOutputAllZero));
        }
    }

    #[test]
    fn nist_rejects_bad_keys() {
        for kem in [Kem::DhKemP256, Kem::DhKemP384, Kem::DhKemP521] {
            let zero = vec![0; kem.private_key_length()];
            let all_ff = vec![0xff; kem.private_key_length()];
            assert!(matches!(
                kem.public_key(&zero),
                Err(CryptoError::InvalidPrivateKey { .. })
            ));
            assert!(matches!(
                kem.public_key(&all_ff),
                Err(CryptoError::InvalidPrivateKey { .. })
            ));
            assert!(!kem.is_valid_private_key(&zero));
            assert!(!kem.is_valid_private_key(&all_ff));
            let mut off_curve = vec![0; kem.public_key_length()];
            off_curve[0] = 4;
            off_curve[kem.public_key_length() - 1] = 1;
            assert!(matches!(
                kem.validate_public_key(&off_curve),
                Err(CryptoError::InvalidPublicKey { .. })
            ));
            let mut compressed = vec![0; kem.public_key_length()];
            compressed[0] = 2;
            assert!(matches!(
                kem.validate_public_key(&compressed),
                Err(CryptoError::InvalidPublicKey { .. })
            ));
            assert!(matches!(
                kem.validate_public_key(&[4]),
                Err(CryptoError::InvalidPublicKey { .. })
            ));
        }
    }
}
