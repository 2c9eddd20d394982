//! Clients under test: the interface and transport live in `concord-client`; this module
//! adds the reference as an in-process client.

pub use concord_client::*;

pub mod reference;
