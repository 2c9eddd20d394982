//! The hub's view of a room's MLS membership: the leaves of the ratchet tree, kept from
//! the creator's GroupInfo and every accepted commit (RFC 9420 sections 12.1 to 12.4).
//! No secrets and no signatures: only who holds which leaf.

use std::collections::{BTreeMap, BTreeSet};

use super::{Name, provider_of};
use crate::codec::Codec;
use crate::crypto::Suite;
use crate::group::identity_of;
use crate::messages::{
    Commit, ContentBody, ExtensionType, GroupInfo, Proposal, ProposalOrRef, ProposalRef,
    PublicMessage, RatchetTree as WireTree, Sender,
};
use crate::ratchet_tree::RatchetTree;
use crate::tree_math::LeafIndex;

/// Why a handshake message does not fit the roster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    #[error("the GroupInfo carries no ratchet_tree extension")]
    NoTree,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("a commit references a proposal the hub has not accepted in this epoch")]
    UnknownProposal,
    #[error("the proposal or commit does not apply to the tree: {0}")]
    Invalid(String),
    #[error("a commit by a sender that is neither a member nor a new member")]
    BadSender,
}

/// What an accepted commit changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// The identity of a new member joining by external commit.
    pub external_joiner: Option<String>,
}

/// The leaves of a room's ratchet tree, plus the proposals accepted in this epoch.
#[derive(Debug, Clone)]
pub struct Roster {
    suite: Suite,
    group_id: Vec<u8>,
    epoch: u64,
    tree: RatchetTree,
    /// The members' identities, kept beside the tree (read for every message).
    member_set: BTreeSet<String>,
    /// The same identities grouped by provider, shared into every fanout.
    by_provider: BTreeMap<String, Vec<Name>>,
    /// Proposals accepted in this epoch, by reference: (sender, proposal).
    proposals: BTreeMap<Vec<u8>, (Sender, Proposal)>,
}

/// The identities at the tree's leaves.
fn identities(tree: &RatchetTree) -> BTreeSet<String> {
    tree.leaves()
        .map(|(_, node)| String::from_utf8_lossy(&identity_of(&node.credential)).into_owned())
        .collect()
}

/// Identities grouped by their provider (`user@provider`), each group in the order given;
/// an identity without a provider is left out.
pub(super) fn by_provider<'a>(
    identities: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, Vec<Name>> {
    let mut groups: BTreeMap<String, Vec<Name>> = BTreeMap::new();
    for identity in identities {
        let Some(provider) = provider_of(identity) else {
            continue;
        };
        let name = Name::from(identity.as_str());
        match groups.get_mut(provider) {
            Some(group) => group.push(name),
            None => {
                groups.insert(provider.to_string(), vec![name]);
            }
        }
    }
    groups
}

impl Roster {
    /// From a GroupInfo carrying the `ratchet_tree` extension.
    pub fn from_group_info(info: &GroupInfo) -> Result<Self, RosterError> {
        let suite = Suite::new(info.group_context.cipher_suite)
            .map_err(|e| RosterError::Malformed(e.to_string()))?;
        let extension = info
            .extensions
            .iter()
            .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
            .ok_or(RosterError::NoTree)?;
        let wire = WireTree::from_bytes(extension.extension_data.as_slice())
            .map_err(|e| RosterError::Malformed(e.to_string()))?;
        let tree =
            RatchetTree::from_wire(&wire).map_err(|e| RosterError::Malformed(e.to_string()))?;
        Ok(Roster {
            suite,
            group_id: info.group_context.group_id.as_slice().to_vec(),
            epoch: info.group_context.epoch,
            member_set: identities(&tree),
            by_provider: BTreeMap::new(),
            tree,
            proposals: BTreeMap::new(),
        }
        .grouped())
    }

