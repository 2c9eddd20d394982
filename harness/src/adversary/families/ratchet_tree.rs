//! `ratchet-tree.json`: the ratchet tree a joiner receives (RFC 9420 sections 7.1, 7.3,
//! 7.9.2, 12.4.3.1, 12.4.3.3), in the GroupInfo of the receiver's Welcome. After an edit
//! the parent hashes along alice's path are recomputed (and her leaf re-signed) unless
//! the parent hash is the target; the GroupContext's tree hash follows the tree unless
//! the tree hash is the target; then the GroupInfo is retagged, re-signed and the
//! Welcome resealed.

use concord_reference::codec::Bytes;
use concord_reference::messages::{Extension, ExtensionType, Node};
use concord_reference::ratchet_tree::RatchetTree;
use concord_reference::tree_math::{LeafIndex, NodeIndex};
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{
    self, honest_welcome, info_tree, refresh_parent_hashes, set_info_tree, set_info_wire_tree,
    sign_leaf,
};
use crate::adversary::world::{DAVE, ERIN, RECEIVER_LEAF, World};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe, at};

pub const FAMILY: Family = Family {
    name: "ratchet-tree",
    description: "Validation of the ratchet tree a joiner receives (RFC 9420 sections 7.1, 7.3, 7.9.2, 12.4.3.1, 12.4.3.3): tree hash, parent hashes, leaf signatures and extensions, unique keys, unmerged leaves, encoding",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control-rehashed",
        "the tree with its parent hashes recomputed and alice's leaf re-signed, nothing else changed",
        &["RFC9420-12.4.3.1-4"],
        Expect::Accept,
        control_rehashed,
    ),
    recipe(
        "tree-hash-mismatch",
        "the GroupContext tree_hash has one bit flipped (retagged, re-signed)",
        &["RFC9420-12.4.3.1-16", "RFC9420-12.4.3.3-6"],
        Expect::Reject(C::TreeHash),
        tree_hash_mismatch,
    ),
    recipe(
        "parent-hash-changed",
        "node 3's parent_hash has one bit flipped",
        &["RFC9420-12.4.3.1-17", "RFC9420-7.9.2-1"],
        Expect::Reject(C::ParentHash),
        parent_hash_changed,
    ),
    recipe(
        "parent-key-replaced",
        "node 3's encryption key replaced by another valid key",
        &["RFC9420-12.4.3.1-17", "RFC9420-7.9.2-3"],
        Expect::Reject(C::ParentHash),
        parent_key_replaced,
    ),
    recipe(
        "leaf-signature-flipped",
        "one bit of carol's leaf signature flipped (parent hashes recomputed)",
        &["RFC9420-12.4.3.1-18", "RFC9420-7.3-7"],
        Expect::Reject(C::LeafNode),
        leaf_signature_flipped,
    ),
    recipe(
        "leaf-extension-not-in-capabilities",
        "dave's leaf carries an extension its capabilities do not list (re-signed by dave)",
        &["RFC9420-12.4.3.1-18", "RFC9420-7.3-12", "RFC9420-7.2-3"],
        Expect::Reject(C::LeafNode),
        leaf_extension_not_listed,
    ),
    recipe(
        "duplicate-signature-key",
        "erin's leaf has dave's signature key (signed by dave)",
        &["RFC9420-7.3-16", "RFC9420-12.4.3.1-18"],
        Expect::Reject(C::TreeValidation),
        duplicate_signature_key,
    ),
    recipe(
        "duplicate-encryption-key",
        "erin's leaf has dave's encryption key (re-signed by erin)",
        &["RFC9420-7.3-17", "RFC9420-12.4.3.1-21"],
        Expect::Reject(C::TreeValidation),
        duplicate_encryption_key,
    ),
    recipe(
        "unmerged-leaves-not-increasing",
        "the root lists leaf 4 twice as unmerged",
        &["RFC9420-7.1-1"],
        Expect::Reject(C::TreeValidation),
        unmerged_not_increasing,
    ),
    recipe(
        "tree-absent",
        "the GroupInfo carries no ratchet_tree extension and none is given out of band",
        &["RFC9420-12.4.3.1-6"],
        Expect::Reject(C::TreeValidation),
        tree_absent,
    ),
    recipe(
        "parent-at-leaf-position",
        "a blank leaf position of the ratchet_tree extension holds a copy of a parent node (it hashes as the blank leaf it replaces, so the tree hash and parent hashes still match)",
        &["RFC9420-12.4.3.3-4"],
        Expect::Reject(C::TreeValidation),
        parent_at_leaf_position,
    ),
    recipe(
        "leaf-at-parent-position",
        "a blank parent position of the ratchet_tree extension holds a fresh KeyPackage's leaf, valid on its own (it hashes as the blank parent it replaces)",
        &["RFC9420-12.4.3.3-4"],
        Expect::Reject(C::TreeValidation),
        leaf_at_parent_position,
    ),
    recipe(
        "trailing-blank-node",
        "the ratchet_tree extension ends with blank nodes",
        &["RFC9420-12.4.3.3-2"],
        Expect::Reject(C::Decode),
        trailing_blank,
    ),
];

