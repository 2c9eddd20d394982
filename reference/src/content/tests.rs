//! The draft's example messages as vectors, the strictness of the codec, and round trips.

use std::path::PathBuf;

use proptest::prelude::*;

use super::cbor::{self, Value};
use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The example folder: `$CONCORD_SPECS/mimi-content-examples`, default
/// `../shared/specs/mimi-content-examples` from the workspace root.
fn examples() -> PathBuf {
    let specs = std::env::var_os("CONCORD_SPECS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs"),
        PathBuf::from,
    );
    specs.join("mimi-content-examples")
}

/// The message ID an example's `.edn` states in its comment (`# message ID = h'..'`).
pub(super) fn stated_id(edn: &str) -> Option<Vec<u8>> {
    // `# message ID = h'..'` in a message's comment; the first `h'..'` after `messageId`
    // in the derived values example.
    let start = match edn.find("message ID = h'") {
        Some(at) => at + "message ID = h'".len(),
        None => {
            let after = edn.find("messageId")?;
            after + edn[after..].find("h'")? + 2
        }
    };
    let end = start + edn[start..].find('\'')?;
    let hex: String = edn[start..end]
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[test]
fn every_example_decodes_re_encodes_byte_identically_and_has_its_message_id() -> TestResult {
    let dir = examples();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e} (set CONCORD_SPECS)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cbor"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 15,
        "only {} examples in {}",
        files.len(),
        dir.display()
    );
    let mut ids_checked = 0;
    let mut original_id = None;
    let mut implied = None;
    for path in &files {
        let name = path.display().to_string();
        let bytes = std::fs::read(path)?;
        let edn = std::fs::read_to_string(path.with_extension("edn"))?;
        if name.ends_with("implied-original.cbor") {
            let derived = DerivedValues::from_bytes(&bytes).map_err(|e| format!("{name}: {e}"))?;
            assert_eq!(derived.to_bytes(), bytes, "{name}: re-encoding differs");
            // Its EDN names the original message; its CBOR (draft -08) carries another ID,
            // 01b00844..., an inconsistency of the example files: the EDN is checked.
            implied = stated_id(&edn);
            continue;
        }
        let content = MimiContent::from_bytes(&bytes).map_err(|e| format!("{name}: {e}"))?;
        assert_eq!(content.to_bytes(), bytes, "{name}: re-encoding differs");
        if let (Some(sender), Some(room), Some(stated)) =
            (content.sender_uri(), content.room_uri(), stated_id(&edn))
        {
            let id = message_id(&bytes, &content.salt, sender, room);
            assert_eq!(id.to_vec(), stated, "{name}: message ID");
            ids_checked += 1;
            if name.ends_with("/original.cbor") {
                original_id = Some(id);
            }
        }
    }
    assert!(ids_checked >= 14, "message IDs checked: {ids_checked}");
    assert_eq!(
        implied,
        original_id.map(|id| id.to_vec()),
        "the implied-original example names the original's ID"
    );
    Ok(())
}

fn minimal() -> MimiContent {
    MimiContent {
        salt: [7; 16],
        replaces: None,
        topic_id: Vec::new(),
        expires: None,
        in_reply_to: None,
        extensions: vec![(ExtensionKey::SENDER_URI, Value::Text("mimi://a/u/x".into()))],
        nested_part: NestedPart {
            disposition: 1,
            language: String::new(),
            body: PartBody::Single {
                content_type: "text/plain".into(),
                content: b"hi".to_vec(),
            },
        },
    }
}

