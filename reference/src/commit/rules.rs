//! The validity rules of proposal lists (RFC 9420 sections 10.1, 11.1, 11.2, 11.3, 12.1
//! and 12.2), each failure its own [`CommitError`].

use crate::crypto::Suite;
use crate::framing::FramingError;
use crate::messages::{
    Capabilities, Commit, Extension, GroupContext, KeyPackage, LeafNode, PreSharedKeyId, Proposal,
    ProposalType, Psk, RequiredCapabilities, Sender,
};
use crate::ratchet_tree::RatchetTree;
use crate::tree_math::LeafIndex;

use super::CommitError;

/// Why a KeyPackage's or an Update's leaf node is refused: the `reason` of
/// [`CommitError::KeyPackageLeaf`] and [`CommitError::UpdateLeaf`], one per rule of
/// section 7.3 (`crate::requirement` maps each to its requirement IDs).
pub mod leaf_reason {
    /// RFC9420-7.3-13 (KeyPackage) and RFC9420-7.3-14 (Update): the wrong `leaf_node_source`.
    pub const KEY_PACKAGE_SOURCE: &str = "source is not key_package";
    pub const UPDATE_SOURCE: &str = "source is not update";
    /// RFC9420-7.3-7: the LeafNode signature does not verify with its own signature_key.
    pub const SIGNATURE: &str = "signature does not verify";
    /// RFC9420-7.3-12: an extension of the leaf is not in its `capabilities.extensions`.
    pub const EXTENSION_NOT_IN_CAPABILITIES: &str =
        "carries an extension its capabilities do not list";
    /// RFC9420-7.3-8 and RFC9420-11.1-1: the leaf lacks a capability the group's
    /// `required_capabilities` names.
    pub const REQUIRED_CAPABILITY: &str =
        "lacks a capability the group's required_capabilities names";
    /// RFC9420-7.3-14: an Update keeps the `encryption_key` of the leaf it replaces.
    pub const ENCRYPTION_KEY_UNCHANGED: &str = "keeps the encryption_key of the leaf it replaces";
    /// RFC9420-7.2-4: the leaf's credential type is not in its `capabilities.credentials`.
    pub const CREDENTIAL_NOT_IN_CAPABILITIES: &str =
        "has a credential type its capabilities do not list";
    /// RFC9420-13.5-11: the leaf's credential type is a GREASE value.
    pub const GREASE_CREDENTIAL: &str = "has a GREASE credential type";
    /// RFC9420-7.3-9: the added leaf's credential type is not supported by every member,
    /// or it does not support the credential type of every member.
    pub const CREDENTIAL_UNSUPPORTED: &str =
        "has a credential type some member does not support, or lacks one a member uses";
    /// RFC9420-13.4-4: two extensions of the leaf have the same type.
    pub const EXTENSION_REPEATED: &str = "carries two extensions of the same type";
}

