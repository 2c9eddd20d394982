//! What an attestation says: an in-toto Statement (v1) naming the file it vouches for by
//! digest, and Concord's predicate describing the run that made it.
//!
//! ```text
//! { "_type": "https://in-toto.io/Statement/v1",
//!   "subject": [ { "name": "report.json", "digest": { "sha256": hex } } ],
//!   "predicateType": "https://concord.invalid/attestation/run/v1",
//!   "predicate": { concordVersion, sourceCommit, catalogSha256, subcommand, command,
//!                  profile, seed, suites, clients: [ { spec, name, executable } ], counts } }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use concord_reports::{Counts, Report};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `_type` of an in-toto Statement, version 1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of Concord's predicate, version 1 (the layout of [`Predicate`]).
pub const PREDICATE_TYPE: &str = "https://concord.invalid/attestation/run/v1";
/// The commit the binary was built from (harness/build.rs), or `unknown`.
pub const SOURCE_COMMIT: &str = env!("CONCORD_SOURCE_COMMIT");

/// An in-toto Statement. Read back, the predicate stays JSON until its type is known;
/// written, it is Concord's [`Predicate`], its fields in their documented order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement<P = serde_json::Value> {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: P,
}

/// A file the statement vouches for: its name and digests (algorithm → lowercase hex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    pub fn sha256(&self) -> Option<&str> {
        self.digest.get("sha256").map(String::as_str)
    }
}

/// Concord's predicate: which Concord, which requirements, which clients, which verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Predicate {
    /// The version of the `concord` that made the run.
    pub concord_version: String,
    /// The git commit that `concord` was built from, or `unknown`.
    pub source_commit: String,
    /// The requirement catalog compiled into `concord` ([`catalog_sha256`]).
    pub catalog_sha256: String,
    /// `run`, `interop` or `provider-test`.
    pub subcommand: String,
    /// The command line as typed.
    pub command: String,
    /// `quick`, `full`, `provider-hub`, ...; none for `interop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub seed: u64,
    /// The cipher suites the results name, ascending.
    #[serde(default)]
    pub suites: Vec<u16>,
    pub clients: Vec<ClientUnderTest>,
    pub counts: VerdictCounts,
}

/// One client under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientUnderTest {
    /// As given on the command line (`reference`, `grpc://HOST:PORT`, `exec:...`, a URL).
    pub spec: String,
    /// Its answer to the MLSClient Name call, when the results hold it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For `exec:` clients, the program run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<Executable>,
}

