//! Creating a one-member group (RFC 9420 section 11) and joining one by Welcome
//! (section 12.4.3.1, through [`crate::join`]).

use std::collections::BTreeMap;

use crate::codec::Codec;
use crate::commit::GroupState;
use crate::crypto::{CipherSuite, Suite};
use crate::join::{self, JoinedGroup};
use crate::key_schedule::{self, zero_secret};
use crate::messages::{
    self, Credential, Extension, GroupContext, KeyPackage, LeafNodeSource, Lifetime, Psk, Welcome,
};
use crate::ratchet_tree::RatchetTree;
use crate::transcript;
use crate::tree_math::LeafIndex;
use crate::treekem::PrivateKeys;

use super::key_package::{KEY_PACKAGE_LIFETIME, KeyPackageSecrets, sign_leaf, unsigned_leaf};
use super::{Group, GroupConfig, GroupError};

impl Group {
    /// Section 11: a group of one, at epoch 0, with the creator at leaf 0, an empty
    /// confirmed transcript hash and a random epoch secret. `signature_private` reuses
    /// a signature key (fresh when `None`).
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        suite_id: CipherSuite,
        group_id: Vec<u8>,
        identity: &[u8],
        signature_private: Option<&[u8]>,
        extensions: Vec<Extension>,
        config: GroupConfig,
        now: u64,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<Group, GroupError> {
        let suite = Suite::new(suite_id)?;
        let signature_private = match signature_private {
            Some(private) => private.to_vec(),
            None => suite.signature_generate(rng)?.private,
        };
        let encryption = suite.hpke_generate_key_pair(rng)?;
        let leaf = unsigned_leaf(
            &suite,
            Credential::basic(identity.to_vec()),
            suite.signature_public_key(&signature_private)?,
            encryption.public,
            LeafNodeSource::KeyPackage {
                lifetime: Lifetime {
                    not_before: now,
                    not_after: now.saturating_add(KEY_PACKAGE_LIFETIME),
                },
            },
            config.leaf_capabilities,
        );
        let leaf = sign_leaf(&suite, leaf, &signature_private, &group_id, LeafIndex(0))?;
        let tree = RatchetTree::new(leaf);
        let context = GroupContext::new(
            suite_id,
            group_id,
            0,
            tree.tree_hash(&suite),
            Vec::new(),
            extensions,
        );
        // "Epoch secret: A fresh random value": a random joiner secret with no PSK
        // yields one through the usual derivation.
        let mut joiner = vec![0u8; suite.hash_length()];
        rng.fill_bytes(&mut joiner);
        let epoch_secrets = key_schedule::epoch_secrets(
            &suite,
            &joiner,
            &zero_secret(&suite),
            &context.to_bytes(),
        )?;
        let confirmation_tag = transcript::confirmation_tag(
            &suite,
            &epoch_secrets.confirmation_key,
            context.confirmed_transcript_hash.as_slice(),
        );
        let interim = transcript::interim_transcript_hash(
            &suite,
            context.confirmed_transcript_hash.as_slice(),
            &confirmation_tag,
        );
        let mut private_keys = PrivateKeys::new();
        private_keys.insert(LeafIndex(0).node(), encryption.private);
        let joined = JoinedGroup {
            suite,
            group_context: context,
            tree,
            own_leaf: LeafIndex(0),
            signer: LeafIndex(0),
            epoch_secrets,
            interim_transcript_hash: interim,
            confirmation_tag,
            private_keys,
            path_secrets: BTreeMap::new(),
            signature_private_key: signature_private,
        };
        Ok(Group::from_state(
            GroupState::with_policy(joined, config.ratchet_policy),
            config,
        ))
    }

    /// Section 12.4.3.1: joins by `welcome` with the KeyPackage it was for and that
    /// KeyPackage's private keys. `ratchet_tree` is the tree received out of band
    /// (`None` when the GroupInfo carries it). PSKs the GroupSecrets name come from
    /// `psks` (external ones by `psk_id`, resumption ones by group and epoch).
    pub fn join(
        welcome: &Welcome,
        key_package: &KeyPackage,
        secrets: &KeyPackageSecrets,
        ratchet_tree: Option<&messages::RatchetTree>,
        psks: &PskStore,
        config: GroupConfig,
    ) -> Result<Group, GroupError> {
        let suite = Suite::new(key_package.cipher_suite)?;
        let joined = join::join(
            &suite,
            welcome,
            key_package,
            secrets.joiner_keys(),
            ratchet_tree,
            |id| psks.get(&id.psk),
        )?;
        let mut group = Group::from_state(
            GroupState::with_policy(joined, config.ratchet_policy),
            config,
        );
        group.external_psks = psks.external.clone();
        group.foreign_resumption_psks = psks.resumption.clone();
        Ok(group)
    }
}

/// PSK values a member holds outside any one group's state (section 8.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PskStore {
    /// External PSKs by `psk_id`.
    pub external: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Resumption PSKs by `(psk_group_id, psk_epoch)`.
    pub resumption: BTreeMap<(Vec<u8>, u64), Vec<u8>>,
}

impl PskStore {
    pub fn get(&self, psk: &Psk) -> Option<Vec<u8>> {
        match psk {
            Psk::External { psk_id } => self.external.get(psk_id.as_slice()).cloned(),
            Psk::Resumption {
                psk_group_id,
                psk_epoch,
                ..
            } => self
                .resumption
                .get(&(psk_group_id.as_slice().to_vec(), *psk_epoch))
                .cloned(),
        }
    }
}