/// The leaf checks of section 7.2 and 13 that hold for every LeafNode whatever its
/// source: its credential type is listed in its capabilities and is not GREASE, and no
/// extension type appears twice in its extensions. The reason, if one fails.
fn leaf_lists_and_types(leaf: &LeafNode) -> Option<&'static str> {
    let credential_type = leaf.credential.credential_type();
    if credential_type.is_grease() {
        return Some(leaf_reason::GREASE_CREDENTIAL);
    }
    if !leaf.capabilities.credentials.contains(&credential_type) {
        return Some(leaf_reason::CREDENTIAL_NOT_IN_CAPABILITIES);
    }
    let types: Vec<_> = leaf.extensions.iter().map(|e| e.extension_type).collect();
    if types
        .iter()
        .enumerate()
        .any(|(i, t)| types[..i].contains(t))
    {
        return Some(leaf_reason::EXTENSION_REPEATED);
    }
    None
}

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
                return Err(CommitError::KeyPackageLeaf(leaf_reason::KEY_PACKAGE_SOURCE));
            }
            crate::ratchet_tree::verify_leaf_signature(
                suite,
                &kp.leaf_node,
                group_id,
                LeafIndex(0),
            )
            .map_err(|_| CommitError::KeyPackageLeaf(leaf_reason::SIGNATURE))?;
            if kp.init_key.as_slice() == kp.leaf_node.encryption_key.as_slice() {
                return Err(CommitError::KeyPackageInitKeyReused);
            }
            if !extensions_in_capabilities(&kp.leaf_node) {
                return Err(CommitError::KeyPackageLeaf(
                    leaf_reason::EXTENSION_NOT_IN_CAPABILITIES,
                ));
            }
            if let Some(reason) = leaf_lists_and_types(&kp.leaf_node) {
                return Err(CommitError::KeyPackageLeaf(reason));
            }
            default_types_unlisted("KeyPackage", &kp.leaf_node)?;
            if let Some(extension) = kp.extensions.iter().find(|e| {
                !e.extension_type.is_default()
                    && !kp
                        .leaf_node
                        .capabilities
                        .extensions
                        .contains(&e.extension_type)
            }) {
                return Err(CommitError::KeyPackageExtensionNotInCapabilities(
                    extension.extension_type.0,
                ));
            }
            if let Some(repeated) = crate::messages::duplicate_extension_type(&kp.extensions) {
                return Err(CommitError::KeyPackageExtensionRepeated(repeated.0));
            }
        }
        Proposal::GroupContextExtensions(gce) => {
            if let Some(repeated) = crate::messages::duplicate_extension_type(&gce.extensions) {
                return Err(CommitError::GroupContextExtensionRepeated(repeated.0));
            }
        }
        Proposal::Update(update) => {
            let Sender::Member { leaf_index } = proposer else {
                return Err(CommitError::UnsupportedSender(proposer));
            };
            let leaf = &update.leaf_node;
            let refuse = |reason| CommitError::UpdateLeaf {
                leaf: leaf_index.0,
                reason,
            };
            if leaf.leaf_node_source != crate::messages::LeafNodeSource::Update {
                return Err(refuse(leaf_reason::UPDATE_SOURCE));
            }
            crate::ratchet_tree::verify_leaf_signature(suite, leaf, group_id, leaf_index)
                .map_err(|_| refuse(leaf_reason::SIGNATURE))?;
            // RFC9420-7.3-12: every extension of the new leaf is one it declares.
            if !extensions_in_capabilities(leaf) {
                return Err(refuse(leaf_reason::EXTENSION_NOT_IN_CAPABILITIES));
            }
            if let Some(reason) = leaf_lists_and_types(leaf) {
                return Err(refuse(reason));
            }
            default_types_unlisted("Update", leaf)?;
        }
        // RFC9420-12.1.4-3: "psk_nonce MUST be of length KDF.Nh".
        Proposal::PreSharedKey(psk) => {
            let (expected, actual) = (suite.hash_length(), psk.psk.psk_nonce.len());
            if actual != expected {
                return Err(CommitError::PskNonceLength { expected, actual });
            }
        }
        _ => {}
    }
    Ok(())
}

/// Section 10.1, everything a KeyPackage must satisfy on its own before any member adds
/// it (the checks an Add proposal's KeyPackage gets on receipt): version, signature,
/// `leaf_node_source`, the leaf's signature, `init_key` distinct from the leaf's
/// `encryption_key`, the leaf's extensions in its capabilities, no default type listed
/// (section 7.2), and, given a clock, the leaf's lifetime covering `now` (RFC9420-7.3-2).
/// `suite` is the suite the KeyPackage must be for.
pub fn validate_key_package(
    suite: &Suite,
    key_package: &KeyPackage,
    now: Option<u64>,
) -> Result<(), CommitError> {
    let add = Proposal::Add(crate::messages::Add {
        key_package: key_package.clone(),
    });
    check_proposal(
        suite,
        &[],
        &add,
        Sender::Member {
            leaf_index: LeafIndex(0),
        },
    )?;
    if let (Some(now), crate::messages::LeafNodeSource::KeyPackage { lifetime }) =
        (now, &key_package.leaf_node.leaf_node_source)
        && !(lifetime.not_before <= now && now <= lifetime.not_after)
    {
        return Err(CommitError::KeyPackageLifetime {
            not_before: lifetime.not_before,
            not_after: lifetime.not_after,
            now,
        });
    }
    Ok(())
}

/// RFC9420-7.2-1: default extension and proposal types are not listed in a leaf's
/// capabilities.
pub(crate) fn default_types_unlisted(
    which: &'static str,
    leaf: &LeafNode,
) -> Result<(), CommitError> {
    match leaf.capabilities.listed_default() {
        Some((what, code)) => Err(CommitError::DefaultTypeListed {
            leaf: which,
            what,
            code,
        }),
        None => Ok(()),
    }
}

/// Section 7.3: "Verify that the extensions in the LeafNode are supported by checking
/// that the ID for each extension in the `extensions` field is listed in the
/// `capabilities.extensions` field of the LeafNode" (default types are implied).
fn extensions_in_capabilities(leaf: &LeafNode) -> bool {
    leaf.extensions.iter().all(|extension| {
        extension.extension_type.is_default()
            || leaf
                .capabilities
                .extensions
                .contains(&extension.extension_type)
    })
}

