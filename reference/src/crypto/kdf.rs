//! Hash, HMAC and HKDF: the `KDF` and `Hash` of RFC 9420 section 5.1 and the KDFs of
//! RFC 9180 section 7.2.
//!
//! ```text
//! Kdf::{HkdfSha256, HkdfSha384, HkdfSha512}
//!   hash(data)              = SHA-x(data)
//!   mac(key, data)          = HMAC-SHA-x(key, data)                        RFC 2104
//!   extract(salt, ikm)      = HMAC(salt, ikm)                              RFC 5869 2.2
//!   expand(prk, info, L)    = T(1) | T(2) | ... truncated to L             RFC 5869 2.3
//!                             T(i) = HMAC(prk, T(i-1) | info | i)
//! ```
//!
//! The `*_parts` variants take their input as a list of slices so that the labeled
//! forms of RFC 9180 section 4 need not concatenate.

use hkdf::{HkdfExtract, HmacImpl};
use hmac::{EagerHash, Hmac};
use sha2::{Sha256, Sha384, Sha512};

use super::CryptoError;

/// An HKDF instance (RFC 9180 section 7.2 code points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kdf {
    /// 0x0001: HKDF-SHA256, Nh = 32.
    HkdfSha256,
    /// 0x0002: HKDF-SHA384, Nh = 48.
    HkdfSha384,
    /// 0x0003: HKDF-SHA512, Nh = 64.
    HkdfSha512,
}

impl Kdf {
    /// The RFC 9180 `kdf_id`.
    pub const fn id(self) -> u16 {
        match self {
            Kdf::HkdfSha256 => 0x0001,
            Kdf::HkdfSha384 => 0x0002,
            Kdf::HkdfSha512 => 0x0003,
        }
    }

    /// `Nh`: the hash output length, which is also the Extract output length.
    pub const fn hash_length(self) -> usize {
        match self {
            Kdf::HkdfSha256 => 32,
            Kdf::HkdfSha384 => 48,
            Kdf::HkdfSha512 => 64,
        }
    }

    /// The underlying hash function.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Kdf::HkdfSha256 => hash_with::<Sha256>(data),
            Kdf::HkdfSha384 => hash_with::<Sha384>(data),
            Kdf::HkdfSha512 => hash_with::<Sha512>(data),
        }
    }

    /// HMAC with the underlying hash; any key length is valid (RFC 2104 section 2).
    pub fn mac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        self.mac_parts(key, &[data])
    }

    /// HMAC over the concatenation of `parts`.
    pub(crate) fn mac_parts(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Kdf::HkdfSha256 => mac_with::<Sha256>(key, parts),
            Kdf::HkdfSha384 => mac_with::<Sha384>(key, parts),
            Kdf::HkdfSha512 => mac_with::<Sha512>(key, parts),
        }
    }

    /// HKDF-Extract (RFC 5869 section 2.2). An empty salt is the same as the default
    /// salt of Nh zero bytes, since HMAC pads its key with zeros.
    pub fn extract(self, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
        self.extract_parts(salt, &[ikm])
    }

    /// HKDF-Extract with the input keying material given as the concatenation of
    /// `ikm_parts`.
    pub(crate) fn extract_parts(self, salt: &[u8], ikm_parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Kdf::HkdfSha256 => extract_with::<Sha256>(salt, ikm_parts),
            Kdf::HkdfSha384 => extract_with::<Sha384>(salt, ikm_parts),
            Kdf::HkdfSha512 => extract_with::<Sha512>(salt, ikm_parts),
        }
    }

    /// HKDF-Expand (RFC 5869 section 2.3). At most 255 * Nh bytes.
    ///
    /// The PRK is used as an HMAC key of whatever length it has: RFC 5869 expects at
    /// least Nh bytes, and every MLS secret has that length, but checking lengths of
    /// peer-supplied secrets (a decrypted path secret, say) belongs to the protocol
    /// layer, which knows what it expected.
    pub fn expand(self, prk: &[u8], info: &[u8], length: usize) -> Result<Vec<u8>, CryptoError> {
        self.expand_parts(prk, &[info], length)
    }

    /// HKDF-Expand with `info` given as the concatenation of `info_parts`.
    pub(crate) fn expand_parts(
        self,
        prk: &[u8],
        info_parts: &[&[u8]],
        length: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        let nh = self.hash_length();
        if length > 255 * nh {
            return Err(CryptoError::KdfOutputTooLong { requested: length });
        }
        let mut okm = Vec::with_capacity(length + nh);
        let mut previous: Vec<u8> = Vec::new();
        let mut counter: u8 = 0;
        while okm.len() < length {
            // length <= 255 * Nh, so the counter never passes 255.
            counter = counter.wrapping_add(1);
            let counter_byte = [counter];
            let mut parts: Vec<&[u8]> = Vec::with_capacity(info_parts.len() + 2);
            parts.push(&previous);
            parts.extend_from_slice(info_parts);
            parts.push(&counter_byte);
            let block = self.mac_parts(prk, &parts);
            okm.extend_from_slice(&block);
            previous = block;
        }
        okm.truncate(length);
        Ok(okm)
    }
}

