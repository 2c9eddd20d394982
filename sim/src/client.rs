//! A user's client in the simulated world: a client under test (driven only through the
//! MLSClient interface) plus what a messaging app keeps around it: its rooms, the
//! in-order delivery buffer, its operation queue, and retries.
//!
//! ```text
//! enqueue(op) ─> queue ─> running op ─ claim key packages ─ Commit / Protect ─> hub
//!                              ^                                   │ answer
//!                              └─ wrongEpoch / epochTooOld: wait for the epoch, redo
//! Deliver(seq) ─> buffer ─> in order: Welcome (JoinGroup), commit (HandleCommit or
//!                 HandlePendingCommit), proposal (kept), application (Unprotect)
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use concord_reference::codec::{Codec, DecodeError, Reader};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::{
    ContentType, KeyPackage, MlsMessage, MlsMessageBody, ProtocolVersion, Sender, WireFormat,
};
use concord_reference::mimi::{
    Delivery, HandshakeBundle, ParticipantChange, RoomEvent, SubmitResponse, UpdateResponse,
};
use serde_json::json;

use super::net::HostId;
use super::scenario::Detail;
use super::window::Window;
use super::world::{Payload, Removal, SentMessage, World};
use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};

/// Retry interval for key package claims and GroupInfo fetches.
const RETRY_US: u64 = 300_000;
const MAX_TRIES: u32 = 40;

/// An operation a client performs for a step.
#[derive(Debug, Clone)]
pub enum Op {
    Create {
        room: String,
        open: bool,
    },
    /// Add `add` (claiming their key packages) and remove `remove`, in one commit; both
    /// empty: an update (a commit with a path).
    Commit {
        room: String,
        add: Vec<String>,
        remove: Vec<String>,
        changes: Vec<ParticipantChange>,
    },
    Send {
        room: String,
        message: u64,
        text: String,
    },
    ProposeLeave {
        room: String,
    },
    CommitProposals {
        room: String,
    },
    ExternalJoin {
        room: String,
    },
}

impl Op {
    pub fn describe(&self) -> String {
        match self {
            Op::Create { room, .. } => format!("create {room}"),
            Op::Commit {
                room, add, remove, ..
            } if add.is_empty() && remove.is_empty() => format!("update in {room}"),
            Op::Commit {
                room, add, remove, ..
            } => format!(
                "commit in {room} adding {} removing {}",
                add.join(","),
                remove.join(",")
            ),
            Op::Send { room, message, .. } => format!("send m{message} in {room}"),
            Op::ProposeLeave { room } => format!("propose to leave {room}"),
            Op::CommitProposals { room } => format!("commit the pending proposals in {room}"),
            Op::ExternalJoin { room } => format!("join {room} by external commit"),
        }
    }

