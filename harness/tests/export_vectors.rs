//! `concord interop --export-vectors DIR`: cases become passive-client vectors that the
//! same check as `concord vectors verify DIR` passes, a tampered one fails, a member that
//! refused a commit ends its vector at the last epoch it accepted, a joiner of another
//! client is followed by a reference shadow, a case without a joiner is listed with its
//! reason, and exporting changes neither the verdicts nor the transcript.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::any::Any;
use std::path::{Path, PathBuf};
use std::time::Duration;

use concord_harness::client::reference::ReferenceClient;
use concord_harness::client::{ClientError, ClientUnderTest, for_each_mls_client_method, proto};
use concord_harness::interop::runner::Verdict;
use concord_harness::interop::session::{self, Handshake, Mode, Options, Summary};
use concord_harness::vectors;

fn shared_config(name: &str) -> PathBuf {
    let dir = std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/interop-configs"
            ))
        });
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} missing (set CONCORD_INTEROP_CONFIGS)",
        path.display()
    );
    path
}

/// A fresh folder for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-export-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_config(dir: &Path, name: &str, scripts: serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::json!({ "scripts": scripts }).to_string()).unwrap();
    path
}

fn options(configs: Vec<PathBuf>, specs: &[&str], dir: &Path, export: bool) -> Options {
    Options {
        configs,
        client_specs: specs.iter().map(|s| s.to_string()).collect(),
        suites: Some(vec![1]),
        handshake: Handshake::Private,
        mode: Mode::All,
        seed: 0,
        timeout: Duration::from_secs(30),
        out: Some(dir.join("interop")),
        script: None,
        assignment: None,
        nonce: session::run_nonce(0, "e1"),
        run_tag: "e1".into(),
        quiet: true,
        expectations: None,
        transcript_passes: true,
        shard: None,
        export_vectors: export.then(|| dir.join("vectors")),
    }
}

fn run(options: &Options, clients: Vec<Box<dyn ClientUnderTest>>) -> (Summary, String) {
    let mut out = Vec::new();
    let summary = session::run(options, clients, &mut out).unwrap();
    (summary, String::from_utf8(out).unwrap())
}

