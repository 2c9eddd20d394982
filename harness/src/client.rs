//! Clients under test: the interface and transport live in `concord-client`; this module
//! adds the reference as an in-process client, and faulty variants of it for test doubles
//! of misbehaving servers.

pub use concord_client::*;

pub mod faults;
pub mod reference;
