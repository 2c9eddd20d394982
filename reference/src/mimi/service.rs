//! A MIMI provider as a sans-IO service: HTTP requests in as values, answers and the
//! requests it must make to other providers out as values, time as a parameter. The
//! server in the harness adds TLS, HTTP and clocks.
//!
//! ```text
//! Request{method, path, peer (domain of the client certificate), headers, body}
//!   ──handle──> route (404/405) ──> authenticate (401) ──> decode (wire.rs, 400 naming the field)
//!           ──> authorize (the peer is the provider of the user spoken for, else 403)
//!           ──> Hub (createRoom, update, submitMessage, groupInfo) / Provider (keyMaterial, notify)
//!           ──> Response{status, body}          fanout ──> take_outbound(): POST /v1/notify/{room}
//!                                               outbound_done(id, status): 2xx done, else retried
//! ```
//!
//! HTTP statuses are listed in the module docs of [`super`] (profile `concord-mimi-06`).

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use sha2::{Digest, Sha256};

use super::ParticipantChange;
use super::proxy_download;
pub use super::proxy_download::Fetched;
use super::wire::{
    self, BundleExtra, ClientKeyMaterial, CreateRoomCode, CreateRoomRequest, CreateRoomResponse,
    FanoutMessage, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoResponse, GroupInfoStatus,
    GroupInfoSuccess, KeyMaterialRequest, KeyMaterialResponse, KeyMaterialUserCode, NotifyBody,
    SubmitMessageRequest, SubmitMessageResponse, UpdateRequest, UpdateRoomResponse,
};
use super::wire::{
    AbuseReport, ConsentEntry, ConsentOperation, IdentifierRequest, IdentifierResponse,
};
use super::{
    Delivery, Fanout, HandshakeBundle, Hub, HubError, Provider, RoomEvent, SubmitResponse,
    UpdateResponse, provider_of,
};
use crate::codec::{Bytes, Codec};
use crate::crypto::{CipherSuite, Suite};
use crate::messages::{
    ContentBody, Credential, Extension, ExternalSender, ExternalSenders, HpkeCiphertext,
    MlsMessage, MlsMessageBody, Proposal, ProposalOrRef, SignaturePublicKey,
};

/// Which part a provider plays. A hub hosts rooms; both serve their local users' key
/// material and accept fanout for rooms hosted elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Hub,
    Follower,
}

/// One HTTP request, as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub method: String,
    /// e.g. `/v1/update/r1`.
    pub path: String,
    /// The domain proven by the client certificate (`None`: no certificate).
    pub peer: Option<String>,
    /// Lower-case names; `idempotency-key` carries the request id.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A request this provider must make to another provider (a fanout POST /v1/notify/{room}).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pub id: u64,
    pub to_domain: String,
    pub request: Request,
    /// The entry of the peer's directory whose URL template the request goes to, with the
    /// template's parameter (MIMI-PROTOCOL-5.1-2: a provider finds its peers' endpoints in
    /// their directories); `None`: to `request.path` as it is.
    pub endpoint: Option<Endpoint>,
}

/// A directory entry (`notify`, `requestConsent`, ...) and the value of its one parameter
/// (percent-encoded, as in a path segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub argument: String,
}

impl Endpoint {
    /// The entry a `/v1/{name}/{argument}` path is made from.
    pub fn of_path(path: &str) -> Option<Endpoint> {
        let (name, argument) = path.strip_prefix("/v1/")?.split_once('/')?;
        (!name.is_empty() && !argument.is_empty() && !argument.contains('/')).then(|| Endpoint {
            name: name.to_string(),
            argument: argument.to_string(),
        })
    }
}

#[cfg(feature = "adversary")]
pub use faults::ServiceFaults;
#[cfg(not(feature = "adversary"))]
use faults::ServiceFaults;

/// The misbehaviours a service can show. The honest code reads them; only a build with
/// the `adversary` feature can turn one on ([`ProviderService::with_faults`]).
mod faults {
    /// Misbehaviours for testing the tests, named by `--fault NAME` (the kebab-case of the
    /// field). All off by default.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ServiceFaults {
        /// A commit that leaves a non-participant's client in the group is accepted.
        pub accept_ghost_member: bool,
        /// A commit that lost its epoch's race is accepted and fanned out too.
        pub accept_two_commits_per_epoch: bool,
        /// An undecodable body makes the service panic (so a crash can be caught).
        pub panic_on_malformed: bool,
        /// Key packages are handed out without being used up.
        pub reuse_key_material: bool,
        /// A fanout that failed is dropped instead of retried.
        pub no_fanout_retry: bool,
        /// An application message of a past epoch is accepted and fanned out.
        pub accept_stale_application: bool,
        /// Neither the certificate's presence nor its domain is checked.
        pub skip_authentication: bool,
        /// The hub publishes its franking agents but franks nothing.
        pub no_franking: bool,
        /// Abuse reports are accepted without validating the franks of their messages.
        pub accept_unverified_reports: bool,
        /// Every frank names cipher suite 3 (its signature stays that of the room's suite).
        pub frank_other_suite: bool,
        /// A GroupInfoResponse is signed with another key than its `hub_sender` names.
        pub mismatched_hub_sender: bool,
        /// A hub passes consent operations and identifier queries for another provider's
        /// users on to that provider, answering 201 (as if it were a relay).
        pub relay_through_hub: bool,
        /// Requests to peers go to `/v1/{endpoint}/...` whatever the peer's directory says.
        pub hard_coded_endpoints: bool,
        /// A room's `external_senders` may leave out the hub's entry (at creation, or by a
        /// GroupContextExtensions proposal).
        pub allow_hub_sender_removal: bool,
        /// proxyDownload fetches from any host, not only its peers' asset servers.
        pub open_proxy: bool,
        /// A hub answers keyMaterial for other providers' users itself (userUnknown) instead
        /// of passing the request on to their provider.
        pub no_key_material_relay: bool,
        /// A Commit removing a follower's last participant may leave that follower's entry in
        /// the room's `external_senders`.
        pub keep_departed_follower_senders: bool,
    }
}

/// How many key packages each local user publishes at start.
pub const KEY_PACKAGES_PER_USER: usize = 32;

