//! Each fault of `concord serve-client --fault` shows its misbehaviour: in process on the
//! wrapper, and over gRPC on loopback for the faults that are about connections.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use concord_reference::codec::Codec;
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::{
    ContentBody, Extension, ExtensionType, GroupInfo, KeyPackage, LeafNode, MlsMessage,
    MlsMessageBody, Node, Proposal, ProposalType, RatchetTree as WireTree,
};
use concord_reference::ratchet_tree::verify_leaf_signature;
use concord_reference::tree_math::LeafIndex;

use super::*;
use crate::client::grpc::GrpcClient;
use crate::client::reference::Clock;

const SUITE: u32 = 1;
const NOW: u64 = 1_700_000_000;

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn reference(seed: u64) -> ReferenceClient {
    ReferenceClient::at(seed, Clock::Fixed(NOW))
}

fn faulty(seed: u64, faults: &[&str]) -> FaultyClient {
    let faults = Faults::from_names(&names(faults)).unwrap();
    FaultyClient::new(
        reference(seed),
        Arc::new(faults),
        Arc::new(AtomicU64::new(0)),
    )
}

fn suite() -> Suite {
    Suite::new(CipherSuite(SUITE as u16)).unwrap()
}

fn create_group(client: &mut dyn ClientUnderTest, identity: &str) -> u32 {
    client
        .create_group(CreateGroupRequest {
            group_id: b"group".to_vec(),
            cipher_suite: SUITE,
            encrypt_handshake: false,
            identity: identity.into(),
        })
        .unwrap()
        .state_id
}

fn key_package(client: &mut dyn ClientUnderTest, identity: &str) -> CreateKeyPackageResponse {
    client
        .create_key_package(CreateKeyPackageRequest {
            cipher_suite: SUITE,
            identity: identity.into(),
        })
        .unwrap()
}

/// `committer` adds the KeyPackage `key_package` by reference and merges its commit.
fn add(
    committer: &mut dyn ClientUnderTest,
    state_id: u32,
    key_package: Vec<u8>,
    external_tree: bool,
) -> CommitResponse {
    let proposal = committer
        .add_proposal(AddProposalRequest {
            state_id,
            key_package,
        })
        .unwrap()
        .proposal;
    let commit = committer
        .commit(CommitRequest {
            state_id,
            by_reference: vec![proposal],
            external_tree,
            ..Default::default()
        })
        .unwrap();
    committer
        .handle_pending_commit(HandlePendingCommitRequest { state_id })
        .unwrap();
    commit
}

fn message(bytes: &[u8]) -> MlsMessageBody {
    MlsMessage::from_bytes(bytes).unwrap().body
}

fn key_package_of(bytes: &[u8]) -> KeyPackage {
    match message(bytes) {
        MlsMessageBody::KeyPackage(key_package) => key_package,
        other => panic!("not a KeyPackage: {other:?}"),
    }
}

fn group_info_of(bytes: &[u8]) -> GroupInfo {
    match message(bytes) {
        MlsMessageBody::GroupInfo(info) => info,
        other => panic!("not a GroupInfo: {other:?}"),
    }
}

/// The content of a PublicMessage.
fn content_of(bytes: &[u8]) -> ContentBody {
    match message(bytes) {
        MlsMessageBody::PublicMessage(message) => message.content.body,
        other => panic!("not a PublicMessage: {other:?}"),
    }
}

/// The leaf at `leaf` in the tree the current GroupInfo of `state_id` carries.
fn leaf_in_group_info(client: &mut dyn ClientUnderTest, state_id: u32, leaf: usize) -> LeafNode {
    let answer = client
        .group_info(GroupInfoRequest {
            state_id,
            external_tree: false,
        })
        .unwrap();
    let info = group_info_of(&answer.group_info);
    let tree = Extension::find::<WireTree>(&info.extensions)
        .unwrap()
        .expect("the tree is in the GroupInfo");
    match &tree.0[2 * leaf] {
        Some(Node::Leaf(node)) => node.clone(),
        other => panic!("no leaf {leaf}: {other:?}"),
    }
}

