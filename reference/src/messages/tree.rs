//! Ratchet tree wire types: keys (RFC 9420 section 5.1.1), parent nodes (7.1), update
//! paths (7.6), tree nodes and the `ratchet_tree` extension (12.4.3.3).

use super::{
    ExtensionContent, ExtensionType, LeafNode, read_bytes, read_leaf_index, read_vec,
    write_leaf_index, write_vec,
};
use crate::codec::{Bytes, Codec, DecodeError, Reader, write_vector_with};
use crate::tree_math::LeafIndex;

/// RFC 9420 section 5.1.1: a public key in the KEM's own serialization.
///
/// ```text
/// opaque HPKEPublicKey<V>;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct HpkePublicKey(pub Bytes);

/// RFC 9420 section 5.1.1: a public key in the signature scheme's serialization.
///
/// ```text
/// opaque SignaturePublicKey<V>;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SignaturePublicKey(pub Bytes);

macro_rules! opaque_newtype {
    ($name:ident, $what:literal) => {
        impl $name {
            pub fn as_slice(&self) -> &[u8] {
                self.0.as_slice()
            }
        }

        impl From<Vec<u8>> for $name {
            fn from(bytes: Vec<u8>) -> Self {
                $name(Bytes(bytes))
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                self.0.as_slice()
            }
        }

        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                self.0.encode(out);
            }
            fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok($name(read_bytes(reader, $what)?))
            }
        }
    };
}

opaque_newtype!(HpkePublicKey, "HPKEPublicKey");
opaque_newtype!(SignaturePublicKey, "SignaturePublicKey");

/// RFC 9420 section 7.1.
///
/// ```text
/// struct {
///     HPKEPublicKey encryption_key;
///     opaque parent_hash<V>;
///     uint32 unmerged_leaves<V>;
/// } ParentNode;
/// ```
///
/// "The entries in the `unmerged_leaves` vector MUST be sorted in increasing order" is
/// left to tree validation: the bytes are well-formed either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentNode {
    pub encryption_key: HpkePublicKey,
    pub parent_hash: Bytes,
    pub unmerged_leaves: Vec<LeafIndex>,
}

impl Codec for ParentNode {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encryption_key.encode(out);
        self.parent_hash.encode(out);
        write_vector_with(out, |inner| {
            for &leaf in &self.unmerged_leaves {
                write_leaf_index(inner, leaf);
            }
        });
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let encryption_key = HpkePublicKey::decode(reader)?;
        let parent_hash = read_bytes(reader, "ParentNode.parent_hash")?;
        let mut inner = reader.sub_reader("ParentNode.unmerged_leaves")?;
        let mut unmerged_leaves = Vec::new();
        while !inner.is_empty() {
            unmerged_leaves.push(read_leaf_index(&mut inner, "ParentNode.unmerged_leaves")?);
        }
        Ok(ParentNode {
            encryption_key,
            parent_hash,
            unmerged_leaves,
        })
    }
}

closed_enum! {
    /// RFC 9420 section 7.8.
    ///
    /// ```text
    /// enum {
    ///     reserved(0),
    ///     leaf(1),
    ///     parent(2),
    ///     (255)
    /// } NodeType;
    /// ```
    NodeType, "node_type" {
        Leaf = 1,
        Parent = 2,
    }
}

/// RFC 9420 section 12.4.3.3.
///
/// ```text
/// struct {
///     NodeType node_type;
///     select (Node.node_type) {
///         case leaf:   LeafNode leaf_node;
///         case parent: ParentNode parent_node;
///     };
/// } Node;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Leaf(LeafNode),
    Parent(ParentNode),
}

impl Node {
    pub fn node_type(&self) -> NodeType {
        match self {
            Node::Leaf(_) => NodeType::Leaf,
            Node::Parent(_) => NodeType::Parent,
        }
    }
}

impl Codec for Node {
    fn encode(&self, out: &mut Vec<u8>) {
        self.node_type().encode(out);
        match self {
            Node::Leaf(leaf) => leaf.encode(out),
            Node::Parent(parent) => parent.encode(out),
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match NodeType::decode(reader)? {
            NodeType::Leaf => Node::Leaf(LeafNode::decode(reader)?),
            NodeType::Parent => Node::Parent(ParentNode::decode(reader)?),
        })
    }
}

/// RFC 9420 section 12.4.3.3: the tree in array order (appendix C), one
/// entry per node, blank nodes `None`, trailing blank nodes omitted.
///
/// ```text
/// optional<Node> ratchet_tree<V>;
/// ```
///
/// Decoding enforces the one rule of the wire form: "The receiver MUST check that the
/// last node in `ratchet_tree` is non-blank" (so the list is not empty either). Whether
/// leaves sit at even and parents at odd positions is tree validation's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatchetTree(pub Vec<Option<Node>>);

impl Codec for RatchetTree {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vec(out, &self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let nodes: Vec<Option<Node>> = read_vec(reader, "ratchet_tree")?;
        match nodes.last() {
            Some(Some(_)) => Ok(RatchetTree(nodes)),
            Some(None) => Err(DecodeError::Malformed {
                what: "ratchet_tree",
                detail: "the last node is blank (section 12.4.3.3)".into(),
            }),
            None => Err(DecodeError::Malformed {
                what: "ratchet_tree",
                detail: "the tree has no nodes".into(),
            }),
        }
    }
}

impl ExtensionContent for RatchetTree {
    const EXTENSION_TYPE: ExtensionType = ExtensionType::RATCHET_TREE;
}

/// RFC 9420 section 7.6.
///
/// ```text
/// struct {
///     opaque kem_output<V>;
///     opaque ciphertext<V>;
/// } HPKECiphertext;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpkeCiphertext {
    pub kem_output: Bytes,
    pub ciphertext: Bytes,
}

impl Codec for HpkeCiphertext {
    fn encode(&self, out: &mut Vec<u8>) {
        self.kem_output.encode(out);
        self.ciphertext.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(HpkeCiphertext {
            kem_output: read_bytes(reader, "HPKECiphertext.kem_output")?,
            ciphertext: read_bytes(reader, "HPKECiphertext.ciphertext")?,
        })
    }
}

/// RFC 9420 section 7.6.
///
/// ```text
/// struct {
///     HPKEPublicKey encryption_key;
///     HPKECiphertext encrypted_path_secret<V>;
/// } UpdatePathNode;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePathNode {
    pub encryption_key: HpkePublicKey,
    pub encrypted_path_secret: Vec<HpkeCiphertext>,
}

impl Codec for UpdatePathNode {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encryption_key.encode(out);
        write_vec(out, &self.encrypted_path_secret);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(UpdatePathNode {
            encryption_key: HpkePublicKey::decode(reader)?,
            encrypted_path_secret: read_vec(reader, "UpdatePathNode.encrypted_path_secret")?,
        })
    }
}

/// RFC 9420 section 7.6.
///
/// ```text
/// struct {
///     LeafNode leaf_node;
///     UpdatePathNode nodes<V>;
/// } UpdatePath;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePath {
    pub leaf_node: LeafNode,
    pub nodes: Vec<UpdatePathNode>,
}

impl Codec for UpdatePath {
    fn encode(&self, out: &mut Vec<u8>) {
        self.leaf_node.encode(out);
        write_vec(out, &self.nodes);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(UpdatePath {
            leaf_node: LeafNode::decode(reader)?,
            nodes: read_vec(reader, "UpdatePath.nodes")?,
        })
    }
}
