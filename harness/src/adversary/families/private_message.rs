//! `private-message.json`: PrivateMessage protection (RFC 9420 sections 6.3, 9, 15.3).
//! The base input is carol's application message or her proposal framed as a
//! PrivateMessage; forged content is encrypted under the right ratchet key, so the
//! targeted check is the only one left to fail.

use concord_reference::codec::Bytes;
use concord_reference::messages::{
    ContentBody, FramedContent, MlsMessageBody, Proposal, Remove, Sender, WireFormat,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::content;
use crate::adversary::world::{ALICE, BLANK_LEAF, CAROL, DAVE, ERIN, World, wire};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};

pub const FAMILY: Family = Family {
    name: "private-message",
    description: "PrivateMessage protection: content and sender data decryption, sender, generation, epoch and signature checks (RFC 9420 sections 6.3, 9, 15.3)",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control-application",
        "carol's application message, unmodified",
        &["RFC9420-6.3.1-1"],
        Expect::Accept,
        control_application,
    ),
    recipe(
        "control-large-application",
        "carol's application message of 20,000 bytes with 17,000 bytes of authenticated data, unmodified: vectors whose lengths take the four-byte varint",
        &["RFC9420-6.3.1-1", "RFC9420-2.1.2-1"],
        Expect::Accept,
        control_large_application,
    ),
    recipe(
        "control-proposal",
        "carol's Remove proposal for erin as a PrivateMessage, unmodified",
        &["RFC9420-6.3.1-1"],
        Expect::Accept,
        control_proposal,
    ),
    recipe(
        "ciphertext-flipped",
        "one bit of the content ciphertext flipped",
        &["RFC9420-6.3.1-1"],
        Expect::Reject(C::Decryption),
        ciphertext_flipped,
    ),
    recipe(
        "sender-data-flipped",
        "one bit of encrypted_sender_data flipped",
        &["RFC9420-6.3.2-1"],
        Expect::Reject(C::Decryption),
        sender_data_flipped,
    ),
    recipe(
        "authenticated-data-changed",
        "authenticated_data changed after encryption (it is in the content AAD)",
        &["RFC9420-6.3.1-1"],
        Expect::Reject(C::Decryption),
        authenticated_data_changed,
    ),
    recipe(
        "padding-not-zero",
        "carol's Remove proposal whose encrypted content ends in padding with a non-zero byte",
        &["RFC9420-6.3.1-2"],
        Expect::Reject(C::Decode),
        padding_not_zero,
    ),
    recipe(
        "application-replayed",
        "carol's application message delivered twice: its key was consumed",
        &["RFC9420-9.2-6", "RFC9420-9.2-1"],
        Expect::Reject(C::Generation),
        application_replayed,
    ),
    recipe(
        "generation-too-far-ahead",
        "carol's 1001st application message of the epoch arrives first (beyond a forward distance of 1000)",
        &["RFC9420-15.3-3", "RFC9420-15.3-2"],
        Expect::Reject(C::Generation),
        generation_too_far_ahead,
    ),
    recipe(
        "sender-blank-leaf",
        "content from a blank leaf, encrypted under that leaf's ratchet",
        &["RFC9420-6.3.2-2"],
        Expect::Reject(C::Sender),
        sender_blank_leaf,
    ),
    recipe(
        "signed-by-another-member",
        "content naming carol, encrypted under carol's ratchet, signed with dave's key",
        &["RFC9420-6.3.1-6", "RFC9420-6.1-1", "RFC9420-12.1-1"],
        Expect::Reject(C::Signature),
        signed_by_another_member,
    ),
    recipe(
        "epoch-ahead",
        "a proposal for the next epoch, encrypted with this epoch's keys",
        &["RFC9420-12.1-2"],
        Expect::Reject(C::Epoch),
        epoch_ahead,
    ),
    recipe(
        "group-id-other",
        "a proposal naming another group, encrypted with this epoch's keys",
        &["RFC9420-12.1-2"],
        Expect::Reject(C::GroupId),
        group_id_other,
    ),
    recipe(
        "application-from-previous-epoch",
        "carol's application message of epoch 3 delivered after alice's commit to epoch 4 (retention is the application's choice)",
        &["RFC9420-9.2-2"],
        Expect::Acceptable,
        application_from_previous_epoch,
    ),
];

fn private_carol(world: &World) -> Result<crate::adversary::world::Member, GenError> {
    world.private_sender(CAROL)
}

fn application(world: &World, rng: &mut ChaCha20Rng) -> Result<Vec<u8>, GenError> {
    let mut carol = private_carol(world)?;
    Ok(wire(&at(
        "protect",
        carol.group.protect(b"ad", b"hello from carol", rng),
    )?))
}

fn control_application(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::message(Level::None, application(world, rng)?))
}

