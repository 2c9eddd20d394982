//! `public-message.json`: PublicMessage framing (RFC 9420 sections 6, 6.1, 6.2, 12.1,
//! 12.4.2). The base input is carol's Remove proposal for erin, or alice's commit; each
//! case changes one field and signs and tags the rest honestly.

use concord_reference::codec::Bytes;
use concord_reference::group::{CommitOptions, ExternalSigner};
use concord_reference::messages::{
    ContentBody, Extension, ExternalSenders, GroupContext, GroupContextExtensions, MlsMessage,
    Proposal, Remove, Sender, WireFormat,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{content, public, wrap_public};
use crate::adversary::world::{ALICE, BLANK_LEAF, CAROL, DAVE, ERIN, World, wire};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};

pub const FAMILY: Family = Family {
    name: "public-message",
    description: "PublicMessage framing: membership tag, signature, epoch, group, sender and content type checks (RFC 9420 sections 6, 6.1, 6.2, 12.1, 12.4.2)",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control-proposal",
        "carol's Remove proposal for erin, unmodified",
        &["RFC9420-6.2-1", "RFC9420-6.1-1"],
        Expect::Accept,
        control_proposal,
    ),
    recipe(
        "membership-tag-flipped",
        "one bit of the membership tag flipped",
        &["RFC9420-6.2-1"],
        Expect::Reject(C::MembershipTag),
        membership_tag_flipped,
    ),
    recipe(
        "signature-flipped",
        "one bit of the signature flipped, membership tag recomputed",
        &["RFC9420-6.1-1", "RFC9420-6.2-2", "RFC9420-12.1-1"],
        Expect::Reject(C::Signature),
        signature_flipped,
    ),
    recipe(
        "signed-by-another-member",
        "content naming carol as sender signed with dave's key (membership tag valid)",
        &["RFC9420-6.1-3", "RFC9420-6.1-2"],
        Expect::Reject(C::Signature),
        signed_by_another_member,
    ),
    recipe(
        "epoch-ahead",
        "the proposal claims the next epoch (re-signed, re-tagged)",
        &["RFC9420-12.1-2"],
        Expect::Reject(C::Epoch),
        epoch_ahead,
    ),
    recipe(
        "epoch-behind",
        "the proposal claims the previous epoch (re-signed, re-tagged)",
        &["RFC9420-12.1-2"],
        Expect::Reject(C::Epoch),
        epoch_behind,
    ),
    recipe(
        "group-id-other",
        "the proposal names another group (re-signed, re-tagged)",
        &["RFC9420-12.1-2", "RFC9420-12.4.2-1"],
        Expect::Reject(C::GroupId),
        group_id_other,
    ),
    recipe(
        "sender-blank-leaf",
        "the sender leaf index names a blank leaf inside the tree (signed by carol)",
        &["RFC9420-6.1-3"],
        Expect::Reject(C::Sender),
        sender_blank_leaf,
    ),
    recipe(
        "sender-outside-tree",
        "the sender leaf index is beyond the tree (signed by carol)",
        &["RFC9420-6.1-3"],
        Expect::Reject(C::Sender),
        sender_outside_tree,
    ),
    recipe(
        "application-in-public-message",
        "application data framed as a PublicMessage, signed and tagged",
        &["RFC9420-6-1"],
        Expect::Reject(C::ContentType),
        application_in_public,
    ),
    recipe(
        "external-sender-not-listed",
        "a Remove from external sender 0 in a group without an external_senders extension",
        &["RFC9420-12.1.8-1", "RFC9420-6.1-4"],
        Expect::Reject(C::Sender),
        external_sender_not_listed,
    ),
    recipe(
        "control-external-proposal",
        "after carol's commit listing a hub in external_senders, the hub's Remove for erin",
        &["RFC9420-12.1.8-1", "RFC9420-6.1-4"],
        Expect::Accept,
        control_external_proposal,
    ),
    recipe(
        "external-sender-wrong-key",
        "after carol's commit listing a hub in external_senders, a Remove from external sender 0 signed with another key",
        &["RFC9420-6.1-4", "RFC9420-12.1.8-2", "MIMI-PROTOCOL-7.4-1"],
        Expect::Reject(C::Signature),
        external_sender_wrong_key,
    ),
    recipe(
        "external-sender-index-beyond-list",
        "after carol's commit listing a hub alone in external_senders, the hub's Remove naming external sender 1",
        &[
            "RFC9420-12.1.8-1",
            "RFC9420-12.1.8-2",
            "MIMI-PROTOCOL-7.4-1",
        ],
        Expect::Reject(C::Sender),
        external_sender_index_beyond_list,
    ),
    recipe(
        "external-sender-only-proposed",
        "after carol's proposal (not yet committed) listing a hub in external_senders, the hub's Remove for erin in the same epoch",
        &["RFC9420-12.1.8-1", "MIMI-PROTOCOL-7.4-6"],
        Expect::Reject(C::Sender),
        external_sender_only_proposed,
    ),
    recipe(
        "new-member-proposal-not-add",
        "a new_member_proposal sender proposing a Remove",
        &["RFC9420-6.1-11"],
        Expect::Reject(C::Sender),
        new_member_proposal_not_add,
    ),
    recipe(
        "control-commit",
        "alice's commit adding an outsider, unmodified",
        &["RFC9420-12.4.2-1"],
        Expect::Accept,
        control_commit,
    ),
    recipe(
        "commit-confirmation-tag-flipped",
        "alice's commit with one bit of the confirmation tag flipped, membership tag recomputed",
        &["RFC9420-12.4.2-20"],
        Expect::Reject(C::ConfirmationTag),
        commit_confirmation_tag_flipped,
    ),
    recipe(
        "commit-membership-tag-flipped",
        "alice's commit with one bit of the membership tag flipped",
        &["RFC9420-12.4.2-3"],
        Expect::Reject(C::MembershipTag),
        commit_membership_tag_flipped,
    ),
    recipe(
        "commit-signature-flipped",
        "alice's commit with one bit of the signature flipped, membership tag recomputed",
        &["RFC9420-12.4.2-5"],
        Expect::Reject(C::Signature),
        commit_signature_flipped,
    ),
    recipe(
        "commit-replayed",
        "alice's commit, processed, then delivered again in the epoch it started",
        &["RFC9420-12.4.2-2"],
        Expect::Reject(C::Epoch),
        commit_replayed,
    ),
];

