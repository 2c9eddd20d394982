//! Which requirement of the catalog (`spec/catalog`, IDs such as `RFC9420-12.2-5`) each
//! typed validation error enforces.
//!
//! ```text
//! GroupError ─┬─ CommitError ─┬─ FramingError ─┬─ DecodeError
//!             │               │                ├─ CryptoError
//!             │               │                └─ SecretTreeError
//!             │               ├─ TreeError, TreeKemError
//!             ├─ JoinError ───┼─ WelcomeError
//!             │               └─ TreeValidationError ── ParentHashError
//!             └─ ...          error.requirements() ──> &["RFC9420-...", ...]
//! ```
//!
//! Every error enum a peer's bad input can produce implements [`Requirement`] here, with an
//! exhaustive match: a new variant does not compile until it names the check it stands
//! for. A variant that wraps another error delegates to it; a variant that only a caller's
//! misuse of the API produces (not a peer) names no requirement and says so. Each enum's
//! [`Requirement::CITATIONS`] lists its variants with their IDs, so the harness can count
//! the reference's checks in its coverage (`concord catalog check`).

use crate::codec::DecodeError;
use crate::commit::{CommitError, leaf_reason};
use crate::crypto::CryptoError;
use crate::framing::FramingError;
use crate::group::GroupError;
use crate::join::JoinError;
use crate::ratchet_tree::{ParentHashError, TreeError, TreeValidationError};
use crate::secret_tree::SecretTreeError;
use crate::treekem::TreeKemError;
use crate::welcome::WelcomeError;

/// One variant (as its match pattern reads) and the requirement IDs of the check that
/// raises it; empty when only a caller's misuse of the API produces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCitation {
    pub error: &'static str,
    pub requirements: &'static [&'static str],
}

/// An error that names the requirements whose check raised it.
pub trait Requirement {
    /// Every variant that is not a wrapper of another error, with its IDs.
    const CITATIONS: &'static [ErrorCitation];

    /// The catalog IDs of the check that raised this error; for a wrapper, those of the
    /// wrapped error. Empty for API misuse.
    fn requirements(&self) -> &'static [&'static str];
}

/// `cite!(Enum, wraps { pattern => inner, ... } checks { pattern => [IDs], ... })`:
/// one exhaustive match for [`Requirement::requirements`] and the citation table.
macro_rules! cite {
    (
        $error:ty,
        wraps { $($wrap:pat => $inner:ident),* $(,)? }
        checks { $($pat:pat => [$($id:literal),* $(,)?]),* $(,)? }
    ) => {
        impl Requirement for $error {
            const CITATIONS: &'static [ErrorCitation] = &[
                $(ErrorCitation { error: stringify!($pat), requirements: &[$($id),*] }),*
            ];

            fn requirements(&self) -> &'static [&'static str] {
                match self {
                    $($wrap => Requirement::requirements($inner),)*
                    $($pat => &[$($id),*],)*
                }
            }
        }
    };
}

cite!(DecodeError, wraps {} checks {
    // Truncated input, a length prefix past the end, trailing bytes: the value is not the
    // TLS presentation language structure (section 2.1) the field declares.
    DecodeError::UnexpectedEnd { .. } => ["RFC9420-2.1.2-1"],
    DecodeError::VarintReservedPrefix { .. } => ["RFC9420-2.1.2-2"],
    DecodeError::VarintNotMinimal { .. } => ["RFC9420-2.1.2-1"],
    DecodeError::LengthPastEnd { .. } => ["RFC9420-2.1.2-1"],
    DecodeError::TrailingBytes { .. } => ["RFC9420-2.1.2-1"],
    DecodeError::InvalidOptionalPresence { .. } => ["RFC9420-2.1.1-1"],
    DecodeError::InvalidValue { .. } => ["RFC9420-2.1.2-1"],
    DecodeError::Malformed { .. } => ["RFC9420-2.1.2-3"],
});

