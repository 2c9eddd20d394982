//! OpenMLS 0.9 with the RustCrypto provider as a Concord client under test: the MLSClient
//! interface (`concord_client::ClientUnderTest`) implemented over the library, so Concord can
//! drive it in process (`--client openmls`) or serve it over gRPC
//! (`concord serve-client --client openmls`).
//!
//! ```text
//! MLSClient request ──> OpenMlsClient { states by state_id, key packages by transaction_id,
//!                                       external signers by signer_id }
//!                                 └──> openmls::MlsGroup + its own StateProvider
//!                                      (RustCrypto, seeded OpenMlsRand, MemoryStorage)
//! ```
//!
//! Every group state and every pending key package owns its provider (see [`provider`]), so
//! many clients in one process, and many actors on one client, never share stored state.
//! Handles are small integers handed out in order.
//!
//! # What the library offers, and what answers `Unsupported`
//!
//! Supported: groups, key packages, Welcome joins (ratchet tree in the GroupInfo or out of
//! band), external joins (with external PSKs, and removing a prior self: OpenMLS removes the
//! member whose signature key the joiner reuses), GroupInfo, epoch authenticator, exporter,
//! application messages, external and resumption PSKs, Add / Update / Remove / PreSharedKey
//! / GroupContextExtensions proposals and commits (by reference and by value),
//! PrivateMessage or PublicMessage handshakes, new-member Add proposals, external senders
//! and their Add, Remove and GroupContextExtensions proposals.
//!
//! `Unsupported`: ReInit (OpenMLS 0.9 neither creates ReInit proposals nor joins the
//! reinitialized group), branching (no API to create or join a branch with its resumption
//! PSK), ReInit by value in a commit, and external-sender proposals other than Add, Remove
//! and GroupContextExtensions (`ExternalProposal` has no PSK or ReInit constructor). A
//! request OpenMLS cannot satisfy answers `Refused` with OpenMLS's own error text.
//!
//! # Where OpenMLS 0.9.2 departs from RFC 9420 (seen through this adapter)
//!
//! - A commit that mixes queued PreSharedKey proposals with by-value ones derives its
//!   psk_secret with the by-value PSKs first, while the Commit lists them last
//!   (RFC9420-12.4.1-10); every receiver rejects its confirmation tag (RFC9420-12.4.2-18).
//! - PreSharedKey (and ReInit) proposals from an external sender are refused on receipt
//!   ("The proposal is invalid for the Sender of type External"), though RFC9420-12.1.8-4
//!   allows them.
//! - Leaf lifetimes are checked against the wall clock (RFC9420-7.3-2, RFC9420-7.3-11):
//!   key packages from a peer that stamps them with a fixed virtual time are refused
//!   once that window has passed. This is OpenMLS doing what the RFC asks.
//!
//! # Randomness: what the seed controls
//!
//! `OpenMlsClient::new(seed)` seeds a ChaCha20 generator that gives each new provider its
//! own seed, and every draw OpenMLS makes through `OpenMlsRand` comes from it: the secrets
//! HPKE init and leaf encryption key pairs are derived from, path and commit secrets, PSK
//! nonces, reuse guards. What it cannot seed, because the RustCrypto provider draws it
//! from a generator of its own seeded by the OS: signature key pairs (made with the
//! provider's `signature_key_gen`), the ephemeral keys of HPKE encryption (Welcome
//! secrets, UpdatePath secrets, external init), and ECDSA signing. So two runs with one
//! seed make the same choices where OpenMLS lets a caller choose, but not the same bytes.
//!
//! # Private keys
//!
//! CreateKeyPackage and NewMemberAddProposal return the init, leaf encryption and signature
//! private keys. OpenMLS's public API gives the init key; the signature key pair is made
//! here; the leaf encryption key is read back from the state's own store, where OpenMLS
//! keeps it with the key package ([`provider::StateProvider::key_package_private_keys`]).

pub mod provider;

