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
use crate::crypto::{CryptoError, Suite};
use crate::framing::{self, FramingError, constant_time_eq};
use crate::join::JoinedGroup;
use crate::key_schedule::{self, zero_secret};
use crate::messages::{
    AuthenticatedContent, Commit, ContentBody, GroupContext, MlsMessage, MlsMessageBody, Node,
    PreSharedKeyId, Proposal, ProposalOrRef, ProposalRef, ProposalType, Psk, Sender,
};
use crate::psk;
use crate::ratchet_tree::TreeError;
use crate::secret_tree::{RatchetPolicy, SecretTree};
use crate::transcript;
use crate::tree_math::LeafIndex;
use crate::treekem::{self, TreeKemError};

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
    /// Section 6: commit content carries a confirmation tag.
    #[error("commit content lacks its confirmation tag")]
    MissingConfirmationTag,
}

/// A member's state across epochs: the joined state, the epoch's secret tree and
/// proposal cache, and the resumption PSKs of the epochs it has seen.
#[derive(Debug, Clone)]
pub struct GroupState {
    pub group: JoinedGroup,
    secret_tree: SecretTree,
    proposals: Vec<(ProposalRef, Proposal, Sender)>,
    resumption_psks: BTreeMap<u64, Vec<u8>>,
}

impl GroupState {
    pub fn new(group: JoinedGroup) -> Self {
        let secret_tree = SecretTree::new(
            group.suite,
            &group.epoch_secrets.encryption_secret,
            group.tree.leaf_count(),
            RatchetPolicy::default(),
        );
        let mut resumption_psks = BTreeMap::new();
        resumption_psks.insert(group.epoch(), group.epoch_secrets.resumption_psk.clone());
        GroupState {
            group,
            secret_tree,
            proposals: Vec::new(),
            resumption_psks,
        }
    }

    pub fn epoch_authenticator(&self) -> &[u8] {
        self.group.epoch_authenticator()
    }

    /// Unprotects and verifies a message of this epoch (sections 6.2, 6.3, 6.1).
    fn open(&mut self, message: &MlsMessage) -> Result<AuthenticatedContent, CommitError> {
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
        let signature_key = match (&content.content.sender, &content.content.body) {
            (Sender::Member { leaf_index }, _) => self
                .group
                .tree
                .leaf(*leaf_index)
                .ok_or(CommitError::SenderNotMember(leaf_index.0))?
                .signature_key
                .clone(),
            (Sender::NewMemberCommit, ContentBody::Commit(commit)) => commit
                .path
                .as_ref()
                .ok_or(CommitError::MissingPath)?
                .leaf_node
                .signature_key
                .clone(),
            (Sender::NewMemberProposal, ContentBody::Proposal(Proposal::Add(add))) => {
                add.key_package.leaf_node.signature_key.clone()
            }
            (sender, _) => return Err(CommitError::UnsupportedSender(*sender)),
        };
        framing::verify_signature(&suite, signature_key.as_slice(), &content, context)?;
        Ok(content)
    }

