//! `concord interop --export-vectors DIR`: every case, failed ones included, as a
//! passive-client test vector in the working group's format, with the reference as the
//! passive member, so that an implementer adds a case Concord found to its own unit tests
//! and `concord vectors verify DIR` checks it again.
//!
//! ```text
//! case ──passive logs: each member that joined by Welcome (super::passive)──┐
//!   the passive member, first found of:                                     │
//!     a member played by the reference: the vector holds what its client    │
//!       computed on the wire (the epoch authenticators it answered)         │
//!     a reference shadow of another joiner: its keys, the Welcome and the   │
//!       commits it was handed; the reference computes the authenticators    │
//!   (among several: the one followed through the most epochs)               │
//!   ──> no epochs: passive-client-welcome.json                              │
//!       epochs:    passive-client-handling-commit.json                      │
//!   none usable ──> not exported, with the reason                           │
//! index.json: each vector (file, index) → case id, verdict, reproducer,     │
//!   passive member, where and why it ends; each case not exported → why  <──┘
//! the written files ──the check `concord vectors verify` runs──> each vector's
//!   `check` in index.json
//! ```
//!
//! A vector ends where its passive member stopped being passive (its own proposal or
//! commit, a branch, a reinit), where the reference refused a message (the last epoch it
//! accepted is the vector's last), or where a commit removes the member. Vector files
//! hold only the format's fields: what a vector came from is in index.json.

use std::path::{Path, PathBuf};

use concord_reference::codec::Codec;
use concord_reference::commit::CommitOutcome;
use concord_reference::group::{
    Group, GroupConfig, HandshakeMode, KeyPackageSecrets, PskStore, Received,
};
use concord_reference::messages::{MlsMessage, MlsMessageBody, RatchetTree};
use serde::Serialize;

use super::attribution::{KeyPackageRecord, signature_private_key};
use super::matrix::CaseRecord;
use super::passive::{HandledCommit, PassiveLog};
use super::runner::Verdict;
use crate::vectors::HexBytes;

/// The index written beside the vector files.
pub const INDEX_FILE: &str = "index.json";

/// The two official families an exported vector goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorFamily {
    /// A join and no epochs after it.
    Welcome,
    /// A join, then one or more commits.
    HandlingCommit,
}

impl VectorFamily {
    pub const ALL: [VectorFamily; 2] = [VectorFamily::Welcome, VectorFamily::HandlingCommit];

    /// The family's file stem, as `concord vectors verify` knows it.
    pub fn name(self) -> &'static str {
        match self {
            VectorFamily::Welcome => "passive-client-welcome",
            VectorFamily::HandlingCommit => "passive-client-handling-commit",
        }
    }

    pub fn file(self) -> String {
        format!("{}.json", self.name())
    }
}

/// How the passive member of a vector followed the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The reference shadowing a joiner played by another client.
    Shadow,
    /// A member played by the reference itself.
    Reference,
}

/// One case's vector, before it is placed in a file.
#[derive(Debug, Clone)]
pub struct Exported {
    pub family: VectorFamily,
    /// The vector, in the format's fields only.
    pub vector: serde_json::Value,
    pub member: Member,
    /// Why the vector stops before the case's end, when it does.
    pub ended: Option<String>,
    /// Where the member's client and the reference disagreed.
    pub notes: Vec<String>,
}

/// The passive member of a vector, as index.json names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub actor: String,
    /// Its client's name in the run.
    pub client: String,
    pub role: Role,
    /// The script step of its join.
    pub joined_at_step: Option<usize>,
    /// The script step of each epoch's commit, in the vector's order.
    pub epoch_steps: Vec<Option<usize>>,
}

/// The vector of a case, or why it has none.
pub type CaseExport = Result<Exported, String>;

