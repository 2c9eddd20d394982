//! `concord serve-provider`: a sans-IO MIMI provider ([`Service`]: the reference's
//! `ProviderService`) served
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

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::deadline::HeaderDeadline;
use super::https::{self, BaseUrl};
use super::resolve::Resolver;
use super::tls;

/// Outbound request ids and their results, shared with the sending task.
#[cfg(test)]
type DoneLog = Arc<Mutex<Vec<(u64, Option<u16>)>>>;

/// Largest request body accepted (bytes); a larger one gets 413.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// Deadline for reading a request and answering it; past it the client gets 408.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for a request's head (request line and headers), from its first byte; past it
/// the client gets 408 and the connection closes.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no request for this long is closed quietly.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// First and longest pause after a failed accept (out of file descriptors, say): the pending
/// connections wait in the backlog instead of the loop spinning on the same error.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// After a 413, what the client still sends of its body is read and dropped, up to this many
/// times the body limit (and at least [`DRAIN_MIN`] bytes), so that it reads the answer
/// instead of a reset connection.
const DRAIN_FACTOR: usize = 16;
const DRAIN_MIN: usize = 4 << 20;
/// Deadline of one outbound call to a peer provider.
const OUTBOUND_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the outbound task looks for due retries when nothing new happened.
const OUTBOUND_TICK: Duration = Duration::from_millis(100);
/// How long shutdown waits for connections to finish their request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Where an instrumented server serves its assets (`GET /assets/{name}`).
pub const ASSETS_PATH: &str = "/assets/";

/// The well-known path of the directory document.
pub const DIRECTORY_PATH: &str = "/.well-known/mimi-protocol-directory";

/// The HTTP exchange as the sans-IO provider sees it: the reference's types.
pub use concord_reference::mimi::proxy_download::Fetched;
pub use concord_reference::mimi::service::{
    Endpoint, Fetch, Handled, Outbound, Request, Response, percent_encode,
};

/// The sans-IO provider a server serves (the reference's `ProviderService`).
pub trait Service: Send + 'static {
    /// Answers one request; `now_ms` is milliseconds since the Unix epoch.
    fn handle(&mut self, request: &Request, now_ms: u64) -> Response;
    /// What the provider must send to other providers now.
    fn take_outbound(&mut self) -> Vec<Outbound>;
    /// How an outbound request ended: its HTTP status, or `None` when unreachable.
    fn outbound_done(&mut self, id: u64, status: Option<u16>, now_ms: u64);
    /// The directory document for a server reachable at `base_url`.
    fn directory(&self, base_url: &str) -> Vec<u8>;
    /// Answers one request, or names a request to another provider whose outcome
    /// [`Service::fetched`] turns into the answer (by default: always the answer).
    fn handle_deferred(&mut self, request: &Request, now_ms: u64) -> Handled {
        Handled::Answer(self.handle(request, now_ms))
    }
    /// The answer to the request that asked for fetch `token`, given its outcome.
    fn fetched(&mut self, token: u64, answer: Option<Fetched>, now_ms: u64) -> Response {
        let _ = (answer, now_ms);
        text(500, &format!("no request waits for fetch {token}"))
    }
}

/// Everything a provider server needs besides its service.
#[derive(Debug)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub domain: String,
    pub tls_dir: PathBuf,
    /// `--resolve DOMAIN=URL` flags.
    pub resolve: Vec<String>,
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// Test instrumentation (Concord's own followers in `concord provider-test`): a record of
    /// every request and an injected 503; `None` for `concord serve-provider`.
    pub instrument: Option<Arc<Instrument>>,
    /// A path prefix (e.g. `/mimi-peer`) the endpoints are served under too and that the
    /// directory names them with (Concord's followers in `concord provider-test`, so that
    /// a peer's use of the directory shows, MIMI-PROTOCOL-5.1-2); empty for none.
    pub path_prefix: String,
}

/// One request a server answered, as its instrumentation saw it.
#[derive(Debug, Clone)]
pub struct Observed {
    pub method: String,
    /// The path without the server's path prefix.
    pub path: String,
    /// The path as it was requested.
    pub requested_path: String,
    pub peer: Option<String>,
    /// The request's headers, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
    /// The body of the answer.
    pub answer: Vec<u8>,
    pub at_ms: u64,
}

