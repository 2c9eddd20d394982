//! Live mode (`concord sim --live`): the scenarios of `concord sim` played against real MIMI
//! provider servers over HTTPS instead of the simulated network.
//!
//! ```text
//!  scenario providers ──without url──> Concord serves the reference provider on loopback
//!                     ──url = "https://…"──> a provider server someone runs (same TLS folder)
//!  every provider sits behind an impairing proxy (provider/proxy.rs): the scenario's
//!  [network] and [[link]] become per-caller delay, loss, duplication and reordering; partition,
//!  hold, crash steps cut callers off; peers.toml in the TLS folder points every domain at its
//!  proxy, so provider-to-provider traffic (fanout) passes it too.
//!
//!  simulated clients (reference, openmls, mls-rs, grpc://…) ──HTTPS──> their provider:
//!      clientKeyPackage, clientInbox (client access, beyond the draft)
//!  ──HTTPS with their provider's certificate, through the hub's proxy──> the room's hub:
//!      createRoom, update, submitMessage, groupInfo, publishGroupInfo; keyMaterial at the
//!      target user's provider
//! ```
//!
//! Steps run one operation at a time: each waits until every member it concerns has
//! processed what the hub fanned out (or the step timeout). The assertions are judged from
//! what the clients did, as in the simulator; what the hub recorded is not read (a provider
//! under test need not expose it), so `participants_only` compares the clients that reached
//! the room's last epoch with the participant list the scenario built. Adversary steps
//! (`misbehave`, `ghost_invite`) need a simulated provider and are reported unsupported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::{
    ContentBody, Credential, GroupInfo, HpkePublicKey, KeyPackage, MlsMessage, MlsMessageBody,
    RequiredCapabilities, SignaturePublicKey,
};
use concord_reference::mimi::ParticipantChange;
use concord_reference::mimi::group_info::open_response;
use concord_reference::mimi::service::Role;
use concord_reference::mimi::service::client_access::{
    Inbox, KIND_APPLICATION, KIND_HANDSHAKE, KIND_WELCOME, PublishGroupInfo,
};
use concord_reference::mimi::wire::{
    BundleExtra, ClientKeyMaterial, CreateRoomCode, CreateRoomRequest, CreateRoomResponse,
    GroupInfoRequest as MimiGroupInfoRequest, GroupInfoResponse, GroupInfoStatus,
    KeyMaterialRequest, KeyMaterialResponse, SubmitMessageRequest, SubmitMessageResponse,
    UpdateCode, UpdateRequest, UpdateRoomResponse,
};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use crate::client::ClientUnderTest;
use crate::client::proto::*;
use crate::provider::https::{self, BaseUrl, HttpResponse};
use crate::provider::proxy::{Impairment, Proxy};
use crate::provider::{certs, reference, resolve, server, tls};
use crate::sim::checks::{self, AssertionVerdict, Verdict};
use crate::sim::scenario::{Action, Check, LinkSpec, Scenario, Senders, Step};

/// Opens a client under test from its specification and a seed.
pub type ClientFactory<'a> = &'a dyn Fn(&str, u64) -> Result<Box<dyn ClientUnderTest>, String>;

/// How a live run is set up.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    pub seed: u64,
    /// A `concord certs` folder shared with the providers Concord does not run; `None`: a
    /// fresh one (every provider must then be Concord's).
    pub tls_dir: Option<PathBuf>,
    /// Provider domain -> URL of a server Concord does not run (the scenario's `url`s and
    /// `--provider DOMAIN=URL` flags).
    pub urls: BTreeMap<String, String>,
    /// Overrides of client specs: user (or `*`) -> spec.
    pub clients: BTreeMap<String, String>,
    /// (domain, URL) of a provider under test that hosts every room of the scenarios (the
    /// `create` steps' hubs are replaced by it; their other traffic goes to it too).
    pub hub: Option<(String, String)>,
}

/// How long one HTTP call may keep being retried through a lossy proxy.
const CALL_DEADLINE: Duration = Duration::from_secs(20);
/// The deadline of one HTTP attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an operation waits for the members to catch up.
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);
/// How often inboxes are read while waiting.
const POLL: Duration = Duration::from_millis(20);
/// The cipher suite of live rooms.
const SUITE: u16 = 1;

