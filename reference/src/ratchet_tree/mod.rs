//! The ratchet tree as group state (RFC 9420 sections 4 and 7): a full left-balanced
//! binary tree of optional nodes, with the operations proposals and commits apply.
//!
//! ```text
//!  wire ratchet_tree ──from_wire──> RatchetTree (2^d leaves, 2^(d+1) - 1 nodes)
//!                     <──to_wire──  (trailing blank nodes dropped, section 12.4.3.3)
//!
//!  add_leaf     leftmost blank leaf, else extend; unmerged at non-blank ancestors (12.1.1)
//!  update_leaf  replace the leaf, blank its direct path                         (12.1.2)
//!  remove_leaf  blank the leaf and its direct path, then truncate               (12.1.3)
//! ```
//!
//! | file              | RFC 9420 section | content                                     |
//! |-------------------|------------------|---------------------------------------------|
//! | `mod.rs`          | 4.1, 7.7, 12.1   | state type, resolution, filtered direct path|
//! | `hash.rs`         | 7.8              | tree hashes                                 |
//! | `parent_hash.rs`  | 7.9              | parent hashes and their verification        |
//! | `validation.rs`   | 7.3, 12.4.3.1    | a joiner's checks of a received tree        |

mod hash;
mod parent_hash;
mod validation;

#[cfg(test)]
mod tests;

pub use hash::TreeHashes;
pub use parent_hash::{ParentHashError, parent_hash_input};
pub use validation::{
    TreeValidationError, check_leaves, check_lifetimes, check_unique_encryption_keys,
    check_unmerged_leaves, common_valid_time, validate_tree, verify_leaf_signature,
};

use std::sync::Arc;

use crate::messages::{self, LeafNode, Node, ParentNode};
use crate::tree_math::{self, LeafIndex, NodeIndex};

/// The largest leaf count the reference accepts (the node count must fit a `u32`).
pub const MAX_LEAVES: u32 = 1 << 30;

/// Why a tree cannot be built or an operation cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// Appendix C: leaves sit at even node indices.
    #[error("node {0} is at an even index but is not a leaf node")]
    ParentAtLeafPosition(u32),
    /// Appendix C: parents sit at odd node indices.
    #[error("node {0} is at an odd index but is not a parent node")]
    LeafAtParentPosition(u32),
    /// An array tree has an odd number of nodes (section 12.4.3.3 omits only blanks).
    #[error("a ratchet tree of {0} nodes has no well-formed shape")]
    EvenNodeCount(usize),
    #[error("the tree would exceed {MAX_LEAVES} leaves")]
    TooLarge,
    #[error("the tree is empty")]
    Empty,
    #[error("leaf {0} is outside the tree")]
    LeafOutOfRange(u32),
    /// Section 12.1.3: "the `removed` field does not identify a non-blank leaf node".
    #[error("leaf {0} is blank")]
    BlankLeaf(u32),
}

/// A ratchet tree whose leaf count is a power of two (section 7.7): `nodes` holds
/// `2 * leaves - 1` entries, `None` for blank nodes, leaves at even indices.
///
/// Nodes are shared between copies: every commit works on a provisional copy of the
/// tree (kept only if the commit is valid), and copying 2N shared nodes costs little
/// next to copying every leaf. A node is copied when a copy changes it.
#[derive(Debug, Clone)]
pub struct RatchetTree {
    nodes: Vec<Option<Arc<Node>>>,
    hashes: hash::HashCache,
}

/// Two trees are equal when their nodes are; which hashes each has cached is not part
/// of its value.
impl PartialEq for RatchetTree {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes
    }
}

impl Eq for RatchetTree {}

impl RatchetTree {
    /// A one-member tree.
    pub fn new(leaf: LeafNode) -> Self {
        RatchetTree {
            nodes: vec![Some(Arc::new(Node::Leaf(leaf)))],
            hashes: hash::HashCache::with_len(1),
        }
    }

    /// Builds the state from the `ratchet_tree` extension (section 12.4.3.3), padding the
    /// omitted trailing blank nodes back to a full tree and checking that every node has
    /// the type its position requires.
    pub fn from_wire(wire: &messages::RatchetTree) -> Result<Self, TreeError> {
        let count = wire.0.len();
        if count == 0 {
            return Err(TreeError::Empty);
        }
        if count.is_multiple_of(2) {
            return Err(TreeError::EvenNodeCount(count));
        }
        let leaves = u32::try_from(count / 2 + 1).map_err(|_| TreeError::TooLarge)?;
        let full = leaves
            .checked_next_power_of_two()
            .filter(|&l| l <= MAX_LEAVES)
            .ok_or(TreeError::TooLarge)?;
        for (i, node) in wire.0.iter().enumerate() {
            let index = u32::try_from(i).map_err(|_| TreeError::TooLarge)?;
            match node {
                Some(Node::Parent(_)) if i % 2 == 0 => {
                    return Err(TreeError::ParentAtLeafPosition(index));
                }
                Some(Node::Leaf(_)) if i % 2 == 1 => {
                    return Err(TreeError::LeafAtParentPosition(index));
                }
                _ => {}
            }
        }
        let mut nodes: Vec<Option<Arc<Node>>> = wire
            .0
            .iter()
            .map(|node| node.clone().map(Arc::new))
            .collect();
        nodes.resize(tree_math::node_width(full) as usize, None);
        let hashes = hash::HashCache::with_len(nodes.len());
        Ok(RatchetTree { nodes, hashes })
    }

