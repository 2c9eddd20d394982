//! Claims (`--claims FILE`): what a provider or client says it supports, weighed against the
//! run's results.
//!
//! ```toml
//! subject = "Example Messenger 4.2"  # who makes the claims (shown in the report)
//! client = "reference"                # optional: the client under test whose cases are the
//!                                     # evidence (default: every client of the run)
//! ciphersuites = [1, 3]               # RFC 9420 cipher suites 1 to 7
//! proposal_types = ["add", "update", "remove", "psk", "reinit", "external_init",
//!                   "group_context_extensions"]
//! external_join = true
//! mimi_roles = ["hub", "follower"]
//! dma_services = ["1:1-text", "group-text", "1:1-attachments", "group-attachments",
//!                 "1:1-voice", "group-voice", "1:1-video", "group-video"]
//! ```
//!
//! Each claim becomes a feature key (`ciphersuite:3`, `proposal:add`, `external-join`,
//! `mimi-role:hub`, `service:group-text`); the evidence is every case of the claimed client
//! whose `features` hold that key. A claim is *supported* when some evidence passed and none
//! failed or was unsupported, *contradicted* when some failed (expected failures included)
//! or was unsupported, and *no evidence* otherwise.

use serde::{Deserialize, Serialize};

use crate::input::{InputError, NonEmpty};
use crate::model::{CaseResult, Verdict};

/// How many evidence case IDs a claim lists (failing ones first); counts cover all.
pub const EVIDENCE_LISTED: usize = 20;

/// A parsed claims file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsSpec {
    pub file: String,
    pub subject: String,
    pub client: Option<String>,
    /// Feature key and a label for readers, in file order.
    pub claims: Vec<(String, String)>,
}

/// How a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimStatus {
    Supported,
    Contradicted,
    NoEvidence,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Supported => "supported",
            ClaimStatus::Contradicted => "contradicted",
            ClaimStatus::NoEvidence => "no evidence",
        }
    }
}

/// One claim, weighed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// The feature key, e.g. `ciphersuite:3`.
    pub capability: String,
    pub label: String,
    pub status: ClaimStatus,
    pub passed: usize,
    /// Failed, expected-fail.
    pub failed: usize,
    pub unsupported: usize,
    pub skipped: usize,
    /// Evidence case IDs, failing and unsupported first, at most [`EVIDENCE_LISTED`].
    pub evidence: Vec<String>,
}

/// The claims section of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsReport {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub claims: Vec<ClaimResult>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    subject: NonEmpty,
    client: Option<NonEmpty>,
    #[serde(default)]
    ciphersuites: Vec<Suite>,
    #[serde(default)]
    proposal_types: Vec<ProposalType>,
    #[serde(default)]
    external_join: bool,
    #[serde(default)]
    mimi_roles: Vec<MimiRole>,
    #[serde(default)]
    dma_services: Vec<DmaService>,
}

/// An RFC 9420 cipher suite, 1 to 7.
struct Suite(u16);

