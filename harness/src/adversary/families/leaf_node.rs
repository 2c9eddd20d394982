//! `leaf-node.json`: LeafNode validation (RFC 9420 section 7.3) of the leaf in dave's
//! Update proposal (12.1.2). The leaf is re-signed by dave after each edit, the proposal
//! re-signed and re-tagged, so only the targeted rule is broken.

use concord_reference::codec::Bytes;
use concord_reference::crypto::CipherSuite;
use concord_reference::messages::{
    ContentBody, CredentialType, Extension, ExtensionType, LeafNode, LeafNodeSource, Lifetime,
    Proposal, ProposalType, WireFormat,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{content, public, sign_leaf};
use crate::adversary::world::{DAVE, World, wire};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};

pub const FAMILY: Family = Family {
    name: "leaf-node",
    description: "LeafNode validation of an Update proposal (RFC 9420 sections 7.3, 12.1.2): signature over LeafNodeTBS with group and leaf, leaf_node_source, extensions listed in capabilities",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control",
        "dave's Update proposal, re-signed unchanged",
        &["RFC9420-12.1.2-2"],
        Expect::Accept,
        control,
    ),
    recipe(
        "signature-flipped",
        "one bit of the leaf node signature flipped",
        &["RFC9420-7.3-7", "RFC9420-12.1.2-2", "RFC9420-7.3-4"],
        Expect::Reject(C::LeafNode),
        signature_flipped,
    ),
    recipe(
        "content-changed-not-resigned",
        "a GREASE cipher suite added to the leaf's capabilities after it was signed",
        &["RFC9420-7.2-9", "RFC9420-7.3-7"],
        Expect::Reject(C::LeafNode),
        content_changed_not_resigned,
    ),
    recipe(
        "grease-values-accepted",
        "GREASE values in every capabilities list and a GREASE extension in the leaf, listed (re-signed)",
        &["RFC9420-7.2-5", "RFC9420-13.5-9", "RFC9420-13.5-16"],
        Expect::Accept,
        grease_values_accepted,
    ),
    recipe(
        "source-key-package",
        "the Update's leaf node has source key_package (re-signed)",
        &["RFC9420-7.3-14", "RFC9420-12.1.2-2"],
        Expect::Reject(C::LeafNode),
        source_key_package,
    ),
    recipe(
        "source-commit",
        "the Update's leaf node has source commit (re-signed)",
        &["RFC9420-7.3-14", "RFC9420-12.1.2-2"],
        Expect::Reject(C::LeafNode),
        source_commit,
    ),
    recipe(
        "signed-for-another-leaf",
        "the leaf node signed with the leaf index of carol instead of dave",
        &["RFC9420-7.3-7", "RFC9420-12.1.2-2", "RFC9420-7.2-10"],
        Expect::Reject(C::LeafNode),
        signed_for_another_leaf,
    ),
    recipe(
        "signed-for-another-group",
        "the leaf node signed with another group_id",
        &["RFC9420-7.3-7", "RFC9420-12.1.2-2", "RFC9420-7.2-10"],
        Expect::Reject(C::LeafNode),
        signed_for_another_group,
    ),
];

/// dave's Update with its leaf edited; `sign` re-signs it (group id, leaf index).
fn update_with(
    world: &World,
    rng: &mut ChaCha20Rng,
    level: Level,
    edit: impl FnOnce(&mut LeafNode),
    sign: Option<(&[u8], LeafIndex)>,
) -> Result<Draft, GenError> {
    let mut dave = world.sender(DAVE)?;
    let (message, _) = at("propose update", dave.group.propose_update(rng))?;
    let ContentBody::Proposal(Proposal::Update(mut update)) = public(&message)?.content.body else {
        return Err(GenError::new("update", "not an Update proposal"));
    };
    edit(&mut update.leaf_node);
    if let Some((group_id, leaf)) = sign {
        sign_leaf(
            &world.suite,
            &mut update.leaf_node,
            &dave.signature_private,
            group_id,
            leaf,
        )?;
    }
    // A fresh sender state: the proposal above is not sent.
    let mut dave = world.sender(DAVE)?;
    let framed = content(&dave, ContentBody::Proposal(Proposal::Update(update)));
    let forged = at(
        "frame",
        dave.group
            .frame_forged(framed, WireFormat::MLS_PUBLIC_MESSAGE, None, rng),
    )?;
    Ok(Draft::message(level, wire(&forged)).flags(&["resigned", "remacced"]))
}

fn own(world: &World) -> Result<(Vec<u8>, LeafIndex), GenError> {
    Ok((
        world.sender(DAVE)?.group.group_id().to_vec(),
        LeafIndex(DAVE as u32),
    ))
}

fn control(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (group_id, leaf) = own(world)?;
    update_with(world, rng, Level::None, |_| {}, Some((&group_id, leaf)))
}

fn signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    update_with(
        world,
        rng,
        Level::Structure,
        |leaf| crate::adversary::mutate::flip_in_place(&mut leaf.signature.0),
        None,
    )
}

fn source_key_package(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (group_id, leaf) = own(world)?;
    let now = world.now;
    update_with(
        world,
        rng,
        Level::Structure,
        |node| {
            node.leaf_node_source = LeafNodeSource::KeyPackage {
                lifetime: Lifetime {
                    not_before: now,
                    not_after: now + 3600,
                },
            }
        },
        Some((&group_id, leaf)),
    )
}

fn source_commit(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (group_id, leaf) = own(world)?;
    let length = world.suite.hash_length();
    update_with(
        world,
        rng,
        Level::Structure,
        |node| {
            node.leaf_node_source = LeafNodeSource::Commit {
                parent_hash: Bytes(vec![0; length]),
            }
        },
        Some((&group_id, leaf)),
    )
}

fn signed_for_another_leaf(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (group_id, _) = own(world)?;
    update_with(
        world,
        rng,
        Level::Structure,
        |_| {},
        Some((&group_id, LeafIndex(1))),
    )
}

fn signed_for_another_group(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (_, leaf) = own(world)?;
    update_with(
        world,
        rng,
        Level::Structure,
        |_| {},
        Some((b"another group", leaf)),
    )
}

fn content_changed_not_resigned(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    update_with(
        world,
        rng,
        Level::Structure,
        |node| node.capabilities.cipher_suites.push(CipherSuite(0x0a0a)),
        None,
    )
}

fn grease_values_accepted(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (group_id, leaf) = own(world)?;
    update_with(
        world,
        rng,
        Level::None,
        |node| {
            let capabilities = &mut node.capabilities;
            capabilities.cipher_suites.push(CipherSuite(0x0a0a));
            capabilities.extensions.push(ExtensionType(0x1a1a));
            capabilities.proposals.push(ProposalType(0x2a2a));
            capabilities.credentials.push(CredentialType(0x3a3a));
            node.extensions
                .push(Extension::new(ExtensionType(0x1a1a), b"grease".to_vec()));
        },
        Some((&group_id, leaf)),
    )
}
