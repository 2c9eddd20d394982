//! Each rule the commit receiver enforces (RFC 9420 sections 6, 12.2, 12.4.2), broken
//! on purpose: the specific [`CommitError`] comes back and the receiver is unchanged.

use super::lifecycle_tests::{NOW, Net, TestResult};
use super::*;
use crate::codec::Bytes;
use crate::crypto::CipherSuite;
use crate::framing;
use crate::messages::{
    Add, Commit, ContentBody, ExternalInit, FramedContent, GroupContextExtensions, MlsMessage,
    MlsMessageBody, PreSharedKey, PreSharedKeyId, Proposal, ProposalOrRef, ProposalRef,
    ProtocolVersion, ReInit, Remove, Sender, Update, WireFormat,
};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

fn net() -> Result<Net, Box<dyn std::error::Error>> {
    let mut net = Net::new(SUITE, 5, GroupConfig::default())?;
    net.add_by_value(0, 3, 3, false)?;
    Ok(net)
}

/// A commit from `g` with `proposals` and no path, signed and tagged like a real one
/// except for a confirmation tag of zeros.
fn forged(g: &Group, proposals: Vec<ProposalOrRef>, epoch: u64) -> Result<MlsMessage, GroupError> {
    let group = &g.state.group;
    let suite = group.suite;
    let content = FramedContent {
        group_id: group.group_context.group_id.clone(),
        epoch,
        sender: Sender::Member {
            leaf_index: group.own_leaf,
        },
        authenticated_data: Bytes::default(),
        body: ContentBody::Commit(Commit {
            proposals,
            path: None,
        }),
    };
    let mut signed = framing::sign(
        &suite,
        &group.signature_private_key,
        WireFormat::MLS_PUBLIC_MESSAGE,
        content,
        &group.group_context,
    )?;
    signed.auth.confirmation_tag = Some(Bytes(vec![0; suite.hash_length()]));
    let message = framing::protect_public(
        &suite,
        signed,
        &group.group_context,
        &group.epoch_secrets.membership_key,
    )?;
    Ok(MlsMessage::new(MlsMessageBody::PublicMessage(message)))
}

fn by_value(proposals: Vec<Proposal>) -> Vec<ProposalOrRef> {
    proposals.into_iter().map(ProposalOrRef::Proposal).collect()
}

/// Member 1 processes `message`; the error must be `expected` and member 1 unchanged.
fn expect(net: &mut Net, message: &MlsMessage, expected: CommitError) -> TestResult {
    let before = net.get(1)?.epoch_authenticator().to_vec();
    let cached = net.get(1)?.cached_proposals().len();
    let error = net.get_mut(1)?.process_message(message).err();
    assert_eq!(error, Some(GroupError::Commit(expected)));
    assert_eq!(net.get(1)?.epoch_authenticator(), before.as_slice());
    assert_eq!(net.get(1)?.cached_proposals().len(), cached);
    Ok(())
}

