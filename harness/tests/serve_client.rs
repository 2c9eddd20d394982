//! `concord serve-client`: the reference answers MLSClient calls on loopback and shuts
//! down cleanly on SIGTERM.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use concord_harness::client::proto::{NameRequest, SupportedCiphersuitesRequest};
use concord_harness::client::{ClientUnderTest, grpc::GrpcClient};

#[cfg(unix)]
#[test]
fn serves_the_reference_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["serve-client", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    let mut client =
        GrpcClient::new(&format!("grpc://{address}"), Duration::from_secs(10)).unwrap();
    assert_eq!(
        client.name(NameRequest {}).unwrap().name,
        "concord-reference"
    );
    assert_eq!(
        client
            .supported_ciphersuites(SupportedCiphersuitesRequest {})
            .unwrap()
            .ciphersuites,
        vec![1, 2, 3, 4, 5, 6, 7]
    );
    drop(client);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "graceful shutdown exits 0");
}