    /// The `ratchet_tree` extension form: trailing blank nodes omitted.
    pub fn to_wire(&self) -> messages::RatchetTree {
        let used = self
            .nodes
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |last| last + 1);
        messages::RatchetTree(
            self.nodes
                .iter()
                .take(used)
                .map(|node| node.as_deref().cloned())
                .collect(),
        )
    }

    /// Number of leaves (a power of two).
    pub fn leaf_count(&self) -> u32 {
        // The node count is at most 2^31 - 1 by construction.
        (self.nodes.len() / 2 + 1) as u32
    }

    pub fn node_count(&self) -> u32 {
        self.nodes.len() as u32
    }

    pub fn root(&self) -> NodeIndex {
        tree_math::root(self.leaf_count())
    }

    pub fn node(&self, index: NodeIndex) -> Option<&Node> {
        self.nodes.get(index.as_usize()).and_then(Option::as_deref)
    }

    pub fn leaf(&self, leaf: LeafIndex) -> Option<&LeafNode> {
        match self.node(leaf.node()) {
            Some(Node::Leaf(l)) => Some(l),
            _ => None,
        }
    }

    pub fn parent_node(&self, index: NodeIndex) -> Option<&ParentNode> {
        match self.node(index) {
            Some(Node::Parent(p)) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn parent_node_mut(&mut self, index: NodeIndex) -> Option<&mut ParentNode> {
        self.changed(index);
        match self.nodes.get_mut(index.as_usize()) {
            Some(Some(node)) => match Arc::make_mut(node) {
                Node::Parent(p) => Some(p),
                Node::Leaf(_) => None,
            },
            _ => None,
        }
    }

    /// The non-blank leaves, in index order.
    pub fn leaves(&self) -> impl Iterator<Item = (LeafIndex, &LeafNode)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, node)| match node.as_deref() {
                Some(Node::Leaf(l)) => Some((LeafIndex((i / 2) as u32), l)),
                _ => None,
            })
    }

    /// Every node with its index, blank ones included.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeIndex, Option<&Node>)> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (NodeIndex(i as u32), node.as_deref()))
    }

    /// Every mutation of a node goes through here first: the cached hashes of the node
    /// and its ancestors no longer hold.
    fn changed(&mut self, index: NodeIndex) {
        let leaves = self.leaf_count();
        self.hashes.invalidate(index, leaves);
    }

    fn check_leaf(&self, leaf: LeafIndex) -> Result<(), TreeError> {
        if leaf.0 < self.leaf_count() {
            Ok(())
        } else {
            Err(TreeError::LeafOutOfRange(leaf.0))
        }
    }

    /// Replaces a leaf (blank or not).
    pub fn set_leaf(&mut self, leaf: LeafIndex, node: LeafNode) -> Result<(), TreeError> {
        self.check_leaf(leaf)?;
        self.changed(leaf.node());
        if let Some(slot) = self.nodes.get_mut(leaf.node().as_usize()) {
            *slot = Some(Arc::new(Node::Leaf(node)));
        }
        Ok(())
    }

    /// Sets a parent node; ignored for a leaf position or an index outside the tree.
    pub fn set_parent(&mut self, index: NodeIndex, node: ParentNode) {
        if index.is_leaf() {
            return;
        }
        self.changed(index);
        if let Some(slot) = self.nodes.get_mut(index.as_usize()) {
            *slot = Some(Arc::new(Node::Parent(node)));
        }
    }

    /// Blanks one node.
    pub fn blank(&mut self, index: NodeIndex) {
        self.changed(index);
        if let Some(slot) = self.nodes.get_mut(index.as_usize()) {
            *slot = None;
        }
    }

    /// The direct path of a leaf (section 4.1.2).
    pub fn direct_path(&self, leaf: LeafIndex) -> Vec<NodeIndex> {
        tree_math::direct_path(leaf.node(), self.leaf_count())
    }

    /// Blanks every node on the direct path of `leaf` (not the leaf itself).
    pub fn blank_path(&mut self, leaf: LeafIndex) {
        for node in self.direct_path(leaf) {
            self.blank(node);
        }
    }

    /// Section 7.7: a new blank root over the old tree and an all-blank right subtree.
    pub fn extend(&mut self) -> Result<(), TreeError> {
        let leaves = self
            .leaf_count()
            .checked_mul(2)
            .filter(|&l| l <= MAX_LEAVES)
            .ok_or(TreeError::TooLarge)?;
        self.nodes
            .resize(tree_math::node_width(leaves) as usize, None);
        self.hashes.resize(self.nodes.len());
        Ok(())
    }

    /// Section 7.7: while the right subtree of the root is all blank, drop it and the
    /// root. A tree whose leaves are all blank keeps one (blank) leaf.
    pub fn truncate(&mut self) {
        while self.leaf_count() > 1 {
            let half = self.nodes.len() / 2;
            if self
                .nodes
                .get(half + 1..)
                .is_some_and(|r| r.iter().all(Option::is_none))
            {
                self.nodes.truncate(half);
                self.hashes.resize(half);
            } else {
                break;
            }
        }
    }

    /// Section 12.1.1: the leftmost blank leaf (after extending if none), with the new
    /// leaf added to the `unmerged_leaves` of every non-blank parent above it.
    pub fn add_leaf(&mut self, node: LeafNode) -> Result<LeafIndex, TreeError> {
        let leaf = match (0..self.leaf_count())
            .map(LeafIndex)
            .find(|&l| self.node(l.node()).is_none())
        {
            Some(leaf) => leaf,
            None => {
                let first_new = self.leaf_count();
                self.extend()?;
                LeafIndex(first_new)
            }
        };
        for index in self.direct_path(leaf) {
            if let Some(parent) = self.parent_node_mut(index) {
                // Kept sorted, as section 7.1 requires.
                if let Err(at) = parent.unmerged_leaves.binary_search(&leaf) {
                    parent.unmerged_leaves.insert(at, leaf);
                }
            }
        }
        self.set_leaf(leaf, node)?;
        Ok(leaf)
    }

    /// Section 12.1.2: replace the sender's leaf and blank its direct path.
    pub fn update_leaf(&mut self, leaf: LeafIndex, node: LeafNode) -> Result<(), TreeError> {
        self.check_leaf(leaf)?;
        if self.leaf(leaf).is_none() {
            return Err(TreeError::BlankLeaf(leaf.0));
        }
        self.set_leaf(leaf, node)?;
        self.blank_path(leaf);
        Ok(())
    }

    /// Section 12.1.3: blank the leaf and its direct path, then truncate.
    pub fn remove_leaf(&mut self, leaf: LeafIndex) -> Result<(), TreeError> {
        self.check_leaf(leaf)?;
        if self.leaf(leaf).is_none() {
            return Err(TreeError::BlankLeaf(leaf.0));
        }
        self.blank(leaf.node());
        self.blank_path(leaf);
        self.truncate();
        Ok(())
    }

    /// Section 4.1.1: the non-blank nodes covering the subtree under `index`, left first;
    /// a non-blank parent contributes itself then its unmerged leaves.
    pub fn resolution(&self, index: NodeIndex) -> Vec<NodeIndex> {
        let mut out = Vec::new();
        self.resolve_into(index, &mut out);
        out
    }

    fn resolve_into(&self, index: NodeIndex, out: &mut Vec<NodeIndex>) {
        match self.node(index) {
            Some(Node::Leaf(_)) => out.push(index),
            Some(Node::Parent(p)) => {
                out.push(index);
                out.extend(p.unmerged_leaves.iter().map(|l| l.node()));
            }
            None => {
                if let (Some(l), Some(r)) = (tree_math::left(index), tree_math::right(index))
                    && index.as_usize() < self.nodes.len()
                {
                    self.resolve_into(l, out);
                    self.resolve_into(r, out);
                }
            }
        }
    }

    /// The child of `parent` that is not on the path to `descendant`.
    pub fn copath_child(parent: NodeIndex, descendant: NodeIndex) -> Option<NodeIndex> {
        let (l, r) = (tree_math::left(parent)?, tree_math::right(parent)?);
        Some(if descendant < parent { r } else { l })
    }

    /// Section 4.1.2: the direct path of `leaf` without the nodes whose copath child
    /// has an empty resolution.
    pub fn filtered_direct_path(&self, leaf: LeafIndex) -> Vec<NodeIndex> {
        self.direct_path(leaf)
            .into_iter()
            .filter(|&p| {
                Self::copath_child(p, leaf.node()).is_some_and(|c| !self.resolution(c).is_empty())
            })
            .collect()
    }
}
