//! The scenario language: a TOML file (schema in `scenarios/README.md`) read into a
//! checked [`Scenario`]. Every mistake is a [`ScenarioError`] naming the file, the line and
//! the field, and what was expected.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::adversary::{Behaviour, Expect};

/// A mistake in a scenario file (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {field}: {message}", file.display())]
pub struct ScenarioError {
    pub file: PathBuf,
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// Link properties (one direction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkSpec {
    pub latency_us: u64,
    pub jitter_us: u64,
    pub loss: f64,
    pub duplicate: f64,
    pub reorder: f64,
    /// Bytes per second; 0 means unlimited.
    pub bandwidth: u64,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            latency_us: 10_000,
            jitter_us: 0,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            bandwidth: 0,
        }
    }
}

/// How much the transcript records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detail {
    /// Steps, operations and verdicts.
    Steps,
    /// Also every MLS outcome at every client (deliveries, commits, joins).
    Events,
    /// Also every packet sent, dropped, duplicated, held and delivered.
    Packets,
}

/// Who sends application messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Senders {
    User(String),
    /// Every current member, drawn from the seed.
    Members,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        room: String,
        by: String,
        hub: String,
        open: bool,
    },
    /// `by` adds `users` (in commits of at most `batch`).
    Invite {
        room: String,
        by: String,
        users: Vec<String>,
        batch: usize,
    },
    JoinExternal {
        room: String,
        user: String,
    },
    Send {
        room: String,
        from: Senders,
        count: u64,
        text: String,
        /// Virtual microseconds between one message and the next; 0: all at once.
        interval: u64,
    },
    /// `by` commits an update; `None`: every member in turn.
    Update {
        room: String,
        by: Option<String>,
    },
    /// `by` removes `users`, one commit each; empty `users`: every other member.
    Remove {
        room: String,
        by: String,
        users: Vec<String>,
    },
    Leave {
        room: String,
        user: String,
        committer: Option<String>,
    },
    /// Beyond the draft: remove the old identity and add one at `to`.
    SwitchProvider {
        room: String,
        user: String,
        to: String,
        by: Option<String>,
    },
    /// Member operations issued at the same instant.
    Concurrent(Vec<Step>),
    Partition {
        from: String,
        to: String,
        both: bool,
    },
    /// `None`: heal every partition.
    Heal(Option<(String, String)>),
    Hold {
        from: String,
        to: String,
    },
    Release {
        from: String,
        to: String,
    },
    Crash(String),
    Restart(String),
    Offline {
        user: String,
        room: String,
        epochs: u64,
    },
    SetLink {
        from: String,
        to: String,
        link: LinkSpec,
    },
    Wait(u64),
    /// `provider` shows exactly `behaviours` from now on (none: honest again);
    /// `target` is the user `delay` and `reorder-epochs` aim at.
    Misbehave {
        provider: String,
        behaviours: Vec<Behaviour>,
        target: Option<String>,
        epochs: u64,
    },
    /// A colluding member `by` adds `users` without the participant list change.
    GhostInvite {
        room: String,
        by: String,
        users: Vec<String>,
    },
}

/// One step, with where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub index: usize,
    pub line: usize,
    pub action: Action,
}

/// An assertion checked when the steps are done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub check: Check,
    pub room: String,
    pub line: usize,
}

/// The assertion kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    Converged,
    DeliveredOnce,
    ParticipantsOnly,
    RemovedCannotRead,
    /// What conformant clients make of a misbehaving provider (detect or reject).
    Misbehaviour(Behaviour),
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::Misbehaviour(b) => b.assertion_name(),
            Check::Converged => "converged",
            Check::DeliveredOnce => "delivered_once",
            Check::ParticipantsOnly => "participants_only",
            Check::RemovedCannotRead => "removed_cannot_read",
        }
    }
}

