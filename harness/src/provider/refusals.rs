//! The hub checks that send what a hub must refuse: application messages that are not
//! PrivateMessages of the current epoch from an active participant, a participant removed
//! without their clients, and handshake messages of a removed participant's client.
//!
//! ```text
//!  room of two: carol@f1 (creator), dave@f2
//!  submit-refusals:      carol/erin ──submitMessage (wrong wire format, non-participant,
//!                        future epoch)──> hub: notAllowed or 4xx, nothing fanned out; then a
//!                        good one
//!  participant-removal:  carol ──update (participant Remove without the MLS Remove)──> notAllowed
//!                        carol ──update (both in one Commit)──> success
//!                        dave  ──update (his Commit, his proposal, at the new epoch)──> refused
//!                        every Commit fanned out is one a client sent
//!  abuse-report:         carol ──reportAbuse──> hub: 201, no body
//! ```
//!
//! A refused message must not reach any follower: each check watches Concord's followers
//! for [`QUIET_WAIT`] after the last refusal, then sends an acceptable message as the control
//! (so a hub that refuses everything fails too).

use concord_reference::codec::{Bytes, Codec};
use concord_reference::messages::{ContentBody, MlsMessage, MlsMessageBody};
use concord_reference::mimi::ParticipantChange;
use concord_reference::mimi::wire::{
    AbuseReport, FanoutExtra, SubmitMessageRequest, SubmitMessageResponse, UpdateCode,
};

use super::ptest::{Ctx, FOLLOWERS, Outcome};
use super::rooms::{
    CAROL, DAVE, ERIN, QUIET_WAIT, Step, create_room, fanouts, finish, ours, post, room_of_two,
    room_of_two_with_commit, submit, update, update_body, wait_for,
};

/// `message` (an MLSMessage) with its epoch moved to `epoch` and, for a PublicMessage,
/// its content replaced by `application` when given. Signatures and tags no longer match:
/// a hub that verifies them refuses the message for that reason too, which is still a
/// refusal.
fn rewritten(message: &[u8], epoch: u64, application: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut decoded =
        MlsMessage::from_bytes(message).map_err(|e| format!("our own message: {e}"))?;
    match &mut decoded.body {
        MlsMessageBody::PublicMessage(public) => {
            public.content.epoch = epoch;
            if let Some(data) = application {
                public.content.body = ContentBody::Application {
                    application_data: Bytes::from(data.to_vec()),
                };
                public.membership_tag = None;
            }
        }
        MlsMessageBody::PrivateMessage(private) => private.epoch = epoch,
        _ => return Err("our own message is neither a PublicMessage nor a PrivateMessage".into()),
    }
    Ok(decoded.to_bytes())
}

/// `message` (an MLSMessage) moved to the MLS group `group_id`.
fn in_group(message: &[u8], group_id: &[u8]) -> Result<Vec<u8>, String> {
    let mut decoded =
        MlsMessage::from_bytes(message).map_err(|e| format!("our own message: {e}"))?;
    match &mut decoded.body {
        MlsMessageBody::PublicMessage(public) => {
            public.content.group_id = Bytes::from(group_id.to_vec())
        }
        MlsMessageBody::PrivateMessage(private) => {
            private.group_id = Bytes::from(group_id.to_vec())
        }
        _ => return Err("our own message is neither a PublicMessage nor a PrivateMessage".into()),
    }
    Ok(decoded.to_bytes())
}

/// Which of `bodies` reached `follower` in `room`, by label.
fn leaked<'a>(
    ctx: &Ctx,
    follower: &str,
    room: &str,
    bodies: &'a [(&'a str, Vec<u8>)],
) -> Vec<&'a str> {
    let seen = fanouts(ctx, follower, room);
    bodies
        .iter()
        .filter(|(_, body)| seen.iter().any(|(_, m)| &m.message == body))
        .map(|(label, _)| *label)
        .collect()
}

/// submit-refusals: a hub accepts in submitMessage only PrivateMessages carrying
/// application data, of its current epoch, from an active participant of the room.
pub async fn check_submit_refusals(ctx: &mut Ctx) -> Outcome {
    finish(submit_refusals(ctx).await)
}

