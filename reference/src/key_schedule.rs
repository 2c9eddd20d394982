//! The key schedule (RFC 9420 section 8): from one epoch's init secret, commit secret,
//! PSK secret and GroupContext to every secret of the next epoch.
//!
//! ```text
//! init_secret_[n-1] ─┐
//!    commit_secret ──Extract── ExpandWithLabel("joiner", GroupContext_[n]) = joiner_secret
//!                                  │
//!       psk_secret (or 0) ──Extract┤── DeriveSecret("welcome") = welcome_secret
//!                                  │
//!                      ExpandWithLabel("epoch", GroupContext_[n]) = epoch_secret
//!                                  ├── DeriveSecret(<label>) for each epoch-derived secret
//!                                  └── DeriveSecret("init") = init_secret_[n]
//! ```

use crate::crypto::{CryptoError, HpkeKeyPair, Suite};

/// The secrets derived from one epoch's `epoch_secret` (section 8, table "Epoch-Derived
/// Secrets"), plus the next epoch's `init_secret`.
#[derive(Clone, PartialEq, Eq)]
pub struct EpochSecrets {
    pub joiner_secret: Vec<u8>,
    pub welcome_secret: Vec<u8>,
    pub sender_data_secret: Vec<u8>,
    pub encryption_secret: Vec<u8>,
    pub exporter_secret: Vec<u8>,
    pub external_secret: Vec<u8>,
    pub confirmation_key: Vec<u8>,
    pub membership_key: Vec<u8>,
    pub resumption_psk: Vec<u8>,
    pub epoch_authenticator: Vec<u8>,
    /// `init_secret_[n]`, the input of the next epoch.
    pub init_secret: Vec<u8>,
}

impl std::fmt::Debug for EpochSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs and transcripts; the authenticator is public by design.
        f.debug_struct("EpochSecrets")
            .field(
                "epoch_authenticator",
                &crate::hex(&self.epoch_authenticator),
            )
            .finish_non_exhaustive()
    }
}

/// The all-zero string of length `KDF.Nh` that stands for an absent commit or PSK secret.
pub fn zero_secret(suite: &Suite) -> Vec<u8> {
    vec![0; suite.hash_length()]
}

/// `joiner_secret = ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)`.
pub fn joiner_secret(
    suite: &Suite,
    init_secret: &[u8],
    commit_secret: &[u8],
    group_context: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let extracted = suite.kdf_extract(init_secret, commit_secret);
    suite.expand_with_label(
        &extracted,
        b"joiner",
        group_context,
        suite.hash_length() as u16,
    )
}

/// Everything below the joiner secret: what a new member joining by Welcome derives,
/// and what an existing member derives after computing the joiner secret itself.
pub fn epoch_secrets(
    suite: &Suite,
    joiner_secret: &[u8],
    psk_secret: &[u8],
    group_context: &[u8],
) -> Result<EpochSecrets, CryptoError> {
    let member_secret = suite.kdf_extract(joiner_secret, psk_secret);
    let welcome_secret = suite.derive_secret(&member_secret, b"welcome")?;
    let epoch_secret = suite.expand_with_label(
        &member_secret,
        b"epoch",
        group_context,
        suite.hash_length() as u16,
    )?;
    let derive = |label: &[u8]| suite.derive_secret(&epoch_secret, label);
    Ok(EpochSecrets {
        joiner_secret: joiner_secret.to_vec(),
        welcome_secret,
        sender_data_secret: derive(b"sender data")?,
        encryption_secret: derive(b"encryption")?,
        exporter_secret: derive(b"exporter")?,
        external_secret: derive(b"external")?,
        confirmation_key: derive(b"confirm")?,
        membership_key: derive(b"membership")?,
        resumption_psk: derive(b"resumption")?,
        epoch_authenticator: derive(b"authentication")?,
        init_secret: derive(b"init")?,
    })
}

/// The whole step of section 8 for an existing member.
pub fn next_epoch(
    suite: &Suite,
    init_secret: &[u8],
    commit_secret: &[u8],
    psk_secret: &[u8],
    group_context: &[u8],
) -> Result<EpochSecrets, CryptoError> {
    let joiner = joiner_secret(suite, init_secret, commit_secret, group_context)?;
    epoch_secrets(suite, &joiner, psk_secret, group_context)
}

/// The welcome secret alone (section 8): what decrypts a Welcome's GroupInfo.
pub fn welcome_secret(
    suite: &Suite,
    joiner_secret: &[u8],
    psk_secret: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    suite.derive_secret(&suite.kdf_extract(joiner_secret, psk_secret), b"welcome")
}

/// Key and nonce that encrypt the GroupInfo of a Welcome (section 12.4.3.1).
pub fn welcome_key_nonce(
    suite: &Suite,
    welcome_secret: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    Ok((
        suite.expand_with_label(welcome_secret, b"key", b"", suite.aead_key_length() as u16)?,
        suite.expand_with_label(
            welcome_secret,
            b"nonce",
            b"",
            suite.aead_nonce_length() as u16,
        )?,
    ))
}

/// `MLS-Exporter(Label, Context, Length)` (section 8.5).
pub fn export(
    suite: &Suite,
    exporter_secret: &[u8],
    label: &[u8],
    context: &[u8],
    length: u16,
) -> Result<Vec<u8>, CryptoError> {
    let derived = suite.derive_secret(exporter_secret, label)?;
    suite.expand_with_label(&derived, b"exported", &suite.hash(context), length)
}

/// `external_priv, external_pub = KEM.DeriveKeyPair(external_secret)` (section 8).
pub fn external_key_pair(
    suite: &Suite,
    external_secret: &[u8],
) -> Result<HpkeKeyPair, CryptoError> {
    suite.hpke_derive_key_pair(external_secret)
}
