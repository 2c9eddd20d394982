//! `concord run`: the whole suite to one report; `concord report`: a saved report re-rendered.
//!
//! ```text
//! inputs first (--expect, --claims, --bench, --client, catalog): bad ones exit 2, nothing runs
//!   │
//!   ├─ official vectors ──verify_file per family──────> CaseResult per case   (source vectors)
//!   ├─ negative vectors (vectors/negative, if present)─> CaseResult per case   (source negative)
//!   ├─ interop scripts ──session::run, every client──> CaseResult per case   (source interop)
//!   └─ scenarios ──sim::run, users alternate clients─> CaseResult per assertion (source scenario)
//!   │
//!   v
//! Report ── expectations ── claims ──> OUT/index.html, report.json, junit.xml, summary.md
//!   └──> a short summary on stdout and the exit code (2 input, 3 client fault, 1 unexpected)
//! ```
//!
//! The profile decides the breadth: `quick` (the default) leaves out scale scenarios (file
//! names containing `scale`) and, when several clients are given, draws one seeded
//! assignment of clients to actors per interop script; `full` runs every scenario and every
//! assignment. Both run every interop script in every suite and both handshake modes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use concord_reports::{
    BenchFile, CaseResult, ClaimsSpec, Expectations, Report, RunInfo, Shard, TranscriptRef, Verdict,
};

use crate::exit;
use crate::interop::config::{self, Action, ProposalSpec, Script};
use crate::interop::matrix::CaseRecord;
use crate::interop::runner::Verdict as InteropVerdict;
use crate::interop::session::{self as interop, Handshake, Mode};
use crate::sim;
use crate::vectors::{self, CaseReport, CaseVerdict, FileReport};

/// How much to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Under five minutes on two cores: no scale scenarios; with several clients, one
    /// seeded assignment of clients to actors per interop script.
    Quick,
    /// Every scenario, every assignment of clients to actors.
    Full,
}

impl Profile {
    fn as_str(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Full => "full",
        }
    }
}

/// Arguments of `concord run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// A client under test besides the embedded reference: grpc://HOST:PORT, openmls or
    /// mls-rs; repeat for several. The reference is always there as their peer.
    #[arg(long = "client", value_name = "SPEC")]
    pub clients: Vec<String>,
    /// Expectations file (TOML): known failures and unsupported features per client.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Make stale expectation entries an unexpected result (exit code 1).
    #[arg(long)]
    pub strict_expect: bool,
    /// Claims file (TOML): capabilities to weigh against the results.
    #[arg(long, value_name = "FILE")]
    pub claims: Option<PathBuf>,
    /// Where the reports go (index.html, report.json, junit.xml, summary.md, transcripts).
    #[arg(long, default_value = "reports/out")]
    pub out: PathBuf,
    /// Seed of every random choice (interop group ids and assignments, network faults,
    /// client randomness).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "quick")]
    pub profile: Profile,
    /// Benchmark results to plot (default: OUT/bench.json when present).
    #[arg(long, value_name = "FILE")]
    pub bench: Option<PathBuf>,
    /// Folder of official vectors (default: $CONCORD_VECTORS, else ../shared/mls-vectors).
    #[arg(long, value_name = "DIR")]
    pub vectors: Option<PathBuf>,
    /// Folder of interop scripts (default: $CONCORD_INTEROP_CONFIGS, else
    /// ../shared/interop-configs).
    #[arg(long, value_name = "DIR")]
    pub configs: Option<PathBuf>,
    /// Folder of scenario files (default: scenarios).
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Per-call timeout for clients under test, in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// No progress bar or progress lines on stderr (the interop stage's, the longest).
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard K of N (from 1): a stable partition of the cases by ID, the same on
    /// every machine, so the N jobs of a CI matrix each run one share; `concord report
    /// --merge` makes one report of the N shards' folders.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Sign the run: write OUT/attestation.json, an in-toto statement over report.json's
    /// SHA-256 in a DSSE envelope, signed with this Ed25519 private key (`concord keygen`;
    /// `concord verify` checks it). A key that cannot be read fails before the run starts.
    #[arg(long, value_name = "KEY")]
    pub attest: Option<PathBuf>,
}

/// Arguments of `concord report`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["from", "merge", "diff"])))]
pub struct ReportArgs {
    /// A report.json written by `concord run`: render it again.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// The folders (or report.json files) of the N shards of one run (`concord run --shard
    /// K/N`): write one report of the whole run to --out. Shards of different runs, or a
    /// missing or repeated shard, are refused (exit 2).
    #[arg(long, value_name = "DIR", num_args = 1..)]
    pub merge: Vec<PathBuf>,
    /// Compare two reports case by case (OLD NEW, each a report.json or its folder): new
    /// failures, fixes, new and vanished cases, durations changed beyond --factor, as
    /// Markdown on stdout (and in --out/diff.md). Exit 1 on any new failure, else 0.
    #[arg(long, value_names = ["OLD", "NEW"], num_args = 2)]
    pub diff: Vec<PathBuf>,
    /// With --diff: a duration counts as changed past this ratio (either way).
    #[arg(long, default_value_t = 2.0)]
    pub factor: f64,
    /// Where to write the four formats (default: the folder of the report.json; needed
    /// with --merge), or diff.md with --diff.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Benchmark results to plot (default: bench.json next to the report.json).
    #[arg(long, value_name = "FILE")]
    pub bench: Option<PathBuf>,
    /// Count stale expectation entries as unexpected results (exit code 1).
    #[arg(long)]
    pub strict_expect: bool,
}

