//! `passive-client-welcome.json`: a client joins a group by Welcome (RFC 9420 section
//! 12.4.3.1) and must reach the epoch authenticator of the joined epoch; eight cases per
//! suite as upstream, with no epochs after the join.
//!
//! Each group is built with real keys ([`super::group`]): members join, commit
//! UpdatePaths, send Updates and are removed, so trees hold blank leaves, blank parents
//! and unmerged leaves. The joiner's KeyPackage leaf is added where an Add puts it, then
//! the committer either commits a path (the joiner gets the path secret of its common
//! ancestor with the committer) or not. The tree travels in the GroupInfo's
//! `ratchet_tree` extension (the case's `ratchet_tree` is null) or out of band; some
//! Welcomes inject external PSKs, some invite other clients too.

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::key_schedule;
use concord_reference::messages::{MlsMessage, MlsMessageBody};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use super::group::Group;
use super::joining::{Invitation, Joiner, external_psks, welcome};
use super::{below, random_secret, to_value};
use crate::vectors::{HexBytes, Mismatch};

#[derive(Serialize)]
struct ExternalPsk {
    psk_id: HexBytes,
    psk: HexBytes,
}

#[derive(Serialize)]
struct Case {
    cipher_suite: u16,
    external_psks: Vec<ExternalPsk>,
    key_package: HexBytes,
    signature_priv: HexBytes,
    encryption_priv: HexBytes,
    init_priv: HexBytes,
    welcome: HexBytes,
    ratchet_tree: Option<HexBytes>,
    initial_epoch_authenticator: HexBytes,
    epochs: Vec<serde_json::Value>,
}

/// How one case's group is made.
struct Shape {
    members: usize,
    /// Leaves that send an Update (their direct paths are blanked).
    updated: &'static [u32],
    /// Leaves removed (blank leaves, blank paths).
    removed: &'static [u32],
    committer: u32,
    tree_in_extension: bool,
    with_path: bool,
    psks: usize,
    /// Other clients the same Welcome invites (added before the case's joiner).
    others: usize,
}

const SHAPES: &[Shape] = &[
    shape(1, &[], &[], 0, true, false, 0, 0),
    shape(2, &[], &[], 1, false, true, 0, 0),
    shape(3, &[], &[], 2, true, true, 1, 0),
    shape(5, &[], &[1], 3, false, false, 1, 1),
    shape(8, &[6], &[2, 5], 0, true, true, 2, 1),
    shape(6, &[], &[0, 3], 5, false, true, 0, 0),
    shape(10, &[2], &[1, 4, 7], 9, true, false, 0, 2),
    shape(16, &[0, 14], &[3, 6, 10, 12], 7, false, true, 2, 0),
];

#[allow(clippy::too_many_arguments)] // a table row
const fn shape(
    members: usize,
    updated: &'static [u32],
    removed: &'static [u32],
    committer: u32,
    tree_in_extension: bool,
    with_path: bool,
    psks: usize,
    others: usize,
) -> Shape {
    Shape {
        members,
        updated,
        removed,
        committer,
        tree_in_extension,
        with_path,
        psks,
        others,
    }
}

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, shape)| {
            case(suite, shape, rng)
                .map_err(|m| Mismatch::new(format!("case {i}: {}", m.field), m.detail))
        })
        .collect()
}

fn case(
    suite: &Suite,
    shape: &Shape,
    rng: &mut ChaCha20Rng,
) -> Result<serde_json::Value, Mismatch> {
    let group_id = random_secret(suite, rng);
    let mut group = Group::populated(suite, group_id.to_vec(), shape.members, false, rng)?;
    for &leaf in shape.updated {
        group.update(LeafIndex(leaf), rng)?;
    }
    for &leaf in shape.removed {
        group.remove(LeafIndex(leaf))?;
    }
    let mut joiners = Vec::new();
    for _ in 0..=shape.others {
        let joiner = Joiner::new(suite, rng)?;
        group.add_leaf(joiner.leaf.clone())?;
        joiners.push(joiner);
    }
    let committer = LeafIndex(shape.committer);
    let commit_secret = if shape.with_path {
        group.commit(committer, rng)?.1
    } else {
        key_schedule::zero_secret(suite)
    };
    let psks = external_psks(suite, shape.psks, rng);
    let invitation = Invitation {
        committer,
        epoch: 1 + below(rng, 1 << 16),
        tree_in_extension: shape.tree_in_extension,
        with_path: shape.with_path,
        commit_secret,
        previous_init_secret: random_secret(suite, rng).0,
        confirmed_transcript_hash: random_secret(suite, rng).0,
        psks: &psks,
    };
    let invited: Vec<&Joiner> = joiners.iter().collect();
    let welcomed = welcome(&group, &invited, &invitation, rng)?;
    let Some(joiner) = joiners.last() else {
        return Err(Mismatch::new("joiner", "none"));
    };
    to_value(&Case {
        cipher_suite: suite.id().0,
        external_psks: psks
            .iter()
            .map(|p| ExternalPsk {
                psk_id: HexBytes(p.psk_id.clone()),
                psk: HexBytes(p.value.clone()),
            })
            .collect(),
        key_package: HexBytes(
            MlsMessage::new(MlsMessageBody::KeyPackage(joiner.key_package.clone())).to_bytes(),
        ),
        signature_priv: HexBytes(joiner.leaf.signature_private.clone()),
        encryption_priv: HexBytes(joiner.leaf.encryption_private.clone()),
        init_priv: HexBytes(joiner.init_private.clone()),
        welcome: HexBytes(MlsMessage::new(MlsMessageBody::Welcome(welcomed.welcome)).to_bytes()),
        ratchet_tree: (!shape.tree_in_extension).then(|| HexBytes(group.tree.to_wire().to_bytes())),
        initial_epoch_authenticator: HexBytes(welcomed.epoch_secrets.epoch_authenticator),
        epochs: Vec::new(),
    })
}
