//! The interop runner's mechanics, driven with scripted fake clients: verdicts (passed,
//! failed, unsupported, client fault), the extra agreement checks (Export, StateAuth), strict
//! decoding of what clients emit, the transcript, the matrix, the closing line and exit codes.
//!
//! Fakes answer with canned messages taken from the official `messages.json` vectors, so that
//! what they emit decodes, and with a key package the reference makes (the runner validates
//! every key package a client emits, and the vectors' are not semantically valid); the
//! agreement values are whatever each test scripts.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::{Path, PathBuf};
use std::time::Duration;

use concord_harness::client::{ClientError, ClientUnderTest, proto};
use concord_harness::interop::matrix::{all_assignments, random_assignment};
use concord_harness::interop::session::{self, Handshake, Mode, Options, SessionError, Summary};
use concord_reference::codec::Codec;
use concord_reference::messages::{ContentType, MlsMessage, MlsMessageBody};
use prost::Message;

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

/// Decodable messages from the official vectors.
#[derive(Clone)]
struct Canned {
    key_package: Vec<u8>,
    welcome: Vec<u8>,
    public_commit: Vec<u8>,
    private_commit: Vec<u8>,
}

fn canned() -> Canned {
    let path = vectors_dir().join("messages.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} (set CONCORD_VECTORS): {e}", path.display()));
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    let field = |name: &str| hex::decode(cases[0][name].as_str().unwrap()).unwrap();
    // The vector's PrivateMessage, relabelled as a commit (its content stays opaque).
    let mut private = MlsMessage::from_bytes(&field("private_message")).unwrap();
    if let MlsMessageBody::PrivateMessage(m) = &mut private.body {
        m.content_type = ContentType::Commit;
    }
    let suite =
        concord_reference::crypto::Suite::new(concord_reference::crypto::CipherSuite(1)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    let (key_package, _) =
        concord_reference::group::create_key_package(&suite, b"bob", None, now, &mut rng).unwrap();
    Canned {
        key_package: MlsMessage::new(MlsMessageBody::KeyPackage(key_package)).to_bytes(),
        welcome: field("mls_welcome"),
        public_commit: field("public_message_commit"),
        private_commit: private.to_bytes(),
    }
}

/// How a fake misbehaves at one method.
#[derive(Clone, Debug)]
enum Misbehave {
    Timeout,
    Unreachable,
    Panic,
    Hang,
}

#[derive(Clone)]
struct Behaviour {
    name: &'static str,
    suites: Vec<u32>,
    /// (method, what happens there instead of an answer)
    misbehave: Option<(&'static str, Misbehave)>,
    key_package: Option<Vec<u8>>,
    canned: Option<Canned>,
    epoch_authenticator: Vec<u8>,
    export: Vec<u8>,
    state_auth: Vec<u8>,
    export_supported: bool,
}

impl Behaviour {
    fn new(name: &'static str) -> Self {
        Behaviour {
            name,
            suites: vec![1, 2],
            misbehave: None,
            key_package: None,
            canned: None,
            epoch_authenticator: vec![0xea; 32],
            export: vec![0xe0; 32],
            state_auth: vec![0x5a; 32],
            export_supported: true,
        }
    }

    fn with_messages(mut self, canned: &Canned) -> Self {
        self.key_package = Some(canned.key_package.clone());
        self.canned = Some(canned.clone());
        self
    }
}

struct Fake {
    b: Behaviour,
    next_id: u32,
    encrypt: bool,
}

impl Fake {
    fn boxed(b: Behaviour) -> Box<dyn ClientUnderTest> {
        Box::new(Fake {
            b,
            next_id: 1,
            encrypt: false,
        })
    }

