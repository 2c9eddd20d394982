//! The MIMI provider model: a room's **hub** and the **followers** that serve their own
//! users (draft-ietf-mimi-protocol, draft-ietf-mimi-arch), sans-IO like the rest of the
//! reference: requests come in as values, answers and fanout go out as values, and time is
//! a parameter.
//!
//! ```text
//!  client ──HandshakeBundle / app message──> its provider ──forward──> hub (Hub)
//!                                                                      │ orders: one commit per epoch,
//!                                                                      │ wrongEpoch / epochTooOld,
//!                                                                      │ participant list vs MLS roster
//!  client <──Delivery (per client, in order)── Provider <──Fanout (per provider seq)──┘
//!  key packages: Provider::publish_key_package / claim_key_package (hub relays claims)
//! ```
//!
//! # Profile `concord-mimi-06`
//!
//! Pinned to draft-ietf-mimi-protocol as of commit 833394a (the -06 era, April 2026; the
//! copy in `specs/`). Where the draft is silent or contradicts itself, this profile chooses:
//!
//! 1. **Identities.** A client's credential identity is its participant URI, written
//!    `user@provider` (the draft uses `mimi://` URIs); one client per user. The provider of
//!    a client is the text after the last `@`. A commit leaving two leaves with one
//!    identity is `notAllowed`.
//! 2. **Participant list changes** travel next to the handshake message in the update
//!    request ([`ParticipantChange`]), not as an `AppSync` proposal: clients under test speak
//!    the MLSClient interface, which cannot build AppSync proposals (section "Update Room
//!    State" requires the change be committed with, or before, the MLS operation: a change
//!    takes effect exactly when its commit is accepted).
//! 3. **Handshake messages are PublicMessages** so the hub can check them (SemiPrivateMessage
//!    is not modelled). The hub tracks the ratchet tree's leaves from every accepted commit
//!    and does not verify signatures or membership tags; members do.
//! 4. **Ordering.** The hub accepts exactly one commit per epoch: the first to arrive whose
//!    epoch is the room's; any other handshake message is answered `wrongEpoch` with the
//!    current epoch. An application message of an older epoch is answered `epochTooOld`;
//!    one of a newer epoch `notAllowed` (the draft's "nonsensical input"). The draft allows
//!    past-epoch messages to be accepted at the hub's discretion; this profile accepts none,
//!    so "members when sent" is well defined: the members of the epoch the hub accepted it in.
//! 5. **Fanout sequence numbers.** The draft has none ("Known gaps"). Each fanout from the
//!    hub to a provider carries a per-(room, provider) sequence number, and each delivery
//!    from a provider to a client a per-(room, client) number; receivers deliver in order and
//!    drop what they already have, so retransmissions are idempotent.
//! 6. **Retransmission.** Every request carries a per-client `request_id`; the hub answers a
//!    repeated request with its first answer and does not fan it out again.
//! 7. **Fanout recipients.** A commit goes to the members of the epoch it ends (removed
//!    members included, so they learn of it); a proposal or application message to the
//!    current members except its sender; a Welcome to the clients its Adds name (the draft
//!    routes by `KeyPackageRef`, which names the same clients).
//! 8. **Authorization policy.** Any participant who is a member may add or remove
//!    participants; a member may remove only itself with a proposal (leaving); a new client
//!    may join by external commit when it is already a participant, or when the room is open.
//!    The proposals of one update (the proposal and its `moreProposals`) are leaves of users
//!    of the sending provider, each user once; the fanout carries the `moreProposals` as
//!    sent. A regular commit must cover every proposal the hub accepted in its epoch (by
//!    reference, or by removing the proposer anyway), else `notAllowed` naming them
//!    (MIMI-PROTOCOL-5.3-16); a commit whose participant changes touch one user twice is
//!    `notAllowed` (MIMI-PROTOCOL-7.5-6); `invalidProposal` lists the refs of the invalid
//!    proposals (MIMI-PROTOCOL-5.3-13). The room policy draft is not modelled beyond this.
//! 9. **GroupInfo.** The committer publishes the GroupInfo of the epoch its commit created
//!    after the hub accepted the commit (the MLSClient interface yields a GroupInfo only for
//!    the current epoch); the hub keeps the newest one of its current epoch for external
//!    joiners and answers "not available" in between.
//! 10. **Provider switching** is outside the draft: it is modelled as one commit that
//!     removes the old identity and adds the new one, and labelled beyond the draft.
//! 11. **Key material** for a room is fetched through the room's hub (5.2): a hub that
//!     gets `keyMaterial` for another provider's user, naming a room it hosts, from the
//!     provider of one of the room's participants, passes the request on to the target's
//!     provider (found in its directory) and returns the answer unchanged, recording each
//!     KeyPackageRef it hands out with that provider; a Commit adding a recorded KeyPackage
//!     whose client is not of that provider is `notAllowed` (its Welcome would go astray).
//!     The hub routes Welcomes by the commit's Adds, which name the same clients. A target
//!     provider accepts a request naming a room from any authenticated provider (the
//!     room's hub passing it on; the request's signature authenticates the requester), and
//!     one naming no room only from the requester's provider (catalog 5.2-20).
//! 12. **Fanout to the sender.** An application message or proposal is not sent back to
//!     its sender's client (the catalog's 5.5-21 choice sends it and lets the client
//!     discard it; the outcome for members is the same).
//! 13. **Provider crashes.** A provider's room and key package state is durable: a crash
//!     loses what was in flight, never what was acknowledged.
//! 14. **Creating a room on a hub** is beyond the draft (which has no inter-provider room
//!     creation): `POST /v1/createRoom/{roomId}` with a [`wire::CreateRoomRequest`] (the
//!     creator's GroupInfo as an MLSMessage with the `ratchet_tree` extension, and whether
//!     the room is open), answered by a [`wire::CreateRoomResponse`]. A follower's user can
//!     so create a room on a hub that has no users of its own.
//! 15. **Request ids** (choice 6) travel in the HTTP `Idempotency-Key` header: a decimal
//!     number is taken as it is, any other value is hashed; a request without the header is
//!     never taken for a repeat.
//! 16. **Bodies** ([`wire`]) are the draft's structs with content type
//!     `application/mimi-protocol`, with these additions and narrowings: `UpdateRequest`
//!     ends with the sender's URI and the participant changes (choice 2); its
//!     `GroupInfoOption` is an `optional<MLSMessage>` GroupInfo with the tree inside
//!     (no `RatchetTreeOption`); `FanoutMessage` ends with the fanout sequence number
//!     (choice 5), the epoch, and the receiving provider's recipient clients; a Welcome's
//!     `RatchetTreeOption` is the single value 255 (the tree is inside the Welcome's
//!     GroupInfo); `RoomId` is an `IdentifierUri`; user profiles of identifier queries are
//!     not modelled. A `/notify` body holds one or more `FanoutMessage`s.
//! 17. **Local users' key material.** Each local user of a provider (`--users`; the hub's
//!     default `alice,bob`) publishes 32 KeyPackages (suite 1), generated by the reference
//!     from the provider's seed when the first request arrives (their lifetime starts an
//!     hour before it); `keyMaterial` hands each out once. The signature of a
//!     `KeyMaterialRequest` must verify under one of its acceptable cipher suites or one
//!     the reference implements (else 403, plain text); those of `GroupInfoRequest` are checked too. Consent is recorded
//!     but not required for claims.
//! 18. **Authentication.** Every POST needs a client certificate (401 without); the
//!     certificate's domain must be the provider of the user the body speaks for
//!     (`requestingUser`, `sendingUri`, `creator`, the GroupInfo requester's credential,
//!     `requesterUri`/`targetUri`, `reportingUser`), else 403. A follower takes the domain
//!     of a room's first `/notify` as the room's hub and refuses others (403).
//! 19. **HTTP statuses** the draft leaves open: success 200 (createRoom 201; notify,
//!     requestConsent, updateConsent and reportAbuse 201 with no body, as the draft says
//!     for notify and consent; a duplicate notify is 201 and dropped); `wrongEpoch` and
//!     `epochTooOld` 409; `notAllowed` 403; `invalidProposal` 422; key material
//!     `userUnknown` 404, none left or no compatible suite 409 with `noCompatibleMaterial`
//!     and the client listed as `keyMaterialExhausted` or `nothingCompatible`; GroupInfo
//!     `noSuchRoom` 404, `notAuthorized` 403, none published for the current epoch yet 409
//!     (text); identifier query `notFound` 404, `unsupportedField` 422; an undecodable or
//!     inconsistent body 400 with a plain-text reason naming the field; unknown path or
//!     room 404; wrong method 405.
//! 20. **Fanout delivery.** The hub POSTs to each provider with recipients at the `notify`
//!     URL of that provider's directory (the URL's path, sent to the peer's address; every
//!     request to a peer is sent so, MIMI-PROTOCOL-5.1-2, see
//!     [`service::Outbound::endpoint`]), with `Host:` the target provider's domain and
//!     `From: mimi@<hub domain>`, retrying after a failure with a backoff of 1, 2, 4, ...
//!     32 polls of [`service::ProviderService::take_outbound`]; its own clients get their
//!     fanout at once.
//! 21. **Client access** (beyond the draft, which defines provider-to-provider endpoints
//!     only): `clientKeyPackage/{client}` (a client publishes its own KeyPackage),
//!     `clientInbox/{client}` (what its provider received for it, from a cursor) and
//!     `publishGroupInfo/{room}` (a member publishes the GroupInfo of the hub's epoch for
//!     external joiners). The first two need the provider's own certificate; see
//!     [`service::client_access`]. Live mode drives simulated clients through them.
//! 22. **Franking** ([`franking`], catalog MIMI-PROTOCOL-5.4.1-5). The hub's franking
//!     agent for a cipher suite is a `FrankingAgentData` with its franking signature key
//!     for that suite's signature algorithm and a basic credential holding the hub's
//!     domain; the hub publishes them in its directory under `frankingAgents` (cipher
//!     suite number in decimal to the hex of the `FrankingAgentData`), for room creators
//!     to put in the GroupContext. The
//!     GroupContext component 0x0021 (`franking_signature_key`, which the text calls
//!     `franking_agent`) sits in an `app_data_dictionary` extension (0x0006,
//!     draft-ietf-mls-extensions); the hub reads it from the creator's GroupInfo when the
//!     room is created (rotation is by a new group, the draft's ReInit). The hub franks an
//!     accepted application message when that agent is its own and the PrivateMessage's
//!     `authenticated_data` is a SafeAAD with a 32-octet `frank_aad` item (0x0020);
//!     anything else is accepted unfranked. `sender_uri` is the request's `sendingUri`,
//!     `room_uri` the room ID, `accepted_timestamp` the success answer's. `reportAbuse`
//!     with a message whose frank does not validate (server_frank recomputed with the
//!     hub_key, then the integrity signature) is answered 422 with no body. The receiver
//!     ([`franking::verify_received`]) takes the sender's credential identity and the
//!     fanout's room ID as the values the content's senderUri and roomUri must match.
//! 23. **The hub's external sender** (catalog MIMI-PROTOCOL-7.4-3). The hub's
//!     `ExternalSender` for a cipher suite is its GroupInfo `hub_sender` (signature key of
//!     that suite, basic credential holding the hub's domain); the hub names it in its
//!     directory under `externalSenders` (cipher suite number in decimal to the hex of the
//!     `ExternalSender`). A room created with an `external_senders` extension lacking it is
//!     `notAllowed` (403), as is a Commit whose GroupContextExtensions proposal (by value)
//!     leaves it out. A room created with no `external_senders` at all is accepted (clients
//!     of the MLSClient interface cannot set one), so MIMI-PROTOCOL-7.4-2 is not enforced.

