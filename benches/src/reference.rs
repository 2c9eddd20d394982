//! The reference engine (concord-reference) behind [`Engine`]: sans-IO, so this wrapper
//! owns the randomness (ChaCha20 from a seed) and the clock (a fixed time).

use concord_reference::codec::Codec;
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::group::{
    CommitOptions, Group, GroupConfig, KeyPackageSecrets, PskStore, Received, create_key_package,
    group_info_of,
};
use concord_reference::messages::{Add, KeyPackage, MlsMessage, MlsMessageBody, Proposal};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::engine::{BenchResult, Engine};

/// A fixed "now" for key package lifetimes.
const NOW: u64 = 1_700_000_000;

/// The reference in one ciphersuite.
#[derive(Debug)]
pub struct Reference {
    suite: Suite,
    rng: ChaCha20Rng,
    config: GroupConfig,
}

impl Reference {
    pub fn new(suite: CipherSuite, seed: u64) -> BenchResult<Self> {
        Ok(Reference {
            suite: Suite::new(suite)?,
            rng: ChaCha20Rng::seed_from_u64(seed),
            // PublicMessage handshakes and no padding are the defaults.
            config: GroupConfig::default(),
        })
    }
}

fn decode(bytes: &[u8]) -> BenchResult<MlsMessage> {
    Ok(MlsMessage::from_bytes(bytes)?)
}

impl Engine for Reference {
    type Member = Group;
    type Joiner = (KeyPackage, KeyPackageSecrets);

    fn name(&self) -> String {
        if self.suite.id() == CipherSuite(1) {
            "reference".into()
        } else {
            format!("reference@suite-{}", self.suite.id().0)
        }
    }

    fn key_package(&mut self, identity: &[u8]) -> BenchResult<(Vec<u8>, Self::Joiner)> {
        let (key_package, secrets) =
            create_key_package(&self.suite, identity, None, NOW, &mut self.rng)?;
        let bytes = MlsMessage::new(MlsMessageBody::KeyPackage(key_package.clone())).to_bytes();
        Ok((bytes, (key_package, secrets)))
    }

    fn clone_joiner(&mut self, joiner: &Self::Joiner) -> BenchResult<Self::Joiner> {
        Ok(joiner.clone())
    }

    fn create_group(&mut self, identity: &[u8]) -> BenchResult<Group> {
        Ok(Group::create(
            self.suite.id(),
            b"bench group".to_vec(),
            identity,
            None,
            Vec::new(),
            self.config,
            NOW,
            &mut self.rng,
        )?)
    }

    fn clone_member(&mut self, member: &Group) -> BenchResult<Group> {
        Ok(member.clone())
    }

    fn commit_update(&mut self, member: &mut Group) -> BenchResult<Vec<u8>> {
        let options = CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        };
        Ok(member.commit(&options, &mut self.rng)?.commit.to_bytes())
    }

    fn commit_add(
        &mut self,
        member: &mut Group,
        key_packages: &[Vec<u8>],
    ) -> BenchResult<(Vec<u8>, Vec<u8>)> {
        let mut by_value = Vec::with_capacity(key_packages.len());
        for bytes in key_packages {
            let MlsMessageBody::KeyPackage(key_package) = decode(bytes)?.body else {
                return Err("not a KeyPackage".into());
            };
            by_value.push(Proposal::Add(Add { key_package }));
        }
        let options = CommitOptions {
            by_value,
            ..CommitOptions::default()
        };
        let output = member.commit(&options, &mut self.rng)?;
        let welcome = output.welcome.ok_or("an Add commit without a Welcome")?;
        Ok((output.commit.to_bytes(), welcome.to_bytes()))
    }

    fn discard_pending(&mut self, member: &mut Group) -> BenchResult<()> {
        member.discard_pending_commit();
        Ok(())
    }

    fn merge_pending(&mut self, member: &mut Group) -> BenchResult<()> {
        Ok(member.merge_pending_commit()?)
    }

    fn process_commit(&mut self, member: &mut Group, commit: &[u8]) -> BenchResult<()> {
        match member.process_message_bytes(commit)? {
            Received::Commit(_) => Ok(()),
            other => Err(format!("expected a commit, got {other:?}").into()),
        }
    }

    fn join(&mut self, joiner: Self::Joiner, welcome: &[u8]) -> BenchResult<Group> {
        let MlsMessageBody::Welcome(welcome) = decode(welcome)?.body else {
            return Err("not a Welcome".into());
        };
        let (key_package, secrets) = joiner;
        Ok(Group::join(
            &welcome,
            &key_package,
            &secrets,
            None,
            &PskStore::default(),
            self.config,
        )?)
    }

    fn group_info(&mut self, member: &Group) -> BenchResult<Vec<u8>> {
        Ok(member.group_info(false)?.0.to_bytes())
    }

    fn external_join(
        &mut self,
        group_info: &[u8],
        identity: &[u8],
    ) -> BenchResult<(Group, Vec<u8>)> {
        let message = decode(group_info)?;
        let info = group_info_of(&message)?;
        let joined = Group::join_external(
            info,
            None,
            identity,
            None,
            false,
            &[],
            self.config,
            &mut self.rng,
        )?;
        Ok((joined.group, joined.commit.to_bytes()))
    }

    fn protect(&mut self, member: &mut Group, data: &[u8]) -> BenchResult<Vec<u8>> {
        Ok(member.protect(b"", data, &mut self.rng)?.to_bytes())
    }

    fn unprotect(&mut self, member: &mut Group, message: &[u8]) -> BenchResult<Vec<u8>> {
        match member.process_message_bytes(message)? {
            Received::Application { data, .. } => Ok(data),
            other => Err(format!("expected application data, got {other:?}").into()),
        }
    }

    fn leaf_index(&self, member: &Group) -> u32 {
        member.own_leaf().0
    }

    fn epoch_authenticator(&self, member: &Group) -> BenchResult<Vec<u8>> {
        Ok(member.epoch_authenticator().to_vec())
    }

    fn ratchet_tree(&self, member: &Group) -> BenchResult<Vec<u8>> {
        Ok(member.export_tree().to_bytes())
    }
}
