//! How the provider reaches its peers: nothing passed on through a hub, and every request
//! to a peer addressed by the peer's directory entry.

use super::*;

/// MIMI-PROTOCOL-8-1, 5.8-1: the hub refuses consent operations and identifier queries
/// for another provider and passes nothing on (unless the `relay_through_hub` fault is on);
/// MIMI-PROTOCOL-5.1-2: each request to a peer names the directory entry it goes to (none
/// with the `hard_coded_endpoints` fault).
#[test]
fn a_hub_relays_nothing_and_names_the_directory_entry_of_each_outbound() -> TestResult {
    let query = IdentifierRequest {
        query_elements: vec![QueryElement {
            search_type: SEARCH_HANDLE,
            name: Vec::new(),
            search_value: BOB.into(),
        }],
        id_request_extensions: AppDataDictionary::default(),
    }
    .to_bytes();
    let asks = [
        (
            format!("/v1/requestConsent/{BOB}"),
            consent(ConsentOperation::Request, ALICE, BOB),
        ),
        (
            format!("/v1/updateConsent/{BOB}"),
            consent(ConsentOperation::Grant, BOB, ALICE),
        ),
        (format!("/v1/identifierQuery/{F2}"), query),
    ];
    for relay in [false, true] {
        let mut net = network(ServiceFaults {
            relay_through_hub: relay,
            ..ServiceFaults::default()
        });
        for (path, body) in &asks {
            let answer = hub(&mut net).handle(&post(path, Some(F1), body.clone(), None), NOW_MS);
            assert_eq!(answer.status, if relay { 201 } else { 404 }, "{path}");
        }
        let passed_on: Vec<String> = hub(&mut net)
            .take_outbound()
            .into_iter()
            .map(|o| format!("{} {}", o.to_domain, o.request.path))
            .collect();
        if relay {
            assert_eq!(passed_on.len(), asks.len());
            assert!(passed_on.iter().all(|p| p.starts_with(F2)), "{passed_on:?}");
        } else {
            assert!(passed_on.is_empty(), "{passed_on:?}");
        }
    }
    for hard_coded in [false, true] {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let mut net = network(ServiceFaults {
            hard_coded_endpoints: hard_coded,
            ..ServiceFaults::default()
        });
        let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
        let hello = alice.protect(b"", b"hello", &mut rng)?;
        let body = submit_body(&hello, ALICE);
        let answer =
            hub(&mut net).handle(&post("/v1/submitMessage/r1", Some(F1), body, None), NOW_MS);
        assert_eq!(answer.status, 200);
        let batch = hub(&mut net).take_outbound();
        assert!(!batch.is_empty());
        for outbound in batch {
            let expected = (!hard_coded).then(|| Endpoint {
                name: "notify".into(),
                argument: "r1".into(),
            });
            assert_eq!(outbound.endpoint, expected);
        }
    }
    assert_eq!(Endpoint::of_path("/v1/notify"), None);
    assert_eq!(Endpoint::of_path("/v2/notify/r1"), None);
    assert_eq!(Endpoint::of_path("/v1/notify/r1/x"), None);
    Ok(())
}

/// MIMI-PROTOCOL-7.4-3 (profile choice 23): the hub names its ExternalSender in its
/// directory; a room whose external_senders lacks it is refused, and so is a Commit whose
/// GroupContextExtensions drop it (unless the `allow_hub_sender_removal` fault is on).
#[test]
fn external_senders_keep_the_hubs_entry() -> TestResult {
    for allowed in [false, true] {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let mut net = network(ServiceFaults {
            allow_hub_sender_removal: allowed,
            ..ServiceFaults::default()
        });
        let directory: serde_json::Value =
            serde_json::from_slice(&hub(&mut net).directory("https://hub.example"))?;
        let hex = directory[EXTERNAL_SENDERS]["1"]
            .as_str()
            .ok_or("no externalSenders.1 in the directory")?;
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<Result<_, _>>()?;
        let hub_sender = ExternalSender::from_bytes(&bytes)?;
        let stranger = ExternalSender {
            signature_key: hub_sender.signature_key.clone(),
            credential: Credential::basic(b"stranger.example".to_vec()),
        };
        let senders = |list: Vec<ExternalSender>| Extension::from_content(&ExternalSenders(list));
        let created = |room: &str, list: Vec<ExternalSender>, rng: &mut ChaCha20Rng| {
            Group::create(
                CipherSuite(1),
                room.as_bytes().to_vec(),
                ALICE.as_bytes(),
                None,
                vec![senders(list)],
                GroupConfig::default(),
                NOW_S,
                rng,
            )
        };
        let create_body = |group: &Group| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
            Ok(CreateRoomRequest {
                creator: ALICE.into(),
                group_info: group.group_info(false)?.0.to_bytes(),
                open: false,
            }
            .to_bytes())
        };
        let other = created("r2", vec![stranger], &mut rng)?;
        let answer = hub(&mut net).handle(
            &post("/v1/createRoom/r2", Some(F1), create_body(&other)?, None),
            NOW_MS,
        );
        assert_eq!(answer.status, if allowed { 201 } else { 403 });
        let mut alice = created("r1", vec![hub_sender.clone()], &mut rng)?;
        let answer = hub(&mut net).handle(
            &post("/v1/createRoom/r1", Some(F1), create_body(&alice)?, None),
            NOW_MS,
        );
        assert_eq!(answer.status, 201);
        let options = CommitOptions {
            by_value: vec![Proposal::GroupContextExtensions(
                crate::messages::GroupContextExtensions {
                    extensions: Vec::new(),
                },
            )],
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
        assert_eq!(answer.status, if allowed { 200 } else { 403 });
    }
    Ok(())
}
