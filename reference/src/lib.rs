//! Concord's reference implementation of RFC 9420 (MLS).
//!
//! ```text
//!  bytes ─ codec ─> messages ─> framing (PublicMessage / PrivateMessage)
//!                      │              │
//!  crypto (suites 1-7) ┴─ key_schedule, secret_tree, transcript, psk, welcome
//!                                     │
//!  ratchet_tree, treekem ── join (Welcome) ── commit (receive: 12.2, 12.3, 12.4.2)
//!                                                 │
//!                      group: the engine (send and receive, every operation)
//! ```
//!
//! Sans-IO and deterministic: no clock, no OS randomness, no async runtime. Time and
//! randomness are parameters; the harness owns everything that talks to the world.
//!
//! Features, both off by default: `adversary` compiles in what only a test or an attacker
//! wants (a faulty member's forging hooks in `group`, the misbehaviours of `mimi`'s hub and
//! providers), which Concord's harness turns on; `injected-bug` plants the bug the
//! property tests must find.
#![forbid(unsafe_code)]

pub mod codec;
pub mod commit;
pub mod content;
pub mod crypto;
pub mod framing;
pub mod group;
pub mod join;
pub mod key_schedule;
pub mod messages;
pub mod mimi;
mod parallel;
pub mod psk;
pub mod ratchet_tree;
pub mod requirement;
pub mod secret_tree;
pub mod transcript;
pub mod tree_math;
pub mod treekem;
pub mod welcome;

/// Lower-case hex, for diagnostics.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
