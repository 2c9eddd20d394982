//! The findings: one Markdown file per confirmed deviation of a peer from RFC 9420
//! (`reports/findings/*.md`), compiled into the crate by `build.rs`, so that every report
//! links a failure to the finding that explains it, wherever the binary runs.
//!
//! ```text
//! reports/findings/*.md ──build.rs──> FILES ──parse──> Finding (requirements, peer, ...)
//!                                                          │
//! CaseResult (requirements, clients, implementations) ─────┴─> matching(result) ─> links
//! ```
//!
//! A finding opens with its title and a fixed header, one `- Field: value` line each:
//!
//! ```text
//! # OpenMLS accepts a ReInit committed together with an Add
//!
//! - Requirement: RFC9420-12.2-13
//! - Peer: openmls
//! - Side: receiver of the commit
//! - Version: openmls 0.9.2 (in-process adapter, clients/openmls)
//! - Confirmed: in-process adapter, `concord adversary --client openmls ...`
//! - Date: 2026-12-07
//! ```
//!
//! A failed result links to a finding when it cites one of the finding's requirements and
//! one of its clients (as the run names it, or by its Name answer) is the finding's peer.

use std::sync::OnceLock;

use crate::model::CaseResult;

mod files {
    include!(concat!(env!("OUT_DIR"), "/findings.rs"));
}

/// Where the findings live in the repository, for the links reports print.
pub const DIR: &str = "reports/findings";

/// The header fields every finding carries.
pub const REQUIRED_FIELDS: [&str; 6] = [
    "Requirement",
    "Peer",
    "Side",
    "Version",
    "Confirmed",
    "Date",
];

/// The peers a finding may name, and the spellings of each in a run's client names
/// (in-process adapter, interop server binary, MLSClient Name answer), compared in lower
/// case as substrings.
pub const PEERS: [(&str, &[&str]); 3] = [
    ("openmls", &["openmls", "interop_client"]),
    ("mls-rs", &["mls-rs", "wickr mls", "harness_client"]),
    ("mlspp", &["mlspp"]),
];

/// One finding file, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file name (`openmls-reinit-with-add.md`).
    pub name: String,
    /// The first `# ` line.
    pub title: String,
    /// The requirement IDs of the `Requirement` field.
    pub requirements: Vec<String>,
    /// One of [`PEERS`].
    pub peer: String,
    /// Every header field, in file order.
    pub fields: Vec<(String, String)>,
    pub text: String,
}

/// Why a finding file cannot be used, naming the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingError {
    pub file: String,
    pub problem: String,
}

impl std::fmt::Display for FindingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{DIR}/{}: {}", self.file, self.problem)
    }
}

impl std::error::Error for FindingError {}

/// `RFC9420-` then a section number (or an appendix letter) then `-` and a number.
fn is_requirement_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("RFC9420-") else {
        return false;
    };
    let Some((section, number)) = rest.rsplit_once('-') else {
        return false;
    };
    !section.is_empty()
        && section
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

impl Finding {
    /// Parses one finding file: its title, then its header fields up to the first `## `.
    pub fn parse(name: &str, text: &str) -> Result<Finding, FindingError> {
        let error = |problem: String| FindingError {
            file: name.to_string(),
            problem,
        };
        let mut title = None;
        let mut fields = Vec::new();
        for line in text.lines() {
            if line.starts_with("## ") {
                break;
            }
            if let Some(heading) = line.strip_prefix("# ") {
                title.get_or_insert_with(|| heading.trim().to_string());
                continue;
            }
            let line = line.trim();
            let Some(field) = line.strip_prefix("- ") else {
                continue;
            };
            if let Some((key, value)) = field.split_once(':')
                && REQUIRED_FIELDS.contains(&key.trim())
            {
                fields.push((key.trim().to_string(), value.trim().to_string()));
            }
        }
        let title = title.ok_or_else(|| error("no `# ` title line".into()))?;
        let missing: Vec<&str> = REQUIRED_FIELDS
            .iter()
            .copied()
            .filter(|f| !fields.iter().any(|(k, v)| k == f && !v.is_empty()))
            .collect();
        if !missing.is_empty() {
            return Err(error(format!(
                "header field(s) missing or empty: {} (each a `- Field: value` line before the first `## `)",
                missing.join(", ")
            )));
        }
        let field = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        let requirements: Vec<String> = field("Requirement")
            .split(',')
            .map(|id| id.trim().trim_matches('`').to_string())
            .filter(|id| !id.is_empty())
            .collect();
        if let Some(bad) = requirements.iter().find(|id| !is_requirement_id(id)) {
            return Err(error(format!(
                "`{bad}` is not a requirement ID (RFC9420-SECTION-N)"
            )));
        }
        let peer = field("Peer").to_string();
        if !PEERS.iter().any(|(p, _)| *p == peer) {
            let known: Vec<&str> = PEERS.iter().map(|(p, _)| *p).collect();
            return Err(error(format!(
                "Peer `{peer}` is not one of {}",
                known.join(", ")
            )));
        }
        Ok(Finding {
            name: name.to_string(),
            title,
            requirements,
            peer,
            fields,
            text: text.to_string(),
        })
    }

