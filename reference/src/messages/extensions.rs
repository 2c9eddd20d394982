//! Extensions (RFC 9420 sections 7.2 and 13.4) and the payloads of the five the RFC
//! defines.
//!
//! ```text
//! Extension { extension_type, extension_data<V> }
//!                                  └── Codec of one ExtensionContent, by extension_type:
//!   application_id (5.3.3) ─ ApplicationId        external_pub (12.4.3.2) ─ ExternalPub
//!   ratchet_tree (12.4.3.3) ─ RatchetTree          external_senders (12.1.8.1) ─ ExternalSenders
//!   required_capabilities (11.1) ─ RequiredCapabilities
//! ```
//!
//! An [`Extension`] keeps its payload as bytes, so extensions this crate does not know
//! round-trip; [`Extension::content`] parses a known payload strictly (no trailing bytes
//! inside `extension_data`).

use super::{Credential, read_bytes, read_vec, write_vec};
use super::{CredentialType, HpkePublicKey, ProposalType, SignaturePublicKey};
use crate::codec::{Bytes, Codec, DecodeError, Reader};

open_code_point! {
    /// RFC 9420 section 7.2 and the "MLS Extension Types" registry (section 17.3).
    ///
    /// ```text
    /// // See the "MLS Extension Types" IANA registry for values
    /// uint16 ExtensionType;
    /// ```
    ExtensionType, "extension_type" {
        APPLICATION_ID = 0x0001,
        RATCHET_TREE = 0x0002,
        REQUIRED_CAPABILITIES = 0x0003,
        EXTERNAL_PUB = 0x0004,
        EXTERNAL_SENDERS = 0x0005,
    }
}

impl ExtensionType {
    /// The extension types every client supports, which capabilities MUST NOT list
    /// (section 7.2).
    pub const DEFAULTS: [ExtensionType; 5] = [Self(1), Self(2), Self(3), Self(4), Self(5)];

    pub fn is_default(self) -> bool {
        Self::DEFAULTS.contains(&self)
    }

    /// A GREASE value (section 13.5).
    pub fn is_grease(self) -> bool {
        super::is_grease(self.0)
    }
}

/// RFC 9420 section 7.2.
///
/// ```text
/// struct {
///     ExtensionType extension_type;
///     opaque extension_data<V>;
/// } Extension;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub extension_type: ExtensionType,
    pub extension_data: Bytes,
}

impl Codec for Extension {
    fn encode(&self, out: &mut Vec<u8>) {
        self.extension_type.encode(out);
        self.extension_data.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Extension {
            extension_type: ExtensionType::decode(reader)?,
            extension_data: read_bytes(reader, "Extension.extension_data")?,
        })
    }
}

/// The payload of an extension type this crate knows: what `extension_data` holds.
pub trait ExtensionContent: Codec {
    const EXTENSION_TYPE: ExtensionType;
}

impl Extension {
    pub fn new(extension_type: ExtensionType, extension_data: impl Into<Bytes>) -> Self {
        Extension {
            extension_type,
            extension_data: extension_data.into(),
        }
    }

    /// The extension carrying `content`.
    pub fn from_content<T: ExtensionContent>(content: &T) -> Self {
        Extension::new(T::EXTENSION_TYPE, content.to_bytes())
    }

    /// Parses `extension_data` as `T`; the whole payload must be consumed.
    pub fn content<T: ExtensionContent>(&self) -> Result<T, DecodeError> {
        if self.extension_type != T::EXTENSION_TYPE {
            return Err(DecodeError::InvalidValue {
                what: "extension_type (not the type of the requested payload)",
                value: u64::from(self.extension_type.0),
            });
        }
        T::from_bytes(&self.extension_data)
    }

    /// The payload of the first extension of `T`'s type in `extensions`, if any.
    pub fn find<T: ExtensionContent>(extensions: &[Extension]) -> Result<Option<T>, DecodeError> {
        extensions
            .iter()
            .find(|e| e.extension_type == T::EXTENSION_TYPE)
            .map(Extension::content)
            .transpose()
    }
}

