//! mls-rs 0.57 with the RustCrypto backend as a Concord client under test: the MLSClient
//! interface (`concord_client::ClientUnderTest`) implemented over the library, so Concord can
//! drive it in process (`--client mls-rs`) or serve it over gRPC
//! (`concord serve-client --client mls-rs`).
//!
//! ```text
//! MLSClient request ──> MlsRsClient { members by state_id, key packages by transaction_id,
//!                                      reinits by reinit_id, external signers by signer_id }
//!                          │  one mls_rs::Client per member state (its own Rules and
//!                          │  group state storage), sharing its identity's key package
//!                          │  store and signing keys, and this instance's PSK store
//!                          └──> mls_rs::Group / ReinitClient / ExternalClient
//! ```
//!
//! What mls-rs lacks answers `ClientError::Unsupported` (a branch that changes the group
//! context extensions); a request mls-rs refuses answers `ClientError::Refused` carrying
//! mls-rs's own error text.
//!
//! # Randomness
//!
//! Nothing mls-rs draws can be seeded. The RustCrypto backend (`mls-rs-crypto-rustcrypto`
//! 0.23) takes every random byte from the operating system (getrandom's `SysRng`) inside its
//! cipher suite provider: signature and HPKE key generation, HPKE encapsulation, path and
//! leaf secrets, PSK nonces, reuse guards. A wrapping `CryptoProvider` could route
//! `random_bytes` and `kem_generate` through a seeded generator, but HPKE encapsulation and
//! signature key generation happen inside the backend's own types, so two runs with the same
//! seed would still differ; the seed given to [`MlsRsClient::new`] is therefore not used for
//! the library's randomness. What the adapter chooses itself is deterministic: handles are
//! handed out in order from 1, and the same calls give the same handles.
//!
//! # State
//!
//! All state lives in the instance (no globals): many clients in one process do not share
//! key packages, PSKs, signing keys or groups. Within one instance (the runner gives every
//! actor assigned to this client the same instance) each identity has its own key package
//! store, and a signing key is kept per (identity, cipher suite), as a real client keeps its
//! long-term key: a member that joins a branch or a reinitialized group signs with the key
//! its old group knows. Prior epochs stay in memory for the life of a member state
//! (resumption PSKs and late application messages from any earlier epoch).

#![forbid(unsafe_code)]

mod commit;
mod external;
mod rules;
mod subgroup;
#[cfg(test)]
mod tests;
mod wire;

use std::collections::{BTreeMap, BTreeSet};

use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};
use mls_rs::client_builder::{
    BaseConfig, WithCryptoProvider, WithIdentityProvider, WithKeyPackageRepo, WithMlsRules,
    WithPskStore,
};
use mls_rs::crypto::{SignaturePublicKey, SignatureSecretKey};
use mls_rs::error::MlsError;
use mls_rs::group::ReceivedMessage;
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::psk::{ExternalPskId, PreSharedKey};
use mls_rs::storage_provider::in_memory::{
    InMemoryGroupStateStorage, InMemoryKeyPackageStorage, InMemoryPreSharedKeyStorage,
};
use mls_rs::{CipherSuite, CipherSuiteProvider, Client, CryptoProvider, ExtensionList, MlsMessage};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;

pub(crate) use commit::Member;
use rules::Rules;
pub(crate) use wire::{
    cipher_suite, decode_message, decode_tree, encode, encode_tree, extension_list, refused,
    unsupported,
};

/// The mls-rs configuration of every member: basic credentials, the RustCrypto backend,
/// in-memory storage, and this adapter's rules.
pub(crate) type MlsConfig = WithIdentityProvider<
    BasicIdentityProvider,
    WithCryptoProvider<
        RustCryptoProvider,
        WithMlsRules<
            Rules,
            WithPskStore<
                InMemoryPreSharedKeyStorage,
                WithKeyPackageRepo<InMemoryKeyPackageStorage, BaseConfig>,
            >,
        >,
    >,
>;

/// A key package made for a later join: the client holding its private keys.
pub(crate) struct Transaction {
    pub(crate) client: Client<MlsConfig>,
    pub(crate) rules: Rules,
}

/// A signing key with its identity.
#[derive(Clone)]
pub(crate) struct Signer {
    pub(crate) secret: SignatureSecretKey,
    pub(crate) identity: SigningIdentity,
}

