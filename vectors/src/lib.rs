//! Verification of the MLS working group's official test vectors.
//!
//! ```text
//! DIR/<family>.json ──parse──> [case, case, ...] ──Family::check──> Verdict per case
//!                                                                    │
//!                               FileReport per file  <───────────────┘
//!                               Summary (passed / failed / skipped) ──> exit code
//! ```
//!
//! Each family lives in its own module with a serde struct documenting its JSON. A case
//! whose cipher suite the reference does not implement, or a family not yet built, is
//! *skipped* with a reason, never counted as passed. A file that is not valid JSON, or a
//! case missing a field, is bad input: reported with file, case index and field.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub mod crypto_basics;
pub mod deserialization;
mod hexbytes;
pub mod input;
pub mod key_schedule;
pub mod message_protection;
pub mod messages;
pub mod mimi_content;
pub mod mimi_content_negative;
pub mod passive_client_handling_commit;
pub mod passive_client_welcome;
pub mod psk_secret;
pub mod secret_tree;
pub mod transcript_hashes;
pub mod tree_math;
pub mod tree_operations;
pub mod tree_validation;
pub mod treekem;
pub mod welcome;

pub use hexbytes::HexBytes;

/// How a single case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseVerdict {
    Passed,
    /// The reference disagrees with the vector at `field`.
    Failed {
        field: String,
        detail: String,
    },
    /// Not checked, with the reason (unsupported suite, family not built yet).
    Skipped {
        reason: String,
    },
}

/// Why a case could not even be read: the vector file is at fault, not the reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case {case_index}, field `{field}`: {detail}")]
pub struct MalformedCase {
    pub case_index: usize,
    pub field: String,
    pub detail: String,
}

/// A check failed at a named field. Family checks return this through `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub field: String,
    pub detail: String,
}

impl Mismatch {
    pub fn new(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Mismatch {
            field: field.into(),
            detail: detail.to_string(),
        }
    }
}

/// Compares a computed value with the vector's, naming the field on mismatch.
pub fn expect_bytes(field: &str, computed: &[u8], expected: &[u8]) -> Result<(), Mismatch> {
    if computed == expected {
        Ok(())
    } else {
        Err(Mismatch::new(
            field,
            format!(
                "computed {}, vector has {}",
                short_hex(computed),
                short_hex(expected)
            ),
        ))
    }
}

/// Compares two values of any printable type.
pub fn expect_eq<T: PartialEq + std::fmt::Debug>(
    field: &str,
    computed: T,
    expected: T,
) -> Result<(), Mismatch> {
    if computed == expected {
        Ok(())
    } else {
        Err(Mismatch::new(
            field,
            format!("computed {computed:?}, vector has {expected:?}"),
        ))
    }
}

/// Turns any error into a mismatch at `field`. A typed reference error also names the
/// requirements of the check that raised it (`[RFC9420-...]`, from
/// `concord_reference::requirement`), so a failed case cites them.
pub trait AtField<T> {
    fn at(self, field: &str) -> Result<T, Mismatch>;
}

impl<T, E: std::fmt::Display + 'static> AtField<T> for Result<T, E> {
    fn at(self, field: &str) -> Result<T, Mismatch> {
        self.map_err(|e| {
            let cited = concord_reference::requirement::requirements_of(&e);
            if cited.is_empty() {
                Mismatch::new(field, e)
            } else {
                Mismatch::new(field, format!("{e} [{}]", cited.join(", ")))
            }
        })
    }
}

fn short_hex(bytes: &[u8]) -> String {
    let full = concord_reference::hex(bytes);
    if full.len() > 48 {
        format!("{}..({} bytes)", &full[..48], bytes.len())
    } else {
        full
    }
}

/// Checks one case (by index, for error messages) of a family's file.
pub type CaseCheck = fn(usize, &serde_json::Value) -> Result<CaseVerdict, MalformedCase>;

