//! `commit.json`: processing a Commit (RFC 9420 sections 7.5, 7.6, 7.9.2, 12.4.2): the
//! path requirement, proposal references, PSKs, and the UpdatePath (its leaf node,
//! parent hash, node keys and ciphertexts). Path edits are re-signed (leaf and content)
//! and re-tagged (membership tag); the confirmation tag then belongs to the unedited
//! commit (flag `stale-confirmation-tag`), so a receiver must run the path checks
//! before the tag check to report the targeted class.

use concord_reference::codec::Bytes;
use concord_reference::group::CommitOptions;
use concord_reference::messages::{
    ContentBody, LeafNodeSource, Lifetime, MlsMessage, PreSharedKey, PreSharedKeyId, Proposal,
    ProposalOrRef, ProposalRef, Psk, Remove, Sender, UpdatePath, WireFormat,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{commit_mut, public, resign_public, sign_leaf, wrap_public};
use crate::adversary::world::{ALICE, BLANK_LEAF, DAVE, ERIN, World, wire};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};

pub const FAMILY: Family = Family {
    name: "commit",
    description: "Commit processing: path requirement, proposal references, PSKs, UpdatePath leaf node, parent hash, keys and ciphertexts (RFC 9420 sections 7.5, 7.6, 7.9.2, 12.4.2)",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control-path",
        "alice's empty commit with an UpdatePath, unmodified",
        &["RFC9420-12.4.2-15"],
        Expect::Accept,
        control_path,
    ),
    recipe(
        "control-private",
        "alice's empty commit with an UpdatePath as a PrivateMessage, unmodified",
        &["RFC9420-12.4.2-4"],
        Expect::Accept,
        control_private,
    ),
    recipe(
        "control-psk",
        "alice's commit of a PreSharedKey proposal for the PSK every member holds",
        &["RFC9420-12.4.2-18"],
        Expect::Accept,
        control_psk,
    ),
    recipe(
        "empty-without-path",
        "a commit with no proposals and no path (confirmation tag as the committer derives it)",
        &["RFC9420-12.4.2-9"],
        Expect::Reject(C::UpdatePath),
        empty_without_path,
    ),
    recipe(
        "remove-without-path",
        "a commit removing erin without a path",
        &["RFC9420-12.4.2-9"],
        Expect::Reject(C::UpdatePath),
        remove_without_path,
    ),
    recipe(
        "unknown-proposal-reference",
        "a commit naming a ProposalRef no member sent",
        &["RFC9420-12.4.2-1"],
        Expect::Reject(C::ProposalList),
        unknown_proposal_reference,
    ),
    recipe(
        "unknown-psk",
        "a commit of a PreSharedKey proposal for an external PSK the receiver lacks",
        &["RFC9420-12.4.2-7"],
        Expect::Reject(C::Psk),
        unknown_psk,
    ),
    recipe(
        "path-leaf-source-update",
        "the UpdatePath leaf node has source update (re-signed)",
        &["RFC9420-7.3-15", "RFC9420-12.4.2-12"],
        Expect::Reject(C::LeafNode),
        path_leaf_source_update,
    ),
    recipe(
        "path-leaf-source-key-package",
        "the UpdatePath leaf node has source key_package (re-signed)",
        &["RFC9420-7.3-15", "RFC9420-12.4.2-12"],
        Expect::Reject(C::LeafNode),
        path_leaf_source_key_package,
    ),
    recipe(
        "path-leaf-signature-flipped",
        "one bit of the UpdatePath leaf node's signature flipped",
        &[
            "RFC9420-7.3-7",
            "RFC9420-12.4.2-12",
            "RFC9420-7.3-4",
            "RFC9420-7.5-3",
        ],
        Expect::Reject(C::LeafNode),
        path_leaf_signature_flipped,
    ),
    recipe(
        "path-leaf-parent-hash-wrong",
        "the UpdatePath leaf node's parent_hash changed (re-signed)",
        &["RFC9420-7.5-6", "RFC9420-7.9.2-1"],
        Expect::Reject(C::ParentHash),
        path_leaf_parent_hash_wrong,
    ),
    recipe(
        "path-node-key-replaced",
        "the first UpdatePath node's public key replaced by another valid key",
        &["RFC9420-7.9.2-1", "RFC9420-7.5-6"],
        Expect::Reject(C::ParentHash),
        path_node_key_replaced,
    ),
    recipe(
        "path-leaf-encryption-key-unchanged",
        "the UpdatePath leaf node keeps alice's current encryption key (re-signed)",
        &["RFC9420-12.4.2-13"],
        Expect::Reject(C::LeafNode),
        path_leaf_encryption_key_unchanged,
    ),
    recipe(
        "path-leaf-encryption-key-of-another-member",
        "the UpdatePath leaf node takes dave's encryption key (re-signed)",
        &["RFC9420-12.4.2-14", "RFC9420-12.2-17"],
        Expect::Reject(C::TreeValidation),
        path_leaf_encryption_key_of_dave,
    ),
    recipe(
        "path-too-short",
        "the UpdatePath lacks its last node",
        &["RFC9420-7.6-2"],
        Expect::Reject(C::UpdatePath),
        path_too_short,
    ),
    recipe(
        "path-ciphertext-missing",
        "the last UpdatePath node carries one ciphertext fewer than its resolution",
        &["RFC9420-7.6-4"],
        Expect::Reject(C::UpdatePath),
        path_ciphertext_missing,
    ),
    recipe(
        "path-ciphertexts-flipped",
        "every encrypted path secret has one bit flipped",
        &["RFC9420-12.4.2-15", "RFC9420-7.6-1"],
        Expect::Reject(C::UpdatePath),
        path_ciphertexts_flipped,
    ),
    recipe(
        "sender-blank-leaf",
        "a commit whose sender leaf is blank (signed by alice, tagged)",
        &["RFC9420-6.1-3"],
        Expect::Reject(C::Sender),
        sender_blank_leaf,
    ),
];

