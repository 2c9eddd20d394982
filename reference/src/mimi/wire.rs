//! The MIMI protocol's request and response bodies (draft-ietf-mimi-protocol section
//! "MIMI Endpoints and Framing"), in the TLS presentation language of [`crate::codec`],
//! with profile `concord-mimi-06`'s additions (see the module docs of [`super`]).
//!
//! ```text
//! HTTP body ──Codec::from_bytes (strict: typed errors, no trailing bytes)──> request struct
//! answer struct ──Codec::to_bytes──> HTTP body
//! ```
//!
//! An `MLSMessage` inside a body is kept as the exact bytes it was sent as (decoded once,
//! to check it and to find where it ends), so the hub forwards what the client signed.
//! Every decoding failure names the field it was found in.

use crate::codec::{Bytes, Codec, DecodeError, Reader, write_opaque};
use crate::crypto::CipherSuite;
use crate::messages::{
    Capabilities, ContentBody, Credential, ExternalSender, HpkeCiphertext, HpkePublicKey,
    KeyPackage, MlsMessage, MlsMessageBody, RequiredCapabilities, SignaturePublicKey,
};

use super::ParticipantChange;

/// The content type of every MIMI body this profile sends (the draft names none).
pub const CONTENT_TYPE: &str = "application/mimi-protocol";

/// `enum { reserved(0), mls10(1), (255) } Protocol;`
pub const PROTOCOL_MLS10: u8 = 1;

/// Labels a decoding failure with the field it happened in.
fn field(what: &'static str) -> impl Fn(DecodeError) -> DecodeError {
    move |e| match e {
        DecodeError::Malformed { .. } => e,
        other => DecodeError::Malformed {
            what,
            detail: other.to_string(),
        },
    }
}

fn read_protocol(reader: &mut Reader<'_>, what: &'static str) -> Result<(), DecodeError> {
    match reader.u8(what)? {
        PROTOCOL_MLS10 => Ok(()),
        value => Err(DecodeError::InvalidValue {
            what,
            value: u64::from(value),
        }),
    }
}

/// `IdentifierUri` (`opaque uri<V>`), which this profile requires to be UTF-8.
fn read_uri(reader: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    let bytes = reader.opaque(what).map_err(field(what))?;
    String::from_utf8(bytes).map_err(|_| DecodeError::Malformed {
        what,
        detail: "not UTF-8".into(),
    })
}

fn write_uri(out: &mut Vec<u8>, uri: &str) {
    write_opaque(out, uri.as_bytes());
}

fn read_uris(reader: &mut Reader<'_>, what: &'static str) -> Result<Vec<String>, DecodeError> {
    let mut inner = reader.sub_reader(what).map_err(field(what))?;
    let mut items = Vec::new();
    while !inner.is_empty() {
        items.push(read_uri(&mut inner, what)?);
    }
    Ok(items)
}

fn write_uris(out: &mut Vec<u8>, uris: &[String]) {
    let mut inner = Vec::new();
    for uri in uris {
        write_uri(&mut inner, uri);
    }
    write_opaque(out, &inner);
}

/// A typed value decoded with its field name on failure.
fn read<T: Codec>(reader: &mut Reader<'_>, what: &'static str) -> Result<T, DecodeError> {
    T::decode(reader).map_err(field(what))
}

fn read_bool(reader: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match reader.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(DecodeError::InvalidValue {
            what,
            value: u64::from(value),
        }),
    }
}

/// An `MLSMessage` kept as its bytes, with the decoded form for inspection.
fn read_mls(
    reader: &mut Reader<'_>,
    what: &'static str,
) -> Result<(MlsMessage, Vec<u8>), DecodeError> {
    let start = reader.position();
    let message = MlsMessage::decode(reader).map_err(field(what))?;
    let bytes = reader.input()[start..reader.position()].to_vec();
    Ok((message, bytes))
}

fn read_mls_of(
    reader: &mut Reader<'_>,
    what: &'static str,
    expected: &'static str,
    accept: fn(&MlsMessageBody) -> bool,
) -> Result<Vec<u8>, DecodeError> {
    let (message, bytes) = read_mls(reader, what)?;
    if !accept(&message.body) {
        return Err(DecodeError::Malformed {
            what,
            detail: format!(
                "expected {expected}, got wire format {}",
                message.wire_format().0
            ),
        });
    }
    Ok(bytes)
}

fn read_mls_list(
    reader: &mut Reader<'_>,
    what: &'static str,
    expected: &'static str,
    accept: fn(&MlsMessageBody) -> bool,
) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut inner = reader.sub_reader(what).map_err(field(what))?;
    let mut items = Vec::new();
    while !inner.is_empty() {
        items.push(read_mls_of(&mut inner, what, expected, accept)?);
    }
    Ok(items)
}

fn write_mls_list(out: &mut Vec<u8>, messages: &[Vec<u8>]) {
    write_opaque(out, &messages.concat());
}

fn is_public(body: &MlsMessageBody) -> bool {
    matches!(body, MlsMessageBody::PublicMessage(_))
}
fn is_private(body: &MlsMessageBody) -> bool {
    matches!(body, MlsMessageBody::PrivateMessage(_))
}
fn is_welcome(body: &MlsMessageBody) -> bool {
    matches!(body, MlsMessageBody::Welcome(_))
}
fn is_group_info(body: &MlsMessageBody) -> bool {
    matches!(body, MlsMessageBody::GroupInfo(_))
}

/// A closed `uint8` enum decoded strictly.
fn read_code(reader: &mut Reader<'_>, what: &'static str, max: u8) -> Result<u8, DecodeError> {
    let value = reader.u8(what)?;
    if value > max {
        return Err(DecodeError::InvalidValue {
            what,
            value: u64::from(value),
        });
    }
    Ok(value)
}

/// `string` as the draft uses it: `opaque<V>` holding UTF-8.
fn read_string(reader: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    read_uri(reader, what)
}

