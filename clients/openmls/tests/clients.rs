//! OpenMLS clients talking to each other through the MLSClient interface only: a group of
//! three, built, used and changed, in every suite the provider offers and both handshake
//! modes; and the answers for what OpenMLS does not do or cannot accept.

#![allow(clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};
use concord_openmls::OpenMlsClient;

const LABEL: &str = "concord test";

/// One member: its client and its state there.
struct Member {
    client: OpenMlsClient,
    state: u32,
}

fn key_package(client: &mut OpenMlsClient, suite: u32, identity: &str) -> (u32, Vec<u8>) {
    let made = client
        .create_key_package(CreateKeyPackageRequest {
            cipher_suite: suite,
            identity: identity.as_bytes().to_vec(),
        })
        .unwrap();
    assert!(!made.init_priv.is_empty());
    assert!(!made.encryption_priv.is_empty());
    assert!(!made.signature_priv.is_empty());
    assert_ne!(made.init_priv, made.encryption_priv);
    (made.transaction_id, made.key_package)
}

/// Every member reports the same epoch authenticator, StateAuth and exporter output.
fn assert_agree(members: &mut [&mut Member]) -> Vec<u8> {
    let mut seen: Option<(Vec<u8>, Vec<u8>)> = None;
    for member in members.iter_mut() {
        let auth = member
            .client
            .state_auth(StateAuthRequest {
                state_id: member.state,
            })
            .unwrap()
            .state_auth_secret;
        let export = member
            .client
            .export(ExportRequest {
                state_id: member.state,
                label: LABEL.into(),
                context: b"ctx".to_vec(),
                key_length: 32,
            })
            .unwrap()
            .exported_secret;
        assert_eq!(export.len(), 32);
        assert!(!auth.is_empty());
        match &seen {
            None => seen = Some((auth, export)),
            Some((a, e)) => {
                assert_eq!(&auth, a, "epoch authenticators differ");
                assert_eq!(&export, e, "exported secrets differ");
            }
        }
    }
    seen.map(|(auth, _)| auth).unwrap_or_default()
}

fn send(from: &mut Member, to: &mut [&mut Member], aad: &[u8], text: &[u8]) {
    let ciphertext = from
        .client
        .protect(ProtectRequest {
            state_id: from.state,
            authenticated_data: aad.to_vec(),
            plaintext: text.to_vec(),
        })
        .unwrap()
        .ciphertext;
    for member in to.iter_mut() {
        let opened = member
            .client
            .unprotect(UnprotectRequest {
                state_id: member.state,
                ciphertext: ciphertext.clone(),
            })
            .unwrap();
        assert_eq!(opened.plaintext, text);
        assert_eq!(opened.authenticated_data, aad);
    }
}

/// Alice commits (with `by_reference` and `by_value`), merges, the others handle it.
fn commit(
    alice: &mut Member,
    others: &mut [&mut Member],
    by_reference: Vec<Vec<u8>>,
    by_value: Vec<ProposalDescription>,
) -> CommitResponse {
    let committed = alice
        .client
        .commit(CommitRequest {
            state_id: alice.state,
            by_reference: by_reference.clone(),
            by_value,
            force_path: false,
            external_tree: false,
        })
        .unwrap();
    let merged = alice
        .client
        .handle_pending_commit(HandlePendingCommitRequest {
            state_id: alice.state,
        })
        .unwrap();
    for member in others.iter_mut() {
        let handled = member
            .client
            .handle_commit(HandleCommitRequest {
                state_id: member.state,
                proposal: by_reference.clone(),
                commit: committed.commit.clone(),
            })
            .unwrap();
        assert_eq!(handled.epoch_authenticator, merged.epoch_authenticator);
        member.state = handled.state_id;
    }
    committed
}

fn group_of_three(suite: u32, encrypt_handshake: bool) -> [Member; 3] {
    let mut alice = OpenMlsClient::new(1);
    let mut bob = OpenMlsClient::new(2);
    let mut charlie = OpenMlsClient::new(3);
    let state = alice
        .create_group(CreateGroupRequest {
            group_id: b"group".to_vec(),
            cipher_suite: suite,
            encrypt_handshake,
            identity: b"alice".to_vec(),
        })
        .unwrap()
        .state_id;
    let mut alice = Member {
        client: alice,
        state,
    };
    let (bob_tx, bob_kp) = key_package(&mut bob, suite, "bob");
    let (charlie_tx, charlie_kp) = key_package(&mut charlie, suite, "charlie");
    let add = |key_package: Vec<u8>| ProposalDescription {
        proposal_type: b"add".to_vec(),
        key_package,
        ..Default::default()
    };
    let committed = commit(
        &mut alice,
        &mut [],
        Vec::new(),
        vec![add(bob_kp), add(charlie_kp)],
    );
    assert!(!committed.welcome.is_empty());
    let join = |client: &mut OpenMlsClient, transaction_id, identity: &str| {
        client
            .join_group(JoinGroupRequest {
                transaction_id,
                welcome: committed.welcome.clone(),
                encrypt_handshake,
                identity: identity.as_bytes().to_vec(),
                ratchet_tree: Vec::new(),
            })
            .unwrap()
            .state_id
    };
    let bob_state = join(&mut bob, bob_tx, "bob");
    let charlie_state = join(&mut charlie, charlie_tx, "charlie");
    [
        alice,
        Member {
            client: bob,
            state: bob_state,
        },
        Member {
            client: charlie,
            state: charlie_state,
        },
    ]
}

