//! The DSSE envelope (Dead Simple Signing Envelope, protocol v1): a payload, its type, and
//! signatures over the pre-authentication encoding of both.
//!
//! ```text
//! { "payloadType": "application/vnd.in-toto+json",
//!   "payload":     base64(statement JSON),
//!   "signatures":  [ { "keyid": hex SHA-256 of the public key,
//!                      "sig":   base64(Ed25519(PAE(payloadType, payload))) } ] }
//!
//! PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
//!                   (LEN: the byte length in ASCII decimal, no leading zeros)
//! ```
//!
//! The signature covers the type as well as the bytes, so a payload cannot be passed off
//! as another kind of document.

use std::path::Path;

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::AttestError;
use super::key::{AttestKey, keyid};

/// The payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope as it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 of the payload bytes.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Hex SHA-256 of the signer's 32-byte public key. Not signed: a verifier only tries
    /// the signatures whose key id is its key's (or empty).
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub sig: String,
}

/// The pre-authentication encoding DSSE signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// An envelope of `payload`, signed by `key`.
pub fn sign(key: &AttestKey, payload_type: &str, payload: &[u8]) -> Envelope {
    let signature: Signature = key.signing_key().sign(&pae(payload_type, payload));
    let base64 = base64::engine::general_purpose::STANDARD;
    Envelope {
        payload_type: payload_type.to_string(),
        payload: base64.encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: key.keyid(),
            sig: base64.encode(signature.to_bytes()),
        }],
    }
}

/// Checks that a signature of `envelope` verifies with `key`; returns the payload bytes.
/// `file` (the envelope's) names the place of a malformed field.
///
/// An undecodable field is bad input ([`AttestError::Malformed`]); a well-formed signature
/// that does not verify is a failed check ([`AttestError::Signature`]).
pub fn open(envelope: &Envelope, key: &VerifyingKey, file: &Path) -> Result<Vec<u8>, AttestError> {
    let payload = decode(&envelope.payload)
        .ok_or_else(|| AttestError::malformed(file, "payload", "not base64".to_string()))?;
    if envelope.signatures.is_empty() {
        return Err(AttestError::malformed(
            file,
            "signatures",
            "empty: the envelope is not signed".to_string(),
        ));
    }
    let message = pae(&envelope.payload_type, &payload);
    let expected = keyid(key);
    for (index, entry) in envelope.signatures.iter().enumerate() {
        let field = || format!("signatures[{index}].sig");
        let bytes = decode(&entry.sig)
            .ok_or_else(|| AttestError::malformed(file, &field(), "not base64".to_string()))?;
        let signature = Signature::from_slice(&bytes).map_err(|_| {
            AttestError::malformed(
                file,
                &field(),
                format!("{} bytes, an Ed25519 signature has 64", bytes.len()),
            )
        })?;
        // DSSE lets a verifier pass over signatures whose key id names another key.
        let ours = entry.keyid.is_empty() || entry.keyid.eq_ignore_ascii_case(&expected);
        if ours && key.verify_strict(&message, &signature).is_ok() {
            return Ok(payload);
        }
    }
    let keyids: Vec<&str> = envelope
        .signatures
        .iter()
        .map(|s| s.keyid.as_str())
        .collect();
    Err(AttestError::Signature {
        file: file.to_path_buf(),
        keyid: expected,
        envelope_keyids: keyids.join(", "),
    })
}

/// Base64, standard or URL-safe, padded or not (DSSE lets the signer choose).
fn decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, config);
    standard
        .decode(text)
        .or_else(|_| url_safe.decode(text))
        .ok()
}
