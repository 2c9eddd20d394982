//! `concord serve-provider`: a reference MIMI provider ([`ProviderService`], sans-IO) served
//! over HTTPS with mutual TLS.
//!
//! ```text
//!  peer ──TLS (client cert verified by the test CA)──> accept ──> peer = cert's domain
//!        ──HTTP/1.1 request (body ≤ limit, deadline)──> ProviderService::handle ──> answer
//!  ProviderService::take_outbound ──> outbound task ──HTTPS with our own cert──> peer provider
//!                                                   └─> ProviderService::outbound_done(status)
//! ```
//!
//! Shutdown (SIGINT or SIGTERM, or [`RunningServer::shutdown`]): stop accepting, let every
//! connection finish the request it is serving, then return. A panic in a handler (the
//! `panic-on-malformed` fault) is not caught: `concord serve-provider` installs a panic hook
//! that ends the process, so a client sees the server die as it would a real one.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use concord_reference::mimi::service::{
    Outbound, ProviderService, Request, Response, Role, ServiceFaults,
};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::https::{self, BaseUrl};
use super::resolve::Resolver;
use super::tls;

/// Largest request body accepted (bytes); a larger one gets 413.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// Deadline for reading a request and answering it; past it the client gets 408.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline of one outbound call to a peer provider.
const OUTBOUND_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the outbound task looks for due retries when nothing new happened.
const OUTBOUND_TICK: Duration = Duration::from_millis(100);
/// How long shutdown waits for connections to finish their request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// The well-known path of the directory document.
pub const DIRECTORY_PATH: &str = "/.well-known/mimi-protocol-directory";

/// Everything a provider server needs.
#[derive(Debug)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub domain: String,
    pub role: Role,
    pub tls_dir: PathBuf,
    pub users: Vec<String>,
    /// `--resolve DOMAIN=URL` flags.
    pub resolve: Vec<String>,
    pub faults: ServiceFaults,
    pub seed: u64,
    pub body_limit: usize,
    pub request_timeout: Duration,
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Milliseconds since the Unix epoch: the clock handed to the sans-IO service.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

struct Shared {
    service: Mutex<ProviderService>,
    outbound_ready: Notify,
    body_limit: usize,
    request_timeout: Duration,
    base_url: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The address it listens on (the port is real when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and returns when they have.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.accept.await;
    }
}

/// Builds the service and the TLS configurations, binds, and starts serving on the current
/// runtime.
pub async fn start(options: ServerOptions) -> Result<RunningServer, ServerError> {
    let server_tls = tls::server_config(&options.tls_dir, &options.domain)?;
    let client_tls = tls::client_config(&options.tls_dir, Some(&options.domain))?;
    let resolver =
        Resolver::new(&options.resolve, Some(&options.tls_dir)).map_err(ServerError::Usage)?;
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| ServerError::Listen(options.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::Listen(options.listen, e))?;
    let users: Vec<&str> = options.users.iter().map(String::as_str).collect();
    let service = ProviderService::new(
        &options.domain,
        options.role,
        &users,
        options.seed,
        options.faults,
    );
    let shared = Arc::new(Shared {
        service: Mutex::new(service),
        outbound_ready: Notify::new(),
        body_limit: options.body_limit,
        request_timeout: options.request_timeout,
        base_url: format!("https://{addr}"),
    });
    let (shutdown, shutdown_rx) = watch::channel(false);
    tokio::spawn(outbound_loop(
        shared.clone(),
        client_tls,
        resolver,
        shutdown_rx.clone(),
    ));
    let accept = tokio::spawn(accept_loop(
        listener,
        TlsAcceptor::from(server_tls),
        shared,
        shutdown_rx,
    ));
    Ok(RunningServer {
        addr,
        shutdown,
        accept,
    })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                connections.spawn(connection(tcp, acceptor.clone(), shared.clone(), shutdown.clone()));
            }
        }
    }
    drop(listener);
    // In-flight requests finish; each connection closes after its current request.
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
        return;
    };
    let peer = tls::peer_domain(tls.get_ref().1.peer_certificates());
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        let peer = peer.clone();
        async move { Ok::<_, Infallible>(serve(&shared, peer, request).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(DEFAULT_REQUEST_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service);
    tokio::pin!(conn);
    if *shutdown.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = shutdown.changed() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

fn text(status: u16, reason: &str) -> Response {
    Response {
        status,
        content_type: "text/plain; charset=utf-8".to_string(),
        body: reason.as_bytes().to_vec(),
    }
}

async fn serve(
    shared: &Shared,
    peer: Option<String>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let answer =
        match tokio::time::timeout(shared.request_timeout, answer(shared, peer, request)).await {
            Ok(answer) => answer,
            Err(_) => text(408, "request not received and answered within the deadline"),
        };
    let mut builder = hyper::Response::builder().status(answer.status);
    if !answer.content_type.is_empty() {
        builder = builder.header(hyper::header::CONTENT_TYPE, answer.content_type);
    }
    builder
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| {
            let mut fallback = hyper::Response::new(Full::new(Bytes::from_static(
                b"the service answered a status HTTP cannot carry",
            )));
            *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}

async fn answer(
    shared: &Shared,
    peer: Option<String>,
    request: hyper::Request<Incoming>,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, shared.body_limit).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return text(
                    413,
                    &format!("body longer than {} bytes", shared.body_limit),
                );
            }
            return text(400, &format!("cannot read the body: {e}"));
        }
    };
    let path = parts.uri.path().to_string();
    let mut service = match shared.service.lock() {
        Ok(service) => service,
        Err(_) => return text(500, "provider state lost: a handler panicked"),
    };
    if path == DIRECTORY_PATH && parts.method == hyper::Method::GET {
        return Response {
            status: 200,
            content_type: "application/json".to_string(),
            body: service.directory(&shared.base_url),
        };
    }
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let request = Request {
        method: parts.method.as_str().to_string(),
        path,
        peer,
        headers,
        body,
    };
    // Not caught: with the panic fault on, a panic here must bring the server down.
    let response = service.handle(&request, now_ms());
    drop(service);
    shared.outbound_ready.notify_one();
    response
}

