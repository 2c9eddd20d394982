//! The assertions a scenario ends with, judged from what the clients themselves did
//! (epoch authenticators, decrypted messages) against what the hub recorded.

use std::collections::{BTreeMap, BTreeSet};

use concord_reference::mimi::requirement as mimi;

use super::scenario::Check;
use super::world::World;

/// The verdict of one assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    /// A client under test does not support an operation the scenario needs.
    Unsupported,
    Skipped,
}

/// One assertion's verdict, plain enough for any report format.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AssertionVerdict {
    pub scenario: String,
    pub file: String,
    /// The check's name (`converged`, ...) or `steps` for the operations themselves.
    pub assertion: String,
    pub room: String,
    pub requirements: Vec<String>,
    pub verdict: Verdict,
    pub detail: String,
    /// Transcript lines (1-based, inclusive) of this scenario's run.
    pub transcript_lines: (u64, u64),
}

/// Requirement IDs an assertion cites.
pub fn requirements(check: Check) -> Vec<String> {
    let ids: &[&str] = match check {
        Check::Converged => &[
            "RFC9420-14-1",
            mimi::ONE_COMMIT_PER_EPOCH,
            mimi::WRONG_EPOCH,
            mimi::FANOUT,
        ],
        Check::DeliveredOnce => &[
            mimi::FANOUT,
            mimi::EVENTUALLY_DISTRIBUTED,
            mimi::DUPLICATES_ONCE,
            mimi::EPOCH_TOO_OLD,
        ],
        Check::ParticipantsOnly => &[mimi::PARTICIPANTS],
        Check::RemovedCannotRead => &[mimi::REMOVED, "RFC9420-12.1.3-1"],
        Check::Misbehaviour(behaviour) => behaviour.requirements(),
    };
    ids.iter().map(|s| s.to_string()).collect()
}

fn listed(problems: &[String]) -> String {
    let mut text = problems
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > 5 {
        text.push_str(&format!("; and {} more", problems.len() - 5));
    }
    text
}

/// Judges `check` on `room`: pass with a summary, or fail with the first problems.
pub fn judge(world: &mut World<'_>, check: Check, room: &str) -> (Verdict, String) {
    let problems = match check {
        Check::Converged => converged(world, room),
        Check::DeliveredOnce => delivered_once(world, room),
        Check::ParticipantsOnly => participants_only(world, room),
        Check::RemovedCannotRead => match removed_cannot_read(world, room) {
            Ok(p) => p,
            Err(skip) => return (Verdict::Skipped, skip),
        },
        Check::Misbehaviour(behaviour) => super::adversary::judge(world, behaviour, room),
    };
    match problems {
        Ok(summary) => (Verdict::Pass, summary),
        Err(problems) => (Verdict::Fail, listed(&problems)),
    }
}

type Outcome = Result<String, Vec<String>>;

fn converged(world: &World<'_>, room: &str) -> Outcome {
    let Some(hub) = world.hub_room(room) else {
        return Err(vec![format!("room {room} does not exist at its hub")]);
    };
    let epoch = hub.epoch();
    let members = hub.members();
    let mut problems = Vec::new();
    let auths = world.truth.auths.get(room).cloned().unwrap_or_default();
    let at_epoch = auths.get(&epoch).cloned().unwrap_or_default();
    for member in &members {
        let client_epoch = world.client(member).and_then(|c| c.epoch_of(room));
        if client_epoch != Some(epoch) {
            problems.push(format!(
                "{member} is at epoch {client_epoch:?}, the hub at {epoch}"
            ));
        } else if !at_epoch.contains_key(member) {
            problems.push(format!(
                "{member} reported no epoch authenticator for epoch {epoch}"
            ));
        }
    }
    for (e, by_client) in &auths {
        let distinct: BTreeSet<&Vec<u8>> = by_client.values().collect();
        if distinct.len() > 1 {
            problems.push(format!(
                "epoch {e}: {} different epoch authenticators (a fork)",
                distinct.len()
            ));
        }
    }
    for (r, error) in &world.truth.errors {
        if r == room {
            problems.push(error.clone());
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} members at epoch {epoch}, one epoch authenticator",
            members.len()
        ))
    } else {
        Err(problems)
    }
}

/// Who was a member in each epoch, as the clients report it: those that reached it.
fn members_by_epoch(world: &World<'_>, room: &str) -> BTreeMap<u64, BTreeSet<String>> {
    world
        .truth
        .auths
        .get(room)
        .map(|a| {
            a.iter()
                .map(|(e, m)| (*e, m.keys().cloned().collect()))
                .collect()
        })
        .unwrap_or_default()
}

