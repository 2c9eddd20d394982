//! The generated MLSClient messages and, with the `grpc` feature, its client and server
//! (proto/mls_client.proto).
#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    missing_debug_implementations
)]

include!(concat!(env!("OUT_DIR"), "/mls_client.rs"));

/// The gRPC client and server (tonic), over the messages above.
#[cfg(feature = "grpc")]
mod service {
    include!(concat!(env!("OUT_DIR"), "/grpc/mls_client.rs"));
}
#[cfg(feature = "grpc")]
pub use service::*;
