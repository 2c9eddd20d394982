//! The official MLS vectors against the wire types: every message-shaped field of the
//! vector files other than `messages.json` (which the harness checks as a family)
//! re-encodes to the same bytes, and the to-be-signed encodings verify.
//!
//! The folder comes from `CONCORD_VECTORS`, else `../../shared/mls-vectors` relative to
//! this crate.

use std::path::PathBuf;

use serde_json::Value;

use super::*;
use crate::crypto::Suite;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn vectors_folder() -> PathBuf {
    std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/mls-vectors"
            ))
        })
}

fn load(name: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let path = vectors_folder().join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_str(&text)? {
        Value::Array(cases) => Ok(cases),
        _ => Err(format!("{name}: not a JSON array").into()),
    }
}

fn hex_field(object: &Value, key: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let text = object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing hex field {key}"))?;
    Ok(hex::decode(text)?)
}

/// Decodes `bytes` as `T` (all of them), re-encodes, and insists on the same bytes.
fn round_trip<T: Codec + std::fmt::Debug>(bytes: &[u8]) -> Result<T, String> {
    let value = T::from_bytes(bytes).map_err(|e| format!("does not decode: {e}"))?;
    let again = value.to_bytes();
    if again != bytes {
        return Err(format!(
            "re-encodes differently:\n  in  {}\n  out {}",
            crate::hex(bytes),
            crate::hex(&again)
        ));
    }
    Ok(value)
}

fn round_trip_message(bytes: &[u8], wire_format: WireFormat) -> Result<MlsMessage, String> {
    let message: MlsMessage = round_trip(bytes)?;
    if message.wire_format() != wire_format {
        return Err(format!(
            "wire format {:?}, expected {wire_format:?}",
            message.wire_format()
        ));
    }
    Ok(message)
}

type FieldCheck = fn(&[u8]) -> Result<(), String>;

fn any_message(bytes: &[u8]) -> Result<(), String> {
    round_trip::<MlsMessage>(bytes).map(drop)
}

fn key_package_message(bytes: &[u8]) -> Result<(), String> {
    round_trip_message(bytes, WireFormat::MLS_KEY_PACKAGE).map(drop)
}

fn welcome_message(bytes: &[u8]) -> Result<(), String> {
    round_trip_message(bytes, WireFormat::MLS_WELCOME).map(drop)
}

fn public_message_any(bytes: &[u8]) -> Result<(), String> {
    round_trip_message(bytes, WireFormat::MLS_PUBLIC_MESSAGE).map(drop)
}

fn private_message_any(bytes: &[u8]) -> Result<(), String> {
    round_trip_message(bytes, WireFormat::MLS_PRIVATE_MESSAGE).map(drop)
}

fn proposal(bytes: &[u8]) -> Result<(), String> {
    round_trip::<Proposal>(bytes).map(drop)
}

fn commit(bytes: &[u8]) -> Result<(), String> {
    round_trip::<Commit>(bytes).map(drop)
}

fn ratchet_tree(bytes: &[u8]) -> Result<(), String> {
    round_trip::<RatchetTree>(bytes).map(drop)
}

fn update_path(bytes: &[u8]) -> Result<(), String> {
    round_trip::<UpdatePath>(bytes).map(drop)
}

/// Hex fields of the other vector files: file, path of keys to the field (`[]` steps
/// into every element of a list), the type the bytes hold.
const OTHER_FIELDS: &[(&str, &[&str], FieldCheck)] = &[
    ("welcome.json", &["key_package"], key_package_message),
    ("welcome.json", &["welcome"], welcome_message),
    ("message-protection.json", &["proposal"], proposal),
    ("message-protection.json", &["commit"], commit),
    (
        "message-protection.json",
        &["proposal_pub"],
        public_message_any,
    ),
    (
        "message-protection.json",
        &["commit_pub"],
        public_message_any,
    ),
    (
        "message-protection.json",
        &["proposal_priv"],
        private_message_any,
    ),
    (
        "message-protection.json",
        &["commit_priv"],
        private_message_any,
    ),
    (
        "message-protection.json",
        &["application_priv"],
        private_message_any,
    ),
    ("tree-operations.json", &["proposal"], proposal),
    ("tree-operations.json", &["tree_before"], ratchet_tree),
    ("tree-operations.json", &["tree_after"], ratchet_tree),
    ("tree-validation.json", &["tree"], ratchet_tree),
    ("treekem.json", &["ratchet_tree"], ratchet_tree),
    (
        "treekem.json",
        &["update_paths", "[]", "update_path"],
        update_path,
    ),
    (
        "passive-client-welcome.json",
        &["key_package"],
        key_package_message,
    ),
    ("passive-client-welcome.json", &["welcome"], welcome_message),
    (
        "passive-client-welcome.json",
        &["ratchet_tree"],
        ratchet_tree,
    ),
    (
        "passive-client-handling-commit.json",
        &["key_package"],
        key_package_message,
    ),
    (
        "passive-client-handling-commit.json",
        &["welcome"],
        welcome_message,
    ),
    (
        "passive-client-handling-commit.json",
        &["epochs", "[]", "proposals", "[]"],
        any_message,
    ),
    (
        "passive-client-handling-commit.json",
        &["epochs", "[]", "commit"],
        any_message,
    ),
];

