//! A small group driven through TreeKEM with real keys, then trees broken one rule at a
//! time to see each validation error.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::crypto::CipherSuite;
use crate::messages::{Capabilities, Credential, Lifetime, Node};
use crate::ratchet_tree::{
    ParentHashError, TreeValidationError, check_unique_encryption_keys, check_unmerged_leaves,
    validate_tree,
};

const GROUP_ID: &[u8] = b"treekem test group";
const CONTEXT: &[u8] = b"provisional group context";

struct Member {
    leaf: LeafIndex,
    signature_private: Vec<u8>,
    keys: PrivateKeys,
}

fn suite() -> Suite {
    Suite::new(CipherSuite(1)).unwrap()
}

fn key_package_leaf(suite: &Suite, rng: &mut ChaCha20Rng, tag: u8) -> (LeafNode, Vec<u8>, Vec<u8>) {
    let signature = suite.signature_generate(rng).unwrap();
    let encryption = suite.hpke_generate_key_pair(rng).unwrap();
    let mut leaf = LeafNode {
        encryption_key: HpkePublicKey::from(encryption.public),
        signature_key: signature.public.into(),
        credential: Credential::Basic {
            identity: Bytes(vec![tag]),
        },
        capabilities: Capabilities::default(),
        leaf_node_source: LeafNodeSource::KeyPackage {
            lifetime: Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        },
        extensions: Vec::new(),
        signature: Bytes::default(),
    };
    let tbs = leaf.tbs_bytes(GROUP_ID, LeafIndex(0));
    leaf.signature = Bytes(
        suite
            .sign_with_label(&signature.private, LeafNode::SIGNATURE_LABEL, &tbs)
            .unwrap(),
    );
    (leaf, signature.private, encryption.private)
}

/// Adds a member the way an Add proposal does.
fn add(suite: &Suite, rng: &mut ChaCha20Rng, tree: &mut RatchetTree, tag: u8) -> Member {
    let (leaf_node, signature_private, encryption_private) = key_package_leaf(suite, rng, tag);
    let leaf = tree.add_leaf(leaf_node).unwrap();
    Member {
        leaf,
        signature_private,
        keys: PrivateKeys::from([(leaf.node(), encryption_private)]),
    }
}

/// `committer` commits a path; every other member merges and decrypts it.
fn commit(
    suite: &Suite,
    rng: &mut ChaCha20Rng,
    tree: &mut RatchetTree,
    members: &mut [Member],
    committer: usize,
    new_members: &[LeafIndex],
) -> UpdatePath {
    let before = tree.clone();
    let sender = members[committer].leaf;
    let template = tree.leaf(sender).unwrap().clone();
    let prepared = prepare_update_path(
        suite,
        tree,
        sender,
        template,
        &members[committer].signature_private,
        GROUP_ID,
        rng,
    )
    .unwrap();
    let path = prepared
        .encrypt(suite, tree, CONTEXT, new_members, rng)
        .unwrap();
    for member in members.iter_mut() {
        if member.leaf == sender {
            member.keys = PrivateKeys::from([(sender.node(), prepared.leaf_private_key.clone())]);
            for (node, _, private) in &prepared.secrets.nodes {
                member.keys.insert(*node, private.clone());
            }
            continue;
        }
        let mut merged = before.clone();
        merge_update_path(suite, &mut merged, sender, &path, GROUP_ID).unwrap();
        assert_eq!(&merged, tree);
        if new_members.contains(&member.leaf) {
            continue;
        }
        let secrets = decrypt_update_path(
            suite,
            &merged,
            sender,
            member.leaf,
            &path,
            &member.keys,
            CONTEXT,
            new_members,
        )
        .unwrap();
        assert_eq!(secrets.commit_secret, prepared.secrets.commit_secret);
        for (node, _, private) in secrets.nodes {
            member.keys.insert(node, private);
        }
    }
    path
}

