//! Generation of test vectors in the MLS working group's JSON formats.
//!
//! ```text
//! seed ──(family, suite)──> ChaCha20Rng ──family::cases──> [case, ...] ──> DIR/<family>.json
//! ```
//!
//! Every value is derived by the reference from seeded randomness: the same seed, suites and
//! reference give byte-identical files. Each (family, suite) pair draws from its own RNG, so
//! restricting `--suite` leaves the other suites' cases unchanged. The passive-client
//! families run the reference's group engine; a family not generated would be listed in
//! [`NOT_GENERATED`] with the reason.

use std::path::{Path, PathBuf};

use concord_reference::crypto::{CipherSuite, Suite};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use serde::Serialize;

use crate::vectors::{HexBytes, Mismatch};

mod clients;
mod crypto_basics;
mod deserialization;
mod group;
mod joining;
mod key_schedule;
mod message_protection;
mod messages;
mod passive_client_handling_commit;
mod passive_client_welcome;
mod psk_secret;
mod secret_tree;
mod transcript_hashes;
mod tree_math;
mod tree_operations;
mod tree_validation;
mod treekem;
mod welcome;

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 0;

/// Families this generator leaves out, and why.
pub const NOT_GENERATED: &[(&str, &str)] = &[];

/// Cases of one suite-specific family for one suite.
type PerSuite = fn(&Suite, &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch>;
/// Cases of a suite-independent family.
type Independent = fn(&mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch>;

#[derive(Clone, Copy)]
enum Generator {
    PerSuite(PerSuite),
    Independent(Independent),
}

/// Every generated family, in the order of the official family table.
const GENERATED: &[(&str, Generator)] = &[
    ("tree-math", Generator::Independent(tree_math::cases)),
    ("crypto-basics", Generator::PerSuite(crypto_basics::cases)),
    ("secret-tree", Generator::PerSuite(secret_tree::cases)),
    (
        "message-protection",
        Generator::PerSuite(message_protection::cases),
    ),
    ("key-schedule", Generator::PerSuite(key_schedule::cases)),
    ("psk_secret", Generator::PerSuite(psk_secret::cases)),
    (
        "transcript-hashes",
        Generator::PerSuite(transcript_hashes::cases),
    ),
    ("welcome", Generator::PerSuite(welcome::cases)),
    (
        "deserialization",
        Generator::Independent(deserialization::cases),
    ),
    (
        "tree-operations",
        Generator::PerSuite(tree_operations::cases),
    ),
    (
        "tree-validation",
        Generator::PerSuite(tree_validation::cases),
    ),
    ("treekem", Generator::PerSuite(treekem::cases)),
    ("messages", Generator::Independent(messages::cases)),
    (
        "passive-client-welcome",
        Generator::PerSuite(passive_client_welcome::cases),
    ),
    (
        "passive-client-handling-commit",
        Generator::PerSuite(passive_client_handling_commit::cases),
    ),
];

/// The names of the families [`generate`] writes.
pub fn generated_families() -> impl Iterator<Item = &'static str> {
    GENERATED.iter().map(|(name, _)| *name)
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedFile {
    pub family: &'static str,
    pub path: PathBuf,
    pub cases: usize,
    /// The suites of its cases; empty for a suite-independent family.
    pub cipher_suites: Vec<u16>,
}

/// What [`generate`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenerateSummary {
    pub directory: PathBuf,
    pub seed: u64,
    pub files: Vec<GeneratedFile>,
    /// `(family, reason)` for the families left out.
    pub not_generated: Vec<(&'static str, &'static str)>,
}

impl GenerateSummary {
    pub fn case_count(&self) -> usize {
        self.files.iter().map(|f| f.cases).sum()
    }
}

/// Why generation stopped.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cipher suite {0} is not one of the seven of RFC 9420")]
    UnsupportedSuite(u16),
    #[error("no cipher suite selected")]
    NoSuites,
    #[error("{family}{}: field `{field}`: {detail}", suite.map(|s| format!(" (suite {s})")).unwrap_or_default())]
    Family {
        family: &'static str,
        suite: Option<u16>,
        field: String,
        detail: String,
    },
    #[error("{family}: cannot write JSON: {source}")]
    Json {
        family: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes one JSON file per generated family into `out` (created if missing).
pub fn generate(
    out: &Path,
    suites: &[CipherSuite],
    seed: u64,
) -> Result<GenerateSummary, GenerateError> {
    if suites.is_empty() {
        return Err(GenerateError::NoSuites);
    }
    let suites = suites
        .iter()
        .map(|&id| Suite::new(id).map_err(|_| GenerateError::UnsupportedSuite(id.0)))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(out).map_err(|source| GenerateError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for &(family, generator) in GENERATED {
        let (cases, cipher_suites) = family_cases(family, generator, &suites, seed)?;
        let path = out.join(format!("{family}.json"));
        let mut text = serde_json::to_string_pretty(&cases)
            .map_err(|source| GenerateError::Json { family, source })?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(GeneratedFile {
            family,
            path,
            cases: cases.len(),
            cipher_suites,
        });
    }
    Ok(GenerateSummary {
        directory: out.to_path_buf(),
        seed,
        files,
        not_generated: NOT_GENERATED.to_vec(),
    })
}

fn family_cases(
    family: &'static str,
    generator: Generator,
    suites: &[Suite],
    seed: u64,
) -> Result<(Vec<serde_json::Value>, Vec<u16>), GenerateError> {
    let failed = |suite: Option<u16>| {
        move |m: Mismatch| GenerateError::Family {
            family,
            suite,
            field: m.field,
            detail: m.detail,
        }
    };
    match generator {
        Generator::Independent(cases) => {
            let mut rng = family_rng(seed, family, 0);
            Ok((cases(&mut rng).map_err(failed(None))?, Vec::new()))
        }
        Generator::PerSuite(cases) => {
            // Suites draw from separate streams, so they run in parallel and are joined
            // in the order asked for: the output does not depend on scheduling.
            let results: Vec<(u16, std::thread::Result<Result<_, Mismatch>>)> =
                std::thread::scope(|scope| {
                    let handles: Vec<_> = suites
                        .iter()
                        .map(|suite| {
                            let id = suite.id().0;
                            let handle = scope
                                .spawn(move || cases(suite, &mut family_rng(seed, family, id)));
                            (id, handle)
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|(id, handle)| (id, handle.join()))
                        .collect()
                });
            let mut all = Vec::new();
            let mut ids = Vec::new();
            for (id, result) in results {
                let cases = result.map_err(|_| GenerateError::Family {
                    family,
                    suite: Some(id),
                    field: "(generator)".to_string(),
                    detail: "the generator panicked".to_string(),
                })?;
                all.extend(cases.map_err(failed(Some(id)))?);
                ids.push(id);
            }
            Ok((all, ids))
        }
    }
}

/// The RNG of one (family, suite): ChaCha20 keyed by SHA-256(seed || suite || family).
fn family_rng(seed: u64, family: &str, suite: u16) -> ChaCha20Rng {
    let mut input = seed.to_be_bytes().to_vec();
    input.extend_from_slice(&suite.to_be_bytes());
    input.extend_from_slice(family.as_bytes());
    let digest = concord_reference::crypto::Kdf::HkdfSha256.hash(&input);
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest[..32]);
    ChaCha20Rng::from_seed(key)
}

/// `n` random bytes.
pub(crate) fn random_bytes(rng: &mut ChaCha20Rng, n: usize) -> HexBytes {
    let mut bytes = vec![0u8; n];
    rng.fill_bytes(&mut bytes);
    HexBytes(bytes)
}

/// A random secret of the suite's hash length.
pub(crate) fn random_secret(suite: &Suite, rng: &mut ChaCha20Rng) -> HexBytes {
    random_bytes(rng, suite.hash_length())
}

/// A uniform value in `0..bound` (`bound > 0`; the bias is irrelevant for vectors).
pub(crate) fn below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    rng.next_u64() % bound.max(1)
}

/// Serializes a family's case struct.
pub(crate) fn to_value(case: &impl Serialize) -> Result<serde_json::Value, Mismatch> {
    serde_json::to_value(case).map_err(|e| Mismatch::new("(case)", e))
}

/// Prefixes a mismatch's field with where it happened.
pub(crate) fn within(field: &str) -> impl FnOnce(Mismatch) -> Mismatch + '_ {
    move |m| Mismatch::new(format!("{field}: {}", m.field), m.detail)
}
