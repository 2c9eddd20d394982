//! The per-member policy mls-rs asks for at every commit and every message it sends: which
//! wire format handshakes use, whether the next commit must carry an UpdatePath, and where
//! its ratchet tree goes.
//!
//! mls-rs reads these through its `MlsRules` trait; the MLSClient interface sets them per
//! group (`encrypt_handshake`) and per commit (`force_path`, `external_tree`), so each member
//! state owns one `Rules` and the adapter flips its switches before the call that reads them.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mls_rs::MlsRules;
use mls_rs::client_builder::PaddingMode;
use mls_rs::group::{GroupContext, Roster};
use mls_rs::mls_rules::{
    CommitDirection, CommitOptions, CommitSource, EncryptionOptions, ProposalBundle,
};

#[derive(Debug, Default)]
struct Switches {
    encrypt_handshake: AtomicBool,
    force_path: AtomicBool,
    external_tree: AtomicBool,
}

/// One member's switches; clones share them (mls-rs keeps its own clone in the group's
/// configuration).
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules(Arc<Switches>);

impl Rules {
    pub(crate) fn new(encrypt_handshake: bool) -> Self {
        let rules = Rules::default();
        rules.set_encrypt_handshake(encrypt_handshake);
        rules
    }

    /// PrivateMessage (true) or PublicMessage (false) for this member's proposals and commits.
    pub(crate) fn set_encrypt_handshake(&self, encrypt: bool) {
        self.0.encrypt_handshake.store(encrypt, Ordering::SeqCst);
    }

    /// The options of the next commit this member makes.
    pub(crate) fn set_commit(&self, force_path: bool, external_tree: bool) {
        self.0.force_path.store(force_path, Ordering::SeqCst);
        self.0.external_tree.store(external_tree, Ordering::SeqCst);
    }
}

impl MlsRules for Rules {
    type Error = Infallible;

    /// Every proposal is kept: a committer includes every valid proposal (RFC9420-12.4-3),
    /// and the interface asks for exactly the proposals it hands over.
    fn filter_proposals(
        &self,
        _direction: CommitDirection,
        _source: CommitSource,
        _roster: &Roster,
        _context: &GroupContext,
        proposals: ProposalBundle,
    ) -> Result<ProposalBundle, Self::Error> {
        Ok(proposals)
    }

    fn commit_options(
        &self,
        _roster: &Roster,
        _context: &GroupContext,
        _proposals: &ProposalBundle,
    ) -> Result<CommitOptions, Self::Error> {
        let external_tree = self.0.external_tree.load(Ordering::SeqCst);
        Ok(CommitOptions::new()
            .with_path_required(self.0.force_path.load(Ordering::SeqCst))
            .with_ratchet_tree_extension(!external_tree)
            .with_always_out_of_band_ratchet_tree(external_tree)
            .with_single_welcome_message(true))
    }

    fn encryption_options(
        &self,
        _roster: &Roster,
        _context: &GroupContext,
    ) -> Result<EncryptionOptions, Self::Error> {
        Ok(EncryptionOptions::new(
            self.0.encrypt_handshake.load(Ordering::SeqCst),
            PaddingMode::None,
        ))
    }
}
