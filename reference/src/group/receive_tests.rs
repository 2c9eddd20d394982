//! The receive path under random and mutated input: it never panics, and a message it
//! refuses leaves the group exactly as it was.

use std::sync::OnceLock;

use proptest::prelude::*;

use super::lifecycle_tests::Net;
use super::*;
use crate::codec::Codec;
use crate::crypto::CipherSuite;

/// A receiver, and valid messages of its current epoch: a commit (with path), a
/// proposal, an application message, in public and private framing.
struct Fixture {
    receiver: Group,
    messages: Vec<Vec<u8>>,
}

fn build(mode: HandshakeMode) -> Result<Fixture, Box<dyn std::error::Error>> {
    let config = GroupConfig {
        handshake: mode,
        ..GroupConfig::default()
    };
    let mut net = Net::new(
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        11,
        config,
    )?;
    net.add_by_value(0, 3, 3, false)?;
    let mut messages = Vec::new();
    let (proposal, _) = net.with(2, |g, rng| g.propose_update(rng))?;
    messages.push(proposal.to_bytes());
    let application = net.with(2, |g, rng| g.protect(b"ad", b"data", rng))?;
    messages.push(application.to_bytes());
    let commit = net.with(0, |g, rng| g.commit(&CommitOptions::default(), rng))?;
    messages.push(commit.commit.to_bytes());
    Ok(Fixture {
        receiver: net.get(1)?.clone(),
        messages,
    })
}

fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        [HandshakeMode::Public, HandshakeMode::Private]
            .into_iter()
            .filter_map(|mode| build(mode).ok())
            .collect()
    })
}

/// What must not change when a message is refused.
fn fingerprint(g: &Group) -> (u64, Vec<u8>, Vec<u8>, usize, GroupStatus, Vec<u8>) {
    (
        g.epoch(),
        g.epoch_authenticator().to_vec(),
        g.tree().tree_hash(&g.suite()),
        g.cached_proposals().len(),
        g.status().clone(),
        g.export_tree().to_bytes(),
    )
}

fn check(fixture: &Fixture, bytes: &[u8]) {
    let mut group = fixture.receiver.clone();
    let before = fingerprint(&group);
    if group.process_message_bytes(bytes).is_err() {
        assert_eq!(fingerprint(&group), before);
        // Refusal does not burn keys: every genuine message still goes through.
        for message in &fixture.messages {
            let mut fresh = group.clone();
            assert!(fresh.process_message_bytes(message).is_ok());
        }
    }
}

#[test]
fn fixtures_are_valid() {
    assert_eq!(fixtures().len(), 2);
    for fixture in fixtures() {
        for message in &fixture.messages {
            assert!(
                fixture
                    .receiver
                    .clone()
                    .process_message_bytes(message)
                    .is_ok()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_bytes(which in 0usize..2, bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Some(fixture) = fixtures().get(which) {
            check(fixture, &bytes);
        }
    }

    #[test]
    fn mutated_messages(
        which in 0usize..2,
        message in 0usize..3,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let Some(fixture) = fixtures().get(which) else { return Ok(()); };
        let Some(original) = fixture.messages.get(message) else { return Ok(()); };
        let mut bytes = original.clone();
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        check(fixture, &bytes);
    }
}
