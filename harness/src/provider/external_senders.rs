//! hub-external-sender: a room's `external_senders` extension holds at least the hub's
//! entry (MIMI-PROTOCOL-7.4-3). The hub under test names its `ExternalSender` in its
//! directory (profile choice 23); a room created with it is accepted, one whose
//! `external_senders` names another sender is refused, and so is a Commit whose
//! GroupContextExtensions proposal drops the hub's entry (or the whole extension) while
//! one that keeps it is accepted.
//!
//! ```text
//!  GET directory ──externalSenders.1──> hub's ExternalSender
//!  carol@f1 ──createRoom (external_senders = [hub])──────> 201
//!           ──createRoom (external_senders = [stranger])─> refused
//!           ──Commit GCE (external_senders = [])──────────> refused
//!           ──Commit GCE (no external_senders)────────────> refused
//!           ──Commit GCE (external_senders = [hub, f1])───> accepted
//! ```
//!
//! follower-external-sender: a follower's entry leaves `external_senders` when its last
//! participant leaves the room (MIMI-PROTOCOL-7.4-5), in the Commit that removes them
//! (profile choice 7.4-7).
//!
//! ```text
//!  carol@f1 ──createRoom (external_senders = [hub, f2])──> 201
//!           ──Commit Add dave@f2─────────────────────────> accepted
//!           ──Commit Remove dave (f2's entry kept)──────> refused
//!           ──Commit Remove dave + GCE [hub]────────────> accepted
//! ```

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::group::{CommitOptions, Group, GroupConfig};
use concord_reference::messages::{
    Add, Credential, Extension, ExternalSender, ExternalSenders, GroupContextExtensions, Proposal,
    Remove, SignaturePublicKey,
};
use concord_reference::mimi::ParticipantChange;
use concord_reference::mimi::service::EXTERNAL_SENDERS;
use concord_reference::mimi::wire::{
    CreateRoomCode, CreateRoomRequest, CreateRoomResponse, UpdateCode,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::ptest::{Ctx, FOLLOWERS, Outcome};
use super::rooms::{CAROL, DAVE, Step, finish, post, post_create_room, update, update_body};

/// The cipher suite of the rooms.
const SUITE: CipherSuite = CipherSuite(1);

fn ours(e: impl std::fmt::Display) -> Outcome {
    Outcome::Fail(format!("Concord's side failed: {e}"))
}

/// hub-external-sender: see the module docs.
pub async fn check_hub_external_sender(ctx: &mut Ctx) -> Outcome {
    finish(hub_external_sender(ctx).await)
}

/// The hub's ExternalSender for [`SUITE`] from its directory. `Err(Skip)` when it names
/// none.
async fn hub_sender(ctx: &mut Ctx) -> Step<ExternalSender> {
    super::rooms::directory_entry(
        ctx,
        EXTERNAL_SENDERS,
        SUITE,
        "the hub names no ExternalSender to put in a room's external_senders (profile choice 23)",
        |bytes| {
            ExternalSender::from_bytes(bytes).map_err(|e| format!("not an ExternalSender: {e}"))
        },
    )
    .await
}

fn senders_extension(senders: Vec<ExternalSender>) -> Extension {
    Extension::from_content(&ExternalSenders(senders))
}

async fn hub_external_sender(ctx: &mut Ctx) -> Step<Outcome> {
    let hub = hub_sender(ctx).await?;
    let mut rng = ChaCha20Rng::seed_from_u64(ctx.member_seed());
    let now = super::server::now_ms() / 1000;
    let suite = Suite::new(SUITE).map_err(ours)?;
    let mut stranger_key = || -> Step<SignaturePublicKey> {
        let pair = suite.signature_generate(&mut rng).map_err(ours)?;
        Ok(SignaturePublicKey(Bytes(pair.public)))
    };
    let stranger = ExternalSender {
        signature_key: stranger_key()?,
        credential: Credential::basic(ctx.domain.as_bytes().to_vec()),
    };
    let f1 = ExternalSender {
        signature_key: stranger_key()?,
        credential: Credential::basic(FOLLOWERS[0].as_bytes().to_vec()),
    };
    let create = |room: &str, senders: Vec<ExternalSender>, rng: &mut ChaCha20Rng| {
        Group::create(
            SUITE,
            room.as_bytes().to_vec(),
            CAROL.as_bytes(),
            None,
            vec![senders_extension(senders)],
            GroupConfig::default(),
            now,
            rng,
        )
        .map_err(ours)
    };
    // A room naming another sender in the hub's place.
    let other_room = ctx.room_name("hub-external-sender-stranger");
    let other = create(&other_room, vec![stranger], &mut rng)?;
    let (group_info, _) = other.group_info(false).map_err(ours)?;
    let body = CreateRoomRequest {
        creator: CAROL.into(),
        group_info: group_info.to_bytes(),
        open: false,
    }
    .to_bytes();
    let path = format!("/v1/createRoom/{other_room}");
    let answer = post(ctx, CAROL, &path, body).await?;
    let created = matches!(
        CreateRoomResponse::from_bytes(&answer.body),
        Ok(r) if r.code == CreateRoomCode::Created
    );
    if (200..300).contains(&answer.status) || created {
        return Ok(Outcome::Fail(format!(
            "a room whose external_senders names another sender than the hub was created \
             ({} on POST {path}): it must hold the hub's entry",
            answer.status
        )));
    }
    // A room with the hub's entry.
    let room = ctx.room_name("hub-external-sender");
    let mut carol = create(&room, vec![hub.clone()], &mut rng)?;
    let (group_info, _) = carol.group_info(false).map_err(ours)?;
    post_create_room(ctx, &room, group_info.to_bytes()).await?;
    let attempts: [(&str, Vec<Extension>, bool); 3] = [
        (
            "an empty external_senders",
            vec![senders_extension(vec![])],
            false,
        ),
        ("no external_senders", Vec::new(), false),
        (
            "external_senders with the hub's entry and f1's",
            vec![senders_extension(vec![hub.clone(), f1])],
            true,
        ),
    ];
    let mut wrong = Vec::new();
    for (what, extensions, acceptable) in attempts {
        let options = CommitOptions {
            by_value: vec![Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions,
            })],
            ..CommitOptions::default()
        };
        let output = carol.commit(&options, &mut rng).map_err(ours)?;
        let body = update_body(output.commit.to_bytes(), None, CAROL, vec![]);
        let (status, answer) = update(ctx, &room, CAROL, body).await?;
        let accepted = matches!(answer.code, UpdateCode::Success { .. });
        if accepted {
            carol.merge_pending_commit().map_err(ours)?;
        } else {
            carol.discard_pending_commit();
        }
        if accepted != acceptable {
            wrong.push(format!(
                "a Commit setting {what} was answered {status} {:?} (expected {})",
                answer.code,
                if acceptable { "success" } else { "a refusal" }
            ));
        }
    }
    if !wrong.is_empty() {
        return Ok(Outcome::Fail(format!(
            "room {room} (external_senders holding the hub's entry): {}",
            wrong.join("; ")
        )));
    }
    Ok(Outcome::Pass(format!(
        "a room without the hub's entry in external_senders was refused ({}); in room {room} \
         Commits dropping the entry were refused, one keeping it accepted",
        answer.status
    )))
}

