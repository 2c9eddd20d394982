//! `concord interop`: every case of every script, over the given clients, to a closing line,
//! an exit code, a transcript and a matrix.
//!
//! ```text
//! configs ──load (errors: exit 2)──> scripts
//! clients ──Name, SupportedCiphersuites──> names, suites (a failure here marks their cases)
//! cases = script × assignment (all / seeded random) × common suite (--suite) × handshake mode
//!       ──run_case──> verdicts ──> lines, matrix.md, matrix.json, transcript.jsonl
//!                              └─ --export-vectors: passive-client vectors, index.json
//! ```
//!
//! Exit codes: 0 every case passed or was skipped, 1 a case failed, 3 a client crashed, hung,
//! was unreachable or answered garbage (3 wins over 1), 2 bad usage or a bad config.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::config::{self, ConfigError, ConfigFile};
use super::matrix::{CaseRecord, Matrix, stable_hash};
use super::runner::{CaseResult, CaseSpec, Pool, Problem, Verdict};
use super::transcript::Transcript;
use super::worker::{CallError, Worker};
use crate::client::grpc::GrpcClient;
use crate::client::reference::ReferenceClient;
use crate::client::{ClientError, ClientUnderTest, proto};
use crate::exit;

/// Which handshake modes to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Handshake {
    Private,
    Public,
    All,
}

/// How actors get clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Every assignment of the clients to the script's actors (clients^actors of them);
    /// refused for a script with more than 100,000.
    All,
    /// One assignment per script, drawn from --seed.
    Random,
    /// Every two clients in every two roles: for any actors a and b and clients x and y,
    /// some assignment gives a client x and b client y (a covering array drawn from --seed;
    /// 2 clients over 41 actors: about a dozen assignments).
    Pairwise,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub configs: Vec<PathBuf>,
    /// The client specifications as given (they go into reproducer commands).
    pub client_specs: Vec<String>,
    pub suites: Option<Vec<u16>>,
    pub handshake: Handshake,
    pub mode: Mode,
    pub seed: u64,
    pub timeout: Duration,
    /// Where transcript.jsonl, matrix.md and matrix.json go (`None`: nowhere).
    pub out: Option<PathBuf>,
    /// Only the script of this name.
    pub script: Option<String>,
    /// Only this assignment (client indices in the script's actor order).
    pub assignment: Option<Vec<usize>>,
    /// Varies group ids, identities and PSKs between runs: derived from the seed and the
    /// run tag ([`run_nonce`]).
    pub nonce: u64,
    /// The run tag (printed, in the transcript and every reproducer): with the seed it
    /// reproduces a run byte for byte; a fresh one keeps a run's group ids and identities
    /// apart from every earlier run's on servers that outlive a run.
    pub run_tag: String,
    /// No progress bar or progress lines.
    pub quiet: bool,
    /// Keep the calls of passing cases in the transcript too (`--transcript all`); by
    /// default it holds the cases that did not pass.
    pub transcript_passes: bool,
    /// Known failures and unsupported features (`--expect`): applied as each case ends, so
    /// every printed line and count already tells a known failure from a new one.
    pub expectations: Option<concord_reports::Expectations>,
    /// Only the cases of this shard (`--shard K/N`): a stable partition by case ID.
    pub shard: Option<concord_reports::Shard>,
    /// Where each case goes as a passive-client test vector (`--export-vectors`, see
    /// [`super::export`]); `None`: nowhere, and nothing is recorded for it.
    pub export_vectors: Option<PathBuf>,
}

/// A fresh run tag: 8 hex digits from the OS's randomness (through the standard library's
/// randomly keyed hasher) and the clock.
pub fn fresh_run_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(now);
    hasher.write_u32(std::process::id());
    format!("{:08x}", hasher.finish() as u32)
}

/// Whether `tag` is a run tag (1 to 16 hex digits).
pub fn valid_run_tag(tag: &str) -> bool {
    (1..=16).contains(&tag.len()) && tag.chars().all(|c| c.is_ascii_hexdigit())
}