fn delivered_once(world: &World<'_>, room: &str) -> Outcome {
    let members = members_by_epoch(world, room);
    let mut problems = Vec::new();
    let mut count = 0;
    let mut deliveries = 0;
    for (id, message) in world.truth.messages.iter().filter(|(_, m)| m.room == room) {
        count += 1;
        if !message.accepted {
            problems.push(format!(
                "m{id} from {} was never accepted by the hub",
                message.sender
            ));
            continue;
        }
        let mut expected = members.get(&message.epoch).cloned().unwrap_or_default();
        expected.remove(&message.sender);
        let mut got: BTreeMap<&str, usize> = BTreeMap::new();
        for receiver in world.truth.received.get(id).into_iter().flatten() {
            *got.entry(receiver).or_default() += 1;
        }
        for member in &expected {
            match got.get(member.as_str()) {
                Some(1) => deliveries += 1,
                Some(n) => problems.push(format!("m{id} reached {member} {n} times")),
                None => problems.push(format!(
                    "m{id} (epoch {}) never reached {member}",
                    message.epoch
                )),
            }
        }
        for receiver in got.keys() {
            if !expected.contains(*receiver) {
                problems.push(format!(
                    "m{id} reached {receiver}, not a member of epoch {}",
                    message.epoch
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{count} messages, {deliveries} deliveries, each exactly once"
        ))
    } else {
        Err(problems)
    }
}

fn participants_only(world: &World<'_>, room: &str) -> Outcome {
    let Some(hub) = world.hub_room(room) else {
        return Err(vec![format!("room {room} does not exist at its hub")]);
    };
    let history = hub.history().clone();
    let mut problems = Vec::new();
    for (epoch, members) in &history.members {
        let participants = history.participants.get(epoch).cloned().unwrap_or_default();
        for m in members.difference(&participants) {
            problems.push(format!(
                "epoch {epoch}: the hub's roster holds {m}, not a participant"
            ));
        }
    }
    let clients = members_by_epoch(world, room);
    for (epoch, members) in &clients {
        let participants = history.participants.get(epoch).cloned().unwrap_or_default();
        for m in members.difference(&participants) {
            problems.push(format!(
                "epoch {epoch}: client {m} is in the group without being a participant"
            ));
        }
        let roster = history.members.get(epoch).cloned().unwrap_or_default();
        for m in members.difference(&roster) {
            problems.push(format!(
                "epoch {epoch}: client {m} reached an epoch whose roster does not hold it"
            ));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} epochs, every member a participant",
            history.members.len()
        ))
    } else {
        Err(problems)
    }
}

/// At most this many later messages are tried on each removed client's old state.
const TRIES_PER_CLIENT: usize = 20;

fn removed_cannot_read(world: &mut World<'_>, room: &str) -> Result<Outcome, String> {
    let removed = world.truth.removed.get(room).cloned().unwrap_or_default();
    if removed.is_empty() {
        return Err(format!("no member of {room} was removed"));
    }
    let mut problems = Vec::new();
    let mut tried = 0;
    for removal in &removed {
        let (client, since) = (&removal.client, removal.since);
        let window = |epoch: u64| epoch >= since && removal.until.is_none_or(|u| epoch < u);
        let later: Vec<(u64, Vec<u8>)> = world
            .truth
            .messages
            .iter()
            .filter(|(_, m)| m.room == room && m.accepted && window(m.epoch) && m.sender != *client)
            .map(|(id, m)| (*id, m.ciphertext.clone()))
            .collect();
        for (id, _) in &later {
            if world
                .truth
                .received
                .get(id)
                .is_some_and(|r| r.iter().any(|c| **c == **client))
            {
                problems.push(format!(
                    "m{id} was delivered to {client}, removed at epoch {since}"
                ));
            }
        }
        let Some(state) = removal.state else { continue };
        for (id, ciphertext) in later.into_iter().take(TRIES_PER_CLIENT) {
            tried += 1;
            let result = world.with_client(client, |actor, w| {
                actor.try_unprotect(w, state, &ciphertext)
            });
            if let Some(Ok(_)) = result {
                problems.push(format!(
                    "{client}, removed at epoch {since}, decrypted m{id} with its old state"
                ));
            }
        }
    }
    if tried == 0 && problems.is_empty() {
        return Err(format!("no message was sent in {room} after a removal"));
    }
    Ok(if problems.is_empty() {
        Ok(format!(
            "{} removed members, {tried} later messages unreadable to them",
            removed.len()
        ))
    } else {
        Err(problems)
    })
}