/// Six members: two commits, one member added between them and one after.
fn group() -> (Suite, RatchetTree, Vec<Member>, ChaCha20Rng) {
    let suite = suite();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (first, signature_private, encryption_private) = key_package_leaf(&suite, &mut rng, 0);
    let mut tree = RatchetTree::new(first);
    let mut members = vec![Member {
        leaf: LeafIndex(0),
        signature_private,
        keys: PrivateKeys::from([(NodeIndex(0), encryption_private)]),
    }];
    for tag in 1..4 {
        members.push(add(&suite, &mut rng, &mut tree, tag));
    }
    commit(&suite, &mut rng, &mut tree, &mut members, 0, &[]);
    members.push(add(&suite, &mut rng, &mut tree, 4));
    let path = commit(
        &suite,
        &mut rng,
        &mut tree,
        &mut members,
        2,
        &[LeafIndex(4)],
    );
    // Leaf 4 is in the root's copath child, but as a new member gets no ciphertext.
    assert_eq!(path.nodes.len(), 3);
    assert_eq!(path.nodes[2].encrypted_path_secret.len(), 0);
    // Leaf 5 is unmerged at the root.
    members.push(add(&suite, &mut rng, &mut tree, 5));
    assert_eq!(
        tree.parent_node(NodeIndex(7))
            .map(|p| p.unmerged_leaves.clone()),
        Some(vec![LeafIndex(5)])
    );
    (suite, tree, members, rng)
}

#[test]
fn a_group_commits_and_its_tree_validates() {
    let (suite, tree, _, _) = group();
    assert_eq!(tree.leaf_count(), 8);
    let hash = tree.tree_hash(&suite);
    assert_eq!(validate_tree(&suite, &tree, GROUP_ID, &hash), Ok(()));
    assert_eq!(
        validate_tree(&suite, &tree, GROUP_ID, b"other"),
        Err(TreeValidationError::TreeHashMismatch)
    );
    assert_eq!(
        validate_tree(&suite, &tree, b"other group", &hash),
        Err(TreeValidationError::LeafSignature(0))
    );
}

fn broken(change: impl FnOnce(&mut RatchetTree)) -> Result<(), TreeValidationError> {
    let (suite, mut tree, _, _) = group();
    change(&mut tree);
    let hash = tree.tree_hash(&suite);
    validate_tree(&suite, &tree, GROUP_ID, &hash)
}

fn edit_parent(tree: &mut RatchetTree, node: u32, edit: impl FnOnce(&mut ParentNode)) {
    let mut parent = tree.parent_node(NodeIndex(node)).unwrap().clone();
    edit(&mut parent);
    tree.set_parent(NodeIndex(node), parent);
}

#[test]
fn each_broken_rule_has_its_error() {
    assert_eq!(
        broken(|t| edit_parent(t, 5, |p| p.encryption_key =
            HpkePublicKey::from(vec![1; 32]))),
        Err(TreeValidationError::ParentHash(
            ParentHashError::NotParentHashValid(5)
        ))
    );
    assert_eq!(
        // Leaf 9 joins node 3's resolution, so the root no longer chains to node 3.
        broken(|t| edit_parent(t, 3, |p| p.unmerged_leaves = vec![LeafIndex(9)])),
        Err(TreeValidationError::ParentHash(
            ParentHashError::NotParentHashValid(7)
        ))
    );
    assert_eq!(
        broken(|t| {
            let leaf = t.leaf(LeafIndex(3)).unwrap().clone();
            // Leaf 5 is unmerged at the root: no parent hash covers it.
            let mut copy = t.leaf(LeafIndex(5)).unwrap().clone();
            copy.encryption_key = leaf.encryption_key;
            t.set_leaf(LeafIndex(5), copy).unwrap();
        }),
        Err(TreeValidationError::LeafSignature(5))
    );
}

fn validation_checks(tree: &RatchetTree) -> Result<(), TreeValidationError> {
    check_unmerged_leaves(tree)?;
    check_unique_encryption_keys(tree)
}

