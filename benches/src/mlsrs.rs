//! mls-rs 0.57 behind [`Engine`]: the RustCrypto backend (the main row; the OpenSSL one,
//! `mls-rs-crypto-openssl`, is the second row, with the `second-rows` feature), in-memory
//! key package storage,
//! rules that keep handshakes in PublicMessage, add no padding and put the ratchet tree in
//! the GroupInfo. mls-rs checks a joined tree's leaves on both cores (its `rayon` feature,
//! on by default).

use std::fmt::Debug;

use mls_rs::client_builder::{
    BaseConfig, PaddingMode, WithCryptoProvider, WithIdentityProvider, WithKeyPackageRepo,
    WithMlsRules,
};
use mls_rs::group::ReceivedMessage;
use mls_rs::identity::SigningIdentity;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::mls_rules::{CommitOptions, DefaultMlsRules, EncryptionOptions};
use mls_rs::storage_provider::KeyPackageData;
use mls_rs::storage_provider::in_memory::InMemoryKeyPackageStorage;
use mls_rs::{
    CipherSuite, CipherSuiteProvider, Client, CryptoProvider, ExtensionList, Group, MlsMessage,
};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;

use crate::engine::{BenchResult, Engine};

const SUITE: CipherSuite = CipherSuite::CURVE25519_AES128;

/// The primitives of one mls-rs row.
pub trait Backend: CryptoProvider + Clone + Default + Debug {
    /// The row name in reports.
    const ROW: &'static str;
}

impl Backend for RustCryptoProvider {
    const ROW: &'static str = "mls-rs";
}

#[cfg(feature = "second-rows")]
impl Backend for mls_rs_crypto_openssl::OpensslCryptoProvider {
    const ROW: &'static str = "mls-rs-openssl";
}

/// Every client's configuration.
pub type Config<P> = WithIdentityProvider<
    BasicIdentityProvider,
    WithCryptoProvider<
        P,
        WithMlsRules<DefaultMlsRules, WithKeyPackageRepo<InMemoryKeyPackageStorage, BaseConfig>>,
    >,
>;

fn err(e: impl Debug) -> Box<dyn std::error::Error + Send + Sync> {
    format!("{e:?}").into()
}

/// A key package's owner: its client, and the stored key package to put back after a join
/// (mls-rs deletes it when joining).
#[derive(Debug, Clone)]
pub struct Joiner<P: Backend> {
    client: Client<Config<P>>,
    store: InMemoryKeyPackageStorage,
    stored: Vec<(Vec<u8>, KeyPackageData)>,
}

/// mls-rs with the backend `P`: [`RustCryptoProvider`] by default.
#[derive(Debug, Default)]
pub struct MlsRs<P = RustCryptoProvider> {
    crypto: P,
}

fn rules() -> DefaultMlsRules {
    DefaultMlsRules::new()
        .with_commit_options(
            CommitOptions::new()
                .with_path_required(false)
                .with_ratchet_tree_extension(true)
                .with_single_welcome_message(true)
                .with_allow_external_commit(true),
        )
        .with_encryption_options(EncryptionOptions::new(false, PaddingMode::None))
}

impl<P: Backend> MlsRs<P> {
    fn client(
        &self,
        identity: &[u8],
    ) -> BenchResult<(Client<Config<P>>, InMemoryKeyPackageStorage)> {
        let provider = self
            .crypto
            .cipher_suite_provider(SUITE)
            .ok_or("mls-rs lacks ciphersuite 1")?;
        let (secret, public) = provider.signature_key_generate().map_err(err)?;
        let credential = BasicCredential::new(identity.to_vec()).into_credential();
        let store = InMemoryKeyPackageStorage::new();
        let client = Client::builder()
            .key_package_repo(store.clone())
            .mls_rules(rules())
            .crypto_provider(self.crypto.clone())
            .identity_provider(BasicIdentityProvider::new())
            .signing_identity(SigningIdentity::new(credential, public), secret, SUITE)
            .build();
        Ok((client, store))
    }
}

fn decode(bytes: &[u8]) -> BenchResult<MlsMessage> {
    MlsMessage::from_bytes(bytes).map_err(err)
}

fn encode(message: &MlsMessage) -> BenchResult<Vec<u8>> {
    message.to_bytes().map_err(err)
}

impl<P: Backend> Engine for MlsRs<P> {
    type Member = Group<Config<P>>;
    type Joiner = Joiner<P>;

    fn name(&self) -> String {
        P::ROW.into()
    }

