//! `concord provider-test --load`: requests per second and latency percentiles of a running
//! provider at several concurrencies, so that a regression in a server shows as a figure.
//!
//! ```text
//!  for each concurrency C:   C workers, each one TLS connection (kept alive), for S seconds:
//!      GET the directory, POST identifierQuery (as f1.example), in turn
//!  ──> per level: requests, errors (a non-2xx/4xx answer or a broken call), requests/s,
//!      p50 / p99 / max latency
//! ```
//!
//! A worker whose connection breaks opens another and counts the error; the answers are not
//! judged beyond their status (the checks do that): a 4xx is an answer, a 5xx or no answer is
//! an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::https::BaseUrl;

/// Largest concurrency `--load-concurrency` accepts (each worker holds a connection).
pub const MAX_CONCURRENCY: usize = 1024;
/// Longest `--load-seconds`.
pub const MAX_SECONDS: u64 = 600;

/// One request of the mix.
#[derive(Debug, Clone)]
pub struct LoadRequest {
    pub method: &'static str,
    pub path: String,
    pub body: Vec<u8>,
}

/// The figures of one concurrency level.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoadLevel {
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: u64,
    pub errors: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// How many answers had each status (5xx counted as errors too).
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// The first error seen, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// The whole measurement, as `load.json` holds it.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub provider: String,
    pub requests: Vec<String>,
    pub levels: Vec<LoadLevel>,
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    statuses: std::collections::BTreeMap<u16, u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(
    config: Arc<rustls::ClientConfig>,
    target: &BaseUrl,
) -> Result<(Sender, tokio::task::JoinHandle<()>), String> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(target.host.clone()).map_err(|e| format!("host: {e}"))?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, driver))
}

async fn one(
    sender: &mut Sender,
    target: &BaseUrl,
    request: &LoadRequest,
    timeout: Duration,
) -> Result<u16, String> {
    let built = hyper::Request::builder()
        .method(request.method)
        .uri(format!("{}{}", target.base_path, request.path))
        .header(
            hyper::header::HOST,
            format!("{}:{}", target.host, target.port),
        )
        .header(hyper::header::CONTENT_TYPE, super::CONTENT_TYPE)
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|e| e.to_string())?;
    let call = async {
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender
            .send_request(built)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok::<u16, String>(status)
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
}

async fn worker(
    config: Arc<rustls::ClientConfig>,
    target: Arc<BaseUrl>,
    requests: Arc<Vec<LoadRequest>>,
    offset: usize,
    until: Instant,
    timeout: Duration,
) -> Tally {
    let mut tally = Tally::default();
    let mut connection: Option<(Sender, tokio::task::JoinHandle<()>)> = None;
    let mut next = offset;
    while Instant::now() < until {
        let (sender, _) = match &mut connection {
            Some(c) => c,
            None => match connect(config.clone(), &target).await {
                Ok(c) => connection.insert(c),
                Err(e) => {
                    tally.error(e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let request = &requests[next % requests.len()];
        next += 1;
        let started = Instant::now();
        let answer = one(sender, &target, request, timeout).await;
        if let Ok(status) = answer {
            *tally.statuses.entry(status).or_default() += 1;
        }
        match answer {
            Ok(status) if status < 500 => tally
                .latencies_us
                .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)),
            Ok(status) => tally.error(format!(
                "{} {}: status {status}",
                request.method, request.path
            )),
            Err(e) => {
                tally.error(format!("{} {}: {e}", request.method, request.path));
                if let Some((_, driver)) = connection.take() {
                    driver.abort();
                }
            }
        }
    }
    if let Some((_, driver)) = connection {
        driver.abort();
    }
    tally
}

/// The `q`-quantile (0..=1) of sorted latencies, in milliseconds.
fn quantile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((sorted_us.len() as f64 - 1.0) * q).round() as usize;
    sorted_us[rank.min(sorted_us.len() - 1)] as f64 / 1000.0
}

/// Measures each concurrency level in turn for `seconds` each.
pub async fn measure(
    config: Arc<rustls::ClientConfig>,
    target: BaseUrl,
    requests: Vec<LoadRequest>,
    levels: &[usize],
    seconds: Duration,
    timeout: Duration,
) -> Vec<LoadLevel> {
    let target = Arc::new(target);
    let requests = Arc::new(requests);
    let mut out = Vec::new();
    for &concurrency in levels {
        let started = Instant::now();
        let until = started + seconds;
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..concurrency {
            tasks.spawn(worker(
                config.clone(),
                target.clone(),
                requests.clone(),
                w,
                until,
                timeout,
            ));
        }
        let mut all = Tally::default();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(t) => {
                    all.latencies_us.extend(t.latencies_us);
                    for (status, n) in t.statuses {
                        *all.statuses.entry(status).or_default() += n;
                    }
                    all.errors += t.errors;
                    if all.first_error.is_none() {
                        all.first_error = t.first_error;
                    }
                }
                Err(e) => all.error(format!("a worker failed: {e}")),
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.latencies_us.sort_unstable();
        let requests = all.latencies_us.len() as u64;
        out.push(LoadLevel {
            concurrency,
            seconds: elapsed,
            requests,
            errors: all.errors,
            requests_per_second: if elapsed > 0.0 {
                requests as f64 / elapsed
            } else {
                0.0
            },
            p50_ms: quantile_ms(&all.latencies_us, 0.50),
            p99_ms: quantile_ms(&all.latencies_us, 0.99),
            max_ms: quantile_ms(&all.latencies_us, 1.0),
            statuses: all.statuses,
            first_error: all.first_error,
        });
    }
    out
}

/// One line per level, as the command prints them.
pub fn format_level(level: &LoadLevel) -> String {
    format!(
        "load: concurrency {:>4}: {:>9.0} requests/s, p50 {:>7.2} ms, p99 {:>7.2} ms, max {:>8.2} ms, {} requests ({}), {} errors{}",
        level.concurrency,
        level.requests_per_second,
        level.p50_ms,
        level.p99_ms,
        level.max_ms,
        level.requests,
        level
            .statuses
            .iter()
            .map(|(s, n)| format!("{n}x {s}"))
            .collect::<Vec<_>>()
            .join(", "),
        level.errors,
        level
            .first_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    )
}

/// Parses `--load-concurrency` values against the limits.
pub fn check_levels(levels: &[usize]) -> Result<(), String> {
    if levels.is_empty() {
        return Err("--load-concurrency: give at least one level".into());
    }
    match levels.iter().find(|&&c| c == 0 || c > MAX_CONCURRENCY) {
        Some(bad) => Err(format!(
            "--load-concurrency {bad}: expected 1 to {MAX_CONCURRENCY}"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_limits() {
        let sorted: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        assert_eq!(quantile_ms(&sorted, 0.5), 51.0);
        assert_eq!(quantile_ms(&sorted, 0.99), 99.0);
        assert_eq!(quantile_ms(&sorted, 1.0), 100.0);
        assert_eq!(quantile_ms(&[], 0.5), 0.0);
        assert!(check_levels(&[1, 8, 64]).is_ok());
        assert!(check_levels(&[]).is_err());
        assert!(check_levels(&[0]).is_err());
        assert!(check_levels(&[MAX_CONCURRENCY + 1]).is_err());
    }
}
