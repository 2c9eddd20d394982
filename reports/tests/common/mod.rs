//! A small report with every verdict, two clients, expectations and claims applied: the
//! fixture every format's tests render.

use concord_reports::{
    BenchFile, CaseResult, ClaimsSpec, Expectations, Report, RunInfo, TranscriptRef,
};
use std::time::Duration;

pub const EXPECTATIONS: &str = r#"
[[known_failure]]
client = "peer"
case = "interop/commit.json/remove/*"
reason = "peer drops the remove's path secret (issue 17)"

[[known_failure]]
client = "peer"
case = "interop/welcome_join.json/*"
reason = "peer rejected Welcome with PSKs until 2.1"

[[unsupported]]
client = "peer"
suite = 7
reason = "peer does not build P-384 & friends"

[[known_failure]]
client = "retired-client"
reason = "left over from an old run"
"#;

pub const CLAIMS: &str = r#"
subject = "Peer Messenger <2.0>"
client = "peer"
ciphersuites = [1, 7]
proposal_types = ["add", "remove"]
external_join = true
dma_services = ["1:1-text", "group-attachments"]
"#;

pub const BENCH: &str = r#"{"schema_version": 1, "results": [
  {"benchmark": "commit (add one member)", "implementation": "reference", "group_size": 2, "mean_ns": 180000.0},
  {"benchmark": "commit (add one member)", "implementation": "reference", "group_size": 64, "mean_ns": 950000.0},
  {"benchmark": "commit (add one member)", "implementation": "reference", "group_size": 1024, "mean_ns": 7400000.0},
  {"benchmark": "commit (add one member)", "implementation": "peer", "group_size": 2, "mean_ns": 240000.0},
  {"benchmark": "commit (add one member)", "implementation": "peer", "group_size": 64, "mean_ns": 1600000.0},
  {"benchmark": "commit (add one member)", "implementation": "peer", "group_size": 1024, "mean_ns": 21000000.0}
]}"#;

fn interop(id: &str, clients: [&str; 2], suite: u16) -> CaseResult {
    CaseResult::pass("interop", format!("interop/{id}/{suite}/private/0-1"))
        .clients(clients)
        .suite(suite)
        .feature(format!("ciphersuite:{suite}"))
        .duration(Duration::from_millis(25))
        .reproducer(format!(
            "concord interop --config commit.json --client reference --client peer --suite {suite} --assignment 0,1"
        ))
}

/// The results as a run gives them (before expectations).
pub fn raw_results() -> Vec<CaseResult> {
    let mut results = vec![
        CaseResult::pass("vectors", "vectors/tree-math")
            .client("reference")
            .requirement("RFC9420-4.2-1")
            .detail("10 cases")
            .duration(Duration::from_millis(3)),
        CaseResult::fail(
            "vectors",
            "vectors/key-schedule",
            "case 3, suite 2, field `epochs[1].exporter.secret`: computed 0a0b, vector has 0c0d",
        )
        .client("reference")
        .requirements(["RFC9420-8-1", "RFC9420-8.5-1"])
        .features(["ciphersuite:2"])
        .reproducer("concord vectors verify --only key-schedule"),
        CaseResult::skipped(
            "vectors",
            "vectors/passive-client-random",
            "not present in this folder",
        )
        .client("reference")
        .requirement("RFC9420-12.4.2-1"),
    ];
    let add = interop("commit.json/add", ["reference", "peer"], 1)
        .requirement("RFC9420-12.1.1-1")
        .features(["proposal:add", "service:1:1-text"]);
    results.push(add);
    let remove = interop("commit.json/remove", ["peer", "reference"], 1)
        .requirement("RFC9420-12.1.3-1")
        .feature("proposal:remove");
    results.push(CaseResult {
        verdict: concord_reports::Verdict::Fail,
        detail: Some("step 4 (`commit`), check `epoch-authenticator`: members disagree <after> commit & \"remove\"".into()),
        transcript: Some(TranscriptRef {
            file: "transcript.jsonl".into(),
            first_line: 41,
            last_line: 42,
            excerpt: Some("41 {\"case\":\"interop/commit.json/remove/1/private/0-1\",\"method\":\"Commit\",\"request\":\"0a02…(120 bytes)\"}\n42 {\"case\":\"interop/commit.json/remove/1/private/0-1\",\"method\":\"HandleCommit\",\"error\":\"epoch mismatch\"}".into()),
        }),
        ..remove
    });
    results.push(
        interop("welcome_join.json/join", ["reference", "peer"], 1)
            .requirement("RFC9420-12.4.3.1-1")
            .feature("service:1:1-text"),
    );
    results.push(
        CaseResult::unsupported(
            "interop",
            "interop/external_proposals.json/ext/1/public/1-0",
            "peer: ExternalSignerProposal: UNIMPLEMENTED",
        )
        .clients(["peer", "reference"])
        .suite(1)
        .requirement("RFC9420-12.1.8.1-1"),
    );
    results.push(
        CaseResult::fail(
            "interop",
            "interop/application.json/protect/7/private/1-1",
            "Protect: the client refused",
        )
        .client("peer")
        .suite(7)
        .feature("ciphersuite:7")
        .requirement("RFC9420-6.3.1-1"),
    );
    results.push(
        CaseResult::client_fault("interop", "interop/external_join.json/join/1/private/0-1", "ExternalJoin: deadline exceeded after 30 s (the client hung)")
            .clients(["reference", "peer"])
            .suite(1)
            .features(["external-join", "ciphersuite:1"])
            .reproducer("concord interop --config external_join.json --client reference --client peer --suite 1 --assignment 0,1"),
    );
    results.push(CaseResult::pass("property", "property/tree-math/1000-cases").client("reference"));
    results
}

