//! `passive-client-handling-commit.json`: a client joins by Welcome, then receives each
//! epoch's proposals and commit (RFC 9420 sections 12.2, 12.3, 12.4.2) and must reach
//! every epoch authenticator; eight cases per suite.
//!
//! Everything is made by the reference's group engine ([`super::clients`]): a group
//! grows by Adds, commits a path and loses a member (a blank leaf), then adds the passive
//! client, with or without a path and an external PSK, the tree in the GroupInfo's
//! `ratchet_tree` extension (the official file never gives it out of band; the Welcome
//! family does). The recorded epochs follow: Adds, Updates, Removes, external and
//! resumption PSKs and GroupContextExtensions, by value and by reference, with and without
//! a path, framed as PublicMessages or (for half the cases) PrivateMessages. The passive
//! client never sends and is never removed.

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::group::{CommitOptions, GroupConfig, HandshakeMode};
use concord_reference::messages::{
    Add, CredentialType, Extension, GroupContextExtensions, MlsMessage, PreSharedKey,
    PreSharedKeyId, Proposal, Psk, Remove, RequiredCapabilities,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use super::clients::Clients;
use super::{random_secret, to_value};
use crate::vectors::{HexBytes, Mismatch};

#[derive(Serialize)]
struct ExternalPsk {
    psk_id: HexBytes,
    psk: HexBytes,
}

#[derive(Serialize)]
struct Epoch {
    proposals: Vec<HexBytes>,
    commit: HexBytes,
    epoch_authenticator: HexBytes,
}

#[derive(Serialize)]
struct Case {
    cipher_suite: u16,
    external_psks: Vec<ExternalPsk>,
    key_package: HexBytes,
    signature_priv: HexBytes,
    encryption_priv: HexBytes,
    init_priv: HexBytes,
    welcome: HexBytes,
    ratchet_tree: Option<HexBytes>,
    initial_epoch_authenticator: HexBytes,
    epochs: Vec<Epoch>,
}

/// One epoch after the join: what its commit covers.
#[derive(Clone, Copy)]
enum Step {
    /// An Add by value, no path.
    AddByValue,
    /// An Add by value with a path.
    AddWithPath,
    AddByReference,
    UpdateByReference,
    RemoveByValue,
    RemoveByReference,
    /// An external PSK proposal by value, no path.
    PskByValue,
    PskByReference,
    /// The group's resumption PSK of the current epoch, by reference.
    ResumptionPsk,
    /// GroupContextExtensions by value.
    Extensions,
    /// No proposals: a path alone.
    Empty,
    /// An Update and a Remove by reference and an Add by value.
    Mixed,
}

use Step::*;

/// How one case goes.
struct Shape {
    members: usize,
    private: bool,
    join_psk: bool,
    join_path: bool,
    steps: &'static [Step],
}

const SHAPES: &[Shape] = &[
    shape(2, false, false, false, &[AddByValue, Empty]),
    shape(
        3,
        true,
        false,
        true,
        &[UpdateByReference, RemoveByValue, AddByReference],
    ),
    shape(4, false, true, true, &[PskByValue, PskByReference, Empty]),
    shape(
        5,
        true,
        false,
        false,
        &[RemoveByReference, AddWithPath, UpdateByReference],
    ),
    shape(6, false, true, false, &[Mixed, ResumptionPsk, Extensions]),
    shape(
        8,
        true,
        false,
        true,
        &[Mixed, PskByReference, RemoveByValue, AddByValue],
    ),
    shape(
        3,
        false,
        false,
        true,
        &[
            ResumptionPsk,
            AddByReference,
            UpdateByReference,
            RemoveByReference,
        ],
    ),
    shape(
        10,
        true,
        true,
        true,
        &[Extensions, Mixed, Empty, AddByReference, PskByValue],
    ),
];

const fn shape(
    members: usize,
    private: bool,
    join_psk: bool,
    join_path: bool,
    steps: &'static [Step],
) -> Shape {
    Shape {
        members,
        private,
        join_psk,
        join_path,
        steps,
    }
}

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, shape)| {
            case(suite, shape, rng)
                .map_err(|m| Mismatch::new(format!("case {i}: {}", m.field), m.detail))
        })
        .collect()
}