fn path_commit(world: &World, rng: &mut ChaCha20Rng) -> Result<MlsMessage, GenError> {
    let mut alice = world.sender(ALICE)?;
    Ok(at("commit", alice.group.commit(&CommitOptions::default(), rng))?.commit)
}

fn control_path(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::message(Level::None, wire(&path_commit(world, rng)?)))
}

fn control_private(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut alice = world.private_sender(ALICE)?;
    let output = at("commit", alice.group.commit(&CommitOptions::default(), rng))?;
    Ok(Draft::message(Level::None, wire(&output.commit)))
}

fn psk_proposal(psk_id: &[u8], rng: &mut ChaCha20Rng, suite_hash: usize) -> Proposal {
    use rand_core::Rng;
    let mut nonce = vec![0u8; suite_hash];
    rng.fill_bytes(&mut nonce);
    Proposal::PreSharedKey(PreSharedKey {
        psk: PreSharedKeyId {
            psk: Psk::External {
                psk_id: Bytes(psk_id.to_vec()),
            },
            psk_nonce: Bytes(nonce),
        },
    })
}

fn control_psk(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut alice = world.sender(ALICE)?;
    let options = CommitOptions {
        by_value: vec![psk_proposal(&world.psk_id, rng, world.suite.hash_length())],
        ..CommitOptions::default()
    };
    let output = at("commit", alice.group.commit(&options, rng))?;
    Ok(Draft::message(Level::None, wire(&output.commit)))
}

/// alice's forged no-path commit of `proposals` (all by value from alice).
pub(super) fn forged(
    world: &World,
    proposals: Vec<(ProposalOrRef, Proposal, Sender)>,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    forged_as(world, proposals, false, rng)
}

/// The same, with the UpdatePath the list requires (section 12.4), so that the list's
/// broken rule is the commit's only fault.
pub(super) fn forged_with_path(
    world: &World,
    proposals: Vec<(ProposalOrRef, Proposal, Sender)>,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    forged_as(world, proposals, true, rng)
}

fn forged_as(
    world: &World,
    proposals: Vec<(ProposalOrRef, Proposal, Sender)>,
    with_path: bool,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    let mut alice = world.sender(ALICE)?;
    let wire_format = WireFormat::MLS_PUBLIC_MESSAGE;
    let forged = at(
        "forge commit",
        if with_path {
            alice
                .group
                .forge_commit_with_path(proposals, wire_format, rng)
        } else {
            alice.group.forge_commit(proposals, wire_format, rng)
        },
    )?;
    let flags: &[&'static str] = if forged.confirmation_tag_valid {
        &["resigned", "remacced", "retagged"]
    } else {
        &["resigned", "remacced", "zero-confirmation-tag"]
    };
    Ok(Draft::message(Level::Structure, wire(&forged.message)).flags(flags))
}

/// An entry of a forged commit: `proposal` by value, from alice.
pub(super) fn by_value(proposal: Proposal) -> (ProposalOrRef, Proposal, Sender) {
    (
        ProposalOrRef::Proposal(proposal.clone()),
        proposal,
        Sender::Member {
            leaf_index: LeafIndex(ALICE as u32),
        },
    )
}

fn remove(leaf: u32) -> Proposal {
    Proposal::Remove(Remove {
        removed: LeafIndex(leaf),
    })
}

fn empty_without_path(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    forged(world, Vec::new(), rng)
}

fn remove_without_path(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    forged(world, vec![by_value(remove(ERIN as u32))], rng)
}

fn unknown_proposal_reference(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let reference = ProposalRef(Bytes(vec![0x5a; world.suite.hash_length()]));
    let proposal = remove(DAVE as u32);
    forged(
        world,
        vec![(
            ProposalOrRef::Reference(reference),
            proposal,
            Sender::Member {
                leaf_index: LeafIndex(ERIN as u32),
            },
        )],
        rng,
    )
}