mod codec;
mod external;
mod proposals;

use std::collections::BTreeMap;

use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};
use openmls::ciphersuite::hash_ref::ProposalRef;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, MlsGroup, MlsGroupJoinConfig,
    MlsMessageOut, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY, PURE_PLAINTEXT_WIRE_FORMAT_POLICY,
    ProcessedMessageContent, StagedWelcome, WireFormatPolicy,
};
use openmls::schedule::PreSharedKeyId;
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::OpenMlsProvider;
use openmls_traits::crypto::OpenMlsCrypto;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use codec::{decode_message, decode_tree, refused};
use provider::StateProvider;

/// Past epochs whose resumption PSKs a group keeps (the scripts ask for a few back).
const RESUMPTION_PSKS: usize = 32;
/// Past epochs whose message secrets a group keeps, for messages that arrive late.
const PAST_EPOCHS: usize = 8;

/// One member's state in one group: the OpenMLS group, its provider and its keys.
struct State {
    group: MlsGroup,
    provider: StateProvider,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    /// The signature private key (a prior self rejoining by external commit reuses it).
    signature_private: Vec<u8>,
    /// Proposals this member sent in the current epoch: their bytes and references, so that
    /// a commit or HandleCommit handed them back recognises them instead of re-processing.
    sent: Vec<(Vec<u8>, ProposalRef)>,
}

/// A key package (or a new member's Add) waiting for a Welcome, with its provider, which
/// holds the private keys OpenMLS will look up when it joins.
struct Transaction {
    provider: StateProvider,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    /// The signature private key, as CreateKeyPackage and NewMemberAddProposal return it.
    signature_private: Vec<u8>,
}

/// An external signer (a delivery service, say) made by CreateExternalSigner.
struct ExternalSigner {
    signer: SignatureKeyPair,
}

/// OpenMLS behind the MLSClient interface.
pub struct OpenMlsClient {
    rng: ChaCha20Rng,
    next_id: u32,
    states: BTreeMap<u32, State>,
    transactions: BTreeMap<u32, Transaction>,
    signers: BTreeMap<u32, ExternalSigner>,
}

impl std::fmt::Debug for OpenMlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenMlsClient")
            .field("states", &self.states.len())
            .field("transactions", &self.transactions.len())
            .field("signers", &self.signers.len())
            .finish_non_exhaustive()
    }
}

/// The wire format policy of a group: handshakes as PrivateMessage or PublicMessage, in
/// both directions (application messages are always PrivateMessage; external senders'
/// proposals and external commits are PublicMessage whatever the policy).
fn wire_format_policy(encrypt_handshake: bool) -> WireFormatPolicy {
    if encrypt_handshake {
        PURE_CIPHERTEXT_WIRE_FORMAT_POLICY
    } else {
        PURE_PLAINTEXT_WIRE_FORMAT_POLICY
    }
}

fn join_config(encrypt_handshake: bool) -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(wire_format_policy(encrypt_handshake))
        .use_ratchet_tree_extension(true)
        .number_of_resumption_psks(RESUMPTION_PSKS)
        .max_past_epochs(PAST_EPOCHS)
        .build()
}

/// An RFC 9420 cipher suite number, if the RustCrypto provider implements it.
fn ciphersuite(method: &'static str, number: u32) -> Result<Ciphersuite, ClientError> {
    let unsupported = || {
        refused(
            method,
            format!("cipher suite {number} is not supported by the RustCrypto provider"),
        )
    };
    let id = u16::try_from(number).map_err(|_| unsupported())?;
    let suite = Ciphersuite::try_from(id).map_err(|_| unsupported())?;
    openmls_rust_crypto::RustCrypto::default()
        .supports(suite)
        .map_err(|_| unsupported())?;
    Ok(suite)
}

