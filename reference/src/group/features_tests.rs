//! PSKs, GroupContextExtensions, external senders, new-member proposals, branch and
//! reinit, on a small group in every suite.

use super::lifecycle_tests::{NOW, Net, TestResult, welcome_of};
use super::*;
use crate::crypto::CipherSuite;
use crate::messages::{ApplicationId, Extension, Proposal, Remove};
use crate::tree_math::LeafIndex;

fn small(suite: CipherSuite, mode: HandshakeMode) -> Result<Net, Box<dyn std::error::Error>> {
    let config = GroupConfig {
        handshake: mode,
        ..GroupConfig::default()
    };
    let mut net = Net::new(suite, 99, config)?;
    net.add_by_value(0, 3, 3, false)?;
    Ok(net)
}

fn commit_refs(
    net: &mut Net,
    committer: usize,
    refs: Vec<crate::messages::ProposalRef>,
) -> TestResult {
    let options = CommitOptions {
        by_reference: refs,
        ..CommitOptions::default()
    };
    net.commit(committer, &options, Vec::new())
}

fn psks_and_extensions(suite: CipherSuite) -> TestResult {
    let mut net = small(suite, HandshakeMode::Private)?;
    // External PSK: everyone stores it; member 1 proposes, member 0 commits.
    for i in net.active() {
        net.get_mut(i)?
            .store_external_psk(b"psk-id".to_vec(), vec![7; 32]);
    }
    let (message, reference) = net.with(1, |g, rng| g.propose_external_psk(b"psk-id", rng))?;
    net.deliver(1, &message)?;
    commit_refs(&mut net, 0, vec![reference])?;
    // Resumption PSK of an earlier epoch, committed by value.
    let epoch = net.get(0)?.epoch() - 1;
    let (message, reference) = net.with(2, |g, rng| g.propose_resumption_psk(epoch, rng))?;
    net.deliver(2, &message)?;
    commit_refs(&mut net, 3, vec![reference])?;
    // An unknown external PSK is refused before anything is sent.
    assert!(matches!(
        net.with(0, |g, rng| g.propose_external_psk(b"nope", rng)),
        Err(e) if e.to_string().contains("unknown PSK")
    ));
    // GroupContextExtensions.
    let extensions = vec![Extension::from_content(&ApplicationId(
        vec![1, 2, 3].into(),
    ))];
    let (message, reference) = net.with(3, |g, rng| {
        g.propose_group_context_extensions(extensions.clone(), rng)
    })?;
    net.deliver(3, &message)?;
    commit_refs(&mut net, 1, vec![reference])?;
    assert_eq!(net.get(2)?.group_context().extensions, extensions);
    Ok(())
}

fn external_senders(suite: CipherSuite) -> TestResult {
    let mut net = small(suite, HandshakeMode::Public)?;
    let signer = ExternalSigner::new(suite, b"server", &mut net.rng)?;
    let (message, reference, index) = net.with(0, |g, rng| {
        g.propose_add_external_sender(signer.sender.clone(), rng)
    })?;
    net.deliver(0, &message)?;
    commit_refs(&mut net, 1, vec![reference])?;
    // The external sender removes member 3.
    let context = net.get(0)?.group_context().clone();
    let removed = net.get(3)?.own_leaf();
    let message = signer.propose(&context, index, Proposal::Remove(Remove { removed }))?;
    let mut refs = Vec::new();
    for i in net.active() {
        let reference = net.get_mut(i)?.process_message(&message)?;
        if i == 0
            && let Received::Proposal(r) = reference
        {
            refs.push(r);
        }
    }
    commit_refs(&mut net, 0, refs)?;
    assert_eq!(net.get(0)?.members().len(), 3);
    // A new member asks to be added; member 1 commits its proposal by reference.
    let (info, _) = net.get(1)?.group_info(false)?;
    let (message, key_package, secrets) =
        new_member_add_proposal(group_info_of(&info)?, b"newcomer", NOW, &mut net.rng)?;
    let mut refs = Vec::new();
    for i in net.active() {
        if let Received::Proposal(r) = net.get_mut(i)?.process_message(&message)?
            && i == 1
        {
            refs.push(r);
        }
    }
    let options = CommitOptions {
        by_reference: refs,
        ..CommitOptions::default()
    };
    net.commit(1, &options, vec![(key_package, secrets)])?;
    assert_eq!(net.get(0)?.members().len(), 4);
    Ok(())
}

