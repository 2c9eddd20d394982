//! Three mls-rs instances, each holding its own member, drive one group through the
//! MLSClient interface: every suite the backend supports, both handshake modes.

use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};
use mls_rs::{MlsMessage, WireFormat};

use super::MlsRsClient;

/// One member: its own client instance and its state id there.
struct Actor {
    name: &'static str,
    client: MlsRsClient,
    state: u32,
}

impl Actor {
    fn new(name: &'static str, seed: u64) -> Self {
        Actor {
            name,
            client: MlsRsClient::new(seed),
            state: 0,
        }
    }

    fn key_package(&mut self, suite: u32) -> (u32, Vec<u8>) {
        let made = self
            .client
            .create_key_package(CreateKeyPackageRequest {
                cipher_suite: suite,
                identity: self.name.as_bytes().to_vec(),
            })
            .unwrap();
        assert!(!made.init_priv.is_empty() && !made.encryption_priv.is_empty());
        assert!(!made.signature_priv.is_empty());
        (made.transaction_id, made.key_package)
    }

    fn join(&mut self, transaction_id: u32, welcome: &[u8], tree: &[u8], encrypt: bool) -> Vec<u8> {
        let joined = self
            .client
            .join_group(JoinGroupRequest {
                transaction_id,
                welcome: welcome.to_vec(),
                encrypt_handshake: encrypt,
                identity: self.name.as_bytes().to_vec(),
                ratchet_tree: tree.to_vec(),
            })
            .unwrap();
        self.state = joined.state_id;
        joined.epoch_authenticator
    }

    fn commit(
        &mut self,
        by_reference: Vec<Vec<u8>>,
        by_value: Vec<ProposalDescription>,
    ) -> CommitResponse {
        self.client
            .commit(CommitRequest {
                state_id: self.state,
                by_reference,
                by_value,
                force_path: false,
                external_tree: false,
            })
            .unwrap()
    }

    fn merge(&mut self) -> Vec<u8> {
        let merged = self
            .client
            .handle_pending_commit(HandlePendingCommitRequest {
                state_id: self.state,
            })
            .unwrap();
        self.state = merged.state_id;
        merged.epoch_authenticator
    }

    fn handle(&mut self, proposal: Vec<Vec<u8>>, commit: &[u8]) -> Vec<u8> {
        let handled = self
            .client
            .handle_commit(HandleCommitRequest {
                state_id: self.state,
                proposal,
                commit: commit.to_vec(),
            })
            .unwrap();
        self.state = handled.state_id;
        handled.epoch_authenticator
    }

    /// (StateAuth, Export) of the current epoch.
    fn probe(&mut self) -> (Vec<u8>, Vec<u8>) {
        let auth = self
            .client
            .state_auth(StateAuthRequest {
                state_id: self.state,
            })
            .unwrap()
            .state_auth_secret;
        let export = self
            .client
            .export(ExportRequest {
                state_id: self.state,
                label: "concord test".into(),
                context: b"context".to_vec(),
                key_length: 32,
            })
            .unwrap()
            .exported_secret;
        assert_eq!(export.len(), 32);
        (auth, export)
    }

    fn protect(&mut self, text: &str) -> Vec<u8> {
        self.client
            .protect(ProtectRequest {
                state_id: self.state,
                authenticated_data: format!("aad of {text}").into_bytes(),
                plaintext: text.as_bytes().to_vec(),
            })
            .unwrap()
            .ciphertext
    }

    fn unprotect(&mut self, ciphertext: &[u8]) -> (String, String) {
        let opened = self
            .client
            .unprotect(UnprotectRequest {
                state_id: self.state,
                ciphertext: ciphertext.to_vec(),
            })
            .unwrap();
        (
            String::from_utf8(opened.authenticated_data).unwrap(),
            String::from_utf8(opened.plaintext).unwrap(),
        )
    }
}

fn add(key_package: Vec<u8>) -> ProposalDescription {
    ProposalDescription {
        proposal_type: b"add".to_vec(),
        key_package,
        ..Default::default()
    }
}

fn wire_format(bytes: &[u8]) -> WireFormat {
    MlsMessage::from_bytes(bytes).unwrap().wire_format()
}

/// Every actor in `actors` reports the same StateAuth and Export, equal to `authenticator`.
fn agree(authenticator: &[u8], actors: &mut [&mut Actor]) {
    let first = actors[0].probe();
    assert_eq!(
        first.0, authenticator,
        "StateAuth is the epoch authenticator"
    );
    for actor in actors.iter_mut().skip(1) {
        assert_eq!(actor.probe(), first, "{} disagrees", actor.name);
    }
}

