//! Tree hashes (RFC 9420 section 7.8).
//!
//! ```text
//! struct {
//!   NodeType node_type;
//!   select (TreeHashInput.node_type) {
//!     case leaf:   LeafNodeHashInput leaf_node;
//!     case parent: ParentNodeHashInput parent_node;
//!   };
//! } TreeHashInput;
//!
//! struct {
//!     uint32 leaf_index;
//!     optional<LeafNode> leaf_node;
//! } LeafNodeHashInput;
//!
//! struct {
//!     optional<ParentNode> parent_node;
//!     opaque left_hash<V>;
//!     opaque right_hash<V>;
//! } ParentNodeHashInput;
//! ```
//!
//! The same recursion computes the `original_sibling_tree_hash` of section 7.9: the
//! tree hash with some leaves blanked and removed from every `unmerged_leaves` list.

use std::sync::{Arc, OnceLock};

use super::RatchetTree;
use crate::codec::{Codec, write_opaque};
use crate::crypto::{CipherSuite, Suite};
use crate::messages::{Node, NodeType, ParentNode};
use crate::tree_math::{self, LeafIndex, NodeIndex};

/// The tree hashes computed so far, by node index, for the one cipher suite they were
/// computed with. A node's entry is dropped whenever a node of its subtree changes, so
/// a commit rehashes only its path (about log2(N) nodes) instead of the whole tree.
/// It is never part of the tree's value: equality and the wire form ignore it.
#[derive(Clone, Default)]
pub(super) struct HashCache {
    suite: OnceLock<CipherSuite>,
    hashes: Vec<OnceLock<Arc<[u8]>>>,
}

impl std::fmt::Debug for HashCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.hashes.iter().filter(|h| h.get().is_some()).count();
        write!(f, "HashCache({cached} of {} nodes)", self.hashes.len())
    }
}

impl HashCache {
    pub(super) fn with_len(len: usize) -> Self {
        let mut cache = HashCache::default();
        cache.resize(len);
        cache
    }

    /// Follows the tree's node count (section 7.7's extend and truncate leave every
    /// remaining subtree as it was).
    pub(super) fn resize(&mut self, len: usize) {
        self.hashes.resize_with(len, OnceLock::new);
    }

    /// `index` changed: its hash and every ancestor's are stale.
    pub(super) fn invalidate(&mut self, index: NodeIndex, leaves: u32) {
        let mut current = Some(index);
        while let Some(node) = current {
            match self.hashes.get_mut(node.as_usize()) {
                Some(slot) => {
                    slot.take();
                }
                None => break,
            }
            current = tree_math::parent(node, leaves);
        }
    }

    /// The slot for `index` when the cache holds hashes of `suite` (claiming it for
    /// `suite` if it holds none yet).
    fn slot(&self, suite: &Suite, index: NodeIndex) -> Option<&OnceLock<Arc<[u8]>>> {
        if *self.suite.get_or_init(|| suite.id()) != suite.id() {
            return None;
        }
        self.hashes.get(index.as_usize())
    }
}

/// From this many leaves on, a tree hashed from scratch is hashed on two cores.
const PARALLEL_HASH_LEAVES: u32 = 256;

/// The tree hash of every node of a tree, indexed by node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHashes(Vec<Vec<u8>>);

impl TreeHashes {
    /// The hash of one node; `None` outside the tree.
    pub fn get(&self, index: NodeIndex) -> Option<&[u8]> {
        self.0.get(index.as_usize()).map(Vec::as_slice)
    }
}

impl RatchetTree {
    /// The tree hash of the root: the `tree_hash` of the GroupContext.
    ///
    /// A large tree hashed from scratch (a joiner's received tree) has its two halves
    /// hashed on two cores; both land in the cache, and the root combines them.
    pub fn tree_hash(&self, suite: &Suite) -> Vec<u8> {
        let root = self.root();
        let uncached = |index: NodeIndex| {
            self.hashes
                .slot(suite, index)
                .is_some_and(|slot| slot.get().is_none())
        };
        // Only when both halves are to be hashed: after a commit one half is cached and
        // a thread would cost more than the path it rehashes.
        if self.leaf_count() >= PARALLEL_HASH_LEAVES
            && let (Some(left), Some(right)) = (tree_math::left(root), tree_math::right(root))
            && uncached(left)
            && uncached(right)
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
        {
            std::thread::scope(|scope| {
                scope.spawn(|| self.subtree_hash_excluding(suite, left, &[]));
                self.subtree_hash_excluding(suite, right, &[]);
            });
        }
        self.subtree_hash_excluding(suite, root, &[])
    }

