//! Concord's harness: the `concord` command and what drives clients under test over the
//! network (the interop runner, live mode, the MIMI provider server and its checks), on
//! top of the crates that hold the parts:
//!
//! ```text
//!                          concord-harness (this crate: the command, orchestration)
//!                ┌──────────────┬───────┴──────┬───────────────┬──────────────┐
//!         concord-vectors   concord-sim   concord-client   concord-reports  adapters
//!         (official vector  (simulator,   (ClientUnderTest, (reports, exit   (openmls,
//!          checker)          no sockets)   gRPC behind       codes)           mls-rs)
//!                │              │          `grpc`)
//!                └──────┬───────┘
//!               concord-reference (RFC 9420, MIMI; `adversary` feature for test-only
//!               misbehaviour), concord-spec (the requirement catalog)
//! ```
//!
//! Dependencies point down: no crate depends on this one. Exit codes follow the CI
//! contract (`concord_reports::exit`): 0 everything as expected, 1 an unexpected result,
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

/// Process exit codes of the `concord` command (crate `concord-reports`).
pub use concord_reports::exit;
