//! Malicious and faulty providers: a `misbehave` step switches a provider's
//! [`HubFaults`] (or its key package reuse) on, and a `misbehaviour` assertion says what
//! conformant clients must make of it: **detect** it (a ghost member, a fork) or
//! **reject** what it delivers (replays, a delayed commit, a commit of a later epoch,
//! a truncated ratchet tree, a used key package).
//!
//! ```text
//! misbehave step ──> Hub::set_faults / Provider::set_reuse_key_packages
//!                      │ hub records each adversarial fanout (Room::injections)
//! world.dispatch ──────┼──> watch(): a delivery matching an injection is watched across
//!                      │    the client's processing: error = rejected, state change = accepted
//! world.op_done ───────┴──> absorb(): an operation exposed to a truncated tree or a reused
//!                           key package that fails at the client is a rejection, not a failure
//! judge() ─> pass when every honest client detected / rejected, fail when one accepted
//!            silently or when the misbehaviour never happened
//! ```

use std::collections::{BTreeMap, BTreeSet};

use concord_reference::mimi::HubFaults;
use serde_json::json;

use super::world::{Payload, World};

/// A misbehaviour a scenario can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behaviour {
    GhostMember,
    Fork,
    Replay,
    Delay,
    ReorderEpochs,
    TruncatedTree,
    ReusedKeyPackage,
}

/// What conformant clients must do about a misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expect {
    /// See it: the state every honest client holds exposes it.
    Detected,
    /// Refuse what the provider delivered.
    Rejected,
}

impl Expect {
    pub fn name(self) -> &'static str {
        match self {
            Expect::Detected => "detected",
            Expect::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Expect> {
        match text {
            "detected" => Some(Expect::Detected),
            "rejected" => Some(Expect::Rejected),
            _ => None,
        }
    }
}

impl Behaviour {
    pub const ALL: [Behaviour; 7] = [
        Behaviour::GhostMember,
        Behaviour::Fork,
        Behaviour::Replay,
        Behaviour::Delay,
        Behaviour::ReorderEpochs,
        Behaviour::TruncatedTree,
        Behaviour::ReusedKeyPackage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Behaviour::GhostMember => "ghost-member",
            Behaviour::Fork => "fork",
            Behaviour::Replay => "replay",
            Behaviour::Delay => "delay",
            Behaviour::ReorderEpochs => "reorder-epochs",
            Behaviour::TruncatedTree => "truncated-tree",
            Behaviour::ReusedKeyPackage => "reused-key-package",
        }
    }

