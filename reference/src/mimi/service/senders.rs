//! The room's `external_senders` (sections 7.4 and 4.3): the hub's own entry stays
//! (MIMI-PROTOCOL-7.4-3), and a follower's leaves with its last participant (7.4-5).

use super::*;

/// The entries of the `external_senders` among `extensions` (none when it is absent).
pub(super) fn senders_of(extensions: &[Extension]) -> Vec<ExternalSender> {
    match Extension::find::<ExternalSenders>(extensions) {
        Ok(Some(senders)) => senders.0,
        _ => Vec::new(),
    }
}

/// The GroupContext extensions a Commit (a PublicMessage) sets by a GroupContextExtensions
/// proposal by value; `None` when it sets none.
pub(super) fn committed_extensions(message: &[u8]) -> Option<Vec<Extension>> {
    let MlsMessageBody::PublicMessage(public) = MlsMessage::from_bytes(message).ok()?.body else {
        return None;
    };
    let ContentBody::Commit(commit) = &public.content.body else {
        return None;
    };
    commit.proposals.iter().rev().find_map(|p| match p {
        ProposalOrRef::Proposal(Proposal::GroupContextExtensions(gce)) => {
            Some(gce.extensions.clone())
        }
        _ => None,
    })
}

impl ProviderService {
    /// Why a Commit of `room` may not be accepted because of `external_senders`: its
    /// participant changes remove the last participant of a follower whose entry (an
    /// ExternalSender whose basic credential names the follower's domain) the room's
    /// `external_senders` keeps after the Commit (MIMI-PROTOCOL-7.4-5; profile choice 7.4-7:
    /// the entry goes by a GroupContextExtensions proposal in that Commit).
    pub(super) fn keeps_departed_follower(
        &self,
        room: &str,
        bundle: &HandshakeBundle,
    ) -> Option<String> {
        if self.faults.keep_departed_follower_senders {
            return None;
        }
        let participants = self.hub.room(room)?.participants();
        let removed: BTreeSet<&str> = bundle
            .participant_changes
            .iter()
            .filter_map(|change| match change {
                ParticipantChange::Remove(user) => Some(user.as_str()),
                ParticipantChange::Add(_) => None,
            })
            .collect();
        let added: Vec<&str> = bundle
            .participant_changes
            .iter()
            .filter_map(|change| match change {
                ParticipantChange::Add(user) => Some(user.as_str()),
                ParticipantChange::Remove(_) => None,
            })
            .collect();
        let remaining: BTreeSet<&str> = participants
            .iter()
            .map(String::as_str)
            .filter(|user| !removed.contains(user))
            .chain(added)
            .filter_map(provider_of)
            .collect();
        let senders = match committed_extensions(&bundle.message) {
            Some(extensions) => senders_of(&extensions),
            None => self.room_senders.get(room).cloned().unwrap_or_default(),
        };
        removed
            .iter()
            .filter_map(|user| provider_of(user))
            .filter(|follower| *follower != self.domain && !remaining.contains(follower))
            .find(|follower| {
                senders.iter().any(|sender| {
                    matches!(&sender.credential, Credential::Basic { identity }
                        if identity.as_slice() == follower.as_bytes())
                })
            })
            .map(|follower| {
                format!(
                    "the Commit removes the last participant of {follower}, whose entry stays in \
                     external_senders: it goes in the same Commit (MIMI-PROTOCOL-7.4-5)"
                )
            })
    }

    /// The hub's `ExternalSender` with the signature key `public`.
    pub(super) fn hub_sender_entry(&self, public: &[u8]) -> ExternalSender {
        ExternalSender {
            signature_key: SignaturePublicKey(Bytes(public.to_vec())),
            credential: Credential::basic(self.domain.as_bytes().to_vec()),
        }
    }

    /// Whether GroupContext `extensions` are acceptable to the hub: with no
    /// `external_senders` at all (clients of the MLSClient interface cannot set one;
    /// profile choice 23) or with one holding the hub's entry (MIMI-PROTOCOL-7.4-3).
    pub(super) fn keeps_hub_sender(&self, extensions: &[Extension]) -> bool {
        if self.faults.allow_hub_sender_removal {
            return true;
        }
        match Extension::find::<ExternalSenders>(extensions) {
            Ok(None) => true,
            Ok(Some(senders)) => senders.0.iter().any(|sender| {
                self.hub_keys
                    .values()
                    .any(|(_, public)| *sender == self.hub_sender_entry(public))
            }),
            Err(_) => false,
        }
    }

    /// Why a Commit may not be accepted because of `external_senders`: one of its
    /// GroupContextExtensions proposals (by value) sets GroupContext extensions without the
    /// hub's entry (MIMI-PROTOCOL-7.4-3). The proposal replaces the extensions as a whole,
    /// so one without `external_senders` drops it too.
    pub(super) fn drops_hub_sender(&self, message: &[u8]) -> Option<String> {
        if self.faults.allow_hub_sender_removal {
            return None;
        }
        let MlsMessageBody::PublicMessage(public) = MlsMessage::from_bytes(message).ok()?.body
        else {
            return None;
        };
        let ContentBody::Commit(commit) = &public.content.body else {
            return None;
        };
        commit.proposals.iter().find_map(|p| match p {
            ProposalOrRef::Proposal(Proposal::GroupContextExtensions(gce))
                if !matches!(
                    Extension::find::<ExternalSenders>(&gce.extensions),
                    Ok(Some(_))
                ) || !self.keeps_hub_sender(&gce.extensions) =>
            {
                Some(format!(
                    "a GroupContextExtensions proposal leaves the hub's entry out of \
                     external_senders ({HUB_SENDER_KEPT})"
                ))
            }
            _ => None,
        })
    }
}