/// The first extension type that appears twice in `extensions`. Section 13.4: "Any field
/// containing a list of extensions MUST NOT have more than one extension of any given
/// type." The codec accepts such lists (they are well-formed bytes); validation rejects
/// them.
pub fn duplicate_extension_type(extensions: &[Extension]) -> Option<ExtensionType> {
    extensions.iter().enumerate().find_map(|(i, e)| {
        extensions[..i]
            .iter()
            .any(|earlier| earlier.extension_type == e.extension_type)
            .then_some(e.extension_type)
    })
}

/// RFC 9420 section 5.3.3, the `application_id` extension.
///
/// ```text
/// opaque application_id<V>;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationId(pub Bytes);

impl Codec for ApplicationId {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ApplicationId(read_bytes(reader, "application_id")?))
    }
}

impl ExtensionContent for ApplicationId {
    const EXTENSION_TYPE: ExtensionType = ExtensionType::APPLICATION_ID;
}

/// RFC 9420 section 11.1, the `required_capabilities` extension.
///
/// ```text
/// struct {
///     ExtensionType extension_types<V>;
///     ProposalType proposal_types<V>;
///     CredentialType credential_types<V>;
/// } RequiredCapabilities;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequiredCapabilities {
    pub extension_types: Vec<ExtensionType>,
    pub proposal_types: Vec<ProposalType>,
    pub credential_types: Vec<CredentialType>,
}

impl Codec for RequiredCapabilities {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vec(out, &self.extension_types);
        write_vec(out, &self.proposal_types);
        write_vec(out, &self.credential_types);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(RequiredCapabilities {
            extension_types: read_vec(reader, "RequiredCapabilities.extension_types")?,
            proposal_types: read_vec(reader, "RequiredCapabilities.proposal_types")?,
            credential_types: read_vec(reader, "RequiredCapabilities.credential_types")?,
        })
    }
}

impl ExtensionContent for RequiredCapabilities {
    const EXTENSION_TYPE: ExtensionType = ExtensionType::REQUIRED_CAPABILITIES;
}

/// RFC 9420 section 12.4.3.2, the `external_pub` extension.
///
/// ```text
/// struct {
///     HPKEPublicKey external_pub;
/// } ExternalPub;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalPub {
    pub external_pub: HpkePublicKey,
}

impl Codec for ExternalPub {
    fn encode(&self, out: &mut Vec<u8>) {
        self.external_pub.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ExternalPub {
            external_pub: HpkePublicKey::decode(reader)?,
        })
    }
}

impl ExtensionContent for ExternalPub {
    const EXTENSION_TYPE: ExtensionType = ExtensionType::EXTERNAL_PUB;
}

/// RFC 9420 section 12.1.8.1.
///
/// ```text
/// struct {
///   SignaturePublicKey signature_key;
///   Credential credential;
/// } ExternalSender;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSender {
    pub signature_key: SignaturePublicKey,
    pub credential: Credential,
}

impl Codec for ExternalSender {
    fn encode(&self, out: &mut Vec<u8>) {
        self.signature_key.encode(out);
        self.credential.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ExternalSender {
            signature_key: SignaturePublicKey::decode(reader)?,
            credential: Credential::decode(reader)?,
        })
    }
}

/// RFC 9420 section 12.1.8.1, the `external_senders` extension; `sender_index` in an
/// external [`Sender`](super::Sender) indexes this list.
///
/// ```text
/// ExternalSender external_senders<V>;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExternalSenders(pub Vec<ExternalSender>);

impl Codec for ExternalSenders {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vec(out, &self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ExternalSenders(read_vec(reader, "external_senders")?))
    }
}

impl ExtensionContent for ExternalSenders {
    const EXTENSION_TYPE: ExtensionType = ExtensionType::EXTERNAL_SENDERS;
}
