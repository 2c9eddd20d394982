//! The group every negative case is built in, made by the reference's group engine from
//! a seed.
//!
//! ```text
//! epoch 0  alice creates the group                       leaf 0
//! epoch 1  alice adds carol, dave, erin (no path)         leaves 1, 2, 3
//! epoch 2  carol commits a path                           parents 1, 3, 7 set
//! epoch 3  alice adds the receiver, with a path           leaf 4 (leaves 5..7 blank)
//! ```
//!
//! Every member holds one external PSK, which the receiver is given too. The senders of
//! negative cases are clones of these members at epoch 3: a case never changes the world.

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::group::{
    CommitOptions, CommitOutput, Group, GroupConfig, HandshakeMode, KeyPackageSecrets, PskStore,
    create_key_package,
};
use concord_reference::messages::{
    Add, KeyPackage, MlsMessage, MlsMessageBody, Proposal, RatchetTree as WireTree, Welcome,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::GenError;
use super::case::{ExternalPsk, Receiver};
use crate::vectors::HexBytes;

/// The time the vectors' clients believe it is (lifetimes start there). A client under
/// test is run with its own clock's time instead ([`World::build`]'s `now`).
pub const NOW: u64 = 1_700_000_000;

pub const ALICE: usize = 0;
pub const CAROL: usize = 1;
pub const DAVE: usize = 2;
pub const ERIN: usize = 3;
/// The receiver's leaf.
pub const RECEIVER_LEAF: LeafIndex = LeafIndex(4);
/// A leaf inside the tree that holds no member.
pub const BLANK_LEAF: LeafIndex = LeafIndex(6);

/// A member of the world: its group state and signature private key.
#[derive(Debug, Clone)]
pub struct Member {
    pub group: Group,
    pub signature_private: Vec<u8>,
}

/// The receiver's KeyPackage and private keys.
#[derive(Debug, Clone)]
pub struct ReceiverKeys {
    pub key_package: KeyPackage,
    pub secrets: KeyPackageSecrets,
}

/// The group at epoch 3 and how the receiver joins it.
#[derive(Debug, Clone)]
pub struct World {
    pub suite: Suite,
    /// The moment leaf lifetimes start (seconds since the epoch).
    pub now: u64,
    /// alice, carol, dave, erin (leaves 0 to 3).
    pub members: Vec<Member>,
    pub receiver: ReceiverKeys,
    /// The Welcome that adds the receiver (tree in the GroupInfo's extension).
    pub welcome: Welcome,
    /// The commit of epoch 2 to 3, which the members processed.
    pub join_commit: CommitOutput,
    pub psk_id: Vec<u8>,
    pub psk: Vec<u8>,
}

fn at<T, E: std::fmt::Display>(step: &str, result: Result<T, E>) -> Result<T, GenError> {
    result.map_err(|e| GenError::new(format!("world: {step}"), e))
}

fn random(rng: &mut ChaCha20Rng, length: usize) -> Vec<u8> {
    use rand_core::Rng;
    let mut bytes = vec![0u8; length];
    rng.fill_bytes(&mut bytes);
    bytes
}

impl World {
    /// Builds the world at `now`; `receiver` is the receiving client's KeyPackage (a
    /// fresh one when `None`).
    pub fn build(
        suite: &Suite,
        receiver: Option<ReceiverKeys>,
        now: u64,
        rng: &mut ChaCha20Rng,
    ) -> Result<World, GenError> {
        let config = GroupConfig::default();
        let alice_key = at("alice key", suite.signature_generate(rng))?.private;
        let group_id = random(rng, 16);
        let alice = at(
            "create",
            Group::create(
                suite.id(),
                group_id,
                b"alice",
                Some(&alice_key),
                Vec::new(),
                config,
                now,
                rng,
            ),
        )?;
        let psk_id = b"concord negative psk".to_vec();
        let psk = random(rng, suite.hash_length());
        let mut members = vec![Member {
            group: alice,
            signature_private: alice_key,
        }];
        members[ALICE]
            .group
            .store_external_psk(psk_id.clone(), psk.clone());
        let mut psks = PskStore::default();
        psks.external.insert(psk_id.clone(), psk.clone());

        let mut joining = Vec::new();
        for name in ["carol", "dave", "erin"] {
            joining.push(at(
                "key package",
                create_key_package(suite, name.as_bytes(), None, now, rng),
            )?);
        }
        let options = CommitOptions {
            by_value: joining
                .iter()
                .map(|(kp, _)| {
                    Proposal::Add(Add {
                        key_package: kp.clone(),
                    })
                })
                .collect(),
            ..CommitOptions::default()
        };
        let output = commit(&mut members, ALICE, &options, rng)?;
        let Some(MlsMessageBody::Welcome(welcome)) = output.welcome.as_ref().map(|m| &m.body)
        else {
            return Err(GenError::new("world: epoch 1", "no Welcome"));
        };
        for (key_package, secrets) in &joining {
            let group = at(
                "join",
                Group::join(welcome, key_package, secrets, None, &psks, config),
            )?;
            members.push(Member {
                group,
                signature_private: secrets.signature_private.clone(),
            });
        }
        commit(&mut members, CAROL, &CommitOptions::default(), rng)?;

        let receiver = match receiver {
            Some(keys) => keys,
            None => {
                let (key_package, secrets) = at(
                    "receiver key package",
                    create_key_package(suite, b"receiver", None, now, rng),
                )?;
                ReceiverKeys {
                    key_package,
                    secrets,
                }
            }
        };
        let options = CommitOptions {
            by_value: vec![Proposal::Add(Add {
                key_package: receiver.key_package.clone(),
            })],
            force_path: true,
            ..CommitOptions::default()
        };
        let join_commit = commit(&mut members, ALICE, &options, rng)?;
        let Some(MlsMessageBody::Welcome(welcome)) =
            join_commit.welcome.as_ref().map(|m| m.body.clone())
        else {
            return Err(GenError::new("world: epoch 3", "no Welcome"));
        };
        Ok(World {
            suite: *suite,
            now,
            members,
            receiver,
            welcome,
            join_commit,
            psk_id,
            psk,
        })
    }

    /// A clone of member `index` (a leaf 0 to 3) to send from.
    pub fn sender(&self, index: usize) -> Result<Member, GenError> {
        self.members
            .get(index)
            .cloned()
            .ok_or_else(|| GenError::new("sender", format!("no member {index}")))
    }

    /// A clone of member `index` that frames handshake messages as PrivateMessages.
    pub fn private_sender(&self, index: usize) -> Result<Member, GenError> {
        let mut member = self.sender(index)?;
        let config = GroupConfig {
            handshake: HandshakeMode::Private,
            ..*member.group.config()
        };
        member.group.set_config(config);
        Ok(member)
    }

    /// The receiver state of a case: joins by `welcome` (the world's when `None` is
    /// not asked for), the tree in the GroupInfo.
    pub fn receiver_state(&self, welcome: Option<&Welcome>) -> Receiver {
        let message = |body| MlsMessage::new(body).to_bytes();
        Receiver {
            key_package: HexBytes(message(MlsMessageBody::KeyPackage(
                self.receiver.key_package.clone(),
            ))),
            signature_priv: HexBytes(self.receiver.secrets.signature_private.clone()),
            encryption_priv: HexBytes(self.receiver.secrets.encryption_private.clone()),
            init_priv: HexBytes(self.receiver.secrets.init_private.clone()),
            welcome: welcome.map(|w| HexBytes(message(MlsMessageBody::Welcome(w.clone())))),
            ratchet_tree: None,
            external_psks: vec![ExternalPsk {
                psk_id: HexBytes(self.psk_id.clone()),
                psk: HexBytes(self.psk.clone()),
            }],
        }
    }

    /// The receiver joined, as the reference: for constructions that need its view.
    pub fn joined_receiver(&self) -> Result<Group, GenError> {
        let mut psks = PskStore::default();
        psks.external.insert(self.psk_id.clone(), self.psk.clone());
        at(
            "receiver join",
            Group::join(
                &self.welcome,
                &self.receiver.key_package,
                &self.receiver.secrets,
                None::<&WireTree>,
                &psks,
                GroupConfig::default(),
            ),
        )
    }

    /// A fresh KeyPackage of a client outside the group.
    pub fn outsider(
        &self,
        identity: &[u8],
        rng: &mut ChaCha20Rng,
    ) -> Result<(KeyPackage, KeyPackageSecrets), GenError> {
        at(
            "outsider key package",
            create_key_package(&self.suite, identity, None, self.now, rng),
        )
    }
}

/// `committer` commits; every other member processes it; the committer merges.
fn commit(
    members: &mut [Member],
    committer: usize,
    options: &CommitOptions,
    rng: &mut ChaCha20Rng,
) -> Result<CommitOutput, GenError> {
    let output = at(
        "commit",
        members
            .get_mut(committer)
            .ok_or_else(|| GenError::new("commit", "no such member"))?
            .group
            .commit(options, rng),
    )?;
    for (i, member) in members.iter_mut().enumerate() {
        if i != committer {
            at(
                "process commit",
                member.group.process_message(&output.commit),
            )?;
        }
    }
    at(
        "merge",
        members
            .get_mut(committer)
            .ok_or_else(|| GenError::new("commit", "no such member"))?
            .group
            .merge_pending_commit(),
    )?;
    Ok(output)
}

/// Bytes of an MLSMessage.
pub fn wire(message: &MlsMessage) -> Vec<u8> {
    message.to_bytes()
}

/// A `Bytes` of a slice.
pub fn bytes(data: &[u8]) -> Bytes {
    Bytes(data.to_vec())
}
