//! The reference MLS clients `concord provider-test` acts with, and the checks it makes on
//! MLS objects a provider hands out (KeyPackages, GroupInfos), through the MLSClient
//! interface of the embedded reference (as `concord sim` drives clients).

use concord_reference::codec::Codec;
use concord_reference::crypto::{CipherSuite, Suite};
use concord_reference::messages::{
    GroupInfo, KeyPackage, LeafNodeSource, MlsMessage, MlsMessageBody, RatchetTree as WireTree,
};
use concord_reference::ratchet_tree::RatchetTree;

use crate::client::ClientUnderTest;
use crate::client::proto::*;
use crate::client::reference::ReferenceClient;

/// The cipher suite of the rooms provider-test makes (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519).
pub const SUITE: u16 = 1;

/// One user's client: `user@domain`, one group at most.
pub struct Member {
    pub identity: String,
    client: ReferenceClient,
    state: Option<u32>,
    pending: Option<u32>,
    /// The transaction of the last KeyPackage made, for joining from a Welcome.
    transaction: Option<u32>,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("identity", &self.identity)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

impl Member {
    pub fn new(identity: &str, seed: u64) -> Self {
        Member {
            identity: identity.to_string(),
            client: ReferenceClient::new(seed),
            state: None,
            pending: None,
            transaction: None,
        }
    }

    fn state(&self) -> Result<u32, String> {
        self.state
            .ok_or_else(|| format!("{} is in no group", self.identity))
    }

    /// A fresh KeyPackage (an MLSMessage) for joining later.
    pub fn key_package(&mut self) -> Result<Vec<u8>, String> {
        let made = self
            .client
            .create_key_package(CreateKeyPackageRequest {
                cipher_suite: u32::from(SUITE),
                identity: self.identity.as_bytes().to_vec(),
            })
            .map_err(|e| err("CreateKeyPackage", e))?;
        self.transaction = Some(made.transaction_id);
        Ok(made.key_package)
    }

    /// Joins from a Welcome made for the last KeyPackage (the tree is in the Welcome).
    pub fn join(&mut self, welcome: &[u8]) -> Result<(), String> {
        let transaction_id = self
            .transaction
            .take()
            .ok_or_else(|| format!("{} made no KeyPackage to join with", self.identity))?;
        let joined = self
            .client
            .join_group(JoinGroupRequest {
                transaction_id,
                welcome: welcome.to_vec(),
                encrypt_handshake: false,
                identity: self.identity.as_bytes().to_vec(),
                ratchet_tree: Vec::new(),
            })
            .map_err(|e| err("JoinGroup", e))?;
        self.state = Some(joined.state_id);
        Ok(())
    }

    /// Processes another member's Commit (a PublicMessage).
    pub fn handle_commit(&mut self, commit: &[u8]) -> Result<(), String> {
        let state_id = self.state()?;
        let next = self
            .client
            .handle_commit(HandleCommitRequest {
                state_id,
                proposal: Vec::new(),
                commit: commit.to_vec(),
            })
            .map_err(|e| err("HandleCommit", e))?;
        self.state = Some(next.state_id);
        Ok(())
    }

    /// Opens an application message of the current epoch.
    pub fn unprotect(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        let state_id = self.state()?;
        self.client
            .unprotect(UnprotectRequest {
                state_id,
                ciphertext: ciphertext.to_vec(),
            })
            .map(|r| r.plaintext)
            .map_err(|e| err("Unprotect", e))
    }

    /// The pending Commit lost (the hub refused it): stay in the current epoch.
    pub fn commit_refused(&mut self) {
        self.pending = None;
    }

    /// Creates the room's group; returns its GroupInfo with the ratchet tree extension.
    pub fn create_group(&mut self, room: &str) -> Result<Vec<u8>, String> {
        let created = self
            .client
            .create_group(CreateGroupRequest {
                group_id: room.as_bytes().to_vec(),
                cipher_suite: u32::from(SUITE),
                encrypt_handshake: false,
                identity: self.identity.as_bytes().to_vec(),
            })
            .map_err(|e| err("CreateGroup", e))?;
        self.state = Some(created.state_id);
        self.group_info()
    }

    /// The GroupInfo of the current epoch, with the ratchet tree extension.
    pub fn group_info(&mut self) -> Result<Vec<u8>, String> {
        let state_id = self.state()?;
        self.client
            .group_info(GroupInfoRequest {
                state_id,
                external_tree: false,
            })
            .map(|r| r.group_info)
            .map_err(|e| err("GroupInfo", e))
    }

