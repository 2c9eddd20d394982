//! `concord sim`: scenarios of several MIMI providers and their users over a simulated,
//! impaired network, deterministic from one seed.
//!
//! ```text
//! scenario files ──scenario::load (errors: file:line: field, exit 2)──> Scenario
//! Scenario + seed ──World: providers (concord_reference::mimi), clients under test,
//!                  Network (virtual clock, links, faults)──> steps run to completion
//!          ──checks──> AssertionVerdict per assertion ──> lines, transcript.jsonl, exit code
//! ```
//!
//! The transcript holds virtual time only; the same seed and inputs give the same bytes.

pub mod adversary;
pub mod checks;
pub mod client;
pub mod net;
mod queue;
pub mod scenario;
pub mod transcript;
mod window;
pub mod world;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

pub use checks::{AssertionVerdict, Verdict};
pub use scenario::{Scenario, ScenarioError};
use transcript::Transcript;
pub use world::ClientFactory;
use world::World;

use concord_reports::exit;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub seed: u64,
    /// `user=SPEC` overrides, `*` for every user.
    pub clients: BTreeMap<String, String>,
    /// Where `transcript.jsonl` goes.
    pub out: Option<PathBuf>,
    /// Print a benchmark line per scenario.
    pub bench: bool,
}

/// Measurements of one scenario (`--bench`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bench {
    pub scenario: String,
    pub wall: Duration,
    pub client_time: Duration,
    pub simulated_us: u64,
    pub messages: u64,
    pub deliveries: u64,
    pub packets: u64,
    pub peak_rss_kib: Option<u64>,
    pub steps: Vec<StepTime>,
}

/// Wall time of one step, and the part of it inside client-under-test calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepTime {
    pub step: usize,
    pub wall: Duration,
    pub client_time: Duration,
}