/// The vector of a case from its passive logs: `specs` and `names` are the run's client
/// specifications and names (a member is played by the reference when its client's
/// specification is `reference`).
pub fn build(logs: &[PassiveLog], encrypt: bool, specs: &[String], names: &[String]) -> CaseExport {
    if logs.is_empty() {
        return Err(
            "no member joined by Welcome in this case: nothing for a passive client to replay"
                .into(),
        );
    }
    let role_of = |log: &PassiveLog| {
        if specs.get(log.client).is_some_and(|s| s == "reference") {
            Role::Reference
        } else {
            Role::Shadow
        }
    };
    // Best first: the reference's own members, then the longest logs (a log's length
    // bounds its vector's), the earliest join among equals.
    let mut candidates: Vec<&PassiveLog> = logs.iter().collect();
    candidates.sort_by_key(|log| std::cmp::Reverse((role_of(log), log.epochs.len())));
    let rank = |e: &Exported| (e.member.role, e.member.epoch_steps.len());
    let mut best: Option<Exported> = None;
    let mut reasons = Vec::new();
    for log in candidates {
        let role = role_of(log);
        if best
            .as_ref()
            .is_some_and(|b| rank(b) >= (role, log.epochs.len()))
        {
            break;
        }
        let client = names
            .get(log.client)
            .cloned()
            .unwrap_or_else(|| format!("#{}", log.client));
        match vector_of(log, encrypt, role, &client) {
            Ok(exported) => {
                if best.as_ref().is_none_or(|b| rank(&exported) > rank(b)) {
                    best = Some(exported);
                }
            }
            Err(why) => reasons.push(why),
        }
    }
    best.ok_or_else(|| reasons.join("; "))
}

fn at_step(step: Option<usize>) -> String {
    step.map_or_else(|| "after the last step".into(), |s| format!("at step {s}"))
}

#[derive(Serialize)]
struct ExternalPsk {
    psk_id: HexBytes,
    psk: HexBytes,
}

/// An epoch of the working group's passive-client format.
#[derive(Serialize)]
struct VectorEpoch {
    proposals: Vec<HexBytes>,
    commit: HexBytes,
    epoch_authenticator: HexBytes,
}

/// A case of the working group's passive-client format (the fields
/// `crate::vectors::passive_client_welcome` reads, no others).
#[derive(Serialize)]
struct VectorCase {
    cipher_suite: u16,
    external_psks: Vec<ExternalPsk>,
    key_package: HexBytes,
    signature_priv: HexBytes,
    encryption_priv: HexBytes,
    init_priv: HexBytes,
    welcome: HexBytes,
    ratchet_tree: Option<HexBytes>,
    initial_epoch_authenticator: HexBytes,
    epochs: Vec<VectorEpoch>,
}

