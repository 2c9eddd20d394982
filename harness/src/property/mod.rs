//! Property-based scenarios: random operation sequences over N members on M providers, run
//! by the real simulator, with the scenario assertions as invariants (RFC 9420 section 14:
//! one epoch and epoch authenticator for all members; every application message delivered
//! once to the members of its epoch; no member outside the participant list; a removed member
//! cannot read later messages). A failing sequence is shrunk by proptest and written out as a
//! scenario file that `concord sim FILE --seed S` replays.
//!
//! ```text
//!  proptest strategy ──> Sequence { members, providers, ops } ──render──> scenario TOML
//!        ▲ shrink                                                          │ parse (same parser
//!        └──── failing verdict <── assertions <── sim::run (reference) <───┘  as concord sim)
//! ```
//!
//! Operations name members by position and are read against the membership they find when
//! rendered (an invite picks among non-members, a remove among members), so every shrunk
//! sequence is still a valid scenario. The invariants are checked when a sequence's steps are
//! done, and every operation must itself succeed (the `steps` assertion); shrinking makes the
//! failing prefix minimal, so "after each step" and "at the end of a minimal sequence" meet.
//!
//! A **differential** run plays the same sequence twice, with the reference for every user and
//! with a client under test for every user but the creator, and compares the verdicts: a
//! sequence the reference passes and the client fails (or the reverse) is a finding.
//!
//! Budget: `concord run` plays a few dozen sequences; `concord property --cases 10000` is the
//! long run (see README). The `injected-bug` cargo feature plants a bug in the reference
//! (`reference/src/commit/apply.rs`) that the property run must find and shrink.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::sim::{self, Options};

pub mod cli;

/// One operation; member positions are read modulo the candidates when rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A member invites one or more non-members (one commit).
    Invite { by: u8, users: Vec<u8> },
    /// A member (or every member, `from == None`) sends `count` messages.
    Send { from: Option<u8>, count: u8 },
    /// A member commits an update.
    Update { by: u8 },
    /// A member removes another.
    Remove { by: u8, user: u8 },
    /// A member leaves; another commits its Remove proposal.
    Leave { user: u8, committer: u8 },
    /// A non-member joins by external commit (the room is open).
    JoinExternal { user: u8 },
    /// Two members update at the same instant and a third sends: one commit wins.
    Race { a: u8, b: u8, sender: u8 },
    /// A follower provider is cut from the hub both ways while a member sends, then healed.
    PartitionAndHeal { provider: u8, sender: u8 },
}

/// A generated case: how many users and providers, and the operations after the creator
/// made the room and invited its first member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub users: u8,
    pub providers: u8,
    pub ops: Vec<Op>,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), prop::collection::vec(any::<u8>(), 1..3))
            .prop_map(|(by, users)| Op::Invite { by, users }),
        3 => (prop::option::of(any::<u8>()), 1u8..4).prop_map(|(from, count)| Op::Send { from, count }),
        2 => any::<u8>().prop_map(|by| Op::Update { by }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(by, user)| Op::Remove { by, user }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(user, committer)| Op::Leave { user, committer }),
        1 => any::<u8>().prop_map(|user| Op::JoinExternal { user }),
        1 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, sender)| Op::Race { a, b, sender }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(provider, sender)| Op::PartitionAndHeal { provider, sender }),
    ]
}

/// Sequences over 2..=`max_users` users on 1..=3 providers, 1..=`max_ops` operations.
pub fn sequence(max_users: u8, max_ops: usize) -> impl Strategy<Value = Sequence> {
    (
        2..=max_users.max(2),
        1u8..=3,
        prop::collection::vec(op(), 1..=max_ops.max(1)),
    )
        .prop_map(|(users, providers, ops)| Sequence {
            users,
            providers,
            ops,
        })
}

fn pick(candidates: &[usize], raw: u8) -> Option<usize> {
    (!candidates.is_empty()).then(|| candidates[raw as usize % candidates.len()])
}

fn user(i: usize) -> String {
    format!("u{i}")
}

fn provider(i: usize) -> String {
    format!("p{}.example", i + 1)
}