/// The cipher suite of the local users' key packages and of the hub's own signing key
/// when a request names no other.
pub const CIPHER_SUITE: CipherSuite = CipherSuite(1);

/// Backoff of a failed fanout, counted in [`ProviderService::take_outbound`] polls:
/// 1, 2, 4, ... up to this many.
pub const MAX_BACKOFF_POLLS: u32 = 32;

/// The HPKE label of `encrypted_groupinfo_and_tree`.
pub const GROUP_INFO_LABEL: &[u8] = b"GroupInfo and ratchet_tree encryption";

const TEXT: &str = "text/plain; charset=utf-8";

/// The endpoints under `/v1/` (beyond the draft: `createRoom`).
pub const ENDPOINTS: &[&str] = &[
    "keyMaterial",
    "update",
    "notify",
    "submitMessage",
    "groupInfo",
    "requestConsent",
    "updateConsent",
    "identifierQuery",
    "reportAbuse",
    "createRoom",
    "proxyDownload",
];

const DIRECTORY_PATH: &str = "/.well-known/mimi-protocol-directory";

/// The directory key of the hub's franking agents (profile choice 22): an object from the
/// cipher suite number (decimal) to the hex of the hub's `FrankingAgentData` for it.
pub const FRANKING_AGENTS: &str = "frankingAgents";

/// The directory member naming the hub's `ExternalSender` per cipher suite (profile choice
/// 23), for room creators to put in `external_senders`.
pub const EXTERNAL_SENDERS: &str = "externalSenders";

/// A deterministic generator for the keys the service makes (SHA-256 in counter mode
/// over the seed and the domain): the same seed gives the same key packages.
struct Drbg {
    key: [u8; 32],
    counter: u64,
}

impl std::fmt::Debug for Drbg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Drbg { .. }")
    }
}

impl Drbg {
    fn new(seed: u64, domain: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"concord mimi provider service");
        hash.update(seed.to_be_bytes());
        hash.update(domain.as_bytes());
        Drbg {
            key: hash.finalize().into(),
            counter: 0,
        }
    }
}

impl rand_core::TryRng for Drbg {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_be_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_be_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(32) {
            let mut hash = Sha256::new();
            hash.update(self.key);
            hash.update(self.counter.to_be_bytes());
            self.counter += 1;
            let block: [u8; 32] = hash.finalize().into();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Drbg {}

/// A fanout waiting to be sent (or re-sent).
#[derive(Debug, Clone)]
struct Pending {
    to_domain: String,
    request: Request,
    in_flight: bool,
    failures: u32,
    /// Polls to skip before the next attempt.
    wait_polls: u32,
}

/// The reference MIMI provider behind an HTTPS server.
#[derive(Debug)]
pub struct ProviderService {
    domain: String,
    role: Role,
    faults: ServiceFaults,
    local_users: Vec<String>,
    /// Clients that publish their own KeyPackages (client access, beyond the draft).
    client_managed: BTreeSet<String>,
    /// Local users whose key packages have been made (each at its first keyMaterial
    /// request, so that a provider with thousands of users answers its first request at once).
    key_packages_made: BTreeSet<String>,
    /// The clock of the first request: every key package's lifetime starts an hour before it.
    first_request_ms: Option<u64>,
    seed: u64,
    hub: Hub,
    provider: Provider,
    pending: BTreeMap<u64, Pending>,
    next_outbound: u64,
    /// Follower side: the hub each room's fanout came from first (trusted on first use).
    room_hubs: BTreeMap<String, String>,
    deliveries: Vec<Delivery>,
    rng: Drbg,
    /// The hub's signature key pair per cipher suite (GroupInfoResponse).
    hub_keys: BTreeMap<u16, (Vec<u8>, Vec<u8>)>,
    next_anonymous_request: u64,
    dropped_outbound: u64,
    /// Consent requests received for local users: (requester, target, room).
    consent_requests: BTreeSet<(String, String, Option<String>)>,
    /// Consent granted to local requesters: (requester, target, room) -> granted.
    consents: BTreeMap<(String, String, Option<String>), bool>,
    abuse_reports: Vec<(String, AbuseReport)>,
    /// Requests waiting for a [`Fetch`] the server makes for them, by token.
    deferred: BTreeMap<u64, Deferred>,
    next_fetch: u64,
    /// KeyPackageRefs this hub passed on from another provider's keyMaterial answer, by
    /// (room, KeyPackageRef): the provider it came from (MIMI-PROTOCOL-4.3.1-2).
    key_package_routes: BTreeMap<(String, Vec<u8>), String>,
    /// Each room's `external_senders` as its last accepted Commit (or its creation) left it.
    room_senders: BTreeMap<String, Vec<ExternalSender>>,
}

/// What [`ProviderService::handle_deferred`] makes of a request: its answer, or a request
/// the server must make to another provider first ([`ProviderService::fetched`] then gives
/// the answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Answer(Response),
    Fetch(Fetch),
}

/// A request a provider makes to another provider on behalf of a request it is answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// Given back to [`ProviderService::fetched`] with the outcome.
    pub token: u64,
    pub to_domain: String,
    pub request: Request,
    /// As in [`Outbound::endpoint`]: the peer directory's entry, or `None` for
    /// `request.path` as it is.
    pub endpoint: Option<Endpoint>,
}

/// What an answer waits for.
#[derive(Debug, Clone)]
enum Deferred {
    ProxyDownload(proxy_download::AssetUrl),
    /// A keyMaterial request for `room` passed on to `provider`.
    KeyMaterial {
        room: String,
        provider: String,
    },
}

/// A plain-text answer.
fn text(status: u16, message: impl Into<String>) -> Response {
    Response {
        status,
        content_type: TEXT.into(),
        body: message.into().into_bytes(),
    }
}

/// A MIMI body answer.
fn mimi(status: u16, value: &impl Codec) -> Response {
    Response {
        status,
        content_type: wire::CONTENT_TYPE.into(),
        body: value.to_bytes(),
    }
}

/// `%XX` escapes decoded; `None` if they are broken or the result is not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes everything but unreserved characters and `@`: a path parameter as one
/// segment (profile choice 5-2).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The epoch of a PublicMessage or PrivateMessage.
/// MIMI-PROTOCOL-7.4-3: `external_senders` holds at least the hub's entry.
pub const HUB_SENDER_KEPT: &str = "MIMI-PROTOCOL-7.4-3";

