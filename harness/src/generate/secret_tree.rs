//! `secret-tree.json`: the secret tree, sender ratchets and sender-data keys (RFC 9420
//! sections 9, 9.1 and 6.3.2): per suite, trees of 1, 8 and 32 leaves with generations
//! 0 and 15 of every leaf's two ratchets, as upstream.

use crate::vectors::secret_tree::{Case, Generation, SenderData};
use concord_reference::crypto::Suite;
use concord_reference::secret_tree::{
    RatchetKind, RatchetPolicy, SecretTree, sender_data_key_nonce,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::{random_bytes, random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

const LEAF_COUNTS: [u32; 3] = [1, 8, 32];
const GENERATIONS: [u32; 2] = [0, 15];
/// Length of the sample ciphertext the sender-data key is derived from (upstream's).
const CIPHERTEXT_LENGTH: usize = 77;

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    LEAF_COUNTS
        .iter()
        .map(|&leaf_count| {
            let sender_data_secret = random_secret(suite, rng);
            let ciphertext = random_bytes(rng, CIPHERTEXT_LENGTH);
            let (key, nonce) =
                sender_data_key_nonce(suite, &sender_data_secret, &ciphertext).at("sender_data")?;
            let encryption_secret = random_secret(suite, rng);
            let tree = SecretTree::new(
                *suite,
                &encryption_secret,
                leaf_count,
                RatchetPolicy::default(),
            );
            let leaves = (0..leaf_count)
                .map(|leaf| {
                    GENERATIONS
                        .iter()
                        .map(|&generation| {
                            let at = |kind| {
                                tree.peek_key(LeafIndex(leaf), kind, generation)
                                    .at(&format!("leaves[{leaf}] generation {generation}"))
                            };
                            let application = at(RatchetKind::Application)?;
                            let handshake = at(RatchetKind::Handshake)?;
                            Ok(Generation {
                                generation,
                                application_key: HexBytes(application.key),
                                application_nonce: HexBytes(application.nonce),
                                handshake_key: HexBytes(handshake.key),
                                handshake_nonce: HexBytes(handshake.nonce),
                            })
                        })
                        .collect::<Result<Vec<_>, Mismatch>>()
                })
                .collect::<Result<Vec<_>, Mismatch>>()?;
            to_value(&Case {
                cipher_suite: suite.id().0,
                encryption_secret,
                sender_data: SenderData {
                    sender_data_secret,
                    ciphertext,
                    key: HexBytes(key),
                    nonce: HexBytes(nonce),
                },
                leaves,
            })
        })
        .collect()
}
