//! The validity rules of proposal lists (RFC 9420 sections 10.1, 11.2, 11.3, 12.1 and
//! 12.2), each failure its own [`CommitError`].

use crate::crypto::Suite;
use crate::messages::{Commit, KeyPackage, PreSharedKeyId, Proposal, ProposalType, Psk, Sender};
use crate::ratchet_tree::RatchetTree;
use crate::tree_math::LeafIndex;

use super::CommitError;

/// Sections 11.2 and 11.3: members never accept a PreSharedKey proposal for a reinit
/// or branch PSK (only a new group's creator uses one, in a commit nobody receives).
pub(crate) fn check_received_psk_usage(proposal: &Proposal) -> Result<(), CommitError> {
    match proposal {
        Proposal::PreSharedKey(psk)
            if matches!(
                psk.psk.psk,
                Psk::Resumption {
                    usage: crate::messages::ResumptionPskUsage::Reinit
                        | crate::messages::ResumptionPskUsage::Branch,
                    ..
                }
            ) =>
        {
            Err(CommitError::ReservedPskUsage)
        }
        _ => Ok(()),
    }
}

/// Section 12.2: an external commit's Removes (at most one, of the joiner's own
/// earlier leaf, recognised by its credential).
pub(crate) fn check_external_removes(
    tree: &RatchetTree,
    proposals: &[(Proposal, Sender)],
    commit: &Commit,
) -> Result<(), CommitError> {
    let removed: Vec<LeafIndex> = proposals
        .iter()
        .filter_map(|(p, _)| match p {
            Proposal::Remove(remove) => Some(remove.removed),
            _ => None,
        })
        .collect();
    if removed.len() > 1 {
        return Err(CommitError::ExternalCommitRemoves(removed.len()));
    }
    let credential = commit.path.as_ref().map(|path| &path.leaf_node.credential);
    for leaf in removed {
        if tree.leaf(leaf).map(|node| &node.credential) != credential {
            return Err(CommitError::ExternalRemoveIdentity(leaf.0));
        }
    }
    Ok(())
}

