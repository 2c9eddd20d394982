//! Concord's reference implementation as a client under test (`--client reference`, and
//! what `concord serve-client` serves).
//!
//! ```text
//! MLSClient request ──> ReferenceClient { groups by state_id, key packages by transaction_id,
//!                                         reinits by reinit_id, external signers by signer_id }
//!                                   └──> concord_reference::group::Group (sans-IO)
//! ```
//!
//! The reference is sans-IO; this adapter supplies what it takes as parameters: a seeded
//! RNG (the same seed gives the same run) and a clock. The clock is the start of the current
//! UTC day by default, so the lifetimes of the key packages and leaves it makes cover the
//! real time that other implementations check them against, while the same command on the
//! same day gives the same bytes; [`ReferenceClient::at`] fixes it instead. Handles are small
//! integers handed out in order, as the interface leaves their choice to the client.

use std::collections::BTreeMap;

use concord_reference::codec::Codec;
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::group::{
    CapabilityListing, CommitOptions, CommitOutput, ExternalSigner, Group, GroupConfig, GroupError,
    HandshakeMode, KeyPackageSecrets, PskStore, Received, create_key_package_listing,
    new_member_add_proposal_listing,
};
use concord_reference::messages::{
    Extension, ExtensionType, ExternalSender, KeyPackage, MlsMessage, MlsMessageBody,
    RatchetTree as WireTree,
};
use rand_core::SeedableRng;

use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};

mod proposals;
mod subgroup;

/// Where the adapter's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    #[default]
    /// The start of the current UTC day (seconds since the Unix epoch).
    WallClockDay,
    /// Always this time.
    Fixed(u64),
}

impl Clock {
    /// The time lifetimes are checked against: the wall clock's current second, or the
    /// fixed time.
    pub fn current_time(self) -> u64 {
        match self {
            Clock::Fixed(now) => now,
            Clock::WallClockDay => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// Seconds since the Unix epoch: what this client stamps its key packages with.
    pub fn now(self) -> u64 {
        match self {
            Clock::Fixed(now) => now,
            Clock::WallClockDay => {
                let seconds = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                seconds - seconds % 86_400
            }
        }
    }
}

/// A key package made for a later join, with its private keys.
struct Transaction {
    key_package: KeyPackage,
    secrets: KeyPackageSecrets,
    psks: PskStore,
}

/// A group that was reinitialized: the old group, and this member's key package for
/// the new one.
struct PendingReInit {
    old: Group,
    transaction: Transaction,
}

/// Deliberate deviations from RFC 9420 and from the interface, for test doubles of
/// faulty clients (`concord serve-client --fault`, the harness's `client::faults`); none by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deviations {
    /// Own leaves list the default extension and proposal types in their capabilities,
    /// which section 7.2 forbids (`--fault list-default-extensions`).
    pub list_default_types: bool,
    /// `external_tree` is ignored where a Welcome is made (Commit, ReInitWelcome,
    /// CreateBranch): the Welcome's GroupInfo keeps the `ratchet_tree` extension, and the
    /// answer carries the tree as well (`--fault ignore-external-tree`).
    pub ignore_external_tree: bool,
}

/// The reference, holding many groups and pending joins, behind the MLSClient interface.
pub struct ReferenceClient {
    rng: rand_chacha::ChaCha20Rng,
    clock: Clock,
    deviations: Deviations,
    next_id: u32,
    groups: BTreeMap<u32, Group>,
    transactions: BTreeMap<u32, Transaction>,
    reinits: BTreeMap<u32, PendingReInit>,
    signers: BTreeMap<u32, ExternalSigner>,
}

impl std::fmt::Debug for ReferenceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferenceClient")
            .field("groups", &self.groups.len())
            .field("transactions", &self.transactions.len())
            .finish_non_exhaustive()
    }
}

/// A refusal by the reference: the request was not acceptable (the message says why).
/// A typed reference error also names the requirements of the check that raised it
/// (`[RFC9420-...]`, see `concord_reference::requirement`), so a failure can cite them.
fn refused<E: std::fmt::Display + 'static>(method: &'static str, error: E) -> ClientError {
    let cited = concord_reference::requirement::requirements_of(&error);
    let message = if cited.is_empty() {
        error.to_string()
    } else {
        format!("{error} [{}]", cited.join(", "))
    };
    ClientError::Refused {
        method,
        code: "InvalidArgument".into(),
        message,
    }
}

