//! Negative MIMI content: documents and conversations built from the draft's examples, each
//! breaking one rule of draft-ietf-mimi-content-08, that the reference must refuse with the
//! error of that rule. A case passes when the broken document is refused as expected (and,
//! where it has one, its unbroken control is accepted); a reference that lets the violation
//! through fails it.
//!
//! ```text
//!  examples/BASE.cbor ──decode──> Value ──break one rule──> bytes ──content::receive──> Err(rule)?
//!  conversations: check_reply_chains, check_replacement, ExternalPart::{encrypt, decrypt}
//! ```

use std::path::Path;

use concord_reference::content::cbor::{self, Value};
use concord_reference::content::{
    self, ContentError, DerivedValues, MimiContent, check_replacement, check_reply_chains,
};

/// One negative case: its name, the example it starts from, what it breaks.
#[derive(Debug)]
pub struct NegativeCase {
    pub name: &'static str,
    pub base: &'static str,
    pub requirements: &'static [&'static str],
    pub what: &'static str,
    /// `Ok(detail)` when the reference refused as it must, `Err(detail)` otherwise.
    run: fn(&[u8]) -> Result<String, String>,
}

/// Decodes an example to its CBOR items (the 7-item array).
fn items(base: &[u8]) -> Result<Vec<Value>, String> {
    match cbor::decode(base) {
        Ok(Value::Array(items)) => Ok(items),
        other => Err(format!("the base example is not a CBOR array: {other:?}")),
    }
}

/// The body part's items of a message's items.
fn body(items: &mut [Value]) -> Result<&mut Vec<Value>, String> {
    match items.get_mut(6) {
        Some(Value::Array(part)) => Ok(part),
        _ => Err("the base example has no NestedPart".into()),
    }
}

fn extensions(items: &mut [Value]) -> Result<&mut Vec<(Value, Value)>, String> {
    match items.get_mut(5) {
        Some(Value::Map(entries)) => Ok(entries),
        _ => Err("the base example has no extensions map".into()),
    }
}

fn encode(items: Vec<Value>) -> Vec<u8> {
    cbor::to_bytes(&Value::Array(items))
}

/// `Ok` when `bytes` is refused with an error `expected` accepts.
fn refused(
    bytes: &[u8],
    expected: fn(&ContentError) -> bool,
    rule: &str,
) -> Result<String, String> {
    match content::receive(bytes) {
        Ok(_) => Err(format!("accepted a document that breaks: {rule}")),
        Err(e) if expected(&e) => Ok(format!("refused: {e}")),
        Err(e) => Err(format!("refused, but not for {rule}: {e}")),
    }
}

fn cbor_error(e: &ContentError) -> bool {
    matches!(e, ContentError::Cbor(_))
}

fn shape_error(e: &ContentError) -> bool {
    matches!(e, ContentError::Field { .. } | ContentError::Rule { .. })
}

/// Replaces the first occurrence of `from` in `bytes` by `to` (same length).
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Result<Vec<u8>, String> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .ok_or_else(|| {
            format!(
                "{:?} not found in the base example",
                String::from_utf8_lossy(from)
            )
        })?;
    let mut out = bytes.to_vec();
    out.splice(at..at + from.len(), to.iter().copied());
    Ok(out)
}

fn sender(message: &MimiContent) -> Result<String, String> {
    message
        .sender_uri()
        .map(str::to_string)
        .ok_or_else(|| "the base example has no senderUri".into())
}

fn decoded(bytes: &[u8]) -> Result<MimiContent, String> {
    content::receive(bytes).map_err(|e| format!("the base example is refused: {e}"))
}

/// A multipart nesting `levels` NestedParts (the innermost two single parts).
fn nested(levels: usize) -> Value {
    let single = || {
        Value::Array(vec![
            Value::Unsigned(1),
            Value::Text(String::new()),
            Value::Unsigned(1),
            Value::Text("text/plain;charset=utf-8".into()),
            Value::Bytes(b"x".to_vec()),
        ])
    };
    (1..levels).fold(single(), |inner, _| {
        Value::Array(vec![
            Value::Unsigned(1),
            Value::Text(String::new()),
            Value::Unsigned(3),
            Value::Unsigned(2),
            Value::Array(vec![inner, single()]),
        ])
    })
}

