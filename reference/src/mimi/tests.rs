//! The hub and provider model against real MLS messages from the group engine.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::codec::Codec;
use crate::crypto::{CipherSuite, Suite};
use crate::group::{CommitOptions, Group, GroupConfig, create_key_package};
use crate::messages::{MlsMessage, MlsMessageBody, Proposal};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW: u64 = 1_700_000_000;

fn group(identity: &str, rng: &mut ChaCha20Rng) -> Result<Group, Box<dyn std::error::Error>> {
    Ok(Group::create(
        CipherSuite(1),
        b"room".to_vec(),
        identity.as_bytes(),
        None,
        Vec::new(),
        GroupConfig::default(),
        NOW,
        rng,
    )?)
}

fn add(
    committer: &mut Group,
    identity: &str,
    rng: &mut ChaCha20Rng,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let suite = Suite::new(CipherSuite(1))?;
    let (key_package, _) = create_key_package(&suite, identity.as_bytes(), None, NOW, rng)?;
    let options = CommitOptions {
        by_value: vec![Proposal::Add(crate::messages::Add { key_package })],
        ..CommitOptions::default()
    };
    Ok(committer.commit(&options, rng)?.commit.to_bytes())
}

fn bundle(message: Vec<u8>, changes: Vec<ParticipantChange>) -> HandshakeBundle {
    HandshakeBundle {
        message,
        welcome: None,
        participant_changes: changes,
    }
}

fn hub_with_alice(rng: &mut ChaCha20Rng) -> Result<(Hub, Group), Box<dyn std::error::Error>> {
    let alice = group("alice@a", rng)?;
    let (info, _) = alice.group_info(false)?;
    let mut hub = Hub::default();
    hub.create_room("r", "alice@a", &info.to_bytes(), false)?;
    Ok((hub, alice))
}

#[test]
fn one_commit_per_epoch_wins_and_the_loser_gets_wrong_epoch() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (mut hub, mut alice) = hub_with_alice(&mut rng)?;
    let first = add(&mut alice, "bob@b", &mut rng)?;
    alice.discard_pending_commit();
    let second = add(&mut alice, "carol@c", &mut rng)?;
    let changes = |u: &str| vec![ParticipantChange::Add(u.to_string())];
    let (answer, fanout) = hub.update("r", "alice@a", 1, &bundle(first, changes("bob@b")), 5)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 5 });
    assert_eq!(fanout.len(), 1, "the commit goes to alice's provider only");
    assert_eq!(fanout[0].0, "a");
    let (answer, fanout) = hub.update("r", "alice@a", 2, &bundle(second, changes("carol@c")), 6)?;
    assert_eq!(answer, UpdateResponse::WrongEpoch { current_epoch: 1 });
    assert!(fanout.is_empty());
    let room = hub.room("r").ok_or("room")?;
    assert_eq!(
        room.members(),
        vec!["alice@a".to_string(), "bob@b".to_string()]
    );
    Ok(())
}

#[test]
fn a_repeated_request_gets_the_first_answer_and_no_second_fanout() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (mut hub, mut alice) = hub_with_alice(&mut rng)?;
    let commit = add(&mut alice, "bob@b", &mut rng)?;
    let request = bundle(commit, vec![ParticipantChange::Add("bob@b".into())]);
    let (first, fanout) = hub.update("r", "alice@a", 7, &request, 1)?;
    assert_eq!(fanout.len(), 1);
    let (again, fanout) = hub.update("r", "alice@a", 7, &request, 2)?;
    assert_eq!(first, again);
    assert!(fanout.is_empty());
    Ok(())
}

#[test]
fn a_client_of_a_non_participant_is_not_allowed() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (mut hub, mut alice) = hub_with_alice(&mut rng)?;
    let commit = add(&mut alice, "mallory@m", &mut rng)?;
    let (answer, _) = hub.update("r", "alice@a", 1, &bundle(commit, Vec::new()), 1)?;
    assert!(
        matches!(&answer, UpdateResponse::NotAllowed { reason } if reason.contains("mallory@m")),
        "{answer:?}"
    );
    assert_eq!(hub.room("r").ok_or("room")?.epoch(), 0);
    Ok(())
}