fn suite(method: &'static str, cipher_suite: u32) -> Result<CipherSuite, ClientError> {
    let id = u16::try_from(cipher_suite)
        .map_err(|_| refused(method, format!("cipher suite {cipher_suite}")))?;
    Suite::new(CipherSuite(id)).map_err(|e| refused(method, e))?;
    Ok(CipherSuite(id))
}

fn decode_message(method: &'static str, bytes: &[u8]) -> Result<MlsMessage, ClientError> {
    MlsMessage::from_bytes(bytes).map_err(|e| refused(method, format!("not an MLSMessage: {e}")))
}

fn decode_key_package(method: &'static str, bytes: &[u8]) -> Result<KeyPackage, ClientError> {
    match decode_message(method, bytes)?.body {
        MlsMessageBody::KeyPackage(key_package) => Ok(key_package),
        _ => Err(refused(method, "not an MLSMessage carrying a KeyPackage")),
    }
}

/// An out-of-band ratchet tree: empty bytes mean "none given".
fn decode_tree(method: &'static str, bytes: &[u8]) -> Result<Option<WireTree>, ClientError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    WireTree::from_bytes(bytes)
        .map(Some)
        .map_err(|e| refused(method, format!("ratchet tree: {e}")))
}

fn extensions(
    method: &'static str,
    specs: &[concord_client::proto::Extension],
) -> Result<Vec<Extension>, ClientError> {
    specs
        .iter()
        .map(|e| {
            let extension_type = u16::try_from(e.extension_type)
                .map_err(|_| refused(method, format!("extension type {}", e.extension_type)))?;
            Ok(Extension::new(
                ExtensionType(extension_type),
                e.extension_data.clone(),
            ))
        })
        .collect()
}

fn tree_bytes(tree: Option<WireTree>) -> Vec<u8> {
    tree.map(|t| t.to_bytes()).unwrap_or_default()
}

