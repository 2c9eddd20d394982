//! `concord adversary`: the negative recipes against any client under test.
//!
//! ```text
//! --client SPEC ... ──> open_client ──> SupportedCiphersuites ∩ --suite
//!                                          │
//!      for each suite, each recipe (--family F or F/RECIPE): client::run_client_each
//!                                          │  the client's own KeyPackage as the receiver
//!                                          v
//!      one CaseResult per case and client ──> failure lines, closing line, --out reports
//! ```
//!
//! A client found down (unreachable, or hung or crashed when Concord does not restart it)
//! is not called again: its remaining cases are skipped, naming the case it went down in.
//! `concord run --client SPEC` runs the same stage ([`stage`]).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use concord_client::proto::SupportedCiphersuitesRequest;
use concord_client::{ClientError, ClientUnderTest};
use concord_reference::crypto::CipherSuite;
use concord_reports::{CaseResult, Report, RunInfo, Verdict};

use super::client::{ClientCase, ClientVerdict, run_client_each, selected};
use super::{Expect, FAMILIES};
use crate::exit;
use crate::interop::session::open_client;

/// Arguments of `concord adversary`.
#[derive(clap::Args, Debug)]
pub struct AdversaryArgs {
    /// A client under test; repeat for several. `grpc://HOST:PORT` (an MLSClient server
    /// already running), `exec:'COMMAND ... {port}'` (Concord runs and restarts it),
    /// `reference`, `openmls`, `mls-rs` (in process).
    #[arg(long = "client", value_name = "SPEC", required = true, num_args = 1..)]
    pub clients: Vec<String>,
    /// Only these cipher suites (comma-separated); default: every suite the client supports.
    #[arg(long, value_delimiter = ',')]
    pub suite: Option<Vec<u16>>,
    /// Only these families (comma-separated), or single recipes as FAMILY/RECIPE.
    #[arg(long, value_delimiter = ',', value_name = "F")]
    pub family: Option<Vec<String>>,
    /// Seed of the cases (the same seed and KeyPackages give the same inputs).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Per-call timeout, in seconds: a client that does not answer in time hangs.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Also write the reports (index.html, report.json, junit.xml, summary.md) to DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bar or progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// The most failure lines printed; the reports hold every result.
const MAX_LINES: usize = 200;

/// What one stage run decides: the cipher suites, families and seed, per client.
#[derive(Debug)]
pub struct Stage<'a> {
    pub clients: &'a [String],
    pub suites: Option<&'a [u16]>,
    pub only: Option<&'a [&'a str]>,
    pub seed: u64,
    pub timeout: Duration,
    pub quiet: bool,
}

/// The results of a stage, and whether a client was found down.
#[derive(Debug)]
pub struct StageOutcome {
    pub results: Vec<CaseResult>,
    pub down: Vec<String>,
    pub input_errors: Vec<String>,
}

/// `concord adversary`; returns the exit code.
pub fn main(args: AdversaryArgs) -> u8 {
    if args.timeout == 0 {
        eprintln!("concord adversary: --timeout must be at least 1 second");
        return exit::BAD_INPUT;
    }
    let families: Vec<String> = args.family.clone().unwrap_or_default();
    for name in &families {
        if let Err(e) = check_selector(name) {
            eprintln!("concord adversary: --family {name}: {e}");
            return exit::BAD_INPUT;
        }
    }
    if let Some(suites) = &args.suite
        && let Some(bad) = suites.iter().find(|s| !(1..=7).contains(*s))
    {
        eprintln!("concord adversary: --suite {bad}: Concord has cipher suites 1 to 7");
        return exit::BAD_INPUT;
    }
    let only: Vec<&str> = families.iter().map(String::as_str).collect();
    let stage = Stage {
        clients: &args.clients,
        suites: args.suite.as_deref(),
        only: (!only.is_empty()).then_some(only.as_slice()),
        seed: args.seed,
        timeout: Duration::from_secs(args.timeout),
        quiet: args.quiet,
    };
    let started = Instant::now();
    let outcome = stage.run(&mut std::io::stdout());
    if !outcome.input_errors.is_empty() {
        for error in &outcome.input_errors {
            eprintln!("concord adversary: {error}");
        }
        return exit::BAD_INPUT;
    }
    let results = outcome.results;
    let (passed, failed, skipped) = counts(&results);
    if let Some(out) = &args.out {
        let run = RunInfo {
            command: crate::run::command_line(),
            argv: crate::run::command_words(),
            profile: "adversary".to_string(),
            seed: args.seed,
            clients: args.clients.clone(),
            duration_seconds: Some(started.elapsed().as_secs_f64()),
            ..RunInfo::default()
        };
        let report = Report::new(env!("CARGO_PKG_VERSION"), run, results);
        let catalog = match concord_spec::catalog() {
            Ok(catalog) => catalog,
            Err(e) => {
                eprintln!("concord adversary: the requirement catalog does not load: {e}");
                return exit::BAD_INPUT;
            }
        };
        match concord_reports::write_all(&report, catalog, None, out) {
            Ok(index) => println!("report: {}", index.display()),
            Err(e) => {
                eprintln!(
                    "concord adversary: cannot write the reports to {}: {e}",
                    out.display()
                );
                return exit::BAD_INPUT;
            }
        }
    }
    println!("adversary: {passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        exit::UNEXPECTED
    } else if !outcome.down.is_empty() {
        exit::SYSTEM_UNDER_TEST
    } else {
        exit::OK
    }
}

