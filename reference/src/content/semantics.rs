//! What a receiving client checks beyond a document's shape (draft-ietf-mimi-content-08):
//! content ID references between parts (4.4), external content encryption (4.5), one
//! reaction per text part (5.3), the media types every client receives (7.1), reply chains
//! that never loop (4.1), and edits or deletes only by the original sender, touching only
//! the NestedPart (9.3).
//!
//! ```text
//!  bytes ──MimiContent::from_bytes (shape, 6.x)──> MimiContent ──check_semantics──> receive()
//!  a conversation: check_reply_chains([(id, inReplyTo)])
//!  an edit or delete: check_replacement(original, its sender, replacement, its sender)
//! ```

use std::collections::BTreeMap;

use super::{ContentError, MessageId, MimiContent, NestedPart, PartBody};
use crate::crypto::Aead;

/// `encAlg` of unencrypted external content (section 4.5).
pub const ENC_NONE: u16 = 0;
/// `encAlg` of AES-128-GCM, the AEAD every implementation has (section 4.5).
pub const ENC_AES_128_GCM: u16 = 1;
/// `disposition` of a reaction (section 4.4).
pub const DISPOSITION_REACTION: u8 = 2;
/// How deep `application/mimi-content` parts may carry further MIMI content.
pub const MAX_EMBEDDED_CONTENT: usize = 4;

/// The media types every MIMI client receives (section 7.1), as `type/subtype` plus the
/// parameter that must be present, if any.
pub const REQUIRED_MEDIA_TYPES: &[(&str, Option<&str>)] = &[
    ("application/mimi-content", None),
    ("text/plain", Some("charset=utf-8")),
    ("text/markdown", Some("variant=gfm-mimi")),
];

/// Decodes a MIMI content message and applies every rule a receiving client checks.
pub fn receive(bytes: &[u8]) -> Result<MimiContent, ContentError> {
    let content = MimiContent::from_bytes(bytes)?;
    content.check_semantics()?;
    Ok(content)
}

/// `type/subtype` of a content type, lower-cased, and its parameters (lower-cased, no spaces).
fn media_type(content_type: &str) -> (String, Vec<String>) {
    let mut pieces = content_type.split(';');
    let essence = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let parameters = pieces
        .map(|p| p.trim().to_ascii_lowercase().replace(' ', ""))
        .filter(|p| !p.is_empty())
        .collect();
    (essence, parameters)
}

/// Whether a content type is one a client must be able to receive (section 7.1).
pub fn is_required_media_type(content_type: &str) -> bool {
    let (essence, parameters) = media_type(content_type);
    REQUIRED_MEDIA_TYPES.iter().any(|(name, parameter)| {
        essence == *name && parameter.is_none_or(|p| parameters.iter().any(|q| q == p))
    })
}