/// A fresh signature key pair and basic credential for `identity`.
fn identity_keys(
    method: &'static str,
    provider: &StateProvider,
    suite: Ciphersuite,
    identity: &[u8],
) -> Result<(SignatureKeyPair, CredentialWithKey, Vec<u8>), ClientError> {
    let scheme = suite.signature_algorithm();
    let (private, public) = provider
        .signature_key_pair(scheme)
        .map_err(|e| refused(method, format!("signature key pair: {e:?}")))?;
    let signer = SignatureKeyPair::from_raw(scheme, private.clone(), public);
    let credential = CredentialWithKey {
        credential: BasicCredential::new(identity.to_vec()).into(),
        signature_key: signer.public().into(),
    };
    Ok((signer, credential, private))
}

fn message_bytes(method: &'static str, message: &MlsMessageOut) -> Result<Vec<u8>, ClientError> {
    message
        .to_bytes()
        .map_err(|e| refused(method, format!("encoding the MLSMessage: {e}")))
}

impl OpenMlsClient {
    /// A client whose OpenMLS randomness (what `OpenMlsRand` draws) comes from `seed`.
    pub fn new(seed: u64) -> Self {
        OpenMlsClient {
            rng: ChaCha20Rng::seed_from_u64(seed),
            next_id: 1,
            states: BTreeMap::new(),
            transactions: BTreeMap::new(),
            signers: BTreeMap::new(),
        }
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    fn new_provider(&mut self) -> StateProvider {
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        StateProvider::new(seed)
    }

    fn state(&mut self, method: &'static str, state_id: u32) -> Result<&mut State, ClientError> {
        self.states
            .get_mut(&state_id)
            .ok_or_else(|| refused(method, format!("no group state with state_id {state_id}")))
    }

    fn insert_state(&mut self, state: State) -> u32 {
        let id = self.fresh_id();
        self.states.insert(id, state);
        id
    }

    /// A key package for `identity` with a provider of its own: (provider, signer,
    /// credential, key package, init private key, encryption private key).
    fn key_package(
        &mut self,
        method: &'static str,
        suite: Ciphersuite,
        identity: &[u8],
    ) -> Result<(Transaction, KeyPackage, Vec<u8>, Vec<u8>), ClientError> {
        let provider = self.new_provider();
        let (signer, credential, signature_private) =
            identity_keys(method, &provider, suite, identity)?;
        let bundle = KeyPackage::builder()
            .build(suite, &provider, &signer, credential.clone())
            .map_err(|e| refused(method, e))?;
        let key_package = bundle.key_package().clone();
        let reference = key_package
            .hash_ref(provider.crypto())
            .map_err(|e| refused(method, e))?;
        let (init_private, encryption_private) = provider
            .key_package_private_keys(&reference)
            .ok_or_else(|| {
                refused(
                    method,
                    "OpenMLS did not store the key package's private keys",
                )
            })?;
        Ok((
            Transaction {
                provider,
                signer,
                credential,
                signature_private,
            },
            key_package,
            init_private,
            encryption_private,
        ))
    }
}

impl ClientUnderTest for OpenMlsClient {
    fn name(&mut self, _: NameRequest) -> Result<NameResponse, ClientError> {
        Ok(NameResponse {
            name: "openmls".into(),
        })
    }

    fn supported_ciphersuites(
        &mut self,
        _: SupportedCiphersuitesRequest,
    ) -> Result<SupportedCiphersuitesResponse, ClientError> {
        let crypto = openmls_rust_crypto::RustCrypto::default();
        Ok(SupportedCiphersuitesResponse {
            ciphersuites: crypto
                .supported_ciphersuites()
                .into_iter()
                .map(|suite| u32::from(u16::from(suite)))
                .collect(),
        })
    }

