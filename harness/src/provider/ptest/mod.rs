//! `concord provider-test`: the MIMI provider conformance checks, run against a provider
//! server over HTTPS with Concord's own follower providers and reference clients on the other
//! side.
//!
//! ```text
//!  TLS folder ──> peers.toml: f1.example, f2.example = Concord's followers (loopback servers)
//!  for each check (in CHECKS order, those of --role):
//!      reference clients / raw requests ──HTTPS (f1 or f2's certificate)──> provider under test
//!      provider under test ──/notify──> Concord's followers (instrumented: log, injected 503)
//!      verdict line; after a failure to answer: is it still up? (down: the check names the
//!      request that did it, later checks are skipped)
//!  ──> report.json, junit.xml, summary.md, index.html, closing line, exit code
//! ```
//!
//! Exit codes (DESIGN.md): 0 every check passed or was skipped, 1 a check failed, 2 bad usage
//! or an unreadable TLS folder, 3 the provider under test crashed, hung or could not be reached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concord_reports::{CaseResult, Report, RunInfo};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use super::https::{self, BaseUrl, CallError, HttpResponse};
use super::{resolve, rooms, server, tls, users};
use crate::exit;

/// The `source` of every case in the report.
pub const SOURCE: &str = "provider";

mod registry;
pub use registry::{CHECKS, CheckInfo, TestRole, check, citations};

/// `concord provider-test`.
#[derive(clap::Args, Debug, Clone)]
pub struct ProviderTestArgs {
    /// The provider under test: https://HOST:PORT.
    #[arg(long)]
    pub provider: String,
    /// The role it plays: hub or follower.
    #[arg(long, default_value = "hub")]
    pub role: String,
    /// A `concord certs` folder holding the CA the provider under test trusts and the
    /// certificates of f1.example and f2.example (Concord's followers); peers.toml there is
    /// rewritten with their addresses. Required.
    #[arg(long)]
    pub tls_dir: Option<PathBuf>,
    /// The domain of the provider under test (default: hub.example for a hub,
    /// follower.example for a follower).
    #[arg(long)]
    pub domain: Option<String>,
    /// Folder for index.html, report.json, junit.xml, summary.md (and failing bodies).
    #[arg(long, default_value = "concord-provider")]
    pub out: PathBuf,
    /// Seed of the fuzzed bodies and the reference clients' randomness.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of fuzzed bodies of the malformed-bodies check.
    #[arg(long, default_value_t = 300)]
    pub fuzz: usize,
    /// Run only these checks (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Seconds to wait for each answer of the provider under test (longer: a hang).
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Scenario files (or folders of them) to play live with every room on the provider
    /// under test (role hub; default: ./scenarios when it exists). Scale scenarios and those
    /// needing a simulated misbehaving provider are left out.
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Users of the provider under test to ask key material and consent of (comma-separated;
    /// a bare name gets the provider's domain).
    #[arg(long, value_delimiter = ',', default_value = "alice,bob")]
    pub users: Vec<String>,
    /// Measure instead of checking: requests/s and p50/p99 latency of the provider under
    /// test at each --load-concurrency (GET the directory and POST identifierQuery as
    /// f1.example, in turn, over kept-alive connections); prints one line per level and
    /// writes load.json into --out. Exit code 1 if a request failed (5xx or no answer).
    #[arg(long)]
    pub load: bool,
    /// Concurrency levels of --load (comma-separated, 1 to 1024).
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub load_concurrency: Vec<usize>,
    /// Seconds per level of --load (1 to 600).
    #[arg(long, default_value_t = 5)]
    pub load_seconds: u64,
    /// Sign the checks' report: write attestation.json into --out, an in-toto statement
    /// over report.json's SHA-256 in a DSSE envelope, signed with this Ed25519 private key
    /// (`concord keygen`; `concord verify` checks it). Not with --load.
    #[arg(long, value_name = "KEY")]
    pub attest: Option<PathBuf>,
}

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass(String),
    Fail(String),
    Skip(String),
    /// The provider under test crashed, hung or could not be reached during the check.
    Down(String),
}

/// The verdict of one check, as printed and reported.
#[derive(Debug, Clone)]
pub struct CheckVerdict {
    pub name: &'static str,
    pub outcome: Outcome,
    pub seconds: f64,
}

/// Everything the checks share.
pub struct Ctx {
    pub target: BaseUrl,
    pub role: TestRole,
    pub domain: String,
    pub tls_dir: PathBuf,
    pub out: PathBuf,
    pub seed: u64,
    pub fuzz: usize,
    pub timeout: Duration,
    rng: ChaCha8Rng,
    configs: BTreeMap<String, Arc<rustls::ClientConfig>>,
    anonymous: Arc<rustls::ClientConfig>,
    next_request: u64,
    /// Concord's followers, while they run.
    pub followers: Vec<Follower>,
    /// Users of the provider under test whose key material and consent are asked for.
    pub users: Vec<String>,
    /// Distinguishes this run's rooms from earlier runs' on the same server.
    run_tag: String,
    next_member: u64,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("target", &self.target)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Concord's own providers in a run.
pub const FOLLOWERS: [&str; 2] = ["f1.example", "f2.example"];

/// Where Concord's followers serve their endpoints, as their directories say (the plain
/// `/v1/...` paths are served too): a provider under test that finds them in the directory
/// uses these (MIMI-PROTOCOL-5.1-2).
pub const FOLLOWER_PATH_PREFIX: &str = "/mimi-peer";

impl Ctx {
    fn config(&self, as_domain: Option<&str>) -> Arc<rustls::ClientConfig> {
        as_domain
            .and_then(|d| self.configs.get(d).cloned())
            .unwrap_or_else(|| self.anonymous.clone())
    }

