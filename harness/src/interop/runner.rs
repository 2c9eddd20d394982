//! One case: a script run over an assignment of clients to actors, in one cipher suite and
//! one handshake mode, to a verdict.
//!
//! ```text
//! CaseSpec ──run_case──> for each step: actions (RPCs via the pool's workers)
//!                          │   every call ──> transcript line
//!                          │   every emitted message ──> strict decode (checks)
//!                          │   every commit and join ──> agreement (checks)
//!                          └─> first stop (failed / unsupported / client fault) or passed
//!                        then Free every state the case still holds
//! ```
//!
//! Each actor has its own state, transaction and signer ids; actors assigned the same client
//! share that client (one process per implementation, as in the working group's runner).

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Serialize;

use super::attribution::KeyPackageRecord;
use super::checks::{EpochKey, EpochRecord};
use super::config::{Action, Script};
use super::findings::Findings;
use super::transcript::{Entry, Transcript};
use super::worker::{CallError, Health, Worker};
use crate::client::{ClientError, ClientUnderTest, proto};

/// The clients of a run, one worker each, with their display names.
#[derive(Debug)]
pub struct Pool {
    pub workers: Vec<Worker>,
    pub names: Vec<String>,
    /// Each client's health, shared by every lane: a client found dead or poisoned is
    /// not called again (its remaining cases are not run). Empty: every client healthy.
    pub health: Vec<std::sync::Arc<Health>>,
    /// Findings reported once per client (an empty Export, ...), shared by every lane.
    pub findings: std::sync::Arc<Findings>,
}

impl Pool {
    /// A pool of healthy clients with no shared findings (one lane, tests).
    pub fn new(workers: Vec<Worker>, names: Vec<String>) -> Self {
        let health = workers
            .iter()
            .map(|w| std::sync::Arc::new(Health::new(w.restartable())))
            .collect();
        Pool {
            workers,
            names,
            health,
            findings: std::sync::Arc::default(),
        }
    }
}

/// What one case runs.
#[derive(Debug, Clone)]
pub struct CaseSpec<'a> {
    /// Stable identifier, written on every transcript line of the case.
    pub id: String,
    /// The case's place in the run's plan (findings keep the earliest case).
    pub position: usize,
    pub script: &'a Script,
    /// Actor → index into the pool, for every actor of the script.
    pub assignment: BTreeMap<String, usize>,
    pub suite: u16,
    pub encrypt_handshake: bool,
    /// Suites every assigned client supports (where a `changeCipherSuite` goes).
    pub common_suites: Vec<u16>,
    /// Seeds the case's group ids and PSKs, and tags its identities: it mixes the run tag
    /// with the case id, so that no two cases or runs share a group id or an identity.
    pub nonce: u64,
}

/// The verdict of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    /// A check failed: the clients disagree, refused a valid request, or emitted something
    /// that does not decode.
    Failed,
    /// A client answered Unsupported for an RPC the script needs: skipped, never failed.
    Unsupported,
    /// A client crashed, hung, was unreachable or answered garbage (exit code 3 class).
    ClientFault,
    /// Not run: a client it needs went down in an earlier case (counted as skipped).
    Skipped,
}

/// What decided a verdict other than `passed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The script step (`None`: before the first step or in the clean-up).
    pub step: Option<usize>,
    /// The step's action name.
    pub action: Option<String>,
    /// Which check: `refused`, `decode`, `epoch-authenticator`, `export-empty`, ...
    pub check: String,
    pub actor: Option<String>,
    pub client: Option<String>,
    pub detail: String,
    /// Transcript lines of the step (first, last), when it made calls.
    pub lines: Option<(u64, u64)>,
    /// The requirements the cause breaks, when the check that found it knows them (a
    /// validation of the client's output by the reference); empty: those of the check or
    /// of the refused action ([`super::requirements::for_problem`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<&'static str>,
}

/// A case's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    pub id: String,
    pub verdict: Verdict,
    pub problem: Option<Problem>,
    /// Things worth knowing that did not change the verdict (an Export not supported, ...).
    pub notes: Vec<String>,
    /// Transcript lines of the whole case (first, last).
    pub lines: Option<(u64, u64)>,
}

impl CaseResult {
    /// Adds `offset` to every transcript line number (a case run into its own memory
    /// transcript, appended to the run's transcript after `offset` lines).
    pub fn shift_lines(&mut self, offset: u64) {
        let shift = |lines: &mut Option<(u64, u64)>| {
            if let Some((first, last)) = lines {
                *first += offset;
                *last += offset;
            }
        };
        shift(&mut self.lines);
        if let Some(problem) = &mut self.problem {
            shift(&mut problem.lines);
        }
    }
}