/// mls-rs behind the MLSClient interface.
pub struct MlsRsClient {
    next_id: u32,
    crypto: RustCryptoProvider,
    /// Key packages' private keys, one store per identity: mls-rs joins with the first key
    /// package of its store that a Welcome names, so actors sharing this instance must not
    /// share a store.
    key_packages: BTreeMap<Vec<u8>, InMemoryKeyPackageStorage>,
    psks: InMemoryPreSharedKeyStorage,
    /// Long-term signing keys by (identity, cipher suite).
    signers: BTreeMap<(Vec<u8>, u16), Signer>,
    members: BTreeMap<u32, Member>,
    transactions: BTreeMap<u32, Transaction>,
    reinits: BTreeMap<u32, subgroup::PendingReInit>,
    external_signers: BTreeMap<u32, (Signer, CipherSuite)>,
}

impl std::fmt::Debug for MlsRsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlsRsClient")
            .field("members", &self.members.len())
            .field("transactions", &self.transactions.len())
            .field("reinits", &self.reinits.len())
            .finish_non_exhaustive()
    }
}

impl MlsRsClient {
    /// A fresh client. `seed` is accepted for symmetry with the other clients under test;
    /// mls-rs's randomness cannot be seeded (see the crate documentation).
    pub fn new(seed: u64) -> Self {
        let _ = seed;
        MlsRsClient {
            next_id: 1,
            crypto: RustCryptoProvider::new(),
            key_packages: BTreeMap::new(),
            psks: InMemoryPreSharedKeyStorage::default(),
            signers: BTreeMap::new(),
            members: BTreeMap::new(),
            transactions: BTreeMap::new(),
            reinits: BTreeMap::new(),
            external_signers: BTreeMap::new(),
        }
    }

    pub(crate) fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    pub(crate) fn member(
        &mut self,
        method: &'static str,
        state_id: u32,
    ) -> Result<&mut Member, ClientError> {
        self.members
            .get_mut(&state_id)
            .ok_or_else(|| refused(method, format!("no group with state_id {state_id}")))
    }

    pub(crate) fn insert_member(&mut self, member: Member) -> u32 {
        let id = self.fresh_id();
        self.members.insert(id, member);
        id
    }

    /// A new signing key pair for `identity` in `suite` (basic credential).
    pub(crate) fn new_signer(
        &self,
        method: &'static str,
        identity: &[u8],
        suite: CipherSuite,
    ) -> Result<Signer, ClientError> {
        let provider = self
            .crypto
            .cipher_suite_provider(suite)
            .ok_or_else(|| refused(method, MlsError::UnsupportedCipherSuite(suite)))?;
        let (secret, public): (SignatureSecretKey, SignaturePublicKey) = provider
            .signature_key_generate()
            .map_err(|e| refused(method, format!("signature key generation: {e}")))?;
        let credential = BasicCredential::new(identity.to_vec()).into_credential();
        Ok(Signer {
            secret,
            identity: SigningIdentity::new(credential, public),
        })
    }

    /// The long-term signing key of `identity` in `suite`, made on first use.
    pub(crate) fn signer(
        &mut self,
        method: &'static str,
        identity: &[u8],
        suite: CipherSuite,
    ) -> Result<Signer, ClientError> {
        let key = (identity.to_vec(), *suite);
        if let Some(signer) = self.signers.get(&key) {
            return Ok(signer.clone());
        }
        let signer = self.new_signer(method, identity, suite)?;
        self.signers.insert(key, signer.clone());
        Ok(signer)
    }

    /// The key package store of `identity`.
    pub(crate) fn key_package_store(&mut self, identity: &[u8]) -> InMemoryKeyPackageStorage {
        self.key_packages
            .entry(identity.to_vec())
            .or_default()
            .clone()
    }

    /// An mls-rs client for `identity` in `suite`, with its own rules and group state
    /// storage, sharing the identity's key package store and this instance's PSKs.
    pub(crate) fn client(
        &mut self,
        method: &'static str,
        identity: &[u8],
        suite: CipherSuite,
        rules: &Rules,
    ) -> Result<Client<MlsConfig>, ClientError> {
        let signer = self.signer(method, identity, suite)?;
        Ok(Client::builder()
            .key_package_repo(self.key_package_store(identity))
            .psk_store(self.psks.clone())
            .group_state_storage(InMemoryGroupStateStorage::new())
            .mls_rules(rules.clone())
            .crypto_provider(self.crypto.clone())
            .identity_provider(BasicIdentityProvider::new())
            .signing_identity(signer.identity, signer.secret, suite)
            .build())
    }

