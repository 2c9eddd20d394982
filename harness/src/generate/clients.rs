//! Clients of one group driven by the reference's group engine
//! ([`concord_reference::group`]): every proposal and commit one member sends is
//! processed by all the others, the committer merges its pending commit, added clients
//! join by the commit's Welcome, removed ones leave, and after each commit every member
//! must hold the same epoch authenticator.

use concord_reference::crypto::Suite;
use concord_reference::group::{
    CommitOptions, CommitOutput, Group, GroupConfig, GroupStatus, KeyPackageSecrets, PskStore,
    create_key_package,
};
use concord_reference::messages::{KeyPackage, MlsMessage, MlsMessageBody, ProposalRef};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;

use super::{below, random_secret};
use crate::vectors::{AtField, Mismatch};

/// The time every client believes it is (lifetimes start there).
const NOW: u64 = 1_700_000_000;

/// A KeyPackage and its private keys.
pub type Published = (KeyPackage, KeyPackageSecrets);

/// The members of one group, by leaf.
pub struct Clients {
    pub suite: Suite,
    pub members: Vec<Group>,
    /// Every PSK the members hold.
    pub psks: PskStore,
    config: GroupConfig,
    next_identity: u32,
}

impl Clients {
    /// A group of one, created with `config`.
    pub fn create(
        suite: &Suite,
        config: GroupConfig,
        rng: &mut ChaCha20Rng,
    ) -> Result<Self, Mismatch> {
        let group_id = random_secret(suite, rng).0;
        let creator = Group::create(
            suite.id(),
            group_id,
            b"client 0",
            None,
            Vec::new(),
            config,
            NOW,
            rng,
        )
        .at("create")?;
        Ok(Clients {
            suite: *suite,
            members: vec![creator],
            psks: PskStore::default(),
            config,
            next_identity: 1,
        })
    }

    /// A new client's KeyPackage.
    pub fn key_package(&mut self, rng: &mut ChaCha20Rng) -> Result<Published, Mismatch> {
        let identity = format!("client {}", self.next_identity);
        self.next_identity += 1;
        create_key_package(&self.suite, identity.as_bytes(), None, NOW, rng).at("key package")
    }

    /// A fresh external PSK every member (and every later joiner) holds; returns its id.
    pub fn new_external_psk(&mut self, rng: &mut ChaCha20Rng) -> Vec<u8> {
        let psk_id = random_secret(&self.suite, rng).0;
        let value = random_secret(&self.suite, rng).0;
        for member in &mut self.members {
            member.store_external_psk(psk_id.clone(), value.clone());
        }
        self.psks.external.insert(psk_id.clone(), value);
        psk_id
    }

    pub fn leaves(&self) -> Vec<LeafIndex> {
        self.members.iter().map(Group::own_leaf).collect()
    }

    /// A member's leaf other than those in `excluded`, chosen by `rng`.
    pub fn pick(
        &self,
        excluded: &[LeafIndex],
        rng: &mut ChaCha20Rng,
    ) -> Result<LeafIndex, Mismatch> {
        let candidates: Vec<LeafIndex> = self
            .leaves()
            .into_iter()
            .filter(|leaf| !excluded.contains(leaf))
            .collect();
        if candidates.is_empty() {
            return Err(Mismatch::new("member", "no member left to choose"));
        }
        Ok(candidates[below(rng, candidates.len() as u64) as usize])
    }

    pub fn member_mut(&mut self, leaf: LeafIndex) -> Result<&mut Group, Mismatch> {
        self.members
            .iter_mut()
            .find(|m| m.own_leaf() == leaf)
            .ok_or_else(|| Mismatch::new(format!("leaf {}", leaf.0), "not a member"))
    }

    pub fn member(&self, leaf: LeafIndex) -> Result<&Group, Mismatch> {
        self.members
            .iter()
            .find(|m| m.own_leaf() == leaf)
            .ok_or_else(|| Mismatch::new(format!("leaf {}", leaf.0), "not a member"))
    }

    /// `proposer` sends a proposal made by `make`; every other member caches it.
    pub fn propose(
        &mut self,
        proposer: LeafIndex,
        make: impl FnOnce(
            &mut Group,
            &mut ChaCha20Rng,
        )
            -> Result<(MlsMessage, ProposalRef), concord_reference::group::GroupError>,
        rng: &mut ChaCha20Rng,
    ) -> Result<(MlsMessage, ProposalRef), Mismatch> {
        let field = format!("proposal from leaf {}", proposer.0);
        let (message, reference) = make(self.member_mut(proposer)?, rng).at(&field)?;
        for member in self.members.iter_mut().filter(|m| m.own_leaf() != proposer) {
            let received = member.process_message(&message).at(&field)?;
            if received != concord_reference::group::Received::Proposal(reference.clone()) {
                return Err(Mismatch::new(&field, "cached under another reference"));
            }
        }
        Ok((message, reference))
    }

    /// `committer` commits `options`; the others process it, the committer merges, the
    /// `joining` clients (those its Adds name) join by the Welcome.
    pub fn commit(
        &mut self,
        committer: LeafIndex,
        options: &CommitOptions,
        joining: &[Published],
        rng: &mut ChaCha20Rng,
    ) -> Result<CommitOutput, Mismatch> {
        let field = format!("commit from leaf {}", committer.0);
        let output = self
            .member_mut(committer)?
            .commit(options, rng)
            .at(&field)?;
        for member in self
            .members
            .iter_mut()
            .filter(|m| m.own_leaf() != committer)
        {
            member.process_message(&output.commit).at(&field)?;
        }
        self.member_mut(committer)?
            .merge_pending_commit()
            .at(&field)?;
        self.members.retain(|m| *m.status() == GroupStatus::Active);
        if !joining.is_empty() {
            let Some(MlsMessageBody::Welcome(welcome)) = output.welcome.as_ref().map(|m| &m.body)
            else {
                return Err(Mismatch::new(&field, "adds new members but has no Welcome"));
            };
            for (key_package, secrets) in joining {
                let joined = Group::join(
                    welcome,
                    key_package,
                    secrets,
                    output.ratchet_tree.as_ref(),
                    &self.psks,
                    self.config,
                )
                .at(&format!("{field}: Welcome"))?;
                self.members.push(joined);
            }
        }
        let authenticator = self.member(committer)?.epoch_authenticator().to_vec();
        if self
            .members
            .iter()
            .any(|m| m.epoch_authenticator() != authenticator.as_slice())
        {
            return Err(Mismatch::new(&field, "members disagree on the new epoch"));
        }
        Ok(output)
    }
}