fn suites() -> Vec<u32> {
    MlsRsClient::new(0)
        .supported_ciphersuites(SupportedCiphersuitesRequest {})
        .unwrap()
        .ciphersuites
}

#[test]
fn supported_suites_are_the_rustcrypto_backends() {
    assert_eq!(suites(), vec![2, 7, 1, 3]);
    assert_eq!(
        MlsRsClient::new(0).name(NameRequest {}).unwrap().name,
        "mls-rs"
    );
}

#[test]
fn three_members_add_join_protect_update_remove() {
    for suite in suites() {
        for encrypt in [true, false] {
            let handshake = if encrypt {
                WireFormat::PrivateMessage
            } else {
                WireFormat::PublicMessage
            };
            let (mut alice, mut bob, mut charlie) = (
                Actor::new("alice", 1),
                Actor::new("bob", 2),
                Actor::new("charlie", 3),
            );
            alice.state = alice
                .client
                .create_group(CreateGroupRequest {
                    group_id: b"group".to_vec(),
                    cipher_suite: suite,
                    encrypt_handshake: encrypt,
                    identity: b"alice".to_vec(),
                })
                .unwrap()
                .state_id;

            // Alice adds Bob by value.
            let (bob_kp, bob_key_package) = bob.key_package(suite);
            let committed = alice.commit(Vec::new(), vec![add(bob_key_package)]);
            assert_eq!(wire_format(&committed.commit), handshake);
            let epoch = alice.merge();
            assert_eq!(bob.join(bob_kp, &committed.welcome, &[], encrypt), epoch);
            agree(&epoch, &mut [&mut alice, &mut bob]);

            // Bob proposes Charlie; Alice commits it by reference with the ratchet tree
            // out of band.
            let (charlie_kp, charlie_key_package) = charlie.key_package(suite);
            let proposal = bob
                .client
                .add_proposal(AddProposalRequest {
                    state_id: bob.state,
                    key_package: charlie_key_package,
                })
                .unwrap()
                .proposal;
            assert_eq!(wire_format(&proposal), handshake);
            let committed = alice
                .client
                .commit(CommitRequest {
                    state_id: alice.state,
                    by_reference: vec![proposal.clone()],
                    by_value: Vec::new(),
                    force_path: true,
                    external_tree: true,
                })
                .unwrap();
            assert!(!committed.ratchet_tree.is_empty());
            let epoch = alice.merge();
            assert_eq!(bob.handle(vec![proposal], &committed.commit), epoch);
            assert_eq!(
                charlie.join(
                    charlie_kp,
                    &committed.welcome,
                    &committed.ratchet_tree,
                    encrypt
                ),
                epoch
            );
            agree(&epoch, &mut [&mut alice, &mut bob, &mut charlie]);

            // Application messages both ways.
            let from_alice = alice.protect("hello from alice");
            assert_eq!(wire_format(&from_alice), WireFormat::PrivateMessage);
            for reader in [&mut bob, &mut charlie] {
                assert_eq!(
                    reader.unprotect(&from_alice),
                    ("aad of hello from alice".into(), "hello from alice".into())
                );
            }
            let from_charlie = charlie.protect("hello from charlie");
            assert_eq!(alice.unprotect(&from_charlie).1, "hello from charlie");

            // Charlie updates; Alice commits; Charlie gets its own proposal back.
            let update = charlie
                .client
                .update_proposal(UpdateProposalRequest {
                    state_id: charlie.state,
                })
                .unwrap()
                .proposal;
            let committed = alice.commit(vec![update.clone()], Vec::new());
            let epoch = alice.merge();
            assert_eq!(bob.handle(vec![update.clone()], &committed.commit), epoch);
            assert_eq!(charlie.handle(vec![update], &committed.commit), epoch);
            agree(&epoch, &mut [&mut alice, &mut bob, &mut charlie]);

            // Bob removes Charlie by value; Alice and Charlie handle it.
            let committed = bob.commit(
                Vec::new(),
                vec![ProposalDescription {
                    proposal_type: b"remove".to_vec(),
                    removed_id: b"charlie".to_vec(),
                    ..Default::default()
                }],
            );
            let epoch = bob.merge();
            assert_eq!(alice.handle(Vec::new(), &committed.commit), epoch);
            agree(&epoch, &mut [&mut alice, &mut bob]);
            let removed = charlie
                .client
                .handle_commit(HandleCommitRequest {
                    state_id: charlie.state,
                    proposal: Vec::new(),
                    commit: committed.commit.clone(),
                })
                .unwrap();
            assert_ne!(
                removed.epoch_authenticator, epoch,
                "a removed member is not in the new epoch"
            );
            let after = bob.protect("after the removal");
            assert_eq!(alice.unprotect(&after).1, "after the removal");
        }
    }
}

