//! `tree-math.json`: the tree arithmetic of RFC 9420 Appendix C for 1 to 512 leaves.
//!
//! ```text
//! { n_leaves, n_nodes, root, left[], right[], parent[], sibling[] }   null where undefined
//! ```

use concord_reference::tree_math::{self, NodeIndex};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use super::to_value;
use crate::vectors::Mismatch;

#[derive(Serialize)]
struct Case {
    n_leaves: u32,
    n_nodes: u32,
    root: u32,
    left: Vec<Option<u32>>,
    right: Vec<Option<u32>>,
    parent: Vec<Option<u32>>,
    sibling: Vec<Option<u32>>,
}

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
