//! The hub checks on proposals, participant list changes and the transport headers of
//! fanout, and the key material check on request signatures.
//!
//! ```text
//!  room of two: carol@f1 (creator), dave@f2; room of three: the same and erin@f2
//!  invalid-proposal-refs:  dave ──update (a Remove of a leaf the tree lacks)──> invalidProposal
//!                          naming that proposal's ProposalRef
//!  proposal-bundle:        dave ──update (his leave, erin's leave in moreProposals)──> success;
//!                          f1 gets the fanout with moreProposals as sent; dave's Commit
//!                          leaving both out ──> notAllowed; carol's Commit of both ──> success
//!  participant-changes:    carol ──update (Commit adding dave, "add dave" twice)──> refused;
//!                          the same Commit with "add dave" once ──> success
//!  notify-headers:         carol ──submitMessage──> hub ──/notify──> f2: Host f2.example,
//!                          From mimi@<hub>
//!  key-material-signature: a KeyMaterialRequest whose signature does not verify gets no
//!                          KeyPackage; the same request signed properly does
//! ```

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::{
    ContentBody, Credential, MlsMessage, MlsMessageBody, Proposal, ProposalRef, Remove,
    RequiredCapabilities, SignaturePublicKey,
};
use concord_reference::mimi::ParticipantChange;
use concord_reference::mimi::wire::{
    BundleExtra, ClientKeyMaterial, FanoutExtra, KeyMaterialRequest, KeyMaterialResponse,
    KeyMaterialUserCode, UpdateCode, UpdateRequest,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::mls::{self, Member};
use super::ptest::{Ctx, FOLLOWERS, Outcome};
use super::rooms::{
    CAROL, DAVE, ERIN, QUIET_WAIT, Step, add_member, create_room, fanouts, finish, ours, post,
    room_of_two, submit, text, update, update_body, wait_for,
};
use super::users::target_users;

/// The `ProposalRef` of a proposal (an MLSMessage carrying a PublicMessage), RFC 9420
/// section 5.2, with the suite Concord's clients use.
fn proposal_ref(message: &[u8]) -> Result<Vec<u8>, String> {
    let decoded = MlsMessage::from_bytes(message).map_err(|e| format!("our proposal: {e}"))?;
    let MlsMessageBody::PublicMessage(public) = &decoded.body else {
        return Err("our proposal is no PublicMessage".into());
    };
    let suite = Suite::new(CipherSuite(mls::SUITE)).map_err(|e| e.to_string())?;
    Ok(suite.ref_hash(
        ProposalRef::LABEL,
        &public.authenticated_content().to_bytes(),
    ))
}

/// An UpdateRequest carrying `proposal` and `more` as its moreProposals.
fn proposals_body(
    proposal: Vec<u8>,
    more: Vec<Vec<u8>>,
    sender: &str,
    changes: Vec<ParticipantChange>,
) -> Vec<u8> {
    UpdateRequest {
        proposal_or_commit: proposal,
        extra: BundleExtra::Proposal {
            more_proposals: more,
        },
        sending_uri: sender.into(),
        participant_changes: changes,
    }
    .to_bytes()
}

/// invalid-proposal-refs: an invalid proposal is answered invalidProposal with its ref.
pub async fn check_invalid_proposal_refs(ctx: &mut Ctx) -> Outcome {
    finish(invalid_proposal_refs(ctx).await)
}

async fn invalid_proposal_refs(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, _carol, mut dave) = room_of_two(ctx, "invalid-proposal-refs").await?;
    // Dave's Remove proposal, moved to leaf 5 of a two-leaf tree: RFC 9420 12.1.3 makes it
    // invalid (and its signature no longer verifies: invalid for that reason too).
    let proposal = dave.propose_remove(CAROL).map_err(ours)?;
    let mut decoded = MlsMessage::from_bytes(&proposal).map_err(|e| ours(e.to_string()))?;
    if let MlsMessageBody::PublicMessage(public) = &mut decoded.body {
        public.content.body = ContentBody::Proposal(Proposal::Remove(Remove {
            removed: LeafIndex(5),
        }));
    }
    let invalid = decoded.to_bytes();
    let expected = proposal_ref(&invalid).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        DAVE,
        proposals_body(invalid.clone(), Vec::new(), DAVE, Vec::new()),
    )
    .await?;
    // MIMI-PROTOCOL-5.3-13: invalidProposal, listing the ProposalRef of the invalid one.
    let UpdateCode::InvalidProposal { invalid_proposals } = &answer.code else {
        return Ok(Outcome::Fail(format!(
            "a Remove proposal of leaf 5 in a group of two leaves was answered {status} {:?} \
             ({}): expected invalidProposal naming it",
            answer.code, answer.error_description
        )));
    };
    if invalid_proposals.iter().map(|r| &r.0).ne([&expected]) {
        return Ok(Outcome::Fail(format!(
            "invalidProposal listed {} ref(s) {:?}: expected exactly the proposal's ProposalRef \
             {}",
            invalid_proposals.len(),
            invalid_proposals
                .iter()
                .map(|r| hex::encode(&r.0))
                .collect::<Vec<_>>(),
            hex::encode(&expected)
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the invalid Remove was answered {status} invalidProposal naming its ref \
         {}",
        hex::encode(&expected)
    )))
}

