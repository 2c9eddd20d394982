//! Disagreement classes that have been triaged against RFC 9420, each with its verdict:
//! a finding against a peer (`reports/findings/decode-*.md`) or an equivalence (the
//! decoders draw the line between decoding and validation in different places, and the
//! RFC does not say where it goes). Anything not listed here is new and fails the test.
//!
//! A class recognises its inputs by what the decoders answered and, where an error text
//! alone would be too loose, by what the reference finds in the bytes it decoded.

#![allow(dead_code)]

use concord_reference::codec::Codec;
use concord_reference::messages::{
    ApplicationId, ContentBody, Extension, ExtensionType, ExternalPub, ExternalSenders, GroupInfo,
    KeyPackage, LeafNode, MlsMessage, MlsMessageBody, Node, Proposal, ProposalOrRef, RatchetTree,
    RequiredCapabilities, Welcome, duplicate_extension_type,
};

use super::decoders::{Decoder, Disagreement, Outcome, Outcomes, WireType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A peer deviates from RFC 9420: the finding file under `reports/findings/`.
    PeerFinding(&'static str),
    /// Not a conformance difference, and why.
    Equivalent(&'static str),
}

/// One triaged class: its name, its verdict, and the test that recognises the answer it
/// explains.
#[derive(Debug, Clone, Copy)]
pub struct Triaged {
    pub class: &'static str,
    pub verdict: Verdict,
    pub matches: fn(&Outcomes, Side) -> bool,
}

/// Every triaged class.
pub const TRIAGED: &[Triaged] = &[
    Triaged {
        class: "openmls-closed-cipher-suites",
        verdict: Verdict::Equivalent(
            "OpenMLS decodes a cipher suite into a closed enum and refuses a value it does not know (UnknownValue) while decoding; the reference and mls-rs keep the code point open (rustls-style) and refuse an unsupported suite when they validate the KeyPackage, Welcome or GroupInfo (RFC9420-10.1-3, RFC9420-12.4.3.1-8). Every decoder's owner refuses the message; only the step differs.",
        ),
        matches: openmls_unknown_value,
    },
    Triaged {
        class: "openmls-parses-known-extension-payloads",
        verdict: Verdict::Equivalent(
            "OpenMLS parses the extension_data of the extension types it knows (application_id, ratchet_tree, required_capabilities, external_pub, external_senders, and last_resort 0x000A of the MLS extensions draft, whose payload is empty) while decoding the enclosing struct; the reference and mls-rs keep extension_data opaque and parse it when they use it. For RFC 9420's types the reference's own payload decoder refuses the same extension_data, so the message is refused either way; for last_resort, RFC 9420 asks an unknown extension to be ignored (RFC9420-10-11, RFC9420-12.4.3-1) only where it is unknown, and OpenMLS knows it.",
        ),
        matches: openmls_refuses_a_malformed_known_payload,
    },
    Triaged {
        class: "openmls-extension-placement",
        verdict: Verdict::Equivalent(
            "OpenMLS refuses, while decoding, a known extension in a message its IANA entry does not list it for (RFC 9420 section 17.3, column Messages: ratchet_tree in a GroupContext, required_capabilities in a GroupInfo); the reference decodes the list and leaves placement to validation.",
        ),
        matches: openmls_extension_not_allowed_here,
    },
    Triaged {
        class: "openmls-opaque-credentials",
        verdict: Verdict::Equivalent(
            "OpenMLS keeps a credential's content as one opaque<V> and leaves parsing it to the application's credential validation (RFC 9420 section 5.3.1); the reference and mls-rs parse an X.509 credential's certificate chain (section 5.3) and refuse one whose Certificates do not decode (a length running past the chain, a varint with the reserved prefix).",
        ),
        matches: openmls_accepts_a_bad_certificate,
    },
    Triaged {
        class: "duplicate-extensions-refused-while-decoding",
        verdict: Verdict::Equivalent(
            "An extension list with two extensions of one type (RFC 9420 section 13.4: MUST NOT) is refused by OpenMLS and mls-rs while decoding and by the reference when it validates (duplicate_extension_type); the bytes are well-formed.",
        ),
        matches: peer_refuses_duplicate_extensions,
    },
    Triaged {
        class: "openmls-unmerged-leaves-order-while-decoding",
        verdict: Verdict::Equivalent(
            "OpenMLS refuses, while decoding, a parent node whose unmerged_leaves are not sorted (RFC9420-7.1-1); the reference checks the same rule when it validates the tree (TreeValidationError::UnmergedLeavesNotSorted), so the tree is refused either way.",
        ),
        matches: openmls_unmerged_leaves_unsorted,
    },
    Triaged {
        class: "mls-rs-leaf-index-limit",
        verdict: Verdict::Equivalent(
            "mls-rs refuses, while decoding, a leaf index above 2^24 - 1 (its tree size limit; error Custom(6)); RFC 9420 encodes leaf indices as uint32 and such an index names no leaf of any group these decoders hold, so the Remove, GroupInfo signer or sender is refused by every implementation when validated (RFC9420-12.1.3-1). An implementation limit (RFC9420-2.1.2-3), not a conformance difference.",
        ),
        matches: mls_rs_leaf_index_out_of_range,
    },
    Triaged {
        class: "protocol-version-checked-after-decoding",
        verdict: Verdict::Equivalent(
            "The reference refuses, while decoding, an MLSMessage or GroupContext whose version is not mls10 (both structs fix `ProtocolVersion version = mls10`); mls-rs (MLSMessage) and OpenMLS (GroupContext) decode any value and check it when they process the message (mls-rs: UnsupportedProtocolVersion, ProtocolVersionMismatch).",
        ),
        matches: version_checked_at_another_step,
    },
    Triaged {
        class: "openmls-key-package-version-while-decoding",
        verdict: Verdict::Equivalent(
            "OpenMLS refuses, while decoding an MLSMessage, a KeyPackage whose version differs from the MLSMessage's; the reference and mls-rs decode it and refuse it when they validate the KeyPackage (RFC9420-10.1-3: the version must be the group's).",
        ),
        matches: openmls_key_package_version_mismatch,
    },
    Triaged {
        class: "ratchet-tree-shape-while-decoding",
        verdict: Verdict::Equivalent(
            "A ratchet_tree with no node, or whose last node is blank, is refused by the reference while decoding and by OpenMLS and mls-rs when they build the tree from it (RFC9420-12.4.3.3-2; the negative recipe ratchet-tree/trailing-blank-node confirms both peers refuse such a tree when joining).",
        ),
        matches: empty_tree,
    },
    Triaged {
        class: "proposal-types-beyond-rfc9420",
        verdict: Verdict::Equivalent(
            "RFC 9420 gives no wire form to a proposal type it does not define, and a proposal of an unsupported type makes the enclosing message rejected (section 13.5); the reference refuses it while decoding, OpenMLS and mls-rs read custom proposals in their own layouts (opaque<V>, or the extension drafts' types) and refuse them, if at all, later. mls-rs also decodes the reserved type 0 as a custom proposal that it then refuses to encode (Custom(2)).",
        ),
        matches: unknown_proposal_type,
    },
];

/// One decoder's answer that departs from the others': what a class explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The decoder refused bytes another accepted.
    Refused(Decoder),
    /// The decoder accepted bytes another refused.
    Accepted(Decoder),
    /// The decoder accepted the bytes but re-encodes them otherwise (or cannot).
    ReEncoded(Decoder),
}

/// The triaged class this disagreement belongs to, if any. An accept/reject split is
/// explained when a class explains every refusal, or else every acceptance (two decoders
/// may refuse for two triaged reasons); a panic never is.
pub fn triage(outcomes: &Outcomes, disagreement: &Disagreement) -> Option<&'static Triaged> {
    let find = |side: Side| TRIAGED.iter().find(|t| (t.matches)(outcomes, side));
    let all = |sides: Vec<Side>| -> Option<&'static Triaged> {
        let found: Option<Vec<&'static Triaged>> = sides.into_iter().map(find).collect();
        found.and_then(|classes| classes.first().copied())
    };
    match disagreement {
        Disagreement::Acceptance { accepted, rejected } => {
            all(rejected.iter().map(|d| Side::Refused(*d)).collect())
                .or_else(|| all(accepted.iter().map(|d| Side::Accepted(*d)).collect()))
        }
        Disagreement::ReEncoding { decoder } => find(Side::ReEncoded(*decoder)),
        Disagreement::Panic { .. } => None,
    }
}