/// One log as a vector: what the member's client answered when the reference played it,
/// what the reference computes following it otherwise.
fn vector_of(log: &PassiveLog, encrypt: bool, role: Role, client: &str) -> CaseExport {
    let actor = &log.actor;
    let given = log.key_package.as_ref().ok_or_else(|| {
        format!("{actor} joined with a key package whose private keys were not handed out")
    })?;
    // The signature key in the form the reference reads (some clients hand out an Ed25519
    // key as the seed followed by the public key), as the format's `signature_priv` is.
    let record = &KeyPackageRecord {
        signature_private: signature_private_key(&given.key_package, &given.signature_private),
        ..given.clone()
    };
    if record.init_private.is_empty()
        || record.encryption_private.is_empty()
        || record.signature_private.is_empty()
    {
        return Err(format!(
            "{actor}'s client ({client}) handed out no private keys with its key package"
        ));
    }
    let joined_at = at_step(log.step);
    if let (Role::Reference, Err(why)) = (role, &log.joined) {
        return Err(format!(
            "{actor} (the reference) refused the Welcome {joined_at}: {why}"
        ));
    }
    let mut group = replay_join(log, record, encrypt).map_err(|e| {
        format!(
            "the reference, joining as {actor} with its keys, refuses the Welcome {joined_at}: {e}"
        )
    })?;
    let mut notes = Vec::new();
    let computed = group.epoch_authenticator().to_vec();
    let initial = settle(
        role,
        &log.joined,
        computed,
        &format!("the Welcome {joined_at}"),
        (actor, client),
        &mut notes,
    );
    let mut epochs = Vec::new();
    let mut epoch_steps = Vec::new();
    let mut ended = log.ended.clone();
    for handled in &log.epochs {
        let at = at_step(handled.step);
        let committer = &handled.committer;
        if let (Role::Reference, Err(why)) = (role, &handled.outcome) {
            ended = Some(format!(
                "{actor} (the reference) refused the commit of {committer} {at}: {why}; the vector ends at the last epoch it accepted"
            ));
            break;
        }
        match replay_commit(&mut group, handled) {
            Err(e) => {
                let member = match (&handled.outcome, role) {
                    (Ok(_), Role::Shadow) => format!("; {actor}'s client ({client}) accepted it"),
                    (Err(why), Role::Shadow) => {
                        format!("; {actor}'s client ({client}) refused it too: {why}")
                    }
                    (_, Role::Reference) => String::new(),
                };
                ended = Some(format!(
                    "the reference, as {actor}, refuses the commit of {committer} {at}: {e}{member}; the vector ends at the last epoch it accepted"
                ));
                break;
            }
            Ok(None) => {
                ended = Some(format!(
                    "the commit of {committer} {at} removes {actor}: a passive client is never removed"
                ));
                break;
            }
            Ok(Some(computed)) => {
                let authenticator = settle(
                    role,
                    &handled.outcome,
                    computed,
                    &format!("the commit of {committer} {at}"),
                    (actor, client),
                    &mut notes,
                );
                epochs.push(VectorEpoch {
                    proposals: handled.proposals.iter().cloned().map(HexBytes).collect(),
                    commit: HexBytes(handled.commit.clone()),
                    epoch_authenticator: HexBytes(authenticator),
                });
                epoch_steps.push(handled.step);
            }
        }
    }
    let family = if epochs.is_empty() {
        VectorFamily::Welcome
    } else {
        VectorFamily::HandlingCommit
    };
    let key_package =
        MlsMessage::new(MlsMessageBody::KeyPackage(record.key_package.clone())).to_bytes();
    let case = VectorCase {
        cipher_suite: record.key_package.cipher_suite.0,
        external_psks: log
            .external_psks
            .iter()
            .map(|(id, secret)| ExternalPsk {
                psk_id: HexBytes(id.clone()),
                psk: HexBytes(secret.clone()),
            })
            .collect(),
        key_package: HexBytes(key_package),
        signature_priv: HexBytes(record.signature_private.clone()),
        encryption_priv: HexBytes(record.encryption_private.clone()),
        init_priv: HexBytes(record.init_private.clone()),
        welcome: HexBytes(log.welcome.clone()),
        ratchet_tree: (!log.ratchet_tree.is_empty()).then(|| HexBytes(log.ratchet_tree.clone())),
        initial_epoch_authenticator: HexBytes(initial),
        epochs,
    };
    let vector = serde_json::to_value(&case)
        .map_err(|e| format!("the vector of {actor} cannot be written as JSON: {e}"))?;
    Ok(Exported {
        family,
        vector,
        member: Member {
            actor: actor.clone(),
            client: client.to_string(),
            role,
            joined_at_step: log.step,
            epoch_steps,
        },
        ended,
        notes,
    })
}

/// The epoch authenticator a vector holds for one message the reference accepted: the
/// one the reference answered on the wire when it played the member, the one it computes
/// as a shadow otherwise. Where the member's client said otherwise, a note.
fn settle(
    role: Role,
    answered: &Result<Vec<u8>, String>,
    computed: Vec<u8>,
    what: &str,
    (actor, client): (&str, &str),
    notes: &mut Vec<String>,
) -> Vec<u8> {
    match answered {
        Ok(wire) if *wire == computed => computed,
        Ok(wire) => {
            notes.push(format!(
                "{actor}'s client ({client}) answered the epoch authenticator {} after {what}; the reference following it computes {}",
                hex::encode(wire),
                hex::encode(&computed)
            ));
            match role {
                Role::Reference => wire.clone(),
                Role::Shadow => computed,
            }
        }
        Err(why) => {
            notes.push(format!(
                "{actor}'s client ({client}) refused {what}, which the reference accepts: {why}"
            ));
            computed
        }
    }
}

