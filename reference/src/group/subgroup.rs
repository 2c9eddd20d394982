//! Reinitialization and branching (RFC 9420 sections 11.2 and 11.3): a new group whose
//! first commit carries a resumption PSK (usage `reinit` or `branch`) of the old one,
//! so that only members of the old group can join it.

use crate::codec::Bytes;
use crate::crypto::{CipherSuite, Suite};
use crate::messages::{
    self, Add, Extension, KeyPackage, PreSharedKey, PreSharedKeyId, Proposal, Psk,
    ResumptionPskUsage, Welcome,
};

use super::GroupConfig;
use super::create::PskStore;
use super::key_package::KeyPackageSecrets;
use super::send_commit::{CommitOptions, CommitOutput};
use super::{Group, GroupError, GroupStatus, identity_of};

/// What a committed ReInit asks of the new group (section 11.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReInitParameters {
    pub group_id: Vec<u8>,
    pub cipher_suite: CipherSuite,
    pub extensions: Vec<Extension>,
    /// The old group and the epoch whose resumption PSK binds the new group to it.
    pub old_group_id: Vec<u8>,
    pub old_epoch: u64,
}

/// How the new group's first commit is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubgroupOptions {
    pub force_path: bool,
    pub external_tree: bool,
}

impl Group {
    /// The parameters of the ReInit this group committed (section 11.2).
    pub fn reinit_parameters(&self) -> Result<ReInitParameters, GroupError> {
        let GroupStatus::ReInitialized(reinit) = &self.status else {
            return Err(GroupError::NoReInit);
        };
        Ok(ReInitParameters {
            group_id: reinit.group_id.as_slice().to_vec(),
            cipher_suite: reinit.cipher_suite,
            extensions: reinit.extensions.clone(),
            old_group_id: self.group_id().to_vec(),
            old_epoch: self.epoch(),
        })
    }

    /// This member's resumption PSKs and external PSKs, for joining a group created
    /// from this one (branch or reinit Welcomes name them).
    pub fn psk_store(&self) -> PskStore {
        let mut store = PskStore {
            external: self.external_psks.clone(),
            resumption: self.foreign_resumption_psks.clone(),
        };
        for (epoch, value) in &self.state.resumption_psks {
            store
                .resumption
                .insert((self.group_id().to_vec(), *epoch), value.clone());
        }
        store
    }

    /// Section 11.2: joins the group that reinitializes this one (which must have
    /// committed the ReInit), checking that the new GroupContext matches the ReInit:
    /// version, cipher suite, group_id, extensions, epoch 1.
    pub fn join_reinit(
        &self,
        welcome: &Welcome,
        key_package: &KeyPackage,
        secrets: &KeyPackageSecrets,
        ratchet_tree: Option<&messages::RatchetTree>,
        config: GroupConfig,
    ) -> Result<Group, GroupError> {
        let params = self.reinit_parameters()?;
        let group = Group::join(
            welcome,
            key_package,
            secrets,
            ratchet_tree,
            &self.psk_store(),
            config,
        )?;
        let context = group.group_context();
        if context.cipher_suite != params.cipher_suite {
            return Err(GroupError::ReInitMismatch("cipher_suite"));
        }
        if context.group_id.as_slice() != params.group_id.as_slice() {
            return Err(GroupError::ReInitMismatch("group_id"));
        }
        if context.extensions != params.extensions {
            return Err(GroupError::ReInitMismatch("extensions"));
        }
        if context.epoch != 1 {
            return Err(GroupError::ReInitMismatch("epoch"));
        }
        Ok(group)
    }