    /// The assertion's name in verdict lines and the traceability registry.
    pub fn assertion_name(self) -> &'static str {
        match self {
            Behaviour::GhostMember => "misbehaviour/ghost-member",
            Behaviour::Fork => "misbehaviour/fork",
            Behaviour::Replay => "misbehaviour/replay",
            Behaviour::Delay => "misbehaviour/delay",
            Behaviour::ReorderEpochs => "misbehaviour/reorder-epochs",
            Behaviour::TruncatedTree => "misbehaviour/truncated-tree",
            Behaviour::ReusedKeyPackage => "misbehaviour/reused-key-package",
        }
    }

    pub fn parse(text: &str) -> Option<Behaviour> {
        Behaviour::ALL.into_iter().find(|b| b.name() == text)
    }

    /// The names, for error messages.
    pub fn known() -> String {
        Behaviour::ALL.map(Behaviour::name).join(", ")
    }

    /// What conformant clients do about it.
    pub fn expect(self) -> Expect {
        match self {
            Behaviour::GhostMember | Behaviour::Fork => Expect::Detected,
            _ => Expect::Rejected,
        }
    }

    /// Whether the misbehaviour is aimed at one user (`user = ...` in the step).
    pub fn needs_target(self) -> bool {
        matches!(self, Behaviour::Delay | Behaviour::ReorderEpochs)
    }

    /// The requirement IDs a verdict on this misbehaviour cites. RFC 9420 section 8.7
    /// (epoch authenticators, the fork detection) has no catalog entry: the fork cites
    /// the closest, 8-1 (every epoch secret derives from the GroupContext) and 14-1.
    pub fn requirements(self) -> &'static [&'static str] {
        match self {
            Behaviour::GhostMember => &["MIMI-PROTOCOL-5.3-17", "MIMI-PROTOCOL-5.3-4"],
            Behaviour::Fork => &["RFC9420-8-1", "RFC9420-14-1", "MIMI-PROTOCOL-5.3-14"],
            Behaviour::Replay => &[
                "RFC9420-12.4.2-2",
                "RFC9420-12.1-2",
                "RFC9420-9.2-5",
                "RFC9420-9.2-6",
                "MIMI-PROTOCOL-5.5-15",
            ],
            Behaviour::Delay => &["RFC9420-12.4.2-2", "MIMI-PROTOCOL-5.3-11"],
            Behaviour::ReorderEpochs => {
                &["RFC9420-12.4.2-2", "RFC9420-8.1-2", "MIMI-PROTOCOL-5.5-16"]
            }
            Behaviour::TruncatedTree => &[
                "RFC9420-12.4.3-5",
                "RFC9420-12.4.3.1-4",
                "RFC9420-7.9.2-1",
                "MIMI-PROTOCOL-5.6-4",
            ],
            Behaviour::ReusedKeyPackage => &[
                "RFC9420-10-1",
                "RFC9420-12.2-9",
                "RFC9420-12.4.1-1",
                "MIMI-PROTOCOL-5.2-12",
            ],
        }
    }
}

/// A colluding member's commit of clients whose users are not participants.
#[derive(Debug, Clone)]
pub struct GhostAdd {
    pub room: String,
    pub by: String,
    pub ghosts: Vec<String>,
}

/// What one client made of one adversarial delivery or operation.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub behaviour: Behaviour,
    pub room: String,
    pub client: String,
    pub rejected: bool,
    pub detail: String,
}

/// A delivery being watched across the client's processing.
#[derive(Debug)]
pub struct Watch {
    behaviour: Behaviour,
    room: String,
    client: String,
    errors: usize,
    received: usize,
    epoch: Option<u64>,
}

