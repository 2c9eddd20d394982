//! A joiner's checks of a received ratchet tree (RFC 9420 section 12.4.3.1, "Verify the
//! integrity of the ratchet tree"), with the tree-wide parts of leaf node validation
//! (section 7.3).
//!
//! ```text
//! * Verify that the tree hash of the ratchet tree matches the tree_hash field
//!   in GroupInfo.
//! * For each non-empty parent node, verify that it is "parent-hash valid".
//! * For each non-empty leaf node, validate the LeafNode as described in 7.3.
//! * For each non-empty parent node and each entry in the node's unmerged_leaves:
//!   * Verify that the entry represents a non-blank leaf node that is a
//!     descendant of the parent node.
//!   * Verify that every non-blank intermediate node between the leaf node and the
//!     parent node also has an entry for the leaf node in its unmerged_leaves.
//!   * Verify that the encryption key in the parent node does not appear in any
//!     other node of the tree.
//! ```
//!
//! Checks that need the group's policy (credential validation, lifetimes against a
//! clock, required capabilities) are the caller's: this module has no clock.

use std::collections::BTreeMap;

use super::{ParentHashError, RatchetTree};
use crate::crypto::Suite;
use crate::messages::{LeafNode, Node};
use crate::tree_math::{self, LeafIndex, NodeIndex};

/// Why a received tree is rejected; each variant names the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeValidationError {
    /// Section 12.4.3.1: "Verify that the tree hash of the ratchet tree matches the
    /// `tree_hash` field in GroupInfo."
    #[error("the tree hash does not match the group context's tree_hash")]
    TreeHashMismatch,
    /// Section 7.9.2: every non-blank parent node is parent-hash valid.
    #[error(transparent)]
    ParentHash(#[from] ParentHashError),
    /// Section 7.3: "Verify that the signature on the LeafNode is valid using
    /// `signature_key`" (LeafNodeTBS with group_id and leaf index for `update` and
    /// `commit` leaves).
    /// RFC9420-7.3-2: a leaf of source key_package is used outside its lifetime.
    #[error("leaf {leaf} is valid from {not_before} to {not_after}, not at {now}")]
    LifetimeNotValid {
        leaf: u32,
        not_before: u64,
        not_after: u64,
        now: u64,
    },
    /// No single moment lies within the lifetime of every key_package leaf, so no
    /// verifier clock could accept the tree as a whole.
    #[error("the lifetimes of the tree's leaves have no moment in common")]
    LifetimesDisjoint,
    #[error("the signature of leaf {0} does not verify")]
    LeafSignature(u32),
    /// Section 7.3: "Verify that the extensions in the LeafNode are supported by checking
    /// that the ID for each extension in the `extensions` field is listed in the
    /// `capabilities.extensions` field of the LeafNode."
    #[error("leaf {leaf} carries extension type {extension_type} its capabilities do not list")]
    LeafExtensionNotInCapabilities { leaf: u32, extension_type: u16 },
    /// RFC9420-7.2-1: the leaf lists a default extension or proposal type in its
    /// capabilities.
    #[error("leaf {leaf} lists the default {what} {code} in its capabilities")]
    DefaultTypeListed {
        leaf: u32,
        what: &'static str,
        code: u16,
    },
    /// Section 7.3: `signature_key` is unique among the members of the group.
    #[error("leaves {first} and {second} share a signature key")]
    DuplicateSignatureKey { first: u32, second: u32 },
    /// Sections 7.3 and 12.4.3.1: an encryption key appears in no other node of the tree.
    #[error("nodes {first} and {second} share an encryption key")]
    DuplicateEncryptionKey { first: u32, second: u32 },
    /// Section 7.1: "The entries in the `unmerged_leaves` vector MUST be sorted in
    /// increasing order" (and so hold no duplicates).
    #[error("the unmerged_leaves of node {0} are not strictly increasing")]
    UnmergedLeavesNotSorted(u32),
    /// Section 12.4.3.1: an unmerged leaf "represents a non-blank leaf node that is a
    /// descendant of the parent node".
    #[error("node {parent} lists leaf {leaf} as unmerged, but it is not a non-blank descendant")]
    UnmergedLeafNotDescendant { parent: u32, leaf: u32 },
    /// Section 12.4.3.1: "every non-blank intermediate node between the leaf node and the
    /// parent node also has an entry for the leaf node in its `unmerged_leaves`".
    #[error("leaf {leaf} is unmerged at node {parent} but not at node {intermediate} below it")]
    UnmergedLeafMissingBelow {
        parent: u32,
        intermediate: u32,
        leaf: u32,
    },
}

