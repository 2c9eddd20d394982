//! OpenMLS 0.9 behind [`Engine`]: the RustCrypto provider, one in-memory store per member.
//!
//! OpenMLS writes its group state to the store on every operation (create, commit, merge,
//! process); the other two implementations keep state in memory and write nothing. That
//! is part of what its rows measure.

use std::fmt::Debug;

use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, LeafNodeParameters, MlsGroup,
    MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, OpenMlsCrypto as _, OpenMlsProvider,
    PURE_PLAINTEXT_WIRE_FORMAT_POLICY, ProcessedMessageContent, ProtocolVersion, StagedWelcome,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::{MemoryStorage, RustCrypto};

use crate::engine::{BenchResult, Engine};

const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn err(e: impl Debug) -> Box<dyn std::error::Error + Send + Sync> {
    format!("{e:?}").into()
}

/// RustCrypto primitives and randomness, and a store of one member's own.
#[derive(Debug, Default)]
pub struct Provider {
    crypto: RustCrypto,
    storage: MemoryStorage,
}

impl Provider {
    /// A provider whose store holds a copy of `self`'s.
    fn copy(&self) -> BenchResult<Provider> {
        let values = self.storage.values.read().map_err(err)?.clone();
        let copy = Provider::default();
        *copy.storage.values.write().map_err(err)? = values;
        Ok(copy)
    }
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &MemoryStorage {
        &self.storage
    }
    fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }
    fn rand(&self) -> &RustCrypto {
        &self.crypto
    }
}

/// A member: its group, its store, its signature key.
#[derive(Debug)]
pub struct Member {
    group: MlsGroup,
    provider: Provider,
    signer: Signer,
}

/// A key package owner: the store with the key package's private keys.
#[derive(Debug)]
pub struct Joiner {
    provider: Provider,
    signer: Signer,
}

/// OpenMLS with the RustCrypto provider.
#[derive(Debug, Default)]
pub struct OpenMls;

/// A signature key pair and its raw keys (to copy it: OpenMLS's pair does not clone).
#[derive(Debug)]
pub struct Signer {
    pair: SignatureKeyPair,
    private: Vec<u8>,
    public: Vec<u8>,
}

impl Signer {
    fn copy(&self) -> Signer {
        Signer {
            pair: SignatureKeyPair::from_raw(
                SUITE.signature_algorithm(),
                self.private.clone(),
                self.public.clone(),
            ),
            private: self.private.clone(),
            public: self.public.clone(),
        }
    }
}

fn signer_of(provider: &Provider, identity: &[u8]) -> BenchResult<(Signer, CredentialWithKey)> {
    let (private, public) = provider
        .crypto
        .signature_key_gen(SUITE.signature_algorithm())
        .map_err(err)?;
    let pair =
        SignatureKeyPair::from_raw(SUITE.signature_algorithm(), private.clone(), public.clone());
    let credential = CredentialWithKey {
        credential: BasicCredential::new(identity.to_vec()).into(),
        signature_key: public.clone().into(),
    };
    Ok((
        Signer {
            pair,
            private,
            public,
        },
        credential,
    ))
}

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build()
}

fn decode(bytes: &[u8]) -> BenchResult<MlsMessageBodyIn> {
    Ok(MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(err)?
        .extract())
}

fn encode(message: &impl openmls::prelude::tls_codec::Serialize) -> BenchResult<Vec<u8>> {
    message.tls_serialize_detached().map_err(err)
}

impl Engine for OpenMls {
    type Member = Member;
    type Joiner = Joiner;

    fn name(&self) -> String {
        "openmls".into()
    }

    fn key_package(&mut self, identity: &[u8]) -> BenchResult<(Vec<u8>, Joiner)> {
        let provider = Provider::default();
        let (signer, credential) = signer_of(&provider, identity)?;
        let bundle = KeyPackage::builder()
            .build(SUITE, &provider, &signer.pair, credential)
            .map_err(err)?;
        let message = openmls::prelude::MlsMessageOut::from(bundle.key_package().clone());
        Ok((encode(&message)?, Joiner { provider, signer }))
    }

    fn clone_joiner(&mut self, joiner: &Joiner) -> BenchResult<Joiner> {
        Ok(Joiner {
            provider: joiner.provider.copy()?,
            signer: joiner.signer.copy(),
        })
    }

    fn create_group(&mut self, identity: &[u8]) -> BenchResult<Member> {
        let provider = Provider::default();
        let (signer, credential) = signer_of(&provider, identity)?;
        let group = MlsGroup::builder()
            .ciphersuite(SUITE)
            .with_wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build(&provider, &signer.pair, credential)
            .map_err(err)?;
        Ok(Member {
            group,
            provider,
            signer,
        })
    }

    fn clone_member(&mut self, member: &Member) -> BenchResult<Member> {
        let provider = member.provider.copy()?;
        let group = MlsGroup::load(provider.storage(), member.group.group_id())
            .map_err(err)?
            .ok_or("OpenMLS stored no group")?;
        Ok(Member {
            group,
            provider,
            signer: member.signer.copy(),
        })
    }

