//! `tree-validation.json`: ratchet trees with the tree hash and resolution of every node
//! (RFC 9420 sections 4.1.1 and 7.8), each valid as a joiner checks it (7.9.2, 12.4.3.1).
//!
//! Per suite, fourteen trees (as many as upstream) built by real commits, adds, updates and
//! removes: full trees of 2 to 32 members, trees with blank leaves and blank parents,
//! unmerged leaves at one and at several levels, and a 64-leaf tree with an unmerged leaf
//! under the root.

use crate::vectors::tree_validation::Case;
use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::tree_math::{LeafIndex, NodeIndex};
use rand_chacha::ChaCha20Rng;

use super::group::Group;
use super::{random_secret, to_value};
use crate::vectors::{HexBytes, Mismatch};

/// One step after the initial populated group.
#[derive(Clone, Copy)]
enum Step {
    Add,
    Commit(u32),
    Update(u32),
    Remove(u32),
}

use Step::{Add, Commit, Remove, Update};

/// `(members, steps)`: a populated group of that many members, then the steps.
const SHAPES: &[(usize, &[Step])] = &[
    (2, &[]),
    (4, &[]),
    (8, &[]),
    (16, &[]),
    (32, &[]),
    (8, &[Remove(5)]),
    (5, &[]),
    (8, &[Remove(1), Remove(2), Remove(3)]),
    (8, &[Update(2)]),
    (7, &[Add]),
    (8, &[Remove(5), Remove(6), Commit(4), Add, Add]),
    (8, &[Add, Add, Commit(9), Add]),
    (8, &[Update(5), Add, Add]),
    (33, &[Add]),
];

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, (members, steps))| {
            let wrap =
                |m: Mismatch| Mismatch::new(format!("case {i}: tree ({})", m.field), m.detail);
            let group_id = random_secret(suite, rng);
            let mut group =
                Group::populated(suite, group_id.to_vec(), *members, false, rng).map_err(wrap)?;
            for step in *steps {
                match *step {
                    Add => group.add(rng).map(|_| ()),
                    Commit(leaf) => group.commit(LeafIndex(leaf), rng).map(drop),
                    Update(leaf) => group.update(LeafIndex(leaf), rng),
                    Remove(leaf) => group.remove(LeafIndex(leaf)),
                }
                .map_err(wrap)?;
            }
            let tree = &group.tree;
            let hashes = tree.tree_hashes(suite);
            let nodes = 0..tree.node_count();
            to_value(&Case {
                cipher_suite: suite.id().0,
                tree: HexBytes(tree.to_wire().to_bytes()),
                group_id,
                tree_hashes: nodes
                    .clone()
                    .map(|n| HexBytes(hashes.get(NodeIndex(n)).unwrap_or_default().to_vec()))
                    .collect(),
                resolutions: nodes
                    .map(|n| {
                        tree.resolution(NodeIndex(n))
                            .into_iter()
                            .map(|r| r.0)
                            .collect()
                    })
                    .collect(),
            })
        })
        .collect()
}