/// A checked scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub suite: u16,
    pub detail: Detail,
    pub step_timeout_us: u64,
    pub network: LinkSpec,
    pub links: Vec<(String, String, LinkSpec)>,
    pub providers: Vec<String>,
    /// Providers served by someone else (`url = "https://HOST:PORT"`): only `concord sim
    /// --live` can run the scenario then.
    pub provider_urls: BTreeMap<String, String>,
    /// User name to (provider, client spec).
    pub users: BTreeMap<String, (String, String)>,
    pub steps: Vec<Step>,
    pub assertions: Vec<Assertion>,
    /// Labels such as "beyond-draft".
    pub labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    suite: Option<Spanned<u16>>,
    transcript: Option<Spanned<String>>,
    step_timeout: Option<Spanned<String>>,
    network: Option<Spanned<RawLink>>,
    #[serde(default)]
    link: Vec<Spanned<RawLink>>,
    #[serde(default)]
    provider: Vec<Spanned<RawProvider>>,
    #[serde(default)]
    user: Vec<Spanned<RawUser>>,
    #[serde(default)]
    users: Vec<Spanned<RawUsers>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    assert: Vec<Spanned<RawAssert>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawLink {
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    loss: Option<Spanned<f64>>,
    duplicate: Option<Spanned<f64>>,
    reorder: Option<Spanned<f64>>,
    bandwidth: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: Spanned<String>,
    url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: Spanned<String>,
    provider: Spanned<String>,
    client: Option<Spanned<String>>,
}

/// Generated users `prefix1..prefixN`, spread over `providers` in turn.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUsers {
    prefix: Spanned<String>,
    count: Spanned<u32>,
    providers: Spanned<Vec<Spanned<String>>>,
    client: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawStep {
    action: Spanned<String>,
    room: Option<Spanned<String>>,
    by: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    users: Option<Spanned<Vec<Spanned<String>>>>,
    user_prefix: Option<Spanned<String>>,
    batch: Option<Spanned<u32>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    hub: Option<Spanned<String>>,
    open: Option<bool>,
    text: Option<String>,
    count: Option<Spanned<u64>>,
    committer: Option<Spanned<String>>,
    oneway: Option<bool>,
    provider: Option<Spanned<String>>,
    epochs: Option<Spanned<u64>>,
    duration: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    latency: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    loss: Option<Spanned<f64>>,
    duplicate: Option<Spanned<f64>>,
    reorder: Option<Spanned<f64>>,
    bandwidth: Option<Spanned<i64>>,
    steps: Option<Vec<Spanned<RawStep>>>,
    behaviours: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssert {
    check: Spanned<String>,
    room: Spanned<String>,
    behaviour: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
}

/// Parses a duration: an integer with a unit, `us`, `ms`, `s` or `m` (e.g. `250ms`).
/// The longest duration a scenario may give (latency, jitter, interval, wait...): a day of
/// simulated time. Past it the figure is a mistake, and the network's arithmetic on it
/// (a jitter drawn in `0..=jitter`) would overflow.
pub const MAX_DURATION_US: u64 = 86_400_000_000;
/// The most messages one send step may ask for, and the most users one `[[users]]` group
/// may generate: the simulator keeps every message and member in memory.
pub const MAX_COUNT: u64 = 100_000;

pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (expected e.g. 20ms, 5s, 2m)"))?;
    let scale = match unit {
        "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (expected us, ms, s or m)"
            ));
        }
    };
    value
        .checked_mul(scale)
        .filter(|us| *us <= MAX_DURATION_US)
        .ok_or_else(|| {
            format!("`{text}` is longer than the limit of a day (24h of simulated time)")
        })
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: 0,
        field: "file".into(),
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Checks a scenario given as text (`path` names it in errors).
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx { path, text };
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| ctx.line(s.start));
        let message = e.message().to_string();
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field"))
            .unwrap_or("toml")
            .to_string();
        ScenarioError {
            file: path.to_path_buf(),
            line,
            field,
            message,
        }
    })?;
    Checker::new(ctx).scenario(raw)
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text
            .get(..offset.min(self.text.len()))
            .map_or(0, |t| t.matches('\n').count())
            + 1
    }

    fn error<T>(
        &self,
        span: std::ops::Range<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> Result<T, ScenarioError> {
        Err(ScenarioError {
            file: self.path.to_path_buf(),
            line: self.line(span.start),
            field: field.to_string(),
            message: message.into(),
        })
    }
}

struct Checker<'a> {
    ctx: Ctx<'a>,
    providers: BTreeSet<String>,
    users: BTreeMap<String, (String, String)>,
    /// Rooms created by earlier steps.
    rooms: BTreeSet<String>,
    labels: BTreeSet<String>,
}

fn known(set: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let names: Vec<String> = set
        .into_iter()
        .map(|s| s.as_ref().to_string())
        .take(8)
        .collect();
    names.join(", ")
}

