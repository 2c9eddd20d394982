//! The provider checks that act in rooms and on users: Concord's reference clients create a
//! room on the provider under test (a hub), add each other from Concord's two followers,
//! commit, send, and watch what the hub fans out to the followers.
//!
//! ```text
//!  carol@f1.example ──createRoom / update / submitMessage (f1's certificate)──> hub under test
//!  dave@f2.example  ──update / submitMessage (f2's certificate)───────────────> hub under test
//!  hub under test ──/notify──> f1.example, f2.example (Concord's followers: logged, can 503)
//!  each check reads the followers' logs: which FanoutMessages arrived, how often, when
//! ```
//!
//! Every check builds its own room (named after the check and the run), so checks do not
//! depend on each other and a second run against the same server starts fresh. The
//! createRoom endpoint is beyond the draft (profile `concord-mimi-06`): a hub that does
//! not offer it gets the room checks skipped, with that reason.

use std::time::{Duration, Instant};

use super::users::{consent_body, key_material_body, target_users};
use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::{Credential, HpkePublicKey, SignaturePublicKey};
use concord_reference::mimi::ParticipantChange;
use concord_reference::mimi::service::GROUP_INFO_LABEL;
use concord_reference::mimi::wire::{
    BundleExtra, ConsentOperation, CreateRoomCode, CreateRoomRequest, CreateRoomResponse,
    FanoutExtra, FanoutMessage, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoResponse,
    GroupInfoStatus, NotifyBody, SubmitMessageRequest, SubmitMessageResponse, UpdateCode,
    UpdateRequest, UpdateRoomResponse,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::https::HttpResponse;
use super::mls::{self, Member};
use super::ptest::{Ctx, FOLLOWERS, Outcome};

/// The room creator, a user of Concord's first follower.
pub const CAROL: &str = "carol@f1.example";
/// A user of Concord's second follower, added to rooms.
pub const DAVE: &str = "dave@f2.example";
/// A user of the second follower who is never put in a participant list.
pub const ERIN: &str = "erin@f2.example";

/// How long a check waits for the provider under test to fan a message out.
const FANOUT_WAIT: Duration = Duration::from_secs(10);
/// How long a check keeps watching for a message that must not arrive (a second copy, a
/// losing commit) after the expected traffic arrived.
pub(super) const QUIET_WAIT: Duration = Duration::from_millis(1500);
/// How often the followers' logs are read while waiting.
const POLL: Duration = Duration::from_millis(50);

pub(super) type Step<T> = Result<T, Outcome>;

/// The octets of the hex string a hub publishes in its directory under `key` for `suite`
/// (`frankingAgents`, `externalSenders`: a profile choice each), decoded by `parse`.
/// `Err(Skip)` naming `missing` when the directory has no such entry.
pub(super) async fn directory_entry<T, E: std::fmt::Display>(
    ctx: &mut Ctx,
    key: &str,
    suite: CipherSuite,
    missing: &str,
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Step<T> {
    let answer = ctx
        .call(None, "GET", super::server::DIRECTORY_PATH, Vec::new())
        .await
        .map_err(|e| Outcome::Down(format!("GET {}: {e}", super::server::DIRECTORY_PATH)))?;
    let value: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|e| Outcome::Fail(format!("the directory is not JSON: {e}")))?;
    let Some(hex_entry) = value
        .get(key)
        .and_then(|entries| entries.get(suite.0.to_string()))
        .and_then(|entry| entry.as_str())
    else {
        return Err(Outcome::Skip(format!(
            "the directory has no {key}.{}: {missing}",
            suite.0
        )));
    };
    let bytes = hex::decode(hex_entry)
        .map_err(|e| Outcome::Fail(format!("{key}.{}: not hex: {e}", suite.0)))?;
    parse(&bytes).map_err(|e| Outcome::Fail(format!("{key}.{}: {e}", suite.0)))
}

pub(super) fn domain_of(identity: &str) -> &str {
    identity.rsplit_once('@').map_or(identity, |(_, d)| d)
}

/// A failure of Concord's own reference client: not the provider's fault, but the check
/// cannot go on.
pub(super) fn ours(e: String) -> Outcome {
    Outcome::Fail(format!(
        "Concord's reference client failed (not a provider verdict): {e}"
    ))
}

pub(super) fn text(body: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(body).chars().take(200).collect();
    if shown.is_empty() {
        "no body".into()
    } else {
        format!("`{shown}`")
    }
}

/// POST `body` to `path` speaking for `as_user` (its provider's certificate).
pub(super) async fn post(
    ctx: &mut Ctx,
    as_user: &str,
    path: &str,
    body: Vec<u8>,
) -> Step<HttpResponse> {
    let domain = domain_of(as_user).to_string();
    ctx.call(Some(&domain), "POST", path, body)
        .await
        .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))
}

/// The same, with a chosen Idempotency-Key.
async fn post_keyed(
    ctx: &mut Ctx,
    as_user: &str,
    path: &str,
    body: Vec<u8>,
    key: &str,
) -> Step<HttpResponse> {
    let domain = domain_of(as_user).to_string();
    ctx.call_with_key(Some(&domain), path, body, key)
        .await
        .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))
}

/// The FanoutMessages of `room` one of Concord's followers accepted (answered 201), with
/// the index of the request in its log, in arrival order.
pub(super) fn fanouts(ctx: &Ctx, follower: &str, room: &str) -> Vec<(usize, FanoutMessage)> {
    let path = format!("/v1/notify/{room}");
    ctx.follower_log(follower)
        .into_iter()
        .enumerate()
        .filter(|(_, o)| o.path == path && o.status == 201)
        .filter_map(|(n, o)| NotifyBody::from_bytes(&o.body).ok().map(|b| (n, b.0)))
        .flat_map(|(n, messages)| messages.into_iter().map(move |m| (n, m)))
        .collect()
}