fn case(
    suite: &Suite,
    shape: &Shape,
    rng: &mut ChaCha20Rng,
) -> Result<serde_json::Value, Mismatch> {
    let handshake = if shape.private {
        HandshakeMode::Private
    } else {
        HandshakeMode::Public
    };
    let config = GroupConfig {
        handshake,
        ..GroupConfig::default()
    };
    let mut clients = Clients::create(suite, config, rng)?;
    let creator = LeafIndex(0);
    if shape.members > 1 {
        let joining = (1..shape.members)
            .map(|_| clients.key_package(rng))
            .collect::<Result<Vec<_>, _>>()?;
        let options = CommitOptions {
            by_value: joining
                .iter()
                .map(|(key_package, _)| add(key_package))
                .collect(),
            ..CommitOptions::default()
        };
        clients.commit(creator, &options, &joining, rng)?;
        let last = LeafIndex(shape.members as u32 - 1);
        clients.commit(last, &CommitOptions::default(), &[], rng)?;
    }
    if shape.members >= 4 {
        let options = CommitOptions {
            by_value: vec![Proposal::Remove(Remove {
                removed: LeafIndex(1),
            })],
            ..CommitOptions::default()
        };
        clients.commit(creator, &options, &[], rng)?;
    }

    // The passive client joins.
    let passive = clients.key_package(rng)?;
    let mut by_value = vec![add(&passive.0)];
    if shape.join_psk {
        by_value.push(external_psk(&mut clients, rng));
    }
    let options = CommitOptions {
        by_value,
        force_path: shape.join_path,
        ..CommitOptions::default()
    };
    let committer = clients.pick(&[], rng)?;
    let joined = clients.commit(committer, &options, std::slice::from_ref(&passive), rng)?;
    let welcome = joined
        .welcome
        .ok_or_else(|| Mismatch::new("welcome", "the join commit has none"))?;
    let passive_leaf = clients
        .leaves()
        .last()
        .copied()
        .ok_or_else(|| Mismatch::new("passive client", "not in the group"))?;
    let initial_epoch_authenticator = clients.member(passive_leaf)?.epoch_authenticator().to_vec();

    let mut epochs = Vec::new();
    for step in shape.steps {
        let (proposals, commit) = run(&mut clients, *step, passive_leaf, rng)?;
        epochs.push(Epoch {
            proposals: proposals.iter().map(|m| HexBytes(m.to_bytes())).collect(),
            commit: HexBytes(commit.to_bytes()),
            epoch_authenticator: HexBytes(
                clients.member(passive_leaf)?.epoch_authenticator().to_vec(),
            ),
        });
    }

    let (key_package, secrets) = passive;
    to_value(&Case {
        cipher_suite: suite.id().0,
        external_psks: clients
            .psks
            .external
            .iter()
            .map(|(id, value)| ExternalPsk {
                psk_id: HexBytes(id.clone()),
                psk: HexBytes(value.clone()),
            })
            .collect(),
        key_package: HexBytes(
            MlsMessage::new(concord_reference::messages::MlsMessageBody::KeyPackage(
                key_package,
            ))
            .to_bytes(),
        ),
        signature_priv: HexBytes(secrets.signature_private),
        encryption_priv: HexBytes(secrets.encryption_private),
        init_priv: HexBytes(secrets.init_private),
        welcome: HexBytes(welcome.to_bytes()),
        ratchet_tree: joined.ratchet_tree.map(|tree| HexBytes(tree.to_bytes())),
        initial_epoch_authenticator: HexBytes(initial_epoch_authenticator),
        epochs,
    })
}

