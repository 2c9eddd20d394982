//! The hub: orders a room's handshake messages (one commit per epoch), keeps the
//! participant list and checks it against the MLS roster, and fans accepted messages out
//! to the providers of the members, each with its own sequence number.

use std::collections::{BTreeMap, BTreeSet};

use super::franking::{self, FrankingAgentData, FrankingKeys, ServerFrankingContext};
use super::roster::{Roster, RosterError, by_provider};
use super::{
    Fanout, HandshakeBundle, Name, ParticipantChange, RoomEvent, SubmitResponse, UpdateAnswer,
    UpdateResponse, provider_of,
};
use crate::codec::Codec;
use crate::crypto::CipherSuite;
use crate::messages::{ContentBody, ContentType, MlsMessage, MlsMessageBody, Proposal, Sender};

/// Why a room could not be created (or found).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("room {0} exists already")]
    RoomExists(String),
    #[error("no room {0} on this hub")]
    NoRoom(String),
    #[error("the room's GroupInfo: {0}")]
    GroupInfo(String),
    #[error("the creator's group must hold exactly its creator {0}")]
    Creator(String),
}

/// Misbehaviours a hub can be told to show, for Concord's malicious and faulty provider
/// scenarios and for a provider server under test conditions. The honest hub has every
/// one off (the default); [`Hub::set_faults`] switches them for every room of the hub.
/// What each misbehaviour does is recorded per room ([`Room::injections`]) so that a
/// harness can tell which deliveries were adversarial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubFaults {
    /// `ghost-member`: a commit that leaves a client of a user who is not a participant in
    /// the group is accepted (the participant list check of MIMI-PROTOCOL-5.3-17 is skipped).
    pub accept_non_participants: bool,
    /// `fork`: every commit is fanned out only to the members on its committer's provider,
    /// and a commit of the epoch just closed is accepted as well, once per (epoch, provider):
    /// the members of different providers are shown different commits for one epoch.
    pub fork: bool,
    /// `replay`: every application message is fanned out a second time right after the
    /// first, and when a commit closes an epoch, every handshake message of that epoch (the
    /// commit included) is fanned out again after it. Replays carry fresh fanout sequence
    /// numbers, so providers cannot drop them as duplicates.
    pub replay: bool,
    /// `delay`: the first commit of this client is held: the hub answers it `wrongEpoch`
    /// as if another commit of its epoch had won (the sender waits for the next epoch and
    /// retries then, so another member must commit) and fans it out to the other members
    /// once the room has moved [`HubFaults::delay_epochs`] epochs past the commit's epoch.
    pub delay_commits_of: Option<String>,
    /// How many epochs a delayed commit is held past its own (at least 1).
    pub delay_epochs: u64,
    /// `reorder-epochs`: to this client, the first commit it should receive is held back
    /// and delivered after the next commit (epoch n+1 before epoch n).
    pub reorder_epochs_for: Option<String>,
    /// `truncated-tree`: the GroupInfo the hub serves to external joiners carries a
    /// ratchet tree with its last leaf cut off (the signature is left as it was).
    pub truncate_ratchet_tree: bool,
}

impl HubFaults {
    /// Whether every misbehaviour is off.
    #[cfg(feature = "adversary")]
    pub fn is_honest(&self) -> bool {
        *self == HubFaults::default()
    }
}

/// One adversarial fanout a faulty hub made: which misbehaviour, the message, for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// `fork`, `replay`, `delay` or `reorder-epochs`.
    pub behaviour: &'static str,
    /// The epoch the message belongs to.
    pub epoch: u64,
    /// The encoded MLSMessage.
    pub message: Vec<u8>,
    /// The clients it was fanned out to.
    pub recipients: Vec<String>,
    /// Whether the recipients had been sent the same message before (a replay).
    pub repeated: bool,
}

/// A commit the `delay` misbehaviour holds.
#[derive(Debug, Clone)]
struct HeldCommit {
    client: String,
    epoch: u64,
    message: Vec<u8>,
    release_at: u64,
}

/// What the hub keeps per epoch, for checks: who was a member, who a participant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomHistory {
    /// Members (client identities) of each epoch.
    pub members: BTreeMap<u64, BTreeSet<String>>,
    /// The participant list of each epoch.
    pub participants: BTreeMap<u64, BTreeSet<String>>,
}

/// A proposal accepted in the current epoch: who sent it, and the participant changes it
/// carries.
#[derive(Debug, Clone)]
struct PendingProposal {
    sender: String,
    changes: Vec<ParticipantChange>,
}

