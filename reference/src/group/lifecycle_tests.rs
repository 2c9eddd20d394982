//! A group's whole life, per cipher suite: create, add members by value and by
//! reference (Welcome, joined through `join`), Update proposals and path commits,
//! removes, re-adds, application messages; after every commit all members agree on
//! the epoch authenticator and the exporter.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::crypto::CipherSuite;
use crate::messages::{KeyPackage, MlsMessage, MlsMessageBody, Proposal, Welcome};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(crate) const NOW: u64 = 1_700_000_000;

/// Members of one group, all in memory; `None` for removed ones.
pub(crate) struct Net {
    pub suite: Suite,
    pub members: Vec<Option<Group>>,
    pub rng: ChaCha20Rng,
    pub next_identity: u32,
}

pub(crate) fn welcome_of(message: &MlsMessage) -> Result<&Welcome, Box<dyn std::error::Error>> {
    match &message.body {
        MlsMessageBody::Welcome(w) => Ok(w),
        _ => Err("not a Welcome".into()),
    }
}

impl Net {
    pub fn new(suite: CipherSuite, seed: u64, config: GroupConfig) -> Result<Net, GroupError> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let group = Group::create(
            suite,
            b"group".to_vec(),
            b"member-0",
            None,
            Vec::new(),
            config,
            NOW,
            &mut rng,
        )?;
        Ok(Net {
            suite: Suite::new(suite)?,
            members: vec![Some(group)],
            rng,
            next_identity: 1,
        })
    }

    pub fn get(&self, i: usize) -> Result<&Group, Box<dyn std::error::Error>> {
        Ok(self
            .members
            .get(i)
            .and_then(Option::as_ref)
            .ok_or("no such member")?)
    }

    pub fn get_mut(&mut self, i: usize) -> Result<&mut Group, Box<dyn std::error::Error>> {
        Ok(self
            .members
            .get_mut(i)
            .and_then(Option::as_mut)
            .ok_or("no such member")?)
    }

    /// Runs `f` on member `i` with the shared rng.
    pub fn with<T>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Group, &mut ChaCha20Rng) -> Result<T, GroupError>,
    ) -> Result<T, Box<dyn std::error::Error>> {
        let group = self
            .members
            .get_mut(i)
            .and_then(Option::as_mut)
            .ok_or("no such member")?;
        Ok(f(group, &mut self.rng)?)
    }

    pub fn active(&self) -> Vec<usize> {
        (0..self.members.len())
            .filter(|&i| self.members[i].is_some())
            .collect()
    }

    pub fn key_packages(
        &mut self,
        count: usize,
    ) -> Result<Vec<(KeyPackage, KeyPackageSecrets)>, GroupError> {
        (0..count)
            .map(|_| {
                let identity = format!("member-{}", self.next_identity);
                self.next_identity += 1;
                create_key_package(&self.suite, identity.as_bytes(), None, NOW, &mut self.rng)
            })
            .collect()
    }

    /// Every active member but `from` processes `message`.
    pub fn deliver(
        &mut self,
        from: usize,
        message: &MlsMessage,
    ) -> Result<Vec<Received>, Box<dyn std::error::Error>> {
        let mut out = Vec::new();
        for i in self.active() {
            if i != from {
                let received = self.get_mut(i)?.process_message(message)?;
                if received == Received::Commit(crate::commit::CommitOutcome::Removed) {
                    self.members[i] = None;
                }
                out.push(received);
            }
        }
        Ok(out)
    }

    /// `committer` commits, everyone else processes, the committer merges, joiners
    /// join; then all agree.
    pub fn commit(
        &mut self,
        committer: usize,
        options: &CommitOptions,
        joiners: Vec<(KeyPackage, KeyPackageSecrets)>,
    ) -> TestResult {
        let rng = &mut self.rng;
        let output = self
            .members
            .get_mut(committer)
            .and_then(Option::as_mut)
            .ok_or("no committer")?
            .commit(options, rng)?;
        self.deliver(committer, &output.commit)?;
        self.get_mut(committer)?.merge_pending_commit()?;
        if let Some(welcome) = &output.welcome {
            let welcome = welcome_of(welcome)?;
            for (kp, secrets) in joiners {
                let group = Group::join(
                    welcome,
                    &kp,
                    &secrets,
                    output.ratchet_tree.as_ref(),
                    &PskStore::default(),
                    *self.get(committer)?.config(),
                )?;
                self.members.push(Some(group));
            }
        }
        self.check_agreement()
    }

    pub fn check_agreement(&self) -> TestResult {
        let first = self.get(*self.active().first().ok_or("empty")?)?;
        let auth = first.epoch_authenticator().to_vec();
        let export = first.export_secret(b"test", b"ctx", 32)?;
        for i in self.active() {
            let member = self.get(i)?;
            if member.epoch_authenticator() != auth.as_slice()
                || member.export_secret(b"test", b"ctx", 32)? != export
                || member.epoch() != first.epoch()
            {
                return Err(format!("member {i} disagrees at epoch {}", member.epoch()).into());
            }
        }
        Ok(())
    }

    /// Adds `count` members in commits of `per_commit` by value.
    pub fn add_by_value(
        &mut self,
        committer: usize,
        count: usize,
        per_commit: usize,
        external_tree: bool,
    ) -> TestResult {
        let mut left = count;
        while left > 0 {
            let n = left.min(per_commit);
            left -= n;
            let joiners = self.key_packages(n)?;
            let options = CommitOptions {
                by_value: joiners
                    .iter()
                    .map(|(kp, _)| {
                        Proposal::Add(crate::messages::Add {
                            key_package: kp.clone(),
                        })
                    })
                    .collect(),
                external_tree,
                ..CommitOptions::default()
            };
            self.commit(committer, &options, joiners)?;
        }
        Ok(())
    }
}