fn lists_defaults(leaf: &LeafNode) -> bool {
    leaf.capabilities.extensions == ExtensionType::DEFAULTS.to_vec()
        && leaf.capabilities.proposals == ProposalType::DEFAULTS.to_vec()
}

#[test]
fn unknown_faults_and_bad_counts_are_refused_naming_the_valid_ones() {
    for bad in [
        "no-such-fault",
        "panic-after-calls",
        "panic-after-calls=x",
        "empty-export=1",
    ] {
        let error = Faults::from_names(&names(&[bad])).unwrap_err();
        assert!(error.contains(bad), "{error}");
    }
    let error = Faults::from_names(&names(&["no-such-fault"])).unwrap_err();
    for valid in FAULT_NAMES {
        assert!(error.contains(valid), "{error} lacks {valid}");
    }
    assert!(Faults::from_names(&names(&["poison-after-calls=1", "poison-after-calls=2"])).is_err());
    let faults = Faults::from_names(&names(&["empty-export", "panic-after-calls=07"])).unwrap();
    assert_eq!(faults.names(), ["empty-export", "panic-after-calls=7"]);
    assert_eq!(faults.panic_after_calls, Some(7));
    assert!(Faults::from_names(&[]).unwrap().is_empty());
}

#[test]
fn name_carries_every_fault() {
    let mut client = faulty(
        0,
        &[
            "empty-export",
            "shared-state",
            "empty-export",
            "poison-after-calls=9",
        ],
    );
    assert_eq!(
        client.name(NameRequest {}).unwrap().name,
        "concord-reference+empty-export+shared-state+poison-after-calls=9"
    );
}

#[test]
fn faults_that_touch_no_leaf_leave_the_reference_bytes_unchanged() {
    let mut healthy = reference(5);
    let mut client = faulty(5, &["empty-export", "ignore-external-tree"]);
    assert_eq!(
        key_package(&mut client, "alice").key_package,
        key_package(&mut healthy, "alice").key_package
    );
}