/// Why a case stops early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stop {
    pub verdict: Verdict,
    pub check: String,
    pub actor: Option<String>,
    pub detail: String,
    /// The requirements of the cause, when known (see [`Problem::requirements`]).
    pub requirements: Vec<&'static str>,
}

impl Stop {
    pub(super) fn failed(check: &str, actor: Option<&str>, detail: impl Into<String>) -> Self {
        Stop {
            verdict: Verdict::Failed,
            check: check.into(),
            actor: actor.map(str::to_string),
            detail: detail.into(),
            requirements: Vec::new(),
        }
    }

    /// `actor`'s client emitted something that breaks the rules `requirements` name.
    pub(super) fn violation(
        check: &str,
        actor: &str,
        detail: impl Into<String>,
        requirements: &[&'static str],
    ) -> Self {
        Stop {
            requirements: requirements.to_vec(),
            ..Stop::failed(check, Some(actor), detail)
        }
    }

    /// The script asks for something the run cannot do (no Welcome at that step, ...).
    pub(super) fn script(detail: impl Into<String>) -> Self {
        Stop::failed("script", None, detail)
    }

    pub(super) fn unsupported(actor: Option<&str>, detail: impl Into<String>) -> Self {
        Stop {
            verdict: Verdict::Unsupported,
            check: "unsupported".into(),
            actor: actor.map(str::to_string),
            detail: detail.into(),
            requirements: Vec::new(),
        }
    }
}

/// What a step leaves for later steps.
#[derive(Debug, Clone, Default)]
pub(super) struct StepOutput {
    pub key_package: Option<Vec<u8>>,
    pub proposal: Option<Vec<u8>>,
    pub commit: Option<Vec<u8>>,
    pub welcome: Option<Vec<u8>>,
    pub ratchet_tree: Option<Vec<u8>>,
    pub group_info: Option<Vec<u8>>,
    pub psk: Option<(Vec<u8>, Vec<u8>)>,
    /// Ciphertext, authenticated data, plaintext of a `protect`.
    pub protected: Option<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

/// A case in progress.
pub(super) struct CaseRun<'a> {
    pool: &'a Pool,
    pub(super) spec: &'a CaseSpec<'a>,
    transcript: &'a mut Transcript,
    pub(super) suite: u16,
    pub(super) step: Option<usize>,
    step_lines: Option<(u64, u64)>,
    case_lines: Option<(u64, u64)>,
    pub(super) states: BTreeMap<String, u32>,
    pub(super) transactions: BTreeMap<String, u32>,
    pub(super) signers: BTreeMap<String, u32>,
    pub(super) signer_order: Vec<String>,
    /// Actor → the step of its latest commit, for `handlePendingCommit`.
    pub(super) pending: BTreeMap<String, usize>,
    pub(super) outputs: Vec<StepOutput>,
    pub(super) epochs: BTreeMap<EpochKey, EpochRecord>,
    /// The id of the group the script created first (a ReInit derives the new one from it).
    pub(super) group_id: Option<Vec<u8>>,
    pub(super) rng: ChaCha20Rng,
    pub(super) notes: Vec<String>,
    /// Every key package a client made in this case, with its private keys, by (actor,
    /// transaction id): what the reference needs to open the Welcomes made for it.
    pub(super) key_packages: BTreeMap<(String, u32), KeyPackageRecord>,
    /// External PSKs installed in this case: id → secret.
    pub(super) psk_secrets: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Shadow members: actor → the reference following that actor's state from its
    /// Welcome on (see [`super::attribution`]).
    pub(super) shadows: BTreeMap<String, concord_reference::group::Group>,
    /// Resumption secrets of groups the shadows followed: (group id, epoch) → secret.
    pub(super) resumption_secrets: BTreeMap<(Vec<u8>, u64), Vec<u8>>,
    /// Welcomes and commits already judged (by their bytes): each is judged once.
    pub(super) judged_welcomes: BTreeMap<Vec<u8>, super::attribution::WelcomeVerdict>,
    pub(super) judged_commits: BTreeMap<Vec<u8>, super::attribution::CommitVerdict>,
    /// The GroupContext extensions of the last Welcome the reference opened.
    pub(super) welcomed_extensions: Option<Vec<concord_reference::messages::Extension>>,
    /// What each member that joined by Welcome was handed (`--export-vectors`; `None`:
    /// not recorded).
    pub(super) passive: Option<super::passive::Recorder>,
}

/// Runs one case to its verdict. Never panics on anything a client sends.
pub fn run_case(pool: &Pool, spec: &CaseSpec<'_>, transcript: &mut Transcript) -> CaseResult {
    run_case_recorded(pool, spec, transcript, false).0
}

/// [`run_case`], also returning, when `record`, what each member that joined by Welcome
/// was handed ([`super::passive`]): the same calls, verdict and transcript either way.
pub(crate) fn run_case_recorded(
    pool: &Pool,
    spec: &CaseSpec<'_>,
    transcript: &mut Transcript,
    record: bool,
) -> (CaseResult, Vec<super::passive::PassiveLog>) {
    let mut run = CaseRun {
        pool,
        spec,
        transcript,
        suite: spec.suite,
        step: None,
        step_lines: None,
        case_lines: None,
        states: BTreeMap::new(),
        transactions: BTreeMap::new(),
        signers: BTreeMap::new(),
        signer_order: Vec::new(),
        pending: BTreeMap::new(),
        outputs: vec![StepOutput::default(); spec.script.steps.len()],
        epochs: BTreeMap::new(),
        group_id: None,
        rng: ChaCha20Rng::seed_from_u64(spec.nonce),
        notes: Vec::new(),
        key_packages: BTreeMap::new(),
        psk_secrets: BTreeMap::new(),
        shadows: BTreeMap::new(),
        resumption_secrets: BTreeMap::new(),
        welcomed_extensions: None,
        judged_welcomes: BTreeMap::new(),
        judged_commits: BTreeMap::new(),
        passive: record.then(super::passive::Recorder::default),
    };
    let mut problem = None;
    let mut verdict = Verdict::Passed;
    for (index, step) in spec.script.steps.iter().enumerate() {
        run.step = Some(index);
        run.step_lines = None;
        if let Err(stop) = run.run_step(index, &step.action, step.actor.as_deref()) {
            verdict = stop.verdict;
            problem = Some(run.problem(stop, Some(step.action_name.clone())));
            break;
        }
    }
    run.step = None;
    run.step_lines = None;
    if let Err(stop) = run.free_all()
        && verdict == Verdict::Passed
    {
        verdict = stop.verdict;
        problem = Some(run.problem(stop, None));
    }
    // A refusal may be the first sign of a server that stopped working (a poisoned lock
    // fails every later call): a healthy client still makes a key package.
    if verdict == Verdict::Failed
        && let Some(p) = &problem
        && p.check == "refused"
        && let Some(actor) = p.actor.clone()
        && let Some(since) = run.probe(&actor)
    {
        verdict = Verdict::ClientFault;
        if let Some(p) = &mut problem {
            p.check = "client-fault".into();
            p.detail = format!("{}; {since}", p.detail);
        }
    }
    let logs = run
        .passive
        .take()
        .map(super::passive::Recorder::finish)
        .unwrap_or_default();
    let result = CaseResult {
        id: spec.id.clone(),
        verdict,
        problem,
        notes: run.notes,
        lines: run.case_lines,
    };
    (result, logs)
}

impl CaseRun<'_> {
    fn run_step(&mut self, index: usize, action: &Action, actor: Option<&str>) -> Result<(), Stop> {
        let actor = actor.unwrap_or_default();
        match action {
            Action::CreateGroup { members } => self.create_group(index, actor, members),
            Action::CreateKeyPackage => self.create_key_package(index, actor),
            Action::JoinGroup { welcome } => self.join_group(actor, welcome.0),
            Action::InstallExternalPsk { clients } => self.install_external_psk(index, clients),
            Action::GroupInfo { external_tree } => self.group_info(index, actor, *external_tree),
            Action::AddProposal { .. }
            | Action::RemoveProposal { .. }
            | Action::UpdateProposal
            | Action::ExternalPskProposal { .. }
            | Action::ResumptionPskProposal { .. }
            | Action::GroupContextExtensionsProposal { .. } => self.propose(index, actor, action),
            Action::FullCommit {
                commit,
                members,
                joiners,
            } => self.full_commit(index, actor, commit, members, joiners),
            Action::Commit(commit) => self.commit_only(index, actor, commit).map(|_| ()),
            Action::HandleCommit {
                commit,
                by_reference,
            } => self.handle_commit(actor, commit.0, by_reference),
            Action::HandlePendingCommit => self.handle_pending_commit(index, actor),
            Action::Protect {
                authenticated_data,
                plaintext,
            } => self.protect(index, actor, authenticated_data, plaintext),
            Action::Unprotect { ciphertext } => self.unprotect(actor, ciphertext.0),
            Action::ExternalJoin {
                joiner,
                members,
                external_tree,
                remove_prior,
                psks,
            } => self.external_join(
                index,
                actor,
                joiner,
                members,
                (*external_tree, *remove_prior),
                psks,
            ),
            Action::ReInit(spec) => self.reinit(index, spec),
            Action::Branch {
                members,
                extensions,
                force_path,
                external_tree,
            } => self.branch(
                index,
                actor,
                members,
                extensions,
                (*force_path, *external_tree),
            ),
            Action::NewMemberAddProposal { joiner } => {
                self.new_member_add_proposal(index, actor, joiner)
            }
            Action::AddExternalSigner { signer } => self.add_external_signer(index, actor, signer),
            Action::ExternalSignerProposal {
                member,
                description,
            } => self.external_signer_proposal(index, actor, member, description),
        }
    }