// ---------------------------------------------------------------------------------------
// Fetch Key Material

/// `KeyMaterialRequest` (protocol mls10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMaterialRequest {
    pub requesting_user: String,
    pub target_user: String,
    pub room_id: String,
    pub acceptable_ciphersuites: Vec<CipherSuite>,
    pub required_capabilities: RequiredCapabilities,
    pub requester_signature_key: SignaturePublicKey,
    pub requester_credential: Credential,
    /// `SignWithLabel(requesterSignatureKey, "KeyMaterialRequestTBS", KeyMaterialRequestTBS)`.
    pub signature: Bytes,
}

impl KeyMaterialRequest {
    /// The `KeyMaterialRequestTBS` bytes the signature covers.
    pub fn tbs_bytes(&self) -> Vec<u8> {
        let mut out = vec![PROTOCOL_MLS10];
        write_uri(&mut out, &self.requesting_user);
        write_uri(&mut out, &self.target_user);
        write_uri(&mut out, &self.room_id);
        self.acceptable_ciphersuites.encode(&mut out);
        self.required_capabilities.encode(&mut out);
        self.requester_signature_key.encode(&mut out);
        self.requester_credential.encode(&mut out);
        out
    }
}

impl Codec for KeyMaterialRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tbs_bytes());
        self.signature.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(reader, "KeyMaterialRequest.protocol")?;
        let requesting_user = read_uri(reader, "KeyMaterialRequest.requestingUser")?;
        let target_user = read_uri(reader, "KeyMaterialRequest.targetUser")?;
        let room_id = read_uri(reader, "KeyMaterialRequest.roomId")?;
        let acceptable_ciphersuites: Vec<CipherSuite> =
            read(reader, "KeyMaterialRequest.acceptableCiphersuites")?;
        if acceptable_ciphersuites.is_empty() {
            return Err(DecodeError::Malformed {
                what: "KeyMaterialRequest.acceptableCiphersuites",
                detail: "empty (the draft requires a non-empty list)".into(),
            });
        }
        Ok(KeyMaterialRequest {
            requesting_user,
            target_user,
            room_id,
            acceptable_ciphersuites,
            required_capabilities: read(reader, "KeyMaterialRequest.requiredCapabilities")?,
            requester_signature_key: read(reader, "KeyMaterialRequest.requesterSignatureKey")?,
            requester_credential: read(reader, "KeyMaterialRequest.requesterCredential")?,
            signature: read(reader, "KeyMaterialRequest.key_material_request_signature")?,
        })
    }
}

/// `KeyMaterialUserCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMaterialUserCode {
    Success = 0,
    PartialSuccess = 1,
    IncompatibleProtocol = 2,
    NoCompatibleMaterial = 3,
    UserUnknown = 4,
    NoConsent = 5,
    NoConsentForThisRoom = 6,
    UserDeleted = 7,
}

impl KeyMaterialUserCode {
    const ALL: [Self; 8] = [
        Self::Success,
        Self::PartialSuccess,
        Self::IncompatibleProtocol,
        Self::NoCompatibleMaterial,
        Self::UserUnknown,
        Self::NoConsent,
        Self::NoConsentForThisRoom,
        Self::UserDeleted,
    ];
}

/// One client's entry of a `KeyMaterialResponse` (`ClientKeyMaterial`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeyMaterial {
    /// `success`: the encoded `KeyPackage` (not wrapped in an MLSMessage, as the draft has it).
    Success {
        client_uri: String,
        key_package: Vec<u8>,
    },
    /// `keyMaterialExhausted`.
    Exhausted { client_uri: String },
    /// `nothingCompatible`, with the client's capabilities if the provider discloses them.
    NothingCompatible {
        client_uri: String,
        capabilities: Option<Capabilities>,
    },
}

impl Codec for ClientKeyMaterial {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ClientKeyMaterial::Success {
                client_uri,
                key_package,
            } => {
                out.push(0);
                write_uri(out, client_uri);
                out.extend_from_slice(key_package);
            }
            ClientKeyMaterial::Exhausted { client_uri } => {
                out.push(1);
                write_uri(out, client_uri);
            }
            ClientKeyMaterial::NothingCompatible {
                client_uri,
                capabilities,
            } => {
                out.push(2);
                write_uri(out, client_uri);
                capabilities.encode(out);
            }
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = read_code(reader, "ClientKeyMaterial.clientStatus", 2)?;
        let client_uri = read_uri(reader, "ClientKeyMaterial.clientUri")?;
        Ok(match code {
            0 => {
                let start = reader.position();
                KeyPackage::decode(reader).map_err(field("ClientKeyMaterial.keyPackage"))?;
                let key_package = reader.input()[start..reader.position()].to_vec();
                ClientKeyMaterial::Success {
                    client_uri,
                    key_package,
                }
            }
            1 => ClientKeyMaterial::Exhausted { client_uri },
            _ => ClientKeyMaterial::NothingCompatible {
                client_uri,
                capabilities: read(reader, "ClientKeyMaterial.clientCapabilities")?,
            },
        })
    }
}

/// `KeyMaterialResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMaterialResponse {
    pub user_status: KeyMaterialUserCode,
    pub user_uri: String,
    pub clients: Vec<ClientKeyMaterial>,
}

