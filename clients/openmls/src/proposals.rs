//! Proposals and commits of a member: the proposals it sends, the ones it is handed by
//! reference (received now, or its own coming back), the ones described by value, and the
//! commits it makes and handles.

use concord_client::ClientError;
use concord_client::proto::*;
use openmls::ciphersuite::hash_ref::ProposalRef;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{
    Extensions, GroupContext, GroupEpoch, KeyPackage, LeafNodeIndex, LeafNodeParameters,
    MlsMessageOut, PreSharedKeyProposal, ProcessedMessageContent, Proposal,
};
use openmls::schedule::psk::{ResumptionPsk, ResumptionPskUsage};
use openmls::schedule::{ExternalPsk, PreSharedKeyId, Psk};
use openmls_traits::OpenMlsProvider;

use crate::codec::{decode_key_package, extensions, identity_of, protocol_message, refused};
use crate::{OpenMlsClient, State, message_bytes};

impl State {
    /// Records a proposal this member just sent and returns its wire form.
    fn sent(
        &mut self,
        method: &'static str,
        message: MlsMessageOut,
        reference: ProposalRef,
    ) -> Result<ProposalResponse, ClientError> {
        let proposal = message_bytes(method, &message)?;
        self.sent.push((proposal.clone(), reference));
        Ok(ProposalResponse { proposal })
    }

    /// The leaf of the member whose credential carries `identity`.
    pub(crate) fn member_leaf(
        &self,
        method: &'static str,
        identity: &[u8],
    ) -> Result<LeafNodeIndex, ClientError> {
        self.group
            .members()
            .find(|member| identity_of(&member.credential).as_deref() == Some(identity))
            .map(|member| member.index)
            .ok_or_else(|| {
                refused(
                    method,
                    format!(
                        "no member of the group has identity {:?}",
                        String::from_utf8_lossy(identity)
                    ),
                )
            })
    }

    /// The reference of a proposal message handed to Commit or HandleCommit: one this
    /// member sent in this epoch, or one it processes and queues now.
    fn proposal_reference(
        &mut self,
        method: &'static str,
        bytes: &[u8],
    ) -> Result<ProposalRef, ClientError> {
        if let Some((_, reference)) = self.sent.iter().find(|(sent, _)| sent == bytes) {
            return Ok(reference.clone());
        }
        let message = protocol_message(method, bytes)?;
        let processed = self
            .group
            .process_message(&self.provider, message)
            .map_err(|e| refused(method, e))?;
        match processed.into_content() {
            ProcessedMessageContent::ProposalMessage(proposal)
            | ProcessedMessageContent::ExternalJoinProposalMessage(proposal) => {
                let reference = proposal.proposal_reference_ref().clone();
                self.group
                    .store_pending_proposal(self.provider.storage(), *proposal)
                    .map_err(|e| refused(method, format!("storing the proposal: {e}")))?;
                Ok(reference)
            }
            _ => Err(refused(method, "a message handed as a proposal is not one")),
        }
    }

    /// A fresh PreSharedKeyId (random nonce from the provider) for `psk`.
    fn psk_id(&self, method: &'static str, psk: Psk) -> Result<PreSharedKeyId, ClientError> {
        PreSharedKeyId::new(self.group.ciphersuite(), self.provider.rand(), psk)
            .map_err(|e| refused(method, format!("PSK nonce: {e:?}")))
    }

    fn resumption_psk(&self, epoch: u64) -> Psk {
        Psk::Resumption(ResumptionPsk::new(
            ResumptionPskUsage::Application,
            self.group.group_id().clone(),
            GroupEpoch::from(epoch),
        ))
    }

