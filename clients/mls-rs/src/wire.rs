//! The wire side of the interface: MLS structures in and out as bytes, the interface's
//! numbers and extension lists as mls-rs values, and the errors every RPC answers with.

use concord_client::ClientError;
use mls_rs::error::MlsError;
use mls_rs::group::ExportedTree;
use mls_rs::{CipherSuite, Extension, ExtensionList, MlsMessage};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;

/// A refusal by mls-rs (or of a malformed request): the message says why.
pub(crate) fn refused(method: &'static str, error: impl std::fmt::Display) -> ClientError {
    ClientError::Refused {
        method,
        code: "InvalidArgument".into(),
        message: error.to_string(),
    }
}

/// An operation mls-rs does not offer.
pub(crate) fn unsupported(method: &'static str) -> ClientError {
    ClientError::Unsupported { method }
}

pub(crate) fn decode_message(
    method: &'static str,
    bytes: &[u8],
) -> Result<MlsMessage, ClientError> {
    MlsMessage::from_bytes(bytes).map_err(|e| refused(method, format!("not an MLSMessage: {e}")))
}

/// An out-of-band ratchet tree: empty bytes mean "none given".
pub(crate) fn decode_tree(
    method: &'static str,
    bytes: &[u8],
) -> Result<Option<ExportedTree<'static>>, ClientError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    ExportedTree::from_bytes(bytes)
        .map(Some)
        .map_err(|e| refused(method, format!("ratchet tree: {e}")))
}

pub(crate) fn encode(method: &'static str, message: &MlsMessage) -> Result<Vec<u8>, ClientError> {
    message.to_bytes().map_err(|e| refused(method, e))
}

pub(crate) fn encode_tree(
    method: &'static str,
    tree: &ExportedTree<'_>,
) -> Result<Vec<u8>, ClientError> {
    tree.to_bytes().map_err(|e| refused(method, e))
}

pub(crate) fn cipher_suite(method: &'static str, value: u32) -> Result<CipherSuite, ClientError> {
    let id = u16::try_from(value).map_err(|_| refused(method, format!("cipher suite {value}")))?;
    let suite = CipherSuite::new(id);
    if !RustCryptoProvider::all_supported_cipher_suites().contains(&suite) {
        return Err(refused(
            method,
            MlsError::UnsupportedCipherSuite(suite).to_string(),
        ));
    }
    Ok(suite)
}

/// The interface's extensions as an mls-rs list (a repeated type is refused).
pub(crate) fn extension_list(
    method: &'static str,
    extensions: &[concord_client::proto::Extension],
) -> Result<ExtensionList, ClientError> {
    let mut list = ExtensionList::new();
    for e in extensions {
        let extension_type = u16::try_from(e.extension_type)
            .map_err(|_| refused(method, format!("extension type {}", e.extension_type)))?;
        let extension = Extension::new(extension_type.into(), e.extension_data.clone());
        if list.has_extension(extension.extension_type) {
            return Err(refused(
                method,
                format!("extension type {extension_type} given twice"),
            ));
        }
        list.set(extension);
    }
    Ok(list)
}
