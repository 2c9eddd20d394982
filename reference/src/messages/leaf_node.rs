//! Leaf nodes (RFC 9420 section 7.2): what a member shows the group about itself.

use super::{
    Credential, CredentialType, Extension, ExtensionType, HpkePublicKey, ProposalType,
    ProtocolVersion, SignaturePublicKey, read_bytes, read_vec, write_leaf_index, write_vec,
};
use crate::codec::{Bytes, Codec, DecodeError, Reader, write_opaque};
use crate::crypto::CipherSuite;
use crate::tree_math::LeafIndex;

/// RFC 9420 section 7.2.
///
/// ```text
/// struct {
///     ProtocolVersion versions<V>;
///     CipherSuite cipher_suites<V>;
///     ExtensionType extensions<V>;
///     ProposalType proposals<V>;
///     CredentialType credentials<V>;
/// } Capabilities;
/// ```
///
/// Every list is of open code points: unknown and GREASE values are kept as they came.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub versions: Vec<ProtocolVersion>,
    pub cipher_suites: Vec<CipherSuite>,
    pub extensions: Vec<ExtensionType>,
    pub proposals: Vec<ProposalType>,
    pub credentials: Vec<CredentialType>,
}

impl Capabilities {
    /// Section 7.2: "the `capabilities` field ... MUST NOT list" the default extension types
    /// (1 to 5) and proposal types (1 to 7), which every client supports implicitly. The
    /// first such listed value, as (kind, code point).
    pub fn listed_default(&self) -> Option<(&'static str, u16)> {
        let extension = self
            .extensions
            .iter()
            .find(|t| t.is_default())
            .map(|t| ("extension type", t.0));
        extension.or_else(|| {
            self.proposals
                .iter()
                .find(|t| t.is_default())
                .map(|t| ("proposal type", t.0))
        })
    }
}

impl Codec for Capabilities {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vec(out, &self.versions);
        write_vec(out, &self.cipher_suites);
        write_vec(out, &self.extensions);
        write_vec(out, &self.proposals);
        write_vec(out, &self.credentials);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Capabilities {
            versions: read_vec(reader, "Capabilities.versions")?,
            cipher_suites: read_vec(reader, "Capabilities.cipher_suites")?,
            extensions: read_vec(reader, "Capabilities.extensions")?,
            proposals: read_vec(reader, "Capabilities.proposals")?,
            credentials: read_vec(reader, "Capabilities.credentials")?,
        })
    }
}

/// RFC 9420 section 7.2: seconds since the Unix epoch.
///
/// ```text
/// struct {
///     uint64 not_before;
///     uint64 not_after;
/// } Lifetime;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub not_before: u64,
    pub not_after: u64,
}

impl Codec for Lifetime {
    fn encode(&self, out: &mut Vec<u8>) {
        self.not_before.encode(out);
        self.not_after.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Lifetime {
            not_before: reader.u64("Lifetime.not_before")?,
            not_after: reader.u64("Lifetime.not_after")?,
        })
    }
}

closed_enum! {
    /// RFC 9420 section 7.2, the tag alone; [`LeafNodeSource`] carries the select body.
    ///
    /// ```text
    /// enum {
    ///     reserved(0),
    ///     key_package(1),
    ///     update(2),
    ///     commit(3),
    ///     (255)
    /// } LeafNodeSource;
    /// ```
    LeafNodeSourceType, "leaf_node_source" {
        KeyPackage = 1,
        Update = 2,
        Commit = 3,
    }
}

/// `leaf_node_source` with the field its select adds:
///
/// ```text
/// LeafNodeSource leaf_node_source;
/// select (LeafNode.leaf_node_source) {
///     case key_package:
///         Lifetime lifetime;
///
///     case update:
///         struct{};
///
///     case commit:
///         opaque parent_hash<V>;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafNodeSource {
    KeyPackage { lifetime: Lifetime },
    Update,
    Commit { parent_hash: Bytes },
}

impl LeafNodeSource {
    pub fn source_type(&self) -> LeafNodeSourceType {
        match self {
            LeafNodeSource::KeyPackage { .. } => LeafNodeSourceType::KeyPackage,
            LeafNodeSource::Update => LeafNodeSourceType::Update,
            LeafNodeSource::Commit { .. } => LeafNodeSourceType::Commit,
        }
    }
}