/// proposal-bundle: a proposal with moreProposals is fanned out with the same list; a
/// Commit that leaves accepted proposals out is refused, one covering them accepted.
pub async fn check_proposal_bundle(ctx: &mut Ctx) -> Outcome {
    finish(proposal_bundle(ctx).await)
}

async fn proposal_bundle(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol) = create_room(ctx, "proposal-bundle").await?;
    let mut dave = Member::new(DAVE, ctx.member_seed());
    let mut erin = Member::new(ERIN, ctx.member_seed());
    add_member(ctx, &room, &mut carol, &mut dave, &mut []).await?;
    add_member(ctx, &room, &mut carol, &mut erin, &mut [&mut dave]).await?;
    // Dave and Erin (both of f2) leave: f2 sends Dave's leave with Erin's in moreProposals.
    let his_leave = dave.propose_remove(DAVE).map_err(ours)?;
    let her_leave = erin.propose_remove(ERIN).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        DAVE,
        proposals_body(
            his_leave.clone(),
            vec![her_leave.clone()],
            DAVE,
            vec![
                ParticipantChange::Remove(DAVE.into()),
                ParticipantChange::Remove(ERIN.into()),
            ],
        ),
    )
    .await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "{DAVE}'s leave with {ERIN}'s in moreProposals (both of {}) was answered {status} \
             {:?} ({}): expected success",
            FOLLOWERS[1], answer.code, answer.error_description
        )));
    }
    // MIMI-PROTOCOL-5.5-10: the fanout to Carol's provider carries the same moreProposals.
    let fanned = wait_for(ctx, FOLLOWERS[0], &room, &format!("{DAVE}'s leave"), |m| {
        m.message == his_leave
    })
    .await?;
    match &fanned.extra {
        FanoutExtra::Proposal { more_proposals } if *more_proposals == [her_leave.clone()] => {}
        other => {
            return Ok(Outcome::Fail(format!(
                "{DAVE}'s leave reached {} with {}: expected moreProposals holding {ERIN}'s \
                 leave, as in the update",
                FOLLOWERS[0],
                match other {
                    FanoutExtra::Proposal { more_proposals } =>
                        format!("{} moreProposals", more_proposals.len()),
                    _ => "no moreProposals".into(),
                }
            )));
        }
    }
    // MIMI-PROTOCOL-5.3-16: Dave's path-only Commit, leaving both accepted proposals out,
    // is refused (Dave's, so that Carol's client has no Commit pending for the control).
    let (omitting, _) = dave.commit(&[]).map_err(ours)?;
    let (status, answer) = update(
        ctx,
        &room,
        DAVE,
        update_body(omitting.clone(), None, DAVE, Vec::new()),
    )
    .await?;
    if answer.code != UpdateCode::NotAllowed {
        return Ok(Outcome::Fail(format!(
            "a Commit leaving out the two leave proposals the hub accepted in its epoch was \
             answered {status} {:?} ({}): expected notAllowed",
            answer.code, answer.error_description
        )));
    }
    dave.commit_refused();
    // The control: Carol commits both by reference.
    let covering = carol
        .commit_by_reference(&[his_leave, her_leave])
        .map_err(ours)?;
    let (status, accepted) = update(
        ctx,
        &room,
        CAROL,
        update_body(covering.clone(), None, CAROL, Vec::new()),
    )
    .await?;
    if !matches!(accepted.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "a Commit of both leave proposals by reference was answered {status} {:?} ({}): \
             expected success",
            accepted.code, accepted.error_description
        )));
    }
    tokio::time::sleep(QUIET_WAIT).await;
    for follower in FOLLOWERS {
        if fanouts(ctx, follower, &room)
            .iter()
            .any(|(_, m)| m.message == omitting)
        {
            return Ok(Outcome::Fail(format!(
                "the refused Commit leaving the proposals out reached {follower}"
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the leave with moreProposals was fanned out with the list as sent; a \
         Commit leaving the accepted proposals out was refused ({}), one committing them \
         accepted",
        answer.error_description
    )))
}

/// participant-changes: a Commit changing one participant twice is refused.
pub async fn check_participant_changes(ctx: &mut Ctx) -> Outcome {
    finish(participant_changes(ctx).await)
}

async fn participant_changes(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol) = create_room(ctx, "participant-changes").await?;
    let mut dave = Member::new(DAVE, ctx.member_seed());
    let key_package = dave.key_package().map_err(ours)?;
    let (commit, welcome) = carol.commit(&[key_package]).map_err(ours)?;
    let welcome_again = welcome.clone();
    // MIMI-PROTOCOL-7.5-6: "add dave" twice in one Commit makes it invalid.
    let (status, answer) = update(
        ctx,
        &room,
        CAROL,
        update_body(
            commit.clone(),
            welcome.clone(),
            CAROL,
            vec![
                ParticipantChange::Add(DAVE.into()),
                ParticipantChange::Add(DAVE.into()),
            ],
        ),
    )
    .await?;
    if matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "a Commit whose participant list changes add {DAVE} twice was answered {status} \
             success"
        )));
    }
    // The control: the same Commit with the change once (the refused one made no Welcome
    // reach Dave's provider, checked below).
    let (status_once, once) = update(
        ctx,
        &room,
        CAROL,
        update_body(
            commit.clone(),
            welcome_again,
            CAROL,
            vec![ParticipantChange::Add(DAVE.into())],
        ),
    )
    .await?;
    if !matches!(once.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "the same Commit adding {DAVE} with the change once was answered {status_once} \
             {:?} ({}): expected success",
            once.code, once.error_description
        )));
    }
    carol.commit_accepted().map_err(ours)?;
    let welcome = wait_for(
        ctx,
        FOLLOWERS[1],
        &room,
        &format!("the Welcome for {DAVE}"),
        |m| matches!(m.extra, FanoutExtra::Welcome),
    )
    .await?;
    dave.join(&welcome.message).map_err(|e| {
        Outcome::Fail(format!(
            "{DAVE} cannot join from the Welcome fanned out: {e}"
        ))
    })?;
    let welcomes = fanouts(ctx, FOLLOWERS[1], &room)
        .iter()
        .filter(|(_, m)| matches!(m.extra, FanoutExtra::Welcome) || m.message == commit)
        .count();
    if welcomes != 1 {
        return Ok(Outcome::Fail(format!(
            "{} received {welcomes} Welcome(s) or copies of the Commit adding {DAVE}: expected \
             the one Welcome of the accepted request (the refused one must not be fanned out)",
            FOLLOWERS[1]
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: adding {DAVE} twice in one Commit was refused ({:?}: {}); once, accepted",
        answer.code, answer.error_description
    )))
}

