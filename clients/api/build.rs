//! Generates the MLSClient gRPC client and server from proto/mls_client.proto.
//! The proto is parsed in pure Rust (protox), so no `protoc` is needed to build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/mls_client.proto");
    let descriptors = protox::compile(["proto/mls_client.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
