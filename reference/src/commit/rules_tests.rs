//! The rules of `rules.rs` that need the group (sections 7.3, 11.1, 12.1.4, 12.1.5,
//! 12.1.7), each broken on purpose against a real two-member group, and the same inputs
//! made valid to show that only the broken rule decides.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::codec::Bytes;
use crate::crypto::CipherSuite;
use crate::group::{CommitOptions, Group, GroupConfig, GroupError, PskStore, create_key_package};
use crate::messages::{
    Add, ExtensionType, GroupContextExtensions, LeafNodeSource, MlsMessageBody, PreSharedKey,
    ProtocolVersion, ReInit, Remove, Update,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
const NOW: u64 = 1_700_000_000;
/// A non-default extension type no leaf of the reference lists in its capabilities.
const PRIVATE_EXTENSION: ExtensionType = ExtensionType(0xff00);

/// Alice (leaf 0) and Bob (leaf 1), both at epoch 1.
fn two_members(rng: &mut ChaCha20Rng) -> Result<(Group, Group), Box<dyn std::error::Error>> {
    let mut alice = Group::create(
        SUITE,
        b"rules".to_vec(),
        b"alice",
        None,
        Vec::new(),
        GroupConfig::default(),
        NOW,
        rng,
    )?;
    let (key_package, secrets) = create_key_package(&alice.suite(), b"bob", None, NOW, rng)?;
    let options = CommitOptions {
        by_value: vec![Proposal::Add(Add {
            key_package: key_package.clone(),
        })],
        ..CommitOptions::default()
    };
    let output = alice.commit(&options, rng)?;
    alice.merge_pending_commit()?;
    let Some(MlsMessageBody::Welcome(welcome)) = output.welcome.map(|m| m.body) else {
        return Err("the commit has no Welcome".into());
    };
    let bob = Group::join(
        &welcome,
        &key_package,
        &secrets,
        output.ratchet_tree.as_ref(),
        &PskStore::default(),
        GroupConfig::default(),
    )?;
    Ok((alice, bob))
}

fn requiring(extension_types: Vec<ExtensionType>) -> Vec<Extension> {
    vec![Extension::from_content(&RequiredCapabilities {
        extension_types,
        proposal_types: Vec::new(),
        credential_types: Vec::new(),
    })]
}

fn gce(extensions: Vec<Extension>) -> Proposal {
    Proposal::GroupContextExtensions(GroupContextExtensions { extensions })
}

fn member(leaf: u32) -> Sender {
    Sender::Member {
        leaf_index: LeafIndex(leaf),
    }
}

/// `leaf` with `change` applied, as an Update leaf of `leaf_index`, signed with `private`.
fn update_leaf(
    group: &Group,
    leaf_index: u32,
    private: &[u8],
    change: impl FnOnce(&mut LeafNode),
) -> Result<LeafNode, Box<dyn std::error::Error>> {
    let suite = group.suite();
    let mut leaf = group
        .tree()
        .leaf(LeafIndex(leaf_index))
        .cloned()
        .ok_or("blank leaf")?;
    leaf.leaf_node_source = LeafNodeSource::Update;
    change(&mut leaf);
    leaf.signature = Bytes(suite.sign_with_label(
        private,
        LeafNode::SIGNATURE_LABEL,
        &leaf.tbs_bytes(group.group_id(), LeafIndex(leaf_index)),
    )?);
    Ok(leaf)
}

#[test]
fn a_group_context_extensions_proposal_needs_every_staying_member_to_support_it() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (alice, mut bob) = two_members(&mut rng)?;
    let (context, tree) = (alice.group_context(), alice.tree());
    let unsupported = gce(requiring(vec![PRIVATE_EXTENSION]));
    assert_eq!(
        check_against_group(
            context,
            tree,
            &[(unsupported.clone(), member(0))],
            member(0),
            None
        ),
        Err(CommitError::RequiredCapabilityUnsupported {
            leaf: 0,
            what: "extension type",
            code: PRIVATE_EXTENSION.0,
        })
    );
    // Default types need not be listed: everybody supports them.
    let default = gce(requiring(vec![ExtensionType::APPLICATION_ID]));
    assert_eq!(
        check_against_group(context, tree, &[(default, member(0))], member(0), None),
        Ok(())
    );
    // Alice's new path leaf supports the extension and Bob is removed: nobody staying
    // lacks it (RFC9420-12.1.7-1 counts members after the commit).
    let mut path_leaf = tree.leaf(LeafIndex(0)).cloned().ok_or("blank leaf")?;
    path_leaf.capabilities.extensions.push(PRIVATE_EXTENSION);
    let list = [
        (unsupported.clone(), member(0)),
        (
            Proposal::Remove(Remove {
                removed: LeafIndex(1),
            }),
            member(0),
        ),
    ];
    assert_eq!(
        check_against_group(context, tree, &list, member(0), Some(&path_leaf)),
        Ok(())
    );
    // Without the Remove, Bob stays and lacks it.
    assert_eq!(
        check_against_group(context, tree, &list[..1], member(0), Some(&path_leaf)),
        Err(CommitError::RequiredCapabilityUnsupported {
            leaf: 1,
            what: "extension type",
            code: PRIVATE_EXTENSION.0,
        })
    );
    // The sender refuses to propose it, and a receiver refuses a commit carrying it.
    let mut alice = alice;
    assert_eq!(
        alice
            .propose_group_context_extensions(requiring(vec![PRIVATE_EXTENSION]), &mut rng)
            .err(),
        Some(GroupError::Commit(
            CommitError::RequiredCapabilityUnsupported {
                leaf: 0,
                what: "extension type",
                code: PRIVATE_EXTENSION.0,
            }
        ))
    );
    let options = CommitOptions {
        by_value: vec![unsupported],
        ..CommitOptions::default()
    };
    let output = alice.commit(&options, &mut rng)?;
    let epoch = bob.epoch();
    assert_eq!(
        bob.process_message(&output.commit).err(),
        Some(GroupError::Commit(
            CommitError::RequiredCapabilityUnsupported {
                leaf: 0,
                what: "extension type",
                code: PRIVATE_EXTENSION.0,
            }
        ))
    );
    assert_eq!(bob.epoch(), epoch);
    Ok(())
}