#[test]
fn each_broken_rule_has_its_error() -> TestResult {
    let mut net = net()?;
    let g = net.get(0)?.clone();
    let epoch = g.epoch();
    let committer = g.own_leaf();
    let suite = g.suite();
    let (kp, _) = create_key_package(&suite, b"x", None, NOW, &mut net.rng)?;
    let add = Proposal::Add(Add {
        key_package: kp.clone(),
    });
    let remove = |leaf: u32| {
        Proposal::Remove(Remove {
            removed: crate::tree_math::LeafIndex(leaf),
        })
    };

    let wrong_epoch = forged(&g, Vec::new(), epoch + 1)?;
    expect(
        &mut net,
        &wrong_epoch,
        CommitError::WrongEpoch {
            message: epoch + 1,
            current: epoch,
        },
    )?;
    let unknown = ProposalRef(Bytes(vec![9; 32]));
    let message = forged(&g, vec![ProposalOrRef::Reference(unknown)], epoch)?;
    expect(
        &mut net,
        &message,
        CommitError::UnknownProposalRef(crate::hex(&[9; 32])),
    )?;
    let message = forged(&g, by_value(vec![remove(committer.0)]), epoch)?;
    expect(&mut net, &message, CommitError::CommitterRemoved)?;
    let message = forged(&g, by_value(vec![add.clone(), add.clone()]), epoch)?;
    expect(&mut net, &message, CommitError::DuplicateAdd)?;
    // An Add of a current member's signature key.
    let member_key = net.get(2)?.state.group.signature_private_key.clone();
    let (twin, _) = create_key_package(&suite, b"twin", Some(&member_key), NOW, &mut net.rng)?;
    let message = forged(
        &g,
        by_value(vec![Proposal::Add(Add { key_package: twin })]),
        epoch,
    )?;
    expect(&mut net, &message, CommitError::DuplicateAdd)?;
    let message = forged(&g, by_value(vec![remove(2)]), epoch)?;
    expect(&mut net, &message, CommitError::MissingPath)?;
    let message = forged(&g, by_value(vec![remove(2), remove(2)]), epoch)?;
    expect(&mut net, &message, CommitError::DuplicateLeafChange(2))?;
    let message = forged(&g, by_value(vec![remove(9)]), epoch)?;
    expect(&mut net, &message, CommitError::BlankTarget(9))?;
    let own_leaf = g.own_leaf_node().ok_or("leaf")?.clone();
    let message = forged(
        &g,
        by_value(vec![Proposal::Update(Update {
            leaf_node: own_leaf,
        })]),
        epoch,
    )?;
    expect(&mut net, &message, CommitError::CommitterUpdate)?;
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: Vec::new(),
    });
    let message = forged(&g, by_value(vec![gce.clone(), gce]), epoch)?;
    expect(
        &mut net,
        &message,
        CommitError::MultipleGroupContextExtensions,
    )?;
    let reinit = Proposal::ReInit(ReInit {
        group_id: Bytes(b"new".to_vec()),
        version: ProtocolVersion::MLS10,
        cipher_suite: SUITE,
        extensions: Vec::new(),
    });
    let message = forged(&g, by_value(vec![reinit, add.clone()]), epoch)?;
    expect(&mut net, &message, CommitError::ReInitNotAlone)?;
    let init = Proposal::ExternalInit(ExternalInit {
        kem_output: Bytes(vec![1; 32]),
    });
    let message = forged(&g, by_value(vec![init]), epoch)?;
    expect(&mut net, &message, CommitError::InvalidExternalInit)?;
    let other = Suite::new(CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256)?;
    let (foreign, _) = create_key_package(&other, b"p256", None, NOW, &mut net.rng)?;
    let message = forged(
        &g,
        by_value(vec![Proposal::Add(Add {
            key_package: foreign,
        })]),
        epoch,
    )?;
    expect(&mut net, &message, CommitError::AddCipherSuite(2))?;
    let psk = crate::messages::Psk::External {
        psk_id: Bytes(b"unknown".to_vec()),
    };
    let message = forged(
        &g,
        by_value(vec![Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk: psk.clone(),
                psk_nonce: Bytes(vec![0; 32]),
            },
        })]),
        epoch,
    )?;
    expect(&mut net, &message, CommitError::UnknownPsk(psk))?;
    // KeyPackages that break section 10.1.
    let mut unsigned = kp.clone();
    unsigned.signature.0[0] ^= 1;
    let message = forged(
        &g,
        by_value(vec![Proposal::Add(Add {
            key_package: unsigned,
        })]),
        epoch,
    )?;
    expect(&mut net, &message, CommitError::KeyPackageSignature)?;
    let (mut reused, secrets) = create_key_package(&suite, b"y", None, NOW, &mut net.rng)?;
    reused.init_key = reused.leaf_node.encryption_key.clone();
    reused.signature = Bytes(suite.sign_with_label(
        &secrets.signature_private,
        crate::messages::KeyPackage::SIGNATURE_LABEL,
        &reused.tbs_bytes(),
    )?);
    let message = forged(
        &g,
        by_value(vec![Proposal::Add(Add {
            key_package: reused,
        })]),
        epoch,
    )?;
    expect(&mut net, &message, CommitError::KeyPackageInitKeyReused)?;
    // An Update proposal whose leaf signature is broken is refused on receipt.
    let (update, _) = net.with(2, |g, rng| g.propose_update(rng))?;
    let MlsMessageBody::PublicMessage(mut public) = update.body else {
        return Err("not public".into());
    };
    if let ContentBody::Proposal(Proposal::Update(u)) = &mut public.content.body {
        u.leaf_node.signature.0[0] ^= 1;
    }
    let sender = net.get(2)?.clone();
    let group2 = &sender.state.group;
    let resigned = framing::sign(
        &suite,
        &group2.signature_private_key,
        WireFormat::MLS_PUBLIC_MESSAGE,
        public.content.clone(),
        &group2.group_context,
    )?;
    let message = MlsMessage::new(MlsMessageBody::PublicMessage(framing::protect_public(
        &suite,
        resigned,
        &group2.group_context,
        &group2.epoch_secrets.membership_key,
    )?));
    expect(
        &mut net,
        &message,
        CommitError::UpdateLeaf {
            leaf: group2.own_leaf.0,
            reason: "signature does not verify",
        },
    )?;
    // A branch PSK proposal inside the group.
    let branch = PreSharedKey {
        psk: PreSharedKeyId {
            psk: crate::messages::Psk::Resumption {
                usage: crate::messages::ResumptionPskUsage::Branch,
                psk_group_id: Bytes(g.group_id().to_vec()),
                psk_epoch: epoch,
            },
            psk_nonce: Bytes(vec![0; 32]),
        },
    };
    let message = forged(&g, by_value(vec![Proposal::PreSharedKey(branch)]), epoch)?;
    expect(&mut net, &message, CommitError::ReservedPskUsage)?;
    // A well-formed Add commit whose confirmation tag is zeros.
    let message = forged(&g, by_value(vec![add]), epoch)?;
    expect(&mut net, &message, CommitError::ConfirmationTag)?;
    Ok(())
}