fn remove_erin() -> ContentBody {
    ContentBody::Proposal(Proposal::Remove(Remove {
        removed: LeafIndex(ERIN as u32),
    }))
}

fn proposal(world: &World, rng: &mut ChaCha20Rng) -> Result<MlsMessage, GenError> {
    let mut carol = world.sender(CAROL)?;
    let (message, _) = at(
        "propose",
        carol.group.propose_remove(LeafIndex(ERIN as u32), rng),
    )?;
    Ok(message)
}

/// carol frames `edit`ed content of her Remove proposal.
fn edited(
    world: &World,
    rng: &mut ChaCha20Rng,
    edit: impl FnOnce(&mut concord_reference::messages::FramedContent),
) -> Result<Vec<u8>, GenError> {
    let mut carol = world.sender(CAROL)?;
    let mut framed = content(&carol, remove_erin());
    edit(&mut framed);
    let message = at(
        "frame",
        carol
            .group
            .frame_forged(framed, WireFormat::MLS_PUBLIC_MESSAGE, None, rng),
    )?;
    Ok(wire(&message))
}

fn control_proposal(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::message(Level::None, wire(&proposal(world, rng)?)))
}

fn membership_tag_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut message = public(&proposal(world, rng)?)?;
    if let Some(tag) = message.membership_tag.as_mut() {
        crate::adversary::mutate::flip_in_place(&mut tag.0);
    }
    Ok(Draft::message(
        Level::Structure,
        wire(&wrap_public(message)),
    ))
}

fn signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let carol = world.sender(CAROL)?;
    let mut message = public(&proposal(world, rng)?)?;
    crate::adversary::mutate::flip_in_place(&mut message.auth.signature.0);
    carol.group.remac(&mut message);
    Ok(Draft::message(Level::Structure, wire(&wrap_public(message))).flags(&["remacced"]))
}

fn signed_by_another_member(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let carol = world.sender(CAROL)?;
    let mut dave = world.sender(DAVE)?;
    let framed = content(&carol, remove_erin());
    let message = at(
        "frame",
        dave.group
            .frame_forged(framed, WireFormat::MLS_PUBLIC_MESSAGE, None, rng),
    )?;
    Ok(Draft::message(Level::Structure, wire(&message)).flags(&["resigned", "remacced"]))
}

fn epoch_ahead(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| c.epoch += 1)?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "remacced"]))
}

fn epoch_behind(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| c.epoch -= 1)?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "remacced"]))
}

fn group_id_other(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| {
        c.group_id = Bytes(b"another group".to_vec())
    })?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "remacced"]))
}

fn sender_blank_leaf(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| {
        c.sender = Sender::Member {
            leaf_index: BLANK_LEAF,
        }
    })?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "remacced"]))
}

fn sender_outside_tree(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| {
        c.sender = Sender::Member {
            leaf_index: LeafIndex(40),
        }
    })?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "remacced"]))
}

fn application_in_public(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| {
        c.body = ContentBody::Application {
            application_data: Bytes(b"not for a PublicMessage".to_vec()),
        }
    })?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "remacced"]))
}

fn external_sender_not_listed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| {
        c.sender = Sender::External { sender_index: 0 }
    })?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned"]))
}