pub mod franking;
pub mod group_info;
mod hub;
mod provider;
pub mod proxy_download;
mod roster;
pub mod service;
pub mod wire;

#[cfg(feature = "adversary")]
pub use hub::HubFaults;
pub use hub::{Hub, HubError, Injection, Room, RoomHistory};
pub use provider::{Delivery, Provider};
pub use roster::{Roster, RosterError};

/// The pinned profile: which draft revision, with the choices listed in this module's docs.
pub const PROFILE: &str = "concord-mimi-06";

/// Requirement IDs of draft-ietf-mimi-protocol-06 this model enforces (catalog
/// `spec/catalog/mimi-protocol.toml`, profile `concord-mimi-06`).
pub mod requirement {
    /// 5.3: a handshake message of another epoch is answered `wrongEpoch`; the first
    /// valid commit of an epoch wins (5.3-14).
    pub const WRONG_EPOCH: &str = "MIMI-PROTOCOL-5.3-11";
    pub const ONE_COMMIT_PER_EPOCH: &str = "MIMI-PROTOCOL-5.3-14";
    /// 5.4: an application message of an older epoch is answered `epochTooOld`.
    pub const EPOCH_TOO_OLD: &str = "MIMI-PROTOCOL-5.4-6";
    /// 5.5: an accepted message reaches every provider with active participants.
    pub const FANOUT: &str = "MIMI-PROTOCOL-5.5-1";
    /// 5.5: a success answer commits the hub to distribute the message eventually.
    pub const EVENTUALLY_DISTRIBUTED: &str = "MIMI-PROTOCOL-5.5-7";
    /// 5.5: duplicates are processed once.
    pub const DUPLICATES_ONCE: &str = "MIMI-PROTOCOL-5.5-15";
    /// 5.3: no member client of a user absent from the participant list.
    pub const PARTICIPANTS: &str = "MIMI-PROTOCOL-5.3-17";
    /// 5.3: a removed participant's clients neither send nor receive application messages.
    pub const REMOVED: &str = "MIMI-PROTOCOL-5.3-4";
    /// 5.2: key material handed out once is never handed out again.
    pub const KEY_MATERIAL_ONCE: &str = "MIMI-PROTOCOL-5.2-12";
    /// 5.3: a repeated request is answered as the first and not distributed again.
    pub const IDEMPOTENT: &str = "MIMI-PROTOCOL-5.3-18";
}