/// The scenario's adversary: what it switched on and what it caused.
#[derive(Debug, Default)]
pub struct Adversary {
    /// Whether any misbehave step ran (honest scenarios pay nothing).
    pub active: bool,
    /// Behaviours switched on, by provider, in step order.
    pub switched: Vec<(String, Behaviour)>,
    pub ghost_adds: Vec<GhostAdd>,
    pub outcomes: Vec<Outcome>,
    /// Clients handed adversarial material, and by which misbehaviour.
    exposed: BTreeMap<String, Behaviour>,
    /// (room, client, message hash) delivered so far, to tell a replay from the original.
    seen: BTreeSet<(String, String, u64)>,
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The `misbehave` step: `provider` shows exactly `behaviours` from now on.
pub fn misbehave(
    world: &mut World<'_>,
    provider: &str,
    behaviours: &[Behaviour],
    target: Option<&str>,
    epochs: u64,
) -> Result<(), String> {
    let target = match target {
        Some(user) => Some(
            world
                .current
                .get(user)
                .cloned()
                .ok_or_else(|| format!("unknown user {user}"))?,
        ),
        None => None,
    };
    let on = |b: Behaviour| behaviours.contains(&b);
    let faults = HubFaults {
        accept_non_participants: on(Behaviour::GhostMember),
        fork: on(Behaviour::Fork),
        replay: on(Behaviour::Replay),
        delay_commits_of: target.clone().filter(|_| on(Behaviour::Delay)),
        delay_epochs: epochs,
        reorder_epochs_for: target.clone().filter(|_| on(Behaviour::ReorderEpochs)),
        truncate_ratchet_tree: on(Behaviour::TruncatedTree),
    };
    let (follower, hub) = world
        .provider_roles(provider)
        .ok_or_else(|| format!("no provider {provider}"))?;
    hub.set_faults(faults);
    follower.set_reuse_key_packages(on(Behaviour::ReusedKeyPackage));
    world.adversary.active = true;
    for b in behaviours {
        world.adversary.switched.push((provider.to_string(), *b));
    }
    let names: Vec<&str> = behaviours.iter().map(|b| b.name()).collect();
    world.log(
        "misbehave",
        json!({"provider": provider, "behaviours": names, "target": target, "epochs": on(Behaviour::Delay).then_some(epochs)}),
    );
    Ok(())
}

/// A client was handed adversarial material (a truncated GroupInfo, a used key package):
/// the operation it runs now is judged by [`absorb`].
pub fn expose(world: &mut World<'_>, client: &str, behaviour: Behaviour) {
    if world
        .adversary
        .exposed
        .insert(client.to_string(), behaviour)
        != Some(behaviour)
    {
        world.log(
            "exposed",
            json!({"client": client, "behaviour": behaviour.name()}),
        );
    }
}

/// An operation of `client` ended (`error` if it failed). Returns true when the failure
/// is the client refusing adversarial material (so it is no scenario failure).
pub fn absorb(world: &mut World<'_>, client: &str, what: &str, error: Option<&str>) -> bool {
    if !world.adversary.active {
        return false;
    }
    let Some(behaviour) = world.adversary.exposed.get(client).copied() else {
        return false;
    };
    let relevant = match behaviour {
        Behaviour::TruncatedTree => what.starts_with("join "),
        Behaviour::ReusedKeyPackage => what.starts_with("commit in "),
        _ => false,
    };
    if !relevant {
        return false;
    }
    world.adversary.exposed.remove(client);
    let room = what
        .split_whitespace()
        .nth(if behaviour == Behaviour::TruncatedTree {
            1
        } else {
            2
        })
        .unwrap_or_default()
        .to_string();
    // The client's own refusal, not the hub's answer, is the rejection asked for.
    let (rejected, detail) = match error {
        Some(e) if e.starts_with("notAllowed") || e.starts_with("invalidProposal") => (
            false,
            format!("{client} accepted it; the hub refused the result: {e}"),
        ),
        Some(e) => (true, format!("{client} refused it: {e}")),
        None => (false, format!("{client} accepted it: {what} completed")),
    };
    world.log(
        if rejected { "rejected" } else { "accepted" },
        json!({"behaviour": behaviour.name(), "client": client, "what": what, "detail": detail}),
    );
    world.adversary.outcomes.push(Outcome {
        behaviour,
        room,
        client: client.to_string(),
        rejected,
        detail,
    });
    rejected
}

/// Before a payload reaches a client: a watch when it is an adversarial delivery.
pub fn watch(world: &mut World<'_>, to: &str, payload: &Payload) -> Option<Watch> {
    if !world.adversary.active {
        return None;
    }
    let Payload::Deliver(delivery) = payload else {
        return None;
    };
    let message = delivery.event.message();
    let hash = fnv(message);
    let key = (delivery.room.to_string(), to.to_string(), hash);
    let repeat = !world.adversary.seen.insert(key);
    let room = world.hub_room(&delivery.room)?;
    let injection = room.injections().iter().find(|i| {
        i.message == message
            && i.recipients.iter().any(|r| r == to)
            && (!i.repeated || repeat)
            && i.behaviour != "fork"
    })?;
    let behaviour = Behaviour::parse(injection.behaviour)?;
    let client = world.client(to)?;
    Some(Watch {
        behaviour,
        room: delivery.room.to_string(),
        client: to.to_string(),
        errors: world.truth.errors.len(),
        received: received_by(world, to),
        epoch: client.epoch_of(&delivery.room),
    })
}

fn received_by(world: &World<'_>, client: &str) -> usize {
    let Some(host) = world.net.lookup(client) else {
        return 0;
    };
    world
        .truth
        .received
        .values()
        .map(|r| r.iter().filter(|h| **h == host).count())
        .sum()
}

/// After the client processed a watched delivery: what it made of it. The errors it
/// reported for it are its rejection and move out of the errors the other checks read.
pub fn judge_delivery(world: &mut World<'_>, watch: Watch) {
    let mut mine = Vec::new();
    let mut kept = Vec::new();
    for (i, (room, text)) in world.truth.errors.drain(..).enumerate() {
        if i >= watch.errors && room == watch.room && text.starts_with(&watch.client) {
            mine.push(text);
        } else {
            kept.push((room, text));
        }
    }
    world.truth.errors = kept;
    let epoch = world
        .client(&watch.client)
        .and_then(|c| c.epoch_of(&watch.room));
    let received = received_by(world, &watch.client);
    let (rejected, detail) = if !mine.is_empty() {
        (true, format!("rejected: {}", mine.join("; ")))
    } else if epoch != watch.epoch || received != watch.received {
        (
            false,
            format!(
                "{} accepted it (epoch {:?} -> {epoch:?}, {} more messages read)",
                watch.client,
                watch.epoch,
                received.saturating_sub(watch.received)
            ),
        )
    } else {
        (true, format!("{} dropped it without effect", watch.client))
    };
    world.log(
        if rejected { "rejected" } else { "accepted" },
        json!({"behaviour": watch.behaviour.name(), "room": watch.room, "client": watch.client, "detail": detail}),
    );
    world.adversary.outcomes.push(Outcome {
        behaviour: watch.behaviour,
        room: watch.room,
        client: watch.client,
        rejected,
        detail,
    });
}

/// The `misbehaviour` assertion: passes when the conformant behaviour was seen.
pub fn judge(world: &World<'_>, behaviour: Behaviour, room: &str) -> Result<String, Vec<String>> {
    if !world
        .adversary
        .switched
        .iter()
        .any(|(_, b)| *b == behaviour)
    {
        return Err(vec![format!(
            "no provider was switched to {}: nothing to judge",
            behaviour.name()
        )]);
    }
    match behaviour {
        Behaviour::GhostMember => ghost_detected(world, room),
        Behaviour::Fork => fork_detected(world, room),
        _ => rejected(world, behaviour, room),
    }
}

/// Every honest member that reached an epoch whose MLS roster (the commits it accepted)
/// holds a client of a non-participant sees the difference with the participant list.
fn ghost_detected(world: &World<'_>, room: &str) -> Result<String, Vec<String>> {
    let adds: Vec<&GhostAdd> = world
        .adversary
        .ghost_adds
        .iter()
        .filter(|g| g.room == room)
        .collect();
    if adds.is_empty() {
        return Err(vec![format!("no ghost_invite step in {room}")]);
    }
    let Some(hub) = world.hub_room(room) else {
        return Err(vec![format!("room {room} does not exist at its hub")]);
    };
    let history = hub.history();
    let dishonest: BTreeSet<&String> = adds
        .iter()
        .flat_map(|g| g.ghosts.iter().chain([&g.by]))
        .collect();
    let auths = world.truth.auths.get(room).cloned().unwrap_or_default();
    let mut detected: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    let mut honest: BTreeSet<String> = BTreeSet::new();
    for (epoch, clients) in &auths {
        let roster = history.members.get(epoch).cloned().unwrap_or_default();
        let participants = history.participants.get(epoch).cloned().unwrap_or_default();
        let strangers: Vec<String> = roster.difference(&participants).cloned().collect();
        for client in clients.keys().filter(|c| !dishonest.contains(c)) {
            honest.insert(client.clone());
            if !strangers.is_empty() && !detected.contains_key(client) {
                detected.insert(client.clone(), (*epoch, strangers.clone()));
            }
        }
    }
    let ghosts_in: Vec<&String> = adds
        .iter()
        .flat_map(|g| &g.ghosts)
        .filter(|g| history.members.values().any(|m| m.contains(*g)))
        .collect();
    if ghosts_in.is_empty() {
        return Err(vec![format!(
            "the ghost add was not accepted: no ghost ever held a leaf in {room}, so there was nothing to detect"
        )]);
    }
    let missed: Vec<String> = honest
        .iter()
        .filter(|c| !detected.contains_key(*c))
        .map(|c| format!("{c} never held a roster with a non-participant"))
        .collect();
    if !missed.is_empty() {
        return Err(missed);
    }
    let first = detected
        .values()
        .map(|(e, s)| format!("epoch {e}: {}", s.join(",")))
        .next()
        .unwrap_or_default();
    Ok(format!(
        "{} honest members detected the ghost: MLS roster holds a client of no participant ({first})",
        detected.len()
    ))
}

/// Two members hold different epoch authenticators for one epoch.
fn fork_detected(world: &World<'_>, room: &str) -> Result<String, Vec<String>> {
    let forks = world.hub_room(room).map_or(0, |r| {
        r.injections()
            .iter()
            .filter(|i| i.behaviour == "fork")
            .count()
    });
    if forks == 0 {
        return Err(vec![format!(
            "the hub accepted no second commit for an epoch in {room}"
        )]);
    }
    let auths = world.truth.auths.get(room).cloned().unwrap_or_default();
    for (epoch, by_client) in &auths {
        let mut groups: BTreeMap<&Vec<u8>, Vec<&String>> = BTreeMap::new();
        for (client, auth) in by_client {
            groups.entry(auth).or_default().push(client);
        }
        if groups.len() > 1 {
            let sides: Vec<String> = groups
                .values()
                .map(|c| c.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","))
                .collect();
            return Ok(format!(
                "epoch {epoch}: {} epoch authenticators, the fork is visible ({})",
                groups.len(),
                sides.join(" | ")
            ));
        }
    }
    Err(vec![format!(
        "{forks} forked commits accepted, yet every epoch has one authenticator: no member can tell"
    )])
}