    /// Makes a key package with `make` and returns it with the private keys it stored.
    pub(crate) fn key_package_secrets(
        &mut self,
        method: &'static str,
        identity: &[u8],
        make: impl FnOnce() -> Result<MlsMessage, MlsError>,
    ) -> Result<(MlsMessage, Vec<u8>, Vec<u8>), ClientError> {
        let store = self.key_package_store(identity);
        let before: BTreeSet<Vec<u8>> =
            store.key_packages().into_iter().map(|(id, _)| id).collect();
        let message = make().map_err(|e| refused(method, e))?;
        let mut fresh = store
            .key_packages()
            .into_iter()
            .filter(|(id, _)| !before.contains(id));
        let (_, data) = fresh
            .next()
            .ok_or_else(|| refused(method, "mls-rs stored no key package"))?;
        Ok((message, data.init_key.to_vec(), data.leaf_node_key.to_vec()))
    }
}

impl ClientUnderTest for MlsRsClient {
    fn name(&mut self, _request: NameRequest) -> Result<NameResponse, ClientError> {
        Ok(NameResponse {
            name: "mls-rs".into(),
        })
    }

    fn supported_ciphersuites(
        &mut self,
        _request: SupportedCiphersuitesRequest,
    ) -> Result<SupportedCiphersuitesResponse, ClientError> {
        Ok(SupportedCiphersuitesResponse {
            ciphersuites: self
                .crypto
                .supported_cipher_suites()
                .into_iter()
                .map(|suite| u32::from(*suite))
                .collect(),
        })
    }

    fn create_group(
        &mut self,
        request: CreateGroupRequest,
    ) -> Result<CreateGroupResponse, ClientError> {
        const M: &str = "CreateGroup";
        let suite = cipher_suite(M, request.cipher_suite)?;
        let rules = Rules::new(request.encrypt_handshake);
        let client = self.client(M, &request.identity, suite, &rules)?;
        let group = client
            .create_group_with_id(
                request.group_id,
                ExtensionList::new(),
                ExtensionList::new(),
                None,
            )
            .map_err(|e| refused(M, e))?;
        Ok(CreateGroupResponse {
            state_id: self.insert_member(Member::new(group, rules)),
        })
    }

    fn create_key_package(
        &mut self,
        request: CreateKeyPackageRequest,
    ) -> Result<CreateKeyPackageResponse, ClientError> {
        const M: &str = "CreateKeyPackage";
        let suite = cipher_suite(M, request.cipher_suite)?;
        let rules = Rules::default();
        let client = self.client(M, &request.identity, suite, &rules)?;
        let signer = self.signer(M, &request.identity, suite)?;
        let (message, init_priv, encryption_priv) =
            self.key_package_secrets(M, &request.identity, || {
                client.generate_key_package_message(
                    ExtensionList::new(),
                    ExtensionList::new(),
                    None,
                )
            })?;
        let key_package = encode(M, &message)?;
        let transaction_id = self.fresh_id();
        self.transactions
            .insert(transaction_id, Transaction { client, rules });
        Ok(CreateKeyPackageResponse {
            transaction_id,
            key_package,
            init_priv,
            encryption_priv,
            signature_priv: signer.secret.as_bytes().to_vec(),
        })
    }

    fn join_group(&mut self, request: JoinGroupRequest) -> Result<JoinGroupResponse, ClientError> {
        const M: &str = "JoinGroup";
        let welcome = decode_message(M, &request.welcome)?;
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let transaction = self
            .transactions
            .remove(&request.transaction_id)
            .ok_or_else(|| {
                refused(
                    M,
                    format!(
                        "no key package with transaction_id {}",
                        request.transaction_id
                    ),
                )
            })?;
        transaction
            .rules
            .set_encrypt_handshake(request.encrypt_handshake);
        let (group, _) = transaction
            .client
            .join_group(tree, &welcome, None)
            .map_err(|e| refused(M, e))?;
        let member = Member::new(group, transaction.rules);
        let epoch_authenticator = member.epoch_authenticator(M)?;
        Ok(JoinGroupResponse {
            state_id: self.insert_member(member),
            epoch_authenticator,
        })
    }

