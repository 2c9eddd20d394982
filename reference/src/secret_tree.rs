//! The secret tree and its sender ratchets (RFC 9420 section 9).
//!
//! ```text
//! encryption_secret = tree_node_[root]_secret
//!         │  ExpandWithLabel(., "tree", "left" | "right", Nh)   down to each leaf
//!         ▼
//! tree_node_[leaf]_secret ──"handshake"──> ratchet ──> (key, nonce) per generation
//!                         └─"application"─> ratchet ──> (key, nonce) per generation
//! ```
//!
//! Secrets are derived lazily and deleted once consumed (section 9.2: "the secret of
//! a node MUST be deleted once both its children's secrets are derived"; a ratchet
//! secret once its successor is). Keys for skipped generations are kept, within the
//! bounds of a [`RatchetPolicy`], so out-of-order messages can still be opened.

use std::collections::BTreeMap;

use crate::crypto::{CryptoError, Suite};
use crate::tree_math::{self, LeafIndex, NodeIndex};

/// The two ratchets of each leaf (section 9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RatchetKind {
    Handshake,
    Application,
}

impl RatchetKind {
    fn label(self) -> &'static [u8] {
        match self {
            RatchetKind::Handshake => b"handshake",
            RatchetKind::Application => b"application",
        }
    }
}

/// Bounds on what a receiver keeps for messages that arrive out of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatchetPolicy {
    /// How far ahead of the next expected generation a message may be.
    pub maximum_forward_distance: u32,
    /// How many skipped generations' keys a ratchet retains.
    pub out_of_order_tolerance: u32,
}

impl Default for RatchetPolicy {
    fn default() -> Self {
        RatchetPolicy {
            maximum_forward_distance: 1000,
            out_of_order_tolerance: 10,
        }
    }
}

/// How far [`SecretTree::peek_key`] walks a ratchet: 2^20 generations.
pub const PEEK_MAXIMUM_DISTANCE: u32 = 1 << 20;

/// A key and nonce for one generation of one ratchet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatchetKey {
    pub generation: u32,
    pub key: Vec<u8>,
    pub nonce: Vec<u8>,
}

/// Why the secret tree cannot produce a key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretTreeError {
    #[error("{leaf:?} is outside a tree of {leaf_count} leaves")]
    LeafOutOfRange { leaf: LeafIndex, leaf_count: u32 },
    #[error("generation {generation} is more than {maximum} ahead of the next expected {next}")]
    GenerationTooFarAhead {
        generation: u32,
        next: u32,
        maximum: u32,
    },
    /// Section 9.2: keys MUST be deleted once used; a second message with the same
    /// generation (a replay) or one older than the retention window cannot be opened.
    #[error("the key of generation {generation} was already used or has been deleted")]
    GenerationConsumed { generation: u32 },
    #[error("the ratchet is exhausted at generation {generation}")]
    RatchetExhausted { generation: u32 },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// One sender ratchet: the secret of the next generation plus keys kept for skipped ones.
#[derive(Clone, Debug)]
struct SenderRatchet {
    next_generation: u32,
    next_secret: Vec<u8>,
    skipped: BTreeMap<u32, RatchetKey>,
}

impl SenderRatchet {
    fn key_at(suite: &Suite, secret: &[u8], generation: u32) -> Result<RatchetKey, CryptoError> {
        Ok(RatchetKey {
            generation,
            key: suite.derive_tree_secret(
                secret,
                b"key",
                generation,
                suite.aead_key_length() as u16,
            )?,
            nonce: suite.derive_tree_secret(
                secret,
                b"nonce",
                generation,
                suite.aead_nonce_length() as u16,
            )?,
        })
    }

    /// Produces the key of the next generation and advances the ratchet past it; returns
    /// the key and the secret it replaced (which the caller deletes, or keeps to undo).
    fn advance(&mut self, suite: &Suite) -> Result<(RatchetKey, Vec<u8>), SecretTreeError> {
        let generation = self.next_generation;
        let key = Self::key_at(suite, &self.next_secret, generation)?;
        let following = generation
            .checked_add(1)
            .ok_or(SecretTreeError::RatchetExhausted { generation })?;
        let next = suite.derive_tree_secret(
            &self.next_secret,
            b"secret",
            generation,
            suite.hash_length() as u16,
        )?;
        let previous = std::mem::replace(&mut self.next_secret, next);
        self.next_generation = following;
        Ok((key, previous))
    }