    /// A `ProposalDescription` (the interface's by-value form) as what OpenMLS's commit
    /// builder takes.
    fn described(
        &self,
        method: &'static str,
        description: &ProposalDescription,
    ) -> Result<ByValue, ClientError> {
        let kind = String::from_utf8_lossy(&description.proposal_type);
        Ok(match kind.as_ref() {
            "add" => ByValue::Add(Box::new(decode_key_package(
                method,
                &description.key_package,
                self.provider.crypto(),
            )?)),
            "remove" => ByValue::Remove(self.member_leaf(method, &description.removed_id)?),
            "externalPSK" => ByValue::Psk(self.psk_id(
                method,
                Psk::External(ExternalPsk::new(description.psk_id.clone())),
            )?),
            "resumptionPSK" => {
                ByValue::Psk(self.psk_id(method, self.resumption_psk(description.epoch_id))?)
            }
            "groupContextExtensions" => ByValue::GroupContextExtensions(
                Extensions::from_vec(extensions(method, &description.extensions)?)
                    .map_err(|e| refused(method, e))?,
            ),
            // OpenMLS 0.9 does not implement ReInit.
            "reinit" => return Err(ClientError::Unsupported { method }),
            other => {
                return Err(refused(method, format!("unknown proposal_type `{other}`")));
            }
        })
    }
}

/// A proposal described by value, in the form OpenMLS's commit builder takes it.
enum ByValue {
    Add(Box<KeyPackage>),
    Remove(LeafNodeIndex),
    Psk(PreSharedKeyId),
    GroupContextExtensions(Extensions<GroupContext>),
}

impl OpenMlsClient {
    pub(crate) fn add_proposal_rpc(
        &mut self,
        request: AddProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "AddProposal";
        let state = self.state(M, request.state_id)?;
        let key_package = decode_key_package(M, &request.key_package, state.provider.crypto())?;
        let (message, reference) = state
            .group
            .propose_add_member(&state.provider, &state.signer, &key_package)
            .map_err(|e| refused(M, e))?;
        state.sent(M, message, reference)
    }

    pub(crate) fn update_proposal_rpc(
        &mut self,
        request: UpdateProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "UpdateProposal";
        let state = self.state(M, request.state_id)?;
        let (message, reference) = state
            .group
            .propose_self_update(
                &state.provider,
                &state.signer,
                LeafNodeParameters::default(),
            )
            .map_err(|e| refused(M, e))?;
        state.sent(M, message, reference)
    }

    pub(crate) fn remove_proposal_rpc(
        &mut self,
        request: RemoveProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "RemoveProposal";
        let state = self.state(M, request.state_id)?;
        let leaf = state.member_leaf(M, &request.removed_id)?;
        let (message, reference) = state
            .group
            .propose_remove_member(&state.provider, &state.signer, leaf)
            .map_err(|e| refused(M, e))?;
        state.sent(M, message, reference)
    }

    pub(crate) fn external_psk_proposal_rpc(
        &mut self,
        request: ExternalPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ExternalPSKProposal";
        let state = self.state(M, request.state_id)?;
        let psk_id = state.psk_id(M, Psk::External(ExternalPsk::new(request.psk_id)))?;
        let (message, reference) = state
            .group
            .propose_pre_shared_key(&state.provider, &state.signer, psk_id)
            .map_err(|e| refused(M, e))?;
        state.sent(M, message, reference)
    }

    pub(crate) fn resumption_psk_proposal_rpc(
        &mut self,
        request: ResumptionPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ResumptionPSKProposal";
        let state = self.state(M, request.state_id)?;
        let psk_id = state.psk_id(M, state.resumption_psk(request.epoch_id))?;
        let (message, reference) = state
            .group
            .propose_pre_shared_key(&state.provider, &state.signer, psk_id)
            .map_err(|e| refused(M, e))?;
        state.sent(M, message, reference)
    }

    pub(crate) fn group_context_extensions_proposal_rpc(
        &mut self,
        request: GroupContextExtensionsProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "GroupContextExtensionsProposal";
        let state = self.state(M, request.state_id)?;
        let extensions =
            Extensions::from_vec(extensions(M, &request.extensions)?).map_err(|e| refused(M, e))?;
        let (message, reference) = state
            .group
            .propose_group_context_extensions(&state.provider, extensions, &state.signer)
            .map_err(|e| refused(M, e))?;
        state.sent(M, message, reference)
    }