/// How the tree edit is made honest again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Repair {
    /// Parent hashes and tree hash recomputed.
    Full,
    /// The parent hash is the target: only the tree hash follows.
    TreeHashOnly,
}

/// The receiver's Welcome with its tree edited.
fn edited(
    world: &World,
    rng: &mut ChaCha20Rng,
    repair: Repair,
    edit: impl FnOnce(&World, &[u8], &mut RatchetTree) -> Result<(), GenError>,
) -> Result<Draft, GenError> {
    let mut opened = forge::open(world)?;
    let group_id = opened.info.group_context.group_id.as_slice().to_vec();
    let mut tree = info_tree(&opened.info)?;
    edit(world, &group_id, &mut tree)?;
    if repair == Repair::Full {
        refresh_parent_hashes(world, &group_id, &mut tree)?;
    }
    set_info_tree(world, &mut opened.info, &tree);
    Ok(
        Draft::welcome(Level::Structure, honest_welcome(world, &opened, rng)?).flags(&[
            "retagged",
            "resigned",
            "reencrypted",
        ]),
    )
}

/// Applies `edit` to a leaf and re-signs it with `signer`'s key.
pub(super) fn edit_leaf(
    world: &World,
    group_id: &[u8],
    tree: &mut RatchetTree,
    leaf: LeafIndex,
    signer: &[u8],
    edit: impl FnOnce(&mut concord_reference::messages::LeafNode),
) -> Result<(), GenError> {
    let mut node = tree
        .leaf(leaf)
        .cloned()
        .ok_or_else(|| GenError::new("tree", format!("leaf {} is blank", leaf.0)))?;
    edit(&mut node);
    sign_leaf(&world.suite, &mut node, signer, group_id, leaf)?;
    at("set leaf", tree.set_leaf(leaf, node))
}

/// Applies `edit` to parent node `index`.
pub(super) fn edit_parent(
    tree: &mut RatchetTree,
    index: u32,
    edit: impl FnOnce(&mut concord_reference::messages::ParentNode),
) -> Result<(), GenError> {
    let mut node = tree
        .parent_node(NodeIndex(index))
        .cloned()
        .ok_or_else(|| GenError::new("tree", format!("node {index} is not a parent")))?;
    edit(&mut node);
    tree.set_parent(NodeIndex(index), node);
    Ok(())
}

fn control_rehashed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let draft = edited(world, rng, Repair::Full, |_, _, _| Ok(()))?;
    Ok(Draft {
        level: Level::None,
        ..draft
    })
}

fn tree_hash_mismatch(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut opened = forge::open(world)?;
    crate::adversary::mutate::flip_in_place(&mut opened.info.group_context.tree_hash.0);
    Ok(
        Draft::welcome(Level::Structure, honest_welcome(world, &opened, rng)?).flags(&[
            "retagged",
            "resigned",
            "reencrypted",
        ]),
    )
}

fn parent_hash_changed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, rng, Repair::TreeHashOnly, |_, _, tree| {
        edit_parent(tree, 3, |p| {
            crate::adversary::mutate::flip_in_place(&mut p.parent_hash.0)
        })
    })
}

fn parent_key_replaced(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let fresh = at("key pair", world.suite.hpke_generate_key_pair(rng))?;
    edited(world, rng, Repair::TreeHashOnly, |_, _, tree| {
        edit_parent(tree, 3, |p| p.encryption_key.0 = Bytes(fresh.public))
    })
}

fn leaf_signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, rng, Repair::Full, |_, _, tree| {
        let mut node = tree
            .leaf(LeafIndex(1))
            .cloned()
            .ok_or_else(|| GenError::new("tree", "carol's leaf is blank"))?;
        crate::adversary::mutate::flip_in_place(&mut node.signature.0);
        at("set leaf", tree.set_leaf(LeafIndex(1), node))
    })
}

fn leaf_extension_not_listed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let dave = world.sender(DAVE)?;
    edited(world, rng, Repair::Full, |world, group_id, tree| {
        edit_leaf(
            world,
            group_id,
            tree,
            LeafIndex(DAVE as u32),
            &dave.signature_private,
            |leaf| {
                leaf.extensions
                    .push(Extension::new(ExtensionType(0xff01), b"unlisted".to_vec()))
            },
        )
    })
}