/// One room on its hub.
#[derive(Debug, Clone)]
pub struct Room {
    pub id: Name,
    roster: Roster,
    participants: BTreeSet<String>,
    open: bool,
    group_info: Option<(u64, Vec<u8>)>,
    proposals: BTreeMap<Vec<u8>, PendingProposal>,
    /// Answers already given, by (client, request id): a repeated request gets the same.
    updates: BTreeMap<(String, u64), UpdateAnswer>,
    submits: BTreeMap<(String, u64), SubmitResponse>,
    /// Next fanout sequence number per provider.
    next_seq: BTreeMap<String, u64>,
    history: RoomHistory,
    faults: HubFaults,
    /// The served GroupInfo when `truncate_ratchet_tree` is on.
    served_group_info: Option<Vec<u8>>,
    /// Handshake events of the current epoch and their recipients (`replay`).
    epoch_log: Vec<(RoomEvent, BTreeSet<String>)>,
    /// (epoch, provider) pairs that had a commit fanned out (`fork`).
    forked: BTreeSet<(u64, String)>,
    held: Option<HeldCommit>,
    delay_used: bool,
    /// The commit held back from the `reorder_epochs_for` client.
    reorder_held: Option<RoomEvent>,
    reorder_done: bool,
    injections: Vec<Injection>,
    /// The room's cipher suite and the franking agent of the creator's GroupContext
    /// (component `franking_signature_key`), if any (profile choice 22).
    suite: CipherSuite,
    franking_agent: Option<FrankingAgentData>,
}

impl Room {
    /// The franking agent named in the room's GroupContext at creation, if any.
    pub fn franking_agent(&self) -> Option<&FrankingAgentData> {
        self.franking_agent.as_ref()
    }

    pub fn epoch(&self) -> u64 {
        self.roster.epoch()
    }

    pub fn members(&self) -> Vec<String> {
        self.roster.members()
    }

    pub fn participants(&self) -> &BTreeSet<String> {
        &self.participants
    }

    pub fn history(&self) -> &RoomHistory {
        &self.history
    }

    /// The newest GroupInfo of the current epoch, if the committer published it (with
    /// `truncate_ratchet_tree`, the altered copy the hub serves).
    pub fn group_info(&self) -> Option<&[u8]> {
        match &self.group_info {
            Some((epoch, bytes)) if *epoch == self.epoch() => {
                Some(self.served_group_info.as_deref().unwrap_or(bytes))
            }
            _ => None,
        }
    }

    /// The misbehaviours this room's hub shows.
    #[cfg(feature = "adversary")]
    pub fn faults(&self) -> &HubFaults {
        &self.faults
    }

    /// The adversarial fanouts made so far, in order.
    pub fn injections(&self) -> &[Injection] {
        &self.injections
    }

    /// Whether any client may join by external commit (created open).
    pub fn is_open(&self) -> bool {
        self.open
    }

    #[cfg(feature = "adversary")]
    fn set_faults(&mut self, faults: HubFaults) {
        self.faults = faults;
        self.refresh_served_group_info();
    }

    fn refresh_served_group_info(&mut self) {
        self.served_group_info = match (&self.group_info, self.faults.truncate_ratchet_tree) {
            (Some((_, bytes)), true) => truncate_tree(bytes),
            _ => None,
        };
    }

    fn inject(
        &mut self,
        behaviour: &'static str,
        epoch: u64,
        event: &RoomEvent,
        recipients: &BTreeSet<String>,
        repeated: bool,
        now: u64,
    ) -> Vec<(String, Fanout)> {
        if recipients.is_empty() {
            return Vec::new();
        }
        self.injections.push(Injection {
            behaviour,
            epoch,
            message: event.message().to_vec(),
            recipients: recipients.iter().cloned().collect(),
            repeated,
        });
        self.fan_out(recipients, event, now)
    }

    fn record_epoch(&mut self) {
        let epoch = self.epoch();
        self.history
            .members
            .insert(epoch, self.roster.member_set().clone());
        self.history
            .participants
            .insert(epoch, self.participants.clone());
    }

    /// Fanout of `event` to `recipients` (client identities), one message per provider.
    fn fan_out(
        &mut self,
        recipients: &BTreeSet<String>,
        event: &RoomEvent,
        now: u64,
    ) -> Vec<(String, Fanout)> {
        self.fan_out_grouped(by_provider(recipients), event, now)
    }

