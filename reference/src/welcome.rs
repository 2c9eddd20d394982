//! Joining via a Welcome message (RFC 9420 section 12.4.3.1): the cryptographic part.
//!
//! ```text
//! Welcome.secrets[KeyPackageRef] ─DecryptWithLabel(init_priv, "Welcome", encrypted_group_info)─> GroupSecrets
//! GroupSecrets.joiner_secret + psk_secret ─> welcome_secret ─> (key, nonce)
//! Welcome.encrypted_group_info ─AEAD.Open(key, nonce, "")─> GroupInfo
//! joiner_secret + psk_secret + GroupInfo.group_context ─> epoch secrets ─> confirmation_tag check
//! ```
//!
//! Checking the GroupInfo signature needs the signer's key, which lives in the ratchet
//! tree: [`verify_group_info_signature`] takes it from the caller.

use crate::codec::{Bytes, Codec, DecodeError};
use crate::crypto::{CryptoError, Suite};
use crate::framing::constant_time_eq;
use crate::key_schedule::{self, EpochSecrets};
use crate::messages::{
    GroupInfo, GroupSecrets, KeyPackage, KeyPackageRef, PreSharedKeyId, Welcome,
};
use crate::psk;
use crate::transcript;

/// Why a Welcome cannot be opened. Peer-caused variants name the rule they enforce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WelcomeError {
    #[error("malformed Welcome content: {0}")]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The Welcome, the key package it would consume, the GroupInfo it carries and the
    /// suite the caller opens it with must all agree.
    #[error(
        "Welcome cipher suite {welcome} differs from the key package's or GroupInfo's {key_package}"
    )]
    CipherSuiteMismatch { welcome: u16, key_package: u16 },
    /// No `EncryptedGroupSecrets` entry names this client's key package.
    #[error("the Welcome has no GroupSecrets for this key package")]
    NotForThisKeyPackage,
    /// RFC9420-12.4.3.1-1: the GroupSecrets do not decrypt.
    #[error(
        "GroupSecrets do not decrypt with the key package's init key (RFC 9420 section 12.4.3.1)"
    )]
    GroupSecretsDecryption,
    /// RFC9420-12.4.3.1-1: the GroupInfo does not decrypt.
    #[error("GroupInfo does not decrypt with the welcome key (RFC 9420 section 12.4.3.1)")]
    GroupInfoDecryption,
    /// A PSK named in GroupSecrets is not known to this client.
    #[error("GroupSecrets name a PSK this client does not have: {0:?}")]
    UnknownPsk(PreSharedKeyId),
    /// RFC9420-12.4.3.1-2: the GroupInfo signature does not verify.
    #[error("GroupInfo signature does not verify (RFC 9420 section 12.4.3.1)")]
    InvalidGroupInfoSignature,
    /// RFC9420-12.4.3.1-3: the GroupInfo confirmation tag does not match.
    #[error(
        "GroupInfo confirmation_tag does not match the derived confirmation key (RFC 9420 section 12.4.3.1)"
    )]
    ConfirmationTagMismatch,
}

/// What a Welcome yields once decrypted and confirmed.
#[derive(Debug, Clone)]
pub struct OpenedWelcome {
    pub group_secrets: GroupSecrets,
    pub group_info: GroupInfo,
    pub epoch_secrets: EpochSecrets,
    /// The interim transcript hash of the epoch joined (from the GroupInfo's tag).
    pub interim_transcript_hash: Vec<u8>,
}

/// `KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)` (section 5.2).
pub fn key_package_ref(suite: &Suite, key_package: &KeyPackage) -> KeyPackageRef {
    KeyPackageRef(Bytes(
        suite.ref_hash(b"MLS 1.0 KeyPackage Reference", &key_package.to_bytes()),
    ))
}

/// Decrypts the GroupSecrets and GroupInfo of `welcome` for `key_package` and checks the
/// GroupInfo's confirmation tag. `psk_value` supplies the PSKs the GroupSecrets name.
pub fn open_welcome(
    suite: &Suite,
    welcome: &Welcome,
    key_package: &KeyPackage,
    init_private_key: &[u8],
    psk_value: impl Fn(&PreSharedKeyId) -> Option<Vec<u8>>,
) -> Result<OpenedWelcome, WelcomeError> {
    if welcome.cipher_suite != suite.id() || welcome.cipher_suite != key_package.cipher_suite {
        return Err(WelcomeError::CipherSuiteMismatch {
            welcome: welcome.cipher_suite.0,
            key_package: key_package.cipher_suite.0,
        });
    }
    let reference = key_package_ref(suite, key_package);
    let entry = welcome
        .secrets_for(&reference)
        .ok_or(WelcomeError::NotForThisKeyPackage)?;
    let group_secrets_bytes = suite
        .decrypt_with_label(
            init_private_key,
            b"Welcome",
            &welcome.encrypted_group_info,
            &entry.encrypted_group_secrets.kem_output,
            &entry.encrypted_group_secrets.ciphertext,
        )
        .map_err(|_| WelcomeError::GroupSecretsDecryption)?;
    let group_secrets = GroupSecrets::from_bytes(&group_secrets_bytes)?;

    let psks = group_secrets
        .psks
        .iter()
        .map(|id| {
            psk_value(id)
                .map(|value| (id.clone(), value))
                .ok_or_else(|| WelcomeError::UnknownPsk(id.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let psk_secret = psk::psk_secret(suite, &psks)?;

    let welcome_secret =
        key_schedule::welcome_secret(suite, &group_secrets.joiner_secret, &psk_secret)?;
    let (key, nonce) = key_schedule::welcome_key_nonce(suite, &welcome_secret)?;
    let group_info_bytes = suite
        .aead_open(&key, &nonce, b"", &welcome.encrypted_group_info)
        .map_err(|_| WelcomeError::GroupInfoDecryption)?;
    let group_info = GroupInfo::from_bytes(&group_info_bytes)?;
    if group_info.group_context.cipher_suite != welcome.cipher_suite {
        return Err(WelcomeError::CipherSuiteMismatch {
            welcome: welcome.cipher_suite.0,
            key_package: group_info.group_context.cipher_suite.0,
        });
    }

    let epoch_secrets = key_schedule::epoch_secrets(
        suite,
        &group_secrets.joiner_secret,
        &psk_secret,
        &group_info.group_context.to_bytes(),
    )?;
    let expected_tag = transcript::confirmation_tag(
        suite,
        &epoch_secrets.confirmation_key,
        &group_info.group_context.confirmed_transcript_hash,
    );
    if !constant_time_eq(&expected_tag, &group_info.confirmation_tag) {
        return Err(WelcomeError::ConfirmationTagMismatch);
    }
    let interim_transcript_hash = transcript::interim_transcript_hash(
        suite,
        &group_info.group_context.confirmed_transcript_hash,
        &group_info.confirmation_tag,
    );
    Ok(OpenedWelcome {
        group_secrets,
        group_info,
        epoch_secrets,
        interim_transcript_hash,
    })
}

/// Checks `GroupInfo.signature` with the signer's key (RFC9420-12.4.3.1-2).
pub fn verify_group_info_signature(
    suite: &Suite,
    group_info: &GroupInfo,
    signer_public_key: &[u8],
) -> Result<(), WelcomeError> {
    suite
        .verify_with_label(
            signer_public_key,
            GroupInfo::SIGNATURE_LABEL,
            &group_info.tbs_bytes(),
            &group_info.signature,
        )
        .map_err(|_| WelcomeError::InvalidGroupInfoSignature)
}