#[test]
fn a_stale_application_message_is_epoch_too_old() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (mut hub, mut alice) = hub_with_alice(&mut rng)?;
    let stale = alice.protect(b"", b"hello", &mut rng)?.to_bytes();
    let commit = add(&mut alice, "bob@b", &mut rng)?;
    let request = bundle(commit, vec![ParticipantChange::Add("bob@b".into())]);
    hub.update("r", "alice@a", 1, &request, 1)?;
    alice.merge_pending_commit()?;
    let (answer, _) = hub.submit("r", "alice@a", 2, &stale, 2)?;
    assert_eq!(answer, SubmitResponse::EpochTooOld { current_epoch: 1 });
    let fresh = alice.protect(b"", b"hello", &mut rng)?.to_bytes();
    let (answer, fanout) = hub.submit("r", "alice@a", 3, &fresh, 3)?;
    assert_eq!(
        answer,
        SubmitResponse::Accepted {
            accepted_at: 3,
            frank: None
        }
    );
    assert_eq!(fanout.len(), 1);
    assert_eq!(fanout[0].1.recipients, vec![Name::from("bob@b")]);
    Ok(())
}

#[test]
fn a_provider_delivers_in_order_once() {
    let fanout = |seq| Fanout {
        room: "r".into(),
        seq,
        timestamp: seq,
        event: RoomEvent::Application {
            epoch: 0,
            message: vec![seq as u8].into(),
        },
        recipients: vec!["bob@b".into(), "dave@b".into()],
        more_proposals: Vec::new(),
        frank: None,
    };
    let mut provider = Provider::default();
    assert!(provider.receive_fanout(&fanout(1)).is_empty());
    let due = provider.receive_fanout(&fanout(0));
    let order: Vec<(String, u64)> = due.iter().map(|d| (d.client.to_string(), d.seq)).collect();
    assert_eq!(
        order,
        vec![
            ("bob@b".into(), 0),
            ("dave@b".into(), 0),
            ("bob@b".into(), 1),
            ("dave@b".into(), 1)
        ]
    );
    assert!(provider.receive_fanout(&fanout(1)).is_empty());
    assert_eq!(provider.duplicates(), 1);
}

#[test]
fn key_packages_are_claimed_once() {
    let mut provider = Provider::default();
    provider.publish_key_package("bob@b", vec![1]);
    assert_eq!(provider.claim_key_package("bob@b"), Some(vec![1]));
    assert_eq!(provider.claim_key_package("bob@b"), None);
    assert!(matches!(
        MlsMessage::from_bytes(&[0]).map(|m| m.body),
        Err(_) | Ok(MlsMessageBody::KeyPackage(_))
    ));
}

#[test]
fn a_second_leaf_for_one_identity_is_not_allowed() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (mut hub, mut alice) = hub_with_alice(&mut rng)?;
    let commit = add(&mut alice, "alice@a", &mut rng)?;
    let (answer, fanout) = hub.update("r", "alice@a", 1, &bundle(commit, Vec::new()), 1)?;
    assert!(
        matches!(&answer, UpdateResponse::NotAllowed { reason } if reason.contains("same identity")),
        "{answer:?}"
    );
    assert!(fanout.is_empty());
    Ok(())
}

// ---- misbehaviours (HubFaults, reused key packages): honest by default ----

/// alice's room with bob@b and carol@c added (epoch 1), and alice's group merged.
fn room_of_three(
    rng: &mut ChaCha20Rng,
    faults: HubFaults,
) -> Result<(Hub, Group), Box<dyn std::error::Error>> {
    let (mut hub, mut alice) = hub_with_alice(rng)?;
    let suite = Suite::new(CipherSuite(1))?;
    let mut by_value = Vec::new();
    for who in ["bob@b", "carol@c"] {
        let (key_package, _) = create_key_package(&suite, who.as_bytes(), None, NOW, rng)?;
        by_value.push(Proposal::Add(crate::messages::Add { key_package }));
    }
    let options = CommitOptions {
        by_value,
        ..CommitOptions::default()
    };
    let commit = alice.commit(&options, rng)?.commit.to_bytes();
    let changes = vec![
        ParticipantChange::Add("bob@b".into()),
        ParticipantChange::Add("carol@c".into()),
    ];
    let (answer, _) = hub.update("r", "alice@a", 1, &bundle(commit, changes), 1)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 1 });
    alice.merge_pending_commit()?;
    hub.set_faults(faults);
    Ok((hub, alice))
}

fn update(alice: &mut Group, rng: &mut ChaCha20Rng) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let options = CommitOptions {
        force_path: true,
        ..CommitOptions::default()
    };
    Ok(alice.commit(&options, rng)?.commit.to_bytes())
}