    /// Fanout of `event` to every member but `sender` (an application message).
    fn fan_out_to_members_but(
        &mut self,
        sender: &str,
        event: &RoomEvent,
        now: u64,
    ) -> Vec<(String, Fanout)> {
        // The roster's groups, shared: no identity is copied, and a provider whose only
        // member is the sender gets nothing.
        let groups: Vec<(String, Vec<Name>)> = self
            .roster
            .members_by_provider()
            .iter()
            .filter_map(|(provider, clients)| {
                let others: Vec<Name> = clients
                    .iter()
                    .filter(|c| c.as_ref() != sender)
                    .cloned()
                    .collect();
                (!others.is_empty()).then(|| (provider.clone(), others))
            })
            .collect();
        self.fan_out_grouped(groups, event, now)
    }

    fn fan_out_grouped(
        &mut self,
        by_provider: impl IntoIterator<Item = (String, Vec<Name>)>,
        event: &RoomEvent,
        now: u64,
    ) -> Vec<(String, Fanout)> {
        by_provider
            .into_iter()
            .map(|(provider, clients)| {
                let seq = self.next_seq.entry(provider.clone()).or_insert(0);
                let fanout = Fanout {
                    room: self.id.clone(),
                    seq: *seq,
                    timestamp: now,
                    event: event.clone(),
                    recipients: clients,
                    more_proposals: Vec::new(),
                    frank: None,
                };
                *seq += 1;
                (provider, fanout)
            })
            .collect()
    }
}

/// A GroupInfo (an encoded MLSMessage) whose ratchet_tree extension lost its last leaf,
/// everything else (the signature included) unchanged; `None` when it has no tree to cut.
fn truncate_tree(group_info: &[u8]) -> Option<Vec<u8>> {
    use crate::codec::Bytes;
    use crate::messages::{ExtensionType, RatchetTree};
    let mut message = MlsMessage::from_bytes(group_info).ok()?;
    let MlsMessageBody::GroupInfo(info) = &mut message.body else {
        return None;
    };
    let extension = info
        .extensions
        .iter_mut()
        .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)?;
    let mut tree = RatchetTree::from_bytes(extension.extension_data.as_slice()).ok()?;
    if tree.0.len() < 3 {
        return None;
    }
    // The last leaf and the parent node before it: a well-formed tree of one leaf less.
    tree.0.truncate(tree.0.len() - 2);
    while tree.0.len() > 1 && tree.0.last().is_some_and(Option::is_none) {
        tree.0.truncate(tree.0.len() - 2);
    }
    extension.extension_data = Bytes(tree.to_bytes());
    Some(message.to_bytes())
}

/// The hub role of one provider: its rooms.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    rooms: BTreeMap<String, Room>,
    #[cfg(feature = "adversary")]
    faults: HubFaults,
    /// The hub's franking secrets: without them it franks nothing.
    franking: Option<FrankingKeys>,
}

fn not_allowed(reason: impl Into<String>) -> UpdateResponse {
    UpdateResponse::NotAllowed {
        reason: reason.into(),
    }
}

impl Hub {
    pub fn room(&self, id: &str) -> Option<&Room> {
        self.rooms.get(id)
    }

    pub fn rooms(&self) -> impl Iterator<Item = &Room> {
        self.rooms.values()
    }

    /// Switches the hub's misbehaviours, for its rooms and the rooms it creates later.
    /// `HubFaults::default()` makes it honest again (what was already held stays held).
    #[cfg(feature = "adversary")]
    pub fn set_faults(&mut self, faults: HubFaults) {
        for room in self.rooms.values_mut() {
            room.set_faults(faults.clone());
        }
        self.faults = faults;
    }

    /// The misbehaviours the hub shows.
    #[cfg(feature = "adversary")]
    pub fn faults(&self) -> &HubFaults {
        &self.faults
    }

    /// Gives the hub its franking secrets: it franks application messages in rooms whose
    /// GroupContext names its franking agent (section "Hub processing").
    pub fn set_franking(&mut self, keys: FrankingKeys) {
        self.franking = Some(keys);
    }

    /// The hub's franking secrets, if it has them.
    pub fn franking(&self) -> Option<&FrankingKeys> {
        self.franking.as_ref()
    }