/// Waits until `follower` accepted a FanoutMessage of `room` matching `wanted`.
pub(super) async fn wait_for(
    ctx: &Ctx,
    follower: &str,
    room: &str,
    what: &str,
    wanted: impl Fn(&FanoutMessage) -> bool,
) -> Step<FanoutMessage> {
    let started = Instant::now();
    loop {
        if let Some((_, m)) = fanouts(ctx, follower, room)
            .into_iter()
            .find(|(_, m)| wanted(m))
        {
            return Ok(m);
        }
        if started.elapsed() > FANOUT_WAIT {
            return Err(Outcome::Fail(format!(
                "{follower} did not receive {what} within {} s of the hub's success answer",
                FANOUT_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Creates `room` with `creator` its only member and participant. `Err(Skip)` when the
/// hub offers no createRoom.
pub(super) async fn create_room(ctx: &mut Ctx, check: &str) -> Step<(String, Member)> {
    let room = ctx.room_name(check);
    let mut carol = Member::new(CAROL, ctx.member_seed());
    let group_info = carol.create_group(&room).map_err(ours)?;
    post_create_room(ctx, &room, group_info).await?;
    Ok((room, carol))
}

/// POST createRoom for `room` as its creator carol@f1, with her GroupInfo (the tree
/// inside). `Err(Skip)` when the hub offers no createRoom.
pub(super) async fn post_create_room(ctx: &mut Ctx, room: &str, group_info: Vec<u8>) -> Step<()> {
    let body = CreateRoomRequest {
        creator: CAROL.into(),
        group_info,
        open: false,
    }
    .to_bytes();
    let path = format!("/v1/createRoom/{room}");
    let answer = post(ctx, CAROL, &path, body).await?;
    match answer.status {
        201 | 200 => {}
        404 | 405 | 501 => {
            return Err(Outcome::Skip(format!(
                "POST {path} answered {}: the hub offers no createRoom (beyond the draft), \
                 and this check needs a room on it",
                answer.status
            )));
        }
        other => {
            return Err(Outcome::Fail(format!(
                "POST {path} ({CAROL} creates a room) answered {other} (expected 201): {}",
                text(&answer.body)
            )));
        }
    }
    match CreateRoomResponse::from_bytes(&answer.body) {
        Ok(r) if r.code == CreateRoomCode::Created => Ok(()),
        Ok(r) => Err(Outcome::Fail(format!(
            "POST {path} answered {:?} ({})",
            r.code, r.description
        ))),
        Err(e) => Err(Outcome::Fail(format!(
            "POST {path}: the CreateRoomResponse does not decode: {e}"
        ))),
    }
}

pub(super) fn update_body(
    commit: Vec<u8>,
    welcome: Option<Vec<u8>>,
    sender: &str,
    changes: Vec<ParticipantChange>,
) -> Vec<u8> {
    UpdateRequest {
        proposal_or_commit: commit,
        extra: BundleExtra::Commit {
            welcome,
            group_info: None,
        },
        sending_uri: sender.into(),
        participant_changes: changes,
    }
    .to_bytes()
}

/// The hub's answer to an update: HTTP status and the decoded response.
pub(super) async fn update(
    ctx: &mut Ctx,
    room: &str,
    sender: &str,
    body: Vec<u8>,
) -> Step<(u16, UpdateRoomResponse)> {
    let path = format!("/v1/update/{room}");
    let answer = post(ctx, sender, &path, body).await?;
    match UpdateRoomResponse::from_bytes(&answer.body) {
        Ok(r) => Ok((answer.status, r)),
        Err(e) => Err(Outcome::Fail(format!(
            "POST {path} from {sender} answered {} with a body that is no UpdateRoomResponse \
             ({e}): {}",
            answer.status,
            text(&answer.body)
        ))),
    }
}

/// The hub's answer to a submitMessage.
pub(super) async fn submit(
    ctx: &mut Ctx,
    room: &str,
    sender: &str,
    message: Vec<u8>,
    key: Option<&str>,
) -> Step<(u16, SubmitMessageResponse)> {
    let path = format!("/v1/submitMessage/{room}");
    let body = SubmitMessageRequest {
        app_message: message,
        sending_uri: sender.into(),
    }
    .to_bytes();
    let answer = match key {
        Some(key) => post_keyed(ctx, sender, &path, body, key).await?,
        None => post(ctx, sender, &path, body).await?,
    };
    match SubmitMessageResponse::from_bytes(&answer.body) {
        Ok(r) => Ok((answer.status, r)),
        Err(e) => Err(Outcome::Fail(format!(
            "POST {path} from {sender} answered {} with a body that is no SubmitMessageResponse \
             ({e}): {}",
            answer.status,
            text(&answer.body)
        ))),
    }
}

/// Adds `joiner` (a user of another follower) to the room: `committer` commits the Add with
/// the participant change, the hub must accept it and fan the Welcome out to the joiner's
/// provider, the joiner joins from it; `others` process the Commit.
pub(super) async fn add_member(
    ctx: &mut Ctx,
    room: &str,
    committer: &mut Member,
    joiner: &mut Member,
    others: &mut [&mut Member],
) -> Step<Vec<u8>> {
    let key_package = joiner.key_package().map_err(ours)?;
    let (commit, welcome) = committer.commit(&[key_package]).map_err(ours)?;
    let body = update_body(
        commit.clone(),
        welcome,
        &committer.identity,
        vec![ParticipantChange::Add(joiner.identity.clone())],
    );
    let (status, answer) = update(ctx, room, &committer.identity.clone(), body).await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Err(Outcome::Fail(format!(
            "a Commit adding {} with the participant change was answered {status} {:?} ({}): \
             expected success",
            joiner.identity, answer.code, answer.error_description
        )));
    }
    committer.commit_accepted().map_err(ours)?;
    let joiner_id = joiner.identity.clone();
    let welcome = wait_for(
        ctx,
        domain_of(&joiner_id),
        room,
        &format!("the Welcome for {joiner_id}"),
        |m| matches!(m.extra, FanoutExtra::Welcome) && m.recipients.contains(&joiner_id),
    )
    .await?;
    joiner.join(&welcome.message).map_err(|e| {
        Outcome::Fail(format!(
            "{joiner_id} cannot join from the Welcome the hub fanned out: {e}"
        ))
    })?;
    for other in others {
        other.handle_commit(&commit).map_err(ours)?;
    }
    Ok(commit)
}

/// A room with carol@f1 (creator) and dave@f2, both in epoch 1.
pub(super) async fn room_of_two(ctx: &mut Ctx, check: &str) -> Step<(String, Member, Member)> {
    room_of_two_with_commit(ctx, check)
        .await
        .map(|(room, carol, dave, _)| (room, carol, dave))
}

/// The same, with the Commit that added dave.
pub(super) async fn room_of_two_with_commit(
    ctx: &mut Ctx,
    check: &str,
) -> Step<(String, Member, Member, Vec<u8>)> {
    let (room, mut carol) = create_room(ctx, check).await?;
    let mut dave = Member::new(DAVE, ctx.member_seed());
    let commit = add_member(ctx, &room, &mut carol, &mut dave, &mut []).await?;
    Ok((room, carol, dave, commit))
}

pub(super) fn finish(step: Step<Outcome>) -> Outcome {
    match step {
        Ok(o) | Err(o) => o,
    }
}

/// room-fanout: create, add a member from another provider, send; the Welcome and the
/// application message reach the member's provider and open.
pub async fn check_room_fanout(ctx: &mut Ctx) -> Outcome {
    finish(room_fanout(ctx).await)
}

async fn room_fanout(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, mut dave) = room_of_two(ctx, "room-fanout").await?;
    let text_sent = format!("hello from {CAROL} in {room}");
    let message = carol.protect(&text_sent).map_err(ours)?;
    let (status, answer) = submit(ctx, &room, CAROL, message.clone(), None).await?;
    let SubmitMessageResponse::Accepted {
        accepted_timestamp, ..
    } = answer
    else {
        return Ok(Outcome::Fail(format!(
            "submitMessage of an application message of the current epoch by a participant \
             was answered {status} {answer:?}: expected accepted"
        )));
    };
    let fanned = wait_for(ctx, FOLLOWERS[1], &room, "the application message", |m| {
        m.message == message
    })
    .await?;
    if !fanned.recipients.iter().any(|r| r == DAVE) {
        return Ok(Outcome::Fail(format!(
            "the application message reached {} without {DAVE} among its recipients {:?}",
            FOLLOWERS[1], fanned.recipients
        )));
    }
    let opened = dave
        .unprotect(&fanned.message)
        .map_err(|e| Outcome::Fail(format!("{DAVE} cannot open the fanned-out message: {e}")))?;
    if opened != text_sent.as_bytes() {
        return Ok(Outcome::Fail(format!(
            "{DAVE} opened `{}`, not what {CAROL} sent",
            String::from_utf8_lossy(&opened)
        )));
    }
    if fanned.timestamp != accepted_timestamp {
        return Ok(Outcome::Fail(format!(
            "the FanoutMessage timestamp {} differs from the accepted timestamp {accepted_timestamp} \
             the submitter got",
            fanned.timestamp
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: {DAVE} joined from the fanned-out Welcome and opened {CAROL}'s message \
         (timestamp {accepted_timestamp} ms)"
    )))
}

/// commit-race: two members commit for the same epoch; the first wins, the second gets
/// wrongEpoch with the new epoch, and only the winner is fanned out.
pub async fn check_commit_race(ctx: &mut Ctx) -> Outcome {
    finish(commit_race(ctx).await)
}

async fn commit_race(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, mut dave) = room_of_two(ctx, "commit-race").await?;
    let (winner, _) = carol.commit(&[]).map_err(ours)?;
    let (loser, _) = dave.commit(&[]).map_err(ours)?;
    let (status, first) = update(
        ctx,
        &room,
        CAROL,
        update_body(winner.clone(), None, CAROL, vec![]),
    )
    .await?;
    if !matches!(first.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "the first Commit for epoch 1 was answered {status} {:?} ({}): expected success",
            first.code, first.error_description
        )));
    }
    let (status, second) = update(
        ctx,
        &room,
        DAVE,
        update_body(loser.clone(), None, DAVE, vec![]),
    )
    .await?;
    match second.code {
        UpdateCode::WrongEpoch { current_epoch: 2 } => {}
        other => {
            return Ok(Outcome::Fail(format!(
                "a second Commit for epoch 1, after the hub accepted one, was answered {status} \
                 {other:?} ({}): expected wrongEpoch with current epoch 2",
                second.error_description
            )));
        }
    }
    carol.commit_accepted().map_err(ours)?;
    dave.commit_refused();
    // The winner reaches both followers; the loser must reach neither.
    for follower in FOLLOWERS {
        wait_for(ctx, follower, &room, "the winning Commit", |m| {
            m.message == winner
        })
        .await?;
    }
    tokio::time::sleep(QUIET_WAIT).await;
    for follower in FOLLOWERS {
        if fanouts(ctx, follower, &room)
            .iter()
            .any(|(_, m)| m.message == loser)
        {
            return Ok(Outcome::Fail(format!(
                "the losing Commit (answered wrongEpoch) was fanned out to {follower}: two \
                 Commits for epoch 1 were distributed"
            )));
        }
    }
    dave.handle_commit(&winner)
        .map_err(|e| Outcome::Fail(format!("{DAVE} cannot process the winning Commit: {e}")))?;
    Ok(Outcome::Pass(format!(
        "room {room}: the first Commit for epoch 1 won, the second got wrongEpoch (current \
         epoch 2) and was not fanned out"
    )))
}

/// ghost-member: a Commit adding a client of a user absent from the participant list is
/// refused with notAllowed.
pub async fn check_ghost_member(ctx: &mut Ctx) -> Outcome {
    finish(ghost_member(ctx).await)
}

async fn ghost_member(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol) = create_room(ctx, "ghost-member").await?;
    let mut erin = Member::new(ERIN, ctx.member_seed());
    let key_package = erin.key_package().map_err(ours)?;
    let (commit, welcome) = carol.commit(&[key_package]).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        CAROL,
        update_body(commit.clone(), welcome, CAROL, vec![]),
    )
    .await?;
    if answer.code != UpdateCode::NotAllowed {
        return Ok(Outcome::Fail(format!(
            "a Commit adding {ERIN}'s client without adding {ERIN} to the participant list was \
             answered {status} {:?}: expected notAllowed (a ghost member)",
            answer.code
        )));
    }
    tokio::time::sleep(QUIET_WAIT).await;
    if fanouts(ctx, FOLLOWERS[1], &room)
        .iter()
        .any(|(_, m)| m.message == commit || matches!(m.extra, FanoutExtra::Welcome))
    {
        return Ok(Outcome::Fail(format!(
            "the refused ghost-member Commit or its Welcome still reached {}",
            FOLLOWERS[1]
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the Commit adding a non-participant's client was answered {status} \
         notAllowed and not fanned out"
    )))
}

