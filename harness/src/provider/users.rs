//! The provider checks that act on users rather than in rooms: key material (keyMaterial),
//! consent (requestConsent), and a request speaking for another provider's user.

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::{Credential, RequiredCapabilities, SignaturePublicKey};
use concord_reference::mimi::wire::{
    ClientKeyMaterial, ConsentEntry, ConsentOperation, KeyMaterialRequest, KeyMaterialResponse,
    KeyMaterialUserCode, SubmitMessageRequest,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::mls::{self};
use super::ptest::{Ctx, FOLLOWERS, Outcome};

/// The room creator, a user of Concord's first follower.
use super::rooms::*;

/// The users of the provider under test key material is asked for.
pub(super) fn target_users(ctx: &Ctx) -> Vec<String> {
    ctx.users
        .iter()
        .map(|u| {
            if u.contains('@') {
                u.clone()
            } else {
                format!("{u}@{}", ctx.domain)
            }
        })
        .collect()
}

pub(super) fn key_material_body(
    requester: &str,
    target: &str,
    room: &str,
    rng: &mut ChaCha8Rng,
) -> Step<Vec<u8>> {
    key_material_body_for(requester, target, room, vec![CipherSuite(mls::SUITE)], rng)
}

/// A signed KeyMaterialRequest accepting `suites`.
pub(super) fn key_material_body_for(
    requester: &str,
    target: &str,
    room: &str,
    suites: Vec<CipherSuite>,
    rng: &mut ChaCha8Rng,
) -> Step<Vec<u8>> {
    let suite = Suite::new(CipherSuite(mls::SUITE)).map_err(|e| ours(e.to_string()))?;
    let signer = suite
        .signature_generate(rng)
        .map_err(|e| ours(e.to_string()))?;
    let mut request = KeyMaterialRequest {
        requesting_user: requester.into(),
        target_user: target.into(),
        room_id: room.into(),
        acceptable_ciphersuites: suites,
        required_capabilities: RequiredCapabilities::default(),
        requester_signature_key: SignaturePublicKey(Bytes(signer.public.clone())),
        requester_credential: Credential::basic(requester.as_bytes().to_vec()),
        signature: Bytes::default(),
    };
    let signature = suite
        .sign_with_label(
            &signer.private,
            b"KeyMaterialRequestTBS",
            &request.tbs_bytes(),
        )
        .map_err(|e| ours(e.to_string()))?;
    request.signature = Bytes(signature);
    Ok(request.to_bytes())
}

/// key-material: each KeyPackage handed out is valid, for the target user, unexpired, and
/// never handed out twice; an unknown user is userUnknown.
pub async fn check_key_material(ctx: &mut Ctx) -> Outcome {
    finish(key_material(ctx).await)
}

async fn key_material(ctx: &mut Ctx) -> Step<Outcome> {
    let room = ctx.room_name("key-material");
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.member_seed());
    let now_s = super::server::now_ms() / 1000;
    let mut seen: Vec<(String, Vec<u8>)> = Vec::new();
    let users = target_users(ctx);
    for target in &users {
        for attempt in 1..=2 {
            let path = format!("/v1/keyMaterial/{target}");
            let body = key_material_body(CAROL, target, &room, &mut rng)?;
            let answer = post(ctx, CAROL, &path, body).await?;
            let response = KeyMaterialResponse::from_bytes(&answer.body).map_err(|e| {
                Outcome::Fail(format!(
                    "POST {path} answered {} with no KeyMaterialResponse ({e}): {}",
                    answer.status,
                    text(&answer.body)
                ))
            })?;
            if response.user_status != KeyMaterialUserCode::Success {
                return Ok(Outcome::Fail(format!(
                    "request {attempt} for {target}'s key material got {} {:?}: expected success \
                     (is {target} a user of the provider? see --users)",
                    answer.status, response.user_status
                )));
            }
            if response.clients.is_empty() {
                return Ok(Outcome::Fail(format!(
                    "{target}: user code success with no client listed"
                )));
            }
            for client in &response.clients {
                let ClientKeyMaterial::Success {
                    client_uri,
                    key_package,
                } = client
                else {
                    return Ok(Outcome::Fail(format!(
                        "{target}: user code success, but client entry {client:?} is no success"
                    )));
                };
                let facts = mls::check_key_package(key_package, now_s).map_err(|e| {
                    Outcome::Fail(format!("{target}'s KeyPackage for {client_uri}: {e}"))
                })?;
                if domain_of(&facts.identity) != domain_of(target)
                    || !facts
                        .identity
                        .starts_with(target.split('@').next().unwrap_or(""))
                {
                    return Ok(Outcome::Fail(format!(
                        "asked for {target}, got a KeyPackage of {}",
                        facts.identity
                    )));
                }
                if let Some((first, _)) = seen.iter().find(|(_, key)| *key == facts.init_key) {
                    return Ok(Outcome::Fail(format!(
                        "the KeyPackage handed out for {target} (request {attempt}) was already \
                         handed out for {first}: key material used twice"
                    )));
                }
                seen.push((format!("{target} request {attempt}"), facts.init_key));
            }
        }
    }
    // A user the provider does not have.
    let nobody = format!("nobody-{}@{}", ctx.room_name("user"), ctx.domain);
    let path = format!("/v1/keyMaterial/{nobody}");
    let body = key_material_body(CAROL, &nobody, &room, &mut rng)?;
    let answer = post(ctx, CAROL, &path, body).await?;
    match KeyMaterialResponse::from_bytes(&answer.body) {
        Ok(r)
            if matches!(
                r.user_status,
                KeyMaterialUserCode::UserUnknown | KeyMaterialUserCode::NoConsent
            ) && r.clients.is_empty() => {}
        Ok(r) => {
            return Ok(Outcome::Fail(format!(
                "key material for the unknown user {nobody} was answered {} {:?} with {} \
                 client(s): expected userUnknown (or noConsent) and no clients",
                answer.status,
                r.user_status,
                r.clients.len()
            )));
        }
        Err(e) => {
            return Ok(Outcome::Fail(format!(
                "key material for the unknown user {nobody}: {} with no KeyMaterialResponse \
                 ({e})",
                answer.status
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "{} KeyPackages for {} valid, unexpired and all distinct; an unknown user is \
         userUnknown",
        seen.len(),
        users.join(", ")
    )))
}

pub(super) fn consent_body(
    operation: ConsentOperation,
    requester: &str,
    target: &str,
    room: &str,
) -> Vec<u8> {
    ConsentEntry {
        operation,
        requester_uri: requester.into(),
        target_uri: target.into(),
        room_id: Some(room.into()),
        client_key_packages: Vec::new(),
        consent_extensions: Default::default(),
    }
    .to_bytes()
}

/// consent: a consent request for a user of the provider is answered 201, a cancel of it
/// too, and one whose requester is not a user of the sending provider is refused.
pub async fn check_consent(ctx: &mut Ctx) -> Outcome {
    finish(consent(ctx).await)
}

async fn consent(ctx: &mut Ctx) -> Step<Outcome> {
    let room = ctx.room_name("consent");
    let Some(target) = target_users(ctx).into_iter().next() else {
        return Ok(Outcome::Skip("no --users to ask consent of".into()));
    };
    let path = format!("/v1/requestConsent/{target}");
    let ask = |op| consent_body(op, CAROL, &target, &room);
    let answer = post(ctx, CAROL, &path, ask(ConsentOperation::Request)).await?;
    if answer.status != 201 {
        return Ok(Outcome::Fail(format!(
            "requestConsent from {CAROL} for {target} answered {} (expected 201): {}",
            answer.status,
            text(&answer.body)
        )));
    }
    let answer = post(ctx, CAROL, &path, ask(ConsentOperation::Cancel)).await?;
    if answer.status != 201 {
        return Ok(Outcome::Fail(format!(
            "a cancel of that consent request answered {} (expected 201): {}",
            answer.status,
            text(&answer.body)
        )));
    }
    // f2's certificate, speaking for f1's user.
    let answer = ctx
        .call(
            Some(FOLLOWERS[1]),
            "POST",
            &path,
            ask(ConsentOperation::Request),
        )
        .await
        .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))?;
    if answer.status != 403 {
        return Ok(Outcome::Fail(format!(
            "requestConsent whose requester {CAROL} is not a user of the sending provider {} \
             answered {} (expected 403)",
            FOLLOWERS[1], answer.status
        )));
    }
    Ok(Outcome::Pass(format!(
        "requestConsent and its cancel for {target} answered 201; the same from another \
         provider than the requester's 403"
    )))
}

