//! Application messages (RFC 9420 section 6.3): always PrivateMessage, keyed by the
//! application ratchets of the secret tree (section 9), readable for a configurable
//! number of past epochs (section 15.2) within the out-of-order bounds of
//! [`crate::secret_tree::RatchetPolicy`].

use crate::framing;
use crate::messages::{ContentBody, MlsMessage, PrivateMessage};

use super::receive::{Received, bytes};
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

    /// Reads an application message of a retained past epoch.
    pub(crate) fn open_past_application(
        &mut self,
        message: &PrivateMessage,
    ) -> Result<Received, GroupError> {
        let suite = self.suite();
        let past = self
            .past
            .iter_mut()
            .find(|p| p.context.epoch == message.epoch)
            .ok_or(GroupError::EpochNotRetained(message.epoch))?;
        let mut secret_tree = past.secret_tree.clone();
        let tree = &past.tree;
        let (content, sender) = framing::unprotect_private(
            &suite,
            message,
            &mut secret_tree,
            &past.sender_data_secret,
            |leaf| tree.leaf(leaf).is_some(),
        )?;
        let ContentBody::Application {
            application_data: data,
        } = &content.content.body
        else {
            // Handshake messages are only accepted in their own epoch (section 6).
            return Err(GroupError::EpochNotRetained(message.epoch));
        };
        let key = tree
            .leaf(sender.leaf_index)
            .ok_or(framing::FramingError::SenderNotMember {
                leaf: sender.leaf_index.0,
            })?
            .signature_key
            .clone();
        framing::verify_signature(&suite, key.as_slice(), &content, &past.context)?;
        past.secret_tree = secret_tree;
        Ok(Received::Application {
            sender: sender.leaf_index,
            epoch: message.epoch,
            authenticated_data: content.content.authenticated_data.as_slice().to_vec(),
            data: data.as_slice().to_vec(),
        })
    }
}