/// What `concord provider-test` sees of its own followers, and the failures it injects.
#[derive(Debug, Default)]
pub struct Instrument {
    log: Mutex<Vec<Observed>>,
    /// `/v1/notify/...` requests still to be answered 503 before the service sees them.
    fail_notifies: std::sync::atomic::AtomicU32,
    /// Assets served at `GET /assets/{name}` (the asset server of the provider's domain),
    /// by name: content type and content.
    assets: Mutex<BTreeMap<String, (String, Vec<u8>)>>,
}

impl Instrument {
    /// Every request answered so far.
    pub fn log(&self) -> Vec<Observed> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Answers the next `n` notify requests 503 (Service Unavailable), unseen by the service.
    pub fn fail_next_notifies(&self, n: u32) {
        self.fail_notifies
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Serves `content` at `GET /assets/{name}`.
    pub fn put_asset(&self, name: &str, content_type: &str, content: Vec<u8>) {
        if let Ok(mut assets) = self.assets.lock() {
            assets.insert(name.to_string(), (content_type.to_string(), content));
        }
    }

    /// The asset at `path` (`/assets/{name}`), if one was put there.
    fn asset(&self, path: &str) -> Option<Response> {
        let name = path.strip_prefix(ASSETS_PATH)?;
        let (content_type, body) = self.assets.lock().ok()?.get(name)?.clone();
        Some(Response {
            status: 200,
            content_type,
            body,
        })
    }

    fn take_notify_failure(&self) -> bool {
        self.fail_notifies
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok()
    }

    fn record(&self, observed: Observed) {
        if let Ok(mut log) = self.log.lock() {
            log.push(observed);
        }
    }
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
    service: Mutex<Box<dyn Service>>,
    /// The directory document, made once: answered without waiting for the service.
    directory: Vec<u8>,
    outbound_ready: Notify,
    body_limit: usize,
    request_timeout: Duration,
    base_url: String,
    instrument: Option<Arc<Instrument>>,
    path_prefix: String,
    /// For the requests the service makes to answer one (proxyDownload).
    client_tls: Arc<rustls::ClientConfig>,
    resolver: Resolver,
    directories: Directories,
    /// The OHTTP Gateway (5.10.3), when its key could be made.
    gateway: Option<super::ohttp::Gateway>,
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
pub async fn start(
    options: ServerOptions,
    service: Box<dyn Service>,
) -> Result<RunningServer, ServerError> {
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
    let base_url = format!("https://{addr}");
    let shared = Arc::new(Shared {
        directory: service.directory(&format!("{base_url}{}", options.path_prefix)),
        service: Mutex::new(service),
        outbound_ready: Notify::new(),
        body_limit: options.body_limit,
        request_timeout: options.request_timeout,
        base_url,
        instrument: options.instrument,
        path_prefix: options.path_prefix,
        client_tls: client_tls.clone(),
        resolver: resolver.clone(),
        directories: Directories::default(),
        gateway: super::ohttp::Gateway::new().ok(),
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
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut failing_since: Option<std::time::Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    if let Some(since) = failing_since.take() {
                        eprintln!(
                            "serve-provider: accepting again after {:.1} s of failures",
                            since.elapsed().as_secs_f64()
                        );
                    }
                    backoff = ACCEPT_BACKOFF_MIN;
                    let _ = tcp.set_nodelay(true);
                    connections.spawn(connection(tcp, acceptor.clone(), shared.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS...: the listener stays readable, so retrying at
                    // once would spin. Pause (doubling up to a second), reaping finished
                    // connections meanwhile, which frees descriptors.
                    if failing_since.is_none() {
                        failing_since = Some(std::time::Instant::now());
                        eprintln!("serve-provider: accept failed ({e}); backing off");
                    }
                    let pause = tokio::time::sleep(backoff);
                    tokio::pin!(pause);
                    loop {
                        tokio::select! {
                            _ = &mut pause => break,
                            _ = shutdown.changed() => break,
                            Some(_) = connections.join_next(), if !connections.is_empty() => {}
                        }
                    }
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                }
            },
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
    let (io, clock) = HeaderDeadline::new(tls, HEADER_TIMEOUT, IDLE_TIMEOUT);
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        let peer = peer.clone();
        let clock = clock.clone();
        async move {
            clock.request_started();
            let response = serve(shared, peer, request).await;
            clock.request_answered();
            Ok::<_, Infallible>(response)
        }
    });
    // The header deadline is `HeaderDeadline`'s (it answers 408); hyper's own, which closes
    // without an answer, is only a backstop.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT * 3)
        .serve_connection(TokioIo::new(io), service);
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
    shared: Arc<Shared>,
    peer: Option<String>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let timeout = shared.request_timeout;
    let (answer, close) = match tokio::time::timeout(timeout, answer(shared, peer, request)).await {
        Ok(answer) => answer,
        Err(_) => (
            text(408, "request not received and answered within the deadline"),
            true,
        ),
    };
    let mut builder = hyper::Response::builder().status(answer.status);
    if !answer.content_type.is_empty() {
        builder = builder.header(hyper::header::CONTENT_TYPE, answer.content_type);
    }
    if close {
        builder = builder.header(hyper::header::CONNECTION, "close");
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

/// Reads the body (at most the limit) and has the service answer, off the async executor.
/// The flag asks for the connection to close after the answer.
async fn answer(
    shared: Arc<Shared>,
    peer: Option<String>,
    request: hyper::Request<Incoming>,
) -> (Response, bool) {
    let (parts, body) = request.into_parts();
    let limit = shared.body_limit;
    let too_long = || text(413, &format!("body longer than {limit} bytes"));
    // A Content-Length over the limit is answered at once, before any of the body.
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        drain(body, limit);
        return (too_long(), true);
    }
    let body = match read_body(body, limit).await {
        Ok(body) => body,
        Err(BodyError::TooLong(rest)) => {
            drain(rest, limit);
            return (too_long(), true);
        }
        Err(BodyError::Broken(e)) => {
            return (text(400, &format!("cannot read the body: {e}")), true);
        }
    };
    let path = parts.uri.path().to_string();
    if path == DIRECTORY_PATH && parts.method == hyper::Method::GET {
        let answer = Response {
            status: 200,
            content_type: "application/json".to_string(),
            body: shared.directory.clone(),
        };
        return (answer, false);
    }
    if let Some(gateway) = &shared.gateway {
        if path == super::ohttp::KEYS_PATH && parts.method == hyper::Method::GET {
            let answer = Response {
                status: 200,
                content_type: super::ohttp::KEYS_TYPE.to_string(),
                body: gateway.keys().to_vec(),
            };
            return (answer, false);
        }
        if path == super::ohttp::GATEWAY_PATH && parts.method == hyper::Method::POST {
            return (oblivious(&shared, gateway, peer, &body).await, false);
        }
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
    let requested_path = path.clone();
    let path = match path.strip_prefix(shared.path_prefix.as_str()) {
        Some(rest) if !shared.path_prefix.is_empty() && rest.starts_with('/') => rest.to_string(),
        _ => path,
    };
    let request = Request {
        method: parts.method.as_str().to_string(),
        path,
        peer,
        headers,
        body,
    };
    // The service may work for a while (key packages, signatures): on a blocking thread, so
    // that the executor keeps serving the other connections meanwhile.
    let worker = shared.clone();
    let handled = tokio::task::spawn_blocking(move || {
        let mut service = match worker.service.lock() {
            Ok(service) => service,
            Err(_) => {
                return (
                    request,
                    Handled::Answer(text(500, "provider state lost: a handler panicked")),
                );
            }
        };
        let injected = worker.instrument.as_ref().is_some_and(|i| {
            request.method == "POST"
                && request.path.starts_with("/v1/notify/")
                && i.take_notify_failure()
        });
        let asset = worker.instrument.as_ref().and_then(|i| {
            (request.method == "GET")
                .then(|| i.asset(&request.path))
                .flatten()
        });
        let handled = if injected {
            Handled::Answer(text(
                503,
                "injected failure (concord provider-test): retry later",
            ))
        } else if let Some(asset) = asset {
            Handled::Answer(asset)
        } else {
            // Not caught: with the panic fault on, a panic here must bring the server down.
            service.handle_deferred(&request, now_ms())
        };
        (request, handled)
    })
    .await;
    let Ok((request, handled)) = handled else {
        return (text(500, "the provider's handler panicked"), true);
    };
    let response = match handled {
        Handled::Answer(response) => response,
        Handled::Fetch(fetch) => {
            let fetched = fetch_for(&shared, &fetch).await;
            match shared.service.lock() {
                Ok(mut service) => service.fetched(fetch.token, fetched, now_ms()),
                Err(_) => text(500, "provider state lost: a handler panicked"),
            }
        }
    };
    if let Some(instrument) = &shared.instrument {
        instrument.record(Observed {
            method: request.method,
            path: request.path,
            requested_path,
            peer: request.peer,
            headers: request.headers,
            body: request.body,
            status: response.status,
            answer: response.body.clone(),
            at_ms: now_ms(),
        });
    }
    shared.outbound_ready.notify_one();
    (response, false)
}

/// Why a body was not read.
enum BodyError {
    /// Longer than the limit; the rest of it, still to drain.
    TooLong(Incoming),
    Broken(hyper::Error),
}

/// The body, if it is at most `limit` bytes.
async fn read_body(mut body: Incoming, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(BodyError::TooLong(body));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Reads and drops what is left of a refused body, up to [`DRAIN_FACTOR`] times the limit
/// (at least [`DRAIN_MIN`] bytes) and
/// for at most [`DEFAULT_REQUEST_TIMEOUT`], while the answer goes out: the client finishes
/// writing and reads the answer, instead of a reset connection. Past the bound the body is
/// dropped and hyper closes the connection.
fn drain(mut body: Incoming, limit: usize) {
    let bound = limit.saturating_mul(DRAIN_FACTOR).max(DRAIN_MIN);
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DEFAULT_REQUEST_TIMEOUT, async {
            let mut drained = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    drained = drained.saturating_add(data.len());
                    if drained > bound {
                        break;
                    }
                }
            }
        })
        .await;
    });
}