#[test]
fn list_default_extensions_lists_the_default_types_in_every_own_leaf() {
    let suite = suite();
    let mut healthy = reference(1);
    let healthy_kp = key_package_of(&key_package(&mut healthy, "carol").key_package);
    assert!(healthy_kp.leaf_node.capabilities.extensions.is_empty());
    assert!(healthy_kp.leaf_node.capabilities.proposals.is_empty());

    let mut client = faulty(2, &["list-default-extensions"]);
    // A KeyPackage: its leaf lists them, and both signatures cover what it lists.
    let kp = key_package_of(&key_package(&mut client, "bob").key_package);
    assert!(
        lists_defaults(&kp.leaf_node),
        "{:?}",
        kp.leaf_node.capabilities
    );
    assert!(
        kp.leaf_node
            .capabilities
            .extensions
            .contains(&ExtensionType::RATCHET_TREE)
    );
    verify_leaf_signature(&suite, &kp.leaf_node, &[], LeafIndex(0)).unwrap();
    suite
        .verify_with_label(
            kp.leaf_node.signature_key.as_slice(),
            KeyPackage::SIGNATURE_LABEL,
            &kp.tbs_bytes(),
            kp.signature.as_slice(),
        )
        .unwrap();

    // The group creator's leaf.
    let state_id = create_group(&mut client, "alice");
    let creator = leaf_in_group_info(&mut client, state_id, 0);
    assert!(lists_defaults(&creator));
    verify_leaf_signature(&suite, &creator, b"group", LeafIndex(0)).unwrap();

    // An UpdatePath leaf.
    let commit = client
        .commit(CommitRequest {
            state_id,
            force_path: true,
            ..Default::default()
        })
        .unwrap();
    let ContentBody::Commit(sent) = content_of(&commit.commit) else {
        panic!("not a commit");
    };
    let path_leaf = sent.path.expect("a forced path").leaf_node;
    assert!(lists_defaults(&path_leaf));
    client
        .handle_pending_commit(HandlePendingCommitRequest { state_id })
        .unwrap();
    let committed = leaf_in_group_info(&mut client, state_id, 0);
    assert!(lists_defaults(&committed));
    verify_leaf_signature(&suite, &committed, b"group", LeafIndex(0)).unwrap();

    // An Update proposal's leaf.
    let update = client
        .update_proposal(UpdateProposalRequest { state_id })
        .unwrap();
    let ContentBody::Proposal(Proposal::Update(update)) = content_of(&update.proposal) else {
        panic!("not an Update");
    };
    assert!(lists_defaults(&update.leaf_node));
    verify_leaf_signature(&suite, &update.leaf_node, b"group", LeafIndex(0)).unwrap();

    // An external joiner's leaf, into a healthy member's group.
    let healthy_state = create_group(&mut healthy, "carol");
    let info = healthy
        .group_info(GroupInfoRequest {
            state_id: healthy_state,
            external_tree: false,
        })
        .unwrap();
    let joined = client
        .external_join(ExternalJoinRequest {
            group_info: info.group_info.clone(),
            identity: b"bob".to_vec(),
            ..Default::default()
        })
        .unwrap();
    let ContentBody::Commit(external) = content_of(&joined.commit) else {
        panic!("not a commit");
    };
    assert!(lists_defaults(&external.path.expect("a path").leaf_node));

    // A new member's own Add proposal.
    let proposal = client
        .new_member_add_proposal(NewMemberAddProposalRequest {
            group_info: info.group_info,
            identity: b"dave".to_vec(),
        })
        .unwrap();
    let ContentBody::Proposal(Proposal::Add(add)) = content_of(&proposal.proposal) else {
        panic!("not an Add");
    };
    assert!(lists_defaults(&add.key_package.leaf_node));
}

#[test]
fn ignore_external_tree_keeps_the_tree_in_the_welcome_and_returns_it_too() {
    // A healthy committer asked for the tree out of band: a joiner needs it.
    let mut healthy = reference(3);
    let mut bob = reference(4);
    let state_id = create_group(&mut healthy, "alice");
    let kp = key_package(&mut bob, "bob");
    let commit = add(&mut healthy, state_id, kp.key_package, true);
    assert!(!commit.ratchet_tree.is_empty());
    let without_tree = JoinGroupRequest {
        transaction_id: kp.transaction_id,
        welcome: commit.welcome,
        identity: b"bob".to_vec(),
        ..Default::default()
    };
    assert!(bob.join_group(without_tree).is_err());

    // The faulty one returns the tree, and puts it in the Welcome's GroupInfo as well.
    let mut alice = faulty(3, &["ignore-external-tree"]);
    let state_id = create_group(&mut alice, "alice");
    let kp = key_package(&mut bob, "bob");
    let commit = add(&mut alice, state_id, kp.key_package, true);
    assert!(!commit.ratchet_tree.is_empty());
    WireTree::from_bytes(&commit.ratchet_tree).unwrap();
    let bob_state = bob
        .join_group(JoinGroupRequest {
            transaction_id: kp.transaction_id,
            welcome: commit.welcome,
            identity: b"bob".to_vec(),
            ..Default::default()
        })
        .expect("the tree is in the Welcome")
        .state_id;

    // CreateBranch too.
    let branch_kp = key_package(&mut bob, "bob");
    let branch = alice
        .create_branch(CreateBranchRequest {
            state_id,
            group_id: b"branch".to_vec(),
            key_packages: vec![branch_kp.key_package],
            external_tree: true,
            ..Default::default()
        })
        .unwrap();
    assert!(!branch.ratchet_tree.is_empty());
    bob.handle_branch(HandleBranchRequest {
        state_id: bob_state,
        transaction_id: branch_kp.transaction_id,
        welcome: branch.welcome,
        ratchet_tree: Vec::new(),
    })
    .expect("the tree is in the branch's Welcome");
}