impl Bench {
    /// Packets the simulator moved per wall-clock second.
    pub fn packets_per_second(&self) -> f64 {
        self.packets as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// The share of wall time outside client-under-test calls (the simulator's own work).
    pub fn simulator_share(&self) -> f64 {
        let wall = self.wall.as_secs_f64().max(1e-9);
        (wall - self.client_time.as_secs_f64()).max(0.0) / wall
    }

    pub fn line(&self) -> String {
        format!(
            "bench {}: wall {:.2}s, simulated {:.1}s, {} app messages, {} deliveries, {} packets ({:.0} packets/s, {:.0} deliveries/s), simulator share {:.1}% (rest in MLS client calls), peak RSS {}",
            self.scenario,
            self.wall.as_secs_f64(),
            self.simulated_us as f64 / 1e6,
            self.messages,
            self.deliveries,
            self.packets,
            self.packets_per_second(),
            self.deliveries as f64 / self.wall.as_secs_f64().max(1e-9),
            self.simulator_share() * 100.0,
            self.peak_rss_kib
                .map_or("unknown".into(), |k| format!("{} MiB", k / 1024)),
        )
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub verdicts: Vec<AssertionVerdict>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// A client under test crashed, hung or answered garbage.
    pub client_fault: bool,
    pub benches: Vec<Bench>,
}

impl Summary {
    pub fn closing_line(&self) -> String {
        format!(
            "sim: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }

    pub fn exit_code(&self) -> u8 {
        if self.client_fault {
            exit::SYSTEM_UNDER_TEST
        } else if self.failed > 0 {
            exit::UNEXPECTED
        } else {
            exit::OK
        }
    }
}

/// Loads every file; all errors, not just the first.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match scenario::load(path) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// Resident memory high-water mark of this process (Linux), for `--bench`.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs scenarios, printing a line per assertion and the closing line to `out`.
/// `stopwatch` (wall time since some start) is used only for `--bench` numbers.
pub fn run(
    scenarios: &[Scenario],
    options: &Options,
    factory: ClientFactory<'_>,
    stopwatch: Option<&dyn Fn() -> Duration>,
    out: &mut dyn Write,
) -> Result<Summary, String> {
    let sink: Option<Box<dyn Write>> = match &options.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = dir.join("transcript.jsonl");
            let file =
                std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(Box::new(std::io::BufWriter::new(file)))
        }
        None => None,
    };
    let mut transcript = Transcript::new(sink);
    let mut summary = Summary::default();
    for scenario in scenarios {
        let (verdicts, fault, bench) =
            run_one(scenario, options, factory, stopwatch, &mut transcript);
        for v in &verdicts {
            let room = if v.room.is_empty() {
                String::new()
            } else {
                format!(" in {}", v.room)
            };
            let _ = writeln!(
                out,
                "{:<11} {}: {}{room} ({}): {}",
                format!("{:?}", v.verdict).to_lowercase(),
                v.scenario,
                v.assertion,
                v.requirements.join(", "),
                v.detail
            );
            match v.verdict {
                Verdict::Pass => summary.passed += 1,
                Verdict::Fail => summary.failed += 1,
                Verdict::Skipped | Verdict::Unsupported => summary.skipped += 1,
            }
        }
        if let Some(b) = bench {
            for t in &b.steps {
                let _ = writeln!(
                    out,
                    "bench {} step {}: wall {:.2}s, {:.2}s in client calls",
                    b.scenario,
                    t.step,
                    t.wall.as_secs_f64(),
                    t.client_time.as_secs_f64()
                );
            }
            let _ = writeln!(out, "{}", b.line());
            summary.benches.push(b);
        }
        summary.client_fault |= fault;
        summary.verdicts.extend(verdicts);
    }
    transcript
        .finish()
        .map_err(|e| format!("writing the transcript: {e}"))?;
    let _ = writeln!(out, "{}", summary.closing_line());
    Ok(summary)
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

/// Runs one scenario: its verdicts, whether a client under test failed as a system,
/// and its measurements when asked.
pub fn run_one(
    scenario: &Scenario,
    options: &Options,
    factory: ClientFactory<'_>,
    stopwatch: Option<&dyn Fn() -> Duration>,
    transcript: &mut Transcript,
) -> (Vec<AssertionVerdict>, bool, Option<Bench>) {
    let first_line = transcript.lines() + 1;
    let started = stopwatch.map(|s| s());
    let mut world = World::new(
        scenario,
        options.seed,
        factory,
        &options.clients,
        transcript,
    );
    world.stopwatch = stopwatch;
    world.log(
        "scenario",
        json!({"file": file_name(&scenario.file), "seed": options.seed, "profile": concord_reference::mimi::PROFILE, "labels": scenario.labels, "description": scenario.description}),
    );
    let verdict = |world: &World<'_>,
                   assertion: &str,
                   room: &str,
                   requirements: Vec<String>,
                   verdict: Verdict,
                   detail: String| AssertionVerdict {
        scenario: scenario.name.clone(),
        file: file_name(&scenario.file),
        assertion: assertion.to_string(),
        room: room.to_string(),
        requirements,
        verdict,
        detail,
        transcript_lines: (first_line, world.transcript.lines() + 1),
    };
    if let Err(e) = world.set_up() {
        let v = verdict(&world, "setup", "", Vec::new(), Verdict::Fail, e);
        return (vec![v], false, None);
    }
    let mut step_times = Vec::new();
    for step in &scenario.steps {
        let before = (stopwatch.map(|s| s()), world.meter.client_time);
        world.run_step(step);
        if let (Some(start), Some(s)) = (before.0, stopwatch) {
            step_times.push(StepTime {
                step: step.index,
                wall: s().saturating_sub(start),
                client_time: world.meter.client_time.saturating_sub(before.1),
            });
        }
    }
    world.settle();
    let mut verdicts = Vec::new();
    let step_verdict = if world.unsupported.is_some() {
        Verdict::Unsupported
    } else if world.failures.is_empty() && world.client_fault.is_none() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let mut step_detail = if world.failures.is_empty() {
        format!("{} steps completed", scenario.steps.len())
    } else {
        world
            .failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    };
    if let Some(fault) = &world.client_fault {
        step_detail = format!("client under test failed: {fault}; {step_detail}");
    }
    if let Some(unsupported) = &world.unsupported {
        step_detail = format!("unsupported: {unsupported}");
    }
    verdicts.push(verdict(
        &world,
        "steps",
        "",
        vec!["RFC9420-14-1".into()],
        step_verdict,
        step_detail,
    ));
    for assertion in &scenario.assertions {
        let requirements = checks::requirements(assertion.check);
        let (v, detail) = if world.unsupported.is_some() {
            (
                Verdict::Unsupported,
                "a client under test lacks an operation this scenario needs".to_string(),
            )
        } else {
            checks::judge(&mut world, assertion.check, &assertion.room)
        };
        world.log("assertion", json!({"check": assertion.check.name(), "room": assertion.room, "verdict": format!("{v:?}").to_lowercase(), "detail": detail, "line": assertion.line}));
        verdicts.push(verdict(
            &world,
            assertion.check.name(),
            &assertion.room,
            requirements,
            v,
            detail,
        ));
    }
    let bench = match (options.bench, started, stopwatch) {
        (true, Some(start), Some(s)) => Some(Bench {
            scenario: scenario.name.clone(),
            wall: s().saturating_sub(start),
            client_time: world.meter.client_time,
            simulated_us: world.net.now(),
            messages: world.truth.messages.len() as u64,
            deliveries: world.truth.received.values().map(|r| r.len() as u64).sum(),
            packets: world.net.stats.data_delivered,
            peak_rss_kib: peak_rss_kib(),
            steps: step_times,
        }),
        _ => None,
    };
    (verdicts, world.client_fault.is_some(), bench)
}