/// What was read before anything runs.
pub(crate) struct Inputs {
    expectations: Option<Expectations>,
    claims: Option<ClaimsSpec>,
    bench: Option<BenchFile>,
    catalog: &'static concord_spec::Catalog,
    /// The key of `--attest`: [`finish`] signs the report.json it writes.
    attest: Option<crate::attest::AttestKey>,
}

pub(crate) fn read_inputs(
    expect: Option<&Path>,
    claims: Option<&Path>,
    bench: Option<&Path>,
) -> Result<Inputs, String> {
    let catalog = concord_spec::catalog()
        .map_err(|e| format!("the requirement catalog does not load: {e}"))?;
    Ok(Inputs {
        expectations: expect
            .map(Expectations::load)
            .transpose()
            .map_err(|e| e.to_string())?,
        claims: claims
            .map(ClaimsSpec::load)
            .transpose()
            .map_err(|e| e.to_string())?,
        bench: bench
            .map(BenchFile::load)
            .transpose()
            .map_err(|e| e.to_string())?,
        catalog,
        attest: None,
    })
}

/// `concord run`; returns the exit code.
pub fn main(args: RunArgs) -> u8 {
    let started = Instant::now();
    let default_bench = args.out.join("bench.json");
    let bench_path = args
        .bench
        .clone()
        .or_else(|| default_bench.is_file().then_some(default_bench));
    let inputs = match read_inputs(
        args.expect.as_deref(),
        args.claims.as_deref(),
        bench_path.as_deref(),
    ) {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("concord run: {e}");
            return exit::BAD_INPUT;
        }
    };
    // A signing key that cannot be used fails now (exit 2), not after the run.
    let inputs = match crate::attest::cli::load_key("concord run", args.attest.as_deref()) {
        Ok(attest) => Inputs { attest, ..inputs },
        Err(code) => return code,
    };
    if args.timeout == 0 {
        eprintln!("concord run: --timeout must be at least 1 second");
        return exit::BAD_INPUT;
    }
    let timeout = Duration::from_secs(args.timeout);
    let mut clients = vec!["reference".to_string()];
    for spec in &args.clients {
        if let Err(e) = interop::open_client(spec, timeout, args.seed) {
            eprintln!("concord run: --client {spec}: {e}");
            return exit::BAD_INPUT;
        }
        if !clients.contains(spec) {
            clients.push(spec.clone());
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("concord run: cannot create {}: {e}", args.out.display());
        return exit::BAD_INPUT;
    }

    let mut run = RunInfo {
        command: command_line(),
        profile: args.profile.as_str().to_string(),
        seed: args.seed,
        clients: clients.clone(),
        argv: command_words(),
        shard: args.shard.map(|s| s.to_string()),
        ..RunInfo::default()
    };
    let mut results = Vec::new();
    let shard = args
        .shard
        .map(|s| format!(", shard {s}"))
        .unwrap_or_default();
    println!(
        "concord run ({} profile, seed {}{shard}): {}",
        run.profile,
        run.seed,
        clients.join(", ")
    );
    // What the run reads, and where a folder it was not told about comes from.
    let inputs_found = crate::fallback::Inputs::find(&args);
    for line in inputs_found.lines() {
        println!("{line}");
        run.notes.push(line);
    }

    // Stages whose cases are cheap run whole, and the shard keeps its share of the results;
    // the others leave out the units of other shards before running them.
    let keep = |results: &mut Vec<CaseResult>, from: usize| {
        if let Some(shard) = args.shard {
            let mut index = 0;
            results.retain(|r| {
                index += 1;
                index <= from || shard.contains(&r.id)
            });
        }
    };
    let from = results.len();
    step_vectors(&inputs_found.vectors, &mut results, &mut run);
    step_negative(Path::new("vectors/negative"), &mut results, &mut run);
    keep(&mut results, from);
    step_interop(
        &args,
        &inputs_found.configs,
        &clients,
        timeout,
        &mut results,
        &mut run,
    );
    let from = results.len();
    step_adversary(&args, &clients, timeout, &mut results, &mut run);
    keep(&mut results, from);
    step_scenarios(&args, &clients, timeout, &mut results, &mut run);
    if in_shard(args.shard, &property_unit(args.seed)) {
        step_property(&args, &mut results, &mut run);
    }
    if in_shard(args.shard, PROVIDER_UNIT) {
        step_provider(&args, &mut results, &mut run);
    }
    let from = results.len();
    step_content(&inputs_found.content, &mut results, &mut run);
    keep(&mut results, from);
    run.duration_seconds = Some(started.elapsed().as_secs_f64());

    let mut report = Report::new(env!("CARGO_PKG_VERSION"), run, results);
    finish(
        &mut report,
        &inputs,
        &args.out,
        args.strict_expect,
        "concord run",
    )
}

/// Whether the unit `unit` runs in this shard (every unit does in an unsharded run).
fn in_shard(shard: Option<Shard>, unit: &str) -> bool {
    shard.is_none_or(|s| s.contains(unit))
}

/// The property stage is one case, so one unit: its case ID.
fn property_unit(seed: u64) -> String {
    format!("property/reference/seed-{seed}")
}

/// The provider stage serves one hub and one follower for all its checks: one unit.
const PROVIDER_UNIT: &str = "provider";

