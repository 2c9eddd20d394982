//! The interop runner: scripts in the MLS working group's format, run over clients under test.
//!
//! ```text
//! config file ──config::load──> Script { steps }
//!                                   │
//! session::run ── cases: script × assignment × suite × handshake mode
//!    │                 └─ runner::run_case ── actions, subgroup (RPCs via worker threads)
//!    │                                  ├── checks: strict decoding, agreement
//!    │                                  ├── attribution: every key package and Welcome
//!    │                                  │   validated by the reference when emitted
//!    │                                  ├── findings: stubs reported once per client
//!    │                                  ├── transcript.jsonl (one line per RPC)
//!    │                                  └── passive: what each joiner was handed
//!    ├── matrix.md / matrix.json, closing line, exit code
//!    └── export (--export-vectors): passive-client vectors and their index.json
//! ```

mod actions;
pub mod attribution;
mod checks;
pub mod config;
mod config_steps;
pub(crate) mod export;
pub mod findings;
pub mod matrix;
mod passive;
mod plan;
pub mod process;
mod proposals;
pub mod requirements;
pub mod runner;
pub mod session;
mod subgroup;
pub mod transcript;
pub mod worker;

pub use checks::{EXPORT_CONTEXT, EXPORT_LABEL, EXPORT_LENGTH};
