//! Any client under test as an MLSClient gRPC server (`concord serve-client`).
//!
//! ```text
//! connection 1 ──┐                    ┌── instance 1 (its own handles and groups)
//! connection 2 ──┼── Served ── mutex ─┼── instance 2
//!      ...       ┘   (per connection) └── ...
//! ```
//!
//! A served client is either one shared instance (every caller sees the same handles), or
//! one instance per connection, made by a factory on the connection's first call. The
//! second lets a runner drive several cases at once over several connections, each on its
//! own instance, while each instance still sees one call at a time; a runner that keeps one
//! connection (the working group's does) sees one instance, as before. Calls run on the
//! blocking pool, so a slow call does not stall the server's I/O.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tonic::{Request, Response, Status};

use crate::proto::mls_client_server::{MlsClient, MlsClientServer};
use crate::proto::*;
use crate::{ClientError, ClientUnderTest, for_each_mls_client_method};

type Instance = Arc<Mutex<Box<dyn ClientUnderTest>>>;

/// Makes the instance for the n-th connection (counting from 0).
pub type ClientFactory = Box<dyn Fn(u64) -> Result<Box<dyn ClientUnderTest>, String> + Send + Sync>;

enum Instances {
    Shared(Instance),
    PerConnection {
        factory: ClientFactory,
        by_peer: Mutex<HashMap<Option<SocketAddr>, Instance>>,
    },
}

/// A client under test, shareable across the server's tasks.
pub struct Served {
    instances: Arc<Instances>,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served").finish_non_exhaustive()
    }
}

impl Served {
    /// One instance for every caller.
    pub fn new(client: Box<dyn ClientUnderTest>) -> Self {
        Served {
            instances: Arc::new(Instances::Shared(Arc::new(Mutex::new(client)))),
        }
    }

    /// One instance per connection, made by `factory`.
    pub fn per_connection(factory: ClientFactory) -> Self {
        Served {
            instances: Arc::new(Instances::PerConnection {
                factory,
                by_peer: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn instance(&self, peer: Option<SocketAddr>) -> Result<Instance, Status> {
        match &*self.instances {
            Instances::Shared(instance) => Ok(instance.clone()),
            Instances::PerConnection { factory, by_peer } => {
                let mut by_peer = by_peer
                    .lock()
                    .map_err(|_| Status::internal("the connection table is poisoned"))?;
                if let Some(instance) = by_peer.get(&peer) {
                    return Ok(instance.clone());
                }
                let client = factory(by_peer.len() as u64).map_err(Status::internal)?;
                let instance = Arc::new(Mutex::new(client));
                by_peer.insert(peer, instance.clone());
                Ok(instance)
            }
        }
    }
}

/// What a client's error becomes on the wire.
fn to_status(error: ClientError) -> Status {
    match error {
        ClientError::Unsupported { method } => {
            Status::unimplemented(format!("{method} is not supported"))
        }
        // A refusal keeps its code where it names one gRPC has (INTERNAL stays INTERNAL).
        ClientError::Refused { code, message, .. } if code == "Internal" => {
            Status::internal(message)
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
                    let instance = self.instance(request.remote_addr())?;
                    let request = request.into_inner();
                    tokio::task::spawn_blocking(move || {
                        let mut client = instance.lock().map_err(|_| {
                            Status::internal("an earlier call panicked; the client state is lost")
                        })?;
                        client.$method(request).map(Response::new).map_err(to_status)
                    })
                    .await
                    .map_err(|e| Status::internal(format!("the call did not finish: {e}")))?
                }
            )*
        }
    };
}
for_each_mls_client_method!(served_methods);

/// Serves one shared instance of `client` on an already bound listener (tests bind port 0
/// and read the address).
pub async fn serve_on(
    client: Box<dyn ClientUnderTest>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    serve_service_on(Served::new(client), listener, shutdown).await
}

/// Serves `served` on an already bound listener until `shutdown` completes.
pub async fn serve_service_on(
    served: Served,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(MlsClientServer::new(served))
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

/// Serves `served` on `listen` until SIGINT or SIGTERM, then shuts down gracefully
/// (calls in flight finish). `on_ready` gets the bound address (port 0 picks one).
pub fn serve_until_signal(
    served: Served,
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
        serve_service_on(served, listener, shutdown_signal()).await?;
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
