//! Message framing (RFC 9420 section 6): senders, FramedContent, its authentication
//! (6.1) and the PublicMessage (6.2). PrivateMessage is in `private_message.rs`.
//!
//! ```text
//! FramedContent ──+ FramedContentAuthData ──> AuthenticatedContent { wire_format, .. }
//!      │                                          ├─> PublicMessage (+ membership_tag)
//!      └─ signed as FramedContentTBS              ├─> ConfirmedTranscriptHashInput
//!         (+ GroupContext for members)            └─> InterimTranscriptHashInput
//! ```

use super::{
    Commit, GroupContext, Proposal, ProtocolVersion, WireFormat, read_bytes, read_leaf_index,
    write_leaf_index,
};
use crate::codec::{Bytes, Codec, DecodeError, Reader};
use crate::tree_math::LeafIndex;

closed_enum! {
    /// RFC 9420 section 6.
    ///
    /// ```text
    /// enum {
    ///     reserved(0),
    ///     application(1),
    ///     proposal(2),
    ///     commit(3),
    ///     (255)
    /// } ContentType;
    /// ```
    ContentType, "content_type" {
        Application = 1,
        Proposal = 2,
        Commit = 3,
    }
}

closed_enum! {
    /// RFC 9420 section 6, the tag alone; [`Sender`] carries the select body.
    ///
    /// ```text
    /// enum {
    ///     reserved(0),
    ///     member(1),
    ///     external(2),
    ///     new_member_proposal(3),
    ///     new_member_commit(4),
    ///     (255)
    /// } SenderType;
    /// ```
    SenderType, "sender_type" {
        Member = 1,
        External = 2,
        NewMemberProposal = 3,
        NewMemberCommit = 4,
    }
}

/// RFC 9420 section 6.
///
/// ```text
/// struct {
///     SenderType sender_type;
///     select (Sender.sender_type) {
///         case member:
///             uint32 leaf_index;
///         case external:
///             uint32 sender_index;
///         case new_member_commit:
///         case new_member_proposal:
///             struct{};
///     };
/// } Sender;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    Member {
        leaf_index: LeafIndex,
    },
    /// `sender_index` into the `external_senders` group context extension.
    External {
        sender_index: u32,
    },
    NewMemberProposal,
    NewMemberCommit,
}

impl Sender {
    pub fn sender_type(&self) -> SenderType {
        match self {
            Sender::Member { .. } => SenderType::Member,
            Sender::External { .. } => SenderType::External,
            Sender::NewMemberProposal => SenderType::NewMemberProposal,
            Sender::NewMemberCommit => SenderType::NewMemberCommit,
        }
    }

    /// Whether FramedContentTBS covers the GroupContext for this sender (section 6.1:
    /// `member` and `new_member_commit`).
    pub fn signs_group_context(&self) -> bool {
        matches!(self, Sender::Member { .. } | Sender::NewMemberCommit)
    }
}

impl Codec for Sender {
    fn encode(&self, out: &mut Vec<u8>) {
        self.sender_type().encode(out);
        match *self {
            Sender::Member { leaf_index } => write_leaf_index(out, leaf_index),
            Sender::External { sender_index } => sender_index.encode(out),
            Sender::NewMemberProposal | Sender::NewMemberCommit => {}
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match SenderType::decode(reader)? {
            SenderType::Member => Sender::Member {
                leaf_index: read_leaf_index(reader, "Sender.leaf_index")?,
            },
            SenderType::External => Sender::External {
                sender_index: reader.u32("Sender.sender_index")?,
            },
            SenderType::NewMemberProposal => Sender::NewMemberProposal,
            SenderType::NewMemberCommit => Sender::NewMemberCommit,
        })
    }
}

/// The select on `content_type` shared by FramedContent and PrivateMessageContent:
///
/// ```text
/// select (FramedContent.content_type) {
///     case application:
///       opaque application_data<V>;
///     case proposal:
///       Proposal proposal;
///     case commit:
///       Commit commit;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentBody {
    Application { application_data: Bytes },
    Proposal(Proposal),
    Commit(Commit),
}

impl ContentBody {
    pub fn content_type(&self) -> ContentType {
        match self {
            ContentBody::Application { .. } => ContentType::Application,
            ContentBody::Proposal(_) => ContentType::Proposal,
            ContentBody::Commit(_) => ContentType::Commit,
        }
    }

