//! TreeKEM: creating, merging and decrypting UpdatePaths (RFC 9420 sections 7.4 to 7.6,
//! parent hashes of 7.9).
//!
//! ```text
//! path_secret[0] is sampled at random
//! path_secret[n] = DeriveSecret(path_secret[n-1], "path")
//! node_secret[n] = DeriveSecret(path_secret[n], "node")
//! node_priv[n], node_pub[n] = KEM.DeriveKeyPair(node_secret[n])
//! commit_secret  = path_secret[len]      (one past the last filtered direct path node)
//!
//! struct {
//!     HPKEPublicKey encryption_key;
//!     HPKECiphertext encrypted_path_secret<V>;
//! } UpdatePathNode;
//!
//! struct {
//!     LeafNode leaf_node;
//!     UpdatePathNode nodes<V>;
//! } UpdatePath;
//!
//! encrypted_path_secret[i] = EncryptWithLabel(pk(resolution(copath child)[i]),
//!                                "UpdatePathNode", group_context, path_secret)
//! ```
//!
//! A committer calls [`prepare_update_path`] (which updates its own tree), computes the
//! provisional GroupContext from the resulting tree hash, then [`PreparedPath::encrypt`].
//! A receiver calls [`merge_update_path`] then, with the same provisional GroupContext,
//! [`decrypt_update_path`].

use std::collections::BTreeMap;

use crate::codec::Bytes;
use crate::crypto::{CryptoError, HpkeKeyPair, Suite};
use crate::messages::{
    HpkeCiphertext, HpkePublicKey, LeafNode, LeafNodeSource, Node, ParentNode, UpdatePath,
    UpdatePathNode,
};
use crate::ratchet_tree::{RatchetTree, TreeError, verify_leaf_signature};
use crate::tree_math::{self, LeafIndex, NodeIndex};

/// The `EncryptWithLabel` label of path secrets (section 7.6).
pub const UPDATE_PATH_NODE_LABEL: &[u8] = b"UpdatePathNode";

/// HPKE private keys a member holds, by the node they belong to.
pub type PrivateKeys = BTreeMap<NodeIndex, Vec<u8>>;

/// Why an UpdatePath cannot be created, merged or decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeKemError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The sender's leaf is blank: only a member commits a path.
    #[error("the sender's leaf {0} is blank")]
    SenderBlank(u32),
    /// Section 7.3: "If the LeafNode appears in the `leaf_node` value of the UpdatePath
    /// in a Commit, verify that `leaf_node_source` is set to `commit`."
    #[error("the UpdatePath's leaf node source is not commit")]
    LeafSourceNotCommit,
    /// Section 7.3: the leaf node's signature (LeafNodeTBS with group_id and leaf index).
    #[error("the UpdatePath's leaf node signature does not verify")]
    LeafSignature,
    /// Section 7.6: one UpdatePathNode per node of the filtered direct path.
    #[error("the UpdatePath has {actual} nodes, the sender's filtered direct path {expected}")]
    PathLength { expected: usize, actual: usize },
    /// Section 7.9.2: "verify that [the committer's leaf parent hash] matches the
    /// `parent_hash` value in the supplied `leaf_node`".
    #[error("the leaf node's parent_hash does not match the merged path")]
    ParentHashMismatch,
    /// Section 7.6: "The length of the `encrypted_path_secret` vector MUST be equal to
    /// the length of the resolution of the copath node (excluding new leaf nodes)".
    #[error("node {node} carries {actual} ciphertexts for a resolution of {expected}")]
    CiphertextCount {
        node: u32,
        expected: usize,
        actual: usize,
    },
    /// The receiver is the sender, is blank, or is not under any copath node.
    #[error("leaf {0} is not a receiver of this UpdatePath")]
    NotAReceiver(u32),
    /// No node of the relevant resolution has a private key the receiver holds.
    #[error("leaf {0} holds no private key for the resolution it is in")]
    NoPrivateKey(u32),
    /// Section 7.5: "Verify that the derived public keys are the same as the
    /// corresponding public keys sent in the UpdatePath."
    #[error("the key derived for node {0} differs from the UpdatePath's")]
    PublicKeyMismatch(u32),
    /// Section 12.4.2: the committer's new leaf keeps the encryption key of the leaf it
    /// replaces.
    #[error("the UpdatePath's leaf node keeps the committer's current encryption key")]
    LeafEncryptionKeyUnchanged,
    /// Section 12.4.2: a public key of the UpdatePath is already held by another node of
    /// the new tree (the two node indices).
    #[error("the UpdatePath's key at node {path_node} is already at node {other_node}")]
    PathKeyNotUnique { path_node: u32, other_node: u32 },
}

