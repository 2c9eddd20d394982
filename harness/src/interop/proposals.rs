//! Proposals: the member proposal actions, and proposals described by value (for Commit
//! and ExternalSignerProposal).

use super::checks::Expect;
use super::config::{Action, ProposalSpec};
use super::runner::{CaseRun, Stop};
use crate::client::proto;

impl CaseRun<'_> {
    /// The member proposal actions: one RPC each, the proposal kept for later commits.
    pub(super) fn propose(
        &mut self,
        index: usize,
        actor: &str,
        action: &Action,
    ) -> Result<(), Stop> {
        let state_id = self.state(actor)?;
        if matches!(action, Action::UpdateProposal) {
            // The new leaf's private key is the member's client's alone.
            self.drop_shadow(actor);
        }
        let answer = match action {
            Action::AddProposal { key_package } => {
                let key_package = self.key_package_at(*key_package)?;
                let request = proto::AddProposalRequest {
                    state_id,
                    key_package,
                };
                self.call(actor, "AddProposal", request, |c, r| c.add_proposal(r))?
            }
            Action::RemoveProposal { removed } => {
                let request = proto::RemoveProposalRequest {
                    state_id,
                    removed_id: self.identity(removed),
                };
                self.call(actor, "RemoveProposal", request, |c, r| {
                    c.remove_proposal(r)
                })?
            }
            Action::ExternalPskProposal { psk_id } => {
                let (psk_id, _) = self.psk_at(*psk_id)?;
                let request = proto::ExternalPskProposalRequest { state_id, psk_id };
                self.call(actor, "ExternalPSKProposal", request, |c, r| {
                    c.external_psk_proposal(r)
                })?
            }
            Action::ResumptionPskProposal { epoch_id } => {
                let request = proto::ResumptionPskProposalRequest {
                    state_id,
                    epoch_id: *epoch_id,
                };
                self.call(actor, "ResumptionPSKProposal", request, |c, r| {
                    c.resumption_psk_proposal(r)
                })?
            }
            Action::GroupContextExtensionsProposal { extensions } => {
                let request = proto::GroupContextExtensionsProposalRequest {
                    state_id,
                    extensions: super::subgroup::extensions(extensions),
                };
                self.call(actor, "GroupContextExtensionsProposal", request, |c, r| {
                    c.group_context_extensions_proposal(r)
                })?
            }
            _ => {
                let request = proto::UpdateProposalRequest { state_id };
                self.call(actor, "UpdateProposal", request, |c, r| {
                    c.update_proposal(r)
                })?
            }
        };
        self.check_message(
            actor,
            "the proposal",
            &answer.proposal,
            Expect::Proposal { member: true },
        )?;
        self.output_mut(index)?.proposal = Some(answer.proposal);
        Ok(())
    }

    /// A proposal described by value, as the Commit and ExternalSignerProposal RPCs take it.
    pub(super) fn description(
        &mut self,
        spec: &ProposalSpec,
    ) -> Result<proto::ProposalDescription, Stop> {
        let mut d = proto::ProposalDescription::default();
        match spec {
            ProposalSpec::Add { key_package } => {
                d.proposal_type = b"add".to_vec();
                d.key_package = self.key_package_at(*key_package)?;
            }
            ProposalSpec::Remove { removed } => {
                d.proposal_type = b"remove".to_vec();
                d.removed_id = self.identity(removed);
            }
            ProposalSpec::ExternalPsk { psk_id } => {
                d.proposal_type = b"externalPSK".to_vec();
                d.psk_id = self.psk_at(*psk_id)?.0;
            }
            ProposalSpec::ResumptionPsk { epoch_id } => {
                d.proposal_type = b"resumptionPSK".to_vec();
                d.epoch_id = *epoch_id;
            }
            ProposalSpec::GroupContextExtensions { extensions } => {
                d.proposal_type = b"groupContextExtensions".to_vec();
                d.extensions = super::subgroup::extensions(extensions);
            }
            ProposalSpec::ReInit {
                change_cipher_suite,
                change_group_id,
                extensions,
            } => {
                d.proposal_type = b"reinit".to_vec();
                d.extensions = super::subgroup::extensions(extensions);
                if *change_cipher_suite {
                    self.change_cipher_suite()?;
                }
                d.cipher_suite = self.suite.into();
                d.group_id = self.reinit_group_id(*change_group_id)?;
            }
        }
        Ok(d)
    }
}
