//! Download using a hub proxy (draft-ietf-mimi-protocol 5.10.2): a downloading provider asks
//! the room's hub for an asset; the hub fetches it from the asset server of one of its peer
//! providers and answers with its content. The hub is no open proxy: a URL whose host is no
//! peer's asset server is refused before anything is fetched (MIMI-PROTOCOL-5.10.2-1).
//!
//! ```text
//!  downloading provider ──GET /v1/proxyDownload/{downloadUrl}──> hub
//!      hub: https URL? (400)  host an asset server of a peer? (403, nothing fetched)
//!      hub ──GET {path}──> asset server (the peer's domain)
//!      hub <── 200 asset | 4xx | 5xx / no answer
//!  downloading provider <── 200 asset (content type kept) | the 4xx as is | 502
//! ```
//!
//! Profile `concord-mimi-06` (MIMI-PROTOCOL-5.10.2-5): `downloadUrl` is the whole URL
//! percent-encoded as one path segment (as every path parameter, 5-2); the request needs a
//! client certificate like every endpoint; a hub's peer providers are the providers of the
//! participants of the rooms it hosts (not itself), and a provider's asset server is its
//! own domain (the room policy's `asset_policy` component is not modelled). The URL must be
//! `https://DOMAIN/PATH` with no user information and no port: an address or another port
//! of a peer's host is another server.
//!
//! The hub's part is sans-IO: [`parse`] and [`judge`] weigh the URL, the service hands the fetch to
//! its server as a [`super::service::Fetch`] and turns the server's [`Fetched`] into the
//! answer with [`answer`].

use super::service::Response;

/// MIMI-PROTOCOL-5.10.2-1: the host of `downloadUrl` is an asset server of a peer provider.
pub const PEER_ASSET_HOST: &str = "MIMI-PROTOCOL-5.10.2-1";

/// An asset's place: the asset server's domain and the path (with its query) on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetUrl {
    pub host: String,
    pub path: String,
}

/// What an asset server answered the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Why a `downloadUrl` is refused, with the HTTP status of the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
}

fn refuse(status: u16, reason: String) -> Refusal {
    Refusal { status, reason }
}

/// Splits `url` into its asset server (the authority, lower case) and path: 400 for what is
/// no `https://HOST/PATH` URL.
pub fn parse(url: &str) -> Result<AssetUrl, Refusal> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(refuse(
            400,
            format!("downloadUrl {url:?}: not an https URL"),
        ));
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let path = path.split('#').next().unwrap_or_default();
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    if authority.is_empty() {
        return Err(refuse(400, format!("downloadUrl {url:?}: no host")));
    }
    if authority.contains('@') {
        return Err(refuse(
            400,
            format!("downloadUrl {url:?}: user information in the authority"),
        ));
    }
    Ok(AssetUrl {
        host: authority.to_ascii_lowercase(),
        path,
    })
}

/// 403 unless the URL's host is a domain name (no address, no port: another server) that
/// `is_peer` takes for a peer provider's asset server (MIMI-PROTOCOL-5.10.2-1).
pub fn judge(url: &AssetUrl, is_peer: impl Fn(&str) -> bool) -> Result<(), Refusal> {
    let host = &url.host;
    let domain_name = host.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) && !host
        .split('.')
        .all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    if !domain_name {
        return Err(refuse(
            403,
            format!(
                "downloadUrl host {host:?} is no domain name of an asset server of this hub's \
                 peer providers (an address or a port is another server; {PEER_ASSET_HOST})"
            ),
        ));
    }
    if !is_peer(host) {
        return Err(refuse(
            403,
            format!(
                "downloadUrl host {host} is not the asset server of a peer provider taking \
                 part in a room of this hub ({PEER_ASSET_HOST})"
            ),
        ));
    }
    Ok(())
}

/// The hub's answer to the downloading provider for what the asset server answered
/// (`None`: no answer): 200 with the asset, the asset server's 4xx as it is (the asset is
/// missing or refused), 502 for anything else (MIMI-PROTOCOL-5.10.2-2).
pub fn answer(url: &AssetUrl, fetched: Option<Fetched>) -> Response {
    let failed = |detail: String| Response {
        status: 502,
        content_type: "text/plain; charset=utf-8".into(),
        body: format!("https://{}{}: {detail}", url.host, url.path).into_bytes(),
    };
    match fetched {
        None => failed("the asset server did not answer".into()),
        Some(f) if f.status == 200 => Response {
            status: 200,
            content_type: if f.content_type.is_empty() {
                "application/octet-stream".into()
            } else {
                f.content_type
            },
            body: f.body,
        },
        Some(f) if (400..500).contains(&f.status) => Response {
            status: f.status,
            content_type: "text/plain; charset=utf-8".into(),
            body: format!(
                "https://{}{}: the asset server answered {}",
                url.host, url.path, f.status
            )
            .into_bytes(),
        },
        Some(f) => failed(format!("the asset server answered {}", f.status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers(host: &str) -> bool {
        host == "f1.example" || host == "hub.example"
    }

    fn asset_url(url: &str, is_peer: impl Fn(&str) -> bool) -> Result<AssetUrl, Refusal> {
        let url = parse(url)?;
        judge(&url, is_peer)?;
        Ok(url)
    }

    #[test]
    fn a_peer_url_is_split_into_host_and_path() {
        let url = asset_url("https://F1.example/assets/a1?v=2#frag", peers).unwrap();
        assert_eq!(url.host, "f1.example");
        assert_eq!(url.path, "/assets/a1?v=2");
        assert_eq!(asset_url("https://hub.example", peers).unwrap().path, "/");
        assert_eq!(
            asset_url("https://hub.example?x", peers).unwrap().path,
            "/?x"
        );
    }

    #[test]
    fn only_peer_asset_servers_are_fetched_from() {
        for (url, status) in [
            ("http://f1.example/a", 400),
            ("ftp://f1.example/a", 400),
            ("https://user@f1.example/a", 400),
            ("https://evil.example/a", 403),
            ("https://f1.example:8443/a", 403),
            ("https://127.0.0.1/a", 403),
            ("https://f1.example./a", 403),
            ("https:///a", 400),
            ("https://f1.example.evil.example/a", 403),
        ] {
            let refusal = asset_url(url, peers).unwrap_err();
            assert_eq!(refusal.status, status, "{url}: {}", refusal.reason);
        }
    }

    #[test]
    fn answers_pass_the_asset_and_client_errors_and_hide_the_rest() {
        let url = asset_url("https://f1.example/a", peers).unwrap();
        let ok = answer(
            &url,
            Some(Fetched {
                status: 200,
                content_type: "image/png".into(),
                body: b"png".to_vec(),
            }),
        );
        assert_eq!((ok.status, ok.content_type.as_str()), (200, "image/png"));
        assert_eq!(ok.body, b"png");
        let fetched = |status| {
            Some(Fetched {
                status,
                content_type: String::new(),
                body: b"secret detail".to_vec(),
            })
        };
        assert_eq!(answer(&url, fetched(404)).status, 404);
        assert_eq!(answer(&url, fetched(503)).status, 502);
        assert_eq!(answer(&url, fetched(302)).status, 502);
        assert_eq!(answer(&url, None).status, 502);
        assert!(
            !String::from_utf8_lossy(&answer(&url, fetched(404)).body).contains("secret"),
            "the asset server's error body is not passed on"
        );
    }
}