fn rejected_by(outcomes: &Outcomes, decoder: Decoder) -> Option<&str> {
    match outcomes.of(decoder) {
        Outcome::Rejected(e) => Some(e),
        _ => None,
    }
}

/// `side` is a refusal by `decoder` whose error satisfies `error`.
fn refused_with(
    outcomes: &Outcomes,
    side: Side,
    decoder: Decoder,
    error: impl Fn(&str) -> bool,
) -> bool {
    side == Side::Refused(decoder) && rejected_by(outcomes, decoder).is_some_and(error)
}

fn openmls_unknown_value(outcomes: &Outcomes, side: Side) -> bool {
    let suites = cipher_suites(outcomes.wire_type, &outcomes.input);
    refused_with(outcomes, side, Decoder::OpenMls, |e| {
        e.strip_prefix("UnknownValue(")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|n| n.parse::<u16>().ok())
            .is_some_and(|n| !(1..=7).contains(&n) && suites.contains(&n))
    })
}

fn openmls_refuses_a_malformed_known_payload(outcomes: &Outcomes, side: Side) -> bool {
    side == Side::Refused(Decoder::OpenMls)
        && rejected_by(outcomes, Decoder::OpenMls).is_some()
        && extension_lists(outcomes.wire_type, &outcomes.input)
            .iter()
            .flatten()
            .any(known_payload_is_malformed)
}

