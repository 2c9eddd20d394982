//! The negative vector format, and how the reference runs one case.
//!
//! ```text
//! vectors/negative/<family>.json = { "family", "description", "cases": [Case, ...] }
//!
//! Case: receiver state ──join──> receiver at epoch N ──prior (each accepted)──> input
//!                                                                    │
//!                            expected: reject(error_class) | accept | acceptable
//! ```
//!
//! Each case is self-contained. The receiver is a client whose KeyPackage and private
//! keys the case gives (as in the official passive-client vectors): it joins by the
//! case's Welcome, processes the `prior` messages (every one must be accepted), then the
//! `input`. When the input *is* the Welcome (`input_kind: welcome`) the receiver's
//! `welcome` is null; when the input is a GroupInfo (`input_kind: group-info`) there is
//! no receiver: a new client (identity [`EXTERNAL_JOINER`]) joins by external commit.

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::group::{Group, GroupConfig, GroupError, KeyPackageSecrets, PskStore};
use concord_reference::messages::{MlsMessage, MlsMessageBody, RatchetTree};
use concord_reference::requirement::Requirement;
use serde::{Deserialize, Serialize};

use super::class::{ErrorClass, classify};
use crate::vectors::HexBytes;

/// The identity of the client that joins by external commit in `group-info` cases.
pub const EXTERNAL_JOINER: &[u8] = b"concord external joiner";

/// One file of negative vectors.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeFile {
    pub family: String,
    pub description: String,
    pub cases: Vec<Case>,
}

/// What a conformant client must do with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expected {
    /// Refuse it, with the case's `error_class`.
    Reject,
    /// Process it (a control case: the same construction, unmutated).
    Accept,
    /// The RFC allows either (e.g. a late application message, 15.2 leaves retention
    /// to the application).
    Acceptable,
}

/// At which level the input was mutated (the design's three levels; the third, a
/// misbehaving provider, lives in the simulator's scenarios).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Encoded bytes truncated, extended, flipped or reordered.
    Bytes,
    /// A decoded field changed, then re-signed, re-tagged or re-encrypted so that only
    /// the targeted check can catch it.
    Structure,
    /// No mutation: a control case.
    None,
}

/// What the input bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// An MLSMessage (PublicMessage or PrivateMessage) the joined receiver processes.
    Message,
    /// An MLSMessage carrying the Welcome the receiver joins by.
    Welcome,
    /// An MLSMessage carrying a GroupInfo a new client joins by external commit.
    GroupInfo,
}

/// An external PSK the receiver holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalPsk {
    pub psk_id: HexBytes,
    pub psk: HexBytes,
}

/// The receiving client: its KeyPackage (an MLSMessage), private keys, the Welcome it
/// joins by (null when the input is that Welcome), the tree when given out of band.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    pub key_package: HexBytes,
    pub signature_priv: HexBytes,
    pub encryption_priv: HexBytes,
    pub init_priv: HexBytes,
    pub welcome: Option<HexBytes>,
    pub ratchet_tree: Option<HexBytes>,
    pub external_psks: Vec<ExternalPsk>,
}

/// One negative (or control) case.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique within the file: `<mutation>/suite-<n>`.
    pub name: String,
    pub cipher_suite: u16,
    pub description: String,
    pub level: Level,
    /// Requirement IDs (spec/catalog) whose check must catch the mutation.
    pub requirements: Vec<String>,
    /// Facts about the construction a client implementer may need, e.g. `resigned`,
    /// `remacced`, `reencrypted`, `stale-confirmation-tag`.
    pub flags: Vec<String>,
    pub expected: Expected,
    /// For `reject`: the class of the check that must catch it.
    pub error_class: Option<ErrorClass>,
    pub receiver: Option<Receiver>,
    /// Messages processed before the input; each must be accepted.
    pub prior: Vec<HexBytes>,
    pub input_kind: InputKind,
    pub input: HexBytes,
}

/// What the reference did with a case's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Rejected {
        class: ErrorClass,
        detail: String,
        /// The requirement IDs of the check that refused it (`Requirement` of the
        /// reference's typed error).
        requirements: &'static [&'static str],
    },
}

/// The case's state could not be rebuilt: the vector is at fault (or the reference
/// cannot follow a valid setup, which is just as much a failure to report).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step}: {detail}")]
pub struct SetupError {
    pub step: String,
    pub detail: String,
}

fn setup(step: impl Into<String>, detail: impl std::fmt::Display) -> SetupError {
    SetupError {
        step: step.into(),
        detail: detail.to_string(),
    }
}

fn rejected(error: &GroupError) -> Outcome {
    Outcome::Rejected {
        class: classify(error),
        detail: error.to_string(),
        requirements: error.requirements(),
    }
}