/// One official vector family: its file, the requirements it exercises, how to check a case.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// The file stem upstream uses, e.g. `crypto-basics`.
    pub name: &'static str,
    /// Requirement IDs (spec/) the family's checks exercise.
    pub requirements: &'static [&'static str],
    /// `None` while the family is not built yet: its cases are skipped.
    check: Option<CaseCheck>,
}

/// Every official family, in the order files are reported.
pub static FAMILIES: &[Family] = &[
    Family {
        name: "tree-math",
        requirements: &["RFC9420-4.2-1"],
        check: Some(tree_math::check),
    },
    Family {
        name: "crypto-basics",
        requirements: &[
            "RFC9420-5.1.2-1",
            "RFC9420-5.1.3-1",
            "RFC9420-5.2-1",
            "RFC9420-9.1-1",
        ],
        check: Some(crypto_basics::check),
    },
    Family {
        name: "secret-tree",
        requirements: &[
            "RFC9420-9-1",
            "RFC9420-9.1-1",
            "RFC9420-6.3.2-1",
            "RFC9420-9-2",
        ],
        check: Some(secret_tree::check),
    },
    Family {
        name: "message-protection",
        requirements: &[
            "RFC9420-6.1-1",
            "RFC9420-6.2-1",
            "RFC9420-6.3.1-1",
            "RFC9420-6.3.2-1",
            "RFC9420-6.3.2-2",
            "RFC9420-6.3.1-8",
            "RFC9420-6.3.2-4",
        ],
        check: Some(message_protection::check),
    },
    Family {
        name: "key-schedule",
        requirements: &["RFC9420-8-1", "RFC9420-8.5-1", "RFC9420-8-2"],
        check: Some(key_schedule::check),
    },
    Family {
        name: "psk_secret",
        requirements: &["RFC9420-8.4-1"],
        check: Some(psk_secret::check),
    },
    Family {
        name: "transcript-hashes",
        requirements: &["RFC9420-8.2-1", "RFC9420-8.1-4", "RFC9420-12.4.1-13"],
        check: Some(transcript_hashes::check),
    },
    Family {
        name: "welcome",
        requirements: &[
            "RFC9420-12.4.3.1-1",
            "RFC9420-12.4.3.1-2",
            "RFC9420-12.4.3.1-3",
        ],
        check: Some(welcome::check),
    },
    Family {
        name: "deserialization",
        requirements: &["RFC9420-2.1.2-1"],
        check: Some(deserialization::check),
    },
    Family {
        name: "tree-operations",
        requirements: &[
            "RFC9420-7.7-1",
            "RFC9420-7.8-1",
            "RFC9420-12.1.1-1",
            "RFC9420-12.1.2-1",
            "RFC9420-12.1.3-1",
            "RFC9420-12.1.1-4",
        ],
        check: Some(tree_operations::check),
    },
    Family {
        name: "tree-validation",
        requirements: &[
            "RFC9420-4.1.1-1",
            "RFC9420-7.8-1",
            "RFC9420-7.9.2-1",
            "RFC9420-12.4.3.1-4",
            "RFC9420-7.8-2",
        ],
        check: Some(tree_validation::check),
    },
    Family {
        name: "treekem",
        requirements: &[
            "RFC9420-4.1.2-1",
            "RFC9420-7.4-1",
            "RFC9420-7.5-1",
            "RFC9420-7.6-1",
            "RFC9420-7.8-1",
            "RFC9420-7.9-1",
            "RFC9420-7.9.2-1",
            "RFC9420-7.5-2",
            "RFC9420-7.9.1-1",
            "RFC9420-12.4.1-6",
            "RFC9420-12.4.1-7",
            "RFC9420-12.4.1-8",
            "RFC9420-12.4.2-16",
        ],
        check: Some(treekem::check),
    },
    Family {
        name: "messages",
        requirements: &["RFC9420-2.1.2-1"],
        check: Some(messages::check),
    },
    Family {
        name: "passive-client-welcome",
        requirements: &[
            "RFC9420-7.3-2",
            "RFC9420-7.4-1",
            "RFC9420-8-1",
            "RFC9420-12.4.3.1-1",
            "RFC9420-12.4.3.1-2",
            "RFC9420-12.4.3.1-3",
            "RFC9420-12.4.3.1-4",
            "RFC9420-12.4.3.1-5",
            "RFC9420-12.4.3.1-23",
            "RFC9420-12.4.3.1-24",
        ],
        check: Some(passive_client_welcome::check),
    },
    Family {
        name: "passive-client-handling-commit",
        requirements: &[
            "RFC9420-8-1",
            "RFC9420-12.1.1-1",
            "RFC9420-12.1.2-1",
            "RFC9420-12.1.3-1",
            "RFC9420-12.2-1",
            "RFC9420-12.3-1",
            "RFC9420-12.4.2-1",
            "RFC9420-12.4.3.1-1",
            "RFC9420-8.1-1",
            "RFC9420-8.1-3",
            "RFC9420-8.1-4",
            "RFC9420-8.2-2",
            "RFC9420-12.1.1-3",
            "RFC9420-12.1.1-4",
            "RFC9420-12.3-3",
            "RFC9420-12.4.2-8",
            "RFC9420-12.4.2-16",
            "RFC9420-12.4.3.1-25",
        ],
        check: Some(passive_client_handling_commit::check),
    },
    Family {
        // Same format as passive-client-handling-commit: a member joins, then handles a
        // long random sequence of proposals and commits.
        name: "passive-client-random",
        requirements: &[
            "RFC9420-8-1",
            "RFC9420-12.1.1-1",
            "RFC9420-12.1.2-1",
            "RFC9420-12.1.3-1",
            "RFC9420-12.2-1",
            "RFC9420-12.3-1",
            "RFC9420-12.4.2-1",
            "RFC9420-12.4.3.1-1",
            "RFC9420-8.1-1",
            "RFC9420-8.1-3",
            "RFC9420-8.1-4",
            "RFC9420-8.2-2",
            "RFC9420-12.1.1-3",
            "RFC9420-12.1.1-4",
            "RFC9420-12.3-3",
            "RFC9420-12.4.2-8",
            "RFC9420-12.4.2-16",
            "RFC9420-12.4.3.1-25",
        ],
        check: Some(passive_client_handling_commit::check),
    },
];