/// stale-application: an application message of an older epoch is answered epochTooOld and
/// not distributed.
pub async fn check_stale_application(ctx: &mut Ctx) -> Outcome {
    finish(stale_application(ctx).await)
}

async fn stale_application(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, mut dave) = room_of_two(ctx, "stale-application").await?;
    let stale = carol.protect("sent in epoch 1").map_err(ours)?;
    let (commit, _) = carol.commit(&[]).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        CAROL,
        update_body(commit.clone(), None, CAROL, vec![]),
    )
    .await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "a path-only Commit for the current epoch was answered {status} {:?} ({})",
            answer.code, answer.error_description
        )));
    }
    carol.commit_accepted().map_err(ours)?;
    dave.handle_commit(&commit).map_err(ours)?;
    let (status, answer) = submit(ctx, &room, CAROL, stale.clone(), None).await?;
    if answer != (SubmitMessageResponse::EpochTooOld { current_epoch: 2 }) {
        return Ok(Outcome::Fail(format!(
            "an application message of epoch 1 sent after the room reached epoch 2 was answered \
             {status} {answer:?}: expected epochTooOld with current epoch 2"
        )));
    }
    tokio::time::sleep(QUIET_WAIT).await;
    if fanouts(ctx, FOLLOWERS[1], &room)
        .iter()
        .any(|(_, m)| m.message == stale)
    {
        return Ok(Outcome::Fail(format!(
            "the stale application message was answered epochTooOld but still reached {}",
            FOLLOWERS[1]
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the epoch-1 message was answered {status} epochTooOld (current epoch 2) \
         and not fanned out"
    )))
}