/// Runs `case` on the reference.
pub fn run_on_reference(case: &Case) -> Result<Outcome, SetupError> {
    let suite = Suite::new(concord_reference::crypto::CipherSuite(case.cipher_suite))
        .map_err(|e| setup("cipher_suite", e))?;
    match case.input_kind {
        InputKind::GroupInfo => Ok(external_join(&suite, case)),
        InputKind::Welcome => {
            let receiver = case
                .receiver
                .as_ref()
                .ok_or_else(|| setup("receiver", "a welcome case needs a receiver"))?;
            Ok(match join(receiver, &case.input) {
                Ok(_) => Outcome::Accepted,
                Err(JoinFailure::Group(e)) => rejected(&e),
                Err(JoinFailure::Setup(e)) => return Err(e),
            })
        }
        InputKind::Message => {
            let receiver = case
                .receiver
                .as_ref()
                .ok_or_else(|| setup("receiver", "a message case needs a receiver"))?;
            let welcome = receiver
                .welcome
                .as_ref()
                .ok_or_else(|| setup("receiver.welcome", "null, but the input is a message"))?;
            let mut group = join(receiver, welcome).map_err(|e| match e {
                JoinFailure::Group(e) => setup("receiver.welcome", e),
                JoinFailure::Setup(e) => e,
            })?;
            for (i, message) in case.prior.iter().enumerate() {
                group
                    .process_message_bytes(message)
                    .map_err(|e| setup(format!("prior[{i}]"), e))?;
            }
            Ok(match group.process_message_bytes(&case.input) {
                Ok(_) => Outcome::Accepted,
                Err(e) => rejected(&e),
            })
        }
    }
}

enum JoinFailure {
    Setup(SetupError),
    Group(GroupError),
}

/// The receiver joins by `welcome` (bytes of an MLSMessage).
fn join(receiver: &Receiver, welcome: &[u8]) -> Result<Group, JoinFailure> {
    let MlsMessageBody::KeyPackage(key_package) = MlsMessage::from_bytes(&receiver.key_package)
        .map_err(|e| JoinFailure::Setup(setup("receiver.key_package", e)))?
        .body
    else {
        return Err(JoinFailure::Setup(setup(
            "receiver.key_package",
            "not an MLSMessage carrying a KeyPackage",
        )));
    };
    let tree = receiver
        .ratchet_tree
        .as_ref()
        .map(|bytes| RatchetTree::from_bytes(bytes))
        .transpose()
        .map_err(|e| JoinFailure::Setup(setup("receiver.ratchet_tree", e)))?;
    let message =
        MlsMessage::from_bytes(welcome).map_err(|e| JoinFailure::Group(GroupError::Decode(e)))?;
    let MlsMessageBody::Welcome(welcome) = message.body else {
        return Err(JoinFailure::Group(GroupError::WrongMessage("Welcome")));
    };
    let secrets = KeyPackageSecrets {
        init_private: receiver.init_priv.0.clone(),
        encryption_private: receiver.encryption_priv.0.clone(),
        signature_private: receiver.signature_priv.0.clone(),
    };
    let mut psks = PskStore::default();
    for psk in &receiver.external_psks {
        psks.external
            .insert(psk.psk_id.0.clone(), psk.psk.0.clone());
    }
    Group::join(
        &welcome,
        &key_package,
        &secrets,
        tree.as_ref(),
        &psks,
        GroupConfig::default(),
    )
    .map_err(JoinFailure::Group)
}

/// A new client joins by external commit with the GroupInfo of the input.
fn external_join(suite: &Suite, case: &Case) -> Outcome {
    let _ = suite;
    let message = match MlsMessage::from_bytes(&case.input) {
        Ok(message) => message,
        Err(e) => return rejected(&GroupError::Decode(e)),
    };
    let MlsMessageBody::GroupInfo(info) = message.body else {
        return rejected(&GroupError::WrongMessage("GroupInfo"));
    };
    let mut rng = super::case_rng(0, case.cipher_suite, &case.name);
    match Group::join_external(
        &info,
        None,
        EXTERNAL_JOINER,
        None,
        false,
        &[],
        GroupConfig::default(),
        &mut rng,
    ) {
        Ok(_) => Outcome::Accepted,
        Err(e) => rejected(&e),
    }
}

/// Whether `outcome` is what `case` expects; the reason when it is not.
pub fn judge(case: &Case, outcome: &Outcome) -> Result<(), String> {
    match (case.expected, outcome) {
        (Expected::Acceptable, _) | (Expected::Accept, Outcome::Accepted) => Ok(()),
        (Expected::Accept, Outcome::Rejected { class, detail, .. }) => {
            Err(format!("expected accept, rejected ({class}): {detail}"))
        }
        (Expected::Reject, Outcome::Accepted) => Err(format!(
            "expected reject ({}), accepted",
            case.error_class
                .map(ErrorClass::as_str)
                .unwrap_or("no class given")
        )),
        (Expected::Reject, Outcome::Rejected { class, detail, .. }) => match case.error_class {
            Some(expected) if expected == *class => Ok(()),
            Some(expected) => Err(format!(
                "expected reject ({expected}), rejected as {class}: {detail}"
            )),
            None => Err("a reject case without error_class".to_string()),
        },
    }
}