/// The scenario file of a sequence (what `concord sim` reads), and how many steps it has.
pub fn render(seq: &Sequence, title: &str) -> (String, usize) {
    let users = seq.users.max(2) as usize;
    let providers = seq.providers.clamp(1, 3) as usize;
    let mut members: BTreeSet<usize> = BTreeSet::from([0, 1]);
    let mut removed = false;
    let mut steps = String::new();
    let mut count = 2;
    let step = |steps: &mut String, body: String| {
        let _ = write!(steps, "\n[[step]]\n{body}");
    };
    for op in &seq.ops {
        let in_room: Vec<usize> = members.iter().copied().collect();
        let outside: Vec<usize> = (0..users).filter(|u| !members.contains(u)).collect();
        let body = match op {
            Op::Invite { by, users: raw } => {
                let Some(by) = pick(&in_room, *by) else {
                    continue;
                };
                let mut invited = BTreeSet::new();
                for r in raw {
                    if let Some(u) = pick(&outside, *r) {
                        invited.insert(u);
                    }
                }
                if invited.is_empty() {
                    continue;
                }
                let list: Vec<String> = invited
                    .iter()
                    .map(|u| format!("\"{}\"", user(*u)))
                    .collect();
                members.extend(invited);
                format!(
                    "action = \"invite\"\nroom = \"r\"\nby = \"{}\"\nusers = [{}]\n",
                    user(by),
                    list.join(", ")
                )
            }
            Op::Send { from, count } => {
                let from = match from {
                    Some(f) => match pick(&in_room, *f) {
                        Some(u) => user(u),
                        None => continue,
                    },
                    None => "*".to_string(),
                };
                format!("action = \"send\"\nroom = \"r\"\nfrom = \"{from}\"\ncount = {count}\n")
            }
            Op::Update { by } => {
                let Some(by) = pick(&in_room, *by) else {
                    continue;
                };
                format!("action = \"update\"\nroom = \"r\"\nby = \"{}\"\n", user(by))
            }
            Op::Remove { by, user: target } => {
                let Some(by) = pick(&in_room, *by) else {
                    continue;
                };
                let others: Vec<usize> = in_room.iter().copied().filter(|u| *u != by).collect();
                let Some(target) = pick(&others, *target) else {
                    continue;
                };
                members.remove(&target);
                removed = true;
                format!(
                    "action = \"remove\"\nroom = \"r\"\nby = \"{}\"\nusers = [\"{}\"]\n",
                    user(by),
                    user(target)
                )
            }
            Op::Leave {
                user: leaver,
                committer,
            } => {
                let Some(leaver) = pick(&in_room, *leaver) else {
                    continue;
                };
                let others: Vec<usize> = in_room.iter().copied().filter(|u| *u != leaver).collect();
                let Some(committer) = pick(&others, *committer) else {
                    continue;
                };
                members.remove(&leaver);
                removed = true;
                format!(
                    "action = \"leave\"\nroom = \"r\"\nuser = \"{}\"\ncommitter = \"{}\"\n",
                    user(leaver),
                    user(committer)
                )
            }
            Op::JoinExternal { user: joiner } => {
                let Some(joiner) = pick(&outside, *joiner) else {
                    continue;
                };
                members.insert(joiner);
                format!(
                    "action = \"join_external\"\nroom = \"r\"\nuser = \"{}\"\n",
                    user(joiner)
                )
            }
            Op::Race { a, b, sender } => {
                let Some(a) = pick(&in_room, *a) else {
                    continue;
                };
                let others: Vec<usize> = in_room.iter().copied().filter(|u| *u != a).collect();
                let Some(b) = pick(&others, *b) else {
                    continue;
                };
                let Some(sender) = pick(&in_room, *sender) else {
                    continue;
                };
                format!(
                    "action = \"concurrent\"\nsteps = [\n  {{ action = \"update\", room = \"r\", by = \"{}\" }},\n  {{ action = \"update\", room = \"r\", by = \"{}\" }},\n  {{ action = \"send\", room = \"r\", from = \"{}\", count = 1 }},\n]\n",
                    user(a),
                    user(b),
                    user(sender)
                )
            }
            Op::PartitionAndHeal {
                provider: p,
                sender,
            } => {
                if providers < 2 {
                    continue;
                }
                let follower = 1 + (*p as usize % (providers - 1));
                let Some(sender) = pick(&in_room, *sender) else {
                    continue;
                };
                step(
                    &mut steps,
                    format!(
                        "action = \"partition\"\nfrom = \"{}\"\nto = \"{}\"\n",
                        provider(0),
                        provider(follower)
                    ),
                );
                step(
                    &mut steps,
                    format!(
                        "action = \"send\"\nroom = \"r\"\nfrom = \"{}\"\ncount = 1\n",
                        user(sender)
                    ),
                );
                count += 2;
                "action = \"heal\"\n".to_string()
            }
        };
        step(&mut steps, body);
        count += 1;
    }
    let mut out = String::new();
    let _ = writeln!(out, "# {title}");
    let _ = writeln!(
        out,
        "name = \"property: {} users on {} providers\"",
        users, providers
    );
    let _ = writeln!(
        out,
        "description = \"A generated operation sequence (concord property)\"\n"
    );
    let _ = writeln!(
        out,
        "[network]\nlatency = \"20ms\"\njitter = \"10ms\"\nreorder = 0.05\n"
    );
    for p in 0..providers {
        let _ = writeln!(out, "[[provider]]\nname = \"{}\"", provider(p));
    }
    for u in 0..users {
        let _ = writeln!(
            out,
            "[[user]]\nname = \"{}\"\nprovider = \"{}\"",
            user(u),
            provider(u % providers)
        );
    }
    let _ = write!(
        out,
        "\n[[step]]\naction = \"create\"\nroom = \"r\"\nby = \"u0\"\nhub = \"{}\"\nopen = true\n\n[[step]]\naction = \"invite\"\nroom = \"r\"\nby = \"u0\"\nusers = [\"u1\"]\n{steps}",
        provider(0)
    );
    let mut checks = vec!["converged", "delivered_once", "participants_only"];
    if removed {
        checks.push("removed_cannot_read");
    }
    for c in checks {
        let _ = write!(out, "\n[[assert]]\ncheck = \"{c}\"\nroom = \"r\"\n");
    }
    (out, count)
}

