//! Processing proposals and commits as a member (RFC 9420 sections 12.2, 12.3, 12.4.2).
//!
//! ```text
//! Proposal message ──unprotect, verify──> cache[ProposalRef] (this epoch only)
//! Commit message   ──unprotect, verify──> proposals (inline or from the cache)
//!   validate the list (12.2)          apply in order (12.3): GroupContextExtensions,
//!   Update, Remove, Add, then PreSharedKey; ExternalInit for external commits
//!   UpdatePath (if present)           merge into the tree, decrypt own path secret
//!   provisional GroupContext          epoch + 1, new tree hash, new extensions
//!   confirmed transcript hash         interim + ConfirmedTranscriptHashInput
//!   key schedule                      init_secret, commit_secret, psk_secret
//!   confirmation tag                  MAC(confirmation_key, confirmed hash), checked
//!   new epoch                         interim hash, secret tree, empty proposal cache
//! ```

use std::collections::BTreeMap;

use crate::codec::{Bytes, Codec};
use crate::crypto::CryptoError;
use crate::framing::{self, FramingError, constant_time_eq};
use crate::join::JoinedGroup;
use crate::key_schedule::{self, EpochSecrets, zero_secret};
use crate::messages::{
    AuthenticatedContent, Commit, ContentBody, Extension, ExternalSenders, GroupContext, LeafNode,
    MlsMessage, MlsMessageBody, PreSharedKeyId, Proposal, ProposalOrRef, ProposalRef, Psk, ReInit,
    Sender,
};
use crate::psk;
use crate::ratchet_tree::{RatchetTree, TreeError};
use crate::secret_tree::{RatchetPolicy, SecretTree};
use crate::transcript;
use crate::treekem::{self, PrivateKeys, TreeKemError};

/// The `info`/`exporter_context` label of the external init secret (section 8.3).
pub const EXTERNAL_INIT_LABEL: &[u8] = b"MLS 1.0 external init secret";