    /// Creates a room from its creator's GroupInfo (with the ratchet tree inside): the
    /// creator is the only participant and member. `open` lets any client join by
    /// external commit.
    pub fn create_room(
        &mut self,
        id: &str,
        creator: &str,
        group_info: &[u8],
        open: bool,
    ) -> Result<(), HubError> {
        if self.rooms.contains_key(id) {
            return Err(HubError::RoomExists(id.to_string()));
        }
        let message =
            MlsMessage::from_bytes(group_info).map_err(|e| HubError::GroupInfo(e.to_string()))?;
        let MlsMessageBody::GroupInfo(info) = &message.body else {
            return Err(HubError::GroupInfo("not a GroupInfo".into()));
        };
        let roster =
            Roster::from_group_info(info).map_err(|e| HubError::GroupInfo(e.to_string()))?;
        if roster.members() != [creator.to_string()] {
            return Err(HubError::Creator(creator.to_string()));
        }
        let franking_agent = franking::agent_in(&info.group_context.extensions)
            .map_err(|e| HubError::GroupInfo(e.to_string()))?;
        let mut room = Room {
            id: id.into(),
            group_info: Some((roster.epoch(), group_info.to_vec())),
            roster,
            participants: BTreeSet::from([creator.to_string()]),
            open,
            proposals: BTreeMap::new(),
            updates: BTreeMap::new(),
            submits: BTreeMap::new(),
            next_seq: BTreeMap::new(),
            history: RoomHistory::default(),
            faults: HubFaults::default(),
            served_group_info: None,
            epoch_log: Vec::new(),
            forked: BTreeSet::new(),
            held: None,
            delay_used: false,
            reorder_held: None,
            reorder_done: false,
            injections: Vec::new(),
            suite: info.group_context.cipher_suite,
            franking_agent,
        };
        #[cfg(feature = "adversary")]
        room.set_faults(self.faults.clone());
        room.record_epoch();
        self.rooms.insert(id.to_string(), room);
        Ok(())
    }

    /// Stores the GroupInfo a member published for `epoch` (kept if it is current).
    pub fn publish_group_info(&mut self, room: &str, epoch: u64, group_info: Vec<u8>) -> bool {
        match self.rooms.get_mut(room) {
            Some(r) if r.epoch() == epoch => {
                r.group_info = Some((epoch, group_info));
                r.refresh_served_group_info();
                true
            }
            _ => false,
        }
    }

    /// Update Room State: a proposal or commit from `client`. Returns the answer and the
    /// fanout (empty unless accepted, and for a repeated request).
    pub fn update(
        &mut self,
        room_id: &str,
        client: &str,
        request_id: u64,
        bundle: &HandshakeBundle,
        now: u64,
    ) -> Result<(UpdateResponse, Vec<(String, Fanout)>), HubError> {
        self.update_with_more(room_id, client, request_id, bundle, &[], now)
            .map(|(answer, fanout)| (answer.response, fanout))
    }

    /// [`Hub::update`] for a proposal that comes with `more_proposals` (the
    /// `HandshakeBundle`'s `moreProposals`, encoded MLSMessages; empty for a commit), with
    /// the refs of the invalid proposals in the answer.
    pub fn update_with_more(
        &mut self,
        room_id: &str,
        client: &str,
        request_id: u64,
        bundle: &HandshakeBundle,
        more_proposals: &[Vec<u8>],
        now: u64,
    ) -> Result<(UpdateAnswer, Vec<(String, Fanout)>), HubError> {
        let room = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| HubError::NoRoom(room_id.to_string()))?;
        let key = (client.to_string(), request_id);
        if let Some(answer) = room.updates.get(&key) {
            return Ok((answer.clone(), Vec::new()));
        }
        let mut invalid_proposals = Vec::new();
        let (response, fanout) = update_room(
            room,
            client,
            bundle,
            more_proposals,
            &mut invalid_proposals,
            now,
        );
        let answer = UpdateAnswer {
            response,
            invalid_proposals,
        };
        room.updates.insert(key, answer.clone());
        Ok((answer, fanout))
    }

    /// Submit a Message: an application message from `client`.
    pub fn submit(
        &mut self,
        room_id: &str,
        client: &str,
        request_id: u64,
        message: &[u8],
        now: u64,
    ) -> Result<(SubmitResponse, Vec<(String, Fanout)>), HubError> {
        let room = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| HubError::NoRoom(room_id.to_string()))?;
        let key = (client.to_string(), request_id);
        if let Some(answer) = room.submits.get(&key) {
            return Ok((answer.clone(), Vec::new()));
        }
        let (answer, fanout) = submit_message(room, self.franking.as_ref(), client, message, now);
        room.submits.insert(key, answer.clone());
        Ok((answer, fanout))
    }

    /// A misbehaving provider's extra fanout: `event` (a handshake or application
    /// message the honest hub refused) sent to the current members except `sender` as if
    /// it had been accepted, and recorded as an [`Injection`] named `behaviour`. `None`
    /// when there is no such room.
    pub fn accept_refused(
        &mut self,
        room_id: &str,
        behaviour: &'static str,
        sender: &str,
        event: &RoomEvent,
        now: u64,
    ) -> Option<Vec<(String, Fanout)>> {
        let room = self.rooms.get_mut(room_id)?;
        let recipients: BTreeSet<String> = room
            .roster
            .members()
            .into_iter()
            .filter(|m| m != sender)
            .collect();
        let epoch = match event {
            RoomEvent::Handshake { epoch, .. }
            | RoomEvent::Application { epoch, .. }
            | RoomEvent::Welcome { epoch, .. } => *epoch,
        };
        Some(room.inject(behaviour, epoch, event, &recipients, false, now))
    }
}