/// The nonce group ids, identities and PSKs of a run come from.
pub fn run_nonce(seed: u64, run_tag: &str) -> u64 {
    seed.rotate_left(32) ^ 0x636f_6e63_6f72_6400 ^ stable_hash(run_tag).rotate_left(17)
}

/// Why a run could not start (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
}

/// The counts of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub passed: usize,
    /// Failures not explained by an expectations file.
    pub failed: usize,
    pub unsupported: usize,
    pub client_faults: usize,
    /// Cases not run because a client they need went down earlier in the run.
    pub skipped: usize,
    /// Findings reported once per client (also among `records` and in `failed`).
    pub findings: usize,
    /// Failures an expectations file lists as known (`--expect`).
    pub expected_failures: usize,
    /// Cases an expectations file lists as known failures that passed (counted in
    /// `failed`), as `case: reason`.
    pub unexpected_passes: Vec<String>,
    /// Expectations that match nothing (`--expect`).
    pub stale: Vec<concord_reports::StaleExpectation>,
    pub records: Vec<CaseRecord>,
    /// The clients' display names, in `--client` order.
    pub names: Vec<String>,
}

impl Summary {
    /// `interop: N passed, N failed, N skipped` (client faults and findings count as
    /// failed, unsupported cases and cases not run for a client down as skipped).
    pub fn closing_line(&self) -> String {
        format!(
            "interop: {} passed, {} failed, {} skipped",
            self.passed,
            self.failed + self.client_faults,
            self.unsupported + self.skipped
        )
    }

    pub fn exit_code(&self) -> u8 {
        if self.client_faults > 0 {
            exit::SYSTEM_UNDER_TEST
        } else if self.failed > 0 {
            exit::UNEXPECTED
        } else {
            exit::OK
        }
    }
}

/// Opens a client from its specification; `seed` seeds in-process clients' randomness.
pub fn open_client(
    spec: &str,
    timeout: Duration,
    seed: u64,
) -> Result<Box<dyn ClientUnderTest>, String> {
    if spec.starts_with("grpc://") {
        return GrpcClient::new(spec, timeout)
            .map(|c| Box::new(c) as Box<dyn ClientUnderTest>)
            .map_err(|e| e.to_string());
    }
    if let Some(command) = spec.strip_prefix("exec:") {
        return super::process::ExecClient::new(command, timeout)
            .map(|c| Box::new(c) as Box<dyn ClientUnderTest>)
            .map_err(|e| e.to_string());
    }
    match spec {
        "reference" => Ok(Box::new(ReferenceClient::new(seed))),
        #[cfg(feature = "openmls")]
        "openmls" => Ok(Box::new(concord_openmls::OpenMlsClient::new(seed))),
        #[cfg(feature = "mls-rs")]
        "mls-rs" => Ok(Box::new(concord_mls_rs::MlsRsClient::new(seed))),
        #[cfg(not(feature = "openmls"))]
        "openmls" => Err(not_built_in(spec)),
        #[cfg(not(feature = "mls-rs"))]
        "mls-rs" => Err(not_built_in(spec)),
        _ => Err(format!(
            "unknown client `{spec}`: expected grpc://HOST:PORT, exec:'COMMAND ... {{port}}', reference, openmls or mls-rs"
        )),
    }
}

/// Opens `jobs` lanes of the clients `specs` (see [`run_lanes`]). In-process clients get a
/// seed per lane and per position, derived from `seed`: lane 0's first client gets `seed`.
pub fn open_lanes(
    specs: &[String],
    jobs: usize,
    timeout: Duration,
    seed: u64,
) -> Result<Vec<Vec<Box<dyn ClientUnderTest>>>, String> {
    (0..jobs.max(1))
        .map(|lane| {
            specs
                .iter()
                .enumerate()
                .map(|(index, spec)| open_client(spec, timeout, instance_seed(seed, lane, index)))
                .collect()
        })
        .collect()
}