#[test]
fn unmerged_leaf_rules() {
    let (_, mut tree, _, _) = group();
    assert_eq!(validation_checks(&tree), Ok(()));
    edit_parent(&mut tree, 7, |p| {
        p.unmerged_leaves = vec![LeafIndex(5), LeafIndex(5)]
    });
    assert_eq!(
        validation_checks(&tree),
        Err(TreeValidationError::UnmergedLeavesNotSorted(7))
    );
    edit_parent(&mut tree, 7, |p| p.unmerged_leaves = vec![LeafIndex(6)]);
    assert_eq!(
        validation_checks(&tree),
        Err(TreeValidationError::UnmergedLeafNotDescendant { parent: 7, leaf: 6 })
    );
    edit_parent(&mut tree, 7, |p| p.unmerged_leaves = vec![LeafIndex(5)]);
    tree.set_parent(
        NodeIndex(11),
        ParentNode {
            encryption_key: HpkePublicKey::from(vec![2; 32]),
            parent_hash: Bytes::default(),
            unmerged_leaves: Vec::new(),
        },
    );
    assert_eq!(
        validation_checks(&tree),
        Err(TreeValidationError::UnmergedLeafMissingBelow {
            parent: 7,
            intermediate: 11,
            leaf: 5
        })
    );
    let key = match tree.node(NodeIndex(0)) {
        Some(Node::Leaf(l)) => l.encryption_key.clone(),
        _ => unreachable!(),
    };
    edit_parent(&mut tree, 11, |p| {
        p.encryption_key = key;
        p.unmerged_leaves = vec![LeafIndex(5)];
    });
    assert_eq!(
        validation_checks(&tree),
        Err(TreeValidationError::DuplicateEncryptionKey {
            first: 0,
            second: 11
        })
    );
}

#[test]
fn receivers_reject_bad_paths() {
    let (suite, tree, members, mut rng) = group();
    let sender = LeafIndex(1);
    let mut own = tree.clone();
    let template = tree.leaf(sender).unwrap().clone();
    let prepared = prepare_update_path(
        &suite,
        &mut own,
        sender,
        template,
        &members[1].signature_private,
        GROUP_ID,
        &mut rng,
    )
    .unwrap();
    let path = prepared
        .encrypt(&suite, &own, CONTEXT, &[], &mut rng)
        .unwrap();

    let mut merged = tree.clone();
    assert_eq!(
        merge_update_path(&suite, &mut merged, sender, &path, b"other group"),
        Err(TreeKemError::LeafSignature)
    );
    assert_eq!(merged, tree, "a failed merge leaves the tree unchanged");
    let mut short = path.clone();
    short.nodes.pop();
    assert_eq!(
        merge_update_path(&suite, &mut merged, sender, &short, GROUP_ID),
        Err(TreeKemError::PathLength {
            expected: 3,
            actual: 2
        })
    );
    let mut wrong_key = path.clone();
    wrong_key.nodes[1].encryption_key = HpkePublicKey::from(vec![3; 32]);
    assert_eq!(
        merge_update_path(&suite, &mut merged, sender, &wrong_key, GROUP_ID),
        Err(TreeKemError::ParentHashMismatch)
    );
    assert_eq!(
        merge_update_path(&suite, &mut merged, LeafIndex(6), &path, GROUP_ID),
        Err(TreeKemError::SenderBlank(6))
    );

    merge_update_path(&suite, &mut merged, sender, &path, GROUP_ID).unwrap();
    let receiver = &members[3];
    let decrypt = |path: &UpdatePath, context: &[u8]| {
        decrypt_update_path(
            &suite,
            &merged,
            sender,
            receiver.leaf,
            path,
            &receiver.keys,
            context,
            &[],
        )
    };
    assert!(matches!(
        decrypt(&path, b"another context"),
        Err(TreeKemError::Crypto(_))
    ));
    let mut extra = path.clone();
    let copy = extra.nodes[1].encrypted_path_secret[0].clone();
    extra.nodes[1].encrypted_path_secret.push(copy);
    assert_eq!(
        decrypt(&extra, CONTEXT),
        Err(TreeKemError::CiphertextCount {
            node: 3,
            expected: 1,
            actual: 2
        })
    );
    let secrets = decrypt(&path, CONTEXT).unwrap();
    assert_eq!(secrets.commit_secret, prepared.secrets.commit_secret);
    assert_eq!(
        decrypt_update_path(
            &suite,
            &merged,
            sender,
            sender,
            &path,
            &receiver.keys,
            CONTEXT,
            &[]
        ),
        Err(TreeKemError::NotAReceiver(1))
    );
}