fn unknown_psk(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let proposal = psk_proposal(b"a PSK nobody holds", rng, world.suite.hash_length());
    forged(world, vec![by_value(proposal)], rng)
}

/// alice's path commit with its UpdatePath edited, leaf re-signed (when `resign_leaf`),
/// content re-signed and re-tagged.
fn edited_path(
    world: &World,
    rng: &mut ChaCha20Rng,
    resign_leaf: bool,
    edit: impl FnOnce(&mut UpdatePath, &mut ChaCha20Rng) -> Result<(), GenError>,
) -> Result<Draft, GenError> {
    let alice = world.sender(ALICE)?;
    let mut message = public(&path_commit(world, rng)?)?;
    let commit = commit_mut(&mut message)?;
    let path = commit
        .path
        .as_mut()
        .ok_or_else(|| GenError::new("commit", "no path"))?;
    edit(path, rng)?;
    if resign_leaf {
        sign_leaf(
            &world.suite,
            &mut path.leaf_node,
            &alice.signature_private,
            alice.group.group_id(),
            LeafIndex(ALICE as u32),
        )?;
    }
    resign_public(&alice, &mut message)?;
    Ok(
        Draft::message(Level::Structure, wire(&wrap_public(message))).flags(&[
            "resigned",
            "remacced",
            "stale-confirmation-tag",
        ]),
    )
}

fn path_leaf_source_update(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_path(world, rng, true, |path, _| {
        path.leaf_node.leaf_node_source = LeafNodeSource::Update;
        Ok(())
    })
}

fn path_leaf_source_key_package(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_path(world, rng, true, |path, _| {
        path.leaf_node.leaf_node_source = LeafNodeSource::KeyPackage {
            lifetime: Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        };
        Ok(())
    })
}

fn path_leaf_signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_path(world, rng, false, |path, _| {
        crate::adversary::mutate::flip_in_place(&mut path.leaf_node.signature.0);
        Ok(())
    })
}

fn path_leaf_parent_hash_wrong(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_path(world, rng, true, |path, _| {
        match &mut path.leaf_node.leaf_node_source {
            LeafNodeSource::Commit { parent_hash } => {
                crate::adversary::mutate::flip_in_place(&mut parent_hash.0);
                Ok(())
            }
            _ => Err(GenError::new("path leaf", "source is not commit")),
        }
    })
}

fn path_node_key_replaced(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let suite = world.suite;
    edited_path(world, rng, true, |path, rng| {
        let fresh = at("key pair", suite.hpke_generate_key_pair(rng))?;
        let node = path
            .nodes
            .first_mut()
            .ok_or_else(|| GenError::new("path", "no nodes"))?;
        node.encryption_key.0 = Bytes(fresh.public);
        Ok(())
    })
}

/// The UpdatePath leaf node gets the encryption key of `member`'s current leaf.
fn path_leaf_key_of(
    world: &World,
    rng: &mut ChaCha20Rng,
    member: usize,
) -> Result<Draft, GenError> {
    let owner = world.sender(member)?;
    let key = owner
        .group
        .tree()
        .leaf(LeafIndex(member as u32))
        .map(|leaf| leaf.encryption_key.clone())
        .ok_or_else(|| GenError::new("tree", "the member's leaf is blank"))?;
    edited_path(world, rng, true, |path, _| {
        path.leaf_node.encryption_key = key;
        Ok(())
    })
}

fn path_leaf_encryption_key_unchanged(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    path_leaf_key_of(world, rng, ALICE)
}

fn path_leaf_encryption_key_of_dave(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    path_leaf_key_of(world, rng, DAVE)
}

fn path_too_short(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_path(world, rng, true, |path, _| {
        path.nodes
            .pop()
            .map(|_| ())
            .ok_or_else(|| GenError::new("path", "no nodes"))
    })
}

fn path_ciphertext_missing(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_path(world, rng, true, |path, _| {
        path.nodes
            .iter_mut()
            .rev()
            .find(|n| !n.encrypted_path_secret.is_empty())
            .and_then(|n| n.encrypted_path_secret.pop())
            .map(|_| ())
            .ok_or_else(|| GenError::new("path", "no ciphertexts"))
    })
}

fn path_ciphertexts_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_path(world, rng, true, |path, _| {
        for node in &mut path.nodes {
            for ciphertext in &mut node.encrypted_path_secret {
                crate::adversary::mutate::flip_in_place(&mut ciphertext.ciphertext.0);
            }
        }
        Ok(())
    })
}

fn sender_blank_leaf(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let alice = world.sender(ALICE)?;
    let mut message = public(&path_commit(world, rng)?)?;
    message.content.sender = Sender::Member {
        leaf_index: BLANK_LEAF,
    };
    if let ContentBody::Commit(commit) = &mut message.content.body {
        commit.path = None;
    }
    resign_public(&alice, &mut message)?;
    Ok(
        Draft::message(Level::Structure, wire(&wrap_public(message))).flags(&[
            "resigned",
            "remacced",
            "stale-confirmation-tag",
        ]),
    )
}