    fn check(&self, method: &'static str) -> Result<(), ClientError> {
        match &self.b.misbehave {
            Some((m, how)) if *m == method => match how {
                Misbehave::Timeout => Err(ClientError::Timeout {
                    method,
                    after: Duration::from_secs(1),
                }),
                Misbehave::Unreachable => Err(ClientError::Unreachable {
                    method,
                    detail: "connection reset".into(),
                }),
                Misbehave::Panic => panic!("the fake client panics in {method}"),
                Misbehave::Hang => {
                    std::thread::sleep(Duration::from_secs(4));
                    Err(ClientError::Unsupported { method })
                }
            },
            _ => Ok(()),
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }
}

impl ClientUnderTest for Fake {
    fn name(&mut self, _: proto::NameRequest) -> Result<proto::NameResponse, ClientError> {
        Ok(proto::NameResponse {
            name: self.b.name.into(),
        })
    }
    fn supported_ciphersuites(
        &mut self,
        _: proto::SupportedCiphersuitesRequest,
    ) -> Result<proto::SupportedCiphersuitesResponse, ClientError> {
        Ok(proto::SupportedCiphersuitesResponse {
            ciphersuites: self.b.suites.clone(),
        })
    }
    fn create_group(
        &mut self,
        r: proto::CreateGroupRequest,
    ) -> Result<proto::CreateGroupResponse, ClientError> {
        self.check("CreateGroup")?;
        self.encrypt = r.encrypt_handshake;
        Ok(proto::CreateGroupResponse {
            state_id: self.id(),
        })
    }
    fn create_key_package(
        &mut self,
        _: proto::CreateKeyPackageRequest,
    ) -> Result<proto::CreateKeyPackageResponse, ClientError> {
        self.check("CreateKeyPackage")?;
        let key_package = self.b.key_package.clone().ok_or(ClientError::Unsupported {
            method: "CreateKeyPackage",
        })?;
        Ok(proto::CreateKeyPackageResponse {
            transaction_id: self.id(),
            key_package,
            ..Default::default()
        })
    }
    fn commit(&mut self, _: proto::CommitRequest) -> Result<proto::CommitResponse, ClientError> {
        self.check("Commit")?;
        let canned = self
            .b
            .canned
            .clone()
            .ok_or(ClientError::Unsupported { method: "Commit" })?;
        Ok(proto::CommitResponse {
            commit: if self.encrypt {
                canned.private_commit
            } else {
                canned.public_commit
            },
            welcome: canned.welcome,
            ratchet_tree: Vec::new(),
        })
    }
    fn handle_pending_commit(
        &mut self,
        r: proto::HandlePendingCommitRequest,
    ) -> Result<proto::HandleCommitResponse, ClientError> {
        self.check("HandlePendingCommit")?;
        Ok(proto::HandleCommitResponse {
            state_id: r.state_id,
            epoch_authenticator: self.b.epoch_authenticator.clone(),
        })
    }
    fn join_group(
        &mut self,
        r: proto::JoinGroupRequest,
    ) -> Result<proto::JoinGroupResponse, ClientError> {
        self.check("JoinGroup")?;
        self.encrypt = r.encrypt_handshake;
        Ok(proto::JoinGroupResponse {
            state_id: self.id(),
            epoch_authenticator: self.b.epoch_authenticator.clone(),
        })
    }
    fn export(&mut self, _: proto::ExportRequest) -> Result<proto::ExportResponse, ClientError> {
        self.check("Export")?;
        if !self.b.export_supported {
            return Err(ClientError::Unsupported { method: "Export" });
        }
        Ok(proto::ExportResponse {
            exported_secret: self.b.export.clone(),
        })
    }
    fn state_auth(
        &mut self,
        _: proto::StateAuthRequest,
    ) -> Result<proto::StateAuthResponse, ClientError> {
        self.check("StateAuth")?;
        Ok(proto::StateAuthResponse {
            state_auth_secret: self.b.state_auth.clone(),
        })
    }
    fn free(&mut self, _: proto::FreeRequest) -> Result<proto::FreeResponse, ClientError> {
        self.check("Free")?;
        Ok(proto::FreeResponse {})
    }
}

/// A fresh folder for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-interop-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_config(dir: &Path, name: &str, scripts: serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::json!({ "scripts": scripts }).to_string()).unwrap();
    path
}

fn options(configs: Vec<PathBuf>, clients: usize, out: Option<PathBuf>) -> Options {
    Options {
        configs,
        client_specs: (0..clients).map(|i| format!("grpc://fake:{i}")).collect(),
        suites: Some(vec![1]),
        handshake: Handshake::All,
        mode: Mode::All,
        seed: 0,
        timeout: Duration::from_secs(2),
        out,
        script: None,
        assignment: None,
        nonce: 7,
        run_tag: "0".into(),
        quiet: true,
        expectations: None,
        transcript_passes: true,
        shard: None,
        export_vectors: None,
    }
}

fn run(options: &Options, clients: Vec<Box<dyn ClientUnderTest>>) -> (Summary, String) {
    let mut out = Vec::new();
    let summary = session::run(options, clients, &mut out).unwrap();
    (summary, String::from_utf8(out).unwrap())
}

fn alone() -> serde_json::Value {
    serde_json::json!({ "alone": [ { "action": "createGroup", "actor": "alice" } ] })
}

fn with_bob() -> serde_json::Value {
    serde_json::json!({ "pair": [ { "action": "createGroup", "actor": "alice", "members": ["bob"] } ] })
}

#[test]
fn a_single_member_group_passes_in_both_modes() {
    let dir = scratch("pass");
    let config = write_config(&dir, "alone.json", alone());
    let (summary, _) = run(
        &options(vec![config], 1, None),
        vec![Fake::boxed(Behaviour::new("fake"))],
    );
    assert_eq!(
        (summary.passed, summary.failed, summary.unsupported),
        (2, 0, 0)
    );
    assert_eq!(summary.exit_code(), 0);
    assert_eq!(
        summary.closing_line(),
        "interop: 2 passed, 0 failed, 0 skipped"
    );
}

#[test]
fn an_unsupported_rpc_skips_the_case_and_never_fails_it() {
    let dir = scratch("unsupported");
    let config = write_config(&dir, "pair.json", with_bob());
    // No key packages: CreateKeyPackage answers Unsupported.
    let (summary, text) = run(
        &options(vec![config], 1, None),
        vec![Fake::boxed(Behaviour::new("fake"))],
    );
    assert_eq!(
        (summary.passed, summary.failed, summary.unsupported),
        (0, 0, 2)
    );
    assert_eq!(summary.exit_code(), 0);
    assert!(text.contains("CreateKeyPackage: not supported"), "{text}");
    assert_eq!(
        summary.closing_line(),
        "interop: 0 passed, 0 failed, 2 skipped"
    );
}

#[test]
fn a_client_fault_is_a_verdict_and_the_other_cases_still_run() {
    let dir = scratch("fault");
    let config = write_config(&dir, "alone.json", alone());
    let mut broken = Behaviour::new("broken");
    broken.misbehave = Some(("Export", Misbehave::Unreachable));
    let (summary, text) = run(
        &options(vec![config], 2, None),
        vec![Fake::boxed(Behaviour::new("good")), Fake::boxed(broken)],
    );
    // alice=good passes in both modes; alice=broken is a client fault once: the client is
    // then known down, and its other case is not run (not charged again).
    assert_eq!(
        (summary.passed, summary.client_faults, summary.skipped),
        (2, 1, 1)
    );
    assert_eq!(summary.exit_code(), 3);
    assert!(text.contains("CLIENT FAULT"), "{text}");
    assert!(text.contains("client broken (as alice)"), "{text}");
    let skipped = summary
        .records
        .iter()
        .find(|r| r.result.verdict == concord_harness::interop::runner::Verdict::Skipped)
        .unwrap();
    assert!(
        skipped
            .result
            .problem
            .as_ref()
            .unwrap()
            .detail
            .contains("client down since case alone/alone/1/"),
        "{:?}",
        skipped.result.problem
    );
    assert_eq!(
        summary.closing_line(),
        "interop: 2 passed, 1 failed, 1 skipped"
    );
}

#[test]
fn a_panicking_or_hanging_client_is_a_client_fault_not_a_crash() {
    let dir = scratch("panic");
    let config = write_config(&dir, "alone.json", alone());
    let mut panics = Behaviour::new("panics");
    panics.misbehave = Some(("CreateGroup", Misbehave::Panic));
    let mut hangs = Behaviour::new("hangs");
    hangs.misbehave = Some(("CreateGroup", Misbehave::Hang));
    let mut opts = options(vec![config], 2, None);
    opts.timeout = Duration::from_secs(1);
    opts.handshake = Handshake::Private;
    let (summary, text) = run(&opts, vec![Fake::boxed(panics), Fake::boxed(hangs)]);
    assert_eq!(summary.client_faults, 2, "{text}");
    assert!(text.contains("panicked"), "{text}");
    assert!(text.contains("no answer within"), "{text}");
    assert_eq!(summary.exit_code(), 3);
}

#[test]
fn failures_and_faults_exit_3_when_both_happen_and_1_for_failures_alone() {
    let dir = scratch("exitcodes");
    let config = write_config(&dir, "alone.json", alone());
    let mut empty = Behaviour::new("empty");
    empty.export = Vec::new();
    let (summary, _) = run(
        &options(vec![config.clone()], 1, None),
        vec![Fake::boxed(empty.clone())],
    );
    // The empty Export is one finding; both cases pass on the epoch authenticator.
    assert_eq!(
        (summary.passed, summary.failed, summary.exit_code()),
        (2, 1, 1)
    );
    let mut timeout = Behaviour::new("slow");
    timeout.misbehave = Some(("CreateGroup", Misbehave::Timeout));
    let (summary, _) = run(
        &options(vec![config], 2, None),
        vec![Fake::boxed(empty), Fake::boxed(timeout)],
    );
    // The finding, and one fault of the hung client (its second case is not run).
    assert_eq!(
        (
            summary.failed,
            summary.client_faults,
            summary.skipped,
            summary.exit_code()
        ),
        (1, 1, 1, 3)
    );
}

#[test]
fn an_empty_export_or_state_auth_is_its_own_finding() {
    let dir = scratch("empty");
    let config = write_config(&dir, "alone.json", alone());
    let mut empty_export = Behaviour::new("fake");
    empty_export.export = Vec::new();
    let (summary, text) = run(
        &options(vec![config.clone()], 1, None),
        vec![Fake::boxed(empty_export)],
    );
    // Reported once for the client, as its own result; the cases pass on the epoch
    // authenticator.
    assert_eq!(
        (summary.passed, summary.failed, summary.findings),
        (2, 1, 1)
    );
    let finding = summary.records.last().unwrap();
    assert_eq!(finding.result.id, "findings/client-0/export-empty");
    let problem = finding.result.problem.clone().unwrap();
    assert_eq!(problem.check, "export-empty");
    assert_eq!(problem.client.as_deref(), Some("fake"));
    assert!(
        problem.detail.contains("seen 2 time(s)"),
        "{}",
        problem.detail
    );
    assert!(text.contains("check export-empty"), "{text}");

    let mut empty_auth = Behaviour::new("fake");
    empty_auth.state_auth = Vec::new();
    let (summary, _) = run(
        &options(vec![config.clone()], 1, None),
        vec![Fake::boxed(empty_auth)],
    );
    let problem = summary
        .records
        .last()
        .unwrap()
        .result
        .problem
        .clone()
        .unwrap();
    assert_eq!(problem.check, "state-auth-empty");

    let mut short = Behaviour::new("fake");
    short.export = vec![1; 16];
    let (summary, _) = run(
        &options(vec![config.clone()], 1, None),
        vec![Fake::boxed(short)],
    );
    assert_eq!(
        summary.records[0].result.problem.clone().unwrap().check,
        "export-length"
    );

    // Export not implemented at all: noted, not compared, not a failure.
    let mut no_export = Behaviour::new("fake");
    no_export.export_supported = false;
    let (summary, _) = run(
        &options(vec![config], 1, None),
        vec![Fake::boxed(no_export)],
    );
    assert_eq!(summary.passed, 2);
    assert!(
        summary.records[0]
            .result
            .notes
            .iter()
            .any(|n| n.contains("does not support Export"))
    );
}

#[test]
fn a_malformed_key_package_fails_the_case_naming_step_client_and_decode_error() {
    let dir = scratch("malformed");
    let config = write_config(&dir, "pair.json", with_bob());
    let mut garbage = Behaviour::new("garbage");
    garbage.key_package = Some(vec![0, 1, 0, 5, 0xff]);
    let (summary, text) = run(&options(vec![config], 1, None), vec![Fake::boxed(garbage)]);
    assert_eq!(summary.failed, 2);
    let problem = summary.records[0].result.problem.clone().unwrap();
    assert_eq!(problem.check, "decode");
    assert_eq!(problem.step, Some(0));
    assert_eq!(problem.action.as_deref(), Some("createGroup"));
    assert_eq!(problem.actor.as_deref(), Some("bob"));
    assert_eq!(problem.client.as_deref(), Some("garbage"));
    assert!(
        problem.detail.contains("key package from bob"),
        "{}",
        problem.detail
    );
    assert!(text.contains("check decode"), "{text}");
}

#[test]
fn members_agree_or_the_disagreement_names_both() {
    let canned = canned();
    let dir = scratch("agree");
    let config = write_config(&dir, "pair.json", with_bob());
    let mut opts = options(vec![config], 2, None);
    opts.handshake = Handshake::Public;
    opts.assignment = Some(vec![0, 1]);
    let a = Behaviour::new("a").with_messages(&canned);
    let (summary, text) = run(&opts, vec![Fake::boxed(a.clone()), Fake::boxed(a.clone())]);
    assert_eq!(summary.passed, 1, "{text}");

    let mut b = a.clone();
    b.epoch_authenticator = vec![0xeb; 32];
    let (summary, _) = run(&opts, vec![Fake::boxed(a.clone()), Fake::boxed(b)]);
    let problem = summary.records[0].result.problem.clone().unwrap();
    assert_eq!(problem.check, "epoch-authenticator");
    assert!(
        problem.detail.contains("bob and alice disagree"),
        "{}",
        problem.detail
    );

    let mut b = a.clone();
    b.export = vec![0xe1; 32];
    let (summary, _) = run(&opts, vec![Fake::boxed(a.clone()), Fake::boxed(b)]);
    assert_eq!(
        summary.records[0].result.problem.clone().unwrap().check,
        "export"
    );

    let mut b = a.clone();
    b.state_auth = vec![0x5b; 32];
    let (summary, _) = run(&opts, vec![Fake::boxed(a), Fake::boxed(b)]);
    assert_eq!(
        summary.records[0].result.problem.clone().unwrap().check,
        "state-auth"
    );
}

#[test]
fn a_commit_in_the_wrong_handshake_mode_fails() {
    let mut canned = canned();
    let dir = scratch("mode");
    let config = write_config(&dir, "pair.json", with_bob());
    let mut opts = options(vec![config], 1, None);
    opts.handshake = Handshake::Private;
    canned.private_commit = canned.public_commit.clone();
    let fake = Behaviour::new("fake").with_messages(&canned);
    let (summary, _) = run(&opts, vec![Fake::boxed(fake)]);
    let problem = summary.records[0].result.problem.clone().unwrap();
    assert_eq!(problem.check, "handshake-mode");
    assert!(
        problem.detail.contains("PublicMessage"),
        "{}",
        problem.detail
    );
}

#[test]
fn transcript_and_matrix_are_written_and_point_at_each_other() {
    let canned = canned();
    let dir = scratch("files");
    let out = dir.join("out");
    let config = write_config(&dir, "pair.json", with_bob());
    let good = Behaviour::new("good").with_messages(&canned);
    let mut bad = good.clone();
    bad.name = "bad";
    bad.epoch_authenticator = vec![0xbb; 32];
    let mut opts = options(vec![config], 2, Some(out.clone()));
    opts.handshake = Handshake::Public;
    let (summary, text) = run(&opts, vec![Fake::boxed(good), Fake::boxed(bad)]);
    // alice/bob over {good, bad}: good-good passes, bad-bad agrees with itself, mixed fail.
    assert_eq!((summary.passed, summary.failed), (2, 2), "{text}");
    assert!(text.contains("results: "), "{text}");

    let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = transcript
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Line 1 is the run's header: its run tag and seed.
    assert_eq!(lines[0]["run_tag"], "0");
    assert_eq!(lines[0]["seed"], 0);
    let first = &lines[1];
    assert_eq!(first["method"], "CreateGroup");
    assert_eq!(first["actor"], "alice");
    assert_eq!(first["client"], "good");
    assert_eq!(first["step"], 0);
    assert_eq!(first["case"], "pair/pair/1/public/0-0");
    let request = hex::decode(first["request"].as_str().unwrap()).unwrap();
    let request = proto::CreateGroupRequest::decode(request.as_slice()).unwrap();
    // The identity is the actor's name tagged for the case (and run), so that servers
    // shared by every connection never see one identity in two cases.
    assert_eq!(request.cipher_suite, 1);
    let identity = String::from_utf8(request.identity.clone()).unwrap();
    assert!(identity.starts_with("alice-"), "{identity}");
    assert_eq!(identity.len(), "alice-".len() + 8, "{identity}");
    assert!(!request.encrypt_handshake);
    assert!(
        lines
            .iter()
            .any(|l| l["method"] == "Free" && l["step"].is_null())
    );
    assert!(lines.iter().any(|l| l["method"] == "Export"));

    let matrix: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("matrix.json")).unwrap()).unwrap();
    assert_eq!(matrix["clients"], serde_json::json!(["good", "bad"]));
    let cells = matrix["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    let mixed = cells
        .iter()
        .find(|c| c["row"] == "good" && c["column"] == "bad")
        .unwrap();
    assert_eq!(
        (mixed["passed"].as_u64(), mixed["failed"].as_u64()),
        (Some(0), Some(1))
    );
    let failure = &mixed["failures"][0];
    assert_eq!(failure["check"], "epoch-authenticator");
    let (from, to) = (
        failure["transcript_lines"][0].as_u64().unwrap() as usize,
        failure["transcript_lines"][1].as_u64().unwrap() as usize,
    );
    assert!(from <= to && to <= lines.len());
    assert_eq!(lines[to - 1]["method"], "JoinGroup");
    assert_eq!(lines[to - 1]["client"], "bad");
    let reproduce = failure["reproduce"].as_str().unwrap();
    assert!(
        reproduce.contains("--script pair --suite 1 --handshake public --assignment 0,1"),
        "{reproduce}"
    );
    let markdown = std::fs::read_to_string(out.join("matrix.md")).unwrap();
    assert!(markdown.contains("| **good** |"), "{markdown}");
    assert!(markdown.contains(reproduce), "{markdown}");
}