    /// Commits the proposals handed by reference and those described by value (and no
    /// other queued proposal), and keeps the commit pending.
    ///
    /// OpenMLS 0.9 puts the by-value proposals after the queued ones in the Commit but
    /// loads their PSKs first, so a commit mixing queued and by-value PreSharedKey
    /// proposals breaks RFC9420-12.4.1-10 (psk_secret in the order of the proposals
    /// vector) and its receivers reject the confirmation tag (RFC9420-12.4.2-18). The
    /// adapter passes the request through unchanged: reordering it would hide that.
    pub(crate) fn commit_rpc(
        &mut self,
        request: CommitRequest,
    ) -> Result<CommitResponse, ClientError> {
        const M: &str = "Commit";
        let state = self.state(M, request.state_id)?;
        let mut references = Vec::new();
        for bytes in &request.by_reference {
            references.push(state.proposal_reference(M, bytes)?);
        }
        let by_value = request
            .by_value
            .iter()
            .map(|description| state.described(M, description))
            .collect::<Result<Vec<_>, _>>()?;
        let State {
            group,
            provider,
            signer,
            ..
        } = state;
        let mut builder = group
            .commit_builder()
            .consume_proposal_store(true)
            .force_self_update(request.force_path);
        for proposal in by_value {
            builder = match proposal {
                ByValue::Add(key_package) => builder.propose_adds([*key_package]),
                ByValue::Remove(leaf) => builder.propose_removals([leaf]),
                ByValue::Psk(psk_id) => builder.add_proposal(Proposal::PreSharedKey(Box::new(
                    PreSharedKeyProposal::new(psk_id),
                ))),
                ByValue::GroupContextExtensions(extensions) => builder
                    .propose_group_context_extensions(extensions)
                    .map_err(|e| refused(M, e))?,
            };
        }
        let bundle = builder
            .load_psks(provider.storage())
            .map_err(|e| refused(M, e))?
            .use_ratchet_tree_extension(!request.external_tree)
            .build(provider.rand(), provider.crypto(), signer, |queued| {
                // This commit's own by-value proposals, and the queued proposals handed
                // by reference; whatever else is queued waits.
                matches!(
                    queued.proposal_or_ref_type(),
                    openmls::prelude::ProposalOrRefType::Proposal
                ) || references.contains(queued.proposal_reference_ref())
            })
            .map_err(|e| refused(M, e))?
            .stage_commit(provider)
            .map_err(|e| refused(M, e))?;
        let commit = message_bytes(M, bundle.commit())?;
        let welcome = match bundle.to_welcome_msg() {
            Some(welcome) => message_bytes(M, &welcome)?,
            None => Vec::new(),
        };
        let ratchet_tree = if request.external_tree {
            let pending = group
                .pending_commit()
                .ok_or_else(|| refused(M, "OpenMLS kept no pending commit"))?;
            pending
                .export_ratchet_tree(provider.crypto(), group.export_ratchet_tree())
                .map_err(|e| refused(M, format!("the new epoch's ratchet tree: {e}")))?
                .ok_or_else(|| refused(M, "OpenMLS has no ratchet tree for the new epoch"))?
                .tls_serialize_detached()
                .map_err(|e| refused(M, format!("encoding the ratchet tree: {e}")))?
        } else {
            Vec::new()
        };
        Ok(CommitResponse {
            commit,
            welcome,
            ratchet_tree,
        })
    }

    /// Takes the proposals (queuing those this member did not send), then the commit, and
    /// merges it.
    pub(crate) fn handle_commit_rpc(
        &mut self,
        request: HandleCommitRequest,
    ) -> Result<HandleCommitResponse, ClientError> {
        const M: &str = "HandleCommit";
        let state = self.state(M, request.state_id)?;
        for bytes in &request.proposal {
            state.proposal_reference(M, bytes)?;
        }
        let message = protocol_message(M, &request.commit)?;
        let processed = state
            .group
            .process_message(&state.provider, message)
            .map_err(|e| refused(M, e))?;
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            return Err(refused(M, "`commit` is not a commit"));
        };
        state
            .group
            .merge_staged_commit(&state.provider, *staged)
            .map_err(|e| refused(M, e))?;
        state.sent.clear();
        Ok(HandleCommitResponse {
            state_id: request.state_id,
            epoch_authenticator: state.group.epoch_authenticator().as_slice().to_vec(),
        })
    }
}
