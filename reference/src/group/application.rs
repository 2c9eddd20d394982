//! Application messages (RFC 9420 section 6.3): always PrivateMessage, keyed by the
//! application ratchets of the secret tree (section 9), readable for a configurable
//! number of past epochs (section 15.2) within the out-of-order bounds of
//! [`crate::secret_tree::RatchetPolicy`].

use crate::commit::CommitError;
use crate::framing;
use crate::messages::{ContentBody, MlsMessage, PrivateMessage};

use super::receive::{Received, application, bytes};
use super::{Group, GroupError};

impl Group {
    /// Encrypts `plaintext` for the group with `authenticated_data` in the clear.
    pub fn protect(
        &mut self,
        authenticated_data: &[u8],
        plaintext: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<MlsMessage, GroupError> {
        self.check_active()?;
        let (message, _) = self.frame(
            ContentBody::Application {
                application_data: bytes(plaintext),
            },
            authenticated_data,
            true,
            rng,
        )?;
        Ok(message)
    }

    /// Reads an application message (a PrivateMessage of content type application) of
    /// the current epoch or of a retained past one. Work and allocation per message do
    /// not grow with the group: the only state a message changes is one sender ratchet of
    /// its epoch's secret tree (section 9: a consumed key is deleted), and a message that
    /// fails a later check (signature, content) puts that ratchet back as it was, so the
    /// tree is never copied. Errors of the current epoch come wrapped as the handshake
    /// path's are ([`crate::commit::CommitError::Framing`]); those of a past epoch bare.
    pub(crate) fn open_application(
        &mut self,
        message: &PrivateMessage,
    ) -> Result<Received, GroupError> {
        let suite = self.suite();
        let current = message.epoch == self.epoch();
        let (context, tree, secret_tree, sender_data_secret) = if current {
            let state = &mut self.state;
            (
                &state.group.group_context,
                &state.group.tree,
                &mut state.secret_tree,
                state.group.epoch_secrets.sender_data_secret.as_slice(),
            )
        } else {
            let past = self
                .past
                .iter_mut()
                .find(|p| p.context.epoch == message.epoch)
                .ok_or(GroupError::EpochNotRetained(message.epoch))?;
            (
                &past.context,
                &past.tree,
                &mut past.secret_tree,
                past.sender_data_secret.as_slice(),
            )
        };
        let wrap = |e: framing::FramingError| -> GroupError {
            if current {
                CommitError::Framing(e).into()
            } else {
                e.into()
            }
        };
        // Section 6.3.2: sender data names a member's leaf, generation within the
        // ratchet's bounds and not consumed; section 6.3.1: the content decrypts with
        // that generation's key and the reuse guard.
        let (content, sender, undo) = framing::unprotect_private_undoable(
            &suite,
            message,
            secret_tree,
            sender_data_secret,
            |leaf| tree.leaf(leaf).is_some(),
        )
        .map_err(wrap)?;
        if !matches!(content.content.body, ContentBody::Application { .. }) {
            secret_tree.undo(undo);
            // Handshake messages are only accepted in their own epoch (section 6); the
            // content type of this one said application.
            return Err(if current {
                GroupError::WrongMessage("application message")
            } else {
                GroupError::EpochNotRetained(message.epoch)
            });
        }
        // Section 6.1: the signature under the sender leaf's key, over the epoch's context.
        let Some(leaf) = tree.leaf(sender.leaf_index) else {
            secret_tree.undo(undo);
            return Err(wrap(framing::FramingError::SenderNotMember {
                leaf: sender.leaf_index.0,
            }));
        };
        if let Err(e) =
            framing::verify_signature(&suite, leaf.signature_key.as_slice(), &content, context)
        {
            secret_tree.undo(undo);
            return Err(wrap(e));
        }
        application(&content)
    }
}