/// Sections 10.1, 12.1.1 and 12.1.2: what a single Add or Update must satisfy on its
/// own, checked on receipt and again when committed.
pub(crate) fn check_proposal(
    suite: &Suite,
    group_id: &[u8],
    proposal: &Proposal,
    proposer: Sender,
) -> Result<(), CommitError> {
    match proposal {
        Proposal::Add(add) => {
            let kp = &add.key_package;
            if kp.version != crate::messages::ProtocolVersion::MLS10 {
                return Err(CommitError::KeyPackageVersion(kp.version.0));
            }
            if kp.cipher_suite != suite.id() {
                return Err(CommitError::AddCipherSuite(kp.cipher_suite.0));
            }
            suite
                .verify_with_label(
                    kp.leaf_node.signature_key.as_slice(),
                    KeyPackage::SIGNATURE_LABEL,
                    &kp.tbs_bytes(),
                    kp.signature.as_slice(),
                )
                .map_err(|_| CommitError::KeyPackageSignature)?;
            if !matches!(
                kp.leaf_node.leaf_node_source,
                crate::messages::LeafNodeSource::KeyPackage { .. }
            ) {
                return Err(CommitError::KeyPackageLeaf("source is not key_package"));
            }
            crate::ratchet_tree::verify_leaf_signature(
                suite,
                &kp.leaf_node,
                group_id,
                LeafIndex(0),
            )
            .map_err(|_| CommitError::KeyPackageLeaf("signature does not verify"))?;
            if kp.init_key.as_slice() == kp.leaf_node.encryption_key.as_slice() {
                return Err(CommitError::KeyPackageInitKeyReused);
            }
        }
        Proposal::Update(update) => {
            let Sender::Member { leaf_index } = proposer else {
                return Err(CommitError::UnsupportedSender(proposer));
            };
            let leaf = &update.leaf_node;
            if leaf.leaf_node_source != crate::messages::LeafNodeSource::Update {
                return Err(CommitError::UpdateLeaf {
                    leaf: leaf_index.0,
                    reason: "source is not update",
                });
            }
            crate::ratchet_tree::verify_leaf_signature(suite, leaf, group_id, leaf_index).map_err(
                |_| CommitError::UpdateLeaf {
                    leaf: leaf_index.0,
                    reason: "signature does not verify",
                },
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Section 12.2 (and 12.4.3.2 for external commits): the rules a commit's proposal
/// list must satisfy.
pub(crate) fn validate_proposals(
    suite: &Suite,
    group_id: &[u8],
    tree: &RatchetTree,
    proposals: &[(Proposal, Sender)],
    committer: Sender,
    has_path: bool,
) -> Result<(), CommitError> {
    let committer_leaf = match committer {
        Sender::Member { leaf_index } => Some(leaf_index),
        _ => None,
    };
    let mut changed: Vec<LeafIndex> = Vec::new();
    let mut psks: Vec<&PreSharedKeyId> = Vec::new();
    let mut added_keys: Vec<&[u8]> = Vec::new();
    let mut gce = 0usize;
    let mut external_inits = 0usize;
    let mut reinit = false;
    for (proposal, proposer) in proposals {
        match proposal {
            Proposal::Update(_) => {
                let Sender::Member { leaf_index } = *proposer else {
                    return Err(CommitError::UnsupportedSender(*proposer));
                };
                if Some(leaf_index) == committer_leaf {
                    return Err(CommitError::CommitterUpdate);
                }
                if tree.leaf(leaf_index).is_none() {
                    return Err(CommitError::BlankTarget(leaf_index.0));
                }
                if changed.contains(&leaf_index) {
                    return Err(CommitError::DuplicateLeafChange(leaf_index.0));
                }
                changed.push(leaf_index);
            }
            Proposal::Remove(remove) => {
                if Some(remove.removed) == committer_leaf {
                    return Err(CommitError::CommitterRemoved);
                }
                if tree.leaf(remove.removed).is_none() {
                    return Err(CommitError::BlankTarget(remove.removed.0));
                }
                if changed.contains(&remove.removed) {
                    return Err(CommitError::DuplicateLeafChange(remove.removed.0));
                }
                changed.push(remove.removed);
            }
            Proposal::Add(add) => {
                if add.key_package.cipher_suite != suite.id() {
                    return Err(CommitError::AddCipherSuite(add.key_package.cipher_suite.0));
                }
                let key = add.key_package.leaf_node.signature_key.as_slice();
                if added_keys.contains(&key) {
                    return Err(CommitError::DuplicateAdd);
                }
                added_keys.push(key);
            }
            Proposal::PreSharedKey(psk) => {
                if psks.contains(&&psk.psk) {
                    return Err(CommitError::DuplicatePsk);
                }
                psks.push(&psk.psk);
            }
            Proposal::GroupContextExtensions(_) => gce += 1,
            Proposal::ExternalInit(_) => external_inits += 1,
            Proposal::ReInit(_) => reinit = true,
        }
        check_proposal(suite, group_id, proposal, *proposer)?;
    }
    // An Add of a key held by a member that stays in the group.
    if tree.leaves().any(|(leaf, node)| {
        !changed.contains(&leaf) && added_keys.contains(&node.signature_key.as_slice())
    }) {
        return Err(CommitError::DuplicateAdd);
    }
    if gce > 1 {
        return Err(CommitError::MultipleGroupContextExtensions);
    }
    if reinit && proposals.len() > 1 {
        return Err(CommitError::ReInitNotAlone);
    }
    if committer == Sender::NewMemberCommit {
        if external_inits != 1 {
            return Err(CommitError::MissingExternalInit);
        }
        for (proposal, _) in proposals {
            let kind = proposal.proposal_type();
            if !matches!(
                kind,
                ProposalType::EXTERNAL_INIT | ProposalType::REMOVE | ProposalType::PSK
            ) {
                return Err(CommitError::ExternalCommitProposal(kind.0));
            }
        }
    } else if external_inits > 0 {
        return Err(CommitError::InvalidExternalInit);
    }
    let needs_path = proposals.is_empty()
        || proposals
            .iter()
            .any(|(p, _)| p.proposal_type().requires_path());
    if needs_path && !has_path {
        return Err(CommitError::MissingPath);
    }
    Ok(())
}