/// auth-wrong-provider: a request speaking for a user of another provider than the one the
/// client certificate proves is refused 403 (key material, createRoom, submitMessage).
pub async fn check_auth_wrong_provider(ctx: &mut Ctx) -> Outcome {
    finish(auth_wrong_provider(ctx).await)
}

async fn auth_wrong_provider(ctx: &mut Ctx) -> Step<Outcome> {
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.member_seed());
    let Some(target) = target_users(ctx).into_iter().next() else {
        return Ok(Outcome::Skip("no --users to ask key material of".into()));
    };
    let impostor = FOLLOWERS[1];
    let mut accepted = Vec::new();
    let path = format!("/v1/keyMaterial/{target}");
    // No room: a request for a room may come from the room's hub, passing it on (profile
    // choice 11), so only a direct request must come from the requester's provider.
    let body = key_material_body(CAROL, &target, "", &mut rng)?;
    let answer = ctx
        .call(Some(impostor), "POST", &path, body)
        .await
        .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))?;
    if answer.status != 403 {
        accepted.push(format!("keyMaterial answered {}", answer.status));
    }
    let mut refused = 1;
    if ctx.role == super::ptest::TestRole::Hub {
        let (room, mut carol) = match create_room(ctx, "auth-wrong-provider").await {
            Ok(r) => r,
            Err(Outcome::Skip(_)) => {
                return Ok(summary(accepted, refused));
            }
            Err(other) => return Err(other),
        };
        let message = carol.protect("from an impostor").map_err(ours)?;
        let path = format!("/v1/submitMessage/{room}");
        let body = SubmitMessageRequest {
            app_message: message,
            sending_uri: CAROL.into(),
        }
        .to_bytes();
        let answer = ctx
            .call(Some(impostor), "POST", &path, body)
            .await
            .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))?;
        if answer.status != 403 {
            accepted.push(format!("submitMessage answered {}", answer.status));
        }
        let (commit, _) = carol.commit(&[]).map_err(ours)?;
        let path = format!("/v1/update/{room}");
        let answer = ctx
            .call(
                Some(impostor),
                "POST",
                &path,
                update_body(commit, None, CAROL, vec![]),
            )
            .await
            .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))?;
        if answer.status != 403 {
            accepted.push(format!("update answered {}", answer.status));
        }
        refused += 2;
    }
    Ok(summary(accepted, refused))
}

fn summary(accepted: Vec<String>, tried: usize) -> Outcome {
    if accepted.is_empty() {
        Outcome::Pass(format!(
            "{tried} request(s) speaking for {CAROL} with {}'s certificate refused 403",
            FOLLOWERS[1]
        ))
    } else {
        Outcome::Fail(format!(
            "requests speaking for {CAROL} with {}'s certificate (expected 403): {}",
            FOLLOWERS[1],
            accepted.join("; ")
        ))
    }
}