    /// Receives a proposal of the current epoch and caches it under its ProposalRef
    /// (section 12.4.2 resolves references against this cache).
    pub fn receive_proposal(&mut self, message: &MlsMessage) -> Result<ProposalRef, CommitError> {
        let content = self.open(message)?;
        let ContentBody::Proposal(proposal) = &content.content.body else {
            return Err(CommitError::WrongContentType {
                expected: "proposal",
            });
        };
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
    ) -> Result<(), CommitError> {
        let content = self.open(message)?;
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
        validate_proposals(&suite, &self.group, &proposals, sender, commit)?;

        // Section 12.3: apply the proposals in order.
        let mut tree = self.group.tree.clone();
        let mut extensions = self.group.group_context.extensions.clone();
        for (proposal, _) in &proposals {
            if let Proposal::GroupContextExtensions(gce) = proposal {
                extensions = gce.extensions.clone();
            }
        }
        for (proposal, proposer) in &proposals {
            if let (Proposal::Update(update), Sender::Member { leaf_index }) = (proposal, proposer)
            {
                if *leaf_index == self.group.own_leaf {
                    return Err(CommitError::OwnLeafChanged(leaf_index.0));
                }
                tree.update_leaf(*leaf_index, update.leaf_node.clone())?;
            }
        }
        for (proposal, _) in &proposals {
            if let Proposal::Remove(remove) = proposal {
                if remove.removed == self.group.own_leaf {
                    return Err(CommitError::OwnLeafChanged(remove.removed.0));
                }
                tree.remove_leaf(remove.removed)?;
            }
        }
        let mut new_members = Vec::new();
        for (proposal, _) in &proposals {
            if let Proposal::Add(add) = proposal {
                new_members.push(tree.add_leaf(add.key_package.leaf_node.clone())?);
            }
        }
        let psk_ids: Vec<PreSharedKeyId> = proposals
            .iter()
            .filter_map(|(p, _)| match p {
                Proposal::PreSharedKey(psk) => Some(psk.psk.clone()),
                _ => None,
            })
            .collect();
        let external_init = proposals.iter().find_map(|(p, _)| match p {
            Proposal::ExternalInit(init) => Some(init.kem_output.clone()),
            _ => None,
        });

        let group_id = self.group.group_context.group_id.clone();
        let mut private_keys = self.group.private_keys.clone();
        let mut provisional = GroupContext {
            epoch: self.group.group_context.epoch.wrapping_add(1),
            extensions,
            ..self.group.group_context.clone()
        };
        let commit_secret = match &commit.path {
            Some(path) => {
                let committer = match sender {
                    Sender::Member { leaf_index } => leaf_index,
                    Sender::NewMemberCommit => tree.add_leaf(path.leaf_node.clone())?,
                    other => return Err(CommitError::UnsupportedSender(other)),
                };
                treekem::merge_update_path(&suite, &mut tree, committer, path, &group_id)?;
                provisional.tree_hash = Bytes(tree.tree_hash(&suite));
                let secrets = treekem::decrypt_update_path(
                    &suite,
                    &tree,
                    committer,
                    self.group.own_leaf,
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
        // Keys of nodes the commit blanked or replaced are no longer of any use.
        private_keys.retain(|node, private| {
            let public = match tree.node(*node) {
                Some(Node::Leaf(leaf)) => leaf.encryption_key.as_slice(),
                Some(Node::Parent(parent)) => parent.encryption_key.as_slice(),
                None => return false,
            };
            suite.hpke_public_key(private).ok().as_deref() == Some(public)
        });

        let confirmed = transcript::confirmed_transcript_hash(
            &suite,
            &self.group.interim_transcript_hash,
            &content.confirmed_transcript_hash_input(),
        );
        provisional.confirmed_transcript_hash = Bytes(confirmed.clone());

        let mut psks = Vec::with_capacity(psk_ids.len());
        for id in psk_ids {
            let value = match &id.psk {
                Psk::External { psk_id } => external_psk(psk_id.as_slice()),
                Psk::Resumption {
                    psk_group_id,
                    psk_epoch,
                    ..
                } if *psk_group_id == group_id => self.resumption_psks.get(psk_epoch).cloned(),
                Psk::Resumption { .. } => None,
            }
            .ok_or_else(|| CommitError::UnknownPsk(id.psk.clone()))?;
            psks.push((id, value));
        }
        let psk_secret = psk::psk_secret(&suite, &psks)?;

        let init_secret = match external_init {
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

        self.resumption_psks
            .insert(provisional.epoch, epoch_secrets.resumption_psk.clone());
        self.secret_tree = SecretTree::new(
            suite,
            &epoch_secrets.encryption_secret,
            tree.leaf_count(),
            RatchetPolicy::default(),
        );
        self.proposals.clear();
        let group = &mut self.group;
        group.group_context = provisional;
        group.tree = tree;
        group.epoch_secrets = epoch_secrets;
        group.interim_transcript_hash = interim;
        group.confirmation_tag = confirmation_tag.to_vec();
        group.private_keys = private_keys;
        Ok(())
    }

    /// The commit's proposals with their senders, references resolved against the cache.
    fn resolve(
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

/// Section 12.2 (and 12.4.3.2 for external commits): the rules a commit's proposal
/// list must satisfy.
fn validate_proposals(
    suite: &Suite,
    group: &JoinedGroup,
    proposals: &[(Proposal, Sender)],
    committer: Sender,
    commit: &Commit,
) -> Result<(), CommitError> {
    let committer_leaf = match committer {
        Sender::Member { leaf_index } => Some(leaf_index),
        _ => None,
    };
    let mut changed: Vec<LeafIndex> = Vec::new();
    let mut psks: Vec<&PreSharedKeyId> = Vec::new();
    let mut added_keys: Vec<&[u8]> = Vec::new();
    let mut gce = 0usize;
    let mut external_inits = 0usize;
    let mut reinit = false;
    for (proposal, proposer) in proposals {
        match proposal {
            Proposal::Update(_) => {
                let Sender::Member { leaf_index } = *proposer else {
                    return Err(CommitError::UnsupportedSender(*proposer));
                };
                if Some(leaf_index) == committer_leaf {
                    return Err(CommitError::CommitterUpdate);
                }
                if group.tree.leaf(leaf_index).is_none() {
                    return Err(CommitError::BlankTarget(leaf_index.0));
                }
                if changed.contains(&leaf_index) {
                    return Err(CommitError::DuplicateLeafChange(leaf_index.0));
                }
                changed.push(leaf_index);
            }
            Proposal::Remove(remove) => {
                if Some(remove.removed) == committer_leaf {
                    return Err(CommitError::CommitterRemoved);
                }
                if group.tree.leaf(remove.removed).is_none() {
                    return Err(CommitError::BlankTarget(remove.removed.0));
                }
                if changed.contains(&remove.removed) {
                    return Err(CommitError::DuplicateLeafChange(remove.removed.0));
                }
                changed.push(remove.removed);
            }
            Proposal::Add(add) => {
                if add.key_package.cipher_suite != suite.id() {
                    return Err(CommitError::AddCipherSuite(add.key_package.cipher_suite.0));
                }
                let key = add.key_package.leaf_node.signature_key.as_slice();
                if added_keys.contains(&key) {
                    return Err(CommitError::DuplicateAdd);
                }
                added_keys.push(key);
            }
            Proposal::PreSharedKey(psk) => {
                if psks.contains(&&psk.psk) {
                    return Err(CommitError::DuplicatePsk);
                }
                psks.push(&psk.psk);
            }
            Proposal::GroupContextExtensions(_) => gce += 1,
            Proposal::ExternalInit(_) => external_inits += 1,
            Proposal::ReInit(_) => reinit = true,
        }
    }
    // An Add of a key held by a member that stays in the group.
    if group.tree.leaves().any(|(leaf, node)| {
        !changed.contains(&leaf) && added_keys.contains(&node.signature_key.as_slice())
    }) {
        return Err(CommitError::DuplicateAdd);
    }
    if gce > 1 {
        return Err(CommitError::MultipleGroupContextExtensions);
    }
    if reinit && proposals.len() > 1 {
        return Err(CommitError::ReInitNotAlone);
    }
    if committer == Sender::NewMemberCommit {
        if external_inits != 1 {
            return Err(CommitError::MissingExternalInit);
        }
        if commit
            .proposals
            .iter()
            .any(|p| matches!(p, ProposalOrRef::Reference(_)))
        {
            return Err(CommitError::ExternalCommitProposal(0));
        }
        for (proposal, _) in proposals {
            let kind = proposal.proposal_type();
            if !matches!(
                kind,
                ProposalType::EXTERNAL_INIT | ProposalType::REMOVE | ProposalType::PSK
            ) {
                return Err(CommitError::ExternalCommitProposal(kind.0));
            }
        }
    } else if external_inits > 0 {
        return Err(CommitError::InvalidExternalInit);
    }
    let needs_path = proposals.is_empty()
        || proposals
            .iter()
            .any(|(p, _)| p.proposal_type().requires_path());
    if needs_path && commit.path.is_none() {
        return Err(CommitError::MissingPath);
    }
    Ok(())
}