/// `DeriveSecret(path_secret, "path")`.
pub fn next_path_secret(suite: &Suite, path_secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
    suite.derive_secret(path_secret, b"path")
}

/// `KEM.DeriveKeyPair(DeriveSecret(path_secret, "node"))`.
pub fn node_key_pair(suite: &Suite, path_secret: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
    suite.hpke_derive_key_pair(&suite.derive_secret(path_secret, b"node")?)
}

/// The path secrets of the filtered direct path nodes from some node up, and the commit
/// secret that follows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSecrets {
    /// `(node, path_secret, node private key)`, lowest node first.
    pub nodes: Vec<(NodeIndex, Vec<u8>, Vec<u8>)>,
    pub commit_secret: Vec<u8>,
}

impl PathSecrets {
    /// Derives from `first` at `path[0]` upward, checking each derived public key against
    /// `expected_keys` when given.
    fn derive(
        suite: &Suite,
        path: &[NodeIndex],
        first: Vec<u8>,
        expected_keys: Option<&[UpdatePathNode]>,
    ) -> Result<Self, TreeKemError> {
        let mut nodes = Vec::with_capacity(path.len());
        let mut secret = first;
        for (k, &node) in path.iter().enumerate() {
            let pair = node_key_pair(suite, &secret)?;
            if let Some(expected) = expected_keys
                && expected.get(k).map(|n| n.encryption_key.as_slice()) != Some(&pair.public[..])
            {
                return Err(TreeKemError::PublicKeyMismatch(node.0));
            }
            let next = next_path_secret(suite, &secret)?;
            nodes.push((node, std::mem::replace(&mut secret, next), pair.private));
        }
        Ok(PathSecrets {
            nodes,
            commit_secret: secret,
        })
    }

    /// The path secret of `node`, if on the path.
    pub fn path_secret(&self, node: NodeIndex) -> Option<&[u8]> {
        self.nodes
            .iter()
            .find(|(n, _, _)| *n == node)
            .map(|(_, s, _)| s.as_slice())
    }
}

/// A committer's new path, merged into its tree, waiting for the provisional
/// GroupContext to be encrypted.
#[derive(Debug, Clone)]
pub struct PreparedPath {
    pub sender: LeafIndex,
    pub leaf_node: LeafNode,
    pub leaf_private_key: Vec<u8>,
    pub secrets: PathSecrets,
}

