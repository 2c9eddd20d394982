//! One scenario's world: the providers (MIMI hub and follower roles from
//! `concord_reference::mimi`), the users' clients (each a client under test), the network
//! between them, and the step driver.
//!
//! ```text
//! step ──phases of operations──> client actors (client.rs) ──Payload──> Network
//!                                      ^                                   │
//!                                      └── Deliver / answers ── providers <┘ (hub: Hub, follower: Provider)
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use concord_reference::mimi::{
    Delivery, Fanout, HandshakeBundle, Hub, Provider, SubmitResponse, UpdateResponse, provider_of,
};
use serde_json::json;

use super::adversary::{self, Adversary, Behaviour};
use super::client::{ClientActor, Op};
use super::net::{Happening, HostId, NetNote, Network};
use super::scenario::{Action, Detail, Scenario, Senders, Step};
use super::transcript::Transcript;
use concord_client::ClientUnderTest;

/// Opens a client under test from its specification and a seed.
pub type ClientFactory<'a> = &'a dyn Fn(&str, u64) -> Result<Box<dyn ClientUnderTest>, String>;

/// What hosts send each other.
#[derive(Debug, Clone)]
pub enum Payload {
    PublishKeyPackage {
        client: String,
        key_package: Vec<u8>,
    },
    Claim {
        claim: u64,
        requester: String,
        target: String,
    },
    ClaimAnswer {
        claim: u64,
        requester: String,
        target: String,
        key_package: Option<Vec<u8>>,
    },
    CreateRoom {
        room: String,
        client: String,
        request: u64,
        group_info: Vec<u8>,
        open: bool,
    },
    CreateAnswer {
        room: String,
        client: String,
        request: u64,
        error: Option<String>,
    },
    Update {
        room: String,
        client: String,
        request: u64,
        bundle: HandshakeBundle,
    },
    UpdateAnswer {
        room: String,
        client: String,
        request: u64,
        answer: UpdateResponse,
    },
    Submit {
        room: String,
        client: String,
        request: u64,
        message: Vec<u8>,
    },
    SubmitAnswer {
        room: String,
        client: String,
        request: u64,
        answer: SubmitResponse,
    },
    PublishGroupInfo {
        room: String,
        epoch: u64,
        group_info: Vec<u8>,
    },
    FetchGroupInfo {
        room: String,
        client: String,
        request: u64,
    },
    GroupInfoAnswer {
        room: String,
        client: String,
        request: u64,
        group_info: Option<(u64, Vec<u8>)>,
    },
    Fanout(Fanout),
    Deliver(Delivery),
}

impl Payload {
    /// Approximate size on the wire, for bandwidth.
    pub fn size(&self) -> usize {
        64 + match self {
            Payload::PublishKeyPackage { key_package, .. } => key_package.len(),
            Payload::ClaimAnswer { key_package, .. } => key_package.as_ref().map_or(0, Vec::len),
            Payload::CreateRoom { group_info, .. }
            | Payload::PublishGroupInfo { group_info, .. } => group_info.len(),
            Payload::Update { bundle, .. } => {
                bundle.message.len() + bundle.welcome.as_ref().map_or(0, Vec::len)
            }
            Payload::Submit { message, .. } => message.len(),
            Payload::GroupInfoAnswer { group_info, .. } => {
                group_info.as_ref().map_or(0, |g| g.1.len())
            }
            Payload::Fanout(f) => f.event.message().len() + 32 * f.recipients.len(),
            Payload::Deliver(d) => d.event.message().len(),
            _ => 0,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Payload::PublishKeyPackage { .. } => "publish_key_package",
            Payload::Claim { .. } => "claim_key_package",
            Payload::ClaimAnswer { .. } => "claim_answer",
            Payload::CreateRoom { .. } => "create_room",
            Payload::CreateAnswer { .. } => "create_answer",
            Payload::Update { .. } => "update_room",
            Payload::UpdateAnswer { .. } => "update_answer",
            Payload::Submit { .. } => "submit_message",
            Payload::SubmitAnswer { .. } => "submit_answer",
            Payload::PublishGroupInfo { .. } => "publish_group_info",
            Payload::FetchGroupInfo { .. } => "fetch_group_info",
            Payload::GroupInfoAnswer { .. } => "group_info_answer",
            Payload::Fanout(_) => "fanout",
            Payload::Deliver(_) => "deliver",
        }
    }
}

/// A provider host: its follower side and its hub side.
#[derive(Default)]
struct ProviderHost {
    provider: Provider,
    hub: Hub,
}

/// An application message as its sender made it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub room: String,
    pub sender: String,
    pub epoch: u64,
    pub ciphertext: Vec<u8>,
    pub accepted: bool,
}