#[test]
fn external_join_with_removal_of_the_prior_self() {
    let suite = 1;
    let (mut alice, mut bob) = (Actor::new("alice", 1), Actor::new("bob", 2));
    alice.state = alice
        .client
        .create_group(CreateGroupRequest {
            group_id: b"group".to_vec(),
            cipher_suite: suite,
            encrypt_handshake: false,
            identity: b"alice".to_vec(),
        })
        .unwrap()
        .state_id;
    let (bob_kp, bob_key_package) = bob.key_package(suite);
    let committed = alice.commit(Vec::new(), vec![add(bob_key_package)]);
    alice.merge();
    bob.join(bob_kp, &committed.welcome, &[], false);

    // Bob comes back as a new device of the same identity, removing its old leaf.
    let info = alice
        .client
        .group_info(GroupInfoRequest {
            state_id: alice.state,
            external_tree: true,
        })
        .unwrap();
    let mut bob_again = Actor::new("bob", 3);
    let joined = bob_again
        .client
        .external_join(ExternalJoinRequest {
            group_info: info.group_info,
            ratchet_tree: info.ratchet_tree,
            encrypt_handshake: false,
            identity: b"bob".to_vec(),
            remove_prior: true,
            psks: Vec::new(),
        })
        .unwrap();
    bob_again.state = joined.state_id;
    assert_eq!(
        alice.handle(Vec::new(), &joined.commit),
        joined.epoch_authenticator
    );
    agree(
        &joined.epoch_authenticator,
        &mut [&mut alice, &mut bob_again],
    );
    let roster = alice.client.members[&alice.state].group.roster().members();
    assert_eq!(roster.len(), 2, "the prior leaf is gone: {roster:?}");
}

#[test]
fn refusals_and_unsupported_calls() {
    let mut alice = Actor::new("alice", 1);
    let answer = alice.client.join_group(JoinGroupRequest {
        transaction_id: 42,
        ..Default::default()
    });
    assert!(
        matches!(
            answer,
            Err(ClientError::Refused {
                method: "JoinGroup",
                ..
            })
        ),
        "{answer:?}"
    );
    let answer = alice.client.create_group(CreateGroupRequest {
        group_id: b"g".to_vec(),
        cipher_suite: 4,
        encrypt_handshake: true,
        identity: b"alice".to_vec(),
    });
    let Err(ClientError::Refused { message, .. }) = answer else {
        panic!("suite 4 accepted: {answer:?}");
    };
    assert!(message.contains("4"), "{message}");

    alice.state = alice
        .client
        .create_group(CreateGroupRequest {
            group_id: b"g".to_vec(),
            cipher_suite: 1,
            encrypt_handshake: true,
            identity: b"alice".to_vec(),
        })
        .unwrap()
        .state_id;
    // Branching into new group context extensions is not something mls-rs offers.
    let answer = alice.client.create_branch(CreateBranchRequest {
        state_id: alice.state,
        group_id: b"branch".to_vec(),
        extensions: vec![Extension {
            extension_type: 5,
            extension_data: vec![0],
        }],
        ..Default::default()
    });
    assert_eq!(
        answer.err(),
        Some(ClientError::Unsupported {
            method: "CreateBranch"
        })
    );
    // Garbage is refused with mls-rs's decoding error, never a panic.
    let answer = alice.client.unprotect(UnprotectRequest {
        state_id: alice.state,
        ciphertext: vec![0, 1, 2],
    });
    assert!(
        matches!(
            answer,
            Err(ClientError::Refused {
                method: "Unprotect",
                ..
            })
        ),
        "{answer:?}"
    );
}