fn suites() -> Vec<u32> {
    OpenMlsClient::new(0)
        .supported_ciphersuites(SupportedCiphersuitesRequest {})
        .unwrap()
        .ciphersuites
}

#[test]
fn a_group_of_three_agrees_protects_updates_and_removes_in_every_suite_and_mode() {
    for suite in suites() {
        for encrypt_handshake in [true, false] {
            let [mut alice, mut bob, mut charlie] = group_of_three(suite, encrypt_handshake);
            let first = assert_agree(&mut [&mut alice, &mut bob, &mut charlie]);

            send(&mut alice, &mut [&mut bob, &mut charlie], b"ad 1", b"hello");
            send(&mut bob, &mut [&mut alice, &mut charlie], b"", b"hi alice");
            send(&mut charlie, &mut [&mut alice, &mut bob], b"ad 3", b"");

            // Bob proposes an update; Alice commits it by reference.
            let update = bob
                .client
                .update_proposal(UpdateProposalRequest {
                    state_id: bob.state,
                })
                .unwrap()
                .proposal;
            commit(
                &mut alice,
                &mut [&mut bob, &mut charlie],
                vec![update],
                vec![],
            );
            let second = assert_agree(&mut [&mut alice, &mut bob, &mut charlie]);
            assert_ne!(first, second, "suite {suite}: the epoch did not change");

            // Charlie is removed by value; Bob handles it.
            let remove = ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: b"charlie".to_vec(),
                ..Default::default()
            };
            commit(&mut alice, &mut [&mut bob], vec![], vec![remove]);
            assert_agree(&mut [&mut alice, &mut bob]);
            send(&mut bob, &mut [&mut alice], b"ad", b"just us");
        }
    }
}

#[test]
fn proposals_from_two_members_psks_and_extensions_commit_by_reference() {
    let suite = 1;
    let [mut alice, mut bob, mut charlie] = group_of_three(suite, true);
    for member in [&mut alice, &mut bob, &mut charlie] {
        member
            .client
            .store_psk(StorePskRequest {
                state_or_transaction_id: member.state,
                psk_id: b"psk".to_vec(),
                psk_secret: vec![7; 32],
            })
            .unwrap();
    }
    let psk = alice
        .client
        .external_psk_proposal(ExternalPskProposalRequest {
            state_id: alice.state,
            psk_id: b"psk".to_vec(),
        })
        .unwrap()
        .proposal;
    let extensions = bob
        .client
        .group_context_extensions_proposal(GroupContextExtensionsProposalRequest {
            state_id: bob.state,
            extensions: vec![Extension {
                extension_type: 3,
                extension_data: vec![0, 0, 0],
            }],
        })
        .unwrap()
        .proposal;
    commit(
        &mut alice,
        &mut [&mut bob, &mut charlie],
        vec![psk, extensions],
        vec![],
    );
    assert_agree(&mut [&mut alice, &mut bob, &mut charlie]);
    let resumption = bob
        .client
        .resumption_psk_proposal(ResumptionPskProposalRequest {
            state_id: bob.state,
            epoch_id: 1,
        })
        .unwrap()
        .proposal;
    commit(
        &mut alice,
        &mut [&mut bob, &mut charlie],
        vec![resumption],
        vec![],
    );
    assert_agree(&mut [&mut alice, &mut bob, &mut charlie]);
}