/// A client out of a room: from epoch `since` until it rejoined at `until` (if it did),
/// with the state it kept from before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub client: String,
    pub since: u64,
    pub until: Option<u64>,
    pub state: Option<u32>,
}

/// What clients did, as they report it: the ground truth the assertions read.
#[derive(Debug, Default)]
pub struct Truth {
    /// Room -> epoch -> client -> epoch authenticator, recorded when the client reached it.
    pub auths: BTreeMap<String, BTreeMap<u64, BTreeMap<String, Vec<u8>>>>,
    pub messages: BTreeMap<u64, SentMessage>,
    /// Message id -> the clients that decrypted it (once per delivery).
    pub received: BTreeMap<u64, Vec<HostId>>,
    /// Room -> client -> first epoch it is no longer a member of.
    pub removed: BTreeMap<String, Vec<Removal>>,
    /// Failures while processing deliveries: (room, text).
    pub errors: Vec<(String, String)>,
}

/// A step's operations, issued phase by phase: a phase once the one before has finished,
/// its operations at once, or one per `interval` of virtual time (a paced send).
struct Plan {
    phases: Vec<Vec<(String, Op)>>,
    /// The phase under way: its operations not issued yet.
    pending: VecDeque<(String, Op)>,
    interval: u64,
    /// When the next pending operation is due.
    next_at: u64,
    running: BTreeSet<u64>,
}

impl Plan {
    fn new(phases: Vec<Vec<(String, Op)>>, interval: u64) -> Self {
        Plan {
            phases,
            pending: VecDeque::new(),
            interval,
            next_at: 0,
            running: BTreeSet::new(),
        }
    }

    /// Nothing left to issue.
    fn issued(&self) -> bool {
        self.phases.is_empty() && self.pending.is_empty()
    }
}

/// Counters for the benchmark line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Meter {
    /// Wall time spent inside client-under-test calls (MLS work).
    pub client_time: Duration,
    pub client_calls: u64,
}

impl std::fmt::Debug for World<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("scenario", &self.scenario.name)
            .field("net", &self.net)
            .field(
                "clients",
                &self.clients.iter().filter(|s| s.is_client()).count(),
            )
            .finish_non_exhaustive()
    }
}

/// A host number's place among the client actors.
enum Slot {
    /// A provider's number, or one no client has.
    NotAClient,
    Idle(Box<ClientActor>),
    /// Out of its place while it handles an event.
    Working,
}

impl Slot {
    fn is_client(&self) -> bool {
        !matches!(self, Slot::NotAClient)
    }
}

pub struct World<'a> {
    pub scenario: &'a Scenario,
    pub net: Network<Payload>,
    providers: BTreeMap<String, ProviderHost>,
    /// Client actors by host number (the network's numbering): a packet finds its
    /// client by index, not by hashing a name.
    clients: Vec<Slot>,
    /// User name -> current client identity.
    pub current: BTreeMap<String, String>,
    room_hub: BTreeMap<String, String>,
    pub truth: Truth,
    pub transcript: &'a mut Transcript,
    factory: ClientFactory<'a>,
    overrides: &'a BTreeMap<String, String>,
    seed: u64,
    next_op: u64,
    next_message: u64,
    /// Operations not finished: id -> (client, description).
    pub outstanding: BTreeMap<u64, (String, String)>,
    /// Operations finished (removed from `outstanding`) since the plan last looked.
    finished: Vec<u64>,
    /// Operations that failed: (step, text).
    pub failures: Vec<String>,
    /// A client under test crashed, hung or answered garbage.
    pub client_fault: Option<String>,
    /// Unsupported operations (the scenario cannot run on this client).
    pub unsupported: Option<String>,
    offline: Vec<(String, String, String, u64)>,
    pub publish_group_info: bool,
    pub stopwatch: Option<&'a dyn Fn() -> Duration>,
    pub meter: Meter,
    step_label: String,
    /// Misbehaving providers and what they caused (`misbehave` steps).
    pub adversary: Adversary,
}