    /// One request to the provider under test, presenting `as_domain`'s certificate
    /// (`None`: no certificate).
    pub async fn call(
        &mut self,
        as_domain: Option<&str>,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<HttpResponse, CallError> {
        let headers = vec![
            ("idempotency-key".to_string(), self.fresh_key()),
            ("content-type".to_string(), super::CONTENT_TYPE.to_string()),
        ];
        self.call_with(as_domain, method, path, &headers, body)
            .await
    }

    /// One request with exactly `headers` (lower-case names).
    async fn call_with(
        &self,
        as_domain: Option<&str>,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<HttpResponse, CallError> {
        https::call(
            self.config(as_domain),
            &self.target,
            method,
            path,
            headers,
            body,
            self.timeout,
        )
        .await
    }

    /// One request with a body of `content_type` (not a MIMI body).
    pub async fn call_typed(
        &mut self,
        as_domain: Option<&str>,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<HttpResponse, CallError> {
        let headers = vec![("content-type".to_string(), content_type.to_string())];
        self.call_with(as_domain, method, path, &headers, body)
            .await
    }

    /// One request with a chosen Idempotency-Key (a retransmission repeats it).
    pub async fn call_with_key(
        &mut self,
        as_domain: Option<&str>,
        path: &str,
        body: Vec<u8>,
        key: &str,
    ) -> Result<HttpResponse, CallError> {
        let headers = vec![
            ("idempotency-key".to_string(), key.to_string()),
            ("content-type".to_string(), super::CONTENT_TYPE.to_string()),
        ];
        self.call_with(as_domain, "POST", path, &headers, body)
            .await
    }

    /// A fresh Idempotency-Key.
    pub fn fresh_key(&mut self) -> String {
        self.next_request += 1;
        format!("{}-{}-{}", self.run_tag, self.seed, self.next_request)
    }

    /// A room ID of this run for `check`.
    pub fn room_name(&self, check: &str) -> String {
        format!("concord-{check}-{}", self.run_tag)
    }

    /// The seed of the next reference client.
    pub fn member_seed(&mut self) -> u64 {
        self.next_member += 1;
        self.seed
            .wrapping_mul(1_000_003)
            .wrapping_add(self.next_member)
    }

    /// Every request one of Concord's followers answered so far (empty for another domain).
    pub fn follower_log(&self, domain: &str) -> Vec<server::Observed> {
        self.followers
            .iter()
            .find(|f| f.domain == domain)
            .map(|f| f.instrument.log())
            .unwrap_or_default()
    }

    /// The base URL of one of Concord's followers (its server, not any proxy).
    pub fn follower_url(&self, domain: &str) -> Option<String> {
        self.followers
            .iter()
            .find(|f| f.domain == domain)
            .map(|f| f.server.url())
    }

    /// Makes one of Concord's followers answer its next `n` notify requests 503.
    pub fn fail_next_notifies(&self, domain: &str, n: u32) {
        if let Some(f) = self.followers.iter().find(|f| f.domain == domain) {
            f.instrument.fail_next_notifies(n);
        }
    }

    /// Whether the provider under test still answers (its directory document).
    pub async fn alive(&mut self) -> bool {
        https::call(
            self.anonymous.clone(),
            &self.target,
            "GET",
            server::DIRECTORY_PATH,
            &[],
            Vec::new(),
            self.timeout,
        )
        .await
        .is_ok()
    }

    fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }
}

/// The endpoints of the profile (name, path with a placeholder parameter), for the checks
/// that sweep all of them.
pub fn endpoints(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let user = format!("alice@{}", ctx.domain);
    let room = "concord-provider-test";
    vec![
        ("keyMaterial", format!("/v1/keyMaterial/{user}")),
        ("update", format!("/v1/update/{room}")),
        ("notify", format!("/v1/notify/{room}")),
        ("submitMessage", format!("/v1/submitMessage/{room}")),
        ("groupInfo", format!("/v1/groupInfo/{room}")),
        ("requestConsent", format!("/v1/requestConsent/{user}")),
        ("updateConsent", format!("/v1/updateConsent/{user}")),
        (
            "identifierQuery",
            format!("/v1/identifierQuery/{}", ctx.domain),
        ),
        ("reportAbuse", format!("/v1/reportAbuse/{room}")),
        ("createRoom", format!("/v1/createRoom/{room}")),
    ]
}

/// The directory keys the profile requires (MIMI-PROTOCOL-5.1-3).
pub const DIRECTORY_KEYS: &[&str] = &[
    "keyMaterial",
    "update",
    "notify",
    "submitMessage",
    "groupInfo",
    "requestConsent",
    "updateConsent",
    "identifierQuery",
    "reportAbuse",
    "proxyDownload",
];

async fn check_directory(ctx: &mut Ctx) -> Outcome {
    let response = match https::call(
        ctx.anonymous.clone(),
        &ctx.target,
        "GET",
        server::DIRECTORY_PATH,
        &[],
        Vec::new(),
        ctx.timeout,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return Outcome::Down(format!("GET {}: {e}", server::DIRECTORY_PATH)),
    };
    if response.status != 200 {
        return Outcome::Fail(format!(
            "GET {} answered {} (expected 200)",
            server::DIRECTORY_PATH,
            response.status
        ));
    }
    let value: serde_json::Value = match serde_json::from_slice(&response.body) {
        Ok(v) => v,
        Err(e) => return Outcome::Fail(format!("the directory is not JSON: {e}")),
    };
    let Some(object) = value.as_object() else {
        return Outcome::Fail("the directory is not a JSON object".into());
    };
    let missing: Vec<&str> = DIRECTORY_KEYS
        .iter()
        .copied()
        .filter(|k| {
            !object
                .get(*k)
                .is_some_and(|v| v.as_str().is_some_and(|s| s.starts_with("https://")))
        })
        .collect();
    if !missing.is_empty() {
        return Outcome::Fail(format!(
            "the directory lacks an https URL template for: {}",
            missing.join(", ")
        ));
    }
    Outcome::Pass(format!("{} endpoints listed", object.len()))
}

async fn check_auth_no_certificate(ctx: &mut Ctx) -> Outcome {
    let mut accepted = Vec::new();
    let mut refused_in_tls = 0;
    let endpoints = endpoints(ctx);
    for (name, path) in &endpoints {
        match ctx.call(None, "POST", path, Vec::new()).await {
            Ok(r) if r.status == 401 || r.status == 403 => {}
            Ok(r) => accepted.push(format!("{name} answered {}", r.status)),
            Err(CallError::Tls(..)) | Err(CallError::Http(..)) => {
                if !ctx.alive().await {
                    return Outcome::Down(format!(
                        "POST {path} without a client certificate: the server stopped answering"
                    ));
                }
                refused_in_tls += 1;
            }
            Err(e) => return Outcome::Down(format!("POST {path}: {e}")),
        }
    }
    if accepted.is_empty() {
        Outcome::Pass(format!(
            "{} endpoints refused an anonymous request ({refused_in_tls} in the TLS handshake)",
            endpoints.len()
        ))
    } else {
        Outcome::Fail(format!(
            "without a client certificate (expected 401): {}",
            accepted.join("; ")
        ))
    }
}

/// A seeded malformed body: empty, random bytes, a huge length prefix, or (given seeds)
/// a truncated or bit-flipped valid body.
fn fuzz_body(rng: &mut ChaCha8Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let kind = rng.next_u32() % 6;
    match kind {
        0 => Vec::new(),
        1 | 2 => {
            let len = (rng.next_u32() % 300) as usize + 1;
            let mut body = vec![0u8; len];
            rng.fill_bytes(&mut body);
            body
        }
        3 => {
            // A plausible header (protocol mls10 = 1) then a length prefix far past the end.
            let mut body = vec![0x00, 0x01, 0xff, 0xff, 0xff, 0xff];
            let tail = (rng.next_u32() % 16) as usize;
            body.extend((0..tail).map(|_| (rng.next_u32() & 0xff) as u8));
            body
        }
        _ if seeds.is_empty() => {
            let len = (rng.next_u32() % 64) as usize;
            vec![(rng.next_u32() & 0xff) as u8; len]
        }
        4 => {
            let seed = &seeds[(rng.next_u32() as usize) % seeds.len()];
            let cut = if seed.is_empty() {
                0
            } else {
                (rng.next_u32() as usize) % seed.len()
            };
            seed[..cut].to_vec()
        }
        _ => {
            let mut body = seeds[(rng.next_u32() as usize) % seeds.len()].clone();
            if body.is_empty() {
                body.push(0xff);
            }
            let flips = 1 + rng.next_u32() % 4;
            for _ in 0..flips {
                let at = (rng.next_u32() as usize) % body.len();
                body[at] ^= 1 << (rng.next_u32() % 8);
            }
            // A flipped copy might be valid by chance; a trailing byte never is (strict decoding).
            body.push((rng.next_u32() & 0xff) as u8);
            body
        }
    }
}

fn hex_preview(body: &[u8]) -> String {
    let shown: String = body.iter().take(32).map(|b| format!("{b:02x}")).collect();
    if body.len() > 32 {
        format!("{shown}... ({} bytes)", body.len())
    } else {
        format!("{shown} ({} bytes)", body.len())
    }
}

/// Bodies of valid requests the fuzzer mutates (empty until a check recorded some).
pub type SeedBodies = BTreeMap<&'static str, Vec<Vec<u8>>>;

async fn check_malformed(ctx: &mut Ctx, seeds: &SeedBodies) -> Outcome {
    let endpoints = endpoints(ctx);
    let as_domain = FOLLOWERS[0].to_string();
    let mut wrong = Vec::new();
    let dir = ctx.out.join("malformed");
    for n in 0..ctx.fuzz {
        let (name, path) = endpoints[n % endpoints.len()].clone();
        let endpoint_seeds = seeds.get(name).map(Vec::as_slice).unwrap_or(&[]);
        let body = fuzz_body(ctx.rng(), endpoint_seeds);
        let saved = dir.join(format!("{n:04}-{name}.bin"));
        let label = format!(
            "body #{n} POST {path} {} (saved as {})",
            hex_preview(&body),
            saved.display()
        );
        match ctx
            .call(Some(&as_domain), "POST", &path, body.clone())
            .await
        {
            Ok(r) if (400..500).contains(&r.status) => {}
            Ok(r) => {
                let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&saved, &body));
                wrong.push(format!("{label}: answered {} (expected 4xx)", r.status));
            }
            Err(e) => {
                let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&saved, &body));
                let hang = e.is_timeout();
                let alive = ctx.alive().await;
                return Outcome::Down(format!(
                    "{label}: {}{e}",
                    match (hang, alive) {
                        (true, _) => "the server hung: ",
                        (false, false) => "the server crashed: ",
                        (false, true) => "the connection failed (server still up): ",
                    }
                ));
            }
        }
    }
    if !ctx.alive().await {
        return Outcome::Down(format!(
            "the server stopped answering after {} fuzzed bodies",
            ctx.fuzz
        ));
    }
    if wrong.is_empty() {
        Outcome::Pass(format!(
            "{} fuzzed bodies over {} endpoints, each answered 4xx (seed {})",
            ctx.fuzz,
            endpoints.len(),
            ctx.seed
        ))
    } else {
        let n = wrong.len();
        wrong.truncate(5);
        Outcome::Fail(format!(
            "{n} fuzzed bodies not answered 4xx: {}",
            wrong.join("; ")
        ))
    }
}