    /// Section 11.3: joins a branch of this group, checking that it keeps this
    /// group's version and cipher suite, is at epoch 1, and that every leaf presents
    /// the credential of a member of this group.
    pub fn join_branch(
        &self,
        welcome: &Welcome,
        key_package: &KeyPackage,
        secrets: &KeyPackageSecrets,
        ratchet_tree: Option<&messages::RatchetTree>,
        config: GroupConfig,
    ) -> Result<Group, GroupError> {
        let group = Group::join(
            welcome,
            key_package,
            secrets,
            ratchet_tree,
            &self.psk_store(),
            config,
        )?;
        let context = group.group_context();
        if context.cipher_suite != self.suite().id()
            || context.version != self.group_context().version
        {
            return Err(GroupError::BranchMismatch("version or cipher suite"));
        }
        if context.epoch != 1 {
            return Err(GroupError::BranchMismatch("epoch is not 1"));
        }
        let old: Vec<&crate::messages::Credential> = self
            .tree()
            .leaves()
            .map(|(_, leaf)| &leaf.credential)
            .collect();
        if group
            .tree()
            .leaves()
            .any(|(_, leaf)| !old.contains(&&leaf.credential))
        {
            return Err(GroupError::BranchMismatch(
                "a leaf matches no member of the old group",
            ));
        }
        Ok(group)
    }

    /// Section 11.2: after a committed ReInit, creates the new group and commits the
    /// Adds of `key_packages` (the other members' new KeyPackages) with the reinit PSK.
    pub fn reinit_group(
        &self,
        key_packages: Vec<KeyPackage>,
        options: SubgroupOptions,
        now: u64,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Group, CommitOutput), GroupError> {
        let params = self.reinit_parameters()?;
        self.subgroup(
            params.cipher_suite,
            params.group_id,
            params.extensions,
            ResumptionPskUsage::Reinit,
            key_packages,
            options,
            now,
            rng,
        )
    }

    /// Section 11.3: a new group of some members of this one, tied to it by a branch
    /// PSK of the current epoch.
    pub fn branch(
        &self,
        group_id: Vec<u8>,
        extensions: Vec<Extension>,
        key_packages: Vec<KeyPackage>,
        options: SubgroupOptions,
        now: u64,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Group, CommitOutput), GroupError> {
        self.check_active()?;
        self.subgroup(
            self.suite().id(),
            group_id,
            extensions,
            ResumptionPskUsage::Branch,
            key_packages,
            options,
            now,
            rng,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn subgroup(
        &self,
        suite: CipherSuite,
        group_id: Vec<u8>,
        extensions: Vec<Extension>,
        usage: ResumptionPskUsage,
        key_packages: Vec<KeyPackage>,
        options: SubgroupOptions,
        now: u64,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(Group, CommitOutput), GroupError> {
        let psk = Psk::Resumption {
            usage,
            psk_group_id: Bytes(self.group_id().to_vec()),
            psk_epoch: self.epoch(),
        };
        let value = self
            .resumption_psk(self.epoch())
            .ok_or_else(|| GroupError::UnknownPsk(psk.clone()))?
            .to_vec();
        let identity = self
            .own_leaf_node()
            .map(|leaf| identity_of(&leaf.credential))
            .ok_or(GroupError::Inactive)?;
        // The signature key carries over when the suite does.
        let signature = (Suite::new(suite)?.id() == self.suite().id())
            .then_some(self.state.group.signature_private_key.as_slice());
        let mut group = Group::create(
            suite,
            group_id,
            &identity,
            signature,
            extensions,
            self.config,
            now,
            rng,
        )?;
        group.external_psks = self.external_psks.clone();
        group.store_resumption_psk(self.group_id().to_vec(), self.epoch(), value);
        let mut nonce = vec![0u8; group.suite().hash_length()];
        rng.fill_bytes(&mut nonce);
        let mut by_value = vec![Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk,
                psk_nonce: Bytes(nonce),
            },
        })];
        by_value.extend(
            key_packages
                .into_iter()
                .map(|key_package| Proposal::Add(Add { key_package })),
        );
        let output = group.commit(
            &CommitOptions {
                by_value,
                force_path: options.force_path,
                external_tree: options.external_tree,
                ..CommitOptions::default()
            },
            rng,
        )?;
        group.merge_pending_commit()?;
        Ok((group, output))
    }
}
