//! Any byte string as the Welcome a holder of a real KeyPackage joins from: no panic.
#![no_main]

mod common;

use std::sync::OnceLock;

use concord_reference::codec::Codec;
use concord_reference::group::{Group, GroupConfig, PskStore};
use concord_reference::messages::Welcome;
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<common::Fixture> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(common::fixture);
    if let Ok(welcome) = Welcome::from_bytes(data) {
        let _ = Group::join(
            &welcome,
            &fixture.key_package,
            &fixture.secrets,
            None,
            &PskStore::default(),
            GroupConfig::default(),
        );
    }
});