/// Several actors in one instance (as the runner shares one client per implementation), an
/// external sender removing one of them.
#[test]
fn external_sender_removes_a_member_of_a_shared_instance() {
    let suite = 1;
    let mut shared = MlsRsClient::new(1);
    let mut ds_client = MlsRsClient::new(2);
    let create = |client: &mut MlsRsClient| {
        client
            .create_group(CreateGroupRequest {
                group_id: b"group".to_vec(),
                cipher_suite: suite,
                encrypt_handshake: false,
                identity: b"alice".to_vec(),
            })
            .unwrap()
            .state_id
    };
    let alice = create(&mut shared);
    let key_package = |client: &mut MlsRsClient, name: &str| {
        client
            .create_key_package(CreateKeyPackageRequest {
                cipher_suite: suite,
                identity: name.as_bytes().to_vec(),
            })
            .unwrap()
    };
    let bob_kp = key_package(&mut shared, "bob");
    let charlie_kp = key_package(&mut shared, "charlie");
    let committed = shared
        .commit(CommitRequest {
            state_id: alice,
            by_value: vec![add(bob_kp.key_package), add(charlie_kp.key_package)],
            ..Default::default()
        })
        .unwrap();
    shared
        .handle_pending_commit(HandlePendingCommitRequest { state_id: alice })
        .unwrap();
    let join = |client: &mut MlsRsClient, transaction_id: u32| {
        client
            .join_group(JoinGroupRequest {
                transaction_id,
                welcome: committed.welcome.clone(),
                ..Default::default()
            })
            .unwrap()
            .state_id
    };
    let bob = join(&mut shared, bob_kp.transaction_id);
    let charlie = join(&mut shared, charlie_kp.transaction_id);

    let ds = ds_client
        .create_external_signer(CreateExternalSignerRequest {
            cipher_suite: suite,
            identity: b"ds".to_vec(),
        })
        .unwrap();
    let proposal = shared
        .add_external_signer(AddExternalSignerRequest {
            state_id: alice,
            external_sender: ds.external_sender,
        })
        .unwrap()
        .proposal;
    let committed = shared
        .commit(CommitRequest {
            state_id: alice,
            by_reference: vec![proposal.clone()],
            ..Default::default()
        })
        .unwrap();
    let epoch = shared
        .handle_pending_commit(HandlePendingCommitRequest { state_id: alice })
        .unwrap()
        .epoch_authenticator;
    for member in [bob, charlie] {
        let handled = shared
            .handle_commit(HandleCommitRequest {
                state_id: member,
                proposal: vec![proposal.clone()],
                commit: committed.commit.clone(),
            })
            .unwrap();
        assert_eq!(handled.epoch_authenticator, epoch);
    }

    let info = shared
        .group_info(GroupInfoRequest {
            state_id: alice,
            external_tree: true,
        })
        .unwrap();
    let removal = ds_client
        .external_signer_proposal(ExternalSignerProposalRequest {
            signer_id: ds.signer_id,
            signer_index: 0,
            group_info: info.group_info,
            ratchet_tree: info.ratchet_tree,
            description: Some(ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: b"bob".to_vec(),
                ..Default::default()
            }),
        })
        .unwrap()
        .proposal;
    let committed = shared
        .commit(CommitRequest {
            state_id: alice,
            by_reference: vec![removal.clone()],
            ..Default::default()
        })
        .unwrap();
    let new_epoch = shared
        .handle_pending_commit(HandlePendingCommitRequest { state_id: alice })
        .unwrap()
        .epoch_authenticator;
    assert_ne!(new_epoch, epoch);
    let handled = shared
        .handle_commit(HandleCommitRequest {
            state_id: charlie,
            proposal: vec![removal],
            commit: committed.commit,
        })
        .unwrap();
    assert_eq!(handled.epoch_authenticator, new_epoch);
}