/// Looks a family up by its file stem.
pub fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// Deserializes a case into a family's struct, naming the failing field by its path.
///
/// A field the struct does not know is recorded ([`crate::input::note_unknown`]) and
/// otherwise ignored: the file's report warns of it, and `--strict` refuses the file.
pub fn parse_case<T: DeserializeOwned>(
    case_index: usize,
    case: &serde_json::Value,
) -> Result<T, MalformedCase> {
    parse_at(case_index, "", case)
}

/// [`parse_case`] for a part of a case, `prefix` its path in the case (`epochs[2]`).
pub fn parse_at<T: DeserializeOwned>(
    case_index: usize,
    prefix: &str,
    value: &serde_json::Value,
) -> Result<T, MalformedCase> {
    let join = |path: String| match (prefix.is_empty(), path.as_str()) {
        (true, _) => path,
        (false, "." | "") => prefix.to_string(),
        (false, _) => format!("{prefix}.{path}"),
    };
    let mut unknown = Vec::new();
    let parsed = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        value,
        &mut |path: serde_ignored::Path<'_>| unknown.push(path.to_string()),
    ))
    .map_err(|e| MalformedCase {
        case_index,
        field: join(e.path().to_string()),
        detail: e.inner().to_string(),
    })?;
    for field in unknown {
        crate::input::note_unknown(format!("case {case_index}, field `{}`", join(field)));
    }
    Ok(parsed)
}

/// The result of one case's check, flattened for reports.
fn verdict_from(result: Result<(), Mismatch>) -> CaseVerdict {
    match result {
        Ok(()) => CaseVerdict::Passed,
        Err(Mismatch { field, detail }) => CaseVerdict::Failed { field, detail },
    }
}

