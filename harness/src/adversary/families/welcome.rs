//! `welcome.json`: joining by Welcome (RFC 9420 section 12.4.3.1). The receiver's
//! Welcome is opened with its own keys, one thing is changed, and the rest is made
//! honest again: the GroupInfo's confirmation tag derived from the joiner secret, its
//! signature by alice, the GroupInfo sealed under the welcome key and the GroupSecrets
//! encrypted to the receiver's init key with the new ciphertext as context.

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::CipherSuite;
use concord_reference::messages::{
    Extension, ExtensionType, LeafNodeSource, MlsMessage, MlsMessageBody, PreSharedKeyId, Psk,
    ResumptionPskUsage,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::recipe;
use crate::adversary::forge::{
    self, OpenedWelcome, honest_welcome, info_tree, refresh_parent_hashes, reseal,
    resign_group_info, retag, set_info_tree, sign_leaf,
};
use crate::adversary::world::{BLANK_LEAF, RECEIVER_LEAF, World};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Level, Recipe};

pub const FAMILY: Family = Family {
    name: "welcome",
    description: "Joining by Welcome (RFC 9420 section 12.4.3.1): GroupSecrets and GroupInfo decryption, GroupInfo signature and confirmation tag, cipher suites, signer, PSKs, own leaf, path secret",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control",
        "the Welcome that added the receiver, unmodified",
        &["RFC9420-12.4.3.1-1"],
        Expect::Accept,
        control,
    ),
    recipe(
        "control-resealed",
        "the Welcome opened and sealed again with nothing changed (the construction of every case here)",
        &["RFC9420-12.4.3.1-1"],
        Expect::Accept,
        control_resealed,
    ),
    recipe(
        "group-info-signature-flipped",
        "one bit of the GroupInfo signature flipped",
        &["RFC9420-12.4.3.1-2"],
        Expect::Reject(C::GroupInfoSignature),
        group_info_signature_flipped,
    ),
    recipe(
        "group-info-confirmation-tag-flipped",
        "one bit of the GroupInfo confirmation tag flipped (re-signed)",
        &["RFC9420-12.4.3.1-3", "RFC9420-12.4.3-6"],
        Expect::Reject(C::ConfirmationTag),
        confirmation_tag_flipped,
    ),
    recipe(
        "group-secrets-ciphertext-flipped",
        "one bit of the encrypted GroupSecrets flipped",
        &["RFC9420-12.4.3.1-1", "RFC9420-12.4.3.1-9"],
        Expect::Reject(C::Welcome),
        group_secrets_flipped,
    ),
    recipe(
        "encrypted-group-info-flipped",
        "one bit of encrypted_group_info flipped, GroupSecrets re-encrypted with it as context",
        &["RFC9420-12.4.3.1-1"],
        Expect::Reject(C::Welcome),
        encrypted_group_info_flipped,
    ),
    recipe(
        "new-member-reference-wrong",
        "the GroupSecrets entry names another KeyPackageRef",
        &["RFC9420-12.4.3.1-7"],
        Expect::Reject(C::Welcome),
        new_member_reference_wrong,
    ),
    recipe(
        "welcome-cipher-suite-other",
        "the Welcome's cipher_suite is not the KeyPackage's",
        &["RFC9420-12.4.3.1-8"],
        Expect::Reject(C::Welcome),
        welcome_cipher_suite_other,
    ),
    recipe(
        "group-context-extension-unsupported",
        "the GroupContext carries an extension of type 0xff00, which the receiver's leaf does not list (retagged, re-signed)",
        &["RFC9420-12.4.3-3", "RFC9420-13.4-7", "RFC9420-13.4-8"],
        Expect::Reject(C::Welcome),
        group_context_extension_unsupported,
    ),
    recipe(
        "group-context-grease-extension",
        "the GroupContext carries a GREASE extension (0x0a0a) (retagged, re-signed)",
        &["RFC9420-13.5-12", "RFC9420-13.5-16", "RFC9420-12.4.3-3"],
        Expect::Reject(C::Welcome),
        group_context_grease_extension,
    ),
    recipe(
        "group-info-cipher-suite-other",
        "the GroupInfo's GroupContext names another cipher suite (retagged, re-signed)",
        &["RFC9420-12.4.3.1-15"],
        Expect::Reject(C::Welcome),
        group_info_cipher_suite_other,
    ),
    recipe(
        "unknown-psk",
        "the GroupSecrets name an external PSK the receiver lacks",
        &["RFC9420-12.4.3.1-10"],
        Expect::Reject(C::Psk),
        unknown_psk,
    ),
    recipe(
        "two-reinit-psks",
        "the GroupSecrets name two resumption PSKs of usage reinit",
        &["RFC9420-12.4.3.1-11"],
        Expect::Reject(C::Psk),
        two_reinit_psks,
    ),
    recipe(
        "signer-blank",
        "the GroupInfo's signer is a blank leaf (re-signed by alice)",
        &["RFC9420-12.4.3.1-13"],
        Expect::Reject(C::GroupInfo),
        signer_blank,
    ),
    recipe(
        "path-secret-wrong",
        "one bit of the path_secret in the GroupSecrets flipped",
        &["RFC9420-12.4.3.1-5"],
        Expect::Reject(C::Welcome),
        path_secret_wrong,
    ),
    recipe(
        "own-leaf-not-in-tree",
        "the receiver's leaf in the tree differs from its KeyPackage's (re-signed, parent hashes and tree hash recomputed)",
        &["RFC9420-12.4.3.1-22"],
        Expect::Reject(C::Welcome),
        own_leaf_not_in_tree,
    ),
];

