//! Verdicts on the right side: a healthy reference and one made to misbehave like a real
//! interop server (`concord serve-client --fault NAME`, here in process) run the working
//! group's scripts; every failure must be charged to the misbehaving one, with the
//! requirement of the cause; stubs are findings reported once; a server that crashes or is
//! poisoned costs one client fault, not a cascade; a server shared by every lane (as the
//! working group's are) passes at several lanes.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concord_harness::client::faults::{Faults, FaultyClient};
use concord_harness::client::reference::ReferenceClient;
use concord_harness::client::{ClientError, ClientUnderTest, for_each_mls_client_method, proto};
use concord_harness::interop::requirements::for_problem;
use concord_harness::interop::runner::Verdict;
use concord_harness::interop::session::{self, Handshake, Mode, Options, Summary};

fn configs(names: &[&str]) -> Vec<PathBuf> {
    let dir = std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/interop-configs"
            ))
        });
    names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            assert!(
                path.is_file(),
                "{} missing (set CONCORD_INTEROP_CONFIGS)",
                path.display()
            );
            path
        })
        .collect()
}

fn options(configs: Vec<PathBuf>) -> Options {
    Options {
        configs,
        client_specs: vec!["healthy".into(), "faulty".into()],
        suites: Some(vec![1]),
        handshake: Handshake::All,
        mode: Mode::All,
        seed: 0,
        timeout: Duration::from_secs(20),
        out: None,
        script: None,
        assignment: None,
        nonce: session::run_nonce(0, "a77"),
        run_tag: "a77".into(),
        quiet: true,
        expectations: None,
        transcript_passes: false,
        shard: None,
        export_vectors: None,
    }
}

fn faulty(fault: &str, seed: u64) -> FaultyClient {
    let faults = Faults::from_names(&[fault.to_string()]).unwrap();
    FaultyClient::new(
        ReferenceClient::new(seed),
        Arc::new(faults),
        Arc::new(AtomicU64::new(0)),
    )
}

/// Runs `options` on one lane: the healthy reference (client 0) and `faulty` (client 1).
fn run(options: &Options, faulty: FaultyClient) -> Summary {
    let clients: Vec<Box<dyn ClientUnderTest>> =
        vec![Box::new(ReferenceClient::new(1)), Box::new(faulty)];
    let mut out = Vec::new();
    session::run(options, clients, &mut out).unwrap()
}

/// Every failure and client fault: (case, client charged, requirements cited, check).
fn charged(summary: &Summary) -> Vec<(String, String, Vec<&'static str>, String)> {
    summary
        .records
        .iter()
        .filter(|r| matches!(r.result.verdict, Verdict::Failed | Verdict::ClientFault))
        .map(|r| {
            let p = r.result.problem.as_ref().unwrap();
            (
                r.result.id.clone(),
                p.client.clone().unwrap_or_default(),
                for_problem(p),
                p.check.clone(),
            )
        })
        .collect()
}

#[test]
fn default_types_listed_are_charged_to_the_lister_under_7_2_1() {
    let summary = run(
        &options(configs(&["welcome_join.json", "application.json"])),
        faulty("list-default-extensions", 2),
    );
    let failures = charged(&summary);
    assert!(!failures.is_empty());
    for (case, client, requirements, check) in &failures {
        assert!(
            client.contains("list-default-extensions"),
            "{case}: charged to {client} ({check})"
        );
        assert!(
            requirements.contains(&"RFC9420-7.2-1"),
            "{case}: cites {requirements:?} ({check})"
        );
    }
    // The faulty key packages and the Welcomes whose tree holds the faulty leaf are both
    // caught where they are made.
    let checks: Vec<&str> = failures.iter().map(|f| f.3.as_str()).collect();
    assert!(checks.contains(&"invalid-key-package"), "{checks:?}");
    assert!(checks.contains(&"invalid-welcome"), "{checks:?}");
    // Cases of the healthy client alone pass.
    assert!(summary.passed > 0);
}

#[test]
fn an_ignored_external_tree_request_is_a_finding_of_the_committer() {
    let summary = run(
        &options(configs(&["welcome_join.json"])),
        faulty("ignore-external-tree", 2),
    );
    let failures = charged(&summary);
    assert_eq!(failures.len(), 1, "{failures:?}");
    let (case, client, requirements, check) = &failures[0];
    assert_eq!(check, "external-tree-ignored");
    assert!(client.contains("ignore-external-tree"), "{client}");
    assert!(case.starts_with("findings/"), "{case}");
    assert!(
        requirements.is_empty(),
        "an interface contract, not an RFC rule"
    );
    // The healthy joiner accepts the tree given both ways (the same tree): every case
    // passes.
    assert_eq!(summary.passed, 32);
}

