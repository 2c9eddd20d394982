//! Mutation at the structure level: decode, change one field, then sign, tag and
//! encrypt again with the keys an honest sender holds, so that the check the mutation
//! targets is the one that catches it.
//!
//! ```text
//! PublicMessage   content edited ── resign_public (signature, then membership tag)
//! LeafNode        field edited   ── sign_leaf (LeafNodeTBS with group and leaf for
//!                                   update and commit sources)
//! KeyPackage      field edited   ── sign_key_package
//! Welcome         opened with the receiver's init key ── GroupInfo / tree / GroupSecrets
//!                 edited ── retag (confirmation tag from the joiner secret),
//!                 resign_group_info, reseal (GroupInfo under the welcome key,
//!                 GroupSecrets to the init key again)
//! ratchet tree    node edited ── refresh_parent_hashes (alice's path, then her leaf)
//! ```

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::framing;
use concord_reference::key_schedule;
use concord_reference::messages::{
    Commit, ContentBody, EncryptedGroupSecrets, Extension, ExtensionType, FramedContent, GroupInfo,
    GroupSecrets, HpkeCiphertext, KeyPackage, LeafNode, LeafNodeSource, MlsMessage, MlsMessageBody,
    PreSharedKeyId, Psk, PublicMessage, RatchetTree as WireTree, Sender, Welcome, WireFormat,
};
use concord_reference::psk;
use concord_reference::ratchet_tree::RatchetTree;
use concord_reference::transcript;
use concord_reference::tree_math::LeafIndex;
use concord_reference::welcome::{key_package_ref, open_welcome};
use rand_chacha::ChaCha20Rng;

use super::world::{ALICE, Member, World};
use super::{GenError, at};

/// The PublicMessage inside `message`.
pub fn public(message: &MlsMessage) -> Result<PublicMessage, GenError> {
    match &message.body {
        MlsMessageBody::PublicMessage(public) => Ok(public.clone()),
        _ => Err(GenError::new("public", "not a PublicMessage")),
    }
}

/// `public` as an MLSMessage.
pub fn wrap_public(public: PublicMessage) -> MlsMessage {
    MlsMessage::new(MlsMessageBody::PublicMessage(public))
}

/// The Commit of a PublicMessage's content.
pub fn commit_mut(public: &mut PublicMessage) -> Result<&mut Commit, GenError> {
    match &mut public.content.body {
        ContentBody::Commit(commit) => Ok(commit),
        _ => Err(GenError::new("commit", "the content is not a commit")),
    }
}

/// Content of `member` for its current epoch, from its own leaf.
pub fn content(member: &Member, body: ContentBody) -> FramedContent {
    let group = &member.group;
    FramedContent {
        group_id: Bytes(group.group_id().to_vec()),
        epoch: group.epoch(),
        sender: Sender::Member {
            leaf_index: group.own_leaf(),
        },
        authenticated_data: Bytes::default(),
        body,
    }
}

/// Signs the (edited) content of `public` again with `member`'s key, keeps its
/// confirmation tag, and recomputes the membership tag.
pub fn resign_public(member: &Member, public: &mut PublicMessage) -> Result<(), GenError> {
    let group = &member.group;
    let signed = at(
        "resign",
        framing::sign(
            &group.suite(),
            &member.signature_private,
            WireFormat::MLS_PUBLIC_MESSAGE,
            public.content.clone(),
            group.group_context(),
        ),
    )?;
    public.auth.signature = signed.auth.signature;
    group.remac(public);
    Ok(())
}

/// Signs `leaf` (section 7.2): LeafNodeTBS, with group and leaf for update and commit
/// sources.
pub fn sign_leaf(
    suite: &Suite,
    leaf: &mut LeafNode,
    private: &[u8],
    group_id: &[u8],
    leaf_index: LeafIndex,
) -> Result<(), GenError> {
    leaf.signature = Bytes(at(
        "sign leaf",
        suite.sign_with_label(
            private,
            LeafNode::SIGNATURE_LABEL,
            &leaf.tbs_bytes(group_id, leaf_index),
        ),
    )?);
    Ok(())
}

