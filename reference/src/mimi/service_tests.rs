//! The provider service end to end, sans IO: a hub and follower services exchanging
//! their outbound requests in a loop, with real MLS messages from the group engine.

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use super::*;
use crate::group::{CommitOptions, Group, GroupConfig, KeyPackageSecrets, PskStore, Received};
use crate::messages::{Add, KeyPackage, Proposal, RequiredCapabilities};
use crate::mimi::group_info::{GroupInfoResponseError, open_response};
use crate::mimi::wire::{UpdateCode, *};
use crate::mimi::{ParticipantChange, RoomEvent};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW_MS: u64 = 1_700_000_000_000;
const NOW_S: u64 = NOW_MS / 1000;
const HUB: &str = "hub.example";
const F1: &str = "f1.example";
const F2: &str = "f2.example";
const ALICE: &str = "alice@f1.example";
const BOB: &str = "bob@f2.example";

fn post(path: &str, peer: Option<&str>, body: Vec<u8>, key: Option<&str>) -> Request {
    Request {
        method: "POST".into(),
        path: path.into(),
        peer: peer.map(str::to_string),
        headers: key
            .map(|k| vec![("idempotency-key".to_string(), k.to_string())])
            .unwrap_or_default(),
        body,
    }
}

/// Delivers every outbound request to its target and reports the status back, until
/// nothing is left to send. Returns how many requests were made.
fn pump(net: &mut BTreeMap<String, ProviderService>) -> usize {
    let mut total = 0;
    loop {
        let mut moved = 0;
        let domains: Vec<String> = net.keys().cloned().collect();
        for domain in domains {
            let batch = net
                .get_mut(&domain)
                .map(|s| s.take_outbound())
                .unwrap_or_default();
            for outbound in batch {
                let status = net
                    .get_mut(&outbound.to_domain)
                    .map(|target| target.handle(&outbound.request, NOW_MS).status);
                if let Some(source) = net.get_mut(&domain) {
                    source.outbound_done(outbound.id, status, NOW_MS);
                }
                moved += 1;
            }
        }
        total += moved;
        if moved == 0 {
            return total;
        }
    }
}

fn network(hub_faults: ServiceFaults) -> BTreeMap<String, ProviderService> {
    BTreeMap::from([
        (
            HUB.to_string(),
            ProviderService::with_faults(HUB, Role::Hub, &["carol"], 1, hub_faults),
        ),
        (
            F1.to_string(),
            ProviderService::new(F1, Role::Follower, &["alice"], 2),
        ),
        (
            F2.to_string(),
            ProviderService::new(F2, Role::Follower, &["bob"], 3),
        ),
    ])
}

fn hub(net: &mut BTreeMap<String, ProviderService>) -> &mut ProviderService {
    net.get_mut(HUB).expect("the hub is in the network")
}

fn group(identity: &str, rng: &mut ChaCha20Rng) -> Result<Group, Box<dyn std::error::Error>> {
    Ok(Group::create(
        CipherSuite(1),
        b"room-r1".to_vec(),
        identity.as_bytes(),
        None,
        Vec::new(),
        GroupConfig::default(),
        NOW_S,
        rng,
    )?)
}

fn key_package(
    identity: &str,
    rng: &mut ChaCha20Rng,
) -> Result<(KeyPackage, KeyPackageSecrets), Box<dyn std::error::Error>> {
    let suite = Suite::new(CipherSuite(1))?;
    Ok(crate::group::create_key_package(
        &suite,
        identity.as_bytes(),
        None,
        NOW_S,
        rng,
    )?)
}

/// alice@f1 creates room r1 on the hub.
fn create_room(
    net: &mut BTreeMap<String, ProviderService>,
    rng: &mut ChaCha20Rng,
) -> Result<Group, Box<dyn std::error::Error>> {
    let alice = group(ALICE, rng)?;
    let (info, _) = alice.group_info(false)?;
    let body = CreateRoomRequest {
        creator: ALICE.into(),
        group_info: info.to_bytes(),
        open: false,
    }
    .to_bytes();
    let answer = hub(net).handle(&post("/v1/createRoom/r1", Some(F1), body, None), NOW_MS);
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(
        CreateRoomResponse::from_bytes(&answer.body)?.code,
        CreateRoomCode::Created
    );
    Ok(alice)
}

fn update_body(
    commit: &crate::group::CommitOutput,
    sender: &str,
    changes: Vec<ParticipantChange>,
) -> Vec<u8> {
    UpdateRequest {
        proposal_or_commit: commit.commit.to_bytes(),
        extra: BundleExtra::Commit {
            welcome: commit.welcome.as_ref().map(Codec::to_bytes),
            group_info: None,
        },
        sending_uri: sender.into(),
        participant_changes: changes,
    }
    .to_bytes()
}

