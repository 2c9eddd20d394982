//! `tree-operations.json`: one Add, Update or Remove proposal applied to a ratchet tree
//! (RFC 9420 sections 12.1.1 to 12.1.3, with extend and truncate of 7.7), checked by
//! the tree and its tree hash (7.8) before and after.

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::messages::{self, Proposal};
use concord_reference::ratchet_tree::RatchetTree;
use concord_reference::tree_math::LeafIndex;
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    /// Only the tree hashes depend on it.
    pub cipher_suite: u16,
    /// `optional<Node> ratchet_tree<V>` before the proposal.
    pub tree_before: HexBytes,
    /// A `Proposal`: Add, Update or Remove.
    pub proposal: HexBytes,
    /// The leaf index of the proposal's sender (the leaf an Update replaces).
    pub proposal_sender: u32,
    pub tree_after: HexBytes,
    pub tree_hash_before: HexBytes,
    pub tree_hash_after: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let wire = messages::RatchetTree::from_bytes(&case.tree_before).at("tree_before")?;
    let mut tree = RatchetTree::from_wire(&wire).at("tree_before")?;
    expect_bytes(
        "tree_hash_before",
        &tree.tree_hash(suite),
        &case.tree_hash_before,
    )?;
    match Proposal::from_bytes(&case.proposal).at("proposal")? {
        Proposal::Add(add) => {
            tree.add_leaf(add.key_package.leaf_node)
                .at("proposal (add)")?;
        }
        Proposal::Update(update) => {
            tree.update_leaf(LeafIndex(case.proposal_sender), update.leaf_node)
                .at("proposal (update)")?;
        }
        Proposal::Remove(remove) => {
            tree.remove_leaf(remove.removed).at("proposal (remove)")?;
        }
        other => {
            return Err(Mismatch::new(
                "proposal",
                format!(
                    "a {:?} proposal does not change the tree",
                    other.proposal_type()
                ),
            ));
        }
    }
    expect_bytes("tree_after", &tree.to_wire().to_bytes(), &case.tree_after)?;
    expect_bytes(
        "tree_hash_after",
        &tree.tree_hash(suite),
        &case.tree_hash_after,
    )
}