/// The fixture report: raw results, expectations and claims applied.
pub fn fixture() -> Report {
    let run = RunInfo {
        command: "concord run --client peer --expect expect.toml --claims claims.toml".into(),
        profile: "quick".into(),
        seed: 7,
        clients: vec!["reference".into(), "peer".into()],
        duration_seconds: Some(12.5),
        expectations_file: None,
        claims_file: None,
        input_errors: Vec::new(),
        notes: vec!["scenarios: no scenario runner in this build".into()],
        ..RunInfo::default()
    };
    let mut report = Report::new("0.1.0", run, raw_results());
    report.apply_expectations(&Expectations::parse(EXPECTATIONS, "expect.toml").unwrap());
    report.evaluate_claims(&ClaimsSpec::parse(CLAIMS, "claims.toml").unwrap());
    report
}

pub fn bench() -> BenchFile {
    BenchFile::parse(BENCH, "bench.json").unwrap()
}

/// A small catalog, so the snapshots do not move each time the real one grows.
pub fn catalog() -> concord_spec::Catalog {
    const S04: &str = r#"
[[requirement]]
id = "RFC9420-4.2-1"
section = "4.2"
title = "Views of a Ratchet Tree"
level = "MUST"
binds = "client"
summary = "Nodes are numbered left to right in a left-balanced binary tree."

[[requirement]]
id = "RFC9420-4.2-2"
section = "4.2"
title = "Views of a Ratchet Tree"
level = "MUST"
binds = "client"
summary = "A fixture requirement no case cites."
"#;
    const S08: &str = r#"
[[requirement]]
id = "RFC9420-8-1"
section = "8"
title = "Key Schedule"
level = "MUST"
binds = "client"
summary = "Each epoch's secrets derive from init_secret, commit_secret, psk_secret and the GroupContext."

[[requirement]]
id = "RFC9420-8.5-1"
section = "8.5"
title = "Exporters"
level = "MUST"
binds = "client"
summary = "MLS-Exporter expands the derived exporter secret with the hashed context."
"#;
    const S12: &str = r#"
[[requirement]]
id = "RFC9420-12.1.1-1"
section = "12.1.1"
title = "Add"
level = "MUST"
binds = "client"
summary = "An Add takes the leftmost blank leaf, else extends the tree."

[[requirement]]
id = "RFC9420-12.1.3-1"
section = "12.1.3"
title = "Remove"
level = "MUST"
binds = "client"
summary = "A Remove blanks the leaf and its direct path, then truncates the tree."

[[requirement]]
id = "RFC9420-12.4.3.1-1"
section = "12.4.3.1"
title = "Joining via Welcome Message"
level = "MUST"
binds = "client"
summary = "A new member decrypts its GroupSecrets with its init key."
"#;
    concord_spec::Catalog::from_files(&[
        ("rfc9420/s04.toml", S04),
        ("rfc9420/s08.toml", S08),
        ("rfc9420/s12.toml", S12),
    ])
    .unwrap()
}
