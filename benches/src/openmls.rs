//! OpenMLS 0.9 behind [`Engine`]: one in-memory store per member, and the primitives of
//! either provider: RustCrypto (`openmls_rust_crypto`, the main row) or libcrux
//! (`openmls_libcrux_crypto`, the second row, with the `second-rows` feature).
//!
//! OpenMLS writes its group state to the store on every operation (create, commit, merge,
//! process); the other two implementations keep state in memory and write nothing. That
//! is part of what its rows measure.

use std::fmt::Debug;
use std::marker::PhantomData;

use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, LeafNodeParameters, MlsGroup,
    MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, OpenMlsCrypto, OpenMlsProvider,
    PURE_PLAINTEXT_WIRE_FORMAT_POLICY, ProcessedMessageContent, ProtocolVersion, StagedWelcome,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::random::OpenMlsRand;

use crate::engine::{BenchResult, Engine};

const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn err(e: impl Debug) -> Box<dyn std::error::Error + Send + Sync> {
    format!("{e:?}").into()
}

/// The primitives (and randomness) of one OpenMLS row.
pub trait Primitives: OpenMlsCrypto + OpenMlsRand + Sized {
    /// The row name in reports.
    const ROW: &'static str;

    fn make() -> BenchResult<Self>;
}

impl Primitives for RustCrypto {
    const ROW: &'static str = "openmls";

    fn make() -> BenchResult<Self> {
        Ok(RustCrypto::default())
    }
}

#[cfg(feature = "second-rows")]
impl Primitives for openmls_libcrux_crypto::CryptoProvider {
    const ROW: &'static str = "openmls-libcrux";

    fn make() -> BenchResult<Self> {
        openmls_libcrux_crypto::CryptoProvider::new().map_err(err)
    }
}

/// The primitives and randomness, and a store of one member's own.
pub struct Provider<C> {
    crypto: C,
    storage: MemoryStorage,
}

impl<C> Debug for Provider<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("primitives", &std::any::type_name::<C>())
            .finish_non_exhaustive()
    }
}

impl<C: Primitives> Provider<C> {
    fn new() -> BenchResult<Self> {
        Ok(Provider {
            crypto: C::make()?,
            storage: MemoryStorage::default(),
        })
    }

    /// A provider whose store holds a copy of `self`'s.
    fn copy(&self) -> BenchResult<Self> {
        let values = self.storage.values.read().map_err(err)?.clone();
        let copy = Self::new()?;
        *copy.storage.values.write().map_err(err)? = values;
        Ok(copy)
    }
}

impl<C: Primitives> OpenMlsProvider for Provider<C> {
    type CryptoProvider = C;
    type RandProvider = C;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &MemoryStorage {
        &self.storage
    }
    fn crypto(&self) -> &C {
        &self.crypto
    }
    fn rand(&self) -> &C {
        &self.crypto
    }
}

/// A member: its group, its store, its signature key.
#[derive(Debug)]
pub struct Member<C> {
    group: MlsGroup,
    provider: Provider<C>,
    signer: Signer,
}

/// A key package owner: the store with the key package's private keys.
#[derive(Debug)]
pub struct Joiner<C> {
    provider: Provider<C>,
    signer: Signer,
}

/// OpenMLS with the primitives of `C`: [`RustCrypto`] by default.
pub struct OpenMls<C = RustCrypto>(PhantomData<C>);

impl<C> Default for OpenMls<C> {
    fn default() -> Self {
        OpenMls(PhantomData)
    }
}

impl<C> Debug for OpenMls<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenMls<{}>", std::any::type_name::<C>())
    }
}

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

fn signer_of<C: Primitives>(
    provider: &Provider<C>,
    identity: &[u8],
) -> BenchResult<(Signer, CredentialWithKey)> {
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

impl<C: Primitives> Engine for OpenMls<C> {
    type Member = Member<C>;
    type Joiner = Joiner<C>;

    fn name(&self) -> String {
        C::ROW.into()
    }

    fn key_package(&mut self, identity: &[u8]) -> BenchResult<(Vec<u8>, Joiner<C>)> {
        let provider = Provider::<C>::new()?;
        let (signer, credential) = signer_of(&provider, identity)?;
        let bundle = KeyPackage::builder()
            .build(SUITE, &provider, &signer.pair, credential)
            .map_err(err)?;
        let message = openmls::prelude::MlsMessageOut::from(bundle.key_package().clone());
        Ok((encode(&message)?, Joiner { provider, signer }))
    }

    fn clone_joiner(&mut self, joiner: &Joiner<C>) -> BenchResult<Joiner<C>> {
        Ok(Joiner {
            provider: joiner.provider.copy()?,
            signer: joiner.signer.copy(),
        })
    }

    fn create_group(&mut self, identity: &[u8]) -> BenchResult<Member<C>> {
        let provider = Provider::<C>::new()?;
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

    fn clone_member(&mut self, member: &Member<C>) -> BenchResult<Member<C>> {
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

    fn commit_update(&mut self, member: &mut Member<C>) -> BenchResult<Vec<u8>> {
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
        member: &mut Member<C>,
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

    fn discard_pending(&mut self, member: &mut Member<C>) -> BenchResult<()> {
        member
            .group
            .clear_pending_commit(member.provider.storage())
            .map_err(err)
    }

    fn merge_pending(&mut self, member: &mut Member<C>) -> BenchResult<()> {
        member
            .group
            .merge_pending_commit(&member.provider)
            .map_err(err)
    }

    fn process_commit(&mut self, member: &mut Member<C>, commit: &[u8]) -> BenchResult<()> {
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

    fn join(&mut self, joiner: Joiner<C>, welcome: &[u8]) -> BenchResult<Member<C>> {
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

    fn group_info(&mut self, member: &Member<C>) -> BenchResult<Vec<u8>> {
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
    ) -> BenchResult<(Member<C>, Vec<u8>)> {
        let MlsMessageBodyIn::GroupInfo(info) = decode(group_info)? else {
            return Err("not a GroupInfo".into());
        };
        let provider = Provider::<C>::new()?;
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

    fn protect(&mut self, member: &mut Member<C>, data: &[u8]) -> BenchResult<Vec<u8>> {
        let message = member
            .group
            .create_message(&member.provider, &member.signer.pair, data)
            .map_err(err)?;
        encode(&message)
    }

    fn unprotect(&mut self, member: &mut Member<C>, message: &[u8]) -> BenchResult<Vec<u8>> {
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

    fn leaf_index(&self, member: &Member<C>) -> u32 {
        member.group.own_leaf_index().u32()
    }

    fn epoch_authenticator(&self, member: &Member<C>) -> BenchResult<Vec<u8>> {
        Ok(member.group.epoch_authenticator().as_slice().to_vec())
    }

    fn ratchet_tree(&self, member: &Member<C>) -> BenchResult<Vec<u8>> {
        encode(&member.group.export_ratchet_tree())
    }
}