/// Random operation sequences on the simulator with the reference (`concord property`):
/// a short budget in the quick profile, a longer one in the full profile.
fn step_property(args: &RunArgs, results: &mut Vec<CaseResult>, run: &mut RunInfo) {
    let cases = match args.profile {
        Profile::Quick => 200,
        Profile::Full => 2000,
    };
    println!(
        "property: {cases} random sequences (concord property --cases {cases} --seed {})",
        args.seed
    );
    let found = crate::property::run_for_report(args.seed, cases);
    debug_assert!(found.iter().all(|r| r.id == property_unit(args.seed)));
    run.notes.push(format!(
        "property tests: {cases} random operation sequences on the reference (the long run: concord property --cases 10000)"
    ));
    results.extend(found);
}

/// The MIMI content example messages ($CONCORD_SPECS/mimi-content-examples, or Concord's
/// own when those are not found).
fn step_content(dir: &Option<PathBuf>, results: &mut Vec<CaseResult>, run: &mut RunInfo) {
    let Some(dir) = dir else {
        return;
    };
    println!("content: {}", dir.display());
    let found = crate::vectors::mimi_content::run_for_report(dir);
    run.notes.push(format!(
        "MIMI content examples (draft-ietf-mimi-content-08): {} decoded, re-encoded and their message IDs checked",
        found.len()
    ));
    results.extend(found);
}

/// The reference MIMI provider served over HTTPS on loopback (hub, then follower), checked
/// by `concord provider-test`'s checks of each role.
fn step_provider(args: &RunArgs, results: &mut Vec<CaseResult>, run: &mut RunInfo) {
    println!(
        "provider: the reference hub and follower over HTTPS on loopback (concord provider-test), the scenarios live on the hub"
    );
    match crate::provider::ptest::run_reference_for_report(args.seed, Some(&args.scenarios)) {
        Ok(found) => {
            run.notes.push(format!(
                "provider checks: the reference provider served on loopback as a hub and as a follower, {} results (concord serve-provider + concord provider-test; the scenarios played live with every room on the hub)",
                found.len()
            ));
            results.extend(found);
        }
        Err(e) => results.push(CaseResult::fail(
            crate::provider::ptest::SOURCE,
            "provider/setup",
            format!("the reference provider could not be served on loopback: {e}"),
        )),
    }
}

/// Applies expectations and claims, writes the four formats, prints the summary; returns
/// the exit code.
pub(crate) fn finish(
    report: &mut Report,
    inputs: &Inputs,
    out: &Path,
    strict: bool,
    command: &str,
) -> u8 {
    if let Some(expectations) = &inputs.expectations {
        report.apply_expectations(expectations);
    }
    if let Some(claims) = &inputs.claims {
        report.evaluate_claims(claims);
    }
    let index = match concord_reports::write_all(report, inputs.catalog, inputs.bench.as_ref(), out)
    {
        Ok(index) => index,
        Err(e) => {
            eprintln!(
                "{command}: cannot write the reports to {}: {e}",
                out.display()
            );
            return exit::BAD_INPUT;
        }
    };
    // Signed whatever the verdicts: the exit code stays the run's unless signing fails.
    let attested = inputs.attest.as_ref().map(|key| {
        let subcommand = command.strip_prefix("concord ").unwrap_or(command);
        let written = crate::attest::attest_report(key, report, out, subcommand);
        crate::attest::cli::report_written(command, written, key)
    });
    print_summary(report, &index, strict);
    match attested {
        Some(code) if code != exit::OK => code,
        _ => report.exit_code(strict),
    }
}

fn print_summary(report: &Report, index: &Path, strict: bool) {
    println!();
    for (source, counts) in report.counts_by_source() {
        let parts: Vec<String> = Verdict::ALL
            .iter()
            .filter(|v| counts.of(**v) > 0)
            .map(|v| format!("{} {}", counts.of(*v), v.as_str()))
            .collect();
        println!("{source:<9} {}", parts.join(", "));
    }
    for error in &report.run.input_errors {
        println!("input error: {error}");
    }
    for stale in &report.stale_expectations {
        println!(
            "{}: {}:{}: {} `{}` is stale: {}",
            if strict { "error" } else { "warning" },
            stale.file,
            stale.line,
            stale.kind.as_str(),
            stale.selector,
            stale.why
        );
    }
    if let Some(claims) = &report.claims {
        for claim in &claims.claims {
            println!("claim {:<28} {}", claim.capability, claim.status.as_str());
        }
    }
    let unexpected: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| r.verdict.is_unexpected())
        .collect();
    for result in unexpected.iter().take(10) {
        println!(
            "{} {}: {}",
            result.verdict,
            result.id,
            result
                .detail
                .as_deref()
                .map(concord_reports::render::first_line)
                .unwrap_or_default()
        );
        for finding in concord_reports::findings::matching(result) {
            println!("  finding: {} ({})", finding.path(), finding.title);
        }
    }
    if unexpected.len() > 10 {
        println!("... and {} more unexpected results", unexpected.len() - 10);
    }
    let dir = index.parent().unwrap_or(index);
    println!(
        "report: {} (report.json, junit.xml, summary.md in {})",
        index.display(),
        dir.display()
    );
    println!("{}", report.closing_line());
}

/// The command line as typed, for the report.
pub(crate) fn command_line() -> String {
    command_words().join(" ")
}

/// The command line's words, the program named `concord`.
pub(crate) fn command_words() -> Vec<String> {
    let mut words: Vec<String> = std::env::args().collect();
    if let Some(first) = words.first_mut() {
        *first = "concord".to_string();
    }
    words
}