/// The reference joins as the log's member: its keys (`record`), the Welcome and tree it
/// was handed, the external PSKs stored at it.
fn replay_join(
    log: &PassiveLog,
    record: &KeyPackageRecord,
    encrypt: bool,
) -> Result<Group, String> {
    let message = MlsMessage::from_bytes(&log.welcome).map_err(|e| e.to_string())?;
    let MlsMessageBody::Welcome(welcome) = message.body else {
        return Err("not an MLSMessage carrying a Welcome".into());
    };
    let tree = if log.ratchet_tree.is_empty() {
        None
    } else {
        Some(
            RatchetTree::from_bytes(&log.ratchet_tree)
                .map_err(|e| format!("the ratchet tree given out of band: {e}"))?,
        )
    };
    let secrets = KeyPackageSecrets {
        init_private: record.init_private.clone(),
        encryption_private: record.encryption_private.clone(),
        signature_private: record.signature_private.clone(),
    };
    let psks = PskStore {
        external: log.external_psks.iter().cloned().collect(),
        ..PskStore::default()
    };
    let config = GroupConfig {
        handshake: if encrypt {
            HandshakeMode::Private
        } else {
            HandshakeMode::Public
        },
        ..GroupConfig::default()
    };
    Group::join(
        &welcome,
        &record.key_package,
        &secrets,
        tree.as_ref(),
        &psks,
        config,
    )
    .map_err(|e| e.to_string())
}

/// The reference, as the member, takes the proposals and the commit it was handed: the new
/// epoch authenticator, `None` if the commit removes it.
fn replay_commit(group: &mut Group, handled: &HandledCommit) -> Result<Option<Vec<u8>>, String> {
    for (k, proposal) in handled.proposals.iter().enumerate() {
        let message = MlsMessage::from_bytes(proposal).map_err(|e| format!("proposal {k}: {e}"))?;
        group
            .cache_proposal_message(&message)
            .map_err(|e| format!("proposal {k}: {e}"))?;
    }
    match group
        .process_message_bytes(&handled.commit)
        .map_err(|e| e.to_string())?
    {
        Received::Commit(CommitOutcome::Removed) => Ok(None),
        Received::Commit(CommitOutcome::Advanced { .. }) => {
            Ok(Some(group.epoch_authenticator().to_vec()))
        }
        _ => Err("not a commit".into()),
    }
}

/// A vector's line in index.json.
#[derive(Debug, Clone, Serialize)]
struct IndexEntry {
    file: String,
    /// Its index in the file (from 0): `concord vectors verify DIR --only FAMILY:INDEX`.
    index: usize,
    case: String,
    verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expectation: Option<String>,
    reproduce: String,
    passive_member: Member,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    /// What `concord vectors verify` says of it: `passed`, or the failure.
    check: String,
}

/// A case with no vector, in index.json.
#[derive(Debug, Clone, Serialize)]
pub struct NotExported {
    pub case: String,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub reproduce: String,
    pub reason: String,
}

#[derive(Serialize)]
struct Index<'a> {
    run_tag: &'a str,
    seed: u64,
    vectors: &'a [IndexEntry],
    not_exported: &'a [NotExported],
}