#[test]
fn a_malformed_config_is_bad_input_naming_file_script_step_and_field() {
    let dir = scratch("badconfig");
    let config = write_config(
        &dir,
        "bad.json",
        serde_json::json!({ "s": [ { "action": "joinGroup", "actor": "a", "welcome": 3 } ] }),
    );
    let mut out = Vec::new();
    let error = session::run(
        &options(vec![config], 1, None),
        vec![Fake::boxed(Behaviour::new("fake"))],
        &mut out,
    )
    .unwrap_err();
    assert!(matches!(error, SessionError::Config(_)));
    let message = error.to_string();
    assert!(
        message.contains("bad.json") && message.contains("`s`"),
        "{message}"
    );
    assert!(
        message.contains("step 0") && message.contains("`welcome`"),
        "{message}"
    );
}

#[test]
fn suites_are_the_common_ones_filtered_by_the_option() {
    let dir = scratch("suites");
    let config = write_config(&dir, "alone.json", alone());
    let mut a = Behaviour::new("a");
    a.suites = vec![1, 2, 3];
    let mut opts = options(vec![config], 1, None);
    opts.suites = None;
    opts.handshake = Handshake::Private;
    let (summary, _) = run(&opts, vec![Fake::boxed(a.clone())]);
    let suites: Vec<u16> = summary.records.iter().map(|r| r.suite).collect();
    assert_eq!(suites, vec![1, 2, 3]);
    opts.suites = Some(vec![2, 7]);
    let (summary, _) = run(&opts, vec![Fake::boxed(a)]);
    let suites: Vec<u16> = summary.records.iter().map(|r| r.suite).collect();
    assert_eq!(suites, vec![2]);
}