    fn problem(&self, stop: Stop, action: Option<String>) -> Problem {
        let client = stop.actor.as_deref().and_then(|a| self.client_name(a));
        Problem {
            step: self.step,
            action,
            check: stop.check,
            client: client.map(str::to_string),
            actor: stop.actor,
            detail: stop.detail,
            lines: self.step_lines,
            requirements: stop.requirements,
        }
    }

    /// The identity of `actor` in this case: the actor's name tagged with the case's
    /// nonce, so that servers shared by every connection, or outliving a run, never see
    /// one identity in two cases.
    pub(super) fn identity(&self, actor: &str) -> Vec<u8> {
        format!("{actor}-{:08x}", self.spec.nonce as u32).into_bytes()
    }

    /// The client of `actor`: its index in the pool.
    pub(super) fn client_index(&self, actor: &str) -> Option<usize> {
        self.spec.assignment.get(actor).copied()
    }

    /// After `actor`'s client refused something: does it still work? A key package
    /// request answers that without touching any group. If it does not, the client is
    /// marked down for the rest of the run and the reason returned (`None`: healthy, or
    /// the probe says nothing, or another case already found it down).
    fn probe(&mut self, actor: &str) -> Option<String> {
        let index = self.client_index(actor)?;
        let health = self.pool.health.get(index)?;
        if health.restartable() || health.down_since().is_some() {
            return None;
        }
        let worker = self.pool.workers.get(index)?;
        let request = proto::CreateKeyPackageRequest {
            cipher_suite: self.suite.into(),
            identity: format!("concord-probe-{:08x}", self.spec.nonce as u32).into_bytes(),
        };
        let encoded = hex::encode(prost::Message::encode_to_vec(&request));
        let result = worker.call("CreateKeyPackage", request, |c, r| c.create_key_package(r));
        let client = self.pool.names.get(index).map_or("?", String::as_str);
        let line = self.transcript.write(&Entry {
            case: &self.spec.id,
            step: None,
            actor: "(health probe)",
            client,
            method: "CreateKeyPackage",
            request: encoded,
            response: result
                .as_ref()
                .ok()
                .map(|r| hex::encode(prost::Message::encode_to_vec(r))),
            error: result.as_ref().err().map(ToString::to_string),
        });
        self.case_lines = Some((self.case_lines.map_or(line, |(first, _)| first), line));
        match result {
            Ok(_) | Err(CallError::Client(ClientError::Unsupported { .. })) => None,
            Err(e) => {
                let why = format!(
                    "the client no longer works: a key package request after this refusal failed too ({e})"
                );
                health.mark_down(&self.spec.id, &why).then_some(why)
            }
        }
    }

