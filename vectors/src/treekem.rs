//! `treekem.json`: UpdatePaths over a ratchet tree with some members' private state
//! (RFC 9420 sections 7.4 to 7.6, parent hashes of 7.9).
//!
//! For each case: every member's private keys match the tree; then for each UpdatePath,
//! it merges (parent hash and signature verified) into the vector's `tree_hash_after`,
//! every other member with private state decrypts the vector's path secret and derives
//! its `commit_secret`; finally the reference generates its own UpdatePath from the same
//! sender, and every other member merges and decrypts it to the committer's tree hash and
//! commit secret. The provisional GroupContext has the vector's group_id, epoch and
//! confirmed transcript hash, and the tree hash after the merge.

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::messages::{self, GroupContext, Node, UpdatePath};
use concord_reference::ratchet_tree::RatchetTree;
use concord_reference::tree_math::{LeafIndex, NodeIndex};
use concord_reference::treekem::{self, PrivateKeys};
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, seeded_rng,
    with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub group_id: HexBytes,
    pub epoch: u64,
    pub confirmed_transcript_hash: HexBytes,
    /// `optional<Node> ratchet_tree<V>`.
    pub ratchet_tree: HexBytes,
    pub leaves_private: Vec<LeafPrivate>,
    pub update_paths: Vec<UpdatePathCase>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LeafPrivate {
    pub index: u32,
    pub encryption_priv: HexBytes,
    pub signature_priv: HexBytes,
    /// The path secrets this member knows, by parent node index.
    pub path_secrets: Vec<NodePathSecret>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NodePathSecret {
    pub node: u32,
    pub path_secret: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UpdatePathCase {
    pub sender: u32,
    /// An `UpdatePath`.
    pub update_path: HexBytes,
    /// By leaf index: the path secret that leaf decrypts, `null` for the sender and for
    /// leaves without private state.
    pub path_secrets: Vec<Option<HexBytes>>,
    pub commit_secret: HexBytes,
    pub tree_hash_after: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| {
        verify(suite, &case, case_index as u64)
    }))
}

/// A member with private state: its leaf and every node key it holds.
struct Member<'a> {
    leaf: LeafIndex,
    keys: PrivateKeys,
    signature_private: &'a [u8],
}

fn verify(suite: &Suite, case: &Case, seed: u64) -> Result<(), Mismatch> {
    let wire = messages::RatchetTree::from_bytes(&case.ratchet_tree).at("ratchet_tree")?;
    let tree = RatchetTree::from_wire(&wire).at("ratchet_tree")?;
    tree.verify_parent_hashes(suite).at("ratchet_tree")?;
    let members = members(suite, &tree, case)?;
    let context = |tree_hash: &[u8]| {
        GroupContext::new(
            suite.id(),
            case.group_id.to_vec(),
            case.epoch,
            tree_hash.to_vec(),
            case.confirmed_transcript_hash.to_vec(),
            Vec::new(),
        )
        .to_bytes()
    };
    for (u, update) in case.update_paths.iter().enumerate() {
        let at = |name: &str| format!("update_paths[{u}].{name}");
        let sender = LeafIndex(update.sender);
        let path = UpdatePath::from_bytes(&update.update_path).at(&at("update_path"))?;
        let mut merged = tree.clone();
        treekem::merge_update_path(suite, &mut merged, sender, &path, &case.group_id)
            .at(&at("update_path"))?;
        let tree_hash = merged.tree_hash(suite);
        expect_bytes(&at("tree_hash_after"), &tree_hash, &update.tree_hash_after)?;
        let group_context = context(&tree_hash);
        for member in members.iter().filter(|m| m.leaf != sender) {
            let field = at(&format!("path_secrets[{}]", member.leaf.0));
            let secrets = treekem::decrypt_update_path(
                suite,
                &merged,
                sender,
                member.leaf,
                &path,
                &member.keys,
                &group_context,
                &[],
            )
            .at(&field)?;
            let expected = update
                .path_secrets
                .get(member.leaf.0 as usize)
                .and_then(Option::as_ref)
                .ok_or_else(|| Mismatch::new(&field, "the vector gives no path secret"))?;
            let first = secrets.nodes.first().map(|(_, s, _)| s.as_slice());
            expect_bytes(&field, first.unwrap_or_default(), expected)?;
            expect_bytes(
                &at("commit_secret"),
                &secrets.commit_secret,
                &update.commit_secret,
            )?;
        }
        let receivers = members.iter().filter(|m| m.leaf != sender).count();
        let given = update.path_secrets.iter().flatten().count();
        if given != receivers {
            return Err(Mismatch::new(
                at("path_secrets"),
                format!("{given} path secrets for {receivers} members with private state"),
            ));
        }
        let seed = seed ^ ((u as u64) << 32);
        round_trip(
            suite,
            &tree,
            sender,
            &members,
            &case.group_id,
            &context,
            seed,
        )
        .map_err(|m| Mismatch::new(at(&format!("(own UpdatePath) {}", m.field)), m.detail))?;
    }
    Ok(())
}

