//! Joining a group by Welcome (RFC 9420 section 12.4.3.1), every step: the result is a
//! [`JoinedGroup`], the state a member continues from when it processes later commits.
//!
//! ```text
//! Welcome ──open_welcome (init_priv, PSKs)──> GroupSecrets, GroupInfo, epoch secrets
//!   ratchet tree: the caller's, or GroupInfo's ratchet_tree extension (exactly one)
//!   GroupInfo.signature        verified with the signer leaf's signature_key
//!   group_context.cipher_suite equals the KeyPackage's
//!   tree                       validated as a joiner (tree hash, parent hashes, leaves,
//!                              unmerged leaves, unique encryption keys)
//!   my_leaf                    the leaf equal to KeyPackage.leaf_node; encryption_priv
//!                              must be the private key of its encryption_key
//!   path_secret (if present)   at common_ancestor(my_leaf, signer), then
//!                              path_secret[n] = DeriveSecret(path_secret[n-1], "path")
//!                              up the signer's filtered direct path; each derived
//!                              public key equals the tree's (section 7.4)
//! ```
//!
//! The checks of section 12.4.3.1 that need state outside one Welcome (group_id unique
//! among the client's groups, the ReInit/branch relation to an earlier group) are the
//! caller's.

use std::collections::BTreeMap;

use crate::codec::{Codec, DecodeError};
use crate::crypto::{CryptoError, Suite};
use crate::key_schedule::EpochSecrets;
use crate::messages::{
    self, Extension, GroupContext, KeyPackage, PreSharedKeyId, Psk, ResumptionPskUsage, Welcome,
};
use crate::ratchet_tree::{RatchetTree, TreeError, TreeValidationError, validate_tree};
use crate::tree_math::{self, LeafIndex, NodeIndex};
use crate::treekem::{PrivateKeys, next_path_secret, node_key_pair};
use crate::welcome::{self, WelcomeError};

