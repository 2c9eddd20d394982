//! External joins (RFC 9420 section 12.4.3.2) and external senders (section 12.1.8).
//!
//! ```text
//! GroupInfo (signed, external_pub) ─┬─ kem_output, init_secret = HPKE export to
//!                                   │  external_pub ("MLS 1.0 external init secret")
//!                                   ├─ ExternalInit, [Remove prior leaf], [PSKs]
//!                                   └─ UpdatePath from a new leaf (path required)
//!   sender new_member_commit, PublicMessage, no membership tag
//! ```

use crate::codec::{Bytes, Codec};
use crate::commit::{
    EXTERNAL_INIT_LABEL, GroupState, apply_proposals, retain_current_keys, validate_proposals,
};
use crate::crypto::{CipherSuite, Suite};
use crate::framing;
use crate::join::{JoinedGroup, received_tree};
use crate::key_schedule;
use crate::messages::{
    Add, Commit, ContentBody, Credential, Extension, ExternalInit, ExternalPub, ExternalSender,
    ExternalSenders, FramedContent, GroupContext, GroupInfo, KeyPackage, LeafNodeSource,
    MlsMessage, MlsMessageBody, PreSharedKey, Proposal, Psk, RatchetTree as WireTree, Remove,
    Sender, WireFormat,
};
use crate::psk;
use crate::ratchet_tree::validate_tree;
use crate::transcript;
use crate::treekem::{self, PrivateKeys};
use crate::welcome::verify_group_info_signature;

use super::key_package::{
    CapabilityListing, KeyPackageSecrets, create_key_package_listing, unsigned_leaf,
};
use super::{Group, GroupConfig, GroupError, identity_of};

/// The result of an external join: the joiner's group (already in the new epoch) and
/// the commit the existing members must process.
#[derive(Debug, Clone)]
pub struct ExternalJoin {
    pub group: Group,
    pub commit: MlsMessage,
}

/// Checks a GroupInfo and returns it with its tree (section 12.4.3.1 steps shared by
/// external joiners): the tree from the argument or the extension, the signer's
/// signature, the tree's integrity.
fn checked_group_info(
    group_info: &GroupInfo,
    ratchet_tree: Option<&WireTree>,
) -> Result<(Suite, crate::ratchet_tree::RatchetTree), GroupError> {
    let suite = Suite::new(group_info.group_context.cipher_suite)?;
    crate::join::group_info_extensions_unique(group_info)?;
    let tree = received_tree(&suite, ratchet_tree, &group_info.extensions)?;
    let signer = tree
        .leaf(group_info.signer)
        .ok_or(crate::join::JoinError::SignerBlank(group_info.signer.0))?;
    verify_group_info_signature(&suite, group_info, signer.signature_key.as_slice())?;
    let context = &group_info.group_context;
    validate_tree(
        &suite,
        &tree,
        context.group_id.as_slice(),
        context.tree_hash.as_slice(),
    )?;
    Ok((suite, tree))
}

