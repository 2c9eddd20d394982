//! Error classes: what a negative vector expects a conformant client to report, at a
//! granularity every implementation can map its own errors to.
//!
//! A vector names one class for each `reject` case. The reference's typed errors map to
//! classes in one table, [`classify`]; a client under test is judged on reject versus
//! accept (its error text is free-form), and its error is shown beside the class.
//!
//! | class | the check that catches it (RFC 9420) |
//! |---|---|
//! | `decode` | the bytes are not a well-formed structure (2.1, 6, 12.4.3.3): truncated, trailing bytes, non-minimal varint, unknown enum value |
//! | `group-id` | the message is for another group (6) |
//! | `epoch` | the message's epoch is not the current one (handshake, 12.4.2) or not current and not retained (application, 6.3.2) |
//! | `content-type` | content that must not appear in this framing: application data in a PublicMessage (6), a sender type carrying the wrong content (6.1) |
//! | `sender` | the sender is not a member (6.1, 6.3.2), or an external sender the group does not list (12.1.8) |
//! | `signature` | the FramedContentTBS signature does not verify with the sender's key (6.1) |
//! | `membership-tag` | the PublicMessage membership tag is missing or wrong (6.2) |
//! | `decryption` | a PrivateMessage's sender data or content does not decrypt (6.3) |
//! | `generation` | the sender ratchet refuses the generation: already used (replay), or too far ahead (9.2, 15.3) |
//! | `confirmation-tag` | a commit's or a GroupInfo's confirmation tag does not match (12.4.2, 12.4.3.1) |
//! | `proposal-list` | the commit's proposal list breaks a rule of 12.2 or a proposal's own rule of 12.1 |
//! | `update-path` | the commit lacks a required path, or its UpdatePath does not merge or decrypt (7.5, 7.6, 12.4.2) |
//! | `key-package` | a KeyPackage fails validation (10.1) |
//! | `leaf-node` | a LeafNode fails validation (7.3): signature, source, extensions not in capabilities |
//! | `parent-hash` | a parent hash does not verify (7.9.2) |
//! | `tree-hash` | the tree hash differs from the GroupContext's (12.4.3.1) |
//! | `tree-validation` | any other ratchet tree check of 12.4.3.1: unmerged leaves, unique keys, shape |
//! | `psk` | a PSK is unknown or used against the rules (8.4, 12.1.4, 12.4.3.1) |
//! | `welcome` | a Welcome check of 12.4.3.1 other than the signature and tag: GroupSecrets, suite, own leaf, path secret |
//! | `group-info` | the GroupInfo names a blank signer (12.4.3.1) |
//! | `group-info-signature` | the GroupInfo signature does not verify (12.4.3.1, 12.4.3.2) |
//! | `external-commit` | an external commit or external join breaks a rule of 12.2 or 12.4.3.2 |
//! | `crypto` | a key or signature does not decode for the suite (5.1) |
//! | `state` | the receiver's state refuses the operation (e.g. the group is no longer active) |

use concord_reference::codec::DecodeError;
use concord_reference::commit::CommitError;
use concord_reference::framing::FramingError;
use concord_reference::group::GroupError;
use concord_reference::join::JoinError;
use concord_reference::ratchet_tree::{TreeError, TreeValidationError};
use concord_reference::secret_tree::SecretTreeError;
use concord_reference::treekem::TreeKemError;
use concord_reference::welcome::WelcomeError;
use serde::{Deserialize, Serialize};