/// Why a Welcome cannot be joined. Each variant names the rule of RFC 9420 it enforces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// Decrypting the Welcome, its GroupInfo signature or confirmation tag failed
    /// (RFC9420-12.4.3.1-1 to -3).
    #[error(transparent)]
    Welcome(#[from] WelcomeError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// An extension payload (the ratchet tree) does not decode.
    #[error("malformed GroupInfo extension: {0}")]
    Decode(#[from] DecodeError),
    /// The init private key the caller holds is not the one of the KeyPackage's
    /// `init_key`: the GroupSecrets cannot be decrypted (section 12.4.3.1).
    #[error("the init private key does not match the KeyPackage's init_key")]
    InitKeyMismatch,
    /// Section 12.4.3.1: the ratchet tree comes from the `ratchet_tree` extension or
    /// out of band; with neither, the joiner has no tree.
    #[error("no ratchet tree: none given and the GroupInfo has no ratchet_tree extension")]
    MissingRatchetTree,
    /// A tree was given out of band and the GroupInfo also carries one, and the two
    /// have different tree hashes: at most one of them can be the group's. (The same
    /// tree from both sources is accepted.)
    #[error("the ratchet tree given out of band and the GroupInfo's ratchet_tree extension differ")]
    ConflictingRatchetTrees,
    /// The tree does not have the shape of section 12.4.3.3 / Appendix C.
    #[error("malformed ratchet tree: {0}")]
    Tree(#[from] TreeError),
    /// Section 12.4.3.1: "The public key is taken from the LeafNode of the ratchet tree
    /// with leaf index `signer`. If the node is blank ..., return an error."
    #[error("the GroupInfo signer {0} is a blank or absent leaf")]
    SignerBlank(u32),
    /// Section 12.4.3.1: "Verify that the `cipher_suite` in the GroupInfo matches the
    /// `cipher_suite` in the KeyPackage."
    #[error("GroupInfo cipher suite {group_info} differs from the KeyPackage's {key_package}")]
    CipherSuiteMismatch { group_info: u16, key_package: u16 },
    /// Section 12.4.3.1: "Verify the integrity of the ratchet tree" (RFC9420-12.4.3.1-4).
    #[error("ratchet tree rejected: {0}")]
    TreeValidation(#[from] TreeValidationError),
    /// Section 12.4.3.1: "Identify a leaf whose LeafNode is identical to the one in the
    /// KeyPackage. If no such field exists, return an error."
    #[error("no leaf of the tree is the KeyPackage's leaf node")]
    OwnLeafNotFound,
    /// Section 12.4.3.1: my_leaf's private key is "the private key corresponding to the
    /// public key in the node".
    #[error("the encryption private key does not match leaf {0}'s encryption_key")]
    EncryptionKeyMismatch(u32),
    /// The signature private key is not the one of the leaf's `signature_key`.
    #[error("the signature private key does not match leaf {0}'s signature_key")]
    SignatureKeyMismatch(u32),
    /// Section 12.4.3.1: a `path_secret` is for the lowest common ancestor of my_leaf and
    /// the signer; there is none when the two are the same leaf.
    #[error("GroupSecrets carry a path_secret but the signer is the joiner's own leaf {0}")]
    PathSecretFromOwnLeaf(u32),
    /// Section 12.4.3.1: "The private key MUST be the private key that corresponds to
    /// the public key in the node" (path secrets derived as in section 7.4).
    #[error("the key derived from the path secret for node {0} is not the tree's")]
    PathKeyMismatch(u32),
    /// Section 12.4.3.1: "if a PreSharedKeyID has type resumption with usage reinit or
    /// branch, verify that it is the only such PSK."
    #[error("GroupSecrets name {0} resumption PSKs of usage reinit or branch")]
    MultipleReinitOrBranchPsks(usize),
    /// Section 12.4.3.1: with a reinit or branch PSK, "verify that the epoch field in
    /// the GroupInfo is equal to 1".
    #[error("a reinit or branch PSK is used but the GroupInfo epoch is {0}, not 1")]
    ReinitOrBranchEpoch(u64),
    /// Sections 12.4.3 and 13.4: the GroupContext carries an extension the joiner does not
    /// support (neither a default type nor listed in its own leaf's capabilities; a GREASE
    /// type never counts as supported, section 13.5).
    #[error("the GroupContext carries extension type {0}, which the joiner does not support")]
    UnsupportedGroupContextExtension(u16),
    /// RFC9420-13.4-4: the GroupInfo's GroupContext extensions, or its own extensions,
    /// hold two extensions of one type.
    #[error("the GroupInfo's {list} hold two extensions of type {extension_type} (section 13.4)")]
    ExtensionRepeated {
        list: &'static str,
        extension_type: u16,
    },
}

/// RFC9420-13.4-4 for a GroupInfo a member joins from: neither its GroupContext's
/// extensions nor its own hold a type twice.
pub fn group_info_extensions_unique(group_info: &messages::GroupInfo) -> Result<(), JoinError> {
    for (list, extensions) in [
        (
            "GroupContext extensions",
            &group_info.group_context.extensions,
        ),
        ("extensions", &group_info.extensions),
    ] {
        if let Some(repeated) = messages::duplicate_extension_type(extensions) {
            return Err(JoinError::ExtensionRepeated {
                list,
                extension_type: repeated.0,
            });
        }
    }
    Ok(())
}

/// The private keys a joiner holds for the KeyPackage it published.
#[derive(Clone, Copy)]
pub struct JoinerKeys<'a> {
    /// The private key of `KeyPackage.init_key`.
    pub init_private: &'a [u8],
    /// The private key of `KeyPackage.leaf_node.encryption_key`.
    pub encryption_private: &'a [u8],
    /// The private key of `KeyPackage.leaf_node.signature_key`.
    pub signature_private: &'a [u8],
}

impl std::fmt::Debug for JoinerKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinerKeys { .. }")
    }
}

/// A member's state in the epoch it joined: what commit processing continues from.
#[derive(Clone)]
pub struct JoinedGroup {
    pub suite: Suite,
    pub group_context: GroupContext,
    pub tree: RatchetTree,
    /// my_leaf of section 12.4.3.1.
    pub own_leaf: LeafIndex,
    /// The leaf that signed the GroupInfo (the committer that added this member).
    pub signer: LeafIndex,
    pub epoch_secrets: EpochSecrets,
    /// Section 8.2, from the GroupInfo's confirmed transcript hash and confirmation tag.
    pub interim_transcript_hash: Vec<u8>,
    /// The GroupInfo's confirmation tag.
    pub confirmation_tag: Vec<u8>,
    /// HPKE private keys by node: own leaf, and the nodes the path secret reaches.
    pub private_keys: PrivateKeys,
    /// The path secret of each node the GroupSecrets' `path_secret` reached.
    pub path_secrets: BTreeMap<NodeIndex, Vec<u8>>,
    /// The private key of the own leaf's `signature_key`.
    pub signature_private_key: Vec<u8>,
}

