//! What reaches a group from outside: external joins (RFC 9420 section 12.4.3.2), a new
//! member's own Add (`new_member_proposal` sender), and external senders (section 12.1.8.1)
//! with the proposals OpenMLS lets them make.

use concord_client::ClientError;
use concord_client::proto::*;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    BasicCredential, Extension, Extensions, ExternalProposal, ExternalSender, JoinProposal,
    MlsGroup, PreSharedKeyProposal, ProposalStore, PublicGroup, SenderExtensionIndex,
};
use openmls::schedule::PreSharedKeyId;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::MemoryStorage;
use openmls_traits::OpenMlsProvider;

use crate::codec::{
    decode_group_info, decode_key_package, decode_tree, extensions, identity_of, refused,
};
use crate::provider::StateProvider;
use crate::{
    ExternalSigner, OpenMlsClient, State, ciphersuite, identity_keys, join_config, message_bytes,
};

impl OpenMlsClient {
    /// Joins by external commit. With `remove_prior`, the joiner reuses the credential and
    /// signature key of its earlier state in the group, and OpenMLS then removes that leaf
    /// in the same commit (the resync of RFC9420-12.2-20 and -21); without it, the joiner
    /// is a new client with new keys.
    pub(crate) fn external_join_rpc(
        &mut self,
        request: ExternalJoinRequest,
    ) -> Result<ExternalJoinResponse, ClientError> {
        const M: &str = "ExternalJoin";
        let group_info = decode_group_info(M, &request.group_info)?;
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let suite = group_info.ciphersuite();
        let provider = self.new_provider();
        let (signer, credential, signature_private) = if request.remove_prior {
            let prior = self
                .states
                .values()
                .find(|state| {
                    state.group.group_id() == group_info.group_id()
                        && identity_of(&state.credential.credential).as_deref()
                            == Some(request.identity.as_slice())
                })
                .ok_or_else(|| {
                    refused(
                        M,
                        "remove_prior: this client holds no earlier state of that identity in the group",
                    )
                })?;
            (
                SignatureKeyPair::from_raw(
                    prior.signer.signature_scheme(),
                    prior.signature_private.clone(),
                    prior.signer.to_public_vec(),
                ),
                prior.credential.clone(),
                prior.signature_private.clone(),
            )
        } else {
            identity_keys(M, &provider, suite, &request.identity)?
        };
        let mut builder =
            MlsGroup::external_commit_builder().with_config(join_config(request.encrypt_handshake));
        if let Some(tree) = tree {
            builder = builder.with_ratchet_tree(tree);
        }
        let mut commit = builder
            .build_group(&provider, group_info, credential.clone())
            .map_err(|e| refused(M, e))?;
        for psk in &request.psks {
            let psk_id = PreSharedKeyId::new(
                suite,
                provider.rand(),
                openmls::schedule::Psk::External(openmls::schedule::ExternalPsk::new(
                    psk.psk_id.clone(),
                )),
            )
            .map_err(|e| refused(M, format!("PSK nonce: {e:?}")))?;
            psk_id
                .store(&provider, &psk.psk_secret)
                .map_err(|e| refused(M, e))?;
            commit = commit.add_psk_proposal(PreSharedKeyProposal::new(psk_id));
        }
        let (group, bundle) = commit
            .load_psks(provider.storage())
            .map_err(|e| refused(M, e))?
            .build(provider.rand(), provider.crypto(), &signer, |_| true)
            .map_err(|e| refused(M, e))?
            .finalize(&provider)
            .map_err(|e| refused(M, e))?;
        let commit = message_bytes(M, bundle.commit())?;
        let epoch_authenticator = group.epoch_authenticator().as_slice().to_vec();
        let state_id = self.insert_state(State {
            group,
            provider,
            signer,
            credential,
            signature_private,
            sent: Vec::new(),
        });
        Ok(ExternalJoinResponse {
            state_id,
            commit,
            epoch_authenticator,
        })
    }

    /// A new key package, and an Add of it signed by the joiner itself, for the group the
    /// GroupInfo describes; the key package waits under a transaction id for the Welcome.
    pub(crate) fn new_member_add_proposal_rpc(
        &mut self,
        request: NewMemberAddProposalRequest,
    ) -> Result<NewMemberAddProposalResponse, ClientError> {
        const M: &str = "NewMemberAddProposal";
        let group_info = decode_group_info(M, &request.group_info)?;
        let suite = group_info.ciphersuite();
        let (transaction, key_package, init_priv, encryption_priv) =
            self.key_package(M, suite, &request.identity)?;
        let proposal = JoinProposal::new::<MemoryStorage>(
            key_package,
            group_info.group_id().clone(),
            group_info.epoch(),
            &transaction.signer,
        )
        .map_err(|e| refused(M, e))?;
        let proposal = message_bytes(M, &proposal)?;
        let signature_priv = transaction.signature_private.clone();
        let transaction_id = self.fresh_id();
        self.transactions.insert(transaction_id, transaction);
        Ok(NewMemberAddProposalResponse {
            transaction_id,
            proposal,
            init_priv,
            encryption_priv,
            signature_priv,
        })
    }