/// The class of a rejection (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorClass {
    Decode,
    GroupId,
    Epoch,
    ContentType,
    Sender,
    Signature,
    MembershipTag,
    Decryption,
    Generation,
    ConfirmationTag,
    ProposalList,
    UpdatePath,
    KeyPackage,
    LeafNode,
    ParentHash,
    TreeHash,
    TreeValidation,
    Psk,
    Welcome,
    GroupInfo,
    GroupInfoSignature,
    ExternalCommit,
    Crypto,
    State,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 24] = [
        ErrorClass::Decode,
        ErrorClass::GroupId,
        ErrorClass::Epoch,
        ErrorClass::ContentType,
        ErrorClass::Sender,
        ErrorClass::Signature,
        ErrorClass::MembershipTag,
        ErrorClass::Decryption,
        ErrorClass::Generation,
        ErrorClass::ConfirmationTag,
        ErrorClass::ProposalList,
        ErrorClass::UpdatePath,
        ErrorClass::KeyPackage,
        ErrorClass::LeafNode,
        ErrorClass::ParentHash,
        ErrorClass::TreeHash,
        ErrorClass::TreeValidation,
        ErrorClass::Psk,
        ErrorClass::Welcome,
        ErrorClass::GroupInfo,
        ErrorClass::GroupInfoSignature,
        ErrorClass::ExternalCommit,
        ErrorClass::Crypto,
        ErrorClass::State,
    ];

    /// The name vector files use.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Decode => "decode",
            ErrorClass::GroupId => "group-id",
            ErrorClass::Epoch => "epoch",
            ErrorClass::ContentType => "content-type",
            ErrorClass::Sender => "sender",
            ErrorClass::Signature => "signature",
            ErrorClass::MembershipTag => "membership-tag",
            ErrorClass::Decryption => "decryption",
            ErrorClass::Generation => "generation",
            ErrorClass::ConfirmationTag => "confirmation-tag",
            ErrorClass::ProposalList => "proposal-list",
            ErrorClass::UpdatePath => "update-path",
            ErrorClass::KeyPackage => "key-package",
            ErrorClass::LeafNode => "leaf-node",
            ErrorClass::ParentHash => "parent-hash",
            ErrorClass::TreeHash => "tree-hash",
            ErrorClass::TreeValidation => "tree-validation",
            ErrorClass::Psk => "psk",
            ErrorClass::Welcome => "welcome",
            ErrorClass::GroupInfo => "group-info",
            ErrorClass::GroupInfoSignature => "group-info-signature",
            ErrorClass::ExternalCommit => "external-commit",
            ErrorClass::Crypto => "crypto",
            ErrorClass::State => "state",
        }
    }
}

