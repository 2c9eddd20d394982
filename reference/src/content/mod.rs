//! MIMI content (draft-ietf-mimi-content-08): the CBOR message container carried inside MLS
//! application messages, its strict codec and its message ID.
//!
//! ```text
//!  bytes ──cbor::decode (deterministic CBOR, section 6.1)──> Value
//!        ──MimiContent::from_value (CDDL of section 10.1, limits of 6.2 and 6.3)──> MimiContent
//!  MimiContent ──to_bytes──> the same bytes;  message_id(bytes, sender, room) (section 3.3)
//! ```
//!
//! Decoding errors name the field (`nestedPart.parts[1].contentType`) or, for CBOR-level
//! faults, the byte offset. Requirement IDs: `MIMI-CONTENT-<section>-<n>` in
//! spec/catalog/mimi-content.toml.

pub mod cbor;
pub mod semantics;
#[cfg(test)]
mod tests;

pub use semantics::{check_replacement, check_reply_chains, receive};

use sha2::{Digest, Sha256};

use cbor::Value;

/// Hash algorithm ID of SHA-256 in the IANA named-information registry (section 3.3).
pub const HASH_SHA256: u8 = 0x01;

/// `NestedPart`s may nest at most this deep (section 6.3).
pub const MAX_PART_DEPTH: usize = 4;
/// Extension values may hold at most this many levels of arrays, maps and tags, the
/// extensions map itself being level 1 (section 6.3).
pub const MAX_EXTENSION_DEPTH: usize = 4;
/// Largest magnitude of an integer map key (2^53 - 1, section 6.2).
pub const MAX_KEY_MAGNITUDE: i128 = (1 << 53) - 1;

/// A 32-octet message ID: hash algorithm, then 31 octets of hash output.
pub type MessageId = [u8; 32];

/// Why bytes are not a valid MIMI content message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("{0}")]
    Cbor(#[from] cbor::CborError),
    /// A field of the wrong type, size or value.
    #[error("{field}: expected {expected}, found {found}")]
    Field {
        field: String,
        expected: String,
        found: String,
    },
    /// A rule of the data model (sections 4.3, 6.2, 6.3).
    #[error("{field}: {rule}")]
    Rule { field: String, rule: String },
    /// A chain of replies that comes back to a message on it (section 4.1).
    #[error("the inReplyTo chain loops back to message {0}")]
    ReplyLoop(String),
    /// A content ID URI naming a part that is not a SinglePart or ExternalPart (section 4.4).
    #[error("{field}: cid:{index}@local.invalid names {found}, not a single or external part")]
    ContentIdTarget {
        field: String,
        index: usize,
        found: String,
    },
    /// External content whose encryption fields do not fit its `encAlg`, or that does not
    /// decrypt (section 4.5).
    #[error("{field}: {rule}")]
    ExternalEncryption { field: String, rule: String },
    /// Several text reactions in one text part (section 5.3).
    #[error("{field}: {count} reactions in one text part")]
    ReactionEnsemble { field: String, count: usize },
    /// A text part declared UTF-8 (charset=utf-8, GFM-MIMI) whose content is not (section 7.1).
    #[error("{field}: the content of {content_type} is not valid UTF-8")]
    TextNotUtf8 { field: String, content_type: String },
    /// An edit or delete sent by someone other than the original sender (section 9.3).
    #[error("a message of {original_sender} replaced by {replacer}")]
    ForeignReplacement {
        original_sender: String,
        replacer: String,
    },
    /// An edit that changes more than the NestedPart (section 9.3).
    #[error("the replacement changes {0}, not only the NestedPart")]
    ReplacementBeyondBody(String),
}

fn field(path: &str, expected: &str, found: &Value) -> ContentError {
    ContentError::Field {
        field: path.to_string(),
        expected: expected.to_string(),
        found: found.kind().to_string(),
    }
}

/// `Expiration = [relative: bool, time: uint .size 4]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiration {
    pub relative: bool,
    pub time: u32,
}

/// An extension key: an integer or a text string of 1 to 255 octets (section 4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionKey {
    Int(i64),
    Text(String),
}

impl ExtensionKey {
    /// senderUri.
    pub const SENDER_URI: ExtensionKey = ExtensionKey::Int(1);
    /// roomUri.
    pub const ROOM_URI: ExtensionKey = ExtensionKey::Int(2);

