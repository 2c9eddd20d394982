//! The PrivateMessage and what its two AEAD layers protect (RFC 9420 section 6.3).
//!
//! ```text
//! PrivateMessage { group_id, epoch, content_type, authenticated_data,
//!                  encrypted_sender_data ── AEAD(aad: SenderDataAAD) ──> SenderData
//!                  ciphertext ───────────── AEAD(aad: PrivateContentAAD) ──> PrivateMessageContent }
//! ```

use super::{
    AuthenticatedContent, ContentBody, ContentType, FramedContent, FramedContentAuthData, Sender,
    WireFormat, read_bytes, read_leaf_index, write_leaf_index,
};
use crate::codec::{Bytes, Codec, DecodeError, Reader};
use crate::tree_math::LeafIndex;

/// RFC 9420 section 6.3.
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     uint64 epoch;
///     ContentType content_type;
///     opaque authenticated_data<V>;
///     opaque encrypted_sender_data<V>;
///     opaque ciphertext<V>;
/// } PrivateMessage;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateMessage {
    pub group_id: Bytes,
    pub epoch: u64,
    pub content_type: ContentType,
    pub authenticated_data: Bytes,
    pub encrypted_sender_data: Bytes,
    pub ciphertext: Bytes,
}

impl PrivateMessage {
    /// The AAD of `encrypted_sender_data`: the first three fields.
    pub fn sender_data_aad(&self) -> SenderDataAad {
        SenderDataAad {
            group_id: self.group_id.clone(),
            epoch: self.epoch,
            content_type: self.content_type,
        }
    }

    /// The AAD of `ciphertext`.
    pub fn content_aad(&self) -> PrivateContentAad {
        PrivateContentAad {
            group_id: self.group_id.clone(),
            epoch: self.epoch,
            content_type: self.content_type,
            authenticated_data: self.authenticated_data.clone(),
        }
    }
}

impl Codec for PrivateMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.group_id.encode(out);
        self.epoch.encode(out);
        self.content_type.encode(out);
        self.authenticated_data.encode(out);
        self.encrypted_sender_data.encode(out);
        self.ciphertext.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PrivateMessage {
            group_id: read_bytes(reader, "PrivateMessage.group_id")?,
            epoch: reader.u64("PrivateMessage.epoch")?,
            content_type: ContentType::decode(reader)?,
            authenticated_data: read_bytes(reader, "PrivateMessage.authenticated_data")?,
            encrypted_sender_data: read_bytes(reader, "PrivateMessage.encrypted_sender_data")?,
            ciphertext: read_bytes(reader, "PrivateMessage.ciphertext")?,
        })
    }
}

/// RFC 9420 section 6.3.1: the plaintext of `PrivateMessage.ciphertext`.
///
/// ```text
/// struct {
///     select (PrivateMessage.content_type) {
///         case application:
///           opaque application_data<V>;
///
///         case proposal:
///           Proposal proposal;
///
///         case commit:
///           Commit commit;
///     };
///
///     FramedContentAuthData auth;
///     opaque padding[length_of_padding];
/// } PrivateMessageContent;
/// ```
///
/// The content type comes from the enclosing PrivateMessage, so this is not a
/// [`Codec`]: [`decode_with`](Self::decode_with) takes it. `padding` is the number of
/// zero bytes after `auth`; "A receiver MUST verify that there are no non-zero bytes in
/// the `padding` field", so decoding rejects any other byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateMessageContent {
    pub body: ContentBody,
    pub auth: FramedContentAuthData,
    pub padding: usize,
}