/// Why a proposal or commit is rejected. Each variant names the rule it enforces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Framing(#[from] FramingError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// Section 12.4.2: the UpdatePath does not merge or decrypt (section 7.5).
    #[error("update path: {0}")]
    TreeKem(#[from] TreeKemError),
    /// Only PublicMessage and PrivateMessage carry handshake content.
    #[error("not a PublicMessage or PrivateMessage")]
    NotHandshake,
    /// Section 6: "the group_id field ... matches the recipient's group".
    #[error("message is for another group")]
    WrongGroup,
    /// Section 6: the epoch must be the current one for handshake messages.
    #[error("message is for epoch {message}, the group is at epoch {current}")]
    WrongEpoch { message: u64, current: u64 },
    /// The message carries the wrong content type for where it was given.
    #[error("expected a {expected} message")]
    WrongContentType { expected: &'static str },
    /// Section 6.1: the sender leaf is blank or outside the tree.
    #[error("sender leaf {0} holds no member")]
    SenderNotMember(u32),
    /// Sender types this member does not process (external senders need the
    /// `external_senders` extension).
    #[error("unsupported sender {0:?}")]
    UnsupportedSender(Sender),
    /// Section 12.4.2: "If any of the proposals are referenced by ProposalRef and the
    /// ProposalRef does not correspond to a proposal received in the current epoch,
    /// return an error."
    #[error("commit references unknown proposal {0}")]
    UnknownProposalRef(String),
    /// Section 12.2: the commit includes an Update proposal sent by the committer.
    #[error("the committer's own Update proposal is in its commit (section 12.2)")]
    CommitterUpdate,
    /// Section 12.2: the commit removes the committer.
    #[error("the commit removes its own committer (section 12.2)")]
    CommitterRemoved,
    /// Section 12.2: multiple Update and/or Remove proposals for the same leaf.
    #[error("several Update/Remove proposals apply to leaf {0} (section 12.2)")]
    DuplicateLeafChange(u32),
    /// Section 12.2: an Update or Remove targets a blank leaf.
    #[error("Update or Remove for blank leaf {0} (section 12.2)")]
    BlankTarget(u32),
    /// Section 12.2: multiple PreSharedKey proposals reference the same PreSharedKeyID.
    #[error("the same PreSharedKeyID is proposed twice (section 12.2)")]
    DuplicatePsk,
    /// Section 12.2: more than one GroupContextExtensions proposal.
    #[error("more than one GroupContextExtensions proposal (section 12.2)")]
    MultipleGroupContextExtensions,
    /// Section 12.2: a ReInit proposal together with any other proposal.
    #[error("a ReInit proposal is combined with other proposals (section 12.2)")]
    ReInitNotAlone,
    /// Section 12.2: ExternalInit outside an external commit, or more than one.
    #[error("ExternalInit in a commit that is not an external commit, or more than one")]
    InvalidExternalInit,
    /// Section 12.4.3.2: an external commit lacks its single ExternalInit.
    #[error("an external commit carries no ExternalInit proposal")]
    MissingExternalInit,
    /// Section 12.4.3.2: external commits carry no proposals by reference, no Add,
    /// Update, GroupContextExtensions or ReInit.
    #[error("proposal type {0} is not allowed in an external commit")]
    ExternalCommitProposal(u16),
    /// Section 12.2: two Adds for the same KeyPackage signature key, or an Add for a
    /// current member's signature key.
    #[error("an Add duplicates the signature key of a member or another Add (section 12.2)")]
    DuplicateAdd,
    /// Section 12.2: an Add whose KeyPackage is for another cipher suite.
    #[error("an Add's KeyPackage has cipher suite {0}")]
    AddCipherSuite(u16),
    /// Section 12.4.2: "Verify that the path value is populated if the proposals vector
    /// contains any Update or Remove proposals, or if it's empty."
    #[error("the commit needs an UpdatePath")]
    MissingPath,
    /// This member cannot follow a commit that changes its own leaf with a key it
    /// does not hold, or removes it.
    #[error("the commit removes or replaces this member's own leaf {0}")]
    OwnLeafChanged(u32),
    /// Section 8.4: a PSK the commit names is not known.
    #[error("unknown PSK {0:?}")]
    UnknownPsk(Psk),
    /// Section 12.4.2: "Verify that the confirmation_tag ... matches".
    #[error("confirmation tag does not verify (section 12.4.2)")]
    ConfirmationTag,
    /// Section 12.1.8: the `external_senders` extension has no entry at this index.
    #[error("no external sender at index {0} (section 12.1.8)")]
    UnknownExternalSender(u32),
    /// Section 12.1.8: an external sender proposes a type the registry's "Ext" column
    /// does not allow.
    #[error("proposal type {0} may not come from an external sender (section 12.1.8)")]
    ExternalProposalType(u16),
    /// Section 12.1.8: a `new_member_proposal` sender may only send an Add.
    #[error("a new_member_proposal sender sent something other than an Add (section 12.1.8)")]
    NewMemberProposalNotAdd,
    /// Section 10.1: "Verify that the signature on the KeyPackage is valid using the
    /// public key in `leaf_node.credential`".
    #[error("an Add's KeyPackage signature does not verify (section 10.1)")]
    KeyPackageSignature,
    /// Section 10.1: the KeyPackage's leaf node signature, source `key_package`.
    #[error("an Add's KeyPackage leaf node is invalid: {0} (sections 7.3, 10.1)")]
    KeyPackageLeaf(&'static str),
    /// Section 10.1: "Verify that the value of `leaf_node.encryption_key` is different
    /// from the value of the `init_key` field."
    #[error("an Add's KeyPackage uses its init_key as encryption_key (section 10.1)")]
    KeyPackageInitKeyReused,
    /// Section 10.1: the KeyPackage's version is the group's (mls10).
    #[error("an Add's KeyPackage has protocol version {0} (section 10.1)")]
    KeyPackageVersion(u16),
    /// Section 12.1.2 with 7.3: an Update's leaf node has source `update` and a valid
    /// signature for the proposer's leaf.
    #[error("the Update for leaf {leaf} carries an invalid leaf node: {reason} (section 7.3)")]
    UpdateLeaf { leaf: u32, reason: &'static str },
    /// Sections 11.2 and 11.3: "A PreSharedKey proposal with type `resumption` and
    /// usage `reinit` [or `branch`] MUST be considered invalid."
    #[error("a PreSharedKey proposal names a resumption PSK of usage reinit or branch")]
    ReservedPskUsage,
    /// Section 12.2: an external commit has at most one Remove.
    #[error("an external commit carries {0} Remove proposals (section 12.2)")]
    ExternalCommitRemoves(usize),
    /// Section 12.2: an external commit's Remove is of the joiner's old leaf: the new
    /// leaf presents the removed leaf's credential.
    #[error("an external commit removes leaf {0}, whose credential is not the joiner's")]
    ExternalRemoveIdentity(u32),
    /// Section 6: commit content carries a confirmation tag.
    #[error("commit content lacks its confirmation tag")]
    MissingConfirmationTag,
    /// Sections 11.1 and 12.1.7: a GroupContextExtensions proposal requires a capability
    /// (an extension, proposal or credential type) that a member staying in the group
    /// does not list.
    #[error("leaf {leaf} does not support the required {what} {code} (sections 11.1, 12.1.7)")]
    RequiredCapabilityUnsupported {
        leaf: u32,
        what: &'static str,
        code: u16,
    },
    /// Section 13.4: a GroupContext extension in force after the commit is not supported
    /// by a leaf of the new tree (`leaf` is `None` for an added KeyPackage): neither a
    /// default type nor listed in the leaf's capabilities, or a GREASE type (13.5).
    #[error(
        "GroupContext extension {extension} is not supported by leaf {leaf:?} (None: an added KeyPackage) (section 13.4)"
    )]
    GroupContextExtensionUnsupported { leaf: Option<u32>, extension: u16 },
    /// Section 12.1.4: a PreSharedKey proposal's `psk_nonce` is not KDF.Nh bytes long.
    #[error("a psk_nonce of {actual} bytes, not KDF.Nh = {expected} (section 12.1.4)")]
    PskNonceLength { expected: usize, actual: usize },
    /// Section 12.1.5: a ReInit proposal to a protocol version below the group's.
    #[error(
        "a ReInit to protocol version {proposed}, below the group's {current} (section 12.1.5)"
    )]
    ReInitVersionDowngrade { proposed: u16, current: u16 },
    /// Section 10: "Extensions included in the `extensions` or `leaf_node.extensions`
    /// fields MUST be included in the `leaf_node.capabilities` field" (a GREASE one too).
    #[error(
        "the KeyPackage carries extension type {0}, which its leaf's capabilities do not list (section 10)"
    )]
    KeyPackageExtensionNotInCapabilities(u16),
    /// RFC9420-13.4-4: "Any field containing a list of extensions MUST NOT have more than
    /// one extension of any given type": the KeyPackage's own list (a leaf's is a leaf
    /// reason).
    #[error("the KeyPackage carries two extensions of type {0} (section 13.4)")]
    KeyPackageExtensionRepeated(u16),
    /// RFC9420-13.4-4 for a GroupContextExtensions proposal's list.
    #[error("a GroupContextExtensions proposal carries two extensions of type {0} (section 13.4)")]
    GroupContextExtensionRepeated(u16),
    /// RFC9420-7.3-2: a KeyPackage's leaf is used outside its lifetime.
    #[error("the KeyPackage is valid from {not_before} to {not_after}, not at {now} (section 7.3)")]
    KeyPackageLifetime {
        not_before: u64,
        not_after: u64,
        now: u64,
    },
    /// Section 7.2: a leaf node (of an added KeyPackage, an Update or the committer's
    /// UpdatePath) lists a default extension or proposal type in its capabilities.
    #[error(
        "the {leaf} leaf node lists the default {what} {code} in its capabilities (section 7.2)"
    )]
    DefaultTypeListed {
        leaf: &'static str,
        what: &'static str,
        code: u16,
    },
}