/// The tree a commit's answer carries: the one returned beside the Welcome, else, when
/// the caller asked for it out of band but the tree went in the GroupInfo anyway
/// ([`Deviations::ignore_external_tree`]), the GroupInfo's copy.
fn answer_tree(output: &CommitOutput, external_tree_asked: bool) -> Vec<u8> {
    match &output.ratchet_tree {
        Some(tree) => tree.to_bytes(),
        None if external_tree_asked => Extension::find::<WireTree>(&output.group_info.extensions)
            .ok()
            .flatten()
            .map(|tree| tree.to_bytes())
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

impl ReferenceClient {
    /// A reference client whose randomness comes from `seed`.
    /// A client seeded with `seed`, on the wall clock's day.
    pub fn new(seed: u64) -> Self {
        ReferenceClient::at(seed, Clock::WallClockDay)
    }

    /// A client seeded with `seed`, on `clock`.
    pub fn at(seed: u64, clock: Clock) -> Self {
        ReferenceClient {
            rng: rand_chacha::ChaCha20Rng::seed_from_u64(seed),
            clock,
            deviations: Deviations::default(),
            next_id: 1,
            groups: BTreeMap::new(),
            transactions: BTreeMap::new(),
            reinits: BTreeMap::new(),
            signers: BTreeMap::new(),
        }
    }

    /// The same client, deviating as `deviations` says.
    pub fn with_deviations(self, deviations: Deviations) -> Self {
        ReferenceClient { deviations, ..self }
    }

    /// The group configuration of the groups this client creates or joins.
    fn config(&self, encrypt_handshake: bool) -> GroupConfig {
        GroupConfig {
            handshake: if encrypt_handshake {
                HandshakeMode::Private
            } else {
                HandshakeMode::Public
            },
            leaf_capabilities: self.capability_listing(),
            // A KeyPackage this client adds must be within its lifetime now (the real time,
            // or the fixed time of a fixed clock).
            now: Some(self.clock.current_time()),
            ..GroupConfig::default()
        }
    }

    fn capability_listing(&self) -> CapabilityListing {
        if self.deviations.list_default_types {
            CapabilityListing::ListDefaultTypes
        } else {
            CapabilityListing::Conforming
        }
    }

    /// Whether a Welcome keeps the tree out of its GroupInfo, given what the caller asked.
    fn external_tree(&self, asked: bool) -> bool {
        asked && !self.deviations.ignore_external_tree
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Sets every group's clock to now before a call that may add a KeyPackage: a sender
    /// checks the KeyPackage's lifetime against the current time (RFC9420-7.3-2), and a
    /// group may live longer than a second.
    fn tick(&mut self) {
        let now = Some(self.clock.current_time());
        let reinits = self.reinits.values_mut().map(|r| &mut r.old);
        for group in self.groups.values_mut().chain(reinits) {
            if group.config().now != now {
                let mut config = *group.config();
                config.now = now;
                group.set_config(config);
            }
        }
    }

    fn group(&mut self, method: &'static str, state_id: u32) -> Result<&mut Group, ClientError> {
        self.groups
            .get_mut(&state_id)
            .ok_or_else(|| refused(method, format!("no group with state_id {state_id}")))
    }

    /// Sends a proposal from group `state_id`, made by `make` with the client's RNG.
    fn propose(
        &mut self,
        method: &'static str,
        state_id: u32,
        make: impl FnOnce(
            &mut Group,
            &mut dyn rand_core::CryptoRng,
        )
            -> Result<(MlsMessage, concord_reference::messages::ProposalRef), GroupError>,
    ) -> Result<ProposalResponse, ClientError> {
        let rng = &mut self.rng;
        let group = self
            .groups
            .get_mut(&state_id)
            .ok_or_else(|| refused(method, format!("no group with state_id {state_id}")))?;
        proposals::sent(method, make(group, rng))
    }

    fn insert_group(&mut self, group: Group) -> u32 {
        let id = self.fresh_id();
        self.groups.insert(id, group);
        id
    }

    fn new_transaction(
        &mut self,
        method: &'static str,
        suite_id: CipherSuite,
        identity: &[u8],
    ) -> Result<(u32, Vec<u8>, &Transaction), ClientError> {
        let suite = Suite::new(suite_id).map_err(|e| refused(method, e))?;
        let listing = self.capability_listing();
        let (key_package, secrets) = create_key_package_listing(
            &suite,
            identity,
            None,
            listing,
            self.clock.now(),
            &mut self.rng,
        )
        .map_err(|e| refused(method, e))?;
        let bytes = MlsMessage::new(MlsMessageBody::KeyPackage(key_package.clone())).to_bytes();
        let id = self.fresh_id();
        let transaction = self.transactions.entry(id).or_insert(Transaction {
            key_package,
            secrets,
            psks: PskStore::default(),
        });
        Ok((id, bytes, transaction))
    }

    /// Commits, keeps the commit pending, and returns the wire outputs.
    fn commit_request(
        &mut self,
        method: &'static str,
        request: CommitRequest,
    ) -> Result<CommitResponse, ClientError> {
        let mut options = CommitOptions {
            force_path: request.force_path,
            external_tree: self.external_tree(request.external_tree),
            ..CommitOptions::default()
        };
        let state_id = request.state_id;
        for bytes in &request.by_reference {
            let group = self.group(method, state_id)?;
            options
                .by_reference
                .push(proposals::reference_of(method, group, bytes)?);
        }
        for description in &request.by_value {
            let group = self
                .groups
                .get(&state_id)
                .ok_or_else(|| refused(method, "no such group"))?;
            options.by_value.push(proposals::from_description(
                method,
                group,
                description,
                &mut self.rng,
            )?);
        }
        let rng = &mut self.rng;
        let group = self
            .groups
            .get_mut(&state_id)
            .ok_or_else(|| refused(method, format!("no group with state_id {state_id}")))?;
        let output = group
            .commit(&options, rng)
            .map_err(|e| refused(method, e))?;
        Ok(CommitResponse {
            commit: output.commit.to_bytes(),
            ratchet_tree: answer_tree(&output, request.external_tree),
            welcome: output.welcome.map(|w| w.to_bytes()).unwrap_or_default(),
        })
    }

    /// Handles proposals then a commit from another member.
    fn handle_commit_request(
        &mut self,
        method: &'static str,
        request: &HandleCommitRequest,
    ) -> Result<(), ClientError> {
        let group = self.group(method, request.state_id)?;
        for proposal in &request.proposal {
            // Own proposals come back too: recognised by their bytes, not re-processed.
            proposals::reference_of(method, group, proposal)?;
        }
        match group
            .process_message_bytes(&request.commit)
            .map_err(|e| refused(method, e))?
        {
            Received::Commit(_) => Ok(()),
            _ => Err(refused(method, "`commit` is not a commit")),
        }
    }
}

impl ClientUnderTest for ReferenceClient {
    fn name(&mut self, _: NameRequest) -> Result<NameResponse, ClientError> {
        Ok(NameResponse {
            name: "concord-reference".into(),
        })
    }

    fn supported_ciphersuites(
        &mut self,
        _: SupportedCiphersuitesRequest,
    ) -> Result<SupportedCiphersuitesResponse, ClientError> {
        Ok(SupportedCiphersuitesResponse {
            ciphersuites: CipherSuite::ALL.iter().map(|s| u32::from(s.0)).collect(),
        })
    }

    fn create_group(
        &mut self,
        request: CreateGroupRequest,
    ) -> Result<CreateGroupResponse, ClientError> {
        const M: &str = "CreateGroup";
        let suite = suite(M, request.cipher_suite)?;
        let group = Group::create(
            suite,
            request.group_id,
            &request.identity,
            None,
            Vec::new(),
            self.config(request.encrypt_handshake),
            self.clock.now(),
            &mut self.rng,
        )
        .map_err(|e| refused(M, e))?;
        Ok(CreateGroupResponse {
            state_id: self.insert_group(group),
        })
    }

    fn create_key_package(
        &mut self,
        request: CreateKeyPackageRequest,
    ) -> Result<CreateKeyPackageResponse, ClientError> {
        const M: &str = "CreateKeyPackage";
        let suite = suite(M, request.cipher_suite)?;
        let (transaction_id, key_package, transaction) =
            self.new_transaction(M, suite, &request.identity)?;
        Ok(CreateKeyPackageResponse {
            transaction_id,
            key_package,
            init_priv: transaction.secrets.init_private.clone(),
            encryption_priv: transaction.secrets.encryption_private.clone(),
            signature_priv: transaction.secrets.signature_private.clone(),
        })
    }

    fn join_group(&mut self, request: JoinGroupRequest) -> Result<JoinGroupResponse, ClientError> {
        const M: &str = "JoinGroup";
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
        let MlsMessageBody::Welcome(welcome) = decode_message(M, &request.welcome)?.body else {
            return Err(refused(M, "not an MLSMessage carrying a Welcome"));
        };
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let group = Group::join(
            &welcome,
            &transaction.key_package,
            &transaction.secrets,
            tree.as_ref(),
            &transaction.psks,
            self.config(request.encrypt_handshake),
        )
        .map_err(|e| refused(M, e))?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        Ok(JoinGroupResponse {
            state_id: self.insert_group(group),
            epoch_authenticator,
        })
    }

    fn external_join(
        &mut self,
        request: ExternalJoinRequest,
    ) -> Result<ExternalJoinResponse, ClientError> {
        const M: &str = "ExternalJoin";
        let message = decode_message(M, &request.group_info)?;
        let MlsMessageBody::GroupInfo(group_info) = &message.body else {
            return Err(refused(M, "not an MLSMessage carrying a GroupInfo"));
        };
        let tree = decode_tree(M, &request.ratchet_tree)?;
        let psks: Vec<(Vec<u8>, Vec<u8>)> = request
            .psks
            .iter()
            .map(|p| (p.psk_id.clone(), p.psk_secret.clone()))
            .collect();
        let joined = Group::join_external(
            group_info,
            tree.as_ref(),
            &request.identity,
            None,
            request.remove_prior,
            &psks,
            self.config(request.encrypt_handshake),
            &mut self.rng,
        )
        .map_err(|e| refused(M, e))?;
        let epoch_authenticator = joined.group.epoch_authenticator().to_vec();
        Ok(ExternalJoinResponse {
            state_id: self.insert_group(joined.group),
            commit: joined.commit.to_bytes(),
            epoch_authenticator,
        })
    }

    fn group_info(&mut self, request: GroupInfoRequest) -> Result<GroupInfoResponse, ClientError> {
        const M: &str = "GroupInfo";
        let (message, tree) = self
            .group(M, request.state_id)?
            .group_info(request.external_tree)
            .map_err(|e| refused(M, e))?;
        Ok(GroupInfoResponse {
            group_info: message.to_bytes(),
            ratchet_tree: tree_bytes(tree),
        })
    }

    fn state_auth(&mut self, request: StateAuthRequest) -> Result<StateAuthResponse, ClientError> {
        Ok(StateAuthResponse {
            state_auth_secret: self
                .group("StateAuth", request.state_id)?
                .epoch_authenticator()
                .to_vec(),
        })
    }

    fn export(&mut self, request: ExportRequest) -> Result<ExportResponse, ClientError> {
        const M: &str = "Export";
        let length = u16::try_from(request.key_length)
            .map_err(|_| refused(M, "key_length exceeds 65535"))?;
        let secret = self
            .group(M, request.state_id)?
            .export_secret(request.label.as_bytes(), &request.context, length)
            .map_err(|e| refused(M, e))?;
        Ok(ExportResponse {
            exported_secret: secret,
        })
    }

    fn protect(&mut self, request: ProtectRequest) -> Result<ProtectResponse, ClientError> {
        const M: &str = "Protect";
        let rng = &mut self.rng;
        let group = self
            .groups
            .get_mut(&request.state_id)
            .ok_or_else(|| refused(M, "no such group"))?;
        let message = group
            .protect(&request.authenticated_data, &request.plaintext, rng)
            .map_err(|e| refused(M, e))?;
        Ok(ProtectResponse {
            ciphertext: message.to_bytes(),
        })
    }

    fn unprotect(&mut self, request: UnprotectRequest) -> Result<UnprotectResponse, ClientError> {
        const M: &str = "Unprotect";
        match self
            .group(M, request.state_id)?
            .process_message_bytes(&request.ciphertext)
            .map_err(|e| refused(M, e))?
        {
            Received::Application {
                authenticated_data,
                data,
                ..
            } => Ok(UnprotectResponse {
                authenticated_data,
                plaintext: data,
            }),
            _ => Err(refused(M, "not an application message")),
        }
    }

    fn store_psk(&mut self, request: StorePskRequest) -> Result<StorePskResponse, ClientError> {
        let id = request.state_or_transaction_id;
        if let Some(group) = self.groups.get_mut(&id) {
            group.store_external_psk(request.psk_id, request.psk_secret);
        } else if let Some(transaction) = self.transactions.get_mut(&id) {
            transaction
                .psks
                .external
                .insert(request.psk_id, request.psk_secret);
        } else {
            return Err(refused(
                "StorePSK",
                format!("no group or key package with id {id}"),
            ));
        }
        Ok(StorePskResponse {})
    }

    fn add_proposal(
        &mut self,
        request: AddProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.tick();
        const M: &str = "AddProposal";
        let key_package = decode_key_package(M, &request.key_package)?;
        self.propose(M, request.state_id, |group, rng| {
            group.propose_add(key_package, rng)
        })
    }

    fn update_proposal(
        &mut self,
        request: UpdateProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "UpdateProposal";
        self.propose(M, request.state_id, |group, rng| group.propose_update(rng))
    }

    fn remove_proposal(
        &mut self,
        request: RemoveProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "RemoveProposal";
        self.propose(M, request.state_id, |group, rng| {
            group.propose_remove_identity(&request.removed_id, rng)
        })
    }

    fn external_psk_proposal(
        &mut self,
        request: ExternalPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ExternalPSKProposal";
        self.propose(M, request.state_id, |group, rng| {
            group.propose_external_psk(&request.psk_id, rng)
        })
    }

    fn resumption_psk_proposal(
        &mut self,
        request: ResumptionPskProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ResumptionPSKProposal";
        self.propose(M, request.state_id, |group, rng| {
            group.propose_resumption_psk(request.epoch_id, rng)
        })
    }

    fn group_context_extensions_proposal(
        &mut self,
        request: GroupContextExtensionsProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "GroupContextExtensionsProposal";
        let extensions = extensions(M, &request.extensions)?;
        self.propose(M, request.state_id, |group, rng| {
            group.propose_group_context_extensions(extensions, rng)
        })
    }

    fn commit(&mut self, request: CommitRequest) -> Result<CommitResponse, ClientError> {
        self.tick();
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
            epoch_authenticator: self
                .group(M, request.state_id)?
                .epoch_authenticator()
                .to_vec(),
        })
    }

    fn handle_pending_commit(
        &mut self,
        request: HandlePendingCommitRequest,
    ) -> Result<HandleCommitResponse, ClientError> {
        const M: &str = "HandlePendingCommit";
        let group = self.group(M, request.state_id)?;
        group.merge_pending_commit().map_err(|e| refused(M, e))?;
        Ok(HandleCommitResponse {
            state_id: request.state_id,
            epoch_authenticator: group.epoch_authenticator().to_vec(),
        })
    }

    fn re_init_proposal(
        &mut self,
        request: ReInitProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "ReInitProposal";
        let suite = suite(M, request.cipher_suite)?;
        let extensions = extensions(M, &request.extensions)?;
        let rng = &mut self.rng;
        let group = self
            .groups
            .get_mut(&request.state_id)
            .ok_or_else(|| refused(M, "no such group"))?;
        proposals::sent(
            M,
            group.propose_reinit(request.group_id, suite, extensions, rng),
        )
    }

    fn re_init_commit(&mut self, request: CommitRequest) -> Result<CommitResponse, ClientError> {
        self.tick();
        self.commit_request("ReInitCommit", request)
    }

    fn handle_pending_re_init_commit(
        &mut self,
        request: HandlePendingCommitRequest,
    ) -> Result<HandleReInitCommitResponse, ClientError> {
        const M: &str = "HandlePendingReInitCommit";
        self.group(M, request.state_id)?
            .merge_pending_commit()
            .map_err(|e| refused(M, e))?;
        self.start_reinit(M, request.state_id)
    }

    fn handle_re_init_commit(
        &mut self,
        request: HandleCommitRequest,
    ) -> Result<HandleReInitCommitResponse, ClientError> {
        const M: &str = "HandleReInitCommit";
        self.handle_commit_request(M, &request)?;
        self.start_reinit(M, request.state_id)
    }

    fn re_init_welcome(
        &mut self,
        request: ReInitWelcomeRequest,
    ) -> Result<CreateSubgroupResponse, ClientError> {
        self.tick();
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
        self.tick();
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
        const M: &str = "NewMemberAddProposal";
        let message = decode_message(M, &request.group_info)?;
        let MlsMessageBody::GroupInfo(group_info) = &message.body else {
            return Err(refused(M, "not an MLSMessage carrying a GroupInfo"));
        };
        let (proposal, key_package, secrets) = new_member_add_proposal_listing(
            group_info,
            &request.identity,
            self.capability_listing(),
            self.clock.now(),
            &mut self.rng,
        )
        .map_err(|e| refused(M, e))?;
        let response = NewMemberAddProposalResponse {
            transaction_id: 0,
            proposal: proposal.to_bytes(),
            init_priv: secrets.init_private.clone(),
            encryption_priv: secrets.encryption_private.clone(),
            signature_priv: secrets.signature_private.clone(),
        };
        let transaction_id = self.fresh_id();
        self.transactions.insert(
            transaction_id,
            Transaction {
                key_package,
                secrets,
                psks: PskStore::default(),
            },
        );
        Ok(NewMemberAddProposalResponse {
            transaction_id,
            ..response
        })
    }

    fn create_external_signer(
        &mut self,
        request: CreateExternalSignerRequest,
    ) -> Result<CreateExternalSignerResponse, ClientError> {
        const M: &str = "CreateExternalSigner";
        let suite = suite(M, request.cipher_suite)?;
        let signer = ExternalSigner::new(suite, &request.identity, &mut self.rng)
            .map_err(|e| refused(M, e))?;
        let external_sender = signer.sender.to_bytes();
        let signer_id = self.fresh_id();
        self.signers.insert(signer_id, signer);
        Ok(CreateExternalSignerResponse {
            signer_id,
            external_sender,
        })
    }

    fn add_external_signer(
        &mut self,
        request: AddExternalSignerRequest,
    ) -> Result<ProposalResponse, ClientError> {
        const M: &str = "AddExternalSigner";
        let sender = ExternalSender::from_bytes(&request.external_sender)
            .map_err(|e| refused(M, format!("ExternalSender: {e}")))?;
        let rng = &mut self.rng;
        let group = self
            .groups
            .get_mut(&request.state_id)
            .ok_or_else(|| refused(M, "no such group"))?;
        let (message, _, _) = group
            .propose_add_external_sender(sender, rng)
            .map_err(|e| refused(M, e))?;
        Ok(ProposalResponse {
            proposal: message.to_bytes(),
        })
    }

    fn external_signer_proposal(
        &mut self,
        request: ExternalSignerProposalRequest,
    ) -> Result<ProposalResponse, ClientError> {
        self.tick();
        const M: &str = "ExternalSignerProposal";
        proposals::external_signer_proposal(M, self, request)
    }

    fn free(&mut self, request: FreeRequest) -> Result<FreeResponse, ClientError> {
        self.groups.remove(&request.state_id);
        Ok(FreeResponse {})
    }
}
