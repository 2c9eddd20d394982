//! The impairing proxy Concord puts in front of a provider: it terminates mutual TLS with
//! the provider's own test certificate, learns the calling provider from its client
//! certificate, and forwards each HTTP request with the caller's certificate, impaired as
//! its seeded settings say.
//!
//! ```text
//!  caller ──TLS (target's cert; caller's cert checked)──> proxy ──decide (seeded RNG)──┐
//!    drop request: connection closed, nothing forwarded                                │
//!    delay / reorder: held, then forwarded (later requests may overtake)               │
//!    duplicate: forwarded twice, the first answer returned                             │
//!    drop answer: forwarded, connection closed before the answer                       │
//!    partition: every request dropped while it lasts                                   │
//!  proxy ──TLS (caller's cert)──> target <──────────────────────────────────────────────┘
//! ```
//!
//! It can do this because every certificate and key of a loopback test lives in the
//! `concord certs` folder; it is a test instrument, never a production component. Every
//! decision is logged with the request it applied to.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::https::{self, BaseUrl};
use super::tls;

/// Largest body the proxy forwards.
const BODY_LIMIT: usize = 1 << 20;
/// Deadline of one forwarded call.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);

/// What the proxy does to traffic, as probabilities in per mille and delays in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Impairment {
    /// Requests dropped before they reach the target (the caller sees the connection close).
    pub drop_request: u32,
    /// Requests forwarded whose answer is dropped (the target acted; the caller cannot know).
    pub drop_answer: u32,
    /// Requests forwarded twice.
    pub duplicate: u32,
    /// Requests held an extra `reorder_ms`, so that later ones overtake them.
    pub reorder: u32,
    pub reorder_ms: u64,
    /// Every request is delayed uniformly in `delay_min_ms..=delay_max_ms`.
    pub delay_min_ms: u64,
    pub delay_max_ms: u64,
}

/// One decision, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub path: String,
    pub caller: Option<String>,
    pub action: &'static str,
}

struct State {
    target: BaseUrl,
    tls_dir: std::path::PathBuf,
    impairment: Mutex<Impairment>,
    /// Per calling provider, instead of `impairment`.
    per_caller: Mutex<std::collections::BTreeMap<String, Impairment>>,
    /// Calling providers cut off (a partition of one link).
    blocked: Mutex<std::collections::BTreeSet<String>>,
    partitioned: AtomicBool,
    rng: Mutex<ChaCha8Rng>,
    log: Mutex<Vec<Decision>>,
}

/// A running proxy.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("addr", &self.addr).finish()
    }
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `target`, which serves `domain`
    /// (the proxy presents `domain`'s certificate from `tls_dir`).
    pub async fn start(
        tls_dir: &Path,
        domain: &str,
        target: BaseUrl,
        seed: u64,
        impairment: Impairment,
    ) -> Result<Proxy, String> {
        let server_tls = tls::server_config(tls_dir, domain).map_err(|e| e.to_string())?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| format!("proxy for {domain}: cannot listen: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("proxy for {domain}: {e}"))?;
        let state = Arc::new(State {
            target,
            tls_dir: tls_dir.to_path_buf(),
            impairment: Mutex::new(impairment),
            per_caller: Mutex::new(Default::default()),
            blocked: Mutex::new(Default::default()),
            partitioned: AtomicBool::new(false),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            log: Mutex::new(Vec::new()),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            TlsAcceptor::from(server_tls),
            state.clone(),
            shutdown_rx,
        ));
        Ok(Proxy {
            addr,
            state,
            shutdown,
            task,
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn set_impairment(&self, impairment: Impairment) {
        if let Ok(mut current) = self.state.impairment.lock() {
            *current = impairment;
        }
    }

    /// Impairs requests from `caller` as `impairment` (`None`: the default again).
    pub fn set_caller_impairment(&self, caller: &str, impairment: Option<Impairment>) {
        if let Ok(mut map) = self.state.per_caller.lock() {
            match impairment {
                Some(i) => {
                    map.insert(caller.to_string(), i);
                }
                None => {
                    map.remove(caller);
                }
            }
        }
    }

    /// While on, every request from `caller` is dropped (a partition of that link).
    pub fn set_blocked(&self, caller: &str, on: bool) {
        if let Ok(mut blocked) = self.state.blocked.lock() {
            if on {
                blocked.insert(caller.to_string());
            } else {
                blocked.remove(caller);
            }
        }
    }

    /// While on, every request is dropped (a partition of the link into the target).
    pub fn set_partitioned(&self, on: bool) {
        self.state.partitioned.store(on, Ordering::SeqCst);
    }

    /// Every decision so far.
    pub fn log(&self) -> Vec<Decision> {
        self.state.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                connections.spawn(connection(tcp, acceptor.clone(), state.clone()));
            }
        }
    }
    connections.abort_all();
}

/// Dropping a request or an answer: the connection is closed without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped by the impairing proxy")
    }
}