    /// Back to `next_generation` and `next_secret`: drops the keys retained since and
    /// takes back the ones evicted since.
    fn rewind(&mut self, next_generation: u32, next_secret: Vec<u8>, evicted: Vec<RatchetKey>) {
        self.skipped
            .retain(|&generation, _| generation < next_generation);
        for key in evicted {
            self.skipped.insert(key.generation, key);
        }
        self.next_generation = next_generation;
        self.next_secret = next_secret;
    }
}

/// What taking one receiving key changed in one sender ratchet, so that a message which
/// then fails a later check (decryption, signature) can be rejected without consuming
/// anything: a forgery must not burn the key of a genuine message still to come. Its
/// size is bounded by the ratchet's out-of-order tolerance, never by the group's size.
#[derive(Debug)]
pub struct RatchetUndo {
    leaf: LeafIndex,
    kind: RatchetKind,
    change: RatchetChange,
}

#[derive(Debug)]
enum RatchetChange {
    /// A retained key of a skipped generation was taken.
    TookSkipped(RatchetKey),
    /// The ratchet advanced from `next_generation` (with `next_secret`), retaining the
    /// keys of generations it skipped and dropping `evicted` beyond the tolerance.
    Advanced {
        next_generation: u32,
        next_secret: Vec<u8>,
        evicted: Vec<RatchetKey>,
    },
}

/// The secret tree of one epoch.
#[derive(Clone, Debug)]
pub struct SecretTree {
    suite: Suite,
    leaf_count: u32,
    /// Node secrets not yet split into their children's (section 9: deleted after use).
    node_secrets: BTreeMap<NodeIndex, Vec<u8>>,
    ratchets: BTreeMap<(LeafIndex, RatchetKind), SenderRatchet>,
    policy: RatchetPolicy,
}

impl SecretTree {
    /// A tree over `leaf_count` leaves. Ratchet trees always hold a power-of-two number
    /// of leaves (section 7.7) and the secret tree has the same shape, so another count
    /// is rounded up to the next power of two.
    pub fn new(
        suite: Suite,
        encryption_secret: &[u8],
        leaf_count: u32,
        policy: RatchetPolicy,
    ) -> Self {
        let leaf_count = match leaf_count {
            0 => 0,
            n => n.checked_next_power_of_two().unwrap_or(1 << 31),
        };
        let mut node_secrets = BTreeMap::new();
        if leaf_count > 0 {
            node_secrets.insert(tree_math::root(leaf_count), encryption_secret.to_vec());
        }
        SecretTree {
            suite,
            leaf_count,
            node_secrets,
            ratchets: BTreeMap::new(),
            policy,
        }
    }

    pub fn leaf_count(&self) -> u32 {
        self.leaf_count
    }

    /// Derives `tree_node_[leaf]_secret` from the closest ancestor still held, deleting
    /// each ancestor once both of its children have been derived.
    fn take_leaf_secret(&mut self, leaf: LeafIndex) -> Result<Option<Vec<u8>>, SecretTreeError> {
        let target = leaf.node();
        let mut path = vec![target];
        path.extend(tree_math::direct_path(target, self.leaf_count));
        // The lowest node on the path (leaf first) whose secret is still held.
        let Some(start) = path.iter().position(|n| self.node_secrets.contains_key(n)) else {
            return Ok(None);
        };
        for depth in (1..=start).rev() {
            let node = path[depth];
            let Some(secret) = self.node_secrets.remove(&node) else {
                return Ok(None);
            };
            for (child, label) in [
                (tree_math::left(node), b"left".as_slice()),
                (tree_math::right(node), b"right".as_slice()),
            ] {
                if let Some(child) = child {
                    let derived = self.suite.expand_with_label(
                        &secret,
                        b"tree",
                        label,
                        self.suite.hash_length() as u16,
                    )?;
                    self.node_secrets.insert(child, derived);
                }
            }
        }
        Ok(self.node_secrets.remove(&target))
    }