cite!(CryptoError, wraps {} checks {
    CryptoError::UnsupportedCipherSuite(_) => ["RFC9420-12.4.3.1-8", "RFC9420-10.1-3"],
    CryptoError::InvalidPublicKey { .. } => ["RFC9420-5.1.1-1", "RFC9420-10-3"],
    CryptoError::InvalidPrivateKey { .. } => ["RFC9420-12.4.3.1-5"],
    CryptoError::InvalidSignatureEncoding => ["RFC9420-5.1.2-3"],
    CryptoError::SignatureVerificationFailed => ["RFC9420-5.1.2-1"],
    CryptoError::AeadOpenFailed => ["RFC9420-6.3.1-1", "RFC9420-6.3.2-1"],
    CryptoError::InvalidKeyLength { .. } => ["RFC9420-5.1.3-1"],
    CryptoError::DhOutputAllZero => ["RFC9420-5.1.3-1"],
    CryptoError::KdfOutputTooLong { .. } => ["RFC9420-8-1"],
    CryptoError::DeriveKeyPairFailed => ["RFC9420-7.4-1"],
});

cite!(SecretTreeError, wraps { SecretTreeError::Crypto(e) => e } checks {
    SecretTreeError::LeafOutOfRange { .. } => ["RFC9420-6.3.2-2"],
    SecretTreeError::GenerationTooFarAhead { .. } => ["RFC9420-15.3-3"],
    SecretTreeError::GenerationConsumed { .. } => ["RFC9420-9.2-1", "RFC9420-9.1-2"],
    SecretTreeError::RatchetExhausted { .. } => ["RFC9420-9.1-1"],
});

cite!(FramingError, wraps {
    FramingError::Decode(e) => e,
    FramingError::Crypto(e) => e,
    FramingError::SecretTree(e) => e,
} checks {
    FramingError::InvalidSignature => ["RFC9420-6.1-1"],
    FramingError::MissingMembershipTag => ["RFC9420-6.2-1"],
    FramingError::InvalidMembershipTag => ["RFC9420-6.2-1", "RFC9420-12.4.2-3"],
    FramingError::SenderDataDecryption => ["RFC9420-6.3.2-1"],
    FramingError::ContentDecryption { .. } => ["RFC9420-6.3.1-1"],
    // Only the API asks for a TBS without the context it needs.
    FramingError::MissingGroupContext => [],
    FramingError::SenderNotMember { .. } => ["RFC9420-6.3.2-2"],
    FramingError::PrivateSenderNotMember(_) => ["RFC9420-6.3.2-3"],
    FramingError::ConfirmationTagMismatch { .. } => ["RFC9420-6.1-13"],
});

cite!(TreeError, wraps {} checks {
    TreeError::ParentAtLeafPosition(_) => ["RFC9420-12.4.3.3-4"],
    TreeError::LeafAtParentPosition(_) => ["RFC9420-12.4.3.3-4"],
    TreeError::EvenNodeCount(_) => ["RFC9420-12.4.3.3-3"],
    TreeError::TooLarge => ["RFC9420-2.1.2-3"],
    TreeError::Empty => ["RFC9420-12.4.3.3-2"],
    TreeError::LeafOutOfRange(_) => ["RFC9420-12.1.3-2"],
    TreeError::BlankLeaf(_) => ["RFC9420-12.1.3-2"],
});

cite!(ParentHashError, wraps {} checks {
    ParentHashError::NotParentHashValid(_) => ["RFC9420-7.9.2-1", "RFC9420-12.4.3.1-17"],
    ParentHashError::Ambiguous { .. } => ["RFC9420-7.9.2-5"],
});

