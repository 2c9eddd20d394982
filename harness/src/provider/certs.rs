//! `concord certs`: a test certificate authority and one certificate per provider domain, for
//! mutual TLS between providers on **loopback only**.
//!
//! The keys are written unencrypted next to the certificates and the CA's key is kept, so anyone
//! who can read the folder can mint certificates: these files exist so that Concord's providers
//! and a provider under test can authenticate each other on 127.0.0.1 in a test run, never for a
//! network anyone else can reach.
//!
//! Files written in `--out DIR` (PEM):
//!
//! | file | content |
//! |---|---|
//! | `ca.pem` | the test CA's certificate (trust anchor for servers and clients) |
//! | `ca.key.pem` | the test CA's private key (PKCS#8) |
//! | `DOMAIN.pem` | the certificate of provider DOMAIN, signed by the CA; SANs: DOMAIN, `localhost`, IP 127.0.0.1 |
//! | `DOMAIN.key.pem` | its private key (PKCS#8) |
//! | `README.txt` | what these files are, and that they are for loopback use only |
//!
//! A provider's certificate serves both as its server certificate and as its client
//! certificate when it calls other providers; the peer's domain is the first DNS name in the
//! certificate's subject alternative names other than `localhost`.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// The provider domains `concord certs` makes certificates for when `--domains` is not given:
/// a hub, a follower, and the two followers `concord provider-test` runs.
pub const DEFAULT_DOMAINS: &[&str] = &[
    "hub.example",
    "follower.example",
    "f1.example",
    "f2.example",
];

/// File name of the CA certificate in a TLS folder.
pub const CA_CERT: &str = "ca.pem";
/// File name of the CA private key in a TLS folder.
pub const CA_KEY: &str = "ca.key.pem";

/// The certificate file of `domain` in a TLS folder.
pub fn cert_path(dir: &Path, domain: &str) -> PathBuf {
    dir.join(format!("{domain}.pem"))
}

/// The private key file of `domain` in a TLS folder.
pub fn key_path(dir: &Path, domain: &str) -> PathBuf {
    dir.join(format!("{domain}.key.pem"))
}

/// Why `concord certs` could not write the folder.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error(
        "--domains: `{0}` is not a DNS name (letters, digits, '-' and '.', no leading or trailing '.')"
    )]
    BadDomain(String),
    #[error("--domains: no domain given")]
    NoDomains,
    #[error("cannot generate the certificate of {what}: {source}")]
    Generate {
        what: String,
        #[source]
        source: rcgen::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Whether `name` is a plain DNS name usable as a provider domain.
pub fn valid_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The validity window: from the start of last year to the start of the year after next
/// (computed from the system clock; no date crate needed).
fn validity(params: &mut CertificateParams) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Mean Gregorian year: 365.2425 days.
    let year = 1970 + (secs / 31_556_952) as i32;
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
}

fn write(path: PathBuf, text: &str) -> Result<(), CertsError> {
    std::fs::write(&path, text).map_err(|source| CertsError::Write { path, source })
}

/// Writes a private key readable by its owner only (0600 on Unix), an existing file
/// included: a test CA's key lets anyone who reads it mint certificates the providers trust.
fn write_private(path: PathBuf, text: &str) -> Result<(), CertsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&path).and_then(|mut file| {
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
    });
    written.map_err(|source| CertsError::Write { path, source })
}

/// The test CA's parameters (the same every time, so that its key in a folder can sign
/// more certificates later).
fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.distinguished_name.push(
        DnType::CommonName,
        "Concord loopback test CA (not for real use)",
    );
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca_params);
    Ok(ca_params)
}

/// One provider certificate and key, signed by `issuer`, written to `out`.
fn issue(
    out: &Path,
    issuer: &Issuer<'_, KeyPair>,
    domain: &str,
) -> Result<Vec<PathBuf>, CertsError> {
    let generate_err = |source| CertsError::Generate {
        what: domain.to_string(),
        source,
    };
    let mut params = CertificateParams::new(vec![domain.to_string(), "localhost".to_string()])
        .map_err(generate_err)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::V4(
            std::net::Ipv4Addr::LOCALHOST,
        )));
    params.distinguished_name.push(DnType::CommonName, domain);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params);
    let key = KeyPair::generate().map_err(generate_err)?;
    let cert = params.signed_by(&key, issuer).map_err(generate_err)?;
    write(cert_path(out, domain), &cert.pem())?;
    write_private(key_path(out, domain), &key.serialize_pem())?;
    Ok(vec![cert_path(out, domain), key_path(out, domain)])
}