/// The suite a case is for, or a skip verdict when the reference does not implement it.
pub fn suite_or_skip(cipher_suite: u16) -> Result<concord_reference::crypto::Suite, CaseVerdict> {
    concord_reference::crypto::Suite::new(concord_reference::crypto::CipherSuite(cipher_suite))
        .map_err(|e| CaseVerdict::Skipped {
            reason: format!("cipher suite {cipher_suite}: {e}"),
        })
}

/// Runs a suite-specific check: skip if the suite is unsupported, else check.
pub fn with_suite(
    cipher_suite: u16,
    body: impl FnOnce(&concord_reference::crypto::Suite) -> Result<(), Mismatch>,
) -> CaseVerdict {
    match suite_or_skip(cipher_suite) {
        Ok(suite) => verdict_from(body(&suite)),
        Err(skip) => skip,
    }
}

/// A deterministic RNG for checks that need randomness (own signatures, own ciphertexts).
pub fn seeded_rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    use rand_core::SeedableRng;
    rand_chacha::ChaCha20Rng::seed_from_u64(seed)
}

/// Key package lifetimes (RFC 9420 section 7.3), checked at a moment the verifier picks
/// inside every leaf's validity, never at the wall clock: vectors are made once and
/// checked for years.
pub fn check_lifetimes(
    field: &str,
    tree: &concord_reference::ratchet_tree::RatchetTree,
) -> Result<(), Mismatch> {
    use concord_reference::ratchet_tree::{check_lifetimes, common_valid_time};
    match common_valid_time(tree).at(field)? {
        Some(now) => check_lifetimes(tree, now).at(field),
        None => Ok(()),
    }
}

/// The first failing case of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstFailure {
    pub case_index: usize,
    pub cipher_suite: Option<u64>,
    pub field: String,
    pub detail: String,
}

/// One case of a file, as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReport {
    /// Its index in the file (from 0), as `--only FAMILY:INDEX` selects it.
    pub index: usize,
    /// The case's own name, when the format gives one (negative vectors).
    pub name: Option<String>,
    pub cipher_suite: Option<u64>,
    pub verdict: CaseVerdict,
    pub duration: Duration,
    /// Requirement IDs beyond the family's: the case's own (negative vectors) and those
    /// of the error the reference returned (`concord_reference::requirement`).
    pub requirements: Vec<String>,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub family: String,
    pub path: PathBuf,
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Cipher suites present in the file, in order of first appearance.
    pub cipher_suites: Vec<u64>,
    pub first_failure: Option<FirstFailure>,
    /// Why cases were skipped (first reason seen).
    pub skip_reason: Option<String>,
    /// The file could not be read or parsed: nothing in it was checked.
    pub input_error: Option<String>,
    /// Fields of the file this version of Concord does not know (ignored; an input error
    /// under `--strict`), with their place.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_fields: Vec<String>,
    /// Every case checked, in file order (only the selected ones under a case filter).
    #[serde(skip)]
    pub case_reports: Vec<CaseReport>,
}

impl FileReport {
    /// An empty report for `path`, before any case is read.
    pub fn new(family: &str, path: &Path) -> Self {
        FileReport {
            family: family.to_string(),
            path: path.to_path_buf(),
            cases: 0,
            passed: 0,
            failed: 0,
            skipped: 0,
            cipher_suites: Vec::new(),
            first_failure: None,
            skip_reason: None,
            input_error: None,
            unknown_fields: Vec::new(),
            case_reports: Vec::new(),
        }
    }

    /// Counts `case` (its verdict, suite, first failure, skip reason) and keeps it.
    pub fn record(&mut self, case: CaseReport) {
        if let Some(s) = case.cipher_suite
            && !self.cipher_suites.contains(&s)
        {
            self.cipher_suites.push(s);
        }
        match &case.verdict {
            CaseVerdict::Passed => self.passed += 1,
            CaseVerdict::Failed { field, detail } => {
                self.failed += 1;
                self.first_failure.get_or_insert(FirstFailure {
                    case_index: case.index,
                    cipher_suite: case.cipher_suite,
                    field: field.clone(),
                    detail: detail.clone(),
                });
            }
            CaseVerdict::Skipped { reason } => {
                self.skipped += 1;
                self.skip_reason.get_or_insert(reason.clone());
            }
        }
        self.case_reports.push(case);
    }

