//! `group-info.json`: the GroupInfo an external joiner starts from (RFC 9420 sections
//! 12.4.3, 12.4.3.2, 12.4.3.3). The input is alice's GroupInfo with the tree inside; a
//! new client (identity `concord external joiner`) must refuse to build an external
//! commit from it. Each edit is re-signed by alice; tree edits are repaired like the
//! ratchet-tree family's.

use concord_reference::messages::{ExtensionType, GroupInfo};
use concord_reference::ratchet_tree::RatchetTree;
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::ratchet_tree::{edit_leaf, edit_parent};
use super::recipe;
use crate::adversary::forge::{
    group_info, group_info_bytes, info_tree, refresh_parent_hashes, resign_group_info,
    set_info_tree, set_info_wire_tree,
};
use crate::adversary::world::{BLANK_LEAF, DAVE, ERIN, World};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe};

pub const FAMILY: Family = Family {
    name: "group-info",
    description: "The GroupInfo of an external join (RFC 9420 sections 12.4.3, 12.4.3.2, 12.4.3.3): signature, signer, external_pub, tree hash and tree validity",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control",
        "alice's GroupInfo with the tree and external_pub, unmodified",
        &["RFC9420-12.4.3-5"],
        Expect::Accept,
        control,
    ),
    recipe(
        "control-resigned",
        "alice's GroupInfo re-signed unchanged (the construction of every case here)",
        &["RFC9420-12.4.3-5"],
        Expect::Accept,
        control_resigned,
    ),
    recipe(
        "unknown-extension-ignored",
        "an extension of an unknown type in GroupInfo.extensions (re-signed): a joiner ignores it",
        &["RFC9420-12.4.3-1", "RFC9420-13.4-3"],
        Expect::Accept,
        unknown_extension,
    ),
    recipe(
        "signature-flipped",
        "one bit of the GroupInfo signature flipped",
        &["RFC9420-12.4.3-5"],
        Expect::Reject(C::GroupInfoSignature),
        signature_flipped,
    ),
    recipe(
        "signer-blank",
        "the signer index names a blank leaf (signed by alice)",
        &["RFC9420-12.4.3.1-13", "RFC9420-12.4.3-5"],
        Expect::Reject(C::GroupInfo),
        signer_blank,
    ),
    recipe(
        "signer-other-member",
        "the signer index names dave, the signature is alice's",
        &["RFC9420-12.4.3-5"],
        Expect::Reject(C::GroupInfoSignature),
        signer_other_member,
    ),
    recipe(
        "external-pub-absent",
        "no external_pub extension (re-signed)",
        &["RFC9420-12.4.3.2-6"],
        Expect::Reject(C::ExternalCommit),
        external_pub_absent,
    ),
    recipe(
        "tree-hash-mismatch",
        "the GroupContext tree_hash has one bit flipped (re-signed)",
        &["RFC9420-12.4.3.3-6"],
        Expect::Reject(C::TreeHash),
        tree_hash_mismatch,
    ),
    recipe(
        "parent-hash-changed",
        "node 3's parent_hash has one bit flipped (tree hash follows, re-signed)",
        &["RFC9420-7.9.2-1"],
        Expect::Reject(C::ParentHash),
        parent_hash_changed,
    ),
    recipe(
        "leaf-signature-flipped",
        "one bit of carol's leaf signature flipped (parent hashes recomputed, re-signed)",
        &["RFC9420-7.3-7", "RFC9420-7.3-5"],
        Expect::Reject(C::LeafNode),
        leaf_signature_flipped,
    ),
    recipe(
        "duplicate-encryption-key",
        "erin's leaf has dave's encryption key (re-signed by erin)",
        &["RFC9420-7.3-17", "RFC9420-7.3-5"],
        Expect::Reject(C::TreeValidation),
        duplicate_encryption_key,
    ),
    recipe(
        "extension-repeated",
        "the GroupInfo carries its external_pub extension twice (re-signed)",
        &["RFC9420-13.4-4"],
        Expect::Reject(C::GroupInfo),
        extension_repeated,
    ),
    recipe(
        "tree-absent",
        "no ratchet_tree extension and no tree out of band",
        &["RFC9420-12.4.3.1-6"],
        Expect::Reject(C::TreeValidation),
        tree_absent,
    ),
];