    fn ratchet(
        &mut self,
        leaf: LeafIndex,
        kind: RatchetKind,
    ) -> Result<&mut SenderRatchet, SecretTreeError> {
        if leaf.0 >= self.leaf_count {
            return Err(SecretTreeError::LeafOutOfRange {
                leaf,
                leaf_count: self.leaf_count,
            });
        }
        if !self.ratchets.contains_key(&(leaf, kind)) {
            let leaf_secret = self
                .take_leaf_secret(leaf)?
                .ok_or(SecretTreeError::GenerationConsumed { generation: 0 })?;
            for other in [RatchetKind::Handshake, RatchetKind::Application] {
                let root = self.suite.expand_with_label(
                    &leaf_secret,
                    other.label(),
                    b"",
                    self.suite.hash_length() as u16,
                )?;
                self.ratchets.insert(
                    (leaf, other),
                    SenderRatchet {
                        next_generation: 0,
                        next_secret: root,
                        skipped: BTreeMap::new(),
                    },
                );
            }
        }
        self.ratchets
            .get_mut(&(leaf, kind))
            .ok_or(SecretTreeError::GenerationConsumed { generation: 0 })
    }

    /// The key a sender uses for its next message; the ratchet moves past it.
    pub fn next_sending_key(
        &mut self,
        leaf: LeafIndex,
        kind: RatchetKind,
    ) -> Result<RatchetKey, SecretTreeError> {
        let suite = self.suite;
        Ok(self.ratchet(leaf, kind)?.advance(&suite)?.0)
    }

    /// The key for a received message of `generation`, consumed by this call: asking
    /// twice for the same generation fails, as a replay must.
    pub fn receiving_key(
        &mut self,
        leaf: LeafIndex,
        kind: RatchetKind,
        generation: u32,
    ) -> Result<RatchetKey, SecretTreeError> {
        Ok(self.receiving_key_undoable(leaf, kind, generation)?.0)
    }

    /// [`receiving_key`](Self::receiving_key), also returning what [`undo`](Self::undo)
    /// needs to put the ratchet back as it was.
    pub fn receiving_key_undoable(
        &mut self,
        leaf: LeafIndex,
        kind: RatchetKind,
        generation: u32,
    ) -> Result<(RatchetKey, RatchetUndo), SecretTreeError> {
        let suite = self.suite;
        let policy = self.policy;
        let ratchet = self.ratchet(leaf, kind)?;
        if generation < ratchet.next_generation {
            let key = ratchet
                .skipped
                .remove(&generation)
                .ok_or(SecretTreeError::GenerationConsumed { generation })?;
            let change = RatchetChange::TookSkipped(key.clone());
            return Ok((key, RatchetUndo { leaf, kind, change }));
        }
        let distance = generation - ratchet.next_generation;
        if distance > policy.maximum_forward_distance {
            return Err(SecretTreeError::GenerationTooFarAhead {
                generation,
                next: ratchet.next_generation,
                maximum: policy.maximum_forward_distance,
            });
        }
        let start = ratchet.next_generation;
        let mut start_secret = None;
        let mut evicted = Vec::new();
        loop {
            let (key, previous) = match ratchet.advance(&suite) {
                Ok(advanced) => advanced,
                Err(e) => {
                    // Nothing is consumed by a failed request.
                    if let Some(secret) = start_secret {
                        ratchet.rewind(start, secret, evicted);
                    }
                    return Err(e);
                }
            };
            start_secret.get_or_insert(previous);
            if key.generation == generation {
                let change = RatchetChange::Advanced {
                    next_generation: start,
                    next_secret: start_secret.unwrap_or_default(),
                    evicted,
                };
                return Ok((key, RatchetUndo { leaf, kind, change }));
            }
            ratchet.skipped.insert(key.generation, key);
            while ratchet.skipped.len() > policy.out_of_order_tolerance as usize {
                evicted.extend(ratchet.skipped.pop_first().map(|(_, key)| key));
            }
        }
    }

    /// Puts a ratchet back as it was before the request `undo` came from, as if the
    /// message had never been opened. Requests on the same ratchet are undone in reverse.
    pub fn undo(&mut self, undo: RatchetUndo) {
        let Some(ratchet) = self.ratchets.get_mut(&(undo.leaf, undo.kind)) else {
            return;
        };
        match undo.change {
            RatchetChange::TookSkipped(key) => {
                ratchet.skipped.insert(key.generation, key);
            }
            RatchetChange::Advanced {
                next_generation,
                next_secret,
                evicted,
            } => ratchet.rewind(next_generation, next_secret, evicted),
        }
    }