    /// Nothing of the file counts: it could not be read, or a case is malformed.
    pub fn refuse(&mut self, error: String) {
        self.input_error = Some(error);
        self.passed = 0;
        self.failed = 0;
        self.skipped = 0;
        self.first_failure = None;
        self.case_reports.clear();
    }
}

/// A `--only` entry: a family, or one case of it (`tree-math:3`, the index from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub family: String,
    /// `None` for every case.
    pub cases: Option<Vec<usize>>,
}

/// Reads `--only` entries, merging those of one family: a family named without a case
/// means all of its cases.
pub fn parse_selectors(only: &[String]) -> Result<Vec<Selector>, VerifyUsageError> {
    let mut selectors: Vec<Selector> = Vec::new();
    for entry in only {
        let (family, case) = match entry.split_once(':') {
            None => (entry.as_str(), None),
            Some((family, index)) => {
                let index = index
                    .parse::<usize>()
                    .map_err(|_| VerifyUsageError::BadSelector {
                        entry: entry.clone(),
                    })?;
                (family, Some(index))
            }
        };
        if family.is_empty() {
            return Err(VerifyUsageError::BadSelector {
                entry: entry.clone(),
            });
        }
        match selectors.iter_mut().find(|s| s.family == family) {
            Some(known) => match (&mut known.cases, case) {
                (Some(cases), Some(index)) if !cases.contains(&index) => cases.push(index),
                (Some(_), Some(_)) | (None, _) => {}
                (cases @ Some(_), None) => *cases = None,
            },
            None => selectors.push(Selector {
                family: family.to_string(),
                cases: case.map(|index| vec![index]),
            }),
        }
    }
    Ok(selectors)
}

/// The file's cases that `cases` selects (all when `None`), or why the selection does
/// not fit the file.
pub fn select_cases<'a, T>(
    all: &'a [T],
    cases: Option<&[usize]>,
    path: &Path,
) -> Result<Vec<(usize, &'a T)>, String> {
    match cases {
        None => Ok(all.iter().enumerate().collect()),
        Some(cases) => cases
            .iter()
            .map(|&index| {
                all.get(index).map(|case| (index, case)).ok_or_else(|| {
                    format!(
                        "{}: case {index} was asked for, but the file has {} cases (numbered from 0)",
                        path.display(),
                        all.len()
                    )
                })
            })
            .collect(),
    }
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub directory: PathBuf,
    pub files: Vec<FileReport>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Files present in the directory that no family recognises (not checked).
    pub unrecognised_files: Vec<String>,
    /// Known families with no file in the directory (not checked, not counted).
    pub absent_families: Vec<String>,
}

impl Summary {
    pub fn has_input_errors(&self) -> bool {
        self.input_error_count() > 0
    }

    /// Files that could not be read or parsed: none of their cases were checked.
    pub fn input_error_count(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.input_error.is_some())
            .count()
    }
}

/// Bad usage: the caller asked for something that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyUsageError {
    #[error("vector directory {0} does not exist or is not a directory")]
    NoDirectory(PathBuf),
    #[error("unknown vector family `{name}` (known: {known})")]
    UnknownFamily { name: String, known: String },
    #[error(
        "{0} holds none of the official vector files (crypto-basics.json, tree-math.json, ...)"
    )]
    NoVectorFiles(PathBuf),
    #[error("family `{family}` was asked for but {path} does not exist")]
    MissingFile { family: String, path: PathBuf },
    #[error("`--only {entry}`: expected FAMILY or FAMILY:CASE, the case an index from 0")]
    BadSelector { entry: String },
}