cite!(TreeValidationError, wraps { TreeValidationError::ParentHash(e) => e } checks {
    TreeValidationError::TreeHashMismatch => ["RFC9420-12.4.3.1-16", "RFC9420-12.4.3.3-6"],
    TreeValidationError::LifetimeNotValid { .. } => ["RFC9420-7.3-2"],
    TreeValidationError::LifetimesDisjoint => ["RFC9420-7.3-2"],
    TreeValidationError::LeafSignature(_) => ["RFC9420-7.3-7", "RFC9420-12.4.3.1-18"],
    TreeValidationError::LeafExtensionNotInCapabilities { .. } => [
        "RFC9420-7.3-12",
        "RFC9420-12.4.3.1-18",
    ],
    TreeValidationError::DefaultTypeListed { .. } => ["RFC9420-7.2-1"],
    TreeValidationError::DuplicateSignatureKey { .. } => ["RFC9420-7.3-16", "RFC9420-16.7-1"],
    TreeValidationError::DuplicateEncryptionKey { .. } => [
        "RFC9420-7.3-17",
        "RFC9420-12.4.3.1-21",
        "RFC9420-16.7-1",
    ],
    TreeValidationError::UnmergedLeavesNotSorted(_) => ["RFC9420-7.1-1"],
    TreeValidationError::UnmergedLeafNotDescendant { .. } => ["RFC9420-12.4.3.1-19"],
    TreeValidationError::UnmergedLeafMissingBelow { .. } => ["RFC9420-12.4.3.1-20"],
});

cite!(TreeKemError, wraps {
    TreeKemError::Tree(e) => e,
    TreeKemError::Crypto(e) => e,
} checks {
    TreeKemError::SenderBlank(_) => ["RFC9420-6.1-3"],
    TreeKemError::LeafSourceNotCommit => ["RFC9420-7.3-15", "RFC9420-12.4.2-12"],
    TreeKemError::LeafSignature => ["RFC9420-7.3-7", "RFC9420-12.4.2-12"],
    TreeKemError::PathLength { .. } => ["RFC9420-7.6-2"],
    TreeKemError::ParentHashMismatch => ["RFC9420-7.5-6", "RFC9420-7.9.2-1"],
    TreeKemError::CiphertextCount { .. } => ["RFC9420-7.6-4"],
    TreeKemError::NotAReceiver(_) => ["RFC9420-7.6-1"],
    TreeKemError::NoPrivateKey(_) => ["RFC9420-7.6-1"],
    TreeKemError::PublicKeyMismatch(_) => ["RFC9420-7.5-1"],
    TreeKemError::LeafEncryptionKeyUnchanged => ["RFC9420-12.4.2-13"],
    TreeKemError::PathKeyNotUnique { .. } => ["RFC9420-12.4.2-14"],
});

cite!(WelcomeError, wraps {
    WelcomeError::Decode(e) => e,
    WelcomeError::Crypto(e) => e,
} checks {
    WelcomeError::CipherSuiteMismatch { .. } => ["RFC9420-12.4.3.1-8"],
    WelcomeError::NotForThisKeyPackage => ["RFC9420-12.4.3.1-7"],
    WelcomeError::GroupSecretsDecryption => ["RFC9420-12.4.3.1-1", "RFC9420-12.4.3.1-9"],
    WelcomeError::GroupInfoDecryption => ["RFC9420-12.4.3.1-1", "RFC9420-12.4.3.1-12"],
    WelcomeError::UnknownPsk(_) => ["RFC9420-12.4.3.1-10"],
    WelcomeError::InvalidGroupInfoSignature => ["RFC9420-12.4.3.1-2", "RFC9420-12.4.3-5"],
    WelcomeError::ConfirmationTagMismatch => ["RFC9420-12.4.3.1-3"],
});