/// Every value at `path` below `value` (a `null` is an absent optional field: none).
fn values_at<'a>(value: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match path.split_first() {
        None if value.is_null() => {}
        None => out.push(value),
        Some((&"[]", rest)) => {
            for item in value.as_array().into_iter().flatten() {
                values_at(item, rest, out);
            }
        }
        Some((key, rest)) => {
            if let Some(inner) = value.get(key) {
                values_at(inner, rest, out);
            }
        }
    }
}

#[test]
fn other_vector_files_message_fields_round_trip() -> TestResult {
    let mut failures = Vec::new();
    for &(file, path, check) in OTHER_FIELDS {
        let cases = load(file)?;
        let mut checked = 0;
        for (index, case) in cases.iter().enumerate() {
            let mut values = Vec::new();
            values_at(case, path, &mut values);
            for value in values {
                let bytes = hex::decode(value.as_str().ok_or("not a string")?)?;
                checked += 1;
                if let Err(e) = check(&bytes) {
                    failures.push(format!("{file} case {index} {}: {e}", path.join(".")));
                }
            }
        }
        assert!(checked > 0, "{file} {}: no values found", path.join("."));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

fn suite_of(case: &Value) -> Result<Suite, Box<dyn std::error::Error>> {
    let id = case
        .get("cipher_suite")
        .and_then(Value::as_u64)
        .ok_or("cipher_suite")?;
    Ok(Suite::new(crate::crypto::CipherSuite(u16::try_from(id)?))?)
}

/// `welcome.json` key packages: KeyPackageTBS and LeafNodeTBS (key_package source) are
/// what the signatures cover.
#[test]
fn key_package_and_leaf_node_tbs_verify_against_welcome_json() -> TestResult {
    for (index, case) in load("welcome.json")?.iter().enumerate() {
        let suite = suite_of(case)?;
        let MlsMessageBody::KeyPackage(package) =
            MlsMessage::from_bytes(&hex_field(case, "key_package")?)?.body
        else {
            return Err(format!("case {index}: key_package is not a KeyPackage").into());
        };
        let leaf = &package.leaf_node;
        let key = leaf.signature_key.as_slice();
        suite
            .verify_with_label(
                key,
                KeyPackage::SIGNATURE_LABEL,
                &package.tbs_bytes(),
                &package.signature,
            )
            .map_err(|e| format!("case {index}: KeyPackage signature: {e}"))?;
        let leaf_tbs = leaf.tbs_bytes(b"", LeafIndex(0));
        suite
            .verify_with_label(key, LeafNode::SIGNATURE_LABEL, &leaf_tbs, &leaf.signature)
            .map_err(|e| format!("case {index}: LeafNode signature: {e}"))?;
    }
    Ok(())
}

/// `treekem.json` update paths: LeafNodeTBS of a commit-source leaf binds group_id and
/// the sender's leaf index.
#[test]
fn commit_leaf_node_tbs_verifies_against_treekem_json() -> TestResult {
    let mut verified = 0;
    for (index, case) in load("treekem.json")?.iter().enumerate() {
        let suite = suite_of(case)?;
        let group_id = hex_field(case, "group_id")?;
        for path in case
            .get("update_paths")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let sender = path.get("sender").and_then(Value::as_u64).ok_or("sender")?;
            let update_path = UpdatePath::from_bytes(&hex_field(path, "update_path")?)?;
            let leaf = &update_path.leaf_node;
            assert!(
                matches!(leaf.leaf_node_source, LeafNodeSource::Commit { .. }),
                "case {index}"
            );
            let tbs = leaf.tbs_bytes(&group_id, LeafIndex(u32::try_from(sender)?));
            suite
                .verify_with_label(
                    leaf.signature_key.as_slice(),
                    LeafNode::SIGNATURE_LABEL,
                    &tbs,
                    &leaf.signature,
                )
                .map_err(|e| format!("case {index} sender {sender}: {e}"))?;
            verified += 1;
        }
    }
    assert!(verified > 0);
    Ok(())
}