impl std::fmt::Debug for JoinedGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Private keys and secrets stay out of logs.
        f.debug_struct("JoinedGroup")
            .field("suite", &self.suite.id())
            .field("epoch", &self.group_context.epoch)
            .field("own_leaf", &self.own_leaf)
            .field("signer", &self.signer)
            .field("epoch_secrets", &self.epoch_secrets)
            .field("private_key_nodes", &self.private_keys.keys())
            .finish_non_exhaustive()
    }
}

impl JoinedGroup {
    /// `epoch_authenticator` of the joined epoch (section 8.7).
    pub fn epoch_authenticator(&self) -> &[u8] {
        &self.epoch_secrets.epoch_authenticator
    }

    pub fn epoch(&self) -> u64 {
        self.group_context.epoch
    }
}

/// Joins the group `welcome` invites `key_package` to (section 12.4.3.1).
///
/// `ratchet_tree` is the tree received out of band, `None` when the GroupInfo must carry
/// it in a `ratchet_tree` extension (section 12.4.3.3); exactly one of the two must be
/// present. `psk_value` supplies the PSKs the GroupSecrets name.
pub fn join(
    suite: &Suite,
    welcome: &Welcome,
    key_package: &KeyPackage,
    keys: JoinerKeys<'_>,
    ratchet_tree: Option<&messages::RatchetTree>,
    psk_value: impl Fn(&PreSharedKeyId) -> Option<Vec<u8>>,
) -> Result<JoinedGroup, JoinError> {
    if suite.hpke_public_key(keys.init_private).ok().as_deref()
        != Some(key_package.init_key.as_slice())
    {
        return Err(JoinError::InitKeyMismatch);
    }
    let opened = welcome::open_welcome(suite, welcome, key_package, keys.init_private, psk_value)?;
    let group_info = &opened.group_info;
    let context = &group_info.group_context;

    check_reinit_branch_psks(&opened.group_secrets.psks, context.epoch)?;
    group_info_extensions_unique(group_info)?;

    let tree = received_tree(suite, ratchet_tree, &group_info.extensions)?;

    let signer = group_info.signer;
    let signer_leaf = tree.leaf(signer).ok_or(JoinError::SignerBlank(signer.0))?;
    welcome::verify_group_info_signature(suite, group_info, signer_leaf.signature_key.as_slice())?;

    if context.cipher_suite != key_package.cipher_suite {
        return Err(JoinError::CipherSuiteMismatch {
            group_info: context.cipher_suite.0,
            key_package: key_package.cipher_suite.0,
        });
    }
    if let Some(extension) = context.extensions.iter().find(|e| {
        !e.extension_type.is_default()
            && (e.extension_type.is_grease()
                || !key_package
                    .leaf_node
                    .capabilities
                    .extensions
                    .contains(&e.extension_type))
    }) {
        return Err(JoinError::UnsupportedGroupContextExtension(
            extension.extension_type.0,
        ));
    }

    validate_tree(
        suite,
        &tree,
        context.group_id.as_slice(),
        context.tree_hash.as_slice(),
    )?;

    let own_leaf = tree
        .leaves()
        .find(|(_, leaf)| **leaf == key_package.leaf_node)
        .map(|(index, _)| index)
        .ok_or(JoinError::OwnLeafNotFound)?;
    if suite
        .hpke_public_key(keys.encryption_private)
        .ok()
        .as_deref()
        != Some(key_package.leaf_node.encryption_key.as_slice())
    {
        return Err(JoinError::EncryptionKeyMismatch(own_leaf.0));
    }
    if suite
        .signature_public_key(keys.signature_private)
        .ok()
        .as_deref()
        != Some(key_package.leaf_node.signature_key.as_slice())
    {
        return Err(JoinError::SignatureKeyMismatch(own_leaf.0));
    }

    let mut private_keys = PrivateKeys::new();
    private_keys.insert(own_leaf.node(), keys.encryption_private.to_vec());
    let mut path_secrets = BTreeMap::new();
    if let Some(path_secret) = &opened.group_secrets.path_secret {
        for (node, secret, private) in derive_path(
            suite,
            &tree,
            own_leaf,
            signer,
            path_secret.path_secret.as_slice(),
        )? {
            private_keys.insert(node, private);
            path_secrets.insert(node, secret);
        }
    }

    Ok(JoinedGroup {
        suite: *suite,
        group_context: context.clone(),
        tree,
        own_leaf,
        signer,
        epoch_secrets: opened.epoch_secrets,
        interim_transcript_hash: opened.interim_transcript_hash,
        confirmation_tag: opened.group_info.confirmation_tag.0.clone(),
        private_keys,
        path_secrets,
        signature_private_key: keys.signature_private.to_vec(),
    })
}

