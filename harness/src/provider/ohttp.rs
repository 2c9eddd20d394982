//! Download using Oblivious HTTP (draft-ietf-mimi-protocol 5.10.3, RFC 9458): the hub's
//! OHTTP Gateway. A client's request, encapsulated to the hub's key configuration and
//! forwarded by its provider's relay, is opened here; its target must be an asset server
//! of one of the hub's peer providers (MIMI-PROTOCOL-5.10.3-1), judged and fetched as a
//! proxyDownload of the same URL is; the answer goes back encapsulated.
//!
//! ```text
//!  GET /.well-known/ohttp-gateway ──> application/ohttp-keys (RFC 9540)
//!  relay ──POST /ohttp-gateway, message/ohttp-req──> decapsulate ──> binary HTTP GET
//!        https://HOST/PATH ──> the service: proxyDownload/{that URL} ──> fetch or refusal
//!  relay <──200, message/ohttp-res── encapsulate <── binary HTTP response (status, content)
//! ```
//!
//! Profile `concord-mimi-06` (MIMI-PROTOCOL-5.10.3-7): the key configuration is at
//! `/.well-known/ohttp-gateway`, the gateway resource at `/ohttp-gateway` (both named in the
//! directory as `ohttpKeys` and `ohttpGateway`); the encapsulated request is a known-length
//! binary HTTP GET of an https URL. What cannot be opened is 400; a target that is not a
//! peer's asset server, or an asset that cannot be fetched, is the status of the
//! encapsulated response (403, 404, 502), the outer response being 200 (RFC 9458 6.4).
//! The gateway's key is made at start (X25519, HKDF-SHA256, AES-128-GCM or
//! ChaCha20Poly1305) and lives as long as the server.
//!
//! The client side ([`encapsulate_get`], [`open_response`]) is what `concord provider-test`
//! uses to check a hub's gateway.

use std::io::Cursor;

use bhttp::{Message, Mode, StatusCode};
use ohttp::hpke::{Aead, Kdf, Kem};
use ohttp::{ClientRequest, ClientResponse, KeyConfig, Server, ServerResponse, SymmetricSuite};

/// Where a provider serves its OHTTP key configuration (RFC 9540).
pub const KEYS_PATH: &str = "/.well-known/ohttp-gateway";
/// The gateway resource.
pub const GATEWAY_PATH: &str = "/ohttp-gateway";
/// Media types of RFC 9458 and RFC 9540.
pub const KEYS_TYPE: &str = "application/ohttp-keys";
pub const REQUEST_TYPE: &str = "message/ohttp-req";
pub const RESPONSE_TYPE: &str = "message/ohttp-res";

/// A hub's OHTTP Gateway: its key configuration and the server side of RFC 9458.
pub struct Gateway {
    server: Server,
    keys: Vec<u8>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

/// A request opened by the gateway: the target URL, and what encapsulates the answer.
#[derive(Debug)]
pub struct Opened {
    pub url: String,
    pub reply: ServerResponse,
}

impl Gateway {
    /// A gateway with a fresh key (key id 1).
    pub fn new() -> Result<Self, String> {
        let symmetric = vec![
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm),
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
        ];
        let config = KeyConfig::new(1, Kem::X25519Sha256, symmetric)
            .map_err(|e| format!("OHTTP key configuration: {e}"))?;
        let keys = KeyConfig::encode_list(&[&config])
            .map_err(|e| format!("OHTTP key configuration: {e}"))?;
        let server = Server::new(config).map_err(|e| format!("OHTTP gateway: {e}"))?;
        Ok(Self { server, keys })
    }

    /// The key configuration list (`application/ohttp-keys`).
    pub fn keys(&self) -> &[u8] {
        &self.keys
    }

