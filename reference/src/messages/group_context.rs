//! The group context (RFC 9420 section 8.1) and pre-shared key identifiers (section 8.4).

use super::{Extension, ProtocolVersion, read_bytes, read_mls10, read_vec, write_vec};
use crate::codec::{Bytes, Codec, DecodeError, Reader};
use crate::crypto::CipherSuite;

/// RFC 9420 section 8.1.
///
/// ```text
/// struct {
///     ProtocolVersion version = mls10;
///     CipherSuite cipher_suite;
///     opaque group_id<V>;
///     uint64 epoch;
///     opaque tree_hash<V>;
///     opaque confirmed_transcript_hash<V>;
///     Extension extensions<V>;
/// } GroupContext;
/// ```
///
/// Decoding accepts only `version = mls10`; the field exists so that other values can
/// be encoded for negative tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupContext {
    pub version: ProtocolVersion,
    pub cipher_suite: CipherSuite,
    pub group_id: Bytes,
    pub epoch: u64,
    pub tree_hash: Bytes,
    pub confirmed_transcript_hash: Bytes,
    pub extensions: Vec<Extension>,
}

impl GroupContext {
    /// An `mls10` group context.
    pub fn new(
        cipher_suite: CipherSuite,
        group_id: Vec<u8>,
        epoch: u64,
        tree_hash: Vec<u8>,
        confirmed_transcript_hash: Vec<u8>,
        extensions: Vec<Extension>,
    ) -> Self {
        GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite,
            group_id: Bytes(group_id),
            epoch,
            tree_hash: Bytes(tree_hash),
            confirmed_transcript_hash: Bytes(confirmed_transcript_hash),
            extensions,
        }
    }
}

impl Codec for GroupContext {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.cipher_suite.encode(out);
        self.group_id.encode(out);
        self.epoch.encode(out);
        self.tree_hash.encode(out);
        self.confirmed_transcript_hash.encode(out);
        write_vec(out, &self.extensions);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GroupContext {
            version: read_mls10(reader, "GroupContext.version")?,
            cipher_suite: CipherSuite::decode(reader)?,
            group_id: read_bytes(reader, "GroupContext.group_id")?,
            epoch: reader.u64("GroupContext.epoch")?,
            tree_hash: read_bytes(reader, "GroupContext.tree_hash")?,
            confirmed_transcript_hash: read_bytes(
                reader,
                "GroupContext.confirmed_transcript_hash",
            )?,
            extensions: read_vec(reader, "GroupContext.extensions")?,
        })
    }
}

closed_enum! {
    /// RFC 9420 section 8.4, the tag alone; [`Psk`] carries the select body.
    ///
    /// ```text
    /// enum {
    ///   reserved(0),
    ///   external(1),
    ///   resumption(2),
    ///   (255)
    /// } PSKType;
    /// ```
    PskType, "psktype" {
        External = 1,
        Resumption = 2,
    }
}

closed_enum! {
    /// RFC 9420 section 8.4.
    ///
    /// ```text
    /// enum {
    ///   reserved(0),
    ///   application(1),
    ///   reinit(2),
    ///   branch(3),
    ///   (255)
    /// } ResumptionPSKUsage;
    /// ```
    ResumptionPskUsage, "ResumptionPSKUsage" {
        Application = 1,
        Reinit = 2,
        Branch = 3,
    }
}

/// `psktype` with the fields its select adds (see [`PreSharedKeyId`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Psk {
    External {
        psk_id: Bytes,
    },
    Resumption {
        usage: ResumptionPskUsage,
        psk_group_id: Bytes,
        psk_epoch: u64,
    },
}

impl Psk {
    pub fn psktype(&self) -> PskType {
        match self {
            Psk::External { .. } => PskType::External,
            Psk::Resumption { .. } => PskType::Resumption,
        }
    }
}

impl Codec for Psk {
    fn encode(&self, out: &mut Vec<u8>) {
        self.psktype().encode(out);
        match self {
            Psk::External { psk_id } => psk_id.encode(out),
            Psk::Resumption {
                usage,
                psk_group_id,
                psk_epoch,
            } => {
                usage.encode(out);
                psk_group_id.encode(out);
                psk_epoch.encode(out);
            }
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match PskType::decode(reader)? {
            PskType::External => Psk::External {
                psk_id: read_bytes(reader, "PreSharedKeyID.psk_id")?,
            },
            PskType::Resumption => Psk::Resumption {
                usage: ResumptionPskUsage::decode(reader)?,
                psk_group_id: read_bytes(reader, "PreSharedKeyID.psk_group_id")?,
                psk_epoch: reader.u64("PreSharedKeyID.psk_epoch")?,
            },
        })
    }
}

/// RFC 9420 section 8.4.
///
/// ```text
/// struct {
///   PSKType psktype;
///   select (PreSharedKeyID.psktype) {
///     case external:
///       opaque psk_id<V>;
///
///     case resumption:
///       ResumptionPSKUsage usage;
///       opaque psk_group_id<V>;
///       uint64 psk_epoch;
///   };
///   opaque psk_nonce<V>;
/// } PreSharedKeyID;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreSharedKeyId {
    pub psk: Psk,
    pub psk_nonce: Bytes,
}

impl Codec for PreSharedKeyId {
    fn encode(&self, out: &mut Vec<u8>) {
        self.psk.encode(out);
        self.psk_nonce.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PreSharedKeyId {
            psk: Psk::decode(reader)?,
            psk_nonce: read_bytes(reader, "PreSharedKeyID.psk_nonce")?,
        })
    }
}

/// RFC 9420 section 8.4: the context of `ExpandWithLabel(.., "derived psk", PSKLabel, ..)`.
///
/// ```text
/// struct {
///     PreSharedKeyID id;
///     uint16 index;
///     uint16 count;
/// } PSKLabel;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PskLabel {
    pub id: PreSharedKeyId,
    pub index: u16,
    pub count: u16,
}

impl Codec for PskLabel {
    fn encode(&self, out: &mut Vec<u8>) {
        self.id.encode(out);
        self.index.encode(out);
        self.count.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PskLabel {
            id: PreSharedKeyId::decode(reader)?,
            index: reader.u16("PSKLabel.index")?,
            count: reader.u16("PSKLabel.count")?,
        })
    }
}