/// Providers, proxies and the calls between them.
struct Net {
    runtime: tokio::runtime::Runtime,
    tls_dir: PathBuf,
    /// Domain -> its server (clients' own provider access, not impaired).
    direct: BTreeMap<String, BaseUrl>,
    /// Domain -> the proxy in front of it.
    proxies: BTreeMap<String, Proxy>,
    servers: Vec<server::RunningServer>,
    configs: BTreeMap<String, std::sync::Arc<rustls::ClientConfig>>,
    next_key: u64,
    tag: String,
    /// Our temporary TLS folder, removed at the end.
    temporary: bool,
}

impl Net {
    fn config(&mut self, domain: &str) -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
        if let Some(c) = self.configs.get(domain) {
            return Ok(c.clone());
        }
        let c = tls::client_config(&self.tls_dir, Some(domain)).map_err(|e| e.to_string())?;
        self.configs.insert(domain.to_string(), c.clone());
        Ok(c)
    }

    fn fresh_key(&mut self) -> String {
        self.next_key += 1;
        format!("live-{}-{}", self.tag, self.next_key)
    }

    /// POST to `to`'s proxy as `as_domain`, retried with the same Idempotency-Key while the
    /// proxy drops the request or its answer.
    fn post(
        &mut self,
        to: &str,
        as_domain: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<HttpResponse, String> {
        let base = match self.proxies.get(to) {
            Some(p) => BaseUrl::parse(&p.url())?,
            None => return Err(format!("no provider {to}")),
        };
        self.call(base, as_domain, path, body, true)
    }

    /// POST straight to `domain`'s server with its own certificate (client access).
    fn own(&mut self, domain: &str, path: &str, body: Vec<u8>) -> Result<HttpResponse, String> {
        let base = self
            .direct
            .get(domain)
            .cloned()
            .ok_or_else(|| format!("no provider {domain}"))?;
        self.call(base, domain, path, body, false)
    }

    fn call(
        &mut self,
        base: BaseUrl,
        as_domain: &str,
        path: &str,
        body: Vec<u8>,
        retry: bool,
    ) -> Result<HttpResponse, String> {
        let config = self.config(as_domain)?;
        let headers = vec![
            ("idempotency-key".to_string(), self.fresh_key()),
            (
                "content-type".to_string(),
                crate::provider::CONTENT_TYPE.to_string(),
            ),
        ];
        let started = Instant::now();
        let mut wait = Duration::from_millis(25);
        loop {
            let attempt = self.runtime.block_on(https::call(
                config.clone(),
                &base,
                "POST",
                path,
                &headers,
                body.clone(),
                ATTEMPT_TIMEOUT,
            ));
            match attempt {
                Ok(r) => return Ok(r),
                Err(e) if !retry || started.elapsed() > CALL_DEADLINE => {
                    return Err(format!("POST {path}: {e}"));
                }
                Err(_) => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_millis(500));
                }
            }
        }
    }

    fn shutdown(self) {
        let Net {
            runtime,
            proxies,
            servers,
            tls_dir,
            temporary,
            ..
        } = self;
        runtime.block_on(async {
            for (_, p) in proxies {
                p.shutdown().await;
            }
            for s in servers {
                s.shutdown().await;
            }
        });
        if temporary {
            let _ = std::fs::remove_dir_all(tls_dir);
        }
    }
}

fn impairment(link: &LinkSpec) -> Impairment {
    let ms = |us: u64| us / 1000;
    let per_mille = |p: f64| (p.clamp(0.0, 1.0) * 1000.0).round() as u32;
    let latency = ms(link.latency_us).min(250);
    let jitter = ms(link.jitter_us).min(latency.max(50));
    Impairment {
        drop_request: per_mille(link.loss),
        drop_answer: per_mille(link.loss / 2.0),
        duplicate: per_mille(link.duplicate),
        reorder: per_mille(link.reorder),
        reorder_ms: 2 * latency + 20,
        delay_min_ms: latency.saturating_sub(jitter),
        delay_max_ms: latency + jitter,
    }
}