async fn submit_refusals(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, mut dave) = room_of_two(ctx, "submit-refusals").await?;
    // Carol's application messages first: her client makes nothing once a Commit is pending.
    // MIMI-PROTOCOL-5.4-5: an epoch newer than the hub's is notAllowed.
    let sealed = carol.protect("from the future").map_err(ours)?;
    let future = rewritten(&sealed, 2, None).map_err(ours)?;
    // MIMI-PROTOCOL-5.4-2: the sender is an active participant (Erin never was one).
    let stranger = carol.protect("sent on Erin's behalf").map_err(ours)?;
    // MIMI-PROTOCOL-4.2-1: the room has one MLS group; a message of another is refused.
    let other_group = carol.protect("meant for another group").map_err(ours)?;
    let other_group = in_group(&other_group, b"another group").map_err(ours)?;
    // The control, submitted after the refusals.
    let good = carol.protect("a proper message").map_err(ours)?;
    // MIMI-PROTOCOL-5.4-1: the body is a PrivateMessage whose content_type is application.
    let (commit, _) = carol.commit(&[]).map_err(ours)?;
    let foreign_commit = in_group(&commit, b"another group").map_err(ours)?;
    // MIMI-PROTOCOL-4.2-2: application data in a PublicMessage is no room message either.
    let public_application = rewritten(&commit, 1, Some(b"in the clear")).map_err(ours)?;
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "a Commit (PublicMessage) as an application message",
            CAROL,
            commit,
        ),
        (
            "application data in a PublicMessage",
            CAROL,
            public_application,
        ),
        (
            "a PrivateMessage of epoch 2 while the room is at epoch 1",
            CAROL,
            future,
        ),
        (
            "a PrivateMessage sent by a user outside the participant list",
            ERIN,
            stranger,
        ),
        ("a PrivateMessage of another MLS group", CAROL, other_group),
    ];
    let mut answers = Vec::new();
    for (what, sender, body) in &cases {
        // Refused: notAllowed, or a 4xx without a response (a body the hub will not decode
        // as a SubmitMessageRequest, profile choice MIMI-PROTOCOL-5.3-15).
        let path = format!("/v1/submitMessage/{room}");
        let request = SubmitMessageRequest {
            app_message: body.clone(),
            sending_uri: sender.to_string(),
        }
        .to_bytes();
        let answer = post(ctx, sender, &path, request).await?;
        match SubmitMessageResponse::from_bytes(&answer.body) {
            Ok(SubmitMessageResponse::NotAllowed) => {}
            Err(_) if (400..500).contains(&answer.status) => {}
            decoded => {
                return Ok(Outcome::Fail(format!(
                    "{what} from {sender} was answered {} {decoded:?}: expected notAllowed \
                     (or a 4xx refusal of the request)",
                    answer.status
                )));
            }
        }
        answers.push(answer.status);
    }
    // MIMI-PROTOCOL-4.2-1: a Commit of another MLS group is refused by the update endpoint.
    let (status, answer) = update(
        ctx,
        &room,
        CAROL,
        update_body(foreign_commit.clone(), None, CAROL, vec![]),
    )
    .await?;
    if matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "a Commit of another MLS group than the room's was answered {status} success"
        )));
    }
    tokio::time::sleep(QUIET_WAIT).await;
    let mut bodies: Vec<(&str, Vec<u8>)> = cases.iter().map(|(w, _, b)| (*w, b.clone())).collect();
    bodies.push(("a Commit of another MLS group", foreign_commit));
    let leaks = leaked(ctx, FOLLOWERS[1], &room, &bodies);
    if !leaks.is_empty() {
        return Ok(Outcome::Fail(format!(
            "refused with notAllowed, yet fanned out to {}: {}",
            FOLLOWERS[1],
            leaks.join("; ")
        )));
    }
    // The control: a PrivateMessage of the current epoch from Carol is accepted and opens.
    let (status, answer) = submit(ctx, &room, CAROL, good.clone(), None).await?;
    if !matches!(answer, SubmitMessageResponse::Accepted { .. }) {
        return Ok(Outcome::Fail(format!(
            "after the refusals, a proper application message of epoch 1 was answered {status} \
             {answer:?}: expected accepted"
        )));
    }
    let delivered = wait_for(ctx, FOLLOWERS[1], &room, "the proper message", |m| {
        m.message == good
    })
    .await?;
    dave.unprotect(&delivered.message).map_err(ours)?;
    // MIMI-PROTOCOL-5.4.1.4-1: the fanout of an application message does not name its sender
    // in the clear (the follower would learn it).
    let sender = CAROL.as_bytes();
    let naming = ctx
        .follower_log(FOLLOWERS[1])
        .into_iter()
        .filter(|o| o.body.windows(good.len()).any(|w| w == good.as_slice()))
        .any(|o| o.body.windows(sender.len()).any(|w| w == sender));
    if naming {
        return Ok(Outcome::Fail(format!(
            "the /notify carrying {CAROL}'s application message to {} names {CAROL} in the clear",
            FOLLOWERS[1]
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: {} refused (HTTP {answers:?}) and none fanned out; the control \
         message was accepted and delivered without its sender in the clear",
        cases.len()
    )))
}