    /// The body alone, without the `content_type` that selects it.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            ContentBody::Application { application_data } => application_data.encode(out),
            ContentBody::Proposal(proposal) => proposal.encode(out),
            ContentBody::Commit(commit) => commit.encode(out),
        }
    }

    /// The body selected by a `content_type` read elsewhere.
    pub fn decode_body(
        content_type: ContentType,
        reader: &mut Reader<'_>,
    ) -> Result<Self, DecodeError> {
        Ok(match content_type {
            ContentType::Application => ContentBody::Application {
                application_data: read_bytes(reader, "application_data")?,
            },
            ContentType::Proposal => ContentBody::Proposal(Proposal::decode(reader)?),
            ContentType::Commit => ContentBody::Commit(Commit::decode(reader)?),
        })
    }
}

/// RFC 9420 section 6.
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     uint64 epoch;
///     Sender sender;
///     opaque authenticated_data<V>;
///
///     ContentType content_type;
///     select (FramedContent.content_type) {
///         case application:
///           opaque application_data<V>;
///         case proposal:
///           Proposal proposal;
///         case commit:
///           Commit commit;
///     };
/// } FramedContent;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedContent {
    pub group_id: Bytes,
    pub epoch: u64,
    pub sender: Sender,
    pub authenticated_data: Bytes,
    /// `content_type` and the field it selects.
    pub body: ContentBody,
}

impl FramedContent {
    pub fn content_type(&self) -> ContentType {
        self.body.content_type()
    }

    /// The signed content, RFC 9420 section 6.1:
    ///
    /// ```text
    /// struct {
    ///     ProtocolVersion version = mls10;
    ///     WireFormat wire_format;
    ///     FramedContent content;
    ///     select (FramedContentTBS.content.sender.sender_type) {
    ///         case member:
    ///         case new_member_commit:
    ///             GroupContext context;
    ///         case external:
    ///         case new_member_proposal:
    ///             struct{};
    ///     };
    /// } FramedContentTBS;
    /// ```
    ///
    /// `context` is used only for the sender types whose signature covers it (and may be
    /// `None` for the others); `None` is returned when the sender type needs a context
    /// and none was given.
    pub fn tbs_bytes(
        &self,
        wire_format: WireFormat,
        context: Option<&GroupContext>,
    ) -> Option<Vec<u8>> {
        let context = match (self.sender.signs_group_context(), context) {
            (true, None) => return None,
            (true, Some(context)) => Some(context),
            (false, _) => None,
        };
        let mut out = Vec::new();
        self.encode_tbs(&mut out, wire_format, context);
        Some(out)
    }

    /// FramedContentTBS with `context` written when given.
    fn encode_tbs(
        &self,
        out: &mut Vec<u8>,
        wire_format: WireFormat,
        context: Option<&GroupContext>,
    ) {
        ProtocolVersion::MLS10.encode(out);
        wire_format.encode(out);
        self.encode(out);
        if let Some(context) = context {
            context.encode(out);
        }
    }
}

impl Codec for FramedContent {
    fn encode(&self, out: &mut Vec<u8>) {
        self.group_id.encode(out);
        self.epoch.encode(out);
        self.sender.encode(out);
        self.authenticated_data.encode(out);
        self.content_type().encode(out);
        self.body.encode_body(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let group_id = read_bytes(reader, "FramedContent.group_id")?;
        let epoch = reader.u64("FramedContent.epoch")?;
        let sender = Sender::decode(reader)?;
        let authenticated_data = read_bytes(reader, "FramedContent.authenticated_data")?;
        let content_type = ContentType::decode(reader)?;
        let body = ContentBody::decode_body(content_type, reader)?;
        Ok(FramedContent {
            group_id,
            epoch,
            sender,
            authenticated_data,
            body,
        })
    }
}

/// RFC 9420 section 6.1.
///
/// ```text
/// opaque MAC<V>;
///
/// struct {
///     /* SignWithLabel(., "FramedContentTBS", FramedContentTBS) */
///     opaque signature<V>;
///     select (FramedContent.content_type) {
///         case commit:
///             /*
///               MAC(confirmation_key,
///                   GroupContext.confirmed_transcript_hash)
///             */
///             MAC confirmation_tag;
///         case application:
///         case proposal:
///             struct{};
///     };
/// } FramedContentAuthData;
/// ```
///
/// The select depends on a content type held elsewhere, so this is not a [`Codec`]:
/// [`decode_with`](Self::decode_with) takes it. Decoding yields `confirmation_tag`
/// `Some` exactly for commits; encoding writes the tag whenever it is `Some`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedContentAuthData {
    pub signature: Bytes,
    pub confirmation_tag: Option<Bytes>,
}

impl FramedContentAuthData {
    /// The `SignWithLabel` label of a FramedContent signature.
    pub const SIGNATURE_LABEL: &'static [u8] = b"FramedContentTBS";

