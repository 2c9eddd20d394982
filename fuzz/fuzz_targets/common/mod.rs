//! A two-member group built with the reference's public API, shared by the stateful
//! targets: Alice creates it and adds Bob by value; Bob joins from the Welcome.

#![allow(dead_code)]

use concord_reference::crypto::CipherSuite;
use concord_reference::group::{
    CommitOptions, Group, GroupConfig, KeyPackageSecrets, PskStore, create_key_package,
};
use concord_reference::messages::{Add, KeyPackage, MlsMessage, MlsMessageBody, Proposal, Welcome};
use rand_core::SeedableRng;

/// 2026-11-01, fixed so every run builds the same group.
pub const NOW: u64 = 1_793_491_200;

pub struct Fixture {
    pub alice: Group,
    pub bob: Group,
    /// Bob's KeyPackage, its secrets, and the Welcome that added him.
    pub key_package: KeyPackage,
    pub secrets: KeyPackageSecrets,
    pub welcome: Welcome,
}

pub fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(seed)
}

pub fn fixture() -> Fixture {
    build().unwrap_or_else(|e| panic!("building the fuzz fixture failed: {e}"))
}

fn build() -> Result<Fixture, Box<dyn std::error::Error>> {
    let suite_id = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
    let suite = concord_reference::crypto::Suite::new(suite_id)?;
    let mut rng = rng(7);
    let config = GroupConfig::default();
    let mut alice = Group::create(
        suite_id,
        b"fuzz group".to_vec(),
        b"alice",
        None,
        Vec::new(),
        config,
        NOW,
        &mut rng,
    )?;
    let (key_package, secrets) = create_key_package(&suite, b"bob", None, NOW, &mut rng)?;
    let options = CommitOptions {
        by_value: vec![Proposal::Add(Add {
            key_package: key_package.clone(),
        })],
        ..CommitOptions::default()
    };
    let output = alice.commit(&options, &mut rng)?;
    alice.merge_pending_commit()?;
    let welcome = match output.welcome.map(|m: MlsMessage| m.body) {
        Some(MlsMessageBody::Welcome(welcome)) => welcome,
        _ => return Err("the commit made no Welcome".into()),
    };
    let bob = Group::join(
        &welcome,
        &key_package,
        &secrets,
        output.ratchet_tree.as_ref(),
        &PskStore::default(),
        config,
    )?;
    Ok(Fixture {
        alice,
        bob,
        key_package,
        secrets,
        welcome,
    })
}