/// Room r1 with alice@f1 and bob@f2 (epoch 1), bob joined from the fanned-out Welcome.
fn room_of_two(
    net: &mut BTreeMap<String, ProviderService>,
    rng: &mut ChaCha20Rng,
) -> Result<(Group, Group), Box<dyn std::error::Error>> {
    let mut alice = create_room(net, rng)?;
    let (bob_kp, bob_secrets) = key_package(BOB, rng)?;
    let options = CommitOptions {
        by_value: vec![Proposal::Add(Add {
            key_package: bob_kp.clone(),
        })],
        ..CommitOptions::default()
    };
    let commit = alice.commit(&options, rng)?;
    let body = update_body(&commit, ALICE, vec![ParticipantChange::Add(BOB.into())]);
    let answer = hub(net).handle(&post("/v1/update/r1", Some(F1), body, Some("1")), NOW_MS);
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(matches!(
        UpdateRoomResponse::from_bytes(&answer.body)?.code,
        UpdateCode::Success { .. }
    ));
    alice.merge_pending_commit()?;
    assert!(pump(net) > 0);
    let welcome = net[F2]
        .deliveries()
        .iter()
        .find_map(|d| match &d.event {
            RoomEvent::Welcome { welcome, .. } if &*d.client == BOB => Some(welcome.clone()),
            _ => None,
        })
        .ok_or("bob's provider got no Welcome")?;
    let MlsMessageBody::Welcome(welcome) = MlsMessage::from_bytes(&welcome)?.body else {
        return Err("the Welcome delivery is not a Welcome".into());
    };
    let bob = Group::join(
        &welcome,
        &bob_kp,
        &bob_secrets,
        None,
        &PskStore::default(),
        GroupConfig::default(),
    )?;
    assert_eq!(bob.epoch(), 1);
    Ok((alice, bob))
}

fn submit_body(message: &MlsMessage, sender: &str) -> Vec<u8> {
    SubmitMessageRequest {
        app_message: message.to_bytes(),
        sending_uri: sender.into(),
    }
    .to_bytes()
}

fn applications_for(service: &ProviderService, client: &str) -> Vec<Vec<u8>> {
    service
        .deliveries()
        .iter()
        .filter(|d| &*d.client == client)
        .filter_map(|d| match &d.event {
            RoomEvent::Application { message, .. } => Some(message.to_vec()),
            _ => None,
        })
        .collect()
}

/// Cites MIMI-PROTOCOL-5.5-1, MIMI-PROTOCOL-5.5-7.
#[test]
fn create_add_and_an_application_message_reach_the_follower() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut net = network(ServiceFaults::default());
    let (mut alice, mut bob) = room_of_two(&mut net, &mut rng)?;
    let hello = alice.protect(b"", b"hello", &mut rng)?;
    let answer = hub(&mut net).handle(
        &post(
            "/v1/submitMessage/r1",
            Some(F1),
            submit_body(&hello, ALICE),
            Some("2"),
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 200);
    assert!(matches!(
        SubmitMessageResponse::from_bytes(&answer.body)?,
        SubmitMessageResponse::Accepted { .. }
    ));
    pump(&mut net);
    let received = applications_for(&net[F2], BOB);
    assert_eq!(received.len(), 1);
    match bob.process_message_bytes(&received[0])? {
        Received::Application { data, .. } => assert_eq!(data, b"hello"),
        other => return Err(format!("expected application data, got {other:?}").into()),
    }
    // The sender's provider gets no copy of its own application message.
    assert!(applications_for(&net[F1], ALICE).is_empty());
    assert_eq!(net[HUB].outbound_pending(), 0);
    Ok(())
}