/// The seed of one client instance: distinct per lane and position, `seed` itself for the
/// first instance.
pub fn instance_seed(seed: u64, lane: usize, index: usize) -> u64 {
    let instance = (lane as u64) << 32 | index as u64;
    seed ^ instance.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[cfg(not(all(feature = "openmls", feature = "mls-rs")))]
fn not_built_in(spec: &str) -> String {
    format!("client `{spec}` is not built into this concord (cargo feature `{spec}`)")
}

/// What setting up a client gave: its name and suites, or why its cases cannot run.
struct Setup {
    name: String,
    suites: Option<Vec<u16>>,
    failure: Option<(Verdict, String)>,
}

fn set_up(worker: &Worker, spec: &str) -> Setup {
    let name = match worker.call("Name", proto::NameRequest {}, |c, r| c.name(r)) {
        Ok(answer) if !answer.name.is_empty() => answer.name,
        Ok(_) | Err(CallError::Client(ClientError::Unsupported { .. })) => spec.to_string(),
        Err(e) => return setup_failure(spec, &e),
    };
    let request = proto::SupportedCiphersuitesRequest {};
    match worker.call("SupportedCiphersuites", request, |c, r| {
        c.supported_ciphersuites(r)
    }) {
        Ok(answer) => Setup {
            name,
            suites: Some(
                answer
                    .ciphersuites
                    .into_iter()
                    .filter_map(|s| u16::try_from(s).ok())
                    .collect(),
            ),
            failure: None,
        },
        Err(e) => Setup {
            name: name.clone(),
            ..setup_failure(&name, &e)
        },
    }
}

fn setup_failure(name: &str, error: &CallError) -> Setup {
    let verdict = if error.is_client_fault() {
        Verdict::ClientFault
    } else if matches!(error, CallError::Client(ClientError::Unsupported { .. })) {
        Verdict::Unsupported
    } else {
        Verdict::Failed
    };
    Setup {
        name: name.to_string(),
        suites: None,
        failure: Some((verdict, format!("setting up the client: {error}"))),
    }
}

/// Runs everything `options` asks for over `clients` (one per `options.client_specs`), on
/// one lane. See [`run_lanes`].
pub fn run(
    options: &Options,
    clients: Vec<Box<dyn ClientUnderTest>>,
    out: &mut dyn Write,
) -> Result<Summary, SessionError> {
    run_lanes(options, vec![clients], out)
}

/// Runs everything `options` asks for, printing one line per case that did not pass and a
/// line per config file; the caller prints the closing line ([`Summary::closing_line`]), once
/// any expectations file has been applied.
///
/// Each lane is one instance of every client (`lanes[k][i]` is client `i` on lane `k`), with
/// its own worker threads; case `n` of the plan runs on lane `n % lanes`, so each instance
/// sees the same calls in the same order whatever the timing, and a seeded in-process client
/// gives the same answers run after run. Results and transcript lines are written in plan
/// order, so the output does not depend on the lanes' timing.
pub fn run_lanes(
    options: &Options,
    lanes: Vec<Vec<Box<dyn ClientUnderTest>>>,
    out: &mut dyn Write,
) -> Result<Summary, SessionError> {
    let files = options
        .configs
        .iter()
        .map(|path| config::load(path))
        .collect::<Result<Vec<ConfigFile>, _>>()?;
    let warnings: Vec<String> = files.iter().flat_map(ConfigFile::warnings).collect();
    if crate::input::strict() && !warnings.is_empty() {
        return Err(SessionError::Usage(format!(
            "--strict: {}",
            warnings.join("\n--strict: ")
        )));
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let count = lanes.first().map_or(0, Vec::len);
    if count == 0 {
        return Err(SessionError::Usage("no client given (--client)".into()));
    }
    if lanes.iter().any(|lane| lane.len() != count) {
        return Err(SessionError::Usage(
            "every lane needs one instance of every client".into(),
        ));
    }
    if let Some(assignment) = &options.assignment
        && let Some(bad) = assignment.iter().find(|&&i| i >= count)
    {
        return Err(SessionError::Usage(format!(
            "--assignment names client {bad}, but only {count} are given (numbered from 0)"
        )));
    }
    let mut lane_workers = Vec::new();
    for clients in lanes {
        let mut workers = Vec::new();
        for (client, spec) in clients.into_iter().zip(&options.client_specs) {
            let worker = Worker::spawn(client, options.timeout)
                .map_err(|e| SessionError::Usage(format!("cannot start a client thread: {e}")))?
                .restarting(spec.starts_with("exec:"));
            workers.push(worker);
        }
        lane_workers.push(workers);
    }
    let health: Vec<std::sync::Arc<super::worker::Health>> = options
        .client_specs
        .iter()
        .map(|spec| std::sync::Arc::new(super::worker::Health::new(spec.starts_with("exec:"))))
        .collect();
    let findings = std::sync::Arc::new(super::findings::Findings::default());
    let setups: Vec<Setup> = lane_workers
        .first()
        .map(|workers| {
            workers
                .iter()
                .zip(&options.client_specs)
                .map(|(w, spec)| set_up(w, spec))
                .collect()
        })
        .unwrap_or_default();
    let names = distinct_names(setups.iter().map(|s| s.name.clone()));
    let mut plan = super::plan::plan(options, &files, &setups_suites(&setups))?;
    if plan.is_empty() {
        return Err(SessionError::Usage(
            "nothing to run: no script, assignment and cipher suite that every assigned client supports matches the options".into(),
        ));
    }
    // A shard's cases: those whose report ID (`interop/` and the case ID) hashes to it, as
    // `concord run` names them, so the partition is the same in both commands. A shard may
    // hold none of the cases.
    if let Some(shard) = options.shard {
        plan.retain(|case| shard.contains(&format!("interop/{}", case.id)));
    }
    let mut exporter = match &options.export_vectors {
        Some(dir) => Some(super::export::Exporter::create(dir).map_err(|e| {
            SessionError::Usage(format!("cannot write vectors to {}: {e}", dir.display()))
        })?),
        None => None,
    };
    let mut transcript = match &options.out {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| Transcript::create(&dir.join("transcript.jsonl")))
            .map_err(|e| SessionError::Usage(format!("cannot write to {}: {e}", dir.display())))?,
        None => Transcript::discard(),
    };
    writeln!(
        out,
        "concord interop: {} cases over {} client(s), run tag {} (seed {}; `--run-tag {} --seed {}` reproduces this run)",
        plan.len(),
        count,
        options.run_tag,
        options.seed,
        options.run_tag,
        options.seed
    )
    .ok();
    transcript.header(&serde_json::json!({
        "run_tag": options.run_tag,
        "seed": options.seed,
        "concord": env!("CARGO_PKG_VERSION"),
    }));
    let mut progress = Progress::new(plan.len() as u64, options.quiet);
    let bar = progress.bar.clone();
    let mut printed_failures = 0usize;
    let mut summary = Summary::default();
    let mut per_file: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let lane_count = lane_workers.len();
    std::thread::scope(|scope| {
        let (done, results) = std::sync::mpsc::channel::<(
            usize,
            CaseResult,
            Transcript,
            std::time::Duration,
            Option<super::export::CaseExport>,
        )>();
        for (lane, workers) in lane_workers.into_iter().enumerate() {
            let done = done.clone();
            let (plan, setups, names) = (&plan, &setups, &names);
            let (health, findings) = (health.clone(), findings.clone());
            scope.spawn(move || {
                let pool = Pool {
                    workers,
                    names: names.clone(),
                    health,
                    findings,
                };
                for (index, case) in plan.iter().enumerate().skip(lane).step_by(lane_count) {
                    let mut lines = Transcript::memory();
                    let started = std::time::Instant::now();
                    let record = options.export_vectors.is_some();
                    let (result, logs) =
                        execute(options, &pool, setups, case, index, &mut lines, record);
                    let took = started.elapsed();
                    // The vector is made on the lane: it replays the case's messages.
                    let export = record.then(|| {
                        super::export::build(&logs, case.encrypt, &options.client_specs, names)
                    });
                    if done.send((index, result, lines, took, export)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done);
        type Finished = (
            CaseResult,
            Transcript,
            std::time::Duration,
            Option<super::export::CaseExport>,
        );
        let mut waiting: BTreeMap<usize, Finished> = BTreeMap::new();
        let mut next = 0;
        for (index, result, lines, took, export) in results {
            waiting.insert(index, (result, lines, took, export));
            while let Some((mut result, lines, took, export)) = waiting.remove(&next) {
                let case = &plan[next];
                next += 1;
                // A passing case's calls are kept only when asked for (`--transcript all`):
                // a large run's transcript then holds what its failures need.
                if result.verdict == Verdict::Passed && !options.transcript_passes {
                    result.lines = None;
                } else {
                    let offset = transcript.append(lines);
                    result.shift_lines(offset);
                }
                bar.set_message(case.id.clone());
                let mut record = CaseRecord {
                    config: case.config.clone(),
                    script: case.script.name.clone(),
                    suite: case.suite,
                    handshake: if case.encrypt { "private" } else { "public" },
                    assignment: case.assignment.clone(),
                    reproduce: super::plan::reproducer(options, case),
                    requirements: super::requirements::for_case(
                        case.script.steps.iter().map(|s| s.action_name.as_str()),
                    ),
                    expectation: None,
                    duration: took,
                    result,
                };
                let outcome = expected(options, &names, &mut record);
                count_case(
                    &mut summary,
                    per_file.entry(case.config.clone()).or_default(),
                    &record,
                    outcome,
                );
                let shown = match outcome {
                    Expected::No => {
                        record.result.verdict != Verdict::Passed
                            && record.result.verdict != Verdict::Skipped
                    }
                    Expected::KnownFailure | Expected::UnexpectedPass => true,
                    Expected::DeclaredUnsupported => false,
                };
                if let (Some(exporter), Some(export)) = (exporter.as_mut(), export) {
                    exporter.add(&record, export);
                }
                if shown {
                    printed_failures += 1;
                    if printed_failures <= MAX_PRINTED {
                        let line = super::plan::case_line(&record, &names);
                        let line = match outcome {
                            Expected::UnexpectedPass => format!(
                                "UNEXPECTED PASS {line}: {}",
                                record.expectation.clone().unwrap_or_default()
                            ),
                            _ => line,
                        };
                        bar.suspend(|| writeln!(out, "{line}")).ok();
                    }
                }
                summary.records.push(record);
                progress.case_done(
                    summary.failed + summary.client_faults,
                    summary.skipped + summary.unsupported,
                );
            }
        }
    });
    progress.finish();
    if printed_failures > MAX_PRINTED {
        writeln!(
            out,
            "... and {} more case(s) that did not pass: every one is in matrix.md and matrix.json",
            printed_failures - MAX_PRINTED
        )
        .ok();
    }
    // Findings: one result each, charged to the client, after the cases.
    for finding in findings.all() {
        let mut record = finding_record(options, &names, &finding, &plan);
        let outcome = expected(options, &names, &mut record);
        count_case(
            &mut summary,
            per_file.entry(record.config.clone()).or_default(),
            &record,
            outcome,
        );
        summary.findings += 1;
        let line = super::plan::case_line(&record, &names);
        writeln!(out, "{line}").ok();
        summary.records.push(record);
    }
    if let Some(expectations) = &options.expectations {
        let mut converted: Vec<concord_reports::CaseResult> = summary
            .records
            .iter()
            .map(|record| crate::run::interop_result(record, &options.client_specs, &names, &[]))
            .collect();
        for (record, case) in summary.records.iter().zip(&converted) {
            if record.result.verdict == Verdict::Passed
                && case.verdict == concord_reports::Verdict::UnexpectedPass
            {
                summary.unexpected_passes.push(format!(
                    "{}: {}",
                    record.result.id,
                    record.expectation.clone().unwrap_or_default()
                ));
            }
        }
        summary.stale = expectations.apply(&mut converted);
    }
    for (file, [passed, failed, skipped, known]) in &per_file {
        let known = if *known > 0 {
            format!(" ({known} known failure(s) not counted)")
        } else {
            String::new()
        };
        writeln!(
            out,
            "{file}: {passed} passed, {failed} failed, {skipped} skipped{known}"
        )
        .ok();
    }

    if let Some(dir) = &options.out {
        if let Err(e) = transcript.finish() {
            writeln!(out, "warning: the transcript is incomplete: {e}").ok();
        }
        let mut matrix = Matrix::build(&names, &summary.records);
        matrix.warnings = warnings.clone();
        match matrix.write(dir) {
            Ok(()) => writeln!(
                out,
                "results: {} (transcript.jsonl, matrix.md, matrix.json)",
                dir.display()
            ),
            Err(e) => writeln!(out, "warning: cannot write the matrix: {e}"),
        }
        .ok();
    }
    if let Some(exporter) = exporter {
        match exporter.finish(&options.run_tag, options.seed) {
            Ok(exported) => {
                for line in exported.lines(MAX_PRINTED) {
                    writeln!(out, "{line}").ok();
                }
            }
            Err(e) => {
                writeln!(out, "warning: cannot write the exported vectors: {e}").ok();
            }
        }
    }
    if summary.client_faults > 0 {
        writeln!(
            out,
            "{} case(s) ended in a client fault (crash, hang, unreachable, malformed answer): counted as failed, exit code 3",
            summary.client_faults
        )
        .ok();
    }
    summary.names = names;
    Ok(summary)
}

/// What `--expect` found beyond the verdicts: listed failures that passed, and entries
/// that match nothing.
#[derive(Debug, Clone, Default)]
pub struct ExpectationFindings {
    /// `case: FILE:LINE reason` for each known failure that passed.
    pub unexpected_passes: Vec<String>,
    pub stale: Vec<concord_reports::StaleExpectation>,
}

/// Applies an expectations file to a finished run: a failure that a `known_failure` entry
/// matches becomes an expected failure (explained in the matrix, not counted as failed); a
/// listed failure that passed is an unexpected pass and counts as failed. Client faults are
/// never expected. Cases are matched as `concord run` reports them
/// (`interop/<case id>`, clients by their `--client` names). Rewrites the matrix into `dir`.
pub fn apply_expectations(
    summary: &mut Summary,
    expectations: &concord_reports::Expectations,
    specs: &[String],
    dir: Option<&std::path::Path>,
) -> std::io::Result<ExpectationFindings> {
    let mut converted: Vec<concord_reports::CaseResult> = summary
        .records
        .iter()
        .map(|record| crate::run::interop_result(record, specs, &summary.names, &[]))
        .collect();
    let before: Vec<concord_reports::Verdict> = converted.iter().map(|c| c.verdict).collect();
    let stale = expectations.apply(&mut converted);
    let mut findings = ExpectationFindings {
        stale,
        ..ExpectationFindings::default()
    };
    for ((record, case), was) in summary.records.iter_mut().zip(&converted).zip(before) {
        match (was, case.verdict) {
            (concord_reports::Verdict::Fail, concord_reports::Verdict::ExpectedFail)
                if record.result.verdict == Verdict::Failed =>
            {
                record.expectation = case.expectation.clone();
                summary.failed -= 1;
                summary.expected_failures += 1;
            }
            (concord_reports::Verdict::Pass, concord_reports::Verdict::UnexpectedPass) => {
                findings.unexpected_passes.push(format!(
                    "{}: {}",
                    record.result.id,
                    case.expectation.clone().unwrap_or_default()
                ));
                summary.passed -= 1;
                summary.failed += 1;
            }
            _ => {}
        }
    }
    if let Some(dir) = dir {
        Matrix::build(&summary.names, &summary.records).write(dir)?;
    }
    Ok(findings)
}

/// What an expectations file said about a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// Nothing (no file, or no entry matches): the verdict stands.
    No,
    /// A failure the file lists as known: counted apart, not as failed.
    KnownFailure,
    /// A pass the file lists as a known failure: counted as failed.
    UnexpectedPass,
    /// A failure of a feature the file declares unsupported: counted as skipped.
    DeclaredUnsupported,
}

/// Applies the expectations file, if any, to one finished case.
fn expected(options: &Options, names: &[String], record: &mut CaseRecord) -> Expected {
    let Some(expectations) = &options.expectations else {
        return Expected::No;
    };
    let mut converted = [crate::run::interop_result(
        record,
        &options.client_specs,
        names,
        &[],
    )];
    let before = converted[0].verdict;
    expectations.apply(&mut converted);
    let [case] = converted;
    use concord_reports::Verdict as V;
    let outcome = match (record.result.verdict, before, case.verdict) {
        (Verdict::Failed, V::Fail, V::ExpectedFail) => Expected::KnownFailure,
        (Verdict::Passed, V::Pass, V::UnexpectedPass) => Expected::UnexpectedPass,
        (Verdict::Failed, V::Fail, V::Unsupported) => Expected::DeclaredUnsupported,
        _ => return Expected::No,
    };
    record.expectation = case.expectation;
    outcome
}

/// Counts a finished case in the summary and its config's line, the same way in both.
fn count_case(
    summary: &mut Summary,
    line: &mut [usize; 4],
    record: &CaseRecord,
    outcome: Expected,
) {
    match (outcome, record.result.verdict) {
        (Expected::KnownFailure, _) => {
            summary.expected_failures += 1;
            line[3] += 1;
        }
        (Expected::UnexpectedPass, _) => {
            summary.failed += 1;
            line[1] += 1;
        }
        (Expected::DeclaredUnsupported, _) => {
            summary.unsupported += 1;
            line[2] += 1;
        }
        (Expected::No, Verdict::Passed) => {
            summary.passed += 1;
            line[0] += 1;
        }
        (Expected::No, Verdict::Failed) => {
            summary.failed += 1;
            line[1] += 1;
        }
        (Expected::No, Verdict::ClientFault) => {
            summary.client_faults += 1;
            line[1] += 1;
        }
        (Expected::No, Verdict::Unsupported) => {
            summary.unsupported += 1;
            line[2] += 1;
        }
        (Expected::No, Verdict::Skipped) => {
            summary.skipped += 1;
            line[2] += 1;
        }
    }
}

/// At most this many lines of cases that did not pass are printed; matrix.md has them all.
const MAX_PRINTED: usize = 200;

/// The config name findings are filed under in the matrix and the reports.
pub const FINDINGS: &str = "findings";

/// A finding as a result of its own: `findings/client-N/CHECK` (N the client's index in
/// `--client` order: what a client calls itself may change from one run to the next, an
/// interop server naming its port, while a case ID must not), one failure charged to that
/// client, with the case it was first seen in and how to rerun that case.
fn finding_record(
    options: &Options,
    names: &[String],
    finding: &super::findings::Finding,
    plan: &[super::plan::PlannedCase<'_>],
) -> CaseRecord {
    let client = names
        .get(finding.client)
        .cloned()
        .unwrap_or_else(|| format!("#{}", finding.client));
    let reproduce = plan
        .get(finding.position)
        .map(|case| super::plan::reproducer(options, case))
        .unwrap_or_default();
    let suite = plan.get(finding.position).map_or(0, |case| case.suite);
    let detail = format!(
        "{} (first seen in case {}, seen {} time(s); reported once for this client, its cases went on without this check)",
        finding.detail, finding.case, finding.seen
    );
    CaseRecord {
        config: FINDINGS.to_string(),
        script: finding.check.to_string(),
        suite,
        handshake: "private",
        assignment: vec![(finding.actor.clone(), finding.client)],
        result: CaseResult {
            id: format!("{FINDINGS}/client-{}/{}", finding.client, finding.check),
            verdict: Verdict::Failed,
            problem: Some(Problem {
                step: None,
                action: None,
                check: finding.check.to_string(),
                actor: Some(finding.actor.clone()),
                client: Some(client),
                detail,
                lines: None,
                requirements: finding.requirements.clone(),
            }),
            notes: Vec::new(),
            lines: None,
        },
        reproduce,
        requirements: finding.requirements.clone(),
        expectation: None,
        duration: std::time::Duration::ZERO,
    }
}

/// Runs one planned case on a lane's pool, or marks it with its clients' setup failure.
fn execute(
    options: &Options,
    pool: &Pool,
    setups: &[Setup],
    case: &super::plan::PlannedCase<'_>,
    position: usize,
    transcript: &mut Transcript,
    record: bool,
) -> (CaseResult, Vec<super::passive::PassiveLog>) {
    let spec = CaseSpec {
        id: case.id.clone(),
        position,
        script: case.script,
        assignment: case.assignment.iter().cloned().collect(),
        suite: case.suite,
        encrypt_handshake: case.encrypt,
        common_suites: case.common_suites.clone(),
        nonce: options.nonce ^ stable_hash(&case.id),
    };
    match case.assignment.iter().find_map(|(_, c)| {
        setups
            .get(*c)
            .and_then(|s| s.failure.clone().map(|f| (*c, f)))
    }) {
        Some((client, (verdict, detail))) => (
            CaseResult {
                id: case.id.clone(),
                verdict,
                problem: Some(Problem {
                    step: None,
                    action: None,
                    check: if verdict == Verdict::ClientFault {
                        "client-fault"
                    } else {
                        "setup"
                    }
                    .into(),
                    actor: None,
                    client: pool.names.get(client).cloned(),
                    detail,
                    lines: None,
                    requirements: Vec::new(),
                }),
                notes: Vec::new(),
                lines: None,
            },
            Vec::new(),
        ),
        None => super::runner::run_case_recorded(pool, &spec, transcript, record),
    }
}

fn setups_suites(setups: &[Setup]) -> Vec<Option<Vec<u16>>> {
    setups.iter().map(|s| s.suites.clone()).collect()
}

/// Client names, made distinct (`name`, `name#2`, ...).
fn distinct_names(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let mut candidate = name.clone();
        let mut n = 1;
        while out.contains(&candidate) {
            n += 1;
            candidate = format!("{name}#{n}");
        }
        out.push(candidate);
    }
    out
}

/// Progress of a long run: a bar on a terminal (cases done of all, failures, ETA); without
/// a terminal, a line on stderr every ten seconds; nothing with `--quiet`.
pub(crate) struct Progress {
    pub bar: indicatif::ProgressBar,
    lines: bool,
    total: u64,
    done: u64,
    started: std::time::Instant,
    last_line: std::time::Instant,
}

impl Progress {
    pub(crate) fn new(total: u64, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = if quiet || !terminal {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} cases  {msg}  eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        };
        Progress {
            bar,
            lines: !quiet && !terminal,
            total,
            done: 0,
            started: std::time::Instant::now(),
            last_line: std::time::Instant::now(),
        }
    }

    pub(crate) fn case_done(&mut self, failed: usize, skipped: usize) {
        self.done += 1;
        self.bar.inc(1);
        self.bar
            .set_message(format!("{failed} failed, {skipped} skipped"));
        if self.lines && self.last_line.elapsed() >= std::time::Duration::from_secs(10) {
            self.last_line = std::time::Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64();
            let eta = if self.done > 0 {
                elapsed / self.done as f64 * (self.total - self.done.min(self.total)) as f64
            } else {
                0.0
            };
            eprintln!(
                "progress: {}/{} cases, {failed} failed, {skipped} skipped, {:.0} s elapsed, about {:.0} s to go",
                self.done, self.total, elapsed, eta
            );
        }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
