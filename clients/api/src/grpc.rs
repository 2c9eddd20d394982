//! A client under test reached over the MLSClient gRPC service (`--client grpc://HOST:PORT`).
//!
//! Every call has a timeout. The connection is made lazily, so a client that is down or
//! dies mid-run turns into a per-call verdict ([`ClientError::Unreachable`],
//! [`ClientError::Crashed`], [`ClientError::Timeout`]), not a failure of Concord; the runner
//! carries on with the other cases.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::proto::mls_client_client::MlsClientClient;
use crate::proto::*;
use crate::{ClientError, ClientUnderTest, for_each_mls_client_method};

/// The default per-call timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a `grpc://` client specification cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GrpcSpecError {
    #[error("`{0}` is not a grpc://HOST:PORT address")]
    NotGrpc(String),
    #[error("`{spec}` is not a valid address: {detail}")]
    InvalidAddress { spec: String, detail: String },
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(String),
}

/// An MLSClient server somewhere, driven call by call.
#[derive(Debug)]
pub struct GrpcClient {
    address: String,
    timeout: Duration,
    runtime: tokio::runtime::Runtime,
    client: MlsClientClient<Channel>,
}

impl GrpcClient {
    /// Connects (lazily) to `spec`, which is `grpc://HOST:PORT`.
    pub fn new(spec: &str, timeout: Duration) -> Result<Self, GrpcSpecError> {
        let rest = spec
            .strip_prefix("grpc://")
            .ok_or_else(|| GrpcSpecError::NotGrpc(spec.to_string()))?;
        let endpoint = Endpoint::from_shared(format!("http://{rest}"))
            .map_err(|e| GrpcSpecError::InvalidAddress {
                spec: spec.to_string(),
                detail: e.to_string(),
            })?
            .connect_timeout(timeout)
            // Calls are small and strictly one after another: no Nagle delay.
            .tcp_nodelay(true);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| GrpcSpecError::Runtime(e.to_string()))?;
        let channel = {
            let _guard = runtime.enter();
            endpoint.connect_lazy()
        };
        Ok(GrpcClient {
            address: spec.to_string(),
            timeout,
            runtime,
            client: MlsClientClient::new(channel),
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }
}

/// Maps a gRPC status to what it says about the client.
///
/// A status the server sent (no transport error behind it) is its answer: UNIMPLEMENTED is
/// "unsupported", anything else a refusal, INTERNAL and UNKNOWN included (servers answer
/// their exceptions so). A status tonic made from a transport error says how the call
/// failed: no connection (unreachable), a connection reset or closed mid-call (crashed),
/// a response that does not decode (malformed).
pub fn classify(method: &'static str, status: Status) -> ClientError {
    let message = status.message().to_string();
    let transport = std::error::Error::source(&status).map(|source| {
        let mut chain = source.to_string();
        let mut next = source.source();
        while let Some(cause) = next {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            next = cause.source();
        }
        chain
    });
    match (status.code(), transport) {
        (Code::Unimplemented, None) => ClientError::Unsupported { method },
        (Code::DeadlineExceeded, _) => ClientError::Timeout {
            method,
            after: Duration::ZERO,
        },
        (_, Some(cause)) => {
            let detail = if message.is_empty() || cause.contains(&message) {
                cause
            } else {
                format!("{message}: {cause}")
            };
            if is_connect_failure(&detail) {
                ClientError::Unreachable { method, detail }
            } else {
                ClientError::Crashed { method, detail }
            }
        }
        (Code::Internal, None) if message.starts_with("failed to decode") => {
            ClientError::Malformed {
                method,
                detail: message,
            }
        }
        (Code::DataLoss, None) => ClientError::Malformed {
            method,
            detail: message,
        },
        (Code::Unavailable, None) if is_connect_failure(&message) => ClientError::Unreachable {
            method,
            detail: message,
        },
        (Code::Unavailable | Code::Cancelled, None)
            if message.contains("h2 protocol error")
                || message.contains("connection")
                || message.contains("broken pipe") =>
        {
            ClientError::Crashed {
                method,
                detail: message,
            }
        }
        (code, None) => ClientError::Refused {
            method,
            code: format!("{code:?}"),
            message,
        },
    }
}

/// Whether a transport error says no connection could be made at all.
fn is_connect_failure(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    text.contains("connection refused")
        || text.contains("tcp connect error")
        || text.contains("error trying to connect")
        || text.contains("dns error")
}

macro_rules! grpc_methods {
    ($(($method:ident, $rpc:ident, $request:ident, $response:ident)),* $(,)?) => {
        impl ClientUnderTest for GrpcClient {
            $(
                fn $method(&mut self, request: $request) -> Result<$response, ClientError> {
                    let method = stringify!($rpc);
                    let timeout = self.timeout;
                    let client = &mut self.client;
                    self.runtime.block_on(async move {
                        match tokio::time::timeout(timeout, client.$method(request)).await {
                            Err(_) => Err(ClientError::Timeout { method, after: timeout }),
                            Ok(Err(status)) => Err(classify(method, status)),
                            Ok(Ok(response)) => Ok(response.into_inner()),
                        }
                    })
                }
            )*
        }
    };
}
for_each_mls_client_method!(grpc_methods);