/// follower-external-sender: see the module docs.
pub async fn check_follower_external_sender(ctx: &mut Ctx) -> Outcome {
    finish(follower_external_sender(ctx).await)
}

async fn follower_external_sender(ctx: &mut Ctx) -> Step<Outcome> {
    let f2 = FOLLOWERS[1];
    let hub = hub_sender(ctx).await?;
    let mut rng = ChaCha20Rng::seed_from_u64(ctx.member_seed());
    let now = super::server::now_ms() / 1000;
    let suite = Suite::new(SUITE).map_err(ours)?;
    let pair = suite.signature_generate(&mut rng).map_err(ours)?;
    let f2_entry = ExternalSender {
        signature_key: SignaturePublicKey(Bytes(pair.public)),
        credential: Credential::basic(f2.as_bytes().to_vec()),
    };
    let room = ctx.room_name("follower-external-sender");
    let mut carol = Group::create(
        SUITE,
        room.as_bytes().to_vec(),
        CAROL.as_bytes(),
        None,
        vec![senders_extension(vec![hub.clone(), f2_entry])],
        GroupConfig::default(),
        now,
        &mut rng,
    )
    .map_err(ours)?;
    let (group_info, _) = carol.group_info(false).map_err(ours)?;
    post_create_room(ctx, &room, group_info.to_bytes()).await?;
    // dave@f2 joins: f2 has a participant, so its entry belongs in external_senders.
    let (key_package, _) =
        concord_reference::group::create_key_package(&suite, DAVE.as_bytes(), None, now, &mut rng)
            .map_err(ours)?;
    let attempt = |carol: &mut Group,
                   by_value: Vec<Proposal>,
                   change: ParticipantChange,
                   rng: &mut ChaCha20Rng|
     -> Step<Vec<u8>> {
        let options = CommitOptions {
            by_value,
            ..CommitOptions::default()
        };
        let output = carol.commit(&options, rng).map_err(ours)?;
        Ok(update_body(
            output.commit.to_bytes(),
            output.welcome.map(|w| w.to_bytes()),
            CAROL,
            vec![change],
        ))
    };
    let body = attempt(
        &mut carol,
        vec![Proposal::Add(Add { key_package })],
        ParticipantChange::Add(DAVE.into()),
        &mut rng,
    )?;
    let (status, answer) = update(ctx, &room, CAROL, body).await?;
    if !matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "room {room}: the Commit adding {DAVE} was answered {status} {:?} ({}): expected \
             success",
            answer.code, answer.error_description
        )));
    }
    carol.merge_pending_commit().map_err(ours)?;
    let remove = Proposal::Remove(Remove {
        removed: LeafIndex(1),
    });
    // dave leaves, f2's entry stays: refused.
    let body = attempt(
        &mut carol,
        vec![remove.clone()],
        ParticipantChange::Remove(DAVE.into()),
        &mut rng,
    )?;
    let (status, answer) = update(ctx, &room, CAROL, body).await?;
    if matches!(answer.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "room {room}: a Commit removing {DAVE}, {f2}'s last participant, while \
             external_senders keeps {f2}'s entry was accepted ({status}): the entry is removed \
             when its last participant leaves (MIMI-PROTOCOL-7.4-5)"
        )));
    }
    carol.discard_pending_commit();
    // dave leaves and f2's entry goes in the same Commit: accepted.
    let body = attempt(
        &mut carol,
        vec![
            remove,
            Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions: vec![senders_extension(vec![hub])],
            }),
        ],
        ParticipantChange::Remove(DAVE.into()),
        &mut rng,
    )?;
    let (status, accepted) = update(ctx, &room, CAROL, body).await?;
    if !matches!(accepted.code, UpdateCode::Success { .. }) {
        return Ok(Outcome::Fail(format!(
            "room {room}: the Commit removing {DAVE} and {f2}'s entry from external_senders was \
             answered {status} {:?} ({}): expected success",
            accepted.code, accepted.error_description
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: removing {DAVE} while {f2}'s entry stayed in external_senders was refused \
         ({:?}); removing both in one Commit was accepted",
        answer.code
    )))
}
