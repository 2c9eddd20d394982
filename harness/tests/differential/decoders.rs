//! The same bytes through three decoders: the reference's, OpenMLS's and mls-rs's.
//!
//! ```text
//!                 ┌─> reference  (concord_reference::codec::Codec)   ─┐
//! (WireType, bytes)─> OpenMLS    (tls_codec Deserialize / Serialize)  ─┼─> Outcome ×3 ─> compare
//!                 └─> mls-rs     (mls_rs_codec MlsDecode / MlsEncode) ─┘
//! ```
//!
//! An outcome is "accepted, and re-encoded to these bytes" or "rejected, with this error".
//! [`compare`] reports every accept/reject disagreement and every decoder that accepted
//! the bytes but re-encodes them differently: RFC 9420's codec is canonical (minimal
//! varints, section 2.1.2; exact vector lengths; presence bytes 0 or 1), so whatever
//! decodes must re-encode to exactly the input. Each decoder is asked for a complete
//! value: bytes left over are a rejection.
//!
//! Shared by the `differential_decode` test and the `differential_decode` fuzz target.

#![allow(dead_code)]

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use concord_reference::codec::Codec;
use concord_reference::messages as reference;

use mls_rs::mls_rs_codec::{MlsDecode, MlsEncode};

/// A wire type at least two of the three decoders expose on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WireType {
    /// RFC 9420 section 6.
    MlsMessage,
    /// Section 10, without the MLSMessage header.
    KeyPackage,
    /// Section 12.4.3.1, without the MLSMessage header.
    Welcome,
    /// Section 12.4.3, without the MLSMessage header.
    GroupInfo,
    /// Section 12.4.3.3: `optional<Node> ratchet_tree<V>`.
    RatchetTree,
    /// Section 7.2 (OpenMLS exposes no decoder for it alone).
    LeafNode,
    /// Section 12.1, with its `proposal_type`.
    Proposal,
}

impl WireType {
    pub const ALL: [WireType; 7] = [
        WireType::MlsMessage,
        WireType::KeyPackage,
        WireType::Welcome,
        WireType::GroupInfo,
        WireType::RatchetTree,
        WireType::LeafNode,
        WireType::Proposal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WireType::MlsMessage => "MLSMessage",
            WireType::KeyPackage => "KeyPackage",
            WireType::Welcome => "Welcome",
            WireType::GroupInfo => "GroupInfo",
            WireType::RatchetTree => "ratchet_tree",
            WireType::LeafNode => "LeafNode",
            WireType::Proposal => "Proposal",
        }
    }
}

impl fmt::Display for WireType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Decoder {
    Reference,
    OpenMls,
    MlsRs,
}

impl Decoder {
    pub const ALL: [Decoder; 3] = [Decoder::Reference, Decoder::OpenMls, Decoder::MlsRs];

    pub fn name(self) -> &'static str {
        match self {
            Decoder::Reference => "reference",
            Decoder::OpenMls => "openmls",
            Decoder::MlsRs => "mls-rs",
        }
    }
}

impl fmt::Display for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one decoder made of the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Decoded; the re-encoding (or why the decoder could not encode its own value).
    Accepted(Result<Vec<u8>, String>),
    /// Refused, with the decoder's error.
    Rejected(String),
    /// The decoder panicked on the input (always a finding).
    Panicked(String),
    /// This decoder has no public decoder for the wire type.
    NotExposed,
}

impl Outcome {
    pub fn accepted(&self) -> Option<bool> {
        match self {
            Outcome::Accepted(_) => Some(true),
            Outcome::Rejected(_) | Outcome::Panicked(_) => Some(false),
            Outcome::NotExposed => None,
        }
    }

    pub fn error(&self) -> &str {
        match self {
            Outcome::Rejected(e) | Outcome::Panicked(e) => e,
            Outcome::Accepted(Err(e)) => e,
            _ => "",
        }
    }
}

/// Runs `decode`, turning a panic into [`Outcome::Panicked`].
fn guarded(decode: impl FnOnce() -> Outcome) -> Outcome {
    match catch_unwind(AssertUnwindSafe(decode)) {
        Ok(outcome) => outcome,
        Err(payload) => Outcome::Panicked(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into()),
        ),
    }
}