#[test]
fn empty_export_and_empty_state_auth_answer_empty_bytes() {
    let export = |client: &mut dyn ClientUnderTest, state_id| {
        client
            .export(ExportRequest {
                state_id,
                label: "label".into(),
                context: b"context".to_vec(),
                key_length: 32,
            })
            .unwrap()
            .exported_secret
    };
    let state_auth = |client: &mut dyn ClientUnderTest, state_id| {
        client
            .state_auth(StateAuthRequest { state_id })
            .unwrap()
            .state_auth_secret
    };
    let mut healthy = reference(0);
    let state_id = create_group(&mut healthy, "alice");
    assert_eq!(export(&mut healthy, state_id).len(), 32);
    assert!(!state_auth(&mut healthy, state_id).is_empty());

    let mut client = faulty(0, &["empty-export"]);
    let state_id = create_group(&mut client, "alice");
    assert!(export(&mut client, state_id).is_empty());
    assert!(!state_auth(&mut client, state_id).is_empty());

    let mut client = faulty(0, &["empty-state-auth"]);
    let state_id = create_group(&mut client, "alice");
    assert_eq!(export(&mut client, state_id).len(), 32);
    assert!(state_auth(&mut client, state_id).is_empty());
}

#[test]
fn ignore_branch_extensions_creates_the_branch_without_them() {
    // As the working group's branch script asks: required_capabilities, external_senders.
    let requested = vec![
        crate::client::proto::Extension {
            extension_type: 3,
            extension_data: vec![0, 0, 0],
        },
        crate::client::proto::Extension {
            extension_type: 5,
            extension_data: vec![0],
        },
    ];
    let branch_extensions = |client: &mut dyn ClientUnderTest| {
        let state_id = create_group(client, "alice");
        let branch = client
            .create_branch(CreateBranchRequest {
                state_id,
                group_id: b"branch".to_vec(),
                extensions: requested.clone(),
                ..Default::default()
            })
            .unwrap();
        let info = client
            .group_info(GroupInfoRequest {
                state_id: branch.state_id,
                external_tree: true,
            })
            .unwrap();
        group_info_of(&info.group_info)
            .group_context
            .extensions
            .iter()
            .map(|e| e.extension_type.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(branch_extensions(&mut reference(0)), [3, 5]);
    let mut client = faulty(0, &["ignore-branch-extensions"]);
    assert_eq!(branch_extensions(&mut client), Vec::<u16>::new());
}

#[test]
fn poison_after_calls_fails_every_later_call_as_internal() {
    let mut client = faulty(0, &["poison-after-calls=2"]);
    client.name(NameRequest {}).unwrap();
    create_group(&mut client, "alice");
    for _ in 0..3 {
        let error = client.name(NameRequest {}).unwrap_err();
        // What the wire carries: an answer with status INTERNAL, which alone says nothing
        // of the server's health (the runner's probe after a refusal finds it down).
        assert_eq!(
            error,
            ClientError::Refused {
                method: "Name",
                code: "Internal".into(),
                message: POISONED.into()
            }
        );
    }
}

#[test]
fn panic_after_calls_panics_on_the_call_after_the_nth() {
    let mut client = faulty(0, &["panic-after-calls=2"]);
    client.name(NameRequest {}).unwrap();
    client
        .supported_ciphersuites(SupportedCiphersuitesRequest {})
        .unwrap();
    let crashed = catch_unwind(AssertUnwindSafe(|| client.name(NameRequest {})));
    assert!(crashed.is_err(), "the third call panics");
}

/// Serves `faults` on a loopback port; dropping the sender stops the server.
fn serve(faults: &[&str]) -> (String, tokio::sync::oneshot::Sender<()>) {
    let served = served(Faults::from_names(&names(faults)).unwrap(), 0);
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address_tx.send(listener.local_addr().unwrap()).unwrap();
            let stop = async {
                let _ = stop_rx.await;
            };
            crate::client::serve::serve_service_on(served, listener, stop)
                .await
                .unwrap();
        });
    });
    let address = address_rx.recv().unwrap();
    (format!("grpc://{address}"), stop_tx)
}