    pub fn encode(&self, out: &mut Vec<u8>) {
        self.signature.encode(out);
        if let Some(tag) = &self.confirmation_tag {
            tag.encode(out);
        }
    }

    pub fn decode_with(
        content_type: ContentType,
        reader: &mut Reader<'_>,
    ) -> Result<Self, DecodeError> {
        let signature = read_bytes(reader, "FramedContentAuthData.signature")?;
        let confirmation_tag = match content_type {
            ContentType::Commit => Some(read_bytes(
                reader,
                "FramedContentAuthData.confirmation_tag",
            )?),
            ContentType::Application | ContentType::Proposal => None,
        };
        Ok(FramedContentAuthData {
            signature,
            confirmation_tag,
        })
    }
}

/// RFC 9420 section 6: the unit that is signed, hashed into transcripts and referenced by
/// ProposalRef.
///
/// ```text
/// struct {
///     WireFormat wire_format;
///     FramedContent content;
///     FramedContentAuthData auth;
/// } AuthenticatedContent;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedContent {
    pub wire_format: WireFormat,
    pub content: FramedContent,
    pub auth: FramedContentAuthData,
}

impl AuthenticatedContent {
    /// FramedContentTBS for this content and wire format; see [`FramedContent::tbs_bytes`].
    pub fn tbs_bytes(&self, context: Option<&GroupContext>) -> Option<Vec<u8>> {
        self.content.tbs_bytes(self.wire_format, context)
    }

    /// RFC 9420 section 8.2, the input to the confirmed transcript hash:
    ///
    /// ```text
    /// struct {
    ///     WireFormat wire_format;
    ///     FramedContent content; /* with content_type == commit */
    ///     opaque signature<V>;
    /// } ConfirmedTranscriptHashInput;
    /// ```
    pub fn confirmed_transcript_hash_input(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.wire_format.encode(&mut out);
        self.content.encode(&mut out);
        self.auth.signature.encode(&mut out);
        out
    }
}

impl Codec for AuthenticatedContent {
    fn encode(&self, out: &mut Vec<u8>) {
        self.wire_format.encode(out);
        self.content.encode(out);
        self.auth.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let wire_format = WireFormat::decode(reader)?;
        let content = FramedContent::decode(reader)?;
        let auth = FramedContentAuthData::decode_with(content.content_type(), reader)?;
        Ok(AuthenticatedContent {
            wire_format,
            content,
            auth,
        })
    }
}

/// RFC 9420 section 6.2.
///
/// ```text
/// struct {
///     FramedContent content;
///     FramedContentAuthData auth;
///     select (PublicMessage.content.sender.sender_type) {
///         case member:
///             MAC membership_tag;
///         case external:
///         case new_member_commit:
///         case new_member_proposal:
///             struct{};
///     };
/// } PublicMessage;
/// ```
///
/// Decoding yields `membership_tag` `Some` exactly for `member` senders; encoding writes
/// it whenever it is `Some`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicMessage {
    pub content: FramedContent,
    pub auth: FramedContentAuthData,
    pub membership_tag: Option<Bytes>,
}

impl PublicMessage {
    /// The AuthenticatedContent this message carries (`wire_format` = public message).
    pub fn authenticated_content(&self) -> AuthenticatedContent {
        AuthenticatedContent {
            wire_format: WireFormat::MLS_PUBLIC_MESSAGE,
            content: self.content.clone(),
            auth: self.auth.clone(),
        }
    }

    /// The input of `membership_tag = MAC(membership_key, AuthenticatedContentTBM)`,
    /// RFC 9420 section 6.2:
    ///
    /// ```text
    /// struct {
    ///   FramedContentTBS content_tbs;
    ///   FramedContentAuthData auth;
    /// } AuthenticatedContentTBM;
    /// ```
    pub fn membership_tag_input(&self, context: &GroupContext) -> Vec<u8> {
        let context = self.content.sender.signs_group_context().then_some(context);
        let mut out = Vec::new();
        self.content
            .encode_tbs(&mut out, WireFormat::MLS_PUBLIC_MESSAGE, context);
        self.auth.encode(&mut out);
        out
    }
}

impl Codec for PublicMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.content.encode(out);
        self.auth.encode(out);
        if let Some(tag) = &self.membership_tag {
            tag.encode(out);
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let content = FramedContent::decode(reader)?;
        let auth = FramedContentAuthData::decode_with(content.content_type(), reader)?;
        let membership_tag = match content.sender {
            Sender::Member { .. } => Some(read_bytes(reader, "PublicMessage.membership_tag")?),
            Sender::External { .. } | Sender::NewMemberProposal | Sender::NewMemberCommit => None,
        };
        Ok(PublicMessage {
            content,
            auth,
            membership_tag,
        })
    }
}
