//! Concord's harness: everything that drives or checks an implementation.
//!
//! ```text
//! concord (main.rs) ──> vectors::verify_directory ──> reference (concord-reference)
//!                                 │
//!                                 └──> Summary ──> per-file lines, JSON, exit code
//! ```
//!
//! Exit codes follow the CI contract: 0 everything as expected, 1 an unexpected result,
//! 2 bad usage or bad input files, 3 the system under test crashed, hung or was unreachable.
#![forbid(unsafe_code)]

pub mod adversary;
pub mod attest;
pub mod bench;
pub mod catalog;
pub mod client;
pub mod compare;
pub mod fallback;
pub mod generate;
pub use concord_vectors::input;
pub mod interop;
pub mod live;
pub mod property;
pub mod provider;
pub mod run;
pub mod sim;
pub mod vectors;

/// Process exit codes of the `concord` command.
pub mod exit {
    /// Everything as expected.
    pub const OK: u8 = 0;
    /// At least one unexpected result (a failed check).
    pub const UNEXPECTED: u8 = 1;
    /// Bad usage or bad input files.
    pub const BAD_INPUT: u8 = 2;
    /// The system under test crashed, hung or could not be reached.
    pub const SYSTEM_UNDER_TEST: u8 = 3;
}