/// Lengths of 16,384 bytes and more take the four-byte varint (RFC 9420 section 2.1.2),
/// which no other case reaches.
fn control_large_application(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut carol = private_carol(world)?;
    let authenticated_data = vec![0x61; 17_000];
    let text = vec![0x62; 20_000];
    let message = at(
        "protect",
        carol.group.protect(&authenticated_data, &text, rng),
    )?;
    Ok(Draft::message(Level::None, wire(&message)))
}

fn remove_erin() -> ContentBody {
    ContentBody::Proposal(Proposal::Remove(Remove {
        removed: LeafIndex(ERIN as u32),
    }))
}

fn control_proposal(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut carol = private_carol(world)?;
    let (message, _) = at(
        "propose",
        carol.group.propose_remove(LeafIndex(ERIN as u32), rng),
    )?;
    Ok(Draft::message(Level::None, wire(&message)))
}

/// carol's application message with its PrivateMessage edited.
fn edited_application(
    world: &World,
    rng: &mut ChaCha20Rng,
    edit: impl FnOnce(&mut concord_reference::messages::PrivateMessage),
) -> Result<Vec<u8>, GenError> {
    let mut carol = private_carol(world)?;
    let mut message = at("protect", carol.group.protect(b"ad", b"hello", rng))?;
    match &mut message.body {
        MlsMessageBody::PrivateMessage(private) => edit(private),
        _ => return Err(GenError::new("protect", "not a PrivateMessage")),
    }
    Ok(wire(&message))
}

fn ciphertext_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited_application(world, rng, |m| {
        crate::adversary::mutate::flip_in_place(&mut m.ciphertext.0)
    })?;
    Ok(Draft::message(Level::Bytes, input))
}

fn sender_data_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited_application(world, rng, |m| {
        crate::adversary::mutate::flip_in_place(&mut m.encrypted_sender_data.0)
    })?;
    Ok(Draft::message(Level::Bytes, input))
}

fn authenticated_data_changed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = edited_application(world, rng, |m| {
        m.authenticated_data = Bytes(b"changed".to_vec())
    })?;
    Ok(Draft::message(Level::Structure, input))
}

fn application_replayed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let message = application(world, rng)?;
    Ok(Draft::message(Level::Bytes, message.clone())
        .prior(vec![message])
        .flags(&["replay"]))
}

fn generation_too_far_ahead(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut carol = private_carol(world)?;
    // Generations 0 to 1000 are sent and lost; generation 1001 is the input.
    for _ in 0..=1000 {
        at("protect", carol.group.protect(b"", b"lost", rng))?;
    }
    let message = at("protect", carol.group.protect(b"", b"far ahead", rng))?;
    Ok(Draft::message(Level::Structure, wire(&message)).flags(&["generation-1001"]))
}

/// carol (or `signer`) frames `edit`ed content of her proposal as a PrivateMessage.
fn forged(
    world: &World,
    signer: usize,
    rng: &mut ChaCha20Rng,
    edit: impl FnOnce(&mut FramedContent),
) -> Result<Vec<u8>, GenError> {
    let carol = private_carol(world)?;
    let mut framed = content(&carol, remove_erin());
    edit(&mut framed);
    let mut sender = world.private_sender(signer)?;
    let message = at(
        "frame",
        sender
            .group
            .frame_forged(framed, WireFormat::MLS_PRIVATE_MESSAGE, None, rng),
    )?;
    Ok(wire(&message))
}

fn padding_not_zero(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let carol = private_carol(world)?;
    let framed = content(&carol, remove_erin());
    let mut sender = private_carol(world)?;
    let message = at(
        "frame",
        sender.group.frame_private_edited(
            framed,
            4,
            |plaintext| {
                if let Some(last) = plaintext.last_mut() {
                    *last = 1;
                }
            },
            rng,
        ),
    )?;
    Ok(Draft::message(Level::Structure, wire(&message)).flags(&["resigned", "reencrypted"]))
}

fn sender_blank_leaf(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = forged(world, CAROL, rng, |c| {
        c.sender = Sender::Member {
            leaf_index: BLANK_LEAF,
        }
    })?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "reencrypted"]))
}

fn signed_by_another_member(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = forged(world, DAVE, rng, |_| {})?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "reencrypted"]))
}

fn epoch_ahead(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = forged(world, CAROL, rng, |c| c.epoch += 1)?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "reencrypted"]))
}

fn group_id_other(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let input = forged(world, CAROL, rng, |c| {
        c.group_id = Bytes(b"another group".to_vec())
    })?;
    Ok(Draft::message(Level::Structure, input).flags(&["resigned", "reencrypted"]))
}

fn application_from_previous_epoch(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    let late = application(world, rng)?;
    let mut alice = world.sender(ALICE)?;
    let commit = at(
        "commit",
        alice
            .group
            .commit(&concord_reference::group::CommitOptions::default(), rng),
    )?;
    Ok(Draft::message(Level::None, late)
        .prior(vec![wire(&commit.commit)])
        .flags(&["late"]))
}