fn welcome_bytes(welcome: concord_reference::messages::Welcome) -> Vec<u8> {
    MlsMessage::new(MlsMessageBody::Welcome(welcome)).to_bytes()
}

fn control(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    Ok(Draft::welcome(
        Level::None,
        welcome_bytes(world.welcome.clone()),
    ))
}

/// The Welcome opened, edited by `edit`, made honest again.
fn edited(
    world: &World,
    rng: &mut ChaCha20Rng,
    edit: impl FnOnce(&mut OpenedWelcome) -> Result<(), GenError>,
) -> Result<Draft, GenError> {
    let mut opened = forge::open(world)?;
    edit(&mut opened)?;
    Ok(
        Draft::welcome(Level::Structure, honest_welcome(world, &opened, rng)?).flags(&[
            "retagged",
            "resigned",
            "reencrypted",
        ]),
    )
}

fn control_resealed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let draft = edited(world, rng, |_| Ok(()))?;
    Ok(Draft {
        level: Level::None,
        ..draft
    })
}

fn group_info_signature_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let opened = forge::open(world)?;
    let mut info = opened.info.clone();
    retag(world, &opened.secrets, &mut info)?;
    resign_group_info(world, &mut info)?;
    crate::adversary::mutate::flip_in_place(&mut info.signature.0);
    let welcome = reseal(world, &opened.secrets, &info, rng)?;
    Ok(Draft::welcome(Level::Structure, welcome_bytes(welcome)).flags(&["reencrypted"]))
}

fn confirmation_tag_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let opened = forge::open(world)?;
    let mut info = opened.info.clone();
    retag(world, &opened.secrets, &mut info)?;
    crate::adversary::mutate::flip_in_place(&mut info.confirmation_tag.0);
    resign_group_info(world, &mut info)?;
    let welcome = reseal(world, &opened.secrets, &info, rng)?;
    Ok(
        Draft::welcome(Level::Structure, welcome_bytes(welcome))
            .flags(&["resigned", "reencrypted"]),
    )
}

fn group_secrets_flipped(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut welcome = world.welcome.clone();
    for entry in &mut welcome.secrets {
        crate::adversary::mutate::flip_in_place(&mut entry.encrypted_group_secrets.ciphertext.0);
    }
    Ok(Draft::welcome(Level::Bytes, welcome_bytes(welcome)))
}

fn encrypted_group_info_flipped(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let opened = forge::open(world)?;
    let suite = world.suite;
    let mut welcome = reseal(world, &opened.secrets, &opened.info, rng)?;
    crate::adversary::mutate::flip_in_place(&mut welcome.encrypted_group_info.0);
    // GroupSecrets are bound to the (flipped) encrypted GroupInfo: encrypt them again.
    let (kem_output, ciphertext) = crate::adversary::at(
        "seal group secrets",
        suite.encrypt_with_label(
            world.receiver.key_package.init_key.as_slice(),
            b"Welcome",
            &welcome.encrypted_group_info,
            &opened.secrets.to_bytes(),
            rng,
        ),
    )?;
    for entry in &mut welcome.secrets {
        entry.encrypted_group_secrets.kem_output = Bytes(kem_output.clone());
        entry.encrypted_group_secrets.ciphertext = Bytes(ciphertext.clone());
    }
    Ok(Draft::welcome(Level::Structure, welcome_bytes(welcome)).flags(&["reencrypted"]))
}