    /// The file's path in the repository.
    pub fn path(&self) -> String {
        format!("{DIR}/{}", self.name)
    }

    /// An HTML id for the finding (its file name without `.md`).
    pub fn anchor(&self) -> String {
        format!("finding-{}", self.name.trim_end_matches(".md"))
    }

    /// A header field's value.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` (a client as the run names it, or its Name answer) is this peer.
    pub fn names_peer(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        PEERS
            .iter()
            .filter(|(peer, _)| *peer == self.peer)
            .flat_map(|(_, spellings)| spellings.iter())
            .any(|spelling| name.contains(spelling))
    }

    /// Whether this finding explains `result`: a requirement in common, and the peer among
    /// its clients.
    pub fn explains(&self, result: &CaseResult) -> bool {
        self.requirements
            .iter()
            .any(|id| result.requirements.contains(id))
            && result
                .clients
                .iter()
                .chain(&result.implementations)
                .any(|name| self.names_peer(name))
    }
}

/// Parses every `(name, text)` pair: the findings, and the files that failed to parse.
pub fn parse_all(files: &[(&str, &str)]) -> (Vec<Finding>, Vec<FindingError>) {
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in files {
        match Finding::parse(name, text) {
            Ok(finding) => findings.push(finding),
            Err(e) => errors.push(e),
        }
    }
    (findings, errors)
}

/// The raw files compiled into the crate, `(name, text)`, sorted by name.
pub fn files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}

/// The findings compiled into the crate (a file that fails to parse is left out; a test
/// keeps that from happening: see [`embedded_errors`]).
pub fn embedded() -> &'static [Finding] {
    static FINDINGS: OnceLock<Vec<Finding>> = OnceLock::new();
    FINDINGS.get_or_init(|| parse_all(files::FILES).0)
}

/// The compiled-in files that fail to parse.
pub fn embedded_errors() -> Vec<FindingError> {
    parse_all(files::FILES).1
}

/// The compiled-in findings that explain `result`.
pub fn matching(result: &CaseResult) -> Vec<&'static Finding> {
    embedded().iter().filter(|f| f.explains(result)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# Peer X does Y\n\n- Requirement: RFC9420-7.2-1, RFC9420-10.1-4\n- Peer: mls-rs\n- Side: receiver\n- Version: mls-rs 0.57\n- Confirmed: in-process adapter\n- Date: 2026-12-07\n\n## Reproducer\n\n`concord adversary --client mls-rs`\n\n- Peer: openmls\n";

    #[test]
    fn a_finding_parses_its_header_and_stops_at_the_first_section() {
        let finding = Finding::parse("x.md", GOOD).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(finding.title, "Peer X does Y");
        assert_eq!(finding.requirements, ["RFC9420-7.2-1", "RFC9420-10.1-4"]);
        assert_eq!(finding.peer, "mls-rs");
        assert_eq!(finding.field("Side"), Some("receiver"));
        assert_eq!(finding.anchor(), "finding-x");
    }

    #[test]
    fn a_missing_field_names_the_file_and_the_field() {
        let text = GOOD.replace("- Date: 2026-12-07\n", "");
        let error = Finding::parse("no-date.md", &text).err();
        let error = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("no-date.md"), "{error}");
        assert!(error.contains("Date"), "{error}");
    }

    #[test]
    fn a_bad_requirement_or_peer_is_refused() {
        let text = GOOD.replace("RFC9420-7.2-1,", "section 7.2,");
        assert!(Finding::parse("a.md", &text).is_err());
        let text = GOOD.replace("- Peer: mls-rs", "- Peer: somebody");
        assert!(Finding::parse("b.md", &text).is_err());
    }

    #[test]
    fn a_result_matches_by_requirement_and_peer_spelling() {
        let finding = Finding::parse("x.md", GOOD).unwrap_or_else(|e| panic!("{e}"));
        let result = |client: &str, requirement: &str| {
            CaseResult::fail("adversary", "adversary/x", "accepted")
                .client(client)
                .requirement(requirement)
        };
        assert!(finding.explains(&result("mls-rs", "RFC9420-7.2-1")));
        assert!(finding.explains(&result(
            "exec:/bin/harness_client --host 127.0.0.1 --port {port}",
            "RFC9420-10.1-4"
        )));
        assert!(
            finding.explains(
                &result("grpc://127.0.0.1:5000", "RFC9420-7.2-1")
                    .implementations(["Wickr MLS on port 5000"])
            )
        );
        assert!(!finding.explains(&result("openmls", "RFC9420-7.2-1")));
        assert!(!finding.explains(&result("mls-rs", "RFC9420-7.2-2")));
    }
}