/// The vectors of a run, gathered case by case in plan order, written at its end.
#[derive(Debug)]
pub struct Exporter {
    dir: PathBuf,
    files: [Vec<serde_json::Value>; 2],
    /// For each family, the place in `entries` of each of its vectors.
    positions: [Vec<usize>; 2],
    entries: Vec<IndexEntry>,
    not_exported: Vec<NotExported>,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    pub dir: PathBuf,
    /// Vectors per family, in [`VectorFamily::ALL`] order.
    pub counts: [usize; 2],
    pub not_exported: Vec<NotExported>,
    /// Vectors the reference checks again without a failure, and the failures as
    /// `file:index: detail`.
    pub checked: usize,
    pub check_failures: Vec<String>,
}

impl ExportSummary {
    /// The lines `concord interop` prints after the run, at most `limit` of them for the
    /// cases not exported.
    pub fn lines(&self, limit: usize) -> Vec<String> {
        let total: usize = self.counts.iter().sum();
        let mut lines = vec![format!(
            "export: {total} passive-client vector(s) in {} ({} {}, {} {}), {} case(s) not exported; {INDEX_FILE} names the case of each",
            self.dir.display(),
            VectorFamily::Welcome.file(),
            self.counts[0],
            VectorFamily::HandlingCommit.file(),
            self.counts[1],
            self.not_exported.len(),
        )];
        lines.push(format!(
            "export: checked again as `concord vectors verify {}` does: {} passed, {} failed",
            self.dir.display(),
            self.checked,
            self.check_failures.len()
        ));
        lines.extend(
            self.check_failures
                .iter()
                .map(|f| format!("export: check failed: {f}")),
        );
        for skipped in self.not_exported.iter().take(limit) {
            lines.push(format!(
                "export: not exported: {}: {}",
                skipped.case, skipped.reason
            ));
        }
        if self.not_exported.len() > limit {
            lines.push(format!(
                "export: ... and {} more case(s) not exported: {INDEX_FILE} lists every one",
                self.not_exported.len() - limit
            ));
        }
        lines
    }
}

fn problem_of(record: &CaseRecord) -> Option<String> {
    record.result.problem.as_ref().map(|p| {
        let step = p.step.map(|s| format!("step {s} ")).unwrap_or_default();
        let action = p
            .action
            .as_deref()
            .map(|a| format!("({a}) "))
            .unwrap_or_default();
        format!("{step}{action}{}: {}", p.check, p.detail)
    })
}