/// retransmission: a byte-identical submitMessage with the same Idempotency-Key gets the
/// same success and is distributed once.
pub async fn check_retransmission(ctx: &mut Ctx) -> Outcome {
    finish(retransmission(ctx).await)
}

async fn retransmission(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, _dave) = room_of_two(ctx, "retransmission").await?;
    let message = carol.protect("sent twice").map_err(ours)?;
    let key = ctx.fresh_key();
    let (status1, first) = submit(ctx, &room, CAROL, message.clone(), Some(&key)).await?;
    let (status2, second) = submit(ctx, &room, CAROL, message.clone(), Some(&key)).await?;
    let SubmitMessageResponse::Accepted {
        accepted_timestamp, ..
    } = first
    else {
        return Ok(Outcome::Fail(format!(
            "the first submitMessage was answered {status1} {first:?}: expected accepted"
        )));
    };
    if !matches!(second, SubmitMessageResponse::Accepted { accepted_timestamp: t, .. } if t == accepted_timestamp)
    {
        return Ok(Outcome::Fail(format!(
            "the retransmitted submitMessage (same body, same Idempotency-Key) was answered \
             {status2} {second:?}: expected accepted with the first answer's timestamp \
             {accepted_timestamp}"
        )));
    }
    wait_for(ctx, FOLLOWERS[1], &room, "the application message", |m| {
        m.message == message
    })
    .await?;
    tokio::time::sleep(QUIET_WAIT).await;
    let copies = fanouts(ctx, FOLLOWERS[1], &room)
        .iter()
        .filter(|(_, m)| m.message == message)
        .count();
    if copies != 1 {
        return Ok(Outcome::Fail(format!(
            "the message submitted twice with one Idempotency-Key reached {} {copies} times: \
             expected once",
            FOLLOWERS[1]
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the retransmission got the same answer (timestamp {accepted_timestamp}) \
         and the message was fanned out once"
    )))
}

