//! Sending a Commit (RFC 9420 section 12.4): the proposal list (by value and by
//! reference), an UpdatePath when the list needs one or the caller forces it (new
//! members excluded from its encryption, section 7.6), the provisional GroupContext,
//! transcript hashes and confirmation tag (8.2), the signature (6.1), and a Welcome for
//! the added members (12.4.3.1). The new epoch stays pending until the committer
//! merges it with [`Group::merge_pending_commit`].

use crate::codec::{Bytes, Codec};
use crate::commit::{GroupState, apply_proposals, retain_current_keys, validate_proposals};
use crate::framing;
use crate::key_schedule::{self, zero_secret};
use crate::messages::{
    Commit, ContentBody, EncryptedGroupSecrets, FramedContent, GroupContext, GroupInfo,
    GroupSecrets, HpkeCiphertext, KeyPackage, MlsMessage, MlsMessageBody, PathSecret,
    PreSharedKeyId, Proposal, ProposalOrRef, ProposalRef, RatchetTree as WireTree, ReInit, Sender,
    Welcome, WireFormat,
};
use crate::psk;
use crate::transcript;
use crate::tree_math::{self, LeafIndex};
use crate::treekem::{self, PathSecrets};
use crate::welcome::key_package_ref;

use super::group_info::sign_group_info;
use super::{Group, GroupError, GroupStatus, HandshakeMode};

/// What to commit and how.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// Cached proposals of this epoch (received or own), by reference.
    pub by_reference: Vec<ProposalRef>,
    /// Proposals carried inline.
    pub by_value: Vec<Proposal>,
    /// Include an UpdatePath even when the proposals do not require one.
    pub force_path: bool,
    /// Return the ratchet tree beside the Welcome instead of in its GroupInfo.
    pub external_tree: bool,
    pub authenticated_data: Vec<u8>,
}

/// A sent commit: the message for the group, the Welcome for added members, the tree
/// when asked for out of band, and the new epoch's GroupInfo.
#[derive(Debug, Clone)]
pub struct CommitOutput {
    pub commit: MlsMessage,
    pub welcome: Option<MlsMessage>,
    pub ratchet_tree: Option<WireTree>,
    pub group_info: GroupInfo,
}

/// The committer's next epoch, waiting to be merged.
#[derive(Debug, Clone)]
pub(crate) struct PendingCommit {
    pub state: GroupState,
    pub reinit: Option<ReInit>,
}

