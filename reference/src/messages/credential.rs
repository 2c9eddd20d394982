//! Credentials (RFC 9420 section 5.3).

use super::{read_bytes, read_vec, write_vec};
use crate::codec::{Bytes, Codec, DecodeError, Reader, write_opaque};

open_code_point! {
    /// RFC 9420 section 5.3 and the "MLS Credential Types" registry (section 17.5).
    ///
    /// ```text
    /// // See the "MLS Credential Types" IANA registry for values
    /// uint16 CredentialType;
    /// ```
    CredentialType, "credential_type" {
        BASIC = 0x0001,
        X509 = 0x0002,
    }
}

impl CredentialType {
    /// A GREASE value (section 13.5): to be listed in capabilities, never used.
    pub fn is_grease(self) -> bool {
        super::is_grease(self.0)
    }
}

/// RFC 9420 section 5.3.
///
/// ```text
/// struct {
///     opaque cert_data<V>;
/// } Certificate;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub cert_data: Bytes,
}

impl Codec for Certificate {
    fn encode(&self, out: &mut Vec<u8>) {
        self.cert_data.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Certificate {
            cert_data: read_bytes(reader, "Certificate.cert_data")?,
        })
    }
}

/// RFC 9420 section 5.3.
///
/// ```text
/// struct {
///     CredentialType credential_type;
///     select (Credential.credential_type) {
///         case basic:
///             opaque identity<V>;
///
///         case x509:
///             Certificate certificates<V>;
///     };
/// } Credential;
/// ```
///
/// The RFC gives no wire form for other credential types. Both defined bodies are a
/// single variable-length vector, and deployed implementations frame the body of every
/// other type the same way, as `opaque data<V>`; [`Credential::Other`] follows that
/// convention, so credentials of types this crate does not know decode, and re-encode
/// to the same bytes. Whether such a credential is acceptable is the application's call
/// (section 5.3.1), not the codec's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        identity: Bytes,
    },
    X509 {
        certificates: Vec<Certificate>,
    },
    /// Any other type, its body taken as `opaque data<V>`. Decoding never produces this
    /// for `basic` or `x509`.
    Other {
        credential_type: CredentialType,
        data: Bytes,
    },
}

impl Credential {
    pub fn basic(identity: impl Into<Bytes>) -> Self {
        Credential::Basic {
            identity: identity.into(),
        }
    }

    pub fn credential_type(&self) -> CredentialType {
        match self {
            Credential::Basic { .. } => CredentialType::BASIC,
            Credential::X509 { .. } => CredentialType::X509,
            Credential::Other {
                credential_type, ..
            } => *credential_type,
        }
    }
}

impl Codec for Credential {
    fn encode(&self, out: &mut Vec<u8>) {
        self.credential_type().encode(out);
        match self {
            Credential::Basic { identity } => identity.encode(out),
            Credential::X509 { certificates } => write_vec(out, certificates),
            Credential::Other { data, .. } => write_opaque(out, data),
        }
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let credential_type = CredentialType::decode(reader)?;
        Ok(match credential_type {
            CredentialType::BASIC => Credential::Basic {
                identity: read_bytes(reader, "Credential.identity")?,
            },
            CredentialType::X509 => Credential::X509 {
                certificates: read_vec(reader, "Credential.certificates")?,
            },
            credential_type => Credential::Other {
                credential_type,
                data: read_bytes(reader, "Credential body (unknown type, as opaque<V>)")?,
            },
        })
    }
}
