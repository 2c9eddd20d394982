//! `concord run` and `concord report` as CI meets them: the four formats, the exit codes of
//! the CI contract (an injected failing expectation gives 1, a malformed expectations or
//! claims file gives 2 naming file, line and field, an unreachable client gives 3) and
//! `concord report --from` giving back the same report.
//!
//! Each run is small: one official vector file, one interop config, one scenario.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn concord(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concord"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the concord binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn shared(variable: &str, folder: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")).join(folder)
        })
}

/// A folder with `v/` (tree-math.json), `c/` (application.json) and `s/` (the first
/// shipped scenario), as small as a whole run gets.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-run-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["v", "c", "s"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let vectors = shared("CONCORD_VECTORS", "mls-vectors");
    std::fs::copy(vectors.join("tree-math.json"), dir.join("v/tree-math.json"))
        .unwrap_or_else(|e| panic!("{} (set CONCORD_VECTORS): {e}", vectors.display()));
    let configs = shared("CONCORD_INTEROP_CONFIGS", "interop-configs");
    std::fs::copy(
        configs.join("application.json"),
        dir.join("c/application.json"),
    )
    .unwrap_or_else(|e| panic!("{} (set CONCORD_INTEROP_CONFIGS): {e}", configs.display()));
    let scenarios = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let mut shipped: Vec<PathBuf> = std::fs::read_dir(scenarios)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| !p.to_string_lossy().contains("scale"))
        .collect();
    shipped.sort();
    let first = shipped.first().expect("a shipped scenario");
    std::fs::copy(first, dir.join("s").join(first.file_name().unwrap())).unwrap();
    dir
}

const RUN: &[&str] = &[
    "run",
    "--vectors",
    "v",
    "--configs",
    "c",
    "--scenarios",
    "s",
];

fn run(dir: &Path, extra: &[&str]) -> Output {
    let mut args = RUN.to_vec();
    args.extend_from_slice(extra);
    concord(dir, &args)
}