// ---- vectors ------------------------------------------------------------------------

/// Every case of every official vector file, one result each: the family's requirement
/// IDs, the case's verdict and time, and the command that checks that case alone.
fn step_vectors(dir: &Path, results: &mut Vec<CaseResult>, run: &mut RunInfo) {
    println!("vectors: {}", dir.display());
    if !dir.is_dir() {
        run.input_errors.push(format!(
            "official vectors: {} is not a directory (set --vectors or CONCORD_VECTORS)",
            dir.display()
        ));
        return;
    }
    let mut absent = Vec::new();
    for family in vectors::FAMILIES {
        let path = dir.join(format!("{}.json", family.name));
        if !path.is_file() {
            // Not checked and not counted, as `concord vectors verify` does.
            absent.push(family.name);
            continue;
        }
        let file = vectors::verify_file(family, &path);
        for place in &file.unknown_fields {
            let warning = format!(
                "{}: {place}: unknown field, ignored (--strict refuses it)",
                path.display()
            );
            eprintln!("warning: {warning}");
            run.notes.push(warning);
        }
        let requirements = family.requirements.iter().copied();
        if let Some(error) = &file.input_error {
            run.input_errors.push(error.clone());
            results.push(unreadable_file("vectors", dir, &file, error).requirements(requirements));
            continue;
        }
        for case in &file.case_reports {
            results
                .push(case_result("vectors", dir, &file, case).requirements(requirements.clone()));
        }
    }
    if !absent.is_empty() {
        run.notes.push(format!(
            "official vectors: no file in {} for {}",
            dir.display(),
            absent.join(", ")
        ));
    }
}

/// Every case of every negative vector file, one result each, citing the case's
/// requirements and those of the error the reference refused the input with.
fn step_negative(dir: &Path, results: &mut Vec<CaseResult>, run: &mut RunInfo) {
    if !dir.is_dir() || !crate::adversary::verify::is_negative_directory(dir) {
        run.notes.push(format!(
            "negative vectors: no {} folder (concord vectors generate --negative writes one)",
            dir.display()
        ));
        return;
    }
    println!("negative vectors: {}", dir.display());
    match crate::adversary::verify::verify_directory(dir, None) {
        Ok(summary) => {
            for file in &summary.files {
                if let Some(error) = &file.input_error {
                    run.input_errors.push(error.clone());
                    results.push(unreadable_file("negative", dir, file, error));
                    continue;
                }
                for case in &file.case_reports {
                    results.push(case_result("negative", dir, file, case));
                }
            }
        }
        Err(e) => run.input_errors.push(format!("negative vectors: {e}")),
    }
}

/// One case of a vector file. Its ID is `SOURCE/FAMILY/INDEX[/suite-N]` (official
/// vectors) or `SOURCE/FAMILY/NAME` (negative vectors, whose names hold the suite).
fn case_result(source: &str, dir: &Path, file: &FileReport, case: &CaseReport) -> CaseResult {
    let id = match (&case.name, case.cipher_suite) {
        (Some(name), _) => format!("{source}/{}/{name}", file.family),
        (None, Some(suite)) => format!("{source}/{}/{}/suite-{suite}", file.family, case.index),
        (None, None) => format!("{source}/{}/{}", file.family, case.index),
    };
    let result = match &case.verdict {
        CaseVerdict::Passed => CaseResult::pass(source, id),
        CaseVerdict::Failed { field, detail } => {
            CaseResult::fail(source, id, format!("field `{field}`: {detail}"))
        }
        CaseVerdict::Skipped { reason } => CaseResult::skipped(source, id, reason.clone()),
    };
    // A failure the reference's typed error decided names that error's requirements.
    let refused_under = match &case.verdict {
        CaseVerdict::Failed { detail, .. } => cited_ids(detail),
        _ => Vec::new(),
    };
    let mut result = result
        .client("reference")
        .duration(case.duration)
        .requirements(case.requirements.iter().cloned())
        .requirements(refused_under)
        .reproducer(format!(
            "concord vectors verify {} --only {}:{}",
            dir.display(),
            file.family,
            case.index
        ));
    if let Some(suite) = case.cipher_suite.and_then(|s| u16::try_from(s).ok()) {
        result = result.suite(suite).feature(format!("ciphersuite:{suite}"));
    }
    result
}

/// A vector file none of whose cases was checked (it does not parse, or a case is
/// malformed): one skipped result naming why.
fn unreadable_file(source: &str, dir: &Path, file: &FileReport, error: &str) -> CaseResult {
    CaseResult::skipped(
        source,
        format!("{source}/{}", file.family),
        format!("not checked: {error}"),
    )
    .client("reference")
    .reproducer(format!(
        "concord vectors verify {} --only {}",
        dir.display(),
        file.family
    ))
}

// ---- interop ------------------------------------------------------------------------

/// The `*.json` files of an interop config folder, in name order.
fn interop_configs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("interop scripts folder {}: {e}", dir.display()))?;
    let mut configs: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    configs.sort();
    if configs.is_empty() {
        return Err(format!("no interop scripts (*.json) in {}", dir.display()));
    }
    Ok(configs)
}

