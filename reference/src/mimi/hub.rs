//! The hub: orders a room's handshake messages (one commit per epoch), keeps the
//! participant list and checks it against the MLS roster, and fans accepted messages out
//! to the providers of the members, each with its own sequence number.

use std::collections::{BTreeMap, BTreeSet};

use super::roster::{Roster, RosterError};
use super::{
    Fanout, HandshakeBundle, ParticipantChange, RoomEvent, SubmitResponse, UpdateResponse,
    provider_of,
};
use crate::codec::Codec;
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

/// What the hub keeps per epoch, for checks: who was a member, who a participant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomHistory {
    /// Members (client identities) of each epoch.
    pub members: BTreeMap<u64, BTreeSet<String>>,
    /// The participant list of each epoch.
    pub participants: BTreeMap<u64, BTreeSet<String>>,
}

/// A proposal accepted in the current epoch, with the participant changes it carries.
#[derive(Debug, Clone)]
struct PendingProposal {
    changes: Vec<ParticipantChange>,
}

/// One room on its hub.
#[derive(Debug, Clone)]
pub struct Room {
    pub id: String,
    roster: Roster,
    participants: BTreeSet<String>,
    open: bool,
    group_info: Option<(u64, Vec<u8>)>,
    proposals: BTreeMap<Vec<u8>, PendingProposal>,
    /// Answers already given, by (client, request id): a repeated request gets the same.
    updates: BTreeMap<(String, u64), UpdateResponse>,
    submits: BTreeMap<(String, u64), SubmitResponse>,
    /// Next fanout sequence number per provider.
    next_seq: BTreeMap<String, u64>,
    history: RoomHistory,
}

impl Room {
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

    /// The newest GroupInfo of the current epoch, if the committer published it.
    pub fn group_info(&self) -> Option<&[u8]> {
        match &self.group_info {
            Some((epoch, bytes)) if *epoch == self.epoch() => Some(bytes),
            _ => None,
        }
    }

    fn record_epoch(&mut self) {
        let epoch = self.epoch();
        self.history
            .members
            .insert(epoch, self.roster.members().into_iter().collect());
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
        let mut by_provider: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for client in recipients {
            if let Some(provider) = provider_of(client) {
                by_provider
                    .entry(provider.to_string())
                    .or_default()
                    .push(client.clone());
            }
        }
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
                };
                *seq += 1;
                (provider, fanout)
            })
            .collect()
    }
}

/// The hub role of one provider: its rooms.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    rooms: BTreeMap<String, Room>,
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
        let mut room = Room {
            id: id.to_string(),
            group_info: Some((roster.epoch(), group_info.to_vec())),
            roster,
            participants: BTreeSet::from([creator.to_string()]),
            open,
            proposals: BTreeMap::new(),
            updates: BTreeMap::new(),
            submits: BTreeMap::new(),
            next_seq: BTreeMap::new(),
            history: RoomHistory::default(),
        };
        room.record_epoch();
        self.rooms.insert(id.to_string(), room);
        Ok(())
    }

    /// Stores the GroupInfo a member published for `epoch` (kept if it is current).
    pub fn publish_group_info(&mut self, room: &str, epoch: u64, group_info: Vec<u8>) -> bool {
        match self.rooms.get_mut(room) {
            Some(r) if r.epoch() == epoch => {
                r.group_info = Some((epoch, group_info));
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
        let room = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| HubError::NoRoom(room_id.to_string()))?;
        let key = (client.to_string(), request_id);
        if let Some(answer) = room.updates.get(&key) {
            return Ok((answer.clone(), Vec::new()));
        }
        let (answer, fanout) = update_room(room, client, bundle, now);
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
        let (answer, fanout) = submit_message(room, client, message, now);
        room.submits.insert(key, answer.clone());
        Ok((answer, fanout))
    }
}

fn submit_message(
    room: &mut Room,
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
    let recipients: BTreeSet<String> = room
        .roster
        .members()
        .into_iter()
        .filter(|m| m != client)
        .collect();
    let event = RoomEvent::Application {
        epoch: current,
        message: bytes.to_vec(),
    };
    let fanout = room.fan_out(&recipients, &event, now);
    (SubmitResponse::Accepted { accepted_at: now }, fanout)
}

fn update_room(
    room: &mut Room,
    client: &str,
    bundle: &HandshakeBundle,
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
    if public.content.epoch != current {
        return (
            UpdateResponse::WrongEpoch {
                current_epoch: current,
            },
            Vec::new(),
        );
    }
    let sender_identity = match public.content.sender {
        Sender::Member { leaf_index } => room.roster.member_at(leaf_index),
        _ => None,
    };
    match &public.content.body {
        ContentBody::Proposal(proposal) => {
            if sender_identity.as_deref() != Some(client) {
                return (
                    not_allowed("a proposal must come from the member's own client"),
                    Vec::new(),
                );
            }
            // Policy: a member may propose only its own removal (leaving), with the
            // participant list change that goes with it.
            let leaving = matches!(proposal, Proposal::Remove(r) if room.roster.member_at(r.removed).as_deref() == Some(client));
            let changes_ok = bundle
                .participant_changes
                .iter()
                .all(|c| *c == ParticipantChange::Remove(client.to_string()));
            if !leaving || !changes_ok {
                return (
                    UpdateResponse::InvalidProposal {
                        reason: "only a proposal to remove oneself is accepted".into(),
                    },
                    Vec::new(),
                );
            }
            let (reference, _) = match room.roster.accept_proposal(public) {
                Ok(r) => r,
                Err(e) => {
                    return (
                        UpdateResponse::InvalidProposal {
                            reason: e.to_string(),
                        },
                        Vec::new(),
                    );
                }
            };
            room.proposals.insert(
                reference,
                PendingProposal {
                    changes: bundle.participant_changes.clone(),
                },
            );
            let recipients: BTreeSet<String> = room
                .roster
                .members()
                .into_iter()
                .filter(|m| m != client)
                .collect();
            let event = RoomEvent::Handshake {
                epoch: current,
                message: bundle.message.clone(),
            };
            let fanout = room.fan_out(&recipients, &event, now);
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
            for item in &commit.proposals {
                if let crate::messages::ProposalOrRef::Reference(r) = item
                    && let Some(pending) = room.proposals.get(r.0.as_slice())
                {
                    changes.extend(pending.changes.iter().cloned());
                }
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
            // Participant List: no client of a user who is not a participant.
            if let Some(stranger) = next
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
            let old_members: BTreeSet<String> = room.roster.members().into_iter().collect();
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
                message: bundle.message.clone(),
            };
            let mut fanout = room.fan_out(&old_members, &commit_event, now);
            if let Some(welcome) = &bundle.welcome
                && !joiners.is_empty()
            {
                let event = RoomEvent::Welcome {
                    epoch,
                    welcome: welcome.clone(),
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