fn signed(world: &World, mut info: GroupInfo, level: Level) -> Result<Draft, GenError> {
    resign_group_info(world, &mut info)?;
    Ok(Draft::group_info(level, group_info_bytes(info)).flags(&["resigned"]))
}

fn control(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::group_info(
        Level::None,
        group_info_bytes(group_info(world)?),
    ))
}

fn control_resigned(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    signed(world, group_info(world)?, Level::None)
}

fn unknown_extension(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    info.extensions
        .push(concord_reference::messages::Extension::new(
            ExtensionType(0xff02),
            b"unknown to every client".to_vec(),
        ));
    signed(world, info, Level::Structure)
}

fn extension_repeated(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    let external_pub = info
        .extensions
        .iter()
        .find(|e| e.extension_type == ExtensionType::EXTERNAL_PUB)
        .cloned()
        .ok_or_else(|| GenError::new("group info", "no external_pub extension"))?;
    info.extensions.push(external_pub);
    signed(world, info, Level::Structure)
}

fn signature_flipped(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    crate::adversary::mutate::flip_in_place(&mut info.signature.0);
    Ok(Draft::group_info(Level::Structure, group_info_bytes(info)))
}

fn signer_blank(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    info.signer = BLANK_LEAF;
    signed(world, info, Level::Structure)
}

fn signer_other_member(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    info.signer = LeafIndex(DAVE as u32);
    signed(world, info, Level::Structure)
}

fn external_pub_absent(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    info.extensions
        .retain(|e| e.extension_type != ExtensionType::EXTERNAL_PUB);
    signed(world, info, Level::Structure)
}

fn tree_hash_mismatch(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    crate::adversary::mutate::flip_in_place(&mut info.group_context.tree_hash.0);
    signed(world, info, Level::Structure)
}

/// alice's GroupInfo with its tree edited, repaired (`refresh`: parent hashes too).
fn edited_tree(
    world: &World,
    refresh: bool,
    edit: impl FnOnce(&World, &[u8], &mut RatchetTree) -> Result<(), GenError>,
) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    let group_id = info.group_context.group_id.as_slice().to_vec();
    let mut tree = info_tree(&info)?;
    edit(world, &group_id, &mut tree)?;
    if refresh {
        refresh_parent_hashes(world, &group_id, &mut tree)?;
    }
    set_info_tree(world, &mut info, &tree);
    signed(world, info, Level::Structure)
}

fn parent_hash_changed(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_tree(world, false, |_, _, tree| {
        edit_parent(tree, 3, |p| {
            crate::adversary::mutate::flip_in_place(&mut p.parent_hash.0)
        })
    })
}

fn leaf_signature_flipped(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited_tree(world, true, |_, _, tree| {
        let mut node = tree
            .leaf(LeafIndex(1))
            .cloned()
            .ok_or_else(|| GenError::new("tree", "carol's leaf is blank"))?;
        crate::adversary::mutate::flip_in_place(&mut node.signature.0);
        crate::adversary::at("set leaf", tree.set_leaf(LeafIndex(1), node))
    })
}

fn duplicate_encryption_key(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let erin = world.sender(ERIN)?;
    let dave_key = world
        .sender(DAVE)?
        .group
        .own_leaf_node()
        .map(|n| n.encryption_key.clone())
        .ok_or_else(|| GenError::new("dave", "blank leaf"))?;
    edited_tree(world, true, |world, group_id, tree| {
        edit_leaf(
            world,
            group_id,
            tree,
            LeafIndex(ERIN as u32),
            &erin.signature_private,
            |leaf| leaf.encryption_key = dave_key,
        )
    })
}

fn tree_absent(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut info = group_info(world)?;
    set_info_wire_tree(&mut info, None);
    signed(world, info, Level::Structure)
}
