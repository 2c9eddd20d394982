//! Bytes in, OpenMLS types out: decoding what the interface hands the client, and the
//! refusal every decoding failure turns into.

use concord_client::ClientError;
use concord_client::proto;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _, VLBytes};
use openmls::prelude::{
    BasicCredential, Credential, Extension, KeyPackage, KeyPackageIn, MlsMessageIn,
    ProtocolMessage, ProtocolVersion, RatchetTreeIn,
};
use openmls_traits::crypto::OpenMlsCrypto;

/// The client refused the request; the message is OpenMLS's error, or what was wrong with
/// the input.
pub(crate) fn refused(method: &'static str, error: impl std::fmt::Display) -> ClientError {
    ClientError::Refused {
        method,
        code: "InvalidArgument".into(),
        message: error.to_string(),
    }
}

/// An MLSMessage, with nothing after it.
pub(crate) fn decode_message(
    method: &'static str,
    bytes: &[u8],
) -> Result<MlsMessageIn, ClientError> {
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|e| refused(method, format!("not an MLSMessage: {e}")))
}

/// A PublicMessage or PrivateMessage.
pub(crate) fn protocol_message(
    method: &'static str,
    bytes: &[u8],
) -> Result<ProtocolMessage, ClientError> {
    decode_message(method, bytes)?
        .try_into_protocol_message()
        .map_err(|e| {
            refused(
                method,
                format!("not a PublicMessage or PrivateMessage: {e}"),
            )
        })
}

/// An out-of-band ratchet tree: empty bytes mean "none given".
pub(crate) fn decode_tree(
    method: &'static str,
    bytes: &[u8],
) -> Result<Option<RatchetTreeIn>, ClientError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    RatchetTreeIn::tls_deserialize_exact(bytes)
        .map(Some)
        .map_err(|e| refused(method, format!("`ratchet_tree` is not a ratchet tree: {e}")))
}

/// A GroupInfo inside an MLSMessage, signature not yet verified.
pub(crate) fn decode_group_info(
    method: &'static str,
    bytes: &[u8],
) -> Result<VerifiableGroupInfo, ClientError> {
    match decode_message(method, bytes)?.extract() {
        openmls::prelude::MlsMessageBodyIn::GroupInfo(group_info) => Ok(group_info),
        _ => Err(refused(
            method,
            "`group_info` is not an MLSMessage carrying a GroupInfo",
        )),
    }
}

/// A KeyPackage inside an MLSMessage, validated by OpenMLS (signature, version, keys).
pub(crate) fn decode_key_package(
    method: &'static str,
    bytes: &[u8],
    crypto: &impl OpenMlsCrypto,
) -> Result<KeyPackage, ClientError> {
    let message = decode_message(method, bytes)?;
    let openmls::prelude::MlsMessageBodyIn::KeyPackage(key_package) = message.extract() else {
        return Err(refused(
            method,
            "`key_package` is not an MLSMessage carrying a KeyPackage",
        ));
    };
    let key_package: KeyPackageIn = key_package;
    key_package
        .validate(crypto, ProtocolVersion::Mls10)
        .map_err(|e| refused(method, format!("key package rejected: {e}")))
}

/// The interface's extensions as OpenMLS extensions: each one encoded as the RFC's
/// `Extension` struct and decoded by OpenMLS, so known types get their typed form and
/// unknown ones stay opaque.
pub(crate) fn extensions(
    method: &'static str,
    specs: &[proto::Extension],
) -> Result<Vec<Extension>, ClientError> {
    specs
        .iter()
        .map(|spec| {
            let extension_type = u16::try_from(spec.extension_type).map_err(|_| {
                refused(
                    method,
                    format!("extension type {} exceeds 65535", spec.extension_type),
                )
            })?;
            let mut bytes = extension_type.to_be_bytes().to_vec();
            VLBytes::new(spec.extension_data.clone())
                .tls_serialize(&mut bytes)
                .map_err(|e| refused(method, format!("extension {extension_type}: {e}")))?;
            Extension::tls_deserialize_exact(&bytes).map_err(|e| {
                refused(
                    method,
                    format!("extension {extension_type}: OpenMLS cannot decode its data: {e}"),
                )
            })
        })
        .collect()
}

/// The identity a basic credential carries (other credential types have none here).
pub(crate) fn identity_of(credential: &Credential) -> Option<Vec<u8>> {
    BasicCredential::try_from(credential.clone())
        .ok()
        .map(|basic| basic.identity().to_vec())
}