    pub(super) fn pool(&self) -> &Pool {
        self.pool
    }

    pub(super) fn client_name(&self, actor: &str) -> Option<&str> {
        let index = *self.spec.assignment.get(actor)?;
        self.pool.names.get(index).map(String::as_str)
    }

    /// One RPC: logged, and its failure turned into the stop it means.
    pub(super) fn call<Req, Resp>(
        &mut self,
        actor: &str,
        method: &'static str,
        request: Req,
        f: fn(&mut dyn ClientUnderTest, Req) -> Result<Resp, ClientError>,
    ) -> Result<Resp, Stop>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Send + 'static,
    {
        self.call_raw(actor, method, request, f)?
            .map_err(|e| stop_for(actor, e))
    }

    /// One RPC, logged; the caller decides what an error means.
    pub(super) fn call_raw<Req, Resp>(
        &mut self,
        actor: &str,
        method: &'static str,
        request: Req,
        f: fn(&mut dyn ClientUnderTest, Req) -> Result<Resp, ClientError>,
    ) -> Result<Result<Resp, CallError>, Stop>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Send + 'static,
    {
        let pool = self.pool;
        let (worker, client) = self
            .spec
            .assignment
            .get(actor)
            .and_then(|&i| Some((pool.workers.get(i)?, pool.names.get(i)?)))
            .ok_or_else(|| Stop::script(format!("no client is assigned to `{actor}`")))?;
        self.passive_call(actor, method);
        let encoded = hex::encode(request.encode_to_vec());
        let health = self
            .spec
            .assignment
            .get(actor)
            .and_then(|&i| pool.health.get(i));
        let result = match health.and_then(|h| h.down_since()) {
            Some(since) => Err(CallError::Down { method, since }),
            None => worker.call(method, request, f),
        };
        // A client found gone or stuck is marked down once, by the first case to see it;
        // a case that meets it later (on another lane) is not run, not charged.
        let result = match (result, health) {
            (Err(e), Some(health)) if e.leaves_client_down() && !health.restartable() => {
                if health.mark_down(&self.spec.id, &e.to_string()) {
                    Err(e)
                } else {
                    Err(CallError::Down {
                        method,
                        since: health.down_since().unwrap_or_default(),
                    })
                }
            }
            (result, _) => result,
        };
        let (response, error) = match &result {
            Ok(response) => (Some(hex::encode(response.encode_to_vec())), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let line = self.transcript.write(&Entry {
            case: &self.spec.id,
            step: self.step,
            actor,
            client,
            method,
            request: encoded,
            response,
            error,
        });
        self.step_lines = Some((self.step_lines.map_or(line, |(first, _)| first), line));
        self.case_lines = Some((self.case_lines.map_or(line, |(first, _)| first), line));
        Ok(result)
    }

    pub(super) fn state(&self, actor: &str) -> Result<u32, Stop> {
        self.states.get(actor).copied().ok_or_else(|| {
            Stop::script(format!(
                "`{actor}` is not in a group at this step (no state to act on)"
            ))
        })
    }

    pub(super) fn output(&self, step: usize) -> &StepOutput {
        static EMPTY: StepOutput = StepOutput {
            key_package: None,
            proposal: None,
            commit: None,
            welcome: None,
            ratchet_tree: None,
            group_info: None,
            psk: None,
            protected: None,
        };
        self.outputs.get(step).unwrap_or(&EMPTY)
    }

    pub(super) fn output_mut(&mut self, step: usize) -> Result<&mut StepOutput, Stop> {
        self.outputs
            .get_mut(step)
            .ok_or_else(|| Stop::script(format!("step {step} is out of range")))
    }

    /// Frees every state the case holds. Unsupported and refused are ignored; a client
    /// fault is reported.
    fn free_all(&mut self) -> Result<(), Stop> {
        let states: Vec<(String, u32)> = std::mem::take(&mut self.states).into_iter().collect();
        let mut first_fault = None;
        for (actor, state_id) in states {
            let request = proto::FreeRequest { state_id };
            match self.call_raw(&actor, "Free", request, |c, r| c.free(r))? {
                Err(e) if e.is_client_fault() => {
                    first_fault.get_or_insert_with(|| stop_for(&actor, e));
                }
                Err(e @ CallError::Client(ClientError::Refused { .. })) => {
                    self.notes.push(format!("{actor}: {e}"));
                }
                _ => {}
            }
        }
        match first_fault {
            Some(stop) => Err(stop),
            None => Ok(()),
        }
    }
}

/// What a failed call means for the case.
pub(super) fn stop_for(actor: &str, error: CallError) -> Stop {
    let verdict = if matches!(error, CallError::Down { .. }) {
        Verdict::Skipped
    } else if error.is_client_fault() {
        Verdict::ClientFault
    } else if matches!(error, CallError::Client(ClientError::Unsupported { .. })) {
        Verdict::Unsupported
    } else {
        Verdict::Failed
    };
    let check = match verdict {
        Verdict::ClientFault => "client-fault",
        Verdict::Unsupported => "unsupported",
        Verdict::Skipped => "client-down",
        _ => "refused",
    };
    Stop {
        verdict,
        check: check.into(),
        actor: Some(actor.to_string()),
        detail: error.to_string(),
        requirements: Vec::new(),
    }
}