/// The negative recipes against each client under test but the reference (whose
/// answers the negative vectors already judge), each case built on the client's own
/// KeyPackage, every suite the client supports (`concord adversary`).
fn step_adversary(
    args: &RunArgs,
    clients: &[String],
    timeout: Duration,
    results: &mut Vec<CaseResult>,
    run: &mut RunInfo,
) {
    let under_test: Vec<String> = clients
        .iter()
        .filter(|spec| spec.as_str() != "reference")
        .cloned()
        .collect();
    if under_test.is_empty() {
        return;
    }
    println!("adversary: {}", under_test.join(", "));
    let stage = crate::adversary::cli::Stage {
        clients: &under_test,
        suites: None,
        only: None,
        seed: args.seed,
        timeout,
        quiet: args.quiet,
    };
    let mut out = std::io::stdout();
    let outcome = stage.run(&mut out);
    run.input_errors.extend(outcome.input_errors);
    let (passed, failed, skipped) = crate::adversary::cli::counts(&outcome.results);
    println!("  adversary: {passed} passed, {failed} failed, {skipped} skipped");
    results.extend(outcome.results);
}

fn step_interop(
    args: &RunArgs,
    dir: &Path,
    clients: &[String],
    timeout: Duration,
    results: &mut Vec<CaseResult>,
    run: &mut RunInfo,
) {
    println!("interop: {}", dir.display());
    let configs = match interop_configs(dir) {
        Ok(configs) => configs,
        Err(e) => {
            run.input_errors.push(e);
            return;
        }
    };
    // Script name → features, per config file, for claims.
    let mut features: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for path in &configs {
        match config::load(path) {
            Ok(file) => {
                let warnings = file.warnings();
                if crate::input::strict() && !warnings.is_empty() {
                    run.input_errors
                        .extend(warnings.into_iter().map(|w| format!("{w} (--strict)")));
                    continue;
                }
                for warning in warnings {
                    eprintln!("warning: {warning}");
                    run.notes.push(warning);
                }
                for script in &file.scripts {
                    features.insert(
                        (path.display().to_string(), script.name.clone()),
                        script_features(script),
                    );
                }
            }
            Err(e) => {
                run.input_errors.push(e.to_string());
                return;
            }
        }
    }
    // One lane per CPU, as `concord interop` runs by default.
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    let opened = match interop::open_lanes(clients, jobs, timeout, args.seed) {
        Ok(lanes) => lanes,
        Err(e) => {
            run.input_errors.push(format!("--client: {e}"));
            return;
        }
    };
    let mode = if clients.len() > 1 && args.profile == Profile::Quick {
        Mode::Random
    } else {
        Mode::All
    };
    let out = args.out.join("interop");
    let run_tag = format!(
        "{:08x}",
        crate::interop::matrix::stable_hash(&format!("concord run {}", args.seed)) as u32
    );
    let options = interop::Options {
        configs,
        client_specs: clients.to_vec(),
        suites: None,
        handshake: Handshake::All,
        mode,
        seed: args.seed,
        timeout,
        out: Some(out.clone()),
        script: None,
        assignment: None,
        // A run tag from the seed: the same seed gives the same report; each case's
        // reproducer carries both, so it gives the same case.
        nonce: interop::run_nonce(args.seed, &run_tag),
        run_tag,
        quiet: args.quiet,
        // `concord run` applies the expectations file to the whole report.
        expectations: None,
        transcript_passes: true,
        shard: args.shard,
        export_vectors: None,
    };
    let mut log: Vec<u8> = Vec::new();
    let summary = match interop::run_lanes(&options, opened, &mut log) {
        Ok(summary) => summary,
        Err(e) => {
            run.input_errors.push(format!("interop: {e}"));
            return;
        }
    };
    let transcript = out.join("transcript.jsonl");
    let lines = read_lines(&transcript);
    for record in &summary.records {
        let key = (record.config.clone(), record.script.clone());
        let result = interop_result(record, clients, &summary.names, &lines)
            .features(features.get(&key).into_iter().flatten().cloned());
        results.push(result);
    }
    println!("  {}", summary.closing_line());
}

/// What a script exercises, as claim evidence keys.
fn script_features(script: &Script) -> Vec<String> {
    let mut out: BTreeSet<&str> = BTreeSet::new();
    let proposal = |spec: &ProposalSpec| match spec {
        ProposalSpec::Add { .. } => "proposal:add",
        ProposalSpec::Remove { .. } => "proposal:remove",
        ProposalSpec::ExternalPsk { .. } | ProposalSpec::ResumptionPsk { .. } => "proposal:psk",
        ProposalSpec::GroupContextExtensions { .. } => "proposal:group_context_extensions",
        ProposalSpec::ReInit { .. } => "proposal:reinit",
    };
    let mut messages = false;
    for step in &script.steps {
        match &step.action {
            Action::AddProposal { .. } | Action::NewMemberAddProposal { .. } => {
                out.insert("proposal:add");
            }
            Action::RemoveProposal { .. } => {
                out.insert("proposal:remove");
            }
            Action::UpdateProposal => {
                out.insert("proposal:update");
            }
            Action::ExternalPskProposal { .. } | Action::ResumptionPskProposal { .. } => {
                out.insert("proposal:psk");
            }
            Action::GroupContextExtensionsProposal { .. } => {
                out.insert("proposal:group_context_extensions");
            }
            Action::ExternalJoin { .. } => {
                out.insert("external-join");
                out.insert("proposal:external_init");
            }
            Action::ReInit(_) => {
                out.insert("proposal:reinit");
            }
            Action::Commit(commit) | Action::FullCommit { commit, .. } => {
                out.extend(commit.by_value.iter().map(proposal));
            }
            Action::ExternalSignerProposal { description, .. } => {
                out.insert(proposal(description));
            }
            Action::Protect { .. } | Action::Unprotect { .. } => messages = true,
            _ => {}
        }
    }
    if messages {
        // MLS application messages between two members, or within a larger group: the
        // MLS layer of DMA Article 7's text messaging.
        out.insert(if script.actors().len() <= 2 {
            "service:1:1-text"
        } else {
            "service:group-text"
        });
    }
    out.into_iter().map(str::to_string).collect()
}