    fn to_value(&self) -> Value {
        match self {
            ExtensionKey::Int(n) if *n >= 0 => Value::Unsigned(*n as u64),
            ExtensionKey::Int(n) => Value::Negative((-1 - *n) as u64),
            ExtensionKey::Text(t) => Value::Text(t.clone()),
        }
    }
}

/// The part itself, by cardinality (section 4.4).
#[derive(Debug, Clone, PartialEq)]
pub enum PartBody {
    /// `nullpart` (0).
    Null,
    /// `single` (1).
    Single {
        content_type: String,
        content: Vec<u8>,
    },
    /// `external` (2), section 4.5.
    External(ExternalPart),
    /// `multi` (3): `partSemantics` 0 chooseOne, 1 singleUnit, 2 processAll; two or more parts.
    Multi {
        semantics: u8,
        parts: Vec<NestedPart>,
    },
}

/// `ExternalPart` (section 4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalPart {
    pub content_type: String,
    pub url: String,
    pub expires: u32,
    pub size: u64,
    pub enc_alg: u16,
    pub key: Vec<u8>,
    pub nonce: Vec<u8>,
    pub aad: Vec<u8>,
    pub hash_alg: u8,
    pub content_hash: Vec<u8>,
    pub description: String,
    pub filename: String,
}

/// `NestedPart = [disposition, language, cardinality, ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedPart {
    /// 0..=8 registered dispositions, 9..=255 unknown (section 4.4).
    pub disposition: u8,
    pub language: String,
    pub body: PartBody,
}

/// `mimiContent` (section 10.1).
#[derive(Debug, Clone, PartialEq)]
pub struct MimiContent {
    pub salt: [u8; 16],
    pub replaces: Option<MessageId>,
    pub topic_id: Vec<u8>,
    pub expires: Option<Expiration>,
    pub in_reply_to: Option<MessageId>,
    /// In their deterministic order (sorted by encoded key).
    pub extensions: Vec<(ExtensionKey, Value)>,
    pub nested_part: NestedPart,
}

fn array<'a>(value: &'a Value, path: &str, what: &str) -> Result<&'a [Value], ContentError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(field(path, what, other)),
    }
}

fn bytes(value: &Value, path: &str) -> Result<Vec<u8>, ContentError> {
    match value {
        Value::Bytes(b) => Ok(b.clone()),
        other => Err(field(path, "a byte string", other)),
    }
}

fn text(value: &Value, path: &str) -> Result<String, ContentError> {
    match value {
        Value::Text(t) => Ok(t.clone()),
        other => Err(field(path, "a text string", other)),
    }
}

fn uint(value: &Value, path: &str, max: u64) -> Result<u64, ContentError> {
    match value {
        Value::Unsigned(n) if *n <= max => Ok(*n),
        Value::Unsigned(n) => Err(ContentError::Field {
            field: path.to_string(),
            expected: format!("an unsigned integer up to {max}"),
            found: n.to_string(),
        }),
        other => Err(field(path, "an unsigned integer", other)),
    }
}

fn id_field(value: &Value, path: &str) -> Result<Option<MessageId>, ContentError> {
    match value {
        Value::Null => Ok(None),
        Value::Bytes(b) => {
            let id: MessageId = b.as_slice().try_into().map_err(|_| ContentError::Field {
                field: path.to_string(),
                expected: "null or a 32-octet message ID".into(),
                found: format!("{} octets", b.len()),
            })?;
            Ok(Some(id))
        }
        other => Err(field(path, "null or a 32-octet message ID", other)),
    }
}

fn exact<const N: usize>(items: &[Value], path: &str, what: &str) -> Result<(), ContentError> {
    if items.len() == N {
        Ok(())
    } else {
        Err(ContentError::Field {
            field: path.to_string(),
            expected: format!("{what} of {N} items"),
            found: format!("{} items", items.len()),
        })
    }
}