impl std::error::Error for Dropped {}

async fn connection(tcp: tokio::net::TcpStream, acceptor: TlsAcceptor, state: Arc<State>) {
    let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
    else {
        return;
    };
    let caller = tls::peer_domain(tls.get_ref().1.peer_certificates());
    let service = hyper::service::service_fn(move |request| {
        let state = state.clone();
        let caller = caller.clone();
        async move { forward(&state, caller, request).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

/// What to do with one request, drawn from the seeded RNG.
struct Plan {
    drop_request: bool,
    drop_answer: bool,
    duplicate: bool,
    hold_ms: u64,
}

fn plan(state: &State, caller: Option<&str>) -> Plan {
    let own = caller.and_then(|c| {
        state
            .per_caller
            .lock()
            .ok()
            .and_then(|map| map.get(c).copied())
    });
    let impairment = own.unwrap_or_else(|| state.impairment.lock().map(|i| *i).unwrap_or_default());
    let Ok(mut rng) = state.rng.lock() else {
        return Plan {
            drop_request: false,
            drop_answer: false,
            duplicate: false,
            hold_ms: 0,
        };
    };
    let mut chance = |per_mille: u32| per_mille > 0 && rng.next_u32() % 1000 < per_mille;
    let drop_request = chance(impairment.drop_request);
    let drop_answer = chance(impairment.drop_answer);
    let duplicate = chance(impairment.duplicate);
    let reorder = chance(impairment.reorder);
    let spread = impairment
        .delay_max_ms
        .saturating_sub(impairment.delay_min_ms);
    let delay = impairment.delay_min_ms
        + if spread > 0 {
            rng.next_u64() % (spread + 1)
        } else {
            0
        };
    Plan {
        drop_request,
        drop_answer,
        duplicate,
        hold_ms: delay + if reorder { impairment.reorder_ms } else { 0 },
    }
}

fn record(state: &State, path: &str, caller: &Option<String>, action: &'static str) {
    if let Ok(mut log) = state.log.lock() {
        log.push(Decision {
            path: path.to_string(),
            caller: caller.clone(),
            action,
        });
    }
}

async fn forward(
    state: &State,
    caller: Option<String>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let body = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => return Err(Dropped),
    };
    let blocked = caller
        .as_ref()
        .is_some_and(|c| state.blocked.lock().map(|b| b.contains(c)).unwrap_or(false));
    if blocked || state.partitioned.load(Ordering::SeqCst) {
        record(state, &path, &caller, "partitioned");
        return Err(Dropped);
    }
    let plan = plan(state, caller.as_deref());
    if plan.drop_request {
        record(state, &path, &caller, "drop request");
        return Err(Dropped);
    }
    if plan.hold_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.hold_ms)).await;
    }
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "host" | "content-length" | "connection" | "transfer-encoding"
            )
        })
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_string(), v.to_string()))
        })
        .collect();
    let config = match tls::client_config(&state.tls_dir, caller.as_deref()) {
        Ok(c) => c,
        Err(_) => return Err(Dropped),
    };
    let method = parts.method.as_str().to_string();
    let send = || {
        https::call(
            config.clone(),
            &state.target,
            &method,
            &path,
            &headers,
            body.clone(),
            FORWARD_TIMEOUT,
        )
    };
    let answer = send().await;
    if plan.duplicate {
        record(state, &path, &caller, "duplicate");
        let _ = send().await;
    }
    let Ok(answer) = answer else {
        record(state, &path, &caller, "target unreachable");
        return Err(Dropped);
    };
    if plan.drop_answer {
        record(state, &path, &caller, "drop answer");
        return Err(Dropped);
    }
    record(
        state,
        &path,
        &caller,
        if plan.hold_ms > 0 {
            "delayed"
        } else {
            "forwarded"
        },
    );
    let mut builder = hyper::Response::builder().status(answer.status);
    if !answer.content_type.is_empty() {
        builder = builder.header(hyper::header::CONTENT_TYPE, answer.content_type.as_str());
    }
    builder
        .body(Full::new(Bytes::from(answer.body)))
        .map_err(|_| Dropped)
}