fn add(key_package: &concord_reference::messages::KeyPackage) -> Proposal {
    Proposal::Add(Add {
        key_package: key_package.clone(),
    })
}

/// A PreSharedKey proposal for a fresh external PSK every member holds.
fn external_psk(clients: &mut Clients, rng: &mut ChaCha20Rng) -> Proposal {
    let psk_id = clients.new_external_psk(rng);
    Proposal::PreSharedKey(PreSharedKey {
        psk: PreSharedKeyId {
            psk: Psk::External {
                psk_id: Bytes(psk_id),
            },
            psk_nonce: Bytes(random_secret(&clients.suite, rng).0),
        },
    })
}

/// One epoch: the proposals sent (to be committed by reference) and the commit.
fn run(
    clients: &mut Clients,
    step: Step,
    passive: LeafIndex,
    rng: &mut ChaCha20Rng,
) -> Result<(Vec<MlsMessage>, MlsMessage), Mismatch> {
    let mut proposals = Vec::new();
    let mut options = CommitOptions::default();
    let mut joining = Vec::new();
    let mut busy = vec![passive];
    match step {
        AddByValue | AddWithPath => {
            let new = clients.key_package(rng)?;
            options.by_value.push(add(&new.0));
            options.force_path = matches!(step, AddWithPath);
            joining.push(new);
        }
        AddByReference => {
            let new = clients.key_package(rng)?;
            let proposer = clients.pick(&busy, rng)?;
            let key_package = new.0.clone();
            let (message, reference) =
                clients.propose(proposer, |g, r| g.propose_add(key_package, r), rng)?;
            proposals.push(message);
            options.by_reference.push(reference);
            joining.push(new);
        }
        UpdateByReference | Mixed => {
            let proposer = clients.pick(&busy, rng)?;
            let (message, reference) =
                clients.propose(proposer, |g, r| g.propose_update(r), rng)?;
            busy.push(proposer);
            proposals.push(message);
            options.by_reference.push(reference);
        }
        RemoveByValue => {}
        RemoveByReference => {}
        PskByValue => options.by_value.push(external_psk(clients, rng)),
        PskByReference => {
            let psk_id = clients.new_external_psk(rng);
            let proposer = clients.pick(&busy, rng)?;
            let (message, reference) =
                clients.propose(proposer, |g, r| g.propose_external_psk(&psk_id, r), rng)?;
            proposals.push(message);
            options.by_reference.push(reference);
        }
        ResumptionPsk => {
            let proposer = clients.pick(&busy, rng)?;
            let epoch = clients.member(proposer)?.epoch();
            let (message, reference) =
                clients.propose(proposer, |g, r| g.propose_resumption_psk(epoch, r), rng)?;
            proposals.push(message);
            options.by_reference.push(reference);
        }
        Extensions => {
            options
                .by_value
                .push(Proposal::GroupContextExtensions(GroupContextExtensions {
                    extensions: vec![Extension::from_content(&RequiredCapabilities {
                        extension_types: Vec::new(),
                        proposal_types: Vec::new(),
                        credential_types: vec![CredentialType::BASIC],
                    })],
                }));
        }
        Empty => {}
    }
    if matches!(step, RemoveByValue | RemoveByReference | Mixed) {
        let target = clients.pick(&busy, rng)?;
        busy.push(target);
        if matches!(step, RemoveByValue) {
            options
                .by_value
                .push(Proposal::Remove(Remove { removed: target }));
        } else {
            let proposer = clients.pick(&busy, rng)?;
            let (message, reference) =
                clients.propose(proposer, |g, r| g.propose_remove(target, r), rng)?;
            proposals.push(message);
            options.by_reference.push(reference);
        }
    }
    if matches!(step, Mixed) {
        let new = clients.key_package(rng)?;
        options.by_value.push(add(&new.0));
        joining.push(new);
    }
    let committer = clients.pick(&busy, rng)?;
    let output = clients.commit(committer, &options, &joining, rng)?;
    Ok((proposals, output.commit))
}
