//! The interop runner: scripts in the MLS working group's format, run over clients under test.
//!
//! ```text
//! config file ──config::load──> Script { steps } ──runner──> clients (dyn ClientUnderTest)
//!                                                    └──> verdict per case, transcript
//! ```

pub mod config;
mod config_steps;