async fn run_one(ctx: &mut Ctx, name: &str, seeds: &mut SeedBodies) -> Outcome {
    match name {
        "directory" => check_directory(ctx).await,
        "auth-no-certificate" => check_auth_no_certificate(ctx).await,
        "malformed-bodies" => {
            for (endpoint, body) in rooms::seed_bodies(ctx.seed) {
                seeds.entry(endpoint).or_default().push(body);
            }
            check_malformed(ctx, seeds).await
        }
        "auth-wrong-provider" => users::check_auth_wrong_provider(ctx).await,
        "key-material" => users::check_key_material(ctx).await,
        "consent" => users::check_consent(ctx).await,
        "auth-untrusted-certificate" => super::queries::check_auth_untrusted_certificate(ctx).await,
        "key-material-suites" => super::queries::check_key_material_suites(ctx).await,
        "identifier-query" => super::queries::check_identifier_query(ctx).await,
        "consent-update" => super::queries::check_consent_update(ctx).await,
        "room-fanout" => rooms::check_room_fanout(ctx).await,
        "commit-race" => rooms::check_commit_race(ctx).await,
        "ghost-member" => rooms::check_ghost_member(ctx).await,
        "stale-application" => rooms::check_stale_application(ctx).await,
        "submit-refusals" => super::refusals::check_submit_refusals(ctx).await,
        "participant-removal" => super::refusals::check_participant_removal(ctx).await,
        "abuse-report" => super::refusals::check_abuse_report(ctx).await,
        "franking" => super::franking::check_franking(ctx).await,
        "frank-verification" => super::franking::check_frank_verification(ctx).await,
        "invalid-proposal-refs" => super::proposals::check_invalid_proposal_refs(ctx).await,
        "proposal-bundle" => super::proposals::check_proposal_bundle(ctx).await,
        "participant-changes" => super::proposals::check_participant_changes(ctx).await,
        "notify-headers" => super::proposals::check_notify_headers(ctx).await,
        "key-material-signature" => super::proposals::check_key_material_signature(ctx).await,
        "external-join-authorization" => {
            super::refusals::check_external_join_authorization(ctx).await
        }
        "retransmission" => rooms::check_retransmission(ctx).await,
        "fanout-retry" => rooms::check_fanout_retry(ctx).await,
        "group-info" => rooms::check_group_info(ctx).await,
        "group-info-verification" => super::group_info::check_group_info_verification(ctx).await,
        "no-hub-relay" => super::relay::check_no_hub_relay(ctx).await,
        "proxy-download" => super::assets::check_proxy_download(ctx).await,
        "ohttp-gateway" => super::assets::check_ohttp_gateway(ctx).await,
        "key-material-via-hub" => super::relay::check_key_material_via_hub(ctx).await,
        "follower-external-sender" => {
            super::external_senders::check_follower_external_sender(ctx).await
        }
        "directory-endpoints" => super::relay::check_directory_endpoints(ctx).await,
        "hub-external-sender" => super::external_senders::check_hub_external_sender(ctx).await,
        "fanout-impaired" => rooms::check_fanout_impaired(ctx).await,
        "notify-delivery" => rooms::check_notify_delivery(ctx).await,
        other => Outcome::Skip(format!("no check named {other}")),
    }
}