    fn commit_update(&mut self, member: &mut Member) -> BenchResult<Vec<u8>> {
        let bundle = member
            .group
            .self_update(
                &member.provider,
                &member.signer.pair,
                LeafNodeParameters::default(),
            )
            .map_err(err)?;
        encode(bundle.commit())
    }

    fn commit_add(
        &mut self,
        member: &mut Member,
        key_packages: &[Vec<u8>],
    ) -> BenchResult<(Vec<u8>, Vec<u8>)> {
        let mut validated = Vec::with_capacity(key_packages.len());
        for bytes in key_packages {
            let MlsMessageBodyIn::KeyPackage(key_package) = decode(bytes)? else {
                return Err("not a KeyPackage".into());
            };
            validated.push(
                key_package
                    .validate(member.provider.crypto(), ProtocolVersion::Mls10)
                    .map_err(err)?,
            );
        }
        let Member {
            group,
            provider,
            signer,
        } = member;
        let bundle = group
            .commit_builder()
            .propose_adds(validated)
            .force_self_update(false)
            .load_psks(provider.storage())
            .map_err(err)?
            .build(provider.rand(), provider.crypto(), &signer.pair, |_| true)
            .map_err(err)?
            .stage_commit(provider)
            .map_err(err)?;
        let welcome = bundle.to_welcome_msg().ok_or("no Welcome")?;
        Ok((encode(bundle.commit())?, encode(&welcome)?))
    }

    fn discard_pending(&mut self, member: &mut Member) -> BenchResult<()> {
        member
            .group
            .clear_pending_commit(member.provider.storage())
            .map_err(err)
    }

    fn merge_pending(&mut self, member: &mut Member) -> BenchResult<()> {
        member
            .group
            .merge_pending_commit(&member.provider)
            .map_err(err)
    }

    fn process_commit(&mut self, member: &mut Member, commit: &[u8]) -> BenchResult<()> {
        let message = MlsMessageIn::tls_deserialize_exact(commit)
            .map_err(err)?
            .try_into_protocol_message()
            .map_err(err)?;
        let processed = member
            .group
            .process_message(&member.provider, message)
            .map_err(err)?;
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            return Err("not a commit".into());
        };
        member
            .group
            .merge_staged_commit(&member.provider, *staged)
            .map_err(err)
    }

    fn join(&mut self, joiner: Joiner, welcome: &[u8]) -> BenchResult<Member> {
        let MlsMessageBodyIn::Welcome(welcome) = decode(welcome)? else {
            return Err("not a Welcome".into());
        };
        let Joiner { provider, signer } = joiner;
        let group = StagedWelcome::new_from_welcome(&provider, &join_config(), welcome, None)
            .map_err(err)?
            .into_group(&provider)
            .map_err(err)?;
        Ok(Member {
            group,
            provider,
            signer,
        })
    }

    fn group_info(&mut self, member: &Member) -> BenchResult<Vec<u8>> {
        let info = member
            .group
            .export_group_info(member.provider.crypto(), &member.signer.pair, true)
            .map_err(err)?;
        encode(&info)
    }

    fn external_join(
        &mut self,
        group_info: &[u8],
        identity: &[u8],
    ) -> BenchResult<(Member, Vec<u8>)> {
        let MlsMessageBodyIn::GroupInfo(info) = decode(group_info)? else {
            return Err("not a GroupInfo".into());
        };
        let provider = Provider::default();
        let (signer, credential) = signer_of(&provider, identity)?;
        let (group, bundle) = MlsGroup::external_commit_builder()
            .with_config(join_config())
            .build_group(&provider, info, credential)
            .map_err(err)?
            .load_psks(provider.storage())
            .map_err(err)?
            .build(provider.rand(), provider.crypto(), &signer.pair, |_| true)
            .map_err(err)?
            .finalize(&provider)
            .map_err(err)?;
        let commit = encode(bundle.commit())?;
        Ok((
            Member {
                group,
                provider,
                signer,
            },
            commit,
        ))
    }

    fn protect(&mut self, member: &mut Member, data: &[u8]) -> BenchResult<Vec<u8>> {
        let message = member
            .group
            .create_message(&member.provider, &member.signer.pair, data)
            .map_err(err)?;
        encode(&message)
    }

    fn unprotect(&mut self, member: &mut Member, message: &[u8]) -> BenchResult<Vec<u8>> {
        let message = MlsMessageIn::tls_deserialize_exact(message)
            .map_err(err)?
            .try_into_protocol_message()
            .map_err(err)?;
        let processed = member
            .group
            .process_message(&member.provider, message)
            .map_err(err)?;
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(message) => Ok(message.into_bytes()),
            _ => Err("not an application message".into()),
        }
    }

    fn leaf_index(&self, member: &Member) -> u32 {
        member.group.own_leaf_index().u32()
    }

    fn epoch_authenticator(&self, member: &Member) -> BenchResult<Vec<u8>> {
        Ok(member.group.epoch_authenticator().as_slice().to_vec())
    }

    fn ratchet_tree(&self, member: &Member) -> BenchResult<Vec<u8>> {
        encode(&member.group.export_ratchet_tree())
    }
}
