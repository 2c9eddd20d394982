//! The franking checks (draft-ietf-mimi-protocol section "Message Franking", section
//! "Report abuse"): Concord's clients franking messages through the hub under test, the
//! franks it returns and fans out, its validation of reported messages, and the receiver's
//! verification of real franks from it, genuine and altered.
//!
//! ```text
//!  GET directory ──frankingAgents["1"]──> FrankingAgentData (profile choice 22)
//!  carol@f1 creates a room whose GroupContext names that agent (component 0x0021),
//!  adds dave@f2 (a KeyPackage listing app_data_dictionary), sends franked messages:
//!    hub under test ──SubmitMessageResponse.frank──> carol
//!                   ──FanoutMessage (message, frank)──> f2 ──> dave decrypts, verifies
//!  carol ──reportAbuse (genuine / altered)──> hub under test: 2xx / refused
//! ```
//!
//! These checks use the reference's `Group` directly: the MLSClient interface cannot
//! create a group with GroupContext extensions.

use concord_reference::codec::{Bytes, Codec};
use concord_reference::content::cbor::Value;
use concord_reference::content::{ExtensionKey, MimiContent, NestedPart, PartBody};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::group::{
    CommitOptions, Group, GroupConfig, PskStore, Received, identity_of,
};
use concord_reference::messages::{Add, Extension, MlsMessage, MlsMessageBody, Proposal};
use concord_reference::mimi::ParticipantChange;
use concord_reference::mimi::franking::{
    self, FrankAad, FrankError, FrankingAgentData, ReceivedMessage, SafeAad,
};
use concord_reference::mimi::service::FRANKING_AGENTS;
use concord_reference::mimi::wire::{
    AbuseReport, AbusiveMessage, FanoutExtra, FanoutMessage, Frank, SubmitMessageResponse,
    UpdateCode,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use super::ptest::{Ctx, FOLLOWERS, Outcome};
use super::rooms::{
    CAROL, DAVE, Step, finish, post, post_create_room, submit, text, update, update_body, wait_for,
};

/// The cipher suite of the franked rooms.
const SUITE: CipherSuite = CipherSuite(1);

fn ours(e: impl std::fmt::Display) -> Outcome {
    Outcome::Fail(format!(
        "Concord's reference client failed (not a provider verdict): {e}"
    ))
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The hub's franking agent for [`SUITE`] from its directory. `Err(Skip)` when it
/// publishes none.
async fn hub_agent(ctx: &mut Ctx) -> Step<FrankingAgentData> {
    super::rooms::directory_entry(
        ctx,
        FRANKING_AGENTS,
        SUITE,
        "the hub publishes no franking agent to put in a room's GroupContext (profile choice 22)",
        |bytes| {
            FrankingAgentData::from_bytes(bytes)
                .map_err(|e| format!("not a FrankingAgentData: {e}"))
        },
    )
    .await
}

/// A room on the hub under test with carol@f1 and dave@f2 (both in epoch 1) whose
/// GroupContext carries `extensions`; `with_dave` false: carol alone.
struct FrankedRoom {
    room: String,
    carol: Group,
    dave: Option<Group>,
    rng: ChaCha20Rng,
}

async fn franked_room(
    ctx: &mut Ctx,
    check: &str,
    extensions: Vec<Extension>,
    with_dave: bool,
) -> Step<FrankedRoom> {
    let room = ctx.room_name(check);
    let mut rng = ChaCha20Rng::seed_from_u64(ctx.member_seed());
    let now = now_s();
    let mut carol = Group::create(
        SUITE,
        room.as_bytes().to_vec(),
        CAROL.as_bytes(),
        None,
        extensions,
        GroupConfig::default(),
        now,
        &mut rng,
    )
    .map_err(ours)?;
    let (group_info, _) = carol.group_info(false).map_err(ours)?;
    post_create_room(ctx, &room, group_info.to_bytes()).await?;
    if !with_dave {
        return Ok(FrankedRoom {
            room,
            carol,
            dave: None,
            rng,
        });
    }
    let suite = Suite::new(SUITE).map_err(ours)?;
    let (key_package, secrets) =
        franking::key_package_for_franked_rooms(&suite, DAVE.as_bytes(), now, &mut rng)
            .map_err(ours)?;
    let options = CommitOptions {
        by_value: vec![Proposal::Add(Add {
            key_package: key_package.clone(),
        })],
        ..CommitOptions::default()
    };
    let output = carol.commit(&options, &mut rng).map_err(ours)?;
    let body = update_body(
        output.commit.to_bytes(),
        output.welcome.as_ref().map(|w| w.to_bytes()),
        CAROL,
        vec![ParticipantChange::Add(DAVE.into())],
    );
    let (status, answer) = update(ctx, &room, CAROL, body).await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Err(Outcome::Fail(format!(
            "a Commit adding {DAVE} to a room with a franking agent was answered {status} \
             {:?} ({}): expected success",
            answer.code, answer.error_description
        )));
    }
    carol.merge_pending_commit().map_err(ours)?;
    let welcome = wait_for(ctx, FOLLOWERS[1], &room, "the Welcome for dave", |m| {
        matches!(m.extra, FanoutExtra::Welcome) && m.recipients.iter().any(|r| r == DAVE)
    })
    .await?;
    let message = MlsMessage::from_bytes(&welcome.message)
        .map_err(|e| Outcome::Fail(format!("the Welcome fanned out does not decode: {e}")))?;
    let MlsMessageBody::Welcome(welcome) = &message.body else {
        return Err(Outcome::Fail(
            "the Welcome fanout carries no Welcome".into(),
        ));
    };
    let dave = Group::join(
        welcome,
        &key_package,
        &secrets,
        None,
        &PskStore::default(),
        GroupConfig::default(),
    )
    .map_err(|e| {
        Outcome::Fail(format!(
            "{DAVE} cannot join from the fanned-out Welcome: {e}"
        ))
    })?;
    Ok(FrankedRoom {
        room,
        carol,
        dave: Some(dave),
        rng,
    })
}

/// A MIMI content message from carol with `text`, its senderUri and roomUri set.
fn content(rng: &mut ChaCha20Rng, text: &str) -> MimiContent {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    MimiContent {
        salt,
        replaces: None,
        topic_id: Vec::new(),
        expires: None,
        in_reply_to: None,
        extensions: Vec::new(),
        nested_part: NestedPart {
            disposition: 1,
            language: String::new(),
            body: PartBody::Single {
                content_type: "text/plain;charset=utf-8".into(),
                content: text.as_bytes().to_vec(),
            },
        },
    }
}

/// One message carol sent and what the hub answered.
struct Sent {
    message: Vec<u8>,
    data: Vec<u8>,
    accepted_timestamp: u64,
    frank: Option<Frank>,
}

/// Carol submits `data` with `aad`; the hub must accept it.
async fn send(ctx: &mut Ctx, room: &mut FrankedRoom, data: Vec<u8>, aad: Vec<u8>) -> Step<Sent> {
    let message = room
        .carol
        .protect(&aad, &data, &mut room.rng)
        .map_err(ours)?
        .to_bytes();
    let (status, answer) = submit(ctx, &room.room, CAROL, message.clone(), None).await?;
    let SubmitMessageResponse::Accepted {
        accepted_timestamp,
        frank,
    } = answer
    else {
        return Err(Outcome::Fail(format!(
            "room {}: carol's application message was answered {status} {answer:?} \
             (expected accepted)",
            room.room
        )));
    };
    Ok(Sent {
        message,
        data,
        accepted_timestamp,
        frank,
    })
}

/// Dave's view of `sent` as it arrived at f2: the fanout's frank and timestamp, and the
/// message decrypted.
#[derive(Clone)]
struct Arrived {
    frank: Option<Frank>,
    timestamp: u64,
    sender: String,
    aad: Vec<u8>,
    data: Vec<u8>,
}

async fn arrive(ctx: &mut Ctx, room: &mut FrankedRoom, sent: &Sent) -> Step<Arrived> {
    let fanout: FanoutMessage = wait_for(
        ctx,
        FOLLOWERS[1],
        &room.room,
        "carol's franked application message",
        |m| m.message == sent.message,
    )
    .await?;
    let FanoutExtra::Application { frank } = fanout.extra else {
        return Err(Outcome::Fail(
            "the application message was fanned out as another kind".into(),
        ));
    };
    let dave = room
        .dave
        .as_mut()
        .ok_or_else(|| ours("no dave in this room"))?;
    let Received::Application {
        sender,
        authenticated_data,
        data,
        ..
    } = dave
        .process_message_bytes(&fanout.message)
        .map_err(|e| Outcome::Fail(format!("{DAVE} cannot open the fanned-out message: {e}")))?
    else {
        return Err(Outcome::Fail(
            "the fanned-out message is no application data".into(),
        ));
    };
    let leaf = dave
        .tree()
        .leaf(sender)
        .ok_or_else(|| ours("no leaf for the sender"))?;
    Ok(Arrived {
        frank,
        timestamp: fanout.timestamp,
        sender: String::from_utf8_lossy(&identity_of(&leaf.credential)).into_owned(),
        aad: authenticated_data,
        data,
    })
}

/// What the receiver's check of one frank gave.
type Verdict = Result<Option<franking::ServerFrankingContext>, FrankError>;
/// Whether a refusal is the one expected.
type Expect = fn(&FrankError) -> bool;
/// One altered frank or sender fault: what it is, the verdict, the refusal expected.
type Case = (&'static str, Verdict, Expect);
/// A franked message: `application_data` and `authenticated_data`.
type Franked = (Vec<u8>, Vec<u8>);

/// Dave's check of an arrived frank, in room `room` as the hub `hub` (the receiver's
/// values; a test alters one).
fn verify(
    dave: &Group,
    hub: &str,
    room: &str,
    arrived: &Arrived,
    frank: Option<&Frank>,
) -> Verdict {
    franking::verify_received(
        &ReceivedMessage {
            suite: dave.group_context().cipher_suite,
            group_context_extensions: &dave.group_context().extensions,
            hub_domain: hub,
            room,
            sender_identity: &arrived.sender,
            authenticated_data: &arrived.aad,
            application_data: &arrived.data,
            accepted_timestamp: arrived.timestamp,
        },
        frank,
    )
}

/// franking: the hub franks where the room names its agent and the AAD its tag, fans the
/// frank out with the message, and validates reported messages by recomputing it.
pub async fn check_franking(ctx: &mut Ctx) -> Outcome {
    finish(hub_franking(ctx).await)
}

async fn hub_franking(ctx: &mut Ctx) -> Step<Outcome> {
    let agent = hub_agent(ctx).await?;
    // MIMI-PROTOCOL-5.4.1-3: a key of the suite's signature algorithm.
    if let Err(e) = franking::check_agent_key(SUITE, agent.franking_signature_key.0.as_slice()) {
        return Ok(Outcome::Fail(format!("the hub's franking agent: {e}")));
    }
    let extensions = vec![franking::agent_extension(&agent)];
    let mut room = franked_room(ctx, "franking", extensions, true).await?;
    let (data, aad) =
        franking::franked_message(content(&mut room.rng, "franked"), CAROL, &room.room);
    let sent = send(ctx, &mut room, data, aad).await?;
    // MIMI-PROTOCOL-5.4-3: the success answer carries the frank.
    let Some(frank) = sent.frank.clone() else {
        return Ok(Outcome::Fail(format!(
            "room {}: a message with a frank_aad tag in a room naming the hub's franking \
             agent was accepted without a frank",
            room.room
        )));
    };
    // MIMI-PROTOCOL-5.4.1.2-4: the room's suite.
    if frank.franking_signature_ciphersuite != SUITE {
        return Ok(Outcome::Fail(format!(
            "the frank names cipher suite {} in a room of suite {}",
            frank.franking_signature_ciphersuite.0, SUITE.0
        )));
    }
    // MIMI-PROTOCOL-5.4.1.2-5: fanned out with the message, unchanged.
    let arrived = arrive(ctx, &mut room, &sent).await?;
    if arrived.frank.as_ref() != Some(&frank) || arrived.timestamp != sent.accepted_timestamp {
        return Ok(Outcome::Fail(format!(
            "the FanoutMessage to {} carries frank {:?} at {} (the success answer: {:?} at {})",
            FOLLOWERS[1],
            arrived.frank.as_ref().map(|f| hex::encode(f.server_frank)),
            arrived.timestamp,
            hex::encode(frank.server_frank),
            sent.accepted_timestamp
        )));
    }
    // MIMI-PROTOCOL-5.4.1.2-1, 5.4.1.2-3: signed with the agent's key over the context.
    let dave = room.dave.as_ref().ok_or_else(|| ours("no dave"))?;
    if let Err(e) = verify(dave, &ctx.domain, &room.room, &arrived, Some(&frank)) {
        return Ok(Outcome::Fail(format!(
            "{DAVE} cannot verify the hub's frank: {e} ({})",
            e.requirements().join(", ")
        )));
    }
    // MIMI-PROTOCOL-5.9-3, 5.9-4, 5.4.1.2-2: the hub recomputes its frank for a report.
    let genuine = AbusiveMessage {
        message_content: Bytes(sent.data.clone()),
        frank: frank.clone(),
        accepted_timestamp: sent.accepted_timestamp,
    };
    let status = report(ctx, &room.room, genuine.clone()).await?;
    if !(200..300).contains(&status) {
        return Ok(Outcome::Fail(format!(
            "an abuse report of a genuinely franked message was answered {status} (expected 2xx)"
        )));
    }
    let mut edited = content(&mut room.rng, "not what was sent");
    edited.salt = MimiContent::from_bytes(&sent.data).map_err(ours)?.salt;
    let (edited, _) = franking::franked_message(edited, CAROL, &room.room);
    let mut flipped = genuine.clone();
    flipped.frank.franking_integrity_signature.0[0] ^= 1;
    let altered = [
        (
            "another content under the same salt, sender and room (only server_frank tells)",
            AbusiveMessage {
                message_content: Bytes(edited),
                ..genuine.clone()
            },
        ),
        (
            "another accepted_timestamp",
            AbusiveMessage {
                accepted_timestamp: genuine.accepted_timestamp + 1,
                ..genuine.clone()
            },
        ),
        ("a flipped franking_integrity_signature", flipped),
    ];
    let mut accepted = Vec::new();
    for (what, message) in altered {
        let status = report(ctx, &room.room, message).await?;
        if (200..300).contains(&status) {
            accepted.push(format!("{what} ({status})"));
        }
    }
    if !accepted.is_empty() {
        return Ok(Outcome::Fail(format!(
            "abuse reports of messages whose frank does not validate were accepted: {}",
            accepted.join("; ")
        )));
    }
    // MIMI-PROTOCOL-10.1-1: the tag under another component is no frank_aad.
    let (data, aad) =
        franking::franked_message(content(&mut room.rng, "elsewhere"), CAROL, &room.room);
    let tag = franking::tag_in_aad(&aad).ok_or_else(|| ours("no tag"))?;
    let misplaced = SafeAad(vec![(
        franking::FRANKING_SIGNATURE_KEY,
        Bytes(FrankAad { franking_tag: tag }.to_bytes()),
    )])
    .to_bytes();
    let sent = send(ctx, &mut room, data, misplaced).await?;
    if sent.frank.is_some() {
        return Ok(Outcome::Fail(
            "a message whose tag sits in Safe AAD component 0x0021, not frank_aad (0x0020), \
             was franked"
                .into(),
        ));
    }
    // MIMI-PROTOCOL-5.4.1.2-1, 10.2-1: no agent in component 0x0021, no frank.
    for (check, extensions, what) in [
        ("franking-none", Vec::new(), "no franking agent"),
        (
            "franking-elsewhere",
            vec![franking::agent_extension_as(franking::FRANK_AAD, &agent)],
            "the agent under component 0x0020, not franking_signature_key (0x0021)",
        ),
    ] {
        let mut other = franked_room(ctx, check, extensions, false).await?;
        let (data, aad) =
            franking::franked_message(content(&mut other.rng, "unfranked"), CAROL, &other.room);
        let sent = send(ctx, &mut other, data, aad).await?;
        if sent.frank.is_some() {
            return Ok(Outcome::Fail(format!(
                "room {}: a message was franked in a room whose GroupContext has {what}",
                other.room
            )));
        }
    }
    Ok(Outcome::Pass(format!(
        "room {}: the frank came in the answer and the fanout, of suite {}, verified with the \
         agent's key; reports: genuine {status}, 3 altered refused; no frank for a misplaced \
         tag or a room without the agent in 0x0021",
        room.room, SUITE.0
    )))
}

/// POST reportAbuse of `message` as carol: the status.
async fn report(ctx: &mut Ctx, room: &str, message: AbusiveMessage) -> Step<u16> {
    let body = AbuseReport {
        reporting_user: CAROL.into(),
        alleged_abuser_uri: CAROL.into(),
        reason_code: 0,
        note: "franked message".into(),
        messages: vec![message],
        abuse_extensions: Default::default(),
    }
    .to_bytes();
    let path = format!("/v1/reportAbuse/{room}");
    let answer = post(ctx, CAROL, &path, body).await?;
    if answer.status >= 500 {
        return Err(Outcome::Fail(format!(
            "POST {path} answered {}: {}",
            answer.status,
            text(&answer.body)
        )));
    }
    Ok(answer.status)
}

/// frank-verification: the receiver's checks against real franks of the hub under test:
/// a genuine one verifies; one altered in transit, or a sender's franked message that
/// breaks a sender rule, is refused with the rule it breaks.
pub async fn check_frank_verification(ctx: &mut Ctx) -> Outcome {
    finish(frank_verification(ctx).await)
}

async fn frank_verification(ctx: &mut Ctx) -> Step<Outcome> {
    let agent = hub_agent(ctx).await?;
    let mut room = franked_room(
        ctx,
        "frank-verification",
        vec![franking::agent_extension(&agent)],
        true,
    )
    .await?;
    let name = room.room.clone();
    let hub = ctx.domain.clone();
    let (data, aad) = franking::franked_message(content(&mut room.rng, "genuine"), CAROL, &name);
    let sent = send(ctx, &mut room, data, aad).await?;
    let arrived = arrive(ctx, &mut room, &sent).await?;
    let dave = room.dave.as_ref().ok_or_else(|| ours("no dave"))?;
    let Some(frank) = arrived.frank.clone() else {
        return Err(Outcome::Skip(
            "the hub fanned out no frank (see the franking check)".into(),
        ));
    };
    if let Err(e) = verify(dave, &hub, &name, &arrived, Some(&frank)) {
        return Ok(Outcome::Fail(format!(
            "the genuine frank does not verify: {e}"
        )));
    }
    let mut cases: Vec<Case> = Vec::new();
    // Altered in transit (a follower's doing), or checked against other receiver values.
    let mut suite = frank.clone();
    suite.franking_signature_ciphersuite = CipherSuite(3);
    cases.push((
        "another franking_signature_ciphersuite",
        verify(dave, &hub, &name, &arrived, Some(&suite)),
        |e| matches!(e, FrankError::CiphersuiteMismatch { .. }),
    ));
    let mut flipped = frank.clone();
    flipped.franking_integrity_signature.0[0] ^= 1;
    cases.push((
        "a flipped signature",
        verify(dave, &hub, &name, &arrived, Some(&flipped)),
        |e| *e == FrankError::IntegritySignature,
    ));
    let later = Arrived {
        timestamp: arrived.timestamp + 1,
        ..arrived.clone()
    };
    cases.push((
        "another accepted_timestamp",
        verify(dave, &hub, &name, &later, Some(&frank)),
        |e| *e == FrankError::IntegritySignature,
    ));
    let no_aad = Arrived {
        aad: Vec::new(),
        ..arrived.clone()
    };
    cases.push((
        "a frank with no frank_aad in the AAD",
        verify(dave, &hub, &name, &no_aad, Some(&frank)),
        |e| matches!(e, FrankError::MissingFrankAad(_)),
    ));
    cases.push((
        "an agent credential naming another domain than the hub",
        verify(dave, "other-hub.example", &name, &arrived, Some(&frank)),
        |e| matches!(e, FrankError::AgentDomain { .. }),
    ));
    let mut edited = MimiContent::from_bytes(&arrived.data).map_err(ours)?;
    edited.nested_part.body = PartBody::Single {
        content_type: "text/plain;charset=utf-8".into(),
        content: b"edited".to_vec(),
    };
    let tampered = Arrived {
        data: edited.to_bytes(),
        ..arrived.clone()
    };
    cases.push((
        "edited content",
        verify(dave, &hub, &name, &tampered, Some(&frank)),
        |e| *e == FrankError::TagMismatch,
    ));
    let impostor = Arrived {
        sender: DAVE.into(),
        ..arrived.clone()
    };
    cases.push((
        "a sender credential other than the content's senderUri",
        verify(dave, &hub, &name, &impostor, Some(&frank)),
        |e| matches!(e, FrankError::SenderMismatch { .. }),
    ));
    cases.push((
        "a room other than the content's roomUri",
        verify(dave, &hub, "another-room", &arrived, Some(&frank)),
        |e| matches!(e, FrankError::RoomMismatch { .. }),
    ));
    // Sender rules broken by the sender, franked by the hub, refused at the receiver.
    let salt_of = |rng: &mut ChaCha20Rng| content(rng, "x").salt;
    // content() sets no extension: franked as it is, it lacks senderUri and roomUri.
    let bare = content(&mut room.rng, "no senderUri, no roomUri");
    let bare_data = bare.to_bytes();
    let bare_aad = franking::frank_aad(franking::franking_tag(&bare.salt, &bare_data));
    let impersonating = {
        let mut c = content(&mut room.rng, "says it is dave");
        c.extensions = vec![
            (ExtensionKey::SENDER_URI, Value::Text(DAVE.into())),
            (ExtensionKey::ROOM_URI, Value::Text(name.clone())),
        ];
        let data = c.to_bytes();
        let aad = franking::frank_aad(franking::franking_tag(&c.salt, &data));
        (data, aad)
    };
    let wrong_tag = {
        let (data, _) =
            franking::franked_message(content(&mut room.rng, "wrong tag"), CAROL, &name);
        let salt = salt_of(&mut room.rng);
        (
            data.clone(),
            franking::frank_aad(franking::franking_tag(&salt, &data)),
        )
    };
    let sender_cases: [(&str, Franked, Expect); 3] = [
        (
            "a content without senderUri and roomUri",
            (bare_data, bare_aad),
            |e| matches!(e, FrankError::Content(_)),
        ),
        (
            "a senderUri (dave) other than the sendingUri (carol)",
            impersonating,
            |e| *e == FrankError::IntegritySignature,
        ),
        ("a franking_tag made with another salt", wrong_tag, |e| {
            *e == FrankError::TagMismatch
        }),
    ];
    for (what, (data, aad), expect) in sender_cases {
        let sent = send(ctx, &mut room, data, aad).await?;
        let arrived = arrive(ctx, &mut room, &sent).await?;
        let dave = room.dave.as_ref().ok_or_else(|| ours("no dave"))?;
        let Some(frank) = arrived.frank.clone() else {
            return Ok(Outcome::Fail(format!(
                "the message with {what} (a frank_aad tag) was fanned out without a frank"
            )));
        };
        cases.push((
            what,
            verify(dave, &hub, &name, &arrived, Some(&frank)),
            expect,
        ));
    }
    let mut wrong = Vec::new();
    for (what, outcome, expect) in &cases {
        match outcome {
            Err(e) if expect(e) => {}
            Err(e) => wrong.push(format!("{what}: refused for another reason ({e})")),
            Ok(_) => wrong.push(format!("{what}: verified")),
        }
    }
    if !wrong.is_empty() {
        return Ok(Outcome::Fail(format!(
            "the receiver's frank verification let through: {}",
            wrong.join("; ")
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {name}: the genuine frank verified at {DAVE}; {} altered franks or sender \
         faults refused, each for its rule",
        cases.len()
    )))
}
