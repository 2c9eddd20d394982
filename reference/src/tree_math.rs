//! Array-based left-balanced binary trees (RFC 9420 section 4.2 and Appendix C).
//!
//! ```text
//!               X            level 2      nodes are numbered left to right:
//!         ┌─────┴─────┐                   leaves at even indices (2i),
//!         X           X      level 1      parents at odd ones
//!       ┌─┴─┐       ┌─┴─┐
//!       A   B       C   D    level 0
//!  node 0 1 2   3   4 5 6
//! ```
//!
//! A tree with `n` leaves has `2n - 1` nodes and its root at `2^k - 1` with
//! `k = floor(log2(2n - 1))`. The leaf count of an MLS tree is always a power of two
//! (section 7.7), but these functions are correct for any count, as Appendix C's are.

use std::fmt;

/// Index of a leaf among the leaves (member position): leaf `i` is node `2i`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LeafIndex(pub u32);

/// Index of a node in the array representation of the tree.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeIndex(pub u32);

impl fmt::Debug for LeafIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leaf {}", self.0)
    }
}

impl fmt::Debug for NodeIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

impl From<LeafIndex> for NodeIndex {
    fn from(leaf: LeafIndex) -> Self {
        NodeIndex(leaf.0 * 2)
    }
}

impl LeafIndex {
    /// The node this leaf occupies.
    pub fn node(self) -> NodeIndex {
        self.into()
    }
}

impl NodeIndex {
    pub fn is_leaf(self) -> bool {
        self.0.is_multiple_of(2)
    }

    /// The leaf at this node, if it is one.
    pub fn leaf(self) -> Option<LeafIndex> {
        self.is_leaf().then_some(LeafIndex(self.0 / 2))
    }

    /// Level in the tree: leaves are level 0, a parent is one above its children
    /// (the number of trailing one bits of the index).
    pub fn level(self) -> u32 {
        self.0.trailing_ones()
    }

    pub fn as_usize(self) -> usize {
        self.0 as usize
    }
}

/// Number of nodes of a tree with `leaves` leaves (0 for an empty tree).
pub fn node_width(leaves: u32) -> u32 {
    if leaves == 0 { 0 } else { 2 * (leaves - 1) + 1 }
}

/// The root of a tree with `leaves` leaves (`leaves >= 1`).
pub fn root(leaves: u32) -> NodeIndex {
    let width = node_width(leaves.max(1));
    NodeIndex((1u32 << (u32::BITS - 1 - width.leading_zeros())) - 1)
}

/// The left child of a parent node; `None` for a leaf.
pub fn left(node: NodeIndex) -> Option<NodeIndex> {
    let k = node.level();
    (k > 0).then(|| NodeIndex(node.0 ^ (1 << (k - 1))))
}

/// The right child of a parent node; `None` for a leaf.
pub fn right(node: NodeIndex) -> Option<NodeIndex> {
    let k = node.level();
    (k > 0).then(|| NodeIndex(node.0 ^ (3 << (k - 1))))
}

/// The parent of `node` in a tree of `leaves` leaves; `None` for the root, or for a
/// node outside the tree.
pub fn parent(node: NodeIndex, leaves: u32) -> Option<NodeIndex> {
    if node.0 >= node_width(leaves) || node == root(leaves) {
        return None;
    }
    // Climb the full (power-of-two) tree until the parent falls inside the real one.
    let mut current = node;
    loop {
        let k = current.level();
        let b = (current.0 >> (k + 1)) & 1;
        let candidate = NodeIndex((current.0 | (1 << k)) ^ (b << (k + 1)));
        if candidate.0 < node_width(leaves) {
            return Some(candidate);
        }
        current = candidate;
    }
}

/// The other child of `node`'s parent; `None` for the root.
pub fn sibling(node: NodeIndex, leaves: u32) -> Option<NodeIndex> {
    let p = parent(node, leaves)?;
    let (l, r) = (left(p)?, right(p)?);
    Some(if node < p { r } else { l })
}