/// Every adversarial delivery or operation of `behaviour` was refused.
fn rejected(world: &World<'_>, behaviour: Behaviour, room: &str) -> Result<String, Vec<String>> {
    let outcomes: Vec<&Outcome> = world
        .adversary
        .outcomes
        .iter()
        .filter(|o| o.behaviour == behaviour && o.room == room)
        .collect();
    if outcomes.is_empty() {
        return Err(vec![format!(
            "no client in {room} was handed anything by the {} misbehaviour",
            behaviour.name()
        )]);
    }
    let accepted: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.rejected)
        .map(|o| o.detail.clone())
        .collect();
    if !accepted.is_empty() {
        return Err(accepted);
    }
    let clients: BTreeSet<&str> = outcomes.iter().map(|o| o.client.as_str()).collect();
    Ok(format!(
        "{} adversarial messages or hand-outs to {} clients, every one rejected ({})",
        outcomes.len(),
        clients.len(),
        outcomes[0].detail
    ))
}

/// The `misbehaviour` assertions and the requirement IDs each cites, for the
/// traceability registry (`harness/src/catalog.rs`).
pub fn citations() -> Vec<concord_spec::CheckCitation> {
    Behaviour::ALL
        .into_iter()
        .map(|b| concord_spec::CheckCitation {
            check: format!("sim/{}", b.assertion_name()),
            source: "harness/src/sim/adversary.rs",
            requirements: b.requirements().iter().map(|id| id.to_string()).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::ClientFactory;
    use crate::scenario::{Action, Check, load};
    use crate::transcript::Transcript;
    use crate::{Options, Verdict, run_one};
    use concord_client::proto::*;
    use concord_client::{ClientError, ClientUnderTest};
    use concord_reference_client::ReferenceClient;

    fn reference(_: &str, seed: u64) -> Result<Box<dyn ClientUnderTest>, String> {
        Ok(Box::new(ReferenceClient::new(seed)))
    }

    fn file(behaviour: Behaviour) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let suffix = format!("-malicious-{}.toml", behaviour.name());
        let found = std::fs::read_dir(&dir)
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(&suffix));
        found.unwrap_or_else(|| panic!("no scenario file *{suffix}"))
    }

    /// Runs the scenario of `behaviour` (without its misbehave steps when `honest`);
    /// returns (the misbehaviour verdict, every other verdict).
    fn run(behaviour: Behaviour, honest: bool) -> (Verdict, String, Vec<(String, Verdict)>) {
        let mut scenario = load(&file(behaviour)).unwrap_or_else(|e| panic!("{e}"));
        if honest {
            scenario
                .steps
                .retain(|s| !matches!(s.action, Action::Misbehave { .. }));
        }
        let options = Options {
            seed: 42,
            ..Options::default()
        };
        let mut transcript = Transcript::new(None);
        let (verdicts, fault, _) = run_one(&scenario, &options, &reference, None, &mut transcript);
        assert!(!fault, "a reference client failed as a system");
        let name = Check::Misbehaviour(behaviour).name();
        let mine = verdicts
            .iter()
            .find(|v| v.assertion == name)
            .unwrap_or_else(|| panic!("no {name} assertion in {verdicts:?}"));
        let others = verdicts
            .iter()
            .filter(|v| v.assertion != name)
            .map(|v| (format!("{}: {}", v.assertion, v.detail), v.verdict))
            .collect();
        (mine.verdict, mine.detail.clone(), others)
    }

    fn detected_and_not_vacuous(behaviour: Behaviour) {
        let (verdict, detail, others) = run(behaviour, false);
        assert_eq!(verdict, Verdict::Pass, "{}: {detail}", behaviour.name());
        for (what, v) in &others {
            assert_eq!(*v, Verdict::Pass, "{}: {what}", behaviour.name());
        }
        let (verdict, detail, _) = run(behaviour, true);
        assert_eq!(
            verdict,
            Verdict::Fail,
            "{} passed with an honest provider: {detail}",
            behaviour.name()
        );
    }

    #[test]
    fn ghost_member_is_detected_and_not_without_the_ghost() {
        detected_and_not_vacuous(Behaviour::GhostMember);
    }

    #[test]
    fn fork_is_detected_and_not_without_the_fork() {
        detected_and_not_vacuous(Behaviour::Fork);
    }

    #[test]
    fn replays_are_rejected_and_not_without_replays() {
        detected_and_not_vacuous(Behaviour::Replay);
    }

    #[test]
    fn a_delayed_commit_is_rejected_and_not_without_the_delay() {
        detected_and_not_vacuous(Behaviour::Delay);
    }

    #[test]
    fn a_later_epoch_first_is_rejected_and_not_without_the_reordering() {
        detected_and_not_vacuous(Behaviour::ReorderEpochs);
    }

    #[test]
    fn a_truncated_tree_is_rejected_and_not_without_the_truncation() {
        detected_and_not_vacuous(Behaviour::TruncatedTree);
    }

    #[test]
    fn a_reused_key_package_is_rejected_and_not_without_the_reuse() {
        detected_and_not_vacuous(Behaviour::ReusedKeyPackage);
    }

    /// A lax client: the reference, except that it answers a replayed application
    /// message with the plaintext it read the first time, and takes a commit it cannot
    /// process as processed (staying where it was). Accepting silently must fail.
    struct Lax {
        inner: ReferenceClient,
        read: BTreeMap<Vec<u8>, UnprotectResponse>,
    }

    macro_rules! delegate {
        ($(($method:ident, $request:ident, $response:ident)),* $(,)?) => {
            $(fn $method(&mut self, request: $request) -> Result<$response, ClientError> {
                self.inner.$method(request)
            })*
        };
    }

    impl ClientUnderTest for Lax {
        delegate! {
            (create_group, CreateGroupRequest, CreateGroupResponse),
            (create_key_package, CreateKeyPackageRequest, CreateKeyPackageResponse),
            (join_group, JoinGroupRequest, JoinGroupResponse),
            (external_join, ExternalJoinRequest, ExternalJoinResponse),
            (group_info, GroupInfoRequest, GroupInfoResponse),
            (state_auth, StateAuthRequest, StateAuthResponse),
            (protect, ProtectRequest, ProtectResponse),
            (remove_proposal, RemoveProposalRequest, ProposalResponse),
            (commit, CommitRequest, CommitResponse),
            (handle_pending_commit, HandlePendingCommitRequest, HandleCommitResponse),
            (free, FreeRequest, FreeResponse),
        }

        fn unprotect(
            &mut self,
            request: UnprotectRequest,
        ) -> Result<UnprotectResponse, ClientError> {
            let ciphertext = request.ciphertext.clone();
            match self.inner.unprotect(request) {
                Ok(answer) => {
                    self.read.insert(ciphertext, answer.clone());
                    Ok(answer)
                }
                Err(e) => self.read.get(&ciphertext).cloned().ok_or(e),
            }
        }

        fn handle_commit(
            &mut self,
            request: HandleCommitRequest,
        ) -> Result<HandleCommitResponse, ClientError> {
            let state_id = request.state_id;
            match self.inner.handle_commit(request) {
                Ok(answer) => Ok(answer),
                Err(_) => {
                    let auth = self.inner.state_auth(StateAuthRequest { state_id })?;
                    Ok(HandleCommitResponse {
                        state_id,
                        epoch_authenticator: auth.state_auth_secret,
                    })
                }
            }
        }
    }

    fn lax(_: &str, seed: u64) -> Result<Box<dyn ClientUnderTest>, String> {
        Ok(Box::new(Lax {
            inner: ReferenceClient::new(seed),
            read: BTreeMap::new(),
        }))
    }

    fn verdict_with(behaviour: Behaviour, factory: ClientFactory<'_>) -> (Verdict, String) {
        let scenario = load(&file(behaviour)).unwrap_or_else(|e| panic!("{e}"));
        let options = Options {
            seed: 42,
            ..Options::default()
        };
        let mut transcript = Transcript::new(None);
        let (verdicts, _, _) = run_one(&scenario, &options, factory, None, &mut transcript);
        let name = Check::Misbehaviour(behaviour).name();
        verdicts
            .iter()
            .find(|v| v.assertion == name)
            .map(|v| (v.verdict, v.detail.clone()))
            .unwrap_or_else(|| panic!("no {name} assertion"))
    }

    #[test]
    fn a_client_that_accepts_silently_fails_the_assertion() {
        for behaviour in [
            Behaviour::Replay,
            Behaviour::Delay,
            Behaviour::ReorderEpochs,
        ] {
            let (verdict, detail) = verdict_with(behaviour, &lax);
            assert_eq!(verdict, Verdict::Fail, "{}: {detail}", behaviour.name());
            assert!(
                detail.contains("accepted it"),
                "{}: {detail}",
                behaviour.name()
            );
        }
    }

    const BASE: &str = r#"
name = "s"
[[provider]]
name = "a.example"
[[user]]
name = "alice"
provider = "a.example"
[[user]]
name = "bob"
provider = "a.example"
[[step]]
action = "create"
room = "r"
by = "alice"
"#;

    fn mistake(extra: &str) -> crate::ScenarioError {
        let text = format!("{BASE}{extra}");
        match crate::scenario::parse(Path::new("x.toml"), &text) {
            Ok(_) => panic!("accepted: {extra}"),
            Err(e) => e,
        }
    }

    #[test]
    fn scenario_mistakes_name_file_line_and_field() {
        let e = mistake(
            "[[step]]\naction = \"misbehave\"\nprovider = \"a.example\"\nbehaviours = [\"ghost\"]\n",
        );
        assert_eq!(e.line, 18, "{e}");
        assert_eq!(e.field, "step 2 (misbehave).behaviours");
        assert!(e.message.contains("unknown behaviour `ghost`"), "{e}");
        assert!(e.message.contains("ghost-member"), "{e}");
        assert!(e.to_string().starts_with("x.toml:18: "), "{e}");

        let e = mistake(
            "[[step]]\naction = \"misbehave\"\nprovider = \"a.example\"\nbehaviours = [\"delay\"]\n",
        );
        assert_eq!(e.field, "step 2 (misbehave).user", "{e}");
        let e = mistake(
            "[[step]]\naction = \"misbehave\"\nprovider = \"b.example\"\nbehaviours = []\n",
        );
        assert_eq!(e.field, "step 2 (misbehave).provider", "{e}");
        let e = mistake(
            "[[step]]\naction = \"misbehave\"\nprovider = \"a.example\"\nbehaviours = [\"fork\"]\nepochs = 2\n",
        );
        assert_eq!(e.field, "step 2 (misbehave).epochs", "{e}");
        let e = mistake("[[step]]\naction = \"misbehave\"\nprovider = \"a.example\"\n");
        assert_eq!(e.field, "step 2 (misbehave).behaviours", "{e}");
        let e = mistake("[[step]]\naction = \"ghost_invite\"\nroom = \"r\"\nby = \"alice\"\n");
        assert_eq!(e.field, "step 2 (ghost_invite).users", "{e}");

        let switch = "[[step]]\naction = \"misbehave\"\nprovider = \"a.example\"\nbehaviours = [\"replay\"]\n";
        let e = mistake(&format!(
            "{switch}[[assert]]\ncheck = \"misbehaviour\"\nroom = \"r\"\nbehaviour = \"replay\"\nexpect = \"detected\"\n"
        ));
        assert_eq!((e.field.as_str(), e.line), ("assert.expect", 23), "{e}");
        assert!(e.message.contains("expect = \"rejected\""), "{e}");
        let e = mistake(&format!(
            "{switch}[[assert]]\ncheck = \"misbehaviour\"\nroom = \"r\"\nbehaviour = \"fork\"\nexpect = \"detected\"\n"
        ));
        assert_eq!(e.field, "assert.behaviour", "{e}");
        assert!(
            e.message.contains("no misbehave step switches `fork` on"),
            "{e}"
        );
        let e = mistake(&format!(
            "{switch}[[assert]]\ncheck = \"misbehaviour\"\nroom = \"r\"\nbehaviour = \"replays\"\nexpect = \"rejected\"\n"
        ));
        assert_eq!(e.field, "assert.behaviour", "{e}");
        let e = mistake("[[assert]]\ncheck = \"converged\"\nroom = \"r\"\nexpect = \"rejected\"\n");
        assert_eq!(e.field, "assert.behaviour", "{e}");

        let ok = format!(
            "{BASE}{switch}[[assert]]\ncheck = \"misbehaviour\"\nroom = \"r\"\nbehaviour = \"replay\"\nexpect = \"rejected\"\n"
        );
        let scenario =
            crate::scenario::parse(Path::new("x.toml"), &ok).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            scenario.assertions[0].check,
            Check::Misbehaviour(Behaviour::Replay)
        );
    }

    #[test]
    fn every_behaviour_round_trips_its_name_and_cites_requirements() {
        let catalog = concord_spec::catalog().unwrap_or_else(|e| panic!("{e}"));
        for b in Behaviour::ALL {
            assert_eq!(Behaviour::parse(b.name()), Some(b));
            assert!(
                b.requirements()
                    .iter()
                    .any(|r| r.starts_with("MIMI-PROTOCOL-"))
            );
            for id in b.requirements() {
                assert!(catalog.get(id).is_some(), "{id} is not in the catalog");
            }
            assert!(b.assertion_name().ends_with(b.name()));
        }
        assert_eq!(Behaviour::parse("ghost"), None);
        assert_eq!(citations().len(), Behaviour::ALL.len());
        assert_eq!(
            Expect::parse(Expect::Rejected.name()),
            Some(Expect::Rejected)
        );
    }
}