#[test]
fn an_external_join_with_an_out_of_band_tree_is_handled_by_the_members() {
    let [mut alice, mut bob, _charlie] = group_of_three(1, false);
    let info = alice
        .client
        .group_info(GroupInfoRequest {
            state_id: alice.state,
            external_tree: true,
        })
        .unwrap();
    assert!(!info.ratchet_tree.is_empty());
    let mut diana = OpenMlsClient::new(4);
    let joined = diana
        .external_join(ExternalJoinRequest {
            group_info: info.group_info,
            ratchet_tree: info.ratchet_tree,
            encrypt_handshake: false,
            identity: b"diana".to_vec(),
            remove_prior: false,
            psks: Vec::new(),
        })
        .unwrap();
    for member in [&mut alice, &mut bob] {
        let handled = member
            .client
            .handle_commit(HandleCommitRequest {
                state_id: member.state,
                proposal: Vec::new(),
                commit: joined.commit.clone(),
            })
            .unwrap();
        assert_eq!(handled.epoch_authenticator, joined.epoch_authenticator);
    }
    let mut diana = Member {
        client: diana,
        state: joined.state_id,
    };
    send(
        &mut diana,
        &mut [&mut alice, &mut bob],
        b"",
        b"hello from diana",
    );
}

#[test]
fn what_openmls_lacks_answers_unsupported_and_bad_input_is_refused() {
    let mut client = OpenMlsClient::new(9);
    assert_eq!(
        client.re_init_proposal(ReInitProposalRequest::default()),
        Err(ClientError::Unsupported {
            method: "ReInitProposal"
        })
    );
    assert_eq!(
        client
            .create_branch(CreateBranchRequest::default())
            .unwrap_err(),
        ClientError::Unsupported {
            method: "CreateBranch"
        }
    );
    let garbage = client.join_group(JoinGroupRequest {
        transaction_id: 1,
        welcome: vec![0, 1, 0, 3, 0xff],
        ..Default::default()
    });
    assert!(
        matches!(
            garbage,
            Err(ClientError::Refused {
                method: "JoinGroup",
                ..
            })
        ),
        "{garbage:?}"
    );
    let no_suite = client.create_group(CreateGroupRequest {
        cipher_suite: 0xfff0,
        ..Default::default()
    });
    assert!(matches!(no_suite, Err(ClientError::Refused { .. })));
    let no_state = client.state_auth(StateAuthRequest { state_id: 77 });
    assert!(matches!(no_state, Err(ClientError::Refused { .. })));
}

#[test]
fn the_suites_are_exactly_the_rustcrypto_providers() {
    let mut suites = suites();
    suites.sort_unstable();
    assert_eq!(suites, vec![1, 2, 3]);
    let name = OpenMlsClient::new(0).name(NameRequest {}).unwrap().name;
    assert_eq!(name, "openmls");
}

fn store_psk(member: &mut Member, psk_id: &[u8]) {
    member
        .client
        .store_psk(StorePskRequest {
            state_or_transaction_id: member.state,
            psk_id: psk_id.to_vec(),
            psk_secret: psk_id.repeat(8),
        })
        .unwrap();
}

fn psk_by_value(psk_id: &[u8]) -> ProposalDescription {
    ProposalDescription {
        proposal_type: b"externalPSK".to_vec(),
        psk_id: psk_id.to_vec(),
        ..Default::default()
    }
}

#[test]
fn a_psk_by_value_alone_is_committed_and_accepted() {
    let [mut alice, mut bob, mut charlie] = group_of_three(1, true);
    for member in [&mut alice, &mut bob, &mut charlie] {
        store_psk(member, b"one");
    }
    commit(
        &mut alice,
        &mut [&mut bob, &mut charlie],
        vec![],
        vec![psk_by_value(b"one")],
    );
    assert_agree(&mut [&mut alice, &mut bob, &mut charlie]);
}

/// RFC9420-12.4.1-10 / RFC9420-12.1.4-5: psk_secret takes the PSKs in the order of the
/// commit's proposals. OpenMLS 0.9 lists a commit's own (by-value) proposals after the
/// queued ones, but loads their PSKs first, so a commit that mixes both derives a
/// psk_secret no receiver derives. This test pins that behaviour: when it starts failing,
/// OpenMLS has fixed it and the interop cells that mix the two pass.
#[test]
fn openmls_misorders_psks_when_queued_and_by_value_psks_are_mixed() {
    let [mut alice, mut bob, _charlie] = group_of_three(1, true);
    for member in [&mut alice, &mut bob] {
        store_psk(member, b"queued");
        store_psk(member, b"by value");
    }
    let queued = alice
        .client
        .external_psk_proposal(ExternalPskProposalRequest {
            state_id: alice.state,
            psk_id: b"queued".to_vec(),
        })
        .unwrap()
        .proposal;
    let committed = alice
        .client
        .commit(CommitRequest {
            state_id: alice.state,
            by_reference: vec![queued.clone()],
            by_value: vec![psk_by_value(b"by value")],
            ..Default::default()
        })
        .unwrap();
    let handled = bob.client.handle_commit(HandleCommitRequest {
        state_id: bob.state,
        proposal: vec![queued],
        commit: committed.commit,
    });
    match handled {
        Err(ClientError::Refused { message, .. }) => {
            assert!(message.contains("confirmation tag"), "{message}")
        }
        other => panic!("OpenMLS now accepts mixed PSKs ({other:?}): update the notes"),
    }
}

