//! Real encodings to start from: the official vectors, Concord's generated and negative
//! vectors, and what the reference builds itself, each labelled with its wire type.
//!
//! Files are read by field name (`mls_welcome`, `ratchet_tree`, `add_proposal`, ...), so
//! one walker serves every vector family. Every MLSMessage the reference decodes also
//! seeds its body (KeyPackage, Welcome, GroupInfo), the LeafNodes inside KeyPackages and
//! trees, and the Proposals a PublicMessage carries, each as the reference re-encodes it
//! (the reference's codec is canonical, so that is the original slice).

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use concord_reference::codec::Codec;
use concord_reference::messages::{
    ContentBody, MlsMessage, MlsMessageBody, Node, Proposal, ProposalOrRef, RatchetTree,
};
use serde_json::Value;

use super::decoders::WireType;

/// Proposal bodies `messages.json` gives without their type, with the type of RFC 9420
/// section 17.4.
const PROPOSAL_FIELDS: [(&str, u16); 7] = [
    ("add_proposal", 1),
    ("update_proposal", 2),
    ("remove_proposal", 3),
    ("pre_shared_key_proposal", 4),
    ("re_init_proposal", 5),
    ("external_init_proposal", 6),
    ("group_context_extensions_proposal", 7),
];

/// Fields that hold a whole MLSMessage in some vector family.
const MESSAGE_FIELDS: [&str; 13] = [
    "mls_welcome",
    "mls_group_info",
    "mls_key_package",
    "public_message_application",
    "public_message_proposal",
    "public_message_commit",
    "private_message",
    "key_package",
    "welcome",
    "commit",
    "proposals",
    "input",
    "prior",
];

const TREE_FIELDS: [&str; 2] = ["ratchet_tree", "tree"];

/// The official vectors: `$CONCORD_VECTORS`, else `../shared/mls-vectors` beside the project.
pub fn official_vectors_dir() -> PathBuf {
    std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/mls-vectors"
            ))
        })
}

/// `vectors/generated` and `vectors/negative` of this repository.
pub fn repository_vectors_dirs() -> [PathBuf; 2] {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors"));
    [root.join("generated"), root.join("negative")]
}

/// Deduplicated seeds, in a stable order.
#[derive(Debug, Default)]
pub struct Seeds {
    set: BTreeSet<(WireType, Vec<u8>)>,
}

impl Seeds {
    pub fn add(&mut self, wire_type: WireType, bytes: Vec<u8>) {
        if !bytes.is_empty() && self.set.insert((wire_type, bytes.clone())) {
            self.derive(wire_type, &bytes);
        }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn of(&self, wire_type: WireType) -> Vec<Vec<u8>> {
        self.set
            .iter()
            .filter(|(t, _)| *t == wire_type)
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub fn all(&self) -> impl Iterator<Item = &(WireType, Vec<u8>)> {
        self.set.iter()
    }

    /// Every vector file of `dir` (`*.json`); a missing folder adds nothing.
    pub fn add_folder(&mut self, dir: &Path) -> std::io::Result<usize> {
        let before = self.len();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file)?;
            let json: Value = serde_json::from_str(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", file.display()),
                )
            })?;
            self.walk(None, &json);
        }
        Ok(self.len() - before)
    }

    fn walk(&mut self, field: Option<&str>, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    self.walk(Some(key), value);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(field, item);
                }
            }
            Value::String(text) => {
                if let (Some(field), Ok(bytes)) = (field, hex::decode(text)) {
                    self.add_field(field, bytes);
                }
            }
            _ => {}
        }
    }

    fn add_field(&mut self, field: &str, bytes: Vec<u8>) {
        if let Some((_, proposal_type)) = PROPOSAL_FIELDS.iter().find(|(f, _)| *f == field) {
            let mut proposal = proposal_type.to_be_bytes().to_vec();
            proposal.extend_from_slice(&bytes);
            self.add(WireType::Proposal, proposal);
        } else if TREE_FIELDS.contains(&field) {
            self.add(WireType::RatchetTree, bytes);
        } else if MESSAGE_FIELDS.contains(&field) && looks_like_mls_message(field, &bytes) {
            self.add(WireType::MlsMessage, bytes);
        }
    }

    /// The structs inside a seed the reference decodes, as seeds of their own type.
    fn derive(&mut self, wire_type: WireType, bytes: &[u8]) {
        match wire_type {
            WireType::MlsMessage => {
                let Ok(message) = MlsMessage::from_bytes(bytes) else {
                    return;
                };
                match message.body {
                    MlsMessageBody::KeyPackage(key_package) => {
                        self.add(WireType::KeyPackage, key_package.to_bytes());
                        self.add(WireType::LeafNode, key_package.leaf_node.to_bytes());
                    }
                    MlsMessageBody::Welcome(welcome) => {
                        self.add(WireType::Welcome, welcome.to_bytes())
                    }
                    MlsMessageBody::GroupInfo(group_info) => {
                        self.add(WireType::GroupInfo, group_info.to_bytes())
                    }
                    MlsMessageBody::PublicMessage(public) => match public.content.body {
                        ContentBody::Proposal(proposal) => self.add_proposal(&proposal),
                        ContentBody::Commit(commit) => {
                            for proposal in &commit.proposals {
                                if let ProposalOrRef::Proposal(proposal) = proposal {
                                    self.add_proposal(proposal);
                                }
                            }
                            if let Some(path) = commit.path {
                                self.add(WireType::LeafNode, path.leaf_node.to_bytes());
                            }
                        }
                        ContentBody::Application { .. } => {}
                    },
                    MlsMessageBody::PrivateMessage(_) => {}
                }
            }
            WireType::RatchetTree => {
                let Ok(tree) = RatchetTree::from_bytes(bytes) else {
                    return;
                };
                for node in tree.0.into_iter().flatten() {
                    if let Node::Leaf(leaf) = node {
                        self.add(WireType::LeafNode, leaf.to_bytes());
                    }
                }
            }
            _ => {}
        }
    }

    fn add_proposal(&mut self, proposal: &Proposal) {
        self.add(WireType::Proposal, proposal.to_bytes());
        if let Proposal::Add(add) = proposal {
            self.add(WireType::KeyPackage, add.key_package.to_bytes());
        }
    }
}

/// `version` mls10 and a wire format of RFC 9420, or any negative vector's `input` (some
/// break the header on purpose): a bare Commit in `messages.json` shares the field name
/// `commit`.
fn looks_like_mls_message(field: &str, bytes: &[u8]) -> bool {
    field == "input" || (bytes.len() >= 4 && bytes[..3] == [0, 1, 0] && (1..=5).contains(&bytes[3]))
}