impl Codec for KeyMaterialResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_MLS10);
        out.push(self.user_status as u8);
        write_uri(out, &self.user_uri);
        self.clients.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(reader, "KeyMaterialResponse.protocol")?;
        let code = read_code(reader, "KeyMaterialResponse.userStatus", 7)?;
        let user_status = KeyMaterialUserCode::ALL[usize::from(code)];
        let user_uri = read_uri(reader, "KeyMaterialResponse.userUri")?;
        let clients: Vec<ClientKeyMaterial> = read(reader, "KeyMaterialResponse.clients")?;
        let may_list = matches!(
            user_status,
            KeyMaterialUserCode::Success
                | KeyMaterialUserCode::PartialSuccess
                | KeyMaterialUserCode::NoCompatibleMaterial
        );
        if !may_list && !clients.is_empty() {
            return Err(DecodeError::Malformed {
                what: "KeyMaterialResponse.clients",
                detail: "must be empty for this userStatus".into(),
            });
        }
        Ok(KeyMaterialResponse {
            user_status,
            user_uri,
            clients,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Update Room State

/// What a `HandshakeBundle` carries besides its proposal or commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleExtra {
    /// `case commit`: the Welcome (an MLSMessage), and this profile's GroupInfoOption:
    /// the GroupInfo of the new epoch as an MLSMessage with the `ratchet_tree` extension
    /// inside, or absent (the committer may publish it later, profile choice 9).
    Commit {
        welcome: Option<Vec<u8>>,
        group_info: Option<Vec<u8>>,
    },
    /// `case proposal`: `moreProposals` (PublicMessages).
    Proposal { more_proposals: Vec<Vec<u8>> },
}

/// `UpdateRequest` (protocol mls10): the draft's `HandshakeBundle`, then this profile's
/// `IdentifierUri sendingUri` and `ParticipantChange participantChanges<V>`
/// (`struct { uint8 kind; /* add(1), remove(2) */ IdentifierUri user; }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// `proposalOrCommit`: an MLSMessage carrying a PublicMessage (profile choice 3).
    pub proposal_or_commit: Vec<u8>,
    pub extra: BundleExtra,
    pub sending_uri: String,
    pub participant_changes: Vec<ParticipantChange>,
}

impl Codec for UpdateRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.proposal_or_commit);
        match &self.extra {
            BundleExtra::Commit {
                welcome,
                group_info,
            } => {
                for option in [welcome, group_info] {
                    match option {
                        None => out.push(0),
                        Some(bytes) => {
                            out.push(1);
                            out.extend_from_slice(bytes);
                        }
                    }
                }
            }
            BundleExtra::Proposal { more_proposals } => write_mls_list(out, more_proposals),
        }
        write_uri(out, &self.sending_uri);
        let mut changes = Vec::new();
        for change in &self.participant_changes {
            match change {
                ParticipantChange::Add(user) => {
                    changes.push(1);
                    write_uri(&mut changes, user);
                }
                ParticipantChange::Remove(user) => {
                    changes.push(2);
                    write_uri(&mut changes, user);
                }
            }
        }
        write_opaque(out, &changes);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const WHAT: &str = "UpdateRequest.proposalOrCommit";
        let (message, proposal_or_commit) = read_mls(reader, WHAT)?;
        let MlsMessageBody::PublicMessage(public) = &message.body else {
            return Err(DecodeError::Malformed {
                what: WHAT,
                detail: format!(
                    "expected a PublicMessage, got wire format {}",
                    message.wire_format().0
                ),
            });
        };
        let extra = match &public.content.body {
            ContentBody::Commit(_) => {
                let mut optional = |what: &'static str, expected, accept| match reader.u8(what)? {
                    0 => Ok(None),
                    1 => read_mls_of(reader, what, expected, accept).map(Some),
                    value => Err(DecodeError::InvalidValue {
                        what,
                        value: u64::from(value),
                    }),
                };
                let welcome = optional("UpdateRequest.welcome", "a Welcome", is_welcome)?;
                let group_info = optional(
                    "UpdateRequest.groupInfoOption",
                    "a GroupInfo",
                    is_group_info,
                )?;
                BundleExtra::Commit {
                    welcome,
                    group_info,
                }
            }
            ContentBody::Proposal(_) => BundleExtra::Proposal {
                more_proposals: read_mls_list(
                    reader,
                    "UpdateRequest.moreProposals",
                    "a PublicMessage",
                    is_public,
                )?,
            },
            ContentBody::Application { .. } => {
                return Err(DecodeError::Malformed {
                    what: WHAT,
                    detail: "application content belongs in submitMessage".into(),
                });
            }
        };
        let sending_uri = read_uri(reader, "UpdateRequest.sendingUri")?;
        let mut inner = reader
            .sub_reader("UpdateRequest.participantChanges")
            .map_err(field("UpdateRequest.participantChanges"))?;
        let mut participant_changes = Vec::new();
        while !inner.is_empty() {
            let kind = inner.u8("UpdateRequest.participantChanges.kind")?;
            let user = read_uri(&mut inner, "UpdateRequest.participantChanges.user")?;
            participant_changes.push(match kind {
                1 => ParticipantChange::Add(user),
                2 => ParticipantChange::Remove(user),
                value => {
                    return Err(DecodeError::InvalidValue {
                        what: "UpdateRequest.participantChanges.kind",
                        value: u64::from(value),
                    });
                }
            });
        }
        Ok(UpdateRequest {
            proposal_or_commit,
            extra,
            sending_uri,
            participant_changes,
        })
    }
}

/// `UpdateRoomResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRoomResponse {
    pub error_description: String,
    pub code: UpdateCode,
}

/// `UpdateResponseCode` with its select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateCode {
    Success {
        accepted_timestamp: u64,
    },
    WrongEpoch {
        current_epoch: u64,
    },
    NotAllowed,
    /// `ProposalRef invalidProposals<V>`, kept as the refs' bytes.
    InvalidProposal {
        invalid_proposals: Vec<Bytes>,
    },
}

impl From<&super::UpdateResponse> for UpdateRoomResponse {
    fn from(answer: &super::UpdateResponse) -> Self {
        use super::UpdateResponse as U;
        let (error_description, code) = match answer {
            U::Success { accepted_at } => (
                String::new(),
                UpdateCode::Success {
                    accepted_timestamp: *accepted_at,
                },
            ),
            U::WrongEpoch { current_epoch } => (
                format!("the room is at epoch {current_epoch}"),
                UpdateCode::WrongEpoch {
                    current_epoch: *current_epoch,
                },
            ),
            U::NotAllowed { reason } => (reason.clone(), UpdateCode::NotAllowed),
            U::InvalidProposal { reason } => (
                reason.clone(),
                UpdateCode::InvalidProposal {
                    invalid_proposals: Vec::new(),
                },
            ),
        };
        UpdateRoomResponse {
            error_description,
            code,
        }
    }
}