    pub(crate) fn create_external_signer_rpc(
        &mut self,
        request: CreateExternalSignerRequest,
    ) -> Result<CreateExternalSignerResponse, ClientError> {
        const M: &str = "CreateExternalSigner";
        let suite = ciphersuite(M, request.cipher_suite)?;
        let provider = self.new_provider();
        let (signer, _, _) = identity_keys(M, &provider, suite, &request.identity)?;
        let sender = ExternalSender::new(
            signer.public().into(),
            BasicCredential::new(request.identity).into(),
        );
        let external_sender = sender
            .tls_serialize_detached()
            .map_err(|e| refused(M, format!("encoding the ExternalSender: {e}")))?;
        let signer_id = self.fresh_id();
        self.signers.insert(signer_id, ExternalSigner { signer });
        Ok(CreateExternalSignerResponse {
            signer_id,
            external_sender,
        })
    }

    /// Proposes the group context extensions with `external_sender` appended to the
    /// external_senders extension (created if absent); the other extensions stay.
    pub(crate) fn add_external_signer_rpc(
        &mut self,
        request: AddExternalSignerRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "AddExternalSigner";
        let sender =
            ExternalSender::tls_deserialize_exact(&request.external_sender).map_err(|e| {
                refused(
                    M,
                    format!("`external_sender` is not an ExternalSender: {e}"),
                )
            })?;
        let state = self.state(M, request.state_id)?;
        let mut extensions = state.group.extensions().clone();
        let mut senders = extensions.external_senders().cloned().unwrap_or_default();
        senders.push(sender);
        extensions
            .add_or_replace(Extension::ExternalSenders(senders))
            .map_err(|e| refused(M, e))?;
        let (message, reference) = state
            .group
            .propose_group_context_extensions(&state.provider, extensions, &state.signer)
            .map_err(|e| refused(M, e))?;
        let proposal = message_bytes(M, &message)?;
        state.sent.push((proposal.clone(), reference));
        Ok(ProposalResponse { proposal })
    }

    /// A proposal by an external signer for the group a GroupInfo (and ratchet tree)
    /// describes: Add, Remove and GroupContextExtensions, the kinds OpenMLS's
    /// `ExternalProposal` makes. RFC9420-12.1.8-4 also lets external senders send
    /// PreSharedKey and ReInit; OpenMLS 0.9 neither makes those nor accepts them from an
    /// external sender (it refuses them on receipt).
    pub(crate) fn external_signer_proposal_rpc(
        &mut self,
        request: ExternalSignerProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ExternalSignerProposal";
        let description = request
            .description
            .as_ref()
            .ok_or_else(|| refused(M, "`description` is missing"))?;
        let group_info = decode_group_info(M, &request.group_info)?;
        let group_id = group_info.group_id().clone();
        let epoch = group_info.epoch();
        let sender_index = SenderExtensionIndex::new(request.signer_index);
        let signer = &self
            .signers
            .get(&request.signer_id)
            .ok_or_else(|| refused(M, format!("no external signer {}", request.signer_id)))?
            .signer;
        let crypto = openmls_rust_crypto::RustCrypto::default();
        let message = match String::from_utf8_lossy(&description.proposal_type).as_ref() {
            "add" => {
                let key_package = decode_key_package(M, &description.key_package, &crypto)?;
                ExternalProposal::new_add::<StateProvider>(
                    key_package,
                    group_id,
                    epoch,
                    signer,
                    sender_index,
                )
                .map_err(|e| refused(M, e))?
            }
            "remove" => {
                let removed = member_in_group_info(
                    M,
                    &request.ratchet_tree,
                    group_info,
                    &description.removed_id,
                )?;
                ExternalProposal::new_remove::<StateProvider>(
                    removed,
                    group_id,
                    epoch,
                    signer,
                    sender_index,
                )
                .map_err(|e| refused(M, e))?
            }
            "groupContextExtensions" => {
                let extensions = Extensions::from_vec(extensions(M, &description.extensions)?)
                    .map_err(|e| refused(M, e))?;
                ExternalProposal::new_group_context_extensions::<StateProvider>(
                    extensions,
                    group_id,
                    epoch,
                    signer,
                    sender_index,
                )
                .map_err(|e| refused(M, e))?
            }
            // OpenMLS's ExternalProposal makes no PreSharedKey or ReInit proposal.
            "externalPSK" | "resumptionPSK" | "reinit" => {
                return Err(ClientError::Unsupported { method: M });
            }
            other => return Err(refused(M, format!("unknown proposal_type `{other}`"))),
        };
        Ok(ProposalResponse {
            proposal: message_bytes(M, &message)?,
        })
    }
}

/// The leaf of the member with `identity` in the group a GroupInfo describes, found the way
/// an external party does: a verified public view of the group (GroupInfo signature and
/// ratchet tree checked by OpenMLS).
fn member_in_group_info(
    method: &'static str,
    ratchet_tree: &[u8],
    group_info: VerifiableGroupInfo,
    identity: &[u8],
) -> Result<openmls::prelude::LeafNodeIndex, ClientError> {
    let tree = match decode_tree(method, ratchet_tree)? {
        Some(tree) => tree,
        None => group_info
            .extensions()
            .ratchet_tree()
            .map(|extension| extension.ratchet_tree().clone())
            .ok_or_else(|| refused(method, "no ratchet tree given or in the GroupInfo"))?,
    };
    let (public, _) = PublicGroup::from_external(
        &openmls_rust_crypto::RustCrypto::default(),
        &MemoryStorage::default(),
        tree,
        group_info,
        ProposalStore::new(),
    )
    .map_err(|e| refused(method, e))?;
    public
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
