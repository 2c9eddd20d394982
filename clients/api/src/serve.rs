//! Any client under test as an MLSClient gRPC server (`concord serve-client`).
//!
//! The in-process client sits behind a mutex: the working group's runner and Concord's
//! call one RPC at a time per client, and MLS state changes must be serialized anyway.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tonic::{Request, Response, Status};

use crate::proto::mls_client_server::{MlsClient, MlsClientServer};
use crate::proto::*;
use crate::{ClientError, ClientUnderTest, for_each_mls_client_method};

/// A client under test, shareable across the server's tasks.
pub struct Served {
    inner: Arc<Mutex<Box<dyn ClientUnderTest>>>,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served").finish_non_exhaustive()
    }
}

impl Served {
    pub fn new(client: Box<dyn ClientUnderTest>) -> Self {
        Served {
            inner: Arc::new(Mutex::new(client)),
        }
    }
}

/// What a client's error becomes on the wire.
fn to_status(error: ClientError) -> Status {
    match error {
        ClientError::Unsupported { method } => {
            Status::unimplemented(format!("{method} is not supported"))
        }
        ClientError::Refused { message, .. } => Status::invalid_argument(message),
        other => Status::internal(other.to_string()),
    }
}

macro_rules! served_methods {
    ($(($method:ident, $rpc:ident, $request:ident, $response:ident)),* $(,)?) => {
        #[tonic::async_trait]
        impl MlsClient for Served {
            $(
                async fn $method(&self, request: Request<$request>) -> Result<Response<$response>, Status> {
                    let mut client = self
                        .inner
                        .lock()
                        .map_err(|_| Status::internal("an earlier call panicked; the client state is lost"))?;
                    client.$method(request.into_inner()).map(Response::new).map_err(to_status)
                }
            )*
        }
    };
}
for_each_mls_client_method!(served_methods);

/// Serves `client` on `listen` until `shutdown` completes.
pub async fn serve(
    client: Box<dyn ClientUnderTest>,
    listen: SocketAddr,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(MlsClientServer::new(Served::new(client)))
        .serve_with_shutdown(listen, shutdown)
        .await
}

/// Serves on an already bound listener (tests bind port 0 and read the address).
pub async fn serve_on(
    client: Box<dyn ClientUnderTest>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(MlsClientServer::new(Served::new(client)))
        .serve_with_incoming_shutdown(
            // No Nagle delay: one small RPC at a time would wait on delayed ACKs.
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
}

/// Why `concord serve-client` stopped other than by a signal.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Server(#[from] tonic::transport::Error),
}

/// Serves `client` on `listen` until SIGINT or SIGTERM, then shuts down gracefully
/// (calls in flight finish). `on_ready` gets the bound address (port 0 picks one).
pub fn serve_until_signal(
    client: Box<dyn ClientUnderTest>,
    listen: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Runtime::new().map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServeError::Bind {
                address: listen,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| ServeError::Bind {
            address: listen,
            source,
        })?;
        on_ready(bound);
        serve_on(client, listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
