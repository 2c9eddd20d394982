//! `codec.json`: bytes-level mutations of encoded messages (RFC 9420 sections 2.1, 6,
//! 12.4.3): truncated, extended, non-minimal or reserved varints, invalid optional
//! presence, reordered fields. Nothing is re-signed: the decoder must refuse first.

use concord_reference::messages::MlsMessageBody;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{group_info, group_info_bytes, public};
use crate::adversary::mutate::ByteMutation;
use crate::adversary::world::{CAROL, ERIN, World, wire};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};
use concord_reference::codec::Codec;
use concord_reference::messages::MlsMessage;
use concord_reference::tree_math::LeafIndex;

pub const FAMILY: Family = Family {
    name: "codec",
    description: "Bytes-level mutations a decoder must refuse (RFC 9420 sections 2.1, 6, 12.4.3): truncation, trailing bytes, varint forms, optional presence, reordered fields, unknown wire format",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control",
        "carol's PublicMessage proposal, unmodified (the input every public case mutates)",
        &["RFC9420-6.2-2"],
        Expect::Accept,
        control,
    ),
    recipe(
        "public-truncated",
        "carol's PublicMessage proposal without its last byte",
        &["RFC9420-6.2-2"],
        Expect::Reject(C::Decode),
        public_truncated,
    ),
    recipe(
        "public-trailing-byte",
        "carol's PublicMessage proposal with one byte appended",
        &["RFC9420-6.2-2"],
        Expect::Reject(C::Decode),
        public_trailing_byte,
    ),
    recipe(
        "group-id-varint-not-minimal",
        "the group_id length written as a two-byte varint",
        &["RFC9420-2.1.2-1"],
        Expect::Reject(C::Decode),
        varint_not_minimal,
    ),
    recipe(
        "group-id-varint-reserved-prefix",
        "the group_id length uses the reserved varint prefix 0b11",
        &["RFC9420-2.1.2-2"],
        Expect::Reject(C::Decode),
        varint_reserved_prefix,
    ),
    recipe(
        "path-presence-invalid",
        "the optional<UpdatePath> presence octet of a commit is 2",
        &["RFC9420-2.1.1-1"],
        Expect::Reject(C::Decode),
        path_presence_invalid,
    ),
    recipe(
        "proposal-type-grease",
        "the proposal_type of carol's Remove proposal replaced by the GREASE value 0x0a0a",
        &["RFC9420-13.5-10", "RFC9420-13.5-16"],
        Expect::Reject(C::Decode),
        proposal_type_grease,
    ),
    recipe(
        "fields-reordered",
        "group_id and epoch of carol's proposal exchanged",
        &["RFC9420-6.2-2"],
        Expect::Reject(C::Decode),
        fields_reordered,
    ),
    recipe(
        "wire-format-unknown",
        "the MLSMessage wire_format is 0xff00",
        &["RFC9420-6.2-2"],
        Expect::Reject(C::Decode),
        wire_format_unknown,
    ),
    recipe(
        "private-truncated",
        "carol's PrivateMessage without its last byte",
        &["RFC9420-6.3.1-6"],
        Expect::Reject(C::Decode),
        private_truncated,
    ),
    recipe(
        "private-trailing-byte",
        "carol's PrivateMessage with one byte appended",
        &["RFC9420-6.3.1-6"],
        Expect::Reject(C::Decode),
        private_trailing_byte,
    ),
    recipe(
        "welcome-truncated",
        "the receiver's Welcome without its last byte",
        &["RFC9420-12.4.3.1-1"],
        Expect::Reject(C::Decode),
        welcome_truncated,
    ),
    recipe(
        "welcome-trailing-byte",
        "the receiver's Welcome with one byte appended",
        &["RFC9420-12.4.3.1-1"],
        Expect::Reject(C::Decode),
        welcome_trailing_byte,
    ),
    recipe(
        "group-info-truncated",
        "alice's GroupInfo without its last byte",
        &["RFC9420-12.4.3-5"],
        Expect::Reject(C::Decode),
        group_info_truncated,
    ),
    recipe(
        "group-info-trailing-byte",
        "alice's GroupInfo with one byte appended",
        &["RFC9420-12.4.3-5"],
        Expect::Reject(C::Decode),
        group_info_trailing_byte,
    ),
];

const TRUNCATE: ByteMutation = ByteMutation::Truncate { count: 1 };

fn extend() -> ByteMutation {
    ByteMutation::Extend { bytes: vec![0] }
}

fn proposal(world: &World, rng: &mut ChaCha20Rng) -> Result<MlsMessage, GenError> {
    let mut carol = world.sender(CAROL)?;
    Ok(at(
        "propose",
        carol.group.propose_remove(LeafIndex(ERIN as u32), rng),
    )?
    .0)
}

fn private(world: &World, rng: &mut ChaCha20Rng) -> Result<Vec<u8>, GenError> {
    let mut carol = world.private_sender(CAROL)?;
    Ok(wire(&at(
        "protect",
        carol.group.protect(b"", b"hello", rng),
    )?))
}