cite!(JoinError, wraps {
    JoinError::Welcome(e) => e,
    JoinError::Crypto(e) => e,
    JoinError::Decode(e) => e,
    JoinError::Tree(e) => e,
    JoinError::TreeValidation(e) => e,
} checks {
    JoinError::InitKeyMismatch => ["RFC9420-12.4.3.1-1"],
    JoinError::MissingRatchetTree => ["RFC9420-12.4.3.1-6"],
    JoinError::ConflictingRatchetTrees => ["RFC9420-12.4.3.1-16"],
    JoinError::SignerBlank(_) => ["RFC9420-12.4.3.1-13"],
    JoinError::CipherSuiteMismatch { .. } => ["RFC9420-12.4.3.1-15"],
    JoinError::OwnLeafNotFound => ["RFC9420-12.4.3.1-22"],
    JoinError::EncryptionKeyMismatch(_) => ["RFC9420-12.4.3.1-5"],
    JoinError::SignatureKeyMismatch(_) => ["RFC9420-12.4.3.1-5"],
    JoinError::PathSecretFromOwnLeaf(_) => ["RFC9420-12.4.3.1-5"],
    JoinError::PathKeyMismatch(_) => ["RFC9420-12.4.3.1-5"],
    JoinError::MultipleReinitOrBranchPsks(_) => ["RFC9420-12.4.3.1-11"],
    JoinError::UnsupportedGroupContextExtension(_) => [
        "RFC9420-12.4.3-3",
        "RFC9420-13.4-7",
        "RFC9420-13.4-8",
        "RFC9420-13.5-12",
    ],
    JoinError::ExtensionRepeated { .. } => ["RFC9420-13.4-4"],
    JoinError::ReinitOrBranchEpoch(_) => [
        "RFC9420-12.4.3.1-26",
        "RFC9420-11.2-2",
        "RFC9420-11.3-3",
    ],
});