/// Runs `selected` in order, printing one verdict line each. After the provider under test
/// went down, the remaining checks are skipped with that reason.
pub async fn run_checks(
    ctx: &mut Ctx,
    selected: &[&'static CheckInfo],
    print: bool,
) -> Vec<CheckVerdict> {
    let mut seeds = SeedBodies::new();
    let mut down: Option<&'static str> = None;
    let mut verdicts = Vec::new();
    for info in selected {
        let started = Instant::now();
        let outcome = match down {
            Some(during) => Outcome::Skip(format!(
                "the provider under test stopped answering (in check {during})"
            )),
            None => run_one(ctx, info.name, &mut seeds).await,
        };
        if matches!(outcome, Outcome::Down(_)) && !ctx.alive().await {
            down = Some(info.name);
        }
        let verdict = CheckVerdict {
            name: info.name,
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        };
        if print {
            println!("{}", verdict_line(info, &verdict));
        }
        verdicts.push(verdict);
    }
    verdicts
}

/// `pass  directory  [MIMI-PROTOCOL-5.1-1 MIMI-PROTOCOL-5.1-3]  detail`.
pub fn verdict_line(info: &CheckInfo, verdict: &CheckVerdict) -> String {
    let (word, detail) = match &verdict.outcome {
        Outcome::Pass(d) => ("pass", d.as_str()),
        Outcome::Fail(d) => ("FAIL", d.as_str()),
        Outcome::Skip(d) => ("skip", d.as_str()),
        Outcome::Down(d) => ("DOWN", d.as_str()),
    };
    format!(
        "{word:<4}  {:<28} [{}]  {detail}",
        info.name,
        info.requirements.join(" ")
    )
}

/// The closing line: `provider: N passed, N failed, N skipped`.
pub fn closing_line(verdicts: &[CheckVerdict]) -> String {
    closing_line_with(verdicts, (0, 0, 0))
}

/// The closing line, counting the scenario assertions (passed, failed, skipped) too.
pub fn closing_line_with(verdicts: &[CheckVerdict], scenarios: (usize, usize, usize)) -> String {
    let count = |f: fn(&Outcome) -> bool| verdicts.iter().filter(|v| f(&v.outcome)).count();
    format!(
        "provider: {} passed, {} failed, {} skipped",
        count(|o| matches!(o, Outcome::Pass(_))) + scenarios.0,
        count(|o| matches!(o, Outcome::Fail(_) | Outcome::Down(_))) + scenarios.1,
        count(|o| matches!(o, Outcome::Skip(_))) + scenarios.2,
    )
}

fn case_result(
    info: &CheckInfo,
    verdict: &CheckVerdict,
    provider: &str,
    reproducer: &str,
) -> CaseResult {
    let id = format!("{SOURCE}/{}", info.name);
    let result = match &verdict.outcome {
        Outcome::Pass(d) => CaseResult::pass(SOURCE, id).detail(d.clone()),
        Outcome::Fail(d) => CaseResult::fail(SOURCE, id, d.clone()),
        Outcome::Skip(d) => CaseResult::skipped(SOURCE, id, d.clone()),
        Outcome::Down(d) => CaseResult::client_fault(SOURCE, id, d.clone()),
    };
    result
        .client(provider)
        .requirements(info.requirements.iter().copied())
        .feature(format!("provider:{}", info.name))
        .duration(Duration::from_secs_f64(verdict.seconds))
        .reproducer(format!("{reproducer} --only {}", info.name))
}

/// The checks `args` selects for `role`, in run order; an unknown `--only` name is an error.
pub fn select(role: TestRole, only: Option<&[String]>) -> Result<Vec<&'static CheckInfo>, String> {
    if let Some(names) = only {
        for name in names {
            if check(name).is_none() {
                let all: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
                return Err(format!(
                    "--only `{name}`: no such check; checks: {}",
                    all.join(", ")
                ));
            }
        }
    }
    Ok(CHECKS
        .iter()
        .filter(|c| c.roles.contains(&role))
        .filter(|c| only.is_none_or(|names| names.iter().any(|n| n == c.name)))
        .collect())
}