fn duplicate_signature_key(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let dave = world.sender(DAVE)?;
    let dave_key = dave
        .group
        .own_leaf_node()
        .map(|n| n.signature_key.clone())
        .ok_or_else(|| GenError::new("dave", "blank leaf"))?;
    edited(world, rng, Repair::Full, |world, group_id, tree| {
        edit_leaf(
            world,
            group_id,
            tree,
            LeafIndex(ERIN as u32),
            &dave.signature_private,
            |leaf| leaf.signature_key = dave_key,
        )
    })
}

fn duplicate_encryption_key(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let erin = world.sender(ERIN)?;
    let dave_key = world
        .sender(DAVE)?
        .group
        .own_leaf_node()
        .map(|n| n.encryption_key.clone())
        .ok_or_else(|| GenError::new("dave", "blank leaf"))?;
    edited(world, rng, Repair::Full, |world, group_id, tree| {
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

fn unmerged_not_increasing(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, rng, Repair::Full, |_, _, tree| {
        let root = tree.root().0;
        edit_parent(tree, root, |p| {
            p.unmerged_leaves = vec![RECEIVER_LEAF, RECEIVER_LEAF]
        })
    })
}

fn tree_absent(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut opened = forge::open(world)?;
    set_info_wire_tree(&mut opened.info, None);
    Ok(
        Draft::welcome(Level::Structure, honest_welcome(world, &opened, rng)?).flags(&[
            "retagged",
            "resigned",
            "reencrypted",
        ]),
    )
}

fn trailing_blank(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut opened = forge::open(world)?;
    let mut wire = info_tree(&opened.info)?.to_wire();
    wire.0.push(None::<Node>);
    wire.0.push(None);
    set_info_wire_tree(&mut opened.info, Some(&wire));
    Ok(
        Draft::welcome(Level::Structure, honest_welcome(world, &opened, rng)?).flags(&[
            "retagged",
            "resigned",
            "reencrypted",
        ]),
    )
}

/// The receiver's Welcome whose wire tree has a node of the wrong type at a blank position of
/// the other type (`leaf_position`: a parent node where a leaf belongs, else the reverse).
/// Tree hashes treat a node of the wrong type as blank, so only the type check catches it.
fn wrong_node_type(
    world: &World,
    rng: &mut ChaCha20Rng,
    leaf_position: bool,
) -> Result<Draft, GenError> {
    let mut opened = forge::open(world)?;
    let tree = info_tree(&opened.info)?;
    let mut wire = tree.to_wire();
    // Past the last non-blank node the positions are blank too, up to the padded width:
    // the wire tree may grow by two nodes there and keep its shape.
    if wire.0.len() + 2 <= tree.node_count() as usize {
        wire.0.push(None);
        wire.0.push(None);
    }
    let width = u32::try_from(wire.0.len()).map_err(|_| GenError::new("tree", "too large"))?;
    let blank = (0..width)
        .filter(|i| (i % 2 == 0) == leaf_position)
        .find(|&i| tree.node(NodeIndex(i)).is_none())
        .ok_or_else(|| GenError::new("tree", "no blank position of the kind wanted"))?;
    let stranger = if leaf_position {
        (0..width)
            .filter(|i| i % 2 == 1)
            .find_map(|i| tree.node(NodeIndex(i)).cloned())
            .ok_or_else(|| GenError::new("tree", "no parent node"))?
    } else {
        // A fresh KeyPackage's leaf: valid on its own (its signature binds no leaf index,
        // its keys are new), so nothing but its position is wrong.
        let (key_package, _) = at(
            "key package",
            concord_reference::group::create_key_package(
                &world.suite,
                b"concord stranger",
                None,
                world.now,
                rng,
            ),
        )?;
        Node::Leaf(key_package.leaf_node)
    };
    wire.0[blank as usize] = Some(stranger);
    // The two blank nodes added above, unless one was used: the tree ends with its last
    // non-blank node (a trailing blank is another recipe's defect).
    while wire.0.len() >= 2 && wire.0.last().is_some_and(Option::is_none) {
        wire.0.truncate(wire.0.len() - 2);
    }
    set_info_wire_tree(&mut opened.info, Some(&wire));
    Ok(
        Draft::welcome(Level::Structure, honest_welcome(world, &opened, rng)?)
            .flags(&["resigned", "reencrypted"]),
    )
}

fn parent_at_leaf_position(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    wrong_node_type(world, rng, true)
}

fn leaf_at_parent_position(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    wrong_node_type(world, rng, false)
}