async fn outbound_loop(
    shared: Arc<Shared>,
    client_tls: Arc<rustls::ClientConfig>,
    resolver: Resolver,
    mut shutdown: watch::Receiver<bool>,
) {
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Option<u16>)>();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = shared.outbound_ready.notified() => {}
            _ = tokio::time::sleep(OUTBOUND_TICK) => {}
            Some((id, status)) = done_rx.recv() => {
                if let Ok(mut service) = shared.service.lock() {
                    service.outbound_done(id, status, now_ms());
                }
            }
        }
        let batch: Vec<Outbound> = match shared.service.lock() {
            Ok(mut service) => service.take_outbound(),
            Err(_) => return,
        };
        for outbound in batch {
            let done = done_tx.clone();
            let config = client_tls.clone();
            let target = resolver.lookup(&outbound.to_domain);
            tokio::spawn(async move {
                let status = match target {
                    Ok(base) => send(config, &base, &outbound).await,
                    Err(_) => None,
                };
                let _ = done.send((outbound.id, status));
            });
        }
    }
}

async fn send(
    config: Arc<rustls::ClientConfig>,
    base: &BaseUrl,
    outbound: &Outbound,
) -> Option<u16> {
    let request = &outbound.request;
    https::call(
        config,
        base,
        &request.method,
        &request.path,
        &request.headers,
        request.body.clone(),
        OUTBOUND_TIMEOUT,
    )
    .await
    .ok()
    .map(|response| response.status)
}

/// `--fault NAME` names (the kebab-case of [`ServiceFaults`]'s fields), in field order.
pub const FAULT_NAMES: &[&str] = &[
    "accept-ghost-member",
    "accept-two-commits-per-epoch",
    "panic-on-malformed",
    "reuse-key-material",
    "no-fanout-retry",
    "accept-stale-application",
    "skip-authentication",
];

/// The faults named by `--fault` flags.
pub fn faults_from_names(names: &[String]) -> Result<ServiceFaults, String> {
    let mut faults = ServiceFaults::default();
    for name in names {
        match name.as_str() {
            "accept-ghost-member" => faults.accept_ghost_member = true,
            "accept-two-commits-per-epoch" => faults.accept_two_commits_per_epoch = true,
            "panic-on-malformed" => faults.panic_on_malformed = true,
            "reuse-key-material" => faults.reuse_key_material = true,
            "no-fanout-retry" => faults.no_fanout_retry = true,
            "accept-stale-application" => faults.accept_stale_application = true,
            "skip-authentication" => faults.skip_authentication = true,
            other => {
                return Err(format!(
                    "--fault `{other}`: unknown; expected one of {}",
                    FAULT_NAMES.join(", ")
                ));
            }
        }
    }
    Ok(faults)
}

/// Parses `--role`.
pub fn parse_role(role: &str) -> Result<Role, String> {
    match role {
        "hub" => Ok(Role::Hub),
        "follower" => Ok(Role::Follower),
        other => Err(format!("--role `{other}`: expected hub or follower")),
    }
}

/// `concord serve-provider`: serve until SIGINT or SIGTERM. `ready` gets the bound address.
pub fn serve_until_signal(
    options: ServerOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    runtime.block_on(async move {
        let server = start(options).await?;
        ready(server.addr());
        wait_for_signal().await;
        server.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