/// The parts in part-index order: depth first, a MultiPart before its parts (section 4.4).
pub fn parts_in_order(root: &NestedPart) -> Vec<&NestedPart> {
    fn walk<'a>(part: &'a NestedPart, out: &mut Vec<&'a NestedPart>) {
        out.push(part);
        if let PartBody::Multi { parts, .. } = &part.body {
            for p in parts {
                walk(p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// Extended grapheme clusters, approximately: a cluster starts at a character that is not
/// a combining mark, variation selector, skin tone modifier, tag character or keycap, that
/// does not follow a zero width joiner, and that is not the second regional indicator of a
/// flag.
fn grapheme_count(text: &str) -> usize {
    let extends = |c: char| {
        matches!(c as u32,
            0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF
            | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F
            | 0x200D)
    };
    let regional = |c: char| (0x1F1E6..=0x1F1FF).contains(&(c as u32));
    let mut count = 0;
    let mut after_joiner = false;
    let mut open_flag = false;
    for c in text.chars() {
        if extends(c) {
            after_joiner = c == '\u{200D}';
            continue;
        }
        if after_joiner {
            after_joiner = false;
            continue;
        }
        if regional(c) {
            if open_flag {
                open_flag = false;
                continue;
            }
            open_flag = true;
        } else {
            open_flag = false;
        }
        count += 1;
    }
    count
}

impl MimiContent {
    /// The rules of sections 4.4, 4.5, 5.3 and 7.1 on every part of this message.
    pub fn check_semantics(&self) -> Result<(), ContentError> {
        check_parts(&self.nested_part, 0)
    }
}

fn check_parts(root: &NestedPart, embedded: usize) -> Result<(), ContentError> {
    let parts = parts_in_order(root);
    for (index, part) in parts.iter().enumerate() {
        let field = format!("part {index}");
        match &part.body {
            PartBody::Single {
                content_type,
                content,
            } => {
                check_single(&parts, &field, part.disposition, content_type, content)?;
                if media_type(content_type).0 == "application/mimi-content" {
                    if embedded >= MAX_EMBEDDED_CONTENT {
                        return Err(ContentError::Rule {
                            field,
                            rule: format!(
                                "MIMI content embedded more than {MAX_EMBEDDED_CONTENT} deep"
                            ),
                        });
                    }
                    let inner =
                        MimiContent::from_bytes(content).map_err(|e| ContentError::Rule {
                            field: field.clone(),
                            rule: format!("embedded application/mimi-content: {e}"),
                        })?;
                    check_parts(&inner.nested_part, embedded + 1)?;
                }
            }
            PartBody::External(external) => external.check_encryption(&field)?,
            PartBody::Null | PartBody::Multi { .. } => {}
        }
    }
    Ok(())
}

fn check_single(
    parts: &[&NestedPart],
    field: &str,
    disposition: u8,
    content_type: &str,
    content: &[u8],
) -> Result<(), ContentError> {
    let (essence, parameters) = media_type(content_type);
    if !essence.starts_with("text/") {
        return Ok(());
    }
    // Section 7.1: text/plain;charset=utf-8 and GFM-MIMI markdown (a MIMI document, UTF-8
    // like every MIMI text) carry UTF-8. Another charset is the part's own business; such a
    // part is searched for content IDs only if it decodes as UTF-8.
    let utf8_required = parameters.iter().any(|p| p == "charset=utf-8")
        || (essence == "text/markdown" && parameters.iter().any(|p| p == "variant=gfm-mimi"));
    let text = match std::str::from_utf8(content) {
        Ok(text) => text,
        Err(_) if utf8_required => {
            return Err(ContentError::TextNotUtf8 {
                field: field.to_string(),
                content_type: content_type.to_string(),
            });
        }
        Err(_) => return Ok(()),
    };
    // Section 5.3: one text part holds one reaction.
    if disposition == DISPOSITION_REACTION {
        let count = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|piece| !piece.is_empty())
            .map(grapheme_count)
            .sum::<usize>();
        if count > 1 {
            return Err(ContentError::ReactionEnsemble {
                field: field.to_string(),
                count,
            });
        }
    }
    // Section 4.4: cid:N@local.invalid names a SinglePart or ExternalPart of this message.
    for (at, _) in text.match_indices("cid:") {
        let rest = &text[at + 4..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || !rest[digits.len()..].starts_with("@local.invalid") {
            continue;
        }
        let target = digits
            .parse::<usize>()
            .ok()
            .and_then(|i| Some((i, *parts.get(i)?)));
        let found = match target {
            Some((_, part)) => match part.body {
                PartBody::Single { .. } | PartBody::External(_) => continue,
                PartBody::Null => "a null part",
                PartBody::Multi { .. } => "a MultiPart",
            },
            None => "no part",
        };
        return Err(ContentError::ContentIdTarget {
            field: field.to_string(),
            index: digits.parse().unwrap_or(usize::MAX),
            found: found.to_string(),
        });
    }
    Ok(())
}

impl super::ExternalPart {
    /// Section 4.5: unencrypted content has no key, nonce or aad; AES-128-GCM content has a
    /// 16-octet key and a 12-octet nonce. Other AEADs are accepted with any lengths (the
    /// reference implements only AES-128-GCM, as every implementation must).
    pub fn check_encryption(&self, field: &str) -> Result<(), ContentError> {
        let rule = |rule: String| ContentError::ExternalEncryption {
            field: field.to_string(),
            rule,
        };
        match self.enc_alg {
            ENC_NONE if !self.key.is_empty() || !self.nonce.is_empty() || !self.aad.is_empty() => {
                Err(rule(
                    "encAlg 0 (not encrypted) with a key, nonce or aad".into(),
                ))
            }
            ENC_AES_128_GCM
                if self.key.len() != Aead::Aes128Gcm.key_length()
                    || self.nonce.len() != Aead::Aes128Gcm.nonce_length() =>
            {
                Err(rule(format!(
                    "AES-128-GCM with a {}-octet key and a {}-octet nonce (16 and 12 needed)",
                    self.key.len(),
                    self.nonce.len()
                )))
            }
            _ => Ok(()),
        }
    }

    /// Decrypts downloaded external content with the part's key, nonce and aad.
    pub fn decrypt(&self, downloaded: &[u8]) -> Result<Vec<u8>, ContentError> {
        self.check_encryption("external part")?;
        match self.enc_alg {
            ENC_NONE => Ok(downloaded.to_vec()),
            ENC_AES_128_GCM => Aead::Aes128Gcm
                .open(&self.key, &self.nonce, &self.aad, downloaded)
                .map_err(|e| ContentError::ExternalEncryption {
                    field: "external part".into(),
                    rule: format!("AES-128-GCM: {e}"),
                }),
            other => Err(ContentError::ExternalEncryption {
                field: "external part".into(),
                rule: format!("encAlg {other} is not implemented"),
            }),
        }
    }

    /// Encrypts content for upload with the part's key, nonce and aad.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, ContentError> {
        self.check_encryption("external part")?;
        match self.enc_alg {
            ENC_NONE => Ok(plaintext.to_vec()),
            ENC_AES_128_GCM => Aead::Aes128Gcm
                .seal(&self.key, &self.nonce, &self.aad, plaintext)
                .map_err(|e| ContentError::ExternalEncryption {
                    field: "external part".into(),
                    rule: format!("AES-128-GCM: {e}"),
                }),
            other => Err(ContentError::ExternalEncryption {
                field: "external part".into(),
                rule: format!("encAlg {other} is not implemented"),
            }),
        }
    }
}

fn hex(id: &MessageId) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Section 4.1: following `inReplyTo` from any message of a conversation (message ID, its
/// `inReplyTo`) never comes back to a message already on the chain.
pub fn check_reply_chains(messages: &[(MessageId, Option<MessageId>)]) -> Result<(), ContentError> {
    let parent: BTreeMap<MessageId, Option<MessageId>> = messages.iter().copied().collect();
    for (start, _) in messages {
        let mut seen = vec![*start];
        let mut at = *start;
        while let Some(Some(next)) = parent.get(&at) {
            if seen.contains(next) {
                return Err(ContentError::ReplyLoop(hex(next)));
            }
            seen.push(*next);
            at = *next;
        }
    }
    Ok(())
}

/// Section 9.3: an edit or delete (`replaces`) is accepted only from the original's sender
/// and may change only the NestedPart (topicId, expires, inReplyTo and the extensions stay).
pub fn check_replacement(
    original: &MimiContent,
    original_sender: &str,
    replacement: &MimiContent,
    replacement_sender: &str,
) -> Result<(), ContentError> {
    if original_sender != replacement_sender {
        return Err(ContentError::ForeignReplacement {
            original_sender: original_sender.to_string(),
            replacer: replacement_sender.to_string(),
        });
    }
    let changed = [
        ("topicId", original.topic_id != replacement.topic_id),
        ("expires", original.expires != replacement.expires),
        ("inReplyTo", original.in_reply_to != replacement.in_reply_to),
        (
            "mimiExtensions",
            original.extensions != replacement.extensions,
        ),
    ];
    match changed.iter().find(|(_, changed)| *changed) {
        Some((name, _)) => Err(ContentError::ReplacementBeyondBody((*name).to_string())),
        None => Ok(()),
    }
}