/// Builds the shared context: client configurations for Concord's providers and an
/// anonymous one.
#[allow(clippy::too_many_arguments)]
pub fn context(
    target: BaseUrl,
    role: TestRole,
    domain: String,
    tls_dir: &Path,
    out: &Path,
    seed: u64,
    fuzz: usize,
    timeout: Duration,
) -> Result<Ctx, String> {
    let mut configs = BTreeMap::new();
    let mut ours: Vec<&str> = FOLLOWERS.to_vec();
    if role == TestRole::Follower {
        ours.push(HUB_DOMAIN);
    }
    for d in ours {
        let config = tls::client_config(tls_dir, Some(d)).map_err(|e| e.to_string())?;
        configs.insert(d.to_string(), config);
    }
    let anonymous = tls::client_config(tls_dir, None).map_err(|e| e.to_string())?;
    Ok(Ctx {
        target,
        role,
        domain,
        tls_dir: tls_dir.to_path_buf(),
        out: out.to_path_buf(),
        seed,
        fuzz,
        timeout,
        rng: ChaCha8Rng::seed_from_u64(seed),
        configs,
        anonymous,
        next_request: 0,
        followers: Vec::new(),
        users: vec!["alice".into(), "bob".into()],
        run_tag: format!("{:x}", server::now_ms()),
        next_member: 0,
    })
}

/// `concord provider-test --load`: the figures, printed and in `load.json`.
fn load_main(args: &ProviderTestArgs, ctx: &Ctx, runtime: &tokio::runtime::Runtime) -> u8 {
    use super::load;
    if let Err(e) = load::check_levels(&args.load_concurrency) {
        eprintln!("concord provider-test: {e}");
        return exit::BAD_INPUT;
    }
    if args.load_seconds == 0 || args.load_seconds > load::MAX_SECONDS {
        eprintln!(
            "concord provider-test: --load-seconds {}: expected 1 to {}",
            args.load_seconds,
            load::MAX_SECONDS
        );
        return exit::BAD_INPUT;
    }
    let user = super::users::target_users(ctx)
        .into_iter()
        .next()
        .unwrap_or_else(|| format!("alice@{}", ctx.domain));
    let requests = vec![
        load::LoadRequest {
            method: "GET",
            path: server::DIRECTORY_PATH.to_string(),
            body: Vec::new(),
        },
        load::LoadRequest {
            method: "POST",
            path: format!("/v1/identifierQuery/{}", ctx.domain),
            body: super::queries::query(&[(concord_reference::mimi::wire::SEARCH_HANDLE, &user)]),
        },
    ];
    let described = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let levels = runtime.block_on(load::measure(
        ctx.config(Some(FOLLOWERS[0])),
        ctx.target.clone(),
        requests,
        &args.load_concurrency,
        Duration::from_secs(args.load_seconds),
        ctx.timeout,
    ));
    for level in &levels {
        println!("{}", load::format_level(level));
    }
    let errors: u64 = levels.iter().map(|l| l.errors).sum();
    let report = load::LoadReport {
        provider: args.provider.clone(),
        requests: described,
        levels,
    };
    let written = std::fs::create_dir_all(&args.out).and_then(|()| {
        let json = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
        std::fs::write(args.out.join("load.json"), json + "\n")
    });
    if let Err(e) = written {
        eprintln!(
            "concord provider-test: cannot write {}: {e}",
            args.out.join("load.json").display()
        );
        return exit::BAD_INPUT;
    }
    println!(
        "load: {errors} failed request(s); figures in {}",
        args.out.join("load.json").display()
    );
    if errors > 0 { 1 } else { 0 }
}

/// The hub Concord plays when the provider under test is a follower.
pub const HUB_DOMAIN: &str = "hub.example";

