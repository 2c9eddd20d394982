//! A ratchet tree driven with real keys: members join with signed KeyPackage leaves, commit
//! UpdatePaths (TreeKEM, RFC 9420 sections 7.4 to 7.6) that every other member merges and
//! decrypts, send Update proposals and are removed (section 12.1). What the tree families
//! build their trees with; it tracks the path secrets each member knows.

use std::collections::BTreeMap;

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::messages::{
    Capabilities, Credential, CredentialType, GroupContext, HpkePublicKey, KeyPackage, LeafNode,
    LeafNodeSource, Lifetime, Node, ProtocolVersion, UpdatePath,
};
use concord_reference::ratchet_tree::RatchetTree;
use concord_reference::tree_math::{LeafIndex, NodeIndex};
use concord_reference::treekem::{self, PrivateKeys};
use rand_chacha::ChaCha20Rng;

use crate::vectors::{AtField, Mismatch};

/// One member's private state.
#[derive(Debug, Clone)]
pub struct Member {
    pub leaf: LeafIndex,
    pub signature_private: Vec<u8>,
    pub encryption_private: Vec<u8>,
    /// Path secrets of parent nodes, as learnt from commits (possibly stale: see
    /// [`Group::known_path_secrets`]).
    path_secrets: BTreeMap<NodeIndex, Vec<u8>>,
}

/// A freshly made member leaf, before it is placed in a tree.
#[derive(Debug, Clone)]
pub struct NewLeaf {
    pub leaf_node: LeafNode,
    pub signature_private: Vec<u8>,
    pub encryption_private: Vec<u8>,
}

/// A tree and the members in it.
#[derive(Debug, Clone)]
pub struct Group {
    pub suite: Suite,
    pub group_id: Vec<u8>,
    pub tree: RatchetTree,
    /// By leaf index.
    pub members: Vec<Member>,
    /// Whether receivers decrypt each commit (needed only when path secrets are output).
    pub decrypt: bool,
}

