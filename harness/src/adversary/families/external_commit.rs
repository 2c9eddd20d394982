//! `external-commit.json`: external commits as the members receive them (RFC 9420
//! sections 6.1, 12.2, 12.4.3.2). A new client joins from alice's GroupInfo; its commit
//! is edited and signed again with the joiner's key over the GroupInfo's context (an
//! external commit has no membership tag). The confirmation tag stays the unedited
//! commit's (flag `stale-confirmation-tag`): the list and path checks come first.

use concord_reference::framing;
use concord_reference::group::{ExternalJoin, Group, GroupConfig};
use concord_reference::messages::{
    Add, ExternalInit, Proposal, ProposalOrRef, PublicMessage, Remove, WireFormat,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{commit_mut, group_info, public, wrap_public};
use crate::adversary::world::{ALICE, CAROL, DAVE, ERIN, World, wire};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};

pub const FAMILY: Family = Family {
    name: "external-commit",
    description: "External commits received by a member (RFC 9420 sections 6.1, 12.2, 12.4.3.2): ExternalInit, allowed proposals, Removes, path, signature",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control-join",
        "a new client's external commit, unmodified",
        &["RFC9420-12.4.3.2-4"],
        Expect::Accept,
        control_join,
    ),
    recipe(
        "control-resync",
        "erin rejoins by external commit, removing her old leaf",
        &["RFC9420-12.2-20"],
        Expect::Accept,
        control_resync,
    ),
    recipe(
        "external-init-missing",
        "the ExternalInit proposal removed (re-signed)",
        &["RFC9420-12.2-18"],
        Expect::Reject(C::ExternalCommit),
        external_init_missing,
    ),
    recipe(
        "add-in-external-commit",
        "an Add proposal beside the ExternalInit (re-signed)",
        &["RFC9420-12.2-22"],
        Expect::Reject(C::ExternalCommit),
        add_in_external_commit,
    ),
    recipe(
        "proposal-by-reference",
        "a proposal by reference in an external commit (re-signed)",
        &["RFC9420-12.4.3.2-2"],
        Expect::Reject(C::ExternalCommit),
        proposal_by_reference,
    ),
    recipe(
        "removes-another-member",
        "a new client's external commit also removes dave (re-signed)",
        &["RFC9420-12.2-21", "RFC9420-12.2-20"],
        Expect::Reject(C::ExternalCommit),
        removes_another_member,
    ),
    recipe(
        "two-removes",
        "erin's resync removes her old leaf and carol's (re-signed)",
        &["RFC9420-12.2-19"],
        Expect::Reject(C::ExternalCommit),
        two_removes,
    ),
    recipe(
        "signature-flipped",
        "one bit of the external commit's signature flipped",
        &["RFC9420-12.4.3.2-3", "RFC9420-6.1-7"],
        Expect::Reject(C::Signature),
        signature_flipped,
    ),
    recipe(
        "signed-by-a-member",
        "the external commit signed with alice's key instead of the joiner's",
        &["RFC9420-12.4.3.2-3", "RFC9420-6.1-7"],
        Expect::Reject(C::Signature),
        signed_by_a_member,
    ),
    recipe(
        "path-absent",
        "the external commit's UpdatePath removed (re-signed)",
        &["RFC9420-12.4.3.2-1"],
        Expect::Reject(C::UpdatePath),
        path_absent,
    ),
];

struct Joined {
    join: ExternalJoin,
    signature_private: Vec<u8>,
    info: concord_reference::messages::GroupInfo,
}

fn join(
    world: &World,
    identity: &[u8],
    remove_prior: bool,
    rng: &mut ChaCha20Rng,
) -> Result<Joined, GenError> {
    let info = group_info(world)?;
    let signature_private = at("key", world.suite.signature_generate(rng))?.private;
    let join = at(
        "external join",
        Group::join_external(
            &info,
            None,
            identity,
            Some(&signature_private),
            remove_prior,
            &[],
            GroupConfig::default(),
            rng,
        ),
    )?;
    Ok(Joined {
        join,
        signature_private,
        info,
    })
}

