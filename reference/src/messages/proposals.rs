//! Proposals (RFC 9420 section 12.1) and the Commit that covers them (section 12.4).

use super::{
    Extension, KeyPackage, LeafNode, PreSharedKeyId, ProtocolVersion, UpdatePath, read_bytes,
    read_leaf_index, read_vec, write_leaf_index, write_vec,
};
use crate::codec::{Bytes, Codec, DecodeError, Reader};
use crate::crypto::CipherSuite;
use crate::tree_math::LeafIndex;

open_code_point! {
    /// RFC 9420 section 12.1 and the "MLS Proposal Types" registry (section 17.4).
    ///
    /// ```text
    /// // See the "MLS Proposal Types" IANA registry for values
    /// uint16 ProposalType;
    /// ```
    ProposalType, "proposal_type" {
        ADD = 0x0001,
        UPDATE = 0x0002,
        REMOVE = 0x0003,
        PSK = 0x0004,
        REINIT = 0x0005,
        EXTERNAL_INIT = 0x0006,
        GROUP_CONTEXT_EXTENSIONS = 0x0007,
    }
}

impl ProposalType {
    /// The proposal types every client supports, which capabilities MUST NOT list
    /// (section 7.2).
    pub const DEFAULTS: [ProposalType; 7] = [
        Self(1),
        Self(2),
        Self(3),
        Self(4),
        Self(5),
        Self(6),
        Self(7),
    ];

    pub fn is_default(self) -> bool {
        Self::DEFAULTS.contains(&self)
    }

    /// A GREASE value (section 13.5).
    pub fn is_grease(self) -> bool {
        super::is_grease(self.0)
    }

    /// The "Ext" column of the registry: may an `external` sender propose this type
    /// (section 12.1.8)? Unknown types answer `false`.
    pub fn allowed_for_external_sender(self) -> bool {
        matches!(
            self,
            Self::ADD | Self::REMOVE | Self::PSK | Self::REINIT | Self::GROUP_CONTEXT_EXTENSIONS
        )
    }

    /// The "Path" column of the registry: must a Commit covering this type carry an
    /// UpdatePath? Unknown types answer `true`: "By default, the `path` field of a
    /// Commit MUST be populated" (section 12.4).
    pub fn requires_path(self) -> bool {
        !matches!(self, Self::ADD | Self::PSK | Self::REINIT)
    }
}

/// RFC 9420 section 12.1.1.
///
/// ```text
/// struct {
///     KeyPackage key_package;
/// } Add;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    pub key_package: KeyPackage,
}
impl Codec for Add {
    fn encode(&self, out: &mut Vec<u8>) {
        self.key_package.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Add {
            key_package: KeyPackage::decode(reader)?,
        })
    }
}

/// RFC 9420 section 12.1.2.
///
/// ```text
/// struct {
///     LeafNode leaf_node;
/// } Update;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub leaf_node: LeafNode,
}
impl Codec for Update {
    fn encode(&self, out: &mut Vec<u8>) {
        self.leaf_node.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Update {
            leaf_node: LeafNode::decode(reader)?,
        })
    }
}

/// RFC 9420 section 12.1.3.
///
/// ```text
/// struct {
///     uint32 removed;
/// } Remove;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remove {
    pub removed: LeafIndex,
}

impl Codec for Remove {
    fn encode(&self, out: &mut Vec<u8>) {
        write_leaf_index(out, self.removed);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Remove {
            removed: read_leaf_index(reader, "Remove.removed")?,
        })
    }
}

/// RFC 9420 section 12.1.4.
///
/// ```text
/// struct {
///     PreSharedKeyID psk;
/// } PreSharedKey;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreSharedKey {
    pub psk: PreSharedKeyId,
}
impl Codec for PreSharedKey {
    fn encode(&self, out: &mut Vec<u8>) {
        self.psk.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PreSharedKey {
            psk: PreSharedKeyId::decode(reader)?,
        })
    }
}

/// RFC 9420 section 12.1.5.
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     ProtocolVersion version;
///     CipherSuite cipher_suite;
///     Extension extensions<V>;
/// } ReInit;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReInit {
    pub group_id: Bytes,
    pub version: ProtocolVersion,
    pub cipher_suite: CipherSuite,
    pub extensions: Vec<Extension>,
}

impl Codec for ReInit {
    fn encode(&self, out: &mut Vec<u8>) {
        self.group_id.encode(out);
        self.version.encode(out);
        self.cipher_suite.encode(out);
        write_vec(out, &self.extensions);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ReInit {
            group_id: read_bytes(reader, "ReInit.group_id")?,
            version: ProtocolVersion::decode(reader)?,
            cipher_suite: CipherSuite::decode(reader)?,
            extensions: read_vec(reader, "ReInit.extensions")?,
        })
    }
}

/// RFC 9420 section 12.1.6.
///
/// ```text
/// struct {
///   opaque kem_output<V>;
/// } ExternalInit;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalInit {
    pub kem_output: Bytes,
}
impl Codec for ExternalInit {
    fn encode(&self, out: &mut Vec<u8>) {
        self.kem_output.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ExternalInit {
            kem_output: read_bytes(reader, "ExternalInit.kem_output")?,
        })
    }
}

/// RFC 9420 section 12.1.7.
///
/// ```text
/// struct {
///   Extension extensions<V>;
/// } GroupContextExtensions;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupContextExtensions {
    pub extensions: Vec<Extension>,
}

impl Codec for GroupContextExtensions {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vec(out, &self.extensions);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GroupContextExtensions {
            extensions: read_vec(reader, "GroupContextExtensions.extensions")?,
        })
    }
}