/// What a processed commit did to this member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The group moved to the next epoch; `reinit` is the ReInit proposal it committed,
    /// after which the group must not be used for anything but the reinitialization
    /// (section 11.2).
    Advanced { reinit: Option<ReInit> },
    /// The commit removed this member (section 12.1.3): its state stays at the old
    /// epoch and it takes no further part in the group.
    Removed,
}

mod apply;
mod rules;

pub use rules::{leaf_reason, validate_key_package};

pub(crate) use apply::{apply_proposals, retain_current_keys};
pub(crate) use rules::{
    check_against_group, check_external_removes, check_proposal, check_received_psk_usage,
    validate_proposals,
};

/// A member's state across epochs: the joined state, the epoch's secret tree and
/// proposal cache, and the resumption PSKs of the epochs it has seen.
#[derive(Debug, Clone)]
pub struct GroupState {
    pub group: JoinedGroup,
    pub(crate) secret_tree: SecretTree,
    pub(crate) policy: RatchetPolicy,
    pub(crate) proposals: Vec<(ProposalRef, Proposal, Sender)>,
    pub(crate) resumption_psks: BTreeMap<u64, Vec<u8>>,
    /// Leaves this member proposed in Update proposals of this epoch, with their
    /// encryption private keys (section 12.1.2): a commit of one replaces its leaf.
    pub(crate) pending_updates: Vec<(LeafNode, Vec<u8>)>,
}

