//! `tree-operations.json`: one Add, Update or Remove proposal applied to a ratchet tree
//! (RFC 9420 sections 12.1.1 to 12.1.3, extend and truncate of 7.7), five cases per suite
//! as upstream: an Add into a blank leaf, an Add that extends the tree, an Update, a
//! Remove in the middle and a Remove that truncates. Trees come from groups whose members
//! committed real UpdatePaths.

use crate::vectors::tree_operations::Case;
use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::messages::{Add, Proposal, Remove, Update};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::group::{Group, key_package, key_package_leaf};
use super::{random_secret, to_value, within};
use crate::vectors::{AtField, HexBytes, Mismatch};

/// What each case does: `(members, leaves removed first, operation)`.
enum Operation {
    Add,
    Update(u32),
    Remove(u32),
}

const CASES: [(usize, &[u32], Operation); 5] = [
    (8, &[3], Operation::Add),
    (4, &[], Operation::Add),
    (8, &[], Operation::Update(2)),
    (8, &[], Operation::Remove(5)),
    (5, &[], Operation::Remove(4)),
];

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    CASES
        .iter()
        .enumerate()
        .map(|(i, (members, removed, operation))| {
            let field = |name: &str| format!("case {i}: {name}");
            let group_id = random_secret(suite, rng).0;
            let mut group = Group::populated(suite, group_id, *members, false, rng)
                .map_err(|m| Mismatch::new(field("tree_before"), m.detail))?;
            for &leaf in *removed {
                group
                    .remove(LeafIndex(leaf))
                    .map_err(within(&field("tree_before")))?;
            }
            let before = group.tree.clone();
            let mut after = before.clone();
            let (proposal, sender) = match operation {
                Operation::Add => {
                    let leaf = key_package_leaf(suite, rng).map_err(within(&field("proposal")))?;
                    let (key_package, _) =
                        key_package(suite, &leaf, rng).map_err(within(&field("proposal")))?;
                    after
                        .add_leaf(key_package.leaf_node.clone())
                        .at(&field("tree_after"))?;
                    (Proposal::Add(Add { key_package }), LeafIndex(0))
                }
                Operation::Update(leaf) => {
                    let leaf = LeafIndex(*leaf);
                    let (leaf_node, _) = group
                        .update_leaf(leaf, rng)
                        .map_err(within(&field("proposal")))?;
                    after
                        .update_leaf(leaf, leaf_node.clone())
                        .at(&field("tree_after"))?;
                    (Proposal::Update(Update { leaf_node }), leaf)
                }
                Operation::Remove(leaf) => {
                    let removed = LeafIndex(*leaf);
                    after.remove_leaf(removed).at(&field("tree_after"))?;
                    (Proposal::Remove(Remove { removed }), LeafIndex(0))
                }
            };
            to_value(&Case {
                cipher_suite: suite.id().0,
                tree_before: HexBytes(before.to_wire().to_bytes()),
                proposal: HexBytes(proposal.to_bytes()),
                proposal_sender: sender.0,
                tree_after: HexBytes(after.to_wire().to_bytes()),
                tree_hash_before: HexBytes(before.tree_hash(suite)),
                tree_hash_after: HexBytes(after.tree_hash(suite)),
            })
        })
        .collect()
}
