//! The oracle of mutation testing (`reports/mutants/`): Concord's own suite judges this
//! crate's reference, the way it judges any client under test.
//!
//! ```text
//! concord-vectors (in this build) ── the official test vectors ──> the reference, in process
//! $CONCORD_ORACLE (unmutated) ── adversary: negative cases and controls ──┐
//!                             └─ interop: scripts, the embedded (unmutated)├─> grpc://127.0.0.1:PORT
//!                                reference on the other side, every       │   ReferenceClient (this
//!                                message checked by it                   ─┘   build: mutated or not)
//! ```
//!
//! A mutant of the reference is killed when any stage ends with a failure (the stages run
//! in the order above and stop at the first failure: the rest would only cost time). The
//! vector checker itself is not mutated, only the reference under it. The test is
//! ignored by `cargo test` (it needs the binary); `.cargo/mutants.toml` runs it with
//! `--include-ignored`, and so can anyone with a built `concord`:
//!
//! ```text
//! cargo build --release --bin concord && cp target/release/concord /tmp/concord-oracle
//! CONCORD_ORACLE=/tmp/concord-oracle cargo test --release -p concord-reference-client \
//!     --test suite_oracle -- --include-ignored
//! ```
//!
//! `CONCORD_VECTORS` (default `../shared/mls-vectors`) names the official vectors,
//! `CONCORD_ORACLE_SUITES` (default `1,7`: SHA-256 and SHA-384 secrets) picks the cipher suites of the adversary stage,
//! `CONCORD_INTEROP_CONFIGS` (default `../shared/interop-configs`) the working group's
//! interop scripts, run with Concord's own (`scenarios/interop`).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::{Path, PathBuf};
use std::process::Command;

use concord_client::serve::{Served, serve_service_on};
use concord_reference_client::ReferenceClient;

/// Serves the reference on a loopback port, one instance per connection; the server
/// lives as long as the test process.
fn serve() -> String {
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a loopback port");
            address_tx
                .send(listener.local_addr().expect("bound address"))
                .expect("report the address");
            let served = Served::per_connection(Box::new(|n| {
                Ok(Box::new(ReferenceClient::new(n)) as Box<_>)
            }));
            serve_service_on(served, listener, std::future::pending())
                .await
                .expect("the server runs");
        });
    });
    let address = address_rx.recv().expect("the server's address");
    format!("grpc://{address}")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// Runs the oracle binary with `args`; returns whether it exited 0, and its output's tail.
fn oracle(binary: &Path, args: &[String]) -> (bool, String) {
    let output = Command::new(binary)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tail: Vec<&str> = text.lines().rev().take(12).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    (output.status.success(), tail.join("\n"))
}

/// How long the official vectors may take in process (about 7 s on an idle machine).
const VECTORS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// The official test vectors: `$CONCORD_VECTORS`, else `../shared/mls-vectors` beside the
/// workspace.
fn vectors_directory() -> PathBuf {
    let dir = std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/mls-vectors"));
    assert!(
        dir.is_dir(),
        "no official test vectors at {} (set CONCORD_VECTORS)",
        dir.display()
    );
    dir
}

fn interop_configs() -> Vec<String> {
    let dir = std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/interop-configs"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the interop scripts in {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| path.display().to_string())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no interop scripts (*.json) in {}",
        dir.display()
    );
    // Concord's own scripts in the same format (external joins, resyncs, shrinking
    // groups): actions the working group's files do not have.
    let own = workspace_root().join("scenarios/interop");
    let mut more: Vec<String> = std::fs::read_dir(&own)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", own.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| path.display().to_string())
        .collect();
    more.sort();
    files.extend(more);
    files
}

#[test]
#[ignore = "needs a prebuilt concord in $CONCORD_ORACLE; run with --include-ignored (mutation testing)"]
fn concord_passes_the_reference_served_over_grpc() {
    let binary = PathBuf::from(
        std::env::var_os("CONCORD_ORACLE")
            .expect("CONCORD_ORACLE names a prebuilt, unmutated concord binary"),
    );
    let suites = std::env::var("CONCORD_ORACLE_SUITES").unwrap_or_else(|_| "1,7".into());
    let mut failures = Vec::new();

    // The official test vectors, checked by Concord's vector checker against this build's
    // reference (the checker is not mutated; the reference under it is).
    let vectors = vectors_directory();
    // A mutant that loops would hang this process: the check runs on its own thread, and
    // not finishing in time is a failure like any other (a client that hangs is a verdict).
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let folder = vectors.clone();
    std::thread::spawn(move || {
        let _ = done_tx.send(concord_vectors::verify_directory(&folder, None));
    });
    match done_rx.recv_timeout(VECTORS_DEADLINE) {
        Err(_) => failures.push(format!(
            "vectors: not finished in {} s (the reference hung or panicked)",
            VECTORS_DEADLINE.as_secs()
        )),
        Ok(Ok(summary)) if summary.failed == 0 && !summary.has_input_errors() => assert!(
            summary.passed > 0,
            "no official vector checked in {}",
            vectors.display()
        ),
        Ok(Ok(summary)) => {
            let failing: Vec<String> = summary
                .files
                .iter()
                .filter(|f| f.failed > 0 || f.input_error.is_some())
                .map(concord_vectors::format_file_line)
                .collect();
            failures.push(format!("vectors:\n{}", failing.join("\n")));
        }
        Ok(Err(e)) => panic!(
            "cannot check the official vectors in {}: {e}",
            vectors.display()
        ),
    }
    assert!(
        failures.is_empty(),
        "the suite caught the reference under test:\n{}",
        failures.join("\n\n")
    );

    let address = serve();
    let adversary = vec![
        "adversary".to_string(),
        "--client".into(),
        address.clone(),
        "--suite".into(),
        suites,
        "--timeout".into(),
        "10".into(),
        "--quiet".into(),
    ];
    let (passed, tail) = oracle(&binary, &adversary);
    if !passed {
        failures.push(format!("adversary:\n{tail}"));
    }

    // One failing stage kills the mutant: the next one would only cost time.
    assert!(
        failures.is_empty(),
        "the suite caught the reference under test:\n{}",
        failures.join("\n\n")
    );

    let mut interop = vec!["interop".to_string(), "--config".into()];
    interop.extend(interop_configs());
    interop.extend(
        [
            "--client",
            "reference",
            "--client",
            &address,
            "--mode",
            "pairwise",
            "--suite",
            "1",
            "--timeout",
            "10",
            "--out",
        ]
        .map(String::from),
    );
    let out = std::env::temp_dir().join(format!("concord-oracle-{}", std::process::id()));
    interop.push(out.display().to_string());
    let (passed, tail) = oracle(&binary, &interop);
    let _ = std::fs::remove_dir_all(&out);
    if !passed {
        failures.push(format!("interop:\n{tail}"));
    }

    assert!(
        failures.is_empty(),
        "the suite caught the reference under test:\n{}",
        failures.join("\n\n")
    );
}