/// The GroupContext extensions of an encoded GroupInfo MLSMessage, if it is one.
fn group_context_extensions(group_info: &[u8]) -> Option<Vec<Extension>> {
    match MlsMessage::from_bytes(group_info).ok()?.body {
        MlsMessageBody::GroupInfo(info) => Some(info.group_context.extensions),
        _ => None,
    }
}

fn message_epoch(message: &[u8]) -> Option<u64> {
    match MlsMessage::from_bytes(message).ok()?.body {
        MlsMessageBody::PublicMessage(p) => Some(p.content.epoch),
        MlsMessageBody::PrivateMessage(p) => Some(p.epoch),
        _ => None,
    }
}

impl ProviderService {
    /// A provider for `domain`. Each of `local_users` (a user name, or `user@domain`)
    /// publishes [`KEY_PACKAGES_PER_USER`] key packages generated from `seed` (made at the
    /// first keyMaterial request for that user; their lifetime starts an hour before the
    /// clock of the provider's first request).
    pub fn new(domain: &str, role: Role, local_users: &[&str], seed: u64) -> Self {
        Self::build(domain, role, local_users, seed, ServiceFaults::default())
    }

    /// [`Self::new`] showing the misbehaviours `faults` names (feature `adversary`).
    #[cfg(feature = "adversary")]
    pub fn with_faults(
        domain: &str,
        role: Role,
        local_users: &[&str],
        seed: u64,
        faults: ServiceFaults,
    ) -> Self {
        let mut service = Self::build(domain, role, local_users, seed, faults.clone());
        service.hub.set_faults(super::HubFaults {
            accept_non_participants: faults.accept_ghost_member,
            ..super::HubFaults::default()
        });
        service
            .provider
            .set_reuse_key_packages(faults.reuse_key_material);
        service
    }

    fn build(
        domain: &str,
        role: Role,
        local_users: &[&str],
        seed: u64,
        faults: ServiceFaults,
    ) -> Self {
        let mut hub = Hub::default();
        hub.set_franking(super::franking::FrankingKeys::derive(seed, domain));
        let provider = Provider::default();
        let local_users = local_users
            .iter()
            .map(|u| {
                if u.contains('@') {
                    u.to_string()
                } else {
                    format!("{u}@{domain}")
                }
            })
            .collect();
        // Profile choice 23: the hub's ExternalSender (its hub_sender of GroupInfo answers)
        // for the default suite, from its own generator so that it is known from the start.
        let mut hub_keys = BTreeMap::new();
        if let Ok(suite) = Suite::new(CIPHER_SUITE)
            && let Ok(pair) =
                suite.signature_generate(&mut Drbg::new(seed, &format!("{domain} hub_sender")))
        {
            hub_keys.insert(CIPHER_SUITE.0, (pair.private, pair.public));
        }
        ProviderService {
            domain: domain.to_string(),
            role,
            faults,
            local_users,
            client_managed: BTreeSet::new(),
            key_packages_made: BTreeSet::new(),
            first_request_ms: None,
            seed,
            hub,
            provider,
            pending: BTreeMap::new(),
            next_outbound: 0,
            room_hubs: BTreeMap::new(),
            deliveries: Vec::new(),
            rng: Drbg::new(seed, domain),
            hub_keys,
            next_anonymous_request: 0,
            dropped_outbound: 0,
            consent_requests: BTreeSet::new(),
            consents: BTreeMap::new(),
            abuse_reports: Vec::new(),
            deferred: BTreeMap::new(),
            next_fetch: 0,
            key_package_routes: BTreeMap::new(),
            room_senders: BTreeMap::new(),
        }
    }

    /// This provider's domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The local users' identities (`user@domain`).
    pub fn local_users(&self) -> &[String] {
        &self.local_users
    }

    /// The hub state (rooms), for checks.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The provider state (key packages, duplicates dropped), for checks.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Everything delivered to local clients so far, in order.
    pub fn deliveries(&self) -> &[Delivery] {
        &self.deliveries
    }

    /// Fanouts given up (after a failure, with the `no_fanout_retry` fault).
    pub fn dropped_outbound(&self) -> u64 {
        self.dropped_outbound
    }

    /// Abuse reports received, with their room.
    pub fn abuse_reports(&self) -> &[(String, AbuseReport)] {
        &self.abuse_reports
    }

    /// Pending consent requests for local users: (requester, target, room).
    pub fn consent_requests(&self) -> &BTreeSet<(String, String, Option<String>)> {
        &self.consent_requests
    }

    /// Consent decisions received for local requesters: granted (true) or revoked.
    pub fn consents(&self) -> &BTreeMap<(String, String, Option<String>), bool> {
        &self.consents
    }

    /// Fanouts not yet acknowledged.
    pub fn outbound_pending(&self) -> usize {
        self.pending.len()
    }

    /// The provider a KeyPackage of `room` came from, when this hub passed on the
    /// keyMaterial answer that held it (`key_package_ref`: its KeyPackageRef).
    pub fn key_package_route(&self, room: &str, key_package_ref: &[u8]) -> Option<&str> {
        self.key_package_routes
            .get(&(room.to_string(), key_package_ref.to_vec()))
            .map(String::as_str)
    }