/// What one sequence did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Assertions (and the `steps` pseudo-assertion) that failed, with their details.
    pub failures: Vec<String>,
    /// The requirement IDs the assertions cite.
    pub requirements: BTreeSet<String>,
    /// A client under test crashed, hung or was unreachable.
    pub client_fault: bool,
}

/// Plays one rendered scenario with the simulator: `clients` as `concord sim --client`.
pub fn play(
    text: &str,
    seed: u64,
    clients: &std::collections::BTreeMap<String, String>,
) -> Result<Outcome, String> {
    let scenario = sim::scenario::parse(Path::new("generated.toml"), text)
        .map_err(|e| format!("generated scenario does not parse: {e:?}"))?;
    let options = Options {
        seed,
        clients: clients.clone(),
        out: None,
        bench: false,
    };
    let factory =
        |spec: &str, seed: u64| -> Result<Box<dyn crate::client::ClientUnderTest>, String> {
            crate::interop::session::open_client(spec, std::time::Duration::from_secs(30), seed)
        };
    let summary = sim::run(&[scenario], &options, &factory, None, &mut std::io::sink())?;
    let mut outcome = Outcome {
        failures: Vec::new(),
        requirements: BTreeSet::new(),
        client_fault: summary.client_fault,
    };
    for v in &summary.verdicts {
        outcome.requirements.extend(v.requirements.iter().cloned());
        if v.verdict == sim::checks::Verdict::Fail {
            outcome
                .failures
                .push(format!("{}: {}", v.assertion, v.detail));
        }
    }
    Ok(outcome)
}

/// A property run's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub seed: u64,
    pub cases: u32,
    pub max_users: u8,
    pub max_ops: usize,
    /// `concord sim --client` specs for every user but the creator (empty: the reference).
    pub client: Option<String>,
    /// Compare each sequence's verdicts with the reference's.
    pub differential: bool,
}

/// The minimal failing sequence, as a replayable scenario.
#[derive(Debug, Clone)]
pub struct Counterexample {
    pub sequence: Sequence,
    pub scenario: String,
    pub steps: usize,
    pub reason: String,
}

/// A property run's result.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub cases: u32,
    pub counterexample: Option<Counterexample>,
    /// Sequences whose run itself could not happen (a generated scenario that does not parse
    /// is a bug of this module, reported as such).
    pub error: Option<String>,
    pub requirements: BTreeSet<String>,
    pub client_fault: bool,
    pub seconds: f64,
}

fn client_map(client: Option<&str>, users: u8) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::new();
    if let Some(spec) = client {
        for u in 1..users.max(2) as usize {
            map.insert(user(u), spec.to_string());
        }
    }
    map
}