cite!(CommitError, wraps {
    CommitError::Framing(e) => e,
    CommitError::Crypto(e) => e,
    CommitError::Tree(e) => e,
    CommitError::TreeKem(e) => e,
} checks {
    // The message is not handshake content at all: nothing to process as a proposal or
    // commit (section 6, the framing of handshake messages).
    CommitError::NotHandshake => ["RFC9420-6-1"],
    CommitError::WrongGroup => ["RFC9420-6.1-12"],
    CommitError::WrongEpoch { .. } => ["RFC9420-12.4.2-2", "RFC9420-12.1-2"],
    CommitError::WrongContentType { .. } => ["RFC9420-6.1-5", "RFC9420-6.1-8"],
    CommitError::SenderNotMember(_) => ["RFC9420-6.1-3"],
    CommitError::UnsupportedSender(_) => ["RFC9420-12.1.8-1"],
    CommitError::UnknownProposalRef(_) => ["RFC9420-12.4.2-1"],
    CommitError::CommitterUpdate => ["RFC9420-12.2-5"],
    CommitError::CommitterRemoved => ["RFC9420-12.2-6"],
    CommitError::DuplicateLeafChange(_) => ["RFC9420-12.2-7"],
    CommitError::BlankTarget(_) => ["RFC9420-12.1.3-2"],
    CommitError::DuplicatePsk => ["RFC9420-12.2-11"],
    CommitError::MultipleGroupContextExtensions => ["RFC9420-12.2-12"],
    CommitError::ReInitNotAlone => ["RFC9420-12.2-13"],
    CommitError::InvalidExternalInit => ["RFC9420-12.2-15", "RFC9420-12.1.6-1"],
    CommitError::MissingExternalInit => ["RFC9420-12.2-18"],
    CommitError::ExternalCommitProposal(_) => ["RFC9420-12.2-22", "RFC9420-12.4.3.2-2"],
    CommitError::DuplicateAdd => ["RFC9420-12.2-9", "RFC9420-12.2-10"],
    CommitError::AddCipherSuite(_) => ["RFC9420-10.1-3"],
    CommitError::MissingPath => ["RFC9420-12.4-7", "RFC9420-12.4.2-9"],
    // This member cannot follow a commit that changes its own leaf to a key it does not
    // hold: its Update was not the one committed (section 12.1.2).
    CommitError::OwnLeafChanged(_) => ["RFC9420-12.1.2-2"],
    CommitError::UnknownPsk(_) => ["RFC9420-12.4.2-7"],
    CommitError::ConfirmationTag => ["RFC9420-12.4.2-20"],
    CommitError::UnknownExternalSender(_) => ["RFC9420-12.1.8.1-1", "RFC9420-6.1-4"],
    CommitError::ExternalProposalType(_) => ["RFC9420-12.1.8-4", "RFC9420-6.1-6"],
    CommitError::NewMemberProposalNotAdd => ["RFC9420-6.1-11"],
    CommitError::KeyPackageSignature => ["RFC9420-10.1-5", "RFC9420-10-6"],
    CommitError::KeyPackageLeaf(leaf_reason::KEY_PACKAGE_SOURCE) => [
        "RFC9420-7.3-13",
        "RFC9420-10-9",
    ],
    CommitError::KeyPackageLeaf(leaf_reason::SIGNATURE) => ["RFC9420-7.3-7", "RFC9420-10.1-4"],
    CommitError::KeyPackageLeaf(leaf_reason::EXTENSION_NOT_IN_CAPABILITIES) => [
        "RFC9420-7.3-12",
        "RFC9420-10-10",
    ],
    CommitError::KeyPackageLeaf(leaf_reason::REQUIRED_CAPABILITY) => [
        "RFC9420-11.1-1",
        "RFC9420-7.3-8",
        "RFC9420-12.3-2",
    ],
    CommitError::KeyPackageLeaf(leaf_reason::CREDENTIAL_NOT_IN_CAPABILITIES) => [
        "RFC9420-7.2-4",
        "RFC9420-10.1-4",
    ],
    CommitError::KeyPackageLeaf(leaf_reason::GREASE_CREDENTIAL) => ["RFC9420-13.5-11"],
    CommitError::KeyPackageLeaf(leaf_reason::CREDENTIAL_UNSUPPORTED) => [
        "RFC9420-7.3-9",
        "RFC9420-13.3-1",
    ],
    CommitError::KeyPackageLeaf(leaf_reason::EXTENSION_REPEATED) => ["RFC9420-13.4-4"],
    CommitError::KeyPackageLeaf(_) => ["RFC9420-10.1-4"],
    CommitError::KeyPackageInitKeyReused => ["RFC9420-10.1-6"],
    CommitError::KeyPackageVersion(_) => ["RFC9420-10.1-3"],
    CommitError::UpdateLeaf { reason: leaf_reason::UPDATE_SOURCE, .. } => ["RFC9420-7.3-14"],
    CommitError::UpdateLeaf { reason: leaf_reason::SIGNATURE, .. } => [
        "RFC9420-7.3-7",
        "RFC9420-12.1.2-2",
    ],
    CommitError::UpdateLeaf { reason: leaf_reason::EXTENSION_NOT_IN_CAPABILITIES, .. } => [
        "RFC9420-7.3-12",
        "RFC9420-12.1.2-2",
    ],
    CommitError::UpdateLeaf { reason: leaf_reason::REQUIRED_CAPABILITY, .. } => [
        "RFC9420-7.3-8",
        "RFC9420-12.1.2-2",
    ],
    CommitError::UpdateLeaf { reason: leaf_reason::ENCRYPTION_KEY_UNCHANGED, .. } => [
        "RFC9420-7.3-14",
    ],
    CommitError::UpdateLeaf { reason: leaf_reason::CREDENTIAL_NOT_IN_CAPABILITIES, .. } => [
        "RFC9420-7.2-4",
        "RFC9420-12.1.2-2",
    ],
    CommitError::UpdateLeaf { reason: leaf_reason::GREASE_CREDENTIAL, .. } => [
        "RFC9420-13.5-11",
    ],
    CommitError::UpdateLeaf { reason: leaf_reason::EXTENSION_REPEATED, .. } => [
        "RFC9420-13.4-4",
    ],
    CommitError::UpdateLeaf { .. } => ["RFC9420-12.1.2-2"],
    CommitError::ReservedPskUsage => [
        "RFC9420-11.2-5",
        "RFC9420-11.3-6",
        "RFC9420-12.1.4-1",
        "RFC9420-12.1.4-2",
    ],
    CommitError::ExternalCommitRemoves(_) => ["RFC9420-12.2-19"],
    CommitError::ExternalRemoveIdentity(_) => ["RFC9420-12.2-21"],
    CommitError::MissingConfirmationTag => ["RFC9420-6.1-13"],
    CommitError::RequiredCapabilityUnsupported { .. } => [
        "RFC9420-12.1.7-1",
        "RFC9420-11.1-2",
    ],
    CommitError::PskNonceLength { .. } => ["RFC9420-12.1.4-3"],
    CommitError::GroupContextExtensionUnsupported { .. } => [
        "RFC9420-13.4-5",
        "RFC9420-13.4-6",
        "RFC9420-13.4-9",
        "RFC9420-13.5-13",
    ],
    CommitError::ReInitVersionDowngrade { .. } => ["RFC9420-12.1.5-1"],
    CommitError::DefaultTypeListed { .. } => ["RFC9420-7.2-1"],
    CommitError::KeyPackageExtensionNotInCapabilities(_) => ["RFC9420-10-10"],
    CommitError::KeyPackageExtensionRepeated(_) => ["RFC9420-13.4-4"],
    CommitError::GroupContextExtensionRepeated(_) => ["RFC9420-13.4-4"],
    CommitError::KeyPackageLifetime { .. } => ["RFC9420-7.3-2", "RFC9420-10.1-4"],
});