/// participant-removal: a participant leaves the list only with their clients, in one
/// Commit; afterwards the hub refuses handshake messages of that user's clients.
pub async fn check_participant_removal(ctx: &mut Ctx) -> Outcome {
    finish(participant_removal(ctx).await)
}

async fn participant_removal(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, mut dave, add) =
        room_of_two_with_commit(ctx, "participant-removal").await?;
    // Dave's own messages, made while he is still a member: a proposal first (his client
    // makes nothing once a Commit is pending), then a path-only Commit.
    let his_proposal = dave.propose_remove(CAROL).map_err(ours)?;
    let (his_commit, _) = dave.commit(&[]).map_err(ours)?;
    // MIMI-PROTOCOL-5.3-3: Dave's Commit removing Carol from the participant list while her
    // client stays in the group is refused.
    let (status, answer) = update(
        ctx,
        &room,
        DAVE,
        update_body(
            his_commit.clone(),
            None,
            DAVE,
            vec![ParticipantChange::Remove(CAROL.into())],
        ),
    )
    .await?;
    if matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "a Commit removing {CAROL} from the participant list but keeping her client in the \
             MLS group was answered {status} success: the list and the group disagree"
        )));
    }
    dave.commit_refused();
    // Removing participant and client in one Commit is accepted.
    let removal = carol.commit_removing(DAVE).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        CAROL,
        update_body(
            removal.clone(),
            None,
            CAROL,
            vec![ParticipantChange::Remove(DAVE.into())],
        ),
    )
    .await?;
    let UpdateCode::Success { .. } = answer.code else {
        return Ok(Outcome::Fail(format!(
            "a Commit removing {DAVE}'s client with the participant change was answered \
             {status} {:?} ({}): expected success",
            answer.code, answer.error_description
        )));
    };
    carol.commit_accepted().map_err(ours)?;
    // MIMI-PROTOCOL-5.3-5 and 5.3-6: the removed participant's client commits and proposes
    // (a Remove of someone else) at the room's new epoch.
    let forged = [
        (
            "a Commit from the removed participant's client",
            rewritten(&his_commit, 2, None).map_err(ours)?,
        ),
        (
            "a proposal (Remove of another member) from the removed participant's client",
            rewritten(&his_proposal, 2, None).map_err(ours)?,
        ),
    ];
    for (what, body) in &forged {
        let is_commit = what.starts_with("a Commit");
        let (status, answer) = update(
            ctx,
            &room,
            DAVE,
            if is_commit {
                update_body(body.clone(), None, DAVE, vec![])
            } else {
                proposal_body(body.clone(), DAVE)
            },
        )
        .await?;
        if matches!(answer.code, UpdateCode::Success { .. }) {
            return Ok(Outcome::Fail(format!(
                "{what} at epoch 2, after {DAVE} was removed, was answered {status} success"
            )));
        }
    }
    tokio::time::sleep(QUIET_WAIT).await;
    // MIMI-PROTOCOL-7.1-1: nothing refused reaches a follower.
    let mut bodies: Vec<(&str, Vec<u8>)> = forged.to_vec();
    bodies.push(("the Commit removing Carol from the list only", his_commit));
    for follower in FOLLOWERS {
        let leaks = leaked(ctx, follower, &room, &bodies);
        if !leaks.is_empty() {
            return Ok(Outcome::Fail(format!(
                "refused, yet fanned out to {follower}: {}",
                leaks.join("; ")
            )));
        }
    }
    if !fanouts(ctx, FOLLOWERS[1], &room)
        .iter()
        .any(|(_, m)| m.message == removal && !matches!(m.extra, FanoutExtra::Welcome))
    {
        return Ok(Outcome::Fail(format!(
            "the Commit removing {DAVE} never reached {}, his provider",
            FOLLOWERS[1]
        )));
    }
    // MIMI-PROTOCOL-7.3-1: only clients commit. Every Commit the hub fanned out in this
    // room is one of the two Carol's client made.
    let mut commits = 0;
    for follower in FOLLOWERS {
        for (_, m) in fanouts(ctx, follower, &room) {
            let Ok(MlsMessage {
                body: MlsMessageBody::PublicMessage(public),
                ..
            }) = MlsMessage::from_bytes(&m.message)
            else {
                continue;
            };
            if !matches!(public.content.body, ContentBody::Commit(_)) {
                continue;
            }
            if m.message != add && m.message != removal {
                return Ok(Outcome::Fail(format!(
                    "{follower} received a Commit of epoch {} that no client of the room sent \
                     (only clients commit)",
                    public.content.epoch
                )));
            }
            commits += 1;
        }
    }
    Ok(Outcome::Pass(format!(
        "room {room}: a list-only removal was refused, the joint removal accepted, and the \
         removed client's Commit and proposal refused; nothing refused was fanned out, and the \
         {commits} Commit(s) fanned out were all the clients' own"
    )))
}

