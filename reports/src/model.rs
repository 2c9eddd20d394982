//! The results model: one [`CaseResult`] per case Concord ran, whatever ran it, gathered in
//! a [`Report`] that every renderer reads and `report.json` stores.
//!
//! ```text
//! vectors, interop, scenarios, property tests, negative vectors
//!        │  CaseResult::pass / fail / unsupported / skipped + builder methods
//!        v
//! Report::new(run, results) ──apply_expectations──> expected-fail, unexpected-pass, stale
//!        │                  ──evaluate_claims─────> claim by claim, with evidence
//!        v
//! report.json (schema_version) ── JSON, JUnit, Markdown, HTML ── exit code
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::claims::{ClaimsReport, ClaimsSpec};
use crate::expect::{Expectations, StaleExpectation};

/// Version of `report.json`'s layout; `reports/schema/report.schema.json` describes it.
/// A reader refuses a report of another version rather than misread it.
pub const SCHEMA_VERSION: u32 = 1;

/// How a case ended, after the expectations file is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    /// The client said it does not support what the case needs (or the expectations file
    /// declares the feature unsupported): never counted as a failure.
    Unsupported,
    /// A failure the expectations file lists, with its reason.
    ExpectedFail,
    /// A listed failure that passed: counts as a failure until the file is fixed.
    UnexpectedPass,
    /// Not run, with a reason.
    Skipped,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 6] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Unsupported,
        Verdict::ExpectedFail,
        Verdict::UnexpectedPass,
        Verdict::Skipped,
    ];

    /// The spelling used in report.json and every rendered format.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unsupported => "unsupported",
            Verdict::ExpectedFail => "expected-fail",
            Verdict::UnexpectedPass => "unexpected-pass",
            Verdict::Skipped => "skipped",
        }
    }

    /// A result that makes the run exit with 1 (or 3 when a client fault caused it).
    pub fn is_unexpected(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::UnexpectedPass)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a transcript the steps that decided a case are, and what they say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptRef {
    /// The transcript file, relative to the report's folder when it lies inside it.
    pub file: String,
    /// First and last line (numbered from 1) of the deciding steps.
    pub first_line: u64,
    pub last_line: u64,
    /// Those lines, shortened for reading; kept in report.json so a re-render needs no
    /// transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}

/// One case: what ran, over which clients, which requirements it tests, how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Unique in a report, stable between runs: `interop/commit.json/add/1/private/0`.
    pub id: String,
    /// What produced it: `vectors`, `interop`, `scenario`, `property`, `negative`, ...
    pub source: String,
    /// The clients under test the case ran over (names as the run shows them).
    pub clients: Vec<String>,
    /// What those clients call themselves (their MLSClient Name answer), when known: an
    /// expectations entry may name a client by either.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implementations: Vec<String>,
    /// The cipher suite, when the case is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<u16>,
    /// Requirement IDs (concord-spec) the case tests; the first one places it in an RFC
    /// section (JUnit test suite).
    pub requirements: Vec<String>,
    /// Capabilities the case exercises (`ciphersuite:3`, `external-join`, `proposal:add`,
    /// `service:group-text`, ...): the evidence for claims.
    #[serde(default)]
    pub features: Vec<String>,
    pub verdict: Verdict,
    /// The system under test crashed, hung, could not be reached or answered garbage.
    #[serde(default)]
    pub client_fault: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Why it failed, was unsupported or skipped; notes for a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// One command that reruns just this case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproducer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<TranscriptRef>,
    /// The expectations file's reason, when an entry matched this case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectation: Option<String>,
    /// Drawn from the whole run rather than from one case (a deviation filed once per
    /// client, `interop/findings/...`): each shard of a sharded run files its own from its
    /// cases, and `concord report --merge` keeps one, a failing one if any.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_run: bool,
}

impl CaseResult {
    /// A case with `verdict`, and nothing else yet: add the rest with the builder methods.
    pub fn new(source: impl Into<String>, id: impl Into<String>, verdict: Verdict) -> Self {
        CaseResult {
            id: id.into(),
            source: source.into(),
            clients: Vec::new(),
            implementations: Vec::new(),
            suite: None,
            requirements: Vec::new(),
            features: Vec::new(),
            verdict,
            client_fault: false,
            duration_seconds: None,
            detail: None,
            reproducer: None,
            transcript: None,
            expectation: None,
            per_run: false,
        }
    }

    pub fn pass(source: impl Into<String>, id: impl Into<String>) -> Self {
        CaseResult::new(source, id, Verdict::Pass)
    }