#[test]
fn an_add_must_support_the_required_capabilities_in_force() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (mut alice, _) = two_members(&mut rng)?;
    let (key_package, _) = create_key_package(&alice.suite(), b"carol", None, NOW, &mut rng)?;
    let add = Proposal::Add(Add { key_package });
    let mut context = alice.group_context().clone();
    context.extensions = requiring(vec![PRIVATE_EXTENSION]);
    let tree = alice.tree();
    let refused = Err(CommitError::KeyPackageLeaf(
        leaf_reason::REQUIRED_CAPABILITY,
    ));
    assert_eq!(
        check_against_group(&context, tree, &[(add.clone(), member(0))], member(0), None),
        refused
    );
    // A GroupContextExtensions proposal of the same list sets the extensions the Add is
    // judged by (RFC9420-12.3-2): dropping the requirement admits the Add, adding it to
    // a group without one refuses it.
    let dropped = [(gce(Vec::new()), member(0)), (add.clone(), member(0))];
    assert_eq!(
        check_against_group(&context, tree, &dropped, member(0), None),
        Ok(())
    );
    let added = [
        (gce(requiring(vec![PRIVATE_EXTENSION])), member(0)),
        (add.clone(), member(0)),
    ];
    assert_eq!(
        check_against_group(alice.group_context(), tree, &added, member(0), None),
        refused
    );
    assert_eq!(
        check_against_group(
            alice.group_context(),
            tree,
            &[(add.clone(), member(0))],
            member(0),
            None
        ),
        Ok(())
    );
    // propose_add runs the receivers' KeyPackage checks first.
    let Proposal::Add(Add { mut key_package }) = add else {
        return Err("not an Add".into());
    };
    key_package.cipher_suite = CipherSuite(3);
    assert_eq!(
        alice.propose_add(key_package, &mut rng).err(),
        Some(GroupError::Commit(CommitError::AddCipherSuite(3)))
    );
    Ok(())
}

#[test]
fn a_psk_nonce_is_kdf_nh_bytes_long() -> TestResult {
    let suite = Suite::new(SUITE)?;
    let psk = |length: usize| {
        Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk: Psk::External {
                    psk_id: Bytes(b"psk".to_vec()),
                },
                psk_nonce: Bytes(vec![7; length]),
            },
        })
    };
    for length in [0, 16, 31, 33, 64] {
        assert_eq!(
            check_proposal(&suite, b"group", &psk(length), member(0)),
            Err(CommitError::PskNonceLength {
                expected: 32,
                actual: length
            })
        );
    }
    assert_eq!(
        check_proposal(&suite, b"group", &psk(32), member(0)),
        Ok(())
    );
    Ok(())
}

