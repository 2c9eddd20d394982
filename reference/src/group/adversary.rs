//! What a faulty or malicious member can send: hooks for Concord's adversary (the
//! harness's negative vectors). Each hook *sends*: it signs, tags and encrypts content
//! the caller shaped to break one rule, so that the receiver's check of that rule is the
//! one that must catch it. None of them is on a receive path; no receiving check is
//! relaxed or skipped by anything here.
//!
//! ```text
//! FramedContent (any field)  ── frame_forged ──> signed, membership-tagged or encrypted
//! PublicMessage (edited)     ── remac ─────────> membership tag of this epoch again
//! proposal list (any rules)  ── forge_commit ──> no-path commit with the confirmation
//!                                                tag its committer would derive
//! ```

use crate::codec::Bytes;
use crate::commit::apply_proposals;
use crate::framing;
use crate::key_schedule::{self, zero_secret};
use crate::messages::{
    Commit, ContentBody, FramedContent, MlsMessage, MlsMessageBody, Proposal, ProposalOrRef,
    PublicMessage, Sender, WireFormat,
};
use crate::psk;
use crate::transcript;
use crate::treekem;

use super::{Group, GroupError};

/// A commit made by [`Group::forge_commit`].
#[derive(Debug, Clone)]
pub struct ForgedCommit {
    pub message: MlsMessage,
    /// Whether the confirmation tag is the one an honest committer would derive: false
    /// when the proposals cannot even be applied (a blank Remove target, an unknown PSK),
    /// and the tag is then all zeros.
    pub confirmation_tag_valid: bool,
}