fn control_join(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let joined = join(world, b"newcomer", false, rng)?;
    Ok(Draft::message(Level::None, wire(&joined.join.commit)))
}

fn control_resync(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let joined = join(world, b"erin", true, rng)?;
    Ok(Draft::message(Level::None, wire(&joined.join.commit)))
}

/// The joiner's commit edited, then signed with `signer` (the joiner's key if `None`).
fn edited(
    world: &World,
    identity: &[u8],
    remove_prior: bool,
    rng: &mut ChaCha20Rng,
    signer: Option<Vec<u8>>,
    edit: impl FnOnce(&mut PublicMessage) -> Result<(), GenError>,
) -> Result<Draft, GenError> {
    let joined = join(world, identity, remove_prior, rng)?;
    let mut message = public(&joined.join.commit)?;
    edit(&mut message)?;
    let key = signer.unwrap_or(joined.signature_private);
    let signed = at(
        "sign",
        framing::sign(
            &world.suite,
            &key,
            WireFormat::MLS_PUBLIC_MESSAGE,
            message.content.clone(),
            &joined.info.group_context,
        ),
    )?;
    message.auth.signature = signed.auth.signature;
    Ok(
        Draft::message(Level::Structure, wire(&wrap_public(message)))
            .flags(&["resigned", "stale-confirmation-tag"]),
    )
}

fn external_init_missing(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, b"newcomer", false, rng, None, |m| {
        commit_mut(m)?.proposals.retain(|p| {
            !matches!(
                p,
                ProposalOrRef::Proposal(Proposal::ExternalInit(ExternalInit { .. }))
            )
        });
        Ok(())
    })
}

fn add_in_external_commit(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (key_package, _) = world.outsider(b"friend", rng)?;
    edited(world, b"newcomer", false, rng, None, |m| {
        commit_mut(m)?
            .proposals
            .push(ProposalOrRef::Proposal(Proposal::Add(Add { key_package })));
        Ok(())
    })
}

fn proposal_by_reference(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    // carol's proposal is cached by the receiver, so the reference resolves.
    let mut carol = world.sender(CAROL)?;
    let (proposal, reference) = at(
        "propose",
        carol.group.propose_remove(LeafIndex(ERIN as u32), rng),
    )?;
    let draft = edited(world, b"newcomer", false, rng, None, |m| {
        commit_mut(m)?
            .proposals
            .push(ProposalOrRef::Reference(reference));
        Ok(())
    })?;
    Ok(draft.prior(vec![wire(&proposal)]))
}

fn remove(leaf: usize) -> ProposalOrRef {
    ProposalOrRef::Proposal(Proposal::Remove(Remove {
        removed: LeafIndex(leaf as u32),
    }))
}

fn removes_another_member(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, b"newcomer", false, rng, None, |m| {
        commit_mut(m)?.proposals.push(remove(DAVE));
        Ok(())
    })
}

fn two_removes(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, b"erin", true, rng, None, |m| {
        let commit = commit_mut(m)?;
        if !commit.proposals.contains(&remove(ERIN)) {
            return Err(GenError::new("resync", "erin's old leaf is not removed"));
        }
        commit.proposals.push(remove(CAROL));
        Ok(())
    })
}

fn signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let joined = join(world, b"newcomer", false, rng)?;
    let mut message = public(&joined.join.commit)?;
    crate::adversary::mutate::flip_in_place(&mut message.auth.signature.0);
    Ok(Draft::message(
        Level::Structure,
        wire(&wrap_public(message)),
    ))
}

fn signed_by_a_member(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let alice = world.sender(ALICE)?.signature_private;
    edited(world, b"newcomer", false, rng, Some(alice), |_| Ok(()))
}

fn path_absent(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, b"newcomer", false, rng, None, |m| {
        commit_mut(m)?.path = None;
        Ok(())
    })
}
