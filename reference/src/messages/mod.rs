//! Every RFC 9420 wire struct, with strict encode and decode.
//!
//! ```text
//!                              MLSMessage (mod.rs)
//!        ┌─────────────┬──────────────┼──────────────┬───────────────┐
//!  PublicMessage  PrivateMessage    Welcome       GroupInfo      KeyPackage
//!   (framing)    (private_message)  (welcome)     (welcome)     (key_package)
//!        │              │              │              │              │
//!  FramedContent ── Proposal, Commit   GroupSecrets   GroupContext   LeafNode
//!                    (proposals)       PreSharedKeyID (group_context) (leaf_node)
//!                        │                                           │
//!                   UpdatePath, Node, RatchetTree (tree)     Credential (credential)
//!                                   Extension and its payloads (extensions)
//! ```
//!
//! | file                 | RFC 9420 section   | structs                                           |
//! |----------------------|--------------------|---------------------------------------------------|
//! | `mod.rs`             | 6                  | MLSMessage, ProtocolVersion, WireFormat           |
//! | `credential.rs`      | 5.3                | Credential, Certificate, CredentialType           |
//! | `framing.rs`         | 6, 6.1, 6.2, 8.2   | Sender, FramedContent(TBS), AuthenticatedContent, |
//! |                      |                    | PublicMessage, transcript hash inputs             |
//! | `private_message.rs` | 6.3                | PrivateMessage, its content, SenderData, AADs     |
//! | `tree.rs`            | 5.1.1, 7.1, 7.6,   | key types, ParentNode, Node, UpdatePath,          |
//! |                      | 12.4.3.3           | the ratchet_tree vector                           |
//! | `leaf_node.rs`       | 7.2                | LeafNode, Capabilities, Lifetime, LeafNodeTBS     |
//! | `group_context.rs`   | 8.1, 8.4           | GroupContext, PreSharedKeyID, PSKLabel            |
//! | `key_package.rs`     | 10, 5.2            | KeyPackage, KeyPackageTBS, KeyPackageRef          |
//! | `proposals.rs`       | 12.1, 12.4         | Proposal and its bodies, ProposalOrRef, Commit    |
//! | `welcome.rs`         | 12.4.3             | GroupInfo(TBS), GroupSecrets, Welcome             |
//! | `extensions.rs`      | 7.2, 11.1, 13.4,   | Extension and the typed payloads of the five      |
//! |                      | 12.1.8.1, 12.4.3.2 | extension types RFC 9420 defines                  |
//!
//! Strictness lives in [`crate::codec`] (minimal varints, exact vector lengths, presence
//! bytes 0 or 1, no trailing bytes) and here: closed enums reject values outside the RFC's
//! list, fixed fields (`version = mls10`) reject other values, and select bodies with no
//! wire form (an unknown proposal type, an unknown wire format) are typed errors. What this
//! module does not check is semantics (signatures, tree shape beyond the wire rules,
//! extension uniqueness): the engine validates decoded values.

#[macro_use]
mod code_point;

mod credential;
mod extensions;
mod framing;
mod group_context;
mod key_package;
mod leaf_node;
mod private_message;
mod proposals;
mod tree;
mod welcome;

pub use code_point::is_grease;
pub use credential::{Certificate, Credential, CredentialType};
pub use extensions::{
    ApplicationId, Extension, ExtensionContent, ExtensionType, ExternalPub, ExternalSender,
    ExternalSenders, RequiredCapabilities, duplicate_extension_type,
};
pub use framing::{
    AuthenticatedContent, ContentBody, ContentType, FramedContent, FramedContentAuthData,
    PublicMessage, Sender, SenderType,
};
pub use group_context::{GroupContext, PreSharedKeyId, Psk, PskLabel, PskType, ResumptionPskUsage};
pub use key_package::{KeyPackage, KeyPackageRef};
pub use leaf_node::{Capabilities, LeafNode, LeafNodeSource, LeafNodeSourceType, Lifetime};
pub use private_message::{
    PrivateContentAad, PrivateMessage, PrivateMessageContent, SenderData, SenderDataAad,
};
pub use proposals::{
    Add, Commit, ExternalInit, GroupContextExtensions, PreSharedKey, Proposal, ProposalOrRef,
    ProposalOrRefType, ProposalRef, ProposalType, ReInit, Remove, Update,
};
pub use tree::{
    HpkeCiphertext, HpkePublicKey, Node, NodeType, ParentNode, RatchetTree, SignaturePublicKey,
    UpdatePath, UpdatePathNode,
};
pub use welcome::{EncryptedGroupSecrets, GroupInfo, GroupSecrets, PathSecret, Welcome};

use crate::codec::{Bytes, Codec, DecodeError, Reader, write_vector_with};
use crate::tree_math::LeafIndex;

open_code_point! {
    /// RFC 9420 section 6.
    ///
    /// ```text
    /// enum {
    ///     reserved(0),
    ///     mls10(1),
    ///     (65535)
    /// } ProtocolVersion;
    /// ```
    ///
    /// Open: capabilities list versions this crate does not speak, and they must survive.
    ProtocolVersion, "protocol_version" {
        MLS10 = 0x0001,
    }
}

open_code_point! {
    /// RFC 9420 section 6 and the "MLS Wire Formats" registry (section 17.2).
    ///
    /// ```text
    /// // See the "MLS Wire Formats" IANA registry for values
    /// uint16 WireFormat;
    /// ```
    ///
    /// Open as a registry; an [`MlsMessage`] whose wire format has no body defined here
    /// does not decode.
    WireFormat, "wire_format" {
        MLS_PUBLIC_MESSAGE = 0x0001,
        MLS_PRIVATE_MESSAGE = 0x0002,
        MLS_WELCOME = 0x0003,
        MLS_GROUP_INFO = 0x0004,
        MLS_KEY_PACKAGE = 0x0005,
    }
}