/// The program of an `exec:` client: the first word of its command, resolved through
/// `PATH` when it holds no `/`, and the SHA-256 of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Executable {
    pub word: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why there is no digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The verdict counts of the run (`Report::counts`; for `interop`, its closing counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictCounts {
    pub pass: usize,
    pub fail: usize,
    pub unsupported: usize,
    pub expected_fail: usize,
    pub unexpected_pass: usize,
    pub skipped: usize,
    /// Of the failures, those a client fault caused.
    pub client_faults: usize,
}

impl From<Counts> for VerdictCounts {
    fn from(counts: Counts) -> Self {
        VerdictCounts {
            pass: counts.pass,
            fail: counts.fail,
            unsupported: counts.unsupported,
            expected_fail: counts.expected_fail,
            unexpected_pass: counts.unexpected_pass,
            skipped: counts.skipped,
            client_faults: counts.client_faults,
        }
    }
}

impl Predicate {
    /// What the binary knows of itself, around a run's own facts.
    pub fn new(subcommand: &str, command: &str, seed: u64) -> Predicate {
        Predicate {
            concord_version: env!("CARGO_PKG_VERSION").to_string(),
            source_commit: SOURCE_COMMIT.to_string(),
            catalog_sha256: catalog_sha256(),
            subcommand: subcommand.to_string(),
            command: command.to_string(),
            profile: None,
            seed,
            suites: Vec::new(),
            clients: Vec::new(),
            counts: VerdictCounts::default(),
        }
    }

    /// The predicate of a report `concord run` or `concord provider-test` wrote.
    pub fn of_report(report: &Report, subcommand: &str) -> Predicate {
        let suites: BTreeSet<u16> = report.results.iter().filter_map(|r| r.suite).collect();
        Predicate {
            profile: (!report.run.profile.is_empty()).then(|| report.run.profile.clone()),
            suites: suites.into_iter().collect(),
            clients: report
                .run
                .clients
                .iter()
                .map(|spec| ClientUnderTest::new(spec, name_in_report(report, spec)))
                .collect(),
            counts: report.counts().into(),
            ..Predicate::new(subcommand, &report.run.command, report.run.seed)
        }
    }
}

impl ClientUnderTest {
    /// The client `spec`, hashing its program when it is an `exec:` client.
    pub fn new(spec: &str, name: Option<String>) -> ClientUnderTest {
        ClientUnderTest {
            spec: spec.to_string(),
            name,
            executable: spec.strip_prefix("exec:").map(Executable::of_command),
        }
    }
}

/// What `spec` calls itself, from the first result over clients whose names line up with
/// their Name answers one to one.
fn name_in_report(report: &Report, spec: &str) -> Option<String> {
    report
        .results
        .iter()
        .filter(|r| !r.implementations.is_empty() && r.implementations.len() == r.clients.len())
        .find_map(|r| {
            let at = r.clients.iter().position(|c| c == spec)?;
            r.implementations.get(at).cloned()
        })
}

impl Executable {
    /// The program of `command` (run by `sh -c`): its first word, quotes removed.
    pub fn of_command(command: &str) -> Executable {
        let word = first_word(command);
        let mut out = Executable {
            word: word.clone(),
            path: None,
            sha256: None,
            error: None,
        };
        match resolve(&word) {
            Some(path) => {
                out.path = Some(path.display().to_string());
                match file_sha256(&path) {
                    Ok(digest) => out.sha256 = Some(digest),
                    Err(e) => out.error = Some(format!("cannot read it: {e}")),
                }
            }
            None if word.contains('/') => out.error = Some("no such file".to_string()),
            None => out.error = Some("not found on PATH".to_string()),
        }
        out
    }
}

fn first_word(command: &str) -> String {
    let command = command.trim_start();
    for quote in ['\'', '"'] {
        if let Some(rest) = command.strip_prefix(quote) {
            return rest.split(quote).next().unwrap_or_default().to_string();
        }
    }
    command
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `word` as the shell finds it: a path when it holds a `/`, else the first executable file
/// of that name in a `PATH` folder.
fn resolve(word: &str) -> Option<PathBuf> {
    if word.is_empty() {
        return None;
    }
    if word.contains('/') {
        let path = PathBuf::from(word);
        return path.is_file().then(|| path.canonicalize().unwrap_or(path));
    }
    let search = std::env::var_os("PATH")?;
    std::env::split_paths(&search)
        .map(|folder| folder.join(word))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Lowercase hex SHA-256 of a file's bytes, read in blocks.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut block)?;
        if read == 0 {
            break;
        }
        hasher.update(&block[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// SHA-256 of the requirement catalog compiled into this binary: of the lines
/// `<hex SHA-256 of the file>  <path under spec/catalog/>\n`, one per file in load order
/// (RFC 9420's sections, then the drafts). It is what
/// `cd spec/catalog && LC_ALL=C sha256sum rfc9420/s??.toml mimi-*.toml | sha256sum` prints.
pub fn catalog_sha256() -> String {
    let mut listing = String::new();
    for (path, text) in concord_spec::compiled_files() {
        listing.push_str(&hex::encode(Sha256::digest(text.as_bytes())));
        listing.push_str("  ");
        listing.push_str(path);
        listing.push('\n');
    }
    hex::encode(Sha256::digest(listing.as_bytes()))
}