fn from_result<T, E: fmt::Display>(
    decoded: Result<T, E>,
    encode: impl FnOnce(&T) -> Result<Vec<u8>, String>,
) -> Outcome {
    match decoded {
        Ok(value) => Outcome::Accepted(encode(&value)),
        Err(e) => Outcome::Rejected(e.to_string()),
    }
}

fn reference_codec<T: Codec>(bytes: &[u8]) -> Outcome {
    from_result(T::from_bytes(bytes), |v| Ok(v.to_bytes()))
}

pub fn decode_reference(wire_type: WireType, bytes: &[u8]) -> Outcome {
    guarded(|| match wire_type {
        WireType::MlsMessage => reference_codec::<reference::MlsMessage>(bytes),
        WireType::KeyPackage => reference_codec::<reference::KeyPackage>(bytes),
        WireType::Welcome => reference_codec::<reference::Welcome>(bytes),
        WireType::GroupInfo => reference_codec::<reference::GroupInfo>(bytes),
        WireType::RatchetTree => reference_codec::<reference::RatchetTree>(bytes),
        WireType::LeafNode => reference_codec::<reference::LeafNode>(bytes),
        WireType::Proposal => reference_codec::<reference::Proposal>(bytes),
    })
}

fn openmls_codec<T>(bytes: &[u8]) -> Outcome
where
    T: openmls::prelude::tls_codec::Deserialize + openmls::prelude::tls_codec::Serialize,
{
    from_result(T::tls_deserialize_exact(bytes), |v| {
        v.tls_serialize_detached().map_err(|e| e.to_string())
    })
}

pub fn decode_openmls(wire_type: WireType, bytes: &[u8]) -> Outcome {
    use openmls::messages::group_info::VerifiableGroupInfo;
    use openmls::prelude::{KeyPackageIn, MlsMessageIn, ProposalIn, RatchetTreeIn, Welcome};
    guarded(|| match wire_type {
        WireType::MlsMessage => openmls_codec::<MlsMessageIn>(bytes),
        WireType::KeyPackage => openmls_codec::<KeyPackageIn>(bytes),
        WireType::Welcome => openmls_codec::<Welcome>(bytes),
        WireType::GroupInfo => openmls_codec::<VerifiableGroupInfo>(bytes),
        WireType::RatchetTree => openmls_codec::<RatchetTreeIn>(bytes),
        WireType::Proposal => openmls_codec::<ProposalIn>(bytes),
        WireType::LeafNode => Outcome::NotExposed,
    })
}

fn mls_rs_codec<T: MlsDecode + MlsEncode>(bytes: &[u8]) -> Outcome {
    from_result(T::mls_decode_exhaustive(bytes), |v| {
        v.mls_encode_to_vec().map_err(|e| e.to_string())
    })
}

/// The MLSMessage header of an `mls10` message of `wire_format`.
pub fn mls_message_header(wire_format: u16) -> [u8; 4] {
    let [a, b] = wire_format.to_be_bytes();
    [0x00, 0x01, a, b]
}

pub fn decode_mls_rs(wire_type: WireType, bytes: &[u8]) -> Outcome {
    guarded(|| match wire_type {
        WireType::MlsMessage => mls_rs_codec::<mls_rs::MlsMessage>(bytes),
        WireType::KeyPackage => mls_rs_codec::<mls_rs::KeyPackage>(bytes),
        // mls-rs keeps its Welcome type private: the bytes go in as the body of an
        // MLSMessage (whose header is fixed), and the body comes back out.
        WireType::Welcome => {
            let mut message = mls_message_header(3).to_vec();
            message.extend_from_slice(bytes);
            match mls_rs_codec::<mls_rs::MlsMessage>(&message) {
                Outcome::Accepted(Ok(encoded)) => match encoded.strip_prefix(&message[..4]) {
                    Some(body) => Outcome::Accepted(Ok(body.to_vec())),
                    None => Outcome::Accepted(Err("re-encoded with another header".into())),
                },
                other => other,
            }
        }
        WireType::GroupInfo => mls_rs_codec::<mls_rs::group::GroupInfo>(bytes),
        WireType::RatchetTree => mls_rs_codec::<mls_rs::group::ExportedTree<'static>>(bytes),
        WireType::LeafNode => mls_rs_codec::<mls_rs::group::LeafNode>(bytes),
        WireType::Proposal => mls_rs_codec::<mls_rs::group::proposal::Proposal>(bytes),
    })
}