impl NestedPart {
    fn from_value(value: &Value, path: &str, level: usize) -> Result<NestedPart, ContentError> {
        if level > MAX_PART_DEPTH {
            return Err(ContentError::Rule {
                field: path.to_string(),
                rule: format!("NestedParts nested more than {MAX_PART_DEPTH} levels deep"),
            });
        }
        let items = array(value, path, "a NestedPart array")?;
        if items.len() < 3 {
            return Err(ContentError::Field {
                field: path.to_string(),
                expected: "disposition, language and cardinality".into(),
                found: format!("{} items", items.len()),
            });
        }
        let disposition = uint(&items[0], &format!("{path}.disposition"), 255)? as u8;
        let language = text(&items[1], &format!("{path}.language"))?;
        let cardinality = uint(&items[2], &format!("{path}.cardinality"), 3)?;
        let rest = &items[3..];
        let body = match cardinality {
            0 => {
                exact::<0>(
                    rest,
                    path,
                    "a null part: no fields after the cardinality, a list",
                )?;
                PartBody::Null
            }
            1 => {
                exact::<2>(rest, path, "a single part: contentType and content, a list")?;
                PartBody::Single {
                    content_type: text(&rest[0], &format!("{path}.contentType"))?,
                    content: bytes(&rest[1], &format!("{path}.content"))?,
                }
            }
            2 => {
                exact::<12>(rest, path, "an external part: its fields, a list")?;
                let p = |name: &str| format!("{path}.{name}");
                PartBody::External(ExternalPart {
                    content_type: text(&rest[0], &p("contentType"))?,
                    url: text(&rest[1], &p("url"))?,
                    expires: uint(&rest[2], &p("expires"), u64::from(u32::MAX))? as u32,
                    size: uint(&rest[3], &p("size"), u64::MAX)?,
                    enc_alg: uint(&rest[4], &p("encAlg"), u64::from(u16::MAX))? as u16,
                    key: bytes(&rest[5], &p("key"))?,
                    nonce: bytes(&rest[6], &p("nonce"))?,
                    aad: bytes(&rest[7], &p("aad"))?,
                    hash_alg: uint(&rest[8], &p("hashAlg"), 255)? as u8,
                    content_hash: bytes(&rest[9], &p("contentHash"))?,
                    description: text(&rest[10], &p("description"))?,
                    filename: text(&rest[11], &p("filename"))?,
                })
            }
            _ => {
                exact::<2>(rest, path, "a multipart: partSemantics and parts, a list")?;
                let semantics = uint(&rest[0], &format!("{path}.partSemantics"), 2)? as u8;
                let parts_path = format!("{path}.parts");
                let list = array(&rest[1], &parts_path, "an array of NestedParts")?;
                if list.len() < 2 {
                    return Err(ContentError::Field {
                        field: parts_path,
                        expected: "2 or more NestedParts".into(),
                        found: format!("{} items", list.len()),
                    });
                }
                let parts = list
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        NestedPart::from_value(v, &format!("{parts_path}[{i}]"), level + 1)
                    })
                    .collect::<Result<_, _>>()?;
                PartBody::Multi { semantics, parts }
            }
        };
        Ok(NestedPart {
            disposition,
            language,
            body,
        })
    }

    fn to_value(&self) -> Value {
        let mut items = vec![
            Value::Unsigned(u64::from(self.disposition)),
            Value::Text(self.language.clone()),
        ];
        match &self.body {
            PartBody::Null => items.push(Value::Unsigned(0)),
            PartBody::Single {
                content_type,
                content,
            } => items.extend([
                Value::Unsigned(1),
                Value::Text(content_type.clone()),
                Value::Bytes(content.clone()),
            ]),
            PartBody::External(e) => items.extend([
                Value::Unsigned(2),
                Value::Text(e.content_type.clone()),
                Value::Text(e.url.clone()),
                Value::Unsigned(u64::from(e.expires)),
                Value::Unsigned(e.size),
                Value::Unsigned(u64::from(e.enc_alg)),
                Value::Bytes(e.key.clone()),
                Value::Bytes(e.nonce.clone()),
                Value::Bytes(e.aad.clone()),
                Value::Unsigned(u64::from(e.hash_alg)),
                Value::Bytes(e.content_hash.clone()),
                Value::Text(e.description.clone()),
                Value::Text(e.filename.clone()),
            ]),
            PartBody::Multi { semantics, parts } => items.extend([
                Value::Unsigned(3),
                Value::Unsigned(u64::from(*semantics)),
                Value::Array(parts.iter().map(NestedPart::to_value).collect()),
            ]),
        }
        Value::Array(items)
    }

    /// How deep parts nest below and including this one.
    pub fn depth(&self) -> usize {
        match &self.body {
            PartBody::Multi { parts, .. } => {
                1 + parts.iter().map(NestedPart::depth).max().unwrap_or(0)
            }
            _ => 1,
        }
    }
}