cite!(GroupError, wraps {
    GroupError::Commit(e) => e,
    GroupError::Join(e) => e,
    GroupError::Framing(e) => e,
    GroupError::Crypto(e) => e,
    GroupError::Tree(e) => e,
    GroupError::TreeKem(e) => e,
    GroupError::TreeValidation(e) => e,
    GroupError::Welcome(e) => e,
    GroupError::Decode(e) => e,
} checks {
    // API misuse by the caller, never a peer's input.
    GroupError::Inactive => [],
    GroupError::CommitPending => [],
    GroupError::NoPendingCommit => [],
    GroupError::UnknownMember(_) => [],
    GroupError::WrongMessage(_) => [],
    GroupError::NoReInit => [],
    GroupError::UnknownPsk(_) => ["RFC9420-12.4.2-7", "RFC9420-12.4.3.1-10"],
    // An application message of an epoch whose keys are gone (section 9.2 deletes them).
    GroupError::EpochNotRetained(_) => ["RFC9420-9.2-3"],
    GroupError::MissingExternalPub => ["RFC9420-12.4.3.2-6"],
    GroupError::NoPriorLeaf => ["RFC9420-12.2-21"],
    GroupError::UnknownProposal => ["RFC9420-12.4.2-1"],
    GroupError::PublicApplication => ["RFC9420-6-1"],
    GroupError::ReInitMismatch(_) => ["RFC9420-12.4.3.1-27", "RFC9420-11.2-1"],
    GroupError::BranchMismatch(_) => [
        "RFC9420-12.4.3.1-29",
        "RFC9420-12.4.3.1-30",
        "RFC9420-11.3-2",
        "RFC9420-11.3-4",
    ],
});

/// Every error enum's citations, named by enum: what the harness registers.
pub fn citations() -> Vec<(&'static str, &'static [ErrorCitation])> {
    vec![
        ("DecodeError", DecodeError::CITATIONS),
        ("CryptoError", CryptoError::CITATIONS),
        ("SecretTreeError", SecretTreeError::CITATIONS),
        ("FramingError", FramingError::CITATIONS),
        ("TreeError", TreeError::CITATIONS),
        ("ParentHashError", ParentHashError::CITATIONS),
        ("TreeValidationError", TreeValidationError::CITATIONS),
        ("TreeKemError", TreeKemError::CITATIONS),
        ("WelcomeError", WelcomeError::CITATIONS),
        ("JoinError", JoinError::CITATIONS),
        ("CommitError", CommitError::CITATIONS),
        ("GroupError", GroupError::CITATIONS),
    ]
}