    fn key_package(&mut self, identity: &[u8]) -> BenchResult<(Vec<u8>, Joiner<P>)> {
        let (client, store) = self.client(identity)?;
        let message = client
            .generate_key_package_message(ExtensionList::new(), ExtensionList::new(), None)
            .map_err(err)?;
        let stored = store.key_packages();
        Ok((
            encode(&message)?,
            Joiner {
                client,
                store,
                stored,
            },
        ))
    }

    fn clone_joiner(&mut self, joiner: &Joiner<P>) -> BenchResult<Joiner<P>> {
        for (id, data) in &joiner.stored {
            joiner.store.insert(id.clone(), data.clone());
        }
        Ok(joiner.clone())
    }

    fn create_group(&mut self, identity: &[u8]) -> BenchResult<Group<Config<P>>> {
        let (client, _) = self.client(identity)?;
        client
            .create_group(ExtensionList::new(), ExtensionList::new(), None)
            .map_err(err)
    }

    fn clone_member(&mut self, member: &Group<Config<P>>) -> BenchResult<Group<Config<P>>> {
        Ok(member.clone())
    }

    fn commit_update(&mut self, member: &mut Group<Config<P>>) -> BenchResult<Vec<u8>> {
        // A commit without proposals always carries an UpdatePath.
        let output = member.commit(Vec::new()).map_err(err)?;
        encode(&output.commit_message)
    }

    fn commit_add(
        &mut self,
        member: &mut Group<Config<P>>,
        key_packages: &[Vec<u8>],
    ) -> BenchResult<(Vec<u8>, Vec<u8>)> {
        let mut builder = member.commit_builder();
        for bytes in key_packages {
            builder = builder.add_member(decode(bytes)?).map_err(err)?;
        }
        let output = builder.build().map_err(err)?;
        let welcome = output.welcome_messages.first().ok_or("no Welcome")?;
        Ok((encode(&output.commit_message)?, encode(welcome)?))
    }

    fn discard_pending(&mut self, member: &mut Group<Config<P>>) -> BenchResult<()> {
        member.clear_pending_commit();
        Ok(())
    }

    fn merge_pending(&mut self, member: &mut Group<Config<P>>) -> BenchResult<()> {
        member.apply_pending_commit().map(|_| ()).map_err(err)
    }

    fn process_commit(&mut self, member: &mut Group<Config<P>>, commit: &[u8]) -> BenchResult<()> {
        match member
            .process_incoming_message(decode(commit)?)
            .map_err(err)?
        {
            ReceivedMessage::Commit(_) => Ok(()),
            _ => Err("not a commit".into()),
        }
    }

    fn join(&mut self, joiner: Joiner<P>, welcome: &[u8]) -> BenchResult<Group<Config<P>>> {
        let (group, _) = joiner
            .client
            .join_group(None, &decode(welcome)?, None)
            .map_err(err)?;
        Ok(group)
    }

    fn group_info(&mut self, member: &Group<Config<P>>) -> BenchResult<Vec<u8>> {
        encode(
            &member
                .group_info_message_allowing_ext_commit(true)
                .map_err(err)?,
        )
    }

    fn external_join(
        &mut self,
        group_info: &[u8],
        identity: &[u8],
    ) -> BenchResult<(Group<Config<P>>, Vec<u8>)> {
        let (client, _) = self.client(identity)?;
        let (group, commit) = client
            .external_commit_builder()
            .map_err(err)?
            .build(decode(group_info)?)
            .map_err(err)?;
        Ok((group, encode(&commit)?))
    }

    fn protect(&mut self, member: &mut Group<Config<P>>, data: &[u8]) -> BenchResult<Vec<u8>> {
        encode(
            &member
                .encrypt_application_message(data, Vec::new())
                .map_err(err)?,
        )
    }

    fn unprotect(&mut self, member: &mut Group<Config<P>>, message: &[u8]) -> BenchResult<Vec<u8>> {
        match member
            .process_incoming_message(decode(message)?)
            .map_err(err)?
        {
            ReceivedMessage::ApplicationMessage(message) => Ok(message.data().to_vec()),
            _ => Err("not an application message".into()),
        }
    }

    fn leaf_index(&self, member: &Group<Config<P>>) -> u32 {
        member.current_member_index()
    }

    fn epoch_authenticator(&self, member: &Group<Config<P>>) -> BenchResult<Vec<u8>> {
        Ok(member
            .epoch_authenticator()
            .map_err(err)?
            .as_bytes()
            .to_vec())
    }

    fn ratchet_tree(&self, member: &Group<Config<P>>) -> BenchResult<Vec<u8>> {
        member.export_tree().to_bytes().map_err(err)
    }
}
