//! The actions of one group: creating it, key packages, joins, PSKs, proposals, commits and
//! application messages. Each drives the RPCs the working group's runner drives for it;
//! commits and joins are followed by the agreement checks.

use rand_core::Rng;

use super::checks::Expect;
use super::config::{CommitSpec, StepRef};
use super::runner::{CaseRun, Stop};
use crate::client::proto;

impl CaseRun<'_> {
    pub(super) fn random_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; n];
        self.rng.fill_bytes(&mut bytes);
        bytes
    }

    /// A fresh group id, printable like the working group's (a UUID-shaped hex string).
    pub(super) fn new_group_id(&mut self) -> Vec<u8> {
        let b = self.random_bytes(16);
        let h = hex::encode(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
        .into_bytes()
    }

    pub(super) fn create_group(
        &mut self,
        index: usize,
        actor: &str,
        members: &[String],
    ) -> Result<(), Stop> {
        let group_id = self.new_group_id();
        let request = proto::CreateGroupRequest {
            group_id: group_id.clone(),
            cipher_suite: self.suite.into(),
            encrypt_handshake: self.spec.encrypt_handshake,
            identity: self.identity(actor),
        };
        let created = self.call(actor, "CreateGroup", request, |c, r| c.create_group(r))?;
        self.states.insert(actor.to_string(), created.state_id);
        self.group_id.get_or_insert(group_id);
        let key = (index, 0);
        if members.is_empty() {
            return self.agree(key, actor, None, true);
        }
        let mut joiners = Vec::new();
        let mut by_value = Vec::new();
        for member in members {
            let (transaction, key_package) = self.key_package_of(member)?;
            joiners.push((member, transaction));
            by_value.push(proto::ProposalDescription {
                proposal_type: b"add".to_vec(),
                key_package,
                ..Default::default()
            });
        }
        let request = proto::CommitRequest {
            state_id: self.state(actor)?,
            by_value,
            ..Default::default()
        };
        let committed = self.call(actor, "Commit", request, |c, r| c.commit(r))?;
        self.check_message(
            actor,
            "the commit",
            &committed.commit,
            Expect::Commit { member: true },
        )?;
        self.check_message(actor, "the Welcome", &committed.welcome, Expect::Welcome)?;
        self.merge_pending(key, actor)?;
        for (member, transaction) in joiners {
            self.join(
                key,
                member,
                transaction,
                &committed.welcome,
                &[],
                (actor, false),
            )?;
        }
        Ok(())
    }

    /// A key package from `actor` (a new client for it): (transaction id, key package).
    pub(super) fn key_package_of(&mut self, actor: &str) -> Result<(u32, Vec<u8>), Stop> {
        let request = proto::CreateKeyPackageRequest {
            cipher_suite: self.suite.into(),
            identity: self.identity(actor),
        };
        let made = self.call(actor, "CreateKeyPackage", request, |c, r| {
            c.create_key_package(r)
        })?;
        self.check_message(
            actor,
            "the key package",
            &made.key_package,
            Expect::KeyPackage,
        )?;
        self.record_key_package(actor, made.transaction_id, &made)?;
        Ok((made.transaction_id, made.key_package))
    }

    pub(super) fn create_key_package(&mut self, index: usize, actor: &str) -> Result<(), Stop> {
        let (transaction, key_package) = self.key_package_of(actor)?;
        self.transactions.insert(actor.to_string(), transaction);
        self.output_mut(index)?.key_package = Some(key_package);
        Ok(())
    }

    /// HandlePendingCommit at the committer, then the agreement checks.
    fn merge_pending(&mut self, key: (usize, u8), actor: &str) -> Result<(), Stop> {
        let request = proto::HandlePendingCommitRequest {
            state_id: self.state(actor)?,
        };
        let merged = self.call(actor, "HandlePendingCommit", request, |c, r| {
            c.handle_pending_commit(r)
        })?;
        self.states.insert(actor.to_string(), merged.state_id);
        self.agree(key, actor, Some(&merged.epoch_authenticator), true)
    }

    /// JoinGroup from a Welcome, then the agreement checks. `made` is who made the Welcome
    /// and whether it was asked for the tree out of band: the reference checks the Welcome
    /// first, with the joiner's keys ([`CaseRun::check_welcome`]).
    fn join(
        &mut self,
        key: (usize, u8),
        actor: &str,
        transaction_id: u32,
        welcome: &[u8],
        ratchet_tree: &[u8],
        made: (&str, bool),
    ) -> Result<(), Stop> {
        let (maker, external_tree) = made;
        self.check_welcome(
            maker,
            actor,
            transaction_id,
            welcome,
            ratchet_tree,
            external_tree,
        )?;
        let request = proto::JoinGroupRequest {
            transaction_id,
            welcome: welcome.to_vec(),
            encrypt_handshake: self.spec.encrypt_handshake,
            identity: self.identity(actor),
            ratchet_tree: ratchet_tree.to_vec(),
        };
        let joined = self.call(actor, "JoinGroup", request, |c, r| c.join_group(r));
        self.passive_joined(actor, transaction_id, welcome, ratchet_tree, &joined);
        let joined = joined?;
        self.states.insert(actor.to_string(), joined.state_id);
        self.agree(key, actor, Some(&joined.epoch_authenticator), true)
    }

    fn transaction(&self, actor: &str) -> Result<u32, Stop> {
        self.transactions.get(actor).copied().ok_or_else(|| {
            Stop::script(format!(
                "`{actor}` has no key package to join with (no createKeyPackage or newMemberAddProposal before)"
            ))
        })
    }

    pub(super) fn join_group(&mut self, actor: &str, welcome_step: usize) -> Result<(), Stop> {
        let output = self.output(welcome_step);
        let welcome = output.welcome.clone().filter(|w| !w.is_empty());
        let tree = output.ratchet_tree.clone().unwrap_or_default();
        let welcome = welcome
            .ok_or_else(|| Stop::script(format!("step {welcome_step} produced no Welcome")))?;
        let transaction = self.transaction(actor)?;
        let maker = self
            .spec
            .script
            .steps
            .get(welcome_step)
            .and_then(|s| s.actor.clone())
            .unwrap_or_default();
        let external_tree = output.ratchet_tree.is_some();
        self.join(
            (welcome_step, 0),
            actor,
            transaction,
            &welcome,
            &tree,
            (&maker, external_tree),
        )
    }

    pub(super) fn install_external_psk(
        &mut self,
        index: usize,
        clients: &[String],
    ) -> Result<(), Stop> {
        let psk_id = self.random_bytes(32);
        let psk_secret = self.random_bytes(32);
        self.psk_secrets.insert(psk_id.clone(), psk_secret.clone());
        self.output_mut(index)?.psk = Some((psk_id.clone(), psk_secret.clone()));
        for actor in clients {
            let id = self
                .states
                .get(actor)
                .or_else(|| self.transactions.get(actor))
                .copied()
                .unwrap_or(0);
            let request = proto::StorePskRequest {
                state_or_transaction_id: id,
                psk_id: psk_id.clone(),
                psk_secret: psk_secret.clone(),
            };
            self.call(actor, "StorePSK", request, |c, r| c.store_psk(r))?;
            self.passive_psk(actor, &psk_id, &psk_secret);
        }
        Ok(())
    }

    /// GroupInfo from `actor`, decoded; (group info, ratchet tree).
    pub(super) fn group_info_of(
        &mut self,
        actor: &str,
        external_tree: bool,
    ) -> Result<(Vec<u8>, Vec<u8>), Stop> {
        let request = proto::GroupInfoRequest {
            state_id: self.state(actor)?,
            external_tree,
        };
        let info = self.call(actor, "GroupInfo", request, |c, r| c.group_info(r))?;
        self.check_message(actor, "the GroupInfo", &info.group_info, Expect::GroupInfo)?;
        self.check_tree(actor, "the ratchet tree", &info.ratchet_tree)?;
        Ok((info.group_info, info.ratchet_tree))
    }

    pub(super) fn group_info(
        &mut self,
        index: usize,
        actor: &str,
        external_tree: bool,
    ) -> Result<(), Stop> {
        let (group_info, tree) = self.group_info_of(actor, external_tree)?;
        let output = self.output_mut(index)?;
        output.group_info = Some(group_info);
        output.ratchet_tree = Some(tree);
        Ok(())
    }

    pub(super) fn key_package_at(&self, step: StepRef) -> Result<Vec<u8>, Stop> {
        self.output(step.0)
            .key_package
            .clone()
            .ok_or_else(|| Stop::script(format!("step {} produced no key package", step.0)))
    }

    pub(super) fn psk_at(&self, step: StepRef) -> Result<(Vec<u8>, Vec<u8>), Stop> {
        self.output(step.0)
            .psk
            .clone()
            .ok_or_else(|| Stop::script(format!("step {} installed no PSK", step.0)))
    }

    pub(super) fn proposal_at(&self, step: StepRef) -> Result<Vec<u8>, Stop> {
        self.output(step.0)
            .proposal
            .clone()
            .ok_or_else(|| Stop::script(format!("step {} produced no proposal", step.0)))
    }

    /// The Commit RPC of `commit` and `fullCommit`; returns the proposals by reference.
    pub(super) fn commit_only(
        &mut self,
        index: usize,
        actor: &str,
        spec: &CommitSpec,
    ) -> Result<Vec<Vec<u8>>, Stop> {
        let by_reference = spec
            .by_reference
            .iter()
            .map(|&step| self.proposal_at(step))
            .collect::<Result<Vec<_>, _>>()?;
        let by_value = spec
            .by_value
            .iter()
            .map(|description| self.description(description))
            .collect::<Result<Vec<_>, _>>()?;
        self.drop_shadow(actor);
        let request = proto::CommitRequest {
            state_id: self.state(actor)?,
            by_reference: by_reference.clone(),
            by_value,
            force_path: spec.force_path,
            external_tree: spec.external_tree,
        };
        let committed = self.call(actor, "Commit", request, |c, r| c.commit(r))?;
        self.check_message(
            actor,
            "the commit",
            &committed.commit,
            Expect::Commit { member: true },
        )?;
        if !committed.welcome.is_empty() {
            self.check_message(actor, "the Welcome", &committed.welcome, Expect::Welcome)?;
        }
        if spec.external_tree {
            self.check_tree(actor, "the ratchet tree", &committed.ratchet_tree)?;
        }
        self.pending.insert(actor.to_string(), index);
        let output = self.output_mut(index)?;
        output.commit = Some(committed.commit);
        output.welcome = Some(committed.welcome);
        output.ratchet_tree = spec.external_tree.then_some(committed.ratchet_tree);
        Ok(by_reference)
    }

    pub(super) fn full_commit(
        &mut self,
        index: usize,
        actor: &str,
        spec: &CommitSpec,
        members: &[String],
        joiners: &[String],
    ) -> Result<(), Stop> {
        let by_reference = self.commit_only(index, actor, spec)?;
        let key = (index, 0);
        self.merge_pending(key, actor)?;
        let commit = self.output(index).commit.clone().unwrap_or_default();
        for member in members {
            self.handle(key, member, by_reference.clone(), commit.clone(), actor)?;
        }
        let welcome = self.output(index).welcome.clone().unwrap_or_default();
        let tree = self.output(index).ratchet_tree.clone().unwrap_or_default();
        for joiner in joiners {
            let transaction = self.transaction(joiner)?;
            self.join(
                key,
                joiner,
                transaction,
                &welcome,
                &tree,
                (actor, spec.external_tree),
            )?;
        }
        Ok(())
    }

    /// HandleCommit at `member` (the commit made by `committer`), then the agreement
    /// checks. The member's shadow processes the commit first: a commit the reference
    /// refuses is charged to its committer, whatever the member says; a commit it accepts
    /// and the member refuses is charged to the member.
    pub(super) fn handle(
        &mut self,
        key: (usize, u8),
        member: &str,
        proposal: Vec<Vec<u8>>,
        commit: Vec<u8>,
        committer: &str,
    ) -> Result<(), Stop> {
        let shadow = self.shadow_commit(member, &proposal, &commit);
        let handed = self.passive_handing(member, &proposal, &commit);
        let request = proto::HandleCommitRequest {
            state_id: self.state(member)?,
            proposal,
            commit,
        };
        let handled = self.call(member, "HandleCommit", request, |c, r| c.handle_commit(r));
        self.passive_handled(member, committer, handed, &handled);
        if let super::attribution::CommitVerdict::Invalid(v) = shadow {
            let accepted = if handled.is_ok() {
                format!("; {member}'s client accepted it anyway")
            } else {
                String::new()
            };
            return Err(Stop::violation(
                "invalid-commit",
                committer,
                format!(
                    "the commit from {committer} is invalid: the reference, following {member}'s state with its keys, finds: {}{accepted}",
                    v.detail
                ),
                v.requirements,
            ));
        }
        let handled = handled?;
        self.states.insert(member.to_string(), handled.state_id);
        self.agree(key, member, Some(&handled.epoch_authenticator), true)
    }

    pub(super) fn handle_commit(
        &mut self,
        actor: &str,
        commit_step: usize,
        by_reference: &[StepRef],
    ) -> Result<(), Stop> {
        let commit = self
            .output(commit_step)
            .commit
            .clone()
            .ok_or_else(|| Stop::script(format!("step {commit_step} produced no commit")))?;
        let proposals = by_reference
            .iter()
            .map(|&step| self.proposal_at(step))
            .collect::<Result<Vec<_>, _>>()?;
        let committer = self
            .spec
            .script
            .steps
            .get(commit_step)
            .and_then(|s| s.actor.clone())
            .unwrap_or_default();
        self.handle((commit_step, 0), actor, proposals, commit, &committer)
    }

    pub(super) fn handle_pending_commit(&mut self, index: usize, actor: &str) -> Result<(), Stop> {
        let commit_step = self.pending.get(actor).copied().unwrap_or(index);
        self.merge_pending((commit_step, 0), actor)
    }

    pub(super) fn protect(
        &mut self,
        index: usize,
        actor: &str,
        authenticated_data: &str,
        plaintext: &str,
    ) -> Result<(), Stop> {
        let request = proto::ProtectRequest {
            state_id: self.state(actor)?,
            authenticated_data: authenticated_data.as_bytes().to_vec(),
            plaintext: plaintext.as_bytes().to_vec(),
        };
        let protected = self.call(actor, "Protect", request, |c, r| c.protect(r))?;
        self.check_message(
            actor,
            "the ciphertext",
            &protected.ciphertext,
            Expect::Application,
        )?;
        self.output_mut(index)?.protected = Some((
            protected.ciphertext,
            authenticated_data.as_bytes().to_vec(),
            plaintext.as_bytes().to_vec(),
        ));
        Ok(())
    }

    pub(super) fn unprotect(&mut self, actor: &str, ciphertext_step: usize) -> Result<(), Stop> {
        let (ciphertext, authenticated_data, plaintext) = self
            .output(ciphertext_step)
            .protected
            .clone()
            .ok_or_else(|| Stop::script(format!("step {ciphertext_step} protected nothing")))?;
        let request = proto::UnprotectRequest {
            state_id: self.state(actor)?,
            ciphertext,
        };
        let opened = self.call(actor, "Unprotect", request, |c, r| c.unprotect(r))?;
        if opened.authenticated_data != authenticated_data {
            return Err(Stop::failed(
                "authenticated-data",
                Some(actor),
                format!(
                    "{actor} recovered authenticated data {:?}, step {ciphertext_step} sent {:?}",
                    String::from_utf8_lossy(&opened.authenticated_data),
                    String::from_utf8_lossy(&authenticated_data)
                ),
            ));
        }
        if opened.plaintext != plaintext {
            return Err(Stop::failed(
                "plaintext",
                Some(actor),
                format!(
                    "{actor} recovered plaintext {:?}, step {ciphertext_step} sent {:?}",
                    String::from_utf8_lossy(&opened.plaintext),
                    String::from_utf8_lossy(&plaintext)
                ),
            ));
        }
        Ok(())
    }
}
