//! The cryptographic core: RFC 9420 section 5 cipher suites over RustCrypto primitives.
//!
//! ```text
//! CipherSuite(u16) ──Suite::new──> Suite { hash, kdf, aead, kem (HPKE, RFC 9180), signature }
//!                                     └── labeled operations (section 5.1.x): labeled.rs
//! ```
//!
//! Randomness never comes from the OS here: every operation that needs it takes a
//! `&mut dyn CryptoRng` from the caller, so runs are reproducible from a seed.

use crate::codec::{Codec, DecodeError, Reader};

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
