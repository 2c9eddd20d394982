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
        let expected = members.get(&message.epoch).into_iter().flatten();
        let received = world.truth.received.get(id).into_iter().flatten();
        let names = received.map(|host| &**world.net.name(*host)).collect();
        for mismatch in receipt(expected, &message.sender, names, &mut deliveries) {
            problems.push(match mismatch {
                Mismatch::Missing(member) => {
                    format!("m{id} (epoch {}) never reached {member}", message.epoch)
                }
                Mismatch::Repeated(member, n) => format!("m{id} reached {member} {n} times"),
                Mismatch::Stranger(receiver) => format!(
                    "m{id} reached {receiver}, not a member of epoch {}",
                    message.epoch
                ),
            });
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

/// How one message's receipts differ from once per expected member.
#[derive(Debug, PartialEq, Eq)]
enum Mismatch<'a> {
    Missing(&'a str),
    Repeated(&'a str, usize),
    /// A receiver that was not a member of the message's epoch (or is its sender).
    Stranger(&'a str),
}

/// Compares who decrypted a message with `members` (sorted) but `sender`: counts in
/// `once` the members reached exactly once, and returns every mismatch, members' first in
/// member order, then strangers in name order. The receivers are sorted and walked beside
/// the members, so the member set is never copied (a thousand names at scale).
fn receipt<'a>(
    members: impl Iterator<Item = &'a String>,
    sender: &str,
    mut got: Vec<&'a str>,
    once: &mut u64,
) -> Vec<Mismatch<'a>> {
    got.sort_unstable();
    let mut runs = got
        .chunk_by(|a, b| a == b)
        .map(|run| (run[0], run.len()))
        .peekable();
    let mut mismatches = Vec::new();
    let mut strangers = Vec::new();
    for member in members.filter(|m| *m != sender) {
        while let Some(&(receiver, _)) = runs.peek()
            && receiver < member.as_str()
        {
            strangers.push(Mismatch::Stranger(receiver));
            runs.next();
        }
        match runs.next_if(|(receiver, _)| *receiver == member.as_str()) {
            Some((_, 1)) => *once += 1,
            Some((_, n)) => mismatches.push(Mismatch::Repeated(member, n)),
            None => mismatches.push(Mismatch::Missing(member)),
        }
    }
    strangers.extend(runs.map(|(receiver, _)| Mismatch::Stranger(receiver)));
    mismatches.extend(strangers);
    mismatches
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
                .is_some_and(|r| r.iter().any(|h| **world.net.name(*h) == **client))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_names_the_missing_the_repeated_and_the_strangers() {
        let members: BTreeSet<String> = ["a", "b", "c", "d", "s"].map(String::from).into();
        // b twice, d never, s (the sender) and x and 0 were not to receive it.
        let received = vec!["x", "c", "b", "s", "a", "b", "0"];
        let mut once = 0;
        let mismatches = receipt(members.iter(), "s", received, &mut once);
        assert_eq!(once, 2, "a and c, once each");
        assert_eq!(
            mismatches,
            vec![
                Mismatch::Repeated("b", 2),
                Mismatch::Missing("d"),
                Mismatch::Stranger("0"),
                Mismatch::Stranger("s"),
                Mismatch::Stranger("x"),
            ]
        );
    }

    #[test]
    fn a_receipt_once_per_member_has_no_mismatch() {
        let members: BTreeSet<String> = ["a", "b", "s"].map(String::from).into();
        let mut once = 0;
        assert!(receipt(members.iter(), "s", vec!["b", "a"], &mut once).is_empty());
        assert_eq!(once, 2);
        let mut once = 0;
        let nobody = receipt(members.iter(), "s", Vec::new(), &mut once);
        assert_eq!(nobody, vec![Mismatch::Missing("a"), Mismatch::Missing("b")]);
        assert_eq!(once, 0);
    }
}
