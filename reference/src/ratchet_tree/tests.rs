use super::*;
use crate::codec::Bytes;
use crate::messages::{Capabilities, Credential, HpkePublicKey, LeafNodeSource, Lifetime};

fn leaf(tag: u8) -> LeafNode {
    LeafNode {
        encryption_key: HpkePublicKey::from(vec![tag; 4]),
        signature_key: vec![tag; 4].into(),
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
        signature: Bytes(vec![tag]),
    }
}

fn parent(tag: u8, unmerged: &[u32]) -> ParentNode {
    ParentNode {
        encryption_key: HpkePublicKey::from(vec![0x80 | tag; 4]),
        parent_hash: Bytes(Vec::new()),
        unmerged_leaves: unmerged.iter().map(|&l| LeafIndex(l)).collect(),
    }
}

fn tree_of(leaves: u32) -> RatchetTree {
    let mut tree = RatchetTree::new(leaf(0));
    for i in 1..leaves {
        let added = tree.add_leaf(leaf(i as u8));
        assert_eq!(added, Ok(LeafIndex(i)));
    }
    tree
}

#[test]
fn add_extends_to_powers_of_two() {
    let tree = tree_of(3);
    assert_eq!(tree.leaf_count(), 4);
    assert_eq!(tree.node_count(), 7);
    assert!(tree.leaf(LeafIndex(3)).is_none());
    // The wire form drops the trailing blank leaf and nothing else.
    assert_eq!(tree.to_wire().0.len(), 5);
    assert_eq!(RatchetTree::from_wire(&tree.to_wire()), Ok(tree));
}

#[test]
fn add_fills_leftmost_blank_and_marks_unmerged() {
    let mut tree = tree_of(4);
    tree.set_parent(NodeIndex(3), parent(3, &[]));
    tree.set_parent(NodeIndex(5), parent(5, &[]));
    assert_eq!(tree.remove_leaf(LeafIndex(2)), Ok(()));
    // Removing leaf 2 blanked 5 and 3 (its direct path).
    assert!(tree.node(NodeIndex(5)).is_none());
    tree.set_parent(NodeIndex(3), parent(3, &[]));
    tree.set_parent(NodeIndex(1), parent(1, &[]));
    assert_eq!(tree.add_leaf(leaf(9)), Ok(LeafIndex(2)));
    assert_eq!(
        tree.parent_node(NodeIndex(3))
            .map(|p| p.unmerged_leaves.clone()),
        Some(vec![LeafIndex(2)])
    );
    // Node 1 is not on leaf 2's direct path.
    assert_eq!(
        tree.parent_node(NodeIndex(1))
            .map(|p| p.unmerged_leaves.len()),
        Some(0)
    );
}

#[test]
fn remove_truncates_blank_right_subtrees() {
    let mut tree = tree_of(5);
    assert_eq!(tree.leaf_count(), 8);
    assert_eq!(tree.remove_leaf(LeafIndex(4)), Ok(()));
    assert_eq!(tree.leaf_count(), 4);
    assert_eq!(tree.remove_leaf(LeafIndex(3)), Ok(()));
    assert_eq!(tree.remove_leaf(LeafIndex(2)), Ok(()));
    assert_eq!(tree.leaf_count(), 2);
    assert_eq!(
        tree.remove_leaf(LeafIndex(2)),
        Err(TreeError::LeafOutOfRange(2))
    );
    assert_eq!(tree.remove_leaf(LeafIndex(1)), Ok(()));
    assert_eq!(tree.leaf_count(), 1);
    assert_eq!(tree.remove_leaf(LeafIndex(0)), Ok(()));
    assert_eq!(tree.leaf_count(), 1);
    assert_eq!(tree.remove_leaf(LeafIndex(0)), Err(TreeError::BlankLeaf(0)));
}

#[test]
fn truncate_keeps_a_right_subtree_with_a_member() {
    let mut tree = tree_of(8);
    for l in [4, 5, 6] {
        assert_eq!(tree.remove_leaf(LeafIndex(l)), Ok(()));
    }
    assert_eq!(tree.leaf_count(), 8);
}

#[test]
fn resolution_matches_the_rfc_example() {
    // Section 4.1.1's figure: X[B] at node 3, Y at node 9, leaves A B _ D E F _ H.
    let mut tree = tree_of(8);
    tree.blank(NodeIndex(4));
    tree.blank(NodeIndex(12));
    tree.set_parent(NodeIndex(3), parent(3, &[1]));
    tree.set_parent(NodeIndex(9), parent(9, &[]));
    assert_eq!(
        tree.resolution(NodeIndex(3)),
        vec![NodeIndex(3), NodeIndex(2)]
    );
    assert_eq!(tree.resolution(NodeIndex(4)), vec![]);
    assert_eq!(tree.resolution(NodeIndex(12)), vec![]);
    assert_eq!(
        tree.resolution(NodeIndex(7)),
        vec![NodeIndex(3), NodeIndex(2), NodeIndex(9), NodeIndex(14)]
    );
}

#[test]
fn filtered_direct_path_matches_the_rfc_example() {
    // Section 4.1.2's figure: A B _ _ E F G _, parents T=1, X=9, Y=11, W=7.
    let mut tree = tree_of(7);
    tree.blank(NodeIndex(4));
    tree.blank(NodeIndex(6));
    for (n, tag) in [(1, 1), (9, 9), (11, 11), (7, 7)] {
        tree.set_parent(NodeIndex(n), parent(tag, &[]));
    }
    let fdp = |l| tree.filtered_direct_path(LeafIndex(l));
    assert_eq!(fdp(0), vec![NodeIndex(1), NodeIndex(7)]);
    assert_eq!(fdp(4), vec![NodeIndex(9), NodeIndex(11), NodeIndex(7)]);
    assert_eq!(fdp(6), vec![NodeIndex(11), NodeIndex(7)]);
}