impl GroupState {
    pub fn new(group: JoinedGroup) -> Self {
        Self::with_policy(group, RatchetPolicy::default())
    }

    /// A state whose secret trees follow `policy` for out-of-order messages.
    pub fn with_policy(group: JoinedGroup, policy: RatchetPolicy) -> Self {
        let secret_tree = SecretTree::new(
            group.suite,
            &group.epoch_secrets.encryption_secret,
            group.tree.leaf_count(),
            policy,
        );
        let mut resumption_psks = BTreeMap::new();
        resumption_psks.insert(group.epoch(), group.epoch_secrets.resumption_psk.clone());
        GroupState {
            group,
            secret_tree,
            policy,
            proposals: Vec::new(),
            resumption_psks,
            pending_updates: Vec::new(),
        }
    }

    pub fn epoch_authenticator(&self) -> &[u8] {
        self.group.epoch_authenticator()
    }

    /// Moves to a new epoch: context, tree, secrets and transcript hashes of the next
    /// epoch, a fresh secret tree, an empty proposal cache (section 12.4.2, last steps).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn install(
        &mut self,
        context: GroupContext,
        tree: RatchetTree,
        epoch_secrets: EpochSecrets,
        interim: Vec<u8>,
        confirmation_tag: Vec<u8>,
        private_keys: PrivateKeys,
    ) {
        self.resumption_psks
            .insert(context.epoch, epoch_secrets.resumption_psk.clone());
        self.secret_tree = SecretTree::new(
            self.group.suite,
            &epoch_secrets.encryption_secret,
            tree.leaf_count(),
            self.policy,
        );
        self.proposals.clear();
        self.pending_updates.clear();
        let group = &mut self.group;
        group.group_context = context;
        group.tree = tree;
        group.epoch_secrets = epoch_secrets;
        group.interim_transcript_hash = interim;
        group.confirmation_tag = confirmation_tag;
        group.private_keys = private_keys;
        group.path_secrets.clear();
    }

    /// The signature key of a sender of this epoch (section 6.1): a member's leaf, an
    /// `external_senders` entry, or the key the content itself introduces.
    fn sender_key(&self, content: &AuthenticatedContent) -> Result<Vec<u8>, CommitError> {
        Ok(match (&content.content.sender, &content.content.body) {
            (Sender::Member { leaf_index }, _) => self
                .group
                .tree
                .leaf(*leaf_index)
                .ok_or(CommitError::SenderNotMember(leaf_index.0))?
                .signature_key
                .as_slice()
                .to_vec(),
            (Sender::NewMemberCommit, ContentBody::Commit(commit)) => commit
                .path
                .as_ref()
                .ok_or(CommitError::MissingPath)?
                .leaf_node
                .signature_key
                .as_slice()
                .to_vec(),
            (Sender::NewMemberProposal, ContentBody::Proposal(Proposal::Add(add))) => {
                add.key_package.leaf_node.signature_key.as_slice().to_vec()
            }
            (Sender::NewMemberProposal, _) => return Err(CommitError::NewMemberProposalNotAdd),
            (Sender::External { sender_index }, ContentBody::Proposal(proposal)) => {
                let kind = proposal.proposal_type();
                if !kind.allowed_for_external_sender() {
                    return Err(CommitError::ExternalProposalType(kind.0));
                }
                let senders =
                    Extension::find::<ExternalSenders>(&self.group.group_context.extensions)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                senders
                    .0
                    .get(*sender_index as usize)
                    .ok_or(CommitError::UnknownExternalSender(*sender_index))?
                    .signature_key
                    .as_slice()
                    .to_vec()
            }
            (sender, _) => return Err(CommitError::UnsupportedSender(*sender)),
        })
    }

    /// Unprotects and verifies a message of this epoch (sections 6.2, 6.3, 6.1).
    pub(crate) fn open(
        &mut self,
        message: &MlsMessage,
    ) -> Result<AuthenticatedContent, CommitError> {
        let suite = self.group.suite;
        let context = &self.group.group_context;
        let (group_id, epoch) = match &message.body {
            MlsMessageBody::PublicMessage(m) => (&m.content.group_id, m.content.epoch),
            MlsMessageBody::PrivateMessage(m) => (&m.group_id, m.epoch),
            _ => return Err(CommitError::NotHandshake),
        };
        if group_id != &context.group_id {
            return Err(CommitError::WrongGroup);
        }
        if epoch != context.epoch {
            return Err(CommitError::WrongEpoch {
                message: epoch,
                current: context.epoch,
            });
        }
        let content = match &message.body {
            MlsMessageBody::PublicMessage(m) => framing::unprotect_public(
                &suite,
                m,
                context,
                &self.group.epoch_secrets.membership_key,
            )?,
            MlsMessageBody::PrivateMessage(m) => {
                let tree = &self.group.tree;
                framing::unprotect_private(
                    &suite,
                    m,
                    &mut self.secret_tree,
                    &self.group.epoch_secrets.sender_data_secret,
                    |leaf| tree.leaf(leaf).is_some(),
                )?
                .0
            }
            _ => return Err(CommitError::NotHandshake),
        };
        let signature_key = self.sender_key(&content)?;
        framing::verify_signature(&suite, &signature_key, &content, &self.group.group_context)?;
        Ok(content)
    }

    /// Receives a proposal of the current epoch and caches it under its ProposalRef
    /// (section 12.4.2 resolves references against this cache).
    pub fn receive_proposal(&mut self, message: &MlsMessage) -> Result<ProposalRef, CommitError> {
        let content = self.open(message)?;
        self.cache_proposal(&content)
    }

    /// Caches verified proposal content under its ProposalRef (section 5.2).
    pub(crate) fn cache_proposal(
        &mut self,
        content: &AuthenticatedContent,
    ) -> Result<ProposalRef, CommitError> {
        let ContentBody::Proposal(proposal) = &content.content.body else {
            return Err(CommitError::WrongContentType {
                expected: "proposal",
            });
        };
        check_proposal(
            &self.group.suite,
            self.group.group_context.group_id.as_slice(),
            proposal,
            content.content.sender,
        )?;
        check_received_psk_usage(proposal)?;
        let reference = ProposalRef(Bytes(
            self.group
                .suite
                .ref_hash(ProposalRef::LABEL, &content.to_bytes()),
        ));
        self.proposals
            .push((reference.clone(), proposal.clone(), content.content.sender));
        Ok(reference)
    }

    /// Processes a commit of the current epoch (section 12.4.2) and moves to the next
    /// epoch. `external_psk` gives the value of an external PSK by its `psk_id`.
    pub fn process_commit(
        &mut self,
        message: &MlsMessage,
        external_psk: impl Fn(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<CommitOutcome, CommitError> {
        self.process_commit_with(message, &|psk: &Psk| match psk {
            Psk::External { psk_id } => external_psk(psk_id.as_slice()),
            Psk::Resumption { .. } => None,
        })
    }

    /// [`Self::process_commit`] with a lookup for every PSK this state does not hold
    /// itself (external ones, resumption PSKs of other groups).
    pub fn process_commit_with(
        &mut self,
        message: &MlsMessage,
        psk_lookup: &dyn Fn(&Psk) -> Option<Vec<u8>>,
    ) -> Result<CommitOutcome, CommitError> {
        let content = self.open(message)?;
        self.process_commit_content(&content, psk_lookup)
    }

    /// Section 12.4.2 from verified content on.
    pub(crate) fn process_commit_content(
        &mut self,
        content: &AuthenticatedContent,
        psk_lookup: &dyn Fn(&Psk) -> Option<Vec<u8>>,
    ) -> Result<CommitOutcome, CommitError> {
        let ContentBody::Commit(commit) = &content.content.body else {
            return Err(CommitError::WrongContentType { expected: "commit" });
        };
        let confirmation_tag = content
            .auth
            .confirmation_tag
            .as_ref()
            .ok_or(CommitError::MissingConfirmationTag)?;
        let sender = content.content.sender;
        let proposals = self.resolve(commit, sender)?;
        let suite = self.group.suite;
        validate_proposals(
            &suite,
            self.group.group_context.group_id.as_slice(),
            &self.group.tree,
            &proposals,
            sender,
            commit.path.is_some(),
        )?;
        for (proposal, _) in &proposals {
            check_received_psk_usage(proposal)?;
        }
        check_against_group(
            &self.group.group_context,
            &self.group.tree,
            &proposals,
            sender,
            commit.path.as_ref().map(|path| &path.leaf_node),
        )?;
        if sender == Sender::NewMemberCommit {
            check_external_removes(&self.group.tree, &proposals, commit)?;
        }
        if sender == Sender::NewMemberCommit
            && commit
                .proposals
                .iter()
                .any(|p| matches!(p, ProposalOrRef::Reference(_)))
        {
            return Err(CommitError::ExternalCommitProposal(0));
        }
        let own_leaf = self.group.own_leaf;
        let applied = apply_proposals(
            &self.group.tree,
            &self.group.group_context.extensions,
            Some(own_leaf),
            &proposals,
        )?;
        if applied.removes_own_leaf {
            return Ok(CommitOutcome::Removed);
        }
        let mut private_keys = self.group.private_keys.clone();
        if let Some(leaf) = &applied.own_update {
            let private = self
                .pending_updates
                .iter()
                .find(|(proposed, _)| proposed == leaf)
                .map(|(_, private)| private.clone())
                .ok_or(CommitError::OwnLeafChanged(own_leaf.0))?;
            private_keys.insert(own_leaf.node(), private);
        }
        let new_members = applied.new_members();
        let mut tree = applied.tree;
        let group_id = self.group.group_context.group_id.clone();
        let mut provisional = GroupContext {
            epoch: self.group.group_context.epoch.wrapping_add(1),
            extensions: applied.extensions,
            ..self.group.group_context.clone()
        };
        let commit_secret = match &commit.path {
            Some(path) => {
                let committer = match sender {
                    Sender::Member { leaf_index } => {
                        // Section 12.4.2: the committer's new leaf brings a new encryption
                        // key (an external joiner has no current leaf to compare with).
                        if tree.leaf(leaf_index).is_some_and(|current| {
                            current.encryption_key == path.leaf_node.encryption_key
                        }) {
                            return Err(TreeKemError::LeafEncryptionKeyUnchanged.into());
                        }
                        leaf_index
                    }
                    Sender::NewMemberCommit => tree.add_leaf(path.leaf_node.clone())?,
                    other => return Err(CommitError::UnsupportedSender(other)),
                };
                treekem::merge_update_path(&suite, &mut tree, committer, path, &group_id)?;
                provisional.tree_hash = Bytes(tree.tree_hash(&suite));
                let secrets = treekem::decrypt_update_path(
                    &suite,
                    &tree,
                    committer,
                    own_leaf,
                    path,
                    &private_keys,
                    &provisional.to_bytes(),
                    &new_members,
                )?;
                for (node, _, private) in &secrets.nodes {
                    private_keys.insert(*node, private.clone());
                }
                secrets.commit_secret
            }
            None => {
                provisional.tree_hash = Bytes(tree.tree_hash(&suite));
                zero_secret(&suite)
            }
        };
        retain_current_keys(&suite, &tree, &mut private_keys);

        let confirmed = transcript::confirmed_transcript_hash(
            &suite,
            &self.group.interim_transcript_hash,
            &content.confirmed_transcript_hash_input(),
        );
        provisional.confirmed_transcript_hash = Bytes(confirmed.clone());
        let psks = self.resolve_psks(&applied.psk_ids, psk_lookup)?;
        let psk_secret = psk::psk_secret(&suite, &psks)?;
        let init_secret = match &applied.external_init {
            Some(kem_output) => {
                let pair = key_schedule::external_key_pair(
                    &suite,
                    &self.group.epoch_secrets.external_secret,
                )?;
                suite.hpke_receive_export(
                    &pair.private,
                    kem_output.as_slice(),
                    b"",
                    EXTERNAL_INIT_LABEL,
                    suite.hash_length(),
                )?
            }
            None => self.group.epoch_secrets.init_secret.clone(),
        };
        let epoch_secrets = key_schedule::next_epoch(
            &suite,
            &init_secret,
            &commit_secret,
            &psk_secret,
            &provisional.to_bytes(),
        )?;
        let expected_tag =
            transcript::confirmation_tag(&suite, &epoch_secrets.confirmation_key, &confirmed);
        if !constant_time_eq(&expected_tag, confirmation_tag) {
            return Err(CommitError::ConfirmationTag);
        }
        let interim = transcript::interim_transcript_hash(&suite, &confirmed, confirmation_tag);
        self.install(
            provisional,
            tree,
            epoch_secrets,
            interim,
            confirmation_tag.to_vec(),
            private_keys,
        );
        Ok(CommitOutcome::Advanced {
            reinit: applied.reinit,
        })
    }

    /// The values of the PSKs a commit names (section 8.4): resumption PSKs of this
    /// group from this state, everything else from `lookup`.
    pub(crate) fn resolve_psks(
        &self,
        ids: &[PreSharedKeyId],
        lookup: &dyn Fn(&Psk) -> Option<Vec<u8>>,
    ) -> Result<Vec<(PreSharedKeyId, Vec<u8>)>, CommitError> {
        let group_id = &self.group.group_context.group_id;
        ids.iter()
            .map(|id| {
                let own = match &id.psk {
                    Psk::Resumption {
                        psk_group_id,
                        psk_epoch,
                        ..
                    } if psk_group_id == group_id => self.resumption_psks.get(psk_epoch).cloned(),
                    _ => None,
                };
                own.or_else(|| lookup(&id.psk))
                    .map(|value| (id.clone(), value))
                    .ok_or_else(|| CommitError::UnknownPsk(id.psk.clone()))
            })
            .collect()
    }

    /// The commit's proposals with their senders, references resolved against the cache.
    pub(crate) fn resolve(
        &self,
        commit: &Commit,
        committer: Sender,
    ) -> Result<Vec<(Proposal, Sender)>, CommitError> {
        commit
            .proposals
            .iter()
            .map(|entry| match entry {
                ProposalOrRef::Proposal(p) => Ok((p.clone(), committer)),
                ProposalOrRef::Reference(reference) => self
                    .proposals
                    .iter()
                    .find(|(r, _, _)| r == reference)
                    .map(|(_, p, s)| (p.clone(), *s))
                    .ok_or_else(|| {
                        CommitError::UnknownProposalRef(crate::hex(reference.0.as_slice()))
                    }),
            })
            .collect()
    }
}
