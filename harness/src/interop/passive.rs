//! What each member that joined by Welcome was handed, kept for `--export-vectors`: the
//! material of a passive-client test vector, as it went over the wire.
//!
//! ```text
//! JoinGroup (Welcome, tree out of band) ──> a log starts: the joiner's KeyPackage and
//!                                           private keys, what its client answered
//! HandleCommit at that member ────────────> (proposals, commit, answer) appended;
//!                                           a refusal ends the log
//! StorePSK at that actor ─────────────────> its external PSKs
//! any other call that changes its state ──> the log ends: a passive client only
//!   (a proposal or commit of its own,        receives, in one group
//!    a branch, a reinit, a new join)
//! ```
//!
//! Recording makes no call and changes nothing the case decides: a case run with it gives
//! the same verdict and the same transcript as without.

use std::collections::BTreeMap;

use super::attribution::KeyPackageRecord;
use super::runner::{CaseRun, Stop};
use crate::client::proto;

/// The calls after which a member is still a passive client of the group it joined:
/// receiving, reading its state, application messages, PSKs, key packages for later.
const PASSIVE_CALLS: &[&str] = &[
    "HandleCommit",
    "Export",
    "StateAuth",
    "Protect",
    "Unprotect",
    "StorePSK",
    "GroupInfo",
    "Free",
    "CreateKeyPackage",
    "Name",
    "SupportedCiphersuites",
];

/// An external PSK stored at an actor: (psk_id, secret).
pub(crate) type StoredPsk = (Vec<u8>, Vec<u8>);

/// The proposals (MLSMessages) and the commit handed to a followed member.
pub(crate) type Handed = (Vec<Vec<u8>>, Vec<u8>);

/// One member's life as a passive client, from its Welcome on.
#[derive(Debug, Clone)]
pub(crate) struct PassiveLog {
    pub actor: String,
    /// Its client: an index into the run's clients.
    pub client: usize,
    /// The step of the JoinGroup.
    pub step: Option<usize>,
    /// The KeyPackage it joined with and the private keys its client handed out (`None`:
    /// not made by CreateKeyPackage in this case, so its private keys are unknown).
    pub key_package: Option<KeyPackageRecord>,
    /// The Welcome (an MLSMessage) and the ratchet tree given out of band (empty: none).
    pub welcome: Vec<u8>,
    pub ratchet_tree: Vec<u8>,
    /// The epoch authenticator its client answered, or why it refused the Welcome.
    pub joined: Result<Vec<u8>, String>,
    /// External PSKs stored at this actor in the case: (psk_id, secret).
    pub external_psks: Vec<StoredPsk>,
    /// Every commit it was handed after joining, in order.
    pub epochs: Vec<HandledCommit>,
    /// Why the log stops before the case's end (`None`: it lasted the whole case).
    pub ended: Option<String>,
}

/// A commit handed to the member, with the proposals handed with it.
#[derive(Debug, Clone)]
pub(crate) struct HandledCommit {
    pub step: Option<usize>,
    pub committer: String,
    /// MLSMessages carrying the proposals, as handed.
    pub proposals: Vec<Vec<u8>>,
    /// The MLSMessage carrying the commit.
    pub commit: Vec<u8>,
    /// The epoch authenticator the member's client answered, or why it refused.
    pub outcome: Result<Vec<u8>, String>,
}

/// The logs of one case in progress.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    logs: Vec<PassiveLog>,
    /// Actor → its log still being written.
    following: BTreeMap<String, usize>,
    /// Actor → external PSKs stored at it.
    psks: BTreeMap<String, Vec<StoredPsk>>,
}

impl Recorder {
    fn end(&mut self, actor: &str, why: String) {
        if let Some(index) = self.following.remove(actor)
            && let Some(log) = self.logs.get_mut(index)
        {
            log.ended = Some(why);
        }
    }

    /// Every log, each with the external PSKs its actor stored.
    pub(crate) fn finish(mut self) -> Vec<PassiveLog> {
        for log in &mut self.logs {
            log.external_psks = self.psks.get(&log.actor).cloned().unwrap_or_default();
        }
        self.logs
    }
}

