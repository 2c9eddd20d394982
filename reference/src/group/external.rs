//! External joins and external senders (RFC 9420 sections 12.4.3.2 and 12.1.8).

/// The result of an external join: the new member's group and its commit.
#[derive(Debug, Clone)]
pub struct ExternalJoin;

/// A signer outside the group that may send proposals (section 12.1.8).
#[derive(Debug, Clone)]
pub struct ExternalSigner;