#[test]
fn the_honest_hub_has_no_faults() {
    assert!(HubFaults::default().is_honest());
    assert!(Hub::default().faults().is_honest());
    assert!(!Provider::default().reuses_key_packages());
}

#[test]
fn ghost_member_fault_accepts_a_client_of_a_non_participant() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let (mut hub, mut alice) = hub_with_alice(&mut rng)?;
    hub.set_faults(HubFaults {
        accept_non_participants: true,
        ..HubFaults::default()
    });
    let commit = add(&mut alice, "mallory@m", &mut rng)?;
    let (answer, fanout) = hub.update("r", "alice@a", 1, &bundle(commit, Vec::new()), 1)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 1 });
    assert!(!fanout.is_empty());
    let room = hub.room("r").ok_or("room")?;
    assert!(room.members().contains(&"mallory@m".to_string()));
    assert!(!room.participants().contains("mallory@m"));
    Ok(())
}

#[test]
fn fork_fault_shows_each_provider_its_own_commit_of_one_epoch() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let (mut hub, mut alice) = room_of_three(
        &mut rng,
        HubFaults {
            fork: true,
            ..HubFaults::default()
        },
    )?;
    let first = update(&mut alice, &mut rng)?;
    alice.discard_pending_commit();
    let second = update(&mut alice, &mut rng)?;
    let (answer, fanout) = hub.update("r", "alice@a", 2, &bundle(first, Vec::new()), 2)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 2 });
    let to: Vec<&str> = fanout.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        to,
        vec!["a"],
        "only the committer's provider sees the commit"
    );
    // The hub does not check signatures: a second commit of epoch 1 from b's member.
    let (answer, fanout) = hub.update("r", "bob@b", 1, &bundle(second, Vec::new()), 3)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 3 });
    let to: Vec<&str> = fanout.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(to, vec!["b"]);
    let room = hub.room("r").ok_or("room")?;
    assert_eq!(room.epoch(), 2);
    assert_eq!(room.injections().len(), 1);
    assert_eq!(room.injections()[0].behaviour, "fork");
    Ok(())
}

#[test]
fn without_the_fork_fault_the_second_commit_is_wrong_epoch() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let (mut hub, mut alice) = room_of_three(&mut rng, HubFaults::default())?;
    let first = update(&mut alice, &mut rng)?;
    alice.discard_pending_commit();
    let second = update(&mut alice, &mut rng)?;
    let (_, fanout) = hub.update("r", "alice@a", 2, &bundle(first, Vec::new()), 2)?;
    assert_eq!(fanout.len(), 3, "every provider sees the commit");
    let (answer, _) = hub.update("r", "bob@b", 1, &bundle(second, Vec::new()), 3)?;
    assert_eq!(answer, UpdateResponse::WrongEpoch { current_epoch: 2 });
    assert!(hub.room("r").ok_or("room")?.injections().is_empty());
    Ok(())
}

#[test]
fn replay_fault_sends_application_messages_twice_and_an_epoch_again() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (mut hub, mut alice) = room_of_three(
        &mut rng,
        HubFaults {
            replay: true,
            ..HubFaults::default()
        },
    )?;
    let message = alice.protect(b"", b"hello", &mut rng)?.to_bytes();
    let (_, fanout) = hub.submit("r", "alice@a", 2, &message, 2)?;
    let to_b: Vec<u64> = fanout
        .iter()
        .filter(|(p, _)| p == "b")
        .map(|(_, f)| f.seq)
        .collect();
    assert_eq!(
        to_b.len(),
        2,
        "original and replay, with their own sequence numbers"
    );
    assert_ne!(to_b[0], to_b[1]);
    let commit = update(&mut alice, &mut rng)?;
    let (_, fanout) = hub.update("r", "alice@a", 3, &bundle(commit.clone(), Vec::new()), 3)?;
    let commits_to_b = fanout
        .iter()
        .filter(|(p, f)| p == "b" && f.event.message() == commit.as_slice())
        .count();
    assert_eq!(commits_to_b, 2, "the commit, then its replay");
    let room = hub.room("r").ok_or("room")?;
    assert!(
        room.injections()
            .iter()
            .all(|i| i.behaviour == "replay" && i.repeated)
    );
    assert_eq!(room.injections().len(), 2);
    Ok(())
}