/// Cites MIMI-PROTOCOL-4.1-1, MIMI-PROTOCOL-4.1-2, MIMI-PROTOCOL-4.1-3: a notify names
/// its target in Host and its source in From as mimi@<source domain>.
#[test]
fn a_notify_names_its_target_in_host_and_its_source_in_from() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut net = network(ServiceFaults::default());
    let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
    let hello = alice.protect(b"", b"hello", &mut rng)?;
    let answer = hub(&mut net).handle(
        &post(
            "/v1/submitMessage/r1",
            Some(F1),
            submit_body(&hello, ALICE),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 200);
    let batch = hub(&mut net).take_outbound();
    assert!(!batch.is_empty());
    for outbound in &batch {
        let header = |name: &str| {
            outbound
                .request
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("host"), Some(outbound.to_domain.clone()));
        assert_eq!(header("from"), Some(format!("mimi@{HUB}")));
    }
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.3-11, MIMI-PROTOCOL-5.3-14, MIMI-PROTOCOL-5.3-18.
#[test]
fn a_commit_race_has_one_winner_and_the_loser_gets_wrong_epoch() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut net = network(ServiceFaults::default());
    let (mut alice, mut bob) = room_of_two(&mut net, &mut rng)?;
    let force = CommitOptions {
        force_path: true,
        ..CommitOptions::default()
    };
    let a = alice.commit(&force, &mut rng)?;
    let b = bob.commit(&force, &mut rng)?;
    let first = hub(&mut net).handle(
        &post(
            "/v1/update/r1",
            Some(F1),
            update_body(&a, ALICE, vec![]),
            Some("a"),
        ),
        NOW_MS,
    );
    let second = hub(&mut net).handle(
        &post(
            "/v1/update/r1",
            Some(F2),
            update_body(&b, BOB, vec![]),
            Some("b"),
        ),
        NOW_MS,
    );
    assert_eq!(first.status, 200);
    assert_eq!(second.status, 409);
    assert_eq!(
        UpdateRoomResponse::from_bytes(&second.body)?.code,
        UpdateCode::WrongEpoch { current_epoch: 2 }
    );
    // The same request again gets the same answer and no second fanout.
    pump(&mut net);
    let again = hub(&mut net).handle(
        &post(
            "/v1/update/r1",
            Some(F1),
            update_body(&a, ALICE, vec![]),
            Some("a"),
        ),
        NOW_MS,
    );
    assert_eq!(again.status, 200);
    assert!(hub(&mut net).take_outbound().is_empty());
    let commits_to_alice = net[F1]
        .deliveries()
        .iter()
        .filter(|d| &*d.client == ALICE && matches!(d.event, RoomEvent::Handshake { epoch: 1, .. }))
        .count();
    assert_eq!(commits_to_alice, 1, "only the winner is fanned out");

    // With the fault, the loser is accepted and fanned out too.
    let mut net = network(ServiceFaults {
        accept_two_commits_per_epoch: true,
        ..ServiceFaults::default()
    });
    let (mut alice, mut bob) = room_of_two(&mut net, &mut rng)?;
    let a = alice.commit(&force, &mut rng)?;
    let b = bob.commit(&force, &mut rng)?;
    let first = hub(&mut net).handle(
        &post(
            "/v1/update/r1",
            Some(F1),
            update_body(&a, ALICE, vec![]),
            Some("a"),
        ),
        NOW_MS,
    );
    let second = hub(&mut net).handle(
        &post(
            "/v1/update/r1",
            Some(F2),
            update_body(&b, BOB, vec![]),
            Some("b"),
        ),
        NOW_MS,
    );
    assert_eq!((first.status, second.status), (200, 200));
    pump(&mut net);
    let commits_to_alice = net[F1]
        .deliveries()
        .iter()
        .filter(|d| &*d.client == ALICE && matches!(d.event, RoomEvent::Handshake { epoch: 1, .. }))
        .count();
    // Her own winning commit and bob's losing one.
    assert_eq!(commits_to_alice, 2, "bob's losing commit reached alice");
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.3-17.
#[test]
fn a_ghost_member_commit_is_refused_unless_the_fault_is_on() -> TestResult {
    for (fault, expected) in [(false, 403), (true, 200)] {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut net = network(ServiceFaults {
            accept_ghost_member: fault,
            ..ServiceFaults::default()
        });
        let mut alice = create_room(&mut net, &mut rng)?;
        let (mallory, _) = key_package("mallory@f2.example", &mut rng)?;
        let options = CommitOptions {
            by_value: vec![Proposal::Add(Add {
                key_package: mallory,
            })],
            ..CommitOptions::default()
        };
        let commit = alice.commit(&options, &mut rng)?;
        let answer = hub(&mut net).handle(
            &post(
                "/v1/update/r1",
                Some(F1),
                update_body(&commit, ALICE, vec![]),
                None,
            ),
            NOW_MS,
        );
        assert_eq!(answer.status, expected, "fault {fault}");
        let code = UpdateRoomResponse::from_bytes(&answer.body)?;
        if fault {
            assert!(matches!(code.code, UpdateCode::Success { .. }));
        } else {
            assert_eq!(code.code, UpdateCode::NotAllowed);
            assert!(code.error_description.contains("participant"));
        }
    }
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.4-6.
#[test]
fn a_stale_application_message_is_epoch_too_old_unless_the_fault_is_on() -> TestResult {
    for fault in [false, true] {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut net = network(ServiceFaults {
            accept_stale_application: fault,
            ..ServiceFaults::default()
        });
        let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
        let stale = alice.protect(b"", b"old", &mut rng)?;
        let commit = alice.commit(
            &CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
            &mut rng,
        )?;
        let answer = hub(&mut net).handle(
            &post(
                "/v1/update/r1",
                Some(F1),
                update_body(&commit, ALICE, vec![]),
                None,
            ),
            NOW_MS,
        );
        assert_eq!(answer.status, 200);
        pump(&mut net);
        let answer = hub(&mut net).handle(
            &post(
                "/v1/submitMessage/r1",
                Some(F1),
                submit_body(&stale, ALICE),
                None,
            ),
            NOW_MS,
        );
        pump(&mut net);
        let delivered = applications_for(&net[F2], BOB).len();
        if fault {
            assert_eq!(answer.status, 200);
            assert_eq!(delivered, 1);
        } else {
            assert_eq!(answer.status, 409);
            assert_eq!(
                SubmitMessageResponse::from_bytes(&answer.body)?,
                SubmitMessageResponse::EpochTooOld { current_epoch: 2 }
            );
            assert_eq!(delivered, 0);
        }
    }
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.5-15.
#[test]
fn a_duplicate_notify_is_accepted_and_dropped() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut net = network(ServiceFaults::default());
    let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
    let hello = alice.protect(b"", b"hello", &mut rng)?;
    hub(&mut net).handle(
        &post(
            "/v1/submitMessage/r1",
            Some(F1),
            submit_body(&hello, ALICE),
            None,
        ),
        NOW_MS,
    );
    let batch = hub(&mut net).take_outbound();
    let to_f2 = batch
        .iter()
        .find(|o| o.to_domain == F2)
        .ok_or("no fanout to f2")?;
    assert_eq!(to_f2.request.path, "/v1/notify/r1");
    let f2 = net.get_mut(F2).ok_or("f2")?;
    let before = f2.deliveries().len();
    assert_eq!(f2.handle(&to_f2.request, NOW_MS).status, 201);
    assert_eq!(f2.handle(&to_f2.request, NOW_MS).status, 201);
    assert_eq!(f2.deliveries().len(), before + 1);
    assert_eq!(f2.provider().duplicates(), 1);
    // The same fanout from another provider than the room's hub is refused.
    let mut forged = to_f2.request.clone();
    forged.peer = Some(F1.into());
    assert_eq!(f2.handle(&forged, NOW_MS).status, 403);
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.5-7.
#[test]
fn a_failed_fanout_is_retried_after_a_backoff_unless_the_fault_is_on() -> TestResult {
    for fault in [false, true] {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut net = network(ServiceFaults {
            no_fanout_retry: fault,
            ..ServiceFaults::default()
        });
        let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
        let hello = alice.protect(b"", b"hello", &mut rng)?;
        hub(&mut net).handle(
            &post(
                "/v1/submitMessage/r1",
                Some(F1),
                submit_body(&hello, ALICE),
                None,
            ),
            NOW_MS,
        );
        let batch = hub(&mut net).take_outbound();
        assert_eq!(batch.len(), 1);
        hub(&mut net).outbound_done(batch[0].id, None, NOW_MS);
        // Backoff: the next poll sends nothing, a later one sends it again.
        let mut polls = 0;
        let retried = loop {
            polls += 1;
            let again = hub(&mut net).take_outbound();
            if !again.is_empty() || polls > 100 {
                break again;
            }
        };
        if fault {
            assert!(retried.is_empty());
            assert_eq!(net[HUB].dropped_outbound(), 1);
        } else {
            assert!(polls > 1, "no backoff");
            assert_eq!(retried.len(), 1);
            assert_eq!(retried[0].request, batch[0].request);
            hub(&mut net).outbound_done(retried[0].id, Some(201), NOW_MS);
            assert_eq!(net[HUB].outbound_pending(), 0);
        }
    }
    Ok(())
}

#[test]
fn the_group_info_is_served_encrypted_to_a_participant_and_refused_to_others() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let mut net = network(ServiceFaults::default());
    let (alice, _bob) = room_of_two(&mut net, &mut rng)?;
    // The committer publishes the new epoch's GroupInfo with its next commit; here the
    // creator's epoch-0 GroupInfo is outdated, so the hub has none: 409.
    let suite = Suite::new(CipherSuite(1))?;
    let request = |identity: &str,
                   rng: &mut ChaCha20Rng|
     -> Result<(Vec<u8>, Vec<u8>), Box<dyn std::error::Error>> {
        let signer = suite.signature_generate(rng)?;
        let hpke = suite.hpke_generate_key_pair(rng)?;
        let mut request = GroupInfoRequest {
            cipher_suite: CipherSuite(1),
            requesting_signature_key: SignaturePublicKey(Bytes(signer.public.clone())),
            requesting_credential: Credential::basic(identity.as_bytes().to_vec()),
            group_info_public_key: crate::messages::HpkePublicKey(Bytes(hpke.public.clone())),
            joining_code: Bytes::default(),
            signature: Bytes::default(),
        };
        request.signature = Bytes(suite.sign_with_label(
            &signer.private,
            b"GroupInfoRequestTBS",
            &request.tbs_bytes(),
        )?);
        Ok((request.to_bytes(), hpke.private))
    };
    let (body, _) = request(BOB, &mut rng)?;
    let answer = hub(&mut net).handle(&post("/v1/groupInfo/r1", Some(F2), body, None), NOW_MS);
    assert_eq!(answer.status, 409);
    let (info, _) = alice.group_info(false)?;
    assert!(
        hub(&mut net)
            .hub
            .publish_group_info("r1", 1, info.to_bytes())
    );
    let (body, private) = request(BOB, &mut rng)?;
    let answer = hub(&mut net).handle(&post("/v1/groupInfo/r1", Some(F2), body, None), NOW_MS);
    assert_eq!(answer.status, 200);
    let response = GroupInfoResponse::from_bytes(&answer.body)?;
    let GroupInfoStatus::Success(success) = &response.status else {
        return Err("expected success".into());
    };
    suite.verify_with_label(
        &success.hub_sender.signature_key.0,
        b"GroupInfoResponseTBS",
        &GroupInfoResponse::tbs_bytes(b"r1", success),
        &success.signature,
    )?;
    let plain = suite.decrypt_with_label(
        &private,
        GROUP_INFO_LABEL,
        b"r1",
        &success.encrypted_groupinfo_and_tree.kem_output,
        &success.encrypted_groupinfo_and_tree.ciphertext,
    )?;
    let tbe = GroupInfoRatchetTreeTbe::from_bytes(&plain)?;
    let MlsMessageBody::GroupInfo(expected) = info.body else {
        return Err("not a GroupInfo".into());
    };
    assert_eq!(tbe.group_info, expected.to_bytes());
    // The requester's side (MIMI-PROTOCOL-5.6-6): the answer opens as it came, and an
    // answer altered in any signed part, or for another room, is refused before use.
    let opened = open_response("r1", &response, &private)?;
    assert_eq!(opened, tbe);
    let altered = |change: &dyn Fn(&mut GroupInfoSuccess)| {
        let mut copy = response.clone();
        if let GroupInfoStatus::Success(s) = &mut copy.status {
            change(s);
        }
        open_response("r1", &copy, &private)
    };
    let other_key = suite.signature_generate(&mut rng)?.public;
    for result in [
        altered(&|s| s.signature.0[0] ^= 1),
        altered(&|s| s.hub_sender.signature_key.0 = Bytes(other_key.clone())),
        altered(&|s| s.hub_sender.credential = Credential::basic(b"other.example".to_vec())),
        altered(&|s| s.encrypted_groupinfo_and_tree.ciphertext.0[0] ^= 1),
    ] {
        assert_eq!(result, Err(GroupInfoResponseError::Signature));
    }
    assert!(matches!(
        open_response("r2", &response, &private),
        Err(GroupInfoResponseError::OtherRoom { .. })
    ));
    // Not a participant of a closed room: notAuthorized.
    let (body, _) = request("mallory@f2.example", &mut rng)?;
    let answer = hub(&mut net).handle(&post("/v1/groupInfo/r1", Some(F2), body, None), NOW_MS);
    assert_eq!(answer.status, 403);
    assert_eq!(
        GroupInfoResponse::from_bytes(&answer.body)?.status,
        GroupInfoStatus::NotAuthorized
    );
    Ok(())
}

fn consent(operation: ConsentOperation, requester: &str, target: &str) -> Vec<u8> {
    ConsentEntry {
        operation,
        requester_uri: requester.into(),
        target_uri: target.into(),
        room_id: Some("r1".into()),
        client_key_packages: Vec::new(),
        consent_extensions: AppDataDictionary(vec![(7, Bytes(b"x".to_vec()))]),
    }
    .to_bytes()
}

#[test]
fn consent_identifier_query_and_abuse_reports() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let mut net = network(ServiceFaults::default());
    let _ = room_of_two(&mut net, &mut rng)?;
    let hub = hub(&mut net);
    let carol = "carol@hub.example";
    let ask = |op| consent(op, ALICE, carol);
    let path = "/v1/requestConsent/carol@hub.example";
    assert_eq!(
        hub.handle(
            &post(path, Some(F1), ask(ConsentOperation::Request), None),
            NOW_MS
        )
        .status,
        201
    );
    assert!(
        hub.consent_requests()
            .contains(&(ALICE.into(), carol.into(), Some("r1".into())))
    );
    assert_eq!(
        hub.handle(
            &post(path, Some(F2), ask(ConsentOperation::Request), None),
            NOW_MS
        )
        .status,
        403
    );
    assert_eq!(
        hub.handle(
            &post(path, Some(F1), ask(ConsentOperation::Grant), None),
            NOW_MS
        )
        .status,
        400
    );
    assert_eq!(
        hub.handle(
            &post(path, Some(F1), ask(ConsentOperation::Cancel), None),
            NOW_MS
        )
        .status,
        201
    );
    assert!(hub.consent_requests().is_empty());
    let unknown = consent(ConsentOperation::Request, ALICE, "zed@hub.example");
    assert_eq!(
        hub.handle(
            &post(
                "/v1/requestConsent/zed@hub.example",
                Some(F1),
                unknown,
                None
            ),
            NOW_MS
        )
        .status,
        404
    );
    // carol grants consent to... a remote requester is not ours: updateConsent goes to the
    // requester's provider, so here bob@f2 grants carol (a local requester).
    let grant = consent(ConsentOperation::Grant, carol, BOB);
    assert_eq!(
        hub.handle(
            &post("/v1/updateConsent/carol@hub.example", Some(F2), grant, None),
            NOW_MS
        )
        .status,
        201
    );
    assert_eq!(
        hub.consents()
            .get(&(carol.into(), BOB.into(), Some("r1".into()))),
        Some(&true)
    );

    let query = |search_type, value: &str| {
        IdentifierRequest {
            query_elements: vec![QueryElement {
                search_type,
                name: Vec::new(),
                search_value: value.into(),
            }],
            id_request_extensions: AppDataDictionary::default(),
        }
        .to_bytes()
    };
    let answer = hub.handle(
        &post(
            "/v1/identifierQuery/hub.example",
            Some(F1),
            query(2, "carol"),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        IdentifierResponse::from_bytes(&answer.body)?.uris,
        vec![carol.to_string()]
    );
    let answer = hub.handle(
        &post(
            "/v1/identifierQuery/hub.example",
            Some(F1),
            query(1, "nobody@hub.example"),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(
        (
            answer.status,
            IdentifierResponse::from_bytes(&answer.body)?.response_code
        ),
        (404, 1)
    );
    let answer = hub.handle(
        &post(
            "/v1/identifierQuery/hub.example",
            Some(F1),
            query(5, "car"),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(
        (
            answer.status,
            IdentifierResponse::from_bytes(&answer.body)?.response_code
        ),
        (422, 4)
    );

    let report = AbuseReport {
        reporting_user: BOB.into(),
        alleged_abuser_uri: ALICE.into(),
        reason_code: 0,
        note: "spam".into(),
        messages: Vec::new(),
        abuse_extensions: AppDataDictionary::default(),
    }
    .to_bytes();
    assert_eq!(
        hub.handle(
            &post("/v1/reportAbuse/r1", Some(F2), report.clone(), None),
            NOW_MS
        )
        .status,
        201
    );
    assert_eq!(
        hub.handle(
            &post("/v1/reportAbuse/r1", Some(F1), report.clone(), None),
            NOW_MS
        )
        .status,
        403
    );
    assert_eq!(
        hub.handle(&post("/v1/reportAbuse/zz", Some(F2), report, None), NOW_MS)
            .status,
        404
    );
    assert_eq!(hub.abuse_reports().len(), 1);
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.5-16.
#[test]
fn a_rooms_notifies_to_one_provider_go_one_at_a_time_in_acceptance_order() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let mut net = network(ServiceFaults::default());
    let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
    let first = alice.protect(b"", b"first", &mut rng)?;
    let second = alice.protect(b"", b"second", &mut rng)?;
    for (key, message) in [("m1", &first), ("m2", &second)] {
        let answer = hub(&mut net).handle(
            &post(
                "/v1/submitMessage/r1",
                Some(F1),
                submit_body(message, ALICE),
                Some(key),
            ),
            NOW_MS,
        );
        assert_eq!(answer.status, 200);
    }
    let to_f2 = |batch: &[Outbound]| -> Vec<Outbound> {
        batch
            .iter()
            .filter(|o| o.to_domain == F2)
            .cloned()
            .collect()
    };
    // Only the first goes out; it fails, and while it waits out its backoff the second
    // must not overtake it.
    let batch = to_f2(&hub(&mut net).take_outbound());
    assert_eq!(
        batch.len(),
        1,
        "two notifies of one room in flight to f2 at once"
    );
    let body = NotifyBody::from_bytes(&batch[0].request.body)?;
    assert_eq!(body.0[0].message, first.to_bytes());
    hub(&mut net).outbound_done(batch[0].id, Some(503), NOW_MS);
    let mut resent = Vec::new();
    for _ in 0..100 {
        resent = to_f2(&hub(&mut net).take_outbound());
        if !resent.is_empty() {
            break;
        }
    }
    assert_eq!(resent.len(), 1);
    assert_eq!(
        resent[0].id, batch[0].id,
        "the second overtook the failed first"
    );
    hub(&mut net).outbound_done(resent[0].id, Some(201), NOW_MS);
    let next = to_f2(&hub(&mut net).take_outbound());
    assert_eq!(next.len(), 1);
    assert_eq!(
        NotifyBody::from_bytes(&next[0].request.body)?.0[0].message,
        second.to_bytes()
    );
    Ok(())
}

/// Client access (beyond the draft): a client's own KeyPackage replaces the provider's,
/// its inbox lists what its provider received, and only the provider's own certificate
/// may use either.
#[test]
fn client_access_key_packages_inbox_and_group_info() -> TestResult {
    use super::client_access::{Inbox, KIND_APPLICATION, KIND_WELCOME, PublishGroupInfo};
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let mut net = network(ServiceFaults::default());
    let carol = "carol@hub.example";
    let (kp, _) = key_package(carol, &mut rng)?;
    let published = MlsMessage::new(MlsMessageBody::KeyPackage(kp.clone())).to_bytes();
    let path = format!("/v1/clientKeyPackage/{carol}");
    let other = hub(&mut net).handle(&post(&path, Some(F1), published.clone(), None), NOW_MS);
    assert_eq!(other.status, 403);
    let answer = hub(&mut net).handle(&post(&path, Some(HUB), published.clone(), None), NOW_MS);
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let claim = hub(&mut net).handle(
        &post(
            &format!("/v1/keyMaterial/{carol}"),
            Some(F1),
            key_material_body(ALICE, carol),
            None,
        ),
        NOW_MS,
    );
    let response = KeyMaterialResponse::from_bytes(&claim.body)?;
    let [ClientKeyMaterial::Success { key_package, .. }] = response.clients.as_slice() else {
        return Err("expected carol's key package".into());
    };
    assert_eq!(
        *key_package,
        kp.to_bytes(),
        "not the KeyPackage the client published"
    );

    let (mut alice, mut bob) = room_of_two(&mut net, &mut rng)?;
    let hello = alice.protect(b"", b"hello", &mut rng)?;
    hub(&mut net).handle(
        &post(
            "/v1/submitMessage/r1",
            Some(F1),
            submit_body(&hello, ALICE),
            None,
        ),
        NOW_MS,
    );
    pump(&mut net);
    let f2 = net.get_mut(F2).ok_or("f2")?;
    let inbox_path = format!("/v1/clientInbox/{BOB}");
    let answer = f2.handle(&post(&inbox_path, Some(F2), 0u64.to_bytes(), None), NOW_MS);
    assert_eq!(answer.status, 200);
    let inbox = Inbox::from_bytes(&answer.body)?;
    let kinds: Vec<u8> = inbox.entries.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [KIND_WELCOME, KIND_APPLICATION]);
    assert_eq!(inbox.entries[1].message.0, hello.to_bytes());
    let again = f2.handle(
        &post(&inbox_path, Some(F2), inbox.next_cursor.to_bytes(), None),
        NOW_MS,
    );
    assert!(Inbox::from_bytes(&again.body)?.entries.is_empty());
    assert_eq!(
        f2.handle(&post(&inbox_path, Some(F1), 0u64.to_bytes(), None), NOW_MS)
            .status,
        403
    );

    // Bob publishes the GroupInfo of epoch 1; a stale epoch is 409.
    let (info, _) = bob.group_info(false)?;
    let body = |epoch| {
        PublishGroupInfo {
            sending_uri: BOB.into(),
            epoch,
            group_info: info.to_bytes(),
        }
        .to_bytes()
    };
    let answer = hub(&mut net).handle(
        &post("/v1/publishGroupInfo/r1", Some(F2), body(1), None),
        NOW_MS,
    );
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let answer = hub(&mut net).handle(
        &post("/v1/publishGroupInfo/r1", Some(F2), body(0), None),
        NOW_MS,
    );
    assert_eq!(answer.status, 409);
    let _ = &mut alice;
    let _ = &mut bob;
    Ok(())
}

/// A user's key packages are made at the first keyMaterial request for that user, not for
/// every user at the provider's first request (a hub of thousands of users answers at once),
/// and they do not depend on the order in which users are asked for.
#[test]
fn key_packages_are_made_per_user_and_do_not_depend_on_the_order_of_requests() -> TestResult {
    let users = ["carol", "dave"];
    let mut one = ProviderService::new(HUB, Role::Hub, &users, 7);
    let mut two = ProviderService::new(HUB, Role::Hub, &users, 7);
    let carol = "carol@hub.example";
    let dave = "dave@hub.example";
    let carol_first = claimed_key_package(&mut one, carol)?;
    assert_eq!(
        one.provider().key_package_count(dave),
        0,
        "dave's made too early"
    );
    assert_eq!(
        one.provider().key_package_count(carol),
        KEY_PACKAGES_PER_USER - 1
    );
    let dave_second = claimed_key_package(&mut one, dave)?;
    let dave_first = claimed_key_package(&mut two, dave)?;
    let carol_second = claimed_key_package(&mut two, carol)?;
    assert_eq!(carol_first, carol_second);
    assert_eq!(dave_first, dave_second);
    assert_ne!(carol_first, dave_first);
    Ok(())
}

#[path = "service_routing_tests.rs"]
mod routing;

#[path = "service_request_tests.rs"]
mod requests;
use requests::{claimed_key_package, key_material_body, key_material_request_for};

/// A keyMaterial request for a room the hub hosts, from a participant's provider, is passed
/// on to the target's provider; the answer comes back as it is and its KeyPackageRef is
/// recorded with that provider (MIMI-PROTOCOL-5.2-1, 4.3.1-2). A proxyDownload of a peer's
/// asset is a fetch from it; one of another host, an address or the hub itself is 403
/// (MIMI-PROTOCOL-5.10.2-1).
#[test]
fn the_hub_passes_key_material_on_and_proxies_peer_assets_only() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    let mut net = network(ServiceFaults::default());
    let _alice = create_room(&mut net, &mut rng)?;
    let body = key_material_request_for(ALICE, BOB, "r1", false);
    let path = format!("/v1/keyMaterial/{BOB}");
    let handled = hub(&mut net).handle_deferred(&post(&path, Some(F1), body.clone(), None), NOW_MS);
    let Handled::Fetch(fetch) = handled else {
        panic!("the hub answered instead of passing the request on: {handled:?}");
    };
    assert_eq!(fetch.to_domain, F2);
    assert_eq!(
        fetch.endpoint.as_ref().map(|e| e.name.as_str()),
        Some("keyMaterial")
    );
    assert_eq!(fetch.request.body, body);
    let answer = net
        .get_mut(F2)
        .expect("f2 is in the network")
        .handle(&fetch.request, NOW_MS);
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let passed = hub(&mut net).fetched(
        fetch.token,
        Some(Fetched {
            status: answer.status,
            content_type: answer.content_type.clone(),
            body: answer.body.clone(),
        }),
        NOW_MS,
    );
    assert_eq!((passed.status, &passed.body), (200, &answer.body));
    let response = KeyMaterialResponse::from_bytes(&passed.body)?;
    let Some(ClientKeyMaterial::Success { key_package, .. }) = response.clients.first() else {
        panic!("no KeyPackage in {response:?}");
    };
    let key_package = KeyPackage::from_bytes(key_package)?;
    let reference =
        crate::welcome::key_package_ref(&Suite::new(key_package.cipher_suite)?, &key_package);
    assert_eq!(
        hub(&mut net).key_package_route("r1", &reference.0.0),
        Some(F2)
    );
    // A second fetch token is unknown once answered.
    assert_eq!(hub(&mut net).fetched(fetch.token, None, NOW_MS).status, 500);

    let get = |url: &str| Request {
        method: "GET".into(),
        path: format!("/v1/proxyDownload/{}", percent_encode(url)),
        peer: Some(F2.into()),
        headers: Vec::new(),
        body: Vec::new(),
    };
    match hub(&mut net).handle_deferred(&get("https://f1.example/assets/a?v=1"), NOW_MS) {
        Handled::Fetch(fetch) => {
            assert_eq!(fetch.to_domain, F1);
            assert_eq!(fetch.request.path, "/assets/a?v=1");
        }
        other => panic!("a peer's asset was not fetched: {other:?}"),
    }
    for url in [
        "https://evil.example/a",
        "https://127.0.0.1/a",
        "https://f1.example:8443/a",
        "https://hub.example/a",
    ] {
        match hub(&mut net).handle_deferred(&get(url), NOW_MS) {
            Handled::Answer(answer) => assert_eq!(answer.status, 403, "{url}"),
            other => panic!("{url} was fetched: {other:?}"),
        }
    }
    Ok(())
}
