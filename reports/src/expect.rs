//! The expectations file (`--expect FILE`): known failures and unsupported features per
//! client, each with a reason.
//!
//! ```toml
//! [[known_failure]]
//! client = "openmls"                        # a client (its spec or its Name answer; glob), "*": any
//! case = "interop/external_proposals.json/*" # optional: glob over case IDs (`*` = anything)
//! requirement = "RFC9420-12.1.8-*"           # optional: glob over the cited requirement IDs
//! suite = 3                                  # optional: the case's cipher suite
//! source = "interop"                         # optional: vectors, interop, scenario, ...
//! detail = "*confirmation tag*"              # optional: glob over the failure's detail
//! reason = "external senders not implemented (tracking issue 42)"
//!
//! [[unsupported]]
//! client = "mls-rs"
//! suite = 6
//! reason = "no Ed448 in our build"
//! ```
//!
//! An entry matches a case when every field it gives matches. An entry with `detail` only
//! matches a case that has a detail (a failure, mostly): it explains a failure by what went
//! wrong, and so never turns a pass into an unexpected pass. The first matching entry
//! decides (known failures before unsupported features, each in file order):
//!
//! ```text
//! known_failure × fail  -> expected-fail      known_failure × pass -> unexpected-pass
//! unsupported   × fail  -> unsupported        unsupported   × pass -> pass
//! ```
//!
//! An entry that matches no case is stale, and so is an `unsupported` entry whose cases all
//! pass: the report lists both, as warnings (errors with `--strict-expect`).

use serde::{Deserialize, Serialize};

use crate::input::{InputError, NonEmpty, glob_match, line_column};
use crate::model::{CaseResult, Verdict};

/// Which list an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectationKind {
    KnownFailure,
    Unsupported,
}

impl ExpectationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectationKind::KnownFailure => "known_failure",
            ExpectationKind::Unsupported => "unsupported",
        }
    }
}

/// One entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub kind: ExpectationKind,
    pub client: String,
    pub case: Option<String>,
    pub requirement: Option<String>,
    pub suite: Option<u16>,
    pub source: Option<String>,
    /// Glob over the case's detail (what failed, and how).
    pub detail: Option<String>,
    pub reason: String,
    /// Line of the entry in its file.
    pub line: usize,
}

impl Expectation {
    pub fn matches(&self, result: &CaseResult) -> bool {
        (self.client == "*"
            || result
                .clients
                .iter()
                .chain(&result.implementations)
                .any(|c| glob_match(&self.client, c)))
            && self.case.as_ref().is_none_or(|p| glob_match(p, &result.id))
            && self
                .requirement
                .as_ref()
                .is_none_or(|p| result.requirements.iter().any(|r| glob_match(p, r)))
            && self.suite.is_none_or(|s| result.suite == Some(s))
            && self.source.as_ref().is_none_or(|s| *s == result.source)
            && self
                .detail
                .as_ref()
                .is_none_or(|p| result.detail.as_ref().is_some_and(|d| glob_match(p, d)))
    }

    /// `client=openmls case=interop/* suite=3`: what the entry selects.
    pub fn selector(&self) -> String {
        let mut parts = vec![format!("client={}", self.client)];
        if let Some(case) = &self.case {
            parts.push(format!("case={case}"));
        }
        if let Some(requirement) = &self.requirement {
            parts.push(format!("requirement={requirement}"));
        }
        if let Some(suite) = self.suite {
            parts.push(format!("suite={suite}"));
        }
        if let Some(source) = &self.source {
            parts.push(format!("source={source}"));
        }
        if let Some(detail) = &self.detail {
            parts.push(format!("detail={detail}"));
        }
        parts.join(" ")
    }
}

/// A parsed expectations file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    pub file: String,
    pub entries: Vec<Expectation>,
}