#[test]
fn an_external_sender_removes_and_a_new_member_adds_itself() {
    let [mut alice, mut bob, mut charlie] = group_of_three(1, false);
    let mut ds = OpenMlsClient::new(5);
    let signer = ds
        .create_external_signer(CreateExternalSignerRequest {
            cipher_suite: 1,
            identity: b"ds".to_vec(),
        })
        .unwrap();
    let add_signer = alice
        .client
        .add_external_signer(AddExternalSignerRequest {
            state_id: alice.state,
            external_sender: signer.external_sender,
        })
        .unwrap()
        .proposal;
    commit(
        &mut alice,
        &mut [&mut bob, &mut charlie],
        vec![add_signer],
        vec![],
    );
    let info = alice
        .client
        .group_info(GroupInfoRequest {
            state_id: alice.state,
            external_tree: true,
        })
        .unwrap();
    let remove = ds
        .external_signer_proposal(ExternalSignerProposalRequest {
            signer_id: signer.signer_id,
            signer_index: 0,
            group_info: info.group_info.clone(),
            ratchet_tree: info.ratchet_tree,
            description: Some(ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: b"charlie".to_vec(),
                ..Default::default()
            }),
        })
        .unwrap()
        .proposal;
    commit(&mut alice, &mut [&mut bob], vec![remove], vec![]);
    assert_agree(&mut [&mut alice, &mut bob]);
    let psk = ds.external_signer_proposal(ExternalSignerProposalRequest {
        signer_id: signer.signer_id,
        signer_index: 0,
        group_info: info.group_info,
        ratchet_tree: Vec::new(),
        description: Some(psk_by_value(b"psk")),
    });
    assert_eq!(
        psk,
        Err(ClientError::Unsupported {
            method: "ExternalSignerProposal"
        })
    );

    let info = alice
        .client
        .group_info(GroupInfoRequest {
            state_id: alice.state,
            external_tree: false,
        })
        .unwrap();
    let mut diana = OpenMlsClient::new(6);
    let proposed = diana
        .new_member_add_proposal(NewMemberAddProposalRequest {
            group_info: info.group_info,
            identity: b"diana".to_vec(),
        })
        .unwrap();
    assert!(!proposed.signature_priv.is_empty());
    let committed = commit(&mut alice, &mut [&mut bob], vec![proposed.proposal], vec![]);
    let joined = diana
        .join_group(JoinGroupRequest {
            transaction_id: proposed.transaction_id,
            welcome: committed.welcome,
            encrypt_handshake: false,
            identity: b"diana".to_vec(),
            ratchet_tree: Vec::new(),
        })
        .unwrap();
    let mut diana = Member {
        client: diana,
        state: joined.state_id,
    };
    assert_agree(&mut [&mut alice, &mut bob, &mut diana]);
}

#[test]
fn a_member_rejoining_by_external_commit_replaces_its_prior_self() {
    let [mut alice, mut bob, _charlie] = group_of_three(1, true);
    let info = alice
        .client
        .group_info(GroupInfoRequest {
            state_id: alice.state,
            external_tree: false,
        })
        .unwrap();
    let rejoined = bob
        .client
        .external_join(ExternalJoinRequest {
            group_info: info.group_info,
            ratchet_tree: Vec::new(),
            encrypt_handshake: true,
            identity: b"bob".to_vec(),
            remove_prior: true,
            psks: Vec::new(),
        })
        .unwrap();
    let handled = alice
        .client
        .handle_commit(HandleCommitRequest {
            state_id: alice.state,
            proposal: Vec::new(),
            commit: rejoined.commit,
        })
        .unwrap();
    assert_eq!(handled.epoch_authenticator, rejoined.epoch_authenticator);
    bob.state = rejoined.state_id;
    send(&mut bob, &mut [&mut alice], b"", b"back");
    // One bob only: removing "bob" leaves alice and charlie.
    let remove = ProposalDescription {
        proposal_type: b"remove".to_vec(),
        removed_id: b"bob".to_vec(),
        ..Default::default()
    };
    commit(&mut alice, &mut [], vec![], vec![remove.clone()]);
    let again = alice.client.commit(CommitRequest {
        state_id: alice.state,
        by_value: vec![remove],
        ..Default::default()
    });
    assert!(
        matches!(again, Err(ClientError::Refused { .. })),
        "{again:?}"
    );
}
