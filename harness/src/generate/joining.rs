//! A Welcome for members a commit adds (RFC 9420 section 12.4.3.1), built from the
//! pieces: the joiners' signed KeyPackages, a key schedule run from the previous epoch's
//! `init_secret` with the commit secret and the PSK secret (section 8), a GroupInfo
//! signed by the committer over the tree as it stands after the commit, with the
//! `external_pub` extension and, when asked, the `ratchet_tree` extension, and for each
//! joiner GroupSecrets with the path secret of its common ancestor with the committer.

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::key_schedule::{self, EpochSecrets};
use concord_reference::messages::{
    EncryptedGroupSecrets, Extension, ExternalPub, GroupContext, GroupInfo, GroupSecrets,
    HpkeCiphertext, HpkePublicKey, KeyPackage, PathSecret, PreSharedKeyId, Psk, Welcome,
};
use concord_reference::psk;
use concord_reference::transcript;
use concord_reference::tree_math::{self, LeafIndex};
use concord_reference::welcome::key_package_ref;
use rand_chacha::ChaCha20Rng;

use super::group::{Group, NewLeaf, key_package, key_package_leaf};
use super::random_secret;
use crate::vectors::{AtField, Mismatch};

/// A client with a published KeyPackage and its private keys.
#[derive(Debug, Clone)]
pub struct Joiner {
    pub leaf: NewLeaf,
    pub key_package: KeyPackage,
    pub init_private: Vec<u8>,
}

impl Joiner {
    pub fn new(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Self, Mismatch> {
        let leaf = key_package_leaf(suite, rng)?;
        let (key_package, init_private) = key_package(suite, &leaf, rng)?;
        Ok(Joiner {
            leaf,
            key_package,
            init_private,
        })
    }

    /// Its leaf in `group`'s tree (the one identical to the KeyPackage's leaf node).
    pub fn leaf_index(&self, group: &Group) -> Result<LeafIndex, Mismatch> {
        group
            .tree
            .leaves()
            .find(|(_, node)| **node == self.key_package.leaf_node)
            .map(|(leaf, _)| leaf)
            .ok_or_else(|| Mismatch::new("joiner", "its leaf is not in the tree"))
    }
}

/// An external PSK: its id as GroupSecrets name it, and its value.
#[derive(Debug, Clone)]
pub struct ExternalPsk {
    pub id: PreSharedKeyId,
    pub psk_id: Vec<u8>,
    pub value: Vec<u8>,
}

/// `count` external PSKs with random ids, nonces and values.
pub fn external_psks(suite: &Suite, count: usize, rng: &mut ChaCha20Rng) -> Vec<ExternalPsk> {
    (0..count)
        .map(|_| {
            let psk_id = random_secret(suite, rng).0;
            let id = PreSharedKeyId {
                psk: Psk::External {
                    psk_id: Bytes(psk_id.clone()),
                },
                psk_nonce: Bytes(random_secret(suite, rng).0),
            };
            ExternalPsk {
                id,
                psk_id,
                value: random_secret(suite, rng).0,
            }
        })
        .collect()
}

/// What the committer puts into the new epoch.
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    pub committer: LeafIndex,
    pub epoch: u64,
    pub tree_in_extension: bool,
    /// Whether the commit had a path: then each joiner gets a path secret.
    pub with_path: bool,
    /// The commit secret (all zero without a path).
    pub commit_secret: Vec<u8>,
    /// The `init_secret` of the epoch the commit leaves.
    pub previous_init_secret: Vec<u8>,
    /// Of the new epoch (section 8.2).
    pub confirmed_transcript_hash: Vec<u8>,
    pub psks: &'a [ExternalPsk],
}

/// A Welcome and what went into it.
#[derive(Debug, Clone)]
pub struct Welcomed {
    pub welcome: Welcome,
    pub group_info: GroupInfo,
    /// Per joiner, in the order given.
    pub group_secrets: Vec<GroupSecrets>,
    pub epoch_secrets: EpochSecrets,
}

