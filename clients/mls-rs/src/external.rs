//! Proposals described by value (`ProposalDescription`), and what reaches a group from
//! outside: external joins (RFC 9420 section 12.4.3.2), a new member's own Add
//! (`new_member_proposal` sender, section 12.1.8) and external senders (section 12.1.8.1).

use concord_client::ClientError;
use concord_client::proto::*;
use mls_rs::error::MlsError;
use mls_rs::extension::built_in::ExternalSendersExt;
use mls_rs::external_client::ExternalClient;
use mls_rs::group::{CommitBuilder, Roster};
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::BasicIdentityProvider;
use mls_rs::mls_rs_codec::{MlsDecode, MlsEncode};
use mls_rs::psk::{ExternalPskId, PreSharedKey};
use mls_rs::{CipherSuite, ExtensionList, MlsMessage, ProtocolVersion};

use crate::rules::Rules;
use crate::{
    Member, MlsConfig, MlsRsClient, Transaction, cipher_suite, decode_message, decode_tree, encode,
    extension_list, refused,
};

/// A proposal the interface described by value, resolved against a group's roster.
pub(crate) enum Described {
    Add(Box<MlsMessage>),
    Remove(u32),
    ExternalPsk(ExternalPskId),
    ResumptionPsk(u64),
    GroupContextExtensions(ExtensionList),
    ReInit {
        group_id: Vec<u8>,
        cipher_suite: CipherSuite,
        extensions: ExtensionList,
    },
}

/// The leaf of the member whose basic credential is `identity`.
pub(crate) fn leaf_of(
    method: &'static str,
    roster: Roster<'_>,
    identity: &[u8],
) -> Result<u32, ClientError> {
    roster
        .members_iter()
        .find(|member| {
            member
                .signing_identity
                .credential
                .as_basic()
                .is_some_and(|basic| basic.identifier() == identity)
        })
        .map(|member| member.index)
        .ok_or_else(|| {
            refused(
                method,
                format!(
                    "no member with identity {:?}",
                    String::from_utf8_lossy(identity)
                ),
            )
        })
}

/// Resolves a `ProposalDescription` (`proposal_type` is "add", "remove", "externalPSK",
/// "resumptionPSK", "groupContextExtensions" or "reinit").
pub(crate) fn describe(
    method: &'static str,
    roster: Roster<'_>,
    description: &ProposalDescription,
) -> Result<Described, ClientError> {
    Ok(match description.proposal_type.as_slice() {
        b"add" => Described::Add(Box::new(decode_message(method, &description.key_package)?)),
        b"remove" => Described::Remove(leaf_of(method, roster, &description.removed_id)?),
        b"externalPSK" => Described::ExternalPsk(ExternalPskId::new(description.psk_id.clone())),
        b"resumptionPSK" => Described::ResumptionPsk(description.epoch_id),
        b"groupContextExtensions" => {
            Described::GroupContextExtensions(extension_list(method, &description.extensions)?)
        }
        b"reinit" => Described::ReInit {
            group_id: description.group_id.clone(),
            cipher_suite: cipher_suite(method, description.cipher_suite)?,
            extensions: extension_list(method, &description.extensions)?,
        },
        other => {
            return Err(refused(
                method,
                format!("unknown proposal_type {:?}", String::from_utf8_lossy(other)),
            ));
        }
    })
}

/// Adds a described proposal to a commit being built.
pub(crate) fn into_commit<'a>(
    method: &'static str,
    builder: CommitBuilder<'a, MlsConfig>,
    described: Described,
    version: ProtocolVersion,
) -> Result<CommitBuilder<'a, MlsConfig>, ClientError> {
    let built = match described {
        Described::Add(key_package) => builder.add_member(*key_package),
        Described::Remove(leaf) => builder.remove_member(leaf),
        Described::ExternalPsk(psk_id) => builder.add_external_psk(psk_id),
        Described::ResumptionPsk(epoch) => builder.add_resumption_psk(epoch),
        Described::GroupContextExtensions(extensions) => builder.set_group_context_ext(extensions),
        Described::ReInit {
            group_id,
            cipher_suite,
            extensions,
        } => builder.reinit(Some(group_id), version, cipher_suite, extensions),
    };
    built.map_err(|e| refused(method, e))
}

/// An observer of the group a GroupInfo describes (no signer unless given).
fn observer(
    client: &MlsRsClient,
    signer: Option<crate::Signer>,
) -> ExternalClient<impl mls_rs::external_client::builder::MlsConfig> {
    let builder = ExternalClient::builder()
        .crypto_provider(client.crypto.clone())
        .identity_provider(BasicIdentityProvider::new());
    match signer {
        Some(signer) => builder.signer(signer.secret, signer.identity).build(),
        None => builder.build(),
    }
}

fn group_info_suite(
    method: &'static str,
    group_info: &MlsMessage,
) -> Result<CipherSuite, ClientError> {
    group_info
        .as_group_info()
        .map(|info| info.group_context().cipher_suite())
        .ok_or_else(|| refused(method, "not an MLSMessage carrying a GroupInfo"))
}