fn mutated(bytes: &[u8], mutation: ByteMutation) -> Result<Draft, GenError> {
    Ok(Draft::message(Level::Bytes, mutation.apply(bytes)?))
}

fn control(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::message(Level::None, wire(&proposal(world, rng)?)))
}

fn public_truncated(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    mutated(&wire(&proposal(world, rng)?), TRUNCATE)
}

fn public_trailing_byte(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    mutated(&wire(&proposal(world, rng)?), extend())
}

/// Offset of the group_id length in an MLSMessage carrying a PublicMessage: after
/// version and wire_format.
const GROUP_ID_LENGTH: usize = 4;

fn group_id_length(world: &World) -> Result<u8, GenError> {
    let length = world.sender(CAROL)?.group.group_id().len();
    u8::try_from(length)
        .ok()
        .filter(|l| *l < 64)
        .ok_or_else(|| GenError::new("group id", "not a one-byte varint"))
}

fn varint_not_minimal(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let length = group_id_length(world)?;
    mutated(
        &wire(&proposal(world, rng)?),
        ByteMutation::Splice {
            offset: GROUP_ID_LENGTH,
            length: 1,
            bytes: vec![0x40, length],
        },
    )
}

fn varint_reserved_prefix(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let length = group_id_length(world)?;
    mutated(
        &wire(&proposal(world, rng)?),
        ByteMutation::Splice {
            offset: GROUP_ID_LENGTH,
            length: 1,
            bytes: vec![0xc0 | length],
        },
    )
}

/// Bytes of a length-prefixed vector of `n` bytes.
fn vector_length(n: usize) -> usize {
    let prefix = match n {
        0..=63 => 1,
        64..=16383 => 2,
        _ => 4,
    };
    prefix + n
}

fn path_presence_invalid(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let commit = super::public_message::add_commit(world, rng)?;
    let message = public(&commit)?;
    if !matches!(&message.content.body, concord_reference::messages::ContentBody::Commit(c) if c.path.is_none())
    {
        return Err(GenError::new("commit", "expected a commit without a path"));
    }
    // After the presence octet: signature, confirmation tag, membership tag.
    let tail = vector_length(message.auth.signature.len())
        + vector_length(
            message
                .auth
                .confirmation_tag
                .as_ref()
                .map_or(0, |t| t.len()),
        )
        + vector_length(message.membership_tag.as_ref().map_or(0, |t| t.len()));
    let bytes = wire(&commit);
    let offset = bytes
        .len()
        .checked_sub(tail + 1)
        .ok_or_else(|| GenError::new("commit", "shorter than its tail"))?;
    if bytes.get(offset) != Some(&0) {
        return Err(GenError::new(
            "commit",
            "no absent-path octet where expected",
        ));
    }
    mutated(
        &bytes,
        ByteMutation::Splice {
            offset,
            length: 1,
            bytes: vec![2],
        },
    )
}

fn fields_reordered(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let length = usize::from(group_id_length(world)?);
    mutated(
        &wire(&proposal(world, rng)?),
        ByteMutation::Swap {
            offset: GROUP_ID_LENGTH,
            first: 1 + length,
            second: 8,
        },
    )
}

fn proposal_type_grease(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let bytes = wire(&proposal(world, rng)?);
    // After the group_id: epoch (8), sender type and leaf index (1 + 4), an empty
    // authenticated_data (1) and content_type (1), then the proposal_type.
    let offset = GROUP_ID_LENGTH + 1 + usize::from(group_id_length(world)?) + 8 + 5 + 1 + 1;
    if bytes.get(offset - 2..offset + 2) != Some(&[0, 2, 0, 3][..]) {
        return Err(GenError::new(
            "proposal",
            "no empty authenticated_data, proposal content type and Remove type where expected",
        ));
    }
    mutated(
        &bytes,
        ByteMutation::Splice {
            offset,
            length: 2,
            bytes: vec![0x0a, 0x0a],
        },
    )
}

fn wire_format_unknown(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    mutated(
        &wire(&proposal(world, rng)?),
        ByteMutation::Splice {
            offset: 2,
            length: 2,
            bytes: vec![0xff, 0x00],
        },
    )
}

fn private_truncated(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    mutated(&private(world, rng)?, TRUNCATE)
}

fn private_trailing_byte(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    mutated(&private(world, rng)?, extend())
}

fn welcome(world: &World) -> Vec<u8> {
    MlsMessage::new(MlsMessageBody::Welcome(world.welcome.clone())).to_bytes()
}

fn welcome_truncated(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::welcome(
        Level::Bytes,
        TRUNCATE.apply(&welcome(world))?,
    ))
}

fn welcome_trailing_byte(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::welcome(
        Level::Bytes,
        extend().apply(&welcome(world))?,
    ))
}

fn group_info_truncated(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let bytes = group_info_bytes(group_info(world)?);
    Ok(Draft::group_info(Level::Bytes, TRUNCATE.apply(&bytes)?))
}

fn group_info_trailing_byte(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let bytes = group_info_bytes(group_info(world)?);
    Ok(Draft::group_info(Level::Bytes, extend().apply(&bytes)?))
}
