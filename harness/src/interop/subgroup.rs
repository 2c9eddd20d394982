//! Actions that reach past one member's group: external joins, external proposals, ReInit
//! and branches. ReInit and branch end in a new group; its members are checked for agreement
//! like after any commit (epoch key `(step, 1)` for the group a ReInit makes).

use super::checks::Expect;
use super::config::{ExtensionSpec, ProposalSpec, ReInitSpec, StepRef};
use super::runner::{CaseRun, Stop, stop_for};
use super::worker::CallError;
use crate::client::{ClientError, proto};

/// Script extensions as the RPCs take them.
pub(super) fn extensions(specs: &[ExtensionSpec]) -> Vec<proto::Extension> {
    specs
        .iter()
        .map(|e| proto::Extension {
            extension_type: e.extension_type.into(),
            extension_data: e.extension_data.clone(),
        })
        .collect()
}

/// The KeyPackage (as an MLSMessage) of an Add proposal in a PublicMessage, if that is
/// what `proposal` is.
fn added_key_package(proposal: &[u8]) -> Option<Vec<u8>> {
    use concord_reference::codec::Codec;
    use concord_reference::messages::{ContentBody, MlsMessage, MlsMessageBody, Proposal};
    let message = MlsMessage::from_bytes(proposal).ok()?;
    let MlsMessageBody::PublicMessage(public) = message.body else {
        return None;
    };
    let ContentBody::Proposal(Proposal::Add(add)) = public.content.body else {
        return None;
    };
    Some(MlsMessage::new(MlsMessageBody::KeyPackage(add.key_package)).to_bytes())
}

/// Names in order, each once, without `except`.
fn distinct<'a>(names: impl IntoIterator<Item = &'a String>, except: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if name != except && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