impl From<&super::UpdateAnswer> for UpdateRoomResponse {
    /// The wire answer with the refs of the invalid proposals (MIMI-PROTOCOL-5.3-13).
    fn from(answer: &super::UpdateAnswer) -> Self {
        let mut response = UpdateRoomResponse::from(&answer.response);
        if let UpdateCode::InvalidProposal { invalid_proposals } = &mut response.code {
            *invalid_proposals = answer
                .invalid_proposals
                .iter()
                .map(|r| Bytes(r.clone()))
                .collect();
        }
        response
    }
}

impl Codec for UpdateRoomResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        let code = match &self.code {
            UpdateCode::Success { .. } => 0,
            UpdateCode::WrongEpoch { .. } => 1,
            UpdateCode::NotAllowed => 2,
            UpdateCode::InvalidProposal { .. } => 3,
        };
        out.push(code);
        write_opaque(out, self.error_description.as_bytes());
        match &self.code {
            UpdateCode::Success { accepted_timestamp } => accepted_timestamp.encode(out),
            UpdateCode::WrongEpoch { current_epoch } => current_epoch.encode(out),
            UpdateCode::NotAllowed => {}
            UpdateCode::InvalidProposal { invalid_proposals } => invalid_proposals.encode(out),
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = read_code(reader, "UpdateRoomResponse.responseCode", 3)?;
        let error_description = read_string(reader, "UpdateRoomResponse.errorDescription")?;
        let code = match code {
            0 => UpdateCode::Success {
                accepted_timestamp: reader.u64("UpdateRoomResponse.accepted_timestamp")?,
            },
            1 => UpdateCode::WrongEpoch {
                current_epoch: reader.u64("UpdateRoomResponse.currentEpoch")?,
            },
            2 => UpdateCode::NotAllowed,
            _ => UpdateCode::InvalidProposal {
                invalid_proposals: read(reader, "UpdateRoomResponse.invalidProposals")?,
            },
        };
        Ok(UpdateRoomResponse {
            error_description,
            code,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Submit a Message

/// `SubmitMessageRequest` (protocol mls10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitMessageRequest {
    /// `appMessage`: an MLSMessage carrying a PrivateMessage.
    pub app_message: Vec<u8>,
    pub sending_uri: String,
}

impl Codec for SubmitMessageRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_MLS10);
        out.extend_from_slice(&self.app_message);
        write_uri(out, &self.sending_uri);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(reader, "SubmitMessageRequest.protocol")?;
        Ok(SubmitMessageRequest {
            app_message: read_mls_of(
                reader,
                "SubmitMessageRequest.appMessage",
                "a PrivateMessage",
                is_private,
            )?,
            sending_uri: read_uri(reader, "SubmitMessageRequest.sendingUri")?,
        })
    }
}

/// `Frank`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frank {
    pub server_frank: [u8; 32],
    pub franking_signature_ciphersuite: CipherSuite,
    pub franking_integrity_signature: Bytes,
}

impl Codec for Frank {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.server_frank);
        self.franking_signature_ciphersuite.encode(out);
        self.franking_integrity_signature.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut server_frank = [0u8; 32];
        server_frank.copy_from_slice(reader.take(32, "Frank.server_frank")?);
        Ok(Frank {
            server_frank,
            franking_signature_ciphersuite: read(reader, "Frank.franking_signature_ciphersuite")?,
            franking_integrity_signature: read(reader, "Frank.franking_integrity_signature")?,
        })
    }
}

/// `SubmitMessageResponse` (protocol mls10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitMessageResponse {
    Accepted {
        accepted_timestamp: u64,
        frank: Option<Frank>,
    },
    NotAllowed,
    EpochTooOld {
        current_epoch: u64,
    },
}

impl From<&super::SubmitResponse> for SubmitMessageResponse {
    fn from(answer: &super::SubmitResponse) -> Self {
        match answer {
            super::SubmitResponse::Accepted { accepted_at, frank } => {
                SubmitMessageResponse::Accepted {
                    accepted_timestamp: *accepted_at,
                    frank: frank.clone(),
                }
            }
            super::SubmitResponse::NotAllowed { .. } => SubmitMessageResponse::NotAllowed,
            super::SubmitResponse::EpochTooOld { current_epoch } => {
                SubmitMessageResponse::EpochTooOld {
                    current_epoch: *current_epoch,
                }
            }
        }
    }
}

impl Codec for SubmitMessageResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_MLS10);
        match self {
            SubmitMessageResponse::Accepted {
                accepted_timestamp,
                frank,
            } => {
                out.push(0);
                accepted_timestamp.encode(out);
                frank.encode(out);
            }
            SubmitMessageResponse::NotAllowed => out.push(1),
            SubmitMessageResponse::EpochTooOld { current_epoch } => {
                out.push(2);
                current_epoch.encode(out);
            }
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(reader, "SubmitMessageResponse.protocol")?;
        Ok(
            match read_code(reader, "SubmitMessageResponse.statusCode", 2)? {
                0 => SubmitMessageResponse::Accepted {
                    accepted_timestamp: reader.u64("SubmitMessageResponse.accepted_timestamp")?,
                    frank: read(reader, "SubmitMessageResponse.frank")?,
                },
                1 => SubmitMessageResponse::NotAllowed,
                _ => SubmitMessageResponse::EpochTooOld {
                    current_epoch: reader.u64("SubmitMessageResponse.currentEpoch")?,
                },
            },
        )
    }
}

