//! The receive path (RFC 9420 sections 6, 12.4.2): one entry point for every message a
//! member is handed. On error the group is left exactly as it was.

use crate::codec::{Bytes, Codec};
use crate::commit::CommitOutcome;
use crate::messages::{ContentBody, ContentType, MlsMessage, MlsMessageBody, ProposalRef, Sender};
use crate::tree_math::LeafIndex;

use super::{Group, GroupError, GroupStatus};

/// What a processed message was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A proposal, now cached under this reference.
    Proposal(ProposalRef),
    /// A commit of another member, applied.
    Commit(CommitOutcome),
    /// Application data from a member (section 6.3).
    Application {
        sender: LeafIndex,
        epoch: u64,
        authenticated_data: Vec<u8>,
        data: Vec<u8>,
    },
}

impl Group {
    /// Decodes and processes one MLSMessage.
    pub fn process_message_bytes(&mut self, bytes: &[u8]) -> Result<Received, GroupError> {
        let message = MlsMessage::from_bytes(bytes)?;
        self.process_message(&message)
    }

    /// Processes a PublicMessage or PrivateMessage: application data (of the current
    /// or a retained epoch), a proposal (cached), or a commit (applied). A successful
    /// commit of another member supersedes this member's pending one.
    pub fn process_message(&mut self, message: &MlsMessage) -> Result<Received, GroupError> {
        if self.status != GroupStatus::Active {
            return Err(GroupError::Inactive);
        }
        if let MlsMessageBody::PrivateMessage(private) = &message.body
            && private.group_id.as_slice() == self.group_id()
            && (private.epoch != self.epoch() || private.content_type == ContentType::Application)
        {
            return self.open_application(private);
        }
        // Handshake messages change the state (a PrivateMessage one consumes its key, a
        // commit moves the epoch): they are processed on a copy, kept only on success.
        let mut next = self.state.clone();
        let content = next.open(message)?;
        if matches!(content.content.body, ContentBody::Application { .. }) {
            // A PublicMessage carrying application data: refused, nothing kept.
            return application(&content);
        }
        let received = match &content.content.body {
            ContentBody::Application { .. } => application(&content)?,
            ContentBody::Proposal(_) => Received::Proposal(next.cache_proposal(&content)?),
            ContentBody::Commit(_) => {
                let lookup = |psk: &crate::messages::Psk| self.lookup_psk(psk);
                Received::Commit(next.process_commit_content(&content, &lookup)?)
            }
        };
        match &received {
            Received::Commit(CommitOutcome::Removed) => {
                self.status = GroupStatus::Removed;
                self.pending = None;
                return Ok(received);
            }
            Received::Commit(CommitOutcome::Advanced { reinit }) => {
                self.retire_current_epoch();
                self.pending = None;
                if let Some(reinit) = reinit {
                    self.status = GroupStatus::ReInitialized(reinit.clone());
                }
            }
            _ => {}
        }
        self.state = next;
        Ok(received)
    }

    /// Caches a proposal message for a commit by reference: one this member sent
    /// itself (recognised by its bytes), or one received, processed as such.
    pub fn cache_proposal_message(
        &mut self,
        message: &MlsMessage,
    ) -> Result<ProposalRef, GroupError> {
        let bytes = message.to_bytes();
        if let Some((_, reference)) = self.sent_proposals.iter().find(|(b, _)| *b == bytes) {
            return Ok(reference.clone());
        }
        match self.process_message(message)? {
            Received::Proposal(reference) => Ok(reference),
            _ => Err(GroupError::WrongMessage("proposal")),
        }
    }
}

/// The application data of an opened message, from a member, in a PrivateMessage.
pub(super) fn application(
    content: &crate::messages::AuthenticatedContent,
) -> Result<Received, GroupError> {
    let ContentBody::Application {
        application_data: data,
    } = &content.content.body
    else {
        return Err(GroupError::WrongMessage("application message"));
    };
    let Sender::Member { leaf_index } = content.content.sender else {
        return Err(GroupError::WrongMessage("member application message"));
    };
    if content.wire_format != crate::messages::WireFormat::MLS_PRIVATE_MESSAGE {
        return Err(GroupError::PublicApplication);
    }
    Ok(Received::Application {
        sender: leaf_index,
        epoch: content.content.epoch,
        authenticated_data: content.content.authenticated_data.as_slice().to_vec(),
        data: data.as_slice().to_vec(),
    })
}

/// `Bytes` of a slice, for callers building messages.
pub(crate) fn bytes(data: &[u8]) -> Bytes {
    Bytes(data.to_vec())
}
