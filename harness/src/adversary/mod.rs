//! The adversary: inputs a conformant client must refuse, and the expected refusal.
//!
//! ```text
//! seed ──> World (the reference's group engine: 5 members, epoch 3, receiver by Welcome)
//!            │
//!            ├─ mutate: bytes (truncate, extend, flip, reorder)
//!            ├─ forge:  structure (change one field, re-sign / re-MAC / re-encrypt)
//!            v
//!   Recipe ──> Case (receiver state, prior messages, input, expected, class, requirement IDs)
//!            │
//!            ├─ generate: vectors/negative/<family>.json (checked against the reference
//!            │            while written: a recipe whose case the reference does not judge
//!            │            as intended is an error, not a vector)
//!            ├─ verify:   `concord vectors verify vectors/negative` (the reference)
//!            └─ client:   the same recipes against any ClientUnderTest, its own
//!                         KeyPackage as the receiver
//! ```
//!
//! Every recipe names the requirement IDs (spec/catalog) whose check must catch it and
//! the [`class::ErrorClass`] of that check. The behavioural level (a malicious provider)
//! lives in the simulator's scenarios, not here.

pub mod case;
pub mod class;
pub mod cli;
pub mod client;
mod families;
pub mod forge;
pub mod generate;
pub mod mutate;
pub mod verify;
pub mod world;

use rand_chacha::ChaCha20Rng;

pub use case::{Case, Expected, InputKind, Level, NegativeFile, Outcome};
pub use class::{ErrorClass, classify};
pub use families::FAMILIES;

/// Building a case failed (the construction, or the reference's judgement of it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step}: {detail}")]
pub struct GenError {
    pub step: String,
    pub detail: String,
}

impl GenError {
    pub fn new(step: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        GenError {
            step: step.into(),
            detail: detail.to_string(),
        }
    }
}

/// Shorthand for a step that can fail with a displayable error.
pub(crate) fn at<T, E: std::fmt::Display>(step: &str, result: Result<T, E>) -> Result<T, GenError> {
    result.map_err(|e| GenError::new(step, e))
}

/// What a recipe expects of a conformant receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Reject(ErrorClass),
    Accept,
    Acceptable,
}

/// What a recipe built: the input and what the receiver needs before it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub level: Level,
    pub flags: Vec<&'static str>,
    pub input_kind: InputKind,
    pub input: Vec<u8>,
    /// Messages the receiver processes (and must accept) before the input.
    pub prior: Vec<Vec<u8>>,
}

impl Draft {
    pub fn message(level: Level, input: Vec<u8>) -> Self {
        Draft {
            level,
            flags: Vec::new(),
            input_kind: InputKind::Message,
            input,
            prior: Vec::new(),
        }
    }

    pub fn welcome(level: Level, input: Vec<u8>) -> Self {
        Draft {
            input_kind: InputKind::Welcome,
            ..Draft::message(level, input)
        }
    }

    pub fn group_info(level: Level, input: Vec<u8>) -> Self {
        Draft {
            input_kind: InputKind::GroupInfo,
            ..Draft::message(level, input)
        }
    }

    pub fn flags(mut self, flags: &[&'static str]) -> Self {
        self.flags.extend_from_slice(flags);
        self
    }

    pub fn prior(mut self, prior: Vec<Vec<u8>>) -> Self {
        self.prior = prior;
        self
    }
}

/// How one kind of case is made.
#[derive(Debug, Clone, Copy)]
pub struct Recipe {
    /// The mutation, e.g. `membership-tag-flipped`.
    pub name: &'static str,
    pub description: &'static str,
    pub requirements: &'static [&'static str],
    pub expect: Expect,
    pub build: fn(&world::World, &mut ChaCha20Rng) -> Result<Draft, GenError>,
}

/// One file of negative vectors.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub description: &'static str,
    pub recipes: &'static [Recipe],
}

/// The generator's randomness for one label (a world or a case): independent of every
/// other label, so adding a recipe changes no other case.
pub fn case_rng(seed: u64, suite: u16, label: &str) -> ChaCha20Rng {
    use rand_core::SeedableRng;
    // FNV-1a over the label, mixed with the seed and the suite.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in label.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha20Rng::seed_from_u64(hash ^ seed.rotate_left(17) ^ (u64::from(suite) << 48))
}