// ---------------------------------------------------------------------------------------
// Fanout

/// `RatchetTreeOption` after a Welcome: this profile sends only `inGroupInfo` (255, the
/// tree is the `ratchet_tree` extension of the GroupInfo inside the Welcome).
pub const RATCHET_TREE_IN_GROUP_INFO: u8 = 255;

/// What follows the message in a `FanoutMessage`, by the message's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FanoutExtra {
    /// An application message (PrivateMessage) and its frank.
    Application { frank: Option<Frank> },
    /// A Welcome (the ratchet tree is inside its GroupInfo).
    Welcome,
    /// A proposal and `moreProposals`.
    Proposal { more_proposals: Vec<Vec<u8>> },
    /// A commit and `externalProposals`.
    Commit { external_proposals: Vec<Vec<u8>> },
}

/// `FanoutMessage` (protocol mls10) with this profile's additions after the draft's
/// fields: `uint64 sequence` (per room and receiving provider, from 0, profile choice 5),
/// `uint64 epoch` (the epoch the hub accepted the message in, or the epoch a Welcome
/// joins) and `IdentifierUri recipients<V>` (the receiving provider's clients it is for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutMessage {
    pub timestamp: u64,
    pub message: Vec<u8>,
    pub extra: FanoutExtra,
    pub sequence: u64,
    pub epoch: u64,
    pub recipients: Vec<String>,
}

impl Codec for FanoutMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.timestamp.encode(out);
        out.extend_from_slice(&self.message);
        match &self.extra {
            FanoutExtra::Application { frank } => frank.encode(out),
            FanoutExtra::Welcome => out.push(RATCHET_TREE_IN_GROUP_INFO),
            FanoutExtra::Proposal { more_proposals } => write_mls_list(out, more_proposals),
            FanoutExtra::Commit { external_proposals } => write_mls_list(out, external_proposals),
        }
        self.sequence.encode(out);
        self.epoch.encode(out);
        write_uris(out, &self.recipients);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const WHAT: &str = "FanoutMessage.message";
        let timestamp = reader.u64("FanoutMessage.timestamp")?;
        let (message, bytes) = read_mls(reader, WHAT)?;
        let extra = match &message.body {
            MlsMessageBody::PrivateMessage(_) => FanoutExtra::Application {
                frank: read(reader, "FanoutMessage.frank")?,
            },
            MlsMessageBody::Welcome(_) => {
                let what = "FanoutMessage.ratchetTreeOption";
                let value = reader.u8(what)?;
                if value != RATCHET_TREE_IN_GROUP_INFO {
                    return Err(DecodeError::InvalidValue {
                        what,
                        value: u64::from(value),
                    });
                }
                FanoutExtra::Welcome
            }
            MlsMessageBody::PublicMessage(public) => match &public.content.body {
                ContentBody::Proposal(_) => FanoutExtra::Proposal {
                    more_proposals: read_mls_list(
                        reader,
                        "FanoutMessage.moreProposals",
                        "a PublicMessage",
                        is_public,
                    )?,
                },
                ContentBody::Commit(_) => FanoutExtra::Commit {
                    external_proposals: read_mls_list(
                        reader,
                        "FanoutMessage.externalProposals",
                        "a PublicMessage",
                        is_public,
                    )?,
                },
                ContentBody::Application { .. } => {
                    return Err(DecodeError::Malformed {
                        what: WHAT,
                        detail: "a PublicMessage with application content".into(),
                    });
                }
            },
            other => {
                return Err(DecodeError::Malformed {
                    what: WHAT,
                    detail: format!(
                        "expected a PublicMessage, PrivateMessage or Welcome, got wire format {}",
                        other.wire_format().0
                    ),
                });
            }
        };
        Ok(FanoutMessage {
            timestamp,
            message: bytes,
            extra,
            sequence: reader.u64("FanoutMessage.sequence")?,
            epoch: reader.u64("FanoutMessage.epoch")?,
            recipients: read_uris(reader, "FanoutMessage.recipients")?,
        })
    }
}

impl FanoutMessage {
    /// The wire form of one [`super::Fanout`] of the hub.
    pub fn from_fanout(fanout: &super::Fanout) -> Self {
        use super::RoomEvent;
        let (epoch, extra) = match &fanout.event {
            RoomEvent::Application { epoch, .. } => (
                *epoch,
                FanoutExtra::Application {
                    frank: fanout.frank.clone(),
                },
            ),
            RoomEvent::Welcome { epoch, .. } => (*epoch, FanoutExtra::Welcome),
            RoomEvent::Handshake { epoch, message } => {
                let commit = MlsMessage::from_bytes(message).is_ok_and(|m| {
                    matches!(&m.body, MlsMessageBody::PublicMessage(p)
                        if matches!(p.content.body, ContentBody::Commit(_)))
                });
                let extra = if commit {
                    FanoutExtra::Commit {
                        external_proposals: Vec::new(),
                    }
                } else {
                    FanoutExtra::Proposal {
                        more_proposals: fanout.more_proposals.iter().map(|m| m.to_vec()).collect(),
                    }
                };
                (*epoch, extra)
            }
        };
        FanoutMessage {
            timestamp: fanout.timestamp,
            message: fanout.event.message().to_vec(),
            extra,
            sequence: fanout.seq,
            epoch,
            recipients: fanout.recipients.iter().map(|r| r.to_string()).collect(),
        }
    }

