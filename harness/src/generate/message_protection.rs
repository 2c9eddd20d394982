//! `message-protection.json`: PublicMessage and PrivateMessage protection of a proposal,
//! a commit and application data (RFC 9420 sections 6.1, 6.2 and 6.3), one case per
//! suite as upstream.
//!
//! The group has two members and the sender is leaf 1 (what the verifier assumes). Every
//! PrivateMessage is the first of its ratchet (generation 0), so each opens with a fresh
//! secret tree. The commit's confirmation tag is random: the format gives no confirmation
//! key to derive one from.

use crate::vectors::message_protection::Case;
use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::framing;
use concord_reference::messages::{
    AuthenticatedContent, Commit, ContentBody, ContentType, FramedContent, GroupContext,
    MlsMessage, MlsMessageBody, Proposal, ProposalOrRef, ProposalRef, Remove, Sender, WireFormat,
};
use concord_reference::secret_tree::{RatchetPolicy, SecretTree};
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use super::{below, random_bytes, random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

const LEAF_COUNT: u32 = 2;
const SENDER: LeafIndex = LeafIndex(1);

struct Epoch<'a> {
    suite: &'a Suite,
    context: GroupContext,
    signature_private: Vec<u8>,
    encryption_secret: HexBytes,
    sender_data_secret: HexBytes,
    membership_key: HexBytes,
}

impl Epoch<'_> {
    fn sign(
        &self,
        field: &str,
        wire_format: WireFormat,
        body: &ContentBody,
        rng: &mut ChaCha20Rng,
    ) -> Result<AuthenticatedContent, Mismatch> {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member { leaf_index: SENDER },
            authenticated_data: Bytes::default(),
            body: body.clone(),
        };
        let mut signed = framing::sign(
            self.suite,
            &self.signature_private,
            wire_format,
            content,
            &self.context,
        )
        .at(field)?;
        if signed.content.content_type() == ContentType::Commit {
            signed.auth.confirmation_tag = Some(Bytes(random_secret(self.suite, rng).0));
        }
        Ok(signed)
    }

    fn public(&self, body: &ContentBody, rng: &mut ChaCha20Rng) -> Result<HexBytes, Mismatch> {
        let field = "(public message)";
        let signed = self.sign(field, WireFormat::MLS_PUBLIC_MESSAGE, body, rng)?;
        let message =
            framing::protect_public(self.suite, signed, &self.context, &self.membership_key)
                .at(field)?;
        Ok(HexBytes(
            MlsMessage::new(MlsMessageBody::PublicMessage(message)).to_bytes(),
        ))
    }

    fn private(&self, body: &ContentBody, rng: &mut ChaCha20Rng) -> Result<HexBytes, Mismatch> {
        let field = "(private message)";
        let signed = self.sign(field, WireFormat::MLS_PRIVATE_MESSAGE, body, rng)?;
        let mut tree = SecretTree::new(
            *self.suite,
            &self.encryption_secret,
            LEAF_COUNT,
            RatchetPolicy::default(),
        );
        let mut reuse_guard = [0u8; 4];
        rng.fill_bytes(&mut reuse_guard);
        let message = framing::protect_private(
            self.suite,
            &signed,
            &mut tree,
            &self.sender_data_secret,
            0,
            reuse_guard,
        )
        .at(field)?;
        Ok(HexBytes(
            MlsMessage::new(MlsMessageBody::PrivateMessage(message)).to_bytes(),
        ))
    }
}

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    let group_id = random_secret(suite, rng);
    let epoch = u64::from(rng.next_u32());
    let tree_hash = random_secret(suite, rng);
    let confirmed_transcript_hash = random_secret(suite, rng);
    let signer = suite.signature_generate(rng).at("signature_priv")?;
    let epoch_state = Epoch {
        suite,
        context: GroupContext::new(
            suite.id(),
            group_id.to_vec(),
            epoch,
            tree_hash.to_vec(),
            confirmed_transcript_hash.to_vec(),
            Vec::new(),
        ),
        signature_private: signer.private.clone(),
        encryption_secret: random_secret(suite, rng),
        sender_data_secret: random_secret(suite, rng),
        membership_key: random_secret(suite, rng),
    };
    let proposal = Proposal::Remove(Remove {
        removed: LeafIndex(below(rng, 8) as u32),
    });
    let commit = Commit {
        proposals: (0..2)
            .map(|_| ProposalOrRef::Reference(ProposalRef(Bytes(random_secret(suite, rng).0))))
            .collect(),
        path: None,
    };
    let application_length = 16 + below(rng, 48) as usize;
    let application = random_bytes(rng, application_length);
    let proposal_body = ContentBody::Proposal(proposal.clone());
    let commit_body = ContentBody::Commit(commit.clone());
    let application_body = ContentBody::Application {
        application_data: Bytes(application.to_vec()),
    };
    let e = &epoch_state;
    Ok(vec![to_value(&Case {
        cipher_suite: suite.id().0,
        group_id,
        epoch,
        tree_hash,
        confirmed_transcript_hash,
        signature_priv: HexBytes(signer.private),
        signature_pub: HexBytes(signer.public),
        proposal: HexBytes(proposal.to_bytes()),
        proposal_priv: e.private(&proposal_body, rng)?,
        proposal_pub: e.public(&proposal_body, rng)?,
        commit: HexBytes(commit.to_bytes()),
        commit_priv: e.private(&commit_body, rng)?,
        commit_pub: e.public(&commit_body, rng)?,
        application,
        application_priv: e.private(&application_body, rng)?,
        encryption_secret: e.encryption_secret.clone(),
        sender_data_secret: e.sender_data_secret.clone(),
        membership_key: e.membership_key.clone(),
    })?])
}