/// The first capability of `required` that `capabilities` lacks, as (kind, code point).
/// Default extension and proposal types are supported by every client (section 7.2).
fn missing_capability(
    capabilities: &Capabilities,
    required: &RequiredCapabilities,
) -> Option<(&'static str, u16)> {
    let extension = required
        .extension_types
        .iter()
        .find(|t| !t.is_default() && !capabilities.extensions.contains(t))
        .map(|t| ("extension type", t.0));
    let proposal = || {
        required
            .proposal_types
            .iter()
            .find(|t| !t.is_default() && !capabilities.proposals.contains(t))
            .map(|t| ("proposal type", t.0))
    };
    let credential = || {
        required
            .credential_types
            .iter()
            .find(|t| !capabilities.credentials.contains(t))
            .map(|t| ("credential type", t.0))
    };
    extension.or_else(proposal).or_else(credential)
}

/// The checks of a commit's proposal list that need the group it applies to (its
/// GroupContext and tree), on top of [`validate_proposals`]:
///
/// - RFC9420-12.1.5-1: a ReInit may not lower the protocol version;
/// - RFC9420-7.3-14: an Update changes the leaf's `encryption_key`;
/// - RFC9420-11.1-1, RFC9420-7.3-8: every added KeyPackage, Update leaf and the
///   committer's new path leaf support the `required_capabilities` in force, which are
///   those of the list's GroupContextExtensions proposal if it has one (RFC9420-12.3-2);
/// - RFC9420-12.1.7-1, RFC9420-11.1-2: a GroupContextExtensions proposal is invalid if
///   a member staying in the group lacks one of its required capabilities.
pub(crate) fn check_against_group(
    context: &GroupContext,
    tree: &RatchetTree,
    proposals: &[(Proposal, Sender)],
    committer: Sender,
    path_leaf: Option<&LeafNode>,
) -> Result<(), CommitError> {
    if let Some(leaf) = path_leaf {
        default_types_unlisted("UpdatePath", leaf)?;
    }
    let mut new_extensions = None;
    let mut replaced: Vec<LeafIndex> = Vec::new();
    for (proposal, proposer) in proposals {
        match proposal {
            Proposal::ReInit(reinit) if reinit.version.0 < context.version.0 => {
                return Err(CommitError::ReInitVersionDowngrade {
                    proposed: reinit.version.0,
                    current: context.version.0,
                });
            }
            Proposal::GroupContextExtensions(gce) => new_extensions = Some(&gce.extensions),
            Proposal::Remove(remove) => replaced.push(remove.removed),
            Proposal::Update(update) => {
                if let Sender::Member { leaf_index } = proposer
                    && let Some(current) = tree.leaf(*leaf_index)
                    && current.encryption_key == update.leaf_node.encryption_key
                {
                    return Err(CommitError::UpdateLeaf {
                        leaf: leaf_index.0,
                        reason: leaf_reason::ENCRYPTION_KEY_UNCHANGED,
                    });
                }
            }
            _ => {}
        }
    }
    let extensions = new_extensions.map_or(context.extensions.as_slice(), Vec::as_slice);
    group_context_extensions_supported(extensions, tree, proposals, committer, path_leaf)?;
    credential_types_supported(tree, proposals)?;
    let Some(required) = Extension::find::<RequiredCapabilities>(extensions)
        .map_err(|e| CommitError::Framing(FramingError::Decode(e)))?
    else {
        return Ok(());
    };
    for (proposal, proposer) in proposals {
        match (proposal, proposer) {
            (Proposal::Add(add), _)
                if missing_capability(&add.key_package.leaf_node.capabilities, &required)
                    .is_some() =>
            {
                return Err(CommitError::KeyPackageLeaf(
                    leaf_reason::REQUIRED_CAPABILITY,
                ));
            }
            (Proposal::Update(update), Sender::Member { leaf_index }) => {
                replaced.push(*leaf_index);
                if missing_capability(&update.leaf_node.capabilities, &required).is_some() {
                    return Err(CommitError::UpdateLeaf {
                        leaf: leaf_index.0,
                        reason: leaf_reason::REQUIRED_CAPABILITY,
                    });
                }
            }
            _ => {}
        }
    }
    if let (Sender::Member { leaf_index }, Some(leaf)) = (committer, path_leaf) {
        replaced.push(leaf_index);
        if let Some((what, code)) = missing_capability(&leaf.capabilities, &required) {
            return Err(CommitError::RequiredCapabilityUnsupported {
                leaf: leaf_index.0,
                what,
                code,
            });
        }
    }
    // Only a new GroupContextExtensions proposal puts members that stay unchanged to the
    // test: under unchanged extensions they were checked when they joined or updated.
    if new_extensions.is_some() {
        for (leaf, node) in tree.leaves() {
            if replaced.contains(&leaf) {
                continue;
            }
            if let Some((what, code)) = missing_capability(&node.capabilities, &required) {
                return Err(CommitError::RequiredCapabilityUnsupported {
                    leaf: leaf.0,
                    what,
                    code,
                });
            }
        }
    }
    Ok(())
}

