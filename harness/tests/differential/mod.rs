//! Differential decoding: the reference's, OpenMLS's and mls-rs's decoders on the same bytes.

pub mod decoders;
pub mod mutations;
pub mod seeds;
pub mod triage;