impl ErrorClass {
    /// The class a client's free-text error most likely names, from words implementations
    /// use in their error messages (`None` when nothing matches). More specific phrases are
    /// tried first: "group info signature" before "signature".
    pub fn from_text(text: &str) -> Option<ErrorClass> {
        let text: String = text
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
            .collect();
        let squeezed: String = text.split_whitespace().collect();
        const TABLE: &[(&[&str], ErrorClass)] = &[
            (
                &["groupinfosignature", "groupinfoverif"],
                ErrorClass::GroupInfoSignature,
            ),
            (&["membershiptag"], ErrorClass::MembershipTag),
            (
                &["confirmationtag", "confirmation"],
                ErrorClass::ConfirmationTag,
            ),
            (&["parenthash"], ErrorClass::ParentHash),
            (&["treehash"], ErrorClass::TreeHash),
            (
                &["externalcommit", "externaljoin", "externalinit"],
                ErrorClass::ExternalCommit,
            ),
            (
                &["updatepath", "pathsecret", "commitsecret"],
                ErrorClass::UpdatePath,
            ),
            (&["keypackage"], ErrorClass::KeyPackage),
            (&["leafnode", "capabilit", "lifetime"], ErrorClass::LeafNode),
            (
                &["unmerged", "ratchettree", "treevalid", "blank"],
                ErrorClass::TreeValidation,
            ),
            (&["psk", "presharedkey"], ErrorClass::Psk),
            (&["groupid"], ErrorClass::GroupId),
            (&["epoch"], ErrorClass::Epoch),
            (
                &["generation", "replay", "ratchet", "secrettree"],
                ErrorClass::Generation,
            ),
            (&["decrypt", "aead", "ciphertext"], ErrorClass::Decryption),
            (&["signature", "verif"], ErrorClass::Signature),
            (&["contenttype", "wireformat"], ErrorClass::ContentType),
            (
                &["sender", "notamember", "unknownmember"],
                ErrorClass::Sender,
            ),
            (&["proposal", "duplicate"], ErrorClass::ProposalList),
            (&["groupinfo"], ErrorClass::GroupInfo),
            (&["welcome", "groupsecrets"], ErrorClass::Welcome),
            (
                &[
                    "decode",
                    "deserializ",
                    "codec",
                    "malformed",
                    "truncat",
                    "endofbuffer",
                    "trailing",
                    "varint",
                    "length",
                ],
                ErrorClass::Decode,
            ),
            (
                &["publickey", "invalidkey", "hpke", "curve"],
                ErrorClass::Crypto,
            ),
            (&["inactive", "nolonger", "state"], ErrorClass::State),
        ];
        TABLE
            .iter()
            .find(|(words, _)| words.iter().any(|word| squeezed.contains(word)))
            .map(|(_, class)| *class)
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a reference error: the one table from typed errors to classes.
pub fn classify(error: &GroupError) -> ErrorClass {
    use ErrorClass as C;
    match error {
        GroupError::Commit(e) => commit(e),
        GroupError::Join(e) => join(e),
        GroupError::Framing(e) => framing(e),
        GroupError::Crypto(_) => C::Crypto,
        GroupError::Tree(e) => tree(e),
        GroupError::TreeKem(e) => tree_kem(e),
        GroupError::TreeValidation(e) => tree_validation(e),
        GroupError::Welcome(e) => welcome(e),
        GroupError::Decode(_) => C::Decode,
        GroupError::Inactive
        | GroupError::CommitPending
        | GroupError::NoPendingCommit
        | GroupError::UnknownMember(_)
        | GroupError::NoReInit
        | GroupError::WrongMessage(_) => C::State,
        GroupError::UnknownPsk(_) => C::Psk,
        GroupError::EpochNotRetained(_) => C::Epoch,
        GroupError::MissingExternalPub | GroupError::NoPriorLeaf => C::ExternalCommit,
        GroupError::UnknownProposal => C::ProposalList,
        GroupError::PublicApplication => C::ContentType,
        GroupError::ReInitMismatch(_) | GroupError::BranchMismatch(_) => C::Welcome,
    }
}

fn commit(error: &CommitError) -> ErrorClass {
    use CommitError as E;
    use ErrorClass as C;
    match error {
        E::Framing(e) => framing(e),
        E::Crypto(_) => C::Crypto,
        E::Tree(e) => tree(e),
        E::TreeKem(e) => tree_kem(e),
        E::NotHandshake | E::WrongContentType { .. } => C::ContentType,
        E::WrongGroup => C::GroupId,
        E::WrongEpoch { .. } => C::Epoch,
        E::SenderNotMember(_)
        | E::UnsupportedSender(_)
        | E::UnknownExternalSender(_)
        | E::ExternalProposalType(_)
        | E::NewMemberProposalNotAdd => C::Sender,
        E::UnknownProposalRef(_)
        | E::CommitterUpdate
        | E::CommitterRemoved
        | E::DuplicateLeafChange(_)
        | E::BlankTarget(_)
        | E::DuplicatePsk
        | E::MultipleGroupContextExtensions
        | E::ReInitNotAlone
        | E::InvalidExternalInit
        | E::DuplicateAdd
        | E::ReservedPskUsage
        | E::OwnLeafChanged(_)
        | E::RequiredCapabilityUnsupported { .. }
        | E::GroupContextExtensionUnsupported { .. }
        | E::ReInitVersionDowngrade { .. }
        | E::GroupContextExtensionRepeated(_) => C::ProposalList,
        E::AddCipherSuite(_)
        | E::KeyPackageSignature
        | E::KeyPackageLeaf(_)
        | E::KeyPackageInitKeyReused
        | E::KeyPackageVersion(_)
        | E::KeyPackageLifetime { .. }
        | E::KeyPackageExtensionNotInCapabilities(_)
        | E::KeyPackageExtensionRepeated(_) => C::KeyPackage,
        E::UpdateLeaf { .. } | E::DefaultTypeListed { .. } => C::LeafNode,
        E::MissingExternalInit
        | E::ExternalCommitProposal(_)
        | E::ExternalCommitRemoves(_)
        | E::ExternalRemoveIdentity(_) => C::ExternalCommit,
        E::MissingPath => C::UpdatePath,
        E::UnknownPsk(_) | E::PskNonceLength { .. } => C::Psk,
        E::ConfirmationTag | E::MissingConfirmationTag => C::ConfirmationTag,
    }
}

fn framing(error: &FramingError) -> ErrorClass {
    use ErrorClass as C;
    use FramingError as E;
    match error {
        E::Decode(_) => C::Decode,
        E::Crypto(_) => C::Crypto,
        E::SecretTree(e) => secret_tree(e),
        E::InvalidSignature => C::Signature,
        E::MissingMembershipTag | E::InvalidMembershipTag => C::MembershipTag,
        E::SenderDataDecryption | E::ContentDecryption { .. } => C::Decryption,
        E::SenderNotMember { .. } | E::PrivateSenderNotMember(_) => C::Sender,
        E::MissingGroupContext => C::State,
        E::ConfirmationTagMismatch { .. } => C::ContentType,
    }
}

fn secret_tree(error: &SecretTreeError) -> ErrorClass {
    match error {
        SecretTreeError::LeafOutOfRange { .. } => ErrorClass::Sender,
        SecretTreeError::Crypto(_) => ErrorClass::Crypto,
        SecretTreeError::GenerationTooFarAhead { .. }
        | SecretTreeError::GenerationConsumed { .. }
        | SecretTreeError::RatchetExhausted { .. } => ErrorClass::Generation,
    }
}

fn tree(error: &TreeError) -> ErrorClass {
    match error {
        // A proposal naming a leaf that is blank or outside the tree (12.1.3, 12.2).
        TreeError::LeafOutOfRange(_) | TreeError::BlankLeaf(_) => ErrorClass::ProposalList,
        TreeError::ParentAtLeafPosition(_)
        | TreeError::LeafAtParentPosition(_)
        | TreeError::EvenNodeCount(_)
        | TreeError::TooLarge
        | TreeError::Empty => ErrorClass::TreeValidation,
    }
}

fn tree_kem(error: &TreeKemError) -> ErrorClass {
    use ErrorClass as C;
    use TreeKemError as E;
    match error {
        E::Tree(e) => tree(e),
        E::Crypto(_) => C::UpdatePath,
        E::SenderBlank(_) => C::Sender,
        E::LeafSourceNotCommit | E::LeafSignature | E::LeafEncryptionKeyUnchanged => C::LeafNode,
        E::PathKeyNotUnique { .. } => C::TreeValidation,
        E::ParentHashMismatch => C::ParentHash,
        E::PathLength { .. }
        | E::CiphertextCount { .. }
        | E::NotAReceiver(_)
        | E::NoPrivateKey(_)
        | E::PublicKeyMismatch(_) => C::UpdatePath,
    }
}

fn tree_validation(error: &TreeValidationError) -> ErrorClass {
    use ErrorClass as C;
    use TreeValidationError as E;
    match error {
        E::TreeHashMismatch => C::TreeHash,
        E::ParentHash(_) => C::ParentHash,
        E::LifetimeNotValid { .. }
        | E::LifetimesDisjoint
        | E::LeafSignature(_)
        | E::LeafExtensionNotInCapabilities { .. }
        | E::DefaultTypeListed { .. } => C::LeafNode,
        E::DuplicateSignatureKey { .. }
        | E::DuplicateEncryptionKey { .. }
        | E::UnmergedLeavesNotSorted(_)
        | E::UnmergedLeafNotDescendant { .. }
        | E::UnmergedLeafMissingBelow { .. } => C::TreeValidation,
    }
}

fn welcome(error: &WelcomeError) -> ErrorClass {
    use ErrorClass as C;
    use WelcomeError as E;
    match error {
        E::Decode(_) => C::Decode,
        E::Crypto(_) => C::Crypto,
        E::CipherSuiteMismatch { .. }
        | E::NotForThisKeyPackage
        | E::GroupSecretsDecryption
        | E::GroupInfoDecryption => C::Welcome,
        E::UnknownPsk(_) => C::Psk,
        E::InvalidGroupInfoSignature => C::GroupInfoSignature,
        E::ConfirmationTagMismatch => C::ConfirmationTag,
    }
}

fn join(error: &JoinError) -> ErrorClass {
    use ErrorClass as C;
    use JoinError as E;
    match error {
        E::Welcome(e) => welcome(e),
        E::Crypto(_) => C::Crypto,
        E::Decode(e) => decode(e),
        E::Tree(e) => tree(e),
        E::TreeValidation(e) => tree_validation(e),
        E::MissingRatchetTree | E::ConflictingRatchetTrees => C::TreeValidation,
        E::SignerBlank(_) | E::ExtensionRepeated { .. } => C::GroupInfo,
        E::InitKeyMismatch
        | E::CipherSuiteMismatch { .. }
        | E::OwnLeafNotFound
        | E::EncryptionKeyMismatch(_)
        | E::SignatureKeyMismatch(_)
        | E::PathSecretFromOwnLeaf(_)
        | E::PathKeyMismatch(_)
        | E::UnsupportedGroupContextExtension(_) => C::Welcome,
        E::MultipleReinitOrBranchPsks(_) | E::ReinitOrBranchEpoch(_) => C::Psk,
    }
}

fn decode(_: &DecodeError) -> ErrorClass {
    ErrorClass::Decode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for class in ErrorClass::ALL {
            let json = serde_json::to_string(&class).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", class.as_str()));
            let back: Result<ErrorClass, _> = serde_json::from_str(&json);
            assert_eq!(back.ok(), Some(class));
        }
    }

    #[test]
    fn distinct_rules_get_distinct_classes() {
        assert_eq!(
            classify(&GroupError::Commit(CommitError::ConfirmationTag)),
            ErrorClass::ConfirmationTag
        );
        assert_eq!(
            classify(&GroupError::Commit(CommitError::Framing(
                FramingError::InvalidMembershipTag
            ))),
            ErrorClass::MembershipTag
        );
        assert_eq!(
            classify(&GroupError::Join(JoinError::TreeValidation(
                TreeValidationError::TreeHashMismatch
            ))),
            ErrorClass::TreeHash
        );
    }
}