    pub fn fail(
        source: impl Into<String>,
        id: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        CaseResult::new(source, id, Verdict::Fail).detail(detail)
    }

    pub fn unsupported(
        source: impl Into<String>,
        id: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        CaseResult::new(source, id, Verdict::Unsupported).detail(detail)
    }

    pub fn skipped(
        source: impl Into<String>,
        id: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        CaseResult::new(source, id, Verdict::Skipped).detail(reason)
    }

    /// A failure caused by the system under test crashing, hanging or being unreachable
    /// (exit code 3).
    pub fn client_fault(
        source: impl Into<String>,
        id: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        let mut result = CaseResult::fail(source, id, detail);
        result.client_fault = true;
        result
    }

    pub fn client(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.clients.contains(&name) {
            self.clients.push(name);
        }
        self
    }

    pub fn clients<I: IntoIterator<Item = S>, S: Into<String>>(self, names: I) -> Self {
        names.into_iter().fold(self, CaseResult::client)
    }

    /// Adds what the clients call themselves (each once).
    pub fn implementations<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        for name in names {
            let name = name.into();
            if !self.implementations.contains(&name) {
                self.implementations.push(name);
            }
        }
        self
    }

    pub fn suite(mut self, suite: u16) -> Self {
        self.suite = Some(suite);
        self
    }

    pub fn requirement(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        if !self.requirements.contains(&id) {
            self.requirements.push(id);
        }
        self
    }

    pub fn requirements<I: IntoIterator<Item = S>, S: Into<String>>(self, ids: I) -> Self {
        ids.into_iter().fold(self, CaseResult::requirement)
    }

    pub fn feature(mut self, feature: impl Into<String>) -> Self {
        let feature = feature.into();
        if !self.features.contains(&feature) {
            self.features.push(feature);
        }
        self
    }

    pub fn features<I: IntoIterator<Item = S>, S: Into<String>>(self, features: I) -> Self {
        features.into_iter().fold(self, CaseResult::feature)
    }

    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration_seconds = Some(duration.as_secs_f64());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn reproducer(mut self, command: impl Into<String>) -> Self {
        self.reproducer = Some(command.into());
        self
    }

    /// Marks the result as drawn from the whole run (see [`CaseResult::per_run`]).
    pub fn per_run(mut self) -> Self {
        self.per_run = true;
        self
    }

    pub fn transcript(mut self, transcript: TranscriptRef) -> Self {
        self.transcript = Some(transcript);
        self
    }

    /// The RFC section the case belongs to: its first requirement's, or `uncited`.
    pub fn section(&self) -> String {
        self.requirements
            .first()
            .map(|id| crate::coverage::section_of(id))
            .unwrap_or_else(|| "uncited".to_string())
    }
}

/// How the run was made.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunInfo {
    /// The command line that made the run (to repeat it).
    pub command: String,
    /// `quick` or `full`.
    pub profile: String,
    pub seed: u64,
    /// Every client under test, in the order of the interop matrix.
    pub clients: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectations_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_file: Option<String>,
    /// Input that could not be read (a vector file, a script): the run is incomplete and
    /// exits with 2.
    #[serde(default)]
    pub input_errors: Vec<String>,
    /// What the run did not cover, and why.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The command line's words as given (`concord replay` runs them again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    /// `K/N` when the run is one shard of N (`--shard K/N`): it holds only its share of the
    /// cases, and an expectation entry matching none of them is not stale on that account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The shards a merged report was made of (`concord report --merge`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_shards: Vec<String>,
}

/// A whole run: what `report.json` holds and every renderer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    /// The Concord version that made it.
    pub concord_version: String,
    pub run: RunInfo,
    pub results: Vec<CaseResult>,
    /// Expectation entries that matched nothing (or whose unsupported feature now passes).
    #[serde(default)]
    pub stale_expectations: Vec<StaleExpectation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimsReport>,
}

/// The counts of a report, by verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub unsupported: usize,
    pub expected_fail: usize,
    pub unexpected_pass: usize,
    pub skipped: usize,
    /// Failures (not expected) caused by a client fault.
    pub client_faults: usize,
}

impl Counts {
    pub fn of(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Pass => self.pass,
            Verdict::Fail => self.fail,
            Verdict::Unsupported => self.unsupported,
            Verdict::ExpectedFail => self.expected_fail,
            Verdict::UnexpectedPass => self.unexpected_pass,
            Verdict::Skipped => self.skipped,
        }
    }

    pub fn total(&self) -> usize {
        Verdict::ALL.iter().map(|v| self.of(*v)).sum()
    }
}