    /// The `/.well-known/mimi-protocol-directory` JSON: an URL template per endpoint.
    pub fn directory(&self, base_url: &str) -> Vec<u8> {
        let base = base_url.trim_end_matches('/');
        let entries: Vec<String> = ENDPOINTS
            .iter()
            .map(|name| {
                let parameter = match *name {
                    "keyMaterial" | "requestConsent" => "targetUser",
                    "updateConsent" => "requesterUser",
                    "identifierQuery" => "domain",
                    "proxyDownload" => "downloadUrl",
                    _ => "roomId",
                };
                format!("  \"{name}\": \"{base}/v1/{name}/{{{parameter}}}\"")
            })
            .collect();
        // Profile choice 23: the hub's ExternalSender (hex) per cipher suite.
        let mut entries = entries;
        if self.role == Role::Hub {
            // Catalog 5.10.3-7: the OHTTP Gateway of the hub's server and its keys.
            entries.push(format!("  \"ohttpGateway\": \"{base}/ohttp-gateway\""));
            entries.push(format!(
                "  \"ohttpKeys\": \"{base}/.well-known/ohttp-gateway\""
            ));
            let senders: Vec<String> = self
                .hub_keys
                .iter()
                .map(|(suite, (_, public))| {
                    let hex: String = self
                        .hub_sender_entry(public)
                        .to_bytes()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!("    \"{suite}\": \"{hex}\"")
                })
                .collect();
            entries.push(format!(
                "  \"{EXTERNAL_SENDERS}\": {{\n{}\n  }}",
                senders.join(",\n")
            ));
        }
        // Profile choice 22: the hub's franking agent (FrankingAgentData, hex) per cipher
        // suite, for room creators to put in the GroupContext.

        if let Some(keys) = self.hub.franking() {
            let agents: Vec<String> = crate::crypto::CipherSuite::ALL
                .iter()
                .filter_map(|suite| {
                    let agent = keys.agent(*suite).ok()?;
                    let hex: String = agent
                        .to_bytes()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    Some(format!("    \"{}\": \"{hex}\"", suite.0))
                })
                .collect();
            entries.push(format!(
                "  \"{FRANKING_AGENTS}\": {{\n{}\n  }}",
                agents.join(",\n")
            ));
        }
        format!("{{\n{}\n}}\n", entries.join(",\n")).into_bytes()
    }

    /// Answers one request. Never panics on input (unless `panic_on_malformed` is on).
    /// A request that needs another provider's answer first (proxyDownload) is answered
    /// 501 here: servers use [`Self::handle_deferred`].
    pub fn handle(&mut self, req: &Request, now_ms: u64) -> Response {
        match self.handle_deferred(req, now_ms) {
            Handled::Answer(response) => response,
            Handled::Fetch(fetch) => {
                self.deferred.remove(&fetch.token);
                text(
                    501,
                    format!(
                        "{}: this server makes no requests for its answers",
                        req.path
                    ),
                )
            }
        }
    }

    /// Answers one request, or says what the server must fetch from another provider
    /// before the answer: give its outcome to [`Self::fetched`].
    pub fn handle_deferred(&mut self, req: &Request, now_ms: u64) -> Handled {
        self.first_request_ms.get_or_insert(now_ms);
        Handled::Answer(match self.route(req, now_ms) {
            Ok(fetch) => return Handled::Fetch(fetch),
            Err(response) => response,
        })
    }

    /// The answer to the request of `token` (a [`Fetch`] of [`Self::handle_deferred`]), now
    /// that the provider it went to answered (`None`: no answer). An unknown token is 500.
    pub fn fetched(&mut self, token: u64, answer: Option<Fetched>, _now_ms: u64) -> Response {
        match self.deferred.remove(&token) {
            Some(Deferred::ProxyDownload(url)) => proxy_download::answer(&url, answer),
            Some(Deferred::KeyMaterial { room, provider }) => {
                self.key_material_passed(&room, &provider, answer)
            }
            None => text(500, format!("no request waits for fetch {token}")),
        }
    }

    /// `Ok`: a fetch to make before the answer; `Err`: the answer.
    fn route(&mut self, req: &Request, now_ms: u64) -> Result<Fetch, Response> {
        let path = req.path.split(['?', '#']).next().unwrap_or_default();
        if path == DIRECTORY_PATH {
            if req.method != "GET" {
                return Err(text(405, format!("{DIRECTORY_PATH}: use GET")));
            }
            return Err(Response {
                status: 200,
                content_type: "application/json".into(),
                body: self.directory(&format!("https://{}", self.domain)),
            });
        }
        let Some(rest) = path.strip_prefix("/v1/") else {
            return Err(text(404, format!("{path}: no such endpoint")));
        };
        let (endpoint, argument) = rest.split_once('/').unwrap_or((rest, ""));
        if !ENDPOINTS.contains(&endpoint) && !client_access::CLIENT_ENDPOINTS.contains(&endpoint) {
            return Err(text(404, format!("{path}: no such endpoint")));
        }
        let Some(argument) = percent_decode(argument).filter(|a| !a.is_empty()) else {
            return Err(text(
                404,
                format!("{path}: the path needs its parameter after /v1/{endpoint}/"),
            ));
        };
        // proxyDownload is a GET (5.10.2), every other endpoint a POST.
        let method = if endpoint == "proxyDownload" {
            "GET"
        } else {
            "POST"
        };
        if req.method != method {
            return Err(text(405, format!("{path}: use {method}")));
        }
        if req.peer.is_none() && !self.faults.skip_authentication {
            return Err(text(401, "a client certificate is required"));
        }
        if endpoint == "proxyDownload" {
            return self.proxy_download(&argument);
        }
        if endpoint == "keyMaterial"
            && let Some(fetch) = self.key_material_via_hub(req, &argument)
        {
            return Ok(fetch);
        }
        let request_id = self.request_id(req);
        let outcome = match endpoint {
            "keyMaterial" => self.key_material(req, &argument),
            "update" => self.update(req, &argument, request_id, now_ms),
            "notify" => self.notify(req, &argument),
            "submitMessage" => self.submit(req, &argument, request_id, now_ms),
            "groupInfo" => self.group_info(req, &argument),
            "createRoom" => self.create_room(req, &argument),
            "requestConsent" => self.request_consent(req, &argument),
            "updateConsent" => self.update_consent(req, &argument),
            "identifierQuery" => self.identifier_query(req, &argument),
            "clientKeyPackage" => self.client_key_package(req, &argument),
            "clientInbox" => self.client_inbox(req, &argument),
            "publishGroupInfo" => self.publish_group_info(req, &argument),
            _ => self.report_abuse(req, &argument),
        };
        Err(outcome.unwrap_or_else(|answer| answer))
    }

