//! How requests travel between providers.
//!
//! no-hub-relay: consent operations and identifier queries go straight between the two
//! users' providers, never through a hub (MIMI-PROTOCOL-8-1, 5.8-1). The hub under test is
//! asked, as if it were a relay, for operations whose target is a user (or the domain) of
//! Concord's follower f2; whatever it answers, nothing of them may reach f2.
//!
//! directory-endpoints: a provider finds its peers' endpoints in their directories
//! (MIMI-PROTOCOL-5.1-2). Concord's followers name theirs under
//! [`FOLLOWER_PATH_PREFIX`] (and serve the plain paths too, so other checks do not depend
//! on this one); the hub's /notify requests must come to the named URLs.
//!
//! key-material-via-hub: KeyPackages for use in a room are fetched through the room's hub
//! (MIMI-PROTOCOL-5.2-1), which passes the request on to the target's provider and records
//! where each KeyPackage came from, to route the Welcome there (4.3.1-2).
//!
//! ```text
//!  f1 ──keyMaterial/erin@f2 (room R, requester carol@f1)──> hub ──keyMaterial──> f2
//!     <── f2's KeyMaterialResponse, unchanged ──────────────    <── erin's KeyPackage
//!  carol ──Commit Add(that KeyPackage) + Welcome──> hub ──/notify Welcome for erin──> f2
//! ```
//!
//! ```text
//!  f1 ──requestConsent/dave@f2 (requester carol@f1)──> hub under test ─╳─> f2
//!  f1 ──updateConsent/dave@f2  (target carol@f1)────> hub under test ─╳─> f2
//!  f1 ──identifierQuery/f2.example (handle dave@f2)─> hub under test ─╳─> f2
//!  wait QUIET_WAIT; f2's log holds none of these paths
//!  room carol@f1 + dave@f2 ──> every /notify of it at f1, f2 came to <prefix>/v1/notify/...
//! ```

use concord_reference::codec::Codec;
use concord_reference::mimi::wire::{
    AppDataDictionary, ConsentEntry, ConsentOperation, IdentifierRequest, QueryElement,
    SEARCH_HANDLE,
};