/// Passed, failed (client faults included) and skipped results.
pub fn counts(results: &[CaseResult]) -> (usize, usize, usize) {
    let of = |wanted: &[Verdict]| {
        results
            .iter()
            .filter(|r| wanted.contains(&r.verdict))
            .count()
    };
    (
        of(&[Verdict::Pass]),
        of(&[Verdict::Fail, Verdict::UnexpectedPass]),
        of(&[Verdict::Skipped, Verdict::Unsupported]),
    )
}

/// A `--family` value: a family name, or FAMILY/RECIPE.
fn check_selector(name: &str) -> Result<(), String> {
    let (family, recipe) = match name.split_once('/') {
        Some((family, recipe)) => (family, Some(recipe)),
        None => (name, None),
    };
    let Some(found) = FAMILIES.iter().find(|f| f.name == family) else {
        let names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        return Err(format!(
            "no such family; expected one of {}",
            names.join(", ")
        ));
    };
    match recipe {
        Some(recipe) if !found.recipes.iter().any(|r| r.name == recipe) => Err(format!(
            "family {family} has no recipe `{recipe}` (concord vectors verify vectors/negative lists them)"
        )),
        _ => Ok(()),
    }
}

impl Stage<'_> {
    /// Runs the stage, printing failures (at most [`MAX_LINES`]) to `out`.
    pub fn run(&self, out: &mut dyn std::io::Write) -> StageOutcome {
        let mut outcome = StageOutcome {
            results: Vec::new(),
            down: Vec::new(),
            input_errors: Vec::new(),
        };
        let per_suite = selected(self.only).len();
        let mut printed = 0usize;
        let mut unprinted = 0usize;
        for spec in self.clients {
            let mut client = match open_client(spec, self.timeout, self.seed) {
                Ok(client) => client,
                Err(e) => {
                    outcome.input_errors.push(format!("--client {spec}: {e}"));
                    continue;
                }
            };
            let suites = match self.suites_of(client.as_mut()) {
                Ok(suites) => suites,
                Err(error) => {
                    // No answer to SupportedCiphersuites: every case is skipped.
                    let reason = format!("client down before the first case: {error}");
                    let _ = writeln!(out, "{spec}: {reason}");
                    outcome.down.push(spec.clone());
                    for suite in self.suites.unwrap_or(&[1]) {
                        for (family, recipe) in selected(self.only) {
                            outcome.results.push(
                                CaseResult::skipped(
                                    "adversary",
                                    case_id(family.name, recipe.name, *suite),
                                    reason.clone(),
                                )
                                .client(spec.clone()),
                            );
                        }
                    }
                    continue;
                }
            };
            let _ = writeln!(
                out,
                "adversary: {spec}: {} cases per suite, suites {}",
                per_suite,
                suites
                    .iter()
                    .map(|(s, _)| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let total = (per_suite * suites.len()) as u64;
            let mut progress = crate::interop::session::Progress::new(total, self.quiet);
            let (mut failed, mut skipped) = (0usize, 0usize);
            let mut down: Option<String> = None;
            let now = unix_now();
            for (suite, supported) in &suites {
                if !supported {
                    for (family, recipe) in selected(self.only) {
                        outcome.results.push(
                            CaseResult::unsupported(
                                "adversary",
                                case_id(family.name, recipe.name, *suite),
                                format!("cipher suite {suite} is not supported by the client"),
                            )
                            .client(spec.clone())
                            .suite(*suite),
                        );
                        skipped += 1;
                        progress.case_done(failed, skipped);
                    }
                    continue;
                }
                let was_down = down.is_some();
                let mut each = |case: ClientCase| {
                    let id = case_id(case.family, case.recipe, *suite);
                    let result = match &down {
                        Some(since) => CaseResult::skipped(
                            "adversary",
                            id,
                            format!("client down since case {since}"),
                        ),
                        None => self.result(&case, spec, *suite),
                    };
                    if let ClientVerdict::ClientFault { error, .. } = &case.verdict
                        && down.is_none()
                        && is_down(spec, error)
                    {
                        down = Some(case_id(case.family, case.recipe, *suite));
                    }
                    match result.verdict {
                        Verdict::Fail | Verdict::UnexpectedPass => failed += 1,
                        Verdict::Skipped | Verdict::Unsupported => skipped += 1,
                        _ => {}
                    }
                    progress.case_done(failed, skipped);
                    if result.verdict.is_unexpected() {
                        if printed < MAX_LINES {
                            printed += 1;
                            progress.bar.suspend(|| {
                                let _ = writeln!(out, "{}", failure_line(&result));
                            });
                        } else {
                            unprinted += 1;
                        }
                    }
                    outcome.results.push(result);
                    true
                };
                if was_down {
                    for (family, recipe) in selected(self.only) {
                        each(ClientCase {
                            family: family.name,
                            recipe: recipe.name,
                            requirements: recipe.requirements,
                            expect: recipe.expect,
                            verdict: ClientVerdict::Skipped {
                                reason: String::new(),
                            },
                            note: None,
                        });
                    }
                    continue;
                }
                let suite_id = CipherSuite(*suite);
                if let Err(e) = run_client_each(
                    client.as_mut(),
                    suite_id,
                    self.seed,
                    now,
                    self.only,
                    &mut each,
                ) {
                    outcome
                        .input_errors
                        .push(format!("suite {suite}: the cases cannot be built: {e}"));
                }
            }
            progress.finish();
            if let Some(since) = down {
                let _ = writeln!(
                    out,
                    "{spec}: down since case {since}; its later cases were skipped"
                );
                outcome.down.push(spec.clone());
            }
        }
        if unprinted > 0 {
            let _ = writeln!(
                out,
                "... and {unprinted} more (the reports list every result)"
            );
        }
        outcome
    }

    /// The suites to run, each with whether the client supports it.
    fn suites_of(&self, client: &mut dyn ClientUnderTest) -> Result<Vec<(u16, bool)>, ClientError> {
        let supported: Vec<u16> =
            match client.supported_ciphersuites(SupportedCiphersuitesRequest {}) {
                Ok(answer) => answer
                    .ciphersuites
                    .iter()
                    .filter_map(|s| u16::try_from(*s).ok())
                    .filter(|s| (1..=7).contains(s))
                    .collect(),
                // A client without the RPC is asked for the suites named, or suite 1.
                Err(ClientError::Unsupported { .. }) => {
                    self.suites.map(<[u16]>::to_vec).unwrap_or_else(|| vec![1])
                }
                Err(e) => return Err(e),
            };
        Ok(match self.suites {
            Some(wanted) => wanted.iter().map(|s| (*s, supported.contains(s))).collect(),
            None => supported.into_iter().map(|s| (s, true)).collect(),
        })
    }

    /// One case's result.
    fn result(&self, case: &ClientCase, spec: &str, suite: u16) -> CaseResult {
        let id = case_id(case.family, case.recipe, suite);
        let result = match &case.verdict {
            ClientVerdict::Passed => {
                let pass = CaseResult::pass("adversary", id);
                match &case.note {
                    Some(note) => pass.detail(note.clone()),
                    None => pass,
                }
            }
            ClientVerdict::Failed { detail } => CaseResult::fail("adversary", id, detail.clone()),
            ClientVerdict::Skipped { reason } => {
                CaseResult::skipped("adversary", id, reason.clone())
            }
            ClientVerdict::ClientFault { detail, .. } => CaseResult::client_fault(
                "adversary",
                id,
                format!("no answer about the input: {detail}"),
            ),
        };
        let expect = match case.expect {
            Expect::Reject(class) => format!("expect:reject:{class}"),
            Expect::Accept => "expect:accept".to_string(),
            Expect::Acceptable => "expect:acceptable".to_string(),
        };
        result
            .client(spec.to_string())
            .suite(suite)
            .feature(format!("ciphersuite:{suite}"))
            .feature(expect)
            .requirements(case.requirements.iter().copied())
            .reproducer(format!(
                "concord adversary --client {} --suite {suite} --family {}/{} --seed {}",
                shell_word(spec),
                case.family,
                case.recipe,
                self.seed
            ))
    }
}

/// `adversary/FAMILY/RECIPE/suite-N`.
fn case_id(family: &str, recipe: &str, suite: u16) -> String {
    format!("adversary/{family}/{recipe}/suite-{suite}")
}

/// Whether a client is down after `error`: nothing answers, or (for a client Concord does
/// not restart) it hung or its connection broke.
fn is_down(spec: &str, error: &ClientError) -> bool {
    match error {
        ClientError::Unreachable { .. } => true,
        ClientError::Timeout { .. } | ClientError::Crashed { .. } => !spec.starts_with("exec:"),
        _ => false,
    }
}

/// One printed line for a result that is not as expected.
fn failure_line(result: &CaseResult) -> String {
    format!(
        "{} {} [{}]: {}\n  reproduce: {}",
        result.verdict,
        result.id,
        result.clients.join(", "),
        result
            .detail
            .as_deref()
            .map(concord_reports::render::first_line)
            .unwrap_or_default(),
        result.reproducer.as_deref().unwrap_or_default()
    )
}

/// `spec` quoted for a shell when it holds spaces or quotes.
fn shell_word(spec: &str) -> String {
    if spec
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@{}=,+".contains(c))
    {
        spec.to_string()
    } else {
        format!("'{}'", spec.replace('\'', r"'\''"))
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selector_names_a_family_or_one_of_its_recipes() {
        let family = FAMILIES[0];
        assert!(check_selector(family.name).is_ok());
        assert!(check_selector(&format!("{}/{}", family.name, family.recipes[0].name)).is_ok());
        let unknown = check_selector("no-such-family").unwrap_err();
        assert!(unknown.contains(family.name), "{unknown}");
        assert!(check_selector(&format!("{}/no-such-recipe", family.name)).is_err());
    }

    #[test]
    fn only_a_client_concord_cannot_restart_is_down_after_a_hang() {
        let hang = ClientError::Timeout {
            method: "JoinGroup",
            after: Duration::from_secs(1),
        };
        assert!(is_down("grpc://127.0.0.1:1", &hang));
        assert!(!is_down("exec:'server {port}'", &hang));
        let refused = ClientError::Refused {
            method: "JoinGroup",
            code: "InvalidArgument".into(),
            message: "bad".into(),
        };
        assert!(!is_down("grpc://127.0.0.1:1", &refused));
    }

    #[test]
    fn the_reference_in_process_passes_every_case() {
        let stage = |spec: &str| {
            let clients = vec![spec.to_string()];
            let only = ["welcome", "commit"];
            let stage = Stage {
                clients: &clients,
                suites: Some(&[1]),
                only: Some(&only),
                seed: 3,
                timeout: Duration::from_secs(10),
                quiet: true,
            };
            let outcome = stage.run(&mut Vec::new());
            assert!(
                outcome.input_errors.is_empty(),
                "{:?}",
                outcome.input_errors
            );
            counts(&outcome.results)
        };
        // A client that accepts everything fails: client/faults/tests.rs serves one.
        let (passed, failed, _) = stage("reference");
        assert!(
            passed >= 20 && failed == 0,
            "reference: {passed} passed, {failed} failed"
        );
    }
}