/// An UpdateRequest carrying one proposal and no further ones.
fn proposal_body(proposal: Vec<u8>, sender: &str) -> Vec<u8> {
    concord_reference::mimi::wire::UpdateRequest {
        proposal_or_commit: proposal,
        extra: concord_reference::mimi::wire::BundleExtra::Proposal {
            more_proposals: Vec::new(),
        },
        sending_uri: sender.into(),
        participant_changes: Vec::new(),
    }
    .to_bytes()
}

/// abuse-report: a report to the room's hub is answered 201 with no body.
pub async fn check_abuse_report(ctx: &mut Ctx) -> Outcome {
    finish(abuse_report(ctx).await)
}

async fn abuse_report(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, _carol) = create_room(ctx, "abuse-report").await?;
    let report = AbuseReport {
        reporting_user: CAROL.into(),
        alleged_abuser_uri: DAVE.into(),
        reason_code: 1,
        note: "a report with no message attached".into(),
        messages: Vec::new(),
        abuse_extensions: Default::default(),
    }
    .to_bytes();
    let path = format!("/v1/reportAbuse/{room}");
    let answer = post(ctx, CAROL, &path, report).await?;
    // MIMI-PROTOCOL-5.9-2: the answer has no body; its status tells acceptance only.
    if !(200..300).contains(&answer.status) || !answer.body.is_empty() {
        return Ok(Outcome::Fail(format!(
            "an abuse report to the hub of {room} answered {} with {} octets of body \
             (expected a 2xx and no body)",
            answer.status,
            answer.body.len()
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the abuse report was answered {} with no body",
        answer.status
    )))
}

/// external-join-authorization: the hub accepts an external Commit only from a user
/// authorized to join: in a closed room, a participant without a client may join, a user
/// outside the participant list may not.
pub async fn check_external_join_authorization(ctx: &mut Ctx) -> Outcome {
    finish(external_join_authorization(ctx).await)
}

async fn external_join_authorization(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol) = create_room(ctx, "external-join-authorization").await?;
    // Dave becomes a participant with no client yet.
    let (commit, _) = carol.commit(&[]).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        CAROL,
        update_body(
            commit,
            None,
            CAROL,
            vec![ParticipantChange::Add(DAVE.into())],
        ),
    )
    .await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "a Commit making {DAVE} a participant (no client yet) was answered {status} {:?} \
             ({}): expected success",
            answer.code, answer.error_description
        )));
    }
    carol.commit_accepted().map_err(ours)?;
    let group_info = carol.group_info().map_err(ours)?;
    // MIMI-PROTOCOL-5.6-7: Erin, never a participant, joins the closed room by herself.
    let mut erin = super::mls::Member::new(ERIN, ctx.member_seed());
    let intruder = erin.external_join(&group_info).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        ERIN,
        update_body(
            intruder.clone(),
            None,
            ERIN,
            vec![ParticipantChange::Add(ERIN.into())],
        ),
    )
    .await?;
    if matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "an external Commit of {ERIN}, who is no participant of the closed room, was \
             answered {status} success"
        )));
    }
    // The control: Dave, a participant, joins the same epoch by external Commit.
    let mut dave = super::mls::Member::new(DAVE, ctx.member_seed());
    let joining = dave.external_join(&group_info).map_err(ours)?;
    let (status, answer) =
        update(ctx, &room, DAVE, update_body(joining, None, DAVE, vec![])).await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "an external Commit of the participant {DAVE} was answered {status} {:?} ({}): \
             expected success",
            answer.code, answer.error_description
        )));
    }
    tokio::time::sleep(QUIET_WAIT).await;
    let refused = [("Erin's external Commit", intruder)];
    let leaks = leaked(ctx, FOLLOWERS[0], &room, &refused);
    if !leaks.is_empty() {
        return Ok(Outcome::Fail(format!(
            "{ERIN}'s refused external Commit reached {}",
            FOLLOWERS[0]
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: {ERIN}'s external Commit was refused ({}), the participant {DAVE}'s \
         accepted",
        "not a participant of a closed room"
    )))
}