/// `concord provider-test`.
pub fn main(args: ProviderTestArgs) -> u8 {
    let fail = |e: String| {
        eprintln!("concord provider-test: {e}");
        exit::BAD_INPUT
    };
    let Some(tls_dir) = args.tls_dir.clone() else {
        return fail(
            "--tls-dir is required: providers talk mutual TLS (make a loopback folder with `concord certs --out DIR`, start the provider under test with the same folder)".into(),
        );
    };
    let role = match args.role.as_str() {
        "hub" => TestRole::Hub,
        "follower" => TestRole::Follower,
        other => return fail(format!("--role `{other}`: expected hub or follower")),
    };
    let target = match BaseUrl::parse(&args.provider) {
        Ok(t) => t,
        Err(e) => return fail(format!("--provider {e}")),
    };
    let domain = args.domain.clone().unwrap_or_else(|| match role {
        TestRole::Hub => "hub.example".into(),
        TestRole::Follower => "follower.example".into(),
    });
    if !super::certs::valid_domain(&domain) {
        return fail(format!("--domain `{domain}` is not a DNS name"));
    }
    if args.timeout == 0 {
        return fail("--timeout must be positive".into());
    }
    let selected = match select(role, args.only.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    // A signing key that cannot be used fails now (exit 2), not after the checks.
    if args.load && args.attest.is_some() {
        return fail("--attest signs the checks' report, which --load does not write".into());
    }
    let attest_key =
        match crate::attest::cli::load_key("concord provider-test", args.attest.as_deref()) {
            Ok(key) => key,
            Err(code) => return code,
        };
    let catalog = match concord_spec::catalog() {
        Ok(c) => c,
        Err(e) => return fail(format!("the requirement catalog does not load: {e}")),
    };
    let mut ctx = match context(
        target,
        role,
        domain,
        &tls_dir,
        &args.out,
        args.seed,
        args.fuzz,
        Duration::from_secs(args.timeout),
    ) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if let Err(e) = super::reference::check_users(&args.users) {
        return fail(e);
    }
    ctx.users = args.users.clone();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    if args.load {
        return load_main(&args, &ctx, &runtime);
    }
    let started = Instant::now();
    let verdicts = match runtime.block_on(run_with_followers(
        &mut ctx,
        &selected,
        super::reference::follower,
        true,
    )) {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let reproducer = format!(
        "concord provider-test --provider {} --role {} --tls-dir {} --domain {} --seed {} --fuzz {}",
        args.provider,
        args.role,
        tls_dir.display(),
        ctx.domain,
        args.seed,
        args.fuzz
    );
    let mut results: Vec<CaseResult> = selected
        .iter()
        .zip(&verdicts)
        .map(|(info, v)| case_result(info, v, &args.provider, &reproducer))
        .collect();
    let mut scenario_notes = Vec::new();
    let went_down = verdicts
        .iter()
        .any(|v| matches!(v.outcome, Outcome::Down(_)));
    let scenario_paths = if args.scenarios.is_empty() {
        let default = PathBuf::from("scenarios");
        if default.is_dir() {
            vec![default]
        } else {
            Vec::new()
        }
    } else {
        args.scenarios.clone()
    };
    if role == TestRole::Follower {
        scenario_notes.push(
            "scenarios: not run for a follower (its users would need client access, beyond the draft)"
                .to_string(),
        );
    } else if args.only.is_some() {
        scenario_notes.push("scenarios: not run with --only".to_string());
    } else if went_down {
        scenario_notes.push("scenarios: not run, the provider under test went down".to_string());
    } else if !scenario_paths.is_empty() {
        match scenarios_live(
            &scenario_paths,
            &ctx.domain,
            &args.provider,
            &tls_dir,
            args.seed,
            true,
        ) {
            Ok((found, note)) => {
                scenario_notes.push(note);
                results.extend(found);
            }
            Err(e) => return fail(e),
        }
    }
    let scenario_counts = results
        .iter()
        .filter(|r| r.id.starts_with(&format!("{SOURCE}/scenario/")))
        .fold((0, 0, 0), |(p, f, k), r| match r.verdict {
            concord_reports::Verdict::Pass => (p + 1, f, k),
            concord_reports::Verdict::Fail => (p, f + 1, k),
            _ => (p, f, k + 1),
        });
    let mut notes = scenario_notes;
    notes.push(format!(
        "Concord's followers {} served on loopback, their addresses in {}",
        FOLLOWERS.join(" and "),
        tls_dir.join(resolve::PEERS_FILE).display()
    ));
    if selected.len() < CHECKS.len() {
        let not_run: Vec<&str> = CHECKS
            .iter()
            .filter(|c| !selected.iter().any(|s| s.name == c.name))
            .map(|c| c.name)
            .collect();
        notes.push(format!(
            "not run for this role or --only: {}",
            not_run.join(", ")
        ));
    }
    let run = RunInfo {
        command: crate::run::command_line(),
        argv: crate::run::command_words(),
        profile: format!("provider-{}", args.role),
        seed: args.seed,
        clients: vec![args.provider.clone()],
        duration_seconds: Some(started.elapsed().as_secs_f64()),
        notes,
        ..RunInfo::default()
    };
    let report = Report::new(env!("CARGO_PKG_VERSION"), run, results);
    match concord_reports::write_all(&report, catalog, None, &args.out) {
        Ok(index) => println!("reports: {}", index.display()),
        Err(e) => {
            eprintln!(
                "concord provider-test: cannot write the reports to {}: {e}",
                args.out.display()
            );
            println!("{}", closing_line_with(&verdicts, scenario_counts));
            return exit::BAD_INPUT;
        }
    }
    let attested = attest_key.as_ref().map(|key| {
        let written = crate::attest::attest_report(key, &report, &args.out, "provider-test");
        crate::attest::cli::report_written("concord provider-test", written, key)
    });
    println!("{}", closing_line_with(&verdicts, scenario_counts));
    match attested {
        Some(code) if code != exit::OK => code,
        _ => report.exit_code(false),
    }
}

/// The scenarios of `paths` played live with every room on the provider under test
/// (`domain` at `url`), Concord's reference providers for the other providers; one result
/// per assertion (`provider/scenario/FILE/ASSERTION[/ROOM]`), printed as they come.
fn scenarios_live(
    paths: &[PathBuf],
    domain: &str,
    url: &str,
    tls_dir: &Path,
    seed: u64,
    print: bool,
) -> Result<(Vec<CaseResult>, String), String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("--scenarios {}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .filter(|p| !p.to_string_lossy().contains("scale"))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!(
                "--scenarios {}: no such file or folder",
                path.display()
            ));
        }
    }
    let scenarios = crate::sim::load_all(&files).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let (live, simulated_only): (Vec<_>, Vec<_>) = scenarios
        .into_iter()
        .partition(|s| !crate::live::needs_simulated_provider(s));
    let options = crate::live::LiveOptions {
        seed,
        tls_dir: Some(tls_dir.to_path_buf()),
        urls: BTreeMap::new(),
        clients: BTreeMap::new(),
        hub: Some((domain.to_string(), url.to_string())),
    };
    let factory = |spec: &str, seed: u64| {
        crate::interop::session::open_client(spec, Duration::from_secs(30), seed)
    };
    let mut results = Vec::new();
    for scenario in &live {
        let stem = scenario
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for v in crate::live::run_scenario(scenario, &options, &factory) {
            let word = match v.verdict {
                crate::sim::checks::Verdict::Pass => "pass",
                crate::sim::checks::Verdict::Fail => "FAIL",
                _ => "skip",
            };
            let room = if v.room.is_empty() {
                String::new()
            } else {
                format!("/{}", v.room)
            };
            let id = format!("{SOURCE}/scenario/{stem}/{}{room}", v.assertion);
            if print {
                println!(
                    "{word:<4}  {id}  [{}]  {}",
                    v.requirements.join(" "),
                    v.detail
                );
            }
            let result = match v.verdict {
                crate::sim::checks::Verdict::Pass => CaseResult::pass(SOURCE, id).detail(v.detail),
                crate::sim::checks::Verdict::Fail => CaseResult::fail(SOURCE, id, v.detail),
                _ => CaseResult::skipped(SOURCE, id, v.detail),
            };
            results.push(
                result
                    .client(url)
                    .requirements(v.requirements.iter().map(String::as_str))
                    .feature("provider:scenario")
                    .reproducer(format!(
                        "concord provider-test --provider {url} --role hub --tls-dir {} --scenarios {}",
                        tls_dir.display(),
                        scenario.file.display()
                    )),
            );
        }
    }
    let note = format!(
        "scenarios: {} played live with every room on {domain} ({} left out: they need a simulated misbehaving provider)",
        live.len(),
        simulated_only.len()
    );
    Ok((results, note))
}