/// The direct path of `node`: its ancestors from its parent up to the root.
pub fn direct_path(node: NodeIndex, leaves: u32) -> Vec<NodeIndex> {
    let mut path = Vec::new();
    let mut current = node;
    while let Some(p) = parent(current, leaves) {
        path.push(p);
        current = p;
    }
    path
}

/// The copath of `node`: the siblings of the node and of each of its ancestors below
/// the root.
pub fn copath(node: NodeIndex, leaves: u32) -> Vec<NodeIndex> {
    let mut path = vec![node];
    path.extend(direct_path(node, leaves));
    path.pop(); // the root has no sibling
    path.into_iter()
        .filter_map(|n| sibling(n, leaves))
        .collect()
}

/// Whether `ancestor` is `node` itself or lies above it in the tree.
pub fn is_ancestor_or_self(ancestor: NodeIndex, node: NodeIndex) -> bool {
    let k = ancestor.level();
    // The subtree of a node at level k spans indices [x - (2^k - 1), x + (2^k - 1)].
    let span = (1u32 << k) - 1;
    node.0 >= ancestor.0.saturating_sub(span) && node.0 <= ancestor.0.saturating_add(span)
}

/// The lowest common ancestor of two nodes (a node is its own ancestor).
pub fn common_ancestor(a: NodeIndex, b: NodeIndex) -> NodeIndex {
    if is_ancestor_or_self(a, b) {
        return a;
    }
    if is_ancestor_or_self(b, a) {
        return b;
    }
    let (mut x, mut y) = (a.0, b.0);
    let mut k = 0;
    while x != y {
        x >>= 1;
        y >>= 1;
        k += 1;
    }
    // k >= 1 here: the two differ, and neither holds the other.
    NodeIndex((x << k) + (1 << (k - 1)) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_leaf_tree_matches_figure() {
        assert_eq!(root(8), NodeIndex(7));
        assert_eq!(node_width(8), 15);
        assert_eq!(left(NodeIndex(7)), Some(NodeIndex(3)));
        assert_eq!(right(NodeIndex(7)), Some(NodeIndex(11)));
        assert_eq!(parent(NodeIndex(0), 8), Some(NodeIndex(1)));
        assert_eq!(sibling(NodeIndex(4), 8), Some(NodeIndex(6)));
        assert_eq!(
            direct_path(NodeIndex(4), 8),
            vec![NodeIndex(5), NodeIndex(3), NodeIndex(7)]
        );
        assert_eq!(
            copath(NodeIndex(4), 8),
            vec![NodeIndex(6), NodeIndex(1), NodeIndex(11)]
        );
        assert_eq!(common_ancestor(NodeIndex(2), NodeIndex(8)), NodeIndex(7));
        assert_eq!(common_ancestor(NodeIndex(0), NodeIndex(2)), NodeIndex(1));
        assert_eq!(common_ancestor(NodeIndex(4), NodeIndex(6)), NodeIndex(5));
        assert_eq!(common_ancestor(NodeIndex(3), NodeIndex(6)), NodeIndex(3));
        assert_eq!(common_ancestor(NodeIndex(12), NodeIndex(11)), NodeIndex(11));
        assert!(is_ancestor_or_self(NodeIndex(3), NodeIndex(6)));
        assert!(!is_ancestor_or_self(NodeIndex(3), NodeIndex(8)));
    }

    #[test]
    fn unbalanced_tree_parent_skips_missing_nodes() {
        // Five leaves: nodes 0..=8, root 7; node 8's parent in the full tree (9) is
        // outside, so it hangs from the root.
        assert_eq!(root(5), NodeIndex(7));
        assert_eq!(parent(NodeIndex(8), 5), Some(NodeIndex(7)));
        assert_eq!(sibling(NodeIndex(8), 5), Some(NodeIndex(3)));
        assert_eq!(parent(NodeIndex(7), 5), None);
        assert_eq!(parent(NodeIndex(9), 5), None);
    }
}