pub fn decode(decoder: Decoder, wire_type: WireType, bytes: &[u8]) -> Outcome {
    match decoder {
        Decoder::Reference => decode_reference(wire_type, bytes),
        Decoder::OpenMls => decode_openmls(wire_type, bytes),
        Decoder::MlsRs => decode_mls_rs(wire_type, bytes),
    }
}

/// The three outcomes for one input, in [`Decoder::ALL`] order.
#[derive(Debug, Clone)]
pub struct Outcomes {
    pub wire_type: WireType,
    pub input: Vec<u8>,
    pub outcomes: [Outcome; 3],
}

impl Outcomes {
    pub fn of(&self, decoder: Decoder) -> &Outcome {
        &self.outcomes[decoder as usize]
    }
}

pub fn decode_all(wire_type: WireType, bytes: &[u8]) -> Outcomes {
    Outcomes {
        wire_type,
        input: bytes.to_vec(),
        outcomes: Decoder::ALL.map(|d| decode(d, wire_type, bytes)),
    }
}

/// One way the decoders disagree on one input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disagreement {
    /// Some decoders accept the bytes, others reject them.
    Acceptance {
        accepted: Vec<Decoder>,
        rejected: Vec<Decoder>,
    },
    /// `decoder` accepted the bytes and re-encodes them to other bytes (or cannot
    /// encode what it decoded).
    ReEncoding { decoder: Decoder },
    /// `decoder` panicked.
    Panic { decoder: Decoder },
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |ds: &[Decoder]| ds.iter().map(|d| d.name()).collect::<Vec<_>>().join("+");
        match self {
            Disagreement::Acceptance { accepted, rejected } => write!(
                f,
                "accepted by {}, rejected by {}",
                names(accepted),
                names(rejected)
            ),
            Disagreement::ReEncoding { decoder } => write!(f, "{decoder} re-encodes differently"),
            Disagreement::Panic { decoder } => write!(f, "{decoder} panicked"),
        }
    }
}

/// Every disagreement among the outcomes (empty when the decoders agree).
pub fn compare(outcomes: &Outcomes) -> Vec<Disagreement> {
    let mut found = Vec::new();
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for decoder in Decoder::ALL {
        match outcomes.of(decoder) {
            Outcome::Accepted(reencoded) => {
                accepted.push(decoder);
                if reencoded.as_deref() != Ok(outcomes.input.as_slice()) {
                    found.push(Disagreement::ReEncoding { decoder });
                }
            }
            Outcome::Rejected(_) => rejected.push(decoder),
            Outcome::Panicked(_) => {
                rejected.push(decoder);
                found.push(Disagreement::Panic { decoder });
            }
            Outcome::NotExposed => {}
        }
    }
    if !accepted.is_empty() && !rejected.is_empty() {
        found.insert(0, Disagreement::Acceptance { accepted, rejected });
    }
    found
}

/// A readable account of one input: the bytes and each decoder's answer.
pub fn describe(outcomes: &Outcomes) -> String {
    let mut text = format!(
        "{} ({} bytes): {}\n",
        outcomes.wire_type,
        outcomes.input.len(),
        hex::encode(&outcomes.input)
    );
    for decoder in Decoder::ALL {
        let answer = match outcomes.of(decoder) {
            Outcome::Accepted(Ok(bytes)) if *bytes == outcomes.input => "accepted".to_string(),
            Outcome::Accepted(Ok(bytes)) => format!("accepted, re-encoded {}", hex::encode(bytes)),
            Outcome::Accepted(Err(e)) => format!("accepted, cannot re-encode: {e}"),
            Outcome::Rejected(e) => format!("rejected: {e}"),
            Outcome::Panicked(e) => format!("PANICKED: {e}"),
            Outcome::NotExposed => "no public decoder".to_string(),
        };
        text.push_str(&format!("  {decoder}: {answer}\n"));
    }
    text
}
