//! Edits that turn a real encoding into a near miss: bit flips, byte edits, truncation,
//! insertions and deletions, edits of a length prefix (a value off by a few, or the same
//! value in a wider, non-minimal form), and splices of another seed's bytes.
//!
//! Positions are [`Index`]es, so a shrunk case stays meaningful after the input shrinks.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;

/// One edit of the input.
#[derive(Debug, Clone)]
pub enum Mutation {
    FlipBit {
        at: Index,
        bit: u8,
    },
    SetByte {
        at: Index,
        value: u8,
    },
    Truncate {
        at: Index,
    },
    Delete {
        at: Index,
        count: u8,
    },
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    /// A plausible vector length prefix (a minimal varint that fits the bytes after it)
    /// moved by `delta`, re-encoded minimally.
    LengthDelta {
        which: Index,
        delta: i8,
    },
    /// The same length, in the next wider varint form (RFC 9420 section 2.1.2 requires
    /// the narrowest).
    LengthNonMinimal {
        which: Index,
    },
    /// `count` bytes of another seed, from `from`, over or into this one at `at`.
    Splice {
        at: Index,
        donor: Index,
        from: Index,
        count: u8,
        overwrite: bool,
    },
}

/// Bytes that often sit on a codec's edge: presence bytes, varint prefixes, type codes.
const INTERESTING: [u8; 10] = [0x00, 0x01, 0x02, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff];

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![any::<u8>(), proptest::sample::select(INTERESTING.to_vec())];
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        2 => (any::<Index>(), byte.clone()).prop_map(|(at, value)| Mutation::SetByte { at, value }),
        1 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        1 => (any::<Index>(), 1u8..16).prop_map(|(at, count)| Mutation::Delete { at, count }),
        1 => (any::<Index>(), proptest::collection::vec(byte, 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        3 => (any::<Index>(), prop_oneof![-4i8..=4, any::<i8>()])
            .prop_map(|(which, delta)| Mutation::LengthDelta { which, delta }),
        2 => any::<Index>().prop_map(|which| Mutation::LengthNonMinimal { which }),
        2 => (any::<Index>(), any::<Index>(), any::<Index>(), 1u8..64, any::<bool>()).prop_map(
            |(at, donor, from, count, overwrite)| Mutation::Splice { at, donor, from, count, overwrite }
        ),
    ]
}

/// A varint at `at`: its value and width, if it is minimal.
fn varint_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *bytes.get(at)?;
    let width = match first >> 6 {
        0 => 1,
        1 => 2,
        2 => 4,
        _ => return None,
    };
    let rest = bytes.get(at + 1..at + width)?;
    let value = rest
        .iter()
        .fold(usize::from(first & 0x3f), |v, b| (v << 8) | usize::from(*b));
    (minimal_width(value) == width).then_some((value, width))
}

fn minimal_width(value: usize) -> usize {
    match value {
        0..=0x3f => 1,
        0x40..=0x3fff => 2,
        _ => 4,
    }
}

fn encode_varint(value: usize, width: usize) -> Vec<u8> {
    let value = value as u32;
    match width {
        1 => vec![value as u8],
        2 => ((value as u16) | 0x4000).to_be_bytes().to_vec(),
        _ => (value | 0x8000_0000).to_be_bytes().to_vec(),
    }
}

/// Positions of plausible vector length prefixes: a minimal varint with a non-zero value
/// that fits in what follows it.
pub fn length_prefixes(bytes: &[u8]) -> Vec<(usize, usize, usize)> {
    (0..bytes.len())
        .filter_map(|at| {
            let (value, width) = varint_at(bytes, at)?;
            (value > 0 && at + width + value <= bytes.len()).then_some((at, value, width))
        })
        .collect()
}

fn replace(bytes: &mut Vec<u8>, at: usize, width: usize, with: Vec<u8>) {
    bytes.splice(at..at + width, with);
}

pub fn apply(bytes: &mut Vec<u8>, mutation: &Mutation, donors: &[&[u8]]) {
    let position = |at: &Index, len: usize| at.index(len + 1);
    match mutation {
        Mutation::FlipBit { at, bit } if !bytes.is_empty() => {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Mutation::SetByte { at, value } if !bytes.is_empty() => {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        Mutation::Truncate { at } => bytes.truncate(at.index(bytes.len().max(1))),
        Mutation::Delete { at, count } => {
            let start = position(at, bytes.len()).min(bytes.len());
            let end = (start + usize::from(*count)).min(bytes.len());
            bytes.drain(start..end);
        }
        Mutation::Insert {
            at,
            bytes: inserted,
        } => {
            let i = position(at, bytes.len());
            bytes.splice(i..i, inserted.iter().copied());
        }
        Mutation::LengthDelta { which, delta } => {
            let prefixes = length_prefixes(bytes);
            if !prefixes.is_empty() {
                let (at, value, width) = prefixes[which.index(prefixes.len())];
                let moved = value
                    .saturating_add_signed(isize::from(*delta))
                    .min(0x3fff_ffff);
                replace(bytes, at, width, encode_varint(moved, minimal_width(moved)));
            }
        }
        Mutation::LengthNonMinimal { which } => {
            let prefixes = length_prefixes(bytes);
            if !prefixes.is_empty() {
                let (at, value, width) = prefixes[which.index(prefixes.len())];
                if width < 4 {
                    replace(bytes, at, width, encode_varint(value, width * 2));
                }
            }
        }
        Mutation::Splice {
            at,
            donor,
            from,
            count,
            overwrite,
        } if !donors.is_empty() => {
            let donor = donors[donor.index(donors.len())];
            if donor.is_empty() {
                return;
            }
            let start = from.index(donor.len());
            let piece = &donor[start..(start + usize::from(*count)).min(donor.len())];
            let i = position(at, bytes.len());
            if *overwrite {
                let end = (i + piece.len()).min(bytes.len());
                bytes.splice(i..end, piece.iter().copied());
            } else {
                bytes.splice(i..i, piece.iter().copied());
            }
        }
        _ => {}
    }
}
