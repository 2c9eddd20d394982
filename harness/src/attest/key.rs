//! Attestation keys: Ed25519 in the PEM files every tool reads (RFC 8410).
//!
//! ```text
//! attest.key  -----BEGIN PRIVATE KEY-----  PKCS#8 v1 (RFC 5958): 302e020100300506032b6570
//!                                          04220420 ‖ the 32-byte seed
//! attest.pub  -----BEGIN PUBLIC KEY-----   SubjectPublicKeyInfo: 302a300506032b6570032100
//!                                          ‖ the 32-byte public key
//! ```
//!
//! These are the exact DER encodings RFC 8410 gives for id-Ed25519 (1.3.101.112), the ones
//! `openssl genpkey -algorithm ed25519` writes, so `openssl pkey -in attest.key -pubout`
//! prints `attest.pub`. The key id in a signature is the hex SHA-256 of the 32 public key
//! bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::AttestError;

/// PKCS#8 v1 `PrivateKeyInfo` of an Ed25519 key, up to its 32-byte seed (RFC 8410 §7).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// `SubjectPublicKeyInfo` of an Ed25519 key, up to its 32 bytes (RFC 8410 §4).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const PRIVATE_LABEL: &str = "PRIVATE KEY";
const PUBLIC_LABEL: &str = "PUBLIC KEY";

/// The private key file `concord keygen` writes.
pub const PRIVATE_FILE: &str = "attest.key";
/// The public key file `concord keygen` writes.
pub const PUBLIC_FILE: &str = "attest.pub";

/// A signing key read from its file (the file is kept for messages).
pub struct AttestKey {
    signing: SigningKey,
    file: PathBuf,
}

impl std::fmt::Debug for AttestKey {
    // The seed stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttestKey")
            .field("file", &self.file)
            .field("keyid", &self.keyid())
            .finish_non_exhaustive()
    }
}

impl AttestKey {
    /// Reads a PKCS#8 PEM Ed25519 private key.
    pub fn load(file: &Path) -> Result<AttestKey, AttestError> {
        let text = read_text(file)?;
        let der = pem_body(&text, PRIVATE_LABEL, file)?;
        let seed = der
            .strip_prefix(&PKCS8_PREFIX[..])
            .and_then(|seed| <[u8; 32]>::try_from(seed).ok())
            .ok_or_else(|| {
                AttestError::malformed(
                    file,
                    "PrivateKeyInfo",
                    format!(
                        "not an Ed25519 PKCS#8 v1 key (RFC 8410: {} DER bytes starting {})",
                        PKCS8_PREFIX.len() + 32,
                        hex::encode(PKCS8_PREFIX)
                    ),
                )
            })?;
        Ok(AttestKey::from_seed(seed, file))
    }

    /// A key from its 32-byte seed; `file` names it in messages.
    pub fn from_seed(seed: [u8; 32], file: &Path) -> AttestKey {
        AttestKey {
            signing: SigningKey::from_bytes(&seed),
            file: file.to_path_buf(),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn keyid(&self) -> String {
        keyid(&self.verifying_key())
    }

    pub(super) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    fn private_pem(&self) -> String {
        let mut der = PKCS8_PREFIX.to_vec();
        der.extend_from_slice(self.signing.as_bytes());
        pem(PRIVATE_LABEL, &der)
    }
}

/// The key id of `key`: hex SHA-256 of its 32 bytes.
pub fn keyid(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// `key` as a PEM SubjectPublicKeyInfo.
pub fn public_pem(key: &VerifyingKey) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    pem(PUBLIC_LABEL, &der)
}

/// Reads a PEM SubjectPublicKeyInfo Ed25519 public key.
pub fn load_public(file: &Path) -> Result<VerifyingKey, AttestError> {
    let text = read_text(file)?;
    let der = pem_body(&text, PUBLIC_LABEL, file)?;
    let bytes = der
        .strip_prefix(&SPKI_PREFIX[..])
        .and_then(|key| <[u8; 32]>::try_from(key).ok())
        .ok_or_else(|| {
            AttestError::malformed(
                file,
                "SubjectPublicKeyInfo",
                format!(
                    "not an Ed25519 public key (RFC 8410: {} DER bytes starting {})",
                    SPKI_PREFIX.len() + 32,
                    hex::encode(SPKI_PREFIX)
                ),
            )
        })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        AttestError::malformed(
            file,
            "subjectPublicKey",
            "not a point of Edwards25519".to_string(),
        )
    })
}

/// Writes a fresh key pair into `dir` (created if missing): `attest.key` (mode 0600) and
/// `attest.pub`. Refuses to replace either file unless `force`; returns the key.
pub fn generate(dir: &Path, force: bool) -> Result<AttestKey, AttestError> {
    let private = dir.join(PRIVATE_FILE);
    let public = dir.join(PUBLIC_FILE);
    if !force {
        for file in [&private, &public] {
            if file.exists() {
                return Err(AttestError::KeyExists { file: file.clone() });
            }
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| AttestError::write(dir, &e))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| AttestError::Randomness(e.to_string()))?;
    let key = AttestKey::from_seed(seed, &private);
    write_private(&private, key.private_pem().as_bytes(), force)?;
    std::fs::write(&public, public_pem(&key.verifying_key()))
        .map_err(|e| AttestError::write(&public, &e))?;
    Ok(key)
}

/// Writes the private key readable by its owner only, from the moment the file exists.
fn write_private(file: &Path, text: &[u8], force: bool) -> Result<(), AttestError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // Not `create`: a file that appeared since the check is not replaced either.
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut handle = options.open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => AttestError::KeyExists {
            file: file.to_path_buf(),
        },
        _ => AttestError::write(file, &e),
    })?;
    // A replaced file keeps its old mode through `open`: set it again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        handle
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| AttestError::write(file, &e))?;
    }
    handle
        .write_all(text)
        .map_err(|e| AttestError::write(file, &e))
}

fn read_text(file: &Path) -> Result<String, AttestError> {
    let bytes = std::fs::read(file).map_err(|e| AttestError::read(file, &e))?;
    String::from_utf8(bytes)
        .map_err(|_| AttestError::malformed(file, "PEM", "not UTF-8 text".to_string()))
}

/// The DER bytes of the one `label` block of a PEM text (RFC 7468).
fn pem_body(text: &str, label: &str, file: &Path) -> Result<Vec<u8>, AttestError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut lines = text.lines().map(str::trim);
    if !lines.by_ref().any(|line| line == begin) {
        let found = text
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with("-----BEGIN "))
            .map_or_else(|| "no PEM block".to_string(), |line| format!("`{line}`"));
        return Err(AttestError::malformed(
            file,
            "PEM label",
            format!("expected `{begin}`, found {found}"),
        ));
    }
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        body.push_str(line);
    }
    if !ended {
        return Err(AttestError::malformed(
            file,
            "PEM label",
            format!("no `{end}` line"),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| AttestError::malformed(file, "PEM body", format!("not base64: {e}")))
}

/// A PEM block, 64 characters a line (RFC 7468).
fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