#[test]
fn non_deterministic_encodings_are_refused_with_their_offset() {
    let good = minimal().to_bytes();
    assert_eq!(MimiContent::from_bytes(&good).unwrap(), minimal());
    // The array head 0x87 written in two bytes (0x98 0x07): not the shortest form.
    let mut long_head = vec![0x98, 0x07];
    long_head.extend_from_slice(&good[1..]);
    let e = MimiContent::from_bytes(&long_head).unwrap_err();
    assert!(
        e.to_string().contains("byte 0") && e.to_string().contains("shortest"),
        "{e}"
    );
    // Indefinite-length array.
    let mut indefinite = vec![0x9f];
    indefinite.extend_from_slice(&good[1..]);
    indefinite.push(0xff);
    assert!(
        MimiContent::from_bytes(&indefinite)
            .unwrap_err()
            .to_string()
            .contains("indefinite")
    );
    // Trailing byte.
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(
        MimiContent::from_bytes(&trailing)
            .unwrap_err()
            .to_string()
            .contains("trailing")
    );
    // Map keys out of order, and repeated.
    let unsorted = cbor::to_bytes(&Value::Map(vec![
        (Value::Unsigned(2), Value::Null),
        (Value::Unsigned(1), Value::Null),
    ]));
    assert!(
        cbor::decode(&unsorted)
            .unwrap_err()
            .reason
            .contains("out of order")
    );
    let repeated = cbor::to_bytes(&Value::Map(vec![
        (Value::Unsigned(1), Value::Null),
        (Value::Unsigned(1), Value::Null),
    ]));
    assert!(
        cbor::decode(&repeated)
            .unwrap_err()
            .reason
            .contains("repeated")
    );
    // Invalid UTF-8 and a NaN other than 0xf97e00.
    assert!(
        cbor::decode(&[0x62, 0xff, 0xfe])
            .unwrap_err()
            .reason
            .contains("UTF-8")
    );
    assert!(cbor::decode(&[0xf9, 0x7e, 0x01]).is_err());
    assert!(cbor::decode(&[0xf9, 0x7e, 0x00]).is_ok());
    // A float in 4 bytes that fits 2.
    assert!(
        cbor::decode(&[0xfa, 0x3f, 0x80, 0x00, 0x00])
            .unwrap_err()
            .reason
            .contains("shorter")
    );
    // Truncated.
    assert!(MimiContent::from_bytes(&good[..good.len() - 1]).is_err());
}

#[test]
fn the_data_model_is_checked_field_by_field() {
    let with = |f: &dyn Fn(&mut Vec<Value>)| {
        let Value::Array(mut items) = minimal().to_value() else {
            unreachable!()
        };
        f(&mut items);
        MimiContent::from_bytes(&cbor::to_bytes(&Value::Array(items))).unwrap_err()
    };
    let e = with(&|i| i[0] = Value::Bytes(vec![0; 15]));
    assert!(e.to_string().starts_with("salt: expected 16 octets"), "{e}");
    let e = with(&|i| i[1] = Value::Bytes(vec![1; 31]));
    assert!(e.to_string().starts_with("replaces:"), "{e}");
    let e = with(&|i| i[5] = Value::Map(vec![(Value::Text(String::new()), Value::Null)]));
    assert!(e.to_string().contains("1 to 255"), "{e}");
    let e = with(&|i| {
        i[5] = Value::Map(vec![(Value::Unsigned(1 << 54), Value::Null)]);
    });
    assert!(e.to_string().contains("2^53"), "{e}");
    let e = with(&|i| i[5] = Value::Map(vec![(Value::Unsigned(1), Value::Unsigned(3))]));
    assert!(e.to_string().contains("mimiExtensions[1]"), "{e}");
    // Five levels of extension depth.
    let deep = Value::Array(vec![Value::Array(vec![Value::Array(vec![Value::Array(
        vec![],
    )])])]);
    let e = with(&|i| i[5] = Value::Map(vec![(Value::Unsigned(9), deep.clone())]));
    assert!(e.to_string().contains("levels deep"), "{e}");
    // A multipart of one part, and parts nested five deep.
    let single = minimal().nested_part.to_value();
    let multi = |parts: Vec<Value>| {
        Value::Array(vec![
            Value::Unsigned(0),
            Value::Text(String::new()),
            Value::Unsigned(3),
            Value::Unsigned(2),
            Value::Array(parts),
        ])
    };
    let e = with(&|i| i[6] = multi(vec![single.clone()]));
    assert!(
        e.to_string()
            .contains("nestedPart.parts: expected 2 or more"),
        "{e}"
    );
    let mut nested = single.clone();
    for _ in 0..4 {
        nested = multi(vec![nested.clone(), single.clone()]);
    }
    let e = with(&|i| i[6] = nested.clone());
    assert!(e.to_string().contains("more than 4 levels"), "{e}");
    let e = with(&|i| {
        if let Value::Array(p) = &mut i[6] {
            p[3] = Value::Unsigned(5);
        }
    });
    assert!(e.to_string().contains("nestedPart.contentType"), "{e}");
}

