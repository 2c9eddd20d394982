//! One interface over the three MLS implementations the group benchmarks compare:
//! bytes in, bytes out, so every row pays for its own encoding and decoding.
//!
//! ```text
//! Engine ──┬── reference::Reference   (concord-reference, its own RustCrypto-based provider)
//!          ├── openmls::OpenMls       (OpenMLS 0.9, openmls_rust_crypto, in-memory storage)
//!          └── mlsrs::MlsRs           (mls-rs 0.57, mls-rs-crypto-rustcrypto)
//! ```
//!
//! Settings aligned across the three: ciphersuite 1 (MLS_128_DHKEMX25519_AES128GCM_SHA256
//! _Ed25519), handshake messages as PublicMessage, no padding, the ratchet tree inside the
//! GroupInfo (Welcome and external join), commits with an UpdatePath only where asked.

use std::error::Error;

/// Errors of the set-up and of the measured calls; a benchmark stops on the first.
pub type BenchResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// An MLS implementation driven by the benchmarks.
pub trait Engine {
    /// One member's state in one group.
    type Member;
    /// A key package with what its owner needs to join from a Welcome.
    type Joiner;

    /// The row name in reports: `reference`, `openmls`, `mls-rs`.
    fn name(&self) -> String;

    /// A KeyPackage (an MLSMessage) and its owner.
    fn key_package(&mut self, identity: &[u8]) -> BenchResult<(Vec<u8>, Self::Joiner)>;

    /// A copy of `joiner` that can join once more (joining consumes stored keys).
    fn clone_joiner(&mut self, joiner: &Self::Joiner) -> BenchResult<Self::Joiner>;

    /// A one-member group at epoch 0.
    fn create_group(&mut self, identity: &[u8]) -> BenchResult<Self::Member>;

    /// An independent copy of `member` (set-up only, never measured).
    fn clone_member(&mut self, member: &Self::Member) -> BenchResult<Self::Member>;

    /// A commit with an UpdatePath and no proposals, left pending: the commit message.
    fn commit_update(&mut self, member: &mut Self::Member) -> BenchResult<Vec<u8>>;

    /// A commit adding `key_packages` (no UpdatePath unless the implementation insists),
    /// left pending: the commit message and the Welcome (ratchet tree inside).
    fn commit_add(
        &mut self,
        member: &mut Self::Member,
        key_packages: &[Vec<u8>],
    ) -> BenchResult<(Vec<u8>, Vec<u8>)>;

    /// Discards the pending commit.
    fn discard_pending(&mut self, member: &mut Self::Member) -> BenchResult<()>;

    /// Merges the pending commit.
    fn merge_pending(&mut self, member: &mut Self::Member) -> BenchResult<()>;

    /// Processes a commit of another member and moves to its epoch.
    fn process_commit(&mut self, member: &mut Self::Member, commit: &[u8]) -> BenchResult<()>;

    /// Joins from a Welcome whose GroupInfo carries the ratchet tree.
    fn join(&mut self, joiner: Self::Joiner, welcome: &[u8]) -> BenchResult<Self::Member>;

    /// The GroupInfo (with `external_pub` and the ratchet tree) as an MLSMessage.
    fn group_info(&mut self, member: &Self::Member) -> BenchResult<Vec<u8>>;

    /// Joins by external commit: the new member and the commit for the group.
    fn external_join(
        &mut self,
        group_info: &[u8],
        identity: &[u8],
    ) -> BenchResult<(Self::Member, Vec<u8>)>;

    /// An application message (PrivateMessage).
    fn protect(&mut self, member: &mut Self::Member, data: &[u8]) -> BenchResult<Vec<u8>>;

    /// The plaintext of an application message.
    fn unprotect(&mut self, member: &mut Self::Member, message: &[u8]) -> BenchResult<Vec<u8>>;

    /// The member's leaf index.
    fn leaf_index(&self, member: &Self::Member) -> u32;

    /// The current epoch's authenticator (section 8.7): members agree on it.
    fn epoch_authenticator(&self, member: &Self::Member) -> BenchResult<Vec<u8>>;

    /// The ratchet tree in its RFC 9420 encoding (section 12.4.3.3).
    fn ratchet_tree(&self, member: &Self::Member) -> BenchResult<Vec<u8>>;
}