    /// A Commit adding the owners of `key_packages` (an empty list: a path-only Commit);
    /// returns the Commit and the Welcome (if any). The Commit stays pending until
    /// [`Member::commit_accepted`].
    pub fn commit(
        &mut self,
        key_packages: &[Vec<u8>],
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
        let state_id = self.state()?;
        let by_value = key_packages
            .iter()
            .map(|kp| ProposalDescription {
                proposal_type: b"add".to_vec(),
                key_package: kp.clone(),
                ..Default::default()
            })
            .collect();
        let answer = self
            .client
            .commit(CommitRequest {
                state_id,
                by_reference: Vec::new(),
                by_value,
                force_path: key_packages.is_empty(),
                external_tree: false,
            })
            .map_err(|e| err("Commit", e))?;
        self.pending = Some(state_id);
        let welcome = (!answer.welcome.is_empty()).then_some(answer.welcome);
        Ok((answer.commit, welcome))
    }

    /// A Commit removing the client whose identity is `removed` (pending like [`Member::commit`]).
    pub fn commit_removing(&mut self, removed: &str) -> Result<Vec<u8>, String> {
        let state_id = self.state()?;
        let answer = self
            .client
            .commit(CommitRequest {
                state_id,
                by_reference: Vec::new(),
                by_value: vec![ProposalDescription {
                    proposal_type: b"remove".to_vec(),
                    removed_id: removed.as_bytes().to_vec(),
                    ..Default::default()
                }],
                force_path: false,
                external_tree: false,
            })
            .map_err(|e| err("Commit", e))?;
        self.pending = Some(state_id);
        Ok(answer.commit)
    }

    /// A Commit of the proposals `proposals` (PublicMessages of this epoch) by reference,
    /// with a path (pending like [`Member::commit`]).
    pub fn commit_by_reference(&mut self, proposals: &[Vec<u8>]) -> Result<Vec<u8>, String> {
        let state_id = self.state()?;
        let answer = self
            .client
            .commit(CommitRequest {
                state_id,
                by_reference: proposals.to_vec(),
                by_value: Vec::new(),
                force_path: true,
                external_tree: false,
            })
            .map_err(|e| err("Commit", e))?;
        self.pending = Some(state_id);
        Ok(answer.commit)
    }

    /// A Remove proposal (a PublicMessage) for the client whose identity is `removed`.
    pub fn propose_remove(&mut self, removed: &str) -> Result<Vec<u8>, String> {
        let state_id = self.state()?;
        self.client
            .remove_proposal(RemoveProposalRequest {
                state_id,
                removed_id: removed.as_bytes().to_vec(),
            })
            .map(|r| r.proposal)
            .map_err(|e| err("RemoveProposal", e))
    }

    /// Joins by external Commit from a GroupInfo carrying the ratchet tree; returns the
    /// Commit. The member is in the new epoch at once (the interface has no pending state
    /// for it): if the hub refuses the Commit, this member is not to be used again.
    pub fn external_join(&mut self, group_info: &[u8]) -> Result<Vec<u8>, String> {
        let joined = self
            .client
            .external_join(ExternalJoinRequest {
                group_info: group_info.to_vec(),
                identity: self.identity.as_bytes().to_vec(),
                ..Default::default()
            })
            .map_err(|e| err("ExternalJoin", e))?;
        self.state = Some(joined.state_id);
        Ok(joined.commit)
    }

    /// The hub accepted the pending Commit: move to its epoch.
    pub fn commit_accepted(&mut self) -> Result<(), String> {
        let state_id = self
            .pending
            .take()
            .ok_or_else(|| format!("{} has no pending Commit", self.identity))?;
        let next = self
            .client
            .handle_pending_commit(HandlePendingCommitRequest { state_id })
            .map_err(|e| err("HandlePendingCommit", e))?;
        self.state = Some(next.state_id);
        Ok(())
    }

    /// An application message (PrivateMessage) of the current epoch.
    pub fn protect(&mut self, text: &str) -> Result<Vec<u8>, String> {
        let state_id = self.state()?;
        self.client
            .protect(ProtectRequest {
                state_id,
                authenticated_data: Vec::new(),
                plaintext: text.as_bytes().to_vec(),
            })
            .map(|r| r.ciphertext)
            .map_err(|e| err("Protect", e))
    }
}

/// What a KeyPackage check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackageFacts {
    pub identity: String,
    pub init_key: Vec<u8>,
}

