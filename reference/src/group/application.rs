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

#[cfg(test)]
mod tests {
    use super::super::lifecycle_tests::Net;
    use super::super::*;
    use crate::codec::Codec;
    use crate::commit::CommitError;
    use crate::crypto::CipherSuite;
    use crate::framing::{self, FramingError};
    use crate::messages::{MlsMessage, MlsMessageBody, WireFormat};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Member 2's genuine message, and a forgery of it by member 1 (who holds the same
    /// secret tree): the same content and generation of leaf 2's ratchet, encrypted with
    /// the right key, but with a broken signature (sections 6.1 and 6.3).
    fn genuine_and_forged(
        past: bool,
    ) -> Result<(Group, MlsMessage, MlsMessage), Box<dyn std::error::Error>> {
        let mut net = Net::new(
            CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
            5,
            GroupConfig::default(),
        )?;
        net.add_by_value(0, 2, 2, false)?;
        let genuine = net.with(2, |g, rng| g.protect(b"ad", b"data", rng))?;
        let forger = net.get(1)?.clone();
        let MlsMessageBody::PrivateMessage(private) = &genuine.body else {
            return Err("not a PrivateMessage".into());
        };
        let suite = forger.suite();
        let sender_data_secret = &forger.state.group.epoch_secrets.sender_data_secret;
        let (mut content, sender) = framing::unprotect_private(
            &suite,
            private,
            &mut forger.state.secret_tree.clone(),
            sender_data_secret,
            |_| true,
        )?;
        content.auth.signature.0[0] ^= 1;
        assert_eq!(content.wire_format, WireFormat::MLS_PRIVATE_MESSAGE);
        let forged = framing::protect_private(
            &suite,
            &content,
            &mut forger.state.secret_tree.clone(),
            sender_data_secret,
            0,
            sender.reuse_guard,
        )?;
        let forged = MlsMessage {
            version: genuine.version,
            body: MlsMessageBody::PrivateMessage(forged),
        };
        let mut receiver = net.get(1)?.clone();
        if past {
            // Past epochs keep their application keys (section 15.2): same checks there.
            let commit = net.with(0, |g, rng| g.commit(&CommitOptions::default(), rng))?;
            receiver.process_message(&commit.commit)?;
        }
        Ok((receiver, genuine, forged))
    }

    #[test]
    fn a_forged_signature_is_refused_and_burns_no_key() -> TestResult {
        for past in [false, true] {
            let (mut receiver, genuine, forged) = genuine_and_forged(past)?;
            let refused = receiver.process_message_bytes(&forged.to_bytes());
            match (past, refused) {
                (false, Err(GroupError::Commit(CommitError::Framing(e))))
                | (true, Err(GroupError::Framing(e))) => {
                    assert_eq!(e, FramingError::InvalidSignature)
                }
                (_, other) => return Err(format!("past {past}: {other:?}").into()),
            }
            let Received::Application { data, sender, .. } =
                receiver.process_message_bytes(&genuine.to_bytes())?
            else {
                return Err("not application data".into());
            };
            assert_eq!((data.as_slice(), sender.0), (b"data".as_slice(), 2));
            // The key is consumed now (section 9.2): the replay is refused.
            assert!(receiver.process_message_bytes(&genuine.to_bytes()).is_err());
        }
        Ok(())
    }
}
