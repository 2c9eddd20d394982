//! Generates the MLSClient messages (prost) and, with the `grpc` feature, its gRPC client
//! and server (tonic) from proto/mls_client.proto. The proto is parsed in pure Rust
//! (protox), so no `protoc` is needed to build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/mls_client.proto");
    let descriptors = protox::compile(["proto/mls_client.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors.clone())?;
    if std::env::var_os("CARGO_FEATURE_GRPC").is_some() {
        let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("grpc");
        std::fs::create_dir_all(&out)?;
        tonic_prost_build::configure()
            .build_client(true)
            .build_server(true)
            .extern_path(".mls_client", "crate::proto")
            .out_dir(out)
            .compile_fds(descriptors)?;
    }
    Ok(())
}
