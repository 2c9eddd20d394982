//! The group engine: every operation a member performs, sending and receiving, over the
//! whole life of a group (RFC 9420 sections 10 to 13).
//!
//! ```text
//! key_package.rs   KeyPackage + its private keys (section 10)
//! create.rs        one-member group at epoch 0 (section 11)
//! proposals.rs     Add, Update, Remove, PreSharedKey, GroupContextExtensions, ReInit
//!                  (section 12.1), framed per HandshakeMode, cached by ProposalRef
//! send_commit.rs   Commit (12.4), pending until merged; Welcome (12.4.3.1)
//! group_info.rs    signed GroupInfo with external_pub, ratchet tree in or out (12.4.3)
//! external.rs      external commit join and resync (12.4.3.2), external senders and
//!                  new-member proposals (12.1.8)
//! application.rs   application messages, past-epoch retention (6.3, 15.2)
//! subgroup.rs      branch and reinit (11.2, 11.3)
//! receive.rs       process_message: the single receive entry point
//! adversary.rs     what a faulty member sends (forged framing, unchecked commits),
//!                  for negative vectors; no receive check is touched
//! ```
//!
//! Sans-IO: time (`now`, seconds) and randomness (`rng`) are parameters of the calls
//! that need them. Receiving leaves the group unchanged when it fails.

#[cfg(feature = "adversary")]
mod adversary;
mod application;
mod create;
mod external;
mod group_info;
mod key_package;
mod proposals;
mod receive;
mod send_commit;
mod subgroup;

use std::collections::{BTreeMap, VecDeque};

#[cfg(feature = "adversary")]
pub use adversary::ForgedCommit;
pub use create::PskStore;
pub use external::{
    ExternalJoin, ExternalSigner, decode_tree, group_info_of, new_member_add_proposal,
    new_member_add_proposal_listing,
};
pub use key_package::{
    CapabilityListing, KeyPackageSecrets, create_key_package, create_key_package_listing,
    leaf_capabilities,
};
pub use receive::Received;
pub use send_commit::{CommitOptions, CommitOutput};
pub use subgroup::{ReInitParameters, SubgroupOptions};

use crate::codec::DecodeError;
use crate::commit::{CommitError, GroupState};
use crate::crypto::{CryptoError, Suite};
use crate::framing::FramingError;
use crate::join::JoinError;
use crate::key_schedule;
use crate::messages::{Credential, GroupContext, LeafNode, Psk, RatchetTree as WireTree, ReInit};
use crate::ratchet_tree::{RatchetTree, TreeError, TreeValidationError};
use crate::secret_tree::{RatchetPolicy, SecretTree};
use crate::tree_math::LeafIndex;
use crate::treekem::TreeKemError;
use crate::welcome::WelcomeError;

