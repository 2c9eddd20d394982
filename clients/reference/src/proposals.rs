//! Proposals for the reference adapter: the ones it sends, the ones it is handed by
//! reference, and the ones described by value (`ProposalDescription`).

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::group::{Group, GroupError, identity_of};
use concord_reference::messages::{
    Add, Extension, GroupContextExtensions, MlsMessage, MlsMessageBody, Node, PreSharedKey,
    PreSharedKeyId, Proposal, ProposalRef, Psk, RatchetTree as WireTree, ReInit, Remove,
    ResumptionPskUsage,
};
use concord_reference::tree_math::LeafIndex;

use super::{
    ClientError, ReferenceClient, decode_key_package, decode_message, decode_tree, extensions,
    refused, suite,
};
use concord_client::proto::{ExternalSignerProposalRequest, ProposalDescription, ProposalResponse};

/// The wire form of a proposal this member just sent.
pub(super) fn sent(
    method: &'static str,
    result: Result<(MlsMessage, ProposalRef), GroupError>,
) -> Result<ProposalResponse, ClientError> {
    let (message, _) = result.map_err(|e| refused(method, e))?;
    Ok(ProposalResponse {
        proposal: message.to_bytes(),
    })
}

/// The reference of a proposal message handed to a commit: one this member sent, or
/// one it receives now.
pub(super) fn reference_of(
    method: &'static str,
    group: &mut Group,
    bytes: &[u8],
) -> Result<ProposalRef, ClientError> {
    let message = decode_message(method, bytes)?;
    group
        .cache_proposal_message(&message)
        .map_err(|e| refused(method, e))
}

/// What a described proposal needs to know about the group it is for.
struct GroupView<'a> {
    group_id: &'a [u8],
    suite: CipherSuite,
    /// Leaf of the member with an identity, if any.
    member: &'a dyn Fn(&[u8]) -> Option<LeafIndex>,
}

fn fresh_nonce(
    suite: CipherSuite,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<Bytes, GroupError> {
    let mut nonce = vec![0u8; Suite::new(suite)?.hash_length()];
    rng.fill_bytes(&mut nonce);
    Ok(Bytes(nonce))
}

/// A `ProposalDescription` (the interface's by-value form) as a proposal for `view`.
fn describe(
    method: &'static str,
    view: &GroupView<'_>,
    description: &ProposalDescription,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<Proposal, ClientError> {
    let kind = String::from_utf8_lossy(&description.proposal_type);
    let nonce = |rng: &mut dyn rand_core::CryptoRng| {
        fresh_nonce(view.suite, rng).map_err(|e| refused(method, e))
    };
    Ok(match kind.as_ref() {
        "add" => Proposal::Add(Add {
            key_package: decode_key_package(method, &description.key_package)?,
        }),
        "remove" => Proposal::Remove(Remove {
            removed: (view.member)(&description.removed_id).ok_or_else(|| {
                refused(
                    method,
                    format!(
                        "no member with identity {}",
                        concord_reference::hex(&description.removed_id)
                    ),
                )
            })?,
        }),
        "externalPSK" => Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk: Psk::External {
                    psk_id: Bytes(description.psk_id.clone()),
                },
                psk_nonce: nonce(rng)?,
            },
        }),
        "resumptionPSK" => Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk: Psk::Resumption {
                    usage: ResumptionPskUsage::Application,
                    psk_group_id: Bytes(view.group_id.to_vec()),
                    psk_epoch: description.epoch_id,
                },
                psk_nonce: nonce(rng)?,
            },
        }),
        "groupContextExtensions" => Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: extensions(method, &description.extensions)?,
        }),
        "reinit" => Proposal::ReInit(ReInit {
            group_id: Bytes(description.group_id.clone()),
            version: concord_reference::messages::ProtocolVersion::MLS10,
            cipher_suite: suite(method, description.cipher_suite)?,
            extensions: extensions(method, &description.extensions)?,
        }),
        other => return Err(refused(method, format!("unknown proposal_type `{other}`"))),
    })
}

/// A described proposal for one of this client's groups.
pub(super) fn from_description(
    method: &'static str,
    group: &Group,
    description: &ProposalDescription,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<Proposal, ClientError> {
    let member = |identity: &[u8]| group.member_by_identity(identity);
    let view = GroupView {
        group_id: group.group_id(),
        suite: group.suite().id(),
        member: &member,
    };
    describe(method, &view, description, rng)
}

/// An external signer's proposal for the group a GroupInfo describes.
pub(super) fn external_signer_proposal(
    method: &'static str,
    client: &mut ReferenceClient,
    request: ExternalSignerProposalRequest,
) -> Result<ProposalResponse, ClientError> {
    let message = decode_message(method, &request.group_info)?;
    let MlsMessageBody::GroupInfo(group_info) = &message.body else {
        return Err(refused(method, "not an MLSMessage carrying a GroupInfo"));
    };
    let tree = match decode_tree(method, &request.ratchet_tree)? {
        Some(tree) => tree,
        None => Extension::find::<WireTree>(&group_info.extensions)
            .map_err(|e| refused(method, e))?
            .ok_or_else(|| refused(method, "no ratchet tree given or in the GroupInfo"))?,
    };
    let member = |identity: &[u8]| {
        tree.0
            .iter()
            .enumerate()
            .find_map(|(node, slot)| match slot {
                Some(Node::Leaf(leaf)) if identity_of(&leaf.credential) == identity => {
                    Some(LeafIndex(u32::try_from(node / 2).unwrap_or(u32::MAX)))
                }
                _ => None,
            })
    };
    let context = &group_info.group_context;
    let view = GroupView {
        group_id: context.group_id.as_slice(),
        suite: context.cipher_suite,
        member: &member,
    };
    let description = request
        .description
        .as_ref()
        .ok_or_else(|| refused(method, "missing proposal description"))?;
    let proposal = describe(method, &view, description, &mut client.rng)?;
    let signer = client
        .signers
        .get(&request.signer_id)
        .ok_or_else(|| refused(method, format!("no external signer {}", request.signer_id)))?;
    let message = signer
        .propose(context, request.signer_index, proposal)
        .map_err(|e| refused(method, e))?;
    Ok(ProposalResponse {
        proposal: message.to_bytes(),
    })
}