/// The Welcome of `joiners` into `group` as its tree stands (they are in it).
pub fn welcome(
    group: &Group,
    joiners: &[&Joiner],
    invitation: &Invitation<'_>,
    rng: &mut ChaCha20Rng,
) -> Result<Welcomed, Mismatch> {
    let suite = &group.suite;
    let group_context = GroupContext::new(
        suite.id(),
        group.group_id.clone(),
        invitation.epoch,
        group.tree.tree_hash(suite),
        invitation.confirmed_transcript_hash.clone(),
        Vec::new(),
    );
    let context_bytes = group_context.to_bytes();
    let joiner_secret = key_schedule::joiner_secret(
        suite,
        &invitation.previous_init_secret,
        &invitation.commit_secret,
        &context_bytes,
    )
    .at("joiner_secret")?;
    let psks: Vec<(PreSharedKeyId, Vec<u8>)> = invitation
        .psks
        .iter()
        .map(|p| (p.id.clone(), p.value.clone()))
        .collect();
    let psk_secret = psk::psk_secret(suite, &psks).at("psk_secret")?;
    let epoch_secrets =
        key_schedule::epoch_secrets(suite, &joiner_secret, &psk_secret, &context_bytes)
            .at("epoch secrets")?;
    let group_info = group_info(group, invitation, group_context, &epoch_secrets)?;

    let (key, nonce) =
        key_schedule::welcome_key_nonce(suite, &epoch_secrets.welcome_secret).at("welcome key")?;
    let encrypted_group_info = suite
        .aead_seal(&key, &nonce, b"", &group_info.to_bytes())
        .at("encrypted_group_info")?;
    let committer = group.member(invitation.committer)?;
    let known = group.known_path_secrets(committer)?;
    let mut secrets = Vec::new();
    let mut group_secrets = Vec::new();
    for joiner in joiners {
        let path_secret = if invitation.with_path {
            let ancestor = tree_math::common_ancestor(
                joiner.leaf_index(group)?.node(),
                invitation.committer.node(),
            );
            let secret = known
                .iter()
                .find(|(node, _)| *node == ancestor)
                .map(|(_, secret)| secret.clone())
                .ok_or_else(|| Mismatch::new("path_secret", "committer has none for it"))?;
            Some(PathSecret {
                path_secret: Bytes(secret),
            })
        } else {
            None
        };
        let plain = GroupSecrets {
            joiner_secret: Bytes(joiner_secret.clone()),
            path_secret,
            psks: invitation.psks.iter().map(|p| p.id.clone()).collect(),
        };
        let (kem_output, ciphertext) = suite
            .encrypt_with_label(
                joiner.key_package.init_key.as_slice(),
                b"Welcome",
                &encrypted_group_info,
                &plain.to_bytes(),
                rng,
            )
            .at("encrypted_group_secrets")?;
        secrets.push(EncryptedGroupSecrets {
            new_member: key_package_ref(suite, &joiner.key_package),
            encrypted_group_secrets: HpkeCiphertext {
                kem_output: Bytes(kem_output),
                ciphertext: Bytes(ciphertext),
            },
        });
        group_secrets.push(plain);
    }
    Ok(Welcomed {
        welcome: Welcome {
            cipher_suite: suite.id(),
            secrets,
            encrypted_group_info: Bytes(encrypted_group_info),
        },
        group_info,
        group_secrets,
        epoch_secrets,
    })
}

/// The GroupInfo of the new epoch, signed by the committer.
fn group_info(
    group: &Group,
    invitation: &Invitation<'_>,
    group_context: GroupContext,
    epoch_secrets: &EpochSecrets,
) -> Result<GroupInfo, Mismatch> {
    let suite = &group.suite;
    let external = key_schedule::external_key_pair(suite, &epoch_secrets.external_secret)
        .at("external_pub")?;
    let mut extensions = vec![Extension::from_content(&ExternalPub {
        external_pub: HpkePublicKey::from(external.public),
    })];
    if invitation.tree_in_extension {
        extensions.push(Extension::from_content(&group.tree.to_wire()));
    }
    let confirmation_tag = transcript::confirmation_tag(
        suite,
        &epoch_secrets.confirmation_key,
        &group_context.confirmed_transcript_hash,
    );
    let mut group_info = GroupInfo {
        group_context,
        extensions,
        confirmation_tag: Bytes(confirmation_tag),
        signer: invitation.committer,
        signature: Bytes::default(),
    };
    let committer = group.member(invitation.committer)?;
    group_info.signature = Bytes(
        suite
            .sign_with_label(
                &committer.signature_private,
                GroupInfo::SIGNATURE_LABEL,
                &group_info.tbs_bytes(),
            )
            .at("GroupInfo signature")?,
    );
    Ok(group_info)
}
