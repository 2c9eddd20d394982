//! Requests on their own: key material, authentication, routing of unknown paths and
//! methods, and malformed bodies.

use super::*;

/// A KeyMaterialRequest signed with a fresh key; `forged` spoils the signature.
fn key_material_request(requester: &str, target: &str, forged: bool) -> Vec<u8> {
    key_material_request_for(requester, target, "r1", forged)
}

pub(super) fn key_material_request_for(
    requester: &str,
    target: &str,
    room: &str,
    forged: bool,
) -> Vec<u8> {
    let mut rng = ChaCha20Rng::seed_from_u64(requester.len() as u64);
    let suite = Suite::new(CipherSuite(1)).expect("suite 1");
    let signer = suite.signature_generate(&mut rng).expect("a key pair");
    let mut request = KeyMaterialRequest {
        requesting_user: requester.into(),
        target_user: target.into(),
        room_id: room.into(),
        acceptable_ciphersuites: vec![CipherSuite(1)],
        required_capabilities: RequiredCapabilities::default(),
        requester_signature_key: SignaturePublicKey(Bytes(signer.public.clone())),
        requester_credential: Credential::basic(requester.as_bytes().to_vec()),
        signature: Bytes::default(),
    };
    let mut signature = suite
        .sign_with_label(
            &signer.private,
            b"KeyMaterialRequestTBS",
            &request.tbs_bytes(),
        )
        .expect("a signature");
    if forged {
        signature[0] ^= 1;
    }
    request.signature = Bytes(signature);
    request.to_bytes()
}

pub(super) fn key_material_body(requester: &str, target: &str) -> Vec<u8> {
    key_material_request(requester, target, false)
}

/// The KeyPackage `service` hands alice (of f1.example) for `target`, checking the answer
/// is a success with one client.
pub(super) fn claimed_key_package(
    service: &mut ProviderService,
    target: &str,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let path = format!("/v1/keyMaterial/{target}");
    let answer = service.handle(
        &post(&path, Some(F1), key_material_body(ALICE, target), None),
        NOW_MS,
    );
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let response = KeyMaterialResponse::from_bytes(&answer.body)?;
    assert_eq!(response.user_status, KeyMaterialUserCode::Success);
    let [ClientKeyMaterial::Success { key_package, .. }] = response.clients.as_slice() else {
        return Err("expected one client with key material".into());
    };
    Ok(key_package.clone())
}

