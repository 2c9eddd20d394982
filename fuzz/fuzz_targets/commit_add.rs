//! Any byte string as a KeyPackage that a member commits an Add for: the KeyPackage is
//! validated (section 10.1) and the commit either succeeds or is refused; no panic.
#![no_main]

mod common;

use std::sync::OnceLock;

use concord_reference::codec::Codec;
use concord_reference::group::CommitOptions;
use concord_reference::messages::{Add, KeyPackage, Proposal};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<common::Fixture> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(common::fixture);
    if let Ok(key_package) = KeyPackage::from_bytes(data) {
        let mut alice = fixture.alice.clone();
        let options = CommitOptions {
            by_value: vec![Proposal::Add(Add { key_package })],
            ..CommitOptions::default()
        };
        let _ = alice.commit(&options, &mut common::rng(1));
    }
});