#[test]
fn an_empty_export_is_one_finding_and_the_cases_go_on() {
    let summary = run(
        &options(configs(&["welcome_join.json", "application.json"])),
        faulty("empty-export", 2),
    );
    assert_eq!((summary.failed, summary.findings), (1, 1));
    assert_eq!(summary.passed, 56);
    let failures = charged(&summary);
    assert_eq!(failures[0].3, "export-empty");
    assert!(failures[0].1.contains("empty-export"));
    assert_eq!(failures[0].2, vec!["RFC9420-8.5-1"]);
}

#[test]
fn an_empty_state_auth_is_one_finding() {
    let summary = run(
        &options(configs(&["application.json"])),
        faulty("empty-state-auth", 2),
    );
    assert_eq!((summary.failed, summary.passed), (1, 24));
    assert_eq!(charged(&summary)[0].3, "state-auth-empty");
}

#[test]
fn a_branch_without_the_requested_extensions_is_a_finding_of_its_creator() {
    let mut options = options(configs(&["branch.json"]));
    options.script = Some("with_extensions".into());
    options.handshake = Handshake::Private;
    let summary = run(&options, faulty("ignore-branch-extensions", 2));
    let failures = charged(&summary);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].3, "branch-extensions-ignored");
    assert!(failures[0].1.contains("ignore-branch-extensions"));
}

#[test]
fn a_healthy_pair_has_nothing_to_charge() {
    let clients: Vec<Box<dyn ClientUnderTest>> = vec![
        Box::new(ReferenceClient::new(1)),
        Box::new(ReferenceClient::new(2)),
    ];
    let mut out = Vec::new();
    let summary = session::run(
        &options(configs(&[
            "welcome_join.json",
            "application.json",
            "branch.json",
        ])),
        clients,
        &mut out,
    )
    .unwrap();
    assert!(charged(&summary).is_empty());
}

/// One client instance behind every lane, as the working group's servers have.
struct Shared(Arc<Mutex<FaultyClient>>);

macro_rules! shared_methods {
    ($(($method:ident, $rpc:ident, $request:ident, $response:ident)),* $(,)?) => {
        impl ClientUnderTest for Shared {
            $(
                fn $method(&mut self, request: proto::$request) -> Result<proto::$response, ClientError> {
                    let mut client = self.0.lock().map_err(|_| ClientError::Crashed {
                        method: stringify!($rpc),
                        detail: "poisoned".into(),
                    })?;
                    client.$method(request)
                }
            )*
        }
    };
}
for_each_mls_client_method!(shared_methods);

#[test]
fn servers_shared_by_every_lane_pass_at_several_lanes() {
    let first = Arc::new(Mutex::new(faulty("shared-state", 3)));
    let second = Arc::new(Mutex::new(faulty("shared-state", 4)));
    let lanes: Vec<Vec<Box<dyn ClientUnderTest>>> = (0..3)
        .map(|_| {
            vec![
                Box::new(Shared(first.clone())) as Box<dyn ClientUnderTest>,
                Box::new(Shared(second.clone())),
            ]
        })
        .collect();
    let mut out = Vec::new();
    let summary = session::run_lanes(
        &options(configs(&["welcome_join.json", "application.json"])),
        lanes,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        (summary.passed, summary.failed, summary.client_faults),
        (56, 0, 0),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn a_poisoned_server_costs_one_client_fault_and_the_rest_is_not_run() {
    let summary = run(
        &options(configs(&["welcome_join.json", "application.json"])),
        faulty("poison-after-calls=40", 2),
    );
    assert_eq!(
        (summary.failed, summary.client_faults),
        (0, 1),
        "{:?}",
        charged(&summary)
    );
    assert!(summary.skipped > 0);
    assert_eq!(summary.exit_code(), 3);
    let fault = charged(&summary).pop().unwrap();
    assert!(fault.1.contains("poison-after-calls"), "{fault:?}");
}

#[test]
fn a_crashed_server_costs_one_client_fault_and_the_rest_is_not_run() {
    // The real process: it panics and exits after 40 calls, and nothing listens after.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["serve-client", "--listen", "127.0.0.1:0"])
        .args(["--fault", "panic-after-calls=40"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stderr), &mut line).unwrap();
    let address = line
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let mut options = options(configs(&["welcome_join.json", "application.json"]));
    options.client_specs = vec!["reference".into(), format!("grpc://{address}")];
    let lanes = session::open_lanes(&options.client_specs, 2, options.timeout, 0).unwrap();
    let mut out = Vec::new();
    let summary = session::run_lanes(&options, lanes, &mut out).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&out);
    assert_eq!(summary.client_faults, 1, "{text}");
    assert_eq!(summary.failed, 0, "{text}");
    assert!(summary.skipped > 0, "{text}");
    assert_eq!(summary.exit_code(), 3);
}