fn openmls_extension_not_allowed_here(outcomes: &Outcomes, side: Side) -> bool {
    refused_with(outcomes, side, Decoder::OpenMls, |e| {
        e.contains("The provided extension list contains an extension of type")
            && e.contains("that is not allowed in the")
    })
}

fn openmls_accepts_a_bad_certificate(outcomes: &Outcomes, side: Side) -> bool {
    side == Side::Accepted(Decoder::OpenMls)
        && rejected_by(outcomes, Decoder::Reference).is_some()
        && has_unparsable_x509_chain(&outcomes.input)
}

/// Whether some X.509 credential in the bytes is well-framed for OpenMLS (credential_type
/// 2 and one opaque<V>) but its certificate chain does not decode with the reference's
/// `Credential` (section 5.3: `Certificate certificates<V>`).
fn has_unparsable_x509_chain(bytes: &[u8]) -> bool {
    use openmls::prelude::Credential as OpenMlsCredential;
    use openmls::prelude::tls_codec::{Deserialize, Size};
    (0..bytes.len().saturating_sub(2)).any(|at| {
        if bytes[at..at + 2] != [0, 2] {
            return false;
        }
        let mut rest = &bytes[at..];
        match OpenMlsCredential::tls_deserialize(&mut rest) {
            Ok(credential) => {
                let end = at + credential.tls_serialized_len();
                end <= bytes.len()
                    && concord_reference::messages::Credential::from_bytes(&bytes[at..end]).is_err()
            }
            Err(_) => false,
        }
    })
}

fn peer_refuses_duplicate_extensions(outcomes: &Outcomes, side: Side) -> bool {
    matches!(side, Side::Refused(Decoder::OpenMls | Decoder::MlsRs))
        && matches!(side, Side::Refused(d) if rejected_by(outcomes, d).is_some())
        && extension_lists(outcomes.wire_type, &outcomes.input)
            .iter()
            .any(|list| duplicate_extension_type(list).is_some())
}

fn openmls_unmerged_leaves_unsorted(outcomes: &Outcomes, side: Side) -> bool {
    refused_with(outcomes, side, Decoder::OpenMls, |e| {
        e.contains("Unmerged leaves not sorted")
    }) && trees(outcomes.wire_type, &outcomes.input)
        .iter()
        .any(|tree| {
            tree.0.iter().flatten().any(|node| match node {
                Node::Parent(parent) => parent
                    .unmerged_leaves
                    .windows(2)
                    .any(|pair| pair[0].0 >= pair[1].0),
                Node::Leaf(_) => false,
            })
        })
}

/// The ratchet trees in the bytes, as the reference decodes them: the input itself, or the
/// ratchet_tree extension of a GroupInfo.
fn trees(wire_type: WireType, bytes: &[u8]) -> Vec<RatchetTree> {
    let info = match wire_type {
        WireType::RatchetTree => return RatchetTree::from_bytes(bytes).into_iter().collect(),
        WireType::GroupInfo => GroupInfo::from_bytes(bytes).ok(),
        WireType::MlsMessage => match MlsMessage::from_bytes(bytes).map(|m| m.body) {
            Ok(MlsMessageBody::GroupInfo(info)) => Some(info),
            _ => None,
        },
        _ => None,
    };
    info.and_then(|info| {
        Extension::find::<RatchetTree>(&info.extensions)
            .ok()
            .flatten()
    })
    .into_iter()
    .collect()
}

fn mls_rs_leaf_index_out_of_range(outcomes: &Outcomes, side: Side) -> bool {
    refused_with(outcomes, side, Decoder::MlsRs, |e| {
        e == "mls codec error: 6"
    })
}