async fn outbound_loop(
    shared: Arc<Shared>,
    client_tls: Arc<rustls::ClientConfig>,
    resolver: Resolver,
    mut shutdown: watch::Receiver<bool>,
) {
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Option<u16>)>();
    let directories: Directories = Arc::default();
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
            let directories = directories.clone();
            tokio::spawn(async move {
                let status = match target {
                    Ok(base) => send(config, &base, &outbound, &directories).await,
                    Err(_) => None,
                };
                let _ = done.send((outbound.id, status));
            });
        }
    }
}

/// The peers' directories read so far: domain to (endpoint name to URL template).
type Directories = Arc<Mutex<BTreeMap<String, BTreeMap<String, String>>>>;

/// The path of `endpoint` at the peer `domain` served at `base`, from its directory
/// (read once, MIMI-PROTOCOL-5.1-2). `None` when the directory cannot be read or does not
/// name the endpoint: the request fails and is retried later.
async fn endpoint_path(
    config: Arc<rustls::ClientConfig>,
    base: &BaseUrl,
    domain: &str,
    endpoint: &Endpoint,
    directories: &Directories,
) -> Option<String> {
    let known = directories.lock().ok().and_then(|d| d.get(domain).cloned());
    let entries = match known {
        Some(entries) => entries,
        None => {
            let answer = https::call(
                config,
                base,
                "GET",
                DIRECTORY_PATH,
                &[],
                Vec::new(),
                OUTBOUND_TIMEOUT,
            )
            .await
            .ok()
            .filter(|a| a.status == 200)?;
            let document: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
            let entries: BTreeMap<String, String> = document
                .as_object()?
                .iter()
                .filter_map(|(name, url)| Some((name.clone(), url.as_str()?.to_string())))
                .collect();
            if let Ok(mut d) = directories.lock() {
                d.insert(domain.to_string(), entries.clone());
            }
            entries
        }
    };
    let template = entries.get(&endpoint.name)?;
    // The URL's path: what follows the authority of an absolute URL, or a path as it is.
    let path = match template.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => template.as_str(),
    };
    let (head, rest) = path.split_once('{')?;
    let (_, tail) = rest.split_once('}')?;
    Some(format!("{head}{}{tail}", endpoint.argument))
}