/// carol's commit of a GroupContextExtensions proposal listing a hub (a fresh signer) in
/// `external_senders`, the GroupContext it leads to, and the hub.
fn with_external_sender(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<(MlsMessage, GroupContext, ExternalSigner), GenError> {
    let mut carol = world.sender(CAROL)?;
    let hub = at(
        "hub signer",
        ExternalSigner::new(world.suite.id(), b"hub.example", rng),
    )?;
    let mut extensions = carol.group.group_context().extensions.clone();
    extensions.push(Extension::from_content(&ExternalSenders(vec![
        hub.sender.clone(),
    ])));
    let options = CommitOptions {
        by_value: vec![Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions,
        })],
        ..CommitOptions::default()
    };
    let commit = at("external_senders commit", carol.group.commit(&options, rng))?.commit;
    at("merge", carol.group.merge_pending_commit())?;
    Ok((commit, carol.group.group_context().clone(), hub))
}

/// `signer`'s Remove for erin as external sender `sender_index`, after carol's commit
/// listing the hub (the prior message).
fn external_remove(
    listing: MlsMessage,
    context: &GroupContext,
    signer: &ExternalSigner,
    sender_index: u32,
) -> Result<(Vec<u8>, Vec<Vec<u8>>), GenError> {
    let proposal = at(
        "external proposal",
        signer.propose(
            context,
            sender_index,
            Proposal::Remove(Remove {
                removed: LeafIndex(ERIN as u32),
            }),
        ),
    )?;
    Ok((wire(&proposal), vec![wire(&listing)]))
}

fn control_external_proposal(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (listing, context, hub) = with_external_sender(world, rng)?;
    let (input, prior) = external_remove(listing, &context, &hub, 0)?;
    Ok(Draft::message(Level::None, input).prior(prior))
}

fn external_sender_wrong_key(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (listing, context, _) = with_external_sender(world, rng)?;
    let impostor = at(
        "impostor signer",
        ExternalSigner::new(world.suite.id(), b"hub.example", rng),
    )?;
    let (input, prior) = external_remove(listing, &context, &impostor, 0)?;
    Ok(Draft::message(Level::Structure, input)
        .prior(prior)
        .flags(&["resigned"]))
}

fn external_sender_index_beyond_list(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    let (listing, context, hub) = with_external_sender(world, rng)?;
    let (input, prior) = external_remove(listing, &context, &hub, 1)?;
    Ok(Draft::message(Level::Structure, input).prior(prior))
}

fn external_sender_only_proposed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut carol = world.sender(CAROL)?;
    let hub = at(
        "hub signer",
        ExternalSigner::new(world.suite.id(), b"hub.example", rng),
    )?;
    let (listing, _, index) = at(
        "external_senders proposal",
        carol
            .group
            .propose_add_external_sender(hub.sender.clone(), rng),
    )?;
    let context = carol.group.group_context().clone();
    let (input, _) = external_remove(listing.clone(), &context, &hub, index)?;
    Ok(Draft::message(Level::Structure, input).prior(vec![wire(&listing)]))
}

fn new_member_proposal_not_add(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited(world, rng, |c| c.sender = Sender::NewMemberProposal)?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned"]))
}

/// alice's commit adding an outsider by value (no path).
pub(super) fn add_commit(world: &World, rng: &mut ChaCha20Rng) -> Result<MlsMessage, GenError> {
    let mut alice = world.sender(ALICE)?;
    let (key_package, _) = world.outsider(b"outsider", rng)?;
    let options = CommitOptions {
        by_value: vec![Proposal::Add(concord_reference::messages::Add {
            key_package,
        })],
        ..CommitOptions::default()
    };
    Ok(at("commit", alice.group.commit(&options, rng))?.commit)
}

fn control_commit(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::message(Level::None, wire(&add_commit(world, rng)?)))
}

fn commit_confirmation_tag_flipped(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    let alice = world.sender(ALICE)?;
    let mut message = public(&add_commit(world, rng)?)?;
    if let Some(tag) = message.auth.confirmation_tag.as_mut() {
        crate::adversary::mutate::flip_in_place(&mut tag.0);
    }
    alice.group.remac(&mut message);
    Ok(Draft::message(Level::Structure, wire(&wrap_public(message))).flags(&["remacced"]))
}

fn commit_membership_tag_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut message = public(&add_commit(world, rng)?)?;
    if let Some(tag) = message.membership_tag.as_mut() {
        crate::adversary::mutate::flip_in_place(&mut tag.0);
    }
    Ok(Draft::message(
        Level::Structure,
        wire(&wrap_public(message)),
    ))
}

fn commit_signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let alice = world.sender(ALICE)?;
    let mut message = public(&add_commit(world, rng)?)?;
    crate::adversary::mutate::flip_in_place(&mut message.auth.signature.0);
    alice.group.remac(&mut message);
    Ok(Draft::message(Level::Structure, wire(&wrap_public(message))).flags(&["remacced"]))
}

fn commit_replayed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let commit = wire(&add_commit(world, rng)?);
    Ok(Draft::message(Level::Bytes, commit.clone())
        .prior(vec![commit])
        .flags(&["replay"]))
}
