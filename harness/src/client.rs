//! Clients under test: the interface and transport live in `concord-client`, the reference
//! as an in-process client in `concord-reference-client`; this module adds faulty variants
//! of the reference, test doubles of misbehaving servers.

pub use concord_client::*;

pub mod faults;
/// The reference as an in-process client (crate `concord-reference-client`).
pub use concord_reference_client as reference;