/// notify-headers: the hub's /notify names the target in Host and itself in From.
pub async fn check_notify_headers(ctx: &mut Ctx) -> Outcome {
    finish(notify_headers(ctx).await)
}

async fn notify_headers(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, mut carol, _dave) = room_of_two(ctx, "notify-headers").await?;
    let hello = carol.protect("headers").map_err(ours)?;
    submit(ctx, &room, CAROL, hello.clone(), None).await?;
    wait_for(ctx, FOLLOWERS[1], &room, "the application message", |m| {
        m.message == hello
    })
    .await?;
    let path = format!("/v1/notify/{room}");
    let expected_from = format!("mimi@{}", ctx.domain);
    let mut seen = 0;
    for follower in FOLLOWERS {
        for observed in ctx.follower_log(follower) {
            if observed.path != path {
                continue;
            }
            seen += 1;
            let header = |name: &str| {
                observed
                    .headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
                    .collect::<Vec<_>>()
            };
            // MIMI-PROTOCOL-4.1-1: Host names the target provider (any port ignored).
            let host = header("host");
            let host_name = |h: &String| h.rsplit_once(':').map_or(h.clone(), |(n, _)| n.into());
            if host.len() != 1 || !host_name(&host[0]).eq_ignore_ascii_case(follower) {
                return Ok(Outcome::Fail(format!(
                    "a /notify to {follower} carried Host {host:?}: expected {follower} (the \
                     target provider)"
                )));
            }
            // MIMI-PROTOCOL-4.1-1 to 4.1-3: From is the addr-spec mimi@<source provider>.
            let from = header("from");
            let Some((local, domain)) = from
                .first()
                .filter(|_| from.len() == 1)
                .and_then(|f| f.split_once('@'))
            else {
                return Ok(Outcome::Fail(format!(
                    "a /notify to {follower} carried From {from:?}: expected one From header \
                     {expected_from}"
                )));
            };
            if local.contains(['<', '>', ' ', '"']) || domain.contains(['<', '>', ' ']) {
                return Ok(Outcome::Fail(format!(
                    "a /notify to {follower} carried From {:?}: the mailbox must be a bare \
                     addr-spec ({expected_from}), not a name-addr",
                    from[0]
                )));
            }
            if local != "mimi" || !domain.eq_ignore_ascii_case(&ctx.domain) {
                return Ok(Outcome::Fail(format!(
                    "a /notify to {follower} carried From {:?}: expected {expected_from} (local \
                     part mimi, the source provider's domain)",
                    from[0]
                )));
            }
        }
    }
    if seen == 0 {
        return Ok(Outcome::Fail(format!(
            "no /notify of {room} reached Concord's followers"
        )));
    }
    Ok(Outcome::Pass(format!(
        "{seen} /notify request(s) of {room}: Host named the target follower, From was \
         {expected_from}"
    )))
}