/// Cites MIMI-PROTOCOL-5.2-4: a request whose signature does not verify gets no
/// KeyPackage (403), and none is used up by it.
#[test]
fn key_material_with_a_bad_signature_is_refused() -> TestResult {
    let mut net = network(ServiceFaults::default());
    let path = "/v1/keyMaterial/carol@hub.example";
    let forged = key_material_request(ALICE, "carol@hub.example", true);
    let answer = hub(&mut net).handle(&post(path, Some(F1), forged, None), NOW_MS);
    assert_eq!(answer.status, 403);
    assert!(KeyMaterialResponse::from_bytes(&answer.body).is_err());
    assert_eq!(
        hub(&mut net)
            .provider()
            .key_package_count("carol@hub.example"),
        KEY_PACKAGES_PER_USER
    );
    let answer = hub(&mut net).handle(
        &post(
            path,
            Some(F1),
            key_material_body(ALICE, "carol@hub.example"),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 200);
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.2-12.
#[test]
fn key_material_is_handed_out_once_then_exhausted_and_unknown_users_are_404() -> TestResult {
    let mut net = network(ServiceFaults::default());
    let path = "/v1/keyMaterial/carol@hub.example";
    let mut seen = Vec::new();
    for _ in 0..KEY_PACKAGES_PER_USER {
        let key_package = &claimed_key_package(hub(&mut net), "carol@hub.example")?;
        let parsed = KeyPackage::from_bytes(key_package)?;
        assert_eq!(
            parsed.leaf_node.credential,
            Credential::basic(b"carol@hub.example".to_vec())
        );
        assert!(
            !seen.contains(key_package),
            "a key package handed out twice"
        );
        seen.push(key_package.clone());
    }
    let answer = hub(&mut net).handle(
        &post(
            path,
            Some(F1),
            key_material_body(ALICE, "carol@hub.example"),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 409);
    let response = KeyMaterialResponse::from_bytes(&answer.body)?;
    assert!(matches!(
        response.clients.as_slice(),
        [ClientKeyMaterial::Exhausted { .. }]
    ));
    let answer = hub(&mut net).handle(
        &post(
            "/v1/keyMaterial/nobody@hub.example",
            Some(F1),
            key_material_body(ALICE, "nobody@hub.example"),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 404);
    assert_eq!(
        KeyMaterialResponse::from_bytes(&answer.body)?.user_status,
        KeyMaterialUserCode::UserUnknown
    );

    // The reuse fault hands out the same key package again.
    let mut net = network(ServiceFaults {
        reuse_key_material: true,
        ..ServiceFaults::default()
    });
    let claim = |net: &mut BTreeMap<String, ProviderService>| {
        hub(net)
            .handle(
                &post(
                    path,
                    Some(F1),
                    key_material_body(ALICE, "carol@hub.example"),
                    None,
                ),
                NOW_MS,
            )
            .body
    };
    assert_eq!(claim(&mut net), claim(&mut net));
    Ok(())
}

#[test]
fn authentication_no_certificate_is_401_another_providers_user_is_403() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut net = network(ServiceFaults::default());
    let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
    let hello = alice.protect(b"", b"hello", &mut rng)?;
    let body = submit_body(&hello, ALICE);
    let answer = hub(&mut net).handle(
        &post("/v1/submitMessage/r1", None, body.clone(), None),
        NOW_MS,
    );
    assert_eq!(answer.status, 401);
    let answer = hub(&mut net).handle(
        &post("/v1/submitMessage/r1", Some(F2), body.clone(), None),
        NOW_MS,
    );
    assert_eq!(answer.status, 403);
    // A keyMaterial request naming no room comes from the requester's provider only; one
    // naming a room may come from any provider, the room's hub passing it on (5.2-20).
    let answer = hub(&mut net).handle(
        &post(
            "/v1/keyMaterial/carol@hub.example",
            Some(F2),
            key_material_request_for(ALICE, "carol@hub.example", "", false),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 403);
    let answer = hub(&mut net).handle(
        &post(
            "/v1/keyMaterial/carol@hub.example",
            Some(F2),
            key_material_body(ALICE, "carol@hub.example"),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 200);
    // Nothing was accepted, so nothing goes out.
    assert!(hub(&mut net).take_outbound().is_empty());
    // With skip-authentication, f2 may speak for alice.
    let mut net = network(ServiceFaults {
        skip_authentication: true,
        ..ServiceFaults::default()
    });
    let (mut alice, _bob) = room_of_two(&mut net, &mut rng)?;
    let hello = alice.protect(b"", b"hello", &mut rng)?;
    let answer = hub(&mut net).handle(
        &post(
            "/v1/submitMessage/r1",
            Some(F2),
            submit_body(&hello, ALICE),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 200);
    Ok(())
}

#[test]
fn routing_unknown_paths_rooms_and_methods() {
    let mut net = network(ServiceFaults::default());
    let service = hub(&mut net);
    let get = |path: &str| Request {
        method: "GET".into(),
        path: path.into(),
        peer: Some(F1.into()),
        ..Request::default()
    };
    assert_eq!(service.handle(&get("/v1/nothing/x"), NOW_MS).status, 404);
    assert_eq!(service.handle(&get("/v1/update/r1"), NOW_MS).status, 405);
    let directory = service.handle(&get("/.well-known/mimi-protocol-directory"), NOW_MS);
    assert_eq!(directory.status, 200);
    let text = String::from_utf8_lossy(&directory.body).to_string();
    for endpoint in ENDPOINTS {
        assert!(
            text.contains(&format!("\"{endpoint}\": \"https://")),
            "{endpoint}"
        );
    }
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let alice = group(ALICE, &mut rng).expect("group");
    let hello = {
        let mut alice = alice;
        alice.protect(b"", b"x", &mut rng).expect("protect")
    };
    let answer = service.handle(
        &post(
            "/v1/submitMessage/nope",
            Some(F1),
            submit_body(&hello, ALICE),
            None,
        ),
        NOW_MS,
    );
    assert_eq!(answer.status, 404);
}

/// A path and a valid body for it.
type SeedBody = (&'static str, Vec<u8>);

/// Valid bodies for each endpoint, from a real room.
fn seed_bodies(rng: &mut ChaCha20Rng) -> Result<Vec<SeedBody>, Box<dyn std::error::Error>> {
    let mut net = network(ServiceFaults::default());
    let (mut alice, _bob) = room_of_two(&mut net, rng)?;
    let hello = alice.protect(b"", b"hello", rng)?;
    let commit = alice.commit(
        &CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        },
        rng,
    )?;
    let (info, _) = alice.group_info(false)?;
    hub(&mut net).handle(
        &post(
            "/v1/submitMessage/r1",
            Some(F1),
            submit_body(&hello, ALICE),
            None,
        ),
        NOW_MS,
    );
    let notify = hub(&mut net)
        .take_outbound()
        .into_iter()
        .next()
        .ok_or("no fanout")?
        .request
        .body;
    Ok(vec![
        ("/v1/update/r1", update_body(&commit, ALICE, vec![])),
        ("/v1/submitMessage/r1", submit_body(&hello, ALICE)),
        (
            "/v1/keyMaterial/carol@hub.example",
            key_material_body(ALICE, "carol@hub.example"),
        ),
        ("/v1/notify/r1", notify),
        (
            "/v1/createRoom/r2",
            CreateRoomRequest {
                creator: ALICE.into(),
                group_info: info.to_bytes(),
                open: true,
            }
            .to_bytes(),
        ),
    ])
}

/// Whether `body` decodes as the request struct of `path`'s endpoint.
fn decodes(path: &str, body: &[u8]) -> bool {
    let endpoint = path.split('/').nth(2).unwrap_or_default();
    match endpoint {
        "update" => UpdateRequest::from_bytes(body).is_ok(),
        "submitMessage" => SubmitMessageRequest::from_bytes(body).is_ok(),
        "keyMaterial" => KeyMaterialRequest::from_bytes(body).is_ok(),
        "notify" => NotifyBody::from_bytes(body).is_ok(),
        "createRoom" => CreateRoomRequest::from_bytes(body).is_ok(),
        "groupInfo" => GroupInfoRequest::from_bytes(body).is_ok(),
        "requestConsent" | "updateConsent" => ConsentEntry::from_bytes(body).is_ok(),
        "identifierQuery" => IdentifierRequest::from_bytes(body).is_ok(),
        "reportAbuse" => AbuseReport::from_bytes(body).is_ok(),
        _ => false,
    }
}

#[test]
fn two_hundred_malformed_bodies_are_each_answered_4xx() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let seeds = seed_bodies(&mut rng)?;
    let mut net = network(ServiceFaults::default());
    let _ = room_of_two(&mut net, &mut rng)?;
    let endpoints = [
        "/v1/update/r1",
        "/v1/submitMessage/r1",
        "/v1/keyMaterial/carol@hub.example",
        "/v1/notify/r1",
        "/v1/createRoom/r2",
        "/v1/groupInfo/r1",
        "/v1/requestConsent/carol@hub.example",
        "/v1/updateConsent/carol@hub.example",
        "/v1/identifierQuery/hub.example",
        "/v1/reportAbuse/r1",
    ];
    let mut malformed = 0;
    let mut n = 0u32;
    while malformed < 200 {
        n += 1;
        let (path, body) = if n.is_multiple_of(2) {
            let (path, seed) = &seeds[(n as usize / 2) % seeds.len()];
            let mut body = seed.clone();
            match rng.next_u32() % 3 {
                0 => body.truncate(rng.next_u32() as usize % body.len()),
                1 => body.push(rng.next_u32() as u8),
                _ => {
                    // A change in the first bytes (protocol, lengths, wire format).
                    let at = rng.next_u32() as usize % body.len().min(8);
                    body[at] ^= 1 << (rng.next_u32() % 8);
                }
            }
            (*path, body)
        } else {
            let mut body = vec![0u8; rng.next_u32() as usize % 300];
            rng.fill_bytes(&mut body);
            (endpoints[n as usize % endpoints.len()], body)
        };
        if decodes(path, &body) {
            // A mutation that left a well-formed body is not a malformed one.
            continue;
        }
        malformed += 1;
        let answer = hub(&mut net).handle(&post(path, Some(F1), body.clone(), None), NOW_MS);
        assert!(
            (400..500).contains(&answer.status),
            "body #{n} to {path} ({} bytes) answered {}",
            body.len(),
            answer.status
        );
        if answer.status == 400 {
            assert!(
                !answer.body.is_empty() && answer.content_type.starts_with("text/plain"),
                "a 400 names its reason"
            );
        }
    }
    Ok(())
}

#[test]
fn the_panic_fault_panics_on_an_undecodable_body() {
    let mut net = network(ServiceFaults {
        panic_on_malformed: true,
        ..ServiceFaults::default()
    });
    let service = hub(&mut net);
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        service.handle(
            &post("/v1/update/r1", Some(F1), vec![0xff; 5], None),
            NOW_MS,
        )
    }));
    assert!(crashed.is_err());
}