impl Net {
    /// A new member joins by external commit from `via`'s GroupInfo (tree out of band).
    pub fn external_join(&mut self, via: usize) -> TestResult {
        let (message, tree) = self.get(via)?.group_info(true)?;
        let info = group_info_of(&message)?.clone();
        let identity = format!("member-{}", self.next_identity);
        self.next_identity += 1;
        let config = *self.get(via)?.config();
        let joined = Group::join_external(
            &info,
            tree.as_ref(),
            identity.as_bytes(),
            None,
            false,
            &[],
            config,
            &mut self.rng,
        )?;
        self.deliver(usize::MAX, &joined.commit)?;
        self.members.push(Some(joined.group));
        self.check_agreement()
    }

    /// Member `i` resyncs: an external commit that removes its old leaf.
    pub fn resync(&mut self, i: usize) -> TestResult {
        let joined = self.with(i, |g, rng| g.resync(rng))?;
        self.deliver(i, &joined.commit)?;
        if let Some(slot) = self.members.get_mut(i) {
            *slot = Some(joined.group);
        }
        self.check_agreement()
    }
}

/// Every suite, each with the 50 members the lifecycle adds.
pub(crate) fn suites() -> Vec<(CipherSuite, usize)> {
    CipherSuite::ALL.iter().map(|&s| (s, 50)).collect()
}

fn lifecycle(suite: CipherSuite, size: usize, mode: HandshakeMode) -> TestResult {
    let config = GroupConfig {
        handshake: mode,
        ..GroupConfig::default()
    };
    let mut net = Net::new(suite, u64::from(suite.0), config)?;
    // Adds by value, some with the tree out of band.
    net.add_by_value(0, size / 2, size / 4 + 1, false)?;
    net.add_by_value(0, size - size / 2 - 1, size / 4 + 1, true)?;
    assert_eq!(net.get(0)?.members().len(), size);

    // Adds by reference: member 1 proposes, member 2 commits.
    let joiners = net.key_packages(2)?;
    let mut refs = Vec::new();
    for (kp, _) in &joiners {
        let (message, reference) = net.with(1, |g, rng| g.propose_add(kp.clone(), rng))?;
        net.deliver(1, &message)?;
        refs.push(reference);
    }
    let options = CommitOptions {
        by_reference: refs,
        ..CommitOptions::default()
    };
    net.commit(2, &options, joiners)?;

    // Update all: an Update proposal from every member, one commit (the committer's
    // own Update gives way to its UpdatePath).
    let mut refs = Vec::new();
    for i in net.active() {
        let (message, reference) = net.with(i, |g, rng| g.propose_update(rng))?;
        net.deliver(i, &message)?;
        refs.push(reference);
    }
    let options = CommitOptions {
        by_reference: refs,
        ..CommitOptions::default()
    };
    net.commit(0, &options, Vec::new())?;
    // Path commits from a few members (empty commits need a path).
    for i in [1, 3, 5] {
        net.commit(i, &CommitOptions::default(), Vec::new())?;
    }

    // Application messages both ways.
    for i in [0, 4] {
        let message = net.with(i, |g, rng| g.protect(b"aad", b"hello", rng))?;
        for received in net.deliver(i, &message)? {
            assert!(
                matches!(received, Received::Application { ref data, ref authenticated_data, .. }
                if data == b"hello" && authenticated_data == b"aad")
            );
        }
    }

    // Remove half (odd members), by value.
    let removed: Vec<Proposal> = net
        .active()
        .into_iter()
        .filter(|i| i % 2 == 1)
        .map(|i| {
            net.get(i).map(|g| {
                Proposal::Remove(crate::messages::Remove {
                    removed: g.own_leaf(),
                })
            })
        })
        .collect::<Result<_, _>>()?;
    let before = net.get(0)?.members().len();
    let count = removed.len();
    net.commit(
        0,
        &CommitOptions {
            by_value: removed,
            ..CommitOptions::default()
        },
        Vec::new(),
    )?;
    assert_eq!(net.get(0)?.members().len(), before - count);

    // Re-add into the blank leaves.
    net.add_by_value(2, size / 4, size / 4 + 1, false)?;
    let members = net.get(0)?.members().len();

    // External join, then a resync of member 2 (its old leaf removed).
    net.external_join(4)?;
    net.resync(2)?;
    assert_eq!(net.get(0)?.members().len(), members + 1);
    // The resynced member commits and sends again.
    net.commit(2, &CommitOptions::default(), Vec::new())?;
    let message = net.with(2, |g, rng| g.protect(b"", b"back", rng))?;
    net.deliver(2, &message)?;
    Ok(())
}

#[test]
fn lifecycle_every_suite() -> TestResult {
    // One thread per suite: the suites are independent, and the slow curves dominate.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = suites()
            .into_iter()
            .map(|(suite, size)| {
                scope.spawn(move || {
                    let mode = if suite.0 % 2 == 0 {
                        HandshakeMode::Private
                    } else {
                        HandshakeMode::Public
                    };
                    lifecycle(suite, size, mode).map_err(|e| format!("suite {}: {e}", suite.0))
                })
            })
            .collect();
        runs.into_iter()
            .filter_map(|run| match run.join() {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some("a suite's lifecycle panicked".to_string()),
            })
            .collect()
    });
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; ").into())
    }
}