#[test]
fn tampered_framing_is_refused() -> TestResult {
    let mut net = net()?;
    let output = net.with(0, |g, rng| g.commit(&CommitOptions::default(), rng))?;
    let MlsMessageBody::PublicMessage(genuine) = &output.commit.body else {
        return Err("not public".into());
    };
    let g = net.get(0)?.clone();
    let group = &g.state.group;
    // Confirmation tag flipped, membership tag recomputed: the tag check catches it.
    let mut flipped = genuine.clone();
    if let Some(tag) = flipped.auth.confirmation_tag.as_mut() {
        tag.0[0] ^= 1;
    }
    flipped.membership_tag = Some(Bytes(group.suite.mac(
        &group.epoch_secrets.membership_key,
        &flipped.membership_tag_input(&group.group_context),
    )));
    let message = MlsMessage::new(MlsMessageBody::PublicMessage(flipped));
    expect(&mut net, &message, CommitError::ConfirmationTag)?;
    // Membership tag flipped.
    let mut bad = genuine.clone();
    if let Some(tag) = bad.membership_tag.as_mut() {
        tag.0[0] ^= 1;
    }
    let message = MlsMessage::new(MlsMessageBody::PublicMessage(bad));
    expect(
        &mut net,
        &message,
        CommitError::Framing(framing::FramingError::InvalidMembershipTag),
    )?;
    // Signature flipped (membership tag recomputed).
    let mut bad = genuine.clone();
    bad.auth.signature.0[0] ^= 1;
    bad.membership_tag = Some(Bytes(group.suite.mac(
        &group.epoch_secrets.membership_key,
        &bad.membership_tag_input(&group.group_context),
    )));
    let message = MlsMessage::new(MlsMessageBody::PublicMessage(bad));
    expect(
        &mut net,
        &message,
        CommitError::Framing(framing::FramingError::InvalidSignature),
    )?;
    // Another group.
    let mut bad = genuine.clone();
    bad.content.group_id = Bytes(b"other".to_vec());
    let message = MlsMessage::new(MlsMessageBody::PublicMessage(bad));
    expect(&mut net, &message, CommitError::WrongGroup)?;
    // The genuine commit still works for everyone after all that.
    net.deliver(0, &output.commit)?;
    net.get_mut(0)?.merge_pending_commit()?;
    net.check_agreement()?;
    // Replayed in the next epoch, it is for an old epoch.
    let epoch = net.get(1)?.epoch();
    expect(
        &mut net,
        &output.commit,
        CommitError::WrongEpoch {
            message: epoch - 1,
            current: epoch,
        },
    )?;
    Ok(())
}