fn extensions(value: &Value) -> Result<Vec<(ExtensionKey, Value)>, ContentError> {
    const PATH: &str = "mimiExtensions";
    let Value::Map(entries) = value else {
        return Err(field(PATH, "a map", value));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let key = match key {
            Value::Text(t) if (1..=255).contains(&t.len()) => ExtensionKey::Text(t.clone()),
            Value::Text(t) => {
                return Err(ContentError::Rule {
                    field: PATH.into(),
                    rule: format!("a text key of {} octets (1 to 255 allowed)", t.len()),
                });
            }
            k => match k.as_int() {
                Some(n) if n.abs() <= MAX_KEY_MAGNITUDE => ExtensionKey::Int(n as i64),
                Some(n) => {
                    return Err(ContentError::Rule {
                        field: PATH.into(),
                        rule: format!("integer key {n} beyond ±(2^53 - 1)"),
                    });
                }
                None => {
                    return Err(field(
                        &format!("{PATH} key"),
                        "an integer or a text string",
                        k,
                    ));
                }
            },
        };
        let label = match &key {
            ExtensionKey::Int(n) => format!("{PATH}[{n}]"),
            ExtensionKey::Text(t) => format!("{PATH}[\"{t}\"]"),
        };
        // The map is level 1; its values may add three more.
        if 1 + value.depth() > MAX_EXTENSION_DEPTH {
            return Err(ContentError::Rule {
                field: label,
                rule: format!("tags, maps and arrays more than {MAX_EXTENSION_DEPTH} levels deep"),
            });
        }
        check_nested_keys(value, &label)?;
        if (key == ExtensionKey::SENDER_URI || key == ExtensionKey::ROOM_URI)
            && !matches!(value, Value::Text(_))
        {
            return Err(field(&label, "a text string (a URI)", value));
        }
        out.push((key, value.clone()));
    }
    Ok(out)
}

/// Map keys inside extension values: integers, text or byte strings only (section 6.2).
fn check_nested_keys(value: &Value, path: &str) -> Result<(), ContentError> {
    match value {
        Value::Map(entries) => {
            for (k, v) in entries {
                match k {
                    Value::Unsigned(_) | Value::Negative(_) => {
                        if k.as_int().is_some_and(|n| n.abs() > MAX_KEY_MAGNITUDE) {
                            return Err(ContentError::Rule {
                                field: path.to_string(),
                                rule: "an integer map key beyond ±(2^53 - 1)".into(),
                            });
                        }
                    }
                    Value::Text(_) | Value::Bytes(_) => {}
                    other => {
                        return Err(field(
                            path,
                            "map keys that are integers, text or byte strings",
                            other,
                        ));
                    }
                }
                check_nested_keys(v, path)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| check_nested_keys(v, path)),
        Value::Tag(_, inner) => check_nested_keys(inner, path),
        _ => Ok(()),
    }
}

impl MimiContent {
    /// Decodes a MIMI content message, strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<MimiContent, ContentError> {
        MimiContent::from_value(&cbor::decode(bytes)?)
    }

    pub fn from_value(value: &Value) -> Result<MimiContent, ContentError> {
        let items = array(value, "mimiContent", "the mimiContent array")?;
        exact::<7>(items, "mimiContent", "an array")?;
        let salt_bytes = bytes(&items[0], "salt")?;
        let salt: [u8; 16] = salt_bytes
            .as_slice()
            .try_into()
            .map_err(|_| ContentError::Field {
                field: "salt".into(),
                expected: "16 octets".into(),
                found: format!("{} octets", salt_bytes.len()),
            })?;
        let expires = match &items[3] {
            Value::Null => None,
            v => {
                let e = array(v, "expires", "null or an Expiration array")?;
                exact::<2>(e, "expires", "an Expiration array")?;
                let relative = match &e[0] {
                    Value::Bool(b) => *b,
                    other => return Err(field("expires.relative", "a boolean", other)),
                };
                Some(Expiration {
                    relative,
                    time: uint(&e[1], "expires.time", u64::from(u32::MAX))? as u32,
                })
            }
        };
        Ok(MimiContent {
            salt,
            replaces: id_field(&items[1], "replaces")?,
            topic_id: bytes(&items[2], "topicId")?,
            expires,
            in_reply_to: id_field(&items[4], "inReplyTo")?,
            extensions: extensions(&items[5])?,
            nested_part: NestedPart::from_value(&items[6], "nestedPart", 1)?,
        })
    }

    pub fn to_value(&self) -> Value {
        let id = |id: &Option<MessageId>| match id {
            Some(id) => Value::Bytes(id.to_vec()),
            None => Value::Null,
        };
        let mut extensions: Vec<(Value, Value)> = self
            .extensions
            .iter()
            .map(|(k, v)| (k.to_value(), v.clone()))
            .collect();
        cbor::sort_map(&mut extensions);
        Value::Array(vec![
            Value::Bytes(self.salt.to_vec()),
            id(&self.replaces),
            Value::Bytes(self.topic_id.clone()),
            match &self.expires {
                Some(e) => Value::Array(vec![
                    Value::Bool(e.relative),
                    Value::Unsigned(u64::from(e.time)),
                ]),
                None => Value::Null,
            },
            id(&self.in_reply_to),
            Value::Map(extensions),
            self.nested_part.to_value(),
        ])
    }

    /// The deterministic encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::to_bytes(&self.to_value())
    }

    fn extension_text(&self, key: &ExtensionKey) -> Option<&str> {
        self.extensions.iter().find_map(|(k, v)| match v {
            Value::Text(t) if k == key => Some(t.as_str()),
            _ => None,
        })
    }

    /// The senderUri extension (key 1), if present.
    pub fn sender_uri(&self) -> Option<&str> {
        self.extension_text(&ExtensionKey::SENDER_URI)
    }

    /// The roomUri extension (key 2), if present.
    pub fn room_uri(&self) -> Option<&str> {
        self.extension_text(&ExtensionKey::ROOM_URI)
    }
}