/// Signs `key_package` (section 10).
pub fn sign_key_package(
    suite: &Suite,
    key_package: &mut KeyPackage,
    private: &[u8],
) -> Result<(), GenError> {
    key_package.signature = Bytes(at(
        "sign key package",
        suite.sign_with_label(
            private,
            KeyPackage::SIGNATURE_LABEL,
            &key_package.tbs_bytes(),
        ),
    )?);
    Ok(())
}

/// The world's Welcome opened with the receiver's keys.
#[derive(Debug, Clone)]
pub struct OpenedWelcome {
    pub secrets: GroupSecrets,
    pub info: GroupInfo,
}

pub fn open(world: &World) -> Result<OpenedWelcome, GenError> {
    let opened = at(
        "open welcome",
        open_welcome(
            &world.suite,
            &world.welcome,
            &world.receiver.key_package,
            &world.receiver.secrets.init_private,
            |id| psk_value(world, id),
        ),
    )?;
    Ok(OpenedWelcome {
        secrets: opened.group_secrets,
        info: opened.group_info,
    })
}

fn psk_value(world: &World, id: &PreSharedKeyId) -> Option<Vec<u8>> {
    match &id.psk {
        Psk::External { psk_id } if psk_id.as_slice() == world.psk_id.as_slice() => {
            Some(world.psk.clone())
        }
        _ => None,
    }
}

/// `psk_secret` of the GroupSecrets' PSKs; an unknown PSK counts as zeros (the receiver
/// cannot derive anything from it anyway).
fn psk_secret(world: &World, secrets: &GroupSecrets) -> Result<Vec<u8>, GenError> {
    let psks: Vec<(PreSharedKeyId, Vec<u8>)> = secrets
        .psks
        .iter()
        .map(|id| {
            (
                id.clone(),
                psk_value(world, id).unwrap_or_else(|| vec![0; world.suite.hash_length()]),
            )
        })
        .collect();
    at("psk secret", psk::psk_secret(&world.suite, &psks))
}

/// The GroupInfo's confirmation tag as the joiner derives it (section 12.4.3.1).
pub fn retag(world: &World, secrets: &GroupSecrets, info: &mut GroupInfo) -> Result<(), GenError> {
    let suite = &world.suite;
    let epoch = at(
        "epoch secrets",
        key_schedule::epoch_secrets(
            suite,
            secrets.joiner_secret.as_slice(),
            &psk_secret(world, secrets)?,
            &info.group_context.to_bytes(),
        ),
    )?;
    info.confirmation_tag = Bytes(transcript::confirmation_tag(
        suite,
        &epoch.confirmation_key,
        info.group_context.confirmed_transcript_hash.as_slice(),
    ));
    Ok(())
}

/// Signs the GroupInfo as alice (the world's signer).
pub fn resign_group_info(world: &World, info: &mut GroupInfo) -> Result<(), GenError> {
    let alice = world.sender(ALICE)?;
    info.signature = Bytes(at(
        "sign group info",
        world.suite.sign_with_label(
            &alice.signature_private,
            GroupInfo::SIGNATURE_LABEL,
            &info.tbs_bytes(),
        ),
    )?);
    Ok(())
}

/// A Welcome for the receiver carrying `info` and `secrets`: the GroupInfo under the
/// welcome key, the GroupSecrets encrypted to the receiver's init key with the new
/// encrypted GroupInfo as context.
pub fn reseal(
    world: &World,
    secrets: &GroupSecrets,
    info: &GroupInfo,
    rng: &mut ChaCha20Rng,
) -> Result<Welcome, GenError> {
    let suite = &world.suite;
    let welcome_secret = at(
        "welcome secret",
        key_schedule::welcome_secret(
            suite,
            secrets.joiner_secret.as_slice(),
            &psk_secret(world, secrets)?,
        ),
    )?;
    let (key, nonce) = at(
        "welcome key",
        key_schedule::welcome_key_nonce(suite, &welcome_secret),
    )?;
    let encrypted_group_info = at(
        "seal group info",
        suite.aead_seal(&key, &nonce, b"", &info.to_bytes()),
    )?;
    let (kem_output, ciphertext) = at(
        "seal group secrets",
        suite.encrypt_with_label(
            world.receiver.key_package.init_key.as_slice(),
            b"Welcome",
            &encrypted_group_info,
            &secrets.to_bytes(),
            rng,
        ),
    )?;
    Ok(Welcome {
        cipher_suite: suite.id(),
        secrets: vec![EncryptedGroupSecrets {
            new_member: key_package_ref(suite, &world.receiver.key_package),
            encrypted_group_secrets: HpkeCiphertext {
                kem_output: Bytes(kem_output),
                ciphertext: Bytes(ciphertext),
            },
        }],
        encrypted_group_info: Bytes(encrypted_group_info),
    })
}