#[test]
fn external_commit_may_only_remove_the_joiner() -> TestResult {
    let mut net = net()?;
    let (message, _) = net.get(0)?.group_info(false)?;
    let info = group_info_of(&message)?.clone();
    let config = GroupConfig::default();
    let victim = net.get(3)?.own_leaf();
    // The genuine resync of member 3 is accepted by member 1.
    let resync = Group::join_external(
        &info,
        None,
        b"member-3",
        None,
        true,
        &[],
        config,
        &mut net.rng,
    )?;
    net.get(1)?.clone().process_message(&resync.commit)?;
    // A joiner of another identity that also removes member 3's leaf is refused.
    let other = Group::join_external(
        &info,
        None,
        b"intruder",
        None,
        false,
        &[],
        config,
        &mut net.rng,
    )?;
    let ContentBody::Commit(mut commit) = (match &other.commit.body {
        MlsMessageBody::PublicMessage(m) => m.content.body.clone(),
        _ => return Err("not public".into()),
    }) else {
        return Err("not a commit".into());
    };
    commit
        .proposals
        .push(ProposalOrRef::Proposal(Proposal::Remove(Remove {
            removed: victim,
        })));
    let MlsMessageBody::PublicMessage(mut public) = other.commit.body.clone() else {
        return Err("not public".into());
    };
    public.content.body = ContentBody::Commit(commit);
    // Re-signed by the intruder: only the removal rule is broken.
    let signing = other.group.state.group.signature_private_key.clone();
    let mut resigned = framing::sign(
        &other.group.suite(),
        &signing,
        WireFormat::MLS_PUBLIC_MESSAGE,
        public.content.clone(),
        &info.group_context,
    )?;
    resigned.auth.confirmation_tag = public.auth.confirmation_tag.clone();
    let message = MlsMessage::new(MlsMessageBody::PublicMessage(framing::protect_public(
        &other.group.suite(),
        resigned,
        &info.group_context,
        &[],
    )?));
    expect(
        &mut net,
        &message,
        CommitError::ExternalRemoveIdentity(victim.0),
    )
}

#[test]
fn external_sender_must_be_listed() -> TestResult {
    let mut net = net()?;
    let signer = ExternalSigner::new(SUITE, b"server", &mut net.rng)?;
    let context = net.get(0)?.group_context().clone();
    let message = signer.propose(
        &context,
        0,
        Proposal::Remove(Remove {
            removed: crate::tree_math::LeafIndex(2),
        }),
    )?;
    expect(&mut net, &message, CommitError::UnknownExternalSender(0))
}

#[test]
fn own_pending_commit_and_inactive_states() -> TestResult {
    let mut net = net()?;
    let _ = net.with(0, |g, rng| g.commit(&CommitOptions::default(), rng))?;
    assert!(matches!(
        net.with(0, |g, rng| g.propose_update(rng)),
        Err(e) if e.to_string().contains("pending")
    ));
    net.get_mut(0)?.discard_pending_commit();
    assert!(net.get_mut(0)?.merge_pending_commit().is_err());
    // A removed member learns it and refuses further work.
    let leaf = net.get(3)?.own_leaf();
    let options = CommitOptions {
        by_value: vec![Proposal::Remove(Remove { removed: leaf })],
        ..CommitOptions::default()
    };
    let output = net.with(0, |g, rng| g.commit(&options, rng))?;
    let received = net.get_mut(3)?.process_message(&output.commit)?;
    assert_eq!(
        received,
        Received::Commit(crate::commit::CommitOutcome::Removed)
    );
    assert_eq!(net.get(3)?.status(), &GroupStatus::Removed);
    Ok(())
}