use concord_reference::messages::{KeyPackage, MlsMessage, MlsMessageBody};
use concord_reference::mimi::ParticipantChange;
use concord_reference::mimi::wire::{
    ClientKeyMaterial, FanoutExtra, KeyMaterialResponse, KeyMaterialUserCode, UpdateCode,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::ptest::{Ctx, FOLLOWER_PATH_PREFIX, FOLLOWERS, Outcome};
use super::rooms::{
    CAROL, DAVE, ERIN, QUIET_WAIT, Step, create_room, finish, post, room_of_two, update,
    update_body, wait_for,
};
use super::users::key_material_body;

/// no-hub-relay: the hub passes no consent operation or identifier query on.
pub async fn check_no_hub_relay(ctx: &mut Ctx) -> Outcome {
    finish(no_hub_relay(ctx).await)
}

fn consent(operation: ConsentOperation, requester: &str, target: &str) -> Vec<u8> {
    ConsentEntry {
        operation,
        requester_uri: requester.into(),
        target_uri: target.into(),
        room_id: None,
        client_key_packages: Vec::new(),
        consent_extensions: AppDataDictionary::default(),
    }
    .to_bytes()
}

async fn no_hub_relay(ctx: &mut Ctx) -> Step<Outcome> {
    let f2 = FOLLOWERS[1];
    let query = IdentifierRequest {
        query_elements: vec![QueryElement {
            search_type: SEARCH_HANDLE,
            name: Vec::new(),
            search_value: DAVE.into(),
        }],
        id_request_extensions: AppDataDictionary::default(),
    }
    .to_bytes();
    let asks = [
        (
            format!("/v1/requestConsent/{DAVE}"),
            consent(ConsentOperation::Request, CAROL, DAVE),
        ),
        (
            format!("/v1/updateConsent/{DAVE}"),
            consent(ConsentOperation::Grant, DAVE, CAROL),
        ),
        (format!("/v1/identifierQuery/{f2}"), query),
    ];
    let before = ctx.follower_log(f2).len();
    let mut answers = Vec::new();
    for (path, body) in &asks {
        let answer = post(ctx, CAROL, path, body.clone()).await?;
        answers.push(format!("{path} {}", answer.status));
    }
    tokio::time::sleep(QUIET_WAIT).await;
    let passed_on: Vec<String> = ctx
        .follower_log(f2)
        .into_iter()
        .skip(before)
        .filter(|o| asks.iter().any(|(path, _)| *path == o.path))
        .map(|o| format!("{} from {}", o.path, o.peer.unwrap_or_default()))
        .collect();
    if !passed_on.is_empty() {
        return Ok(Outcome::Fail(format!(
            "the hub passed on to {f2} what must go straight to it, never through a hub \
             (MIMI-PROTOCOL-8-1, 5.8-1): {}",
            passed_on.join("; ")
        )));
    }
    Ok(Outcome::Pass(format!(
        "consent operations and an identifier query for {f2}'s user sent to the hub ({}) \
         did not reach {f2} within {} ms",
        answers.join(", "),
        QUIET_WAIT.as_millis()
    )))
}

/// directory-endpoints: the hub's /notify requests use the followers' directories.
pub async fn check_directory_endpoints(ctx: &mut Ctx) -> Outcome {
    finish(directory_endpoints(ctx).await)
}

async fn directory_endpoints(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, _carol, _dave) = room_of_two(ctx, "directory-endpoints").await?;
    let notify = format!("/v1/notify/{room}");
    let mut named = 0;
    let mut elsewhere = Vec::new();
    for follower in FOLLOWERS {
        for observed in ctx.follower_log(follower) {
            if observed.path != notify {
                continue;
            }
            if observed.requested_path == format!("{FOLLOWER_PATH_PREFIX}{notify}") {
                named += 1;
            } else {
                elsewhere.push(format!("{follower}: {}", observed.requested_path));
            }
        }
    }
    if !elsewhere.is_empty() {
        return Ok(Outcome::Fail(format!(
            "the hub's /notify requests of room {room} did not go to the URL the followers' \
             directories name ({FOLLOWER_PATH_PREFIX}/v1/notify/{{roomId}}) \
             (MIMI-PROTOCOL-5.1-2): {}",
            elsewhere.join("; ")
        )));
    }
    if named == 0 {
        return Ok(Outcome::Fail(format!(
            "no /notify of room {room} reached Concord's followers"
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: {named} /notify request(s) came to the URL the followers' directories \
         name ({FOLLOWER_PATH_PREFIX}/v1/notify/{{roomId}})"
    )))
}

/// key-material-via-hub: see the module docs.
pub async fn check_key_material_via_hub(ctx: &mut Ctx) -> Outcome {
    finish(key_material_via_hub(ctx).await)
}

async fn key_material_via_hub(ctx: &mut Ctx) -> Step<Outcome> {
    let f2 = FOLLOWERS[1];
    let (room, mut carol) = create_room(ctx, "key-material-via-hub").await?;
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.member_seed());
    let path = format!("/v1/keyMaterial/{ERIN}");
    let body = key_material_body(CAROL, ERIN, &room, &mut rng)?;
    let before = ctx.follower_log(f2).len();
    let answer = post(ctx, CAROL, &path, body).await?;
    let passed_on: Vec<_> = ctx
        .follower_log(f2)
        .into_iter()
        .skip(before)
        .filter(|o| o.path == path)
        .collect();
    let Some(asked) = passed_on.first() else {
        return Ok(Outcome::Fail(format!(
            "POST {path} for room {room} (hosted by the hub) was answered {} without asking \
             {f2}: KeyPackages for a room are fetched through its hub, which passes the \
             request on to the target's provider (MIMI-PROTOCOL-5.2-1)",
            answer.status
        )));
    };
    if asked.peer.as_deref() != Some(ctx.domain.as_str()) {
        return Ok(Outcome::Fail(format!(
            "{f2} was asked {path} by {:?}, not by the hub {}",
            asked.peer, ctx.domain
        )));
    }
    if answer.status != asked.status || answer.body != asked.answer {
        return Ok(Outcome::Fail(format!(
            "the hub answered POST {path} {} with {} bytes, not {f2}'s answer ({} with {} \
             bytes): the target provider's KeyMaterialResponse is returned as it is",
            answer.status,
            answer.body.len(),
            asked.status,
            asked.answer.len()
        )));
    }
    let response = KeyMaterialResponse::from_bytes(&answer.body).map_err(|e| {
        Outcome::Fail(format!(
            "POST {path} answered {} with no KeyMaterialResponse ({e})",
            answer.status
        ))
    })?;
    let key_package = match (&response.user_status, response.clients.first()) {
        (KeyMaterialUserCode::Success, Some(ClientKeyMaterial::Success { key_package, .. })) => {
            key_package.clone()
        }
        (code, _) => {
            return Ok(Outcome::Fail(format!(
                "{f2}'s answer to {path}, passed on by the hub, is {code:?} with no KeyPackage"
            )));
        }
    };
    // The draft's bare KeyPackage (or one already wrapped), as an MLSMessage to commit.
    let key_package = match MlsMessage::from_bytes(&key_package) {
        Ok(_) => key_package,
        Err(_) => KeyPackage::from_bytes(&key_package)
            .map(|kp| MlsMessage::new(MlsMessageBody::KeyPackage(kp)).to_bytes())
            .map_err(|e| {
                Outcome::Fail(format!(
                    "{f2}'s KeyPackage for {ERIN}, passed on by the hub, does not decode: {e}"
                ))
            })?,
    };
    // The Welcome for erin goes to the provider her KeyPackage came from.
    let (commit, welcome) = carol.commit(&[key_package]).map_err(|e| {
        Outcome::Fail(format!(
            "Concord's side failed: carol cannot add {ERIN}'s KeyPackage: {e}"
        ))
    })?;
    let body = update_body(
        commit,
        welcome,
        CAROL,
        vec![ParticipantChange::Add(ERIN.into())],
    );
    let (status, answer) = update(ctx, &room, CAROL, body).await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "a Commit adding {ERIN} with the KeyPackage fetched through the hub was answered \
             {status} {:?} ({}): expected success",
            answer.code, answer.error_description
        )));
    }
    wait_for(ctx, f2, &room, &format!("the Welcome for {ERIN}"), |m| {
        matches!(m.extra, FanoutExtra::Welcome) && m.recipients.iter().any(|r| r == ERIN)
    })
    .await?;
    Ok(Outcome::Pass(format!(
        "room {room}: the hub passed carol's keyMaterial request for {ERIN} on to {f2}, \
         returned its answer unchanged, and routed the Welcome to {f2}"
    )))
}
