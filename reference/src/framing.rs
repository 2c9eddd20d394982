//! Message protection (RFC 9420 section 6): signing content, and wrapping it as a
//! PublicMessage (6.2) or a PrivateMessage (6.3).
//!
//! ```text
//!                    sign (6.1)                      protect_public (membership_tag, 6.2)
//! FramedContent ─────────────> AuthenticatedContent ─┬─────────────────────────────> PublicMessage
//!                                                    └─ protect_private ───────────> PrivateMessage
//!                                                       (secret tree key ⊕ reuse_guard, 6.3.1;
//!                                                        sender data key from a sample, 6.3.2)
//! ```
//!
//! Unprotecting reverses the cryptographic layers and returns the AuthenticatedContent.
//! The signature is checked by [`verify_signature`] with the key the caller looks up for
//! the sender (the tree is the group engine's business, not this module's).

use crate::codec::{Bytes, Codec, DecodeError};
use crate::crypto::{CryptoError, Suite};
use crate::messages::{
    AuthenticatedContent, ContentType, FramedContent, FramedContentAuthData, GroupContext,
    PrivateMessage, PrivateMessageContent, PublicMessage, Sender, SenderData, WireFormat,
};
use crate::secret_tree::{
    RatchetKind, RatchetUndo, SecretTree, SecretTreeError, sender_data_key_nonce,
};
use crate::tree_math::LeafIndex;

/// Why a message could not be protected or unprotected. Each peer-caused variant names
/// the rule (requirement ID in `spec/`) it enforces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("malformed message: {0}")]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    SecretTree(#[from] SecretTreeError),
    /// RFC9420-6.1-1: the FramedContentTBS signature does not verify.
    #[error("signature over FramedContentTBS does not verify (RFC 9420 section 6.1)")]
    InvalidSignature,
    /// RFC9420-6.2-1: a member's PublicMessage has no membership tag.
    #[error("PublicMessage from a member lacks its membership_tag (RFC 9420 section 6.2)")]
    MissingMembershipTag,
    /// RFC9420-6.2-1: the membership tag does not match.
    #[error("membership_tag does not match (RFC 9420 section 6.2)")]
    InvalidMembershipTag,
    /// RFC9420-6.3.2-1: the sender data does not decrypt.
    #[error("encrypted_sender_data does not decrypt (RFC 9420 section 6.3.2)")]
    SenderDataDecryption,
    /// RFC9420-6.3.1-1: the content does not decrypt.
    #[error(
        "PrivateMessage ciphertext does not decrypt with generation {generation} of leaf {leaf} (RFC 9420 section 6.3.1)"
    )]
    ContentDecryption { leaf: u32, generation: u32 },
    /// Internal: FramedContentTBS needs the GroupContext for this sender type.
    #[error("FramedContentTBS for this sender needs the GroupContext")]
    MissingGroupContext,
    /// RFC9420-6.3.2-2: the sender data names a leaf that holds no member.
    #[error("sender data names leaf {leaf}, which holds no member (RFC 9420 section 6.3.2)")]
    SenderNotMember { leaf: u32 },
    /// Only members send PrivateMessages (section 6.3).
    #[error("a PrivateMessage can only carry content from a member, not {0:?}")]
    PrivateSenderNotMember(Sender),
    /// API misuse: a commit needs a confirmation tag and other content must not have one.
    #[error("confirmation_tag present: {present}, but content type is {content_type:?}")]
    ConfirmationTagMismatch {
        content_type: ContentType,
        present: bool,
    },
}

/// Signs `content` as `wire_format` (section 6.1). `group_context` is covered for member
/// and new-member-commit senders. A commit's `confirmation_tag` is added by the caller
/// once the new epoch's confirmation key is known.
pub fn sign(
    suite: &Suite,
    signature_private_key: &[u8],
    wire_format: WireFormat,
    content: FramedContent,
    group_context: &GroupContext,
) -> Result<AuthenticatedContent, FramingError> {
    let tbs = content
        .tbs_bytes(wire_format, Some(group_context))
        .ok_or(FramingError::MissingGroupContext)?;
    let signature = suite.sign_with_label(
        signature_private_key,
        FramedContentAuthData::SIGNATURE_LABEL,
        &tbs,
    )?;
    Ok(AuthenticatedContent {
        wire_format,
        content,
        auth: FramedContentAuthData {
            signature: Bytes(signature),
            confirmation_tag: None,
        },
    })
}