#[test]
fn delay_fault_holds_a_commit_and_delivers_it_epochs_later() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let (mut hub, mut alice) = room_of_three(
        &mut rng,
        HubFaults {
            delay_commits_of: Some("alice@a".into()),
            delay_epochs: 1,
            ..HubFaults::default()
        },
    )?;
    let held = update(&mut alice, &mut rng)?;
    let (answer, fanout) = hub.update("r", "alice@a", 2, &bundle(held.clone(), Vec::new()), 2)?;
    assert_eq!(answer, UpdateResponse::WrongEpoch { current_epoch: 2 });
    assert!(fanout.is_empty());
    alice.discard_pending_commit();
    let retry = update(&mut alice, &mut rng)?;
    let (answer, fanout) = hub.update("r", "alice@a", 3, &bundle(retry, Vec::new()), 3)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 3 });
    let stale: Vec<&Fanout> = fanout
        .iter()
        .map(|(_, f)| f)
        .filter(|f| f.event.message() == held.as_slice())
        .collect();
    assert_eq!(stale.len(), 2, "to b and c, not back to alice");
    assert!(
        stale
            .iter()
            .all(|f| !f.recipients.contains(&"alice@a".into()))
    );
    assert_eq!(
        hub.room("r").ok_or("room")?.injections()[0].behaviour,
        "delay"
    );
    Ok(())
}

#[test]
fn reorder_fault_sends_the_later_commit_first_to_its_target() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let (mut hub, mut alice) = room_of_three(
        &mut rng,
        HubFaults {
            reorder_epochs_for: Some("bob@b".into()),
            ..HubFaults::default()
        },
    )?;
    let first = update(&mut alice, &mut rng)?;
    let (_, fanout) = hub.update("r", "alice@a", 2, &bundle(first.clone(), Vec::new()), 2)?;
    assert!(fanout.iter().all(|(p, _)| p != "b"), "held back from bob");
    alice.merge_pending_commit()?;
    let second = update(&mut alice, &mut rng)?;
    let (_, fanout) = hub.update("r", "alice@a", 3, &bundle(second.clone(), Vec::new()), 3)?;
    let to_b: Vec<&[u8]> = fanout
        .iter()
        .filter(|(p, _)| p == "b")
        .map(|(_, f)| f.event.message())
        .collect();
    assert_eq!(to_b, vec![second.as_slice(), first.as_slice()]);
    Ok(())
}

#[test]
fn truncated_tree_fault_serves_a_group_info_with_a_leaf_less() -> TestResult {
    use crate::messages::{ExtensionType, RatchetTree};
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let (mut hub, alice) = room_of_three(&mut rng, HubFaults::default())?;
    let (info, _) = alice.group_info(false)?;
    assert!(hub.publish_group_info("r", 1, info.to_bytes()));
    let honest = hub
        .room("r")
        .ok_or("room")?
        .group_info()
        .ok_or("gi")?
        .to_vec();
    assert_eq!(honest, info.to_bytes());
    hub.set_faults(HubFaults {
        truncate_ratchet_tree: true,
        ..HubFaults::default()
    });
    let served = hub
        .room("r")
        .ok_or("room")?
        .group_info()
        .ok_or("gi")?
        .to_vec();
    let tree_len = |bytes: &[u8]| -> Result<usize, Box<dyn std::error::Error>> {
        let MlsMessageBody::GroupInfo(info) = MlsMessage::from_bytes(bytes)?.body else {
            return Err("not a GroupInfo".into());
        };
        let ext = info
            .extensions
            .iter()
            .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
            .ok_or("no tree")?;
        Ok(RatchetTree::from_bytes(ext.extension_data.as_slice())?
            .0
            .len())
    };
    assert_eq!(tree_len(&honest)?, 5);
    assert_eq!(tree_len(&served)?, 3);
    let MlsMessageBody::GroupInfo(altered) = MlsMessage::from_bytes(&served)?.body else {
        return Err("not a GroupInfo".into());
    };
    let joined = Group::join_external(
        &altered,
        None,
        b"dave@d",
        None,
        false,
        &[],
        GroupConfig::default(),
        &mut rng,
    );
    assert!(joined.is_err(), "a joiner must refuse the truncated tree");
    hub.set_faults(HubFaults::default());
    assert_eq!(
        hub.room("r").ok_or("room")?.group_info(),
        Some(honest.as_slice())
    );
    Ok(())
}