/// One member's view of a room.
#[derive(Debug, Clone)]
struct View {
    state: u32,
    epoch: u64,
    /// Proposals received in this epoch, for the Commit that covers them.
    proposals: Vec<Vec<u8>>,
    removed: bool,
}

struct Member {
    provider: String,
    client: Box<dyn ClientUnderTest>,
    /// KeyPackages published and not used yet: (transaction, KeyPackageRef).
    transactions: Vec<(u32, Vec<u8>)>,
    cursor: u64,
    rooms: BTreeMap<String, View>,
    /// Not reading its inbox until `room` reaches the epoch.
    offline: Option<(String, u64)>,
}

/// The room as the scenario built it (the participant list and the hub's epoch).
#[derive(Debug, Clone)]
struct RoomModel {
    hub: String,
    members: BTreeSet<String>,
    epoch: u64,
}

#[derive(Debug, Clone)]
struct Sent {
    room: String,
    epoch: u64,
    ciphertext: Vec<u8>,
    recipients: BTreeSet<String>,
}

/// A removed member and the state it kept.
#[derive(Debug, Clone)]
struct Removal {
    client: String,
    since: u64,
    /// The epoch it was back in, if it came back.
    until: Option<u64>,
    state: u32,
}

struct Live<'a> {
    scenario: &'a Scenario,
    net: Net,
    factory: ClientFactory<'a>,
    options: &'a LiveOptions,
    members: BTreeMap<String, Member>,
    current: BTreeMap<String, String>,
    rooms: BTreeMap<String, RoomModel>,
    sent: BTreeMap<u64, Sent>,
    received: BTreeMap<u64, Vec<String>>,
    auths: BTreeMap<String, BTreeMap<u64, BTreeMap<String, Vec<u8>>>>,
    removals: BTreeMap<String, Vec<Removal>>,
    failures: Vec<String>,
    errors: Vec<String>,
    unsupported: Option<String>,
    crashed: BTreeSet<String>,
    /// Links cut by partition and hold steps: (from, to).
    blocked: BTreeSet<(String, String)>,
    /// Operations of members cut off from the hub, run when the link is back.
    deferred: Vec<Deferred>,
    /// Members whose leave proposal the next Commit of the room covers.
    pending_leaves: BTreeMap<String, Vec<String>>,
    next_message: u64,
    rng: ChaCha8Rng,
    label: String,
}

fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn text_of(r: &HttpResponse) -> String {
    let shown: String = String::from_utf8_lossy(&r.body).chars().take(160).collect();
    format!("{} {shown}", r.status)
}

fn domain_of(identity: &str) -> &str {
    identity.rsplit_once('@').map_or(identity, |(_, d)| d)
}

fn is_commit(message: &[u8]) -> bool {
    MlsMessage::from_bytes(message).is_ok_and(|m| {
        matches!(m.body, MlsMessageBody::PublicMessage(p) if matches!(p.content.body, ContentBody::Commit(_)))
    })
}

