//! Signed attestations as a user meets them: `concord keygen`, a run signed with
//! `--attest`, `concord verify` passing (0), catching a changed report or envelope (1), and
//! refusing what it cannot read (2). A key that cannot be read stops a run before it starts.

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

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("concord-attest-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn welcome_join() -> String {
    let configs = std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/interop-configs"
            ))
        });
    let file = configs.join("welcome_join.json");
    assert!(
        file.is_file(),
        "{} (set CONCORD_INTEROP_CONFIGS)",
        file.display()
    );
    file.display().to_string()
}

/// `concord interop` over welcome_join.json in suite 1, signed with `key`, into `out`.
fn interop(dir: &Path, client: &str, key: &str, out: &str) -> Output {
    concord(
        dir,
        &[
            "interop",
            "--config",
            &welcome_join(),
            "--client",
            client,
            "--suite",
            "1",
            "--quiet",
            "--timeout",
            "5",
            "--attest",
            key,
            "--out",
            out,
        ],
    )
}

fn verify(dir: &Path, attestation: &str, report: &str) -> Output {
    concord(
        dir,
        &[
            "verify",
            attestation,
            "--key",
            "keys/attest.pub",
            "--report",
            report,
        ],
    )
}

fn keygen(dir: &Path) {
    let output = concord(dir, &["keygen", "--out", "keys"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn a_signed_run_verifies_and_a_changed_byte_is_caught() {
    let dir = scratch("roundtrip");
    keygen(&dir);
    let run = interop(&dir, "reference", "keys/attest.key", "out");
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let lines: Vec<String> = text(&run).lines().map(str::to_string).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("attestation: out/attestation.json")),
        "{lines:?}"
    );
    // The closing line stays the last line of stdout.
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("interop: "),
        "{stdout}"
    );

    let good = verify(&dir, "out/attestation.json", "out/matrix.json");
    assert_eq!(good.status.code(), Some(0), "{}", text(&good));
    let said = text(&good);
    for expected in [
        "subject: matrix.json sha256:",
        "client: reference (name concord-reference)",
        "counts: 8 pass, 0 fail",
        "verify: ok",
    ] {
        assert!(said.contains(expected), "no `{expected}` in:\n{said}");
    }

    // One byte of the report changed: the digest check fails.
    let matrix = dir.join("out/matrix.json");
    let mut bytes = std::fs::read(&matrix).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'0' { b'1' } else { b'0' };
    std::fs::write(&matrix, &bytes).unwrap();
    let tampered = verify(&dir, "out/attestation.json", "out/matrix.json");
    assert_eq!(tampered.status.code(), Some(1), "{}", text(&tampered));
    assert!(
        text(&tampered).contains("digest check failed"),
        "{}",
        text(&tampered)
    );

    // One byte of the signed payload changed: the signature check fails.
    let attestation = dir.join("out/attestation.json");
    let envelope = std::fs::read_to_string(&attestation).unwrap();
    let at = envelope.find("\"payload\": \"").unwrap() + "\"payload\": \"".len() + 40;
    let mut changed = envelope.into_bytes();
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&attestation, changed).unwrap();
    let forged = concord(
        &dir,
        &["verify", "out/attestation.json", "--key", "keys/attest.pub"],
    );
    assert_eq!(forged.status.code(), Some(1), "{}", text(&forged));
    assert!(
        text(&forged).contains("signature check failed"),
        "{}",
        text(&forged)
    );
}

#[test]
fn a_run_with_failures_is_signed_and_keeps_its_exit_code() {
    let dir = scratch("failing");
    keygen(&dir);
    // A server that exits at once: every case is a client fault (exit 3).
    let run = interop(&dir, "exec:false {port}", "keys/attest.key", "out");
    assert_eq!(run.status.code(), Some(3), "{}", text(&run));
    let good = verify(&dir, "out/attestation.json", "out/matrix.json");
    assert_eq!(good.status.code(), Some(0), "{}", text(&good));
    let said = text(&good);
    // The program of an exec: client is named with its digest.
    assert!(
        said.contains("client: exec:false {port}") && said.contains("sha256:"),
        "{said}"
    );
}

#[test]
fn a_key_that_cannot_be_read_stops_the_run_before_it_starts() {
    let dir = scratch("bad-key");
    std::fs::write(dir.join("not-a-key"), "hello\n").unwrap();
    for key in ["not-a-key", "missing.key"] {
        let run = interop(&dir, "reference", key, "out");
        assert_eq!(run.status.code(), Some(2), "{}", text(&run));
        assert!(text(&run).contains(key), "{}", text(&run));
        assert!(!dir.join("out/matrix.json").exists(), "the run ran");
        let whole = concord(&dir, &["run", "--attest", key, "--out", "run-out"]);
        assert_eq!(whole.status.code(), Some(2), "{}", text(&whole));
        assert!(!dir.join("run-out").exists(), "the run started");
    }
}

#[test]
fn keygen_never_replaces_a_key_and_verify_refuses_what_it_cannot_read() {
    let dir = scratch("refusals");
    keygen(&dir);
    let before = std::fs::read(dir.join("keys/attest.key")).unwrap();
    let again = concord(&dir, &["keygen", "--out", "keys"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("attest.key"), "{}", text(&again));
    assert_eq!(std::fs::read(dir.join("keys/attest.key")).unwrap(), before);

    std::fs::write(dir.join("not-json.json"), "{ nope").unwrap();
    for (attestation, key, names) in [
        ("absent.json", "keys/attest.pub", "absent.json"),
        ("not-json.json", "keys/attest.pub", "not-json.json"),
        ("not-json.json", "keys/attest.key", "PEM label"),
    ] {
        let output = concord(&dir, &["verify", attestation, "--key", key]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains(names), "{}", text(&output));
    }
}