pub(crate) fn interop_result(
    record: &CaseRecord,
    specs: &[String],
    client_names: &[String],
    lines: &[String],
) -> CaseResult {
    let result = &record.result;
    let id = format!("interop/{}", result.id);
    let names: Vec<String> = record
        .assignment
        .iter()
        .map(|(_, c)| specs.get(*c).cloned().unwrap_or_else(|| format!("#{c}")))
        .collect();
    let problem = result.problem.as_ref();
    let detail = problem.map(|p| {
        let step = match (p.step, &p.action) {
            (Some(s), Some(a)) => format!("step {s} (`{a}`)"),
            (Some(s), None) => format!("step {s}"),
            _ => "outside the steps".to_string(),
        };
        let who = match (&p.client, &p.actor) {
            (Some(c), Some(a)) => format!(", client {c} (as {a})"),
            (None, Some(a)) => format!(", actor {a}"),
            (Some(c), None) => format!(", client {c}"),
            (None, None) => String::new(),
        };
        format!("{step}, check `{}`{who}: {}", p.check, p.detail)
    });
    let per_run = record.config == crate::interop::session::FINDINGS;
    let mut out = match result.verdict {
        InteropVerdict::Passed => CaseResult::pass("interop", id),
        InteropVerdict::Failed => {
            CaseResult::fail("interop", id, detail.clone().unwrap_or_default())
        }
        InteropVerdict::Unsupported => {
            CaseResult::unsupported("interop", id, detail.clone().unwrap_or_default())
        }
        InteropVerdict::ClientFault => {
            CaseResult::client_fault("interop", id, detail.clone().unwrap_or_default())
        }
        InteropVerdict::Skipped => {
            CaseResult::skipped("interop", id, detail.clone().unwrap_or_default())
        }
    };
    if per_run {
        out = out.per_run();
    }
    if result.verdict == InteropVerdict::Passed && !result.notes.is_empty() {
        out = out.detail(result.notes.join("; "));
    }
    // A failure is placed by the requirement its check names; a pass cites what it exercised.
    if let Some(p) = problem
        && result.verdict != InteropVerdict::Passed
    {
        out = out.requirements(crate::interop::requirements::for_problem(p));
    }
    let implementations: Vec<String> = record
        .assignment
        .iter()
        .filter_map(|(_, c)| client_names.get(*c).cloned())
        .collect();
    out = out
        .clients(names)
        .implementations(implementations)
        .suite(record.suite)
        .feature(format!("ciphersuite:{}", record.suite))
        .requirements(record.requirements.iter().copied())
        .reproducer(record.reproduce.clone())
        .duration(record.duration);
    if let Some((first, last)) = problem.and_then(|p| p.lines).or(result.lines) {
        let excerpt = (result.verdict != InteropVerdict::Passed)
            .then(|| excerpt(lines, first, last))
            .flatten();
        out = out.transcript(TranscriptRef {
            file: "interop/transcript.jsonl".to_string(),
            first_line: first,
            last_line: last,
            excerpt,
        });
    }
    out
}

/// The catalog IDs (`RFC9420-...`, `MIMI-PROTOCOL-...`) that `text` mentions, in order,
/// each once; only IDs the catalog has.
fn cited_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')) {
        let word = word.trim_end_matches(['.', '-']);
        if (word.starts_with("RFC9420-") || word.starts_with("MIMI-PROTOCOL-"))
            && concord_spec::requirement(word).is_some()
            && !ids.iter().any(|known| known == word)
        {
            ids.push(word.to_string());
        }
    }
    ids
}

/// Every line of a transcript (empty if it cannot be read: the reference stays, the
/// excerpt goes).
fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Lines `first..=last` (from 1), the last 12 at most, each cut to 240 characters.
fn excerpt(lines: &[String], first: u64, last: u64) -> Option<String> {
    const MAX_LINES: u64 = 12;
    const MAX_CHARS: usize = 240;
    if first == 0 || last < first {
        return None;
    }
    let from = first.max(last.saturating_sub(MAX_LINES - 1));
    let mut text = String::new();
    if from > first {
        text.push_str(&format!("... {} earlier line(s)\n", from - first));
    }
    for number in from..=last {
        let line = lines.get(usize::try_from(number - 1).ok()?)?;
        let short: String = line.chars().take(MAX_CHARS).collect();
        let cut = if short.len() < line.len() { "…" } else { "" };
        text.push_str(&format!("{number} {short}{cut}\n"));
    }
    Some(text)
}

// ---- scenarios ----------------------------------------------------------------------

