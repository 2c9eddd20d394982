//! `secret-tree.json`: the secret tree, sender ratchets and sender-data keys
//! (RFC 9420 sections 9, 9.1 and 6.3.2).

use concord_reference::crypto::Suite;
use concord_reference::secret_tree::{
    PEEK_MAXIMUM_DISTANCE, RatchetKey, RatchetKind, RatchetPolicy, SecretTree,
    sender_data_key_nonce,
};
use concord_reference::tree_math::LeafIndex;
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub encryption_secret: HexBytes,
    pub sender_data: SenderData,
    /// One list per leaf, of the generations to check.
    pub leaves: Vec<Vec<Generation>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SenderData {
    pub sender_data_secret: HexBytes,
    pub ciphertext: HexBytes,
    pub key: HexBytes,
    pub nonce: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Generation {
    pub generation: u32,
    pub application_key: HexBytes,
    pub application_nonce: HexBytes,
    pub handshake_key: HexBytes,
    pub handshake_nonce: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let sd = &case.sender_data;
    let (key, nonce) =
        sender_data_key_nonce(suite, &sd.sender_data_secret, &sd.ciphertext).at("sender_data")?;
    expect_bytes("sender_data.key", &key, &sd.key)?;
    expect_bytes("sender_data.nonce", &nonce, &sd.nonce)?;

    let leaf_count = u32::try_from(case.leaves.len()).at("leaves")?;
    // One tree per case, each ratchet walked forward once in generation order: the work is
    // linear in the largest generation, however many entries a file lists.
    let policy = RatchetPolicy {
        maximum_forward_distance: PEEK_MAXIMUM_DISTANCE,
        out_of_order_tolerance: 0,
    };
    let mut tree = SecretTree::new(*suite, &case.encryption_secret, leaf_count, policy);
    for (leaf, generations) in case.leaves.iter().enumerate() {
        let mut order: Vec<usize> = (0..generations.len()).collect();
        order.sort_by_key(|&j| generations[j].generation);
        for kind in [RatchetKind::Application, RatchetKind::Handshake] {
            let mut previous: Option<(u32, RatchetKey)> = None;
            for &j in &order {
                let g = &generations[j];
                let at = |name: &str| format!("leaves[{leaf}][{j}].{name}");
                let (want_key, want_nonce, key_name, nonce_name) = match kind {
                    RatchetKind::Application => (
                        &g.application_key,
                        &g.application_nonce,
                        "application_key",
                        "application_nonce",
                    ),
                    RatchetKind::Handshake => (
                        &g.handshake_key,
                        &g.handshake_nonce,
                        "handshake_key",
                        "handshake_nonce",
                    ),
                };
                let derived = match &previous {
                    // The same generation listed twice: its key was consumed by the first.
                    Some((generation, key)) if *generation == g.generation => key.clone(),
                    _ => tree
                        .receiving_key(LeafIndex(leaf as u32), kind, g.generation)
                        .at(&at(key_name))?,
                };
                expect_bytes(&at(key_name), &derived.key, want_key)?;
                expect_bytes(&at(nonce_name), &derived.nonce, want_nonce)?;
                previous = Some((g.generation, derived));
            }
        }
    }
    Ok(())
}