impl<'de> Deserialize<'de> for Suite {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        match u16::try_from(value) {
            Ok(suite @ 1..=7) => Ok(Suite(suite)),
            _ => Err(serde::de::Error::custom(format!(
                "cipher suite {value} is not one of RFC 9420's suites 1 to 7"
            ))),
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ProposalType {
    Add,
    Update,
    Remove,
    Psk,
    Reinit,
    ExternalInit,
    GroupContextExtensions,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum MimiRole {
    Hub,
    Follower,
}

/// The interoperability services of the Digital Markets Act, Article 7(2).
#[derive(Deserialize, Clone, Copy)]
enum DmaService {
    #[serde(rename = "1:1-text")]
    OneToOneText,
    #[serde(rename = "1:1-attachments")]
    OneToOneAttachments,
    #[serde(rename = "group-text")]
    GroupText,
    #[serde(rename = "group-attachments")]
    GroupAttachments,
    #[serde(rename = "1:1-voice")]
    OneToOneVoice,
    #[serde(rename = "1:1-video")]
    OneToOneVideo,
    #[serde(rename = "group-voice")]
    GroupVoice,
    #[serde(rename = "group-video")]
    GroupVideo,
}

impl DmaService {
    fn key_and_label(self) -> (&'static str, &'static str) {
        match self {
            DmaService::OneToOneText => ("1:1-text", "text messages between two users"),
            DmaService::OneToOneAttachments => (
                "1:1-attachments",
                "images, voice messages, videos and files between two users",
            ),
            DmaService::GroupText => ("group-text", "text messages within groups"),
            DmaService::GroupAttachments => (
                "group-attachments",
                "images, voice messages, videos and files within groups",
            ),
            DmaService::OneToOneVoice => ("1:1-voice", "voice calls between two users"),
            DmaService::OneToOneVideo => ("1:1-video", "video calls between two users"),
            DmaService::GroupVoice => ("group-voice", "voice calls within groups"),
            DmaService::GroupVideo => ("group-video", "video calls within groups"),
        }
    }
}

impl ProposalType {
    fn key(self) -> &'static str {
        match self {
            ProposalType::Add => "add",
            ProposalType::Update => "update",
            ProposalType::Remove => "remove",
            ProposalType::Psk => "psk",
            ProposalType::Reinit => "reinit",
            ProposalType::ExternalInit => "external_init",
            ProposalType::GroupContextExtensions => "group_context_extensions",
        }
    }
}

impl ClaimsSpec {
    /// Reads `path`; errors name the file, line and field.
    pub fn load(path: &std::path::Path) -> Result<Self, InputError> {
        let (text, file) = crate::input::read(path)?;
        ClaimsSpec::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<Self, InputError> {
        let parsed: FileIn = crate::input::from_toml(text, file)?;
        let mut claims: Vec<(String, String)> = Vec::new();
        let mut push = |key: String, label: String| {
            if !claims.iter().any(|(k, _)| *k == key) {
                claims.push((key, label));
            }
        };
        for Suite(suite) in parsed.ciphersuites {
            push(
                format!("ciphersuite:{suite}"),
                format!("cipher suite {suite}"),
            );
        }
        for proposal in parsed.proposal_types {
            push(
                format!("proposal:{}", proposal.key()),
                format!("{} proposals", proposal.key()),
            );
        }
        if parsed.external_join {
            push("external-join".into(), "joining by external commit".into());
        }
        for role in parsed.mimi_roles {
            let (key, label) = match role {
                MimiRole::Hub => ("hub", "MIMI hub provider"),
                MimiRole::Follower => ("follower", "MIMI follower provider"),
            };
            push(format!("mimi-role:{key}"), label.into());
        }
        for service in parsed.dma_services {
            let (key, label) = service.key_and_label();
            push(format!("service:{key}"), format!("DMA Art. 7: {label}"));
        }
        if claims.is_empty() {
            return Err(InputError {
                file: file.to_string(),
                line: 1,
                column: 1,
                field: String::new(),
                message: "claims nothing: expected at least one of ciphersuites, \
                          proposal_types, external_join = true, mimi_roles, dma_services"
                    .into(),
            });
        }
        Ok(ClaimsSpec {
            file: file.to_string(),
            subject: parsed.subject.0,
            client: parsed.client.map(|c| c.0),
            claims,
        })
    }

    /// Weighs every claim against `results`.
    pub fn evaluate(&self, results: &[CaseResult]) -> ClaimsReport {
        let claims = self
            .claims
            .iter()
            .map(|(key, label)| {
                let evidence: Vec<&CaseResult> = results
                    .iter()
                    .filter(|r| r.features.iter().any(|f| f == key))
                    .filter(|r| {
                        self.client
                            .as_ref()
                            .is_none_or(|c| r.clients.iter().any(|rc| rc == c))
                    })
                    .collect();
                weigh(key, label, &evidence)
            })
            .collect();
        ClaimsReport {
            subject: self.subject.clone(),
            client: self.client.clone(),
            claims,
        }
    }
}

fn weigh(key: &str, label: &str, evidence: &[&CaseResult]) -> ClaimResult {
    let count = |verdicts: &[Verdict]| {
        evidence
            .iter()
            .filter(|r| verdicts.contains(&r.verdict))
            .count()
    };
    // An unexpected pass did pass; an expected failure did fail.
    let passed = count(&[Verdict::Pass, Verdict::UnexpectedPass]);
    let failed = count(&[Verdict::Fail, Verdict::ExpectedFail]);
    let unsupported = count(&[Verdict::Unsupported]);
    let skipped = count(&[Verdict::Skipped]);
    let status = if failed + unsupported > 0 {
        ClaimStatus::Contradicted
    } else if passed > 0 {
        ClaimStatus::Supported
    } else {
        ClaimStatus::NoEvidence
    };
    let mut listed: Vec<&CaseResult> = evidence.to_vec();
    listed.sort_by_key(|r| match r.verdict {
        Verdict::Fail | Verdict::ExpectedFail => 0,
        Verdict::Unsupported => 1,
        Verdict::Pass | Verdict::UnexpectedPass => 2,
        Verdict::Skipped => 3,
    });
    ClaimResult {
        capability: key.to_string(),
        label: label.to_string(),
        status,
        passed,
        failed,
        unsupported,
        skipped,
        evidence: listed
            .iter()
            .take(EVIDENCE_LISTED)
            .map(|r| r.id.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_weighed_by_their_evidence() {
        let spec = ClaimsSpec::parse(
            "subject = \"X\"\nclient = \"a\"\nciphersuites = [1, 2]\nexternal_join = true\ndma_services = [\"group-text\"]\n",
            "c.toml",
        )
        .unwrap();
        let results = vec![
            CaseResult::pass("interop", "p1")
                .client("a")
                .feature("ciphersuite:1"),
            CaseResult::fail("interop", "f1", "x")
                .client("a")
                .features(["ciphersuite:2", "service:group-text"]),
            CaseResult::pass("interop", "p2")
                .client("b")
                .feature("external-join"),
        ];
        let report = spec.evaluate(&results);
        let statuses: Vec<ClaimStatus> = report.claims.iter().map(|c| c.status).collect();
        assert_eq!(
            statuses,
            [
                ClaimStatus::Supported,
                ClaimStatus::Contradicted,
                ClaimStatus::NoEvidence,
                ClaimStatus::Contradicted
            ]
        );
        assert_eq!(report.claims[1].evidence, ["f1"]);
    }

    #[test]
    fn bad_claims_name_line_and_field() {
        let error =
            ClaimsSpec::parse("subject = \"X\"\nciphersuites = [1, 9]\n", "c.toml").unwrap_err();
        assert_eq!((error.line, error.field.as_str()), (2, "ciphersuites[1]"));
        let error = ClaimsSpec::parse(
            "subject = \"X\"\n\nproposal_types = [\"add\", \"merge\"]\n",
            "c.toml",
        )
        .unwrap_err();
        assert_eq!((error.line, error.field.as_str()), (3, "proposal_types[1]"));
        assert!(error.message.contains("merge"), "{error}");
        let error = ClaimsSpec::parse("subject = \"X\"\n", "c.toml").unwrap_err();
        assert!(error.message.contains("claims nothing"), "{error}");
    }
}