/// fanout-retry: a follower answers the first /notify 503; the hub sends the byte-identical
/// body again and the message arrives.
pub async fn check_fanout_retry(ctx: &mut Ctx) -> Outcome {
    finish(fanout_retry(ctx).await)
}

async fn fanout_retry(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, mut dave) = room_of_two(ctx, "fanout-retry").await?;
    let follower = FOLLOWERS[1];
    let path = format!("/v1/notify/{room}");
    let before = ctx.follower_log(follower).len();
    ctx.fail_next_notifies(follower, 1);
    let message = carol.protect("survives a 503").map_err(ours)?;
    let (status, answer) = submit(ctx, &room, CAROL, message.clone(), None).await?;
    if !matches!(answer, SubmitMessageResponse::Accepted { .. }) {
        ctx.fail_next_notifies(follower, 0);
        return Ok(Outcome::Fail(format!(
            "submitMessage was answered {status} {answer:?}: expected accepted"
        )));
    }
    let started = Instant::now();
    let fanned = wait_for(
        ctx,
        follower,
        &room,
        "the message again after answering 503",
        |m| m.message == message,
    )
    .await;
    ctx.fail_next_notifies(follower, 0);
    let fanned = match fanned {
        Ok(m) => m,
        Err(Outcome::Fail(why)) => {
            let refused = ctx.follower_log(follower)[before..]
                .iter()
                .filter(|o| o.path == path && o.status == 503)
                .count();
            return Ok(Outcome::Fail(format!(
                "{why}; the hub's /notify was answered 503 {refused} time(s) and never resent \
                 successfully (a success answer commits the hub to eventual delivery)"
            )));
        }
        Err(other) => return Err(other),
    };
    let log = ctx.follower_log(follower);
    let notifies: Vec<_> = log[before..].iter().filter(|o| o.path == path).collect();
    let Some(refused) = notifies.iter().find(|o| o.status == 503) else {
        return Ok(Outcome::Skip(
            "the 503 was not injected into a notify of this room (the follower saw none before \
             the message arrived)"
                .into(),
        ));
    };
    let Some(accepted) = notifies
        .iter()
        .find(|o| o.status == 201 && o.at_ms >= refused.at_ms)
    else {
        return Ok(Outcome::Fail(
            "no /notify answered 201 after the 503".into(),
        ));
    };
    if accepted.body != refused.body {
        return Ok(Outcome::Fail(
            "the /notify resent after the 503 is not byte-identical to the refused one".into(),
        ));
    }
    dave.unprotect(&fanned.message)
        .map_err(|e| Outcome::Fail(format!("{DAVE} cannot open the resent message: {e}")))?;
    Ok(Outcome::Pass(format!(
        "room {room}: the /notify answered 503 was resent byte-identical {} ms later and \
         delivered ({} ms after the hub's success answer)",
        accepted.at_ms.saturating_sub(refused.at_ms),
        started.elapsed().as_millis()
    )))
}

/// group-info: a participant gets the room's GroupInfo, signed by the hub and encrypted to
/// the key it sent; a non-participant gets notAuthorized; a bad request signature is refused.
pub async fn check_group_info(ctx: &mut Ctx) -> Outcome {
    finish(group_info(ctx).await)
}

/// A signed GroupInfoRequest and the private key its answer is encrypted to.
pub(super) struct GroupInfoAsk {
    pub(super) body: Vec<u8>,
    pub(super) hpke_private: Vec<u8>,
}

/// A GroupInfoRequest of `identity` (its signature broken when `corrupt_signature`).
pub(super) fn group_info_request(
    identity: &str,
    rng: &mut ChaCha8Rng,
    corrupt_signature: bool,
) -> Result<GroupInfoAsk, String> {
    let suite = Suite::new(CipherSuite(mls::SUITE)).map_err(|e| e.to_string())?;
    let signer = suite.signature_generate(rng).map_err(|e| e.to_string())?;
    let hpke = suite
        .hpke_generate_key_pair(rng)
        .map_err(|e| e.to_string())?;
    let mut request = GroupInfoRequest {
        cipher_suite: CipherSuite(mls::SUITE),
        requesting_signature_key: SignaturePublicKey(Bytes(signer.public.clone())),
        requesting_credential: Credential::basic(identity.as_bytes().to_vec()),
        group_info_public_key: HpkePublicKey(Bytes(hpke.public.clone())),
        joining_code: Bytes::default(),
        signature: Bytes::default(),
    };
    let mut signature = suite
        .sign_with_label(
            &signer.private,
            b"GroupInfoRequestTBS",
            &request.tbs_bytes(),
        )
        .map_err(|e| e.to_string())?;
    if corrupt_signature && let Some(first) = signature.first_mut() {
        *first ^= 1;
    }
    request.signature = Bytes(signature);
    Ok(GroupInfoAsk {
        body: request.to_bytes(),
        hpke_private: hpke.private,
    })
}