/// The directory `concord vectors verify` reads when none is given.
pub fn default_directory() -> PathBuf {
    std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/mls-vectors"))
}

/// Checks one file of a family.
pub fn verify_file(family: &Family, path: &Path) -> FileReport {
    verify_file_cases(family, path, None)
}

/// Checks the cases of one file that `cases` selects (every case when `None`).
pub fn verify_file_cases(family: &Family, path: &Path, cases: Option<&[usize]>) -> FileReport {
    let mut report = FileReport::new(family.name, path);
    let all = match read_cases(path) {
        Ok(all) => all,
        Err(e) => {
            report.input_error = Some(e);
            return report;
        }
    };
    let selected = match select_cases(&all, cases, path) {
        Ok(selected) => selected,
        Err(e) => {
            report.input_error = Some(e);
            return report;
        }
    };
    report.cases = selected.len();
    for (case_index, case) in selected {
        let cipher_suite = case.get("cipher_suite").and_then(|v| v.as_u64());
        let started = Instant::now();
        let verdict = match family.check {
            None => CaseVerdict::Skipped {
                reason: "family not yet supported by the reference".to_string(),
            },
            Some(check) => {
                let checked = check(case_index, case);
                let unknown = crate::input::take_unknown();
                if !unknown.is_empty() && crate::input::strict() {
                    report.refuse(format!(
                        "{}: {}: unknown field (--strict)",
                        path.display(),
                        unknown.join("; ")
                    ));
                    return report;
                }
                report.unknown_fields.extend(unknown);
                match checked {
                    Ok(verdict) => verdict,
                    Err(malformed) => {
                        report.refuse(format!("{}: {malformed}", path.display()));
                        return report;
                    }
                }
            }
        };
        report.record(CaseReport {
            index: case_index,
            name: None,
            cipher_suite,
            verdict,
            duration: started.elapsed(),
            requirements: Vec::new(),
        });
    }
    report
}

