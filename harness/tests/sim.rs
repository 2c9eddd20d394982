//! `concord sim`: the shipped scenarios pass on the reference, runs replay byte for byte
//! from their seed, a different seed interleaves differently, and scenario mistakes are
//! exit code 2 with file, line and field.

use std::path::{Path, PathBuf};
use std::process::Command;

use concord_harness::client::ClientUnderTest;
use concord_harness::client::reference::ReferenceClient;
use concord_harness::sim::{self, Options, Verdict, scenario};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Every shipped scenario but the scale one (it has its own benchmark).
fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension().is_some_and(|e| e == "toml")
            && !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains("scale"))
    });
    files.sort();
    files
}

fn reference(_: &str, seed: u64) -> Result<Box<dyn ClientUnderTest>, String> {
    Ok(Box::new(ReferenceClient::new(seed)))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-sim-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `files` with `seed`; returns the summary and the transcript bytes.
fn run(files: &[PathBuf], seed: u64, name: &str) -> (sim::Summary, Vec<u8>) {
    let scenarios = sim::load_all(files).unwrap_or_else(|e| panic!("scenarios load: {e:?}"));
    let out = scratch(name);
    let options = Options {
        seed,
        out: Some(out.clone()),
        ..Options::default()
    };
    let mut lines = Vec::new();
    let summary = sim::run(&scenarios, &options, &reference, None, &mut lines)
        .unwrap_or_else(|e| panic!("run: {e}"));
    let transcript = std::fs::read(out.join("transcript.jsonl")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&out);
    (summary, transcript)
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn at_least_twelve_scenarios_are_shipped_and_all_pass_on_the_reference() {
    let files = shipped();
    assert!(files.len() >= 12, "only {} scenarios", files.len());
    let (summary, transcript) = run(&files, 42, "all");
    let failed: Vec<String> = summary
        .verdicts
        .iter()
        .filter(|v| v.verdict != Verdict::Pass)
        .map(|v| format!("{} [{}] {}: {}", v.scenario, v.room, v.assertion, v.detail))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // Every scenario asserts at least convergence, on top of its steps.
    assert!(summary.passed >= 2 * files.len());
    assert_eq!(summary.exit_code(), 0);
    assert!(!transcript.is_empty());
    // Verdicts cite requirement IDs and transcript lines inside the transcript.
    let lines = transcript.iter().filter(|b| **b == b'\n').count() as u64;
    for v in &summary.verdicts {
        assert!(v.transcript_lines.0 <= v.transcript_lines.1 && v.transcript_lines.1 <= lines + 1);
        if v.assertion != "steps" {
            assert!(
                v.requirements
                    .iter()
                    .any(|r| r.starts_with("MIMI-PROTOCOL-")),
                "{v:?}"
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_transcript_and_another_seed_another_interleaving() {
    let files: Vec<PathBuf> = shipped()
        .into_iter()
        .filter(|p| {
            let name = p.to_string_lossy();
            name.contains("03-concurrent")
                || name.contains("11-lossy")
                || name.contains("04-partition")
        })
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let (_, first) = run(&files, 7, "seed-a");
    let (_, second) = run(&files, 7, "seed-b");
    let (summary, other) = run(&files, 8, "seed-c");
    assert_eq!(
        fnv(&first),
        fnv(&second),
        "same seed, different transcripts"
    );
    assert_ne!(
        fnv(&first),
        fnv(&other),
        "another seed, the same transcript"
    );
    assert_eq!(summary.failed, 0, "{:#?}", summary.verdicts);
}

/// The simulated times at which the hub accepted each application message of a one-room
/// scenario whose send step is `send`.
fn submit_times(send: &str, name: &str) -> Vec<u64> {
    let text = format!(
        "name = \"paced\"\ntranscript = \"events\"\n[network]\nlatency = \"20ms\"\n\
         [[provider]]\nname = \"a.example\"\n[[provider]]\nname = \"b.example\"\n\
         [[user]]\nname = \"alice\"\nprovider = \"a.example\"\n\
         [[user]]\nname = \"bob\"\nprovider = \"b.example\"\n\
         [[step]]\naction = \"create\"\nroom = \"r\"\nby = \"alice\"\n\
         [[step]]\naction = \"invite\"\nroom = \"r\"\nby = \"alice\"\nusers = [\"bob\"]\n\
         [[step]]\naction = \"send\"\nroom = \"r\"\nfrom = \"alice\"\ncount = 4\n{send}\
         [[assert]]\ncheck = \"delivered_once\"\nroom = \"r\"\n"
    );
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("paced.toml");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
    let (summary, transcript) = run(&[file], 3, name);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        (summary.passed, summary.failed),
        (2, 0),
        "{:#?}",
        summary.verdicts
    );
    String::from_utf8_lossy(&transcript)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "hub_submit")
        .filter_map(|v| v["t"].as_u64())
        .collect()
}

#[test]
fn a_paced_send_step_issues_one_message_per_interval() {
    let paced = submit_times("interval = \"500ms\"\n", "paced");
    let burst = submit_times("", "burst");
    assert_eq!((paced.len(), burst.len()), (4, 4), "{paced:?} {burst:?}");
    let gaps = |t: &[u64]| t.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
    // No jitter and no loss: each message leaves exactly 500 ms after the one before.
    assert!(gaps(&paced).iter().all(|g| *g == 500_000), "{paced:?}");
    // All at once: the sender's next follows the hub's answer to the last, a round trip.
    assert!(gaps(&burst).iter().all(|g| *g < 100_000), "{burst:?}");
}

/// A scenario text with one mistake, and the line and field its error must name.
fn assert_error(text: &str, line: usize, field: &str, says: &str) {
    let path = Path::new("mistake.toml");
    match scenario::parse(path, text) {
        Ok(_) => panic!("accepted a scenario with a mistake in {field}"),
        Err(e) => {
            assert_eq!(e.file, path);
            assert_eq!((e.line, e.field.as_str()), (line, field), "{e}");
            assert!(e.message.contains(says), "{e}");
        }
    }
}

const HEAD: &str =
    "name = \"x\"\n[[provider]]\nname = \"a\"\n[[user]]\nname = \"alice\"\nprovider = \"a\"\n";

#[test]
fn scenario_mistakes_name_the_line_and_the_field() {
    // Lines 1-6 are HEAD.
    assert_error(
        &format!("{HEAD}[[step]]\naction = \"create\"\nroom = \"r\"\nby = \"bob\"\n"),
        10,
        "step 1 (create).by",
        "unknown user `bob`",
    );
    assert_error(
        &format!("{HEAD}[[step]]\naction = \"send\"\nroom = \"nowhere\"\nfrom = \"alice\"\n"),
        9,
        "step 1 (send).room",
        "not created by an earlier step",
    );
    assert_error(
        &format!("{HEAD}[[step]]\naction = \"wait\"\nduration = \"5 fortnights\"\n"),
        9,
        "step 1 (wait).duration",
        "unknown unit",
    );
    let create = "[[step]]\naction = \"create\"\nroom = \"r\"\nby = \"alice\"\n";
    assert_error(
        &format!(
            "{HEAD}{create}[[step]]\naction = \"send\"\nroom = \"r\"\nfrom = \"alice\"\ninterval = \"often\"\n"
        ),
        15,
        "step 2 (send).interval",
        "not a duration",
    );
    assert_error(
        &format!(
            "{HEAD}{create}[[step]]\naction = \"concurrent\"\nsteps = [\n  {{ action = \"send\", room = \"r\", from = \"alice\", interval = \"1ms\" }},\n]\n"
        ),
        14,
        "step 2 (send).interval",
        "not inside concurrent steps",
    );
    assert_error(
        &format!("{HEAD}[network]\nloss = 1.5\n"),
        8,
        "network.loss",
        "not a probability",
    );
    assert_error(
        &format!("{HEAD}[[step]]\naction = \"teleport\"\n"),
        8,
        "step 1.action",
        "unknown action",
    );
    assert_error(
        &format!("{HEAD}[[user]]\nname = \"bob\"\nprovider = \"z\"\n"),
        9,
        "user.provider",
        "unknown provider `z`",
    );
}

#[test]
fn numbers_past_their_limits_are_refused_naming_the_field() {
    // A jitter of u64::MAX microseconds once overflowed the network's draw; a count of a
    // billion messages exhausted memory.
    assert_error(
        &format!("{HEAD}[network]\njitter = \"18446744073709551615us\"\n"),
        8,
        "network.jitter",
        "limit of a day",
    );
    assert_error(
        &format!("{HEAD}[network]\nlatency = \"25h\"\n"),
        8,
        "network.latency",
        "unknown unit",
    );
    assert_error(
        &format!("{HEAD}[network]\nlatency = \"1441m\"\n"),
        8,
        "network.latency",
        "limit of a day",
    );
    let create = "[[step]]\naction = \"create\"\nroom = \"r\"\nby = \"alice\"\n";
    assert_error(
        &format!(
            "{HEAD}{create}[[step]]\naction = \"send\"\nroom = \"r\"\nfrom = \"alice\"\ncount = 1000000000\n"
        ),
        15,
        "step 2 (send).count",
        "the limit is 100000",
    );
    assert_error(
        &format!("{HEAD}[[users]]\nprefix = \"u\"\ncount = 4000000000\nproviders = [\"a\"]\n"),
        9,
        "users.count",
        "the limit is 100000",
    );
}

#[test]
fn the_command_exits_2_on_a_scenario_mistake_naming_file_line_and_field() {
    let dir = scratch("cli");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("bad.toml");
    let text = format!(
        "{HEAD}[[step]]\naction = \"create\"\nroom = \"r\"\nby = \"alice\"\n[[step]]\naction = \"invite\"\nroom = \"r\"\nby = \"alice\"\nusers = [\"carol\"]\n"
    );
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["sim", &file.to_string_lossy(), "--seed", "1", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.toml:15: step 2 (invite).users: unknown user `carol`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_command_runs_a_scenario_and_writes_the_closing_line_and_transcript() {
    let dir = scratch("cli-ok");
    let file = scenarios_dir().join("01-one-to-one.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["sim", &file.to_string_lossy(), "--seed", "3", "--out"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("sim: ") && l.ends_with(" passed, 0 failed, 0 skipped")),
        "{stdout}"
    );
    assert!(dir.join("transcript.jsonl").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