/// The first extension of `extensions` that a leaf with `capabilities` does not support:
/// not a default type and not listed, or a GREASE type (which no client counts as
/// supported, section 13.5).
fn unsupported_extension(
    extensions: &[Extension],
    capabilities: &crate::messages::Capabilities,
) -> Option<u16> {
    extensions
        .iter()
        .find(|e| {
            !e.extension_type.is_default()
                && (e.extension_type.is_grease()
                    || !capabilities.extensions.contains(&e.extension_type))
        })
        .map(|e| e.extension_type.0)
}

/// RFC9420-7.3-9, RFC9420-13.3-1: an added member supports the credential type of every
/// member staying in the group, and every such member supports the added one's.
fn credential_types_supported(
    tree: &RatchetTree,
    proposals: &[(Proposal, Sender)],
) -> Result<(), CommitError> {
    let removed: Vec<LeafIndex> = proposals
        .iter()
        .filter_map(|(proposal, _)| match proposal {
            Proposal::Remove(remove) => Some(remove.removed),
            _ => None,
        })
        .collect();
    let members: Vec<&LeafNode> = tree
        .leaves()
        .filter(|(leaf, _)| !removed.contains(leaf))
        .map(|(_, node)| node)
        .collect();
    for (proposal, _) in proposals {
        let Proposal::Add(add) = proposal else {
            continue;
        };
        let added = &add.key_package.leaf_node;
        let added_type = added.credential.credential_type();
        if members.iter().any(|member| {
            !member.capabilities.credentials.contains(&added_type)
                || !added
                    .capabilities
                    .credentials
                    .contains(&member.credential.credential_type())
        }) {
            return Err(CommitError::KeyPackageLeaf(
                leaf_reason::CREDENTIAL_UNSUPPORTED,
            ));
        }
    }
    Ok(())
}

/// RFC9420-13.4-6, RFC9420-13.4-9: every GroupContext extension in force after the
/// commit (`extensions`) is supported by every leaf of the new tree: added KeyPackages,
/// Update leaves, the committer's path leaf and, since only a GroupContextExtensions
/// proposal changes the extensions, every other member when the list has one.
fn group_context_extensions_supported(
    extensions: &[Extension],
    tree: &RatchetTree,
    proposals: &[(Proposal, Sender)],
    committer: Sender,
    path_leaf: Option<&LeafNode>,
) -> Result<(), CommitError> {
    let refuse =
        |leaf: Option<LeafIndex>, extension| CommitError::GroupContextExtensionUnsupported {
            leaf: leaf.map(|l| l.0),
            extension,
        };
    let mut changed: Vec<LeafIndex> = Vec::new();
    let mut extensions_change = false;
    for (proposal, proposer) in proposals {
        match (proposal, proposer) {
            (Proposal::Add(add), _) => {
                if let Some(code) =
                    unsupported_extension(extensions, &add.key_package.leaf_node.capabilities)
                {
                    return Err(refuse(None, code));
                }
            }
            (Proposal::Update(update), Sender::Member { leaf_index }) => {
                changed.push(*leaf_index);
                if let Some(code) =
                    unsupported_extension(extensions, &update.leaf_node.capabilities)
                {
                    return Err(refuse(Some(*leaf_index), code));
                }
            }
            (Proposal::Remove(remove), _) => changed.push(remove.removed),
            (Proposal::GroupContextExtensions(_), _) => extensions_change = true,
            _ => {}
        }
    }
    if let (Sender::Member { leaf_index }, Some(leaf)) = (committer, path_leaf) {
        changed.push(leaf_index);
        if let Some(code) = unsupported_extension(extensions, &leaf.capabilities) {
            return Err(refuse(Some(leaf_index), code));
        }
    }
    if extensions_change {
        for (leaf, node) in tree.leaves() {
            if changed.contains(&leaf) {
                continue;
            }
            if let Some(code) = unsupported_extension(extensions, &node.capabilities) {
                return Err(refuse(Some(leaf), code));
            }
        }
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

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
