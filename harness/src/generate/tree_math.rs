//! `tree-math.json`: the tree arithmetic of RFC 9420 Appendix C for 1 to 512 leaves.
//!
//! ```text
//! { n_leaves, n_nodes, root, left[], right[], parent[], sibling[] }   null where undefined
//! ```

use crate::vectors::tree_math::Case;
use concord_reference::tree_math::{self, NodeIndex};
use rand_chacha::ChaCha20Rng;

use super::to_value;
use crate::vectors::Mismatch;

/// Leaf counts 2^0 to 2^9, as upstream. Tree math needs no randomness.
pub fn cases(_rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    (0..10u32)
        .map(|power| {
            let n = 1u32 << power;
            let width = tree_math::node_width(n);
            let column = |f: &dyn Fn(NodeIndex) -> Option<NodeIndex>| {
                (0..width)
                    .map(|x| f(NodeIndex(x)).map(|i| i.0))
                    .collect::<Vec<_>>()
            };
            to_value(&Case {
                n_leaves: n,
                n_nodes: width,
                root: tree_math::root(n).0,
                left: column(&tree_math::left),
                right: column(&tree_math::right),
                parent: column(&|x| tree_math::parent(x, n)),
                sibling: column(&|x| tree_math::sibling(x, n)),
            })
        })
        .collect()
}
