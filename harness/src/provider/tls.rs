//! Mutual TLS between providers: rustls on the ring provider, trust anchored in the test CA
//! of a `concord certs` folder.
//!
//! Servers ask every client for a certificate and verify any certificate presented against the
//! CA (`WebPkiClientVerifier`); a client that presents none is let through TLS with no proven
//! domain, so the HTTP layer can answer it 401 (the MIMI contract) and still serve the public
//! directory document. The proven domain of a peer is the first DNS subject alternative name of
//! its (verified) certificate other than `localhost`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::certs;

/// Why a TLS configuration could not be built from a folder.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{}: {what} (run `concord certs --out DIR` to make the folder)", path.display())]
    File { path: PathBuf, what: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// The crypto provider every configuration uses: ring.
pub fn crypto() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn file_err(path: &Path, what: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}

/// Every certificate of a PEM file (at least one).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    if !path.exists() {
        return Err(file_err(path, "missing"));
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, format!("cannot read PEM: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(path, format!("bad PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(file_err(path, "holds no CERTIFICATE block"));
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    if !path.exists() {
        return Err(file_err(path, "missing"));
    }
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| file_err(path, format!("bad PEM private key: {e}")))
}

/// The test CA of a folder as a root store.
pub fn roots(dir: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let path = dir.join(certs::CA_CERT);
    let mut store = RootCertStore::empty();
    for cert in load_certs(&path)? {
        store
            .add(cert)
            .map_err(|e| file_err(&path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(Arc::new(store))
}

/// The server configuration of provider `domain`: its certificate from the folder, client
/// certificates requested and verified against the folder's CA, HTTP/1.1 by ALPN.
pub fn server_config(dir: &Path, domain: &str) -> Result<Arc<ServerConfig>, TlsError> {
    let roots = roots(dir)?;
    let chain = load_certs(&certs::cert_path(dir, domain))?;
    let key = load_key(&certs::key_path(dir, domain))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(roots, crypto())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Config(format!("client certificate verifier: {e}")))?;
    let mut config = ServerConfig::builder_with_provider(crypto())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(format!("certificate of {domain}: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration trusting the folder's CA, presenting the certificate of `domain`
/// (or none: `None`, for the checks that a server refuses anonymous requests).
pub fn client_config(dir: &Path, domain: Option<&str>) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = roots(dir)?;
    let builder = ClientConfig::builder_with_provider(crypto())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    let mut config = match domain {
        Some(domain) => {
            let chain = load_certs(&certs::cert_path(dir, domain))?;
            let key = load_key(&certs::key_path(dir, domain))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::Config(format!("client certificate of {domain}: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The provider domain a verified peer certificate proves: its first DNS subject alternative
/// name other than `localhost`. `None` when there is no certificate or no such name.
pub fn peer_domain(chain: Option<&[CertificateDer<'_>]>) -> Option<String> {
    let leaf = chain?.first()?;
    let cert = webpki::EndEntityCert::try_from(leaf).ok()?;
    cert.valid_dns_names()
        .find(|name| !name.eq_ignore_ascii_case("localhost"))
        .map(|name| name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_load_and_peer_domain_reads_the_san() {
        let dir = std::env::temp_dir().join(format!("concord-tls-{}", std::process::id()));
        certs::generate(&dir, &["hub.example".to_string(), "f1.example".to_string()]).unwrap();
        server_config(&dir, "hub.example").unwrap();
        client_config(&dir, Some("f1.example")).unwrap();
        client_config(&dir, None).unwrap();
        let chain = load_certs(&certs::cert_path(&dir, "f1.example")).unwrap();
        assert_eq!(peer_domain(Some(&chain)).as_deref(), Some("f1.example"));
        assert_eq!(peer_domain(None), None);
        let missing = server_config(&dir, "nobody.example").unwrap_err();
        assert!(
            missing.to_string().contains("nobody.example.pem"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