async fn group_info(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, _carol) = create_room(ctx, "group-info").await?;
    let path = format!("/v1/groupInfo/{room}");
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.member_seed());
    let ask = group_info_request(CAROL, &mut rng, false).map_err(ours)?;
    let answer = post(ctx, CAROL, &path, ask.body).await?;
    let response = GroupInfoResponse::from_bytes(&answer.body).map_err(|e| {
        Outcome::Fail(format!(
            "POST {path} by the creator answered {} with no GroupInfoResponse ({e}): {}",
            answer.status,
            text(&answer.body)
        ))
    })?;
    let GroupInfoStatus::Success(success) = &response.status else {
        return Ok(Outcome::Fail(format!(
            "the room's creator asked for its GroupInfo and got {} {:?}: expected success",
            answer.status, response.status
        )));
    };
    let suite = Suite::new(success.cipher_suite)
        .map_err(|e| Outcome::Fail(format!("GroupInfoResponse.cipher_suite: {e}")))?;
    if suite
        .verify_with_label(
            success.hub_sender.signature_key.0.as_slice(),
            b"GroupInfoResponseTBS",
            &GroupInfoResponse::tbs_bytes(room.as_bytes(), success),
            success.signature.as_slice(),
        )
        .is_err()
    {
        return Ok(Outcome::Fail(
            "the GroupInfoResponse signature does not verify with its hub_sender key".into(),
        ));
    }
    let plain = suite
        .decrypt_with_label(
            &ask.hpke_private,
            GROUP_INFO_LABEL,
            room.as_bytes(),
            success.encrypted_groupinfo_and_tree.kem_output.as_slice(),
            success.encrypted_groupinfo_and_tree.ciphertext.as_slice(),
        )
        .map_err(|e| {
            Outcome::Fail(format!(
                "the encrypted GroupInfo does not open with the key of the request: {e}"
            ))
        })?;
    let tbe = GroupInfoRatchetTreeTbe::from_bytes(&plain).map_err(|e| {
        Outcome::Fail(format!(
            "the decrypted GroupInfoRatchetTreeTBE does not decode: {e}"
        ))
    })?;
    let epoch = mls::check_group_info(&tbe.group_info, &[])
        .map_err(|e| Outcome::Fail(format!("the GroupInfo the hub returned: {e}")))?;
    // A requester outside the participant list of a closed room.
    let ask = group_info_request(ERIN, &mut rng, false).map_err(ours)?;
    let answer = post(ctx, ERIN, &path, ask.body).await?;
    match GroupInfoResponse::from_bytes(&answer.body) {
        Ok(r) if r.status == GroupInfoStatus::NotAuthorized => {}
        Ok(r) => {
            return Ok(Outcome::Fail(format!(
                "{ERIN}, not a participant of the closed room, asked for its GroupInfo and got {} \
                 {:?}: expected notAuthorized",
                answer.status, r.status
            )));
        }
        Err(_) if (400..500).contains(&answer.status) => {}
        Err(e) => {
            return Ok(Outcome::Fail(format!(
                "a non-participant's GroupInfo request was answered {} without a \
                 GroupInfoResponse ({e})",
                answer.status
            )));
        }
    }
    // The creator again, with a signature that does not verify.
    let ask = group_info_request(CAROL, &mut rng, true).map_err(ours)?;
    let answer = post(ctx, CAROL, &path, ask.body).await?;
    if let Ok(r) = GroupInfoResponse::from_bytes(&answer.body)
        && matches!(r.status, GroupInfoStatus::Success(_))
    {
        return Ok(Outcome::Fail(
            "a GroupInfoRequest whose signature does not verify got the GroupInfo".into(),
        ));
    }
    if !(400..500).contains(&answer.status) {
        return Ok(Outcome::Fail(format!(
            "a GroupInfoRequest whose signature does not verify was answered {} (expected 4xx)",
            answer.status
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the epoch-{epoch} GroupInfo came signed by the hub and encrypted to the \
         requester; a non-participant got notAuthorized, a forged request {}",
        answer.status
    )))
}

/// Messages sent through the impaired link in fanout-impaired.
const IMPAIRED_MESSAGES: usize = 20;
/// How long fanout-impaired waits for all of them (retries back off).
const IMPAIRED_WAIT: Duration = Duration::from_secs(60);

/// fanout-impaired: the hub's /notify traffic to one follower passes a seeded impairing
/// proxy (requests and answers dropped, duplicates, delays, reordering); every accepted
/// message must still arrive, the first copies in acceptance order, and open in order.
pub async fn check_fanout_impaired(ctx: &mut Ctx) -> Outcome {
    let (room, carol, dave) = match room_of_two(ctx, "fanout-impaired").await {
        Ok(r) => r,
        Err(o) => return o,
    };
    let follower = FOLLOWERS[1];
    let Some(real) = ctx.follower_url(follower) else {
        return Outcome::Skip(format!("{follower} is not running"));
    };
    let peers_path = ctx.tls_dir.join(super::resolve::PEERS_FILE);
    let peers: std::collections::BTreeMap<String, String> =
        match super::resolve::read_peers(&peers_path) {
            Ok(p) => p.into_iter().map(|(d, u)| (d, u.to_url())).collect(),
            Err(e) => return Outcome::Fail(format!("peers.toml: {e}")),
        };
    let target = match super::https::BaseUrl::parse(&real) {
        Ok(t) => t,
        Err(e) => return Outcome::Fail(e),
    };
    let impairment = super::proxy::Impairment {
        drop_request: 150,
        drop_answer: 150,
        duplicate: 200,
        reorder: 200,
        reorder_ms: 120,
        delay_min_ms: 0,
        delay_max_ms: 30,
    };
    let proxy = match super::proxy::Proxy::start(
        &ctx.tls_dir,
        follower,
        target,
        ctx.seed ^ 0x1a5e,
        impairment,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(format!("the impairing proxy does not start: {e}")),
    };
    let mut impaired = peers.clone();
    impaired.insert(follower.to_string(), proxy.url());
    if let Err(e) = super::resolve::write_peers(&ctx.tls_dir, &impaired) {
        proxy.shutdown().await;
        return Outcome::Fail(format!("peers.toml: {e}"));
    }
    let outcome = fanout_impaired(ctx, &room, carol, dave).await;
    let restored = super::resolve::write_peers(&ctx.tls_dir, &peers);
    let log = proxy.log();
    proxy.shutdown().await;
    if let Err(e) = restored {
        return Outcome::Fail(format!("peers.toml could not be restored: {e}"));
    }
    let count = |action: &str| log.iter().filter(|d| d.action == action).count();
    let impairments = format!(
        "proxy: {} requests, {} dropped, {} answers dropped, {} duplicated, {} delayed",
        log.len(),
        count("drop request"),
        count("drop answer"),
        count("duplicate"),
        count("delayed"),
    );
    match finish(outcome) {
        Outcome::Pass(detail) => Outcome::Pass(format!("{detail}; {impairments}")),
        Outcome::Fail(detail) => Outcome::Fail(format!("{detail}; {impairments}")),
        other => other,
    }
}

