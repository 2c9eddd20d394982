//! The OpenMLS provider each group state and each pending key package gets: the RustCrypto
//! primitives, an in-memory store of its own, and randomness drawn from a seed.
//!
//! ```text
//! OpenMlsClient ── ChaCha20 (client seed) ──> per-state seed ──> StateProvider
//!                                                               ├── crypto:  RustCrypto (own entropy)
//!                                                               ├── rand:    SeededRand (ChaCha20)
//!                                                               └── storage: MemoryStorage (not shared)
//! ```
//!
//! One store per state, not per client: two actors of one script may run on the same
//! client and be members of the same group, and OpenMLS keys much of its stored state by
//! group id, so a shared store would let one member's state overwrite the other's.

use std::sync::Mutex;

use openmls::prelude::{KeyPackageRef, OpenMlsCrypto as _};
use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::OpenMlsProvider;
use openmls_traits::random::OpenMlsRand;
use openmls_traits::storage::{CURRENT_VERSION, Entity, StorageProvider as _, traits};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// Randomness for everything OpenMLS draws through [`OpenMlsRand`]: ChaCha20 from a seed.
#[derive(Debug)]
pub struct SeededRand {
    rng: Mutex<ChaCha20Rng>,
}

/// The seeded generator's lock was poisoned by a panic in another thread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the random generator's lock is poisoned")]
pub struct RandPoisoned;

impl SeededRand {
    pub fn new(seed: [u8; 32]) -> Self {
        SeededRand {
            rng: Mutex::new(ChaCha20Rng::from_seed(seed)),
        }
    }
}

impl OpenMlsRand for SeededRand {
    type Error = RandPoisoned;

    fn random_array<const N: usize>(&self) -> Result<[u8; N], Self::Error> {
        let mut out = [0u8; N];
        self.rng
            .lock()
            .map_err(|_| RandPoisoned)?
            .fill_bytes(&mut out);
        Ok(out)
    }

    fn random_vec(&self, len: usize) -> Result<Vec<u8>, Self::Error> {
        let mut out = vec![0u8; len];
        self.rng
            .lock()
            .map_err(|_| RandPoisoned)?
            .fill_bytes(&mut out);
        Ok(out)
    }
}

/// The provider of one group state or one pending key package.
#[derive(Debug)]
pub struct StateProvider {
    crypto: RustCrypto,
    rand: SeededRand,
    storage: MemoryStorage,
}

impl StateProvider {
    pub fn new(seed: [u8; 32]) -> Self {
        StateProvider {
            crypto: RustCrypto::default(),
            rand: SeededRand::new(seed),
            storage: MemoryStorage::default(),
        }
    }
}

impl OpenMlsProvider for StateProvider {
    type CryptoProvider = RustCrypto;
    type RandProvider = SeededRand;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        &self.rand
    }
}

/// A key package bundle as the store holds it, read back without OpenMLS's private type.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
struct StoredBundle(serde_json::Value);

impl Entity<CURRENT_VERSION> for StoredBundle {}
impl traits::KeyPackage<CURRENT_VERSION> for StoredBundle {}

/// The bytes of a stored byte string, however many newtype layers wrap it.
fn stored_bytes(value: &serde_json::Value) -> Option<Vec<u8>> {
    match value {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| item.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect(),
        serde_json::Value::Object(fields) if fields.len() == 1 => {
            fields.values().next().and_then(stored_bytes)
        }
        _ => None,
    }
}

impl StateProvider {
    /// A fresh signature key pair from the crypto provider: (private, public).
    pub fn signature_key_pair(
        &self,
        scheme: openmls::prelude::SignatureScheme,
    ) -> Result<(Vec<u8>, Vec<u8>), openmls::prelude::CryptoError> {
        self.crypto.signature_key_gen(scheme)
    }

    /// The private leaf encryption key of a key package this provider made. OpenMLS hands
    /// it out only to its own tests, but keeps it in the store next to the key package,
    /// where this reads it back: (init private key, encryption private key).
    pub fn key_package_private_keys(
        &self,
        reference: &KeyPackageRef,
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        let StoredBundle(bundle) = self
            .storage
            .key_package::<KeyPackageRef, StoredBundle>(reference)
            .ok()
            .flatten()?;
        Some((
            stored_bytes(bundle.get("private_init_key")?)?,
            stored_bytes(bundle.get("private_encryption_key")?)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_bytes_and_another_seed_does_not() {
        let a = SeededRand::new([7; 32]);
        let b = SeededRand::new([7; 32]);
        let c = SeededRand::new([8; 32]);
        let first = a.random_vec(32).unwrap();
        assert_eq!(first, b.random_vec(32).unwrap());
        assert_ne!(first, c.random_vec(32).unwrap());
        assert_ne!(first, a.random_vec(32).unwrap());
        let array: [u8; 16] = a.random_array().unwrap();
        assert_ne!(array, [0; 16]);
    }

    #[test]
    fn the_private_keys_read_back_from_the_store_are_the_key_packages() {
        use openmls::prelude::{BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage};
        let provider = StateProvider::new([1; 32]);
        let suite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
        let (private, public) = provider
            .signature_key_pair(suite.signature_algorithm())
            .unwrap();
        let signer = openmls_basic_credential::SignatureKeyPair::from_raw(
            suite.signature_algorithm(),
            private,
            public.clone(),
        );
        let credential = CredentialWithKey {
            credential: BasicCredential::new(b"a".to_vec()).into(),
            signature_key: public.into(),
        };
        let bundle = KeyPackage::builder()
            .build(suite, &provider, &signer, credential)
            .unwrap();
        let reference = bundle.key_package().hash_ref(provider.crypto()).unwrap();
        let (init, encryption) = provider.key_package_private_keys(&reference).unwrap();
        assert_eq!(init, bundle.init_private_key().to_vec());
        assert_eq!(encryption.len(), 32);
        assert_ne!(encryption, init);
        let other = StateProvider::new([2; 32]);
        assert!(other.key_package_private_keys(&reference).is_none());
    }
}