/// Every negative case, in catalog order.
pub const CASES: &[NegativeCase] = &[
    NegativeCase {
        name: "message-id-tampered",
        base: "original",
        requirements: &["MIMI-CONTENT-3.3-1"],
        what: "one octet of the text changed: the message ID no longer matches the original's",
        run: |base| {
            let message = decoded(base)?;
            let (sender, room) = (
                sender(&message)?,
                message.room_uri().unwrap_or_default().to_string(),
            );
            let id = content::message_id(base, &message.salt, &sender, &room);
            let mut tampered = base.to_vec();
            let last = tampered.len() - 1;
            tampered[last] ^= 1;
            let again = content::message_id(&tampered, &message.salt, &sender, &room);
            let other_room = content::message_id(base, &message.salt, &sender, "mimi://elsewhere");
            if id[0] != content::HASH_SHA256 || again == id || other_room == id {
                return Err(
                    "the message ID does not depend on the message and room as it must".into(),
                );
            }
            Ok("a changed octet or another room gives another message ID".into())
        },
    },
    NegativeCase {
        name: "derived-values-no-timestamp",
        base: "original",
        requirements: &["MIMI-CONTENT-3.4-1", "MIMI-CONTENT-4.6-1"],
        what: "MessageDerivedValues without the hub's accepted timestamp, or with a text one",
        run: |base| {
            let message = decoded(base)?;
            let sender = sender(&message)?;
            let room = message.room_uri().unwrap_or_default().to_string();
            let id = content::message_id(base, &message.salt, &sender, &room);
            let good = DerivedValues {
                message_id: id,
                hub_accepted_timestamp: Value::Unsigned(1_644_387_225_019),
                mls_group_id: b"group".to_vec(),
                sender_leaf_index: 3,
                sender_client_url: format!("{sender}/client"),
                sender_user_url: sender,
                room_url: room,
            };
            let bytes = good.to_bytes();
            DerivedValues::from_bytes(&bytes).map_err(|e| format!("control refused: {e}"))?;
            let Ok(Value::Array(mut fields)) = cbor::decode(&bytes) else {
                return Err("control does not decode".into());
            };
            fields[1] = Value::Text("yesterday".into());
            let text_time = cbor::to_bytes(&Value::Array(fields.clone()));
            fields.remove(1);
            let missing = cbor::to_bytes(&Value::Array(fields));
            for (what, bytes) in [("a text timestamp", text_time), ("no timestamp", missing)] {
                if DerivedValues::from_bytes(&bytes).is_ok() {
                    return Err(format!("MessageDerivedValues with {what} accepted"));
                }
            }
            Ok("derived values without a millisecond or extended-time timestamp refused".into())
        },
    },
    NegativeCase {
        name: "salt-15-octets",
        base: "original",
        requirements: &["MIMI-CONTENT-4.1-1", "MIMI-CONTENT-10.1-1"],
        what: "a salt one octet short",
        run: |base| {
            let mut items = items(base)?;
            items[0] = Value::Bytes(vec![7; 15]);
            refused(&encode(items), shape_error, "the 16-octet salt")
        },
    },
    NegativeCase {
        name: "reply-loop",
        base: "reply",
        requirements: &["MIMI-CONTENT-4.1-2"],
        what: "two messages each in reply to the other; the examples' own chain is accepted",
        run: |base| {
            let reply = decoded(base)?;
            let original = reply
                .in_reply_to
                .ok_or("the reply example has no inReplyTo")?;
            let id = content::message_id(
                base,
                &reply.salt,
                &sender(&reply)?,
                reply.room_uri().unwrap_or_default(),
            );
            check_reply_chains(&[(id, Some(original)), (original, None)])
                .map_err(|e| format!("control refused: {e}"))?;
            match check_reply_chains(&[(id, Some(original)), (original, Some(id))]) {
                Err(e @ ContentError::ReplyLoop(_)) => Ok(format!("refused: {e}")),
                Err(e) => Err(format!("refused, but not as a loop: {e}")),
                Ok(()) => Err("a loop of replies accepted".into()),
            }
        },
    },
    NegativeCase {
        name: "extension-key-twice",
        base: "original",
        requirements: &["MIMI-CONTENT-4.3-1"],
        what: "the senderUri key twice in mimiExtensions",
        run: |base| {
            let mut items = items(base)?;
            let entries = extensions(&mut items)?;
            let first = entries.first().cloned().ok_or("no extension")?;
            entries.insert(1, first);
            refused(&encode(items), cbor_error, "one key once")
        },
    },
    NegativeCase {
        name: "extension-text-key-256",
        base: "original",
        requirements: &["MIMI-CONTENT-4.3-1", "MIMI-CONTENT-6.2-2"],
        what: "a text extension key of 256 octets",
        run: |base| {
            let mut items = items(base)?;
            extensions(&mut items)?.push((Value::Text("k".repeat(256)), Value::Null));
            refused(&encode(items), shape_error, "text keys up to 255 octets")
        },
    },
    NegativeCase {
        name: "extension-key-bytes",
        base: "original",
        requirements: &["MIMI-CONTENT-6.2-2"],
        what: "a byte string as a top-level extension key",
        run: |base| {
            let mut items = items(base)?;
            extensions(&mut items)?.push((Value::Bytes(vec![1]), Value::Null));
            refused(
                &encode(items),
                shape_error,
                "extension keys are integers or text",
            )
        },
    },
    NegativeCase {
        name: "content-id-to-multipart",
        base: "multipart-3",
        requirements: &["MIMI-CONTENT-4.4-1"],
        what: "an HTML part whose cid: URI names part 1, a MultiPart",
        run: |base| {
            decoded(base)?;
            let bytes = patch(base, b"cid:5@local.invalid", b"cid:1@local.invalid")?;
            refused(
                &bytes,
                |e| matches!(e, ContentError::ContentIdTarget { .. }),
                "cid: names a single or external part",
            )
        },
    },
    NegativeCase {
        name: "content-id-to-nothing",
        base: "multipart-3",
        requirements: &["MIMI-CONTENT-4.4-1"],
        what: "an HTML part whose cid: URI names part 99, which does not exist",
        run: |base| {
            let bytes = patch(base, b"cid:10@local.invalid", b"cid:99@local.invalid")?;
            refused(
                &bytes,
                |e| matches!(e, ContentError::ContentIdTarget { .. }),
                "cid: names a part of the message",
            )
        },
    },
    NegativeCase {
        name: "aes-128-gcm",
        base: "attachment",
        requirements: &["MIMI-CONTENT-4.5-1"],
        what: "external content sealed and opened with AES-128-GCM under the example's key; a flipped bit and a 15-octet key are refused",
        run: |base| {
            let message = decoded(base)?;
            let content::PartBody::External(part) = &message.nested_part.body else {
                return Err("the attachment example has no external part".into());
            };
            let plain = b"two hours of key signing video".to_vec();
            let sealed = part.encrypt(&plain).map_err(|e| format!("seal: {e}"))?;
            if sealed.len() != plain.len() + 16 || sealed[..plain.len()] == plain[..] {
                return Err("AES-128-GCM output is not a ciphertext with a 16-octet tag".into());
            }
            if part.decrypt(&sealed).map_err(|e| format!("open: {e}"))? != plain {
                return Err("AES-128-GCM round trip differs".into());
            }
            let mut flipped = sealed.clone();
            flipped[0] ^= 1;
            if part.decrypt(&flipped).is_ok() {
                return Err("a tampered ciphertext decrypted".into());
            }
            let mut items = items(base)?;
            body(&mut items)?[8] = Value::Bytes(vec![0x21; 15]);
            refused(
                &encode(items),
                |e| matches!(e, ContentError::ExternalEncryption { .. }),
                "AES-128-GCM takes a 16-octet key",
            )
        },
    },
    NegativeCase {
        name: "reaction-ensemble",
        base: "reaction",
        requirements: &["MIMI-CONTENT-5.3-1"],
        what: "two reactions (a heart and a thumbs up) in one text part",
        run: |base| {
            decoded(base)?;
            let mut items = items(base)?;
            body(&mut items)?[4] = Value::Bytes("\u{2665}\u{1F44D}".as_bytes().to_vec());
            let mut flag = items.clone();
            body(&mut flag)?[4] =
                Value::Bytes("\u{1F1EB}\u{1F1F7}\u{1F44D}\u{1F3FD}".as_bytes().to_vec());
            // One flag, one toned thumb: still one reaction each; together two.
            let mut one = items.clone();
            body(&mut one)?[4] = Value::Bytes("\u{1F44D}\u{1F3FD}".as_bytes().to_vec());
            content::receive(&encode(one))
                .map_err(|e| format!("one toned reaction refused: {e}"))?;
            refused(
                &encode(flag),
                |e| matches!(e, ContentError::ReactionEnsemble { .. }),
                "one reaction per text part",
            )?;
            refused(
                &encode(items),
                |e| matches!(e, ContentError::ReactionEnsemble { .. }),
                "one reaction per text part",
            )
        },
    },
    NegativeCase {
        name: "indefinite-length",
        base: "original",
        requirements: &["MIMI-CONTENT-6.1-1"],
        what: "the top-level array with an indefinite length",
        run: |base| {
            let mut bytes = base.to_vec();
            if bytes.first() != Some(&0x87) {
                return Err("the base example does not open with a 7-item array".into());
            }
            bytes[0] = 0x9f;
            bytes.push(0xff);
            refused(&bytes, cbor_error, "definite lengths only")
        },
    },
    NegativeCase {
        name: "non-shortest-length",
        base: "original",
        requirements: &["MIMI-CONTENT-6.1-1"],
        what: "the salt's length in a one-octet argument instead of the head",
        run: |base| {
            if base.get(..2) != Some(&[0x87, 0x50]) {
                return Err("the base example does not open with a 16-octet salt".into());
            }
            let mut bytes = vec![0x87, 0x58, 0x10];
            bytes.extend_from_slice(&base[2..]);
            refused(&bytes, cbor_error, "shortest lengths")
        },
    },
    NegativeCase {
        name: "canonical-order",
        base: "original",
        requirements: &["MIMI-CONTENT-6.1-2"],
        what: "extension keys -1 and 100 in RFC 7049 canonical order (shorter first), not bytewise",
        run: |base| {
            let mut items = items(base)?;
            let entries = extensions(&mut items)?;
            entries.push((Value::Negative(0), Value::Text("a".into())));
            entries.push((Value::Unsigned(100), Value::Text("b".into())));
            let mut sorted = items.clone();
            let Some(Value::Map(good)) = sorted.get_mut(5) else {
                return Err("no extensions".into());
            };
            cbor::sort_map(good);
            content::receive(&encode(sorted)).map_err(|e| format!("control refused: {e}"))?;
            refused(&encode(items), cbor_error, "bytewise key order")
        },
    },
    NegativeCase {
        name: "nested-map-key-bool",
        base: "original",
        requirements: &["MIMI-CONTENT-6.2-1", "MIMI-CONTENT-6.2-3"],
        what: "a map inside an extension keyed by a boolean",
        run: |base| {
            let mut items = items(base)?;
            extensions(&mut items)?.push((
                Value::Unsigned(300),
                Value::Map(vec![(Value::Bool(true), Value::Null)]),
            ));
            refused(
                &encode(items),
                shape_error,
                "nested keys are integers, text or bytes",
            )
        },
    },
    NegativeCase {
        name: "integer-key-2^53",
        base: "original",
        requirements: &["MIMI-CONTENT-6.2-1", "MIMI-CONTENT-6.2-4"],
        what: "an extension key of 2^53, beyond a double's exact integers",
        run: |base| {
            let mut items = items(base)?;
            extensions(&mut items)?.push((Value::Unsigned(1 << 53), Value::Null));
            refused(
                &encode(items),
                shape_error,
                "integer keys within ±(2^53 - 1)",
            )
        },
    },
    NegativeCase {
        name: "text-not-utf8",
        base: "original",
        requirements: &["MIMI-CONTENT-6.2-1", "MIMI-CONTENT-6.2-5"],
        what: "the language tag as a text string holding the octets ff fe",
        run: |base| {
            let mut items = items(base)?;
            body(&mut items)?[1] = Value::Text("zz".into());
            let bytes = patch(&encode(items), b"\x62zz", b"\x62\xff\xfe")?;
            refused(&bytes, cbor_error, "valid UTF-8 text")
        },
    },
    NegativeCase {
        name: "parts-5-deep",
        base: "original",
        requirements: &["MIMI-CONTENT-6.3-1"],
        what: "NestedParts nested 5 levels deep (4 accepted)",
        run: |base| {
            let mut items = items(base)?;
            items[6] = nested(4);
            content::receive(&encode(items.clone()))
                .map_err(|e| format!("4 levels refused: {e}"))?;
            items[6] = nested(5);
            refused(
                &encode(items),
                shape_error,
                "at most 4 levels of NestedParts",
            )
        },
    },
    NegativeCase {
        name: "extension-5-deep",
        base: "original",
        requirements: &["MIMI-CONTENT-6.3-2"],
        what: "an extension value of four nested arrays (five levels with the map; three accepted)",
        run: |base| {
            let mut items = items(base)?;
            let deep =
                |n: usize| (0..n).fold(Value::Unsigned(1), |inner, _| Value::Array(vec![inner]));
            extensions(&mut items)?.push((Value::Unsigned(300), deep(3)));
            content::receive(&encode(items.clone()))
                .map_err(|e| format!("4 levels refused: {e}"))?;
            if let Some(last) = extensions(&mut items)?.last_mut() {
                last.1 = deep(4);
            }
            refused(
                &encode(items),
                shape_error,
                "at most 4 levels in extensions",
            )
        },
    },
    NegativeCase {
        name: "embedded-content-broken",
        base: "original",
        requirements: &["MIMI-CONTENT-7.1-1"],
        what: "an application/mimi-content part holding a 6-item array; holding the original it is accepted",
        run: |base| {
            let mut items = items(base)?;
            body(&mut items)?[3] = Value::Text("application/mimi-content".into());
            body(&mut items)?[4] = Value::Bytes(base.to_vec());
            content::receive(&encode(items.clone()))
                .map_err(|e| format!("embedded original refused: {e}"))?;
            let mut short = self::items(base)?;
            short.pop();
            body(&mut items)?[4] = Value::Bytes(encode(short));
            refused(
                &encode(items),
                shape_error,
                "embedded MIMI content is valid",
            )
        },
    },
    NegativeCase {
        name: "text-plain-not-utf8",
        base: "original",
        requirements: &["MIMI-CONTENT-7.1-2"],
        what: "a text/plain;charset=utf-8 part whose octets are not UTF-8",
        run: |base| {
            let mut items = items(base)?;
            body(&mut items)?[3] = Value::Text("text/plain;charset=utf-8".into());
            content::receive(&encode(items.clone()))
                .map_err(|e| format!("control refused: {e}"))?;
            body(&mut items)?[4] = Value::Bytes(vec![b'h', b'i', 0xc3]);
            refused(
                &encode(items),
                |e| matches!(e, ContentError::TextNotUtf8 { .. }),
                "text/plain is UTF-8",
            )
        },
    },
    NegativeCase {
        name: "markdown-not-utf8",
        base: "original",
        requirements: &["MIMI-CONTENT-7.1-3"],
        what: "the example's GFM-MIMI markdown part with an octet that is not UTF-8",
        run: |base| {
            let message = decoded(base)?;
            let content::PartBody::Single { content_type, .. } = &message.nested_part.body else {
                return Err("the original example is not a single part".into());
            };
            if !content::semantics::is_required_media_type(content_type) {
                return Err(format!(
                    "{content_type} is not one of the required media types"
                ));
            }
            let mut items = items(base)?;
            body(&mut items)?[4] = Value::Bytes(vec![b'_', 0xff, b'_']);
            refused(
                &encode(items),
                |e| matches!(e, ContentError::TextNotUtf8 { .. }),
                "markdown is UTF-8",
            )
        },
    },
    NegativeCase {
        name: "recommended-media-types",
        base: "original",
        requirements: &[
            "MIMI-CONTENT-7.1-4",
            "MIMI-CONTENT-7.1-5",
            "MIMI-CONTENT-7.1-6",
            "MIMI-CONTENT-7.1-7",
        ],
        what: "the original's body as CommonMark, HTML, JPEG and PNG parts is received; HTML declared UTF-8 but not is refused",
        run: |base| {
            let recommended: [(&str, &[u8]); 4] = [
                ("text/markdown;variant=CommonMark", b"Hi *everyone*"),
                ("text/html;charset=utf-8", b"<p>Hi <em>everyone</em></p>"),
                ("image/jpeg", &[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
                (
                    "image/png",
                    &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a],
                ),
            ];
            for (content_type, octets) in recommended {
                let mut items = items(base)?;
                body(&mut items)?[3] = Value::Text(content_type.into());
                body(&mut items)?[4] = Value::Bytes(octets.to_vec());
                content::receive(&encode(items))
                    .map_err(|e| format!("a {content_type} part refused: {e}"))?;
            }
            let mut items = items(base)?;
            body(&mut items)?[3] = Value::Text("text/html;charset=utf-8".into());
            body(&mut items)?[4] = Value::Bytes(vec![b'<', b'p', b'>', 0xe9]);
            refused(
                &encode(items),
                |e| matches!(e, ContentError::TextNotUtf8 { .. }),
                "text/html;charset=utf-8 is UTF-8",
            )
        },
    },
    NegativeCase {
        name: "edit-by-another-sender",
        base: "reply",
        requirements: &["MIMI-CONTENT-9.3-2"],
        what: "an edit of Bob's reply sent by Cathy (Bob's own edit is accepted)",
        run: |base| {
            let (reply, bob, edit) = edit_of(base)?;
            check_replacement(&reply, &bob, &edit, &bob)
                .map_err(|e| format!("Bob's own edit refused: {e}"))?;
            match check_replacement(&reply, &bob, &edit, "mimi://example.com/u/cathy-washington") {
                Err(e @ ContentError::ForeignReplacement { .. }) => Ok(format!("refused: {e}")),
                Err(e) => Err(format!("refused, but not as another sender's edit: {e}")),
                Ok(()) => Err("an edit by another sender accepted".into()),
            }
        },
    },
    NegativeCase {
        name: "edit-beyond-body",
        base: "reply",
        requirements: &["MIMI-CONTENT-9.3-3"],
        what: "Bob's edit of his reply that also moves it to another topic, or drops its inReplyTo",
        run: |base| {
            let (reply, bob, edit) = edit_of(base)?;
            for change in ["topicId", "inReplyTo"] {
                let mut changed = edit.clone();
                match change {
                    "topicId" => changed.topic_id = b"another topic".to_vec(),
                    _ => changed.in_reply_to = None,
                }
                match check_replacement(&reply, &bob, &changed, &bob) {
                    Err(ContentError::ReplacementBeyondBody(field)) if field == change => {}
                    other => return Err(format!("an edit changing {change}: {other:?}")),
                }
            }
            Ok("edits changing topicId or inReplyTo refused".into())
        },
    },
];

/// The reply example, its sender, and an edit of it as the edit example makes one: new
/// salt, `replaces` naming the reply, a new body, everything else kept.
fn edit_of(base: &[u8]) -> Result<(MimiContent, String, MimiContent), String> {
    let reply = decoded(base)?;
    let bob = sender(&reply)?;
    let id = content::message_id(
        base,
        &reply.salt,
        &bob,
        reply.room_uri().unwrap_or_default(),
    );
    let mut edit = reply.clone();
    edit.salt = [0xb8; 16];
    edit.replaces = Some(id);
    edit.nested_part.body = content::PartBody::Single {
        content_type: "text/markdown;variant=GFM-MIMI".into(),
        content: b"Right on! _Congratulations_ y'all!".to_vec(),
    };
    Ok((reply, bob, edit))
}

/// Runs every case whose base example `dir` holds: (case, `Some(outcome)`), or `None` for
/// a case whose base is missing (skipped).
pub fn run(dir: &Path) -> Vec<(&'static NegativeCase, Option<Result<String, String>>)> {
    CASES
        .iter()
        .map(|case| {
            let base = std::fs::read(dir.join(format!("{}.cbor", case.base))).ok();
            (case, base.map(|b| (case.run)(&b)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_negative_case_is_refused_and_its_control_accepted() {
        let message_dir = super::super::mimi_content::default_directory();
        let dir = if message_dir.is_dir() {
            message_dir
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/mimi-content-examples")
        };
        let outcomes = run(&dir);
        assert_eq!(outcomes.len(), CASES.len());
        for (case, outcome) in outcomes {
            match outcome {
                Some(Ok(_)) => {}
                other => panic!("{}: {other:?}", case.name),
            }
        }
    }
}