fn version_refused_by_the_reference(outcomes: &Outcomes) -> bool {
    rejected_by(outcomes, Decoder::Reference).is_some_and(|e| {
        (e.starts_with("MLSMessage.version:") || e.starts_with("GroupContext.version:"))
            && e.ends_with("is not allowed here")
    })
}

fn version_checked_at_another_step(outcomes: &Outcomes, side: Side) -> bool {
    version_refused_by_the_reference(outcomes)
        && match side {
            Side::Refused(decoder) => decoder == Decoder::Reference,
            Side::Accepted(decoder) => decoder != Decoder::Reference,
            Side::ReEncoded(_) => false,
        }
}

fn empty_tree(outcomes: &Outcomes, side: Side) -> bool {
    let refused = rejected_by(outcomes, Decoder::Reference).is_some_and(|e| {
        e == "ratchet_tree: the tree has no nodes"
            || e == "ratchet_tree: the last node is blank (section 12.4.3.3)"
    });
    refused
        && match side {
            Side::Refused(decoder) => decoder == Decoder::Reference,
            Side::Accepted(decoder) => decoder != Decoder::Reference,
            Side::ReEncoded(_) => false,
        }
}

fn openmls_key_package_version_mismatch(outcomes: &Outcomes, side: Side) -> bool {
    refused_with(outcomes, side, Decoder::OpenMls, |e| {
        e.contains("KeyPackage protocol version does not match MlsMessage version")
    })
}

fn unknown_proposal_type(outcomes: &Outcomes, side: Side) -> bool {
    let refused = rejected_by(outcomes, Decoder::Reference)
        .is_some_and(|e| e.starts_with("proposal_type (no wire form for unknown proposal types)"));
    refused
        && match side {
            Side::Refused(decoder) => decoder == Decoder::Reference,
            Side::Accepted(decoder) => decoder != Decoder::Reference,
            Side::ReEncoded(decoder) => {
                decoder == Decoder::MlsRs
                    && outcomes.of(Decoder::MlsRs)
                        == &Outcome::Accepted(Err("mls codec error: 2".into()))
            }
        }
}

/// The cipher suites the reference finds in the bytes (none if it cannot decode them).
fn cipher_suites(wire_type: WireType, bytes: &[u8]) -> Vec<u16> {
    let mut suites = Vec::new();
    let mut key_package = |kp: &KeyPackage| suites.push(kp.cipher_suite.0);
    match wire_type {
        WireType::KeyPackage => {
            if let Ok(kp) = KeyPackage::from_bytes(bytes) {
                key_package(&kp);
            }
        }
        WireType::Proposal => match Proposal::from_bytes(bytes) {
            Ok(Proposal::Add(add)) => key_package(&add.key_package),
            Ok(Proposal::ReInit(reinit)) => suites.push(reinit.cipher_suite.0),
            _ => {}
        },
        WireType::GroupInfo => {
            if let Ok(info) = GroupInfo::from_bytes(bytes) {
                suites.push(info.group_context.cipher_suite.0);
            }
        }
        WireType::Welcome => {
            if let Ok(welcome) = Welcome::from_bytes(bytes) {
                suites.push(welcome.cipher_suite.0);
            }
        }
        WireType::MlsMessage => match MlsMessage::from_bytes(bytes).map(|m| m.body) {
            Ok(MlsMessageBody::KeyPackage(kp)) => key_package(&kp),
            Ok(MlsMessageBody::GroupInfo(info)) => suites.push(info.group_context.cipher_suite.0),
            Ok(MlsMessageBody::Welcome(welcome)) => suites.push(welcome.cipher_suite.0),
            Ok(MlsMessageBody::PublicMessage(public)) => {
                let proposals: Vec<Proposal> = match public.content.body {
                    ContentBody::Proposal(proposal) => vec![proposal],
                    ContentBody::Commit(commit) => commit
                        .proposals
                        .into_iter()
                        .filter_map(|p| match p {
                            ProposalOrRef::Proposal(p) => Some(p),
                            ProposalOrRef::Reference(_) => None,
                        })
                        .collect(),
                    ContentBody::Application { .. } => Vec::new(),
                };
                for proposal in proposals {
                    match proposal {
                        Proposal::Add(add) => suites.push(add.key_package.cipher_suite.0),
                        Proposal::ReInit(reinit) => suites.push(reinit.cipher_suite.0),
                        _ => {}
                    }
                }
            }
            _ => {}
        },
        WireType::RatchetTree | WireType::LeafNode => {}
    }
    suites
}

