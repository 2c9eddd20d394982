//! `concord serve-client --fault`: an unknown fault is bad usage, and `panic-after-calls`
//! takes the whole process down, so later calls find nothing listening.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use concord_harness::client::proto::{NameRequest, SupportedCiphersuitesRequest};
use concord_harness::client::{ClientError, ClientUnderTest, grpc::GrpcClient};

#[test]
fn an_unknown_fault_exits_2_naming_the_valid_ones() {
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["serve-client", "--listen", "127.0.0.1:0", "--fault", "sulk"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("sulk") && stderr.contains("poison-after-calls=N"),
        "{stderr}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["serve-client", "--listen", "127.0.0.1:0"])
        .args(["--client", "mls-rs", "--fault", "empty-export"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "faults are the reference's");
}

#[test]
fn panic_after_calls_ends_the_process() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["serve-client", "--listen", "127.0.0.1:0"])
        .args(["--fault", "panic-after-calls=2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    let mut client =
        GrpcClient::new(&format!("grpc://{address}"), Duration::from_secs(10)).unwrap();
    assert_eq!(
        client.name(NameRequest {}).unwrap().name,
        "concord-reference+panic-after-calls=2"
    );
    client
        .supported_ciphersuites(SupportedCiphersuitesRequest {})
        .unwrap();
    // The third call crashes the server: no answer to it, and the process is gone.
    assert!(client.name(NameRequest {}).is_err());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(101));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(rest.contains("panicked"), "{rest}");
    let mut client =
        GrpcClient::new(&format!("grpc://{address}"), Duration::from_secs(10)).unwrap();
    assert!(matches!(
        client.name(NameRequest {}),
        Err(ClientError::Unreachable { .. })
    ));
}
