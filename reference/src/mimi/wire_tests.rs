//! Round trips and strict decoding of the MIMI bodies, with real MLS messages inside.

use std::sync::OnceLock;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::crypto::Suite;
use crate::group::{CommitOptions, Group, GroupConfig, create_key_package};
use crate::messages::{Add, Proposal, Remove};
use crate::mimi::ParticipantChange;

/// Real messages: a commit with its Welcome, a proposal, an application message, a
/// GroupInfo and a KeyPackage.
struct Fixture {
    commit: Vec<u8>,
    welcome: Vec<u8>,
    proposal: Vec<u8>,
    application: Vec<u8>,
    group_info: Vec<u8>,
    key_package: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let suite = Suite::new(CipherSuite(1)).expect("suite 1");
        let mut alice = Group::create(
            CipherSuite(1),
            b"room".to_vec(),
            b"alice@a",
            None,
            Vec::new(),
            GroupConfig::default(),
            1_700_000_000,
            &mut rng,
        )
        .expect("group");
        let (kp, _) =
            create_key_package(&suite, b"bob@b", None, 1_700_000_000, &mut rng).expect("kp");
        let options = CommitOptions {
            by_value: vec![Proposal::Add(Add {
                key_package: kp.clone(),
            })],
            ..CommitOptions::default()
        };
        let out = alice.commit(&options, &mut rng).expect("commit");
        alice.merge_pending_commit().expect("merge");
        let (proposal, _) = alice
            .propose(
                Proposal::Remove(Remove {
                    removed: crate::tree_math::LeafIndex(1),
                }),
                &mut rng,
            )
            .expect("proposal");
        let application = alice.protect(b"", b"hi", &mut rng).expect("protect");
        let (info, _) = alice.group_info(false).expect("group info");
        Fixture {
            commit: out.commit.to_bytes(),
            welcome: out.welcome.expect("welcome").to_bytes(),
            proposal: proposal.to_bytes(),
            application: application.to_bytes(),
            group_info: info.to_bytes(),
            key_package: kp.to_bytes(),
        }
    })
}

fn uri() -> impl Strategy<Value = String> {
    "[a-z]{1,8}@[a-z]{1,8}\\.example"
}

fn changes() -> impl Strategy<Value = Vec<ParticipantChange>> {
    prop::collection::vec(
        (any::<bool>(), uri()).prop_map(|(add, user)| {
            if add {
                ParticipantChange::Add(user)
            } else {
                ParticipantChange::Remove(user)
            }
        }),
        0..4,
    )
}

fn frank() -> impl Strategy<Value = Option<Frank>> {
    prop::option::of(
        (
            any::<[u8; 32]>(),
            any::<u16>(),
            prop::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(server_frank, suite, sig)| Frank {
                server_frank,
                franking_signature_ciphersuite: CipherSuite(suite),
                franking_integrity_signature: Bytes(sig),
            }),
    )
}

/// Encodes, decodes, compares; then checks every strict prefix and one trailing byte
/// are refused.
fn round_trip<T: Codec + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.to_bytes();
    strict_round_trip(value, &bytes)?;
    for cut in [0, bytes.len() / 2, bytes.len() - 1] {
        prop_assert!(
            T::from_bytes(&bytes[..cut]).is_err(),
            "a prefix of {} bytes was accepted",
            cut
        );
    }
    Ok(())
}