/// Adds certificates for the `domains` a `concord certs` folder lacks, signed by its CA
/// (whose key is in the folder). Returns the domains added.
pub fn add_missing(dir: &Path, domains: &[String]) -> Result<Vec<String>, CertsError> {
    let missing: Vec<String> = domains
        .iter()
        .filter(|d| !cert_path(dir, d).is_file())
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(missing);
    }
    if let Some(bad) = missing.iter().find(|d| !valid_domain(d)) {
        return Err(CertsError::BadDomain(bad.clone()));
    }
    let key_file = dir.join(CA_KEY);
    let pem = std::fs::read_to_string(&key_file).map_err(|source| CertsError::Read {
        path: key_file.clone(),
        source,
    })?;
    let generate_err = |source| CertsError::Generate {
        what: "the CA".to_string(),
        source,
    };
    let ca_key = KeyPair::from_pem(&pem).map_err(generate_err)?;
    let issuer = Issuer::new(ca_params().map_err(generate_err)?, ca_key);
    for domain in &missing {
        issue(dir, &issuer, domain)?;
    }
    Ok(missing)
}

/// Writes the test CA and one certificate and key per domain into `out` (created if missing).
/// Returns the files written.
pub fn generate(out: &Path, domains: &[String]) -> Result<Vec<PathBuf>, CertsError> {
    if domains.is_empty() {
        return Err(CertsError::NoDomains);
    }
    if let Some(bad) = domains.iter().find(|d| !valid_domain(d)) {
        return Err(CertsError::BadDomain(bad.clone()));
    }
    std::fs::create_dir_all(out).map_err(|source| CertsError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let generate_err = |what: &str| {
        let what = what.to_string();
        move |source| CertsError::Generate { what, source }
    };

    let ca_params = ca_params().map_err(generate_err("the CA"))?;
    let ca_key = KeyPair::generate().map_err(generate_err("the CA"))?;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(generate_err("the CA"))?;
    let mut written = Vec::new();
    write(out.join(CA_CERT), &ca_cert.pem())?;
    written.push(out.join(CA_CERT));
    write_private(out.join(CA_KEY), &ca_key.serialize_pem())?;
    written.push(out.join(CA_KEY));
    let issuer = Issuer::new(ca_params, ca_key);

    for domain in domains {
        written.extend(issue(out, &issuer, domain)?);
    }

    let readme = format!(
        "Concord loopback test certificates (concord certs).\n\
         \n\
         FOR LOOPBACK TESTS ONLY: the keys are unencrypted and the CA key ({CA_KEY}) is here, so\n\
         anyone who reads this folder can mint certificates this CA vouches for. Never trust\n\
         {CA_CERT} outside a test run on 127.0.0.1.\n\
         \n\
         {CA_CERT}          the test CA's certificate (trust anchor)\n\
         {CA_KEY}      the test CA's private key\n\
         DOMAIN.pem      provider DOMAIN's certificate (SANs: DOMAIN, localhost, 127.0.0.1),\n\
         \x20               used as server and as client certificate\n\
         DOMAIN.key.pem  its private key\n\
         peers.toml      (optional) DOMAIN = \"https://127.0.0.1:PORT\" lines: how providers\n\
         \x20               reach each other on loopback, read at each lookup\n\
         \n\
         Domains: {}\n",
        domains.join(", ")
    );
    write(out.join("README.txt"), &readme)?;
    written.push(out.join("README.txt"));
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked() {
        assert!(valid_domain("hub.example"));
        assert!(valid_domain("f1.example"));
        assert!(!valid_domain(""));
        assert!(!valid_domain("a..b"));
        assert!(!valid_domain("-a.example"));
        assert!(!valid_domain("a b"));
        assert!(!valid_domain("a.example."));
    }

    #[test]
    fn writes_ca_and_one_pair_per_domain() {
        let dir = std::env::temp_dir().join(format!("concord-certs-{}", std::process::id()));
        let domains = vec!["hub.example".to_string(), "f1.example".to_string()];
        let files = generate(&dir, &domains).unwrap();
        assert_eq!(files.len(), 2 + 2 * 2 + 1);
        for f in &files {
            assert!(f.exists(), "{}", f.display());
        }
        #[cfg(unix)]
        for key in [dir.join(CA_KEY), key_path(&dir, "hub.example")] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is readable by others", key.display());
        }
        let pem = std::fs::read_to_string(cert_path(&dir, "hub.example")).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(matches!(
            generate(&dir, &["bad domain".to_string()]),
            Err(CertsError::BadDomain(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