#[test]
fn assignments_all_combinations_or_one_seeded_draw() {
    assert_eq!(all_assignments(2, 3).len(), 8);
    assert_eq!(all_assignments(2, 3)[1], vec![0, 0, 1]);
    assert_eq!(all_assignments(3, 0), vec![Vec::<usize>::new()]);
    let a = random_assignment(3, 4, 42, "commit/add");
    assert_eq!(a, random_assignment(3, 4, 42, "commit/add"));
    assert!(a.iter().all(|&c| c < 3));
    let draws: Vec<Vec<usize>> = (0..20).map(|s| random_assignment(3, 4, s, "x")).collect();
    assert!(draws.iter().any(|d| d != &draws[0]));
}

fn configs_dir() -> PathBuf {
    std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/interop-configs"
            ))
        })
}

#[test]
fn every_shipped_script_passes_with_the_reference_for_every_actor() {
    let dir = configs_dir();
    let mut configs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} (set CONCORD_INTEROP_CONFIGS): {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    configs.sort();
    assert!(!configs.is_empty(), "no config in {}", dir.display());
    let out = scratch("reference");
    let mut opts = options(configs, 1, Some(out.clone()));
    opts.client_specs = vec!["reference".into()];
    let client = session::open_client("reference", Duration::from_secs(30), 0).unwrap();
    let (summary, text) = run(&opts, vec![client]);
    assert_eq!(
        (summary.failed, summary.client_faults, summary.unsupported),
        (0, 0, 0),
        "{text}"
    );
    // Both handshake modes of every script ran.
    let scripts: usize = opts
        .configs
        .iter()
        .map(|p| {
            concord_harness::interop::config::load(p)
                .unwrap()
                .scripts
                .len()
        })
        .sum();
    assert_eq!(summary.passed, 2 * scripts, "{text}");
    // Every member was asked for Export and StateAuth, and none answered Unsupported.
    assert!(summary.records.iter().all(|r| r.result.notes.is_empty()));
    let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    assert!(
        transcript
            .lines()
            .any(|l| l.contains("\"method\":\"Export\""))
    );
    assert!(transcript.lines().all(|l| !l.contains("\"error\"")));
}