/// Decodes `bytes`, compares with `value`, and refuses one trailing byte.
fn strict_round_trip<T: Codec + PartialEq + std::fmt::Debug>(
    value: &T,
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    let back = T::from_bytes(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    let mut longer = bytes.to_vec();
    longer.push(0);
    prop_assert!(
        T::from_bytes(&longer).is_err(),
        "a trailing byte was accepted"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn update_requests_round_trip(sender in uri(), changes in changes(), welcome in any::<bool>(),
                                  info in any::<bool>(), proposal in any::<bool>()) {
        let f = fixture();
        let value = if proposal {
            UpdateRequest {
                proposal_or_commit: f.proposal.clone(),
                extra: BundleExtra::Proposal { more_proposals: vec![f.proposal.clone()] },
                sending_uri: sender,
                participant_changes: changes,
            }
        } else {
            UpdateRequest {
                proposal_or_commit: f.commit.clone(),
                extra: BundleExtra::Commit {
                    welcome: welcome.then(|| f.welcome.clone()),
                    group_info: info.then(|| f.group_info.clone()),
                },
                sending_uri: sender,
                participant_changes: changes,
            }
        };
        round_trip(&value)?;
    }

    #[test]
    fn update_responses_round_trip(code in 0u8..4, n in any::<u64>(), text in "[ -~]{0,30}") {
        let code = match code {
            0 => UpdateCode::Success { accepted_timestamp: n },
            1 => UpdateCode::WrongEpoch { current_epoch: n },
            2 => UpdateCode::NotAllowed,
            _ => UpdateCode::InvalidProposal { invalid_proposals: vec![Bytes(n.to_be_bytes().to_vec())] },
        };
        round_trip(&UpdateRoomResponse { error_description: text, code })?;
    }

    #[test]
    fn submit_messages_round_trip(sender in uri(), code in 0u8..3, n in any::<u64>(), frank in frank()) {
        round_trip(&SubmitMessageRequest { app_message: fixture().application.clone(), sending_uri: sender })?;
        let response = match code {
            0 => SubmitMessageResponse::Accepted { accepted_timestamp: n, frank },
            1 => SubmitMessageResponse::NotAllowed,
            _ => SubmitMessageResponse::EpochTooOld { current_epoch: n },
        };
        round_trip(&response)?;
    }

    #[test]
    fn fanout_messages_round_trip(kind in 0u8..4, ts in any::<u64>(), seq in any::<u64>(),
                                  epoch in any::<u64>(), recipients in prop::collection::vec(uri(), 0..3),
                                  frank in frank(), count in 1usize..3) {
        let f = fixture();
        let (message, extra) = match kind {
            0 => (f.application.clone(), FanoutExtra::Application { frank }),
            1 => (f.welcome.clone(), FanoutExtra::Welcome),
            2 => (f.proposal.clone(), FanoutExtra::Proposal { more_proposals: vec![] }),
            _ => (f.commit.clone(), FanoutExtra::Commit { external_proposals: vec![f.proposal.clone()] }),
        };
        let one = FanoutMessage { timestamp: ts, message, extra, sequence: seq, epoch, recipients };
        round_trip(&one)?;
        // Several messages concatenated: a cut at a message boundary is a shorter valid
        // body, so only the round trip and the trailing byte are checked.
        let body = NotifyBody(vec![one; count]);
        strict_round_trip(&body, &body.to_bytes())?;
        prop_assert!(NotifyBody::from_bytes(&[]).is_err());
    }

    #[test]
    fn key_material_round_trips(requester in uri(), target in uri(), room in "[a-z0-9]{1,10}",
                                suites in prop::collection::vec(any::<u16>(), 1..4),
                                status in 0u8..3) {
        let request = KeyMaterialRequest {
            requesting_user: requester.clone(),
            target_user: target.clone(),
            room_id: room,
            acceptable_ciphersuites: suites.into_iter().map(CipherSuite).collect(),
            required_capabilities: RequiredCapabilities::default(),
            requester_signature_key: SignaturePublicKey(Bytes(vec![3; 32])),
            requester_credential: Credential::basic(requester.into_bytes()),
            signature: Bytes(vec![4; 64]),
        };
        round_trip(&request)?;
        let client = match status {
            0 => ClientKeyMaterial::Success { client_uri: target.clone(), key_package: fixture().key_package.clone() },
            1 => ClientKeyMaterial::Exhausted { client_uri: target.clone() },
            _ => ClientKeyMaterial::NothingCompatible {
                client_uri: target.clone(),
                capabilities: Some(crate::group::leaf_capabilities(CipherSuite(1))),
            },
        };
        round_trip(&KeyMaterialResponse {
            user_status: KeyMaterialUserCode::PartialSuccess,
            user_uri: target.clone(),
            clients: vec![client],
        })?;
        round_trip(&KeyMaterialResponse { user_status: KeyMaterialUserCode::UserUnknown, user_uri: target, clients: vec![] })?;
    }

    #[test]
    fn group_info_and_create_room_round_trip(creator in uri(), open in any::<bool>(), code in any::<Vec<u8>>(),
                                             status in 0u8..3, room in "[a-z0-9]{1,10}") {
        let f = fixture();
        round_trip(&CreateRoomRequest { creator: creator.clone(), group_info: f.group_info.clone(), open })?;
        round_trip(&CreateRoomResponse { code: CreateRoomCode::RoomExists, description: room.clone() })?;
        round_trip(&GroupInfoRequest {
            cipher_suite: CipherSuite(1),
            requesting_signature_key: SignaturePublicKey(Bytes(vec![5; 32])),
            requesting_credential: Credential::basic(creator.into_bytes()),
            group_info_public_key: HpkePublicKey(Bytes(vec![6; 32])),
            joining_code: Bytes(code),
            signature: Bytes(vec![7; 64]),
        })?;
        let status = match status {
            0 => GroupInfoStatus::Success(GroupInfoSuccess {
                cipher_suite: CipherSuite(1),
                hub_sender: ExternalSender {
                    signature_key: SignaturePublicKey(Bytes(vec![8; 32])),
                    credential: Credential::basic(b"hub.example".to_vec()),
                },
                encrypted_groupinfo_and_tree: HpkeCiphertext { kem_output: Bytes(vec![9; 32]), ciphertext: Bytes(vec![10; 50]) },
                signature: Bytes(vec![11; 64]),
            }),
            1 => GroupInfoStatus::NotAuthorized,
            _ => GroupInfoStatus::NoSuchRoom,
        };
        round_trip(&GroupInfoResponse { room_id: Bytes(room.into_bytes()), status })?;
    }

    #[test]
    fn consent_query_and_abuse_round_trip(op in 0u8..4, requester in uri(), target in uri(),
                                          room in prop::option::of("[a-z0-9]{1,8}"), ids in prop::collection::vec(any::<u16>(), 0..3),
                                          kind in 1u8..9, value in "[a-z@.]{0,12}", frank in frank(), ts in any::<u64>()) {
        let operation = [ConsentOperation::Cancel, ConsentOperation::Request, ConsentOperation::Grant, ConsentOperation::Revoke][usize::from(op)];
        let extensions = AppDataDictionary(ids.into_iter().map(|id| (id, Bytes(vec![1, 2]))).collect());
        round_trip(&ConsentEntry {
            operation,
            requester_uri: requester.clone(),
            target_uri: target.clone(),
            room_id: room,
            client_key_packages: if operation == ConsentOperation::Grant { vec![fixture().key_package.clone()] } else { vec![] },
            consent_extensions: extensions.clone(),
        })?;
        round_trip(&IdentifierRequest {
            query_elements: vec![QueryElement {
                search_type: kind,
                name: if matches!(kind, 7 | 8) { b"given_name".to_vec() } else { vec![] },
                search_value: value,
            }],
            id_request_extensions: extensions.clone(),
        })?;
        round_trip(&IdentifierResponse { response_code: 0, uris: vec![target.clone()], id_response_extensions: extensions.clone() })?;
        let messages = frank.map(|frank| AbusiveMessage { message_content: Bytes(b"bad".to_vec()), frank, accepted_timestamp: ts }).into_iter().collect();
        round_trip(&AbuseReport {
            reporting_user: requester,
            alleged_abuser_uri: target,
            reason_code: 0,
            note: "note".into(),
            messages,
            abuse_extensions: extensions,
        })?;
    }

    #[test]
    fn random_bytes_never_panic_and_errors_name_a_field(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = UpdateRequest::from_bytes(&bytes);
        let _ = SubmitMessageRequest::from_bytes(&bytes);
        let _ = NotifyBody::from_bytes(&bytes);
        let _ = KeyMaterialRequest::from_bytes(&bytes);
        let _ = GroupInfoRequest::from_bytes(&bytes);
        let _ = CreateRoomRequest::from_bytes(&bytes);
        let _ = KeyMaterialResponse::from_bytes(&bytes);
        let _ = UpdateRoomResponse::from_bytes(&bytes);
        let _ = ConsentEntry::from_bytes(&bytes);
        let _ = IdentifierRequest::from_bytes(&bytes);
        let _ = AbuseReport::from_bytes(&bytes);
    }
}

#[test]
fn wrong_kinds_of_message_are_refused_with_the_field_named() {
    let f = fixture();
    // An application message where a commit or proposal belongs.
    let mut body = f.application.clone();
    body.extend_from_slice(&[0, 0]);
    let error = UpdateRequest::from_bytes(&body)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("UpdateRequest.proposalOrCommit"), "{error}");
    // A commit where an application message belongs.
    let mut body = vec![PROTOCOL_MLS10];
    body.extend_from_slice(&f.commit);
    body.push(0);
    let error = SubmitMessageRequest::from_bytes(&body)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("SubmitMessageRequest.appMessage"), "{error}");
    // Protocol other than mls10.
    let mut body = CreateRoomRequest {
        creator: "a@b".into(),
        group_info: f.group_info.clone(),
        open: false,
    }
    .to_bytes();
    body[0] = 2;
    let error = CreateRoomRequest::from_bytes(&body)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("CreateRoomRequest.protocol"), "{error}");
    // `open` other than 0 or 1.
    let mut body = CreateRoomRequest {
        creator: "a@b".into(),
        group_info: f.group_info.clone(),
        open: false,
    }
    .to_bytes();
    if let Some(last) = body.last_mut() {
        *last = 2;
    }
    let error = CreateRoomRequest::from_bytes(&body)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("CreateRoomRequest.open"), "{error}");
    // A participant change of an unknown kind.
    let mut body = UpdateRequest {
        proposal_or_commit: f.commit.clone(),
        extra: BundleExtra::Commit {
            welcome: None,
            group_info: None,
        },
        sending_uri: "a@b".into(),
        participant_changes: vec![ParticipantChange::Add("c@d".into())],
    }
    .to_bytes();
    let at = body.len() - 5; // kind byte: before the 4-byte uri "c@d" and its length
    body[at] = 9;
    let error = UpdateRequest::from_bytes(&body)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("participantChanges.kind"), "{error}");
}