    pub fn group_id(&self) -> &[u8] {
        &self.group_id
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The identities of the members, in leaf order.
    pub fn members(&self) -> Vec<String> {
        self.tree
            .leaves()
            .map(|(_, node)| String::from_utf8_lossy(&identity_of(&node.credential)).into_owned())
            .collect()
    }

    /// The identity at a leaf.
    pub fn member_at(&self, leaf: LeafIndex) -> Option<String> {
        self.tree
            .leaf(leaf)
            .map(|node| String::from_utf8_lossy(&identity_of(&node.credential)).into_owned())
    }

    pub fn is_member(&self, identity: &str) -> bool {
        self.member_set.contains(identity)
    }

    /// The identities of the members, sorted.
    pub fn member_set(&self) -> &BTreeSet<String> {
        &self.member_set
    }

    /// The members grouped by provider, each group sorted.
    pub fn members_by_provider(&self) -> &BTreeMap<String, Vec<Name>> {
        &self.by_provider
    }

    fn grouped(mut self) -> Self {
        self.by_provider = by_provider(&self.member_set);
        self
    }

    /// The `ProposalRef` of a proposal message (RFC 9420 section 5.2): the hash of its
    /// AuthenticatedContent with the group's cipher suite.
    pub fn proposal_ref(&self, message: &PublicMessage) -> Vec<u8> {
        self.suite.ref_hash(
            ProposalRef::LABEL,
            &message.authenticated_content().to_bytes(),
        )
    }

    /// Records a proposal accepted in this epoch; returns its reference and proposal.
    pub fn accept_proposal(
        &mut self,
        message: &PublicMessage,
    ) -> Result<(Vec<u8>, Proposal), RosterError> {
        let ContentBody::Proposal(proposal) = &message.content.body else {
            return Err(RosterError::Malformed("not a proposal".into()));
        };
        let reference = self.proposal_ref(message);
        self.proposals.insert(
            reference.clone(),
            (message.content.sender, proposal.clone()),
        );
        Ok((reference, proposal.clone()))
    }

    /// The roster after `commit` (from `sender`), without changing this one; the epoch
    /// advances by one and the epoch's proposals are dropped (section 12.4).
    pub fn after_commit(
        &self,
        sender: Sender,
        commit: &Commit,
    ) -> Result<(Roster, RosterChange), RosterError> {
        let mut resolved: Vec<(Sender, Proposal)> = Vec::new();
        for item in &commit.proposals {
            match item {
                ProposalOrRef::Proposal(p) => resolved.push((sender, p.clone())),
                ProposalOrRef::Reference(r) => resolved.push(
                    self.proposals
                        .get(r.0.as_slice())
                        .cloned()
                        .ok_or(RosterError::UnknownProposal)?,
                ),
            }
        }
        let invalid = |e: crate::ratchet_tree::TreeError| RosterError::Invalid(e.to_string());
        let mut tree = self.tree.clone();
        let mut change = RosterChange::default();
        // Section 12.3: updates, then removes, then adds, each in list order.
        for (by, proposal) in &resolved {
            if let (Proposal::Update(update), Sender::Member { leaf_index }) = (proposal, by) {
                tree.update_leaf(*leaf_index, update.leaf_node.clone())
                    .map_err(invalid)?;
            }
        }
        for (_, proposal) in &resolved {
            if let Proposal::Remove(remove) = proposal {
                let who = self.member_at(remove.removed).ok_or_else(|| {
                    RosterError::Invalid(format!("leaf {} blank", remove.removed.0))
                })?;
                tree.remove_leaf(remove.removed).map_err(invalid)?;
                change.removed.push(who);
            }
        }
        for (_, proposal) in &resolved {
            if let Proposal::Add(add) = proposal {
                let node = add.key_package.leaf_node.clone();
                change
                    .added
                    .push(String::from_utf8_lossy(&identity_of(&node.credential)).into_owned());
                tree.add_leaf(node).map_err(invalid)?;
            }
        }
        match sender {
            Sender::Member { leaf_index } => {
                if self.tree.leaf(leaf_index).is_none() {
                    return Err(RosterError::BadSender);
                }
                if let Some(path) = &commit.path {
                    tree.update_leaf(leaf_index, path.leaf_node.clone())
                        .map_err(invalid)?;
                }
            }
            Sender::NewMemberCommit => {
                let path = commit.path.as_ref().ok_or_else(|| {
                    RosterError::Invalid("an external commit without a path".into())
                })?;
                let node = path.leaf_node.clone();
                change.external_joiner =
                    Some(String::from_utf8_lossy(&identity_of(&node.credential)).into_owned());
                tree.add_leaf(node).map_err(invalid)?;
            }
            _ => return Err(RosterError::BadSender),
        }
        let next = Roster {
            suite: self.suite,
            group_id: self.group_id.clone(),
            epoch: self.epoch + 1,
            member_set: identities(&tree),
            by_provider: BTreeMap::new(),
            tree,
            proposals: BTreeMap::new(),
        }
        .grouped();
        Ok((next, change))
    }

    /// The identities that are members here and not in `other`.
    pub fn difference(&self, other: &Roster) -> BTreeSet<String> {
        self.member_set
            .difference(&other.member_set)
            .cloned()
            .collect()
    }
}
