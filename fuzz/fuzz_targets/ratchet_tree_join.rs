//! Any byte string as the out-of-band ratchet tree of a real Welcome: the tree is decoded
//! and validated (sections 7.9, 12.4.3.1) before use, never trusted; no panic.
#![no_main]

mod common;

use std::sync::OnceLock;

use concord_reference::codec::Codec;
use concord_reference::group::{Group, GroupConfig, PskStore};
use concord_reference::messages::RatchetTree;
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<common::Fixture> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(common::fixture);
    if let Ok(tree) = RatchetTree::from_bytes(data) {
        let _ = Group::join(
            &fixture.welcome,
            &fixture.key_package,
            &fixture.secrets,
            Some(&tree),
            &PskStore::default(),
            GroupConfig::default(),
        );
    }
});