fn read_cases(path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not valid JSON (line {}, column {}): {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    match value {
        serde_json::Value::Array(cases) => Ok(cases),
        other => Err(format!(
            "{}: expected a top-level array of test cases, found {}",
            path.display(),
            json_kind(&other)
        )),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Verifies every recognised file in `directory`, or only the families in `only`.
///
/// `only` entries are family names (file stems) or `FAMILY:CASE` for one case (its
/// index from 0, as reports name it). `directory` may also be one vector file: its
/// stem is then the family (`concord vectors verify DIR/tree-math.json --only tree-math:3`
/// and `... DIR/tree-math.json` alone both work).
pub fn verify_directory(
    directory: &Path,
    only: Option<&[String]>,
) -> Result<Summary, VerifyUsageError> {
    let (directory, only) = resolve_target(directory, only)?;
    verify_families(&directory, only.as_deref())
}

/// The folder and selection a `concord vectors verify PATH [--only ...]` names: a file
/// stands for its folder with the selection narrowed to its family. The folder must exist.
pub fn resolve_target(
    directory: &Path,
    only: Option<&[String]>,
) -> Result<(PathBuf, Option<Vec<String>>), VerifyUsageError> {
    if directory.is_file()
        && let (Some(parent), Some(stem)) = (directory.parent(), directory.file_stem())
    {
        let stem = stem.to_string_lossy().into_owned();
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let only: Vec<String> = match only {
            None => vec![stem.clone()],
            Some(entries) => entries
                .iter()
                .filter(|e| e.split(':').next() == Some(stem.as_str()))
                .cloned()
                .collect(),
        };
        if only.is_empty() {
            return Err(VerifyUsageError::BadSelector {
                entry: format!("(none of them names {stem}, the file given)"),
            });
        }
        return resolve_target(parent, Some(&only));
    }
    if !directory.is_dir() {
        return Err(VerifyUsageError::NoDirectory(directory.to_path_buf()));
    }
    Ok((directory.to_path_buf(), only.map(<[String]>::to_vec)))
}

/// Verifies the official families' files in the folder `directory`, or only those `only`
/// selects.
pub fn verify_families(
    directory: &Path,
    only: Option<&[String]>,
) -> Result<Summary, VerifyUsageError> {
    let selected: Vec<(&Family, Option<Vec<usize>>)> = match only {
        None => FAMILIES.iter().map(|f| (f, None)).collect(),
        Some(entries) => parse_selectors(entries)?
            .into_iter()
            .map(|selector| {
                family(&selector.family)
                    .map(|family| (family, selector.cases))
                    .ok_or_else(|| VerifyUsageError::UnknownFamily {
                        name: selector.family.clone(),
                        known: FAMILIES
                            .iter()
                            .map(|f| f.name)
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut files = Vec::new();
    let mut absent_families = Vec::new();
    for (family, cases) in &selected {
        let path = directory.join(format!("{}.json", family.name));
        if !path.is_file() {
            if only.is_some() {
                return Err(VerifyUsageError::MissingFile {
                    family: family.name.to_string(),
                    path,
                });
            }
            absent_families.push(family.name.to_string());
            continue;
        }
        files.push(verify_file_cases(family, &path, cases.as_deref()));
    }
    let mut unrecognised_files = Vec::new();
    if only.is_none()
        && let Ok(entries) = std::fs::read_dir(directory)
    {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".json")
                && family(stem).is_none()
            {
                unrecognised_files.push(name);
            }
        }
        unrecognised_files.sort();
    }
    if files.is_empty() {
        return Err(VerifyUsageError::NoVectorFiles(directory.to_path_buf()));
    }
    Ok(Summary {
        absent_families,
        directory: directory.to_path_buf(),
        passed: files.iter().map(|f| f.passed).sum(),
        failed: files.iter().map(|f| f.failed).sum(),
        skipped: files.iter().map(|f| f.skipped).sum(),
        files,
        unrecognised_files,
    })
}

/// One line per file, as `concord vectors verify` prints it.
pub fn format_file_line(file: &FileReport) -> String {
    if let Some(error) = &file.input_error {
        return format!("{:<32} ERROR {error}", file.family);
    }
    let suites = if file.cipher_suites.is_empty() {
        "suite-independent".to_string()
    } else {
        let list: Vec<String> = file.cipher_suites.iter().map(u64::to_string).collect();
        format!("suites {}", list.join(","))
    };
    let mut line = format!(
        "{:<32} {:>4} cases: {} passed, {} failed, {} skipped ({suites})",
        file.family, file.cases, file.passed, file.failed, file.skipped
    );
    if let Some(f) = &file.first_failure {
        let suite = f
            .cipher_suite
            .map(|s| format!(", suite {s}"))
            .unwrap_or_default();
        line.push_str(&format!(
            "; first failure: case {}{suite}, field `{}`: {}",
            f.case_index, f.field, f.detail
        ));
    }
    if file.skipped > 0
        && let Some(reason) = &file.skip_reason
    {
        line.push_str(&format!("; skipped: {reason}"));
    }
    line
}

/// The last line: `vectors: N passed, N failed, N skipped`.
pub fn format_closing_line(summary: &Summary) -> String {
    format!(
        "vectors: {} passed, {} failed, {} skipped",
        summary.passed, summary.failed, summary.skipped
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn official_dir() -> PathBuf {
        std::env::var_os("CONCORD_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../shared/mls-vectors"
                ))
            })
    }

    fn strings(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_mismatch_from_a_typed_reference_error_cites_its_requirements() {
        use concord_reference::codec::DecodeError;
        let typed: Result<(), DecodeError> = Err(DecodeError::VarintNotMinimal {
            value: 5,
            length: 2,
        });
        let mismatch = typed
            .at("length")
            .err()
            .unwrap_or_else(|| panic!("no mismatch"));
        assert_eq!(mismatch.field, "length");
        assert!(
            mismatch.detail.ends_with(" [RFC9420-2.1.2-1]"),
            "{}",
            mismatch.detail
        );
        let plain: Result<(), String> = Err("no such thing".into());
        assert_eq!(
            plain.at("x").err().map(|m| m.detail),
            Some("no such thing".to_string())
        );
    }

    #[test]
    fn selectors_name_families_or_single_cases() {
        let parsed = parse_selectors(&strings(&[
            "tree-math:3",
            "welcome",
            "tree-math:1",
            "tree-math:3",
            "treekem:0",
            "treekem",
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parsed,
            vec![
                Selector {
                    family: "tree-math".into(),
                    cases: Some(vec![3, 1])
                },
                Selector {
                    family: "welcome".into(),
                    cases: None
                },
                Selector {
                    family: "treekem".into(),
                    cases: None
                },
            ]
        );
        for bad in ["tree-math:x", "tree-math:-1", ":3", "tree-math:"] {
            assert_eq!(
                parse_selectors(&strings(&[bad])),
                Err(VerifyUsageError::BadSelector { entry: bad.into() })
            );
        }
    }

    #[test]
    fn one_case_of_a_file_is_checked_alone_by_directory_or_by_file() {
        let dir = official_dir();
        assert!(dir.is_dir(), "{} does not exist", dir.display());
        let by_dir = verify_directory(&dir, Some(&strings(&["tree-math:3"])))
            .unwrap_or_else(|e| panic!("{e}"));
        let by_file = verify_directory(
            &dir.join("tree-math.json"),
            Some(&strings(&["tree-math:3"])),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for summary in [&by_dir, &by_file] {
            assert_eq!(summary.files.len(), 1);
            let file = &summary.files[0];
            assert_eq!((file.cases, file.passed, file.failed), (1, 1, 0));
            assert_eq!(file.case_reports.len(), 1);
            assert_eq!(file.case_reports[0].index, 3);
            assert_eq!(file.case_reports[0].verdict, CaseVerdict::Passed);
        }
        // The file alone means all of its cases.
        let whole =
            verify_directory(&dir.join("tree-math.json"), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(whole.files.len(), 1);
        assert_eq!(whole.files[0].case_reports.len(), whole.files[0].cases);
        assert!(whole.files[0].cases > 3);
        // A case the file does not have is bad input, named with the file's size.
        let beyond = verify_directory(&dir, Some(&strings(&["tree-math:100000"])))
            .unwrap_or_else(|e| panic!("{e}"));
        let error = beyond.files[0].input_error.clone().unwrap_or_default();
        assert!(
            error.contains("case 100000") && error.contains("cases"),
            "{error}"
        );
        assert!(beyond.has_input_errors());
    }

    #[test]
    fn each_case_has_its_own_verdict() {
        let source = official_dir().join("tree-math.json");
        let text = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{e}"));
        let mut cases: Vec<serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        cases[2]["root"] = serde_json::json!(999);
        let dir = std::env::temp_dir().join(format!("concord-cases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("tree-math.json");
        std::fs::write(&path, serde_json::to_string(&cases).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        let family = family("tree-math").unwrap_or_else(|| panic!("no tree-math"));
        let report = verify_file(family, &path);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(report.case_reports.len(), cases.len());
        assert_eq!(report.failed, 1);
        for case in &report.case_reports {
            match case.index {
                2 => assert!(
                    matches!(&case.verdict, CaseVerdict::Failed { field, .. } if field == "root"),
                    "{:?}",
                    case.verdict
                ),
                _ => assert_eq!(case.verdict, CaseVerdict::Passed),
            }
        }
        assert_eq!(report.first_failure.map(|f| f.case_index), Some(2));
    }

    #[test]
    fn every_cited_requirement_is_in_the_catalog() {
        for family in FAMILIES {
            for id in family.requirements {
                assert!(
                    concord_spec::requirement(id).is_some(),
                    "{} cites unknown requirement {id}",
                    family.name
                );
            }
            assert!(
                family.check.is_none() || !family.requirements.is_empty(),
                "{} is checked but cites no requirement",
                family.name
            );
        }
    }
}