/// The Welcome of section 12.4.3.1 for `added`: GroupSecrets (joiner secret, the path
/// secret of the lowest common ancestor with the committer, PSK ids) encrypted to each
/// init key, and the GroupInfo encrypted under the welcome secret.
pub(crate) fn build_welcome(
    state: &GroupState,
    group_info: &GroupInfo,
    added: &[(LeafIndex, KeyPackage)],
    path: Option<&PathSecrets>,
    psk_ids: &[PreSharedKeyId],
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<Welcome, GroupError> {
    let group = &state.group;
    let suite = group.suite;
    let (key, nonce) =
        key_schedule::welcome_key_nonce(&suite, &group.epoch_secrets.welcome_secret)?;
    let encrypted_group_info = suite.aead_seal(&key, &nonce, b"", &group_info.to_bytes())?;
    let mut secrets = Vec::with_capacity(added.len());
    for (leaf, key_package) in added {
        let ancestor = tree_math::common_ancestor(leaf.node(), group.own_leaf.node());
        let group_secrets = GroupSecrets {
            joiner_secret: Bytes(group.epoch_secrets.joiner_secret.clone()),
            path_secret: path
                .and_then(|p| p.path_secret(ancestor))
                .map(|s| PathSecret {
                    path_secret: Bytes(s.to_vec()),
                }),
            psks: psk_ids.to_vec(),
        };
        let (kem_output, ciphertext) = suite.encrypt_with_label(
            key_package.init_key.as_slice(),
            b"Welcome",
            &encrypted_group_info,
            &group_secrets.to_bytes(),
            rng,
        )?;
        secrets.push(EncryptedGroupSecrets {
            new_member: key_package_ref(&suite, key_package),
            encrypted_group_secrets: HpkeCiphertext {
                kem_output: Bytes(kem_output),
                ciphertext: Bytes(ciphertext),
            },
        });
    }
    Ok(Welcome {
        cipher_suite: suite.id(),
        secrets,
        encrypted_group_info: Bytes(encrypted_group_info),
    })
}

impl Group {
    /// References of every proposal cached in this epoch, in arrival order.
    pub fn cached_proposals(&self) -> Vec<ProposalRef> {
        self.state
            .proposals
            .iter()
            .map(|(r, _, _)| r.clone())
            .collect()
    }

    /// Creates a Commit (section 12.4) and keeps its epoch pending.
    pub fn commit(
        &mut self,
        options: &CommitOptions,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<CommitOutput, GroupError> {
        self.check_active()?;
        let suite = self.suite();
        let own = self.own_leaf();
        let sender = Sender::Member { leaf_index: own };
        let mut proposals = Vec::new();
        let mut entries = Vec::new();
        let mut own_update = false;
        for reference in &options.by_reference {
            let (_, proposal, proposer) = self
                .state
                .proposals
                .iter()
                .find(|(r, _, _)| r == reference)
                .ok_or(GroupError::UnknownProposal)?;
            // Section 12.2: the committer's own Update cannot be in its commit; the
            // UpdatePath refreshes its leaf instead.
            if *proposer == sender && matches!(proposal, Proposal::Update(_)) {
                own_update = true;
                continue;
            }
            proposals.push((proposal.clone(), *proposer));
            entries.push(ProposalOrRef::Reference(reference.clone()));
        }
        for proposal in &options.by_value {
            self.check_lifetime_to_send(proposal)?;
            proposals.push((proposal.clone(), sender));
            entries.push(ProposalOrRef::Proposal(proposal.clone()));
        }
        let needs_path = options.force_path
            || own_update
            || proposals.is_empty()
            || proposals
                .iter()
                .any(|(p, _)| p.proposal_type().requires_path());
        let group = &self.state.group;
        validate_proposals(
            &suite,
            group.group_context.group_id.as_slice(),
            &group.tree,
            &proposals,
            sender,
            needs_path,
        )?;
        let applied = apply_proposals(
            &group.tree,
            &group.group_context.extensions,
            Some(own),
            &proposals,
        )?;
        let new_members = applied.new_members();
        let mut tree = applied.tree;
        let mut provisional = GroupContext {
            epoch: group.group_context.epoch.wrapping_add(1),
            extensions: applied.extensions,
            ..group.group_context.clone()
        };
        let mut private_keys = group.private_keys.clone();
        let (path, path_secrets, commit_secret) = if needs_path {
            let template = tree.leaf(own).cloned().ok_or(GroupError::Inactive)?;
            let prepared = treekem::prepare_update_path(
                &suite,
                &mut tree,
                own,
                template,
                &group.signature_private_key,
                group.group_context.group_id.as_slice(),
                rng,
            )?;
            provisional.tree_hash = Bytes(tree.tree_hash(&suite));
            let path =
                prepared.encrypt(&suite, &tree, &provisional.to_bytes(), &new_members, rng)?;
            private_keys.insert(own.node(), prepared.leaf_private_key.clone());
            for (node, _, private) in &prepared.secrets.nodes {
                private_keys.insert(*node, private.clone());
            }
            let commit_secret = prepared.secrets.commit_secret.clone();
            (Some(path), Some(prepared.secrets), commit_secret)
        } else {
            provisional.tree_hash = Bytes(tree.tree_hash(&suite));
            (None, None, zero_secret(&suite))
        };
        retain_current_keys(&suite, &tree, &mut private_keys);

        let wire_format = match self.config.handshake {
            HandshakeMode::Private => WireFormat::MLS_PRIVATE_MESSAGE,
            HandshakeMode::Public => WireFormat::MLS_PUBLIC_MESSAGE,
        };
        let content = FramedContent {
            group_id: group.group_context.group_id.clone(),
            epoch: group.group_context.epoch,
            sender,
            authenticated_data: Bytes(options.authenticated_data.clone()),
            body: ContentBody::Commit(Commit {
                proposals: entries,
                path,
            }),
        };
        let mut signed = framing::sign(
            &suite,
            &group.signature_private_key,
            wire_format,
            content,
            &group.group_context,
        )?;
        let confirmed = transcript::confirmed_transcript_hash(
            &suite,
            &group.interim_transcript_hash,
            &signed.confirmed_transcript_hash_input(),
        );
        provisional.confirmed_transcript_hash = Bytes(confirmed.clone());
        let psks = self
            .state
            .resolve_psks(&applied.psk_ids, &|p| self.lookup_psk(p))?;
        let psk_secret = psk::psk_secret(&suite, &psks)?;
        let epoch_secrets = key_schedule::next_epoch(
            &suite,
            &group.epoch_secrets.init_secret,
            &commit_secret,
            &psk_secret,
            &provisional.to_bytes(),
        )?;
        let tag = transcript::confirmation_tag(&suite, &epoch_secrets.confirmation_key, &confirmed);
        signed.auth.confirmation_tag = Some(Bytes(tag.clone()));
        let interim = transcript::interim_transcript_hash(&suite, &confirmed, &tag);

        let mut next = self.state.clone();
        next.install(provisional, tree, epoch_secrets, interim, tag, private_keys);
        let group_info = sign_group_info(&next, !options.external_tree)?;
        let welcome = if applied.added.is_empty() {
            None
        } else {
            let welcome = build_welcome(
                &next,
                &group_info,
                &applied.added,
                path_secrets.as_ref(),
                &applied.psk_ids,
                rng,
            )?;
            Some(MlsMessage::new(MlsMessageBody::Welcome(welcome)))
        };
        let ratchet_tree = options.external_tree.then(|| next.group.tree.to_wire());
        let commit = self.protect_content(signed, rng)?;
        self.pending = Some(PendingCommit {
            state: next,
            reinit: applied.reinit,
        });
        Ok(CommitOutput {
            commit,
            welcome,
            ratchet_tree,
            group_info,
        })
    }

    /// Whether a commit of this member awaits merging.
    pub fn has_pending_commit(&self) -> bool {
        self.pending.is_some()
    }

    /// Moves to the epoch of this member's pending commit (section 12.4: the committer
    /// applies its own commit once the delivery service accepted it).
    pub fn merge_pending_commit(&mut self) -> Result<(), GroupError> {
        let pending = self.pending.take().ok_or(GroupError::NoPendingCommit)?;
        self.retire_current_epoch();
        self.state = pending.state;
        if let Some(reinit) = pending.reinit {
            self.status = GroupStatus::ReInitialized(reinit);
        }
        Ok(())
    }

    /// Forgets the pending commit (rejected by the delivery service); the epoch is
    /// unchanged and the proposals stay cached.
    pub fn discard_pending_commit(&mut self) {
        self.pending = None;
    }
}
