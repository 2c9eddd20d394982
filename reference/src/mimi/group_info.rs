//! The requester's side of "Claim group key information" (draft-ietf-mimi-protocol 5.6):
//! a `GroupInfoResponse` is used only after its signature verifies with the `hub_sender`
//! key it carries (MIMI-PROTOCOL-5.6-6), over the room the requester asked for; only then
//! is `encrypted_groupinfo_and_tree` opened with the requester's HPKE private key.
//!
//! ```text
//!  GroupInfoResponse ──status success? ──room_id the one asked for?
//!    ──VerifyWithLabel(hub_sender.signature_key, "GroupInfoResponseTBS", TBS)
//!    ──DecryptWithLabel(groupInfoPrivateKey, "GroupInfo and ratchet_tree encryption", room_id)
//!    ──> GroupInfoRatchetTreeTBE
//! ```

use crate::codec::Codec;
use crate::crypto::Suite;

use super::service::GROUP_INFO_LABEL;
use super::wire::{GroupInfoRatchetTreeTbe, GroupInfoResponse, GroupInfoStatus};

/// The requirement a requester enforces before using a GroupInfo.
pub const VERIFY_BEFORE_USE: &str = "MIMI-PROTOCOL-5.6-6";

/// Why a requester does not use a `GroupInfoResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupInfoResponseError {
    /// The status is not success (`notAuthorized`, `noSuchRoom`).
    NotSuccess(String),
    /// `room_id` is not the room the request named.
    OtherRoom { expected: String, got: String },
    /// `cipher_suite` is one the requester does not implement.
    UnsupportedSuite(u16),
    /// MIMI-PROTOCOL-5.6-6: the signature does not verify with `hub_sender.signature_key`.
    Signature,
    /// `encrypted_groupinfo_and_tree` does not open with the requester's key.
    Decrypt(String),
    /// The plaintext is no `GroupInfoRatchetTreeTBE`.
    Decode(String),
}

impl std::fmt::Display for GroupInfoResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotSuccess(status) => write!(f, "GroupInfoResponse.status is {status}"),
            Self::OtherRoom { expected, got } => write!(
                f,
                "GroupInfoResponse.room_id is {got}, the request was for {expected}"
            ),
            Self::UnsupportedSuite(suite) => {
                write!(f, "GroupInfoResponse.cipher_suite {suite} is not supported")
            }
            Self::Signature => write!(
                f,
                "GroupInfoResponse.signature does not verify with hub_sender.signature_key \
                 ({VERIFY_BEFORE_USE})"
            ),
            Self::Decrypt(e) => write!(f, "GroupInfoResponse.encrypted_groupinfo_and_tree: {e}"),
            Self::Decode(e) => write!(f, "GroupInfoRatchetTreeTBE: {e}"),
        }
    }
}

impl std::error::Error for GroupInfoResponseError {}

/// Opens the answer to a GroupInfoRequest for `room_id` made with the HPKE key pair whose
/// private half is `hpke_private`, verifying the hub's signature first.
pub fn open_response(
    room_id: &str,
    response: &GroupInfoResponse,
    hpke_private: &[u8],
) -> Result<GroupInfoRatchetTreeTbe, GroupInfoResponseError> {
    let success = match &response.status {
        GroupInfoStatus::Success(success) => success,
        GroupInfoStatus::NotAuthorized => {
            return Err(GroupInfoResponseError::NotSuccess("notAuthorized".into()));
        }
        GroupInfoStatus::NoSuchRoom => {
            return Err(GroupInfoResponseError::NotSuccess("noSuchRoom".into()));
        }
    };
    if response.room_id.as_slice() != room_id.as_bytes() {
        return Err(GroupInfoResponseError::OtherRoom {
            expected: room_id.to_string(),
            got: String::from_utf8_lossy(response.room_id.as_slice()).into_owned(),
        });
    }
    let suite = Suite::new(success.cipher_suite)
        .map_err(|_| GroupInfoResponseError::UnsupportedSuite(success.cipher_suite.0))?;
    suite
        .verify_with_label(
            success.hub_sender.signature_key.0.as_slice(),
            b"GroupInfoResponseTBS",
            &GroupInfoResponse::tbs_bytes(room_id.as_bytes(), success),
            success.signature.as_slice(),
        )
        .map_err(|_| GroupInfoResponseError::Signature)?;
    let plain = suite
        .decrypt_with_label(
            hpke_private,
            GROUP_INFO_LABEL,
            room_id.as_bytes(),
            success.encrypted_groupinfo_and_tree.kem_output.as_slice(),
            success.encrypted_groupinfo_and_tree.ciphertext.as_slice(),
        )
        .map_err(|e| GroupInfoResponseError::Decrypt(e.to_string()))?;
    GroupInfoRatchetTreeTbe::from_bytes(&plain)
        .map_err(|e| GroupInfoResponseError::Decode(e.to_string()))
}