impl<'a> Checker<'a> {
    fn new(ctx: Ctx<'a>) -> Self {
        Checker {
            ctx,
            providers: BTreeSet::new(),
            users: BTreeMap::new(),
            rooms: BTreeSet::new(),
            labels: BTreeSet::new(),
        }
    }

    fn scenario(mut self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        if raw.name.get_ref().trim().is_empty() {
            return self.ctx.error(raw.name.span(), "name", "must not be empty");
        }
        let suite = match &raw.suite {
            Some(s) if !(1..=7).contains(s.get_ref()) => {
                return self
                    .ctx
                    .error(s.span(), "suite", "expected a cipher suite from 1 to 7");
            }
            Some(s) => *s.get_ref(),
            None => 1,
        };
        let detail = match raw
            .transcript
            .as_ref()
            .map(|t| (t.get_ref().as_str(), t.span()))
        {
            None | Some(("packets", _)) => Detail::Packets,
            Some(("events", _)) => Detail::Events,
            Some(("steps", _)) => Detail::Steps,
            Some((other, span)) => {
                return self.ctx.error(
                    span,
                    "transcript",
                    format!("`{other}`: expected packets, events or steps"),
                );
            }
        };
        let step_timeout_us = match &raw.step_timeout {
            Some(d) => self.duration(d, "step_timeout")?,
            None => 60_000_000,
        };
        let mut provider_urls = BTreeMap::new();
        for p in &raw.provider {
            let name = p.get_ref().name.get_ref();
            if !self.providers.insert(name.clone()) {
                return self.ctx.error(
                    p.get_ref().name.span(),
                    "provider.name",
                    format!("provider `{name}` declared twice"),
                );
            }
            if let Some(url) = &p.get_ref().url {
                if !url.get_ref().starts_with("https://") || url.get_ref().len() <= 8 {
                    return self.ctx.error(
                        url.span(),
                        "provider.url",
                        format!("`{}`: expected https://HOST:PORT", url.get_ref()),
                    );
                }
                provider_urls.insert(name.clone(), url.get_ref().clone());
            }
        }
        if self.providers.is_empty() {
            return self
                .ctx
                .error(0..0, "provider", "declare at least one [[provider]]");
        }
        for u in &raw.user {
            let u = u.get_ref();
            let provider = self.provider(&u.provider, "user.provider")?;
            let client = u
                .client
                .as_ref()
                .map_or("reference".to_string(), |c| c.get_ref().clone());
            self.add_user(&u.name, provider, client)?;
        }
        for g in &raw.users {
            let g = g.get_ref();
            let providers: Vec<String> = g
                .providers
                .get_ref()
                .iter()
                .map(|p| self.provider(p, "users.providers"))
                .collect::<Result<_, _>>()?;
            if providers.is_empty() {
                return self.ctx.error(
                    g.providers.span(),
                    "users.providers",
                    "expected at least one provider",
                );
            }
            let client = g
                .client
                .as_ref()
                .map_or("reference".to_string(), |c| c.get_ref().clone());
            if u64::from(*g.count.get_ref()) > MAX_COUNT {
                return self.ctx.error(
                    g.count.span(),
                    "users.count",
                    format!(
                        "{} users in one group: the limit is {MAX_COUNT} (the simulator keeps \
                         every member in memory)",
                        g.count.get_ref()
                    ),
                );
            }
            for i in 0..*g.count.get_ref() {
                let name = format!("{}{}", g.prefix.get_ref(), i + 1);
                let provider = providers[i as usize % providers.len()].clone();
                let spanned = Spanned::new(g.prefix.span(), name);
                self.add_user(&spanned, provider, client.clone())?;
            }
        }
        let network = match &raw.network {
            Some(n) => self.link(n.get_ref(), LinkSpec::default(), "network")?,
            None => LinkSpec::default(),
        };
        let mut links = Vec::new();
        for l in &raw.link {
            let link = l.get_ref();
            let from = self.host(link.from.as_ref(), l.span(), "link.from")?;
            let to = self.host(link.to.as_ref(), l.span(), "link.to")?;
            links.push((from, to, self.link(link, network, "link")?));
        }
        let mut steps = Vec::new();
        for (index, s) in raw.step.iter().enumerate() {
            steps.push(self.step(index + 1, s, false)?);
        }
        let mut assertions = Vec::new();
        for a in &raw.assert {
            let a = a.get_ref();
            let check = match a.check.get_ref().as_str() {
                "converged" => Check::Converged,
                "delivered_once" => Check::DeliveredOnce,
                "participants_only" => Check::ParticipantsOnly,
                "removed_cannot_read" => Check::RemovedCannotRead,
                "misbehaviour" => self.misbehaviour_check(a, &steps)?,
                other => {
                    return self.ctx.error(a.check.span(), "assert.check", format!(
                        "unknown check `{other}`: expected converged, delivered_once, participants_only, removed_cannot_read or misbehaviour"
                    ));
                }
            };
            if !matches!(check, Check::Misbehaviour(_))
                && let Some(extra) = a.behaviour.as_ref().or(a.expect.as_ref())
            {
                return self.ctx.error(
                    extra.span(),
                    "assert.behaviour",
                    "behaviour and expect belong to check = \"misbehaviour\" only",
                );
            }
            let room = self.room(Some(&a.room), 0..0, "assert.room")?;
            assertions.push(Assertion {
                check,
                room,
                line: self.ctx.line(a.check.span().start),
            });
        }
        Ok(Scenario {
            file: self.ctx.path.to_path_buf(),
            name: raw.name.into_inner(),
            description: raw.description,
            suite,
            detail,
            step_timeout_us,
            network,
            links,
            providers: self.providers.into_iter().collect(),
            provider_urls,
            users: self.users,
            steps,
            assertions,
            labels: self.labels.into_iter().collect(),
        })
    }