    fn external_join(
        &mut self,
        request: ExternalJoinRequest,
    ) -> Result<ExternalJoinResponse, ClientError> {
        self.external_join_rpc(request)
    }

    fn group_info(&mut self, request: GroupInfoRequest) -> Result<GroupInfoResponse, ClientError> {
        const M: &str = "GroupInfo";
        let member = self.member(M, request.state_id)?;
        let message = member
            .group
            .group_info_message_allowing_ext_commit(!request.external_tree)
            .map_err(|e| refused(M, e))?;
        let ratchet_tree = if request.external_tree {
            encode_tree(M, &member.group.export_tree())?
        } else {
            Vec::new()
        };
        Ok(GroupInfoResponse {
            group_info: encode(M, &message)?,
            ratchet_tree,
        })
    }

    fn state_auth(&mut self, request: StateAuthRequest) -> Result<StateAuthResponse, ClientError> {
        const M: &str = "StateAuth";
        Ok(StateAuthResponse {
            state_auth_secret: self.member(M, request.state_id)?.epoch_authenticator(M)?,
        })
    }

    fn export(&mut self, request: ExportRequest) -> Result<ExportResponse, ClientError> {
        const M: &str = "Export";
        let length = usize::try_from(request.key_length)
            .ok()
            .filter(|&n| n <= usize::from(u16::MAX))
            .ok_or_else(|| refused(M, "key_length exceeds 65535"))?;
        let secret = self
            .member(M, request.state_id)?
            .group
            .export_secret(request.label.as_bytes(), &request.context, length)
            .map_err(|e| refused(M, e))?;
        Ok(ExportResponse {
            exported_secret: secret.as_bytes().to_vec(),
        })
    }

    fn protect(&mut self, request: ProtectRequest) -> Result<ProtectResponse, ClientError> {
        const M: &str = "Protect";
        let message = self
            .member(M, request.state_id)?
            .group
            .encrypt_application_message(&request.plaintext, request.authenticated_data)
            .map_err(|e| refused(M, e))?;
        Ok(ProtectResponse {
            ciphertext: encode(M, &message)?,
        })
    }

    fn unprotect(&mut self, request: UnprotectRequest) -> Result<UnprotectResponse, ClientError> {
        const M: &str = "Unprotect";
        let message = decode_message(M, &request.ciphertext)?;
        match self
            .member(M, request.state_id)?
            .group
            .process_incoming_message(message)
            .map_err(|e| refused(M, e))?
        {
            ReceivedMessage::ApplicationMessage(description) => Ok(UnprotectResponse {
                plaintext: description.data().to_vec(),
                authenticated_data: description.authenticated_data,
            }),
            _ => Err(refused(M, "not an application message")),
        }
    }

    fn store_psk(&mut self, request: StorePskRequest) -> Result<StorePskResponse, ClientError> {
        let id = request.state_or_transaction_id;
        if !self.members.contains_key(&id)
            && !self.transactions.contains_key(&id)
            && !self.reinits.contains_key(&id)
        {
            return Err(refused(
                "StorePSK",
                format!("no group or key package with id {id}"),
            ));
        }
        self.psks.insert(
            ExternalPskId::new(request.psk_id),
            PreSharedKey::new(request.psk_secret),
        );
        Ok(StorePskResponse {})
    }

    fn add_proposal(
        &mut self,
        request: AddProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "AddProposal";
        let key_package = decode_message(M, &request.key_package)?;
        self.propose(M, request.state_id, |group| {
            group.propose_add(key_package, Vec::new())
        })
    }

    fn update_proposal(
        &mut self,
        request: UpdateProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "UpdateProposal";
        self.propose(M, request.state_id, |group| {
            group.propose_update(Vec::new())
        })
    }

    fn remove_proposal(
        &mut self,
        request: RemoveProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "RemoveProposal";
        self.propose(M, request.state_id, |group| {
            let removed = group.member_with_identity(&request.removed_id)?;
            group.propose_remove(removed.index, Vec::new())
        })
    }

    fn external_psk_proposal(
        &mut self,
        request: ExternalPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ExternalPSKProposal";
        self.propose(M, request.state_id, |group| {
            group.propose_external_psk(ExternalPskId::new(request.psk_id), Vec::new())
        })
    }

