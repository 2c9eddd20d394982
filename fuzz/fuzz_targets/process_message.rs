//! Any byte string delivered to a live group member (`process_message_bytes`): no panic,
//! and a refused message leaves the member's epoch and authenticator as they were.
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<common::Fixture> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(common::fixture);
    let mut bob = fixture.bob.clone();
    let before = (bob.epoch(), bob.epoch_authenticator().to_vec());
    if bob.process_message_bytes(data).is_err() {
        assert_eq!(before, (bob.epoch(), bob.epoch_authenticator().to_vec()));
    }
});