    fn create_group(
        &mut self,
        request: CreateGroupRequest,
    ) -> Result<CreateGroupResponse, ClientError> {
        const M: &str = "CreateGroup";
        let suite = ciphersuite(M, request.cipher_suite)?;
        let provider = self.new_provider();
        let (signer, credential, signature_private) =
            identity_keys(M, &provider, suite, &request.identity)?;
        let group = MlsGroup::builder()
            .with_group_id(openmls::prelude::GroupId::from_slice(&request.group_id))
            .ciphersuite(suite)
            .with_wire_format_policy(wire_format_policy(request.encrypt_handshake))
            .use_ratchet_tree_extension(true)
            .number_of_resumption_psks(RESUMPTION_PSKS)
            .max_past_epochs(PAST_EPOCHS)
            .build(&provider, &signer, credential.clone())
            .map_err(|e| refused(M, e))?;
        let state_id = self.insert_state(State {
            group,
            provider,
            signer,
            credential,
            signature_private,
            sent: Vec::new(),
        });
        Ok(CreateGroupResponse { state_id })
    }

    fn create_key_package(
        &mut self,
        request: CreateKeyPackageRequest,
    ) -> Result<CreateKeyPackageResponse, ClientError> {
        const M: &str = "CreateKeyPackage";
        let suite = ciphersuite(M, request.cipher_suite)?;
        let (transaction, key_package, init_priv, encryption_priv) =
            self.key_package(M, suite, &request.identity)?;
        let key_package = message_bytes(M, &MlsMessageOut::from(key_package))?;
        let signature_priv = transaction.signature_private.clone();
        let transaction_id = self.fresh_id();
        self.transactions.insert(transaction_id, transaction);
        Ok(CreateKeyPackageResponse {
            transaction_id,
            key_package,
            init_priv,
            encryption_priv,
            signature_priv,
        })
    }