fn submit_message(
    room: &mut Room,
    franking: Option<&FrankingKeys>,
    client: &str,
    bytes: &[u8],
    now: u64,
) -> (SubmitResponse, Vec<(String, Fanout)>) {
    let refuse = |reason: &str| {
        (
            SubmitResponse::NotAllowed {
                reason: reason.to_string(),
            },
            Vec::new(),
        )
    };
    if !room.participants.contains(client) || !room.roster.is_member(client) {
        return refuse("the sender is not an active participant");
    }
    let Ok(message) = MlsMessage::from_bytes(bytes) else {
        return refuse("not an MLSMessage");
    };
    let MlsMessageBody::PrivateMessage(private) = &message.body else {
        return refuse("an application message must be a PrivateMessage");
    };
    if private.content_type != ContentType::Application {
        return refuse("content_type is not application");
    }
    if private.group_id.as_slice() != room.roster.group_id() {
        return refuse("another group");
    }
    let current = room.epoch();
    if private.epoch < current {
        return (
            SubmitResponse::EpochTooOld {
                current_epoch: current,
            },
            Vec::new(),
        );
    }
    if private.epoch > current {
        return refuse("an epoch newer than the hub's");
    }
    let event = RoomEvent::Application {
        epoch: current,
        message: bytes.into(),
    };
    // Section "Hub processing": a frank when the room names this hub's franking agent and
    // the AAD carries a franking tag (MIMI-PROTOCOL-5.4-3, 5.4.1.2-1 to 5.4.1.2-4).
    let frank = match (franking, &room.franking_agent) {
        (Some(keys), Some(agent)) if keys.is_own_agent(room.suite, agent) => {
            franking::tag_in_aad(private.authenticated_data.as_slice()).and_then(|tag| {
                let context = ServerFrankingContext {
                    sender_uri: client.to_string(),
                    room_uri: room.id.to_string(),
                    accepted_timestamp: now,
                };
                keys.frank(room.suite, &tag, &context).ok()
            })
        }
        _ => None,
    };
    let mut fanout = room.fan_out_to_members_but(client, &event, now);
    // MIMI-PROTOCOL-5.4.1.2-5: the frank travels with the message.
    for (_, one) in &mut fanout {
        one.frank = frank.clone();
    }
    if room.faults.replay {
        let recipients: BTreeSet<String> = room
            .roster
            .member_set()
            .iter()
            .filter(|m| *m != client)
            .cloned()
            .collect();
        fanout.extend(room.inject("replay", current, &event, &recipients, true, now));
    }
    (
        SubmitResponse::Accepted {
            accepted_at: now,
            frank,
        },
        fanout,
    )
}

