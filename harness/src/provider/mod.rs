//! MIMI over HTTPS: the reference provider as a real server, and any provider server under test.
//!
//! ```text
//!  concord certs ──> TLS folder: ca.pem, DOMAIN.pem, DOMAIN.key.pem (loopback only), peers.toml
//!  concord serve-provider ──> server: hyper + rustls (mutual TLS) ──> ProviderService (reference)
//!  concord provider-test  ──> checks: reference clients + Concord's follower servers (f1, f2)
//!                              ──HTTPS──> provider under test ──> verdicts, reports, exit code
//! ```
//!
//! Wire formats and the provider logic live in the reference (`concord_reference::mimi::wire`,
//! `concord_reference::mimi::service`, sans-IO); this module adds only I/O: TLS, HTTP, clocks,
//! peer resolution.

pub mod assets;
pub mod certs;
pub mod cli;
pub mod deadline;
pub mod external_senders;
pub mod franking;
pub mod group_info;
pub mod https;
pub mod load;
pub mod mls;
pub mod ohttp;
pub mod proposals;
pub mod proxy;
pub mod ptest;
pub mod queries;
pub mod reference;
pub mod refusals;
pub mod relay;
pub mod resolve;
pub mod rooms;
pub mod server;
pub mod tls;
pub mod users;

/// Content type of MIMI protocol bodies.
pub const CONTENT_TYPE: &str = "application/mimi-protocol";