fn new_member_reference_wrong(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut welcome = world.welcome.clone();
    for entry in &mut welcome.secrets {
        crate::adversary::mutate::flip_in_place(&mut entry.new_member.0.0);
    }
    Ok(Draft::welcome(Level::Structure, welcome_bytes(welcome)))
}

fn other_suite(world: &World) -> CipherSuite {
    if world.suite.id() == CipherSuite(1) {
        CipherSuite(3)
    } else {
        CipherSuite(1)
    }
}

fn welcome_cipher_suite_other(world: &World, _: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut welcome = world.welcome.clone();
    welcome.cipher_suite = other_suite(world);
    Ok(Draft::welcome(Level::Structure, welcome_bytes(welcome)))
}

fn group_info_cipher_suite_other(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let other = other_suite(world);
    edited(world, rng, |opened| {
        opened.info.group_context.cipher_suite = other;
        Ok(())
    })
}

/// The GroupContext gains an extension of `extension_type` with a few bytes of data.
fn group_context_extension(
    world: &World,
    rng: &mut ChaCha20Rng,
    extension_type: u16,
) -> Result<Draft, GenError> {
    edited(world, rng, |opened| {
        opened.info.group_context.extensions.push(Extension {
            extension_type: ExtensionType(extension_type),
            extension_data: Bytes(b"unsupported".to_vec()),
        });
        Ok(())
    })
}

fn group_context_extension_unsupported(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    group_context_extension(world, rng, 0xff00)
}

fn group_context_grease_extension(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    group_context_extension(world, rng, 0x0a0a)
}

fn unknown_psk(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let length = world.suite.hash_length();
    edited(world, rng, |opened| {
        opened.secrets.psks.push(PreSharedKeyId {
            psk: Psk::External {
                psk_id: Bytes(b"a PSK nobody holds".to_vec()),
            },
            psk_nonce: Bytes(vec![0x22; length]),
        });
        Ok(())
    })
}

fn two_reinit_psks(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let length = world.suite.hash_length();
    edited(world, rng, |opened| {
        for epoch in [1, 2] {
            opened.secrets.psks.push(PreSharedKeyId {
                psk: Psk::Resumption {
                    usage: ResumptionPskUsage::Reinit,
                    psk_group_id: Bytes(b"old group".to_vec()),
                    psk_epoch: epoch,
                },
                psk_nonce: Bytes(vec![0x33; length]),
            });
        }
        Ok(())
    })
}

fn signer_blank(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, rng, |opened| {
        opened.info.signer = BLANK_LEAF;
        Ok(())
    })
}

fn path_secret_wrong(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, rng, |opened| {
        let secret = opened
            .secrets
            .path_secret
            .as_mut()
            .ok_or_else(|| GenError::new("path secret", "the Welcome carries none"))?;
        crate::adversary::mutate::flip_in_place(&mut secret.path_secret.0);
        Ok(())
    })
}

fn own_leaf_not_in_tree(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    edited(world, rng, |opened| {
        let group_id = opened.info.group_context.group_id.as_slice().to_vec();
        let mut tree = info_tree(&opened.info)?;
        let mut leaf = tree
            .leaf(RECEIVER_LEAF)
            .cloned()
            .ok_or_else(|| GenError::new("tree", "the receiver's leaf is blank"))?;
        if let LeafNodeSource::KeyPackage { lifetime } = &mut leaf.leaf_node_source {
            lifetime.not_after -= 1;
        }
        sign_leaf(
            &world.suite,
            &mut leaf,
            &world.receiver.secrets.signature_private,
            &group_id,
            LeafIndex(RECEIVER_LEAF.0),
        )?;
        crate::adversary::at("set leaf", tree.set_leaf(RECEIVER_LEAF, leaf))?;
        refresh_parent_hashes(world, &group_id, &mut tree)?;
        set_info_tree(world, &mut opened.info, &tree);
        Ok(())
    })
}