impl PrivateMessageContent {
    pub fn content_type(&self) -> ContentType {
        self.body.content_type()
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        self.body.encode_body(out);
        self.auth.encode(out);
        out.resize(out.len() + self.padding, 0);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes the body `content_type` selects and the auth data, then takes every
    /// remaining byte of `reader` as padding.
    pub fn decode_with(
        content_type: ContentType,
        reader: &mut Reader<'_>,
    ) -> Result<Self, DecodeError> {
        let body = ContentBody::decode_body(content_type, reader)?;
        let auth = FramedContentAuthData::decode_with(content_type, reader)?;
        let padding = reader.take(reader.remaining(), "PrivateMessageContent.padding")?;
        if let Some(offset) = padding.iter().position(|&b| b != 0) {
            return Err(DecodeError::Malformed {
                what: "PrivateMessageContent.padding",
                detail: format!(
                    "non-zero byte at offset {offset} of {} (section 6.3.1)",
                    padding.len()
                ),
            });
        }
        Ok(PrivateMessageContent {
            body,
            auth,
            padding: padding.len(),
        })
    }

    /// A whole decrypted plaintext.
    pub fn from_bytes(content_type: ContentType, plaintext: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with(content_type, &mut Reader::new(plaintext))
    }

    /// The AuthenticatedContent that `message` carried, once its sender data named
    /// `leaf_index` as the sender.
    pub fn authenticated_content(
        &self,
        message: &PrivateMessage,
        leaf_index: LeafIndex,
    ) -> AuthenticatedContent {
        AuthenticatedContent {
            wire_format: WireFormat::MLS_PRIVATE_MESSAGE,
            content: FramedContent {
                group_id: message.group_id.clone(),
                epoch: message.epoch,
                sender: Sender::Member { leaf_index },
                authenticated_data: message.authenticated_data.clone(),
                body: self.body.clone(),
            },
            auth: self.auth.clone(),
        }
    }
}

/// RFC 9420 section 6.3.1.
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     uint64 epoch;
///     ContentType content_type;
///     opaque authenticated_data<V>;
/// } PrivateContentAAD;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateContentAad {
    pub group_id: Bytes,
    pub epoch: u64,
    pub content_type: ContentType,
    pub authenticated_data: Bytes,
}

impl Codec for PrivateContentAad {
    fn encode(&self, out: &mut Vec<u8>) {
        self.group_id.encode(out);
        self.epoch.encode(out);
        self.content_type.encode(out);
        self.authenticated_data.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PrivateContentAad {
            group_id: read_bytes(reader, "PrivateContentAAD.group_id")?,
            epoch: reader.u64("PrivateContentAAD.epoch")?,
            content_type: ContentType::decode(reader)?,
            authenticated_data: read_bytes(reader, "PrivateContentAAD.authenticated_data")?,
        })
    }
}

/// RFC 9420 section 6.3.2: the plaintext of `PrivateMessage.encrypted_sender_data`.
///
/// ```text
/// struct {
///     uint32 leaf_index;
///     uint32 generation;
///     opaque reuse_guard[4];
/// } SenderData;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderData {
    pub leaf_index: LeafIndex,
    pub generation: u32,
    pub reuse_guard: [u8; 4],
}

impl Codec for SenderData {
    fn encode(&self, out: &mut Vec<u8>) {
        write_leaf_index(out, self.leaf_index);
        self.generation.encode(out);
        out.extend_from_slice(&self.reuse_guard);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let leaf_index = read_leaf_index(reader, "SenderData.leaf_index")?;
        let generation = reader.u32("SenderData.generation")?;
        let mut reuse_guard = [0u8; 4];
        reuse_guard.copy_from_slice(reader.take(4, "SenderData.reuse_guard")?);
        Ok(SenderData {
            leaf_index,
            generation,
            reuse_guard,
        })
    }
}

/// RFC 9420 section 6.3.2.
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     uint64 epoch;
///     ContentType content_type;
/// } SenderDataAAD;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderDataAad {
    pub group_id: Bytes,
    pub epoch: u64,
    pub content_type: ContentType,
}

impl Codec for SenderDataAad {
    fn encode(&self, out: &mut Vec<u8>) {
        self.group_id.encode(out);
        self.epoch.encode(out);
        self.content_type.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SenderDataAad {
            group_id: read_bytes(reader, "SenderDataAAD.group_id")?,
            epoch: reader.u64("SenderDataAAD.epoch")?,
            content_type: ContentType::decode(reader)?,
        })
    }
}
