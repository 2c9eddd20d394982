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

use super::ptest::{Ctx, FOLLOWER_PATH_PREFIX, FOLLOWERS, Outcome};
use super::rooms::{CAROL, DAVE, QUIET_WAIT, Step, finish, post, room_of_two};

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
            "the hub's /notify requests of room {room} did not go to the URL the followers'              directories name ({FOLLOWER_PATH_PREFIX}/v1/notify/{{roomId}})              (MIMI-PROTOCOL-5.1-2): {}",
            elsewhere.join("; ")
        )));
    }
    if named == 0 {
        return Ok(Outcome::Fail(format!(
            "no /notify of room {room} reached Concord's followers"
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: {named} /notify request(s) came to the URL the followers' directories          name ({FOLLOWER_PATH_PREFIX}/v1/notify/{{roomId}})"
    )))
}
