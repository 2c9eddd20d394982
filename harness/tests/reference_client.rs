//! The reference behind the MLSClient interface: a two-member flow in process and over
//! gRPC on loopback, per ciphersuite, with everything the interface returns checked.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::time::Duration;

use concord_harness::client::proto::*;
use concord_harness::client::reference::ReferenceClient;
use concord_harness::client::{ClientError, ClientUnderTest, grpc::GrpcClient, serve};

/// alice creates a group, adds bob by reference, bob joins; both agree; they exchange
/// an application message; bob proposes an update that alice commits.
fn two_members(
    alice: &mut dyn ClientUnderTest,
    bob: &mut dyn ClientUnderTest,
    suite: u32,
    encrypt: bool,
) {
    let group = alice
        .create_group(CreateGroupRequest {
            group_id: b"g".to_vec(),
            cipher_suite: suite,
            encrypt_handshake: encrypt,
            identity: b"alice".to_vec(),
        })
        .unwrap();
    let kp = bob
        .create_key_package(CreateKeyPackageRequest {
            cipher_suite: suite,
            identity: b"bob".to_vec(),
        })
        .unwrap();
    let add = alice
        .add_proposal(AddProposalRequest {
            state_id: group.state_id,
            key_package: kp.key_package,
        })
        .unwrap();
    let commit = alice
        .commit(CommitRequest {
            state_id: group.state_id,
            by_reference: vec![add.proposal],
            ..Default::default()
        })
        .unwrap();
    assert!(
        !commit.welcome.is_empty(),
        "suite {suite}: a Welcome for bob"
    );
    let merged = alice
        .handle_pending_commit(HandlePendingCommitRequest {
            state_id: group.state_id,
        })
        .unwrap();
    let joined = bob
        .join_group(JoinGroupRequest {
            transaction_id: kp.transaction_id,
            welcome: commit.welcome,
            encrypt_handshake: encrypt,
            identity: b"bob".to_vec(),
            ratchet_tree: commit.ratchet_tree,
        })
        .unwrap();
    assert_eq!(
        merged.epoch_authenticator, joined.epoch_authenticator,
        "suite {suite}"
    );

    let export = |c: &mut dyn ClientUnderTest, state_id| {
        c.export(ExportRequest {
            state_id,
            label: "test".into(),
            context: b"ctx".to_vec(),
            key_length: 32,
        })
        .unwrap()
        .exported_secret
    };
    assert_eq!(export(alice, group.state_id), export(bob, joined.state_id));

    let sealed = alice
        .protect(ProtectRequest {
            state_id: group.state_id,
            authenticated_data: b"ad".to_vec(),
            plaintext: b"hello".to_vec(),
        })
        .unwrap();
    let opened = bob
        .unprotect(UnprotectRequest {
            state_id: joined.state_id,
            ciphertext: sealed.ciphertext,
        })
        .unwrap();
    assert_eq!(
        (opened.authenticated_data, opened.plaintext),
        (b"ad".to_vec(), b"hello".to_vec())
    );

    let update = bob
        .update_proposal(UpdateProposalRequest {
            state_id: joined.state_id,
        })
        .unwrap();
    let commit = alice
        .commit(CommitRequest {
            state_id: group.state_id,
            by_reference: vec![update.proposal.clone()],
            ..Default::default()
        })
        .unwrap();
    let merged = alice
        .handle_pending_commit(HandlePendingCommitRequest {
            state_id: group.state_id,
        })
        .unwrap();
    let handled = bob
        .handle_commit(HandleCommitRequest {
            state_id: joined.state_id,
            proposal: vec![update.proposal],
            commit: commit.commit,
        })
        .unwrap();
    assert_eq!(
        merged.epoch_authenticator, handled.epoch_authenticator,
        "suite {suite} after the update"
    );
    let auth = |c: &mut dyn ClientUnderTest, state_id| {
        c.state_auth(StateAuthRequest { state_id })
            .unwrap()
            .state_auth_secret
    };
    assert_eq!(auth(alice, group.state_id), auth(bob, joined.state_id));
}

#[test]
fn two_members_in_process_every_suite_both_handshake_modes() {
    for suite in 1..=7 {
        for encrypt in [false, true] {
            two_members(
                &mut ReferenceClient::new(1),
                &mut ReferenceClient::new(2),
                suite,
                encrypt,
            );
        }
    }
}

#[test]
fn unknown_handles_and_garbage_are_refusals_not_panics() {
    let mut client = ReferenceClient::new(0);
    let refused = client
        .state_auth(StateAuthRequest { state_id: 42 })
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::Refused { .. }),
        "{refused:?}"
    );
    let garbage = client.join_group(JoinGroupRequest {
        transaction_id: 1,
        welcome: vec![0xff; 9],
        ..Default::default()
    });
    assert!(
        matches!(garbage, Err(ClientError::Refused { .. })),
        "{garbage:?}"
    );
    let bad_suite = client.create_group(CreateGroupRequest {
        cipher_suite: 99,
        ..Default::default()
    });
    assert!(
        matches!(bad_suite, Err(ClientError::Refused { .. })),
        "{bad_suite:?}"
    );
}

/// Serves a reference client on loopback; returns its grpc:// address.
fn serve_reference(seed: u64) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve::serve_on(
                Box::new(ReferenceClient::new(seed)),
                listener,
                std::future::pending(),
            )
            .await
            .unwrap();
        });
    });
    format!("grpc://{}", rx.recv().unwrap())
}

#[test]
fn two_members_over_grpc_loopback() {
    let mut alice = GrpcClient::new(&serve_reference(1), Duration::from_secs(30)).unwrap();
    let mut bob = GrpcClient::new(&serve_reference(2), Duration::from_secs(30)).unwrap();
    assert_eq!(
        alice.name(NameRequest {}).unwrap().name,
        "concord-reference"
    );
    for suite in [1, 2, 3] {
        two_members(&mut alice, &mut bob, suite, true);
    }
}

#[test]
fn the_default_clock_is_the_start_of_the_current_utc_day() {
    use concord_harness::client::reference::Clock;
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let day = Clock::default().now();
    assert_eq!(day % 86_400, 0);
    assert!(day <= real && real - day < 86_400, "{day} vs {real}");
    assert_eq!(Clock::Fixed(7).now(), 7);
}
