//! Concord's results model and its reports.
//!
//! ```text
//! producers (vectors, interop, scenarios, property tests, negative vectors)
//!      │ CaseResult per case: id, source, clients, suite, requirement IDs, features,
//!      │ verdict, duration, detail, reproducer, transcript reference
//!      v
//! Report ──expectations (--expect)──> expected-fail / unexpected-pass / unsupported, stale
//!        ──claims (--claims)────────> supported / contradicted / no evidence, with evidence
//!      │
//!      ├── report.json  (schema_version; reports/schema/report.schema.json)
//!      ├── junit.xml    (one <testsuite> per RFC section; reports/schema/junit.xsd)
//!      ├── summary.md
//!      └── index.html   (one file, no script, no network; bench.json plots as inline SVG)
//! ```
//!
//! This crate depends on the requirement catalog (concord-spec) and nothing of the harness,
//! so a saved `report.json` can be re-rendered anywhere.
//!
//! # Adding results from a new producer
//!
//! A producer (a scenario runner, negative vectors, ...) makes one [`CaseResult`] per case
//! with a constructor and builder methods, and appends it to the run's list:
//!
//! ```
//! use concord_reports::{CaseResult, Report, RunInfo, TranscriptRef};
//! use std::time::Duration;
//!
//! let passed = CaseResult::pass("scenario", "scenario/partition-heal/seed-42")
//!     .clients(["reference", "grpc://127.0.0.1:50051"])
//!     .suite(1)
//!     .requirements(["RFC9420-12.4.2-1"])
//!     .features(["ciphersuite:1", "service:group-text"])
//!     .duration(Duration::from_millis(120))
//!     .reproducer("concord sim scenarios/partition-heal.toml --seed 42");
//! let failed = CaseResult::fail("negative", "negative/commit/bad-signature", "accepted a forged commit")
//!     .client("grpc://127.0.0.1:50051")
//!     .requirement("RFC9420-6.1-1")
//!     .transcript(TranscriptRef {
//!         file: "transcript.jsonl".into(),
//!         first_line: 10,
//!         last_line: 12,
//!         excerpt: None,
//!     });
//! let report = Report::new("0.1.0", RunInfo::default(), vec![passed, failed]);
//! assert_eq!(report.exit_code(false), 1);
//! ```
//!
//! A failure that a known deviation of a peer explains links to its finding
//! (`reports/findings/*.md`, compiled in: [`findings`]) in every human-readable format.
//!
//! Verdicts are the six of the CI contract ([`Verdict`]); a producer gives pass, fail,
//! unsupported or skipped (and marks a crash, hang or unreachable client with
//! [`CaseResult::client_fault`]); the expectations file turns them into expected-fail and
//! unexpected-pass. `features` are the evidence keys claims look for: `ciphersuite:N`,
//! `proposal:add|update|remove|psk|reinit|external_init|group_context_extensions`,
//! `external-join`, `mimi-role:hub|follower`, `service:1:1-text|group-text|...` (see
//! [`claims`]).
#![forbid(unsafe_code)]

/// Process exit codes of the `concord` command: the CI contract every report's
/// [`model::Report::exit_code`] and every subcommand follows.
pub mod exit {
    /// Everything as expected.
    pub const OK: u8 = 0;
    /// At least one unexpected result (a failed check).
    pub const UNEXPECTED: u8 = 1;
    /// Bad usage or bad input files.
    pub const BAD_INPUT: u8 = 2;
    /// The system under test crashed, hung or could not be reached.
    pub const SYSTEM_UNDER_TEST: u8 = 3;
}

pub mod bench;
pub mod claims;
pub mod coverage;
pub mod expect;
pub mod findings;
pub mod input;
pub mod model;
pub mod render;
pub mod shard;

use std::path::{Path, PathBuf};

pub use bench::BenchFile;
pub use claims::{ClaimStatus, ClaimsReport, ClaimsSpec};
pub use expect::{Expectations, StaleExpectation};
pub use findings::Finding;
pub use input::InputError;
pub use model::{CaseResult, Counts, Report, RunInfo, SCHEMA_VERSION, TranscriptRef, Verdict};
pub use shard::{Diff, Shard};

/// The files [`write_all`] writes, in this order.
pub const FILES: [&str; 4] = ["index.html", "report.json", "junit.xml", "summary.md"];

/// Writes the four formats into `dir` (created if missing); returns the path of
/// `index.html`.
pub fn write_all(
    report: &Report,
    catalog: &concord_spec::Catalog,
    bench: Option<&BenchFile>,
    dir: &Path,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let texts = [
        render::html::render(report, catalog, bench),
        render::json::render(report),
        render::junit::render(report, catalog),
        render::markdown::render(report, catalog),
    ];
    for (name, text) in FILES.iter().zip(texts) {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(dir.join(FILES[0]))
}