#[test]
fn a_reinit_may_not_lower_the_protocol_version() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (alice, _) = two_members(&mut rng)?;
    let reinit = |version| {
        Proposal::ReInit(ReInit {
            group_id: Bytes(b"next".to_vec()),
            version,
            cipher_suite: SUITE,
            extensions: Vec::new(),
        })
    };
    let (context, tree) = (alice.group_context(), alice.tree());
    assert_eq!(
        check_against_group(
            context,
            tree,
            &[(reinit(ProtocolVersion(0)), member(0))],
            member(0),
            None
        ),
        Err(CommitError::ReInitVersionDowngrade {
            proposed: 0,
            current: 1
        })
    );
    for version in [ProtocolVersion::MLS10, ProtocolVersion(2)] {
        assert_eq!(
            check_against_group(
                context,
                tree,
                &[(reinit(version), member(0))],
                member(0),
                None
            ),
            Ok(())
        );
    }
    Ok(())
}

#[test]
fn an_update_leaf_declares_its_extensions_and_changes_its_encryption_key() -> TestResult {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (alice, bob) = two_members(&mut rng)?;
    let suite = bob.suite();
    let private = bob.state.group.signature_private_key.clone();
    let group_id = alice.group_id().to_vec();
    let update = |leaf_node| Proposal::Update(Update { leaf_node });
    let fresh = suite.hpke_generate_key_pair(&mut rng)?.public;

    // RFC9420-7.3-14: the same encryption key as the leaf it replaces.
    let same_key = update_leaf(&alice, 1, &private, |_| ())?;
    assert_eq!(
        check_proposal(&suite, &group_id, &update(same_key.clone()), member(1)),
        Ok(())
    );
    let (context, tree) = (alice.group_context(), alice.tree());
    assert_eq!(
        check_against_group(
            context,
            tree,
            &[(update(same_key), member(1))],
            member(0),
            None
        ),
        Err(CommitError::UpdateLeaf {
            leaf: 1,
            reason: leaf_reason::ENCRYPTION_KEY_UNCHANGED
        })
    );
    let new_key = update_leaf(&alice, 1, &private, |leaf| {
        leaf.encryption_key = crate::messages::HpkePublicKey(Bytes(fresh.clone()));
    })?;
    assert_eq!(
        check_against_group(
            context,
            tree,
            &[(update(new_key.clone()), member(1))],
            member(0),
            None
        ),
        Ok(())
    );

    // RFC9420-7.3-12: an extension the leaf's capabilities do not list.
    let undeclared = update_leaf(&alice, 1, &private, |leaf| {
        leaf.encryption_key = crate::messages::HpkePublicKey(Bytes(fresh.clone()));
        leaf.extensions.push(Extension {
            extension_type: PRIVATE_EXTENSION,
            extension_data: Bytes(vec![1, 2, 3]),
        });
    })?;
    assert_eq!(
        check_proposal(&suite, &group_id, &update(undeclared), member(1)),
        Err(CommitError::UpdateLeaf {
            leaf: 1,
            reason: leaf_reason::EXTENSION_NOT_IN_CAPABILITIES
        })
    );
    let declared = update_leaf(&alice, 1, &private, |leaf| {
        leaf.encryption_key = crate::messages::HpkePublicKey(Bytes(fresh.clone()));
        leaf.capabilities.extensions.push(PRIVATE_EXTENSION);
        leaf.extensions.push(Extension {
            extension_type: PRIVATE_EXTENSION,
            extension_data: Bytes(vec![1, 2, 3]),
        });
    })?;
    assert_eq!(
        check_proposal(&suite, &group_id, &update(declared), member(1)),
        Ok(())
    );

    // RFC9420-7.3-8: under a required capability, the Update's leaf must list it.
    let mut context = context.clone();
    context.extensions = requiring(vec![PRIVATE_EXTENSION]);
    assert_eq!(
        check_against_group(
            &context,
            tree,
            &[(update(new_key), member(1))],
            member(0),
            None
        ),
        Err(CommitError::UpdateLeaf {
            leaf: 1,
            reason: leaf_reason::REQUIRED_CAPABILITY
        })
    );
    Ok(())
}
