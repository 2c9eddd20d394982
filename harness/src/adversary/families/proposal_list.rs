//! `proposal-list.json`: the validity of a commit's proposal list (RFC 9420 sections
//! 12.1 and 12.2). Every input is alice's commit with the UpdatePath its list requires
//! (section 12.4; none when the list cannot be applied or removes her), signed and tagged,
//! with the confirmation tag she derives by applying the list anyway (flag `retagged`), or
//! zeros when the list cannot even be applied (flag `zero-confirmation-tag`): the broken
//! rule of the list is the commit's only fault.

use concord_reference::codec::Bytes;
use concord_reference::crypto::CipherSuite;
use concord_reference::messages::{
    Add, Extension, ExtensionType, ExternalInit, GroupContextExtensions, PreSharedKey,
    PreSharedKeyId, Proposal, ProposalOrRef, ProtocolVersion, Psk, ReInit, Remove,
    ResumptionPskUsage, Sender, Update,
};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::commit::{by_value, forged_with_path as forged};
use super::recipe;
use crate::adversary::world::{ALICE, BLANK_LEAF, DAVE, ERIN, World};
use crate::adversary::{Draft, ErrorClass as C, Expect, Family, GenError, Recipe, at};

pub const FAMILY: Family = Family {
    name: "proposal-list",
    description: "Proposal list validity of a regular commit (RFC 9420 sections 12.1, 12.2), each rule broken alone in a signed commit with the confirmation tag its committer derives",
    recipes: RECIPES,
};

