//! `deserialization.json`: variable-length integer headers (RFC 9420 section 2.1.2).
//!
//! ```text
//! { vlbytes_header: hex, length: u64 }
//! ```
//! Each encoding's boundaries (0, 63 | 64, 16383 | 16384, 2^30 - 1) and random lengths
//! inside each of the three ranges: fourteen cases, as upstream.

use crate::vectors::deserialization::Case;
use concord_reference::codec::write_varint;
use rand_chacha::ChaCha20Rng;

use super::{below, to_value};
use crate::vectors::{HexBytes, Mismatch};

/// The three ranges of section 2.1.2: one, two and four byte headers.
const RANGES: [(u64, u64); 3] = [(0, 63), (64, 16_383), (16_384, (1 << 30) - 1)];
/// Random lengths drawn in each range, besides its two boundaries.
const RANDOM_PER_RANGE: [usize; 3] = [2, 3, 3];

pub fn cases(rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    let mut lengths = Vec::new();
    for ((low, high), random) in RANGES.into_iter().zip(RANDOM_PER_RANGE) {
        lengths.push(low);
        let mut drawn: Vec<u64> = (0..random)
            .map(|_| low + 1 + below(rng, high - low - 1))
            .collect();
        drawn.sort_unstable();
        lengths.extend(drawn);
        lengths.push(high);
    }
    lengths
        .into_iter()
        .map(|length| {
            let mut header = Vec::new();
            write_varint(&mut header, length);
            to_value(&Case {
                vlbytes_header: HexBytes(header),
                length,
            })
        })
        .collect()
}