#[test]
fn the_message_id_follows_section_3_3() {
    let content = minimal();
    let bytes = content.to_bytes();
    let id = message_id(&bytes, &content.salt, "mimi://a/u/x", "mimi://a/r/y");
    assert_eq!(id[0], HASH_SHA256);
    let mut input = Vec::new();
    input.extend_from_slice(&12u16.to_be_bytes());
    input.extend_from_slice(b"mimi://a/u/x");
    input.extend_from_slice(&12u16.to_be_bytes());
    input.extend_from_slice(b"mimi://a/r/y");
    input.extend_from_slice(&bytes);
    input.extend_from_slice(&content.salt);
    let digest = Sha256::digest(&input);
    assert_eq!(&id[1..], &digest[..31]);
    assert_ne!(
        id,
        message_id(&bytes, &content.salt, "mimi://a/u/z", "mimi://a/r/y")
    );
}

fn arb_part(depth: u32) -> BoxedStrategy<NestedPart> {
    let leaf = (
        any::<u8>(),
        "[a-z]{0,3}",
        prop_oneof![
            Just(PartBody::Null),
            (
                "[a-z/]{1,12}",
                proptest::collection::vec(any::<u8>(), 0..24)
            )
                .prop_map(|(content_type, content)| PartBody::Single {
                    content_type,
                    content
                }),
        ],
    )
        .prop_map(|(disposition, language, body)| NestedPart {
            disposition,
            language,
            body,
        });
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        leaf,
        (0u8..3, proptest::collection::vec(arb_part(depth - 1), 2..4)).prop_map(
            |(semantics, parts)| NestedPart {
                disposition: 0,
                language: String::new(),
                body: PartBody::Multi { semantics, parts },
            }
        ),
    ]
    .boxed()
}

prop_compose! {
    fn arb_content()(
        salt in any::<[u8; 16]>(),
        replaces in proptest::option::of(any::<[u8; 32]>()),
        topic_id in proptest::collection::vec(any::<u8>(), 0..8),
        expires in proptest::option::of((any::<bool>(), any::<u32>())),
        keys in proptest::collection::btree_set(-1000i64..1000, 0..4),
        texts in proptest::collection::vec("[a-z]{0,6}", 4),
        part in arb_part(2),
    ) -> MimiContent {
        let mut extensions: Vec<(ExtensionKey, Value)> = keys
            .into_iter()
            .zip(texts)
            .map(|(k, t)| (ExtensionKey::Int(k), Value::Text(t)))
            .collect();
        let mut sorted: Vec<(Value, Value)> =
            extensions.iter().map(|(k, v)| (k.to_value(), v.clone())).collect();
        cbor::sort_map(&mut sorted);
        extensions.sort_by_key(|(k, _)| cbor::to_bytes(&k.to_value()));
        MimiContent {
            salt,
            replaces,
            topic_id,
            expires: expires.map(|(relative, time)| Expiration { relative, time }),
            in_reply_to: None,
            extensions,
            nested_part: part,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn content_round_trips(content in arb_content()) {
        let bytes = content.to_bytes();
        let back = MimiContent::from_bytes(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &content);
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(value) = cbor::decode(&bytes) {
            // What decodes is deterministic: it re-encodes to the same bytes.
            prop_assert_eq!(cbor::to_bytes(&value), bytes.clone());
        }
        let _ = MimiContent::from_bytes(&bytes);
        let _ = DerivedValues::from_bytes(&bytes);
    }
}