/// An entry that no longer says anything true about the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleExpectation {
    pub file: String,
    pub line: usize,
    pub kind: ExpectationKind,
    /// What the entry selects (`client=... case=...`).
    pub selector: String,
    pub reason: String,
    /// Why it is stale.
    pub why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    #[serde(default)]
    known_failure: Vec<toml::Spanned<EntryIn>>,
    #[serde(default)]
    unsupported: Vec<toml::Spanned<EntryIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryIn {
    client: NonEmpty,
    case: Option<NonEmpty>,
    requirement: Option<NonEmpty>,
    suite: Option<u16>,
    source: Option<NonEmpty>,
    detail: Option<NonEmpty>,
    reason: NonEmpty,
}

impl Expectations {
    /// Reads `path`; errors name the file, line and field.
    pub fn load(path: &std::path::Path) -> Result<Self, InputError> {
        let (text, file) = crate::input::read(path)?;
        Expectations::parse(&text, &file)
    }

    /// Parses the text of an expectations file called `file`.
    pub fn parse(text: &str, file: &str) -> Result<Self, InputError> {
        let parsed: FileIn = crate::input::from_toml(text, file)?;
        let mut entries = Vec::new();
        for (kind, list) in [
            (ExpectationKind::KnownFailure, parsed.known_failure),
            (ExpectationKind::Unsupported, parsed.unsupported),
        ] {
            for spanned in list {
                let line = line_column(text, spanned.span().start).0;
                let entry = spanned.into_inner();
                entries.push(Expectation {
                    kind,
                    client: entry.client.0,
                    case: entry.case.map(|c| c.0),
                    requirement: entry.requirement.map(|r| r.0),
                    suite: entry.suite,
                    source: entry.source.map(|s| s.0),
                    detail: entry.detail.map(|d| d.0),
                    reason: entry.reason.0,
                    line,
                });
            }
        }
        Ok(Expectations {
            file: file.to_string(),
            entries,
        })
    }

    /// Applies the entries to `results` (verdicts as the run gave them) and returns the
    /// stale entries.
    pub fn apply(&self, results: &mut [CaseResult]) -> Vec<StaleExpectation> {
        // Per entry: cases matched, and cases matched that did not pass.
        let mut matched = vec![(0usize, 0usize); self.entries.len()];
        for result in results.iter_mut() {
            let Some(index) = self.entries.iter().position(|e| e.matches(result)) else {
                continue;
            };
            let entry = &self.entries[index];
            matched[index].0 += 1;
            if result.verdict != Verdict::Pass {
                matched[index].1 += 1;
            }
            result.expectation = Some(entry.reason.clone());
            result.verdict = match (entry.kind, result.verdict) {
                (ExpectationKind::KnownFailure, Verdict::Fail) => Verdict::ExpectedFail,
                (ExpectationKind::KnownFailure, Verdict::Pass) => Verdict::UnexpectedPass,
                (ExpectationKind::Unsupported, Verdict::Fail) => {
                    result.detail = Some(match &result.detail {
                        Some(detail) => format!("declared unsupported; the run said: {detail}"),
                        None => "declared unsupported".to_string(),
                    });
                    Verdict::Unsupported
                }
                (_, verdict) => verdict,
            };
        }
        self.entries
            .iter()
            .zip(matched)
            .filter_map(|(entry, (all, not_passing))| {
                let why = if all == 0 {
                    "matches no case of this run".to_string()
                } else if entry.kind == ExpectationKind::Unsupported && not_passing == 0 {
                    format!("all {all} matching case(s) pass: the feature looks supported now")
                } else {
                    return None;
                };
                Some(StaleExpectation {
                    file: self.file.clone(),
                    line: entry.line,
                    kind: entry.kind,
                    selector: entry.selector(),
                    reason: entry.reason.clone(),
                    why,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, client: &str, verdict: Verdict) -> CaseResult {
        CaseResult::new("interop", id, verdict)
            .client(client)
            .suite(1)
            .requirement("RFC9420-12.4.2-1")
    }

    const FILE: &str = r#"
[[known_failure]]
client = "peer"
case = "interop/a/*"
reason = "bug 1"

[[known_failure]]
client = "peer"
case = "interop/b"
reason = "bug 2"

[[unsupported]]
client = "*"
suite = 1
requirement = "RFC9420-12.4.*"
reason = "suite 1 not offered"

[[known_failure]]
client = "nobody"
reason = "left over"
"#;

    #[test]
    fn verdicts_follow_the_entries() {
        let expectations = Expectations::parse(FILE, "expect.toml").unwrap();
        let mut results = vec![
            case("interop/a/1", "peer", Verdict::Fail),
            case("interop/a/2", "peer", Verdict::Pass),
            case("interop/b", "peer", Verdict::Fail),
            case("interop/c", "other", Verdict::Fail),
            case("interop/d", "other", Verdict::Pass),
        ];
        let stale = expectations.apply(&mut results);
        let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::ExpectedFail,
                Verdict::UnexpectedPass,
                Verdict::ExpectedFail,
                Verdict::Unsupported,
                Verdict::Pass
            ]
        );
        assert_eq!(results[0].expectation.as_deref(), Some("bug 1"));
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].line, 18);
        assert_eq!(stale[0].selector, "client=nobody");
    }