/// The message ID of the encoded message `message` sent by `sender` in `room` (section 3.3):
/// `0x01 || SHA-256(len16(sender) || sender || len16(room) || room || message || salt)[..31]`.
pub fn message_id(message: &[u8], salt: &[u8; 16], sender: &str, room: &str) -> MessageId {
    let mut hash = Sha256::new();
    for uri in [sender, room] {
        let len = u16::try_from(uri.len()).unwrap_or(u16::MAX);
        hash.update(len.to_be_bytes());
        hash.update(&uri.as_bytes()[..usize::from(len)]);
    }
    hash.update(message);
    hash.update(salt);
    let digest = hash.finalize();
    let mut id = [0u8; 32];
    id[0] = HASH_SHA256;
    id[1..].copy_from_slice(&digest[..31]);
    id
}

/// `MessageDerivedValues` (section 4.6): what a receiver knows about a message besides its
/// content.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedValues {
    pub message_id: MessageId,
    /// Milliseconds since the UNIX epoch, or an RFC 9581 extended time (tag 1001).
    pub hub_accepted_timestamp: Value,
    pub mls_group_id: Vec<u8>,
    pub sender_leaf_index: u32,
    pub sender_client_url: String,
    pub sender_user_url: String,
    pub room_url: String,
}

impl DerivedValues {
    pub fn from_bytes(encoded: &[u8]) -> Result<DerivedValues, ContentError> {
        let value = cbor::decode(encoded)?;
        let items = array(&value, "MessageDerivedValues", "an array")?;
        exact::<7>(items, "MessageDerivedValues", "an array")?;
        let message_id = id_field(&items[0], "messageId")?.ok_or_else(|| ContentError::Field {
            field: "messageId".into(),
            expected: "a 32-octet message ID".into(),
            found: "null".into(),
        })?;
        let hub_accepted_timestamp = match &items[1] {
            Value::Unsigned(_) => items[1].clone(),
            Value::Tag(1001, inner) if matches!(**inner, Value::Map(_)) => items[1].clone(),
            other => {
                return Err(field(
                    "hubAcceptedTimestamp",
                    "milliseconds (uint) or an extended time (tag 1001)",
                    other,
                ));
            }
        };
        Ok(DerivedValues {
            message_id,
            hub_accepted_timestamp,
            mls_group_id: bytes(&items[2], "mlsGroupId")?,
            sender_leaf_index: uint(&items[3], "senderLeafIndex", u64::from(u32::MAX))? as u32,
            sender_client_url: text(&items[4], "senderClientUrl")?,
            sender_user_url: text(&items[5], "senderUserUrl")?,
            room_url: text(&items[6], "roomUrl")?,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::to_bytes(&Value::Array(vec![
            Value::Bytes(self.message_id.to_vec()),
            self.hub_accepted_timestamp.clone(),
            Value::Bytes(self.mls_group_id.clone()),
            Value::Unsigned(u64::from(self.sender_leaf_index)),
            Value::Text(self.sender_client_url.clone()),
            Value::Text(self.sender_user_url.clone()),
            Value::Text(self.room_url.clone()),
        ]))
    }
}