fn report_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn run_writes_four_formats_and_report_renders_them_again() {
    let dir = workspace("formats");
    let output = run(&dir, &["--out", "out", "--seed", "3"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for file in ["index.html", "report.json", "junit.xml", "summary.md"] {
        let path = dir.join("out").join(file);
        assert!(
            std::fs::metadata(&path).is_ok_and(|m| m.len() > 0),
            "{} missing",
            path.display()
        );
    }
    let out = text(&output);
    assert!(out.contains("report: out/index.html"), "{out}");
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("report: ") && last.contains(" pass, 0 fail"),
        "{last}"
    );
    let report = report_json(&dir.join("out/report.json"));
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["run"]["seed"], 3);
    let sources: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    for source in ["vectors", "interop", "scenario"] {
        assert!(sources.contains(&source), "no {source} result");
    }

    // The JUnit file of a real run validates against the common JUnit schema.
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/schema/junit.xsd");
    let lint = Command::new("xmllint")
        .args(["--noout", "--schema", xsd, "out/junit.xml"])
        .current_dir(&dir)
        .output()
        .expect("xmllint runs (install libxml2-utils)");
    assert!(lint.status.success(), "{}", text(&lint));

    let again = concord(
        &dir,
        &["report", "--from", "out/report.json", "--out", "again"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    for file in ["report.json", "junit.xml", "summary.md", "index.html"] {
        assert_eq!(
            std::fs::read_to_string(dir.join("out").join(file)).unwrap(),
            std::fs::read_to_string(dir.join("again").join(file)).unwrap(),
            "{file} differs after concord report --from"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_injected_failing_expectation_exits_1_and_a_stale_one_warns() {
    let dir = workspace("expect");
    std::fs::write(
        dir.join("expect.toml"),
        "[[known_failure]]\nclient = \"reference\"\ncase = \"vectors/tree-math/*\"\nreason = \"injected: tree math said to fail\"\n",
    )
    .unwrap();
    let output = run(&dir, &["--out", "out", "--expect", "expect.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("unexpected-pass vectors/tree-math"),
        "{}",
        text(&output)
    );
    let report = report_json(&dir.join("out/report.json"));
    let tree_math = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "vectors/tree-math/0")
        .unwrap();
    assert_eq!(tree_math["verdict"], "unexpected-pass");
    assert_eq!(tree_math["expectation"], "injected: tree math said to fail");

    // An entry that matches nothing: a warning, unless --strict-expect.
    std::fs::write(
        dir.join("stale.toml"),
        "[[known_failure]]\nclient = \"no-such-client\"\nreason = \"fixed long ago\"\n",
    )
    .unwrap();
    let output = run(&dir, &["--out", "out2", "--expect", "stale.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output)
            .contains("warning: stale.toml:1: known_failure `client=no-such-client` is stale"),
        "{}",
        text(&output)
    );
    let output = run(
        &dir,
        &["--out", "out3", "--expect", "stale.toml", "--strict-expect"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn malformed_expectations_or_claims_exit_2_naming_file_line_and_field() {
    let dir = workspace("malformed");
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "--expect",
            "expect.toml",
            "# known failures\n[[known_failure]]\nclient = \"openmls\"\nreason = \"\"\n",
            &[
                "expect.toml:4:",
                "field `known_failure[0].reason`",
                "must not be empty",
            ],
        ),
        (
            "--expect",
            "expect.toml",
            "[[unsupported]]\nclient = \"openmls\"\nsuite = \"seven\"\nreason = \"r\"\n",
            &["expect.toml:3:", "field `unsupported[0].suite`"],
        ),
        (
            "--claims",
            "claims.toml",
            "subject = \"Example\"\nciphersuites = [1, 3]\nproposal_types = [\"add\", \"merge\"]\n",
            &["claims.toml:3:", "field `proposal_types[1]`", "merge"],
        ),
        (
            "--claims",
            "claims.toml",
            "subject = \"Example\"\nciphersuites = [1, 300]\n",
            &["claims.toml:2:", "field `ciphersuites[1]`", "300"],
        ),
    ];
    for (flag, file, contents, wanted) in cases {
        std::fs::write(dir.join(file), contents).unwrap();
        let output = run(&dir, &["--out", "out", flag, file]);
        let message = text(&output);
        assert_eq!(output.status.code(), Some(2), "{contents}\n{message}");
        for part in *wanted {
            assert!(message.contains(part), "`{part}` not in: {message}");
        }
        assert!(
            !dir.join("out/report.json").exists(),
            "nothing runs on bad input"
        );
    }
    let output = run(&dir, &["--out", "out", "--expect", "absent.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("absent.toml: cannot read"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn claims_are_weighed_claim_by_claim() {
    let dir = workspace("claims");
    std::fs::write(
        dir.join("claims.toml"),
        "subject = \"The reference\"\nclient = \"reference\"\nciphersuites = [1]\nexternal_join = true\ndma_services = [\"1:1-text\"]\n",
    )
    .unwrap();
    let output = run(&dir, &["--out", "out", "--claims", "claims.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = report_json(&dir.join("out/report.json"));
    let claims = report["claims"]["claims"].as_array().unwrap();
    let status = |capability: &str| {
        claims
            .iter()
            .find(|c| c["capability"] == capability)
            .map(|c| {
                (
                    c["status"].as_str().unwrap().to_string(),
                    c["evidence"].as_array().unwrap().len(),
                )
            })
            .unwrap()
    };
    // application.json runs suite 1 and exchanges messages between two members; it has
    // no external join.
    let (suite, evidence) = status("ciphersuite:1");
    assert_eq!(suite, "supported");
    assert!(evidence > 0);
    assert_eq!(status("external-join").0, "no-evidence");
    assert_eq!(status("service:1:1-text").0, "supported");
    assert!(
        text(&output).contains("claim external-join"),
        "{}",
        text(&output)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_unreachable_client_exits_3() {
    let dir = workspace("unreachable");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    let output = run(
        &dir,
        &[
            "--out",
            "out",
            "--client",
            "grpc://127.0.0.1:9",
            "--timeout",
            "5",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let report = report_json(&dir.join("out/report.json"));
    assert!(
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["client_fault"] == true && r["clients"].to_string().contains("127.0.0.1:9"))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_refuses_a_file_that_is_not_a_report() {
    let dir = workspace("bad-report");
    std::fs::write(dir.join("report.json"), "{\"schema_version\": 99}").unwrap();
    let output = concord(&dir, &["report", "--from", "report.json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("schema_version"),
        "{}",
        text(&output)
    );
    std::fs::remove_dir_all(&dir).ok();
}