/// Section 12.4.3.1: at most one resumption PSK of usage reinit or branch, and then the
/// joined epoch is 1.
fn check_reinit_branch_psks(psks: &[PreSharedKeyId], epoch: u64) -> Result<(), JoinError> {
    let count = psks
        .iter()
        .filter(|id| {
            matches!(
                id.psk,
                Psk::Resumption {
                    usage: ResumptionPskUsage::Reinit | ResumptionPskUsage::Branch,
                    ..
                }
            )
        })
        .count();
    match count {
        0 => Ok(()),
        1 if epoch == 1 => Ok(()),
        1 => Err(JoinError::ReinitOrBranchEpoch(epoch)),
        n => Err(JoinError::MultipleReinitOrBranchPsks(n)),
    }
}

/// The tree from its two possible sources (section 12.4.3.1: the `ratchet_tree`
/// extension when the GroupInfo has one, else a tree obtained out of band). Section
/// 12.4.3.1 only requires a joiner *without* the extension to get the tree elsewhere, so
/// a tree given both ways is accepted when it is the same tree (the tree hash decides).
pub(crate) fn received_tree(
    suite: &Suite,
    given: Option<&messages::RatchetTree>,
    extensions: &[Extension],
) -> Result<RatchetTree, JoinError> {
    let in_extension = Extension::find::<messages::RatchetTree>(extensions)?;
    match (given, in_extension) {
        (Some(given), Some(wire)) => {
            let tree = RatchetTree::from_wire(&wire)?;
            if *given != wire
                && RatchetTree::from_wire(given)?.tree_hash(suite) != tree.tree_hash(suite)
            {
                return Err(JoinError::ConflictingRatchetTrees);
            }
            Ok(tree)
        }
        (None, None) => Err(JoinError::MissingRatchetTree),
        (Some(wire), None) => Ok(RatchetTree::from_wire(wire)?),
        (None, Some(wire)) => Ok(RatchetTree::from_wire(&wire)?),
    }
}

/// `(node, path_secret, node private key)` along a path, lowest node first.
type DerivedPath = Vec<(NodeIndex, Vec<u8>, Vec<u8>)>;

/// Section 12.4.3.1 with section 7.4: the path secret belongs to the lowest common
/// ancestor of `own_leaf` and `signer`; each node above it on the signer's filtered
/// direct path gets the next path secret. Returns `(node, path_secret, private_key)`,
/// lowest first, after checking every derived public key against the tree.
fn derive_path(
    suite: &Suite,
    tree: &RatchetTree,
    own_leaf: LeafIndex,
    signer: LeafIndex,
    path_secret: &[u8],
) -> Result<DerivedPath, JoinError> {
    if own_leaf == signer {
        return Err(JoinError::PathSecretFromOwnLeaf(own_leaf.0));
    }
    let ancestor = tree_math::common_ancestor(own_leaf.node(), signer.node());
    let path = tree.filtered_direct_path(signer);
    let start = path
        .iter()
        .position(|&n| n == ancestor)
        .ok_or(JoinError::PathKeyMismatch(ancestor.0))?;
    let mut out = Vec::new();
    let mut secret = path_secret.to_vec();
    for &node in path.iter().skip(start) {
        let pair = node_key_pair(suite, &secret)?;
        let expected = tree.parent_node(node).map(|p| p.encryption_key.as_slice());
        if expected != Some(pair.public.as_slice()) {
            return Err(JoinError::PathKeyMismatch(node.0));
        }
        let next = next_path_secret(suite, &secret)?;
        out.push((node, std::mem::replace(&mut secret, next), pair.private));
    }
    Ok(out)
}

/// Decodes a `ratchet_tree` value as carried out of band: the bytes of
/// `optional<Node> ratchet_tree<V>` (section 12.4.3.3).
pub fn decode_ratchet_tree(bytes: &[u8]) -> Result<messages::RatchetTree, DecodeError> {
    messages::RatchetTree::from_bytes(bytes)
}

#[cfg(test)]
#[path = "join_tests.rs"]
mod tests;