fn concord(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_command_runs_the_reference_quietly_when_not_on_a_terminal() {
    let config = configs_dir().join("welcome_join.json");
    let out = scratch("cli");
    let (code, stdout, stderr) = concord(&[
        "interop",
        "--config",
        config.to_str().unwrap(),
        "--client",
        "reference",
        "--suite",
        "1",
        "--handshake",
        "private",
        "--mode",
        "random",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some("interop: 4 passed, 0 failed, 0 skipped")
    );
    assert!(
        stderr.is_empty(),
        "no progress bar off a terminal: {stderr}"
    );
    for file in ["transcript.jsonl", "matrix.md", "matrix.json"] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

#[test]
fn the_command_refuses_bad_usage_with_exit_code_2() {
    let config = configs_dir().join("welcome_join.json");
    let config = config.to_str().unwrap();
    let (code, _, stderr) = concord(&["interop", "--config", config, "--client", "bogus"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown client `bogus`"), "{stderr}");
    let (code, _, stderr) = concord(&[
        "interop",
        "--config",
        "/no/such.json",
        "--client",
        "reference",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/no/such.json"), "{stderr}");
    let (code, _, stderr) = concord(&[
        "interop",
        "--config",
        config,
        "--client",
        "reference",
        "--script",
        "nope",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no script named `nope`"), "{stderr}");
    let (code, _, _) = concord(&[
        "interop",
        "--config",
        config,
        "--client",
        "reference",
        "--handshake",
        "loud",
    ]);
    assert_eq!(code, 2);
}

/// Serves the reference on a loopback port for the life of the test process.
fn serve_reference() -> String {
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address_tx.send(listener.local_addr().unwrap()).unwrap();
            let client = session::open_client("reference", Duration::from_secs(30), 1).unwrap();
            concord_harness::client::serve::serve_on(client, listener, std::future::pending())
                .await
                .unwrap();
        });
    });
    format!("grpc://{}", address_rx.recv().unwrap())
}

#[test]
fn a_served_reference_and_an_in_process_one_interoperate_over_grpc() {
    let address = serve_reference();
    let config = configs_dir().join("welcome_join.json");
    let mut opts = options(vec![config], 2, None);
    opts.client_specs = vec![address.clone(), "reference".into()];
    opts.script = Some("with_psk".into());
    let timeout = Duration::from_secs(30);
    let clients = vec![
        session::open_client(&address, timeout, 0).unwrap(),
        session::open_client("reference", timeout, 2).unwrap(),
    ];
    let (summary, text) = run(&opts, clients);
    assert_eq!((summary.failed, summary.client_faults), (0, 0), "{text}");
    // Every assignment of the two clients over the script's actors, both modes.
    let actors = summary.records[0].assignment.len();
    assert_eq!(summary.passed, 2 * (1 << actors), "{text}");
}

#[test]
fn parallel_lanes_write_the_same_transcript_and_matrix_as_one_lane() {
    let canned = canned();
    let dir = scratch("lanes");
    let config = write_config(&dir, "pair.json", with_bob());
    let good = Behaviour::new("good").with_messages(&canned);
    let mut bad = good.clone();
    bad.name = "bad";
    bad.epoch_authenticator = vec![0xbb; 32];
    let lane = || vec![Fake::boxed(good.clone()), Fake::boxed(bad.clone())];
    let mut outputs = Vec::new();
    for lanes in [1, 3] {
        let out = dir.join(format!("out-{lanes}"));
        let mut opts = options(vec![config.clone()], 2, Some(out.clone()));
        opts.handshake = Handshake::All;
        let mut text = Vec::new();
        let summary =
            session::run_lanes(&opts, (0..lanes).map(|_| lane()).collect(), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!((summary.passed, summary.failed), (4, 4), "{text}");
        let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
        let matrix = std::fs::read_to_string(out.join("matrix.json")).unwrap();
        let verdicts: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("results:"))
            .collect();
        let verdicts = verdicts.join("\n");
        outputs.push((transcript, matrix, verdicts));
    }
    // The same calls in the same order, line for line (the handles the fakes hand out
    // differ, as each lane's instance counts its own), the same matrix, the same verdicts.
    let calls = |transcript: &str| -> Vec<String> {
        transcript
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{} {} {} {} {}",
                    v["case"], v["step"], v["actor"], v["client"], v["method"]
                )
            })
            .collect()
    };
    assert_eq!(calls(&outputs[0].0), calls(&outputs[1].0));
    assert_eq!(outputs[0].1, outputs[1].1);
    assert_eq!(outputs[0].2, outputs[1].2);
    // The failures' line ranges point into the merged transcript, at the failing client.
    let lines: Vec<serde_json::Value> = outputs[1]
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let matrix: serde_json::Value = serde_json::from_str(&outputs[1].1).unwrap();
    let mut checked = 0;
    for cell in matrix["cells"].as_array().unwrap() {
        for failure in cell["failures"].as_array().unwrap() {
            let to = failure["transcript_lines"][1].as_u64().unwrap() as usize;
            assert_eq!(lines[to - 1]["client"], failure["client"], "{failure}");
            assert_eq!(lines[to - 1]["case"], failure["case"], "{failure}");
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

#[test]
fn lanes_need_one_instance_of_every_client() {
    let dir = scratch("lanes-uneven");
    let config = write_config(&dir, "alone.json", alone());
    let opts = options(vec![config], 1, None);
    let reference = || session::open_client("reference", Duration::from_secs(30), 0).unwrap();
    let error =
        session::run_lanes(&opts, vec![vec![reference()], vec![]], &mut Vec::new()).unwrap_err();
    assert!(error.to_string().contains("every lane"), "{error}");
}

#[test]
fn a_server_with_one_instance_per_connection_serves_parallel_lanes() {
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address_tx.send(listener.local_addr().unwrap()).unwrap();
            let served = concord_harness::client::serve::Served::per_connection(Box::new(|n| {
                session::open_client("reference", Duration::from_secs(30), n)
            }));
            concord_harness::client::serve::serve_service_on(
                served,
                listener,
                std::future::pending(),
            )
            .await
            .unwrap();
        });
    });
    let address = format!("grpc://{}", address_rx.recv().unwrap());
    let config = configs_dir().join("application.json");
    let mut opts = options(vec![config], 2, None);
    opts.client_specs = vec![address.clone(), "reference".into()];
    opts.suites = Some(vec![1]);
    let lanes = session::open_lanes(&opts.client_specs, 3, Duration::from_secs(30), 0).unwrap();
    let mut text = Vec::new();
    let summary = session::run_lanes(&opts, lanes, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!((summary.failed, summary.client_faults), (0, 0), "{text}");
    assert!(summary.passed > 3, "{text}");
}

#[test]
fn an_expectations_file_explains_known_failures_and_flags_a_listed_pass() {
    let canned = canned();
    let dir = scratch("expect");
    let out = dir.join("out");
    let config = write_config(&dir, "pair.json", with_bob());
    let good = Behaviour::new("good").with_messages(&canned);
    let mut bad = good.clone();
    bad.name = "bad";
    bad.epoch_authenticator = vec![0xbb; 32];
    let mut opts = options(vec![config], 2, Some(out.clone()));
    opts.handshake = Handshake::Public;
    let (mut summary, _) = run(&opts, vec![Fake::boxed(good), Fake::boxed(bad)]);
    assert_eq!((summary.passed, summary.failed), (2, 2));
    let file = r#"
[[known_failure]]
client = "grpc://fake:1"
detail = "*disagree on the epoch authenticator*"
reason = "bad derives another epoch authenticator"

[[known_failure]]
client = "grpc://fake:0"
case = "interop/pair/pair/1/public/0-0"
reason = "listed, but it passes"
"#;
    let expectations = concord_reports::Expectations::parse(file, "peers.toml").unwrap();
    let findings =
        session::apply_expectations(&mut summary, &expectations, &opts.client_specs, Some(&out))
            .unwrap();
    // Both mixed cases are explained; the listed pass is an unexpected pass (a failure).
    assert_eq!(summary.expected_failures, 2);
    assert_eq!((summary.passed, summary.failed), (1, 1));
    assert_eq!(summary.exit_code(), 1);
    assert_eq!(findings.unexpected_passes.len(), 1, "{findings:?}");
    assert!(findings.unexpected_passes[0].contains("0-0"));
    let markdown = std::fs::read_to_string(out.join("matrix.md")).unwrap();
    assert!(
        markdown.contains("known failure: bad derives another epoch authenticator"),
        "{markdown}"
    );
    assert!(markdown.contains("1 failed (1 known)"), "{markdown}");
}