    #[test]
    fn unsupported_entry_whose_cases_pass_is_stale() {
        let expectations = Expectations::parse(
            "[[unsupported]]\nclient = \"x\"\nreason = \"r\"\n",
            "e.toml",
        )
        .unwrap();
        let mut results = vec![case("interop/a", "x", Verdict::Pass)];
        let stale = expectations.apply(&mut results);
        assert_eq!(results[0].verdict, Verdict::Pass);
        assert_eq!(stale.len(), 1);
        assert!(stale[0].why.contains("pass"), "{}", stale[0].why);
    }

    #[test]
    fn errors_name_line_and_field() {
        let text = "[[known_failure]]\nclient = \"x\"\nreason = \"\"\n";
        let error = Expectations::parse(text, "e.toml").unwrap_err();
        assert_eq!(
            (error.line, error.field.as_str()),
            (3, "known_failure[0].reason")
        );
        assert!(error.message.contains("empty"), "{error}");

        let text = "[[known_failure]]\nclient = \"x\"\nreason = \"r\"\nsuite = \"one\"\n";
        let error = Expectations::parse(text, "e.toml").unwrap_err();
        assert_eq!(
            (error.line, error.field.as_str()),
            (4, "known_failure[0].suite")
        );

        let text = "[[known_failure]]\nclient = \"x\"\nreason = \"r\"\ncolour = 1\n";
        let error = Expectations::parse(text, "e.toml").unwrap_err();
        assert_eq!(error.line, 4);
        assert!(error.message.contains("colour"), "{error}");

        let text = "[[known_failure]\n";
        let error = Expectations::parse(text, "e.toml").unwrap_err();
        assert_eq!(error.line, 1);
        assert_eq!(error.to_string().split(':').next(), Some("e.toml"));
    }

    #[test]
    fn a_detail_entry_explains_matching_failures_and_never_flags_a_pass() {
        let file = r#"
[[known_failure]]
client = "peer"
detail = "*confirmation tag*"
reason = "orders PSKs differently"
"#;
        let expectations = Expectations::parse(file, "peers.toml").unwrap();
        let mut results = vec![
            case("interop/x", "peer", Verdict::Fail)
                .detail("HandleCommit: invalid confirmation tag"),
            case("interop/y", "peer", Verdict::Fail).detail("JoinGroup: refused"),
            case("interop/z", "peer", Verdict::Pass),
        ];
        let stale = expectations.apply(&mut results);
        assert!(stale.is_empty(), "{stale:?}");
        assert_eq!(results[0].verdict, Verdict::ExpectedFail);
        assert_eq!(results[1].verdict, Verdict::Fail);
        assert_eq!(results[2].verdict, Verdict::Pass);
        assert!(
            expectations.entries[0]
                .selector()
                .contains("detail=*confirmation tag*")
        );
    }
}