/// Sections 7.4 and 7.5 for the committer: blanks the direct path of `sender`, derives
/// fresh keys for the filtered direct path, sets their parent hashes, and replaces the
/// leaf with `leaf_template` given a fresh encryption key, source `commit` with the
/// leaf's parent hash, and a signature by `signature_private`.
pub fn prepare_update_path(
    suite: &Suite,
    tree: &mut RatchetTree,
    sender: LeafIndex,
    leaf_template: LeafNode,
    signature_private: &[u8],
    group_id: &[u8],
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<PreparedPath, TreeKemError> {
    if tree.leaf(sender).is_none() {
        return Err(TreeKemError::SenderBlank(sender.0));
    }
    let path = tree.filtered_direct_path(sender);
    let leaf_pair = suite.hpke_generate_key_pair(rng)?;
    let mut first = vec![0u8; suite.hash_length()];
    rng.fill_bytes(&mut first);
    let secrets = PathSecrets::derive(suite, &path, first, None)?;

    let mut next = tree.clone();
    next.blank_path(sender);
    for (node, _, private) in &secrets.nodes {
        next.set_parent(
            *node,
            ParentNode {
                encryption_key: HpkePublicKey::from(suite.hpke_public_key(private)?),
                parent_hash: Bytes::default(),
                unmerged_leaves: Vec::new(),
            },
        );
    }
    let parent_hash = next.set_path_parent_hashes(suite, sender);
    let mut leaf_node = leaf_template;
    leaf_node.encryption_key = HpkePublicKey::from(leaf_pair.public);
    leaf_node.leaf_node_source = LeafNodeSource::Commit {
        parent_hash: Bytes(parent_hash),
    };
    leaf_node.signature = Bytes(suite.sign_with_label(
        signature_private,
        LeafNode::SIGNATURE_LABEL,
        &leaf_node.tbs_bytes(group_id, sender),
    )?);
    next.set_leaf(sender, leaf_node.clone())?;
    *tree = next;
    Ok(PreparedPath {
        sender,
        leaf_node,
        leaf_private_key: leaf_pair.private,
        secrets,
    })
}

impl PreparedPath {
    /// Section 7.6: encrypts each path secret to the resolution of its copath child in
    /// `tree` (the committer's tree after [`prepare_update_path`]), leaving out the
    /// `new_members` added by the same Commit.
    pub fn encrypt(
        &self,
        suite: &Suite,
        tree: &RatchetTree,
        group_context: &[u8],
        new_members: &[LeafIndex],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<UpdatePath, TreeKemError> {
        // Every seal, in path order then resolution order, with its own seed drawn from
        // `rng` in that order: the seals may then run on any number of cores and the
        // UpdatePath still depends only on `rng`.
        let mut seals: Vec<Seal<'_>> = Vec::new();
        for (position, (node, path_secret, _)) in self.secrets.nodes.iter().enumerate() {
            for target in copath_resolution(tree, *node, self.sender, new_members) {
                let public = match tree.node(target) {
                    Some(crate::messages::Node::Leaf(l)) => l.encryption_key.as_slice(),
                    Some(crate::messages::Node::Parent(p)) => p.encryption_key.as_slice(),
                    None => continue,
                };
                let mut seed = [0u8; 32];
                rng.fill_bytes(&mut seed);
                seals.push(Seal {
                    position,
                    public,
                    path_secret,
                    seed,
                });
            }
        }
        let sealed = seal_all(suite, group_context, &seals);
        let mut nodes = Vec::with_capacity(self.secrets.nodes.len());
        for (_, _, private) in &self.secrets.nodes {
            nodes.push(UpdatePathNode {
                encryption_key: HpkePublicKey::from(suite.hpke_public_key(private)?),
                encrypted_path_secret: Vec::new(),
            });
        }
        for (seal, result) in seals.iter().zip(sealed) {
            let (kem_output, ciphertext) = result?;
            if let Some(node) = nodes.get_mut(seal.position) {
                node.encrypted_path_secret.push(HpkeCiphertext {
                    kem_output: Bytes(kem_output),
                    ciphertext: Bytes(ciphertext),
                });
            }
        }
        Ok(UpdatePath {
            leaf_node: self.leaf_node.clone(),
            nodes,
        })
    }
}

/// One `EncryptWithLabel` of a path secret to one node of a copath resolution.
struct Seal<'a> {
    /// The index of the path node in the UpdatePath.
    position: usize,
    public: &'a [u8],
    path_secret: &'a [u8],
    seed: [u8; 32],
}

/// Below this many seals per core, threads cost more than they save.
const SEALS_PER_THREAD: usize = 8;

type Sealed = Result<(Vec<u8>, Vec<u8>), CryptoError>;

/// Every seal's `(kem_output, ciphertext)`, in order, spread over the available cores
/// (a sparse tree's commit seals to every member: section 7.6's resolutions).
fn seal_all(suite: &Suite, group_context: &[u8], seals: &[Seal<'_>]) -> Vec<Sealed> {
    seal_on(suite, group_context, seals, crate::parallel::cores())
}

/// [`seal_all`] on at most `cores` threads.
fn seal_on(suite: &Suite, group_context: &[u8], seals: &[Seal<'_>], cores: usize) -> Vec<Sealed> {
    use rand_core::SeedableRng as _;
    let run = |part: &[Seal<'_>]| -> Vec<Sealed> {
        part.iter()
            .map(|seal| {
                let mut rng = rand_chacha::ChaCha20Rng::from_seed(seal.seed);
                suite.encrypt_with_label(
                    seal.public,
                    UPDATE_PATH_NODE_LABEL,
                    group_context,
                    seal.path_secret,
                    &mut rng,
                )
            })
            .collect()
    };
    let threads = cores.min(seals.len() / SEALS_PER_THREAD);
    crate::parallel::map_in_order(seals, threads, run)
}

/// The resolution of the child of `node` that is not on `sender`'s path, without the
/// leaves of `new_members`.
fn copath_resolution(
    tree: &RatchetTree,
    node: NodeIndex,
    sender: LeafIndex,
    new_members: &[LeafIndex],
) -> Vec<NodeIndex> {
    RatchetTree::copath_child(node, sender.node())
        .map(|child| tree.resolution(child))
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.leaf().is_none_or(|l| !new_members.contains(&l)))
        .collect()
}

/// Section 7.5, "merges UpdatePath into the tree": checks the leaf node (source, parent
/// hash, signature) and the path length, then replaces the sender's leaf and filtered
/// direct path. `tree` is unchanged on error.
pub fn merge_update_path(
    suite: &Suite,
    tree: &mut RatchetTree,
    sender: LeafIndex,
    path: &UpdatePath,
    group_id: &[u8],
) -> Result<(), TreeKemError> {
    if sender.0 >= tree.leaf_count() {
        return Err(TreeError::LeafOutOfRange(sender.0).into());
    }
    if tree.leaf(sender).is_none() {
        return Err(TreeKemError::SenderBlank(sender.0));
    }
    let LeafNodeSource::Commit { parent_hash } = &path.leaf_node.leaf_node_source else {
        return Err(TreeKemError::LeafSourceNotCommit);
    };
    verify_leaf_signature(suite, &path.leaf_node, group_id, sender)
        .map_err(|_| TreeKemError::LeafSignature)?;
    let filtered = tree.filtered_direct_path(sender);
    if filtered.len() != path.nodes.len() {
        return Err(TreeKemError::PathLength {
            expected: filtered.len(),
            actual: path.nodes.len(),
        });
    }
    let mut next = tree.clone();
    next.blank_path(sender);
    for (&node, update) in filtered.iter().zip(&path.nodes) {
        next.set_parent(
            node,
            ParentNode {
                encryption_key: update.encryption_key.clone(),
                parent_hash: Bytes::default(),
                unmerged_leaves: Vec::new(),
            },
        );
    }
    if next.set_path_parent_hashes(suite, sender) != parent_hash.as_slice() {
        return Err(TreeKemError::ParentHashMismatch);
    }
    next.set_leaf(sender, path.leaf_node.clone())?;
    path_keys_unique(&next, sender, &filtered)?;
    *tree = next;
    Ok(())
}

/// The encryption key a node holds, if it is not blank.
fn key_of(node: Option<&Node>) -> Option<&[u8]> {
    match node {
        Some(Node::Leaf(leaf)) => Some(leaf.encryption_key.as_slice()),
        Some(Node::Parent(parent)) => Some(parent.encryption_key.as_slice()),
        None => None,
    }
}

/// Section 12.4.2: no public key the UpdatePath brings (the sender's leaf and its
/// filtered direct path in `tree`, after the merge) is held by any other node of `tree`.
fn path_keys_unique(
    tree: &RatchetTree,
    sender: LeafIndex,
    filtered: &[NodeIndex],
) -> Result<(), TreeKemError> {
    for path_node in std::iter::once(sender.node()).chain(filtered.iter().copied()) {
        let Some(key) = key_of(tree.node(path_node)) else {
            continue;
        };
        if let Some((other, _)) = tree
            .nodes()
            .find(|(index, node)| *index != path_node && key_of(*node) == Some(key))
        {
            return Err(TreeKemError::PathKeyNotUnique {
                path_node: path_node.0,
                other_node: other.0,
            });
        }
    }
    Ok(())
}

/// Section 7.5, "decrypts the path secrets": `receiver` finds the filtered direct path
/// node whose copath child covers it, decrypts that node's path secret with a private
/// key from `keys`, derives the rest and checks every derived public key. `tree` is
/// the receiver's tree after [`merge_update_path`]; `group_context` the provisional
/// GroupContext's bytes.
#[allow(clippy::too_many_arguments)]
pub fn decrypt_update_path(
    suite: &Suite,
    tree: &RatchetTree,
    sender: LeafIndex,
    receiver: LeafIndex,
    path: &UpdatePath,
    keys: &PrivateKeys,
    group_context: &[u8],
    new_members: &[LeafIndex],
) -> Result<PathSecrets, TreeKemError> {
    if receiver == sender || tree.leaf(receiver).is_none() {
        return Err(TreeKemError::NotAReceiver(receiver.0));
    }
    let filtered = tree.filtered_direct_path(sender);
    let Some(position) = filtered.iter().position(|&node| {
        RatchetTree::copath_child(node, sender.node())
            .is_some_and(|c| tree_math::is_ancestor_or_self(c, receiver.node()))
    }) else {
        return Err(TreeKemError::NotAReceiver(receiver.0));
    };
    let (Some(&node), Some(update), Some(above)) = (
        filtered.get(position),
        path.nodes.get(position),
        filtered.get(position..),
    ) else {
        return Err(TreeKemError::PathLength {
            expected: filtered.len(),
            actual: path.nodes.len(),
        });
    };
    let resolution = copath_resolution(tree, node, sender, new_members);
    if resolution.len() != update.encrypted_path_secret.len() {
        return Err(TreeKemError::CiphertextCount {
            node: node.0,
            expected: resolution.len(),
            actual: update.encrypted_path_secret.len(),
        });
    }
    let Some((private, ciphertext)) = resolution
        .iter()
        .zip(&update.encrypted_path_secret)
        .find_map(|(n, c)| keys.get(n).map(|k| (k, c)))
    else {
        return Err(TreeKemError::NoPrivateKey(receiver.0));
    };
    let path_secret = suite.decrypt_with_label(
        private,
        UPDATE_PATH_NODE_LABEL,
        group_context,
        ciphertext.kem_output.as_slice(),
        ciphertext.ciphertext.as_slice(),
    )?;
    let expected = path.nodes.get(position..).unwrap_or_default();
    PathSecrets::derive(suite, above, path_secret, Some(expected))
}

#[cfg(test)]
#[path = "treekem_tests.rs"]
mod tests;

#[cfg(test)]
mod seal_tests {
    use super::*;

    /// The seals of an UpdatePath are the same bytes on one core as on several: the
    /// output depends only on the caller's generator.
    #[test]
    fn sealing_does_not_depend_on_the_core_count() {
        let Ok(suite) = Suite::new(crate::crypto::CipherSuite(1)) else {
            panic!("suite 1");
        };
        let keys: Vec<HpkeKeyPair> = (0u8..40)
            .map(|i| node_key_pair(&suite, &[i; 32]))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{e}"));
        let secret = [7u8; 32];
        let seals: Vec<Seal<'_>> = keys
            .iter()
            .enumerate()
            .map(|(i, pair)| Seal {
                position: i % 3,
                public: &pair.public,
                path_secret: &secret,
                seed: [i as u8; 32],
            })
            .collect();
        let one = seal_on(&suite, b"context", &seals, 1);
        let four = seal_on(&suite, b"context", &seals, 4);
        assert_eq!(one, four);
        assert_eq!(one.len(), 40);
        // Each seal opens with its own key, and different seeds gave different outputs.
        for (sealed, pair) in one.iter().zip(&keys) {
            let Ok((kem_output, ciphertext)) = sealed else {
                panic!("seal failed: {sealed:?}");
            };
            let opened = suite.decrypt_with_label(
                &pair.private,
                UPDATE_PATH_NODE_LABEL,
                b"context",
                kem_output,
                ciphertext,
            );
            assert_eq!(opened.as_deref(), Ok(&secret[..]));
        }
        assert_ne!(one.first(), one.get(1));
    }
}
