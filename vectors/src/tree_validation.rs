//! `tree-validation.json`: a ratchet tree with the tree hash and resolution of every node
//! (RFC 9420 sections 4.1.1 and 7.8), valid as a joiner checks it (7.9.2, 12.4.3.1).

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::messages;
use concord_reference::ratchet_tree::{RatchetTree, validate_tree};
use concord_reference::tree_math::NodeIndex;
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, expect_eq, parse_case,
    with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    /// The `ratchet_tree` extension's content: `optional<Node> ratchet_tree<V>`.
    pub tree: HexBytes,
    pub group_id: HexBytes,
    /// The tree hash of each node, by node index, over the full (padded) tree.
    pub tree_hashes: Vec<HexBytes>,
    /// The resolution of each node, as node indices.
    pub resolutions: Vec<Vec<u32>>,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let wire = messages::RatchetTree::from_bytes(&case.tree).at("tree")?;
    let tree = RatchetTree::from_wire(&wire).at("tree")?;
    expect_eq(
        "tree_hashes (node count)",
        tree.node_count() as usize,
        case.tree_hashes.len(),
    )?;
    expect_eq(
        "resolutions (node count)",
        tree.node_count() as usize,
        case.resolutions.len(),
    )?;
    let hashes = tree.tree_hashes(suite);
    for (i, expected) in case.tree_hashes.iter().enumerate() {
        let computed = hashes.get(NodeIndex(i as u32)).unwrap_or_default();
        expect_bytes(&format!("tree_hashes[{i}]"), computed, expected)?;
    }
    for (i, expected) in case.resolutions.iter().enumerate() {
        let computed: Vec<u32> = tree
            .resolution(NodeIndex(i as u32))
            .into_iter()
            .map(|n| n.0)
            .collect();
        expect_eq(&format!("resolutions[{i}]"), &computed, expected)?;
    }
    let root_hash = hashes.get(tree.root()).unwrap_or_default();
    validate_tree(suite, &tree, &case.group_id, root_hash).at("tree (validation)")?;
    super::check_lifetimes("tree (leaf lifetimes)", &tree)?;
    expect_bytes("tree (re-encoding)", &tree.to_wire().to_bytes(), &case.tree)
}