/// key-material-signature: the target provider verifies the request's signature.
pub async fn check_key_material_signature(ctx: &mut Ctx) -> Outcome {
    finish(key_material_signature(ctx).await)
}

/// A KeyMaterialRequest from `requester` for `target`, signed; `forged` spoils the
/// signature (one bit).
fn signed_request(
    requester: &str,
    target: &str,
    room: &str,
    forged: bool,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<u8>, String> {
    let suite = Suite::new(CipherSuite(mls::SUITE)).map_err(|e| e.to_string())?;
    let signer = suite.signature_generate(rng).map_err(|e| e.to_string())?;
    let mut request = KeyMaterialRequest {
        requesting_user: requester.into(),
        target_user: target.into(),
        room_id: room.into(),
        acceptable_ciphersuites: vec![CipherSuite(mls::SUITE)],
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
        .map_err(|e| e.to_string())?;
    if forged && let Some(first) = signature.first_mut() {
        *first ^= 1;
    }
    request.signature = Bytes(signature);
    Ok(request.to_bytes())
}

async fn key_material_signature(ctx: &mut Ctx) -> Step<Outcome> {
    let Some(target) = target_users(ctx).into_iter().next() else {
        return Ok(Outcome::Skip("no --users to ask key material of".into()));
    };
    let room = ctx.room_name("key-material-signature");
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.member_seed());
    let path = format!("/v1/keyMaterial/{target}");
    // MIMI-PROTOCOL-5.2-4: the signature is verified before any KeyPackage is handed out.
    let forged = signed_request(CAROL, &target, &room, true, &mut rng).map_err(ours)?;
    let answer = post(ctx, CAROL, &path, forged).await?;
    if let Ok(response) = KeyMaterialResponse::from_bytes(&answer.body)
        && response
            .clients
            .iter()
            .any(|c| matches!(c, ClientKeyMaterial::Success { .. }))
    {
        return Ok(Outcome::Fail(format!(
            "a KeyMaterialRequest whose signature does not verify was answered {} {:?} with \
             a KeyPackage",
            answer.status, response.user_status
        )));
    }
    if (200..300).contains(&answer.status) && KeyMaterialResponse::from_bytes(&answer.body).is_err()
    {
        return Ok(Outcome::Fail(format!(
            "a KeyMaterialRequest whose signature does not verify was answered {} with no \
             KeyMaterialResponse: {}",
            answer.status,
            text(&answer.body)
        )));
    }
    // The control: the same request signed properly gets key material.
    let good = signed_request(CAROL, &target, &room, false, &mut rng).map_err(ours)?;
    let control = post(ctx, CAROL, &path, good).await?;
    match KeyMaterialResponse::from_bytes(&control.body) {
        Ok(r)
            if matches!(
                r.user_status,
                KeyMaterialUserCode::Success | KeyMaterialUserCode::PartialSuccess
            ) => {}
        other => {
            return Ok(Outcome::Fail(format!(
                "the same request properly signed was answered {} {:?}: expected key material",
                control.status,
                other.map(|r| r.user_status)
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "{target}: the request with a spoiled signature was refused ({}), the signed one \
         answered with key material",
        answer.status
    )))
}