/// Alice and Bob (separate instances) start a group, branch it, then reinitialize it into
/// another cipher suite; both sides agree at every step.
#[test]
fn branch_then_reinit_into_another_suite() {
    let (mut alice, mut bob) = (Actor::new("alice", 1), Actor::new("bob", 2));
    alice.state = alice
        .client
        .create_group(CreateGroupRequest {
            group_id: b"group".to_vec(),
            cipher_suite: 1,
            encrypt_handshake: true,
            identity: b"alice".to_vec(),
        })
        .unwrap()
        .state_id;
    let (bob_kp, bob_key_package) = bob.key_package(1);
    let committed = alice.commit(Vec::new(), vec![add(bob_key_package)]);
    alice.merge();
    bob.join(bob_kp, &committed.welcome, &[], true);

    // Branch, with the ratchet tree out of band.
    let (bob_kp, bob_key_package) = bob.key_package(1);
    let branched = alice
        .client
        .create_branch(CreateBranchRequest {
            state_id: alice.state,
            group_id: b"branch".to_vec(),
            extensions: Vec::new(),
            key_packages: vec![bob_key_package],
            force_path: true,
            external_tree: true,
        })
        .unwrap();
    assert!(!branched.ratchet_tree.is_empty());
    let joined = bob
        .client
        .handle_branch(HandleBranchRequest {
            state_id: bob.state,
            transaction_id: bob_kp,
            welcome: branched.welcome,
            ratchet_tree: branched.ratchet_tree,
        })
        .unwrap();
    assert_eq!(joined.epoch_authenticator, branched.epoch_authenticator);
    alice.state = branched.state_id;
    bob.state = joined.state_id;
    agree(&joined.epoch_authenticator, &mut [&mut alice, &mut bob]);

    // Bob proposes a ReInit into suite 3; Alice commits it; Bob welcomes Alice.
    let proposal = bob
        .client
        .re_init_proposal(ReInitProposalRequest {
            state_id: bob.state,
            cipher_suite: 3,
            group_id: b"reinit".to_vec(),
            extensions: Vec::new(),
        })
        .unwrap()
        .proposal;
    let committed = alice
        .client
        .re_init_commit(CommitRequest {
            state_id: alice.state,
            by_reference: vec![proposal.clone()],
            ..Default::default()
        })
        .unwrap();
    let alice_reinit = alice
        .client
        .handle_pending_re_init_commit(HandlePendingCommitRequest {
            state_id: alice.state,
        })
        .unwrap();
    let bob_reinit = bob
        .client
        .handle_re_init_commit(HandleCommitRequest {
            state_id: bob.state,
            proposal: vec![proposal],
            commit: committed.commit,
        })
        .unwrap();
    assert_eq!(
        alice_reinit.epoch_authenticator,
        bob_reinit.epoch_authenticator
    );
    let welcomed = bob
        .client
        .re_init_welcome(ReInitWelcomeRequest {
            reinit_id: bob_reinit.reinit_id,
            key_package: vec![alice_reinit.key_package],
            force_path: false,
            external_tree: false,
        })
        .unwrap();
    let joined = alice
        .client
        .handle_re_init_welcome(HandleReInitWelcomeRequest {
            reinit_id: alice_reinit.reinit_id,
            welcome: welcomed.welcome,
            ratchet_tree: Vec::new(),
        })
        .unwrap();
    assert_eq!(joined.epoch_authenticator, welcomed.epoch_authenticator);
    alice.state = joined.state_id;
    bob.state = welcomed.state_id;
    agree(&joined.epoch_authenticator, &mut [&mut alice, &mut bob]);
    let message = alice.protect("in suite 3");
    assert_eq!(bob.unprotect(&message).1, "in suite 3");
}

/// A key package whose lifetime ended long ago (RFC9420-7.3-10): by value, mls-rs refuses
/// the commit with its own error text; by reference, it would drop the Add, and the adapter
/// refuses instead of answering a commit without it.
#[test]
fn an_expired_key_package_is_refused_with_mls_rs_reasons() {
    let mut alice = Actor::new("alice", 1);
    alice.state = alice
        .client
        .create_group(CreateGroupRequest {
            group_id: b"group".to_vec(),
            cipher_suite: 1,
            encrypt_handshake: false,
            identity: b"alice".to_vec(),
        })
        .unwrap()
        .state_id;
    let mut bob = MlsRsClient::new(2);
    let rules = crate::rules::Rules::default();
    let suite = mls_rs::CipherSuite::new(1);
    let old = bob.client("test", b"bob", suite, &rules).unwrap();
    let expired = old
        .generate_key_package_message(
            Default::default(),
            Default::default(),
            Some(mls_rs::time::MlsTime::from(1_000_000)),
        )
        .unwrap()
        .to_bytes()
        .unwrap();

    let answer = alice.client.commit(CommitRequest {
        state_id: alice.state,
        by_value: vec![add(expired.clone())],
        ..Default::default()
    });
    let Err(ClientError::Refused {
        method, message, ..
    }) = answer
    else {
        panic!("an expired key package was committed: {answer:?}");
    };
    assert_eq!(method, "Commit");
    assert!(message.contains("lifetime"), "{message}");

    let proposal = alice
        .client
        .add_proposal(AddProposalRequest {
            state_id: alice.state,
            key_package: expired,
        })
        .unwrap()
        .proposal;
    let answer = alice.client.commit(CommitRequest {
        state_id: alice.state,
        by_reference: vec![proposal],
        ..Default::default()
    });
    let Err(ClientError::Refused { message, .. }) = answer else {
        panic!("a commit without the Add was answered: {answer:?}");
    };
    assert!(
        message.contains("Add of a key package expiring"),
        "{message}"
    );
    // Nothing is left pending and the epoch is the same.
    let group = &alice.client.members[&alice.state].group;
    assert!(!group.has_pending_commit());
    assert_eq!(group.current_epoch(), 0);
}