    /// The hub's [`super::Fanout`] this message carries, for room `room`.
    pub fn to_fanout(&self, room: &str) -> super::Fanout {
        use super::RoomEvent;
        let message: super::MessageBytes = self.message.as_slice().into();
        let epoch = self.epoch;
        let more_proposals = match &self.extra {
            FanoutExtra::Proposal { more_proposals } => {
                more_proposals.iter().map(|m| m.as_slice().into()).collect()
            }
            _ => Vec::new(),
        };
        let frank = match &self.extra {
            FanoutExtra::Application { frank } => frank.clone(),
            _ => None,
        };
        let event = match self.extra {
            FanoutExtra::Application { .. } => RoomEvent::Application { epoch, message },
            FanoutExtra::Welcome => RoomEvent::Welcome {
                epoch,
                welcome: message,
            },
            FanoutExtra::Proposal { .. } | FanoutExtra::Commit { .. } => {
                RoomEvent::Handshake { epoch, message }
            }
        };
        super::Fanout {
            room: room.into(),
            seq: self.sequence,
            timestamp: self.timestamp,
            event,
            recipients: self.recipients.iter().map(|r| r.as_str().into()).collect(),
            more_proposals,
            frank,
        }
    }
}

/// A `/notify` body: one or more concatenated `FanoutMessage`s (the draft allows several
/// for one room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyBody(pub Vec<FanoutMessage>);

impl Codec for NotifyBody {
    fn encode(&self, out: &mut Vec<u8>) {
        for message in &self.0 {
            message.encode(out);
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut messages = vec![FanoutMessage::decode(reader)?];
        while !reader.is_empty() {
            messages.push(FanoutMessage::decode(reader)?);
        }
        Ok(NotifyBody(messages))
    }
}

// ---------------------------------------------------------------------------------------
// Claim group key information

/// `GroupInfoRequest` (protocol mls10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfoRequest {
    pub cipher_suite: CipherSuite,
    pub requesting_signature_key: SignaturePublicKey,
    pub requesting_credential: Credential,
    pub group_info_public_key: HpkePublicKey,
    pub joining_code: Bytes,
    /// `SignWithLabel(requestingSignatureKey, "GroupInfoRequestTBS", GroupInfoRequestTBS)`.
    pub signature: Bytes,
}

impl GroupInfoRequest {
    /// `GroupInfoRequestTBS` (its `optional opaque joiningCode<V>` is present exactly
    /// when the code is not empty).
    pub fn tbs_bytes(&self) -> Vec<u8> {
        let mut out = vec![PROTOCOL_MLS10];
        self.cipher_suite.encode(&mut out);
        self.requesting_signature_key.encode(&mut out);
        self.requesting_credential.encode(&mut out);
        self.group_info_public_key.encode(&mut out);
        if self.joining_code.is_empty() {
            out.push(0);
        } else {
            out.push(1);
            self.joining_code.encode(&mut out);
        }
        out
    }
}

impl Codec for GroupInfoRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_MLS10);
        self.cipher_suite.encode(out);
        self.requesting_signature_key.encode(out);
        self.requesting_credential.encode(out);
        self.group_info_public_key.encode(out);
        self.joining_code.encode(out);
        self.signature.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(reader, "GroupInfoRequest.protocol")?;
        Ok(GroupInfoRequest {
            cipher_suite: read(reader, "GroupInfoRequest.cipher_suite")?,
            requesting_signature_key: read(reader, "GroupInfoRequest.requestingSignatureKey")?,
            requesting_credential: read(reader, "GroupInfoRequest.requestingCredential")?,
            group_info_public_key: read(reader, "GroupInfoRequest.groupInfoPublicKey")?,
            joining_code: read(reader, "GroupInfoRequest.joiningCode")?,
            signature: read(reader, "GroupInfoRequest.signature")?,
        })
    }
}

/// The encrypted part of a successful `GroupInfoResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfoSuccess {
    pub cipher_suite: CipherSuite,
    pub hub_sender: ExternalSender,
    pub encrypted_groupinfo_and_tree: HpkeCiphertext,
    pub signature: Bytes,
}

/// `GroupInfoCode`, with the success select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupInfoStatus {
    Success(GroupInfoSuccess),
    NotAuthorized,
    NoSuchRoom,
}

/// `GroupInfoResponse` (protocol mls10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfoResponse {
    pub room_id: Bytes,
    pub status: GroupInfoStatus,
}

impl GroupInfoResponse {
    /// `GroupInfoResponseTBS` for a success answer.
    pub fn tbs_bytes(room_id: &[u8], success: &GroupInfoSuccess) -> Vec<u8> {
        let mut out = vec![PROTOCOL_MLS10];
        write_opaque(&mut out, room_id);
        out.push(1);
        success.cipher_suite.encode(&mut out);
        success.hub_sender.encode(&mut out);
        success.encrypted_groupinfo_and_tree.encode(&mut out);
        out
    }
}

impl Codec for GroupInfoResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_MLS10);
        self.room_id.encode(out);
        match &self.status {
            GroupInfoStatus::Success(success) => {
                out.push(1);
                success.cipher_suite.encode(out);
                success.hub_sender.encode(out);
                success.encrypted_groupinfo_and_tree.encode(out);
                success.signature.encode(out);
            }
            GroupInfoStatus::NotAuthorized => out.push(2),
            GroupInfoStatus::NoSuchRoom => out.push(3),
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(reader, "GroupInfoResponse.version")?;
        let room_id = read(reader, "GroupInfoResponse.room_id")?;
        let status = match reader.u8("GroupInfoResponse.status")? {
            1 => GroupInfoStatus::Success(GroupInfoSuccess {
                cipher_suite: read(reader, "GroupInfoResponse.cipher_suite")?,
                hub_sender: read(reader, "GroupInfoResponse.hub_sender")?,
                encrypted_groupinfo_and_tree: read(
                    reader,
                    "GroupInfoResponse.encrypted_groupinfo_and_tree",
                )?,
                signature: read(reader, "GroupInfoResponse.signature")?,
            }),
            2 => GroupInfoStatus::NotAuthorized,
            3 => GroupInfoStatus::NoSuchRoom,
            value => {
                return Err(DecodeError::InvalidValue {
                    what: "GroupInfoResponse.status",
                    value: u64::from(value),
                });
            }
        };
        Ok(GroupInfoResponse { room_id, status })
    }
}