fn connect(address: &str) -> GrpcClient {
    GrpcClient::new(address, Duration::from_secs(20)).unwrap()
}

#[test]
fn shared_state_serves_one_instance_to_every_connection() {
    let state_auth_elsewhere = |faults: &[&str]| {
        let (address, _stop) = serve(faults);
        let (mut first, mut second) = (connect(&address), connect(&address));
        let state_id = create_group(&mut first, "alice");
        second.state_auth(StateAuthRequest { state_id })
    };
    // One instance per connection: the second connection has no such group.
    assert!(matches!(
        state_auth_elsewhere(&["empty-export"]),
        Err(ClientError::Refused { .. })
    ));
    assert!(
        !state_auth_elsewhere(&["shared-state"])
            .unwrap()
            .state_auth_secret
            .is_empty()
    );
}

#[test]
fn poison_after_calls_counts_over_every_connection_and_answers_internal() {
    let (address, _stop) = serve(&["poison-after-calls=2"]);
    let (mut first, mut second) = (connect(&address), connect(&address));
    assert_eq!(
        first.name(NameRequest {}).unwrap().name,
        "concord-reference+poison-after-calls=2"
    );
    second.name(NameRequest {}).unwrap();
    for client in [&mut first, &mut second] {
        let error = client.name(NameRequest {}).unwrap_err();
        assert!(error.to_string().contains(POISONED), "{error}");
        // INTERNAL on the wire: the server's own answer, a refusal coded Internal.
        match &error {
            ClientError::Refused { code, .. } => assert_eq!(code, "Internal"),
            other => panic!("expected INTERNAL, got {other:?}"),
        }
    }
}

/// `accept-invalid` is the double `concord adversary` must catch: served over gRPC, it
/// fails every case whose input a conformant client refuses and passes the controls,
/// while the same server without the fault passes them all.
#[test]
fn accept_invalid_fails_the_adversary_where_the_healthy_server_passes() {
    use crate::adversary::Expect;
    use crate::adversary::cli::{Stage, counts};
    let run = |faults: &[&str]| {
        let (address, stop) = serve(faults);
        let clients = vec![address];
        let only = ["welcome", "commit"];
        let stage = Stage {
            clients: &clients,
            suites: Some(&[1]),
            only: Some(&only),
            seed: 5,
            timeout: Duration::from_secs(20),
            quiet: true,
        };
        let outcome = stage.run(&mut Vec::new());
        drop(stop);
        assert!(
            outcome.input_errors.is_empty(),
            "{:?}",
            outcome.input_errors
        );
        assert!(outcome.down.is_empty(), "{:?}", outcome.down);
        outcome.results
    };
    let healthy = run(&[]);
    let (passed, failed, _) = counts(&healthy);
    assert!(
        passed >= 20 && failed == 0,
        "healthy: {passed} passed, {failed} failed"
    );
    let lax = run(&["accept-invalid"]);
    let rejecting: Vec<_> = crate::adversary::client::selected(Some(&["welcome", "commit"]))
        .into_iter()
        .filter(|(_, recipe)| matches!(recipe.expect, Expect::Reject(_)))
        .map(|(family, recipe)| format!("adversary/{}/{}/suite-1", family.name, recipe.name))
        .collect();
    for result in &lax {
        let must_reject = rejecting.contains(&result.id);
        let failed = result.verdict == concord_reports::Verdict::Fail;
        assert_eq!(
            must_reject, failed,
            "{}: {:?} {:?}",
            result.id, result.verdict, result.detail
        );
    }
}