/// Why a saved report cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

impl Report {
    /// A report of `results`, as they came (apply expectations and claims next).
    pub fn new(concord_version: impl Into<String>, run: RunInfo, results: Vec<CaseResult>) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            concord_version: concord_version.into(),
            run,
            results,
            stale_expectations: Vec::new(),
            claims: None,
        }
    }

    /// Turns listed failures into expected-fail or unexpected-pass, declared unsupported
    /// features into unsupported, and records the entries that matched nothing.
    pub fn apply_expectations(&mut self, expectations: &Expectations) {
        self.stale_expectations = expectations.apply(&mut self.results);
        self.run.expectations_file = Some(expectations.file.clone());
    }

    /// Weighs each claim against the results (apply expectations first).
    pub fn evaluate_claims(&mut self, claims: &ClaimsSpec) {
        self.claims = Some(claims.evaluate(&self.results));
        self.run.claims_file = Some(claims.file.clone());
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for result in &self.results {
            match result.verdict {
                Verdict::Pass => counts.pass += 1,
                Verdict::Fail => {
                    counts.fail += 1;
                    if result.client_fault {
                        counts.client_faults += 1;
                    }
                }
                Verdict::Unsupported => counts.unsupported += 1,
                Verdict::ExpectedFail => counts.expected_fail += 1,
                Verdict::UnexpectedPass => counts.unexpected_pass += 1,
                Verdict::Skipped => counts.skipped += 1,
            }
        }
        counts
    }

    /// Counts per source (`vectors`, `interop`, ...), in order of first appearance.
    pub fn counts_by_source(&self) -> Vec<(String, Counts)> {
        let mut order: Vec<String> = Vec::new();
        let mut by: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
        for result in &self.results {
            if !order.contains(&result.source) {
                order.push(result.source.clone());
            }
            by.entry(result.source.clone()).or_default().push(result);
        }
        order
            .into_iter()
            .map(|source| {
                let results: Vec<CaseResult> = by
                    .get(&source)
                    .map(|r| r.iter().map(|c| (*c).clone()).collect())
                    .unwrap_or_default();
                let sub = Report::new("", RunInfo::default(), results);
                (source, sub.counts())
            })
            .collect()
    }

    /// The exit code of the CI contract: 2 input that could not be read, 3 a client fault
    /// among the unexpected results, 1 another unexpected result (or, with `strict`, a stale
    /// expectation), 0 everything as expected.
    pub fn exit_code(&self, strict_expectations: bool) -> u8 {
        let counts = self.counts();
        if !self.run.input_errors.is_empty() {
            2
        } else if counts.client_faults > 0 {
            3
        } else if counts.fail > 0
            || counts.unexpected_pass > 0
            || (strict_expectations && self.stale_expectations.iter().any(|s| self.counts_stale(s)))
        {
            1
        } else {
            0
        }
    }

    /// Whether a stale entry makes a strict run fail: in one shard of a run, an entry that
    /// matches none of the shard's cases may match a case of another shard, so only the
    /// merge of the shards can call it stale.
    fn counts_stale(&self, stale: &StaleExpectation) -> bool {
        self.run.shard.is_none() || !stale.why.starts_with("matches no case")
    }

    /// The one line a terminal shows: `report: N pass, N fail, ...`.
    pub fn closing_line(&self) -> String {
        let counts = self.counts();
        let parts: Vec<String> = Verdict::ALL
            .iter()
            .map(|v| format!("{} {}", counts.of(*v), v.as_str()))
            .collect();
        format!("report: {}", parts.join(", "))
    }

    /// Reads a saved `report.json`, refusing another schema version.
    pub fn from_json(text: &str, file: &str) -> Result<Report, ReadError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            ReadError(format!(
                "{file}:{}:{}: not valid JSON: {e}",
                e.line(),
                e.column()
            ))
        })?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(ReadError(format!(
                    "{file}: field `schema_version`: this Concord reads version {SCHEMA_VERSION}, the file is version {v}"
                )));
            }
            None => {
                return Err(ReadError(format!(
                    "{file}: field `schema_version`: missing or not a number (is this a Concord report.json?)"
                )));
            }
        }
        serde_path_to_error::deserialize(value)
            .map_err(|e| ReadError(format!("{file}: field `{}`: {}", e.path(), e.inner())))
    }

    /// `report.json`'s text.
    pub fn to_json(&self) -> String {
        crate::render::json::render(self)
    }
}
