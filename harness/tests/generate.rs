//! `concord vectors generate`: the generated files have the official files' schema, are
//! byte-identical for the same seed, and verify with no failure and no skip.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use concord_harness::generate::{self, GenerateSummary, generated_families};
use concord_harness::vectors::verify_directory;
use concord_reference::crypto::CipherSuite;
use serde_json::Value;

fn official_dir() -> PathBuf {
    std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/mls-vectors"
            ))
        })
}

/// A fresh, empty folder under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "concord-generate-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// One full set (all suites, seed 0), shared by the tests that only read it.
fn full_set() -> &'static (PathBuf, GenerateSummary) {
    static SET: OnceLock<(PathBuf, GenerateSummary)> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = temp_dir("full");
        let summary = generate::generate(&dir, &CipherSuite::ALL, 0).unwrap();
        (dir, summary)
    })
}

fn read_cases(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    match serde_json::from_str(&text).unwrap() {
        Value::Array(cases) => cases,
        other => panic!("{}: not an array: {other}", path.display()),
    }
}

/// The shape of a JSON value: for every path (`a.b[].c`), the JSON types seen there and,
/// for objects, the field names.
#[derive(Default, Debug)]
struct Shape {
    types: BTreeMap<String, BTreeSet<&'static str>>,
    fields: BTreeMap<String, BTreeSet<String>>,
}

impl Shape {
    fn add(&mut self, path: &str, value: &Value) {
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        self.types.entry(path.to_string()).or_default().insert(kind);
        match value {
            Value::Array(items) => {
                for item in items {
                    self.add(&format!("{path}[]"), item);
                }
            }
            Value::Object(map) => {
                let fields = self.fields.entry(path.to_string()).or_default();
                fields.extend(map.keys().cloned());
                for (key, item) in map {
                    self.add(&format!("{path}.{key}"), item);
                }
            }
            _ => {}
        }
    }
}

/// Every generated case has exactly the official field names at every level, and at every
/// path only JSON types the official file uses there (the union over its cases: null
/// entries, empty lists).
#[test]
fn generated_families_match_the_official_schema() {
    let (dir, _) = full_set();
    for family in generated_families() {
        let official_path = official_dir().join(format!("{family}.json"));
        assert!(
            official_path.is_file(),
            "{} is missing (set CONCORD_VECTORS)",
            official_path.display()
        );
        let mut official = Shape::default();
        for case in read_cases(&official_path) {
            official.add("", &case);
        }
        let cases = read_cases(&dir.join(format!("{family}.json")));
        assert!(!cases.is_empty(), "{family}: no cases generated");
        for (index, case) in cases.iter().enumerate() {
            let mut shape = Shape::default();
            shape.add("", case);
            for (path, fields) in &shape.fields {
                assert_eq!(
                    Some(fields),
                    official.fields.get(path),
                    "{family} case {index}: fields of `{path}` differ from the official file's"
                );
            }
            for (path, types) in &shape.types {
                let allowed = official.types.get(path).unwrap_or_else(|| {
                    panic!("{family} case {index}: `{path}` is not in the official file")
                });
                assert!(
                    types.is_subset(allowed),
                    "{family} case {index}: `{path}` is {types:?}, the official file has {allowed:?}"
                );
            }
        }
    }
}

#[test]
fn the_same_seed_gives_byte_identical_files() {
    let (first, summary) = full_set();
    let second = temp_dir("again");
    generate::generate(&second, &CipherSuite::ALL, 0).unwrap();
    for file in &summary.files {
        let name = file.path.file_name().unwrap();
        assert_eq!(
            std::fs::read(first.join(name)).unwrap(),
            std::fs::read(second.join(name)).unwrap(),
            "{} differs between two runs with seed 0",
            name.to_string_lossy()
        );
    }
    std::fs::remove_dir_all(&second).unwrap();
}

#[test]
fn a_generated_set_verifies_with_no_failure_and_no_skip() {
    let (dir, summary) = full_set();
    let report = verify_directory(dir, None).unwrap();
    assert_eq!(report.failed, 0, "{:?}", report.files);
    assert_eq!(report.skipped, 0, "{:?}", report.files);
    assert!(!report.has_input_errors(), "{:?}", report.files);
    assert_eq!(report.files.len(), summary.files.len());
    for file in &report.files {
        assert!(file.cases > 0, "{}: no cases", file.family);
        assert_eq!(file.passed, file.cases, "{}", file.family);
    }
    assert_eq!(report.passed, summary.case_count());
    let names: Vec<&str> = report.files.iter().map(|f| f.family.as_str()).collect();
    assert_eq!(names, generated_families().collect::<Vec<_>>());
}

