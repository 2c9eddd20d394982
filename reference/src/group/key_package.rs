//! KeyPackages (RFC 9420 section 10) and the leaf nodes this member signs (section 7.2).

use crate::codec::Bytes;
use crate::crypto::{CipherSuite, Suite};
use crate::join::JoinerKeys;
use crate::messages::{
    Capabilities, Credential, CredentialType, ExtensionType, HpkePublicKey, KeyPackage, LeafNode,
    LeafNodeSource, Lifetime, ProposalType, ProtocolVersion, SignaturePublicKey,
};
use crate::tree_math::LeafIndex;

use super::GroupError;

/// How long a KeyPackage's leaf is valid from `now` (section 7.2 leaves it to the
/// application): 90 days.
pub const KEY_PACKAGE_LIFETIME: u64 = 90 * 24 * 3600;

/// The private keys behind a KeyPackage (section 10): init, leaf encryption, signature.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPackageSecrets {
    pub init_private: Vec<u8>,
    pub encryption_private: Vec<u8>,
    pub signature_private: Vec<u8>,
}

impl std::fmt::Debug for KeyPackageSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyPackageSecrets { .. }")
    }
}

impl KeyPackageSecrets {
    /// The keys in the form [`crate::join::join`] takes.
    pub fn joiner_keys(&self) -> JoinerKeys<'_> {
        JoinerKeys {
            init_private: &self.init_private,
            encryption_private: &self.encryption_private,
            signature_private: &self.signature_private,
        }
    }
}

/// Section 7.2: the capabilities of this implementation's leaves. Default extension
/// and proposal types are implied and MUST NOT be listed; the basic credential is the
/// one credential type it uses.
pub fn leaf_capabilities(suite: CipherSuite) -> Capabilities {
    Capabilities {
        versions: vec![ProtocolVersion::MLS10],
        cipher_suites: vec![suite],
        extensions: Vec::new(),
        proposals: Vec::new(),
        credentials: vec![CredentialType::BASIC],
    }
}

/// Which capabilities this member's own leaves list. Every leaf a member makes after its
/// first (UpdatePath leaves, Update proposals) copies the capabilities of the one before,
/// so the choice made for a KeyPackage or a group's creator holds for the member's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapabilityListing {
    /// Section 7.2: the default extension and proposal types are implied, not listed
    /// ([`leaf_capabilities`]).
    #[default]
    Conforming,
    /// A deliberate deviation, for a test double of implementations that do it: also
    /// lists the default extension types (1 to 5) and proposal types (1 to 7), which
    /// section 7.2 says the `capabilities` field "MUST NOT list". The leaves are still
    /// signed over what they list.
    ListDefaultTypes,
}

impl CapabilityListing {
    /// The capabilities of a leaf of this member in `suite`.
    pub fn capabilities(self, suite: CipherSuite) -> Capabilities {
        let mut capabilities = leaf_capabilities(suite);
        if self == CapabilityListing::ListDefaultTypes {
            capabilities.extensions = ExtensionType::DEFAULTS.to_vec();
            capabilities.proposals = ProposalType::DEFAULTS.to_vec();
        }
        capabilities
    }
}

/// A leaf node with everything but the signature, source and encryption key settled
/// by the caller: identity, signature key, capabilities (as `listing` says).
pub(crate) fn unsigned_leaf(
    suite: &Suite,
    credential: Credential,
    signature_public: Vec<u8>,
    encryption_public: Vec<u8>,
    source: LeafNodeSource,
    listing: CapabilityListing,
) -> LeafNode {
    LeafNode {
        encryption_key: HpkePublicKey(Bytes(encryption_public)),
        signature_key: SignaturePublicKey(Bytes(signature_public)),
        credential,
        capabilities: listing.capabilities(suite.id()),
        leaf_node_source: source,
        extensions: Vec::new(),
        signature: Bytes::default(),
    }
}

/// Signs `leaf` as LeafNodeTBS (section 7.2); `group_id` and `leaf_index` are ignored
/// for a `key_package` source.
pub(crate) fn sign_leaf(
    suite: &Suite,
    mut leaf: LeafNode,
    signature_private: &[u8],
    group_id: &[u8],
    leaf_index: LeafIndex,
) -> Result<LeafNode, GroupError> {
    leaf.signature = Bytes(suite.sign_with_label(
        signature_private,
        LeafNode::SIGNATURE_LABEL,
        &leaf.tbs_bytes(group_id, leaf_index),
    )?);
    Ok(leaf)
}

/// Section 10: a KeyPackage for `identity` (basic credential), valid from `now` for
/// [`KEY_PACKAGE_LIFETIME`], with fresh init, encryption and (unless
/// `signature_private` is given) signature keys.
pub fn create_key_package(
    suite: &Suite,
    identity: &[u8],
    signature_private: Option<&[u8]>,
    now: u64,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<(KeyPackage, KeyPackageSecrets), GroupError> {
    create_key_package_listing(
        suite,
        identity,
        signature_private,
        CapabilityListing::Conforming,
        now,
        rng,
    )
}

/// [`create_key_package`] with the leaf's capabilities as `listing` says.
pub fn create_key_package_listing(
    suite: &Suite,
    identity: &[u8],
    signature_private: Option<&[u8]>,
    listing: CapabilityListing,
    now: u64,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<(KeyPackage, KeyPackageSecrets), GroupError> {
    let signature_private = match signature_private {
        Some(private) => private.to_vec(),
        None => suite.signature_generate(rng)?.private,
    };
    let signature_public = suite.signature_public_key(&signature_private)?;
    let init = suite.hpke_generate_key_pair(rng)?;
    let encryption = suite.hpke_generate_key_pair(rng)?;
    let lifetime = Lifetime {
        not_before: now,
        not_after: now.saturating_add(KEY_PACKAGE_LIFETIME),
    };
    let leaf = unsigned_leaf(
        suite,
        Credential::basic(identity.to_vec()),
        signature_public,
        encryption.public,
        LeafNodeSource::KeyPackage { lifetime },
        listing,
    );
    let leaf_node = sign_leaf(suite, leaf, &signature_private, &[], LeafIndex(0))?;
    let mut key_package = KeyPackage {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        init_key: HpkePublicKey(Bytes(init.public)),
        leaf_node,
        extensions: Vec::new(),
        signature: Bytes::default(),
    };
    key_package.signature = Bytes(suite.sign_with_label(
        &signature_private,
        KeyPackage::SIGNATURE_LABEL,
        &key_package.tbs_bytes(),
    )?);
    Ok((
        key_package,
        KeyPackageSecrets {
            init_private: init.private,
            encryption_private: encryption.private,
            signature_private,
        },
    ))
}