/// RFC 9420 section 12.1.
///
/// ```text
/// struct {
///     ProposalType proposal_type;
///     select (Proposal.proposal_type) {
///         case add:                      Add;
///         case update:                   Update;
///         case remove:                   Remove;
///         case psk:                      PreSharedKey;
///         case reinit:                   ReInit;
///         case external_init:            ExternalInit;
///         case group_context_extensions: GroupContextExtensions;
///     };
/// } Proposal;
/// ```
///
/// The RFC defines no framing for the body of other proposal types, so where one
/// starts and ends cannot be known: decoding an unknown `proposal_type` fails with
/// [`DecodeError::InvalidValue`] (`what` starting with "proposal_type").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    Add(Add),
    Update(Update),
    Remove(Remove),
    PreSharedKey(PreSharedKey),
    ReInit(ReInit),
    ExternalInit(ExternalInit),
    GroupContextExtensions(GroupContextExtensions),
}

impl Proposal {
    pub fn proposal_type(&self) -> ProposalType {
        match self {
            Proposal::Add(_) => ProposalType::ADD,
            Proposal::Update(_) => ProposalType::UPDATE,
            Proposal::Remove(_) => ProposalType::REMOVE,
            Proposal::PreSharedKey(_) => ProposalType::PSK,
            Proposal::ReInit(_) => ProposalType::REINIT,
            Proposal::ExternalInit(_) => ProposalType::EXTERNAL_INIT,
            Proposal::GroupContextExtensions(_) => ProposalType::GROUP_CONTEXT_EXTENSIONS,
        }
    }
}

impl Codec for Proposal {
    fn encode(&self, out: &mut Vec<u8>) {
        self.proposal_type().encode(out);
        match self {
            Proposal::Add(p) => p.encode(out),
            Proposal::Update(p) => p.encode(out),
            Proposal::Remove(p) => p.encode(out),
            Proposal::PreSharedKey(p) => p.encode(out),
            Proposal::ReInit(p) => p.encode(out),
            Proposal::ExternalInit(p) => p.encode(out),
            Proposal::GroupContextExtensions(p) => p.encode(out),
        }
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match ProposalType::decode(reader)? {
            ProposalType::ADD => Proposal::Add(Add::decode(reader)?),
            ProposalType::UPDATE => Proposal::Update(Update::decode(reader)?),
            ProposalType::REMOVE => Proposal::Remove(Remove::decode(reader)?),
            ProposalType::PSK => Proposal::PreSharedKey(PreSharedKey::decode(reader)?),
            ProposalType::REINIT => Proposal::ReInit(ReInit::decode(reader)?),
            ProposalType::EXTERNAL_INIT => Proposal::ExternalInit(ExternalInit::decode(reader)?),
            ProposalType::GROUP_CONTEXT_EXTENSIONS => {
                Proposal::GroupContextExtensions(GroupContextExtensions::decode(reader)?)
            }
            other => {
                return Err(DecodeError::InvalidValue {
                    what: "proposal_type (no wire form for unknown proposal types)",
                    value: u64::from(other.0),
                });
            }
        })
    }
}

/// RFC 9420 section 5.2: `RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)`,
/// under the group's cipher suite.
///
/// ```text
/// opaque HashReference<V>;
/// HashReference ProposalRef;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProposalRef(pub Bytes);

impl ProposalRef {
    /// The RefHash label (taken verbatim, "MLS 1.0 " included).
    pub const LABEL: &'static [u8] = b"MLS 1.0 Proposal Reference";
}

impl Codec for ProposalRef {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ProposalRef(read_bytes(reader, "ProposalRef")?))
    }
}

closed_enum! {
    /// RFC 9420 section 12.4, the tag alone; [`ProposalOrRef`] carries the select body.
    ///
    /// ```text
    /// enum {
    ///   reserved(0),
    ///   proposal(1),
    ///   reference(2),
    ///   (255)
    /// } ProposalOrRefType;
    /// ```
    ProposalOrRefType, "ProposalOrRefType" {
        Proposal = 1,
        Reference = 2,
    }
}

/// RFC 9420 section 12.4.
///
/// ```text
/// struct {
///   ProposalOrRefType type;
///   select (ProposalOrRef.type) {
///     case proposal:  Proposal proposal;
///     case reference: ProposalRef reference;
///   };
/// } ProposalOrRef;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a commit holds a handful of these; boxing would only burden every match"
)]
pub enum ProposalOrRef {
    Proposal(Proposal),
    Reference(ProposalRef),
}

impl ProposalOrRef {
    pub fn proposal_or_ref_type(&self) -> ProposalOrRefType {
        match self {
            ProposalOrRef::Proposal(_) => ProposalOrRefType::Proposal,
            ProposalOrRef::Reference(_) => ProposalOrRefType::Reference,
        }
    }
}

impl Codec for ProposalOrRef {
    fn encode(&self, out: &mut Vec<u8>) {
        self.proposal_or_ref_type().encode(out);
        match self {
            ProposalOrRef::Proposal(proposal) => proposal.encode(out),
            ProposalOrRef::Reference(reference) => reference.encode(out),
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match ProposalOrRefType::decode(reader)? {
            ProposalOrRefType::Proposal => ProposalOrRef::Proposal(Proposal::decode(reader)?),
            ProposalOrRefType::Reference => ProposalOrRef::Reference(ProposalRef::decode(reader)?),
        })
    }
}

/// RFC 9420 section 12.4.
///
/// ```text
/// struct {
///     ProposalOrRef proposals<V>;
///     optional<UpdatePath> path;
/// } Commit;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub proposals: Vec<ProposalOrRef>,
    pub path: Option<UpdatePath>,
}

impl Codec for Commit {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vec(out, &self.proposals);
        self.path.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Commit {
            proposals: read_vec(reader, "Commit.proposals")?,
            path: Option::<UpdatePath>::decode(reader)?,
        })
    }
}