fn branch_and_reinit(suite: CipherSuite) -> TestResult {
    let mut net = small(suite, HandshakeMode::Public)?;
    // Branch: member 0 starts a subgroup with member 2.
    let (kp, secrets) = create_key_package(&net.suite, b"member-2", None, NOW, &mut net.rng)?;
    let (branch, output) = net.with(0, |g, rng| {
        g.branch(
            b"branch".to_vec(),
            Vec::new(),
            vec![kp.clone()],
            SubgroupOptions::default(),
            NOW,
            rng,
        )
    })?;
    let welcome = welcome_of(output.welcome.as_ref().ok_or("no welcome")?)?;
    let joined = net
        .get(2)?
        .join_branch(welcome, &kp, &secrets, None, *branch.config())?;
    assert_eq!(joined.epoch_authenticator(), branch.epoch_authenticator());
    // A joiner whose old group has other members sees a leaf that matches none.
    let mut stranger = net.get(2)?.clone();
    if let Some(leaf) = stranger.state.group.tree.leaf(LeafIndex(0)).cloned() {
        let mut renamed = leaf;
        renamed.credential = crate::messages::Credential::basic(b"someone else".to_vec());
        stranger.state.group.tree.set_leaf(LeafIndex(0), renamed)?;
    }
    assert_eq!(
        stranger
            .join_branch(welcome, &kp, &secrets, None, *branch.config())
            .err(),
        Some(GroupError::BranchMismatch(
            "a leaf matches no member of the old group"
        ))
    );
    // Without the old group's PSK the Welcome cannot be joined.
    assert!(
        Group::join(
            welcome,
            &kp,
            &secrets,
            None,
            &PskStore::default(),
            *branch.config()
        )
        .is_err()
    );

    let branch_welcome = output.welcome.clone().ok_or("no welcome")?;
    // ReInit to another group id (same suite), proposed by 1, committed by 0.
    let (message, reference) = net.with(1, |g, rng| {
        g.propose_reinit(b"reinit".to_vec(), suite, Vec::new(), rng)
    })?;
    net.deliver(1, &message)?;
    commit_refs(&mut net, 0, vec![reference])?;
    for i in net.active() {
        assert!(matches!(
            net.get(i)?.status(),
            GroupStatus::ReInitialized(_)
        ));
    }
    assert!(matches!(
        net.with(1, |g, rng| g.protect(b"", b"x", rng)),
        Err(e) if e.to_string().contains("no longer active")
    ));
    let mut joiners = Vec::new();
    for i in 1..4 {
        let identity = format!("member-{i}");
        joiners.push(create_key_package(
            &net.suite,
            identity.as_bytes(),
            None,
            NOW,
            &mut net.rng,
        )?);
    }
    let key_packages: Vec<_> = joiners.iter().map(|(kp, _)| kp.clone()).collect();
    let options = SubgroupOptions {
        force_path: true,
        external_tree: true,
    };
    let (new_group, output) = net.with(0, |g, rng| {
        g.reinit_group(key_packages.clone(), options, NOW, rng)
    })?;
    let welcome = welcome_of(output.welcome.as_ref().ok_or("no welcome")?)?;
    for (i, (kp, secrets)) in joiners.iter().enumerate() {
        let joined = net.get(i + 1)?.join_reinit(
            welcome,
            kp,
            secrets,
            output.ratchet_tree.as_ref(),
            *new_group.config(),
        )?;
        assert_eq!(
            joined.epoch_authenticator(),
            new_group.epoch_authenticator()
        );
        assert_eq!(joined.group_id(), b"reinit");
    }
    // The branch's Welcome is not the reinitialized group.
    assert_eq!(
        net.get(2)?
            .join_reinit(
                welcome_of(&branch_welcome)?,
                &kp,
                &secrets,
                None,
                *branch.config()
            )
            .err(),
        Some(GroupError::ReInitMismatch("group_id"))
    );
    Ok(())
}

#[test]
fn psks_and_group_context_extensions_every_suite() -> TestResult {
    for suite in CipherSuite::ALL {
        psks_and_extensions(suite).map_err(|e| format!("suite {}: {e}", suite.0))?;
    }
    Ok(())
}