    /// `proxyDownload/{downloadUrl}` (hub): the fetch of the asset from a peer provider's
    /// asset server, or the refusal (see [`proxy_download`]). The hub's peers are the other
    /// providers of the participants of the rooms it hosts.
    fn proxy_download(&mut self, download_url: &str) -> Result<Fetch, Response> {
        let own = self.domain.clone();
        let peers: BTreeSet<String> = if self.role == Role::Hub {
            self.hub
                .rooms()
                .flat_map(|room| room.participants().iter())
                .filter_map(|user| provider_of(user))
                .filter(|provider| *provider != own)
                .map(str::to_string)
                .collect()
        } else {
            BTreeSet::new()
        };
        let refused = |refusal: proxy_download::Refusal| text(refusal.status, refusal.reason);
        let url = proxy_download::parse(download_url).map_err(refused)?;
        if !self.faults.open_proxy {
            proxy_download::judge(&url, |host| peers.contains(host)).map_err(refused)?;
        }
        let token = self.next_fetch;
        self.next_fetch += 1;
        let request = Request {
            method: "GET".into(),
            path: url.path.clone(),
            peer: Some(self.domain.clone()),
            headers: vec![("host".into(), url.host.clone())],
            body: Vec::new(),
        };
        let fetch = Fetch {
            token,
            to_domain: url.host.clone(),
            request,
            endpoint: None,
        };
        self.deferred.insert(token, Deferred::ProxyDownload(url));
        Ok(fetch)
    }

    /// What this provider must POST to other providers now: new fanout, and failed
    /// fanout whose backoff has run out. Each is reported back by [`Self::outbound_done`].
    /// A room's notifies to one provider go one at a time, in acceptance order: the next
    /// waits until the one before it is done (profile choice 5.5-16), so a retry never
    /// lets a later message overtake.
    pub fn take_outbound(&mut self) -> Vec<Outbound> {
        let mut out = Vec::new();
        let mut ahead: BTreeSet<(&str, &str)> = BTreeSet::new();
        for (id, pending) in &mut self.pending {
            if !ahead.insert((pending.to_domain.as_str(), pending.request.path.as_str())) {
                continue;
            }
            if pending.in_flight {
                continue;
            }
            if pending.wait_polls > 0 {
                pending.wait_polls -= 1;
                continue;
            }
            pending.in_flight = true;
            let endpoint = if self.faults.hard_coded_endpoints {
                None
            } else {
                Endpoint::of_path(&pending.request.path)
            };
            out.push(Outbound {
                id: *id,
                to_domain: pending.to_domain.clone(),
                request: pending.request.clone(),
                endpoint,
            });
        }
        out
    }

    /// The outcome of an outbound request: 2xx is done; anything else (or `None`,
    /// unreachable) is retried after a backoff, unless the `no_fanout_retry` fault is on.
    pub fn outbound_done(&mut self, id: u64, status: Option<u16>, _now_ms: u64) {
        if status.is_some_and(|s| (200..300).contains(&s)) {
            self.pending.remove(&id);
            return;
        }
        if self.faults.no_fanout_retry {
            if self.pending.remove(&id).is_some() {
                self.dropped_outbound += 1;
            }
            return;
        }
        if let Some(pending) = self.pending.get_mut(&id) {
            pending.in_flight = false;
            pending.failures = pending.failures.saturating_add(1);
            pending.wait_polls = 1u32
                .checked_shl(pending.failures.min(6))
                .unwrap_or(MAX_BACKOFF_POLLS)
                .min(MAX_BACKOFF_POLLS);
        }
    }

    /// The `Idempotency-Key` header as a request id (hashed unless it is a number); a
    /// request without one gets a fresh id (it is never taken for a repeat).
    fn request_id(&mut self, req: &Request) -> u64 {
        let key = req
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
            .map(|(_, value)| value.trim());
        match key {
            Some(value) => value.parse::<u64>().unwrap_or_else(|_| {
                let digest = Sha256::digest(value.as_bytes());
                let mut b = [0u8; 8];
                b.copy_from_slice(&digest[..8]);
                u64::from_be_bytes(b) | (1 << 63)
            }),
            None => {
                self.next_anonymous_request += 1;
                (1 << 62) | self.next_anonymous_request
            }
        }
    }

    fn decode<T: Codec>(&self, body: &[u8], what: &str) -> Result<T, Response> {
        T::from_bytes(body).map_err(|e| {
            if self.faults.panic_on_malformed {
                panic!("{what}: undecodable body: {e}");
            }
            text(400, format!("{what}: {e}"))
        })
    }

    /// The peer must be the provider of `identity` (the user or client the request
    /// speaks for).
    fn authorize(&self, req: &Request, identity: &str, field: &str) -> Result<(), Response> {
        if self.faults.skip_authentication {
            return Ok(());
        }
        let Some(peer) = &req.peer else {
            return Err(text(401, "a client certificate is required"));
        };
        match provider_of(identity) {
            Some(provider) if provider == peer => Ok(()),
            _ => Err(text(
                403,
                format!("{field} {identity} is not a user of {peer}, whose certificate was shown"),
            )),
        }
    }

    fn local_room(&self, room: &str) -> Result<(), Response> {
        if self.role == Role::Hub && self.hub.room(room).is_some() {
            Ok(())
        } else {
            Err(text(404, format!("no room {room} on {}", self.domain)))
        }
    }

    /// `user` or `user@domain` as an identity.
    fn identity(&self, user: &str) -> String {
        if user.contains('@') {
            user.to_string()
        } else {
            format!("{user}@{}", self.domain)
        }
    }

    fn create_room(&mut self, req: &Request, room: &str) -> Result<Response, Response> {
        let request: CreateRoomRequest = self.decode(&req.body, "CreateRoomRequest")?;
        self.authorize(req, &request.creator, "creator")?;
        if self.role != Role::Hub {
            return Err(text(
                404,
                format!("{} is a follower: it hosts no rooms", self.domain),
            ));
        }
        let answer = |code, status, description: String| {
            mimi(status, &CreateRoomResponse { code, description })
        };
        if let Some(extensions) = group_context_extensions(&request.group_info)
            && !self.keeps_hub_sender(&extensions)
        {
            return Ok(answer(
                CreateRoomCode::NotAllowed,
                403,
                format!(
                    "CreateRoomRequest.groupInfo: external_senders lacks the hub's entry \
                     ({HUB_SENDER_KEPT})"
                ),
            ));
        }
        Ok(
            match self
                .hub
                .create_room(room, &request.creator, &request.group_info, request.open)
            {
                Ok(()) => {
                    let senders = group_context_extensions(&request.group_info)
                        .map(|extensions| senders_of(&extensions))
                        .unwrap_or_default();
                    self.room_senders.insert(room.to_string(), senders);
                    answer(CreateRoomCode::Created, 201, String::new())
                }
                Err(e @ HubError::RoomExists(_)) => {
                    answer(CreateRoomCode::RoomExists, 409, e.to_string())
                }
                Err(e @ HubError::Creator(_)) => {
                    answer(CreateRoomCode::NotAllowed, 403, e.to_string())
                }
                Err(e) => answer(
                    CreateRoomCode::InvalidGroupInfo,
                    422,
                    format!("CreateRoomRequest.groupInfo: {e}"),
                ),
            },
        )
    }