/// Each (family, suite) draws from its own randomness: one suite alone gives the same
/// cases as in the full set, and a different seed gives different values.
#[test]
fn restricting_suites_keeps_each_suites_cases_and_seeds_matter() {
    let (full, _) = full_set();
    let only = temp_dir("suite3");
    let summary = generate::generate(&only, &[CipherSuite(3)], 0).unwrap();
    for file in &summary.files {
        let name = file.path.file_name().unwrap();
        let mine = read_cases(&file.path);
        let of_suite_3: Vec<Value> = read_cases(&full.join(name))
            .into_iter()
            .filter(|c| c.get("cipher_suite").is_none_or(|s| s == 3))
            .collect();
        assert_eq!(mine, of_suite_3, "{}", name.to_string_lossy());
    }
    let other = temp_dir("seed1");
    generate::generate(&other, &[CipherSuite(3)], 1).unwrap();
    assert_ne!(
        std::fs::read(only.join("crypto-basics.json")).unwrap(),
        std::fs::read(other.join("crypto-basics.json")).unwrap()
    );
    std::fs::remove_dir_all(&only).unwrap();
    std::fs::remove_dir_all(&other).unwrap();
}

#[test]
fn the_command_lists_files_and_the_families_left_out() {
    let dir = temp_dir("cli");
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args([
            "vectors", "generate", "--suite", "1", "--seed", "7", "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    for family in generated_families() {
        assert!(stdout.contains(&format!("{family}.json")), "{stdout}");
    }
    for (family, reason) in generate::NOT_GENERATED {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{family}.json ")))
            .unwrap_or_else(|| panic!("no line for {family}: {stdout}"));
        assert!(line.ends_with(&format!("not generated yet: {reason}")));
    }
    for family in generated_families() {
        assert!(
            !stdout.contains(&format!("{family}.json  not generated")),
            "{stdout}"
        );
    }
    let last = stdout.lines().last().unwrap();
    let files = generated_families().count();
    assert!(
        last.starts_with(&format!("generated: {files} files, ")),
        "{last}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let bad = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["vectors", "generate", "--suite", "9", "--out"])
        .arg(temp_dir("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cipher suite 9"));
}

/// `vectors/generated` is what the generator writes today with the default seed.
#[test]
fn the_committed_set_is_current() {
    let (dir, summary) = full_set();
    let committed = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/generated"));
    for file in &summary.files {
        let name = file.path.file_name().unwrap();
        let path = committed.join(name);
        assert!(
            std::fs::read(&path).ok() == std::fs::read(dir.join(name)).ok(),
            "{} is stale: rerun `concord vectors generate --out vectors/generated --seed 0`",
            path.display()
        );
    }
}

/// The Welcome family covers both places of the tree and Welcomes with and without
/// external PSKs in every suite; the handling-commit family has public and private
/// commits and proposals by reference in every suite; the messages family uses every
/// suite.
#[test]
fn generated_cases_cover_the_variants() {
    use concord_reference::codec::Codec;
    use concord_reference::messages::{MlsMessage, MlsMessageBody};

    let (dir, _) = full_set();
    let welcome = read_cases(&dir.join("passive-client-welcome.json"));
    for suite in 1..=7u64 {
        let of_suite: Vec<&Value> = welcome
            .iter()
            .filter(|c| c["cipher_suite"] == suite)
            .collect();
        for in_extension in [true, false] {
            for with_psks in [true, false] {
                assert!(
                    of_suite
                        .iter()
                        .any(|c| c["ratchet_tree"].is_null() == in_extension
                            && c["external_psks"].as_array().unwrap().is_empty() != with_psks),
                    "suite {suite}: no case with tree in extension {in_extension}, PSKs {with_psks}"
                );
            }
        }
    }
    let handling = read_cases(&dir.join("passive-client-handling-commit.json"));
    for suite in 1..=7u64 {
        let epochs: Vec<&Value> = handling
            .iter()
            .filter(|c| c["cipher_suite"] == suite)
            .flat_map(|c| c["epochs"].as_array().unwrap())
            .collect();
        // MLSMessage: version (2 bytes), then the wire format.
        let wire_format = |e: &&Value| e["commit"].as_str().unwrap()[4..8].to_string();
        assert!(
            epochs.iter().any(|e| wire_format(e) == "0001"),
            "suite {suite}"
        );
        assert!(
            epochs.iter().any(|e| wire_format(e) == "0002"),
            "suite {suite}"
        );
        assert!(
            epochs
                .iter()
                .any(|e| !e["proposals"].as_array().unwrap().is_empty()),
            "suite {suite}: no proposal by reference"
        );
    }
    let mut suites = BTreeSet::new();
    for case in read_cases(&dir.join("messages.json")) {
        let bytes = hex::decode(case["mls_key_package"].as_str().unwrap()).unwrap();
        let MlsMessageBody::KeyPackage(key_package) = MlsMessage::from_bytes(&bytes).unwrap().body
        else {
            panic!("mls_key_package is not a KeyPackage");
        };
        suites.insert(key_package.cipher_suite.0);
    }
    assert_eq!(suites, (1..=7).collect());
}