    fn add_user(
        &mut self,
        name: &Spanned<String>,
        provider: String,
        client: String,
    ) -> Result<(), ScenarioError> {
        let n = name.get_ref();
        if n.is_empty() || n.contains('@') || self.providers.contains(n) {
            return self.ctx.error(
                name.span(),
                "user.name",
                format!("`{n}`: a user name is non-empty, has no `@` and is not a provider's name"),
            );
        }
        if self.users.insert(n.clone(), (provider, client)).is_some() {
            return self.ctx.error(
                name.span(),
                "user.name",
                format!("user `{n}` declared twice"),
            );
        }
        Ok(())
    }

    fn duration(&self, d: &Spanned<String>, field: &str) -> Result<u64, ScenarioError> {
        parse_duration(d.get_ref()).or_else(|m| self.ctx.error(d.span(), field, m))
    }

    fn probability(
        &self,
        p: Option<&Spanned<f64>>,
        default: f64,
        field: &str,
    ) -> Result<f64, ScenarioError> {
        match p {
            Some(p) if !(0.0..=1.0).contains(p.get_ref()) => self.ctx.error(
                p.span(),
                field,
                format!("{} is not a probability (expected 0.0 to 1.0)", p.get_ref()),
            ),
            Some(p) => Ok(*p.get_ref()),
            None => Ok(default),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn link_fields(
        &self,
        base: LinkSpec,
        field: &str,
        latency: Option<&Spanned<String>>,
        jitter: Option<&Spanned<String>>,
        loss: Option<&Spanned<f64>>,
        duplicate: Option<&Spanned<f64>>,
        reorder: Option<&Spanned<f64>>,
        bandwidth: Option<&Spanned<i64>>,
    ) -> Result<LinkSpec, ScenarioError> {
        Ok(LinkSpec {
            latency_us: match latency {
                Some(d) => self.duration(d, &format!("{field}.latency"))?,
                None => base.latency_us,
            },
            jitter_us: match jitter {
                Some(d) => self.duration(d, &format!("{field}.jitter"))?,
                None => base.jitter_us,
            },
            loss: self.probability(loss, base.loss, &format!("{field}.loss"))?,
            duplicate: self.probability(
                duplicate,
                base.duplicate,
                &format!("{field}.duplicate"),
            )?,
            reorder: self.probability(reorder, base.reorder, &format!("{field}.reorder"))?,
            bandwidth: match bandwidth {
                Some(b) if *b.get_ref() < 0 => {
                    return self.ctx.error(
                        b.span(),
                        &format!("{field}.bandwidth"),
                        "expected bytes per second, 0 for unlimited",
                    );
                }
                Some(b) => *b.get_ref() as u64,
                None => base.bandwidth,
            },
        })
    }

    fn link(&self, raw: &RawLink, base: LinkSpec, field: &str) -> Result<LinkSpec, ScenarioError> {
        self.link_fields(
            base,
            field,
            raw.latency.as_ref(),
            raw.jitter.as_ref(),
            raw.loss.as_ref(),
            raw.duplicate.as_ref(),
            raw.reorder.as_ref(),
            raw.bandwidth.as_ref(),
        )
    }

    fn provider(&self, name: &Spanned<String>, field: &str) -> Result<String, ScenarioError> {
        let n = name.get_ref();
        if self.providers.contains(n) {
            Ok(n.clone())
        } else {
            self.ctx.error(
                name.span(),
                field,
                format!(
                    "unknown provider `{n}` (declared: {})",
                    known(&self.providers)
                ),
            )
        }
    }

    fn user(
        &self,
        name: Option<&Spanned<String>>,
        at: std::ops::Range<usize>,
        field: &str,
    ) -> Result<String, ScenarioError> {
        let Some(name) = name else {
            return self.ctx.error(at, field, "missing: expected a user's name");
        };
        let n = name.get_ref();
        if self.users.contains_key(n) {
            Ok(n.clone())
        } else {
            self.ctx.error(
                name.span(),
                field,
                format!(
                    "unknown user `{n}` (declared: {})",
                    known(self.users.keys())
                ),
            )
        }
    }

    /// A provider or a user (whose client is the host).
    fn host(
        &self,
        name: Option<&Spanned<String>>,
        at: std::ops::Range<usize>,
        field: &str,
    ) -> Result<String, ScenarioError> {
        let Some(name) = name else {
            return self
                .ctx
                .error(at, field, "missing: expected a provider's or a user's name");
        };
        let n = name.get_ref();
        if self.providers.contains(n) || self.users.contains_key(n) {
            Ok(n.clone())
        } else {
            self.ctx.error(
                name.span(),
                field,
                format!("unknown host `{n}`: neither a provider nor a user"),
            )
        }
    }

    fn room(
        &self,
        name: Option<&Spanned<String>>,
        at: std::ops::Range<usize>,
        field: &str,
    ) -> Result<String, ScenarioError> {
        let Some(name) = name else {
            return self.ctx.error(at, field, "missing: expected a room's name");
        };
        let n = name.get_ref();
        if self.rooms.contains(n) {
            Ok(n.clone())
        } else {
            self.ctx.error(
                name.span(),
                field,
                format!("room `{n}` is not created by an earlier step"),
            )
        }
    }

    fn step(
        &mut self,
        index: usize,
        spanned: &Spanned<RawStep>,
        nested: bool,
    ) -> Result<Step, ScenarioError> {
        let s = spanned.get_ref();
        let at = spanned.span();
        let line = self.ctx.line(at.start);
        let action_name = s.action.get_ref().as_str();
        let f = |name: &str| format!("step {index} ({action_name}).{name}");
        let room = |c: &Self| c.room(s.room.as_ref(), at.clone(), &f("room"));
        let user =
            |c: &Self, v: Option<&Spanned<String>>, name: &str| c.user(v, at.clone(), &f(name));
        let action = match action_name {
            "create" => {
                let Some(r) = &s.room else {
                    return self
                        .ctx
                        .error(at, &f("room"), "missing: expected a room's name");
                };
                if !self.rooms.insert(r.get_ref().clone()) {
                    return self.ctx.error(
                        r.span(),
                        &f("room"),
                        format!("room `{}` is created twice", r.get_ref()),
                    );
                }
                let by = user(self, s.by.as_ref(), "by")?;
                let hub = match &s.hub {
                    Some(h) => self.provider(h, &f("hub"))?,
                    None => self.users[&by].0.clone(),
                };
                Action::Create {
                    room: r.get_ref().clone(),
                    by,
                    hub,
                    open: s.open.unwrap_or(false),
                }
            }
            "invite" => {
                let room = room(self)?;
                let by = user(self, s.by.as_ref(), "by")?;
                let mut users = Vec::new();
                if let Some(list) = &s.users {
                    for u in list.get_ref() {
                        let name = user(self, Some(u), "users")?;
                        if name == by {
                            return self.ctx.error(
                                u.span(),
                                &f("users"),
                                format!("`{by}` cannot invite itself"),
                            );
                        }
                        users.push(name);
                    }
                }
                if let Some(prefix) = &s.user_prefix {
                    let p = prefix.get_ref();
                    users.extend(
                        self.users
                            .keys()
                            .filter(|u| {
                                **u != by
                                    && u.starts_with(p.as_str())
                                    && u[p.len()..].chars().all(|c| c.is_ascii_digit())
                                    && u.len() > p.len()
                            })
                            .cloned(),
                    );
                    // Numeric order: u2 before u10.
                    users.sort_by_key(|u| (u.len(), u.clone()));
                }
                if users.is_empty() {
                    return self.ctx.error(
                        at,
                        &f("users"),
                        "expected `users = [...]` or `user_prefix`, naming at least one user",
                    );
                }
                let batch = s
                    .batch
                    .as_ref()
                    .map_or(users.len(), |b| *b.get_ref() as usize);
                if batch == 0 {
                    return self.ctx.error(at, &f("batch"), "expected at least 1");
                }
                Action::Invite {
                    room,
                    by,
                    users,
                    batch,
                }
            }
            "join_external" => Action::JoinExternal {
                room: room(self)?,
                user: user(self, s.user.as_ref(), "user")?,
            },
            "send" => {
                let room = room(self)?;
                let from = match &s.from {
                    Some(v) if v.get_ref() == "*" => Senders::Members,
                    other => Senders::User(user(self, other.as_ref(), "from")?),
                };
                let count = match &s.count {
                    Some(c) if *c.get_ref() > MAX_COUNT => {
                        return self.ctx.error(
                            c.span(),
                            &f("count"),
                            format!(
                                "{} messages in one send step: the limit is {MAX_COUNT} (the \
                                 simulator keeps every message in memory)",
                                c.get_ref()
                            ),
                        );
                    }
                    Some(c) => *c.get_ref(),
                    None => 1,
                };
                let interval = match &s.interval {
                    Some(d) if nested => {
                        return self.ctx.error(
                            d.span(),
                            &f("interval"),
                            "not inside concurrent steps: they are issued together",
                        );
                    }
                    Some(d) => self.duration(d, &f("interval"))?,
                    None => 0,
                };
                Action::Send {
                    room,
                    from,
                    count,
                    text: s.text.clone().unwrap_or_else(|| "hello".into()),
                    interval,
                }
            }
            "update" => {
                let room = room(self)?;
                let by = match &s.by {
                    Some(v) if v.get_ref() == "*" => None,
                    other => Some(user(self, other.as_ref(), "by")?),
                };
                Action::Update { room, by }
            }
            "remove" => {
                let room = room(self)?;
                let by = user(self, s.by.as_ref(), "by")?;
                let mut users = Vec::new();
                match &s.users {
                    Some(list)
                        if list.get_ref().len() == 1 && list.get_ref()[0].get_ref() == "*" => {}
                    Some(list) => {
                        for u in list.get_ref() {
                            users.push(user(self, Some(u), "users")?);
                        }
                        if users.is_empty() {
                            return self.ctx.error(
                                list.span(),
                                &f("users"),
                                "expected at least one user, or [\"*\"] for every other member",
                            );
                        }
                    }
                    None => {
                        return self.ctx.error(
                            at,
                            &f("users"),
                            "missing: expected users to remove, or [\"*\"] for every other member",
                        );
                    }
                }
                Action::Remove { room, by, users }
            }
            "leave" => Action::Leave {
                room: room(self)?,
                user: user(self, s.user.as_ref(), "user")?,
                committer: match &s.committer {
                    Some(c) => Some(user(self, Some(c), "committer")?),
                    None => None,
                },
            },
            "switch_provider" => {
                self.labels.insert("beyond-draft".into());
                let Some(to) = &s.to else {
                    return self
                        .ctx
                        .error(at, &f("to"), "missing: expected the new provider");
                };
                Action::SwitchProvider {
                    room: room(self)?,
                    user: user(self, s.user.as_ref(), "user")?,
                    to: self.provider(to, &f("to"))?,
                    by: match &s.by {
                        Some(b) => Some(user(self, Some(b), "by")?),
                        None => None,
                    },
                }
            }
            "concurrent" => {
                if nested {
                    return self
                        .ctx
                        .error(at, &f("steps"), "concurrent steps do not nest");
                }
                let Some(inner) = &s.steps else {
                    return self.ctx.error(
                        at,
                        &f("steps"),
                        "missing: expected the steps to issue together",
                    );
                };
                let mut steps = Vec::new();
                for i in inner {
                    let step = self.step(index, i, true)?;
                    if !matches!(
                        step.action,
                        Action::Send { .. }
                            | Action::Update { by: Some(_), .. }
                            | Action::Invite { .. }
                            | Action::Remove { .. }
                            | Action::JoinExternal { .. }
                    ) {
                        return self.ctx.error(i.span(), &f("steps"), "only send, update (by one member), invite, remove and join_external may be concurrent");
                    }
                    steps.push(step);
                }
                Action::Concurrent(steps)
            }
            "partition" => Action::Partition {
                from: self.host(s.from.as_ref(), at.clone(), &f("from"))?,
                to: self.host(s.to.as_ref(), at.clone(), &f("to"))?,
                both: !s.oneway.unwrap_or(false),
            },
            "heal" => match (&s.from, &s.to) {
                (None, None) => Action::Heal(None),
                _ => Action::Heal(Some((
                    self.host(s.from.as_ref(), at.clone(), &f("from"))?,
                    self.host(s.to.as_ref(), at.clone(), &f("to"))?,
                ))),
            },
            "hold" => Action::Hold {
                from: self.host(s.from.as_ref(), at.clone(), &f("from"))?,
                to: self.host(s.to.as_ref(), at.clone(), &f("to"))?,
            },
            "release" => Action::Release {
                from: self.host(s.from.as_ref(), at.clone(), &f("from"))?,
                to: self.host(s.to.as_ref(), at.clone(), &f("to"))?,
            },
            "crash" | "restart" => {
                let Some(p) = &s.provider else {
                    return self
                        .ctx
                        .error(at, &f("provider"), "missing: expected a provider");
                };
                let p = self.provider(p, &f("provider"))?;
                if action_name == "crash" {
                    Action::Crash(p)
                } else {
                    Action::Restart(p)
                }
            }
            "offline" => {
                let Some(epochs) = &s.epochs else {
                    return self.ctx.error(
                        at,
                        &f("epochs"),
                        "missing: expected how many epochs the member stays offline",
                    );
                };
                Action::Offline {
                    user: user(self, s.user.as_ref(), "user")?,
                    room: room(self)?,
                    epochs: *epochs.get_ref(),
                }
            }
            "set_link" => {
                let from = self.host(s.from.as_ref(), at.clone(), &f("from"))?;
                let to = self.host(s.to.as_ref(), at.clone(), &f("to"))?;
                let link = self.link_fields(
                    LinkSpec::default(),
                    &f("link"),
                    s.latency.as_ref(),
                    s.jitter.as_ref(),
                    s.loss.as_ref(),
                    s.duplicate.as_ref(),
                    s.reorder.as_ref(),
                    s.bandwidth.as_ref(),
                )?;
                Action::SetLink { from, to, link }
            }
            "wait" => {
                let Some(d) = &s.duration else {
                    return self.ctx.error(
                        at,
                        &f("duration"),
                        "missing: expected e.g. duration = \"5s\"",
                    );
                };
                Action::Wait(self.duration(d, &f("duration"))?)
            }
            "misbehave" => self.misbehave_step(s, at.clone(), &f)?,
            "ghost_invite" => {
                let room = room(self)?;
                let by = user(self, s.by.as_ref(), "by")?;
                let mut users = Vec::new();
                for u in s.users.iter().flat_map(|l| l.get_ref()) {
                    let name = user(self, Some(u), "users")?;
                    if name == by {
                        return self.ctx.error(
                            u.span(),
                            &f("users"),
                            format!("`{by}` cannot add itself"),
                        );
                    }
                    users.push(name);
                }
                if users.is_empty() {
                    return self.ctx.error(
                        at,
                        &f("users"),
                        "missing: expected `users = [...]`, the ghosts to add",
                    );
                }
                Action::GhostInvite { room, by, users }
            }
            other => {
                return self.ctx.error(s.action.span(), &format!("step {index}.action"), format!(
                    "unknown action `{other}`: expected create, invite, join_external, send, update, remove, leave, switch_provider, concurrent, partition, heal, hold, release, crash, restart, offline, set_link, wait, misbehave or ghost_invite"
                ));
            }
        };
        Ok(Step {
            index,
            line,
            action,
        })
    }

    /// `action = "misbehave"`: provider, behaviours (known names), user for the targeted
    /// ones, epochs for `delay`.
    fn misbehave_step(
        &self,
        s: &RawStep,
        at: std::ops::Range<usize>,
        f: &dyn Fn(&str) -> String,
    ) -> Result<Action, ScenarioError> {
        let Some(p) = &s.provider else {
            return self.ctx.error(
                at,
                &f("provider"),
                "missing: expected the provider that misbehaves",
            );
        };
        let provider = self.provider(p, &f("provider"))?;
        let Some(list) = &s.behaviours else {
            return self.ctx.error(
                at,
                &f("behaviours"),
                format!(
                    "missing: expected behaviours = [...] from {} ([] makes the provider honest again)",
                    Behaviour::known()
                ),
            );
        };
        let mut behaviours = Vec::new();
        for b in list.get_ref() {
            let Some(behaviour) = Behaviour::parse(b.get_ref()) else {
                return self.ctx.error(
                    b.span(),
                    &f("behaviours"),
                    format!(
                        "unknown behaviour `{}`: expected one of {}",
                        b.get_ref(),
                        Behaviour::known()
                    ),
                );
            };
            if behaviours.contains(&behaviour) {
                return self.ctx.error(
                    b.span(),
                    &f("behaviours"),
                    format!("`{}` listed twice", b.get_ref()),
                );
            }
            behaviours.push(behaviour);
        }
        let targeted = behaviours.iter().any(|b| b.needs_target());
        let target = match (&s.user, targeted) {
            (Some(u), true) => Some(self.user(Some(u), at.clone(), &f("user"))?),
            (None, true) => {
                return self.ctx.error(
                    at,
                    &f("user"),
                    "missing: delay and reorder-epochs need the user they aim at",
                );
            }
            (Some(u), false) => {
                return self.ctx.error(
                    u.span(),
                    &f("user"),
                    "only delay and reorder-epochs aim at a user",
                );
            }
            (None, false) => None,
        };
        let epochs = match &s.epochs {
            Some(e) if !behaviours.contains(&Behaviour::Delay) => {
                return self.ctx.error(
                    e.span(),
                    &f("epochs"),
                    "epochs is how long delay holds a commit: only with delay",
                );
            }
            Some(e) if *e.get_ref() == 0 => {
                return self
                    .ctx
                    .error(e.span(), &f("epochs"), "expected at least 1");
            }
            Some(e) => *e.get_ref(),
            None => 2,
        };
        Ok(Action::Misbehave {
            provider,
            behaviours,
            target,
            epochs,
        })
    }

    /// `check = "misbehaviour"`: a known behaviour that a step switches on, and the
    /// expectation conformant clients meet for it.
    fn misbehaviour_check(&self, a: &RawAssert, steps: &[Step]) -> Result<Check, ScenarioError> {
        let Some(b) = &a.behaviour else {
            return self.ctx.error(
                a.check.span(),
                "assert.behaviour",
                format!("missing: expected one of {}", Behaviour::known()),
            );
        };
        let Some(behaviour) = Behaviour::parse(b.get_ref()) else {
            return self.ctx.error(
                b.span(),
                "assert.behaviour",
                format!(
                    "unknown behaviour `{}`: expected one of {}",
                    b.get_ref(),
                    Behaviour::known()
                ),
            );
        };
        let wanted = behaviour.expect();
        match &a.expect {
            None => {
                return self.ctx.error(
                    a.check.span(),
                    "assert.expect",
                    format!("missing: expected expect = \"{}\"", wanted.name()),
                );
            }
            Some(e) => match Expect::parse(e.get_ref()) {
                Some(x) if x == wanted => {}
                Some(_) => {
                    return self.ctx.error(
                        e.span(),
                        "assert.expect",
                        format!(
                            "what conformant clients do about {} is `{}`: expected expect = \"{}\"",
                            behaviour.name(),
                            wanted.name(),
                            wanted.name()
                        ),
                    );
                }
                None => {
                    return self.ctx.error(
                        e.span(),
                        "assert.expect",
                        format!("`{}`: expected detected or rejected", e.get_ref()),
                    );
                }
            },
        }
        let switched = steps.iter().any(|s| {
            matches!(&s.action, Action::Misbehave { behaviours, .. } if behaviours.contains(&behaviour))
        });
        if !switched {
            return self.ctx.error(
                b.span(),
                "assert.behaviour",
                format!("no misbehave step switches `{}` on", behaviour.name()),
            );
        }
        Ok(Check::Misbehaviour(behaviour))
    }
}