    fn update(
        &mut self,
        req: &Request,
        room: &str,
        request_id: u64,
        now_ms: u64,
    ) -> Result<Response, Response> {
        let request: UpdateRequest = self.decode(&req.body, "UpdateRequest")?;
        self.authorize(req, &request.sending_uri, "sendingUri")?;
        self.local_room(room)?;
        let (welcome, group_info, is_commit, more_proposals) = match &request.extra {
            BundleExtra::Commit {
                welcome,
                group_info,
            } => (welcome.clone(), group_info.clone(), true, Vec::new()),
            BundleExtra::Proposal { more_proposals } => (None, None, false, more_proposals.clone()),
        };
        let bundle = HandshakeBundle {
            message: request.proposal_or_commit.clone(),
            welcome,
            participant_changes: request.participant_changes.clone(),
        };
        if is_commit
            && let Some(reason) = self
                .drops_hub_sender(&bundle.message)
                .or_else(|| self.misrouted_key_package(room, &bundle.message))
                .or_else(|| self.keeps_departed_follower(room, &bundle))
        {
            let refused = UpdateResponse::NotAllowed { reason };
            return Ok(mimi(403, &UpdateRoomResponse::from(&refused)));
        }
        let client = request.sending_uri.as_str();
        let (full, mut fanout) = self
            .hub
            .update_with_more(room, client, request_id, &bundle, &more_proposals, now_ms)
            .map_err(|e| text(404, e.to_string()))?;
        let mut answer = full.response.clone();
        if let UpdateResponse::WrongEpoch { current_epoch } = answer
            && is_commit
            && self.faults.accept_two_commits_per_epoch
            && let Some(epoch) = message_epoch(&bundle.message).filter(|e| *e < current_epoch)
            && let Some(extra) = self.hub.accept_refused(
                room,
                "two-commits-per-epoch",
                client,
                &RoomEvent::Handshake {
                    epoch,
                    message: bundle.message.as_slice().into(),
                },
                now_ms,
            )
        {
            answer = UpdateResponse::Success {
                accepted_at: now_ms,
            };
            fanout.extend(extra);
        }
        if is_commit
            && matches!(answer, UpdateResponse::Success { .. })
            && let Some(extensions) = committed_extensions(&bundle.message)
        {
            self.room_senders
                .insert(room.to_string(), senders_of(&extensions));
        }
        if matches!(answer, UpdateResponse::Success { .. })
            && let Some(group_info) = group_info
            && let Some(epoch) = self.hub.room(room).map(|r| r.epoch())
        {
            self.hub.publish_group_info(room, epoch, group_info);
        }
        self.send_fanout(room, fanout);
        let status = match answer {
            UpdateResponse::Success { .. } => 200,
            UpdateResponse::WrongEpoch { .. } => 409,
            UpdateResponse::NotAllowed { .. } => 403,
            UpdateResponse::InvalidProposal { .. } => 422,
        };
        let response = if answer == full.response {
            UpdateRoomResponse::from(&full)
        } else {
            UpdateRoomResponse::from(&answer)
        };
        Ok(mimi(status, &response))
    }

    fn submit(
        &mut self,
        req: &Request,
        room: &str,
        request_id: u64,
        now_ms: u64,
    ) -> Result<Response, Response> {
        let request: SubmitMessageRequest = self.decode(&req.body, "SubmitMessageRequest")?;
        self.authorize(req, &request.sending_uri, "sendingUri")?;
        self.local_room(room)?;
        let client = request.sending_uri.as_str();
        let (mut answer, mut fanout) = self
            .hub
            .submit(room, client, request_id, &request.app_message, now_ms)
            .map_err(|e| text(404, e.to_string()))?;
        if let SubmitResponse::EpochTooOld { .. } = answer
            && self.faults.accept_stale_application
            && let Some(epoch) = message_epoch(&request.app_message)
            && let Some(extra) = self.hub.accept_refused(
                room,
                "stale-application",
                client,
                &RoomEvent::Application {
                    epoch,
                    message: request.app_message.as_slice().into(),
                },
                now_ms,
            )
        {
            answer = SubmitResponse::Accepted {
                accepted_at: now_ms,
                frank: None,
            };
            fanout.extend(extra);
        }
        if self.faults.no_franking || self.faults.frank_other_suite {
            let alter = |frank: &mut Option<wire::Frank>| {
                if self.faults.no_franking {
                    *frank = None;
                } else if let Some(frank) = frank {
                    frank.franking_signature_ciphersuite = CipherSuite(3);
                }
            };
            if let SubmitResponse::Accepted { frank, .. } = &mut answer {
                alter(frank);
            }
            for (_, one) in &mut fanout {
                alter(&mut one.frank);
            }
        }
        self.send_fanout(room, fanout);
        let status = match answer {
            SubmitResponse::Accepted { .. } => 200,
            SubmitResponse::NotAllowed { .. } => 403,
            SubmitResponse::EpochTooOld { .. } => 409,
        };
        Ok(mimi(status, &SubmitMessageResponse::from(&answer)))
    }