    /// The tree hash of every node.
    pub fn tree_hashes(&self, suite: &Suite) -> TreeHashes {
        let mut all = vec![Vec::new(); self.nodes.len()];
        self.hash_node(suite, self.root(), &[], &mut Some(&mut all));
        TreeHashes(all)
    }

    /// Whether a leaf of `excluded` lies in the subtree under `index`.
    fn excludes_below(index: NodeIndex, excluded: &[LeafIndex]) -> bool {
        excluded
            .iter()
            .any(|l| tree_math::is_ancestor_or_self(index, l.node()))
    }

    /// The tree hash of the subtree under `index` once every leaf of `excluded` is
    /// blanked and removed from the `unmerged_leaves` of every parent (section 7.9).
    pub fn subtree_hash_excluding(
        &self,
        suite: &Suite,
        index: NodeIndex,
        excluded: &[LeafIndex],
    ) -> Vec<u8> {
        self.hash_node(suite, index, excluded, &mut None)
    }

    fn hash_node(
        &self,
        suite: &Suite,
        index: NodeIndex,
        excluded: &[LeafIndex],
        record: &mut Option<&mut Vec<Vec<u8>>>,
    ) -> Vec<u8> {
        // Blanking leaves outside a subtree leaves its hash unchanged, so the cached
        // value serves whenever no excluded leaf lies below `index`.
        let slot = if record.is_none() && !Self::excludes_below(index, excluded) {
            self.hashes.slot(suite, index)
        } else {
            None
        };
        if let Some(hash) = slot.and_then(OnceLock::get) {
            return hash.to_vec();
        }
        let hash = self.hash_node_uncached(suite, index, excluded, record);
        if let Some(slot) = slot {
            let _ = slot.set(hash.as_slice().into());
        }
        hash
    }

    fn hash_node_uncached(
        &self,
        suite: &Suite,
        index: NodeIndex,
        excluded: &[LeafIndex],
        record: &mut Option<&mut Vec<Vec<u8>>>,
    ) -> Vec<u8> {
        let mut input = Vec::new();
        match index.leaf() {
            Some(leaf) => {
                NodeType::Leaf.encode(&mut input);
                leaf.0.encode(&mut input);
                let node = match self.node(index) {
                    Some(Node::Leaf(l)) if !excluded.contains(&leaf) => Some(l),
                    _ => None,
                };
                match node {
                    None => input.push(0),
                    Some(l) => {
                        input.push(1);
                        l.encode(&mut input);
                    }
                }
            }
            None => {
                NodeType::Parent.encode(&mut input);
                match self.parent_node(index) {
                    None => input.push(0),
                    Some(p) => {
                        input.push(1);
                        if excluded.is_empty() {
                            p.encode(&mut input);
                        } else {
                            ParentNode {
                                unmerged_leaves: p
                                    .unmerged_leaves
                                    .iter()
                                    .copied()
                                    .filter(|l| !excluded.contains(l))
                                    .collect(),
                                ..p.clone()
                            }
                            .encode(&mut input);
                        }
                    }
                }
                // A parent index always has both children inside a full tree.
                let (left, right) = match (tree_math::left(index), tree_math::right(index)) {
                    (Some(l), Some(r)) => (l, r),
                    _ => return Vec::new(),
                };
                let left_hash = self.hash_node(suite, left, excluded, record);
                let right_hash = self.hash_node(suite, right, excluded, record);
                write_opaque(&mut input, &left_hash);
                write_opaque(&mut input, &right_hash);
            }
        }
        let hash = suite.hash(&input);
        if let Some(all) = record.as_deref_mut()
            && let Some(slot) = all.get_mut(index.as_usize())
        {
            slot.clone_from(&hash);
        }
        hash
    }
}