fn stable_hash(text: &str) -> u64 {
    // FNV-1a: stable across platforms and releases.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl<'a> World<'a> {
    pub fn new(
        scenario: &'a Scenario,
        seed: u64,
        factory: ClientFactory<'a>,
        overrides: &'a BTreeMap<String, String>,
        transcript: &'a mut Transcript,
    ) -> Self {
        let mut net = Network::new(
            seed ^ stable_hash(&scenario.name),
            scenario.network,
            scenario.detail >= Detail::Packets,
        );
        for (from, to, link) in &scenario.links {
            net.set_link(from, to, *link);
        }
        let publish_group_info = scenario.steps.iter().any(|s| {
            matches!(&s.action, Action::JoinExternal { .. } | Action::Create { open: true, .. })
                || matches!(&s.action, Action::Concurrent(inner) if inner.iter().any(|i| matches!(i.action, Action::JoinExternal { .. })))
        });
        World {
            scenario,
            net,
            providers: scenario
                .providers
                .iter()
                .map(|p| (p.clone(), ProviderHost::default()))
                .collect(),
            clients: Vec::new(),
            current: BTreeMap::new(),
            room_hub: BTreeMap::new(),
            truth: Truth::default(),
            transcript,
            factory,
            overrides,
            seed,
            next_op: 1,
            next_message: 1,
            outstanding: BTreeMap::new(),
            finished: Vec::new(),
            failures: Vec::new(),
            client_fault: None,
            unsupported: None,
            offline: Vec::new(),
            publish_group_info,
            stopwatch: None,
            meter: Meter::default(),
            step_label: "setup".into(),
            adversary: Adversary::default(),
        }
    }

    pub fn log(&mut self, kind: &str, fields: serde_json::Value) {
        self.flush_notes();
        let t = self.net.now();
        self.transcript.write(&self.scenario.name, t, kind, fields);
    }

    pub fn detail(&self) -> Detail {
        self.scenario.detail
    }

    /// The network host of a scenario name: a provider, or a user's current client.
    fn host(&self, name: &str) -> String {
        self.current
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// Creates every user's client and publishes its first key packages.
    pub fn set_up(&mut self) -> Result<(), String> {
        let users: Vec<(String, String, String)> = self
            .scenario
            .users
            .iter()
            .map(|(u, (p, c))| (u.clone(), p.clone(), c.clone()))
            .collect();
        for (user, provider, spec) in users {
            self.add_client(&user, &provider, &spec)?;
        }
        Ok(())
    }

    fn add_client(&mut self, user: &str, provider: &str, spec: &str) -> Result<String, String> {
        let spec = self
            .overrides
            .get(user)
            .or_else(|| self.overrides.get("*"))
            .cloned()
            .unwrap_or_else(|| spec.to_string());
        let identity = format!("{user}@{provider}");
        let client = (self.factory)(&spec, self.seed ^ stable_hash(&identity))
            .map_err(|e| format!("user {user}: {e}"))?;
        let host = self.net.host(&identity);
        let actor = ClientActor::new(
            identity.clone(),
            host,
            provider.to_string(),
            spec,
            client,
            self.scenario.suite,
        );
        let host = host.index();
        if self.clients.len() <= host {
            self.clients.resize_with(host + 1, || Slot::NotAClient);
        }
        self.clients[host] = Slot::Idle(Box::new(actor));
        self.current.insert(user.to_string(), identity.clone());
        self.with_client(&identity, |actor, world| {
            actor.publish_key_packages(world, 2)
        });
        Ok(identity)
    }

    /// Runs `f` on a client actor with the world at hand.
    pub(super) fn with_client<T>(
        &mut self,
        identity: &str,
        f: impl FnOnce(&mut ClientActor, &mut World<'a>) -> T,
    ) -> Option<T> {
        let host = self.net.lookup(identity)?;
        self.with_client_at(host, f)
    }

    /// Runs `f` on the client actor of host `host`, if it is a client and not at work.
    fn with_client_at<T>(
        &mut self,
        host: HostId,
        f: impl FnOnce(&mut ClientActor, &mut World<'a>) -> T,
    ) -> Option<T> {
        // Out of its slot while it works on the world, then back.
        let slot = self.clients.get_mut(host.index())?;
        let mut actor = match std::mem::replace(slot, Slot::Working) {
            Slot::Idle(actor) => actor,
            other => {
                *slot = other;
                return None;
            }
        };
        let out = f(&mut actor, self);
        self.clients[host.index()] = Slot::Idle(actor);
        Some(out)
    }

    /// A client actor, to read.
    pub(super) fn client(&self, identity: &str) -> Option<&ClientActor> {
        match self.clients.get(self.net.lookup(identity)?.index())? {
            Slot::Idle(actor) => Some(actor),
            _ => None,
        }
    }

    fn is_client(&self, identity: &str) -> bool {
        self.net
            .lookup(identity)
            .and_then(|host| self.clients.get(host.index()))
            .is_some_and(Slot::is_client)
    }

    /// A call to a client under test, timed for the benchmark.
    pub(super) fn call<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = self.stopwatch.map(|s| s());
        let out = f();
        if let (Some(start), Some(s)) = (start, self.stopwatch) {
            self.meter.client_time += s().saturating_sub(start);
        }
        self.meter.client_calls += 1;
        out
    }

    pub(super) fn send(&mut self, from: &str, to: &str, payload: Payload) {
        let size = payload.size();
        if from == to {
            // A provider talking to itself (hub and follower roles): no network.
            self.on_provider(to, from, payload);
            return;
        }
        self.net.send(from, to, payload, size);
    }

    pub(super) fn fresh_message_id(&mut self) -> u64 {
        let id = self.next_message;
        self.next_message += 1;
        id
    }

    /// Members of `room` at `epoch`, as its hub recorded them.
    pub fn hub_members(&self, room: &str, epoch: u64) -> Option<&BTreeSet<String>> {
        let hub = self.room_hub.get(room)?;
        self.providers
            .get(hub)?
            .hub
            .room(room)?
            .history()
            .members
            .get(&epoch)
    }

    /// The follower and hub roles of a provider (for `misbehave` steps).
    pub(super) fn provider_roles(&mut self, name: &str) -> Option<(&mut Provider, &mut Hub)> {
        self.providers
            .get_mut(name)
            .map(|p| (&mut p.provider, &mut p.hub))
    }

    pub fn hub_room(&self, room: &str) -> Option<&concord_reference::mimi::Room> {
        let hub = self.room_hub.get(room)?;
        self.providers.get(hub)?.hub.room(room)
    }

    pub(super) fn record_failure(&mut self, text: String) {
        let label = self.step_label.clone();
        self.log("failure", json!({"step": label, "detail": text}));
        self.failures.push(format!("{label}: {text}"));
    }

    pub(super) fn op_done(&mut self, op: u64, error: Option<String>) {
        if let Some((client, what)) = self.outstanding.remove(&op) {
            self.finished.push(op);
            if adversary::absorb(self, &client, &what, error.as_deref()) {
                return;
            }
            match error {
                None => {
                    if self.detail() >= Detail::Events {
                        self.log("op_done", json!({"op": op, "client": client, "what": what}));
                    }
                }
                Some(e) => self.record_failure(format!("{client}: {what}: {e}")),
            }
        }
    }

    // ---- providers ----

    fn on_provider(&mut self, provider: &str, from: &str, payload: Payload) {
        let now = self.net.now();
        match payload {
            Payload::PublishKeyPackage {
                client,
                key_package,
            } => {
                if let Some(p) = self.providers.get_mut(provider) {
                    p.provider.publish_key_package(&client, key_package);
                }
            }
            Payload::Claim {
                claim,
                requester,
                target,
            } => {
                let target_provider = provider_of(&target).unwrap_or_default().to_string();
                if target_provider == provider {
                    let (key_package, reused) = match self.providers.get_mut(provider) {
                        Some(p) => {
                            let before = p.provider.key_packages_handed_out_again();
                            let kp = p.provider.claim_key_package(&target);
                            (kp, p.provider.key_packages_handed_out_again() > before)
                        }
                        None => (None, false),
                    };
                    if reused {
                        adversary::expose(self, &requester, Behaviour::ReusedKeyPackage);
                    }
                    let answer = Payload::ClaimAnswer {
                        claim,
                        requester,
                        target,
                        key_package,
                    };
                    // Back to whoever asked: the requester's provider, or the client itself.
                    self.send(provider, from, answer);
                } else {
                    self.send(
                        provider,
                        &target_provider,
                        Payload::Claim {
                            claim,
                            requester,
                            target,
                        },
                    );
                }
            }
            Payload::ClaimAnswer { ref requester, .. } => {
                let requester = requester.clone();
                self.send(provider, &requester, payload);
            }
            Payload::CreateRoom {
                room,
                client,
                request,
                group_info,
                open,
            } => {
                let hub = self.room_hub.get(&room).cloned().unwrap_or_default();
                if hub != provider {
                    self.send(
                        provider,
                        &hub,
                        Payload::CreateRoom {
                            room,
                            client,
                            request,
                            group_info,
                            open,
                        },
                    );
                    return;
                }
                let error = match self.providers.get_mut(provider) {
                    Some(p) => p
                        .hub
                        .create_room(&room, &client, &group_info, open)
                        .err()
                        .map(|e| e.to_string()),
                    None => Some("no such provider".into()),
                };
                // Create is idempotent for a retransmission of the same creation.
                let error = error.filter(|_| {
                    !self
                        .hub_room(&room)
                        .is_some_and(|r| r.members() == [client.clone()] && r.epoch() == 0)
                });
                self.answer(
                    provider,
                    &client,
                    Payload::CreateAnswer {
                        room,
                        client: client.clone(),
                        request,
                        error,
                    },
                );
            }
            Payload::Update {
                room,
                client,
                request,
                bundle,
            } => {
                let Some(hub) = self.forward_to_hub(provider, &room, |r| Payload::Update {
                    room: r,
                    client: client.clone(),
                    request,
                    bundle: bundle.clone(),
                }) else {
                    return;
                };
                let result = self
                    .providers
                    .get_mut(&hub)
                    .map(|p| p.hub.update(&room, &client, request, &bundle, now));
                if let Some(Ok((answer, fanout))) = result {
                    if self.detail() >= Detail::Events {
                        self.log("hub_update", json!({"room": room, "client": client, "request": request, "answer": format!("{answer:?}")}));
                    }
                    self.fan_out(&hub, fanout);
                    self.answer(
                        &hub,
                        &client,
                        Payload::UpdateAnswer {
                            room,
                            client: client.clone(),
                            request,
                            answer,
                        },
                    );
                }
            }
            Payload::Submit {
                room,
                client,
                request,
                message,
            } => {
                let Some(hub) = self.forward_to_hub(provider, &room, |r| Payload::Submit {
                    room: r,
                    client: client.clone(),
                    request,
                    message: message.clone(),
                }) else {
                    return;
                };
                let result = self
                    .providers
                    .get_mut(&hub)
                    .map(|p| p.hub.submit(&room, &client, request, &message, now));
                if let Some(Ok((answer, fanout))) = result {
                    if self.detail() >= Detail::Events {
                        self.log("hub_submit", json!({"room": room, "client": client, "request": request, "answer": format!("{answer:?}")}));
                    }
                    self.fan_out(&hub, fanout);
                    self.answer(
                        &hub,
                        &client,
                        Payload::SubmitAnswer {
                            room,
                            client: client.clone(),
                            request,
                            answer,
                        },
                    );
                }
            }
            Payload::PublishGroupInfo {
                room,
                epoch,
                group_info,
            } => {
                let Some(hub) =
                    self.forward_to_hub(provider, &room, |r| Payload::PublishGroupInfo {
                        room: r,
                        epoch,
                        group_info: group_info.clone(),
                    })
                else {
                    return;
                };
                if let Some(p) = self.providers.get_mut(&hub) {
                    p.hub.publish_group_info(&room, epoch, group_info);
                }
            }
            Payload::FetchGroupInfo {
                room,
                client,
                request,
            } => {
                let Some(hub) = self.forward_to_hub(provider, &room, |r| Payload::FetchGroupInfo {
                    room: r,
                    client: client.clone(),
                    request,
                }) else {
                    return;
                };
                let group_info = self
                    .providers
                    .get(&hub)
                    .and_then(|p| p.hub.room(&room))
                    .and_then(|r| r.group_info().map(|g| (r.epoch(), g.to_vec())));
                if group_info.is_some()
                    && self
                        .hub_room(&room)
                        .is_some_and(|r| r.faults().truncate_ratchet_tree)
                {
                    adversary::expose(self, &client, Behaviour::TruncatedTree);
                }
                self.answer(
                    &hub,
                    &client,
                    Payload::GroupInfoAnswer {
                        room,
                        client: client.clone(),
                        request,
                        group_info,
                    },
                );
            }
            Payload::CreateAnswer { ref client, .. }
            | Payload::UpdateAnswer { ref client, .. }
            | Payload::SubmitAnswer { ref client, .. }
            | Payload::GroupInfoAnswer { ref client, .. } => {
                let client = client.clone();
                self.send(provider, &client, payload);
            }
            Payload::Fanout(fanout) => self.receive_fanout(provider, &fanout),
            Payload::Deliver(_) => {}
        }
    }

    /// The hub of `room` if this provider is it; otherwise forwards and returns `None`.
    fn forward_to_hub(
        &mut self,
        provider: &str,
        room: &str,
        make: impl FnOnce(String) -> Payload,
    ) -> Option<String> {
        let hub = self.room_hub.get(room).cloned()?;
        if hub == provider {
            Some(hub)
        } else {
            self.send(provider, &hub, make(room.to_string()));
            None
        }
    }

    /// An answer from the hub to a client: through the client's provider.
    fn answer(&mut self, hub: &str, client: &str, payload: Payload) {
        let provider = provider_of(client).unwrap_or_default().to_string();
        if provider == hub {
            self.send(hub, client, payload);
        } else {
            self.send(hub, &provider, payload);
        }
    }

    fn fan_out(&mut self, hub: &str, fanout: Vec<(String, Fanout)>) {
        for (provider, message) in fanout {
            self.send(hub, &provider, Payload::Fanout(message));
        }
    }

    fn receive_fanout(&mut self, provider: &str, fanout: &Fanout) {
        let deliveries = match self.providers.get_mut(provider) {
            Some(p) => p.provider.receive_fanout(fanout),
            None => return,
        };
        let from = self.net.host(provider);
        for delivery in deliveries {
            let to = self.net.host(&delivery.client);
            let payload = Payload::Deliver(delivery);
            let size = payload.size();
            self.net.send_between(from, to, payload, size);
        }
    }

    // ---- the event loop ----

    fn dispatch(&mut self, happening: Happening<Payload>) {
        match happening {
            Happening::Data {
                id,
                from,
                to,
                payload,
            } => {
                self.flush_notes();
                if self.detail() >= Detail::Packets {
                    let (from, to) = (self.net.name(from), self.net.name(to));
                    self.log(
                        "deliver",
                        json!({"id": id, "from": &**from, "to": &**to, "payload": payload.kind()}),
                    );
                }
                if self.clients.get(to.index()).is_some_and(Slot::is_client) {
                    let watch = if self.adversary.active {
                        let name = self.net.name(to).clone();
                        adversary::watch(self, &name, &payload)
                    } else {
                        None
                    };
                    self.with_client_at(to, |actor, world| actor.on_payload(world, payload));
                    if let Some(watch) = watch {
                        adversary::judge_delivery(self, watch);
                    }
                    self.after_client_event();
                } else {
                    let (from, to) = (self.net.name(from).clone(), self.net.name(to).clone());
                    if self.providers.contains_key(&*to) {
                        match &*payload {
                            // Read in place: the recipients list is long and used only here.
                            Payload::Fanout(fanout) => self.receive_fanout(&to, fanout),
                            _ => self.on_provider(&to, &from, Arc::unwrap_or_clone(payload)),
                        }
                    }
                }
            }
            Happening::Wake { host, token } => {
                self.with_client_at(host, |actor, world| actor.on_wake(world, token));
                self.after_client_event();
            }
            Happening::Internal => {}
        }
        self.flush_notes();
        self.watch_offline();
    }

    fn after_client_event(&mut self) {}

    /// Writes the network's packet notes, at the time each happened.
    fn flush_notes(&mut self) {
        for (t, note) in self.net.take_notes() {
            let (kind, fields) = match note {
                NetNote::Sent {
                    id,
                    from,
                    to,
                    size,
                    attempt,
                } => (
                    "send",
                    json!({"id": id, "from": from, "to": to, "size": size, "attempt": attempt}),
                ),
                NetNote::Dropped { id, from, to, why } => (
                    "drop",
                    json!({"id": id, "from": from, "to": to, "why": why}),
                ),
                NetNote::Duplicated { id, from, to } => {
                    ("duplicate", json!({"id": id, "from": from, "to": to}))
                }
                NetNote::Held { id, from, to } => {
                    ("held", json!({"id": id, "from": from, "to": to}))
                }
            };
            self.transcript.write(&self.scenario.name, t, kind, fields);
        }
    }

    fn watch_offline(&mut self) {
        let mut released = Vec::new();
        for (i, (_, _, room, until)) in self.offline.iter().enumerate() {
            if self.hub_room(room).is_some_and(|r| r.epoch() >= *until) {
                released.push(i);
            }
        }
        for i in released.into_iter().rev() {
            let (client, provider, room, until) = self.offline.remove(i);
            self.net.release(&provider, &client);
            self.net.release(&client, &provider);
            self.log(
                "online",
                json!({"client": client, "room": room, "at_epoch": until}),
            );
        }
    }

    /// Runs until `done` holds and the network is quiet, or until `deadline`.
    fn run_until(&mut self, deadline: u64, plan: &mut Plan) -> bool {
        loop {
            self.advance_plan(plan);
            if plan.issued() && plan.running.is_empty() && self.net.quiet() && self.clients_idle() {
                return true;
            }
            // A paced phase wakes the loop when its next operation is due.
            let until = if plan.pending.is_empty() {
                deadline
            } else {
                plan.next_at.min(deadline)
            };
            match self.net.next(until) {
                Some(h) => self.dispatch(h),
                None if until < deadline => self.net.advance_to(until),
                None => return plan.issued() && plan.running.is_empty(),
            }
        }
    }

    fn clients_idle(&self) -> bool {
        self.outstanding.is_empty()
    }

    /// Drops the operations finished since the last call from the plan (work per finished
    /// operation, not per running one: a step may run ten thousand at once), issues what
    /// is due of the phase under way, and starts the next phase once it is all done.
    fn advance_plan(&mut self, plan: &mut Plan) {
        for op in self.finished.drain(..) {
            plan.running.remove(&op);
        }
        loop {
            while !plan.pending.is_empty() && (plan.interval == 0 || plan.next_at <= self.net.now())
            {
                let Some((client, op)) = plan.pending.pop_front() else {
                    break;
                };
                let id = self.enqueue(&client, op);
                if self.outstanding.contains_key(&id) {
                    plan.running.insert(id);
                }
                plan.next_at += plan.interval;
            }
            for op in self.finished.drain(..) {
                plan.running.remove(&op);
            }
            if !plan.pending.is_empty() || !plan.running.is_empty() || plan.phases.is_empty() {
                return;
            }
            plan.pending = plan.phases.remove(0).into();
            plan.next_at = self.net.now();
        }
    }

    fn enqueue(&mut self, client: &str, op: Op) -> u64 {
        let id = self.next_op;
        self.next_op += 1;
        if !self.is_client(client) {
            self.record_failure(format!("no client {client}"));
            return id;
        }
        self.outstanding
            .insert(id, (client.to_string(), op.describe()));
        self.with_client(client, |actor, world| actor.enqueue(world, id, op));
        id
    }

    /// Runs one step to completion (or its timeout).
    pub fn run_step(&mut self, step: &Step) {
        self.step_label = format!("step {} (line {})", step.index, step.line);
        let label = self.step_label.clone();
        self.log(
            "step",
            json!({"step": step.index, "line": step.line, "action": format!("{:?}", step.action)}),
        );
        let phases = match self.plan(&step.action) {
            Ok(p) => p,
            Err(e) => {
                self.record_failure(e);
                return;
            }
        };
        let interval = match step.action {
            Action::Send { interval, .. } => interval,
            _ => 0,
        };
        let mut plan = Plan::new(phases, interval);
        let deadline = self.net.now() + self.scenario.step_timeout_us;
        if !self.run_until(deadline, &mut plan) && !plan.issued() {
            self.record_failure(format!("{label} did not complete within the step timeout"));
        }
    }

    /// After the last step: let everything outstanding finish.
    pub fn settle(&mut self) {
        self.step_label = "settle".into();
        let mut plan = Plan::new(Vec::new(), 0);
        let deadline = self.net.now() + self.scenario.step_timeout_us;
        self.run_until(deadline, &mut plan);
        let left: Vec<(u64, (String, String))> = self
            .outstanding
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (op, (client, what)) in left {
            self.outstanding.remove(&op);
            self.record_failure(format!("{client}: {what}: never completed"));
        }
        self.log(
            "settled",
            json!({"network": format!("{:?}", self.net.stats)}),
        );
    }

    fn members_now(&self, room: &str) -> Vec<String> {
        self.hub_room(room).map(|r| r.members()).unwrap_or_default()
    }

    fn plan(&mut self, action: &Action) -> Result<Vec<Vec<(String, Op)>>, String> {
        use concord_reference::mimi::ParticipantChange as Change;
        let id = |w: &Self, user: &str| {
            w.current
                .get(user)
                .cloned()
                .ok_or_else(|| format!("unknown user {user}"))
        };
        Ok(match action {
            Action::Create {
                room,
                by,
                hub,
                open,
            } => {
                self.room_hub.insert(room.clone(), hub.clone());
                vec![vec![(
                    id(self, by)?,
                    Op::Create {
                        room: room.clone(),
                        open: *open,
                    },
                )]]
            }
            Action::Invite {
                room,
                by,
                users,
                batch,
            } => {
                let by = id(self, by)?;
                let mut phases = Vec::new();
                for chunk in users.chunks(*batch) {
                    let add: Vec<String> = chunk
                        .iter()
                        .map(|u| id(self, u))
                        .collect::<Result<_, _>>()?;
                    let changes = add.iter().map(|a| Change::Add(a.clone())).collect();
                    phases.push(vec![(
                        by.clone(),
                        Op::Commit {
                            room: room.clone(),
                            add,
                            remove: Vec::new(),
                            changes,
                        },
                    )]);
                }
                phases
            }
            Action::JoinExternal { room, user } => vec![vec![(
                id(self, user)?,
                Op::ExternalJoin { room: room.clone() },
            )]],
            Action::Send {
                room,
                from,
                count,
                text,
                ..
            } => {
                let members = self.members_now(room);
                let mut phase = Vec::new();
                for _ in 0..*count {
                    let sender = match from {
                        Senders::User(u) => id(self, u)?,
                        Senders::Members => {
                            if members.is_empty() {
                                return Err(format!("room {room} has no members to send"));
                            }
                            let pick = (self.net.random() % members.len() as u64) as usize;
                            members[pick].clone()
                        }
                    };
                    let message = self.fresh_message_id();
                    phase.push((
                        sender,
                        Op::Send {
                            room: room.clone(),
                            message,
                            text: text.clone(),
                        },
                    ));
                }
                vec![phase]
            }
            Action::Update { room, by } => match by {
                Some(by) => vec![vec![(
                    id(self, by)?,
                    Op::Commit {
                        room: room.clone(),
                        add: Vec::new(),
                        remove: Vec::new(),
                        changes: Vec::new(),
                    },
                )]],
                None => self
                    .members_now(room)
                    .into_iter()
                    .map(|m| {
                        vec![(
                            m,
                            Op::Commit {
                                room: room.clone(),
                                add: Vec::new(),
                                remove: Vec::new(),
                                changes: Vec::new(),
                            },
                        )]
                    })
                    .collect(),
            },
            Action::Remove { room, by, users } => {
                let by = id(self, by)?;
                let targets: Vec<String> = if users.is_empty() {
                    self.members_now(room)
                        .into_iter()
                        .filter(|m| *m != by)
                        .collect()
                } else {
                    users
                        .iter()
                        .map(|u| id(self, u))
                        .collect::<Result<_, _>>()?
                };
                targets
                    .into_iter()
                    .map(|t| {
                        vec![(
                            by.clone(),
                            Op::Commit {
                                room: room.clone(),
                                add: Vec::new(),
                                remove: vec![t.clone()],
                                changes: vec![Change::Remove(t)],
                            },
                        )]
                    })
                    .collect()
            }
            Action::Leave {
                room,
                user,
                committer,
            } => {
                let leaver = id(self, user)?;
                let committer = match committer {
                    Some(c) => id(self, c)?,
                    None => self
                        .members_now(room)
                        .into_iter()
                        .find(|m| *m != leaver)
                        .ok_or_else(|| format!("nobody left in {room} to commit the leave"))?,
                };
                vec![
                    vec![(leaver, Op::ProposeLeave { room: room.clone() })],
                    vec![(committer, Op::CommitProposals { room: room.clone() })],
                ]
            }
            Action::SwitchProvider { room, user, to, by } => {
                let old = id(self, user)?;
                let by = match by {
                    Some(b) => id(self, b)?,
                    None => self
                        .members_now(room)
                        .into_iter()
                        .find(|m| *m != old)
                        .ok_or_else(|| format!("nobody else in {room} to commit the switch"))?,
                };
                let spec = self
                    .client(&old)
                    .map(|c| c.spec.clone())
                    .unwrap_or_else(|| "reference".into());
                let new = self.add_client(user, to, &spec)?;
                self.log(
                    "switch_provider",
                    json!({"user": user, "old": old, "new": new, "label": "beyond-draft"}),
                );
                vec![vec![(
                    by,
                    Op::Commit {
                        room: room.clone(),
                        add: vec![new.clone()],
                        remove: vec![old.clone()],
                        changes: vec![Change::Remove(old), Change::Add(new)],
                    },
                )]]
            }
            Action::Concurrent(steps) => {
                let mut phase = Vec::new();
                for s in steps {
                    for p in self.plan(&s.action)? {
                        phase.extend(p);
                    }
                }
                vec![phase]
            }
            Action::Partition { from, to, both } => {
                let (a, b) = (self.host(from), self.host(to));
                self.net.partition(&a, &b, *both);
                Vec::new()
            }
            Action::Heal(pair) => {
                match pair {
                    Some((a, b)) => {
                        let (a, b) = (self.host(a), self.host(b));
                        self.net.heal(Some((&a, &b)));
                    }
                    None => self.net.heal(None),
                }
                Vec::new()
            }
            Action::Hold { from, to } => {
                let (a, b) = (self.host(from), self.host(to));
                self.net.hold(&a, &b);
                Vec::new()
            }
            Action::Release { from, to } => {
                let (a, b) = (self.host(from), self.host(to));
                self.net.release(&a, &b);
                Vec::new()
            }
            Action::Crash(p) => {
                self.net.crash(p);
                Vec::new()
            }
            Action::Restart(p) => {
                self.net.restart(p);
                Vec::new()
            }
            Action::Offline { user, room, epochs } => {
                let client = id(self, user)?;
                let provider = provider_of(&client).unwrap_or_default().to_string();
                let epoch = self.hub_room(room).map_or(0, |r| r.epoch());
                self.net.hold(&provider, &client);
                self.net.hold(&client, &provider);
                self.offline
                    .push((client, provider, room.clone(), epoch + epochs));
                Vec::new()
            }
            Action::SetLink { from, to, link } => {
                let (a, b) = (self.host(from), self.host(to));
                self.net.set_link(&a, &b, *link);
                Vec::new()
            }
            Action::Misbehave {
                provider,
                behaviours,
                target,
                epochs,
            } => {
                adversary::misbehave(self, provider, behaviours, target.as_deref(), *epochs)?;
                Vec::new()
            }
            Action::GhostInvite { room, by, users } => {
                let by = id(self, by)?;
                let add: Vec<String> = users
                    .iter()
                    .map(|u| id(self, u))
                    .collect::<Result<_, _>>()?;
                self.log(
                    "ghost_invite",
                    json!({"room": room, "by": by, "ghosts": add}),
                );
                self.adversary.ghost_adds.push(adversary::GhostAdd {
                    room: room.clone(),
                    by: by.clone(),
                    ghosts: add.clone(),
                });
                vec![vec![(
                    by,
                    Op::Commit {
                        room: room.clone(),
                        add,
                        remove: Vec::new(),
                        changes: Vec::new(),
                    },
                )]]
            }
            Action::Wait(duration) => {
                let until = self.net.now() + duration;
                let mut plan = Plan::new(Vec::new(), 0);
                while let Some(h) = self.net.next(until) {
                    self.dispatch(h);
                    self.advance_plan(&mut plan);
                }
                self.net.advance_to(until);
                Vec::new()
            }
        })
    }
}
