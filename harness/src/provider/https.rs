//! The HTTPS client providers use to call each other (and `concord provider-test` uses to
//! call the provider under test): one TLS connection per request, HTTP/1.1, a deadline.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The parts of an `https://HOST[:PORT][/BASE]` URL a provider call needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing `/` (empty for none).
    pub base_path: String,
}

impl BaseUrl {
    /// Parses `https://HOST[:PORT][/BASE]` (IPv6 hosts in brackets). Only https: providers
    /// talk mutual TLS.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| format!("`{url}`: expected an https:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let end = inner
                .find(']')
                .ok_or_else(|| format!("`{url}`: unclosed '[' in the host"))?;
            let host = &inner[..end];
            let after = &inner[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(format!("`{url}`: expected ':PORT' after the host")),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("`{url}`: no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("`{url}`: port `{p}` is not a number from 0 to 65535"))?,
            None => 443,
        };
        Ok(Self {
            host: host.to_string(),
            port,
            base_path: path.to_string(),
        })
    }

    /// The URL back as text.
    pub fn to_url(&self) -> String {
        if self.host.contains(':') {
            format!("https://[{}]:{}{}", self.host, self.port, self.base_path)
        } else {
            format!("https://{}:{}{}", self.host, self.port, self.base_path)
        }
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Why a call got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("TLS with {0}: {1}")]
    Tls(String, std::io::Error),
    #[error("HTTP with {0}: {1}")]
    Http(String, String),
    #[error("{0}: no answer within {1:?}")]
    Timeout(String, Duration),
    #[error("bad request: {0}")]
    Request(String),
}

impl CallError {
    /// Whether the peer failed to answer within the deadline (a hang, not a refusal).
    pub fn is_timeout(&self) -> bool {
        matches!(self, CallError::Timeout(..))
    }
}

/// One HTTPS request to `base` + `path`, with `headers` (lower-case names), within `timeout`.
pub async fn call(
    config: Arc<ClientConfig>,
    base: &BaseUrl,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<HttpResponse, CallError> {
    let target = base.to_url();
    match tokio::time::timeout(
        timeout,
        call_inner(config, base, method, path, headers, body),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout(format!("{target}{path}"), timeout)),
    }
}

async fn call_inner(
    config: Arc<ClientConfig>,
    base: &BaseUrl,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<HttpResponse, CallError> {
    let target = base.to_url();
    let tcp = TcpStream::connect((base.host.as_str(), base.port))
        .await
        .map_err(|e| CallError::Connect(target.clone(), e))?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(base.host.clone())
        .map_err(|e| CallError::Request(format!("host `{}`: {e}", base.host)))?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| CallError::Tls(target.clone(), e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| CallError::Http(target.clone(), e.to_string()))?;
    let driver = tokio::spawn(connection);
    let method = hyper::Method::from_bytes(method.as_bytes())
        .map_err(|e| CallError::Request(format!("method `{method}`: {e}")))?;
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(format!("{}{}", base.base_path, path));
    // A Host the caller names (a provider naming its target, MIMI-PROTOCOL-4.1-1) wins
    // over the address connected to.
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        builder = builder.header(hyper::header::HOST, format!("{}:{}", base.host, base.port));
    }
    let mut has_content_type = false;
    for (name, value) in headers {
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !has_content_type && !body.is_empty() {
        builder = builder.header(hyper::header::CONTENT_TYPE, super::CONTENT_TYPE);
    }
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| CallError::Request(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| CallError::Http(target.clone(), e.to_string()))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| CallError::Http(target.clone(), e.to_string()))?
        .to_bytes()
        .to_vec();
    driver.abort();
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = BaseUrl::parse("https://127.0.0.1:8443").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.base_path.as_str()),
            ("127.0.0.1", 8443, "")
        );
        let u = BaseUrl::parse("https://hub.example/mimi/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.base_path.as_str()),
            ("hub.example", 443, "/mimi")
        );
        let u = BaseUrl::parse("https://[::1]:9").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 9));
        assert_eq!(u.to_url(), "https://[::1]:9");
        assert!(BaseUrl::parse("http://x").is_err());
        assert!(BaseUrl::parse("https://x:port").is_err());
        assert!(BaseUrl::parse("https://:1").is_err());
    }
}