fn at_step(step: Option<usize>) -> String {
    step.map_or_else(|| "after the last step".into(), |s| format!("at step {s}"))
}

impl CaseRun<'_> {
    /// Before `actor`'s client is called with `method`: a call that is not a passive
    /// client's ends its log.
    pub(super) fn passive_call(&mut self, actor: &str, method: &str) {
        let step = self.step;
        if let Some(recorder) = &mut self.passive
            && !PASSIVE_CALLS.contains(&method)
            && recorder.following.contains_key(actor)
        {
            recorder.end(
                actor,
                format!(
                    "{actor} was asked for {method} {}: a passive client only receives, in the group it joined",
                    at_step(step)
                ),
            );
        }
    }

    /// `actor` was handed `welcome` (and `ratchet_tree`) for its key package of
    /// `transaction`, and its client answered `joined`.
    pub(super) fn passive_joined(
        &mut self,
        actor: &str,
        transaction: u32,
        welcome: &[u8],
        ratchet_tree: &[u8],
        joined: &Result<proto::JoinGroupResponse, Stop>,
    ) {
        let step = self.step;
        let key_package = self
            .key_packages
            .get(&(actor.to_string(), transaction))
            .cloned();
        let client = self.client_index(actor).unwrap_or_default();
        let Some(recorder) = &mut self.passive else {
            return;
        };
        let log = PassiveLog {
            actor: actor.to_string(),
            client,
            step,
            key_package,
            welcome: welcome.to_vec(),
            ratchet_tree: ratchet_tree.to_vec(),
            joined: joined
                .as_ref()
                .map(|j| j.epoch_authenticator.clone())
                .map_err(|stop| stop.detail.clone()),
            external_psks: Vec::new(),
            epochs: Vec::new(),
            ended: None,
        };
        let accepted = log.joined.is_ok();
        recorder.logs.push(log);
        if accepted {
            recorder
                .following
                .insert(actor.to_string(), recorder.logs.len() - 1);
        }
    }

    /// Whether `member` is followed: then the proposals and commit it is about to be
    /// handed are kept (a copy, for [`CaseRun::passive_handled`]).
    pub(super) fn passive_handing(
        &self,
        member: &str,
        proposals: &[Vec<u8>],
        commit: &[u8],
    ) -> Option<Handed> {
        self.passive
            .as_ref()
            .filter(|recorder| recorder.following.contains_key(member))
            .map(|_| (proposals.to_vec(), commit.to_vec()))
    }

    /// `member`'s client answered `handled` for the commit of `committer` handed to it
    /// (`handed`, from [`CaseRun::passive_handing`]); a refusal ends its log.
    pub(super) fn passive_handled(
        &mut self,
        member: &str,
        committer: &str,
        handed: Option<Handed>,
        handled: &Result<proto::HandleCommitResponse, Stop>,
    ) {
        let step = self.step;
        let (Some(recorder), Some((proposals, commit))) = (&mut self.passive, handed) else {
            return;
        };
        let Some(log) = recorder
            .following
            .get(member)
            .and_then(|&index| recorder.logs.get_mut(index))
        else {
            return;
        };
        let outcome = handled
            .as_ref()
            .map(|h| h.epoch_authenticator.clone())
            .map_err(|stop| stop.detail.clone());
        let refused = outcome.as_ref().err().cloned();
        log.epochs.push(HandledCommit {
            step,
            committer: committer.to_string(),
            proposals,
            commit,
            outcome,
        });
        if let Some(why) = refused {
            recorder.end(
                member,
                format!(
                    "{member}'s client refused the commit {}: {why}",
                    at_step(step)
                ),
            );
        }
    }

    /// An external PSK was stored at `actor`.
    pub(super) fn passive_psk(&mut self, actor: &str, psk_id: &[u8], secret: &[u8]) {
        if let Some(recorder) = &mut self.passive {
            recorder
                .psks
                .entry(actor.to_string())
                .or_default()
                .push((psk_id.to_vec(), secret.to_vec()));
        }
    }
}
