//! Signed attestations: `concord run --attest KEY` (and `interop`, `provider-test`) signs
//! what it wrote, `concord verify` checks it, `concord keygen` makes the key pair.
//!
//! ```text
//! report.json ──SHA-256──> Statement { subject, predicate: version, commit, catalog,
//!                                      profile, seed, suites, clients, counts }
//!                              │ JSON
//!                              v
//!            DSSE envelope: PAE(payloadType, payload) signed with Ed25519 (attest.key)
//!                              │
//!                              v
//!                       OUT/attestation.json ──concord verify --key attest.pub──> exit 0 / 1
//! ```
//!
//! Errors fall in two groups: bad input (a file that cannot be read or written, a field
//! that does not decode: exit 2) and failed checks (a signature that does not verify, a
//! report whose digest is not the subject's: exit 1).

pub mod cli;
pub mod dsse;
pub mod key;
pub mod statement;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use key::AttestKey;
pub use statement::{Predicate, Statement, Subject};

use crate::exit;
use crate::interop::session::Summary as InteropSummary;

/// The file an attestation is written to, beside what it vouches for.
pub const ATTESTATION_FILE: &str = "attestation.json";

/// Why an attestation could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AttestError {
    // ---- bad input (exit 2) ----
    #[error("{}: cannot read: {reason}", file.display())]
    Read { file: PathBuf, reason: String },
    #[error("{}: cannot write: {reason}", file.display())]
    Write { file: PathBuf, reason: String },
    #[error("{}: {field}: {reason}", file.display())]
    Malformed {
        file: PathBuf,
        field: String,
        reason: String,
    },
    #[error("{}: a key is already there (--force replaces it)", file.display())]
    KeyExists { file: PathBuf },
    #[error("no randomness from the operating system: {0}")]
    Randomness(String),
    // ---- failed checks (exit 1) ----
    #[error(
        "signature check failed: no signature of {} verifies with the given key (keyid {keyid}; the envelope's keyids: {envelope_keyids})",
        file.display()
    )]
    Signature {
        file: PathBuf,
        keyid: String,
        envelope_keyids: String,
    },
    #[error(
        "digest check failed: {} has SHA-256 {actual}, the statement's subject {subject} has {expected}",
        report.display()
    )]
    Digest {
        report: PathBuf,
        actual: String,
        subject: String,
        expected: String,
    },
}

impl AttestError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AttestError::Signature { .. } | AttestError::Digest { .. } => exit::UNEXPECTED,
            _ => exit::BAD_INPUT,
        }
    }

    pub(crate) fn read(file: &Path, error: &std::io::Error) -> AttestError {
        AttestError::Read {
            file: file.to_path_buf(),
            reason: error.to_string(),
        }
    }

    pub(crate) fn write(file: &Path, error: &std::io::Error) -> AttestError {
        AttestError::Write {
            file: file.to_path_buf(),
            reason: error.to_string(),
        }
    }

    pub(crate) fn malformed(file: &Path, field: &str, reason: String) -> AttestError {
        AttestError::Malformed {
            file: file.to_path_buf(),
            field: field.to_string(),
            reason,
        }
    }
}

/// Signs `dir/subject` with `predicate` into `dir/attestation.json`; returns its path.
pub fn write_attestation(
    key: &AttestKey,
    dir: &Path,
    subject: &str,
    predicate: &Predicate,
) -> Result<PathBuf, AttestError> {
    let subject_path = dir.join(subject);
    let digest =
        statement::file_sha256(&subject_path).map_err(|e| AttestError::read(&subject_path, &e))?;
    let out = dir.join(ATTESTATION_FILE);
    let internal = |e: serde_json::Error| AttestError::Write {
        file: out.clone(),
        reason: e.to_string(),
    };
    let statement: Statement<&Predicate> = Statement {
        statement_type: statement::STATEMENT_TYPE.to_string(),
        subject: vec![Subject {
            name: subject.to_string(),
            digest: [("sha256".to_string(), digest)].into_iter().collect(),
        }],
        predicate_type: statement::PREDICATE_TYPE.to_string(),
        predicate,
    };
    let payload = serde_json::to_vec(&statement).map_err(internal)?;
    let envelope = dsse::sign(key, dsse::PAYLOAD_TYPE, &payload);
    let text = serde_json::to_string_pretty(&envelope).map_err(internal)?;
    std::fs::write(&out, text + "\n").map_err(|e| AttestError::write(&out, &e))?;
    Ok(out)
}

/// Signs the `report.json` that `concord run` or `concord provider-test` wrote into `dir`.
pub fn attest_report(
    key: &AttestKey,
    report: &concord_reports::Report,
    dir: &Path,
    subcommand: &str,
) -> Result<PathBuf, AttestError> {
    let [_, report_file, ..] = concord_reports::FILES;
    write_attestation(
        key,
        dir,
        report_file,
        &Predicate::of_report(report, subcommand),
    )
}