    fn join_group(&mut self, request: JoinGroupRequest) -> Result<JoinGroupResponse, ClientError> {
        const M: &str = "JoinGroup";
        let openmls::prelude::MlsMessageBodyIn::Welcome(welcome) =
            decode_message(M, &request.welcome)?.extract()
        else {
            return Err(refused(
                M,
                "`welcome` is not an MLSMessage carrying a Welcome",
            ));
        };
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
        let provider = transaction.provider;
        let group = StagedWelcome::new_from_welcome(
            &provider,
            &join_config(request.encrypt_handshake),
            welcome,
            tree,
        )
        .map_err(|e| refused(M, e))?
        .into_group(&provider)
        .map_err(|e| refused(M, e))?;
        let epoch_authenticator = group.epoch_authenticator().as_slice().to_vec();
        let state_id = self.insert_state(State {
            group,
            provider,
            signer: transaction.signer,
            credential: transaction.credential,
            signature_private: transaction.signature_private,
            sent: Vec::new(),
        });
        Ok(JoinGroupResponse {
            state_id,
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
        let state = self.state(M, request.state_id)?;
        let group_info = state
            .group
            .export_group_info(
                state.provider.crypto(),
                &state.signer,
                !request.external_tree,
            )
            .map_err(|e| refused(M, e))?;
        let ratchet_tree = if request.external_tree {
            state
                .group
                .export_ratchet_tree()
                .tls_serialize_detached()
                .map_err(|e| refused(M, format!("encoding the ratchet tree: {e}")))?
        } else {
            Vec::new()
        };
        Ok(GroupInfoResponse {
            group_info: message_bytes(M, &group_info)?,
            ratchet_tree,
        })
    }

    fn state_auth(&mut self, request: StateAuthRequest) -> Result<StateAuthResponse, ClientError> {
        let state = self.state("StateAuth", request.state_id)?;
        Ok(StateAuthResponse {
            state_auth_secret: state.group.epoch_authenticator().as_slice().to_vec(),
        })
    }

    fn export(&mut self, request: ExportRequest) -> Result<ExportResponse, ClientError> {
        const M: &str = "Export";
        let state = self.state(M, request.state_id)?;
        let length = usize::try_from(request.key_length)
            .map_err(|_| refused(M, "key_length does not fit in memory"))?;
        let exported_secret = state
            .group
            .export_secret(
                state.provider.crypto(),
                &request.label,
                &request.context,
                length,
            )
            .map_err(|e| refused(M, e))?;
        Ok(ExportResponse { exported_secret })
    }

    fn protect(&mut self, request: ProtectRequest) -> Result<ProtectResponse, ClientError> {
        const M: &str = "Protect";
        let state = self.state(M, request.state_id)?;
        state.group.set_aad(request.authenticated_data);
        let message = state
            .group
            .create_message(&state.provider, &state.signer, &request.plaintext)
            .map_err(|e| refused(M, e))?;
        Ok(ProtectResponse {
            ciphertext: message_bytes(M, &message)?,
        })
    }

    fn unprotect(&mut self, request: UnprotectRequest) -> Result<UnprotectResponse, ClientError> {
        const M: &str = "Unprotect";
        let message = codec::protocol_message(M, &request.ciphertext)?;
        let state = self.state(M, request.state_id)?;
        let processed = state
            .group
            .process_message(&state.provider, message)
            .map_err(|e| refused(M, e))?;
        let authenticated_data = processed.aad().to_vec();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(message) => Ok(UnprotectResponse {
                authenticated_data,
                plaintext: message.into_bytes(),
            }),
            _ => Err(refused(M, "`ciphertext` is not an application message")),
        }
    }

    fn store_psk(&mut self, request: StorePskRequest) -> Result<StorePskResponse, ClientError> {
        const M: &str = "StorePSK";
        let id = request.state_or_transaction_id;
        let provider = if let Some(state) = self.states.get(&id) {
            &state.provider
        } else if let Some(transaction) = self.transactions.get(&id) {
            &transaction.provider
        } else {
            return Err(refused(
                M,
                format!("no group state or key package with id {id}"),
            ));
        };
        // OpenMLS stores a PSK under its id alone: the nonce is chosen per use.
        PreSharedKeyId::external(request.psk_id, Vec::new())
            .store(provider, &request.psk_secret)
            .map_err(|e| refused(M, e))?;
        Ok(StorePskResponse {})
    }

    fn add_proposal(
        &mut self,
        request: AddProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.add_proposal_rpc(request)
    }

    fn update_proposal(
        &mut self,
        request: UpdateProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.update_proposal_rpc(request)
    }

    fn remove_proposal(
        &mut self,
        request: RemoveProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.remove_proposal_rpc(request)
    }

    fn external_psk_proposal(
        &mut self,
        request: ExternalPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.external_psk_proposal_rpc(request)
    }

    fn resumption_psk_proposal(
        &mut self,
        request: ResumptionPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.resumption_psk_proposal_rpc(request)
    }

    fn group_context_extensions_proposal(
        &mut self,
        request: GroupContextExtensionsProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.group_context_extensions_proposal_rpc(request)
    }

    fn commit(&mut self, request: CommitRequest) -> Result<CommitResponse, ClientError> {
        self.commit_rpc(request)
    }

    fn handle_commit(
        &mut self,
        request: HandleCommitRequest,
    ) -> Result<HandleCommitResponse, ClientError> {
        self.handle_commit_rpc(request)
    }

    fn handle_pending_commit(
        &mut self,
        request: HandlePendingCommitRequest,
    ) -> Result<HandleCommitResponse, ClientError> {
        const M: &str = "HandlePendingCommit";
        let state = self.state(M, request.state_id)?;
        if state.group.pending_commit().is_none() {
            return Err(refused(M, "there is no pending commit to merge"));
        }
        state
            .group
            .merge_pending_commit(&state.provider)
            .map_err(|e| refused(M, e))?;
        state.sent.clear();
        Ok(HandleCommitResponse {
            state_id: request.state_id,
            epoch_authenticator: state.group.epoch_authenticator().as_slice().to_vec(),
        })
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
        // The provider, and with it everything OpenMLS stored for the state, goes with it.
        self.states.remove(&request.state_id);
        Ok(FreeResponse {})
    }
}