/// `GroupInfoRatchetTreeTBE`: the GroupInfo (this profile leaves the `ratchet_tree`
/// extension inside it and sends `RatchetTreeOption` [`RATCHET_TREE_IN_GROUP_INFO`]) and
/// the pending proposals (`struct { MLSMessage proposal; uint64 hub_accepted_time; }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfoRatchetTreeTbe {
    /// The encoded `GroupInfo` struct (not an MLSMessage).
    pub group_info: Vec<u8>,
    pub pending_proposals: Vec<(Vec<u8>, u64)>,
}

impl Codec for GroupInfoRatchetTreeTbe {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.group_info);
        out.push(RATCHET_TREE_IN_GROUP_INFO);
        let mut inner = Vec::new();
        for (proposal, time) in &self.pending_proposals {
            inner.extend_from_slice(proposal);
            time.encode(&mut inner);
        }
        write_opaque(out, &inner);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let start = reader.position();
        crate::messages::GroupInfo::decode(reader)
            .map_err(field("GroupInfoRatchetTreeTBE.groupInfo"))?;
        let group_info = reader.input()[start..reader.position()].to_vec();
        let what = "GroupInfoRatchetTreeTBE.ratchetTreeOption";
        let value = reader.u8(what)?;
        if value != RATCHET_TREE_IN_GROUP_INFO {
            return Err(DecodeError::InvalidValue {
                what,
                value: u64::from(value),
            });
        }
        let what = "GroupInfoRatchetTreeTBE.pending_proposals";
        let mut inner = reader.sub_reader(what).map_err(field(what))?;
        let mut pending_proposals = Vec::new();
        while !inner.is_empty() {
            let proposal = read_mls_of(&mut inner, what, "a PublicMessage", is_public)?;
            let time = inner.u64(what)?;
            pending_proposals.push((proposal, time));
        }
        Ok(GroupInfoRatchetTreeTbe {
            group_info,
            pending_proposals,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Create a room (beyond the draft)

/// `CreateRoomRequest`, beyond the draft (profile `concord-mimi-06`):
/// `struct { Protocol protocol; IdentifierUri creator; MLSMessage groupInfo; uint8 open; }`
/// where `groupInfo` carries the creator's GroupInfo with the `ratchet_tree` extension
/// and `open` (0 or 1) lets any client join by external commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRoomRequest {
    pub creator: String,
    pub group_info: Vec<u8>,
    pub open: bool,
}

impl Codec for CreateRoomRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_MLS10);
        write_uri(out, &self.creator);
        out.extend_from_slice(&self.group_info);
        out.push(u8::from(self.open));
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(reader, "CreateRoomRequest.protocol")?;
        Ok(CreateRoomRequest {
            creator: read_uri(reader, "CreateRoomRequest.creator")?,
            group_info: read_mls_of(
                reader,
                "CreateRoomRequest.groupInfo",
                "a GroupInfo",
                is_group_info,
            )?,
            open: read_bool(reader, "CreateRoomRequest.open")?,
        })
    }
}

/// `CreateRoomResponse`, beyond the draft:
/// `struct { uint8 code; /* created(0), roomExists(1), invalidGroupInfo(2), notAllowed(3) */
/// string description; }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateRoomCode {
    Created = 0,
    RoomExists = 1,
    InvalidGroupInfo = 2,
    NotAllowed = 3,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRoomResponse {
    pub code: CreateRoomCode,
    pub description: String,
}

impl Codec for CreateRoomResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.code as u8);
        write_opaque(out, self.description.as_bytes());
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = match read_code(reader, "CreateRoomResponse.code", 3)? {
            0 => CreateRoomCode::Created,
            1 => CreateRoomCode::RoomExists,
            2 => CreateRoomCode::InvalidGroupInfo,
            _ => CreateRoomCode::NotAllowed,
        };
        Ok(CreateRoomResponse {
            code,
            description: read_string(reader, "CreateRoomResponse.description")?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Consent, identifier query, abuse reports

/// `AppDataDictionary` (draft-ietf-mls-extensions): `ComponentData component_data<V>`
/// with `struct { uint16 component_id; opaque data<V>; } ComponentData`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppDataDictionary(pub Vec<(u16, Bytes)>);

impl Codec for AppDataDictionary {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut inner = Vec::new();
        for (id, data) in &self.0 {
            id.encode(&mut inner);
            data.encode(&mut inner);
        }
        write_opaque(out, &inner);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const WHAT: &str = "AppDataDictionary.component_data";
        let mut inner = reader.sub_reader(WHAT).map_err(field(WHAT))?;
        let mut items = Vec::new();
        while !inner.is_empty() {
            let id = inner.u16(WHAT)?;
            items.push((id, read(&mut inner, WHAT)?));
        }
        Ok(AppDataDictionary(items))
    }
}

/// `ConsentOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentOperation {
    Cancel = 0,
    Request = 1,
    Grant = 2,
    Revoke = 3,
}

/// `ConsentEntry` (`RoomId`, which the draft leaves undefined, is an `IdentifierUri`
/// in this profile; the KeyPackages of a grant are kept as their encodings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEntry {
    pub operation: ConsentOperation,
    pub requester_uri: String,
    pub target_uri: String,
    pub room_id: Option<String>,
    pub client_key_packages: Vec<Vec<u8>>,
    pub consent_extensions: AppDataDictionary,
}