fn index(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("vectors").join("index.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn vectors_of(dir: &Path, file: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("vectors").join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn exported_cases_pass_the_vector_check_and_the_index_names_their_cases() {
    let dir = scratch("round-trip");
    let configs = vec![
        shared_config("welcome_join.json"),
        shared_config("commit.json"),
    ];
    let (summary, text) = run(
        &options(configs, &["reference"], &dir, true),
        vec![Box::new(ReferenceClient::new(1))],
    );
    assert_eq!(summary.failed, 0, "{text}");
    let checked = vectors::verify_directory(&dir.join("vectors"), None).unwrap();
    let index = index(&dir);
    let entries = index["vectors"].as_array().unwrap();
    assert_eq!(checked.failed, 0, "{checked:?}");
    assert_eq!(checked.passed, entries.len());
    assert_eq!(entries.len(), summary.records.len(), "{text}");
    // Both families are there: joins alone and joins followed by commits.
    let welcome = vectors_of(&dir, "passive-client-welcome.json");
    let commits = vectors_of(&dir, "passive-client-handling-commit.json");
    assert!(!welcome.is_empty() && !commits.is_empty());
    for entry in entries {
        let file = entry["file"].as_str().unwrap();
        let at = entry["index"].as_u64().unwrap() as usize;
        let vector = &vectors_of(&dir, file)[at];
        let record = summary
            .records
            .iter()
            .find(|r| r.result.id == entry["case"])
            .unwrap_or_else(|| panic!("no case {} in the run", entry["case"]));
        assert_eq!(entry["reproduce"], record.reproduce.as_str());
        assert_eq!(entry["verdict"], "passed");
        assert_eq!(entry["check"], "passed");
        assert_eq!(entry["passive_member"]["role"], "reference");
        let epochs = vector["epochs"].as_array().unwrap().len();
        assert_eq!(
            entry["passive_member"]["epoch_steps"]
                .as_array()
                .unwrap()
                .len(),
            epochs
        );
        assert_eq!(file == "passive-client-welcome.json", epochs == 0);
    }
    // Only the format's fields: the vector check notes no unknown field.
    assert!(checked.files.iter().all(|f| f.unknown_fields.is_empty()));
    assert!(
        text.contains("export: checked again as `concord vectors verify"),
        "{text}"
    );
}

#[test]
fn a_tampered_vector_fails_the_check() {
    let dir = scratch("tampered");
    let (_, text) = run(
        &options(
            vec![shared_config("commit.json")],
            &["reference"],
            &dir,
            true,
        ),
        vec![Box::new(ReferenceClient::new(2))],
    );
    let path = dir
        .join("vectors")
        .join("passive-client-handling-commit.json");
    let mut cases = vectors_of(&dir, "passive-client-handling-commit.json");
    assert!(!cases.is_empty(), "{text}");
    let epoch = cases[0]["epochs"]
        .as_array_mut()
        .and_then(|epochs| epochs.last_mut())
        .unwrap();
    let authenticator = epoch["epoch_authenticator"].as_str().unwrap().to_string();
    let flipped = if authenticator.starts_with('0') {
        "1"
    } else {
        "0"
    };
    epoch["epoch_authenticator"] = format!("{flipped}{}", &authenticator[1..]).into();
    std::fs::write(&path, serde_json::to_string(&cases).unwrap()).unwrap();
    let checked = vectors::verify_directory(&dir.join("vectors"), None).unwrap();
    assert_eq!(checked.failed, 1, "{checked:?}");
    let failure = checked
        .files
        .iter()
        .find_map(|f| f.first_failure.clone())
        .unwrap();
    assert_eq!(failure.case_index, 0);
    assert!(
        failure.field.ends_with("epoch_authenticator"),
        "{failure:?}"
    );
}

/// The reference, except that the commit of its `nth` Commit call (from 0) has its last
/// byte flipped on the way out: a peer whose commit the reference must refuse.
struct TamperedCommit {
    inner: ReferenceClient,
    nth: usize,
    commits: usize,
}

impl TamperedCommit {
    fn tamper<T: Any>(&mut self, mut response: T) -> T {
        if let Some(commit) =
            (&mut response as &mut dyn Any).downcast_mut::<proto::CommitResponse>()
        {
            if self.commits == self.nth
                && let Some(last) = commit.commit.last_mut()
            {
                *last ^= 1;
            }
            self.commits += 1;
        }
        response
    }
}

macro_rules! tampered_methods {
    ($(($method:ident, $rpc:ident, $request:ident, $response:ident)),* $(,)?) => {
        impl ClientUnderTest for TamperedCommit {
            $(
                fn $method(&mut self, request: proto::$request) -> Result<proto::$response, ClientError> {
                    let response = self.inner.$method(request)?;
                    Ok(self.tamper(response))
                }
            )*
        }
    };
}
for_each_mls_client_method!(tampered_methods);

#[test]
fn a_commit_the_reference_refuses_ends_the_vector_at_the_last_epoch_it_accepted() {
    let dir = scratch("refused");
    let config = write_config(
        &dir,
        "two_commits.json",
        serde_json::json!({ "two_commits": [
            { "action": "createGroup", "actor": "alice", "members": ["bob"] },
            { "action": "fullCommit", "actor": "alice", "members": ["bob"] },
            { "action": "fullCommit", "actor": "alice", "members": ["bob"] },
        ] }),
    );
    // alice: the tampering peer; bob: the reference. Commit calls: the Add of
    // createGroup, then one per fullCommit; the second fullCommit's is tampered with.
    let mut options = options(vec![config], &["reference", "peer"], &dir, true);
    options.assignment = Some(vec![1, 0]);
    let peer = TamperedCommit {
        inner: ReferenceClient::new(3),
        nth: 2,
        commits: 0,
    };
    let (summary, text) = run(
        &options,
        vec![Box::new(ReferenceClient::new(4)), Box::new(peer)],
    );
    assert_eq!(summary.records.len(), 1, "{text}");
    assert_eq!(summary.records[0].result.verdict, Verdict::Failed, "{text}");
    let index = index(&dir);
    let entry = &index["vectors"][0];
    assert_eq!(entry["verdict"], "failed");
    assert_eq!(entry["passive_member"]["actor"], "bob");
    assert_eq!(entry["passive_member"]["role"], "reference");
    assert_eq!(
        entry["passive_member"]["epoch_steps"],
        serde_json::json!([1])
    );
    let ended = entry["ended"].as_str().unwrap();
    assert!(
        ended.contains("bob (the reference) refused the commit of alice at step 2"),
        "{ended}"
    );
    assert_eq!(entry["check"], "passed");
    let cases = vectors_of(&dir, "passive-client-handling-commit.json");
    assert_eq!(cases[0]["epochs"].as_array().unwrap().len(), 1);
    let checked = vectors::verify_directory(&dir.join("vectors"), None).unwrap();
    assert_eq!((checked.passed, checked.failed), (1, 0), "{checked:?}");
}

#[test]
fn a_joiner_of_another_client_is_followed_by_a_reference_shadow_and_a_case_without_one_is_listed() {
    let dir = scratch("shadow");
    let config = write_config(
        &dir,
        "pair.json",
        serde_json::json!({
            "pair": [
                { "action": "createGroup", "actor": "alice", "members": ["bob"] },
                { "action": "fullCommit", "actor": "alice", "members": ["bob"], "force_path": true },
            ],
            "alone": [ { "action": "createGroup", "actor": "alice" } ],
        }),
    );
    // Client 1 is the reference's code under another name: not "reference", so its
    // members are shadowed, as an OpenMLS or mls-rs member is.
    let mut options = options(vec![config], &["reference", "peer"], &dir, true);
    options.assignment = Some(vec![0, 1]);
    options.script = Some("pair".into());
    let (_, text) = run(
        &options,
        vec![
            Box::new(ReferenceClient::new(5)),
            Box::new(ReferenceClient::new(6)),
        ],
    );
    let index = index(&dir);
    let entry = &index["vectors"][0];
    assert_eq!(entry["passive_member"]["role"], "shadow", "{text}");
    assert_eq!(entry["passive_member"]["actor"], "bob");
    assert_eq!(entry["check"], "passed");
    assert_eq!(
        entry["passive_member"]["epoch_steps"],
        serde_json::json!([1])
    );

    options.script = Some("alone".into());
    options.assignment = Some(vec![0]);
    let (_, text) = run(
        &options,
        vec![
            Box::new(ReferenceClient::new(7)),
            Box::new(ReferenceClient::new(8)),
        ],
    );
    let index = self::index(&dir);
    assert_eq!(index["vectors"], serde_json::json!([]));
    let skipped = &index["not_exported"][0];
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("no member joined by Welcome"),
        "{skipped}"
    );
    assert!(text.contains("export: not exported: "), "{text}");
    // No vector: both family files are there, empty, and check as nothing at all.
    let checked = vectors::verify_directory(&dir.join("vectors"), None).unwrap();
    assert_eq!((checked.passed, checked.failed), (0, 0));
}

#[test]
fn exporting_changes_neither_the_verdicts_nor_the_transcript() {
    let configs = vec![
        shared_config("welcome_join.json"),
        shared_config("commit.json"),
    ];
    let outputs: Vec<(PathBuf, Vec<String>)> = [false, true]
        .iter()
        .map(|&export| {
            let dir = scratch(if export { "with" } else { "without" });
            let mut options = options(configs.clone(), &["reference"], &dir, export);
            options.handshake = Handshake::All;
            let (summary, _) = run(&options, vec![Box::new(ReferenceClient::new(8))]);
            let verdicts = summary
                .records
                .iter()
                .map(|r| format!("{} {:?}", r.result.id, r.result.verdict))
                .collect();
            (dir, verdicts)
        })
        .collect();
    let [(without, plain), (with, exported)] = &outputs[..] else {
        unreachable!()
    };
    assert_eq!(plain, exported);
    for file in ["transcript.jsonl", "matrix.json"] {
        let a = std::fs::read(without.join("interop").join(file)).unwrap();
        let b = std::fs::read(with.join("interop").join(file)).unwrap();
        assert!(a == b, "{file} differs when vectors are exported");
    }
}