#[test]
fn reuse_fault_hands_out_the_same_key_package_again() {
    let mut provider = Provider::default();
    provider.publish_key_package("bob@b", vec![1]);
    provider.publish_key_package("bob@b", vec![2]);
    provider.set_reuse_key_packages(true);
    assert_eq!(provider.claim_key_package("bob@b"), Some(vec![1]));
    assert_eq!(provider.claim_key_package("bob@b"), Some(vec![1]));
    assert_eq!(provider.key_packages_handed_out_again(), 1);
    provider.set_reuse_key_packages(false);
    assert_eq!(provider.claim_key_package("bob@b"), Some(vec![1]));
    assert_eq!(provider.claim_key_package("bob@b"), Some(vec![2]));
    assert_eq!(provider.claim_key_package("bob@b"), None);
}

// ---- proposals and their refs, moreProposals, omitted proposals, list changes ----

/// `proposal` (an MLSMessage with a PublicMessage) as if `leaf` had sent it: the hub
/// checks no signature (profile choice 3), so a member's proposal stands in for another's.
fn as_sent_by(proposal: &MlsMessage, leaf: u32) -> Vec<u8> {
    let mut message = proposal.clone();
    if let MlsMessageBody::PublicMessage(public) = &mut message.body {
        public.content.sender = crate::messages::Sender::Member {
            leaf_index: crate::tree_math::LeafIndex(leaf),
        };
    }
    message.to_bytes()
}

/// alice@a's room with bob@b and dave@b (leaves 1 and 2), epoch 1.
fn room_with_two_of_b(rng: &mut ChaCha20Rng) -> Result<(Hub, Group), Box<dyn std::error::Error>> {
    let (mut hub, mut alice) = hub_with_alice(rng)?;
    let suite = Suite::new(CipherSuite(1))?;
    let mut by_value = Vec::new();
    for who in ["bob@b", "dave@b"] {
        let (key_package, _) = create_key_package(&suite, who.as_bytes(), None, NOW, rng)?;
        by_value.push(Proposal::Add(crate::messages::Add { key_package }));
    }
    let options = CommitOptions {
        by_value,
        ..CommitOptions::default()
    };
    let commit = alice.commit(&options, rng)?.commit.to_bytes();
    let changes = vec![
        ParticipantChange::Add("bob@b".into()),
        ParticipantChange::Add("dave@b".into()),
    ];
    let (answer, _) = hub.update("r", "alice@a", 1, &bundle(commit, changes), 1)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 1 });
    alice.merge_pending_commit()?;
    Ok((hub, alice))
}

/// Cites MIMI-PROTOCOL-5.3-13: an invalid proposal is answered invalidProposal naming its
/// ProposalRef, on the wire too.
#[test]
fn an_invalid_proposal_is_named_by_its_ref() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let (mut hub, mut alice) = room_with_two_of_b(&mut rng)?;
    // bob "proposes" removing dave: only leaving is accepted.
    let (proposal, reference) = alice.propose_remove(crate::tree_math::LeafIndex(2), &mut rng)?;
    let message = as_sent_by(&proposal, 1);
    let (answer, fanout) =
        hub.update_with_more("r", "bob@b", 1, &bundle(message, Vec::new()), &[], 2)?;
    assert!(matches!(
        answer.response,
        UpdateResponse::InvalidProposal { .. }
    ));
    // The ref is over the content as the hub received it (the sender rewritten).
    let received = MlsMessage::from_bytes(&as_sent_by(&proposal, 1))?;
    let MlsMessageBody::PublicMessage(public) = &received.body else {
        return Err("not a PublicMessage".into());
    };
    let expected = Suite::new(CipherSuite(1))?.ref_hash(
        crate::messages::ProposalRef::LABEL,
        &public.authenticated_content().to_bytes(),
    );
    assert_ne!(expected, reference.0.to_vec());
    assert_eq!(answer.invalid_proposals, vec![expected.clone()]);
    assert!(fanout.is_empty());
    let wire = wire::UpdateRoomResponse::from(&answer);
    assert_eq!(
        wire.code,
        wire::UpdateCode::InvalidProposal {
            invalid_proposals: vec![crate::codec::Bytes(expected)]
        }
    );
    // A commit referencing a proposal the hub never accepted names that ref.
    let options = CommitOptions {
        by_reference: vec![reference.clone()],
        ..CommitOptions::default()
    };
    if let Ok(made) = alice.commit(&options, &mut rng) {
        let (answer, _) = hub.update_with_more(
            "r",
            "alice@a",
            2,
            &bundle(made.commit.to_bytes(), Vec::new()),
            &[],
            3,
        )?;
        assert!(matches!(
            answer.response,
            UpdateResponse::InvalidProposal { .. }
        ));
        assert_eq!(answer.invalid_proposals, vec![reference.0.to_vec()]);
    }
    Ok(())
}