/// The requirements of `error` if it is one of the typed errors above (by value), else
/// none: for code that holds an error only as `dyn Any` or behind a generic parameter.
pub fn requirements_of(error: &dyn std::any::Any) -> &'static [&'static str] {
    fn of<E: Requirement + 'static>(error: &dyn std::any::Any) -> Option<&'static [&'static str]> {
        error.downcast_ref::<E>().map(Requirement::requirements)
    }
    of::<GroupError>(error)
        .or_else(|| of::<CommitError>(error))
        .or_else(|| of::<JoinError>(error))
        .or_else(|| of::<WelcomeError>(error))
        .or_else(|| of::<FramingError>(error))
        .or_else(|| of::<TreeKemError>(error))
        .or_else(|| of::<TreeValidationError>(error))
        .or_else(|| of::<ParentHashError>(error))
        .or_else(|| of::<TreeError>(error))
        .or_else(|| of::<SecretTreeError>(error))
        .or_else(|| of::<CryptoError>(error))
        .or_else(|| of::<DecodeError>(error))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree_math::LeafIndex;

    fn is_well_formed(id: &str) -> bool {
        let Some(rest) = id.strip_prefix("RFC9420-") else {
            return false;
        };
        let Some((section, number)) = rest.rsplit_once('-') else {
            return false;
        };
        !section.is_empty()
            && section
                .split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
    }

    #[test]
    fn every_cited_id_is_well_formed_and_every_table_is_complete() {
        let mut checks = 0;
        for (name, table) in citations() {
            assert!(!table.is_empty(), "{name} lists no variant");
            for citation in table {
                assert!(
                    citation.error.starts_with(name),
                    "{} is listed under {name}",
                    citation.error
                );
                for id in citation.requirements {
                    assert!(is_well_formed(id), "{}: malformed ID {id}", citation.error);
                }
                checks += usize::from(!citation.requirements.is_empty());
            }
        }
        // Every enum above has at least one peer-facing check.
        assert!(checks > 100, "{checks} checks");
    }

    #[test]
    fn wrappers_delegate_to_the_wrapped_error() {
        let signature = GroupError::Commit(CommitError::Framing(FramingError::InvalidSignature));
        assert_eq!(signature.requirements(), ["RFC9420-6.1-1"]);
        let parent_hash = GroupError::Join(JoinError::TreeValidation(
            TreeValidationError::ParentHash(ParentHashError::Ambiguous { node: 3, count: 2 }),
        ));
        assert_eq!(parent_hash.requirements(), ["RFC9420-7.9.2-5"]);
        let varint = GroupError::Decode(DecodeError::VarintNotMinimal {
            value: 1,
            length: 2,
        });
        assert_eq!(varint.requirements(), ["RFC9420-2.1.2-1"]);
        assert!(GroupError::Inactive.requirements().is_empty());
        assert_eq!(
            requirements_of(&CryptoError::InvalidSignatureEncoding),
            ["RFC9420-5.1.2-3"]
        );
        assert_eq!(requirements_of(&signature), ["RFC9420-6.1-1"]);
        assert!(requirements_of(&"not a typed error").is_empty());
    }

    #[test]
    fn leaf_reasons_select_their_rule() {
        let update = |reason| CommitError::UpdateLeaf {
            leaf: LeafIndex(1).0,
            reason,
        };
        assert_eq!(
            update(leaf_reason::ENCRYPTION_KEY_UNCHANGED).requirements(),
            ["RFC9420-7.3-14"]
        );
        assert_eq!(
            update(leaf_reason::EXTENSION_NOT_IN_CAPABILITIES).requirements(),
            ["RFC9420-7.3-12", "RFC9420-12.1.2-2"]
        );
        assert_eq!(
            update("another reason").requirements(),
            ["RFC9420-12.1.2-2"]
        );
        assert_eq!(
            CommitError::KeyPackageLeaf(leaf_reason::REQUIRED_CAPABILITY).requirements(),
            ["RFC9420-11.1-1", "RFC9420-7.3-8", "RFC9420-12.3-2"]
        );
        assert_eq!(
            CommitError::PskNonceLength {
                expected: 32,
                actual: 7
            }
            .requirements(),
            ["RFC9420-12.1.4-3"]
        );
    }
}