#[test]
fn external_senders_and_new_member_proposals_every_suite() -> TestResult {
    for suite in CipherSuite::ALL {
        external_senders(suite).map_err(|e| format!("suite {}: {e}", suite.0))?;
    }
    Ok(())
}

#[test]
fn branch_and_reinit_every_suite() -> TestResult {
    for suite in CipherSuite::ALL {
        branch_and_reinit(suite).map_err(|e| format!("suite {}: {e}", suite.0))?;
    }
    Ok(())
}

/// Application messages out of order, from a retained past epoch, and from one
/// beyond retention (section 15.2 leaves the window to the application).
#[test]
fn application_messages_out_of_order_and_past_epochs() -> TestResult {
    let config = GroupConfig {
        past_epochs: 1,
        ..GroupConfig::default()
    };
    let mut net = Net::new(
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        3,
        config,
    )?;
    net.add_by_value(0, 2, 2, false)?;
    let first = net.with(1, |g, rng| g.protect(b"1", b"one", rng))?;
    let second = net.with(1, |g, rng| g.protect(b"2", b"two", rng))?;
    let third = net.with(1, |g, rng| g.protect(b"3", b"three", rng))?;
    // Second before first, in the same epoch.
    let got = net.get_mut(2)?.process_message(&second)?;
    assert!(matches!(got, Received::Application { ref data, .. } if data == b"two"));
    // A replay fails, without changing anything.
    assert!(net.get_mut(2)?.process_message(&second).is_err());
    // One commit later, the first is still readable from the retained epoch.
    net.commit(0, &CommitOptions::default(), Vec::new())?;
    let got = net.get_mut(2)?.process_message(&first)?;
    assert!(matches!(got, Received::Application { ref data, epoch, .. }
        if data == b"one" && epoch + 1 == net.get(2)?.epoch()));
    // Two commits later the epoch is gone.
    net.commit(0, &CommitOptions::default(), Vec::new())?;
    let epoch = net.get(2)?.epoch() - 2;
    assert_eq!(
        net.get_mut(2)?.process_message(&third),
        Err(GroupError::EpochNotRetained(epoch))
    );
    Ok(())
}

/// Two members commit in the same epoch; the delivery service orders member 1's
/// first. Member 0's pending commit is superseded when it processes member 1's.
#[test]
fn competing_commits_resolve_to_the_first_delivered() -> TestResult {
    let mut net = small(
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        HandshakeMode::Private,
    )?;
    let losing = net.with(0, |g, rng| g.commit(&CommitOptions::default(), rng))?;
    let winning = net.with(1, |g, rng| g.commit(&CommitOptions::default(), rng))?;
    for i in [0, 2, 3] {
        net.get_mut(i)?.process_message(&winning.commit)?;
    }
    net.get_mut(1)?.merge_pending_commit()?;
    assert!(!net.get(0)?.has_pending_commit());
    net.check_agreement()?;
    // The losing commit is for an epoch that has passed.
    assert!(net.get_mut(2)?.process_message(&losing.commit).is_err());
    Ok(())
}

/// RFC9420-7.3-2, the sender's side: with a clock, a member refuses to propose or commit
/// the Add of a KeyPackage outside its lifetime, and adds one within it.
#[test]
fn a_sender_with_a_clock_adds_only_key_packages_within_their_lifetime() -> TestResult {
    let suite = CipherSuite(1);
    let mut net = small(suite, HandshakeMode::Public)?;
    let s = Suite::new(suite)?;
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(5);
    let (key_package, _) = create_key_package(&s, b"late", None, NOW, &mut rng)?;
    let expired = NOW + key_package::KEY_PACKAGE_LIFETIME + 1;
    let group = net.get_mut(0)?;
    let mut config = *group.config();
    config.now = Some(expired);
    group.set_config(config);
    let refused = group.propose_add(key_package.clone(), &mut rng);
    assert!(
        matches!(
            refused,
            Err(GroupError::Commit(
                crate::commit::CommitError::KeyPackageLifetime { .. }
            ))
        ),
        "{refused:?}"
    );
    let by_value = CommitOptions {
        by_value: vec![Proposal::Add(crate::messages::Add {
            key_package: key_package.clone(),
        })],
        ..CommitOptions::default()
    };
    assert!(group.commit(&by_value, &mut rng).is_err());
    config.now = Some(NOW + 1);
    group.set_config(config);
    assert!(group.propose_add(key_package, &mut rng).is_ok());
    Ok(())
}