impl CaseRun<'_> {
    /// Moves the case to another suite every assigned client supports (the smallest).
    pub(super) fn change_cipher_suite(&mut self) -> Result<(), Stop> {
        let current = self.suite;
        let next = self
            .spec
            .common_suites
            .iter()
            .copied()
            .filter(|&s| s != current)
            .min()
            .ok_or_else(|| {
                Stop::unsupported(
                    None,
                    format!(
                        "changing the cipher suite needs a second suite every assigned client supports (they share only {current})"
                    ),
                )
            })?;
        self.suite = next;
        Ok(())
    }

    /// The id of the group a ReInit makes: the first group's id, changed if asked.
    pub(super) fn reinit_group_id(&self, change: bool) -> Result<Vec<u8>, Stop> {
        let mut id = self
            .group_id
            .clone()
            .ok_or_else(|| Stop::script("a ReInit before any createGroup"))?;
        if change {
            id.extend_from_slice(b"++");
        }
        Ok(id)
    }

    pub(super) fn external_join(
        &mut self,
        index: usize,
        actor: &str,
        joiner: &str,
        members: &[String],
        (external_tree, remove_prior): (bool, bool),
        psk_steps: &[StepRef],
    ) -> Result<(), Stop> {
        self.drop_shadow(joiner);
        let (group_info, tree) = self.group_info_of(actor, external_tree)?;
        let psks = psk_steps
            .iter()
            .map(|&step| {
                self.psk_at(step)
                    .map(|(psk_id, psk_secret)| proto::PreSharedKey { psk_id, psk_secret })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = proto::ExternalJoinRequest {
            group_info: group_info.clone(),
            ratchet_tree: tree.clone(),
            encrypt_handshake: self.spec.encrypt_handshake,
            identity: self.identity(joiner),
            remove_prior,
            psks,
        };
        let joined = self.call(joiner, "ExternalJoin", request, |c, r| c.external_join(r))?;
        self.check_message(
            joiner,
            "the external commit",
            &joined.commit,
            Expect::Commit { member: false },
        )?;
        self.states.insert(joiner.to_string(), joined.state_id);
        let output = self.output_mut(index)?;
        output.group_info = Some(group_info);
        output.ratchet_tree = Some(tree);
        output.commit = Some(joined.commit.clone());
        let key = (index, 0);
        self.agree(key, joiner, Some(&joined.epoch_authenticator), true)?;
        let actor_name = actor.to_string();
        for member in distinct(members.iter().chain([&actor_name]), joiner) {
            self.handle(key, &member, Vec::new(), joined.commit.clone(), joiner)?;
        }
        Ok(())
    }

    pub(super) fn new_member_add_proposal(
        &mut self,
        index: usize,
        actor: &str,
        joiner: &str,
    ) -> Result<(), Stop> {
        let (group_info, _) = self.group_info_of(actor, false)?;
        let request = proto::NewMemberAddProposalRequest {
            group_info,
            identity: self.identity(joiner),
        };
        let proposed = self.call(joiner, "NewMemberAddProposal", request, |c, r| {
            c.new_member_add_proposal(r)
        })?;
        self.check_message(
            joiner,
            "the new member's Add",
            &proposed.proposal,
            Expect::Proposal { member: false },
        )?;
        if let Some(key_package) = added_key_package(&proposed.proposal) {
            let key_package = self.check_emitted_key_package(
                joiner,
                "the key package in the new member's Add",
                &key_package,
                Some(self.suite),
            )?;
            // Its private keys came too: the Welcome made for it is checked like any other.
            self.key_packages.insert(
                (joiner.to_string(), proposed.transaction_id),
                super::attribution::KeyPackageRecord {
                    key_package,
                    init_private: proposed.init_priv.clone(),
                    encryption_private: proposed.encryption_priv.clone(),
                    signature_private: proposed.signature_priv.clone(),
                },
            );
        }
        self.transactions
            .insert(joiner.to_string(), proposed.transaction_id);
        self.output_mut(index)?.proposal = Some(proposed.proposal);
        Ok(())
    }

    pub(super) fn add_external_signer(
        &mut self,
        index: usize,
        actor: &str,
        signer: &str,
    ) -> Result<(), Stop> {
        let request = proto::CreateExternalSignerRequest {
            cipher_suite: self.suite.into(),
            identity: self.identity(signer),
        };
        let created = self.call(signer, "CreateExternalSigner", request, |c, r| {
            c.create_external_signer(r)
        })?;
        self.check_external_sender(signer, &created.external_sender)?;
        self.signers.insert(signer.to_string(), created.signer_id);
        if !self.signer_order.iter().any(|s| s == signer) {
            self.signer_order.push(signer.to_string());
        }
        let request = proto::AddExternalSignerRequest {
            state_id: self.state(actor)?,
            external_sender: created.external_sender,
        };
        let proposed = self.call(actor, "AddExternalSigner", request, |c, r| {
            c.add_external_signer(r)
        })?;
        self.check_message(
            actor,
            "the proposal adding the external signer",
            &proposed.proposal,
            Expect::Proposal { member: true },
        )?;
        self.output_mut(index)?.proposal = Some(proposed.proposal);
        Ok(())
    }

    pub(super) fn external_signer_proposal(
        &mut self,
        index: usize,
        actor: &str,
        member: &str,
        description: &ProposalSpec,
    ) -> Result<(), Stop> {
        let (group_info, ratchet_tree) = self.group_info_of(member, true)?;
        let description = self.description(description)?;
        let signer_id = *self.signers.get(actor).ok_or_else(|| {
            Stop::script(format!(
                "`{actor}` is not an external signer (no addExternalSigner)"
            ))
        })?;
        // The signer's position among the signers added so far, as in external_senders.
        let signer_index = self
            .signer_order
            .iter()
            .position(|s| s == actor)
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(0);
        let request = proto::ExternalSignerProposalRequest {
            signer_id,
            signer_index,
            group_info,
            ratchet_tree,
            description: Some(description),
        };
        let proposed = self.call(actor, "ExternalSignerProposal", request, |c, r| {
            c.external_signer_proposal(r)
        })?;
        self.check_message(
            actor,
            "the external proposal",
            &proposed.proposal,
            Expect::Proposal { member: false },
        )?;
        self.output_mut(index)?.proposal = Some(proposed.proposal);
        Ok(())
    }

    pub(super) fn reinit(&mut self, index: usize, spec: &ReInitSpec) -> Result<(), Stop> {
        // The members move to a new group: the shadows of the old one stop.
        self.shadows.clear();
        let proposer = spec.proposer.iter();
        let not_committer = distinct(
            std::iter::once(&spec.welcomer)
                .chain(&spec.members)
                .chain(proposer.clone()),
            &spec.committer,
        );
        let not_welcomer = distinct(
            std::iter::once(&spec.committer)
                .chain(&spec.members)
                .chain(proposer),
            &spec.welcomer,
        );
        let proposal = match (&spec.proposer, spec.external_reinit_proposal) {
            (Some(proposer), _) => {
                let group_id = self.reinit_group_id(spec.change_group_id)?;
                if spec.change_cipher_suite {
                    self.change_cipher_suite()?;
                }
                let request = proto::ReInitProposalRequest {
                    state_id: self.state(proposer)?,
                    cipher_suite: self.suite.into(),
                    group_id,
                    extensions: extensions(&spec.extensions),
                };
                let proposed = self.call(proposer, "ReInitProposal", request, |c, r| {
                    c.re_init_proposal(r)
                })?;
                self.check_message(
                    proposer,
                    "the ReInit proposal",
                    &proposed.proposal,
                    Expect::Proposal { member: true },
                )?;
                proposed.proposal
            }
            (None, Some(step)) => self.proposal_at(step)?,
            (None, None) => {
                return Err(Stop::script(
                    "a reinit needs a proposer or an externalReinitProposal",
                ));
            }
        };
        let committer = spec.committer.as_str();
        let request = proto::CommitRequest {
            state_id: self.state(committer)?,
            by_reference: vec![proposal.clone()],
            ..Default::default()
        };
        let committed = self.call(committer, "ReInitCommit", request, |c, r| {
            c.re_init_commit(r)
        })?;
        self.check_message(
            committer,
            "the ReInit commit",
            &committed.commit,
            Expect::Commit { member: true },
        )?;
        let old = (index, 0);
        let request = proto::HandlePendingCommitRequest {
            state_id: self.state(committer)?,
        };
        let merged = self.call(committer, "HandlePendingReInitCommit", request, |c, r| {
            c.handle_pending_re_init_commit(r)
        })?;
        self.agree(old, committer, Some(&merged.epoch_authenticator), false)?;
        self.check_emitted_key_package(
            committer,
            "the key package for the new group",
            &merged.key_package,
            None,
        )?;
        let mut reinit = vec![(committer.to_string(), merged.reinit_id, merged.key_package)];
        for member in &not_committer {
            let request = proto::HandleCommitRequest {
                state_id: self.state(member)?,
                proposal: vec![proposal.clone()],
                commit: committed.commit.clone(),
            };
            let handled = self.call(member, "HandleReInitCommit", request, |c, r| {
                c.handle_re_init_commit(r)
            })?;
            self.agree(old, member, Some(&handled.epoch_authenticator), false)?;
            self.check_emitted_key_package(
                member,
                "the key package for the new group",
                &handled.key_package,
                None,
            )?;
            reinit.push((member.clone(), handled.reinit_id, handled.key_package));
        }
        let reinit_id = |name: &str| {
            reinit
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, id, _)| *id)
                .unwrap_or(0)
        };
        let mut key_packages = Vec::new();
        for name in &not_welcomer {
            if let Some((_, _, key_package)) = reinit.iter().find(|(n, _, _)| n == name) {
                self.check_message(
                    name,
                    "the key package for the new group",
                    key_package,
                    Expect::KeyPackage,
                )?;
                key_packages.push(key_package.clone());
            }
        }
        let welcomer = spec.welcomer.as_str();
        let request = proto::ReInitWelcomeRequest {
            reinit_id: reinit_id(welcomer),
            key_package: key_packages,
            force_path: spec.force_path,
            external_tree: spec.external_tree,
        };
        let welcomed = self.call(welcomer, "ReInitWelcome", request, |c, r| {
            c.re_init_welcome(r)
        })?;
        self.check_message(welcomer, "the Welcome", &welcomed.welcome, Expect::Welcome)?;
        let tree = if spec.external_tree {
            self.check_tree(welcomer, "the ratchet tree", &welcomed.ratchet_tree)?;
            welcomed.ratchet_tree
        } else {
            Vec::new()
        };
        self.states.insert(welcomer.to_string(), welcomed.state_id);
        let new = (index, 1);
        self.agree(new, welcomer, Some(&welcomed.epoch_authenticator), true)?;
        for member in &not_welcomer {
            let request = proto::HandleReInitWelcomeRequest {
                reinit_id: reinit_id(member),
                welcome: welcomed.welcome.clone(),
                ratchet_tree: tree.clone(),
            };
            let joined = self.call(member, "HandleReInitWelcome", request, |c, r| {
                c.handle_re_init_welcome(r)
            })?;
            self.states.insert(member.clone(), joined.state_id);
            self.agree(new, member, Some(&joined.epoch_authenticator), true)?;
        }
        Ok(())
    }

    pub(super) fn branch(
        &mut self,
        index: usize,
        actor: &str,
        members: &[String],
        extension_specs: &[ExtensionSpec],
        (force_path, external_tree): (bool, bool),
    ) -> Result<(), Stop> {
        // The members move to a new group: the shadows of the old one stop, their
        // resumption secret kept for the Welcome (its branch PSK).
        self.keep_resumption_secrets();
        self.shadows.clear();
        let mut joiners = Vec::new();
        let mut key_packages = Vec::new();
        for member in members {
            let (transaction, key_package) = self.key_package_of(member)?;
            joiners.push((member, transaction));
            key_packages.push(key_package);
        }
        let group_id = self.new_group_id();
        let request = proto::CreateBranchRequest {
            state_id: self.state(actor)?,
            group_id,
            extensions: extensions(extension_specs),
            key_packages,
            force_path,
            external_tree,
        };
        let branched = self.call(actor, "CreateBranch", request, |c, r| c.create_branch(r))?;
        self.check_message(actor, "the Welcome", &branched.welcome, Expect::Welcome)?;
        let tree = if external_tree {
            self.check_tree(actor, "the ratchet tree", &branched.ratchet_tree)?;
            branched.ratchet_tree
        } else {
            Vec::new()
        };
        self.states.insert(actor.to_string(), branched.state_id);
        let key = (index, 0);
        self.agree(key, actor, Some(&branched.epoch_authenticator), true)?;
        let requested = extensions(extension_specs);
        let mut old_states = Vec::new();
        for (member, transaction_id) in joiners {
            self.welcomed_extensions = None;
            self.check_welcome(
                actor,
                member,
                transaction_id,
                &branched.welcome,
                &tree,
                external_tree,
            )?;
            // The subgroup must have the GroupContext extensions asked for.
            if let Some(found) = self.welcomed_extensions.take() {
                let missing: Vec<u32> = requested
                    .iter()
                    .filter(|want| {
                        !found.iter().any(|e| {
                            u32::from(e.extension_type.0) == want.extension_type
                                && e.extension_data.as_slice() == want.extension_data.as_slice()
                        })
                    })
                    .map(|want| want.extension_type)
                    .collect();
                if !missing.is_empty() {
                    let client = self.client_name(actor).unwrap_or(actor).to_string();
                    self.report_finding(
                        actor,
                        "branch-extensions-ignored",
                        format!(
                            "{client} was asked for a branch with GroupContext extensions of types {missing:?}; the subgroup's GroupContext (read from its Welcome) does not have them: the request was ignored"
                        ),
                        &[],
                    );
                }
            }
            let old = self.state(member)?;
            let request = proto::HandleBranchRequest {
                state_id: old,
                transaction_id,
                welcome: branched.welcome.clone(),
                ratchet_tree: tree.clone(),
            };
            let joined = self.call(member, "HandleBranch", request, |c, r| c.handle_branch(r))?;
            self.states.insert(member.clone(), joined.state_id);
            self.agree(key, member, Some(&joined.epoch_authenticator), true)?;
            if old != joined.state_id {
                old_states.push((member.clone(), old));
            }
        }
        // The old group's states are not used again: free them, as the working group's
        // runner does.
        for (member, state_id) in old_states {
            let request = proto::FreeRequest { state_id };
            match self.call_raw(&member, "Free", request, |c, r| c.free(r))? {
                Err(e) if e.is_client_fault() => return Err(stop_for(&member, e)),
                Err(e @ CallError::Client(ClientError::Refused { .. })) => {
                    self.notes.push(format!("{member}: {e}"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