/// Signs the `matrix.json` that `concord interop` wrote into `dir`.
pub fn attest_interop(
    key: &AttestKey,
    summary: &InteropSummary,
    specs: &[String],
    seed: u64,
    dir: &Path,
) -> Result<PathBuf, AttestError> {
    let suites: std::collections::BTreeSet<u16> = summary.records.iter().map(|r| r.suite).collect();
    let unexpected_pass = summary.unexpected_passes.len();
    let predicate = Predicate {
        suites: suites.into_iter().collect(),
        clients: specs
            .iter()
            .enumerate()
            .map(|(at, spec)| {
                // A client without a Name answer is shown by its spec: no name then.
                let name = summary.names.get(at).filter(|name| *name != spec).cloned();
                statement::ClientUnderTest::new(spec, name)
            })
            .collect(),
        counts: statement::VerdictCounts {
            pass: summary.passed,
            fail: summary.failed.saturating_sub(unexpected_pass) + summary.client_faults,
            unsupported: summary.unsupported,
            expected_fail: summary.expected_failures,
            unexpected_pass,
            skipped: summary.skipped,
            client_faults: summary.client_faults,
        },
        ..Predicate::new("interop", &crate::run::command_line(), seed)
    };
    write_attestation(key, dir, "matrix.json", &predicate)
}

/// What a verified attestation says.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The key id of the key that verified the signature.
    pub keyid: String,
    pub statement: Statement,
    /// Concord's predicate, when the statement carries one.
    pub predicate: Option<Predicate>,
    /// The report checked against the subject, and its digest.
    pub report: Option<(PathBuf, String)>,
}

/// Checks `attestation`'s signature with the public key in `key_file` and, given a
/// `report`, that its SHA-256 is a subject's.
pub fn verify(
    attestation: &Path,
    key_file: &Path,
    report: Option<&Path>,
) -> Result<Verified, AttestError> {
    let key = key::load_public(key_file)?;
    let text = std::fs::read(attestation).map_err(|e| AttestError::read(attestation, &e))?;
    let envelope: dsse::Envelope = parse_json(&text, attestation, "")?;
    let payload = dsse::open(&envelope, &key, attestation)?;
    if envelope.payload_type != dsse::PAYLOAD_TYPE {
        return Err(AttestError::malformed(
            attestation,
            "payloadType",
            format!(
                "`{}`, expected `{}`",
                envelope.payload_type,
                dsse::PAYLOAD_TYPE
            ),
        ));
    }
    let statement: Statement = parse_json(&payload, attestation, "payload.")?;
    if statement.statement_type != statement::STATEMENT_TYPE {
        return Err(AttestError::malformed(
            attestation,
            "payload._type",
            format!(
                "`{}`, expected `{}`",
                statement.statement_type,
                statement::STATEMENT_TYPE
            ),
        ));
    }
    let predicate = if statement.predicate_type == statement::PREDICATE_TYPE {
        let bytes = serde_json::to_vec(&statement.predicate).unwrap_or_default();
        Some(parse_json(&bytes, attestation, "payload.predicate.")?)
    } else {
        None
    };
    let report = match report {
        Some(file) => Some((
            file.to_path_buf(),
            check_digest(&statement, file, attestation)?,
        )),
        None => None,
    };
    Ok(Verified {
        keyid: key::keyid(&key),
        statement,
        predicate,
        report,
    })
}

/// The report's digest, when a subject has it.
fn check_digest(
    statement: &Statement,
    report: &Path,
    attestation: &Path,
) -> Result<String, AttestError> {
    let actual = statement::file_sha256(report).map_err(|e| AttestError::read(report, &e))?;
    let Some(first) = statement.subject.iter().find(|s| s.sha256().is_some()) else {
        return Err(AttestError::malformed(
            attestation,
            "payload.subject",
            "no subject with a sha256 digest".to_string(),
        ));
    };
    if statement
        .subject
        .iter()
        .any(|s| s.sha256().is_some_and(|d| d.eq_ignore_ascii_case(&actual)))
    {
        return Ok(actual);
    }
    // The subject of the same file name, if any, is the one it was meant to match.
    let name = report
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let meant = statement
        .subject
        .iter()
        .find(|s| s.name == name && s.sha256().is_some())
        .unwrap_or(first);
    Err(AttestError::Digest {
        report: report.to_path_buf(),
        actual,
        subject: meant.name.clone(),
        expected: meant.sha256().unwrap_or_default().to_string(),
    })
}

/// Parses JSON, naming the field at fault (`prefix` places it inside the envelope).
fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    file: &Path,
    prefix: &str,
) -> Result<T, AttestError> {
    let whole = || match prefix {
        "" => "(document)".to_string(),
        prefix => prefix.trim_end_matches('.').to_string(),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let reason = e.inner().to_string();
        // A missing field is named itself, not the object that lacks it.
        let missing = reason
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (e.path().to_string().as_str(), missing) {
            (".", None) => whole(),
            (".", Some(name)) => format!("{prefix}{name}"),
            (path, None) => format!("{prefix}{path}"),
            (path, Some(name)) => format!("{prefix}{path}.{name}"),
        };
        AttestError::malformed(file, &field, reason)
    })?;
    deserializer
        .end()
        .map_err(|e| AttestError::malformed(file, &whole(), e.to_string()))?;
    Ok(value)
}