/// One update; the refs of the proposals found invalid go to `invalid`.
fn update_room(
    room: &mut Room,
    client: &str,
    bundle: &HandshakeBundle,
    more_proposals: &[Vec<u8>],
    invalid: &mut Vec<Vec<u8>>,
    now: u64,
) -> (UpdateResponse, Vec<(String, Fanout)>) {
    let Ok(message) = MlsMessage::from_bytes(&bundle.message) else {
        return (not_allowed("not an MLSMessage"), Vec::new());
    };
    let MlsMessageBody::PublicMessage(public) = &message.body else {
        return (
            not_allowed("handshake messages must be PublicMessages (profile concord-mimi-06)"),
            Vec::new(),
        );
    };
    if public.content.group_id.as_slice() != room.roster.group_id() {
        return (not_allowed("another group"), Vec::new());
    }
    let current = room.epoch();
    let is_commit = matches!(public.content.body, ContentBody::Commit(_));
    // `delay`: the first commit of the target client is held, its sender told wrongEpoch.
    if is_commit && !room.delay_used && room.faults.delay_commits_of.as_deref() == Some(client) {
        room.delay_used = true;
        let epoch = public.content.epoch;
        room.held = Some(HeldCommit {
            client: client.to_string(),
            epoch,
            message: bundle.message.clone(),
            release_at: epoch + room.faults.delay_epochs.max(1),
        });
        // As if another commit of the same epoch had won: the sender waits for it.
        return (
            UpdateResponse::WrongEpoch {
                current_epoch: current.max(epoch + 1),
            },
            Vec::new(),
        );
    }
    let sender_identity = match public.content.sender {
        Sender::Member { leaf_index } => room.roster.member_at(leaf_index),
        _ => None,
    };
    if public.content.epoch != current {
        // `fork`: a commit of the epoch just closed, from a provider that has not had one
        // of that epoch, is accepted too and shown to that provider's members.
        let epoch = public.content.epoch;
        let provider = provider_of(client).unwrap_or_default().to_string();
        if room.faults.fork
            && is_commit
            && epoch + 1 == current
            && !room.forked.contains(&(epoch, provider.clone()))
        {
            let old: BTreeSet<String> = room
                .history
                .members
                .get(&epoch)
                .into_iter()
                .flatten()
                .filter(|m| provider_of(m) == Some(provider.as_str()))
                .cloned()
                .collect();
            if old.contains(client) {
                room.forked.insert((epoch, provider));
                let event = RoomEvent::Handshake {
                    epoch,
                    message: bundle.message.as_slice().into(),
                };
                let fanout = room.inject("fork", epoch, &event, &old, false, now);
                return (UpdateResponse::Success { accepted_at: now }, fanout);
            }
        }
        return (
            UpdateResponse::WrongEpoch {
                current_epoch: current,
            },
            Vec::new(),
        );
    }
    match &public.content.body {
        ContentBody::Proposal(_) => {
            if sender_identity.as_deref() != Some(client) {
                return (
                    not_allowed("a proposal must come from the member's own client"),
                    Vec::new(),
                );
            }
            // The proposal and its moreProposals (section 5.3), each checked on its own.
            let mut messages = vec![public.clone()];
            for (n, bytes) in more_proposals.iter().enumerate() {
                match MlsMessage::from_bytes(bytes).map(|m| m.body) {
                    Ok(MlsMessageBody::PublicMessage(more)) => messages.push(more),
                    _ => {
                        return (
                            not_allowed(format!("moreProposals[{n}] is not a PublicMessage")),
                            Vec::new(),
                        );
                    }
                }
            }
            // Policy: a member may propose only its own removal (leaving), with the
            // participant list change that goes with it; the proposals of one bundle come
            // from users of the sending provider, each leaving once.
            let provider = provider_of(client);
            let mut leavers: Vec<(Vec<u8>, String)> = Vec::new();
            for message in &messages {
                let reference = room.roster.proposal_ref(message);
                let proposer = match message.content.sender {
                    Sender::Member { leaf_index } => room.roster.member_at(leaf_index),
                    _ => None,
                };
                let leaving = message.content.group_id.as_slice() == room.roster.group_id()
                    && message.content.epoch == current
                    && matches!(&message.content.body,
                        ContentBody::Proposal(Proposal::Remove(r))
                            if proposer.is_some() && room.roster.member_at(r.removed) == proposer);
                match proposer {
                    Some(who)
                        if leaving
                            && provider_of(&who) == provider
                            && !leavers.iter().any(|(_, w)| *w == who) =>
                    {
                        leavers.push((reference, who))
                    }
                    _ => invalid.push(reference),
                }
            }
            let changes_ok = bundle.participant_changes.iter().all(|c| {
                matches!(c, ParticipantChange::Remove(user)
                    if leavers.iter().any(|(_, who)| who == user))
            });
            if !invalid.is_empty() || !changes_ok {
                if invalid.is_empty() {
                    // The participant changes do not fit: the proposal they came with.
                    invalid.push(room.roster.proposal_ref(public));
                }
                return (
                    UpdateResponse::InvalidProposal {
                        reason: "only proposals to remove oneself are accepted, with the \
                                 participant list removal of their senders"
                            .into(),
                    },
                    Vec::new(),
                );
            }
            for message in &messages {
                if let Err(e) = room.roster.accept_proposal(message) {
                    invalid.push(room.roster.proposal_ref(message));
                    return (
                        UpdateResponse::InvalidProposal {
                            reason: e.to_string(),
                        },
                        Vec::new(),
                    );
                }
            }
            for (reference, sender) in leavers {
                let changes = bundle
                    .participant_changes
                    .iter()
                    .filter(|c| matches!(c, ParticipantChange::Remove(u) if *u == sender))
                    .cloned()
                    .collect();
                room.proposals
                    .insert(reference, PendingProposal { sender, changes });
            }
            let recipients: BTreeSet<String> = room
                .roster
                .members()
                .into_iter()
                .filter(|m| m != client)
                .collect();
            let event = RoomEvent::Handshake {
                epoch: current,
                message: bundle.message.as_slice().into(),
            };
            let mut fanout = room.fan_out(&recipients, &event, now);
            // MIMI-PROTOCOL-5.5-10: the fanout carries the bundle's moreProposals as sent.
            let more: Vec<super::MessageBytes> =
                more_proposals.iter().map(|m| m.as_slice().into()).collect();
            for (_, message) in &mut fanout {
                message.more_proposals = more.clone();
            }
            if room.faults.replay {
                room.epoch_log.push((event, recipients));
            }
            (UpdateResponse::Success { accepted_at: now }, fanout)
        }
        ContentBody::Commit(commit) => {
            let external = public.content.sender == Sender::NewMemberCommit;
            if !external && sender_identity.as_deref() != Some(client) {
                return (
                    not_allowed("a commit must come from the member's own client"),
                    Vec::new(),
                );
            }
            if !external && !room.participants.contains(client) {
                return (
                    not_allowed("the committer is not a participant"),
                    Vec::new(),
                );
            }
            let (next, change) = match room.roster.after_commit(public.content.sender, commit) {
                Ok(r) => r,
                Err(RosterError::UnknownProposal) => {
                    // MIMI-PROTOCOL-5.3-13: name the refs the hub does not know.
                    invalid.extend(commit.proposals.iter().filter_map(|item| match item {
                        crate::messages::ProposalOrRef::Reference(r)
                            if !room.proposals.contains_key(r.0.as_slice()) =>
                        {
                            Some(r.0.to_vec())
                        }
                        _ => None,
                    }));
                    return (
                        UpdateResponse::InvalidProposal {
                            reason: RosterError::UnknownProposal.to_string(),
                        },
                        Vec::new(),
                    );
                }
                Err(e) => return (not_allowed(e.to_string()), Vec::new()),
            };
            if external && change.external_joiner.as_deref() != Some(client) {
                return (
                    not_allowed("an external commit must add the submitting client"),
                    Vec::new(),
                );
            }
            // The participant list after this commit: the bundle's changes and those of
            // the proposals it commits by reference.
            let mut changes = bundle.participant_changes.clone();
            let mut referenced: BTreeSet<&[u8]> = BTreeSet::new();
            for item in &commit.proposals {
                if let crate::messages::ProposalOrRef::Reference(r) = item
                    && let Some(pending) = room.proposals.get(r.0.as_slice())
                {
                    referenced.insert(r.0.as_slice());
                    changes.extend(pending.changes.iter().cloned());
                }
            }
            // Profile choice MIMI-PROTOCOL-5.3-16 (section 7.3: a commit contains all valid
            // proposals sent before it): a regular commit leaves out no proposal accepted
            // in this epoch that is still valid (a leave whose sender this commit removes
            // anyway is covered by it).
            if !external {
                let omitted: Vec<String> = room
                    .proposals
                    .iter()
                    .filter(|(reference, pending)| {
                        !referenced.contains(reference.as_slice())
                            && !change.removed.contains(&pending.sender)
                    })
                    .map(|(reference, pending)| {
                        let hex: String = reference.iter().map(|b| format!("{b:02x}")).collect();
                        format!("{hex} (from {})", pending.sender)
                    })
                    .collect();
                if !omitted.is_empty() {
                    return (
                        not_allowed(format!(
                            "the Commit leaves out proposals accepted in this epoch: {}",
                            omitted.join(", ")
                        )),
                        Vec::new(),
                    );
                }
            }
            // MIMI-PROTOCOL-7.5-6: one commit changes each user of the list at most once.
            let mut touched: BTreeSet<&str> = BTreeSet::new();
            if let Some(user) = changes
                .iter()
                .map(|c| match c {
                    ParticipantChange::Add(user) | ParticipantChange::Remove(user) => user,
                })
                .find(|user| !touched.insert(user.as_str()))
            {
                return (
                    not_allowed(format!(
                        "the Commit changes participant {user} more than once"
                    )),
                    Vec::new(),
                );
            }
            let mut participants = room.participants.clone();
            for change in &changes {
                match change {
                    ParticipantChange::Add(user) => {
                        let self_add = external && user == client;
                        if self_add && !room.open && !room.participants.contains(client) {
                            return (
                                not_allowed("the room is not open to external joins"),
                                Vec::new(),
                            );
                        }
                        participants.insert(user.clone());
                    }
                    ParticipantChange::Remove(user) => {
                        participants.remove(user);
                    }
                }
            }
            if external && !participants.contains(client) {
                return (
                    not_allowed("the external joiner is not a participant"),
                    Vec::new(),
                );
            }
            // Profile: one client per user, so an identity holds at most one leaf.
            let members = next.members();
            let distinct: BTreeSet<&String> = members.iter().collect();
            if distinct.len() != members.len() {
                return (
                    not_allowed("two leaves with the same identity (one client per user)"),
                    Vec::new(),
                );
            }
            // Participant List: no client of a user who is not a participant (skipped by
            // the `ghost-member` misbehaviour).
            if !room.faults.accept_non_participants
                && let Some(stranger) = next
                    .members()
                    .into_iter()
                    .find(|m| !participants.contains(m))
            {
                return (
                    not_allowed(format!(
                        "{stranger} would be a member without being a participant"
                    )),
                    Vec::new(),
                );
            }
            let mut old_members: BTreeSet<String> = room.roster.members().into_iter().collect();
            let joiners: BTreeSet<String> = change
                .added
                .iter()
                .filter(|a| next.is_member(a))
                .cloned()
                .collect();
            room.roster = next;
            room.participants = participants;
            room.proposals.clear();
            room.record_epoch();
            let epoch = room.epoch();
            let commit_event = RoomEvent::Handshake {
                epoch: current,
                message: bundle.message.as_slice().into(),
            };
            if room.faults.fork {
                // Only the committer's provider sees this commit.
                let provider = provider_of(client).unwrap_or_default().to_string();
                old_members.retain(|m| provider_of(m) == Some(provider.as_str()));
                room.forked.insert((current, provider));
            }
            let mut fanout = Vec::new();
            // `reorder-epochs`: the target's first commit is held back until the next.
            let target = room.faults.reorder_epochs_for.clone();
            let mut reorder_release = None;
            if let Some(target) = target
                .filter(|t| !room.reorder_done && t.as_str() != client && old_members.contains(t))
            {
                match room.reorder_held.take() {
                    None => {
                        old_members.remove(&target);
                        room.reorder_held = Some(commit_event.clone());
                    }
                    Some(held) => {
                        room.reorder_done = true;
                        old_members.remove(&target);
                        reorder_release = Some((target, held));
                    }
                }
            }
            fanout.extend(room.fan_out(&old_members, &commit_event, now));
            if let Some((target, held)) = reorder_release {
                let to = BTreeSet::from([target]);
                fanout.extend(room.inject(
                    "reorder-epochs",
                    current,
                    &commit_event,
                    &to,
                    false,
                    now,
                ));
                fanout.extend(room.fan_out(&to, &held, now));
            }
            if room.faults.replay {
                let mut log = std::mem::take(&mut room.epoch_log);
                log.push((commit_event.clone(), old_members.clone()));
                for (event, recipients) in log {
                    let epoch = match &event {
                        RoomEvent::Handshake { epoch, .. }
                        | RoomEvent::Application { epoch, .. }
                        | RoomEvent::Welcome { epoch, .. } => *epoch,
                    };
                    fanout.extend(room.inject("replay", epoch, &event, &recipients, true, now));
                }
            }
            // `delay`: a held commit goes out once the room is far enough past its epoch.
            if room.held.as_ref().is_some_and(|h| epoch >= h.release_at)
                && let Some(held) = room.held.take()
            {
                let recipients: BTreeSet<String> = room
                    .roster
                    .members()
                    .into_iter()
                    .filter(|m| *m != held.client)
                    .collect();
                let event = RoomEvent::Handshake {
                    epoch: held.epoch,
                    message: held.message.into(),
                };
                fanout.extend(room.inject("delay", held.epoch, &event, &recipients, false, now));
            }
            if let Some(welcome) = &bundle.welcome
                && !joiners.is_empty()
            {
                let event = RoomEvent::Welcome {
                    epoch,
                    welcome: welcome.as_slice().into(),
                };
                fanout.extend(room.fan_out(&joiners, &event, now));
            }
            (UpdateResponse::Success { accepted_at: now }, fanout)
        }
        ContentBody::Application { .. } => (
            not_allowed("application data belongs in Submit a Message"),
            Vec::new(),
        ),
    }
}
