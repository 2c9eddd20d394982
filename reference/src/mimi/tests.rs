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
    assert_eq!(answer, SubmitResponse::Accepted { accepted_at: 3 });
    assert_eq!(fanout.len(), 1);
    assert_eq!(fanout[0].1.recipients, vec!["bob@b".to_string()]);
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
            message: vec![seq as u8],
        },
        recipients: vec!["bob@b".into(), "dave@b".into()],
    };
    let mut provider = Provider::default();
    assert!(provider.receive_fanout(fanout(1)).is_empty());
    let due = provider.receive_fanout(fanout(0));
    let order: Vec<(String, u64)> = due.iter().map(|d| (d.client.clone(), d.seq)).collect();
    assert_eq!(
        order,
        vec![
            ("bob@b".into(), 0),
            ("dave@b".into(), 0),
            ("bob@b".into(), 1),
            ("dave@b".into(), 1)
        ]
    );
    assert!(provider.receive_fanout(fanout(1)).is_empty());
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