/// Checks a KeyPackage handed out by a provider: it decodes (as an MLSMessage or bare),
/// its signature verifies with its leaf's key, its leaf signature verifies, its lifetime
/// covers `now_s` (seconds since the Unix epoch), and its credential is a basic identity.
pub fn check_key_package(bytes: &[u8], now_s: u64) -> Result<KeyPackageFacts, String> {
    let kp = match MlsMessage::from_bytes(bytes) {
        Ok(MlsMessage {
            body: MlsMessageBody::KeyPackage(kp),
            ..
        }) => kp,
        Ok(_) => return Err("an MLSMessage that is not a KeyPackage".into()),
        Err(first) => KeyPackage::from_bytes(bytes)
            .map_err(|e| format!("not a KeyPackage (as MLSMessage: {first}; bare: {e})"))?,
    };
    let suite = Suite::new(kp.cipher_suite).map_err(|e| format!("cipher suite: {e}"))?;
    let signature_key = kp.leaf_node.signature_key.0.as_slice();
    suite
        .verify_with_label(
            signature_key,
            KeyPackage::SIGNATURE_LABEL,
            &kp.tbs_bytes(),
            kp.signature.as_slice(),
        )
        .map_err(|_| "the KeyPackage signature does not verify with its leaf's key".to_string())?;
    let LeafNodeSource::KeyPackage { lifetime } = &kp.leaf_node.leaf_node_source else {
        return Err("the leaf's source is not key_package".into());
    };
    if now_s < lifetime.not_before || now_s > lifetime.not_after {
        return Err(format!(
            "expired or not yet valid: lifetime {}..{} at {now_s}",
            lifetime.not_before, lifetime.not_after
        ));
    }
    let identity = match &kp.leaf_node.credential {
        concord_reference::messages::Credential::Basic { identity } => {
            String::from_utf8_lossy(identity.as_slice()).into_owned()
        }
        _ => return Err("the credential is not a basic credential".into()),
    };
    if CipherSuite(SUITE) != kp.cipher_suite {
        return Err(format!(
            "cipher suite {} (the rooms of this test use {SUITE})",
            kp.cipher_suite.0
        ));
    }
    Ok(KeyPackageFacts {
        identity,
        init_key: kp.init_key.0.as_slice().to_vec(),
    })
}

/// Checks a GroupInfo a hub returned: its signature verifies with the signer's leaf in
/// `ratchet_tree` (or in the GroupInfo's own ratchet_tree extension when `ratchet_tree` is
/// empty). Returns its epoch.
pub fn check_group_info(group_info: &[u8], ratchet_tree: &[u8]) -> Result<u64, String> {
    let info = match MlsMessage::from_bytes(group_info) {
        Ok(MlsMessage {
            body: MlsMessageBody::GroupInfo(info),
            ..
        }) => info,
        Ok(_) => return Err("an MLSMessage that is not a GroupInfo".into()),
        Err(first) => GroupInfo::from_bytes(group_info)
            .map_err(|e| format!("not a GroupInfo (as MLSMessage: {first}; bare: {e})"))?,
    };
    let tree_bytes: Vec<u8> = if ratchet_tree.is_empty() {
        info.extensions
            .iter()
            .find(|e| e.extension_type == concord_reference::messages::ExtensionType::RATCHET_TREE)
            .map(|e| e.extension_data.as_slice().to_vec())
            .ok_or("no ratchet tree: none returned and no ratchet_tree extension")?
    } else {
        ratchet_tree.to_vec()
    };
    let wire = WireTree::from_bytes(&tree_bytes).map_err(|e| format!("ratchet tree: {e}"))?;
    let tree = RatchetTree::from_wire(&wire).map_err(|e| format!("ratchet tree: {e}"))?;
    let signer = tree
        .leaf(info.signer)
        .ok_or_else(|| format!("the signer leaf {} is blank or absent", info.signer.0))?;
    let suite =
        Suite::new(info.group_context.cipher_suite).map_err(|e| format!("cipher suite: {e}"))?;
    concord_reference::welcome::verify_group_info_signature(
        &suite,
        &info,
        signer.signature_key.0.as_slice(),
    )
    .map_err(|e| format!("signature: {e}"))?;
    Ok(info.group_context.epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_packages_and_group_infos_check() {
        let mut alice = Member::new("alice@f1.example", 1);
        let mut bob = Member::new("bob@f2.example", 2);
        let kp = bob.key_package().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let facts = check_key_package(&kp, now).unwrap();
        assert_eq!(facts.identity, "bob@f2.example");
        let mut bad = kp.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(check_key_package(&bad, now).is_err());

        let info = alice.create_group("r1").unwrap();
        assert_eq!(check_group_info(&info, &[]).unwrap(), 0);
        let (_commit, welcome) = alice.commit(&[kp]).unwrap();
        assert!(welcome.is_some());
        alice.commit_accepted().unwrap();
        let info = alice.group_info().unwrap();
        assert_eq!(check_group_info(&info, &[]).unwrap(), 1);
        let mut forged = info.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(check_group_info(&forged, &[]).is_err());
        assert!(!alice.protect("hi").unwrap().is_empty());
    }
}