/// Why a group operation failed. Peer-caused failures name the rule they enforce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error(transparent)]
    Join(#[from] JoinError),
    #[error(transparent)]
    Framing(#[from] FramingError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    TreeKem(#[from] TreeKemError),
    #[error(transparent)]
    TreeValidation(#[from] TreeValidationError),
    #[error(transparent)]
    Welcome(#[from] WelcomeError),
    #[error("malformed input: {0}")]
    Decode(#[from] DecodeError),
    /// The group was left (removed, or reinitialized, section 11.2): it sends and
    /// accepts nothing more.
    #[error("the group is no longer active")]
    Inactive,
    /// A commit is pending: it must be merged or discarded first (section 12.4).
    #[error("a commit of this member is pending")]
    CommitPending,
    /// `merge_pending_commit` without a pending commit.
    #[error("no pending commit")]
    NoPendingCommit,
    /// Section 12.1.3: no member has this identity.
    #[error("no member has identity {0}")]
    UnknownMember(String),
    /// Section 8.4: a PSK this member must use is not stored.
    #[error("unknown PSK {0:?}")]
    UnknownPsk(Psk),
    /// Section 6.3.2: the message's epoch is neither current nor retained.
    #[error("epoch {0} is not current and not retained")]
    EpochNotRetained(u64),
    /// Section 12.4.3.2: the GroupInfo carries no `external_pub` extension.
    #[error("the GroupInfo has no external_pub extension (section 12.4.3.2)")]
    MissingExternalPub,
    /// Section 12.4.3.2: a resync must find the joiner's earlier leaf.
    #[error("no earlier leaf of this identity to remove")]
    NoPriorLeaf,
    /// The caller handed a message of the wrong kind to an operation.
    #[error("expected a {0}")]
    WrongMessage(&'static str),
    /// Section 12.2: a by-reference proposal this member has not cached.
    #[error("proposal not cached in this epoch")]
    UnknownProposal,
    /// Section 6.2: application data is never sent as a PublicMessage.
    #[error("application data in a PublicMessage (section 6.2)")]
    PublicApplication,
    /// Section 11.2: the new group's GroupContext "MUST be the same as the
    /// corresponding fields in the ReInit proposal".
    #[error("the reinitialized group's {0} differs from the ReInit proposal (section 11.2)")]
    ReInitMismatch(&'static str),
    /// Section 11.3: a branch keeps the old group's version and cipher suite, and each
    /// of its leaves matches a member of the old group.
    #[error("the branch does not reflect a subgroup of the old group: {0} (section 11.3)")]
    BranchMismatch(&'static str),
    /// Section 11.2: the operation needs a committed ReInit.
    #[error("no committed ReInit")]
    NoReInit,
}

/// How this member frames its proposals and commits (section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HandshakeMode {
    #[default]
    Public,
    Private,
}

/// Local policy: nothing here changes what goes on the wire between conforming members
/// (`leaf_capabilities` can make a member non-conforming on purpose; it is conforming by
/// default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    pub handshake: HandshakeMode,
    /// Zero bytes appended to PrivateMessage content (section 6.3).
    pub padding: usize,
    /// Out-of-order bounds for each epoch's secret tree (section 9).
    pub ratchet_policy: RatchetPolicy,
    /// How many past epochs keep their application-message keys (section 15.2).
    pub past_epochs: usize,
    /// What the leaves this member makes in the group list as capabilities: the
    /// creator's leaf ([`Group::create`], and so branches and reinitializations) and an
    /// external joiner's ([`Group::join_external`]); later leaves copy them.
    pub leaf_capabilities: CapabilityListing,
    /// The current time (seconds since the Unix epoch), for the check section 7.3 makes a
    /// MUST for a sender: a KeyPackage this member proposes or commits to add is within
    /// its lifetime. `None`: not checked (this crate has no clock of its own).
    pub now: Option<u64>,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            handshake: HandshakeMode::Public,
            padding: 0,
            ratchet_policy: RatchetPolicy::default(),
            past_epochs: 2,
            leaf_capabilities: CapabilityListing::Conforming,
            now: None,
        }
    }
}

/// What is kept of a past epoch to read its late application messages.
#[derive(Debug, Clone)]
pub(crate) struct PastEpoch {
    pub context: GroupContext,
    pub tree: RatchetTree,
    pub secret_tree: SecretTree,
    pub sender_data_secret: Vec<u8>,
}

/// Where the group stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupStatus {
    Active,
    /// A commit removed this member.
    Removed,
    /// A ReInit was committed (section 11.2): the group continues as a new one.
    ReInitialized(ReInit),
}

/// One member's view of one group, across epochs.
#[derive(Debug, Clone)]
pub struct Group {
    pub(crate) state: GroupState,
    pub(crate) config: GroupConfig,
    pub(crate) pending: Option<send_commit::PendingCommit>,
    pub(crate) external_psks: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Resumption PSKs of other groups (branch and reinit sources), by (group, epoch).
    pub(crate) foreign_resumption_psks: BTreeMap<(Vec<u8>, u64), Vec<u8>>,
    pub(crate) past: VecDeque<PastEpoch>,
    pub(crate) status: GroupStatus,
    /// Own proposals sent this epoch, by wire bytes: a caller may hand them back to be
    /// committed by reference.
    pub(crate) sent_proposals: Vec<(Vec<u8>, crate::messages::ProposalRef)>,
}

impl Group {
    pub(crate) fn from_state(state: GroupState, config: GroupConfig) -> Self {
        Group {
            state,
            config,
            pending: None,
            external_psks: BTreeMap::new(),
            foreign_resumption_psks: BTreeMap::new(),
            past: VecDeque::new(),
            status: GroupStatus::Active,
            sent_proposals: Vec::new(),
        }
    }

    pub fn suite(&self) -> Suite {
        self.state.group.suite
    }

    pub fn group_id(&self) -> &[u8] {
        self.state.group.group_context.group_id.as_slice()
    }

    pub fn epoch(&self) -> u64 {
        self.state.group.epoch()
    }

    pub fn group_context(&self) -> &GroupContext {
        &self.state.group.group_context
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    pub fn set_config(&mut self, config: GroupConfig) {
        self.config = config;
    }

    pub fn status(&self) -> &GroupStatus {
        &self.status
    }

    pub fn own_leaf(&self) -> LeafIndex {
        self.state.group.own_leaf
    }

    pub fn own_leaf_node(&self) -> Option<&LeafNode> {
        self.state.group.tree.leaf(self.own_leaf())
    }

    pub fn tree(&self) -> &RatchetTree {
        &self.state.group.tree
    }

    /// The ratchet tree as the `ratchet_tree` extension carries it (section 12.4.3.3).
    pub fn export_tree(&self) -> WireTree {
        self.state.group.tree.to_wire()
    }

    /// `(leaf, identity)` of every member; identities of basic credentials, the
    /// encoded credential otherwise.
    pub fn members(&self) -> Vec<(LeafIndex, Vec<u8>)> {
        self.state
            .group
            .tree
            .leaves()
            .map(|(leaf, node)| (leaf, identity_of(&node.credential)))
            .collect()
    }

    /// The leaf of the member whose credential identity is `identity`.
    pub fn member_by_identity(&self, identity: &[u8]) -> Option<LeafIndex> {
        self.state
            .group
            .tree
            .leaves()
            .find(|(_, node)| identity_of(&node.credential) == identity)
            .map(|(leaf, _)| leaf)
    }

    /// `epoch_authenticator` (section 8.7).
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.state.epoch_authenticator()
    }

    /// `MLS-Exporter(label, context, length)` (section 8.5).
    pub fn export_secret(
        &self,
        label: &[u8],
        context: &[u8],
        length: u16,
    ) -> Result<Vec<u8>, GroupError> {
        Ok(key_schedule::export(
            &self.suite(),
            &self.state.group.epoch_secrets.exporter_secret,
            label,
            context,
            length,
        )?)
    }

    /// `resumption_psk` of `epoch`, if this member saw it (section 8.6).
    pub fn resumption_psk(&self, epoch: u64) -> Option<&[u8]> {
        self.state.resumption_psks.get(&epoch).map(Vec::as_slice)
    }

    /// Stores an external PSK (section 8.4) under its `psk_id`.
    pub fn store_external_psk(&mut self, psk_id: Vec<u8>, psk: Vec<u8>) {
        self.external_psks.insert(psk_id, psk);
    }

    /// Stores a resumption PSK of another group (the one a branch or reinit refers to).
    pub fn store_resumption_psk(&mut self, group_id: Vec<u8>, epoch: u64, psk: Vec<u8>) {
        self.foreign_resumption_psks.insert((group_id, epoch), psk);
    }

    /// The value of a PSK from the stores (own resumption PSKs are the state's).
    pub(crate) fn lookup_psk(&self, psk: &Psk) -> Option<Vec<u8>> {
        match psk {
            Psk::External { psk_id } => self.external_psks.get(psk_id.as_slice()).cloned(),
            Psk::Resumption {
                psk_group_id,
                psk_epoch,
                ..
            } => self
                .foreign_resumption_psks
                .get(&(psk_group_id.as_slice().to_vec(), *psk_epoch))
                .cloned(),
        }
    }

    pub(crate) fn check_active(&self) -> Result<(), GroupError> {
        if self.status != GroupStatus::Active {
            return Err(GroupError::Inactive);
        }
        if self.pending.is_some() {
            return Err(GroupError::CommitPending);
        }
        Ok(())
    }

    /// Keeps the epoch being left for late application messages, within the
    /// configured retention (section 15.2 leaves the window to the application).
    pub(crate) fn retire_current_epoch(&mut self) {
        if self.config.past_epochs == 0 {
            return;
        }
        let group = &self.state.group;
        self.past.push_front(PastEpoch {
            context: group.group_context.clone(),
            tree: group.tree.clone(),
            secret_tree: self.state.secret_tree.clone(),
            sender_data_secret: group.epoch_secrets.sender_data_secret.clone(),
        });
        self.past.truncate(self.config.past_epochs);
        self.sent_proposals.clear();
    }
}

/// The identity of a credential: a basic credential's bytes, else its encoding.
pub fn identity_of(credential: &Credential) -> Vec<u8> {
    match credential {
        Credential::Basic { identity } => identity.as_slice().to_vec(),
        other => crate::codec::Codec::to_bytes(other),
    }
}

#[cfg(test)]
mod features_tests;
#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
mod negative_tests;
#[cfg(test)]
mod receive_tests;