#[test]
fn wire_shape_is_checked() {
    let wire = messages::RatchetTree(vec![Some(Node::Parent(parent(0, &[])))]);
    assert_eq!(
        RatchetTree::from_wire(&wire),
        Err(TreeError::ParentAtLeafPosition(0))
    );
    let wire = messages::RatchetTree(vec![Some(Node::Leaf(leaf(0))), None]);
    assert_eq!(
        RatchetTree::from_wire(&wire),
        Err(TreeError::EvenNodeCount(2))
    );
    let wire = messages::RatchetTree(vec![
        Some(Node::Leaf(leaf(0))),
        Some(Node::Leaf(leaf(1))),
        Some(Node::Leaf(leaf(2))),
    ]);
    assert_eq!(
        RatchetTree::from_wire(&wire),
        Err(TreeError::LeafAtParentPosition(1))
    );
}

fn leaf_valid(tag: u8, not_before: u64, not_after: u64) -> LeafNode {
    LeafNode {
        leaf_node_source: LeafNodeSource::KeyPackage {
            lifetime: Lifetime {
                not_before,
                not_after,
            },
        },
        ..leaf(tag)
    }
}

#[test]
fn lifetimes_are_checked_at_a_common_moment() {
    let mut tree = RatchetTree::new(leaf_valid(0, 100, 500));
    assert_eq!(tree.add_leaf(leaf_valid(1, 300, 900)), Ok(LeafIndex(1)));
    assert_eq!(common_valid_time(&tree), Ok(Some(300)));
    assert_eq!(check_lifetimes(&tree, 300), Ok(()));
    assert_eq!(
        check_lifetimes(&tree, 600),
        Err(TreeValidationError::LifetimeNotValid {
            leaf: 0,
            not_before: 100,
            not_after: 500,
            now: 600
        })
    );
    assert_eq!(tree.add_leaf(leaf_valid(2, 501, 900)), Ok(LeafIndex(2)));
    assert_eq!(
        common_valid_time(&tree),
        Err(TreeValidationError::LifetimesDisjoint)
    );
}

/// One mutation of a tree, as the proposals and commits of section 12 apply them.
#[derive(Debug, Clone)]
enum Step {
    Add(u8),
    Update(u32, u8),
    Remove(u32),
    SetParent(u32, u8),
    ParentHashes(u32),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        any::<u8>().prop_map(Step::Add),
        (0..16u32, any::<u8>()).prop_map(|(l, t)| Step::Update(l, t)),
        (0..16u32).prop_map(Step::Remove),
        (0..16u32, any::<u8>()).prop_map(|(p, t)| Step::SetParent(p, t)),
        (0..16u32).prop_map(Step::ParentHashes),
    ]
}

proptest::proptest! {
    /// The cached tree hashes always equal those of a copy of the tree with nothing
    /// cached, for the whole tree and for every parent's
    /// `original_sibling_tree_hash`, whatever mutations came in between.
    #[test]
    fn cached_tree_hashes_follow_every_mutation(
        steps in proptest::collection::vec(step(), 1..24),
    ) {
        let suite = crate::crypto::Suite::new(crate::crypto::CipherSuite(1))
            .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
        let mut tree = tree_of(3);
        for step in steps {
            match step {
                Step::Add(tag) => {
                    let _ = tree.add_leaf(leaf(tag));
                }
                Step::Update(l, tag) => {
                    let _ = tree.update_leaf(LeafIndex(l % tree.leaf_count()), leaf(tag));
                }
                Step::Remove(l) => {
                    if tree.leaves().count() > 1 {
                        let _ = tree.remove_leaf(LeafIndex(l % tree.leaf_count()));
                    }
                }
                Step::SetParent(p, tag) => {
                    let index = NodeIndex((2 * (p % tree.leaf_count())) | 1);
                    if index.0 < tree.node_count() {
                        let below: Vec<u32> = tree
                            .leaves()
                            .map(|(l, _)| l.0)
                            .filter(|&l| tree_math::is_ancestor_or_self(index, LeafIndex(l).node()))
                            .take(1)
                            .collect();
                        tree.set_parent(index, parent(tag, &below));
                    }
                }
                Step::ParentHashes(l) => {
                    let _ = tree.set_path_parent_hashes(&suite, LeafIndex(l % tree.leaf_count()));
                }
            }
            let fresh = RatchetTree {
                nodes: tree.nodes.clone(),
                hashes: hash::HashCache::with_len(tree.nodes.len()),
            };
            proptest::prop_assert_eq!(tree.tree_hash(&suite), fresh.tree_hash(&suite));
            for (index, node) in tree.nodes() {
                let Some(Node::Parent(p)) = node else { continue };
                for child in [tree_math::left(index), tree_math::right(index)].into_iter().flatten() {
                    proptest::prop_assert_eq!(
                        tree.subtree_hash_excluding(&suite, child, &p.unmerged_leaves),
                        fresh.subtree_hash_excluding(&suite, child, &p.unmerged_leaves),
                    );
                }
            }
        }
    }
}