/// Cites MIMI-PROTOCOL-5.5-10, MIMI-PROTOCOL-5.3-16: two leaves of
/// provider b in one bundle are fanned out with the moreProposals list as sent; a commit
/// that leaves them out is notAllowed, one that removes both is accepted.
#[test]
fn more_proposals_are_fanned_out_and_a_commit_must_not_omit_them() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(22);
    let (mut hub, mut alice) = room_with_two_of_b(&mut rng)?;
    let (bob_leaves, _) = alice.propose_remove(crate::tree_math::LeafIndex(1), &mut rng)?;
    let (dave_leaves, _) = alice.propose_remove(crate::tree_math::LeafIndex(2), &mut rng)?;
    let bob_leaves = as_sent_by(&bob_leaves, 1);
    let dave_leaves = as_sent_by(&dave_leaves, 2);
    let changes = vec![
        ParticipantChange::Remove("bob@b".into()),
        ParticipantChange::Remove("dave@b".into()),
    ];
    let more = vec![dave_leaves.clone()];
    let (answer, fanout) = hub.update_with_more(
        "r",
        "bob@b",
        1,
        &bundle(bob_leaves, changes.clone()),
        &more,
        2,
    )?;
    assert_eq!(answer.response, UpdateResponse::Success { accepted_at: 2 });
    let to_a = fanout
        .iter()
        .find(|(provider, _)| provider == "a")
        .ok_or("no fanout to a")?;
    let sent: Vec<&[u8]> = to_a.1.more_proposals.iter().map(|m| &m[..]).collect();
    assert_eq!(sent, vec![dave_leaves.as_slice()]);
    let on_the_wire = wire::FanoutMessage::from_fanout(&to_a.1);
    assert_eq!(
        on_the_wire.extra,
        wire::FanoutExtra::Proposal {
            more_proposals: more.clone()
        }
    );
    assert_eq!(
        on_the_wire.to_fanout("r").more_proposals,
        to_a.1.more_proposals
    );
    // A path-only commit of alice leaves both out.
    let omitting = update(&mut alice, &mut rng)?;
    let (answer, fanout) = hub.update("r", "alice@a", 2, &bundle(omitting, Vec::new()), 3)?;
    assert!(
        matches!(&answer, UpdateResponse::NotAllowed { reason }
            if reason.contains("leaves out") && reason.contains("bob@b") && reason.contains("dave@b")),
        "{answer:?}"
    );
    assert!(fanout.is_empty());
    alice.discard_pending_commit();
    // Removing both (by value) covers the two leaves.
    let options = CommitOptions {
        by_value: vec![
            Proposal::Remove(crate::messages::Remove {
                removed: crate::tree_math::LeafIndex(1),
            }),
            Proposal::Remove(crate::messages::Remove {
                removed: crate::tree_math::LeafIndex(2),
            }),
        ],
        ..CommitOptions::default()
    };
    let removal = alice.commit(&options, &mut rng)?.commit.to_bytes();
    let (answer, _) = hub.update("r", "alice@a", 3, &bundle(removal, changes), 4)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 4 });
    assert_eq!(hub.room("r").ok_or("room")?.members(), vec!["alice@a"]);
    Ok(())
}

/// Cites MIMI-PROTOCOL-7.5-6: a commit whose participant changes touch one user twice is
/// refused; the same commit changing the user once is accepted.
#[test]
fn a_commit_changing_one_participant_twice_is_not_allowed() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(23);
    let (mut hub, mut alice) = hub_with_alice(&mut rng)?;
    let commit = add(&mut alice, "bob@b", &mut rng)?;
    let twice = vec![
        ParticipantChange::Add("bob@b".into()),
        ParticipantChange::Add("bob@b".into()),
    ];
    let (answer, fanout) = hub.update("r", "alice@a", 1, &bundle(commit.clone(), twice), 1)?;
    assert!(
        matches!(&answer, UpdateResponse::NotAllowed { reason } if reason.contains("more than once")),
        "{answer:?}"
    );
    assert!(fanout.is_empty());
    let once = vec![ParticipantChange::Add("bob@b".into())];
    let (answer, _) = hub.update("r", "alice@a", 2, &bundle(commit, once), 2)?;
    assert_eq!(answer, UpdateResponse::Success { accepted_at: 2 });
    Ok(())
}
