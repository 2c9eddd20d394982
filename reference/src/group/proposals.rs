//! Sending proposals (RFC 9420 section 12.1), framed as PublicMessage or PrivateMessage
//! (section 6) per [`HandshakeMode`], and cached by ProposalRef (section 5.2) so the
//! sender can commit them by reference like anyone else's.

use crate::codec::{Bytes, Codec};
use crate::crypto::CipherSuite;
use crate::framing;
use crate::messages::{
    Add, AuthenticatedContent, ContentBody, Extension, FramedContent, GroupContextExtensions,
    KeyPackage, LeafNodeSource, MlsMessage, MlsMessageBody, PreSharedKey, PreSharedKeyId, Proposal,
    ProposalRef, ProtocolVersion, Psk, ReInit, Remove, ResumptionPskUsage, Sender, Update,
    WireFormat,
};
use crate::tree_math::LeafIndex;

use super::key_package::{CapabilityListing, sign_leaf};
use super::{Group, GroupError, HandshakeMode};

impl Group {
    /// Signs `body` as this member and frames it for the current epoch (section 6):
    /// `private` as a PrivateMessage, otherwise as a PublicMessage with membership tag.
    pub(crate) fn frame(
        &mut self,
        body: ContentBody,
        authenticated_data: &[u8],
        private: bool,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, AuthenticatedContent), GroupError> {
        let wire_format = if private {
            WireFormat::MLS_PRIVATE_MESSAGE
        } else {
            WireFormat::MLS_PUBLIC_MESSAGE
        };
        let group = &self.state.group;
        let content = FramedContent {
            group_id: group.group_context.group_id.clone(),
            epoch: group.group_context.epoch,
            sender: Sender::Member {
                leaf_index: group.own_leaf,
            },
            authenticated_data: Bytes(authenticated_data.to_vec()),
            body,
        };
        let signed = framing::sign(
            &group.suite,
            &group.signature_private_key,
            wire_format,
            content,
            &group.group_context,
        )?;
        let message = self.protect_content(signed.clone(), rng)?;
        Ok((message, signed))
    }

