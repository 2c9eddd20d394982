//! Parent hashes (RFC 9420 section 7.9): computing them along an UpdatePath and
//! verifying that every non-blank parent of a received tree is "parent-hash valid".
//!
//! ```text
//! struct {
//!     HPKEPublicKey encryption_key;
//!     opaque parent_hash<V>;
//!     opaque original_sibling_tree_hash<V>;
//! } ParentHashInput;
//! ```
//!
//! The `parent_hash` field of a node D (a ParentNode, or a LeafNode whose source is
//! `commit`) is the hash of the ParentHashInput of the next node P on D's filtered direct
//! path, with `original_sibling_tree_hash` the tree hash of P's other child S once P's
//! unmerged leaves are blanked.

use std::collections::BTreeSet;

use super::RatchetTree;
use crate::codec::write_opaque;
use crate::crypto::Suite;
use crate::messages::{LeafNodeSource, Node};
use crate::tree_math::{self, LeafIndex, NodeIndex};

/// Section 7.9.2: a non-blank parent node is not covered by exactly one parent-hash
/// chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParentHashError {
    /// "each non-blank parent node P is parent-hash valid": no descendant D has a
    /// `parent_hash` matching P with the unmerged-leaves condition.
    #[error("parent node {0} is not parent-hash valid: no descendant's parent_hash matches it")]
    NotParentHashValid(u32),
    /// "there is exactly one descendant of each non-blank parent node for which the
    /// parent node is parent-hash valid": more than one does.
    #[error("parent node {node} is parent-hash valid with respect to {count} descendants")]
    Ambiguous { node: u32, count: usize },
}

/// The bytes of `ParentHashInput`.
pub fn parent_hash_input(
    encryption_key: &[u8],
    parent_hash: &[u8],
    original_sibling_tree_hash: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    write_opaque(&mut out, encryption_key);
    write_opaque(&mut out, parent_hash);
    write_opaque(&mut out, original_sibling_tree_hash);
    out
}

impl RatchetTree {
    /// "Parent hash of P with copath child S": `None` when `parent` is blank.
    pub fn parent_hash_of(
        &self,
        suite: &Suite,
        parent: NodeIndex,
        sibling: NodeIndex,
    ) -> Option<Vec<u8>> {
        let p = self.parent_node(parent)?;
        let sibling_hash = self.subtree_hash_excluding(suite, sibling, &p.unmerged_leaves);
        Some(suite.hash(&parent_hash_input(
            p.encryption_key.as_slice(),
            p.parent_hash.as_slice(),
            &sibling_hash,
        )))
    }

    /// Section 7.9.1, as a committer or a receiver computes them after merging an
    /// UpdatePath: from the root down the filtered direct path of `leaf`, sets each
    /// node's `parent_hash` to the parent hash of the node above it, and returns the
    /// value the leaf's `parent_hash` must have (empty when the filtered direct path is).
    pub fn set_path_parent_hashes(&mut self, suite: &Suite, leaf: LeafIndex) -> Vec<u8> {
        let mut above = Vec::new();
        for index in self.filtered_direct_path(leaf).into_iter().rev() {
            let Some(sibling) = RatchetTree::copath_child(index, leaf.node()) else {
                continue;
            };
            if let Some(p) = self.parent_node_mut(index) {
                p.parent_hash = crate::codec::Bytes(above.clone());
            }
            if let Some(hash) = self.parent_hash_of(suite, index, sibling) {
                above = hash;
            }
        }
        above
    }

    /// The `parent_hash` a node carries, if it has one (a parent, or a `commit` leaf).
    fn carried_parent_hash(&self, index: NodeIndex) -> Option<&[u8]> {
        match self.node(index)? {
            Node::Parent(p) => Some(p.parent_hash.as_slice()),
            Node::Leaf(l) => match &l.leaf_node_source {
                LeafNodeSource::Commit { parent_hash } => Some(parent_hash.as_slice()),
                _ => None,
            },
        }
    }

    /// How many descendants D of `parent` it is parent-hash valid with respect to
    /// (section 7.9.2's three criteria).
    fn valid_descendants(&self, suite: &Suite, parent: NodeIndex) -> usize {
        let Some(p) = self.parent_node(parent) else {
            return 0;
        };
        let (Some(left), Some(right)) = (tree_math::left(parent), tree_math::right(parent)) else {
            return 0;
        };
        let mut count = 0;
        for (child, sibling) in [(left, right), (right, left)] {
            let Some(expected) = self.parent_hash_of(suite, parent, sibling) else {
                continue;
            };
            let resolution = self.resolution(child);
            let unmerged_below: BTreeSet<NodeIndex> = p
                .unmerged_leaves
                .iter()
                .map(|l| l.node())
                .filter(|&n| tree_math::is_ancestor_or_self(child, n))
                .collect();
            for &d in &resolution {
                if self.carried_parent_hash(d) != Some(expected.as_slice()) {
                    continue;
                }
                let rest: BTreeSet<NodeIndex> =
                    resolution.iter().copied().filter(|&n| n != d).collect();
                if rest == unmerged_below {
                    count += 1;
                }
            }
        }
        count
    }

    /// Section 7.9.2, top down: every non-blank parent node has exactly one descendant
    /// with respect to which it is parent-hash valid.
    pub fn verify_parent_hashes(&self, suite: &Suite) -> Result<(), ParentHashError> {
        for (index, node) in self.nodes() {
            if !matches!(node, Some(Node::Parent(_))) {
                continue;
            }
            match self.valid_descendants(suite, index) {
                1 => {}
                0 => return Err(ParentHashError::NotParentHashValid(index.0)),
                count => {
                    return Err(ParentHashError::Ambiguous {
                        node: index.0,
                        count,
                    });
                }
            }
        }
        Ok(())
    }
}