/// A change to the room's participant list, committed with the MLS operation it goes with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParticipantChange {
    Add(String),
    Remove(String),
}

/// Update Room State request: a proposal or commit (an encoded MLSMessage carrying a
/// PublicMessage), the Welcome a commit makes, and the participant list changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HandshakeBundle {
    pub message: Vec<u8>,
    pub welcome: Option<Vec<u8>>,
    pub participant_changes: Vec<ParticipantChange>,
}

/// `UpdateRoomResponse` (section "Update Room State").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateResponse {
    Success { accepted_at: u64 },
    WrongEpoch { current_epoch: u64 },
    NotAllowed { reason: String },
    InvalidProposal { reason: String },
}

/// The hub's answer to an update with what the draft's response carries beyond
/// [`UpdateResponse`]: for `invalidProposal`, the `ProposalRef`s of the proposals found
/// invalid (MIMI-PROTOCOL-5.3-13; empty for any other answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateAnswer {
    pub response: UpdateResponse,
    pub invalid_proposals: Vec<Vec<u8>>,
}

/// `SubmitMessageResponse` (section "Submit a Message"; the draft names success both
/// `accepted` and `success`: this profile says `Accepted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitResponse {
    /// Accepted at `accepted_at`, with the hub's frank when it franked the message
    /// (MIMI-PROTOCOL-5.4-3).
    Accepted {
        accepted_at: u64,
        frank: Option<wire::Frank>,
    },
    NotAllowed {
        reason: String,
    },
    EpochTooOld {
        current_epoch: u64,
    },
}

