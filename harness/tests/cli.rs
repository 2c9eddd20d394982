//! The `concord` command as a user meets it: exit codes and messages on bad input.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn concord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .output()
        .expect("the concord binary runs")
}

/// A fresh folder under the system temp dir, unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write(dir: &Path, file: &str, contents: &str) {
    std::fs::write(dir.join(file), contents).expect("write vector file");
}

#[test]
fn missing_directory_is_bad_input() {
    let output = concord(&["vectors", "verify", "/nonexistent/concord-vectors"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("/nonexistent/concord-vectors"));
}

#[test]
fn unknown_family_is_bad_usage() {
    let dir = scratch("unknown-family");
    let output = concord(&[
        "vectors",
        "verify",
        dir.to_str().unwrap(),
        "--only",
        "no-such-family",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("unknown vector family `no-such-family`"),
        "{}",
        text(&output)
    );
}

#[test]
fn malformed_case_names_file_case_and_field() {
    let dir = scratch("malformed");
    write(
        &dir,
        "tree-math.json",
        r#"[{"n_leaves": 1, "n_nodes": 1, "root": 0, "left": [null], "right": [null], "parent": [null], "sibling": [null]},
                                       {"n_leaves": 2, "n_nodes": "three"}]"#,
    );
    let output = concord(&["vectors", "verify", dir.to_str().unwrap()]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(
        out.contains("tree-math.json") && out.contains("case 1") && out.contains("n_nodes"),
        "{out}"
    );
}

#[test]
fn not_json_is_bad_input() {
    let dir = scratch("not-json");
    write(&dir, "deserialization.json", "{ this is not json");
    let output = concord(&[
        "vectors",
        "verify",
        dir.to_str().unwrap(),
        "--only",
        "deserialization",
    ]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(out.contains("not valid JSON"), "{out}");
}

#[test]
fn a_wrong_value_is_a_failure_with_its_field() {
    let dir = scratch("wrong-value");
    // 64 needs two bytes: a one-byte header 0x3f claims 63.
    write(
        &dir,
        "deserialization.json",
        r#"[{"vlbytes_header": "00", "length": 0}, {"vlbytes_header": "3f", "length": 64}]"#,
    );
    let output = concord(&["vectors", "verify", dir.to_str().unwrap()]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("first failure: case 1") && out.contains("`length`"),
        "{out}"
    );
    assert!(
        out.trim_end()
            .ends_with("vectors: 1 passed, 1 failed, 0 skipped"),
        "{out}"
    );
}

#[test]
fn json_summary_is_machine_readable() {
    let dir = scratch("json");
    write(
        &dir,
        "deserialization.json",
        r#"[{"vlbytes_header": "4040", "length": 64}]"#,
    );
    let output = concord(&["vectors", "verify", dir.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(summary["passed"], 1);
    assert_eq!(summary["files"][0]["family"], "deserialization");
}

#[test]
fn a_folder_without_vector_files_is_bad_input_not_a_pass() {
    let dir = scratch("empty");
    let output = concord(&["vectors", "verify", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("holds none of the official vector files"),
        "{}",
        text(&output)
    );
}

#[test]
fn an_unreadable_file_wins_over_a_failure_and_absent_families_are_listed() {
    let dir = scratch("unreadable-and-failing");
    write(&dir, "crypto-basics.json", "[1, 2");
    write(
        &dir,
        "deserialization.json",
        r#"[{"vlbytes_header": "3f", "length": 64}]"#,
    );
    let output = concord(&["vectors", "verify", dir.to_str().unwrap()]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(out.contains("1 file(s) could not be read"), "{out}");
    assert!(
        out.contains("tree-math") && out.contains("not present in this folder"),
        "{out}"
    );
    assert!(
        out.trim_end()
            .ends_with("vectors: 0 passed, 1 failed, 0 skipped"),
        "{out}"
    );
}

#[test]
fn a_family_named_twice_is_checked_once() {
    let dir = scratch("twice");
    write(
        &dir,
        "deserialization.json",
        r#"[{"vlbytes_header": "00", "length": 0}]"#,
    );
    let output = concord(&[
        "vectors",
        "verify",
        dir.to_str().unwrap(),
        "--only",
        "deserialization,deserialization",
    ]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.trim_end()
            .ends_with("vectors: 1 passed, 0 failed, 0 skipped"),
        "{out}"
    );
}

/// The same seed and run tag write the same transcript (every case's calls kept); a fresh
/// run tag (the default) keeps two runs' group ids and identities apart.
#[test]
fn the_same_interop_command_gives_the_same_transcript() {
    let configs = std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/interop-configs"
            ))
        });
    let config = configs.join("welcome_join.json");
    let transcripts: Vec<Vec<u8>> = ["first", "second"]
        .iter()
        .map(|run| {
            let out = scratch(&format!("interop-{run}"));
            let output = concord(&[
                "interop",
                "--config",
                config.to_str().unwrap(),
                "--client",
                "reference",
                "--suite",
                "1",
                "--run-tag",
                "5eed",
                "--transcript",
                "all",
                "--out",
                out.to_str().unwrap(),
            ]);
            assert_eq!(output.status.code(), Some(0), "{}", text(&output));
            std::fs::read(out.join("transcript.jsonl")).expect("transcript written")
        })
        .collect();
    assert!(transcripts[0].len() > 1000);
    assert!(
        transcripts[0] == transcripts[1],
        "two runs of one command wrote different transcripts"
    );
    let tags: Vec<String> = ["third", "fourth"]
        .iter()
        .map(|run| {
            let out = scratch(&format!("interop-{run}"));
            let output = concord(&[
                "interop",
                "--config",
                config.to_str().unwrap(),
                "--client",
                "reference",
                "--suite",
                "1",
                "--out",
                out.to_str().unwrap(),
            ]);
            assert_eq!(output.status.code(), Some(0), "{}", text(&output));
            let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
            let header: serde_json::Value =
                serde_json::from_str(transcript.lines().next().unwrap()).unwrap();
            header["run_tag"].as_str().unwrap().to_string()
        })
        .collect();
    assert_ne!(tags[0], tags[1], "each run draws a fresh run tag");
}

/// The working group's formats may grow fields upstream: an unknown one is a warning with its
/// place, and `--strict` makes it an input error (exit code 2).
#[test]
fn an_unknown_field_is_a_warning_and_an_error_under_strict() {
    let dir = scratch("unknown-field");
    write(
        &dir,
        "tree-math.json",
        r#"[{"n_leaves": 1, "n_nodes": 1, "root": 0, "left": [null], "right": [null], "parent": [null], "sibling": [null], "new_field": 7}]"#,
    );
    let output = concord(&["vectors", "verify", dir.to_str().unwrap()]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("1 passed"), "{out}");
    assert!(
        out.contains("warning:") && out.contains("case 0, field `new_field`"),
        "{out}"
    );
    let output = concord(&["vectors", "verify", "--strict", dir.to_str().unwrap()]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(
        out.contains("new_field") && out.contains("--strict"),
        "{out}"
    );

    write(
        &dir,
        "script.json",
        r#"{"scripts":{"a":[{"action":"createGroup","actor":"alice","force_pth":true}]}}"#,
    );
    let config = dir.join("script.json");
    let out_dir = dir.join("out");
    let args = [
        "interop",
        "--config",
        config.to_str().unwrap(),
        "--client",
        "reference",
        "--suite",
        "1",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let output = concord(&args);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("force_pth"), "{out}");
    let matrix = std::fs::read_to_string(out_dir.join("matrix.md")).unwrap();
    assert!(matrix.contains("force_pth"), "{matrix}");
    let mut strict = args.to_vec();
    strict.push("--strict");
    let output = concord(&strict);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(out.contains("force_pth"), "{out}");
}