const RECIPES: &[Recipe] = &[
    recipe(
        "control-add",
        "a forged commit of one valid Add (the same construction as every case here)",
        &["RFC9420-12.2-3"],
        Expect::Accept,
        control_add,
    ),
    recipe(
        "committer-update",
        "the committer's own Update proposal in its commit",
        &["RFC9420-12.2-5", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        committer_update,
    ),
    recipe(
        "committer-removed",
        "the commit removes its committer",
        &["RFC9420-12.2-6", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        committer_removed,
    ),
    recipe(
        "remove-twice",
        "two Removes of erin",
        &["RFC9420-12.2-7", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        remove_twice,
    ),
    recipe(
        "update-and-remove-same-leaf",
        "dave's Update (by reference) and a Remove of dave in one commit",
        &["RFC9420-12.2-7", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        update_and_remove,
    ),
    recipe(
        "add-twice",
        "two Adds of the same KeyPackage",
        &["RFC9420-12.2-9", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        add_twice,
    ),
    recipe(
        "add-existing-member",
        "an Add whose KeyPackage has dave's signature key",
        &["RFC9420-12.2-10", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        add_existing_member,
    ),
    recipe(
        "psk-twice",
        "two PreSharedKey proposals with the same PreSharedKeyID",
        &["RFC9420-12.2-11", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        psk_twice,
    ),
    recipe(
        "add-credential-type-unsupported",
        "an Add of a KeyPackage with an X.509 credential (listed with basic in its capabilities) that no member supports",
        &["RFC9420-7.3-9", "RFC9420-13.3-1"],
        Expect::Reject(C::KeyPackage),
        add_credential_type_unsupported,
    ),
    recipe(
        "group-context-extension-unsupported",
        "a GroupContextExtensions proposal with an extension of type 0xff00 that no member lists",
        &["RFC9420-13.4-9"],
        Expect::Reject(C::ProposalList),
        gce_unsupported,
    ),
    recipe(
        "group-context-grease-extension",
        "a GroupContextExtensions proposal with a GREASE extension (0x0a0a)",
        &["RFC9420-13.5-13", "RFC9420-13.4-9"],
        Expect::Reject(C::ProposalList),
        gce_grease,
    ),
    recipe(
        "group-context-extensions-twice",
        "two GroupContextExtensions proposals",
        &["RFC9420-12.2-12", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        gce_twice,
    ),
    recipe(
        "group-context-extension-repeated",
        "a GroupContextExtensions proposal setting external_senders twice",
        &["RFC9420-13.4-4", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        gce_extension_repeated,
    ),
    recipe(
        "reinit-with-add",
        "a ReInit together with an Add",
        &["RFC9420-12.2-13", "RFC9420-12.2-3"],
        Expect::Reject(C::ProposalList),
        reinit_with_add,
    ),
    recipe(
        "external-init-in-regular-commit",
        "an ExternalInit in a member's commit",
        &["RFC9420-12.2-15", "RFC9420-12.1.6-1"],
        Expect::Reject(C::ProposalList),
        external_init,
    ),
    recipe(
        "remove-blank-leaf",
        "a Remove of a blank leaf inside the tree",
        &["RFC9420-12.1.3-2", "RFC9420-12.2-4"],
        Expect::Reject(C::ProposalList),
        remove_blank,
    ),
    recipe(
        "remove-outside-tree",
        "a Remove of a leaf beyond the tree",
        &["RFC9420-12.1.3-2", "RFC9420-12.2-4"],
        Expect::Reject(C::ProposalList),
        remove_outside,
    ),
    recipe(
        "psk-usage-reinit",
        "a PreSharedKey proposal for a resumption PSK of usage reinit",
        &["RFC9420-12.1.4-1", "RFC9420-11.2-4"],
        Expect::Reject(C::ProposalList),
        psk_reinit,
    ),
    recipe(
        "psk-usage-branch",
        "a PreSharedKey proposal for a resumption PSK of usage branch",
        &["RFC9420-12.1.4-2", "RFC9420-11.3-5"],
        Expect::Reject(C::ProposalList),
        psk_branch,
    ),
    recipe(
        "psk-resumption-of-another-group",
        "a PreSharedKey proposal for a resumption PSK of another group (usage application), which the receiver does not have; the committer holds it, with the value of this group's resumption PSK of the current epoch, and derives the confirmation tag with it",
        &["RFC9420-12.4.2-7"],
        Expect::Reject(C::Psk),
        psk_of_another_group,
    ),
    recipe(
        "add-other-cipher-suite",
        "an Add of a valid KeyPackage for another cipher suite",
        &["RFC9420-10.1-3", "RFC9420-12.1.1-2"],
        Expect::Reject(C::KeyPackage),
        add_other_suite,
    ),
];

fn control_add(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (key_package, _) = world.outsider(b"outsider", rng)?;
    forged(
        world,
        vec![by_value(Proposal::Add(Add { key_package }))],
        rng,
    )
}

fn committer_update(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut alice = world.sender(ALICE)?;
    let (message, _) = at("propose update", alice.group.propose_update(rng))?;
    let public = crate::adversary::forge::public(&message)?;
    let concord_reference::messages::ContentBody::Proposal(update) = public.content.body else {
        return Err(GenError::new("update", "not a proposal"));
    };
    forged(world, vec![by_value(update)], rng)
}

fn remove(leaf: LeafIndex) -> Proposal {
    Proposal::Remove(Remove { removed: leaf })
}

fn committer_removed(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    forged(world, vec![by_value(remove(LeafIndex(ALICE as u32)))], rng)
}

fn remove_twice(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let erin = remove(LeafIndex(ERIN as u32));
    forged(world, vec![by_value(erin.clone()), by_value(erin)], rng)
}

fn update_and_remove(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut dave = world.sender(DAVE)?;
    let (message, reference) = at("propose update", dave.group.propose_update(rng))?;
    let public = crate::adversary::forge::public(&message)?;
    let concord_reference::messages::ContentBody::Proposal(update) = public.content.body else {
        return Err(GenError::new("update", "not a proposal"));
    };
    if !matches!(update, Proposal::Update(Update { .. })) {
        return Err(GenError::new("update", "not an Update"));
    }
    let mut alice = world.sender(ALICE)?;
    at("cache", alice.group.process_message(&message))?;
    let draft = forged_from(
        &mut alice,
        vec![
            (
                ProposalOrRef::Reference(reference),
                update,
                Sender::Member {
                    leaf_index: LeafIndex(DAVE as u32),
                },
            ),
            by_value(remove(LeafIndex(DAVE as u32))),
        ],
        rng,
    )?;
    Ok(draft.prior(vec![crate::adversary::world::wire(&message)]))
}

/// Like [`forged`], from an alice that already processed some messages.
fn forged_from(
    alice: &mut crate::adversary::world::Member,
    proposals: Vec<(ProposalOrRef, Proposal, Sender)>,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    let forged = at(
        "forge commit",
        alice.group.forge_commit_with_path(
            proposals,
            concord_reference::messages::WireFormat::MLS_PUBLIC_MESSAGE,
            rng,
        ),
    )?;
    let flags: &[&'static str] = if forged.confirmation_tag_valid {
        &["resigned", "remacced", "retagged"]
    } else {
        &["resigned", "remacced", "zero-confirmation-tag"]
    };
    Ok(Draft::message(
        crate::adversary::Level::Structure,
        crate::adversary::world::wire(&forged.message),
    )
    .flags(flags))
}

fn add_twice(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (key_package, _) = world.outsider(b"outsider", rng)?;
    let add = Proposal::Add(Add { key_package });
    forged(world, vec![by_value(add.clone()), by_value(add)], rng)
}

fn add_credential_type_unsupported(
    world: &World,
    rng: &mut ChaCha20Rng,
) -> Result<Draft, GenError> {
    use concord_reference::messages::{Certificate, Credential, CredentialType};
    let (mut key_package, secrets) = world.outsider(b"outsider", rng)?;
    let leaf = &mut key_package.leaf_node;
    leaf.credential = Credential::X509 {
        certificates: vec![Certificate {
            cert_data: Bytes(b"not a real certificate".to_vec()),
        }],
    };
    leaf.capabilities.credentials = vec![CredentialType::BASIC, CredentialType::X509];
    crate::adversary::forge::sign_leaf(
        &world.suite,
        leaf,
        &secrets.signature_private,
        &[],
        LeafIndex(0),
    )?;
    crate::adversary::forge::sign_key_package(
        &world.suite,
        &mut key_package,
        &secrets.signature_private,
    )?;
    forged(
        world,
        vec![by_value(Proposal::Add(Add { key_package }))],
        rng,
    )
}

fn add_existing_member(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let dave = world.sender(DAVE)?;
    let (key_package, _) = at(
        "twin key package",
        concord_reference::group::create_key_package(
            &world.suite,
            b"dave again",
            Some(&dave.signature_private),
            world.now,
            rng,
        ),
    )?;
    forged(
        world,
        vec![by_value(Proposal::Add(Add { key_package }))],
        rng,
    )
}

fn psk(psk: Psk, nonce_length: usize) -> Proposal {
    Proposal::PreSharedKey(PreSharedKey {
        psk: PreSharedKeyId {
            psk,
            psk_nonce: Bytes(vec![0x11; nonce_length]),
        },
    })
}

fn psk_twice(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let proposal = psk(
        Psk::External {
            psk_id: Bytes(world.psk_id.clone()),
        },
        world.suite.hash_length(),
    );
    forged(
        world,
        vec![by_value(proposal.clone()), by_value(proposal)],
        rng,
    )
}

fn gce_twice(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: Vec::new(),
    });
    forged(world, vec![by_value(gce.clone()), by_value(gce)], rng)
}

fn gce_extension_repeated(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let senders =
        Extension::from_content(&concord_reference::messages::ExternalSenders(Vec::new()));
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![senders.clone(), senders],
    });
    forged(world, vec![by_value(gce)], rng)
}

/// alice's commit (with the UpdatePath a GroupContextExtensions proposal requires) of one
/// GroupContextExtensions proposal setting one extension of `extension_type`.
fn gce_with(world: &World, rng: &mut ChaCha20Rng, extension_type: u16) -> Result<Draft, GenError> {
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![Extension {
            extension_type: ExtensionType(extension_type),
            extension_data: Bytes(b"unsupported".to_vec()),
        }],
    });
    let mut alice = world.sender(ALICE)?;
    let options = concord_reference::group::CommitOptions {
        by_value: vec![gce],
        ..Default::default()
    };
    let output = at("commit", alice.group.commit(&options, rng))?;
    Ok(Draft::message(
        crate::adversary::Level::Structure,
        crate::adversary::world::wire(&output.commit),
    ))
}

fn gce_unsupported(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    gce_with(world, rng, 0xff00)
}

fn gce_grease(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    gce_with(world, rng, 0x0a0a)
}

fn reinit_with_add(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let (key_package, _) = world.outsider(b"outsider", rng)?;
    let reinit = Proposal::ReInit(ReInit {
        group_id: Bytes(b"reinitialized".to_vec()),
        version: ProtocolVersion::MLS10,
        cipher_suite: world.suite.id(),
        extensions: Vec::new(),
    });
    forged(
        world,
        vec![
            by_value(reinit),
            by_value(Proposal::Add(Add { key_package })),
        ],
        rng,
    )
}

fn external_init(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let key = at("key pair", world.suite.hpke_generate_key_pair(rng))?;
    let init = Proposal::ExternalInit(ExternalInit {
        kem_output: Bytes(key.public),
    });
    forged(world, vec![by_value(init)], rng)
}

fn remove_blank(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    forged(world, vec![by_value(remove(BLANK_LEAF))], rng)
}

fn remove_outside(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    forged(world, vec![by_value(remove(LeafIndex(40)))], rng)
}

fn resumption(world: &World, usage: ResumptionPskUsage) -> Proposal {
    psk(
        Psk::Resumption {
            usage,
            psk_group_id: Bytes(
                world
                    .members
                    .first()
                    .map(|m| m.group.group_id().to_vec())
                    .unwrap_or_default(),
            ),
            psk_epoch: 2,
        },
        world.suite.hash_length(),
    )
}

/// A receiver that looked a resumption PSK up by epoch alone, ignoring its group ID, would
/// find this group's own PSK of that epoch, the value the committer used: it would accept.
fn psk_of_another_group(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let mut alice = world.sender(ALICE)?;
    let epoch = alice.group.epoch();
    let value = alice
        .group
        .resumption_psk(epoch)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| GenError::new("alice", "no resumption PSK of the current epoch"))?;
    let other = b"concord another group".to_vec();
    alice
        .group
        .store_resumption_psk(other.clone(), epoch, value);
    let proposal = psk(
        Psk::Resumption {
            usage: ResumptionPskUsage::Application,
            psk_group_id: Bytes(other),
            psk_epoch: epoch,
        },
        world.suite.hash_length(),
    );
    forged_from(&mut alice, vec![by_value(proposal)], rng)
}

fn psk_reinit(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    forged(
        world,
        vec![by_value(resumption(world, ResumptionPskUsage::Reinit))],
        rng,
    )
}

fn psk_branch(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    forged(
        world,
        vec![by_value(resumption(world, ResumptionPskUsage::Branch))],
        rng,
    )
}

fn add_other_suite(world: &World, rng: &mut ChaCha20Rng) -> Result<Draft, GenError> {
    let other = if world.suite.id() == CipherSuite(1) {
        CipherSuite(3)
    } else {
        CipherSuite(1)
    };
    let suite = at("suite", concord_reference::crypto::Suite::new(other))?;
    let (key_package, _) = at(
        "foreign key package",
        concord_reference::group::create_key_package(&suite, b"foreigner", None, world.now, rng),
    )?;
    forged(
        world,
        vec![by_value(Proposal::Add(Add { key_package }))],
        rng,
    )
}