impl Codec for LeafNodeSource {
    fn encode(&self, out: &mut Vec<u8>) {
        self.source_type().encode(out);
        match self {
            LeafNodeSource::KeyPackage { lifetime } => lifetime.encode(out),
            LeafNodeSource::Update => {}
            LeafNodeSource::Commit { parent_hash } => parent_hash.encode(out),
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match LeafNodeSourceType::decode(reader)? {
            LeafNodeSourceType::KeyPackage => LeafNodeSource::KeyPackage {
                lifetime: Lifetime::decode(reader)?,
            },
            LeafNodeSourceType::Update => LeafNodeSource::Update,
            LeafNodeSourceType::Commit => LeafNodeSource::Commit {
                parent_hash: read_bytes(reader, "LeafNode.parent_hash")?,
            },
        })
    }
}

/// RFC 9420 section 7.2.
///
/// ```text
/// struct {
///     HPKEPublicKey encryption_key;
///     SignaturePublicKey signature_key;
///     Credential credential;
///     Capabilities capabilities;
///
///     LeafNodeSource leaf_node_source;
///     select (LeafNode.leaf_node_source) {
///         case key_package:
///             Lifetime lifetime;
///
///         case update:
///             struct{};
///
///         case commit:
///             opaque parent_hash<V>;
///     };
///
///     Extension extensions<V>;
///     /* SignWithLabel(., "LeafNodeTBS", LeafNodeTBS) */
///     opaque signature<V>;
/// } LeafNode;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafNode {
    pub encryption_key: HpkePublicKey,
    pub signature_key: SignaturePublicKey,
    pub credential: Credential,
    pub capabilities: Capabilities,
    pub leaf_node_source: LeafNodeSource,
    pub extensions: Vec<Extension>,
    pub signature: Bytes,
}

impl LeafNode {
    /// The `SignWithLabel` label of a LeafNode signature.
    pub const SIGNATURE_LABEL: &'static [u8] = b"LeafNodeTBS";

    /// The fields above `signature`, as LeafNodeTBS starts.
    fn encode_unsigned(&self, out: &mut Vec<u8>) {
        self.encryption_key.encode(out);
        self.signature_key.encode(out);
        self.credential.encode(out);
        self.capabilities.encode(out);
        self.leaf_node_source.encode(out);
        write_vec(out, &self.extensions);
    }

    /// The signed content, RFC 9420 section 7.2:
    ///
    /// ```text
    /// struct {
    ///     ... every LeafNode field above signature ...
    ///     select (LeafNodeTBS.leaf_node_source) {
    ///         case key_package:
    ///             struct{};
    ///
    ///         case update:
    ///             opaque group_id<V>;
    ///             uint32 leaf_index;
    ///
    ///         case commit:
    ///             opaque group_id<V>;
    ///             uint32 leaf_index;
    ///     };
    /// } LeafNodeTBS;
    /// ```
    ///
    /// `group_id` and `leaf_index` bind `update` and `commit` leaves to their place in a
    /// group; a `key_package` leaf has no group yet, and for it both are ignored.
    pub fn tbs_bytes(&self, group_id: &[u8], leaf_index: LeafIndex) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_unsigned(&mut out);
        match self.leaf_node_source {
            LeafNodeSource::KeyPackage { .. } => {}
            LeafNodeSource::Update | LeafNodeSource::Commit { .. } => {
                write_opaque(&mut out, group_id);
                write_leaf_index(&mut out, leaf_index);
            }
        }
        out
    }
}

impl Codec for LeafNode {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_unsigned(out);
        self.signature.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(LeafNode {
            encryption_key: HpkePublicKey::decode(reader)?,
            signature_key: SignaturePublicKey::decode(reader)?,
            credential: Credential::decode(reader)?,
            capabilities: Capabilities::decode(reader)?,
            leaf_node_source: LeafNodeSource::decode(reader)?,
            extensions: read_vec(reader, "LeafNode.extensions")?,
            signature: read_bytes(reader, "LeafNode.signature")?,
        })
    }
}
