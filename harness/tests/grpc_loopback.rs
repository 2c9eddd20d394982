//! The MLSClient gRPC path end to end on loopback: a served client answers, an
//! unimplemented RPC is "unsupported", and a server that goes away is a verdict on the
//! client (unreachable), not a failure of the caller.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::time::Duration;

use concord_harness::client::proto::*;
use concord_harness::client::{ClientError, ClientUnderTest, grpc::GrpcClient, serve};

struct Named;

impl ClientUnderTest for Named {
    fn name(&mut self, _: NameRequest) -> Result<NameResponse, ClientError> {
        Ok(NameResponse {
            name: "named".into(),
        })
    }
    fn supported_ciphersuites(
        &mut self,
        _: SupportedCiphersuitesRequest,
    ) -> Result<SupportedCiphersuitesResponse, ClientError> {
        Ok(SupportedCiphersuitesResponse {
            ciphersuites: vec![1, 3],
        })
    }
    fn state_auth(&mut self, request: StateAuthRequest) -> Result<StateAuthResponse, ClientError> {
        Err(ClientError::Refused {
            method: "StateAuth",
            code: "InvalidArgument".into(),
            message: format!("no state {}", request.state_id),
        })
    }
}

/// Serves `Named` on a loopback port in its own thread. Sending on the returned channel
/// kills the server abruptly, connections and all, as a crashed client process would.
fn start() -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address_tx.send(listener.local_addr().unwrap()).unwrap();
            let server = serve::serve_on(Box::new(Named), listener, std::future::pending());
            tokio::select! {
                result = server => result.unwrap(),
                _ = stop_rx => {}
            }
        });
        runtime.shutdown_background();
    });
    let address = address_rx.recv().unwrap();
    (format!("grpc://{address}"), stop_tx, handle)
}

#[test]
fn served_client_answers_and_reports_unsupported_and_refusals() {
    let (spec, stop, handle) = start();
    let mut client = GrpcClient::new(&spec, Duration::from_secs(5)).unwrap();
    assert_eq!(client.name(NameRequest {}).unwrap().name, "named");
    assert_eq!(
        client
            .supported_ciphersuites(SupportedCiphersuitesRequest {})
            .unwrap()
            .ciphersuites,
        vec![1, 3]
    );
    assert_eq!(
        client.commit(CommitRequest::default()),
        Err(ClientError::Unsupported { method: "Commit" })
    );
    let refused = client
        .state_auth(StateAuthRequest { state_id: 9 })
        .unwrap_err();
    assert!(
        matches!(&refused, ClientError::Refused { message, .. } if message == "no state 9"),
        "{refused:?}"
    );
    assert!(!refused.is_client_fault());

    // The server goes away mid-run: the next call is a verdict on the client.
    stop.send(()).unwrap();
    handle.join().unwrap();
    let gone = client.name(NameRequest {}).unwrap_err();
    assert!(gone.is_client_fault(), "{gone:?}");
}

#[test]
fn nothing_listening_is_unreachable_not_a_crash() {
    // Bind then drop, so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut client =
        GrpcClient::new(&format!("grpc://127.0.0.1:{port}"), Duration::from_secs(2)).unwrap();
    let error = client.name(NameRequest {}).unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Unreachable { .. } | ClientError::Timeout { .. }
        ),
        "{error:?}"
    );
}

#[test]
fn bad_specs_are_typed_errors() {
    assert!(GrpcClient::new("http://127.0.0.1:1", Duration::from_secs(1)).is_err());
    assert!(GrpcClient::new("grpc://not a host", Duration::from_secs(1)).is_err());
}
