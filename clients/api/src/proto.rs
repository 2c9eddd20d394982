//! The generated MLSClient messages, client and server (proto/mls_client.proto).
#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    missing_debug_implementations
)]

tonic::include_proto!("mls_client");
