//! `treekem.json`: UpdatePaths over a ratchet tree with every member's private state
//! (RFC 9420 sections 7.4 to 7.6, parent hashes of 7.9).
//!
//! Per suite, eleven trees as upstream: full groups of 2 to 8 members, groups with blank
//! leaves, and groups with unmerged leaves. Every member's keys and known path secrets are
//! listed; every member then commits an UpdatePath against the tree (each from the same
//! starting tree), and every other member's decrypted path secret and commit secret are
//! recorded. The provisional GroupContext has the case's group_id, epoch and confirmed
//! transcript hash, and the tree hash after the merge.

use crate::vectors::treekem::{Case, LeafPrivate, NodePathSecret, UpdatePathCase};
use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::messages::GroupContext;
use concord_reference::tree_math::LeafIndex;
use concord_reference::treekem;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use super::group::Group;
use super::{random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

#[derive(Clone, Copy)]
enum Step {
    Add,
    Commit(u32),
    Remove(u32),
}

use Step::{Add, Commit, Remove};

/// `(members, steps)`: a populated group of that many members, then the steps.
const SHAPES: &[(usize, &[Step])] = &[
    (2, &[]),
    (3, &[]),
    (4, &[]),
    (5, &[]),
    (6, &[]),
    (7, &[]),
    (8, &[]),
    (8, &[Remove(3)]),
    (8, &[Remove(1), Remove(2), Remove(3)]),
    (7, &[Add]),
    (8, &[Remove(5), Commit(4), Add, Remove(2)]),
];

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, (members, steps))| {
            let wrap = |m: Mismatch| Mismatch::new(format!("case {i}: {}", m.field), m.detail);
            let group_id = random_secret(suite, rng);
            let mut group =
                Group::populated(suite, group_id.to_vec(), *members, true, rng).map_err(wrap)?;
            for step in *steps {
                match *step {
                    Add => group.add(rng).map(|_| ()),
                    Commit(leaf) => group.commit(LeafIndex(leaf), rng).map(drop),
                    Remove(leaf) => group.remove(LeafIndex(leaf)),
                }
                .map_err(wrap)?;
            }
            case(&group, rng).map_err(wrap)
        })
        .collect()
}

fn case(group: &Group, rng: &mut ChaCha20Rng) -> Result<serde_json::Value, Mismatch> {
    let suite = &group.suite;
    let epoch = u64::from(rng.next_u32());
    let confirmed_transcript_hash = random_secret(suite, rng);
    let mut leaves_private = Vec::new();
    for member in &group.members {
        leaves_private.push(LeafPrivate {
            index: member.leaf.0,
            encryption_priv: HexBytes(member.encryption_private.clone()),
            signature_priv: HexBytes(member.signature_private.clone()),
            path_secrets: group
                .known_path_secrets(member)?
                .into_iter()
                .map(|(node, secret)| NodePathSecret {
                    node: node.0,
                    path_secret: HexBytes(secret),
                })
                .collect(),
        });
    }
    let mut update_paths = Vec::new();
    for sender in &group.members {
        let at = format!("update_paths (sender {})", sender.leaf.0);
        let template = group
            .tree
            .leaf(sender.leaf)
            .cloned()
            .ok_or_else(|| Mismatch::new(&at, "blank leaf"))?;
        let mut after = group.tree.clone();
        let prepared = treekem::prepare_update_path(
            suite,
            &mut after,
            sender.leaf,
            template,
            &sender.signature_private,
            &group.group_id,
            rng,
        )
        .at(&at)?;
        let tree_hash_after = after.tree_hash(suite);
        let context = GroupContext::new(
            suite.id(),
            group.group_id.clone(),
            epoch,
            tree_hash_after.clone(),
            confirmed_transcript_hash.to_vec(),
            Vec::new(),
        )
        .to_bytes();
        let path = prepared
            .encrypt(suite, &after, &context, &[], rng)
            .at(&at)?;
        let mut path_secrets = vec![None; group.tree.leaf_count() as usize];
        for receiver in group.members.iter().filter(|m| m.leaf != sender.leaf) {
            let secrets = treekem::decrypt_update_path(
                suite,
                &after,
                sender.leaf,
                receiver.leaf,
                &path,
                &group.private_keys(receiver)?,
                &context,
                &[],
            )
            .at(&format!("{at}, receiver {}", receiver.leaf.0))?;
            let first = secrets
                .nodes
                .first()
                .map(|(_, secret, _)| HexBytes(secret.clone()));
            if let Some(slot) = path_secrets.get_mut(receiver.leaf.0 as usize) {
                *slot = first;
            }
        }
        update_paths.push(UpdatePathCase {
            sender: sender.leaf.0,
            update_path: HexBytes(path.to_bytes()),
            path_secrets,
            commit_secret: HexBytes(prepared.secrets.commit_secret.clone()),
            tree_hash_after: HexBytes(tree_hash_after),
        });
    }
    to_value(&Case {
        cipher_suite: suite.id().0,
        group_id: HexBytes(group.group_id.clone()),
        epoch,
        confirmed_transcript_hash,
        ratchet_tree: HexBytes(group.tree.to_wire().to_bytes()),
        leaves_private,
        update_paths,
    })
}