fn step_scenarios(
    args: &RunArgs,
    clients: &[String],
    timeout: Duration,
    results: &mut Vec<CaseResult>,
    run: &mut RunInfo,
) {
    let files: Vec<PathBuf> = match std::fs::read_dir(&args.scenarios) {
        Ok(entries) => {
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            files.sort();
            files
        }
        Err(_) => Vec::new(),
    };
    // Scale scenarios (hundreds of members) take minutes: the full profile only.
    let (scale, files): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(|p| {
        args.profile == Profile::Quick
            && p.file_name()
                .is_some_and(|n| n.to_string_lossy().to_lowercase().contains("scale"))
    });
    if !scale.is_empty() {
        let names: Vec<String> = scale.iter().map(|p| p.display().to_string()).collect();
        run.notes.push(format!(
            "scenarios: {} left to --profile full (scale)",
            names.join(", ")
        ));
    }
    if files.is_empty() {
        run.notes.push(format!(
            "scenarios: no scenario files (*.toml) in {}",
            args.scenarios.display()
        ));
        return;
    }
    println!("scenarios: {}", args.scenarios.display());
    let scenarios = match sim::load_all(&files) {
        Ok(scenarios) => scenarios,
        Err(errors) => {
            run.input_errors
                .extend(errors.iter().map(|e| e.to_string()));
            return;
        }
    };
    // Users alternate between the reference and the clients under test, in name order,
    // so every group mixes them.
    let mut overrides = BTreeMap::new();
    if clients.len() > 1 {
        let users: BTreeSet<&String> = scenarios.iter().flat_map(|s| s.users.keys()).collect();
        for (i, user) in users.into_iter().enumerate() {
            overrides.insert(user.clone(), clients[i % clients.len()].clone());
        }
    }
    // Sharded: the scenarios of this shard, each a unit (its results stay together), after
    // the users were given their clients over all of them, as in the unsharded run.
    let scenarios: Vec<sim::Scenario> = scenarios
        .into_iter()
        .filter(|s| in_shard(args.shard, &format!("scenario/{}", s.name)))
        .collect();
    if scenarios.is_empty() {
        return;
    }
    let out = args.out.join("scenarios");
    let options = sim::Options {
        seed: args.seed,
        clients: overrides.clone(),
        out: Some(out),
        bench: true,
    };
    let factory = move |spec: &str, seed: u64| interop::open_client(spec, timeout, seed);
    let start = Instant::now();
    let stopwatch = move || start.elapsed();
    let mut log: Vec<u8> = Vec::new();
    let summary = match sim::run(&scenarios, &options, &factory, Some(&stopwatch), &mut log) {
        Ok(summary) => summary,
        Err(e) => {
            run.input_errors.push(format!("scenarios: {e}"));
            return;
        }
    };
    let lines = read_lines(&args.out.join("scenarios").join("transcript.jsonl"));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for v in &summary.verdicts {
        let scenario = scenarios.iter().find(|s| s.name == v.scenario);
        let mut id = format!("scenario/{}/{}", v.scenario, v.assertion);
        if !v.room.is_empty() {
            id.push_str(&format!("/{}", v.room));
        }
        let n = seen.entry(id.clone()).or_default();
        *n += 1;
        if *n > 1 {
            id.push_str(&format!("#{n}"));
        }
        results.push(scenario_result(
            v, id, scenario, &overrides, &summary, args, &lines,
        ));
    }
    println!("  {}", summary.closing_line());
}

fn scenario_result(
    v: &sim::AssertionVerdict,
    id: String,
    scenario: Option<&sim::Scenario>,
    overrides: &BTreeMap<String, String>,
    summary: &sim::Summary,
    args: &RunArgs,
    lines: &[String],
) -> CaseResult {
    let fault = summary.client_fault && v.detail.starts_with("client under test failed");
    let mut result = match v.verdict {
        sim::Verdict::Pass => CaseResult::pass("scenario", id).detail(v.detail.clone()),
        sim::Verdict::Fail if fault => CaseResult::client_fault("scenario", id, v.detail.clone()),
        sim::Verdict::Fail => CaseResult::fail("scenario", id, v.detail.clone()),
        sim::Verdict::Unsupported => CaseResult::unsupported("scenario", id, v.detail.clone()),
        sim::Verdict::Skipped => CaseResult::skipped("scenario", id, v.detail.clone()),
    };
    result = result.requirements(v.requirements.iter().cloned());
    let mut reproducer = format!("concord sim {} --seed {}", v.file, args.seed);
    if let Some(scenario) = scenario {
        let clients: BTreeSet<String> = scenario
            .users
            .iter()
            .map(|(user, (_, spec))| overrides.get(user).unwrap_or(spec).clone())
            .collect();
        result = result
            .clients(clients)
            .suite(scenario.suite)
            .feature(format!("ciphersuite:{}", scenario.suite));
        if v.assertion == "steps" {
            result = result.feature(if scenario.users.len() <= 2 {
                "service:1:1-text"
            } else {
                "service:group-text"
            });
            if let Some(bench) = summary.benches.iter().find(|b| b.scenario == scenario.name) {
                result = result.duration(bench.wall);
            }
        }
        for (user, spec) in overrides {
            if scenario.users.contains_key(user) {
                reproducer.push_str(&format!(" --client {user}={spec}"));
            }
        }
    }
    let (first, end) = v.transcript_lines;
    let last = end.saturating_sub(1).max(first);
    let excerpt = (v.verdict == sim::Verdict::Fail)
        .then(|| excerpt(lines, first, last))
        .flatten();
    result.reproducer(reproducer).transcript(TranscriptRef {
        file: "scenarios/transcript.jsonl".to_string(),
        first_line: first,
        last_line: last,
        excerpt,
    })
}

// ---- concord report -----------------------------------------------------------------