/// Whether `extension` is of a type RFC 9420 defines (or last_resort, which OpenMLS knows)
/// and its payload does not decode with the reference's decoder for that type.
fn known_payload_is_malformed(extension: &Extension) -> bool {
    match extension.extension_type {
        ExtensionType(1) => extension.content::<ApplicationId>().is_err(),
        ExtensionType(2) => extension.content::<RatchetTree>().is_err(),
        ExtensionType(3) => extension.content::<RequiredCapabilities>().is_err(),
        ExtensionType(4) => extension.content::<ExternalPub>().is_err(),
        ExtensionType(5) => extension.content::<ExternalSenders>().is_err(),
        // last_resort (draft-ietf-mls-extensions): an empty payload.
        ExtensionType(10) => !extension.extension_data.0.is_empty(),
        _ => false,
    }
}

/// Every extension list in the bytes, as the reference decodes them (none if it does not).
pub fn extension_lists(wire_type: WireType, bytes: &[u8]) -> Vec<Vec<Extension>> {
    let mut lists = Vec::new();
    match wire_type {
        WireType::MlsMessage => {
            if let Ok(message) = MlsMessage::from_bytes(bytes) {
                message_lists(&message.body, &mut lists);
            }
        }
        WireType::KeyPackage => {
            if let Ok(key_package) = KeyPackage::from_bytes(bytes) {
                key_package_lists(&key_package, &mut lists);
            }
        }
        WireType::GroupInfo => {
            if let Ok(info) = GroupInfo::from_bytes(bytes) {
                group_info_lists(&info, &mut lists);
            }
        }
        WireType::RatchetTree => {
            if let Ok(tree) = RatchetTree::from_bytes(bytes) {
                tree_lists(&tree, &mut lists);
            }
        }
        WireType::LeafNode => {
            if let Ok(leaf) = LeafNode::from_bytes(bytes) {
                lists.push(leaf.extensions);
            }
        }
        WireType::Proposal => {
            if let Ok(proposal) = Proposal::from_bytes(bytes) {
                proposal_lists(&proposal, &mut lists);
            }
        }
        WireType::Welcome => {}
    }
    lists
}

fn message_lists(body: &MlsMessageBody, lists: &mut Vec<Vec<Extension>>) {
    match body {
        MlsMessageBody::KeyPackage(key_package) => key_package_lists(key_package, lists),
        MlsMessageBody::GroupInfo(info) => group_info_lists(info, lists),
        MlsMessageBody::PublicMessage(public) => match &public.content.body {
            ContentBody::Proposal(proposal) => proposal_lists(proposal, lists),
            ContentBody::Commit(commit) => {
                for proposal in &commit.proposals {
                    if let ProposalOrRef::Proposal(proposal) = proposal {
                        proposal_lists(proposal, lists);
                    }
                }
                if let Some(path) = &commit.path {
                    lists.push(path.leaf_node.extensions.clone());
                }
            }
            ContentBody::Application { .. } => {}
        },
        MlsMessageBody::Welcome(_) | MlsMessageBody::PrivateMessage(_) => {}
    }
}

fn key_package_lists(key_package: &KeyPackage, lists: &mut Vec<Vec<Extension>>) {
    lists.push(key_package.extensions.clone());
    lists.push(key_package.leaf_node.extensions.clone());
}

fn group_info_lists(info: &GroupInfo, lists: &mut Vec<Vec<Extension>>) {
    lists.push(info.extensions.clone());
    lists.push(info.group_context.extensions.clone());
    if let Ok(Some(tree)) = Extension::find::<RatchetTree>(&info.extensions) {
        tree_lists(&tree, lists);
    }
}

fn tree_lists(tree: &RatchetTree, lists: &mut Vec<Vec<Extension>>) {
    for node in tree.0.iter().flatten() {
        if let Node::Leaf(leaf) = node {
            lists.push(leaf.extensions.clone());
        }
    }
}

fn proposal_lists(proposal: &Proposal, lists: &mut Vec<Vec<Extension>>) {
    match proposal {
        Proposal::Add(add) => key_package_lists(&add.key_package, lists),
        Proposal::Update(update) => lists.push(update.leaf_node.extensions.clone()),
        Proposal::GroupContextExtensions(gce) => lists.push(gce.extensions.clone()),
        Proposal::ReInit(reinit) => lists.push(reinit.extensions.clone()),
        _ => {}
    }
}