/// RFC 9420 section 6.
///
/// ```text
/// struct {
///     ProtocolVersion version = mls10;
///     WireFormat wire_format;
///     select (MLSMessage.wire_format) {
///         case mls_public_message:
///             PublicMessage public_message;
///         case mls_private_message:
///             PrivateMessage private_message;
///         case mls_welcome:
///             Welcome welcome;
///         case mls_group_info:
///             GroupInfo group_info;
///         case mls_key_package:
///             KeyPackage key_package;
///     };
/// } MLSMessage;
/// ```
///
/// `version` is a field so that a message with another version can be built (negative
/// tests); decoding accepts only `mls10`, because the body's shape is defined per version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlsMessage {
    pub version: ProtocolVersion,
    pub body: MlsMessageBody,
}

/// The select of [`MlsMessage`], one variant per wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MlsMessageBody {
    PublicMessage(PublicMessage),
    PrivateMessage(PrivateMessage),
    Welcome(Welcome),
    GroupInfo(GroupInfo),
    KeyPackage(KeyPackage),
}

impl MlsMessageBody {
    pub fn wire_format(&self) -> WireFormat {
        match self {
            Self::PublicMessage(_) => WireFormat::MLS_PUBLIC_MESSAGE,
            Self::PrivateMessage(_) => WireFormat::MLS_PRIVATE_MESSAGE,
            Self::Welcome(_) => WireFormat::MLS_WELCOME,
            Self::GroupInfo(_) => WireFormat::MLS_GROUP_INFO,
            Self::KeyPackage(_) => WireFormat::MLS_KEY_PACKAGE,
        }
    }
}

impl MlsMessage {
    /// An `mls10` message.
    pub fn new(body: MlsMessageBody) -> Self {
        MlsMessage {
            version: ProtocolVersion::MLS10,
            body,
        }
    }

    pub fn wire_format(&self) -> WireFormat {
        self.body.wire_format()
    }
}

impl Codec for MlsMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.wire_format().encode(out);
        match &self.body {
            MlsMessageBody::PublicMessage(m) => m.encode(out),
            MlsMessageBody::PrivateMessage(m) => m.encode(out),
            MlsMessageBody::Welcome(m) => m.encode(out),
            MlsMessageBody::GroupInfo(m) => m.encode(out),
            MlsMessageBody::KeyPackage(m) => m.encode(out),
        }
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = read_mls10(reader, "MLSMessage.version")?;
        let wire_format = WireFormat::decode(reader)?;
        let body = match wire_format {
            WireFormat::MLS_PUBLIC_MESSAGE => {
                MlsMessageBody::PublicMessage(PublicMessage::decode(reader)?)
            }
            WireFormat::MLS_PRIVATE_MESSAGE => {
                MlsMessageBody::PrivateMessage(PrivateMessage::decode(reader)?)
            }
            WireFormat::MLS_WELCOME => MlsMessageBody::Welcome(Welcome::decode(reader)?),
            WireFormat::MLS_GROUP_INFO => MlsMessageBody::GroupInfo(GroupInfo::decode(reader)?),
            WireFormat::MLS_KEY_PACKAGE => MlsMessageBody::KeyPackage(KeyPackage::decode(reader)?),
            other => {
                return Err(DecodeError::InvalidValue {
                    what: "MLSMessage.wire_format (no body defined for this wire format)",
                    value: u64::from(other.0),
                });
            }
        };
        Ok(MlsMessage { version, body })
    }
}

/// `ProtocolVersion version = mls10;`: the fixed-value field of MLSMessage,
/// FramedContentTBS and GroupContext.
fn read_mls10(reader: &mut Reader<'_>, what: &'static str) -> Result<ProtocolVersion, DecodeError> {
    let version = ProtocolVersion::decode(reader)?;
    if version != ProtocolVersion::MLS10 {
        return Err(DecodeError::InvalidValue {
            what,
            value: u64::from(version.0),
        });
    }
    Ok(version)
}

/// `opaque field<V>`, with the field's name in the error.
fn read_bytes(reader: &mut Reader<'_>, what: &'static str) -> Result<Bytes, DecodeError> {
    Ok(Bytes(reader.opaque(what)?))
}

/// `T field<V>`, with the field's name in the error.
fn read_vec<T: Codec>(reader: &mut Reader<'_>, what: &'static str) -> Result<Vec<T>, DecodeError> {
    let mut inner = reader.sub_reader(what)?;
    let mut items = Vec::new();
    while !inner.is_empty() {
        items.push(T::decode(&mut inner)?);
    }
    Ok(items)
}

/// `T field<V>` from a slice.
fn write_vec<T: Codec>(out: &mut Vec<u8>, items: &[T]) {
    write_vector_with(out, |inner| {
        for item in items {
            item.encode(inner);
        }
    });
}

/// `uint32 leaf_index` (and the other fields that count leaves).
fn read_leaf_index(reader: &mut Reader<'_>, what: &'static str) -> Result<LeafIndex, DecodeError> {
    Ok(LeafIndex(reader.u32(what)?))
}

fn write_leaf_index(out: &mut Vec<u8>, leaf: LeafIndex) {
    leaf.0.encode(out);
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vector_tests;