    fn room(&self) -> &str {
        match self {
            Op::Create { room, .. }
            | Op::Commit { room, .. }
            | Op::Send { room, .. }
            | Op::ProposeLeave { room }
            | Op::CommitProposals { room }
            | Op::ExternalJoin { room } => room,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Waiting for key package claims.
    Claiming,
    /// Waiting until this client reaches `epoch`, then redo.
    AwaitEpoch(u64),
    /// Waiting for proposals to commit.
    AwaitProposals,
    /// Sent; waiting for the answer to `request`.
    Submitted {
        request: u64,
    },
    /// Accepted; waiting to see the commit in the room's stream.
    AwaitOwnCommit {
        commit: Vec<u8>,
    },
    /// Waiting for a GroupInfo (external join), or for a retry timer.
    FetchingGroupInfo {
        request: u64,
    },
    RetryAt(u64),
}

struct Running {
    id: u64,
    op: Op,
    phase: Phase,
    claims: BTreeMap<u64, String>,
    key_packages: BTreeMap<String, Vec<u8>>,
    tries: u32,
    /// The commit of this op waiting for the hub's answer.
    commit: Option<Vec<u8>>,
}

/// A room as this client sees it.
#[derive(Default)]
struct ClientRoom {
    state: Option<u32>,
    epoch: u64,
    joined: bool,
    removed: bool,
    next_seq: u64,
    /// Events that came before their turn, by sequence number.
    early: Window<RoomEvent>,
    proposals: Vec<Vec<u8>>,
    own_proposals: Vec<Vec<u8>>,
    pending_commit: Option<Vec<u8>>,
    merged: BTreeSet<Vec<u8>>,
}

impl std::fmt::Debug for ClientActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientActor")
            .field("identity", &self.identity)
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

pub struct ClientActor {
    pub identity: String,
    /// Its number on the network, recorded in the ground truth once per message received.
    host: HostId,
    pub provider: String,
    pub spec: String,
    client: Box<dyn ClientUnderTest>,
    suite: u16,
    key_packages: BTreeMap<Vec<u8>, u32>,
    rooms: BTreeMap<String, ClientRoom>,
    queue: VecDeque<(u64, Op)>,
    running: Option<Running>,
    next_request: u64,
    next_claim: u64,
    next_token: u64,
}

/// Whether an encoded MLSMessage is a PublicMessage carrying a commit. Reads up to the
/// FramedContent's `content_type` (RFC 9420 sections 6 and 6.2), not the commit itself: a
/// commit with a path is large, and every member is handed one.
fn is_public_commit(message: &[u8]) -> bool {
    let peek = || -> Result<bool, DecodeError> {
        let mut reader = Reader::new(message);
        ProtocolVersion::decode(&mut reader)?;
        if WireFormat::decode(&mut reader)? != WireFormat::MLS_PUBLIC_MESSAGE {
            return Ok(false);
        }
        reader.sub_reader("group_id")?;
        reader.u64("epoch")?;
        Sender::decode(&mut reader)?;
        reader.sub_reader("authenticated_data")?;
        Ok(ContentType::decode(&mut reader)? == ContentType::Commit)
    };
    peek().unwrap_or(false)
}

fn failure(e: &ClientError) -> String {
    e.to_string()
}

impl ClientActor {
    pub fn new(
        identity: String,
        host: HostId,
        provider: String,
        spec: String,
        client: Box<dyn ClientUnderTest>,
        suite: u16,
    ) -> Self {
        ClientActor {
            host,
            identity,
            provider,
            spec,
            client,
            suite,
            key_packages: BTreeMap::new(),
            rooms: BTreeMap::new(),
            queue: VecDeque::new(),
            running: None,
            next_request: 1,
            next_claim: 1,
            next_token: 1,
        }
    }

    /// The state id of this client's group for `room` (for checks).
    pub fn state_of(&self, room: &str) -> Option<u32> {
        self.rooms.get(room).and_then(|r| r.state)
    }

    pub fn epoch_of(&self, room: &str) -> Option<u64> {
        self.rooms
            .get(room)
            .filter(|r| r.joined && !r.removed)
            .map(|r| r.epoch)
    }

    /// Unprotect on one of this client's (possibly stale) states, for checks.
    pub fn try_unprotect(
        &mut self,
        world: &mut World<'_>,
        state_id: u32,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        let client = &mut self.client;
        world
            .call(|| {
                client.unprotect(UnprotectRequest {
                    state_id,
                    ciphertext: ciphertext.to_vec(),
                })
            })
            .map(|r| r.plaintext)
    }

    fn fault(&mut self, world: &mut World<'_>, e: &ClientError) {
        if e.is_client_fault() && world.client_fault.is_none() {
            world.client_fault = Some(format!("{} ({}): {e}", self.identity, self.spec));
        }
        if matches!(e, ClientError::Unsupported { .. }) && world.unsupported.is_none() {
            world.unsupported = Some(format!("{} ({}): {e}", self.identity, self.spec));
        }
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    /// Makes `count` key packages and publishes them at this client's provider.
    pub fn publish_key_packages(&mut self, world: &mut World<'_>, count: usize) {
        let Ok(suite) = Suite::new(CipherSuite(self.suite)) else {
            return;
        };
        for _ in 0..count {
            let request = CreateKeyPackageRequest {
                cipher_suite: u32::from(self.suite),
                identity: self.identity.as_bytes().to_vec(),
            };
            let client = &mut self.client;
            match world.call(|| client.create_key_package(request)) {
                Ok(answer) => {
                    let reference =
                        MlsMessage::from_bytes(&answer.key_package)
                            .ok()
                            .and_then(|m| match m.body {
                                MlsMessageBody::KeyPackage(kp) => Some(kp),
                                _ => None,
                            });
                    let Some(kp): Option<KeyPackage> = reference else {
                        world.record_failure(format!(
                            "{}: CreateKeyPackage answered something that is not a KeyPackage",
                            self.identity
                        ));
                        continue;
                    };
                    let kp_ref = concord_reference::welcome::key_package_ref(&suite, &kp).0.0;
                    self.key_packages.insert(kp_ref, answer.transaction_id);
                    let payload = Payload::PublishKeyPackage {
                        client: self.identity.clone(),
                        key_package: answer.key_package,
                    };
                    let (from, to) = (self.identity.clone(), self.provider.clone());
                    world.send(&from, &to, payload);
                }
                Err(e) => {
                    self.fault(world, &e);
                    world.record_failure(format!("{}: CreateKeyPackage: {e}", self.identity));
                }
            }
        }
    }

    pub fn enqueue(&mut self, world: &mut World<'_>, id: u64, op: Op) {
        self.queue.push_back((id, op));
        self.pump(world);
    }

    fn finish(&mut self, world: &mut World<'_>, error: Option<String>) {
        if let Some(running) = self.running.take() {
            world.op_done(running.id, error);
        }
    }

    /// Starts the next operation when none runs, and moves a waiting one on.
    fn pump(&mut self, world: &mut World<'_>) {
        for _ in 0..1000 {
            if self.running.is_none() {
                let Some((id, op)) = self.queue.pop_front() else {
                    return;
                };
                self.running = Some(Running {
                    id,
                    op,
                    phase: Phase::AwaitEpoch(0),
                    claims: BTreeMap::new(),
                    key_packages: BTreeMap::new(),
                    tries: 0,
                    commit: None,
                });
                self.start(world);
                continue;
            }
            let Some(running) = &self.running else { return };
            let room = self.rooms.get(running.op.room());
            let ready = match &running.phase {
                Phase::AwaitEpoch(epoch) => {
                    room.is_some_and(|r| r.joined && r.epoch >= *epoch)
                        || matches!(running.op, Op::Create { .. } | Op::ExternalJoin { .. })
                }
                Phase::AwaitProposals => room.is_some_and(|r| !r.proposals.is_empty()),
                Phase::AwaitOwnCommit { commit } => room.is_some_and(|r| r.merged.contains(commit)),
                _ => false,
            };
            if !ready {
                return;
            }
            if let Phase::AwaitOwnCommit { .. } = running.phase {
                let room = running.op.room().to_string();
                self.publish_group_info(world, &room);
                self.finish(world, None);
                continue;
            }
            self.start(world);
        }
    }

    /// (Re)does the running operation from its current state.
    fn start(&mut self, world: &mut World<'_>) {
        let Some(running) = &self.running else { return };
        let op = running.op.clone();
        let room_name = op.room().to_string();
        if !matches!(op, Op::Create { .. } | Op::ExternalJoin { .. }) {
            match self.rooms.get(&room_name) {
                Some(r) if r.joined && !r.removed => {}
                Some(r) if r.removed => {
                    return self.finish(world, Some("not a member any more".into()));
                }
                _ => {
                    // Not joined yet (the Welcome is on its way): wait for it.
                    if let Some(r) = &mut self.running {
                        r.phase = Phase::AwaitEpoch(0);
                    }
                    return;
                }
            }
        }
        match op {
            Op::Create { room, open } => self.create(world, &room, open),
            Op::Commit {
                room,
                add,
                remove,
                changes,
            } => self.commit(world, &room, &add, &remove, changes),
            Op::Send {
                room,
                message,
                text,
            } => self.protect_and_submit(world, &room, message, &text),
            Op::ProposeLeave { room } => self.propose_leave(world, &room),
            Op::CommitProposals { room } => {
                let has = self
                    .rooms
                    .get(&room)
                    .is_some_and(|r| !r.proposals.is_empty());
                if has {
                    self.commit(world, &room, &[], &[], Vec::new());
                } else if let Some(r) = &mut self.running {
                    r.phase = Phase::AwaitProposals;
                }
            }
            Op::ExternalJoin { room } => self.fetch_group_info(world, &room),
        }
    }

    fn submit(&mut self, world: &mut World<'_>, payload: Payload, request: u64) {
        if let Some(r) = &mut self.running {
            r.phase = Phase::Submitted { request };
        }
        let (from, to) = (self.identity.clone(), self.provider.clone());
        world.send(&from, &to, payload);
    }

    fn create(&mut self, world: &mut World<'_>, room: &str, open: bool) {
        let request = CreateGroupRequest {
            group_id: room.as_bytes().to_vec(),
            cipher_suite: u32::from(self.suite),
            encrypt_handshake: false,
            identity: self.identity.as_bytes().to_vec(),
        };
        let client = &mut self.client;
        let created = world.call(|| client.create_group(request)).and_then(|g| {
            let info = world.call(|| {
                client.group_info(GroupInfoRequest {
                    state_id: g.state_id,
                    external_tree: false,
                })
            })?;
            Ok((g.state_id, info.group_info))
        });
        match created {
            Ok((state, group_info)) => {
                self.rooms.insert(
                    room.to_string(),
                    ClientRoom {
                        state: Some(state),
                        ..ClientRoom::default()
                    },
                );
                let request = self.request_id();
                let payload = Payload::CreateRoom {
                    room: room.to_string(),
                    client: self.identity.clone(),
                    request,
                    group_info,
                    open,
                };
                self.submit(world, payload, request);
            }
            Err(e) => {
                self.fault(world, &e);
                self.finish(world, Some(failure(&e)));
            }
        }
    }

    fn commit(
        &mut self,
        world: &mut World<'_>,
        room: &str,
        add: &[String],
        remove: &[String],
        changes: Vec<ParticipantChange>,
    ) {
        let Some(running) = &mut self.running else {
            return;
        };
        // First the key packages of those to add (claimed once; reused on a retry).
        let missing: Vec<String> = add
            .iter()
            .filter(|a| !running.key_packages.contains_key(*a))
            .cloned()
            .collect();
        if !missing.is_empty() {
            running.phase = Phase::Claiming;
            for target in missing {
                let claim = self.next_claim;
                self.next_claim += 1;
                if let Some(r) = &mut self.running {
                    r.claims.insert(claim, target.clone());
                }
                let payload = Payload::Claim {
                    claim,
                    requester: self.identity.clone(),
                    target,
                };
                let (from, to) = (self.identity.clone(), self.provider.clone());
                world.send(&from, &to, payload);
            }
            return;
        }
        let Some(state) = self.rooms.get(room).and_then(|r| r.state) else {
            return;
        };
        let mut by_value: Vec<ProposalDescription> = Vec::new();
        for target in remove {
            by_value.push(ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: target.as_bytes().to_vec(),
                ..Default::default()
            });
        }
        for target in add {
            let key_package = running
                .key_packages
                .get(target)
                .cloned()
                .unwrap_or_default();
            by_value.push(ProposalDescription {
                proposal_type: b"add".to_vec(),
                key_package,
                ..Default::default()
            });
        }
        let by_reference = match &running.op {
            Op::CommitProposals { .. } => self
                .rooms
                .get(room)
                .map(|r| r.proposals.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let request = CommitRequest {
            state_id: state,
            by_reference,
            by_value,
            force_path: add.is_empty() && remove.is_empty(),
            external_tree: false,
        };
        let client = &mut self.client;
        match world.call(|| client.commit(request)) {
            Ok(answer) => {
                if let Some(r) = self.rooms.get_mut(room) {
                    r.pending_commit = Some(answer.commit.clone());
                }
                if let Some(r) = &mut self.running {
                    r.commit = Some(answer.commit.clone());
                }
                let welcome = (!answer.welcome.is_empty()).then_some(answer.welcome);
                let request = self.request_id();
                let bundle = HandshakeBundle {
                    message: answer.commit,
                    welcome,
                    participant_changes: changes,
                };
                let payload = Payload::Update {
                    room: room.to_string(),
                    client: self.identity.clone(),
                    request,
                    bundle,
                };
                self.submit(world, payload, request);
            }
            Err(e) => {
                self.fault(world, &e);
                self.finish(world, Some(format!("Commit: {e}")));
            }
        }
    }

    fn protect_and_submit(&mut self, world: &mut World<'_>, room: &str, message: u64, text: &str) {
        let Some(r) = self.rooms.get(room) else {
            return;
        };
        let (Some(state), epoch) = (r.state, r.epoch) else {
            return;
        };
        let plaintext = format!("m{message}:{text}").into_bytes();
        let client = &mut self.client;
        match world.call(|| {
            client.protect(ProtectRequest {
                state_id: state,
                authenticated_data: Vec::new(),
                plaintext,
            })
        }) {
            Ok(answer) => {
                world.truth.messages.insert(
                    message,
                    SentMessage {
                        room: room.to_string(),
                        sender: self.identity.clone(),
                        epoch,
                        ciphertext: answer.ciphertext.clone(),
                        accepted: false,
                    },
                );
                // Room for every other member of the epoch: one push per receipt, no regrowth.
                let others = world
                    .hub_members(room, epoch)
                    .map_or(0, |m| m.len().saturating_sub(1));
                world
                    .truth
                    .received
                    .entry(message)
                    .or_insert_with(|| Vec::with_capacity(others));
                let request = self.request_id();
                let payload = Payload::Submit {
                    room: room.to_string(),
                    client: self.identity.clone(),
                    request,
                    message: answer.ciphertext,
                };
                self.submit(world, payload, request);
            }
            Err(e) => {
                self.fault(world, &e);
                self.finish(world, Some(format!("Protect: {e}")));
            }
        }
    }

    fn propose_leave(&mut self, world: &mut World<'_>, room: &str) {
        let Some(state) = self.rooms.get(room).and_then(|r| r.state) else {
            return;
        };
        let client = &mut self.client;
        let request = RemoveProposalRequest {
            state_id: state,
            removed_id: self.identity.as_bytes().to_vec(),
        };
        match world.call(|| client.remove_proposal(request)) {
            Ok(answer) => {
                if let Some(r) = self.rooms.get_mut(room) {
                    r.own_proposals.push(answer.proposal.clone());
                }
                let request = self.request_id();
                let bundle = HandshakeBundle {
                    message: answer.proposal,
                    welcome: None,
                    participant_changes: vec![ParticipantChange::Remove(self.identity.clone())],
                };
                let payload = Payload::Update {
                    room: room.to_string(),
                    client: self.identity.clone(),
                    request,
                    bundle,
                };
                self.submit(world, payload, request);
            }
            Err(e) => {
                self.fault(world, &e);
                self.finish(world, Some(format!("RemoveProposal: {e}")));
            }
        }
    }

    fn fetch_group_info(&mut self, world: &mut World<'_>, room: &str) {
        let request = self.request_id();
        if let Some(r) = &mut self.running {
            r.phase = Phase::FetchingGroupInfo { request };
        }
        let payload = Payload::FetchGroupInfo {
            room: room.to_string(),
            client: self.identity.clone(),
            request,
        };
        let (from, to) = (self.identity.clone(), self.provider.clone());
        world.send(&from, &to, payload);
    }

    fn retry_later(&mut self, world: &mut World<'_>, reason: &str) {
        let Some(running) = &mut self.running else {
            return;
        };
        running.tries += 1;
        if running.tries > MAX_TRIES {
            let reason = reason.to_string();
            return self.finish(
                world,
                Some(format!("gave up after {MAX_TRIES} tries: {reason}")),
            );
        }
        let token = self.next_token;
        self.next_token += 1;
        running.phase = Phase::RetryAt(token);
        world.net.wake(&self.identity, RETRY_US, token);
    }

    pub fn on_wake(&mut self, world: &mut World<'_>, token: u64) {
        let due = matches!(&self.running, Some(r) if r.phase == Phase::RetryAt(token));
        if due {
            self.start(world);
            self.pump(world);
        }
    }

    fn publish_group_info(&mut self, world: &mut World<'_>, room: &str) {
        if !world.publish_group_info {
            return;
        }
        let Some(r) = self.rooms.get(room) else {
            return;
        };
        let (Some(state), epoch) = (r.state, r.epoch) else {
            return;
        };
        let client = &mut self.client;
        match world.call(|| {
            client.group_info(GroupInfoRequest {
                state_id: state,
                external_tree: false,
            })
        }) {
            Ok(answer) => {
                let payload = Payload::PublishGroupInfo {
                    room: room.to_string(),
                    epoch,
                    group_info: answer.group_info,
                };
                let (from, to) = (self.identity.clone(), self.provider.clone());
                world.send(&from, &to, payload);
            }
            Err(e) => self.fault(world, &e),
        }
    }

    /// A payload addressed to this client.
    pub fn on_payload(&mut self, world: &mut World<'_>, payload: Arc<Payload>) {
        if let Payload::Deliver(delivery) = &*payload {
            // The common case, read in place: the network keeps its copy until acknowledged.
            self.on_delivery(world, delivery);
            self.pump(world);
            return;
        }
        match Arc::unwrap_or_clone(payload) {
            Payload::ClaimAnswer {
                claim,
                target,
                key_package,
                ..
            } => self.on_claim(world, claim, target, key_package),
            Payload::CreateAnswer {
                room,
                request,
                error,
                ..
            } if self.is_waiting_for(request) => match error {
                None => {
                    if let Some(r) = self.rooms.get_mut(&room) {
                        r.joined = true;
                    }
                    self.reached_epoch(world, &room, None);
                    self.finish(world, None);
                }
                Some(e) => self.finish(world, Some(format!("the hub refused the room: {e}"))),
            },
            Payload::UpdateAnswer {
                room,
                request,
                answer,
                ..
            } if self.is_waiting_for(request) => self.on_update_answer(world, &room, answer),
            Payload::SubmitAnswer {
                request, answer, ..
            } if self.is_waiting_for(request) => match answer {
                SubmitResponse::Accepted { .. } => {
                    if let Some(Op::Send { message, .. }) = self.running.as_ref().map(|r| &r.op)
                        && let Some(m) = world.truth.messages.get_mut(message)
                    {
                        m.accepted = true;
                    }
                    self.finish(world, None);
                }
                SubmitResponse::EpochTooOld { current_epoch } => {
                    if world.detail() >= Detail::Events {
                        world.log(
                            "epoch_too_old",
                            json!({"client": self.identity, "current_epoch": current_epoch}),
                        );
                    }
                    if let Some(r) = &mut self.running {
                        r.phase = Phase::AwaitEpoch(current_epoch);
                    }
                }
                SubmitResponse::NotAllowed { reason } => {
                    self.finish(world, Some(format!("notAllowed: {reason}")))
                }
            },
            Payload::GroupInfoAnswer {
                room,
                request,
                group_info,
                ..
            } => {
                let waiting = matches!(&self.running, Some(r) if r.phase == Phase::FetchingGroupInfo { request });
                if waiting {
                    match group_info {
                        Some((epoch, bytes)) => self.external_join(world, &room, epoch, bytes),
                        None => {
                            self.retry_later(world, "no GroupInfo of the current epoch at the hub")
                        }
                    }
                }
            }
            _ => {}
        }
        self.pump(world);
    }

    fn is_waiting_for(&self, request: u64) -> bool {
        matches!(&self.running, Some(r) if r.phase == Phase::Submitted { request })
    }

    fn on_claim(
        &mut self,
        world: &mut World<'_>,
        claim: u64,
        target: String,
        key_package: Option<Vec<u8>>,
    ) {
        let Some(running) = &mut self.running else {
            return;
        };
        if running.claims.remove(&claim).is_none() || running.phase != Phase::Claiming {
            return;
        }
        match key_package {
            Some(kp) => {
                running.key_packages.insert(target, kp);
            }
            None => {
                // Not published yet (a new client): ask again later.
                if running.claims.is_empty() {
                    return self.retry_later(world, &format!("no key package of {target}"));
                }
            }
        }
        if running.claims.is_empty()
            && let Op::Commit { add, .. } = &running.op
        {
            if add.iter().all(|a| running.key_packages.contains_key(a)) {
                self.start(world);
            } else {
                self.retry_later(world, "key packages missing");
            }
        }
    }

    fn on_update_answer(&mut self, world: &mut World<'_>, room: &str, answer: UpdateResponse) {
        let Some(running) = &mut self.running else {
            return;
        };
        match answer {
            UpdateResponse::Success { .. } => match &running.op {
                Op::ProposeLeave { .. } => self.finish(world, None),
                Op::ExternalJoin { .. } => {
                    let epoch = self.rooms.get(room).map_or(0, |r| r.epoch);
                    if let Some(r) = self.rooms.get_mut(room) {
                        r.joined = true;
                    }
                    // Back in by this external commit: a removal of this identity ends here.
                    for removal in world.truth.removed.entry(room.to_string()).or_default() {
                        if removal.client == self.identity && removal.until.is_none() {
                            removal.until = Some(epoch);
                        }
                    }
                    self.reached_epoch(world, room, None);
                    // The committer of the epoch publishes its GroupInfo (profile choice 9),
                    // so the next external joiner finds one.
                    self.publish_group_info(world, room);
                    self.finish(world, None);
                    self.drain(world, room);
                }
                _ => {
                    let commit = running.commit.clone().unwrap_or_default();
                    running.phase = Phase::AwaitOwnCommit { commit };
                }
            },
            UpdateResponse::WrongEpoch { current_epoch } => {
                if world.detail() >= Detail::Events {
                    world.log("wrong_epoch", json!({"client": self.identity, "room": room, "current_epoch": current_epoch}));
                }
                if let Op::ExternalJoin { .. } = running.op {
                    // The joiner's new state is void: free it, fetch a fresh GroupInfo.
                    if let Some(r) = self.rooms.remove(room)
                        && let Some(state) = r.state
                    {
                        let client = &mut self.client;
                        let _ = world.call(|| client.free(FreeRequest { state_id: state }));
                    }
                    self.rooms.insert(room.to_string(), ClientRoom::default());
                    return self.fetch_group_info(world, room);
                }
                running.phase = Phase::AwaitEpoch(current_epoch);
            }
            UpdateResponse::NotAllowed { reason } => {
                self.finish(world, Some(format!("notAllowed: {reason}")))
            }
            UpdateResponse::InvalidProposal { reason } => {
                self.finish(world, Some(format!("invalidProposal: {reason}")))
            }
        }
    }

    fn external_join(
        &mut self,
        world: &mut World<'_>,
        room: &str,
        epoch: u64,
        group_info: Vec<u8>,
    ) {
        let request = ExternalJoinRequest {
            group_info,
            ratchet_tree: Vec::new(),
            encrypt_handshake: false,
            identity: self.identity.as_bytes().to_vec(),
            remove_prior: false,
            psks: Vec::new(),
        };
        let client = &mut self.client;
        match world.call(|| client.external_join(request)) {
            Ok(answer) => {
                let early = self
                    .rooms
                    .remove(room)
                    .map(|r| (r.next_seq, r.early))
                    .unwrap_or_default();
                self.rooms.insert(
                    room.to_string(),
                    ClientRoom {
                        state: Some(answer.state_id),
                        epoch: epoch + 1,
                        next_seq: early.0,
                        early: early.1,
                        ..ClientRoom::default()
                    },
                );
                let request = self.request_id();
                let bundle = HandshakeBundle {
                    message: answer.commit,
                    welcome: None,
                    participant_changes: vec![ParticipantChange::Add(self.identity.clone())],
                };
                let payload = Payload::Update {
                    room: room.to_string(),
                    client: self.identity.clone(),
                    request,
                    bundle,
                };
                self.submit(world, payload, request);
            }
            Err(e) => {
                self.fault(world, &e);
                self.finish(world, Some(format!("ExternalJoin: {e}")));
            }
        }
    }

    /// Records the epoch authenticator of the epoch this client just reached.
    fn reached_epoch(&mut self, world: &mut World<'_>, room: &str, authenticator: Option<Vec<u8>>) {
        let Some(r) = self.rooms.get(room) else {
            return;
        };
        let (Some(state), epoch) = (r.state, r.epoch) else {
            return;
        };
        let authenticator = match authenticator {
            Some(a) => a,
            None => {
                let client = &mut self.client;
                match world.call(|| client.state_auth(StateAuthRequest { state_id: state })) {
                    Ok(a) => a.state_auth_secret,
                    Err(e) => {
                        self.fault(world, &e);
                        world.truth.errors.push((
                            room.to_string(),
                            format!("{}: StateAuth: {e}", self.identity),
                        ));
                        return;
                    }
                }
            }
        };
        // Removed by this commit? The hub's record of the epoch says who is a member.
        if world
            .hub_members(room, epoch)
            .is_some_and(|m| !m.contains(&self.identity))
        {
            if let Some(r) = self.rooms.get_mut(room) {
                r.removed = true;
            }
            world
                .truth
                .removed
                .entry(room.to_string())
                .or_default()
                .push(Removal {
                    client: self.identity.clone(),
                    since: epoch,
                    until: None,
                    state: Some(state),
                });
            if world.detail() >= Detail::Events {
                world.log(
                    "removed",
                    json!({"client": self.identity, "room": room, "epoch": epoch}),
                );
            }
            return;
        }
        if world.detail() >= Detail::Events {
            world.log("epoch", json!({"client": self.identity, "room": room, "epoch": epoch, "authenticator": concord_reference::hex(&authenticator)}));
        }
        world
            .truth
            .auths
            .entry(room.to_string())
            .or_default()
            .entry(epoch)
            .or_default()
            .insert(self.identity.clone(), authenticator);
    }

    fn on_delivery(&mut self, world: &mut World<'_>, delivery: &Delivery) {
        let room: &str = &delivery.room;
        if !self.rooms.contains_key(room) {
            self.rooms.insert(room.to_string(), ClientRoom::default());
        }
        let Some(r) = self.rooms.get_mut(room) else {
            return;
        };
        if delivery.seq < r.next_seq || r.early.contains(delivery.seq) {
            return; // a duplicate: already have it
        }
        let is_welcome = matches!(delivery.event, RoomEvent::Welcome { .. });
        if delivery.seq == r.next_seq && (r.joined || is_welcome) {
            // The one due next (the common case): processed at once, not buffered.
            r.next_seq += 1;
            self.process(world, room, delivery.event.clone());
        } else {
            r.early.insert(delivery.seq, delivery.event.clone());
        }
        self.drain(world, room);
    }

    /// Processes buffered deliveries in order, as far as this client can.
    fn drain(&mut self, world: &mut World<'_>, room: &str) {
        loop {
            let Some(r) = self.rooms.get_mut(room) else {
                return;
            };
            let next = r.next_seq;
            let Some(event) = r.early.get(next) else {
                return;
            };
            let is_welcome = matches!(event, RoomEvent::Welcome { .. });
            if !r.joined && !is_welcome {
                return; // wait for our own join to be confirmed
            }
            let Some(event) = r.early.remove(next) else {
                return;
            };
            r.next_seq += 1;
            self.process(world, room, event);
        }
    }

    fn process(&mut self, world: &mut World<'_>, room: &str, event: RoomEvent) {
        let Some(r) = self.rooms.get(room) else {
            return;
        };
        let removed = r.removed;
        match event {
            RoomEvent::Welcome { epoch, welcome } => self.join(world, room, epoch, &welcome),
            RoomEvent::Handshake { message, .. } if !removed => {
                if is_public_commit(&message) {
                    self.handle_commit(world, room, &message);
                } else if let Some(r) = self.rooms.get_mut(room) {
                    r.proposals.push(message.to_vec());
                }
            }
            RoomEvent::Application { epoch, message } => {
                let Some(state) = r.state else { return };
                let client = &mut self.client;
                match world.call(|| {
                    client.unprotect(UnprotectRequest {
                        state_id: state,
                        ciphertext: message.to_vec(),
                    })
                }) {
                    Ok(answer) => {
                        let text = String::from_utf8_lossy(&answer.plaintext);
                        let id = text
                            .strip_prefix('m')
                            .and_then(|t| t.split(':').next())
                            .and_then(|n| n.parse::<u64>().ok());
                        match id {
                            Some(id) => {
                                if world.detail() >= Detail::Events {
                                    world.log("received", json!({"client": self.identity, "room": room, "message": id, "epoch": epoch}));
                                }
                                world.truth.received.entry(id).or_default().push(self.host);
                            }
                            None => world.truth.errors.push((
                                room.to_string(),
                                format!(
                                    "{}: an application message not sent by the scenario",
                                    self.identity
                                ),
                            )),
                        }
                    }
                    Err(e) => {
                        self.fault(world, &e);
                        if !removed {
                            world.truth.errors.push((
                                room.to_string(),
                                format!(
                                    "{}: Unprotect of a message of epoch {epoch}: {e}",
                                    self.identity
                                ),
                            ));
                        }
                    }
                }
            }
            RoomEvent::Handshake { .. } => {}
        }
    }

    fn join(&mut self, world: &mut World<'_>, room: &str, epoch: u64, welcome: &[u8]) {
        let transaction = MlsMessage::from_bytes(welcome)
            .ok()
            .and_then(|m| match m.body {
                MlsMessageBody::Welcome(w) => w
                    .secrets
                    .iter()
                    .find_map(|s| self.key_packages.get(s.new_member.0.as_slice()).copied()),
                _ => None,
            });
        let Some(transaction_id) = transaction else {
            world.truth.errors.push((
                room.to_string(),
                format!("{}: a Welcome for none of its key packages", self.identity),
            ));
            return;
        };
        self.key_packages.retain(|_, t| *t != transaction_id);
        let client = &mut self.client;
        let request = JoinGroupRequest {
            transaction_id,
            welcome: welcome.to_vec(),
            encrypt_handshake: false,
            identity: self.identity.as_bytes().to_vec(),
            ratchet_tree: Vec::new(),
        };
        match world.call(|| client.join_group(request)) {
            Ok(answer) => {
                let r = self.rooms.entry(room.to_string()).or_default();
                r.state = Some(answer.state_id);
                r.epoch = epoch;
                r.joined = true;
                r.removed = false;
                r.proposals.clear();
                for removal in world.truth.removed.entry(room.to_string()).or_default() {
                    if removal.client == self.identity && removal.until.is_none() {
                        removal.until = Some(epoch);
                    }
                }
                self.reached_epoch(world, room, Some(answer.epoch_authenticator));
                self.publish_key_packages(world, 1);
            }
            Err(e) => {
                self.fault(world, &e);
                world.truth.errors.push((
                    room.to_string(),
                    format!("{}: JoinGroup: {e}", self.identity),
                ));
            }
        }
    }

    /// Hands the client a commit from the room's stream (read in place: at a thousand
    /// members a commit with a path is about 100 KB, and only the client's copy is made).
    fn handle_commit(&mut self, world: &mut World<'_>, room: &str, commit: &[u8]) {
        let Some(r) = self.rooms.get(room) else {
            return;
        };
        let Some(state) = r.state else { return };
        let own = r.pending_commit.as_deref() == Some(commit);
        let client = &mut self.client;
        let answer = if own {
            world.call(|| {
                client.handle_pending_commit(HandlePendingCommitRequest { state_id: state })
            })
        } else {
            let mut proposals = r.proposals.clone();
            proposals.extend(r.own_proposals.iter().cloned());
            world.call(|| {
                client.handle_commit(HandleCommitRequest {
                    state_id: state,
                    proposal: proposals,
                    commit: commit.to_vec(),
                })
            })
        };
        match answer {
            Ok(answer) => {
                if let Some(r) = self.rooms.get_mut(room) {
                    r.epoch += 1;
                    r.proposals.clear();
                    r.own_proposals.clear();
                    r.pending_commit = None;
                    if own {
                        r.merged.insert(commit.to_vec());
                    }
                }
                self.reached_epoch(world, room, Some(answer.epoch_authenticator));
            }
            Err(e) => {
                self.fault(world, &e);
                world.truth.errors.push((
                    room.to_string(),
                    format!(
                        "{}: {} of an accepted commit: {e}",
                        self.identity,
                        if own {
                            "HandlePendingCommit"
                        } else {
                            "HandleCommit"
                        }
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_reference_client::ReferenceClient;

    /// A commit, a proposal, an application message and a KeyPackage from a reference
    /// client: only the commit is one, told from its first bytes.
    #[test]
    fn the_commit_peek_tells_a_public_commit_from_everything_else() {
        let mut alice = ReferenceClient::new(7);
        let state = alice
            .create_group(CreateGroupRequest {
                group_id: b"room".to_vec(),
                cipher_suite: 1,
                encrypt_handshake: false,
                identity: b"alice@a".to_vec(),
            })
            .unwrap()
            .state_id;
        let proposal = alice
            .update_proposal(UpdateProposalRequest { state_id: state })
            .unwrap()
            .proposal;
        let commit = alice
            .commit(CommitRequest {
                state_id: state,
                force_path: true,
                ..CommitRequest::default()
            })
            .unwrap()
            .commit;
        let state = alice
            .handle_pending_commit(HandlePendingCommitRequest { state_id: state })
            .unwrap()
            .state_id;
        let application = alice
            .protect(ProtectRequest {
                state_id: state,
                authenticated_data: Vec::new(),
                plaintext: b"m1:hello".to_vec(),
            })
            .unwrap()
            .ciphertext;
        let key_package = alice
            .create_key_package(CreateKeyPackageRequest {
                cipher_suite: 1,
                identity: b"alice@a".to_vec(),
            })
            .unwrap()
            .key_package;

        assert!(is_public_commit(&commit));
        assert!(!is_public_commit(&proposal));
        assert!(!is_public_commit(&application));
        assert!(!is_public_commit(&key_package));
        // A peek: it needs the header up to content_type, and no more.
        let header = (0..commit.len())
            .find(|&cut| is_public_commit(&commit[..cut]))
            .unwrap_or(commit.len());
        assert!(header < 64 && header < commit.len() / 2, "{header}");
        assert!((header..commit.len()).all(|cut| is_public_commit(&commit[..cut])));
        assert!(!is_public_commit(&[]));
    }
}
