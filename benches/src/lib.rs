//! Fixtures shared by Concord's benchmarks: deterministic inputs per ciphersuite for the
//! crypto core, and the three MLS implementations the group benchmarks compare.
//!
//! ```text
//! fixture(suite) ──> keys, secrets, a 1 KiB payload ──> benches/crypto_core.rs (criterion)
//! engine::Engine ──> reference | openmls | mlsrs ──> scene::Scene (full or sparse tree)
//!                                                ──> benches/groups.rs (criterion)
//! ```
#![forbid(unsafe_code)]

pub mod engine;
pub mod mlsrs;
pub mod openmls;
pub mod reference;
pub mod scene;

use concord_reference::crypto::{CipherSuite, HpkeKeyPair, SignatureKeyPair, Suite};
use rand_core::SeedableRng;

/// Deterministic inputs for one ciphersuite.
#[derive(Debug)]
pub struct Fixture {
    pub suite: Suite,
    pub hpke: HpkeKeyPair,
    pub signature: SignatureKeyPair,
    pub secret: Vec<u8>,
    pub payload: Vec<u8>,
    pub rng: rand_chacha::ChaCha20Rng,
}

/// The fixture for `suite`, or `None` if the reference does not implement it.
pub fn fixture(suite: CipherSuite) -> Option<Fixture> {
    let suite = Suite::new(suite).ok()?;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(u64::from(suite.id().0));
    let hpke = suite.hpke_generate_key_pair(&mut rng).ok()?;
    let signature = suite.signature_generate(&mut rng).ok()?;
    Some(Fixture {
        secret: vec![0x5a; suite.hash_length()],
        payload: vec![0xa5; 1024],
        suite,
        hpke,
        signature,
        rng,
    })
}