    /// Opens an encapsulated request: its target URL (`https://AUTHORITY/PATH`), or why not
    /// (400: it cannot be decapsulated, is no binary HTTP request, or no https GET).
    pub fn open(&self, body: &[u8]) -> Result<Opened, String> {
        let (request, reply) = self
            .server
            .decapsulate(body)
            .map_err(|e| format!("the request cannot be decapsulated: {e}"))?;
        let message = Message::read_bhttp(&mut Cursor::new(&request[..]))
            .map_err(|e| format!("the decapsulated request is no binary HTTP message: {e}"))?;
        let control = message.control();
        let field =
            |value: Option<&[u8]>| String::from_utf8_lossy(value.unwrap_or_default()).into_owned();
        let (method, scheme) = (field(control.method()), field(control.scheme()));
        if method != "GET" || scheme != "https" {
            return Err(format!(
                "the encapsulated request is {method} {scheme}://...: only https GET is relayed"
            ));
        }
        Ok(Opened {
            url: format!(
                "https://{}{}",
                field(control.authority()),
                field(control.path())
            ),
            reply,
        })
    }
}

/// The encapsulated response carrying `status` and `content`.
pub fn encapsulate_response(
    reply: ServerResponse,
    status: u16,
    content_type: &str,
    content: &[u8],
) -> Result<Vec<u8>, String> {
    let status = StatusCode::try_from(status).map_err(|e| format!("status {status}: {e}"))?;
    let mut message = Message::response(status);
    if !content_type.is_empty() {
        message.put_header("content-type", content_type);
    }
    message.write_content(content);
    let mut encoded = Vec::new();
    message
        .write_bhttp(Mode::KnownLength, &mut encoded)
        .map_err(|e| format!("binary HTTP: {e}"))?;
    reply
        .encapsulate(&encoded)
        .map_err(|e| format!("OHTTP encapsulation: {e}"))
}

/// Client side: a GET of `https://authority/path` encapsulated to the first usable
/// configuration of `keys` (`application/ohttp-keys`).
pub fn encapsulate_get(
    keys: &[u8],
    authority: &str,
    path: &str,
) -> Result<(Vec<u8>, ClientResponse), String> {
    let client = ClientRequest::from_encoded_config_list(keys)
        .map_err(|e| format!("no usable OHTTP key configuration: {e}"))?;
    let message = Message::request(
        b"GET".to_vec(),
        b"https".to_vec(),
        authority.as_bytes().to_vec(),
        path.as_bytes().to_vec(),
    );
    let mut encoded = Vec::new();
    message
        .write_bhttp(Mode::KnownLength, &mut encoded)
        .map_err(|e| format!("binary HTTP: {e}"))?;
    client
        .encapsulate(&encoded)
        .map_err(|e| format!("OHTTP encapsulation: {e}"))
}

/// Client side: the status and content of an encapsulated response.
pub fn open_response(reply: ClientResponse, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let decoded = reply
        .decapsulate(body)
        .map_err(|e| format!("the response cannot be decapsulated: {e}"))?;
    let message = Message::read_bhttp(&mut Cursor::new(&decoded[..]))
        .map_err(|e| format!("the decapsulated response is no binary HTTP message: {e}"))?;
    let status = message
        .control()
        .status()
        .map(u16::from)
        .ok_or("the decapsulated message is no response")?;
    Ok((status, message.content().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_goes_through_the_gateway_and_back() {
        let gateway = Gateway::new().unwrap();
        let (request, reply) =
            encapsulate_get(gateway.keys(), "f1.example", "/assets/a?v=1").unwrap();
        let opened = gateway.open(&request).unwrap();
        assert_eq!(opened.url, "https://f1.example/assets/a?v=1");
        let response = encapsulate_response(opened.reply, 200, "image/png", b"png").unwrap();
        assert_eq!(
            open_response(reply, &response).unwrap(),
            (200, b"png".to_vec())
        );
    }

    #[test]
    fn what_cannot_be_opened_is_refused() {
        let gateway = Gateway::new().unwrap();
        assert!(gateway.open(b"not encapsulated").is_err());
        let other = Gateway::new().unwrap();
        let (request, _) = encapsulate_get(other.keys(), "f1.example", "/a").unwrap();
        assert!(gateway.open(&request).is_err(), "another gateway's key");
    }
}