    /// Wraps signed content per its wire format (sections 6.2 and 6.3).
    pub(crate) fn protect_content(
        &mut self,
        content: AuthenticatedContent,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<MlsMessage, GroupError> {
        let group = &self.state.group;
        let body = if content.wire_format == WireFormat::MLS_PRIVATE_MESSAGE {
            let mut reuse_guard = [0u8; 4];
            rng.fill_bytes(&mut reuse_guard);
            MlsMessageBody::PrivateMessage(framing::protect_private(
                &group.suite,
                &content,
                &mut self.state.secret_tree,
                &group.epoch_secrets.sender_data_secret,
                self.config.padding,
                reuse_guard,
            )?)
        } else {
            MlsMessageBody::PublicMessage(framing::protect_public(
                &group.suite,
                content,
                &group.group_context,
                &group.epoch_secrets.membership_key,
            )?)
        };
        Ok(MlsMessage::new(body))
    }

    /// Sends `proposal` (section 12.1) and caches it for a commit of this epoch.
    pub fn propose(
        &mut self,
        proposal: Proposal,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        self.check_active()?;
        let private = self.config.handshake == HandshakeMode::Private;
        let (message, content) = self.frame(ContentBody::Proposal(proposal), &[], private, rng)?;
        let reference = self.state.cache_proposal(&content)?;
        self.sent_proposals
            .push((message.to_bytes(), reference.clone()));
        Ok((message, reference))
    }

    /// Section 12.1.1: Add `key_package`, once it passes the checks every receiver makes
    /// (section 10.1, and the group's `required_capabilities`, section 11.1).
    pub fn propose_add(
        &mut self,
        key_package: KeyPackage,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        let proposal = Proposal::Add(Add { key_package });
        self.check_own_proposal(&proposal)?;
        self.propose(proposal, rng)
    }

    /// The receiver's checks of one proposal (sections 10.1, 11.1, 12.1), run by its
    /// sender so that it never sends what every member must refuse. [`Self::propose`]
    /// itself checks nothing: tests and the adversary send invalid proposals with it.
    pub(crate) fn check_own_proposal(&self, proposal: &Proposal) -> Result<(), GroupError> {
        let group = &self.state.group;
        let own = Sender::Member {
            leaf_index: group.own_leaf,
        };
        crate::commit::check_proposal(
            &group.suite,
            group.group_context.group_id.as_slice(),
            proposal,
            own,
        )?;
        crate::commit::check_against_group(
            &group.group_context,
            &group.tree,
            &[(proposal.clone(), own)],
            own,
            None,
        )?;
        self.check_lifetime_to_send(proposal)?;
        Ok(())
    }

    /// RFC9420-7.3-2, the sender's side: "If the LeafNode appears in a message being sent
    /// by the client, e.g., a Proposal or a Commit, then the client MUST verify that the
    /// current time is within the range of the `lifetime` field" (when the group has a
    /// clock, [`GroupConfig::now`]).
    pub(crate) fn check_lifetime_to_send(&self, proposal: &Proposal) -> Result<(), GroupError> {
        if let (Some(now), Proposal::Add(add)) = (self.config.now, proposal)
            && let crate::messages::LeafNodeSource::KeyPackage { lifetime } =
                &add.key_package.leaf_node.leaf_node_source
            && !(lifetime.not_before <= now && now <= lifetime.not_after)
        {
            return Err(crate::commit::CommitError::KeyPackageLifetime {
                not_before: lifetime.not_before,
                not_after: lifetime.not_after,
                now,
            }
            .into());
        }
        Ok(())
    }

    /// Section 12.1.2: Update this member's leaf with a fresh encryption key (source
    /// `update`). The private key is kept until a commit of this epoch applies it.
    pub fn propose_update(
        &mut self,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        self.check_active()?;
        let suite = self.suite();
        let group = &self.state.group;
        let mut leaf = group
            .tree
            .leaf(group.own_leaf)
            .cloned()
            .ok_or(GroupError::Inactive)?;
        let pair = suite.hpke_generate_key_pair(rng)?;
        leaf.encryption_key = pair.public.into();
        leaf.leaf_node_source = LeafNodeSource::Update;
        let leaf = sign_leaf(
            &suite,
            leaf,
            &group.signature_private_key,
            group.group_context.group_id.as_slice(),
            group.own_leaf,
        )?;
        self.state
            .pending_updates
            .push((leaf.clone(), pair.private));
        let proposal = Proposal::Update(Update { leaf_node: leaf });
        if self.config.leaf_capabilities == CapabilityListing::ListDefaultTypes {
            return self.propose_listing_defaults(proposal, rng);
        }
        self.propose(proposal, rng)
    }

    /// [`Self::propose`] for a member whose leaves list the default types on purpose
    /// ([`CapabilityListing::ListDefaultTypes`]): its own Update breaks section 7.2, which
    /// the receiver's check in the proposal cache refuses, so it is cached unchecked, to
    /// be sent as such a member sends it.
    fn propose_listing_defaults(
        &mut self,
        proposal: Proposal,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        self.check_active()?;
        let private = self.config.handshake == HandshakeMode::Private;
        let (message, content) =
            self.frame(ContentBody::Proposal(proposal.clone()), &[], private, rng)?;
        let reference = ProposalRef(Bytes(
            self.suite()
                .ref_hash(ProposalRef::LABEL, &content.to_bytes()),
        ));
        self.state
            .proposals
            .push((reference.clone(), proposal, content.content.sender));
        self.sent_proposals
            .push((message.to_bytes(), reference.clone()));
        Ok((message, reference))
    }

    /// Section 12.1.3: Remove the member at `leaf`.
    pub fn propose_remove(
        &mut self,
        leaf: LeafIndex,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        self.propose(Proposal::Remove(Remove { removed: leaf }), rng)
    }

    /// Section 12.1.3: Remove the member whose identity is `identity`.
    pub fn propose_remove_identity(
        &mut self,
        identity: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        let leaf = self
            .member_by_identity(identity)
            .ok_or_else(|| GroupError::UnknownMember(crate::hex(identity)))?;
        self.propose_remove(leaf, rng)
    }

    /// Section 12.1.4: a PreSharedKey proposal for a stored external PSK.
    pub fn propose_external_psk(
        &mut self,
        psk_id: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        let id = self.external_psk_id(psk_id, rng)?;
        self.propose(Proposal::PreSharedKey(PreSharedKey { psk: id }), rng)
    }

    /// Section 12.1.4: a PreSharedKey proposal for this group's resumption PSK of
    /// `epoch` (usage `application`).
    pub fn propose_resumption_psk(
        &mut self,
        epoch: u64,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        let id = self.resumption_psk_id(epoch, rng)?;
        self.propose(Proposal::PreSharedKey(PreSharedKey { psk: id }), rng)
    }

    /// Section 12.1.7: replace the GroupContext extensions. Refused when a member lacks
    /// a capability the new `required_capabilities` names (RFC9420-12.1.7-1): a commit
    /// removing that member in the same list may still carry such a proposal by value.
    pub fn propose_group_context_extensions(
        &mut self,
        extensions: Vec<Extension>,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        let proposal = Proposal::GroupContextExtensions(GroupContextExtensions { extensions });
        self.check_own_proposal(&proposal)?;
        self.propose(proposal, rng)
    }

    /// Section 12.1.5: reinitialize as `group_id` with `cipher_suite` and `extensions`.
    pub fn propose_reinit(
        &mut self,
        group_id: Vec<u8>,
        cipher_suite: CipherSuite,
        extensions: Vec<Extension>,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(MlsMessage, ProposalRef), GroupError> {
        let proposal = Proposal::ReInit(ReInit {
            group_id: Bytes(group_id),
            version: ProtocolVersion::MLS10,
            cipher_suite,
            extensions,
        });
        self.propose(proposal, rng)
    }

    /// A PreSharedKeyID for a stored external PSK, with a fresh nonce (section 8.4).
    pub(crate) fn external_psk_id(
        &self,
        psk_id: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<PreSharedKeyId, GroupError> {
        let psk = Psk::External {
            psk_id: Bytes(psk_id.to_vec()),
        };
        if !self.external_psks.contains_key(psk_id) {
            return Err(GroupError::UnknownPsk(psk));
        }
        Ok(self.psk_id(psk, rng))
    }

    /// A PreSharedKeyID for this group's resumption PSK of `epoch` (usage application).
    pub(crate) fn resumption_psk_id(
        &self,
        epoch: u64,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<PreSharedKeyId, GroupError> {
        let psk = Psk::Resumption {
            usage: ResumptionPskUsage::Application,
            psk_group_id: Bytes(self.group_id().to_vec()),
            psk_epoch: epoch,
        };
        if self.resumption_psk(epoch).is_none() {
            return Err(GroupError::UnknownPsk(psk));
        }
        Ok(self.psk_id(psk, rng))
    }

    /// Section 8.4: "psk_nonce ... a fresh random value of length KDF.Nh".
    pub(crate) fn psk_id(&self, psk: Psk, rng: &mut dyn rand_core::CryptoRng) -> PreSharedKeyId {
        let mut nonce = vec![0u8; self.suite().hash_length()];
        rng.fill_bytes(&mut nonce);
        PreSharedKeyId {
            psk,
            psk_nonce: Bytes(nonce),
        }
    }
}
