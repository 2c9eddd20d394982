//! `message-protection.json`: PublicMessage and PrivateMessage protection of a proposal,
//! a commit and application data (RFC 9420 sections 6.1, 6.2 and 6.3).
//!
//! Each `*_pub` / `*_priv` message is unprotected (membership tag, sender data and content
//! decryption, signature) and must carry exactly the given content; then the reference
//! protects the same content itself and unprotects its own messages.

use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::framing;
use concord_reference::messages::{
    AuthenticatedContent, Commit, ContentBody, FramedContent, GroupContext, MlsMessage,
    MlsMessageBody, Proposal, Sender, WireFormat,
};
use concord_reference::secret_tree::{RatchetPolicy, SecretTree};
use concord_reference::tree_math::LeafIndex;
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_eq, parse_case, with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub group_id: HexBytes,
    pub epoch: u64,
    pub tree_hash: HexBytes,
    pub confirmed_transcript_hash: HexBytes,
    pub signature_priv: HexBytes,
    pub signature_pub: HexBytes,
    pub encryption_secret: HexBytes,
    pub sender_data_secret: HexBytes,
    pub membership_key: HexBytes,
    pub proposal: HexBytes,
    pub proposal_priv: HexBytes,
    pub proposal_pub: HexBytes,
    pub commit: HexBytes,
    pub commit_priv: HexBytes,
    pub commit_pub: HexBytes,
    pub application: HexBytes,
    pub application_priv: HexBytes,
}

/// The group the vectors are protected in: two members, the sender at leaf 1.
const LEAF_COUNT: u32 = 2;
const SENDER: LeafIndex = LeafIndex(1);

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

struct Epoch<'a> {
    suite: &'a Suite,
    case: &'a Case,
    context: GroupContext,
}

impl Epoch<'_> {
    fn secret_tree(&self) -> SecretTree {
        SecretTree::new(
            *self.suite,
            &self.case.encryption_secret,
            LEAF_COUNT,
            RatchetPolicy::default(),
        )
    }

    /// Unprotects a PublicMessage: membership tag, then signature.
    fn open_public(&self, field: &str, bytes: &[u8]) -> Result<AuthenticatedContent, Mismatch> {
        let message = MlsMessage::from_bytes(bytes).at(field)?;
        let MlsMessageBody::PublicMessage(public) = message.body else {
            return Err(Mismatch::new(
                field,
                format!("expected a PublicMessage, got {:?}", message.wire_format()),
            ));
        };
        let content = framing::unprotect_public(
            self.suite,
            &public,
            &self.context,
            &self.case.membership_key,
        )
        .at(field)?;
        framing::verify_signature(
            self.suite,
            &self.case.signature_pub,
            &content,
            &self.context,
        )
        .at(field)?;
        Ok(content)
    }

    /// Unprotects a PrivateMessage: sender data, content, then signature.
    fn open_private(
        &self,
        field: &str,
        bytes: &[u8],
        tree: &mut SecretTree,
    ) -> Result<AuthenticatedContent, Mismatch> {
        let message = MlsMessage::from_bytes(bytes).at(field)?;
        let MlsMessageBody::PrivateMessage(private) = message.body else {
            return Err(Mismatch::new(
                field,
                format!("expected a PrivateMessage, got {:?}", message.wire_format()),
            ));
        };
        let (content, _) = framing::unprotect_private(
            self.suite,
            &private,
            tree,
            &self.case.sender_data_secret,
            |leaf| leaf.0 < LEAF_COUNT,
        )
        .at(field)?;
        framing::verify_signature(
            self.suite,
            &self.case.signature_pub,
            &content,
            &self.context,
        )
        .at(field)?;
        Ok(content)
    }

    /// Signs `body` from the sender, as the vectors' messages are.
    fn sign(
        &self,
        field: &str,
        wire_format: WireFormat,
        body: ContentBody,
    ) -> Result<AuthenticatedContent, Mismatch> {
        let content = FramedContent {
            group_id: Bytes(self.case.group_id.to_vec()),
            epoch: self.case.epoch,
            sender: Sender::Member { leaf_index: SENDER },
            authenticated_data: Bytes::default(),
            body,
        };
        let mut signed = framing::sign(
            self.suite,
            &self.case.signature_priv,
            wire_format,
            content,
            &self.context,
        )
        .at(field)?;
        if signed.content.content_type() == concord_reference::messages::ContentType::Commit {
            // Any tag will do here: the vectors do not give a confirmation key.
            signed.auth.confirmation_tag = Some(Bytes(vec![0x42; self.suite.hash_length()]));
        }
        Ok(signed)
    }

    /// Protects `body` both ways with the reference, and unprotects the results.
    fn round_trip(&self, name: &str, body: &ContentBody, public_too: bool) -> Result<(), Mismatch> {
        let field = format!("{name} (reference round trip)");
        if public_too {
            let signed = self.sign(&field, WireFormat::MLS_PUBLIC_MESSAGE, body.clone())?;
            let public = framing::protect_public(
                self.suite,
                signed,
                &self.context,
                &self.case.membership_key,
            )
            .at(&field)?;
            let bytes = MlsMessage::new(MlsMessageBody::PublicMessage(public)).to_bytes();
            expect_eq(
                &field,
                &self.open_public(&field, &bytes)?.content.body,
                body,
            )?;
        }
        let signed = self.sign(&field, WireFormat::MLS_PRIVATE_MESSAGE, body.clone())?;
        let private = framing::protect_private(
            self.suite,
            &signed,
            &mut self.secret_tree(),
            &self.case.sender_data_secret,
            13,
            [1, 2, 3, 4],
        )
        .at(&field)?;
        let bytes = MlsMessage::new(MlsMessageBody::PrivateMessage(private)).to_bytes();
        expect_eq(
            &field,
            &self
                .open_private(&field, &bytes, &mut self.secret_tree())?
                .content
                .body,
            body,
        )
    }
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let epoch = Epoch {
        suite,
        case,
        context: GroupContext::new(
            suite.id(),
            case.group_id.to_vec(),
            case.epoch,
            case.tree_hash.to_vec(),
            case.confirmed_transcript_hash.to_vec(),
            Vec::new(),
        ),
    };
    let proposal = ContentBody::Proposal(Proposal::from_bytes(&case.proposal).at("proposal")?);
    let commit = ContentBody::Commit(Commit::from_bytes(&case.commit).at("commit")?);
    let application = ContentBody::Application {
        application_data: Bytes(case.application.to_vec()),
    };

    for (name, body, public) in [
        ("proposal", &proposal, Some(&case.proposal_pub)),
        ("commit", &commit, Some(&case.commit_pub)),
        ("application", &application, None),
    ] {
        if let Some(public) = public {
            let field = format!("{name}_pub");
            let opened = epoch.open_public(&field, public)?;
            expect_eq(&field, &opened.content.body, body)?;
            expect_eq(
                &format!("{field} (sender)"),
                opened.content.sender,
                Sender::Member { leaf_index: SENDER },
            )?;
        }
        let field = format!("{name}_priv");
        let private = match name {
            "proposal" => &case.proposal_priv,
            "commit" => &case.commit_priv,
            _ => &case.application_priv,
        };
        let opened = epoch.open_private(&field, private, &mut epoch.secret_tree())?;
        expect_eq(&field, &opened.content.body, body)?;
        epoch.round_trip(name, body, public.is_some())?;
    }
    Ok(())
}
