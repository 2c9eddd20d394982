//! The negative recipes against the peer adapters (OpenMLS, mls-rs), for the findings
//! report: `cargo test --release -p concord-harness --test negative_peers -- --ignored
//! --nocapture`. Each peer must accept every control input; the inputs it accepts but
//! must reject are printed as findings (with their requirement IDs and, when one explains
//! them, the finding file), not asserted.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use concord_harness::adversary::Expect;
use concord_harness::adversary::client::{ClientVerdict, run_client};
use concord_harness::interop::session::open_client;
use concord_reference::crypto::CipherSuite;

fn report(spec: &str) {
    let mut client = match open_client(spec, std::time::Duration::from_secs(30), 3) {
        Ok(client) => client,
        Err(e) => {
            println!("{spec}: not built in ({e})");
            return;
        }
    };
    let results = run_client(client.as_mut(), CipherSuite(1), 0, now(), None).unwrap();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut refused_controls = Vec::new();
    for result in &results {
        match &result.verdict {
            ClientVerdict::Passed => passed += 1,
            ClientVerdict::Skipped { reason } => {
                skipped += 1;
                println!(
                    "{spec}: skipped {}/{}: {reason}",
                    result.family, result.recipe
                );
            }
            ClientVerdict::ClientFault { detail, .. } => {
                failed += 1;
                println!(
                    "{spec}: CLIENT FAULT {}/{}: {detail}",
                    result.family, result.recipe
                );
            }
            ClientVerdict::Failed { detail } => {
                failed += 1;
                println!(
                    "{spec}: FINDING {}/{} [{}]: {detail}",
                    result.family,
                    result.recipe,
                    result.requirements.join(", ")
                );
                // A known deviation: its finding (reports/findings/).
                let case = concord_reports::CaseResult::fail("adversary", "", detail.clone())
                    .client(spec)
                    .requirements(result.requirements.iter().copied());
                for finding in concord_reports::findings::matching(&case) {
                    println!("{spec}:   finding: {}", finding.path());
                }
                if result.expect == Expect::Accept {
                    refused_controls.push(format!("{}/{}", result.family, result.recipe));
                }
            }
        }
    }
    println!("{spec}: {passed} passed, {failed} failed, {skipped} skipped (suite 1)");
    assert!(
        refused_controls.is_empty(),
        "{spec} refused valid control inputs: {refused_controls:?}"
    );
}

#[test]
#[ignore = "a findings report over the peer adapters; run with --ignored --nocapture"]
fn openmls_against_the_negative_recipes() {
    report("openmls");
}

#[test]
#[ignore = "a findings report over the peer adapters; run with --ignored --nocapture"]
fn mls_rs_against_the_negative_recipes() {
    report("mls-rs");
}

/// Any clients, named in `CONCORD_NEGATIVE_CLIENTS` (client specs separated by `;`, e.g.
/// `exec:interop_client --host 127.0.0.1 -p {port}`): the real interop servers.
#[test]
#[ignore = "a findings report over clients named in CONCORD_NEGATIVE_CLIENTS; run with --ignored --nocapture"]
fn clients_named_in_the_environment_against_the_negative_recipes() {
    let specs = std::env::var("CONCORD_NEGATIVE_CLIENTS").unwrap_or_default();
    for spec in specs.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        report(spec);
    }
}

/// The wall clock: the clients under test check leaf lifetimes against it.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