/// Retags, re-signs and reseals: a Welcome in which only the edits made to `opened`
/// differ from an honest one.
pub fn honest_welcome(
    world: &World,
    opened: &OpenedWelcome,
    rng: &mut ChaCha20Rng,
) -> Result<Vec<u8>, GenError> {
    let mut info = opened.info.clone();
    retag(world, &opened.secrets, &mut info)?;
    resign_group_info(world, &mut info)?;
    let welcome = reseal(world, &opened.secrets, &info, rng)?;
    Ok(MlsMessage::new(MlsMessageBody::Welcome(welcome)).to_bytes())
}

/// The ratchet tree in a GroupInfo's extension.
pub fn info_tree(info: &GroupInfo) -> Result<RatchetTree, GenError> {
    let wire = at(
        "ratchet_tree extension",
        Extension::find::<WireTree>(&info.extensions),
    )?
    .ok_or_else(|| GenError::new("ratchet_tree extension", "absent"))?;
    at("ratchet tree", RatchetTree::from_wire(&wire))
}

/// Replaces the GroupInfo's tree extension with `wire` (removes it for `None`).
pub fn set_info_wire_tree(info: &mut GroupInfo, wire: Option<&WireTree>) {
    info.extensions
        .retain(|e| e.extension_type != ExtensionType::RATCHET_TREE);
    if let Some(wire) = wire {
        info.extensions.push(Extension::from_content(wire));
    }
}

/// Puts `tree` in the GroupInfo and its hash in the GroupContext.
pub fn set_info_tree(world: &World, info: &mut GroupInfo, tree: &RatchetTree) {
    set_info_wire_tree(info, Some(&tree.to_wire()));
    info.group_context.tree_hash = Bytes(tree.tree_hash(&world.suite));
}

/// Recomputes the parent hashes along alice's path (the last committer's) and her
/// leaf's, re-signing the leaf: after an edit elsewhere, the chain is valid again.
pub fn refresh_parent_hashes(
    world: &World,
    group_id: &[u8],
    tree: &mut RatchetTree,
) -> Result<(), GenError> {
    let alice = world.sender(ALICE)?;
    let leaf_index = LeafIndex(ALICE as u32);
    let parent_hash = tree.set_path_parent_hashes(&world.suite, leaf_index);
    let mut leaf = tree
        .leaf(leaf_index)
        .cloned()
        .ok_or_else(|| GenError::new("refresh parent hashes", "alice's leaf is blank"))?;
    leaf.leaf_node_source = LeafNodeSource::Commit {
        parent_hash: Bytes(parent_hash),
    };
    sign_leaf(
        &world.suite,
        &mut leaf,
        &alice.signature_private,
        group_id,
        leaf_index,
    )?;
    at("set leaf", tree.set_leaf(leaf_index, leaf))
}

/// The GroupInfo of the world's current epoch as alice signs it, tree inside.
pub fn group_info(world: &World) -> Result<GroupInfo, GenError> {
    let (message, _) = at("group info", world.sender(ALICE)?.group.group_info(false))?;
    match message.body {
        MlsMessageBody::GroupInfo(info) => Ok(info),
        _ => Err(GenError::new("group info", "not a GroupInfo")),
    }
}

/// A GroupInfo as an MLSMessage's bytes.
pub fn group_info_bytes(info: GroupInfo) -> Vec<u8> {
    MlsMessage::new(MlsMessageBody::GroupInfo(info)).to_bytes()
}