/// Checks `leaves_private` against the tree and collects each member's keys.
fn members<'a>(
    suite: &Suite,
    tree: &RatchetTree,
    case: &'a Case,
) -> Result<Vec<Member<'a>>, Mismatch> {
    let mut members = Vec::new();
    for (i, private) in case.leaves_private.iter().enumerate() {
        let at = |name: &str| format!("leaves_private[{i}].{name}");
        let leaf = LeafIndex(private.index);
        let node = tree
            .leaf(leaf)
            .ok_or_else(|| Mismatch::new(at("index"), "a blank or missing leaf"))?;
        let public = suite
            .hpke_public_key(&private.encryption_priv)
            .at(&at("encryption_priv"))?;
        expect_bytes(
            &at("encryption_priv"),
            &public,
            node.encryption_key.as_slice(),
        )?;
        let signature_public = suite
            .signature_public_key(&private.signature_priv)
            .at(&at("signature_priv"))?;
        expect_bytes(
            &at("signature_priv"),
            &signature_public,
            node.signature_key.as_slice(),
        )?;
        let mut keys = PrivateKeys::new();
        keys.insert(leaf.node(), private.encryption_priv.to_vec());
        for (k, secret) in private.path_secrets.iter().enumerate() {
            let field = at(&format!("path_secrets[{k}]"));
            let index = NodeIndex(secret.node);
            let pair = treekem::node_key_pair(suite, &secret.path_secret).at(&field)?;
            let Some(Node::Parent(p)) = tree.node(index) else {
                return Err(Mismatch::new(field, "the node is not a parent node"));
            };
            expect_bytes(&field, &pair.public, p.encryption_key.as_slice())?;
            keys.insert(index, pair.private);
        }
        members.push(Member {
            leaf,
            keys,
            signature_private: &private.signature_priv,
        });
    }
    Ok(members)
}

/// The reference's own UpdatePath from `sender` (when its private state is known):
/// every other member merges it to the committer's tree and derives its commit secret.
fn round_trip(
    suite: &Suite,
    tree: &RatchetTree,
    sender: LeafIndex,
    members: &[Member<'_>],
    group_id: &[u8],
    context: &dyn Fn(&[u8]) -> Vec<u8>,
    seed: u64,
) -> Result<(), Mismatch> {
    let Some(committer) = members.iter().find(|m| m.leaf == sender) else {
        return Ok(());
    };
    let Some(template) = tree.leaf(sender).cloned() else {
        return Err(Mismatch::new("sender", "blank leaf"));
    };
    let mut rng = seeded_rng(seed);
    let mut own = tree.clone();
    let prepared = treekem::prepare_update_path(
        suite,
        &mut own,
        sender,
        template,
        committer.signature_private,
        group_id,
        &mut rng,
    )
    .at("prepare")?;
    let tree_hash = own.tree_hash(suite);
    let group_context = context(&tree_hash);
    let path = prepared
        .encrypt(suite, &own, &group_context, &[], &mut rng)
        .at("encrypt")?;
    let path = UpdatePath::from_bytes(&path.to_bytes()).at("re-decode")?;
    for member in members.iter().filter(|m| m.leaf != sender) {
        let field = format!("leaf {}", member.leaf.0);
        let mut merged = tree.clone();
        treekem::merge_update_path(suite, &mut merged, sender, &path, group_id).at(&field)?;
        expect_bytes(&field, &merged.tree_hash(suite), &tree_hash)?;
        let secrets = treekem::decrypt_update_path(
            suite,
            &merged,
            sender,
            member.leaf,
            &path,
            &member.keys,
            &group_context,
            &[],
        )
        .at(&field)?;
        expect_bytes(
            &field,
            &secrets.commit_secret,
            &prepared.secrets.commit_secret,
        )?;
    }
    merged_is_valid(suite, &own, &tree_hash)
}

/// The committer's tree after its own path passes a joiner's validation.
fn merged_is_valid(suite: &Suite, tree: &RatchetTree, tree_hash: &[u8]) -> Result<(), Mismatch> {
    tree.verify_parent_hashes(suite).at("parent hashes")?;
    expect_bytes("tree hash", &tree.tree_hash(suite), tree_hash)
}