/// Checks the signature of `content` with the sender's key (RFC9420-6.1-1).
pub fn verify_signature(
    suite: &Suite,
    signature_public_key: &[u8],
    content: &AuthenticatedContent,
    group_context: &GroupContext,
) -> Result<(), FramingError> {
    let tbs = content
        .tbs_bytes(Some(group_context))
        .ok_or(FramingError::MissingGroupContext)?;
    suite
        .verify_with_label(
            signature_public_key,
            FramedContentAuthData::SIGNATURE_LABEL,
            &tbs,
            &content.auth.signature,
        )
        .map_err(|_| FramingError::InvalidSignature)
}

fn check_confirmation_tag(content: &AuthenticatedContent) -> Result<(), FramingError> {
    let content_type = content.content.content_type();
    let present = content.auth.confirmation_tag.is_some();
    if present == (content_type == ContentType::Commit) {
        Ok(())
    } else {
        Err(FramingError::ConfirmationTagMismatch {
            content_type,
            present,
        })
    }
}

/// Wraps signed content as a PublicMessage, adding the membership tag for member senders
/// (section 6.2).
pub fn protect_public(
    suite: &Suite,
    content: AuthenticatedContent,
    group_context: &GroupContext,
    membership_key: &[u8],
) -> Result<PublicMessage, FramingError> {
    check_confirmation_tag(&content)?;
    let mut message = PublicMessage {
        content: content.content,
        auth: content.auth,
        membership_tag: None,
    };
    if let Sender::Member { .. } = message.content.sender {
        let tag = suite.mac(membership_key, &message.membership_tag_input(group_context));
        message.membership_tag = Some(Bytes(tag));
    }
    Ok(message)
}

/// Checks a PublicMessage's membership tag (for member senders) and returns its content.
/// The signature is the caller's to check, with [`verify_signature`].
pub fn unprotect_public(
    suite: &Suite,
    message: &PublicMessage,
    group_context: &GroupContext,
    membership_key: &[u8],
) -> Result<AuthenticatedContent, FramingError> {
    if let Sender::Member { .. } = message.content.sender {
        let tag = message
            .membership_tag
            .as_ref()
            .ok_or(FramingError::MissingMembershipTag)?;
        let expected = suite.mac(membership_key, &message.membership_tag_input(group_context));
        if !constant_time_eq(&expected, tag) {
            return Err(FramingError::InvalidMembershipTag);
        }
    }
    Ok(message.authenticated_content())
}

/// Encrypts signed member content as a PrivateMessage (section 6.3), consuming the next
/// key of the sender's ratchet. `reuse_guard` is four fresh random bytes.
pub fn protect_private(
    suite: &Suite,
    content: &AuthenticatedContent,
    secret_tree: &mut SecretTree,
    sender_data_secret: &[u8],
    padding: usize,
    reuse_guard: [u8; 4],
) -> Result<PrivateMessage, FramingError> {
    protect_private_edited(
        suite,
        content,
        secret_tree,
        sender_data_secret,
        padding,
        reuse_guard,
        |_| {},
    )
}

/// [`protect_private`] with `edit` applied to the encoded PrivateMessageContent before
/// encryption: for the adversary, which sends what a conformant sender never does
/// (non-zero padding).
pub fn protect_private_edited(
    suite: &Suite,
    content: &AuthenticatedContent,
    secret_tree: &mut SecretTree,
    sender_data_secret: &[u8],
    padding: usize,
    reuse_guard: [u8; 4],
    edit: impl FnOnce(&mut Vec<u8>),
) -> Result<PrivateMessage, FramingError> {
    check_confirmation_tag(content)?;
    let Sender::Member { leaf_index } = content.content.sender else {
        return Err(FramingError::PrivateSenderNotMember(content.content.sender));
    };
    let content_type = content.content.content_type();
    let key = secret_tree.next_sending_key(leaf_index, ratchet_kind(content_type))?;
    let mut plaintext = PrivateMessageContent {
        body: content.content.body.clone(),
        auth: content.auth.clone(),
        padding,
    }
    .to_bytes();
    edit(&mut plaintext);
    let mut message = PrivateMessage {
        group_id: content.content.group_id.clone(),
        epoch: content.content.epoch,
        content_type,
        authenticated_data: content.content.authenticated_data.clone(),
        encrypted_sender_data: Bytes::default(),
        ciphertext: Bytes::default(),
    };
    let nonce = guarded_nonce(&key.nonce, reuse_guard);
    message.ciphertext = Bytes(suite.aead_seal(
        &key.key,
        &nonce,
        &message.content_aad().to_bytes(),
        &plaintext,
    )?);

    let sender_data = SenderData {
        leaf_index,
        generation: key.generation,
        reuse_guard,
    };
    let (sd_key, sd_nonce) = sender_data_key_nonce(suite, sender_data_secret, &message.ciphertext)?;
    message.encrypted_sender_data = Bytes(suite.aead_seal(
        &sd_key,
        &sd_nonce,
        &message.sender_data_aad().to_bytes(),
        &sender_data.to_bytes(),
    )?);
    Ok(message)
}