/// The bytes of one MLS message as a room event carries them: shared, not copied, by
/// every fanout and delivery of the event (one message to a room of N members is one
/// allocation, not N).
pub type MessageBytes = std::sync::Arc<[u8]>;

/// A room id or client identity as fanouts and deliveries carry it: shared, not copied
/// (a message to a room of N members names the room N times and N recipients).
pub type Name = std::sync::Arc<str>;

/// What a fanout carries to a provider (and a delivery to a client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// A proposal or commit (PublicMessage), accepted in `epoch`.
    Handshake { epoch: u64, message: MessageBytes },
    /// An application message (PrivateMessage) accepted in `epoch`.
    Application { epoch: u64, message: MessageBytes },
    /// A Welcome into `epoch`; the ratchet tree is inside its GroupInfo.
    Welcome { epoch: u64, welcome: MessageBytes },
}

impl RoomEvent {
    /// The encoded MLS message inside.
    pub fn message(&self) -> &[u8] {
        match self {
            RoomEvent::Handshake { message, .. } | RoomEvent::Application { message, .. } => {
                message
            }
            RoomEvent::Welcome { welcome, .. } => welcome,
        }
    }

    /// A short name for transcripts.
    pub fn kind(&self) -> &'static str {
        match self {
            RoomEvent::Handshake { .. } => "handshake",
            RoomEvent::Application { .. } => "application",
            RoomEvent::Welcome { .. } => "welcome",
        }
    }
}

/// `FanoutMessage` from the hub to one provider, with this profile's sequence number and
/// the provider's local clients it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fanout {
    pub room: Name,
    /// Per (room, provider), from 0, without gaps.
    pub seq: u64,
    pub timestamp: u64,
    pub event: RoomEvent,
    pub recipients: Vec<Name>,
    /// For a proposal: the `moreProposals` of the update that brought it, unchanged
    /// (MIMI-PROTOCOL-5.5-10); empty otherwise.
    pub more_proposals: Vec<MessageBytes>,
    /// For an application message the hub franked: its frank, fanned out with it
    /// (MIMI-PROTOCOL-5.4.1.2-5); `None` otherwise.
    pub frank: Option<wire::Frank>,
}

/// The provider of a client identity `user@provider`.
pub fn provider_of(identity: &str) -> Option<&str> {
    identity.rsplit_once('@').map(|(_, provider)| provider)
}

#[cfg(test)]
mod tests;
