//! The official vectors, one test per family, read from `$CONCORD_VECTORS` (else
//! `../shared/mls-vectors` beside the project). A missing folder or file fails the test:
//! a conformance suite that silently skips its vectors proves nothing.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::PathBuf;

use concord_harness::vectors::{FileReport, family, verify_file};

fn vectors_dir() -> PathBuf {
    std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/mls-vectors"
            ))
        })
}

fn run_family(name: &str) -> FileReport {
    let dir = vectors_dir();
    assert!(
        dir.is_dir(),
        "vector folder {} does not exist (set CONCORD_VECTORS)",
        dir.display()
    );
    let path = dir.join(format!("{name}.json"));
    assert!(path.is_file(), "{} is missing", path.display());
    let family = family(name).unwrap_or_else(|| panic!("{name} is not a known family"));
    verify_file(family, &path)
}

/// Every case of the family passes, for every suite in the file.
fn assert_all_pass(name: &str) {
    let report = run_family(name);
    assert_eq!(report.input_error, None, "{name}: file could not be read");
    assert!(report.cases > 0, "{name}: no cases");
    assert_eq!(
        (report.passed, report.failed, report.skipped),
        (report.cases, 0, 0),
        "{name}: first failure {:?}, skip reason {:?}",
        report.first_failure,
        report.skip_reason
    );
}

macro_rules! families_pass {
    ($($test:ident => $family:literal),* $(,)?) => {
        $( #[test] fn $test() { assert_all_pass($family); } )*
    };
}

families_pass! {
    tree_math => "tree-math",
    crypto_basics => "crypto-basics",
    secret_tree => "secret-tree",
    message_protection => "message-protection",
    key_schedule => "key-schedule",
    psk_secret => "psk_secret",
    transcript_hashes => "transcript-hashes",
    welcome => "welcome",
    deserialization => "deserialization",
    messages => "messages",
    tree_validation => "tree-validation",
    tree_operations => "tree-operations",
    treekem => "treekem",
    passive_client_welcome => "passive-client-welcome",
    passive_client_handling_commit => "passive-client-handling-commit",
}

#[test]
fn crypto_core_files_cover_all_seven_suites() {
    for name in [
        "crypto-basics",
        "key-schedule",
        "message-protection",
        "psk_secret",
        "secret-tree",
        "transcript-hashes",
        "welcome",
    ] {
        let report = run_family(name);
        let mut suites = report.cipher_suites.clone();
        suites.sort_unstable();
        assert_eq!(suites, vec![1, 2, 3, 4, 5, 6, 7], "{name}");
    }
}

/// `passive-client-random.json` is not shipped with the vectors here; it has the format of
/// `passive-client-handling-commit.json`, so that file, under the other name, must pass.
#[test]
fn passive_client_random_has_the_handling_commit_format() {
    let source = vectors_dir().join("passive-client-handling-commit.json");
    let dir = std::env::temp_dir().join(format!("concord-random-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("passive-client-random.json");
    std::fs::copy(&source, &path).unwrap();
    let report = verify_file(family("passive-client-random").unwrap(), &path);
    assert_eq!(report.input_error, None);
    assert_eq!(
        (report.failed, report.skipped),
        (0, 0),
        "{:?}",
        report.first_failure
    );
    assert_eq!(report.passed, report.cases);
    let _ = std::fs::remove_dir_all(&dir);
}