/// Decrypts a PrivateMessage: the sender data, then the content with the sender's
/// ratchet key (consumed on success: a replay fails). `is_member` says whether a leaf
/// holds a member: the sender data must name one before any ratchet state changes
/// (RFC9420-6.3.2-2). Returns the content and the sender data. The signature is the
/// caller's to check, with [`verify_signature`].
pub fn unprotect_private(
    suite: &Suite,
    message: &PrivateMessage,
    secret_tree: &mut SecretTree,
    sender_data_secret: &[u8],
    is_member: impl Fn(LeafIndex) -> bool,
) -> Result<(AuthenticatedContent, SenderData), FramingError> {
    let (content, sender_data, _) =
        unprotect_private_undoable(suite, message, secret_tree, sender_data_secret, is_member)?;
    Ok((content, sender_data))
}

/// [`unprotect_private`], also returning what [`SecretTree::undo`] needs to reject the
/// message after all (its signature does not verify, say) without consuming its key.
/// A message that fails here has consumed nothing.
pub fn unprotect_private_undoable(
    suite: &Suite,
    message: &PrivateMessage,
    secret_tree: &mut SecretTree,
    sender_data_secret: &[u8],
    is_member: impl Fn(LeafIndex) -> bool,
) -> Result<(AuthenticatedContent, SenderData, RatchetUndo), FramingError> {
    let (sd_key, sd_nonce) = sender_data_key_nonce(suite, sender_data_secret, &message.ciphertext)?;
    let sender_data_bytes = suite
        .aead_open(
            &sd_key,
            &sd_nonce,
            &message.sender_data_aad().to_bytes(),
            &message.encrypted_sender_data,
        )
        .map_err(|_| FramingError::SenderDataDecryption)?;
    let sender_data = SenderData::from_bytes(&sender_data_bytes)?;
    if !is_member(sender_data.leaf_index) {
        return Err(FramingError::SenderNotMember {
            leaf: sender_data.leaf_index.0,
        });
    }

    let kind = ratchet_kind(message.content_type);
    let (key, undo) =
        secret_tree.receiving_key_undoable(sender_data.leaf_index, kind, sender_data.generation)?;
    let nonce = guarded_nonce(&key.nonce, sender_data.reuse_guard);
    let opened = suite
        .aead_open(
            &key.key,
            &nonce,
            &message.content_aad().to_bytes(),
            &message.ciphertext,
        )
        .map_err(|_| FramingError::ContentDecryption {
            leaf: sender_data.leaf_index.0,
            generation: sender_data.generation,
        })
        .and_then(|plaintext| {
            Ok(PrivateMessageContent::from_bytes(
                message.content_type,
                &plaintext,
            )?)
        });
    match opened {
        Ok(content) => Ok((
            content.authenticated_content(message, sender_data.leaf_index),
            sender_data,
            undo,
        )),
        Err(e) => {
            // A forged message must not burn the key of a genuine one still to come.
            secret_tree.undo(undo);
            Err(e)
        }
    }
}

fn ratchet_kind(content_type: ContentType) -> RatchetKind {
    match content_type {
        ContentType::Application => RatchetKind::Application,
        ContentType::Proposal | ContentType::Commit => RatchetKind::Handshake,
    }
}

/// The first four bytes of the nonce XORed with the reuse guard (section 6.3.1).
fn guarded_nonce(nonce: &[u8], reuse_guard: [u8; 4]) -> Vec<u8> {
    let mut guarded = nonce.to_vec();
    for (byte, guard) in guarded.iter_mut().zip(reuse_guard) {
        *byte ^= guard;
    }
    guarded
}

/// Equality that takes the same time wherever the first difference is (MAC checks).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