/// Runs `settings.cases` sequences; on a failure proptest shrinks it to a minimal one.
pub fn run(settings: &Settings) -> RunResult {
    let started = Instant::now();
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&settings.seed.to_le_bytes());
    let config = Config {
        cases: settings.cases,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let requirements = std::cell::RefCell::new(BTreeSet::new());
    let client_fault = std::cell::Cell::new(false);
    let sim_seed = settings.seed;
    let result = runner.run(
        &sequence(settings.max_users, settings.max_ops),
        |seq| {
            let (text, _) = render(&seq, "generated");
            let clients = client_map(settings.client.as_deref(), seq.users);
            let outcome = play(&text, sim_seed, &clients).map_err(TestCaseError::fail)?;
            requirements.borrow_mut().extend(outcome.requirements.iter().cloned());
            if outcome.client_fault {
                client_fault.set(true);
            }
            if settings.differential && settings.client.is_some() {
                let reference = play(&text, sim_seed, &Default::default())
                    .map_err(TestCaseError::fail)?;
                let ours: BTreeSet<_> = reference.failures.iter().map(|f| head(f)).collect();
                let theirs: BTreeSet<_> = outcome.failures.iter().map(|f| head(f)).collect();
                if ours != theirs {
                    return Err(TestCaseError::fail(format!(
                        "differential: the reference fails {ours:?}, the client under test {theirs:?}: {}",
                        outcome.failures.join("; ")
                    )));
                }
                return Ok(());
            }
            if outcome.failures.is_empty() {
                Ok(())
            } else {
                Err(TestCaseError::fail(outcome.failures.join("; ")))
            }
        },
    );
    let mut out = RunResult {
        cases: settings.cases,
        counterexample: None,
        error: None,
        requirements: requirements.into_inner(),
        client_fault: client_fault.get(),
        seconds: 0.0,
    };
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, seq)) => {
            let (scenario, steps) = render(
                &seq,
                &format!(
                    "Shrunk by concord property (seed {}): replay with `concord sim FILE --seed {}`",
                    settings.seed, settings.seed
                ),
            );
            out.counterexample = Some(Counterexample {
                sequence: seq,
                scenario,
                steps,
                reason: reason.to_string(),
            });
        }
        Err(TestError::Abort(reason)) => out.error = Some(reason.to_string()),
    }
    out.seconds = started.elapsed().as_secs_f64();
    out
}

/// The assertion name of a failure line (`converged: ...` -> `converged`).
fn head(failure: &str) -> String {
    failure.split(':').next().unwrap_or(failure).to_string()
}

/// Writes a counterexample's scenario to `dir/property-counterexample.toml`.
pub fn write_counterexample(dir: &Path, c: &Counterexample) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("property-counterexample.toml");
    std::fs::write(&path, &c.scenario).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// A short property stage for `concord run`: one case result for the whole budget.
pub fn run_for_report(seed: u64, cases: u32) -> Vec<concord_reports::CaseResult> {
    let settings = Settings {
        seed,
        cases,
        max_users: 6,
        max_ops: 8,
        client: None,
        differential: false,
    };
    let result = run(&settings);
    let (verdict, detail) = match (&result.counterexample, &result.error) {
        (Some(c), _) => (
            concord_reports::Verdict::Fail,
            format!(
                "minimal failing sequence ({} steps): {}\n{}",
                c.steps, c.reason, c.scenario
            ),
        ),
        (None, Some(e)) => (concord_reports::Verdict::Fail, e.clone()),
        (None, None) => (
            concord_reports::Verdict::Pass,
            format!(
                "{cases} random sequences (up to 6 users, 3 providers, 8 operations) kept every invariant"
            ),
        ),
    };
    let mut requirements: Vec<String> = result.requirements.iter().cloned().collect();
    if requirements.is_empty() {
        requirements.push("RFC9420-14-1".to_string());
    }
    vec![concord_reports::CaseResult {
        id: format!("property/reference/seed-{seed}"),
        source: "property".to_string(),
        clients: vec!["reference".to_string()],
        implementations: Vec::new(),
        suite: Some(1),
        requirements,
        features: Vec::new(),
        verdict,
        client_fault: result.client_fault,
        duration_seconds: Some(result.seconds),
        detail: Some(detail),
        reproducer: Some(format!("concord property --cases {cases} --seed {seed}")),
        transcript: None,
        expectation: None,
        per_run: false,
    }]
}

/// The requirements the property run checks on every sequence: those of the scenario
/// assertions it adds (`converged`, `delivered_once`, `participants_only`,
/// `removed_cannot_read`) and of the operations themselves.
pub fn citations() -> Vec<crate::catalog::CheckCitation> {
    vec![crate::catalog::CheckCitation {
        check: "property/random-sequences".to_string(),
        source: "harness/src/property/mod.rs",
        requirements: [
            "RFC9420-14-1",
            "RFC9420-12.1.3-1",
            "MIMI-PROTOCOL-5.3-4",
            "MIMI-PROTOCOL-5.3-11",
            "MIMI-PROTOCOL-5.3-14",
            "MIMI-PROTOCOL-5.3-17",
            "MIMI-PROTOCOL-5.4-6",
            "MIMI-PROTOCOL-5.5-1",
            "MIMI-PROTOCOL-5.5-7",
            "MIMI-PROTOCOL-5.5-15",
        ]
        .iter()
        .map(|id| id.to_string())
        .collect(),
    }]
}

#[cfg(test)]
mod tests;