impl Codec for ConsentEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.operation as u8);
        write_uri(out, &self.requester_uri);
        write_uri(out, &self.target_uri);
        match &self.room_id {
            None => out.push(0),
            Some(room) => {
                out.push(1);
                write_uri(out, room);
            }
        }
        if self.operation == ConsentOperation::Grant {
            write_opaque(out, &self.client_key_packages.concat());
        }
        self.consent_extensions.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let operation = match read_code(reader, "ConsentEntry.consentOperation", 3)? {
            0 => ConsentOperation::Cancel,
            1 => ConsentOperation::Request,
            2 => ConsentOperation::Grant,
            _ => ConsentOperation::Revoke,
        };
        let requester_uri = read_uri(reader, "ConsentEntry.requesterUri")?;
        let target_uri = read_uri(reader, "ConsentEntry.targetUri")?;
        let room_id = match reader.u8("ConsentEntry.roomId")? {
            0 => None,
            1 => Some(read_uri(reader, "ConsentEntry.roomId")?),
            value => {
                return Err(DecodeError::InvalidValue {
                    what: "ConsentEntry.roomId",
                    value: u64::from(value),
                });
            }
        };
        let mut client_key_packages = Vec::new();
        if operation == ConsentOperation::Grant {
            const WHAT: &str = "ConsentEntry.clientKeyPackages";
            let mut inner = reader.sub_reader(WHAT).map_err(field(WHAT))?;
            while !inner.is_empty() {
                let start = inner.position();
                KeyPackage::decode(&mut inner).map_err(field(WHAT))?;
                client_key_packages.push(inner.input()[start..inner.position()].to_vec());
            }
        }
        Ok(ConsentEntry {
            operation,
            requester_uri,
            target_uri,
            room_id,
            client_key_packages,
            consent_extensions: read(reader, "ConsentEntry.consent_extensions")?,
        })
    }
}

/// `QueryElement`: the search type (1 to 8), the claim or property name for types 7
/// and 8 (empty otherwise), and the UTF-8 search value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryElement {
    pub search_type: u8,
    pub name: Vec<u8>,
    pub search_value: String,
}

/// `SearchIdentifierType` `handle`.
pub const SEARCH_HANDLE: u8 = 1;

impl Codec for QueryElement {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.search_type);
        if matches!(self.search_type, 7 | 8) {
            write_opaque(out, &self.name);
        }
        write_opaque(out, self.search_value.as_bytes());
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let search_type = read_code(reader, "QueryElement.searchType", 8)?;
        if search_type == 0 {
            return Err(DecodeError::InvalidValue {
                what: "QueryElement.searchType",
                value: 0,
            });
        }
        let name = if matches!(search_type, 7 | 8) {
            reader
                .opaque("QueryElement.claimName")
                .map_err(field("QueryElement.claimName"))?
        } else {
            Vec::new()
        };
        Ok(QueryElement {
            search_type,
            name,
            search_value: read_string(reader, "QueryElement.searchValue")?,
        })
    }
}

/// `IdentifierRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierRequest {
    pub query_elements: Vec<QueryElement>,
    pub id_request_extensions: AppDataDictionary,
}

impl Codec for IdentifierRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.query_elements.encode(out);
        self.id_request_extensions.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(IdentifierRequest {
            query_elements: read(reader, "IdentifierRequest.query_elements")?,
            id_request_extensions: read(reader, "IdentifierRequest.id_request_extensions")?,
        })
    }
}

/// `IdentifierResponse` (profiles are not modelled: `foundProfiles` is empty when
/// encoded and must be empty when decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierResponse {
    /// `IdentifierQueryCode`: success(0), notFound(1), ambiguous(2), forbidden(3),
    /// unsupportedField(4).
    pub response_code: u8,
    pub uris: Vec<String>,
    pub id_response_extensions: AppDataDictionary,
}

impl Codec for IdentifierResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.response_code);
        write_uris(out, &self.uris);
        write_opaque(out, &[]);
        self.id_response_extensions.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let response_code = read_code(reader, "IdentifierResponse.responseCode", 4)?;
        let uris = read_uris(reader, "IdentifierResponse.uri")?;
        let profiles = reader
            .opaque("IdentifierResponse.foundProfiles")
            .map_err(field("IdentifierResponse.foundProfiles"))?;
        if !profiles.is_empty() {
            return Err(DecodeError::Malformed {
                what: "IdentifierResponse.foundProfiles",
                detail: "user profiles are not modelled by this profile".into(),
            });
        }
        Ok(IdentifierResponse {
            response_code,
            uris,
            id_response_extensions: read(reader, "IdentifierResponse.id_response_extensions")?,
        })
    }
}

/// `AbusiveMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbusiveMessage {
    pub message_content: Bytes,
    pub frank: Frank,
    pub accepted_timestamp: u64,
}

impl Codec for AbusiveMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.message_content.encode(out);
        self.frank.encode(out);
        self.accepted_timestamp.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AbusiveMessage {
            message_content: read(reader, "AbusiveMessage.message_content")?,
            frank: read(reader, "AbusiveMessage.frank")?,
            accepted_timestamp: reader.u64("AbusiveMessage.accepted_timestamp")?,
        })
    }
}

/// `AbuseReport` (`AbuseType` has only `reserved(0)` in the draft; any value is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbuseReport {
    pub reporting_user: String,
    pub alleged_abuser_uri: String,
    pub reason_code: u8,
    pub note: String,
    pub messages: Vec<AbusiveMessage>,
    pub abuse_extensions: AppDataDictionary,
}

impl Codec for AbuseReport {
    fn encode(&self, out: &mut Vec<u8>) {
        write_uri(out, &self.reporting_user);
        write_uri(out, &self.alleged_abuser_uri);
        out.push(self.reason_code);
        write_opaque(out, self.note.as_bytes());
        self.messages.encode(out);
        self.abuse_extensions.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AbuseReport {
            reporting_user: read_uri(reader, "AbuseReport.reportingUser")?,
            alleged_abuser_uri: read_uri(reader, "AbuseReport.allegedAbuserUri")?,
            reason_code: reader.u8("AbuseReport.reasonCode")?,
            note: read_string(reader, "AbuseReport.note")?,
            messages: read(reader, "AbuseReport.messages")?,
            abuse_extensions: read(reader, "AbuseReport.abuse_extensions")?,
        })
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