/// `concord report --from report.json`: the four formats again, from a saved run. Exits
/// with the saved run's code (2 when the file cannot be read).
pub fn report_main(args: ReportArgs) -> u8 {
    if !args.merge.is_empty() {
        return crate::compare::merge_main(&args);
    }
    if !args.diff.is_empty() {
        return crate::compare::diff_main(&args);
    }
    let Some(from) = &args.from else {
        eprintln!("concord report: give --from FILE, --merge DIR... or --diff OLD NEW");
        return exit::BAD_INPUT;
    };
    let mut report = match crate::compare::load_report(from) {
        Ok((report, _)) => report,
        Err(e) => {
            eprintln!("concord report: {e}");
            return exit::BAD_INPUT;
        }
    };
    let folder = from
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let out = args.out.clone().unwrap_or_else(|| folder.clone());
    let beside = folder.join("bench.json");
    let bench = args
        .bench
        .clone()
        .or_else(|| beside.is_file().then_some(beside));
    let inputs = match read_inputs(None, None, bench.as_deref()) {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("concord report: {e}");
            return exit::BAD_INPUT;
        }
    };
    finish(
        &mut report,
        &inputs,
        &out,
        args.strict_expect,
        "concord report",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(
        index: usize,
        name: Option<&str>,
        suite: Option<u64>,
        verdict: CaseVerdict,
    ) -> CaseReport {
        CaseReport {
            index,
            name: name.map(str::to_string),
            cipher_suite: suite,
            verdict,
            duration: Duration::from_millis(7),
            requirements: vec!["RFC9420-12.2-5".to_string()],
        }
    }

    #[test]
    fn a_vector_case_is_one_result_with_its_reproducer() {
        let dir = Path::new("vectors");
        let file = FileReport::new("crypto-basics", &dir.join("crypto-basics.json"));
        let failed = CaseVerdict::Failed {
            field: "derive_secret.out".into(),
            detail: "computed 00, vector has 01 [RFC9420-8-1]".into(),
        };
        let result = case_result("vectors", dir, &file, &case(4, None, Some(3), failed));
        assert_eq!(result.id, "vectors/crypto-basics/4/suite-3");
        assert_eq!(result.verdict, Verdict::Fail);
        assert_eq!(result.suite, Some(3));
        assert_eq!(result.duration_seconds, Some(0.007));
        assert_eq!(result.requirements, ["RFC9420-12.2-5", "RFC9420-8-1"]);
        assert_eq!(
            result.detail.as_deref(),
            Some("field `derive_secret.out`: computed 00, vector has 01 [RFC9420-8-1]")
        );
        assert_eq!(
            result.reproducer.as_deref(),
            Some("concord vectors verify vectors --only crypto-basics:4")
        );
        let plain = case_result(
            "vectors",
            dir,
            &file,
            &case(0, None, None, CaseVerdict::Passed),
        );
        assert_eq!(plain.id, "vectors/crypto-basics/0");
        let named = case_result(
            "negative",
            dir,
            &file,
            &case(9, Some("flip-tag/suite-1"), Some(1), CaseVerdict::Passed),
        );
        assert_eq!(named.id, "negative/crypto-basics/flip-tag/suite-1");
        assert_eq!(
            named.reproducer.as_deref(),
            Some("concord vectors verify vectors --only crypto-basics:9")
        );
    }

    #[test]
    fn an_interop_failure_cites_the_requirements_its_problem_carries_not_its_text() {
        use crate::interop::runner::{CaseResult as Case, Problem};

        // The text names one requirement; the problem carries another as data: only the
        // data counts.
        let refusal = "CreateGroup: the client refused: cipher suite 99 [RFC9420-12.4.3.1-8]";
        let record = CaseRecord {
            config: "commit.json".into(),
            script: "add".into(),
            suite: 1,
            handshake: "public",
            assignment: vec![("alice".into(), 0)],
            result: Case {
                id: "commit.json/add/1/public/0".into(),
                verdict: InteropVerdict::Failed,
                problem: Some(Problem {
                    step: Some(0),
                    action: Some("createGroup".into()),
                    check: "invalid-key-package".into(),
                    actor: Some("alice".into()),
                    client: Some("reference".into()),
                    detail: refusal.into(),
                    lines: None,
                    requirements: vec!["RFC9420-7.2-1"],
                }),
                notes: Vec::new(),
                lines: None,
            },
            reproduce: "concord interop ...".into(),
            requirements: vec!["RFC9420-11-5"],
            expectation: None,
            duration: Duration::from_millis(12),
        };
        let result = interop_result(&record, &["reference".to_string()], &[], &[]);
        assert_eq!(result.verdict, Verdict::Fail);
        assert_eq!(result.duration_seconds, Some(0.012));
        for id in ["RFC9420-7.2-1", "RFC9420-11-5"] {
            assert!(
                result.requirements.iter().any(|r| r == id),
                "{id} not in {:?}",
                result.requirements
            );
        }
        assert!(
            !result
                .requirements
                .iter()
                .any(|r| r == "RFC9420-12.4.3.1-8"),
            "an ID was read back out of the text: {:?}",
            result.requirements
        );
    }

    #[test]
    fn a_failure_detail_cites_the_catalog_ids_it_names() {
        assert_eq!(
            cited_ids(
                "Commit: refused [RFC9420-12.2-5, RFC9420-12.1.4-3]; again RFC9420-12.2-5. \
                 RFC9420-99.9-9 is no requirement, MIMI-PROTOCOL-5.3-11 is"
            ),
            ["RFC9420-12.2-5", "RFC9420-12.1.4-3", "MIMI-PROTOCOL-5.3-11"]
        );
        assert!(cited_ids("nothing cited").is_empty());
    }
}