impl Group {
    /// Signs `content` with this member's signature key over the current GroupContext
    /// (section 6.1, whatever sender the content names) and frames it as `wire_format`:
    /// a PublicMessage with this epoch's membership tag (6.2), or a PrivateMessage under
    /// the next key of the content sender's ratchet in this member's secret tree (6.3).
    /// `confirmation_tag` goes into the auth data as given. Nothing in the content is
    /// checked: that is the point.
    pub fn frame_forged(
        &mut self,
        content: FramedContent,
        wire_format: WireFormat,
        confirmation_tag: Option<Vec<u8>>,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<MlsMessage, GroupError> {
        let group = &self.state.group;
        let mut signed = framing::sign(
            &group.suite,
            &group.signature_private_key,
            wire_format,
            content,
            &group.group_context,
        )?;
        signed.auth.confirmation_tag = confirmation_tag.map(Bytes);
        self.protect_content(signed, rng)
    }

    /// Signs `content` and protects it as a PrivateMessage with `padding` zero bytes of
    /// padding, then `edit` changes the encoded plaintext before encryption (non-zero
    /// padding, which section 6.3.1 forbids).
    pub fn frame_private_edited(
        &mut self,
        content: FramedContent,
        padding: usize,
        edit: impl FnOnce(&mut Vec<u8>),
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<MlsMessage, GroupError> {
        let group = &self.state.group;
        let signed = framing::sign(
            &group.suite,
            &group.signature_private_key,
            WireFormat::MLS_PRIVATE_MESSAGE,
            content,
            &group.group_context,
        )?;
        let mut reuse_guard = [0u8; 4];
        rng.fill_bytes(&mut reuse_guard);
        let private = framing::protect_private_edited(
            &group.suite,
            &signed,
            &mut self.state.secret_tree,
            &group.epoch_secrets.sender_data_secret,
            padding,
            reuse_guard,
            edit,
        )?;
        Ok(MlsMessage::new(MlsMessageBody::PrivateMessage(private)))
    }

    /// Recomputes the membership tag of an edited `message` with this epoch's membership
    /// key (section 6.2), so that the tag is not what catches the edit.
    pub fn remac(&self, message: &mut PublicMessage) {
        let group = &self.state.group;
        message.membership_tag = Some(Bytes(group.suite.mac(
            &group.epoch_secrets.membership_key,
            &message.membership_tag_input(&group.group_context),
        )));
    }

    /// A commit of `proposals` (each entry: how it appears in the commit, the proposal,
    /// its proposer) without an UpdatePath, framed as `wire_format`, skipping the
    /// sender-side checks of section 12.2: the confirmation tag is the one this member
    /// derives by applying the list (section 12.3) and running the key schedule with a
    /// zero commit secret, so a receiver that checks the list before the tag reports
    /// the list, and one that checks the tag first still finds it valid. The group is
    /// not advanced (nothing is pending).
    pub fn forge_commit(
        &mut self,
        proposals: Vec<(ProposalOrRef, Proposal, Sender)>,
        wire_format: WireFormat,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<ForgedCommit, GroupError> {
        self.forge(proposals, wire_format, false, rng)
    }

    /// The same, with an UpdatePath when the list requires one (section 12.4: empty, or a
    /// proposal type that requires a path), so that the broken rule of the list is the
    /// commit's only fault: the path's keys are fresh and encrypted to the copath of the
    /// tree the list yields, and the confirmation tag uses its commit secret. A list that
    /// cannot be applied, or that removes this member, gets no path and a zero tag.
    pub fn forge_commit_with_path(
        &mut self,
        proposals: Vec<(ProposalOrRef, Proposal, Sender)>,
        wire_format: WireFormat,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<ForgedCommit, GroupError> {
        let needs_path = proposals.is_empty()
            || proposals
                .iter()
                .any(|(_, proposal, _)| proposal.proposal_type().requires_path());
        self.forge(proposals, wire_format, needs_path, rng)
    }

    fn forge(
        &mut self,
        proposals: Vec<(ProposalOrRef, Proposal, Sender)>,
        wire_format: WireFormat,
        with_path: bool,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<ForgedCommit, GroupError> {
        let group = &self.state.group;
        let suite = group.suite;
        let own = group.own_leaf;
        let resolved: Vec<(Proposal, Sender)> = proposals
            .iter()
            .map(|(_, proposal, sender)| (proposal.clone(), *sender))
            .collect();
        let applied = apply_proposals(
            &group.tree,
            &group.group_context.extensions,
            Some(own),
            &resolved,
        )
        .ok();
        // The provisional GroupContext of the new epoch (its confirmed transcript hash
        // still the old one), the UpdatePath and the commit secret.
        let mut path = None;
        let mut commit_secret = zero_secret(&suite);
        let mut provisional = applied.as_ref().map(|applied| {
            let mut context = group.group_context.clone();
            context.epoch = context.epoch.wrapping_add(1);
            context.extensions = applied.extensions.clone();
            context.tree_hash = Bytes(applied.tree.tree_hash(&suite));
            context
        });
        if with_path
            && let (Some(applied), Some(context)) = (&applied, &mut provisional)
            && let Some(template) = applied.tree.leaf(own).cloned()
        {
            let mut tree = applied.tree.clone();
            let prepared = treekem::prepare_update_path(
                &suite,
                &mut tree,
                own,
                template,
                &group.signature_private_key,
                group.group_context.group_id.as_slice(),
                rng,
            )?;
            context.tree_hash = Bytes(tree.tree_hash(&suite));
            path = Some(prepared.encrypt(
                &suite,
                &tree,
                &crate::codec::Codec::to_bytes(&*context),
                &applied.new_members(),
                rng,
            )?);
            commit_secret = prepared.secrets.commit_secret.clone();
        }
        let content = FramedContent {
            group_id: group.group_context.group_id.clone(),
            epoch: group.group_context.epoch,
            sender: Sender::Member { leaf_index: own },
            authenticated_data: Bytes::default(),
            body: ContentBody::Commit(Commit {
                proposals: proposals.into_iter().map(|(entry, _, _)| entry).collect(),
                path,
            }),
        };
        let signed = framing::sign(
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
        let tag = applied
            .zip(provisional)
            .and_then(|(applied, mut provisional)| {
                let psks = self
                    .state
                    .resolve_psks(&applied.psk_ids, &|p| self.lookup_psk(p))
                    .ok()?;
                let psk_secret = psk::psk_secret(&suite, &psks).ok()?;
                provisional.confirmed_transcript_hash = Bytes(confirmed.clone());
                // An ExternalInit (invalid in a member's commit, but the tag is the one a
                // receiver that takes it would derive): its init secret, as section 8.3's
                // receiver gets it with the group's external private key.
                let init_secret = match &applied.external_init {
                    Some(kem_output) => {
                        let pair = key_schedule::external_key_pair(
                            &suite,
                            &group.epoch_secrets.external_secret,
                        )
                        .ok()?;
                        suite
                            .hpke_receive_export(
                                &pair.private,
                                kem_output.as_slice(),
                                b"",
                                crate::commit::EXTERNAL_INIT_LABEL,
                                suite.hash_length(),
                            )
                            .ok()?
                    }
                    None => group.epoch_secrets.init_secret.clone(),
                };
                let secrets = key_schedule::next_epoch(
                    &suite,
                    &init_secret,
                    &commit_secret,
                    &psk_secret,
                    &crate::codec::Codec::to_bytes(&provisional),
                )
                .ok()?;
                Some(transcript::confirmation_tag(
                    &suite,
                    &secrets.confirmation_key,
                    &confirmed,
                ))
            });
        let confirmation_tag_valid = tag.is_some();
        let mut signed = signed;
        signed.auth.confirmation_tag =
            Some(Bytes(tag.unwrap_or_else(|| vec![0; suite.hash_length()])));
        let message = self.protect_content(signed, rng)?;
        Ok(ForgedCommit {
            message,
            confirmation_tag_valid,
        })
    }
}