    fn resumption_psk_proposal(
        &mut self,
        request: ResumptionPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ResumptionPSKProposal";
        self.propose(M, request.state_id, |group| {
            group.propose_resumption_psk(request.epoch_id, Vec::new())
        })
    }

    fn group_context_extensions_proposal(
        &mut self,
        request: GroupContextExtensionsProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "GroupContextExtensionsProposal";
        let extensions = extension_list(M, &request.extensions)?;
        self.propose(M, request.state_id, |group| {
            group.propose_group_context_extensions(extensions, Vec::new())
        })
    }

    fn commit(&mut self, request: CommitRequest) -> Result<CommitResponse, ClientError> {
        self.commit_request("Commit", request)
    }

    fn handle_commit(
        &mut self,
        request: HandleCommitRequest,
    ) -> Result<HandleCommitResponse, ClientError> {
        const M: &str = "HandleCommit";
        self.handle_commit_request(M, &request)?;
        Ok(HandleCommitResponse {
            state_id: request.state_id,
            epoch_authenticator: self.member(M, request.state_id)?.epoch_authenticator(M)?,
        })
    }

    fn handle_pending_commit(
        &mut self,
        request: HandlePendingCommitRequest,
    ) -> Result<HandleCommitResponse, ClientError> {
        const M: &str = "HandlePendingCommit";
        self.merge_pending(M, request.state_id)?;
        Ok(HandleCommitResponse {
            state_id: request.state_id,
            epoch_authenticator: self.member(M, request.state_id)?.epoch_authenticator(M)?,
        })
    }

    fn re_init_proposal(
        &mut self,
        request: ReInitProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ReInitProposal";
        let suite = cipher_suite(M, request.cipher_suite)?;
        let extensions = extension_list(M, &request.extensions)?;
        self.propose(M, request.state_id, |group| {
            let version = group.protocol_version();
            group.propose_reinit(
                Some(request.group_id),
                version,
                suite,
                extensions,
                Vec::new(),
            )
        })
    }

    fn re_init_commit(&mut self, request: CommitRequest) -> Result<CommitResponse, ClientError> {
        self.commit_request("ReInitCommit", request)
    }

    fn handle_pending_re_init_commit(
        &mut self,
        request: HandlePendingCommitRequest,
    ) -> Result<HandleReInitCommitResponse, ClientError> {
        const M: &str = "HandlePendingReInitCommit";
        let description = self.merge_pending(M, request.state_id)?;
        self.start_reinit(M, request.state_id, description)
    }

    fn handle_re_init_commit(
        &mut self,
        request: HandleCommitRequest,
    ) -> Result<HandleReInitCommitResponse, ClientError> {
        const M: &str = "HandleReInitCommit";
        let description = self.handle_commit_request(M, &request)?;
        self.start_reinit(M, request.state_id, description)
    }

    fn re_init_welcome(
        &mut self,
        request: ReInitWelcomeRequest,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        self.re_init_welcome_rpc(request)
    }

    fn handle_re_init_welcome(
        &mut self,
        request: HandleReInitWelcomeRequest,
    ) -> Result<JoinGroupResponse, ClientError> {
        self.handle_re_init_welcome_rpc(request)
    }

    fn create_branch(
        &mut self,
        request: CreateBranchRequest,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        self.create_branch_rpc(request)
    }

    fn handle_branch(
        &mut self,
        request: HandleBranchRequest,
    ) -> Result<HandleBranchResponse, ClientError> {
        self.handle_branch_rpc(request)
    }

    fn new_member_add_proposal(
        &mut self,
        request: NewMemberAddProposalRequest,
    ) -> Result<NewMemberAddProposalResponse, ClientError> {
        self.new_member_add_proposal_rpc(request)
    }

    fn create_external_signer(
        &mut self,
        request: CreateExternalSignerRequest,
    ) -> Result<CreateExternalSignerResponse, ClientError> {
        self.create_external_signer_rpc(request)
    }

    fn add_external_signer(
        &mut self,
        request: AddExternalSignerRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.add_external_signer_rpc(request)
    }

    fn external_signer_proposal(
        &mut self,
        request: ExternalSignerProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.external_signer_proposal_rpc(request)
    }

    fn free(&mut self, request: FreeRequest) -> Result<FreeResponse, ClientError> {
        self.members.remove(&request.state_id);
        Ok(FreeResponse {})
    }
}