impl Group {
    /// Section 12.4.3.2: joins by external commit. `remove_prior` removes the leaf of
    /// the same identity (a resync); each of `external_psks` (`psk_id`, value) goes in
    /// a PreSharedKey proposal.
    #[allow(clippy::too_many_arguments)]
    pub fn join_external(
        group_info: &GroupInfo,
        ratchet_tree: Option<&WireTree>,
        identity: &[u8],
        signature_private: Option<&[u8]>,
        remove_prior: bool,
        external_psks: &[(Vec<u8>, Vec<u8>)],
        config: GroupConfig,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<ExternalJoin, GroupError> {
        let (suite, tree) = checked_group_info(group_info, ratchet_tree)?;
        let context = &group_info.group_context;
        let external_pub = Extension::find::<ExternalPub>(&group_info.extensions)?
            .ok_or(GroupError::MissingExternalPub)?;
        let (kem_output, init_secret) = suite.hpke_send_export(
            external_pub.external_pub.as_slice(),
            b"",
            EXTERNAL_INIT_LABEL,
            suite.hash_length(),
            rng,
        )?;
        let signature_private = match signature_private {
            Some(private) => private.to_vec(),
            None => suite.signature_generate(rng)?.private,
        };

        let sender = Sender::NewMemberCommit;
        let mut proposals = vec![(
            Proposal::ExternalInit(ExternalInit {
                kem_output: Bytes(kem_output),
            }),
            sender,
        )];
        if remove_prior {
            let prior = tree
                .leaves()
                .find(|(_, leaf)| identity_of(&leaf.credential) == identity)
                .map(|(leaf, _)| leaf)
                .ok_or(GroupError::NoPriorLeaf)?;
            proposals.push((Proposal::Remove(Remove { removed: prior }), sender));
        }
        let mut psk_values = Vec::new();
        for (psk_id, value) in external_psks {
            let mut nonce = vec![0u8; suite.hash_length()];
            rng.fill_bytes(&mut nonce);
            let id = crate::messages::PreSharedKeyId {
                psk: Psk::External {
                    psk_id: Bytes(psk_id.clone()),
                },
                psk_nonce: Bytes(nonce),
            };
            psk_values.push((id.clone(), value.clone()));
            proposals.push((Proposal::PreSharedKey(PreSharedKey { psk: id }), sender));
        }
        validate_proposals(
            &suite,
            context.group_id.as_slice(),
            &tree,
            &proposals,
            sender,
            true,
        )?;
        let applied = apply_proposals(&tree, &context.extensions, None, &proposals)?;
        let mut tree = applied.tree;
        let template = unsigned_leaf(
            &suite,
            Credential::basic(identity.to_vec()),
            suite.signature_public_key(&signature_private)?,
            Vec::new(),
            LeafNodeSource::Update,
            config.leaf_capabilities,
        );
        let own = tree.add_leaf(template.clone())?;
        let group_id = context.group_id.as_slice();
        let prepared = treekem::prepare_update_path(
            &suite,
            &mut tree,
            own,
            template,
            &signature_private,
            group_id,
            rng,
        )?;
        let mut provisional = GroupContext {
            epoch: context.epoch.wrapping_add(1),
            tree_hash: Bytes(tree.tree_hash(&suite)),
            extensions: applied.extensions,
            ..context.clone()
        };
        let path = prepared.encrypt(&suite, &tree, &provisional.to_bytes(), &[], rng)?;
        let content = FramedContent {
            group_id: context.group_id.clone(),
            epoch: context.epoch,
            sender,
            authenticated_data: Bytes::default(),
            body: ContentBody::Commit(Commit {
                proposals: proposals
                    .iter()
                    .map(|(p, _)| crate::messages::ProposalOrRef::Proposal(p.clone()))
                    .collect(),
                path: Some(path),
            }),
        };
        let mut signed = framing::sign(
            &suite,
            &signature_private,
            WireFormat::MLS_PUBLIC_MESSAGE,
            content,
            context,
        )?;
        let interim_before = transcript::interim_transcript_hash(
            &suite,
            context.confirmed_transcript_hash.as_slice(),
            group_info.confirmation_tag.as_slice(),
        );
        let confirmed = transcript::confirmed_transcript_hash(
            &suite,
            &interim_before,
            &signed.confirmed_transcript_hash_input(),
        );
        provisional.confirmed_transcript_hash = Bytes(confirmed.clone());
        let psk_secret = psk::psk_secret(&suite, &psk_values)?;
        let epoch_secrets = key_schedule::next_epoch(
            &suite,
            &init_secret,
            &prepared.secrets.commit_secret,
            &psk_secret,
            &provisional.to_bytes(),
        )?;
        let tag = transcript::confirmation_tag(&suite, &epoch_secrets.confirmation_key, &confirmed);
        signed.auth.confirmation_tag = Some(Bytes(tag.clone()));
        let interim = transcript::interim_transcript_hash(&suite, &confirmed, &tag);
        let message = framing::protect_public(&suite, signed, context, &[])?;

        let mut private_keys = PrivateKeys::new();
        private_keys.insert(own.node(), prepared.leaf_private_key.clone());
        for (node, _, private) in &prepared.secrets.nodes {
            private_keys.insert(*node, private.clone());
        }
        retain_current_keys(&suite, &tree, &mut private_keys);
        let joined = JoinedGroup {
            suite,
            group_context: provisional,
            tree,
            own_leaf: own,
            signer: group_info.signer,
            epoch_secrets,
            interim_transcript_hash: interim,
            confirmation_tag: tag,
            private_keys,
            path_secrets: Default::default(),
            signature_private_key: signature_private,
        };
        let mut group = Group::from_state(
            GroupState::with_policy(joined, config.ratchet_policy),
            config,
        );
        group.external_psks = external_psks.iter().cloned().collect();
        Ok(ExternalJoin {
            group,
            commit: MlsMessage::new(MlsMessageBody::PublicMessage(message)),
        })
    }

    /// Section 12.4.3.2, resync: rejoins from this member's own view of the group by an
    /// external commit that removes its current leaf, keeping identity and signature key.
    pub fn resync(&self, rng: &mut dyn rand_core::CryptoRng) -> Result<ExternalJoin, GroupError> {
        let (message, _) = self.group_info(false)?;
        let MlsMessageBody::GroupInfo(info) = message.body else {
            return Err(GroupError::WrongMessage("GroupInfo"));
        };
        let identity = self
            .own_leaf_node()
            .map(|leaf| identity_of(&leaf.credential))
            .ok_or(GroupError::Inactive)?;
        let psks: Vec<_> = self.external_psks.clone().into_iter().collect();
        Group::join_external(
            &info,
            None,
            &identity,
            Some(&self.state.group.signature_private_key),
            true,
            &psks,
            self.config,
            rng,
        )
        .map(|mut joined| {
            joined.group.external_psks = self.external_psks.clone();
            joined
        })
    }

    /// Section 12.1.8: a GroupContextExtensions proposal that appends `sender` to the
    /// `external_senders` extension. Returns the proposal and the new sender's index.
    pub fn propose_add_external_sender(
        &mut self,
        sender: ExternalSender,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, crate::messages::ProposalRef, u32), GroupError> {
        let mut extensions = self.group_context().extensions.clone();
        let mut senders = Extension::find::<ExternalSenders>(&extensions)?.unwrap_or_default();
        let index =
            u32::try_from(senders.0.len()).map_err(|_| GroupError::WrongMessage("index"))?;
        senders.0.push(sender);
        let updated = Extension::from_content(&senders);
        match extensions
            .iter_mut()
            .find(|e| e.extension_type == updated.extension_type)
        {
            Some(existing) => *existing = updated,
            None => extensions.push(updated),
        }
        let (message, reference) = self.propose_group_context_extensions(extensions, rng)?;
        Ok((message, reference, index))
    }
}

/// A signer outside the group that may send proposals once the group lists it in
/// `external_senders` (section 12.1.8).
#[derive(Clone)]
pub struct ExternalSigner {
    pub suite: Suite,
    pub sender: ExternalSender,
    signature_private: Vec<u8>,
}

impl std::fmt::Debug for ExternalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalSigner")
            .field("suite", &self.suite.id())
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl ExternalSigner {
    /// A fresh signature key with a basic credential for `identity`.
    pub fn new(
        suite: CipherSuite,
        identity: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<Self, GroupError> {
        let suite = Suite::new(suite)?;
        let pair = suite.signature_generate(rng)?;
        Ok(ExternalSigner {
            suite,
            sender: ExternalSender {
                signature_key: pair.public.into(),
                credential: Credential::basic(identity.to_vec()),
            },
            signature_private: pair.private,
        })
    }

    /// Section 12.1.8: `proposal` from external sender `sender_index` for the epoch of
    /// `group_context`, as a PublicMessage (no membership tag).
    pub fn propose(
        &self,
        group_context: &GroupContext,
        sender_index: u32,
        proposal: Proposal,
    ) -> Result<MlsMessage, GroupError> {
        let content = FramedContent {
            group_id: group_context.group_id.clone(),
            epoch: group_context.epoch,
            sender: Sender::External { sender_index },
            authenticated_data: Bytes::default(),
            body: ContentBody::Proposal(proposal),
        };
        let signed = framing::sign(
            &self.suite,
            &self.signature_private,
            WireFormat::MLS_PUBLIC_MESSAGE,
            content,
            group_context,
        )?;
        let message = framing::protect_public(&self.suite, signed, group_context, &[])?;
        Ok(MlsMessage::new(MlsMessageBody::PublicMessage(message)))
    }
}

/// Section 12.1.8: a would-be member asks to be added, with sender
/// `new_member_proposal`, signing with its new KeyPackage's key. Returns the proposal
/// message with the KeyPackage and its private keys (for the Welcome that follows).
pub fn new_member_add_proposal(
    group_info: &GroupInfo,
    identity: &[u8],
    now: u64,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<(MlsMessage, KeyPackage, KeyPackageSecrets), GroupError> {
    new_member_add_proposal_listing(
        group_info,
        identity,
        CapabilityListing::Conforming,
        now,
        rng,
    )
}

/// [`new_member_add_proposal`] with the new leaf's capabilities as `listing` says.
pub fn new_member_add_proposal_listing(
    group_info: &GroupInfo,
    identity: &[u8],
    listing: CapabilityListing,
    now: u64,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<(MlsMessage, KeyPackage, KeyPackageSecrets), GroupError> {
    let context = &group_info.group_context;
    let suite = Suite::new(context.cipher_suite)?;
    let (key_package, secrets) =
        create_key_package_listing(&suite, identity, None, listing, now, rng)?;
    let content = FramedContent {
        group_id: context.group_id.clone(),
        epoch: context.epoch,
        sender: Sender::NewMemberProposal,
        authenticated_data: Bytes::default(),
        body: ContentBody::Proposal(Proposal::Add(Add {
            key_package: key_package.clone(),
        })),
    };
    let signed = framing::sign(
        &suite,
        &secrets.signature_private,
        WireFormat::MLS_PUBLIC_MESSAGE,
        content,
        context,
    )?;
    let message = framing::protect_public(&suite, signed, context, &[])?;
    Ok((
        MlsMessage::new(MlsMessageBody::PublicMessage(message)),
        key_package,
        secrets,
    ))
}

/// The GroupInfo inside an MLSMessage.
pub fn group_info_of(message: &MlsMessage) -> Result<&GroupInfo, GroupError> {
    match &message.body {
        MlsMessageBody::GroupInfo(info) => Ok(info),
        _ => Err(GroupError::WrongMessage("GroupInfo")),
    }
}

/// Decodes an encoded ratchet tree received out of band (section 12.4.3.3).
pub fn decode_tree(bytes: &[u8]) -> Result<WireTree, GroupError> {
    Ok(WireTree::from_bytes(bytes)?)
}