/// Runs every check of section 12.4.3.1 on a received tree. `tree_hash` is the
/// GroupContext's; `group_id` is what `update` and `commit` leaves are signed with.
pub fn validate_tree(
    suite: &Suite,
    tree: &RatchetTree,
    group_id: &[u8],
    tree_hash: &[u8],
) -> Result<(), TreeValidationError> {
    if tree.tree_hash(suite) != tree_hash {
        return Err(TreeValidationError::TreeHashMismatch);
    }
    tree.verify_parent_hashes(suite)?;
    check_leaves(suite, tree, group_id)?;
    check_unmerged_leaves(tree)?;
    check_unique_encryption_keys(tree)
}

/// Section 7.3, the checks that need no policy: signature, extensions listed in
/// capabilities, unique signature keys.
pub fn check_leaves(
    suite: &Suite,
    tree: &RatchetTree,
    group_id: &[u8],
) -> Result<(), TreeValidationError> {
    let leaves: Vec<(LeafIndex, &LeafNode)> = tree.leaves().collect();
    let signatures = verify_leaf_signatures(suite, &leaves, group_id);
    let mut signature_keys: BTreeMap<&[u8], u32> = BTreeMap::new();
    for ((leaf, node), signature) in leaves.iter().copied().zip(signatures) {
        signature?;
        if let Some(ext) = node
            .extensions
            .iter()
            .find(|e| !node.capabilities.extensions.contains(&e.extension_type))
        {
            return Err(TreeValidationError::LeafExtensionNotInCapabilities {
                leaf: leaf.0,
                extension_type: ext.extension_type.0,
            });
        }
        if let Some((what, code)) = node.capabilities.listed_default() {
            return Err(TreeValidationError::DefaultTypeListed {
                leaf: leaf.0,
                what,
                code,
            });
        }
        if let Some(&first) = signature_keys.get(node.signature_key.as_slice()) {
            return Err(TreeValidationError::DuplicateSignatureKey {
                first,
                second: leaf.0,
            });
        }
        signature_keys.insert(node.signature_key.as_slice(), leaf.0);
    }
    Ok(())
}

/// Below this many leaves per core, spreading the signatures over threads costs more
/// than it saves.
const LEAVES_PER_THREAD: usize = 32;

/// Every leaf's signature check, in leaf order. Each leaf is verified on its own
/// (section 7.3), so the checks are spread over the available cores; the caller reads
/// the results in order and so reports the same first failure a single pass would.
fn verify_leaf_signatures(
    suite: &Suite,
    leaves: &[(LeafIndex, &LeafNode)],
    group_id: &[u8],
) -> Vec<Result<(), TreeValidationError>> {
    let verify_all = |part: &[(LeafIndex, &LeafNode)]| -> Vec<Result<(), TreeValidationError>> {
        part.iter()
            .map(|&(leaf, node)| verify_leaf_signature(suite, node, group_id, leaf))
            .collect()
    };
    let threads = crate::parallel::cores().min(leaves.len() / LEAVES_PER_THREAD);
    crate::parallel::map_in_order(leaves, threads, verify_all)
}

/// `VerifyWithLabel(signature_key, "LeafNodeTBS", LeafNodeTBS, signature)` for the leaf
/// at `leaf` (section 7.2).
pub fn verify_leaf_signature(
    suite: &Suite,
    node: &LeafNode,
    group_id: &[u8],
    leaf: LeafIndex,
) -> Result<(), TreeValidationError> {
    suite
        .verify_with_label(
            node.signature_key.as_slice(),
            LeafNode::SIGNATURE_LABEL,
            &node.tbs_bytes(group_id, leaf),
            node.signature.as_slice(),
        )
        .map_err(|_| TreeValidationError::LeafSignature(leaf.0))
}