fn hash_with<D: EagerHash>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

fn mac_with<D: EagerHash>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<D> as HmacImpl>::new_from_slice(key);
    for part in parts {
        HmacImpl::update(&mut mac, part);
    }
    HmacImpl::finalize(mac).to_vec()
}

fn extract_with<D: EagerHash>(salt: &[u8], ikm_parts: &[&[u8]]) -> Vec<u8> {
    let mut extract = HkdfExtract::<D>::new(Some(salt));
    for part in ikm_parts {
        extract.input_ikm(part);
    }
    let (prk, _) = extract.finalize();
    prk.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// RFC 5869 Appendix A.1 (SHA-256, basic case).
    #[test]
    fn rfc5869_case_1() -> TestResult {
        let ikm = hex::decode("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")?;
        let salt = hex::decode("000102030405060708090a0b0c")?;
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9")?;
        let prk = Kdf::HkdfSha256.extract(&salt, &ikm);
        assert_eq!(
            hex::encode(&prk),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
        );
        assert_eq!(
            hex::encode(Kdf::HkdfSha256.expand(&prk, &info, 42)?),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
        Ok(())
    }

    /// RFC 5869 Appendix A.3 (SHA-256, empty salt and info).
    #[test]
    fn rfc5869_case_3() -> TestResult {
        let ikm = hex::decode("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")?;
        let prk = Kdf::HkdfSha256.extract(&[], &ikm);
        assert_eq!(
            hex::encode(&prk),
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"
        );
        assert_eq!(
            hex::encode(Kdf::HkdfSha256.expand(&prk, &[], 42)?),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
        Ok(())
    }

    #[test]
    fn expand_length_limit_is_255_blocks() {
        for kdf in [Kdf::HkdfSha256, Kdf::HkdfSha384, Kdf::HkdfSha512] {
            let prk = vec![7u8; kdf.hash_length()];
            let max = 255 * kdf.hash_length();
            assert_eq!(kdf.expand(&prk, b"", max).map(|v| v.len()), Ok(max));
            assert_eq!(
                kdf.expand(&prk, b"", max + 1),
                Err(CryptoError::KdfOutputTooLong { requested: max + 1 })
            );
            assert_eq!(kdf.expand(&prk, b"", 0), Ok(Vec::new()));
        }
    }

    #[test]
    fn parts_equal_concatenation() {
        for kdf in [Kdf::HkdfSha256, Kdf::HkdfSha384, Kdf::HkdfSha512] {
            assert_eq!(
                kdf.extract_parts(b"salt", &[b"ab", b"", b"cd"]),
                kdf.extract(b"salt", b"abcd")
            );
            assert_eq!(
                kdf.expand_parts(b"key", &[b"in", b"fo"], 100),
                kdf.expand(b"key", b"info", 100)
            );
            assert_eq!(kdf.mac_parts(b"k", &[b"x", b"y"]), kdf.mac(b"k", b"xy"));
            assert_eq!(kdf.hash(b"").len(), kdf.hash_length());
        }
    }
}