async fn fanout_impaired(
    ctx: &mut Ctx,
    room: &str,
    mut carol: Member,
    mut dave: Member,
) -> Step<Outcome> {
    let follower = FOLLOWERS[1];
    let mut sent = Vec::new();
    for n in 0..IMPAIRED_MESSAGES {
        let message = carol.protect(&format!("impaired {n}")).map_err(ours)?;
        let (status, answer) = submit(ctx, room, CAROL, message.clone(), None).await?;
        if !matches!(answer, SubmitMessageResponse::Accepted { .. }) {
            return Ok(Outcome::Fail(format!(
                "message {n} was answered {status} {answer:?}: expected accepted"
            )));
        }
        sent.push(message);
    }
    let started = Instant::now();
    let first_arrivals = loop {
        let arrived = fanouts(ctx, follower, room);
        let mut first: Vec<Vec<u8>> = Vec::new();
        for (_, m) in &arrived {
            if sent.contains(&m.message) && !first.contains(&m.message) {
                first.push(m.message.clone());
            }
        }
        if first.len() == sent.len() {
            break first;
        }
        if started.elapsed() > IMPAIRED_WAIT {
            return Ok(Outcome::Fail(format!(
                "{} of {IMPAIRED_MESSAGES} accepted messages reached {follower} within {} s",
                first.len(),
                IMPAIRED_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    };
    if first_arrivals != sent {
        let order: Vec<usize> = first_arrivals
            .iter()
            .filter_map(|m| sent.iter().position(|s| s == m))
            .collect();
        return Ok(Outcome::Fail(format!(
            "the messages first reached {follower} in the order {order:?}, not in acceptance order"
        )));
    }
    for (n, message) in first_arrivals.iter().enumerate() {
        let opened = dave
            .unprotect(message)
            .map_err(|e| Outcome::Fail(format!("{DAVE} cannot open message {n}: {e}")))?;
        if opened != format!("impaired {n}").as_bytes() {
            return Ok(Outcome::Fail(format!(
                "message {n} opened to something else"
            )));
        }
    }
    let copies = fanouts(ctx, follower, room)
        .iter()
        .filter(|(_, m)| sent.contains(&m.message))
        .count();
    Ok(Outcome::Pass(format!(
        "room {room}: all {IMPAIRED_MESSAGES} messages reached {follower} in acceptance order \
         within {:.1} s and opened ({} copies accepted, the extra ones retransmissions)",
        started.elapsed().as_secs_f64(),
        copies
    )))
}

/// notify-delivery (the provider under test is a follower, Concord plays the hub): a
/// /notify for a local user is answered 201, a byte-identical duplicate 201 too, and the
/// same room's /notify from another provider than its hub 403.
pub async fn check_notify_delivery(ctx: &mut Ctx) -> Outcome {
    finish(notify_delivery(ctx).await)
}

async fn notify_delivery(ctx: &mut Ctx) -> Step<Outcome> {
    let room = ctx.room_name("notify-delivery");
    let Some(recipient) = target_users(ctx).into_iter().next() else {
        return Ok(Outcome::Skip("no --users to deliver to".into()));
    };
    let mut carol = Member::new(CAROL, ctx.member_seed());
    carol.create_group(&room).map_err(ours)?;
    let message = carol.protect("fanned out by the hub").map_err(ours)?;
    let body = NotifyBody(vec![FanoutMessage {
        timestamp: super::server::now_ms(),
        message,
        extra: FanoutExtra::Application { frank: None },
        sequence: 0,
        epoch: 0,
        recipients: vec![recipient.clone()],
    }])
    .to_bytes();
    let path = format!("/v1/notify/{room}");
    let hub = super::ptest::HUB_DOMAIN;
    let key = ctx.fresh_key();
    let mut statuses = Vec::new();
    for (as_domain, what) in [(hub, "from the room's hub"), (hub, "again (a duplicate)")] {
        let answer = ctx
            .call_with_key(Some(as_domain), &path, body.clone(), &key)
            .await
            .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))?;
        if answer.status != 201 {
            return Ok(Outcome::Fail(format!(
                "a /notify {what} for {recipient} answered {} (expected 201): {}",
                answer.status,
                text(&answer.body)
            )));
        }
        statuses.push(answer.status);
    }
    let impostor = FOLLOWERS[0];
    let answer = ctx
        .call(Some(impostor), "POST", &path, body)
        .await
        .map_err(|e| Outcome::Down(format!("POST {path}: {e}")))?;
    if answer.status != 403 {
        return Ok(Outcome::Fail(format!(
            "a /notify for room {room}, hosted by {hub}, sent with {impostor}'s certificate \
             answered {} (expected 403)",
            answer.status
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the /notify for {recipient} and its duplicate answered 201, the same \
         from {impostor} 403"
    )))
}

/// Bodies of valid requests made by the room checks, for the fuzzer to mutate.
pub fn seed_bodies(rng_seed: u64) -> Vec<(&'static str, Vec<u8>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
    let mut out = Vec::new();
    if let Ok(body) = key_material_body(CAROL, "alice@hub.example", "r", &mut rng) {
        out.push(("keyMaterial", body));
    }
    if let Ok(ask) = group_info_request(CAROL, &mut rng, false) {
        out.push(("groupInfo", ask.body));
    }
    out.push((
        "requestConsent",
        consent_body(ConsentOperation::Request, CAROL, "alice@hub.example", "r"),
    ));
    let mut carol = Member::new(CAROL, rng_seed);
    if let Ok(info) = carol.create_group("r") {
        out.push((
            "createRoom",
            CreateRoomRequest {
                creator: CAROL.into(),
                group_info: info,
                open: false,
            }
            .to_bytes(),
        ));
    }
    let mut dave = Member::new(DAVE, rng_seed + 1);
    if let Ok(kp) = dave.key_package()
        && let Ok((commit, welcome)) = carol.commit(&[kp])
    {
        out.push((
            "update",
            update_body(
                commit,
                welcome,
                CAROL,
                vec![ParticipantChange::Add(DAVE.into())],
            ),
        ));
    }
    if let Ok(message) = carol.protect("fuzz") {
        out.push((
            "submitMessage",
            SubmitMessageRequest {
                app_message: message,
                sending_uri: CAROL.into(),
            }
            .to_bytes(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::ptest::{self, CheckVerdict, TestRole};
    use super::super::{certs, https::BaseUrl, reference};
    use super::*;

    /// Runs `only` (every hub check when `None`) against a reference hub started with
    /// `faults`, with Concord's followers, as `concord provider-test` does.
    async fn run_against(dir: &Path, faults: &[&str], only: Option<&[&str]>) -> Vec<CheckVerdict> {
        let names: Vec<String> = faults.iter().map(|f| f.to_string()).collect();
        let faults = reference::faults_from_names(&names).unwrap();
        let users = vec!["alice".to_string(), "bob".to_string()];
        let hub = reference::serve_on_loopback(
            dir,
            "hub.example",
            concord_reference::mimi::service::Role::Hub,
            &users,
            3,
            faults,
        )
        .await
        .unwrap();
        let mut ctx = ptest::context(
            BaseUrl::parse(&hub.url()).unwrap(),
            TestRole::Hub,
            "hub.example".into(),
            dir,
            &dir.join("out"),
            5,
            30,
            Duration::from_secs(5),
        )
        .unwrap();
        let only: Option<Vec<String>> = only.map(|o| o.iter().map(|n| n.to_string()).collect());
        let selected = ptest::select(TestRole::Hub, only.as_deref()).unwrap();
        let verdicts = ptest::run_with_followers(&mut ctx, &selected, reference::follower, false)
            .await
            .unwrap();
        hub.shutdown().await;
        verdicts
    }

    /// The reference hub passes every hub check, and each test-only fault of
    /// `concord serve-provider --fault` is caught by the check named for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_reference_hub_passes_and_each_fault_is_caught_by_its_check() {
        let dir = std::env::temp_dir().join(format!("concord-rooms-{}", std::process::id()));
        certs::generate(
            &dir,
            &[
                "hub.example".into(),
                "f1.example".into(),
                "f2.example".into(),
            ],
        )
        .unwrap();
        let honest = run_against(&dir, &[], None).await;
        assert_eq!(
            honest.len(),
            ptest::select(TestRole::Hub, None).unwrap().len()
        );
        for v in &honest {
            assert!(
                matches!(v.outcome, Outcome::Pass(_)),
                "{}: {:?}",
                v.name,
                v.outcome
            );
        }
        let expected = [
            ("accept-ghost-member", "ghost-member"),
            ("accept-two-commits-per-epoch", "commit-race"),
            ("reuse-key-material", "key-material"),
            ("no-fanout-retry", "fanout-retry"),
            ("accept-stale-application", "stale-application"),
            ("skip-authentication", "auth-wrong-provider"),
            ("panic-on-malformed", "malformed-bodies"),
            ("no-franking", "franking"),
            ("accept-unverified-reports", "franking"),
            ("frank-other-suite", "franking"),
            ("mismatched-hub-sender", "group-info-verification"),
            ("relay-through-hub", "no-hub-relay"),
            ("hard-coded-endpoints", "directory-endpoints"),
            ("allow-hub-sender-removal", "hub-external-sender"),
            ("open-proxy", "proxy-download"),
            ("no-key-material-relay", "key-material-via-hub"),
            ("keep-departed-follower-senders", "follower-external-sender"),
        ];
        assert_eq!(expected.len(), reference::FAULT_NAMES.len());
        for (fault, check) in expected {
            let verdicts = run_against(&dir, &[fault], Some(&[check])).await;
            assert!(
                matches!(verdicts[0].outcome, Outcome::Fail(_) | Outcome::Down(_)),
                "--fault {fault} not caught by {check}: {:?}",
                verdicts[0].outcome
            );
        }
        // An open proxy is an open OHTTP Gateway too: the gateway's targets are judged as
        // proxyDownload's.
        let verdicts = run_against(&dir, &["open-proxy"], Some(&["ohttp-gateway"])).await;
        assert!(
            matches!(verdicts[0].outcome, Outcome::Fail(_)),
            "--fault open-proxy not caught by ohttp-gateway: {:?}",
            verdicts[0].outcome
        );
        // A hub that lets members outside the participant list stay also lets a participant
        // be removed without their client.
        let verdicts = run_against(
            &dir,
            &["accept-ghost-member"],
            Some(&["participant-removal"]),
        )
        .await;
        assert!(
            matches!(verdicts[0].outcome, Outcome::Fail(_)),
            "--fault accept-ghost-member not caught by participant-removal: {:?}",
            verdicts[0].outcome
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