/// Section 12.4.3.1's conditions on each `unmerged_leaves` entry, and section 7.1's
/// ordering.
pub fn check_unmerged_leaves(tree: &RatchetTree) -> Result<(), TreeValidationError> {
    for (index, node) in tree.nodes() {
        let Some(Node::Parent(p)) = node else {
            continue;
        };
        if p.unmerged_leaves
            .windows(2)
            .any(|w| matches!(w, [a, b] if a >= b))
        {
            return Err(TreeValidationError::UnmergedLeavesNotSorted(index.0));
        }
        for &leaf in &p.unmerged_leaves {
            let leaf_node = leaf.0.checked_mul(2).map(NodeIndex);
            let valid = leaf_node.is_some_and(|n| {
                tree_math::is_ancestor_or_self(index, n) && tree.leaf(leaf).is_some()
            });
            if !valid {
                return Err(TreeValidationError::UnmergedLeafNotDescendant {
                    parent: index.0,
                    leaf: leaf.0,
                });
            };
            for between in tree.direct_path(leaf) {
                if between == index {
                    break;
                }
                if let Some(q) = tree.parent_node(between)
                    && !q.unmerged_leaves.contains(&leaf)
                {
                    return Err(TreeValidationError::UnmergedLeafMissingBelow {
                        parent: index.0,
                        intermediate: between.0,
                        leaf: leaf.0,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Sections 7.3 and 12.4.3.1: no HPKE public key appears in two nodes.
pub fn check_unique_encryption_keys(tree: &RatchetTree) -> Result<(), TreeValidationError> {
    let mut seen: BTreeMap<&[u8], u32> = BTreeMap::new();
    for (index, node) in tree.nodes() {
        let key = match node {
            Some(Node::Leaf(l)) => l.encryption_key.as_slice(),
            Some(Node::Parent(p)) => p.encryption_key.as_slice(),
            None => continue,
        };
        if let Some(&first) = seen.get(key) {
            return Err(TreeValidationError::DuplicateEncryptionKey {
                first,
                second: index.0,
            });
        }
        seen.insert(key, index.0);
    }
    Ok(())
}

/// The lifetimes of the tree's leaves of source `key_package` (section 7.2).
fn lifetimes(tree: &RatchetTree) -> impl Iterator<Item = (u32, crate::messages::Lifetime)> + '_ {
    tree.leaves()
        .filter_map(|(leaf, node)| match &node.leaf_node_source {
            crate::messages::LeafNodeSource::KeyPackage { lifetime } => Some((leaf.0, *lifetime)),
            _ => None,
        })
}

/// A moment inside every key_package leaf's lifetime: the latest `not_before`, when it
/// is not past the earliest `not_after`. A verifier with no clock of its own (test
/// vectors) checks lifetimes at this moment, never at the wall clock.
pub fn common_valid_time(tree: &RatchetTree) -> Result<Option<u64>, TreeValidationError> {
    let mut window: Option<(u64, u64)> = None;
    for (_, lifetime) in lifetimes(tree) {
        let (start, end) = window.unwrap_or((0, u64::MAX));
        window = Some((start.max(lifetime.not_before), end.min(lifetime.not_after)));
    }
    match window {
        Some((start, end)) if start > end => Err(TreeValidationError::LifetimesDisjoint),
        Some((start, _)) => Ok(Some(start)),
        None => Ok(None),
    }
}

/// Section 7.3: each key_package leaf's lifetime covers `now`.
pub fn check_lifetimes(tree: &RatchetTree, now: u64) -> Result<(), TreeValidationError> {
    for (leaf, lifetime) in lifetimes(tree) {
        if now < lifetime.not_before || now > lifetime.not_after {
            return Err(TreeValidationError::LifetimeNotValid {
                leaf,
                not_before: lifetime.not_before,
                not_after: lifetime.not_after,
                now,
            });
        }
    }
    Ok(())
}