/// A leaf with source `key_package`, signed by a fresh signature key.
pub fn key_package_leaf(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<NewLeaf, Mismatch> {
    let signature = suite.signature_generate(rng).at("signature key")?;
    let encryption = suite.hpke_generate_key_pair(rng).at("encryption key")?;
    let identity = suite.hash(&signature.public);
    let mut leaf_node = LeafNode {
        encryption_key: HpkePublicKey::from(encryption.public),
        signature_key: signature.public.into(),
        credential: Credential::basic(Bytes(identity[..8].to_vec())),
        capabilities: Capabilities {
            versions: vec![ProtocolVersion::MLS10],
            cipher_suites: vec![suite.id()],
            credentials: vec![CredentialType::BASIC],
            ..Capabilities::default()
        },
        leaf_node_source: LeafNodeSource::KeyPackage {
            lifetime: Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        },
        extensions: Vec::new(),
        signature: Bytes::default(),
    };
    sign_leaf(suite, &mut leaf_node, &signature.private, &[], LeafIndex(0))?;
    Ok(NewLeaf {
        leaf_node,
        signature_private: signature.private,
        encryption_private: encryption.private,
    })
}

fn sign_leaf(
    suite: &Suite,
    leaf_node: &mut LeafNode,
    signature_private: &[u8],
    group_id: &[u8],
    leaf: LeafIndex,
) -> Result<(), Mismatch> {
    let tbs = leaf_node.tbs_bytes(group_id, leaf);
    leaf_node.signature = Bytes(
        suite
            .sign_with_label(signature_private, LeafNode::SIGNATURE_LABEL, &tbs)
            .at("leaf node signature")?,
    );
    Ok(())
}

/// A KeyPackage around `leaf` with a fresh init key; returns it and the init private key.
pub fn key_package(
    suite: &Suite,
    leaf: &NewLeaf,
    rng: &mut ChaCha20Rng,
) -> Result<(KeyPackage, Vec<u8>), Mismatch> {
    let init = suite.hpke_generate_key_pair(rng).at("init key")?;
    let mut key_package = KeyPackage {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        init_key: HpkePublicKey::from(init.public),
        leaf_node: leaf.leaf_node.clone(),
        extensions: Vec::new(),
        signature: Bytes::default(),
    };
    key_package.signature = Bytes(
        suite
            .sign_with_label(
                &leaf.signature_private,
                KeyPackage::SIGNATURE_LABEL,
                &key_package.tbs_bytes(),
            )
            .at("key package signature")?,
    );
    Ok((key_package, init.private))
}

impl Group {
    /// A one-member group.
    pub fn new(
        suite: &Suite,
        group_id: Vec<u8>,
        decrypt: bool,
        rng: &mut ChaCha20Rng,
    ) -> Result<Self, Mismatch> {
        let first = key_package_leaf(suite, rng)?;
        Ok(Group {
            suite: *suite,
            group_id,
            tree: RatchetTree::new(first.leaf_node),
            members: vec![Member {
                leaf: LeafIndex(0),
                signature_private: first.signature_private,
                encryption_private: first.encryption_private,
                path_secrets: BTreeMap::new(),
            }],
            decrypt,
        })
    }

    /// A group of `members` members in which every leaf of an even index commits in turn,
    /// so that every parent node with members on both sides is non-blank.
    pub fn populated(
        suite: &Suite,
        group_id: Vec<u8>,
        members: usize,
        decrypt: bool,
        rng: &mut ChaCha20Rng,
    ) -> Result<Self, Mismatch> {
        let mut group = Group::new(suite, group_id, decrypt, rng)?;
        group.grow_to(members, rng)?;
        for leaf in (0..members as u32).step_by(2) {
            group.commit(LeafIndex(leaf), rng)?;
        }
        Ok(group)
    }

    /// Adds a member as an Add proposal does (leftmost blank leaf, unmerged above it).
    pub fn add(&mut self, rng: &mut ChaCha20Rng) -> Result<LeafIndex, Mismatch> {
        let new = key_package_leaf(&self.suite, rng)?;
        self.add_leaf(new)
    }

    /// Adds a prepared leaf.
    pub fn add_leaf(&mut self, new: NewLeaf) -> Result<LeafIndex, Mismatch> {
        let leaf = self.tree.add_leaf(new.leaf_node).at("add")?;
        self.members.push(Member {
            leaf,
            signature_private: new.signature_private,
            encryption_private: new.encryption_private,
            path_secrets: BTreeMap::new(),
        });
        self.members.sort_by_key(|m| m.leaf);
        Ok(leaf)
    }

    /// Adds members until there are `count`.
    pub fn grow_to(&mut self, count: usize, rng: &mut ChaCha20Rng) -> Result<(), Mismatch> {
        while self.members.len() < count {
            self.add(rng)?;
        }
        Ok(())
    }

    pub fn member(&self, leaf: LeafIndex) -> Result<&Member, Mismatch> {
        self.members
            .iter()
            .find(|m| m.leaf == leaf)
            .ok_or_else(|| Mismatch::new(format!("leaf {}", leaf.0), "not a member"))
    }

    /// The GroupContext an UpdatePath is encrypted under, for the tree as it stands.
    pub fn context(&self, epoch: u64, confirmed_transcript_hash: &[u8]) -> Vec<u8> {
        GroupContext::new(
            self.suite.id(),
            self.group_id.clone(),
            epoch,
            self.tree.tree_hash(&self.suite),
            confirmed_transcript_hash.to_vec(),
            Vec::new(),
        )
        .to_bytes()
    }

    /// Every HPKE private key `member` holds: its leaf and the parents it knows.
    pub fn private_keys(&self, member: &Member) -> Result<PrivateKeys, Mismatch> {
        let mut keys = PrivateKeys::from([(member.leaf.node(), member.encryption_private.clone())]);
        for (node, secret) in self.known_path_secrets(member)? {
            let pair = treekem::node_key_pair(&self.suite, &secret).at("path secret")?;
            keys.insert(node, pair.private);
        }
        Ok(keys)
    }

    /// The path secrets `member` holds for parents still in the tree with the key they
    /// derive: those of nodes since blanked or replaced are left out.
    pub fn known_path_secrets(
        &self,
        member: &Member,
    ) -> Result<Vec<(NodeIndex, Vec<u8>)>, Mismatch> {
        let mut known = Vec::new();
        for (&node, secret) in &member.path_secrets {
            let pair = treekem::node_key_pair(&self.suite, secret).at("path secret")?;
            if let Some(Node::Parent(p)) = self.tree.node(node)
                && p.encryption_key.as_slice() == pair.public.as_slice()
            {
                known.push((node, secret.clone()));
            }
        }
        Ok(known)
    }

    /// `committer` commits a fresh UpdatePath; the others merge it and (when `decrypt`)
    /// decrypt their path secrets from it. Returns the UpdatePath and the commit secret.
    pub fn commit(
        &mut self,
        committer: LeafIndex,
        rng: &mut ChaCha20Rng,
    ) -> Result<(UpdatePath, Vec<u8>), Mismatch> {
        let field = format!("commit from leaf {}", committer.0);
        let member = self.member(committer)?.clone();
        let template = self
            .tree
            .leaf(committer)
            .cloned()
            .ok_or_else(|| Mismatch::new(&field, "blank leaf"))?;
        let mut next = self.tree.clone();
        let prepared = treekem::prepare_update_path(
            &self.suite,
            &mut next,
            committer,
            template,
            &member.signature_private,
            &self.group_id,
            rng,
        )
        .at(&field)?;
        let before = std::mem::replace(&mut self.tree, next);
        let context = self.context(0, &[]);
        let path = prepared
            .encrypt(&self.suite, &self.tree, &context, &[], rng)
            .at(&field)?;
        let mut learnt = Vec::new();
        if self.decrypt {
            for other in self.members.iter().filter(|m| m.leaf != committer) {
                let mut merged = before.clone();
                treekem::merge_update_path(
                    &self.suite,
                    &mut merged,
                    committer,
                    &path,
                    &self.group_id,
                )
                .at(&field)?;
                let secrets = treekem::decrypt_update_path(
                    &self.suite,
                    &merged,
                    committer,
                    other.leaf,
                    &path,
                    &self.private_keys(other)?,
                    &context,
                    &[],
                )
                .at(&format!("{field}, receiver {}", other.leaf.0))?;
                learnt.push((other.leaf, secrets.nodes));
            }
        }
        for m in &mut self.members {
            if m.leaf == committer {
                m.encryption_private = prepared.leaf_private_key.clone();
                for (node, secret, _) in &prepared.secrets.nodes {
                    m.path_secrets.insert(*node, secret.clone());
                }
            }
            if let Some((_, nodes)) = learnt.iter().find(|(leaf, _)| *leaf == m.leaf) {
                for (node, secret, _) in nodes {
                    m.path_secrets.insert(*node, secret.clone());
                }
            }
        }
        Ok((path, prepared.secrets.commit_secret))
    }

    /// An Update leaf for `leaf`: fresh encryption key, source `update`, signed for this
    /// group and leaf. Returns it with its encryption private key.
    pub fn update_leaf(
        &self,
        leaf: LeafIndex,
        rng: &mut ChaCha20Rng,
    ) -> Result<(LeafNode, Vec<u8>), Mismatch> {
        let member = self.member(leaf)?;
        let mut node = self
            .tree
            .leaf(leaf)
            .cloned()
            .ok_or_else(|| Mismatch::new("update", "blank leaf"))?;
        let encryption = self.suite.hpke_generate_key_pair(rng).at("update key")?;
        node.encryption_key = HpkePublicKey::from(encryption.public);
        node.leaf_node_source = LeafNodeSource::Update;
        sign_leaf(
            &self.suite,
            &mut node,
            &member.signature_private,
            &self.group_id,
            leaf,
        )?;
        Ok((node, encryption.private))
    }

    /// Applies an Update proposal from `leaf` (its direct path is blanked).
    pub fn update(&mut self, leaf: LeafIndex, rng: &mut ChaCha20Rng) -> Result<(), Mismatch> {
        let (node, private) = self.update_leaf(leaf, rng)?;
        self.tree.update_leaf(leaf, node).at("update")?;
        for m in self.members.iter_mut().filter(|m| m.leaf == leaf) {
            m.encryption_private = private.clone();
        }
        Ok(())
    }

    /// Applies a Remove proposal (blank leaf and path, truncate).
    pub fn remove(&mut self, leaf: LeafIndex) -> Result<(), Mismatch> {
        self.tree.remove_leaf(leaf).at("remove")?;
        self.members.retain(|m| m.leaf != leaf);
        Ok(())
    }
}
