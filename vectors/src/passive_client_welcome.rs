//! `passive-client-welcome.json`: a new member joins by Welcome (RFC 9420 section
//! 12.4.3.1, every step) and must compute the vector's epoch authenticator (section 8).
//! The tree comes from the case's `ratchet_tree` or, when that is null, from the
//! GroupInfo's `ratchet_tree` extension.

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::join::{self, JoinedGroup, JoinerKeys};
use concord_reference::messages::{MlsMessage, MlsMessageBody, PreSharedKeyId, Psk, RatchetTree};
use serde::Deserialize;

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, with_suite,
};

#[derive(Debug, Deserialize)]
pub struct ExternalPsk {
    pub psk_id: HexBytes,
    pub psk: HexBytes,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub external_psks: Vec<ExternalPsk>,
    /// An MLSMessage carrying the joiner's KeyPackage.
    key_package: HexBytes,
    signature_priv: HexBytes,
    /// The private key of the KeyPackage leaf's encryption_key.
    encryption_priv: HexBytes,
    init_priv: HexBytes,
    /// An MLSMessage carrying the Welcome.
    welcome: HexBytes,
    /// `optional<Node> ratchet_tree<V>`, or null when the GroupInfo carries the tree.
    ratchet_tree: Option<HexBytes>,
    pub initial_epoch_authenticator: HexBytes,
    /// Commits to process after joining (the handling-commit families' subject).
    pub epochs: Vec<serde_json::Value>,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    if !case.epochs.is_empty() {
        return Ok(CaseVerdict::Skipped {
            reason: format!(
                "case has {} epochs after the join; processing commits is not supported here",
                case.epochs.len()
            ),
        });
    }
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let joined = join_case(suite, case)?;
    expect_bytes(
        "initial_epoch_authenticator",
        joined.epoch_authenticator(),
        &case.initial_epoch_authenticator,
    )
}

/// The value of an external PSK of the case, matched by `psk_id` alone.
pub fn external_psk(case: &Case, psk_id: &[u8]) -> Option<Vec<u8>> {
    case.external_psks
        .iter()
        .find(|known| known.psk_id.0 == psk_id)
        .map(|known| known.psk.0.clone())
}

/// Joins the case's group by its Welcome (without checking the initial epoch
/// authenticator).
pub fn join_case(suite: &Suite, case: &Case) -> Result<JoinedGroup, Mismatch> {
    let MlsMessageBody::KeyPackage(key_package) = MlsMessage::from_bytes(&case.key_package)
        .at("key_package")?
        .body
    else {
        return Err(Mismatch::new(
            "key_package",
            "not an MLSMessage carrying a KeyPackage",
        ));
    };
    let MlsMessageBody::Welcome(welcome) =
        MlsMessage::from_bytes(&case.welcome).at("welcome")?.body
    else {
        return Err(Mismatch::new(
            "welcome",
            "not an MLSMessage carrying a Welcome",
        ));
    };
    let tree = case
        .ratchet_tree
        .as_ref()
        .map(|bytes| RatchetTree::from_bytes(bytes))
        .transpose()
        .at("ratchet_tree")?;
    // External PSKs are matched by psk_id alone: the nonce is the sender's choice.
    let psk_value = |id: &PreSharedKeyId| match &id.psk {
        Psk::External { psk_id } => external_psk(case, psk_id),
        Psk::Resumption { .. } => None,
    };
    let keys = JoinerKeys {
        init_private: &case.init_priv,
        encryption_private: &case.encryption_priv,
        signature_private: &case.signature_priv,
    };
    join::join(
        suite,
        &welcome,
        &key_package,
        keys,
        tree.as_ref(),
        psk_value,
    )
    .at("welcome")
    .and_then(|joined| {
        super::check_lifetimes("ratchet_tree (leaf lifetimes)", &joined.tree)?;
        Ok(joined)
    })
}