    /// The key of `generation` without consuming anything: for test vectors and
    /// diagnostics, which ask about generations in any order.
    pub fn peek_key(
        &self,
        leaf: LeafIndex,
        kind: RatchetKind,
        generation: u32,
    ) -> Result<RatchetKey, SecretTreeError> {
        let mut fresh = SecretTree::new(self.suite, &[], self.leaf_count, self.policy);
        fresh.node_secrets = self.node_secrets.clone();
        if let Some(ratchet) = self.ratchets.get(&(leaf, kind)) {
            if generation < ratchet.next_generation {
                return ratchet
                    .skipped
                    .get(&generation)
                    .cloned()
                    .ok_or(SecretTreeError::GenerationConsumed { generation });
            }
            fresh.ratchets.insert((leaf, kind), ratchet.clone());
        }
        // Generous, but bounded: a generation from an untrusted file must not stall a run.
        fresh.policy.maximum_forward_distance = PEEK_MAXIMUM_DISTANCE;
        fresh.policy.out_of_order_tolerance = 0;
        fresh.receiving_key(leaf, kind, generation)
    }
}

/// Key and nonce that protect a PrivateMessage's sender data (section 6.3.2).
///
/// ```text
/// ciphertext_sample = ciphertext[0..KDF.Nh]
/// sender_data_key   = ExpandWithLabel(sender_data_secret, "key",   ciphertext_sample, AEAD.Nk)
/// sender_data_nonce = ExpandWithLabel(sender_data_secret, "nonce", ciphertext_sample, AEAD.Nn)
/// ```
pub fn sender_data_key_nonce(
    suite: &Suite,
    sender_data_secret: &[u8],
    ciphertext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let sample = &ciphertext[..ciphertext.len().min(suite.hash_length())];
    let key = suite.expand_with_label(
        sender_data_secret,
        b"key",
        sample,
        suite.aead_key_length() as u16,
    )?;
    let nonce = suite.expand_with_label(
        sender_data_secret,
        b"nonce",
        sample,
        suite.aead_nonce_length() as u16,
    )?;
    Ok((key, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;

    fn tree(tolerance: u32) -> SecretTree {
        let suite = Suite::new(CipherSuite(1)).unwrap();
        let policy = RatchetPolicy {
            maximum_forward_distance: 1000,
            out_of_order_tolerance: tolerance,
        };
        SecretTree::new(suite, &[9; 32], 4, policy)
    }

    /// Every key of generations 0..10 of leaf 1's application ratchet that the tree can
    /// still hand out, by consuming it from a copy.
    fn available(tree: &SecretTree) -> Vec<(u32, RatchetKey)> {
        (0..10)
            .filter_map(|g| {
                let mut copy = tree.clone();
                copy.receiving_key(LeafIndex(1), RatchetKind::Application, g)
                    .ok()
                    .map(|k| (g, k))
            })
            .collect()
    }

    #[test]
    fn undo_of_an_advance_restores_the_ratchet_and_evicted_keys() {
        let mut tree = tree(2);
        let (kind, leaf) = (RatchetKind::Application, LeafIndex(1));
        tree.receiving_key(leaf, kind, 3).unwrap(); // keeps 1 and 2 (0 evicted)
        let before = available(&tree);
        assert_eq!(
            before.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
            vec![1, 2, 4, 5, 6, 7, 8, 9]
        );
        // Jumping to 7 retains 4..6 and evicts 1, 2 and 4 beyond the tolerance of 2.
        let (key, undo) = tree.receiving_key_undoable(leaf, kind, 7).unwrap();
        assert_eq!(key.generation, 7);
        assert_ne!(available(&tree), before);
        tree.undo(undo);
        assert_eq!(available(&tree), before);
    }

    #[test]
    fn undo_of_a_skipped_key_puts_it_back() {
        let mut tree = tree(10);
        let (kind, leaf) = (RatchetKind::Application, LeafIndex(1));
        tree.receiving_key(leaf, kind, 4).unwrap();
        let before = available(&tree);
        let (key, undo) = tree.receiving_key_undoable(leaf, kind, 2).unwrap();
        assert_eq!(key.generation, 2);
        assert!(matches!(
            tree.clone().receiving_key(leaf, kind, 2),
            Err(SecretTreeError::GenerationConsumed { generation: 2 })
        ));
        tree.undo(undo);
        assert_eq!(available(&tree), before);
        // Consumed for good without an undo: a replay fails (section 9.2).
        tree.receiving_key(leaf, kind, 2).unwrap();
        assert!(tree.receiving_key(leaf, kind, 2).is_err());
    }
}
