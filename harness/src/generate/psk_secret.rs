//! `psk_secret.json`: the PSK secret of RFC 9420 section 8.4 over 0 to 10 external PSKs
//! per suite, as upstream; ids, values and nonces are random, `KDF.Nh` bytes each.

use crate::vectors::psk_secret::{Case, ExternalPsk};
use concord_reference::codec::Bytes;
use concord_reference::crypto::Suite;
use concord_reference::messages::{PreSharedKeyId, Psk};
use rand_chacha::ChaCha20Rng;

use super::{random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

/// Upstream's largest PSK count per case.
const MAX_PSKS: usize = 10;

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    (0..=MAX_PSKS)
        .map(|count| {
            let psks: Vec<ExternalPsk> = (0..count)
                .map(|_| ExternalPsk {
                    psk_id: random_secret(suite, rng),
                    psk: random_secret(suite, rng),
                    psk_nonce: random_secret(suite, rng),
                })
                .collect();
            let labelled: Vec<(PreSharedKeyId, Vec<u8>)> = psks
                .iter()
                .map(|p| {
                    (
                        PreSharedKeyId {
                            psk: Psk::External {
                                psk_id: Bytes(p.psk_id.to_vec()),
                            },
                            psk_nonce: Bytes(p.psk_nonce.to_vec()),
                        },
                        p.psk.to_vec(),
                    )
                })
                .collect();
            let psk_secret = concord_reference::psk::psk_secret(suite, &labelled)
                .at(&format!("psk_secret ({count} PSKs)"))?;
            to_value(&Case {
                cipher_suite: suite.id().0,
                psks,
                psk_secret: HexBytes(psk_secret),
            })
        })
        .collect()
}