/// Sets up the providers and proxies of `scenario`.
fn start_net(scenario: &Scenario, options: &LiveOptions) -> Result<Net, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut providers = scenario.providers.clone();
    let mut urls = options.urls.clone();
    if let Some((domain, url)) = &options.hub {
        if !providers.contains(domain) {
            providers.push(domain.clone());
        }
        urls.insert(domain.clone(), url.clone());
    }
    let external: BTreeMap<&String, &String> =
        urls.iter().filter(|(d, _)| providers.contains(d)).collect();
    let (tls_dir, temporary) = match &options.tls_dir {
        Some(dir) => (dir.clone(), false),
        None if external.is_empty() && options.hub.is_none() => {
            let dir = std::env::temp_dir().join(format!(
                "concord-live-{}-{}",
                std::process::id(),
                server::now_ms()
            ));
            certs::generate(&dir, &providers).map_err(|e| e.to_string())?;
            (dir, true)
        }
        None => {
            return Err(format!(
                "providers {} are served elsewhere: give --tls-dir, the `concord certs` folder \
                 their servers trust (with a certificate for every provider of the scenario)",
                external
                    .keys()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    // Concord's own providers get certificates from the folder's CA when it lacks them.
    certs::add_missing(&tls_dir, &providers).map_err(|e| format!("{}: {e}", tls_dir.display()))?;
    let mut net = Net {
        runtime,
        tls_dir: tls_dir.clone(),
        direct: BTreeMap::new(),
        proxies: BTreeMap::new(),
        servers: Vec::new(),
        configs: BTreeMap::new(),
        next_key: 0,
        tag: format!("{:x}", server::now_ms()),
        temporary,
    };
    let default = impairment(&scenario.network);
    // Other entries (another tool's providers) are kept.
    let mut peers: BTreeMap<String, String> =
        resolve::read_peers(&tls_dir.join(resolve::PEERS_FILE))?
            .into_iter()
            .map(|(d, u)| (d, u.to_url()))
            .collect();
    for (n, domain) in providers.iter().enumerate() {
        let url = match external.get(domain) {
            Some(url) => (*url).clone(),
            None => {
                let served = net
                    .runtime
                    .block_on(reference::serve_on_loopback(
                        &tls_dir,
                        domain,
                        Role::Hub,
                        &[],
                        options.seed.wrapping_add(n as u64),
                        Default::default(),
                    ))
                    .map_err(|e| format!("serving {domain}: {e}"))?;
                let url = served.url();
                net.servers.push(served);
                url
            }
        };
        let base = BaseUrl::parse(&url).map_err(|e| format!("provider {domain}: {e}"))?;
        let proxy = net
            .runtime
            .block_on(Proxy::start(
                &tls_dir,
                domain,
                base.clone(),
                options.seed ^ stable_hash(domain),
                default,
            ))
            .map_err(|e| format!("proxy for {domain}: {e}"))?;
        peers.insert(domain.clone(), proxy.url());
        net.direct.insert(domain.clone(), base);
        net.proxies.insert(domain.clone(), proxy);
    }
    for (from, to, link) in &scenario.links {
        if let Some(p) = net.proxies.get(to) {
            p.set_caller_impairment(from, Some(impairment(link)));
        }
    }
    resolve::write_peers(&tls_dir, &peers)?;
    Ok(net)
}

/// `concord sim --live`: every scenario live, a line per verdict, the closing line; the exit
/// code.
pub fn main(
    scenarios: &[Scenario],
    options: LiveOptions,
    factory: ClientFactory<'_>,
    out: &mut dyn std::io::Write,
) -> u8 {
    let mut summary = crate::sim::Summary::default();
    for scenario in scenarios {
        let mut options = options.clone();
        for (domain, url) in &scenario.provider_urls {
            options.urls.entry(domain.clone()).or_insert(url.clone());
        }
        for v in run_scenario(scenario, &options, factory) {
            let room = if v.room.is_empty() {
                String::new()
            } else {
                format!(" in {}", v.room)
            };
            let _ = writeln!(
                out,
                "{:<11} {} (live): {}{room} ({}): {}",
                format!("{:?}", v.verdict).to_lowercase(),
                v.scenario,
                v.assertion,
                v.requirements.join(", "),
                v.detail
            );
            match v.verdict {
                Verdict::Pass => summary.passed += 1,
                Verdict::Fail => summary.failed += 1,
                Verdict::Skipped | Verdict::Unsupported => summary.skipped += 1,
            }
            summary.verdicts.push(v);
        }
    }
    let _ = writeln!(out, "{}", summary.closing_line());
    summary.exit_code()
}

/// Runs one scenario live; the verdicts as `concord sim` gives them.
pub fn run_scenario(
    scenario: &Scenario,
    options: &LiveOptions,
    factory: ClientFactory<'_>,
) -> Vec<AssertionVerdict> {
    let verdict =
        |assertion: &str, room: &str, requirements: Vec<String>, v, detail| AssertionVerdict {
            scenario: scenario.name.clone(),
            file: scenario.file.display().to_string(),
            assertion: assertion.to_string(),
            room: room.to_string(),
            requirements,
            verdict: v,
            detail,
            transcript_lines: (0, 0),
        };
    if let Some(step) = scenario.steps.iter().find(|s| adversary(&s.action)) {
        let reason = format!(
            "step {} (line {}) needs a simulated misbehaving provider: live mode runs honest \
             providers only",
            step.index, step.line
        );
        let mut out = vec![verdict(
            "steps",
            "",
            vec!["RFC9420-14-1".into()],
            Verdict::Unsupported,
            reason.clone(),
        )];
        for a in &scenario.assertions {
            out.push(verdict(
                a.check.name(),
                &a.room,
                checks::requirements(a.check),
                Verdict::Unsupported,
                reason.clone(),
            ));
        }
        return out;
    }
    let net = match start_net(scenario, options) {
        Ok(n) => n,
        Err(e) => {
            return vec![verdict("setup", "", Vec::new(), Verdict::Fail, e)];
        }
    };
    let mut live = Live {
        scenario,
        net,
        factory,
        options,
        members: BTreeMap::new(),
        current: BTreeMap::new(),
        rooms: BTreeMap::new(),
        sent: BTreeMap::new(),
        received: BTreeMap::new(),
        auths: BTreeMap::new(),
        removals: BTreeMap::new(),
        failures: Vec::new(),
        errors: Vec::new(),
        unsupported: None,
        crashed: BTreeSet::new(),
        pending_leaves: BTreeMap::new(),
        blocked: BTreeSet::new(),
        deferred: Vec::new(),
        next_message: 1,
        rng: ChaCha8Rng::seed_from_u64(options.seed ^ stable_hash(&scenario.name)),
        label: "setup".into(),
    };
    let mut out = Vec::new();
    let setup = scenario
        .users
        .iter()
        .map(|(u, (p, c))| (u.clone(), p.clone(), c.clone()))
        .collect::<Vec<_>>();
    for (user, provider, spec) in setup {
        if let Err(e) = live.add_member(&user, &provider, &spec) {
            out.push(verdict("setup", "", Vec::new(), Verdict::Fail, e));
            live.net.shutdown();
            return out;
        }
    }
    for step in &scenario.steps {
        live.label = format!("step {} (line {})", step.index, step.line);
        if let Err(e) = live.run_step(step) {
            let label = live.label.clone();
            live.failures.push(format!("{label}: {e}"));
        }
        if live.unsupported.is_some() {
            break;
        }
    }
    live.label = "settle".into();
    live.settle_all();
    let step_verdict = if live.unsupported.is_some() {
        Verdict::Unsupported
    } else if live.failures.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let detail = match (&live.unsupported, live.failures.is_empty()) {
        (Some(u), _) => format!("unsupported: {u}"),
        (None, true) => format!("{} steps completed live", scenario.steps.len()),
        (None, false) => live
            .failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("; "),
    };
    out.push(verdict(
        "steps",
        "",
        vec!["RFC9420-14-1".into()],
        step_verdict,
        detail,
    ));
    for assertion in &scenario.assertions {
        let (v, detail) = if live.unsupported.is_some() {
            (
                Verdict::Unsupported,
                "the scenario could not run live".to_string(),
            )
        } else {
            live.judge(assertion.check, &assertion.room)
        };
        out.push(verdict(
            assertion.check.name(),
            &assertion.room,
            checks::requirements(assertion.check),
            v,
            detail,
        ));
    }
    live.net.shutdown();
    out
}

/// Whether a scenario needs a simulated misbehaving provider (it cannot run live).
pub fn needs_simulated_provider(scenario: &Scenario) -> bool {
    scenario.steps.iter().any(|s| adversary(&s.action))
}

fn adversary(action: &Action) -> bool {
    match action {
        Action::Misbehave { .. } | Action::GhostInvite { .. } => true,
        Action::Concurrent(inner) => inner.iter().any(|s| adversary(&s.action)),
        _ => false,
    }
}

impl Live<'_> {
    fn add_member(&mut self, user: &str, provider: &str, spec: &str) -> Result<String, String> {
        let spec = self
            .options
            .clients
            .get(user)
            .or_else(|| self.options.clients.get("*"))
            .cloned()
            .unwrap_or_else(|| spec.to_string());
        // Unique to this run: a server that outlives runs keeps earlier clients' KeyPackages.
        let identity = format!("{user}-{}@{provider}", self.net.tag);
        let client = (self.factory)(&spec, self.options.seed ^ stable_hash(&identity))
            .map_err(|e| format!("user {user}: {e}"))?;
        self.members.insert(
            identity.clone(),
            Member {
                provider: provider.to_string(),
                client,
                transactions: Vec::new(),
                cursor: 0,
                rooms: BTreeMap::new(),
                offline: None,
            },
        );
        self.current.insert(user.to_string(), identity.clone());
        self.publish_key_packages(&identity, 2)?;
        Ok(identity)
    }

    /// The room's ID on the wire: the scenario's name plus this run's tag, so that a server
    /// that outlives runs sees new rooms.
    fn wire(&self, room: &str) -> String {
        format!("{room}-{}", self.net.tag)
    }

    /// The scenario's name of a room ID on the wire (`None`: another run's room).
    fn unwire(&self, wire: &str) -> Option<String> {
        wire.strip_suffix(&format!("-{}", self.net.tag))
            .map(str::to_string)
    }

    fn id(&self, user: &str) -> Result<String, String> {
        self.current
            .get(user)
            .cloned()
            .ok_or_else(|| format!("unknown user {user}"))
    }

    fn member(&mut self, identity: &str) -> Result<&mut Member, String> {
        self.members
            .get_mut(identity)
            .ok_or_else(|| format!("no client {identity}"))
    }

    fn view(&self, identity: &str, room: &str) -> Option<&View> {
        self.members.get(identity)?.rooms.get(room)
    }

    fn publish_key_packages(&mut self, identity: &str, count: usize) -> Result<(), String> {
        for _ in 0..count {
            let m = self.member(identity)?;
            let made = m
                .client
                .create_key_package(CreateKeyPackageRequest {
                    cipher_suite: u32::from(SUITE),
                    identity: identity.as_bytes().to_vec(),
                })
                .map_err(|e| format!("{identity}: CreateKeyPackage: {e}"))?;
            let reference = key_package_ref(&made.key_package)
                .map_err(|e| format!("{identity}'s KeyPackage: {e}"))?;
            m.transactions.push((made.transaction_id, reference));
            let provider = m.provider.clone();
            let answer = self.net.own(
                &provider,
                &format!("/v1/clientKeyPackage/{identity}"),
                made.key_package,
            )?;
            if answer.status != 201 {
                return Err(format!(
                    "{provider} refused {identity}'s KeyPackage: {}",
                    text_of(&answer)
                ));
            }
        }
        Ok(())
    }

    fn run_step(&mut self, step: &Step) -> Result<(), String> {
        match &step.action {
            Action::Create {
                room,
                by,
                hub,
                open,
            } => {
                let hub = self.actual(hub);
                self.create(room, &self.id(by)?, &hub, *open)
            }
            Action::Invite {
                room,
                by,
                users,
                batch,
            } => {
                let by = self.id(by)?;
                for chunk in users.chunks((*batch).max(1)) {
                    let adds = chunk
                        .iter()
                        .map(|u| self.id(u))
                        .collect::<Result<Vec<_>, _>>()?;
                    self.commit_until_accepted(room, &by, &adds, &[])?;
                }
                Ok(())
            }
            Action::JoinExternal { room, user } => self.join_external(room, &self.id(user)?),
            // Live sends go one at a time, each after the last was accepted: spaced by
            // the round trip already, so `interval` (virtual time) does not apply.
            Action::Send {
                room,
                from,
                count,
                text,
                interval: _,
            } => {
                for _ in 0..*count {
                    let sender = match from {
                        Senders::User(u) => self.id(u)?,
                        Senders::Members => {
                            let members: Vec<String> = self
                                .rooms
                                .get(room)
                                .map(|r| r.members.iter().cloned().collect())
                                .unwrap_or_default();
                            if members.is_empty() {
                                return Err(format!("room {room} has no members to send"));
                            }
                            let pick = (rand_core::Rng::next_u64(&mut self.rng)
                                % members.len() as u64)
                                as usize;
                            members[pick].clone()
                        }
                    };
                    if self.cut_off(&sender, room) {
                        self.deferred.push(Deferred::Send {
                            room: room.clone(),
                            sender,
                            text: text.clone(),
                        });
                    } else {
                        self.send(room, &sender, text)?;
                    }
                }
                self.settle(room)
            }
            Action::Update { room, by } => {
                let committers = match by {
                    Some(u) => vec![self.id(u)?],
                    None => self
                        .rooms
                        .get(room)
                        .map(|r| r.members.iter().cloned().collect())
                        .unwrap_or_default(),
                };
                for c in committers {
                    self.commit_until_accepted(room, &c, &[], &[])?;
                }
                Ok(())
            }
            Action::Remove { room, by, users } => {
                let by = self.id(by)?;
                let targets: Vec<String> = if users.is_empty() {
                    self.rooms
                        .get(room)
                        .map(|r| r.members.iter().filter(|m| **m != by).cloned().collect())
                        .unwrap_or_default()
                } else {
                    users.iter().map(|u| self.id(u)).collect::<Result<_, _>>()?
                };
                for t in targets {
                    self.commit_until_accepted(room, &by, &[], &[t])?;
                }
                Ok(())
            }
            Action::Leave {
                room,
                user,
                committer,
            } => {
                let leaver = self.id(user)?;
                let committer = match committer {
                    Some(c) => Some(self.id(c)?),
                    None => None,
                };
                self.leave(room, &leaver, committer)
            }
            Action::SwitchProvider { room, user, to, by } => {
                let old = self.id(user)?;
                let spec = self
                    .scenario
                    .users
                    .get(user)
                    .map(|(_, c)| c.clone())
                    .unwrap_or_else(|| "reference".into());
                let new = self.add_member(user, to, &spec)?;
                let by = match by {
                    Some(b) => self.id(b)?,
                    None => self
                        .rooms
                        .get(room)
                        .and_then(|r| r.members.iter().find(|m| **m != old).cloned())
                        .ok_or_else(|| format!("no member of {room} to switch {user}"))?,
                };
                self.commit_until_accepted(room, &by, std::slice::from_ref(&new), &[old])
            }
            Action::Concurrent(inner) => self.concurrent(inner),
            Action::Partition { from, to, both } => {
                self.block(from, to, true);
                if *both {
                    self.block(to, from, true);
                }
                Ok(())
            }
            Action::Hold { from, to } => {
                self.block(from, to, true);
                Ok(())
            }
            Action::Release { from, to } => {
                self.block(from, to, false);
                self.reconnected()
            }
            Action::Heal(pair) => {
                match pair {
                    Some((a, b)) => {
                        self.block(a, b, false);
                        self.block(b, a, false);
                    }
                    None => {
                        let all = self.scenario.providers.clone();
                        for a in &all {
                            for b in &all {
                                self.block(a, b, false);
                            }
                        }
                    }
                }
                self.reconnected()
            }
            Action::Crash(p) => {
                let p = &self.actual(p);
                if let Some(proxy) = self.net.proxies.get(p) {
                    proxy.set_partitioned(true);
                }
                self.crashed.insert(p.clone());
                Ok(())
            }
            Action::Restart(p) => {
                let p = &self.actual(p);
                if let Some(proxy) = self.net.proxies.get(p) {
                    proxy.set_partitioned(false);
                }
                self.crashed.remove(p);
                self.reconnected()
            }
            Action::Offline { user, room, epochs } => {
                let identity = self.id(user)?;
                let until = self.rooms.get(room).map_or(0, |r| r.epoch) + epochs;
                self.member(&identity)?.offline = Some((room.clone(), until));
                Ok(())
            }
            Action::SetLink { from, to, link } => {
                let (from, to) = (self.actual(from), self.actual(to));
                if let Some(p) = self.net.proxies.get(&to) {
                    p.set_caller_impairment(&from, Some(impairment(link)));
                }
                Ok(())
            }
            Action::Wait(us) => {
                std::thread::sleep(Duration::from_micros((*us).min(3_000_000)));
                self.settle_all();
                Ok(())
            }
            other => {
                self.unsupported = Some(format!("{other:?} in live mode"));
                Ok(())
            }
        }
    }

    /// The provider that plays `provider` in this run: the provider under test for the
    /// scenario's room hubs when one hosts every room, else `provider` itself.
    fn actual(&self, provider: &str) -> String {
        match &self.options.hub {
            Some((domain, _)) if self.scenario_hubs().contains(provider) => domain.clone(),
            _ => provider.to_string(),
        }
    }

    /// The providers the scenario's `create` steps put rooms on.
    fn scenario_hubs(&self) -> BTreeSet<String> {
        fn collect(steps: &[Step], into: &mut BTreeSet<String>) {
            for step in steps {
                match &step.action {
                    Action::Create { hub, .. } => {
                        into.insert(hub.clone());
                    }
                    Action::Concurrent(inner) => collect(inner, into),
                    _ => {}
                }
            }
        }
        let mut hubs = BTreeSet::new();
        collect(&self.scenario.steps, &mut hubs);
        hubs
    }

    fn block(&mut self, from: &str, to: &str, on: bool) {
        let (from, to) = (self.actual(from), self.actual(to));
        let (from, to) = (from.as_str(), to.as_str());
        // Traffic from `from` into `to` passes `to`'s proxy; `from`'s clients call through
        // it with their provider's certificate, so they are cut off too.
        if let Some(p) = self.net.proxies.get(to) {
            p.set_blocked(from, on);
        }
        if on {
            self.blocked.insert((from.to_string(), to.to_string()));
        } else {
            self.blocked.remove(&(from.to_string(), to.to_string()));
        }
    }

    /// Whether `member`'s requests cannot reach the hub of `room` now.
    fn cut_off(&self, member: &str, room: &str) -> bool {
        let Some(hub) = self.rooms.get(room).map(|r| r.hub.as_str()) else {
            return false;
        };
        let provider = domain_of(member);
        self.crashed.contains(hub)
            || self.crashed.contains(provider)
            || (provider != hub
                && self
                    .blocked
                    .contains(&(provider.to_string(), hub.to_string())))
    }

    /// Whether the hub of `room` cannot reach `member`'s provider now.
    fn unreachable(&self, member: &str, room: &str) -> bool {
        let Some(hub) = self.rooms.get(room).map(|r| r.hub.as_str()) else {
            return false;
        };
        let provider = domain_of(member);
        self.crashed.contains(hub)
            || self.crashed.contains(provider)
            || (provider != hub
                && self
                    .blocked
                    .contains(&(hub.to_string(), provider.to_string())))
    }

    /// Links are back: let everyone catch up, then run what waited.
    fn reconnected(&mut self) -> Result<(), String> {
        self.settle_all();
        let waiting = std::mem::take(&mut self.deferred);
        let mut rooms = BTreeSet::new();
        for op in waiting {
            match op {
                Deferred::Send { room, sender, text } => {
                    if self.cut_off(&sender, &room) {
                        self.deferred.push(Deferred::Send { room, sender, text });
                    } else {
                        self.send(&room, &sender, &text)?;
                        rooms.insert(room);
                    }
                }
                Deferred::Commit {
                    room,
                    by,
                    adds,
                    removes,
                } => self.commit_until_accepted(&room, &by, &adds, &removes)?,
            }
        }
        for room in rooms {
            self.settle(&room)?;
        }
        Ok(())
    }
}

/// The KeyPackageRef of an encoded KeyPackage (an MLSMessage).
fn key_package_ref(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let MlsMessageBody::KeyPackage(kp) = MlsMessage::from_bytes(bytes)
        .map_err(|e| e.to_string())?
        .body
    else {
        return Err("not a KeyPackage".into());
    };
    let suite = Suite::new(kp.cipher_suite).map_err(|e| e.to_string())?;
    Ok(concord_reference::welcome::key_package_ref(&suite, &kp)
        .0
        .as_slice()
        .to_vec())
}

/// An operation waiting for its member's link to the hub.
#[derive(Debug, Clone)]
enum Deferred {
    Send {
        room: String,
        sender: String,
        text: String,
    },
    Commit {
        room: String,
        by: String,
        adds: Vec<String>,
        removes: Vec<String>,
    },
}

/// A Commit made and not yet sent.
struct Prepared {
    commit: Vec<u8>,
    welcome: Option<Vec<u8>>,
    changes: Vec<ParticipantChange>,
    adds: Vec<String>,
    removes: Vec<String>,
    state: u32,
}

mod receive;
mod rooms;