impl Exporter {
    /// An exporter writing into `dir`, created now (a folder that cannot be made is found
    /// before any case runs).
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Exporter {
            dir: dir.to_path_buf(),
            files: [Vec::new(), Vec::new()],
            positions: [Vec::new(), Vec::new()],
            entries: Vec::new(),
            not_exported: Vec::new(),
        })
    }

    /// Adds a finished case with its vector, or the reason it has none.
    pub fn add(&mut self, record: &CaseRecord, export: CaseExport) {
        let problem = problem_of(record);
        match export {
            Ok(exported) => {
                let slot = match exported.family {
                    VectorFamily::Welcome => 0,
                    VectorFamily::HandlingCommit => 1,
                };
                self.files[slot].push(exported.vector);
                self.positions[slot].push(self.entries.len());
                self.entries.push(IndexEntry {
                    file: exported.family.file(),
                    index: self.files[slot].len() - 1,
                    case: record.result.id.clone(),
                    verdict: record.result.verdict,
                    problem,
                    expectation: record.expectation.clone(),
                    reproduce: record.reproduce.clone(),
                    passive_member: exported.member,
                    ended: exported.ended,
                    notes: exported.notes,
                    check: "not checked".into(),
                });
            }
            Err(reason) => self.not_exported.push(NotExported {
                case: record.result.id.clone(),
                verdict: record.result.verdict,
                problem,
                reproduce: record.reproduce.clone(),
                reason,
            }),
        }
    }

    /// Writes both family files (an empty array for a family with no vector, so no file
    /// of an earlier export is left behind), checks them as `concord vectors verify`
    /// does, and writes index.json with each vector's check.
    pub fn finish(mut self, run_tag: &str, seed: u64) -> std::io::Result<ExportSummary> {
        let mut summary = ExportSummary {
            dir: self.dir.clone(),
            ..ExportSummary::default()
        };
        for (slot, family) in VectorFamily::ALL.iter().enumerate() {
            let path = self.dir.join(family.file());
            let text =
                serde_json::to_string_pretty(&self.files[slot]).map_err(std::io::Error::other)?;
            std::fs::write(&path, text + "\n")?;
            summary.counts[slot] = self.files[slot].len();
            let Some(known) = crate::vectors::family(family.name()) else {
                continue;
            };
            let report = crate::vectors::verify_file(known, &path);
            if let Some(error) = &report.input_error {
                summary.check_failures.push(error.clone());
            }
            for case in &report.case_reports {
                let Some(entry) = self.positions[slot]
                    .get(case.index)
                    .and_then(|&at| self.entries.get_mut(at))
                else {
                    continue;
                };
                entry.check = match &case.verdict {
                    crate::vectors::CaseVerdict::Passed => {
                        summary.checked += 1;
                        "passed".into()
                    }
                    crate::vectors::CaseVerdict::Failed { field, detail } => {
                        let failure = format!("field `{field}`: {detail}");
                        summary.check_failures.push(format!(
                            "{}:{} ({}): {failure}",
                            entry.file, entry.index, entry.case
                        ));
                        format!("failed: {failure}")
                    }
                    crate::vectors::CaseVerdict::Skipped { reason } => {
                        format!("skipped: {reason}")
                    }
                };
            }
        }
        let index = Index {
            run_tag,
            seed,
            vectors: &self.entries,
            not_exported: &self.not_exported,
        };
        let text = serde_json::to_string_pretty(&index).map_err(std::io::Error::other)?;
        std::fs::write(self.dir.join(INDEX_FILE), text + "\n")?;
        summary.not_exported = std::mem::take(&mut self.not_exported);
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_without_keys(actor: &str) -> PassiveLog {
        PassiveLog {
            actor: actor.into(),
            client: 0,
            step: Some(3),
            key_package: None,
            welcome: Vec::new(),
            ratchet_tree: Vec::new(),
            joined: Ok(vec![1; 32]),
            external_psks: Vec::new(),
            epochs: Vec::new(),
            ended: None,
        }
    }

    fn specs() -> (Vec<String>, Vec<String>) {
        (vec!["reference".into()], vec!["concord-reference".into()])
    }

    #[test]
    fn a_case_without_a_join_has_no_vector_and_says_why() {
        let (specs, names) = specs();
        let why = build(&[], true, &specs, &names).unwrap_err();
        assert!(why.contains("no member joined by Welcome"), "{why}");
    }

    #[test]
    fn a_joiner_whose_private_keys_are_unknown_is_not_exported() {
        let (specs, names) = specs();
        let logs = [log_without_keys("bob"), log_without_keys("carol")];
        let why = build(&logs, false, &specs, &names).unwrap_err();
        assert!(why.contains("bob joined with a key package"), "{why}");
        assert!(why.contains("carol joined with a key package"), "{why}");
    }

    #[test]
    fn the_cases_not_exported_are_printed_up_to_the_limit() {
        let skipped = |n: usize| NotExported {
            case: format!("case-{n}"),
            verdict: Verdict::Passed,
            problem: None,
            reproduce: String::new(),
            reason: "no member joined by Welcome".into(),
        };
        let summary = ExportSummary {
            dir: PathBuf::from("out"),
            counts: [2, 1],
            not_exported: (0..3).map(skipped).collect(),
            checked: 3,
            check_failures: Vec::new(),
        };
        let lines = summary.lines(1);
        assert!(lines[0].starts_with("export: 3 passive-client vector(s) in out"));
        assert!(lines[1].ends_with("3 passed, 0 failed"), "{lines:?}");
        assert_eq!(
            lines[2],
            "export: not exported: case-0: no member joined by Welcome"
        );
        assert!(
            lines[3].contains("2 more case(s) not exported"),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 4);
    }
}