/// The OHTTP Gateway (5.10.3): opens the encapsulated request, has the service answer it as
/// `GET proxyDownload/{target URL}` from the relaying provider (the same judgement of the
/// target and the same fetch), and encapsulates that answer. What cannot be opened is 400.
async fn oblivious(
    shared: &Arc<Shared>,
    gateway: &super::ohttp::Gateway,
    peer: Option<String>,
    body: &[u8],
) -> Response {
    let opened = match gateway.open(body) {
        Ok(opened) => opened,
        Err(e) => return text(400, &e),
    };
    let request = Request {
        method: "GET".into(),
        path: format!("/v1/proxyDownload/{}", percent_encode(&opened.url)),
        peer,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let handled = match shared.service.lock() {
        Ok(mut service) => service.handle_deferred(&request, now_ms()),
        Err(_) => return text(500, "provider state lost: a handler panicked"),
    };
    let answer = match handled {
        Handled::Answer(answer) => answer,
        Handled::Fetch(fetch) => {
            let fetched = fetch_for(shared, &fetch).await;
            match shared.service.lock() {
                Ok(mut service) => service.fetched(fetch.token, fetched, now_ms()),
                Err(_) => return text(500, "provider state lost: a handler panicked"),
            }
        }
    };
    match super::ohttp::encapsulate_response(
        opened.reply,
        answer.status,
        &answer.content_type,
        &answer.body,
    ) {
        Ok(body) => Response {
            status: 200,
            content_type: super::ohttp::RESPONSE_TYPE.to_string(),
            body,
        },
        Err(e) => text(500, &e),
    }
}

/// Makes the request the service asked for to answer another (`None`: no answer).
async fn fetch_for(shared: &Shared, fetch: &Fetch) -> Option<Fetched> {
    let base = shared.resolver.lookup(&fetch.to_domain).ok()?;
    let answer = call_peer(
        shared.client_tls.clone(),
        &base,
        &fetch.to_domain,
        &fetch.request,
        fetch.endpoint.as_ref(),
        &shared.directories,
    )
    .await?;
    Some(Fetched {
        status: answer.status,
        content_type: answer.content_type,
        body: answer.body,
    })
}

/// One request to the peer `domain` served at `base`: to the URL its directory names for
/// `endpoint`, or to `request.path` as it is (`None`: no answer).
async fn call_peer(
    config: Arc<rustls::ClientConfig>,
    base: &BaseUrl,
    domain: &str,
    request: &Request,
    endpoint: Option<&Endpoint>,
    directories: &Directories,
) -> Option<https::HttpResponse> {
    let path = match endpoint {
        Some(endpoint) => {
            endpoint_path(config.clone(), base, domain, endpoint, directories).await?
        }
        None => request.path.clone(),
    };
    https::call(
        config,
        base,
        &request.method,
        &path,
        &request.headers,
        request.body.clone(),
        OUTBOUND_TIMEOUT,
    )
    .await
    .ok()
}

async fn send(
    config: Arc<rustls::ClientConfig>,
    base: &BaseUrl,
    outbound: &Outbound,
    directories: &Directories,
) -> Option<u16> {
    call_peer(
        config,
        base,
        &outbound.to_domain,
        &outbound.request,
        outbound.endpoint.as_ref(),
        directories,
    )
    .await
    .map(|response| response.status)
}

/// `concord serve-provider`: serve until SIGINT or SIGTERM. `ready` gets the bound address.
pub fn serve_until_signal(
    options: ServerOptions,
    make_service: impl FnOnce() -> Box<dyn Service>,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    runtime.block_on(async move {
        let server = start(options, make_service()).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{certs, https};

    /// Answers with the peer it saw; on `/send`, queues one outbound POST to f1.example.
    #[derive(Default)]
    struct Echo {
        next: u64,
        queued: Vec<Outbound>,
        done: DoneLog,
    }

    impl Service for Echo {
        fn handle(&mut self, request: &Request, _now_ms: u64) -> Response {
            if request.path == "/send" {
                self.next += 1;
                self.queued.push(Outbound {
                    id: self.next,
                    to_domain: "f1.example".into(),
                    request: Request {
                        method: "POST".into(),
                        path: "/v1/notify/r1".into(),
                        peer: None,
                        headers: vec![("idempotency-key".into(), "7".into())],
                        body: b"fanout".to_vec(),
                    },
                    endpoint: Endpoint::of_path("/v1/notify/r1"),
                });
            }
            Response {
                status: 200,
                content_type: "text/plain".into(),
                body: format!(
                    "{} {} {:?} {}",
                    request.method,
                    request.path,
                    request.peer,
                    request.body.len()
                )
                .into_bytes(),
            }
        }
        fn take_outbound(&mut self) -> Vec<Outbound> {
            std::mem::take(&mut self.queued)
        }
        fn outbound_done(&mut self, id: u64, status: Option<u16>, _now_ms: u64) {
            self.done.lock().unwrap().push((id, status));
        }
        fn directory(&self, base_url: &str) -> Vec<u8> {
            format!("{{\"base\":\"{base_url}\",\"notify\":\"{base_url}/v1/notify/{{roomId}}\"}}")
                .into_bytes()
        }
    }

    fn options(dir: &std::path::Path, domain: &str, resolve: Vec<String>) -> ServerOptions {
        ServerOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            domain: domain.into(),
            tls_dir: dir.to_path_buf(),
            resolve,
            body_limit: 64,
            request_timeout: Duration::from_secs(5),
            instrument: Some(Arc::new(Instrument::default())),
            path_prefix: String::new(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mutual_tls_peer_limits_outbound_and_shutdown() {
        let dir = std::env::temp_dir().join(format!("concord-server-{}", std::process::id()));
        certs::generate(
            &dir,
            &[
                "hub.example".into(),
                "f1.example".into(),
                "f2.example".into(),
            ],
        )
        .unwrap();
        let follower_options = options(&dir, "f1.example", vec![]);
        let follower_log = follower_options.instrument.clone().unwrap();
        follower_log.fail_next_notifies(1);
        let follower = start(follower_options, Box::new(Echo::default()))
            .await
            .unwrap();
        let done = Arc::new(Mutex::new(Vec::new()));
        let hub_service = Echo {
            done: done.clone(),
            ..Echo::default()
        };
        let hub = start(
            options(
                &dir,
                "hub.example",
                vec![format!("f1.example={}", follower.url())],
            ),
            Box::new(hub_service),
        )
        .await
        .unwrap();
        let base = https::BaseUrl::parse(&hub.url()).unwrap();
        let timeout = Duration::from_secs(5);
        let as_f2 = tls::client_config(&dir, Some("f2.example")).unwrap();
        let anonymous = tls::client_config(&dir, None).unwrap();

        let r = https::call(
            as_f2.clone(),
            &base,
            "POST",
            "/x",
            &[],
            b"abc".to_vec(),
            timeout,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "POST /x Some(\"f2.example\") 3"
        );
        let r = https::call(anonymous.clone(), &base, "POST", "/x", &[], vec![], timeout)
            .await
            .unwrap();
        assert_eq!(String::from_utf8(r.body).unwrap(), "POST /x None 0");
        let r = https::call(
            anonymous.clone(),
            &base,
            "GET",
            DIRECTORY_PATH,
            &[],
            vec![],
            timeout,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, "application/json");
        assert!(String::from_utf8(r.body).unwrap().contains(&hub.url()));
        let r = https::call(
            as_f2.clone(),
            &base,
            "POST",
            "/x",
            &[],
            vec![0; 65],
            timeout,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 413);

        // The outbound task delivers to f1 (resolved by --resolve) with the hub's certificate;
        // the injected 503 is reported to the service.
        https::call(as_f2.clone(), &base, "POST", "/send", &[], vec![], timeout)
            .await
            .unwrap();
        https::call(as_f2.clone(), &base, "POST", "/send", &[], vec![], timeout)
            .await
            .unwrap();
        for _ in 0..100 {
            if done.lock().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut statuses: Vec<Option<u16>> = done.lock().unwrap().iter().map(|d| d.1).collect();
        statuses.sort();
        assert_eq!(statuses, vec![Some(200), Some(503)]);
        let seen = follower_log.log();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|o| o.peer.as_deref() == Some("hub.example")
            && o.path == "/v1/notify/r1"
            && o.body == b"fanout"));

        hub.shutdown().await;
        follower.shutdown().await;
        assert!(
            https::call(as_f2, &base, "POST", "/x", &[], vec![], timeout)
                .await
                .is_err()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An Echo hub.example with certificates for it and f2.example in a fresh folder.
    async fn echo_hub(tag: &str) -> (std::path::PathBuf, RunningServer) {
        let dir = std::env::temp_dir().join(format!("concord-server-{tag}-{}", std::process::id()));
        certs::generate(&dir, &["hub.example".into(), "f2.example".into()]).unwrap();
        let hub = start(
            options(&dir, "hub.example", vec![]),
            Box::new(Echo::default()),
        )
        .await
        .unwrap();
        (dir, hub)
    }

    /// A raw TLS connection to `server`, as f2.example.
    async fn raw(
        dir: &std::path::Path,
        server: &RunningServer,
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let config = tls::client_config(dir, Some("f2.example")).unwrap();
        let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
        tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_oversized_content_length_gets_413_before_the_body_and_the_body_is_drained() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (dir, hub) = echo_hub("413").await;
        // The answer comes before a byte of the body is sent.
        let mut s = raw(&dir, &hub).await;
        s.write_all(b"POST /x HTTP/1.1\r\nHost: hub.example\r\nContent-Length: 2097152\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut head))
            .await
            .expect("413 within 2 s, before the body")
            .unwrap();
        assert_eq!(&head, b"HTTP/1.1 413");
        // And the body, sent anyway, is read and dropped: the writes all go through.
        let (mut read, mut write) = tokio::io::split(s);
        let writer = tokio::spawn(async move { write.write_all(&vec![0u8; 2 << 20]).await });
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut rest)).await;
        assert!(writer.await.unwrap().is_ok(), "the body was not drained");
        hub.shutdown().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_head_that_never_ends_gets_408() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (dir, hub) = echo_hub("408").await;
        let mut s = raw(&dir, &hub).await;
        s.write_all(b"GET /x HTTP/1.1\r\n").await.unwrap();
        let mut answer = Vec::new();
        let started = std::time::Instant::now();
        let _ = tokio::time::timeout(HEADER_TIMEOUT * 2, s.read_to_end(&mut answer)).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 408 "),
            "{:?} after {:?}",
            String::from_utf8_lossy(&answer),
            started.elapsed()
        );
        hub.shutdown().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn an_untrusted_client_certificate_is_refused_in_the_handshake() {
        let dir = std::env::temp_dir().join(format!("concord-server-ca-{}", std::process::id()));
        let other = std::env::temp_dir().join(format!("concord-server-ca2-{}", std::process::id()));
        certs::generate(&dir, &["hub.example".into()]).unwrap();
        certs::generate(&other, &["f1.example".into()]).unwrap();
        // Trusts the hub's CA but presents a certificate of another CA.
        std::fs::copy(dir.join(certs::CA_CERT), other.join(certs::CA_CERT)).unwrap();
        let hub = start(
            options(&dir, "hub.example", vec![]),
            Box::new(Echo::default()),
        )
        .await
        .unwrap();
        let base = https::BaseUrl::parse(&hub.url()).unwrap();
        let forged = tls::client_config(&other, Some("f1.example")).unwrap();
        let r = https::call(
            forged,
            &base,
            "POST",
            "/x",
            &[],
            vec![],
            Duration::from_secs(5),
        )
        .await;
        assert!(r.is_err(), "{r:?}");
        hub.shutdown().await;
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&other).unwrap();
    }
}