    fn group_info(&mut self, req: &Request, room: &str) -> Result<Response, Response> {
        let request: GroupInfoRequest = self.decode(&req.body, "GroupInfoRequest")?;
        let identity = match &request.requesting_credential {
            Credential::Basic { identity } => String::from_utf8(identity.0.clone()).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            text(
                400,
                "GroupInfoRequest.requestingCredential: expected a basic credential with a UTF-8 identity",
            )
        })?;
        self.authorize(req, &identity, "requestingCredential")?;
        let room_id = Bytes(room.as_bytes().to_vec());
        let refuse = |status, code| {
            mimi(
                status,
                &GroupInfoResponse {
                    room_id: room_id.clone(),
                    status: code,
                },
            )
        };
        let suite = Suite::new(request.cipher_suite).map_err(|e| {
            text(
                400,
                format!(
                    "GroupInfoRequest.cipher_suite {}: {e}",
                    request.cipher_suite.0
                ),
            )
        })?;
        if suite
            .verify_with_label(
                &request.requesting_signature_key.0,
                b"GroupInfoRequestTBS",
                &request.tbs_bytes(),
                &request.signature,
            )
            .is_err()
        {
            return Ok(refuse(403, GroupInfoStatus::NotAuthorized));
        }
        let Some(found) = self.hub.room(room).filter(|_| self.role == Role::Hub) else {
            return Ok(refuse(404, GroupInfoStatus::NoSuchRoom));
        };
        if !found.participants().contains(&identity) && !found.is_open() {
            return Ok(refuse(403, GroupInfoStatus::NotAuthorized));
        }
        let Some(group_info) = found.group_info().map(<[u8]>::to_vec) else {
            return Err(text(
                409,
                format!(
                    "room {room}: no GroupInfo of epoch {} has been published yet",
                    found.epoch()
                ),
            ));
        };
        let group_info = match MlsMessage::from_bytes(&group_info).map(|m| m.body) {
            Ok(MlsMessageBody::GroupInfo(info)) => info.to_bytes(),
            _ => {
                return Err(text(
                    500,
                    format!("room {room}: the stored GroupInfo does not decode"),
                ));
            }
        };
        let tbe = GroupInfoRatchetTreeTbe {
            group_info,
            pending_proposals: Vec::new(),
        };
        let (kem_output, ciphertext) = suite
            .encrypt_with_label(
                &request.group_info_public_key.0,
                GROUP_INFO_LABEL,
                room.as_bytes(),
                &tbe.to_bytes(),
                &mut self.rng,
            )
            .map_err(|e| text(400, format!("GroupInfoRequest.groupInfoPublicKey: {e}")))?;
        let (private, public) = match self.hub_keys.get(&request.cipher_suite.0) {
            Some(pair) => pair.clone(),
            None => {
                let pair = suite
                    .signature_generate(&mut self.rng)
                    .map_err(|e| text(500, format!("hub signature key: {e}")))?;
                let pair = (pair.private, pair.public);
                self.hub_keys.insert(request.cipher_suite.0, pair.clone());
                pair
            }
        };
        let mut success = GroupInfoSuccess {
            cipher_suite: request.cipher_suite,
            hub_sender: self.hub_sender_entry(&public),
            encrypted_groupinfo_and_tree: HpkeCiphertext {
                kem_output: Bytes(kem_output),
                ciphertext: Bytes(ciphertext),
            },
            signature: Bytes::default(),
        };
        let tbs = GroupInfoResponse::tbs_bytes(room.as_bytes(), &success);
        let private = if self.faults.mismatched_hub_sender {
            suite
                .signature_generate(&mut self.rng)
                .map_err(|e| text(500, format!("hub signature key: {e}")))?
                .private
        } else {
            private
        };
        success.signature = Bytes(
            suite
                .sign_with_label(&private, b"GroupInfoResponseTBS", &tbs)
                .map_err(|e| text(500, format!("hub signature: {e}")))?,
        );
        Ok(refuse(200, GroupInfoStatus::Success(success)))
    }

    fn notify(&mut self, req: &Request, room: &str) -> Result<Response, Response> {
        let body: NotifyBody = self.decode(&req.body, "FanoutMessage")?;
        for message in &body.0 {
            if let Some(stranger) = message
                .recipients
                .iter()
                .find(|r| provider_of(r) != Some(self.domain.as_str()))
            {
                return Err(text(
                    400,
                    format!(
                        "FanoutMessage.recipients: {stranger} is not a client of {}",
                        self.domain
                    ),
                ));
            }
        }
        if !self.faults.skip_authentication {
            let Some(peer) = &req.peer else {
                return Err(text(401, "a client certificate is required"));
            };
            let hub = self
                .room_hubs
                .entry(room.to_string())
                .or_insert_with(|| peer.clone());
            if hub != peer {
                return Err(text(
                    403,
                    format!("room {room} is hosted by {hub}, not by {peer}"),
                ));
            }
        }
        for message in &body.0 {
            let delivered = self.provider.receive_fanout(&message.to_fanout(room));
            self.deliveries.extend(delivered);
        }
        Ok(Response {
            status: 201,
            content_type: TEXT.into(),
            body: Vec::new(),
        })
    }

    fn empty(status: u16) -> Response {
        Response {
            status,
            content_type: TEXT.into(),
            body: Vec::new(),
        }
    }

    /// `requestConsent/{targetUser}`: a `request` or `cancel` from the requester's
    /// provider for a local target: 201, or 404 for an unknown target.
    fn request_consent(&mut self, req: &Request, target: &str) -> Result<Response, Response> {
        let entry: ConsentEntry = self.decode(&req.body, "ConsentEntry")?;
        if !matches!(
            entry.operation,
            ConsentOperation::Request | ConsentOperation::Cancel
        ) {
            return Err(text(
                400,
                "ConsentEntry.consentOperation: requestConsent takes request or cancel",
            ));
        }
        let target = self.identity(target);
        if self.identity(&entry.target_uri) != target {
            return Err(text(
                400,
                format!(
                    "ConsentEntry.targetUri {} differs from the path's {target}",
                    entry.target_uri
                ),
            ));
        }
        self.authorize(req, &entry.requester_uri, "requesterUri")?;
        if !self.local_users.contains(&target) {
            return self.refuse_or_relay(req, &target);
        }
        let key = (entry.requester_uri, target, entry.room_id);
        if entry.operation == ConsentOperation::Request {
            self.consent_requests.insert(key);
        } else {
            self.consent_requests.remove(&key);
        }
        Ok(Self::empty(201))
    }

    /// `updateConsent/{requesterUser}`: a `grant` or `revoke` from the target's provider
    /// for a local requester: 201, or 404 for an unknown requester.
    fn update_consent(&mut self, req: &Request, requester: &str) -> Result<Response, Response> {
        let entry: ConsentEntry = self.decode(&req.body, "ConsentEntry")?;
        if !matches!(
            entry.operation,
            ConsentOperation::Grant | ConsentOperation::Revoke
        ) {
            return Err(text(
                400,
                "ConsentEntry.consentOperation: updateConsent takes grant or revoke",
            ));
        }
        let requester = self.identity(requester);
        if self.identity(&entry.requester_uri) != requester {
            return Err(text(
                400,
                format!(
                    "ConsentEntry.requesterUri {} differs from the path's {requester}",
                    entry.requester_uri
                ),
            ));
        }
        self.authorize(req, &entry.target_uri, "targetUri")?;
        if !self.local_users.contains(&requester) {
            return self.refuse_or_relay(req, &requester);
        }
        self.consents.insert(
            (requester, entry.target_uri, entry.room_id),
            entry.operation == ConsentOperation::Grant,
        );
        Ok(Self::empty(201))
    }

    /// `identifierQuery/{domain}`: `handle` (the whole `user@domain`) and `nick` (the
    /// user part) match local users exactly; other search types are `unsupportedField`.
    fn identifier_query(&mut self, req: &Request, domain: &str) -> Result<Response, Response> {
        let request: IdentifierRequest = self.decode(&req.body, "IdentifierRequest")?;
        if domain != self.domain && self.faults.relay_through_hub && self.role == Role::Hub {
            self.relay(req, domain);
            return Ok(Self::empty(201));
        }
        if domain != self.domain {
            return Err(text(
                404,
                format!("{domain} is not a domain of {}", self.domain),
            ));
        }
        if request.query_elements.is_empty() {
            return Err(text(400, "IdentifierRequest.query_elements: empty"));
        }
        let answer = |status, response_code, uris| {
            mimi(
                status,
                &IdentifierResponse {
                    response_code,
                    uris,
                    id_response_extensions: wire::AppDataDictionary::default(),
                },
            )
        };
        if request
            .query_elements
            .iter()
            .any(|q| !matches!(q.search_type, 1 | 2))
        {
            return Ok(answer(422, 4, Vec::new()));
        }
        let found: Vec<String> = self
            .local_users
            .iter()
            .filter(|user| {
                request.query_elements.iter().all(|q| match q.search_type {
                    wire::SEARCH_HANDLE => **user == q.search_value,
                    _ => user.split('@').next() == Some(q.search_value.as_str()),
                })
            })
            .cloned()
            .collect();
        Ok(if found.is_empty() {
            answer(404, 1, found)
        } else {
            answer(200, 0, found)
        })
    }

    /// A consent operation for `user`, who is not a local user: 404. Consent travels
    /// straight between the two users' providers, never through a hub
    /// (MIMI-PROTOCOL-8-1), so nothing is passed on, unless the `relay_through_hub` fault
    /// is on.
    fn refuse_or_relay(&mut self, req: &Request, user: &str) -> Result<Response, Response> {
        if self.faults.relay_through_hub && self.role == Role::Hub {
            let domain = user.rsplit_once('@').map_or(user, |(_, d)| d).to_string();
            self.relay(req, &domain);
            return Ok(Self::empty(201));
        }
        Err(text(404, format!("no user {user} on {}", self.domain)))
    }

    /// Queues `req` unchanged to `domain` (the `relay_through_hub` fault only).
    fn relay(&mut self, req: &Request, domain: &str) {
        let id = self.next_outbound;
        self.next_outbound += 1;
        let mut request = req.clone();
        request.peer = Some(self.domain.clone());
        request.headers = vec![
            ("host".into(), domain.to_string()),
            ("from".into(), format!("mimi@{}", self.domain)),
            ("content-type".into(), wire::CONTENT_TYPE.into()),
        ];
        self.pending.insert(
            id,
            Pending {
                to_domain: domain.to_string(),
                request,
                in_flight: false,
                failures: 0,
                wait_polls: 0,
            },
        );
    }

    /// `reportAbuse/{roomId}`: kept for the room's hub; 201 (no body), 404 for a room
    /// this hub does not host, 422 (no body) when a reported message's frank does not
    /// validate (MIMI-PROTOCOL-5.9-3, 5.9-4; profile choice 22).
    fn report_abuse(&mut self, req: &Request, room: &str) -> Result<Response, Response> {
        let report: AbuseReport = self.decode(&req.body, "AbuseReport")?;
        if !report.reporting_user.is_empty() {
            self.authorize(req, &report.reporting_user, "reportingUser")?;
        }
        self.local_room(room)?;
        if let Some(keys) = self.hub.franking()
            && !self.faults.accept_unverified_reports
            && report
                .messages
                .iter()
                .any(|message| keys.validate_report(room, message).is_err())
        {
            return Ok(Self::empty(422));
        }
        self.abuse_reports.push((room.to_string(), report));
        Ok(Self::empty(201))
    }

    /// Queues the hub's fanout: to this provider's own clients at once, to others as
    /// POST /v1/notify/{room}.
    fn send_fanout(&mut self, room: &str, fanout: Vec<(String, Fanout)>) {
        for (domain, fanout) in fanout {
            if domain == self.domain {
                let delivered = self.provider.receive_fanout(&fanout);
                self.deliveries.extend(delivered);
                continue;
            }
            let body = NotifyBody(vec![FanoutMessage::from_fanout(&fanout)]).to_bytes();
            let id = self.next_outbound;
            self.next_outbound += 1;
            let request = Request {
                method: "POST".into(),
                path: format!("/v1/notify/{}", percent_encode(room)),
                peer: Some(self.domain.clone()),
                // MIMI-PROTOCOL-4.1-1 to 4.1-3: the target provider in Host, the source
                // provider in From as the addr-spec mimi@<domain>.
                headers: vec![
                    ("host".into(), domain.clone()),
                    ("from".into(), format!("mimi@{}", self.domain)),
                    ("content-type".into(), wire::CONTENT_TYPE.into()),
                    (
                        "idempotency-key".into(),
                        format!("{}-{}-{}", percent_encode(room), domain, fanout.seq),
                    ),
                ],
                body,
            };
            self.pending.insert(
                id,
                Pending {
                    to_domain: domain,
                    request,
                    in_flight: false,
                    failures: 0,
                    wait_polls: 0,
                },
            );
        }
    }
}

#[path = "client_access.rs"]
pub mod client_access;
mod key_material;
mod senders;

use senders::{committed_extensions, senders_of};

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
