//! group-info-verification: the requester's rule of "Claim group key information"
//! (MIMI-PROTOCOL-5.6-6), exercised with Concord's requester
//! ([`concord_reference::mimi::group_info::open_response`]) on real answers of the hub
//! under test: the answer as it came must verify with its `hub_sender` key and open;
//! altered one part at a time in transit, it must be refused before the GroupInfo is used.
//!
//! ```text
//!  carol@f1 ──GroupInfoRequest──> hub under test ──GroupInfoResponse──> open_response: ok
//!     altered: signature | hub_sender key | hub_sender credential | ciphertext | cipher_suite
//!              | asked for another room ──> open_response: refused
//! ```

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::Credential;
use concord_reference::mimi::group_info::{GroupInfoResponseError, open_response};
use concord_reference::mimi::wire::{GroupInfoResponse, GroupInfoStatus, GroupInfoSuccess};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::mls;
use super::ptest::{Ctx, Outcome};
use super::rooms::{CAROL, Step, create_room, finish, group_info_request, ours, post, text};

/// group-info-verification: see the module docs.
pub async fn check_group_info_verification(ctx: &mut Ctx) -> Outcome {
    finish(group_info_verification(ctx).await)
}

/// One alteration of a success answer, and what it is called in the verdict.
type Alteration = (&'static str, Box<dyn Fn(&mut GroupInfoSuccess)>);

async fn group_info_verification(ctx: &mut Ctx) -> Step<Outcome> {
    let (room, _carol) = create_room(ctx, "group-info-verification").await?;
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
    // MIMI-PROTOCOL-5.6-6: the hub's answer verifies with the key it names, so a
    // requester that verifies before use can use it.
    if let Err(e) = open_response(&room, &response, &ask.hpke_private) {
        return Ok(Outcome::Fail(format!(
            "the hub's GroupInfoResponse for the room's creator is refused by a requester \
             that verifies it before use: {e}"
        )));
    }
    let suite = Suite::new(CipherSuite(mls::SUITE)).map_err(|e| ours(e.to_string()))?;
    let other_key = suite
        .signature_generate(&mut rng)
        .map_err(|e| ours(e.to_string()))?
        .public;
    let alterations: Vec<Alteration> = vec![
        ("signature", Box::new(|s| flip_first(&mut s.signature.0))),
        (
            "hub_sender.signature_key",
            Box::new(move |s| s.hub_sender.signature_key.0 = Bytes(other_key.clone())),
        ),
        (
            "hub_sender.credential",
            Box::new(|s| s.hub_sender.credential = Credential::basic(b"other.example".to_vec())),
        ),
        (
            "encrypted_groupinfo_and_tree",
            Box::new(|s| flip_first(&mut s.encrypted_groupinfo_and_tree.ciphertext.0)),
        ),
        (
            "cipher_suite",
            Box::new(|s| s.cipher_suite = CipherSuite(3)),
        ),
    ];
    let mut used = Vec::new();
    for (part, alter) in &alterations {
        let mut altered = response.clone();
        if let GroupInfoStatus::Success(success) = &mut altered.status {
            alter(success);
        }
        match open_response(&room, &altered, &ask.hpke_private) {
            Err(
                GroupInfoResponseError::Signature | GroupInfoResponseError::UnsupportedSuite(_),
            ) => {}
            other => used.push(format!("{part}: {other:?}")),
        }
    }
    // The same answer, taken for another room than the one asked for.
    let other_room = format!("{room}-other");
    if !matches!(
        open_response(&other_room, &response, &ask.hpke_private),
        Err(GroupInfoResponseError::OtherRoom { .. })
    ) {
        used.push("answer for another room: not refused".into());
    }
    if !used.is_empty() {
        return Ok(Outcome::Fail(format!(
            "Concord's requester used an altered GroupInfoResponse (MIMI-PROTOCOL-5.6-6): {}",
            used.join("; ")
        )));
    }
    Ok(Outcome::Pass(format!(
        "room {room}: the hub's GroupInfoResponse verified with its hub_sender key and opened; \
         altered in {} signed parts or taken for another room it was refused before use",
        alterations.len()
    )))
}

fn flip_first(bytes: &mut [u8]) {
    if let Some(first) = bytes.first_mut() {
        *first ^= 1;
    }
}