/// Makes the sans-IO provider behind one of Concord's followers: (domain, seed).
pub type FollowerFactory = fn(&str, u64) -> Box<dyn server::Service>;

/// One of Concord's followers, running.
#[derive(Debug)]
pub struct Follower {
    pub domain: String,
    pub server: server::RunningServer,
    pub instrument: Arc<server::Instrument>,
}

/// Starts Concord's followers (when testing a hub), adds their addresses to peers.toml in the
/// TLS folder (other entries kept), runs the checks, and stops the followers.
pub async fn run_with_followers(
    ctx: &mut Ctx,
    selected: &[&'static CheckInfo],
    factory: FollowerFactory,
    print: bool,
) -> Result<Vec<CheckVerdict>, String> {
    if ctx.role == TestRole::Hub {
        let mut peers: BTreeMap<String, String> =
            resolve::read_peers(&ctx.tls_dir.join(resolve::PEERS_FILE))?
                .into_iter()
                .map(|(d, u)| (d, u.to_url()))
                .collect();
        for (n, domain) in FOLLOWERS.iter().enumerate() {
            let instrument = Arc::new(server::Instrument::default());
            let options = server::ServerOptions {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                domain: domain.to_string(),
                tls_dir: ctx.tls_dir.clone(),
                resolve: vec![format!("{}={}", ctx.domain, ctx.target.to_url())],
                body_limit: server::DEFAULT_BODY_LIMIT,
                request_timeout: server::DEFAULT_REQUEST_TIMEOUT,
                instrument: Some(instrument.clone()),
                path_prefix: FOLLOWER_PATH_PREFIX.to_string(),
            };
            let service = factory(domain, ctx.seed.wrapping_add(1000 + n as u64));
            let running = server::start(options, service)
                .await
                .map_err(|e| format!("Concord's follower {domain}: {e}"))?;
            peers.insert(domain.to_string(), running.url());
            ctx.followers.push(Follower {
                domain: domain.to_string(),
                server: running,
                instrument,
            });
        }
        resolve::write_peers(&ctx.tls_dir, &peers)?;
    }
    let verdicts = run_checks(ctx, selected, print).await;
    for follower in std::mem::take(&mut ctx.followers) {
        follower.server.shutdown().await;
    }
    Ok(verdicts)
}

/// `concord run`'s provider stage: the reference provider served on loopback, once as a hub
/// and once as a follower (test certificates in a temporary folder), each checked with every
/// check of its role. Returns the results (source `provider`, ids `provider/ROLE/CHECK`).
/// With `scenarios`, the hub also hosts every room of those scenarios played live
/// (`provider/scenario/...`).
pub fn run_reference_for_report(
    seed: u64,
    scenarios: Option<&Path>,
) -> Result<Vec<CaseResult>, String> {
    let dir = std::env::temp_dir().join(format!(
        "concord-run-provider-{}-{}",
        std::process::id(),
        server::now_ms()
    ));
    let domains: Vec<String> = [HUB_DOMAIN, "follower.example"]
        .iter()
        .chain(FOLLOWERS.iter())
        .map(|d| d.to_string())
        .collect();
    super::certs::generate(&dir, &domains).map_err(|e| format!("test certificates: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut results = Vec::new();
    for (role, domain, role_name) in [
        (TestRole::Hub, HUB_DOMAIN, "hub"),
        (TestRole::Follower, "follower.example", "follower"),
    ] {
        let out = dir.join(format!("out-{role_name}"));
        let verdicts = runtime.block_on(async {
            let service_role = match role {
                TestRole::Hub => concord_reference::mimi::service::Role::Hub,
                TestRole::Follower => concord_reference::mimi::service::Role::Follower,
            };
            let users = vec!["alice".to_string(), "bob".to_string()];
            let served = super::reference::serve_on_loopback(
                &dir,
                domain,
                service_role,
                &users,
                seed,
                Default::default(),
            )
            .await
            .map_err(|e| format!("the reference {role_name}: {e}"))?;
            let url = served.url();
            let target = BaseUrl::parse(&url)?;
            let mut ctx = context(
                target,
                role,
                domain.to_string(),
                &dir,
                &out,
                seed,
                100,
                Duration::from_secs(10),
            )?;
            let selected = select(role, None)?;
            let verdicts =
                run_with_followers(&mut ctx, &selected, super::reference::follower, false).await;
            Ok::<_, String>((selected, verdicts, url, served))
        });
        let (selected, verdicts, url, served) = verdicts?;
        let verdicts = verdicts?;
        if role == TestRole::Hub
            && let Some(folder) = scenarios.filter(|f| f.is_dir())
        {
            let played = scenarios_live(&[folder.to_path_buf()], domain, &url, &dir, seed, false);
            match played {
                Ok((found, _)) => results.extend(found),
                Err(e) => results.push(CaseResult::fail(
                    SOURCE,
                    format!("{SOURCE}/scenario/setup"),
                    e,
                )),
            }
        }
        runtime.block_on(served.shutdown());
        let reproducer = format!(
            "concord certs --out tls && concord serve-provider --listen 127.0.0.1:8443 --domain {domain} --role {role_name} --tls-dir tls --seed {seed} & concord provider-test --provider https://127.0.0.1:8443 --role {role_name} --tls-dir tls --seed {seed}"
        );
        for (info, verdict) in selected.iter().zip(&verdicts) {
            let mut result = case_result(info, verdict, &url, &reproducer);
            result.id = format!("{SOURCE}/{role_name}/{}", info.name);
            result.clients = vec![format!("reference {role_name} ({url})")];
            results.push(result);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::server::{Outbound, Request, Response, Service};
    use crate::provider::{certs, server};

    /// The README's table of checks and list of faults are those of the code.
    #[test]
    fn the_readme_lists_every_check_and_fault() {
        let readme = include_str!("../../../../README.md");
        for check in CHECKS {
            let row = format!("| `{}` |", check.name);
            assert!(readme.contains(&row), "README.md has no row {row}");
        }
        for fault in super::super::reference::FAULT_NAMES {
            assert!(
                readme.contains(&format!("`{fault}`")),
                "README.md does not name --fault {fault}"
            );
        }
    }

    /// Directory, 401 without a certificate, 400 for every body; `lenient` answers 200.
    struct Strict {
        lenient: bool,
    }

    impl Service for Strict {
        fn handle(&mut self, request: &Request, _now_ms: u64) -> Response {
            let status = if request.peer.is_none() {
                401
            } else if self.lenient {
                200
            } else {
                400
            };
            Response {
                status,
                content_type: "text/plain".into(),
                body: b"no".to_vec(),
            }
        }
        fn take_outbound(&mut self) -> Vec<Outbound> {
            Vec::new()
        }
        fn outbound_done(&mut self, _id: u64, _status: Option<u16>, _now_ms: u64) {}
        fn directory(&self, base_url: &str) -> Vec<u8> {
            let map: serde_json::Map<String, serde_json::Value> = DIRECTORY_KEYS
                .iter()
                .map(|k| (k.to_string(), format!("{base_url}/v1/{k}/{{x}}").into()))
                .collect();
            serde_json::to_vec(&map).unwrap()
        }
    }

    async fn verdicts(dir: &Path, lenient: bool, names: &[&str]) -> Vec<(String, Outcome)> {
        let server = server::start(
            server::ServerOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                domain: "hub.example".into(),
                tls_dir: dir.to_path_buf(),
                resolve: vec![],
                body_limit: 1 << 16,
                request_timeout: Duration::from_secs(5),
                instrument: None,
                path_prefix: String::new(),
            },
            Box::new(Strict { lenient }),
        )
        .await
        .unwrap();
        let mut ctx = context(
            BaseUrl::parse(&server.url()).unwrap(),
            TestRole::Hub,
            "hub.example".into(),
            dir,
            &dir.join("out"),
            7,
            40,
            Duration::from_secs(5),
        )
        .unwrap();
        let only: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let selected = select(TestRole::Hub, Some(&only)).unwrap();
        let v = run_checks(&mut ctx, &selected, false).await;
        server.shutdown().await;
        v.into_iter()
            .map(|v| (v.name.to_string(), v.outcome))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn framework_checks_pass_a_strict_server_and_catch_a_lenient_one() {
        let dir = std::env::temp_dir().join(format!("concord-ptest-{}", std::process::id()));
        certs::generate(
            &dir,
            &[
                "hub.example".into(),
                "f1.example".into(),
                "f2.example".into(),
            ],
        )
        .unwrap();
        let names = ["directory", "auth-no-certificate", "malformed-bodies"];
        for (name, outcome) in verdicts(&dir, false, &names).await {
            assert!(matches!(outcome, Outcome::Pass(_)), "{name}: {outcome:?}");
        }
        let lenient = verdicts(&dir, true, &names).await;
        assert!(matches!(lenient[0].1, Outcome::Pass(_)));
        assert!(matches!(lenient[1].1, Outcome::Pass(_)));
        let Outcome::Fail(detail) = &lenient[2].1 else {
            panic!("{:?}", lenient[2]);
        };
        assert!(
            detail.contains("body #0") && detail.contains("answered 200"),
            "{detail}"
        );
        assert!(dir.join("out/malformed/0000-keyMaterial.bin").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn selection_and_closing_line() {
        assert!(select(TestRole::Hub, Some(&["nope".to_string()])).is_err());
        let all = select(TestRole::Hub, None).unwrap();
        assert!(all.iter().all(|c| c.roles.contains(&TestRole::Hub)));
        let v = vec![
            CheckVerdict {
                name: "a",
                outcome: Outcome::Pass(String::new()),
                seconds: 0.0,
            },
            CheckVerdict {
                name: "b",
                outcome: Outcome::Down(String::new()),
                seconds: 0.0,
            },
            CheckVerdict {
                name: "c",
                outcome: Outcome::Skip(String::new()),
                seconds: 0.0,
            },
        ];
        assert_eq!(closing_line(&v), "provider: 1 passed, 1 failed, 1 skipped");
    }
}