impl MlsRsClient {
    pub(crate) fn external_join_rpc(
        &mut self,
        request: ExternalJoinRequest,
    ) -> Result<ExternalJoinResponse, ClientError> {
        const M: &str = "ExternalJoin";
        let group_info = decode_message(M, &request.group_info)?;
        let suite = group_info_suite(M, &group_info)?;
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let prior = if request.remove_prior {
            let observed = observer(self, None)
                .observe_group(group_info.clone(), tree.clone(), None)
                .map_err(|e| refused(M, e))?;
            Some(leaf_of(M, observed.roster(), &request.identity)?)
        } else {
            None
        };
        let rules = Rules::new(request.encrypt_handshake);
        let client = self.client(M, &request.identity, suite, &rules)?;
        let mut builder = client
            .external_commit_builder()
            .map_err(|e| refused(M, e))?;
        if let Some(tree) = tree {
            builder = builder.with_tree_data(tree);
        }
        if let Some(leaf) = prior {
            builder = builder.with_removal(leaf);
        }
        for psk in &request.psks {
            let id = ExternalPskId::new(psk.psk_id.clone());
            self.psks
                .insert(id.clone(), PreSharedKey::new(psk.psk_secret.clone()));
            builder = builder.with_external_psk(id);
        }
        let (group, commit) = builder.build(group_info).map_err(|e| refused(M, e))?;
        let member = Member::new(group, rules);
        let epoch_authenticator = member.epoch_authenticator(M)?;
        Ok(ExternalJoinResponse {
            state_id: self.insert_member(member),
            commit: encode(M, &commit)?,
            epoch_authenticator,
        })
    }

    pub(crate) fn new_member_add_proposal_rpc(
        &mut self,
        request: NewMemberAddProposalRequest,
    ) -> Result<NewMemberAddProposalResponse, ClientError> {
        const M: &str = "NewMemberAddProposal";
        let group_info = decode_message(M, &request.group_info)?;
        let suite = group_info_suite(M, &group_info)?;
        let rules = Rules::default();
        let client = self.client(M, &request.identity, suite, &rules)?;
        let signer = self.signer(M, &request.identity, suite)?;
        let (proposal, init_priv, encryption_priv) =
            self.key_package_secrets(M, &request.identity, || {
                client.external_add_proposal(
                    &group_info,
                    None,
                    Vec::new(),
                    ExtensionList::new(),
                    ExtensionList::new(),
                    None,
                )
            })?;
        let proposal = encode(M, &proposal)?;
        let transaction_id = self.fresh_id();
        self.transactions
            .insert(transaction_id, Transaction { client, rules });
        Ok(NewMemberAddProposalResponse {
            transaction_id,
            proposal,
            init_priv,
            encryption_priv,
            signature_priv: signer.secret.as_bytes().to_vec(),
        })
    }

    pub(crate) fn create_external_signer_rpc(
        &mut self,
        request: CreateExternalSignerRequest,
    ) -> Result<CreateExternalSignerResponse, ClientError> {
        const M: &str = "CreateExternalSigner";
        let suite = cipher_suite(M, request.cipher_suite)?;
        let signer = self.new_signer(M, &request.identity, suite)?;
        // RFC 9420 ExternalSender { signature_key; credential } has the wire form of an
        // mls-rs SigningIdentity.
        let external_sender = signer
            .identity
            .mls_encode_to_vec()
            .map_err(|e| refused(M, e))?;
        let signer_id = self.fresh_id();
        self.external_signers.insert(signer_id, (signer, suite));
        Ok(CreateExternalSignerResponse {
            signer_id,
            external_sender,
        })
    }

    pub(crate) fn add_external_signer_rpc(
        &mut self,
        request: AddExternalSignerRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "AddExternalSigner";
        let mut bytes = request.external_sender.as_slice();
        let sender = SigningIdentity::mls_decode(&mut bytes)
            .map_err(|e| refused(M, format!("ExternalSender: {e}")))?;
        if !bytes.is_empty() {
            return Err(refused(
                M,
                format!("ExternalSender: {} trailing bytes", bytes.len()),
            ));
        }
        self.propose(M, request.state_id, |group| {
            let mut extensions = group.context().extensions().clone();
            let mut senders = extensions
                .get_as::<ExternalSendersExt>()
                .map_err(MlsError::from)?
                .map(|e| e.allowed_senders().to_vec())
                .unwrap_or_default();
            senders.push(sender);
            extensions
                .set_from(ExternalSendersExt::new(senders))
                .map_err(MlsError::from)?;
            group.propose_group_context_extensions(extensions, Vec::new())
        })
    }

    pub(crate) fn external_signer_proposal_rpc(
        &mut self,
        request: ExternalSignerProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ExternalSignerProposal";
        let (signer, _) = self
            .external_signers
            .get(&request.signer_id)
            .cloned()
            .ok_or_else(|| refused(M, format!("no external signer {}", request.signer_id)))?;
        let description = request
            .description
            .as_ref()
            .ok_or_else(|| refused(M, "missing proposal description"))?;
        let group_info = decode_message(M, &request.group_info)?;
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let mut observed = observer(self, Some(signer))
            .observe_group(group_info, tree, None)
            .map_err(|e| refused(M, e))?;
        // mls-rs signs as the external_senders entry matching this signer's identity; the
        // request's signer_index is the same position when the group lists each signer once.
        let version = observed.group_context().version();
        let message = match describe(M, observed.roster(), description)? {
            Described::Add(key_package) => observed.propose_add(*key_package, Vec::new()),
            Described::Remove(leaf) => observed.propose_remove(leaf, Vec::new()),
            Described::ExternalPsk(psk_id) => observed.propose_external_psk(psk_id, Vec::new()),
            Described::ResumptionPsk(epoch) => observed.propose_resumption_psk(epoch, Vec::new()),
            Described::GroupContextExtensions(extensions) => {
                observed.propose_group_context_extensions(extensions, Vec::new())
            }
            Described::ReInit {
                group_id,
                cipher_suite,
                extensions,
            } => observed.propose_reinit(
                Some(group_id),
                version,
                cipher_suite,
                extensions,
                Vec::new(),
            ),
        }
        .map_err(|e| refused(M, e))?;
        Ok(ProposalResponse {
            proposal: encode(M, &message)?,
        })
    }
}
