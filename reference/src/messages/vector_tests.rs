//! The official MLS vectors (mlswg/mls-implementations) against the wire types: every
//! field of `messages.json` decodes as its type and re-encodes to the same bytes, and so
//! does every message-shaped field of the other vector files.
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

/// A bare proposal body must also decode inside a `Proposal` once its type is prefixed.
fn as_proposal<T: Codec + std::fmt::Debug>(
    bytes: &[u8],
    proposal_type: ProposalType,
    wrap: fn(T) -> Proposal,
) -> Result<(), String> {
    let body: T = round_trip(bytes)?;
    let mut prefixed = proposal_type.to_bytes();
    prefixed.extend_from_slice(bytes);
    let proposal: Proposal = round_trip(&prefixed)?;
    if proposal != wrap(body) {
        return Err("differs when decoded as Proposal".into());
    }
    Ok(())
}

type FieldCheck = fn(&[u8]) -> Result<(), String>;

/// Every field of a `messages.json` case and the type its bytes hold.
const MESSAGES_FIELDS: [(&str, FieldCheck); 17] = [
    ("mls_welcome", welcome_message),
    ("mls_group_info", group_info_message),
    ("mls_key_package", key_package_message),
    ("ratchet_tree", ratchet_tree),
    ("group_secrets", |b| round_trip::<GroupSecrets>(b).map(drop)),
    ("add_proposal", |b| {
        as_proposal(b, ProposalType::ADD, Proposal::Add)
    }),
    ("update_proposal", |b| {
        as_proposal(b, ProposalType::UPDATE, Proposal::Update)
    }),
    ("remove_proposal", |b| {
        as_proposal(b, ProposalType::REMOVE, Proposal::Remove)
    }),
    ("pre_shared_key_proposal", |b| {
        as_proposal(b, ProposalType::PSK, Proposal::PreSharedKey)
    }),
    ("re_init_proposal", |b| {
        as_proposal(b, ProposalType::REINIT, Proposal::ReInit)
    }),
    ("external_init_proposal", |b| {
        as_proposal(b, ProposalType::EXTERNAL_INIT, Proposal::ExternalInit)
    }),
    ("group_context_extensions_proposal", |b| {
        let wrap = Proposal::GroupContextExtensions;
        as_proposal(b, ProposalType::GROUP_CONTEXT_EXTENSIONS, wrap)
    }),
    ("commit", commit),
    ("public_message_application", |b| {
        public_message(b, ContentType::Application)
    }),
    ("public_message_proposal", |b| {
        public_message(b, ContentType::Proposal)
    }),
    ("public_message_commit", |b| {
        public_message(b, ContentType::Commit)
    }),
    ("private_message", private_message_any),
];

fn public_message(bytes: &[u8], content_type: ContentType) -> Result<(), String> {
    let message = round_trip_message(bytes, WireFormat::MLS_PUBLIC_MESSAGE)?;
    let MlsMessageBody::PublicMessage(public) = message.body else {
        return Err("not a PublicMessage".into());
    };
    if public.content.content_type() != content_type {
        return Err(format!(
            "content type {:?}, expected {content_type:?}",
            public.content.content_type()
        ));
    }
    // The AuthenticatedContent it carries has a wire form of its own; it must round-trip.
    round_trip::<AuthenticatedContent>(&public.authenticated_content().to_bytes()).map(drop)
}

#[test]
fn messages_json_every_field_decodes_and_re_encodes_byte_for_byte() -> TestResult {
    let cases = load("messages.json")?;
    assert_eq!(cases.len(), 300, "messages.json holds 300 cases");
    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let object = case
            .as_object()
            .ok_or(format!("case {index} is not an object"))?;
        for key in object.keys() {
            if !MESSAGES_FIELDS.iter().any(|(name, _)| name == key) {
                failures.push(format!("case {index}: unexpected field {key}"));
            }
        }
        for (name, check) in &MESSAGES_FIELDS {
            let bytes = hex_field(case, name)?;
            if let Err(e) = check(&bytes) {
                failures.push(format!("case {index}.{name}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

/// `transcript-hashes.json`: the AuthenticatedContent round-trips, and the transcript
/// inputs built from it reproduce both hashes.
#[test]
fn transcript_hashes_json_inputs_reproduce_the_hashes() -> TestResult {
    for (index, case) in load("transcript-hashes.json")?.iter().enumerate() {
        let suite_id = case
            .get("cipher_suite")
            .and_then(Value::as_u64)
            .ok_or("cipher_suite")?;
        let suite = Suite::new(crate::crypto::CipherSuite(u16::try_from(suite_id)?))?;
        let content: AuthenticatedContent = round_trip(&hex_field(case, "authenticated_content")?)
            .map_err(|e| format!("case {index}: {e}"))?;

        let mut input = hex_field(case, "interim_transcript_hash_before")?;
        input.extend(content.confirmed_transcript_hash_input());
        let confirmed = suite.hash(&input);
        assert_eq!(
            confirmed,
            hex_field(case, "confirmed_transcript_hash_after")?,
            "case {index}"
        );

        let mut input = confirmed;
        input.extend(
            content
                .interim_transcript_hash_input()
                .ok_or("commit without confirmation tag")?,
        );
        assert_eq!(
            suite.hash(&input),
            hex_field(case, "interim_transcript_hash_after")?,
            "case {index}"
        );
    }
    Ok(())
}

fn any_message(bytes: &[u8]) -> Result<(), String> {
    round_trip::<MlsMessage>(bytes).map(drop)
}

fn key_package_message(bytes: &[u8]) -> Result<(), String> {
    round_trip_message(bytes, WireFormat::MLS_KEY_PACKAGE).map(drop)
}

fn welcome_message(bytes: &[u8]) -> Result<(), String> {
    round_trip_message(bytes, WireFormat::MLS_WELCOME).map(drop)
}

fn group_info_message(bytes: &[u8]) -> Result<(), String> {
    round_trip_message(bytes, WireFormat::MLS_GROUP_INFO).map(drop)
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

/// `message-protection.json` public messages: FramedContentTBS (with the GroupContext)
/// is what the signature covers, AuthenticatedContentTBM what the membership tag covers,
/// and the content is the case's bare proposal or commit.
#[test]
fn framed_content_tbs_and_tbm_verify_against_message_protection_json() -> TestResult {
    for (index, case) in load("message-protection.json")?.iter().enumerate() {
        let suite = suite_of(case)?;
        let context = GroupContext::new(
            suite.id(),
            hex_field(case, "group_id")?,
            case.get("epoch").and_then(Value::as_u64).ok_or("epoch")?,
            hex_field(case, "tree_hash")?,
            hex_field(case, "confirmed_transcript_hash")?,
            Vec::new(),
        );
        let proposal = ContentBody::Proposal(Proposal::from_bytes(&hex_field(case, "proposal")?)?);
        let commit = ContentBody::Commit(Commit::from_bytes(&hex_field(case, "commit")?)?);
        for (field, body) in [("proposal_pub", proposal), ("commit_pub", commit)] {
            let MlsMessageBody::PublicMessage(message) =
                MlsMessage::from_bytes(&hex_field(case, field)?)?.body
            else {
                return Err(format!("case {index}: {field} is not a PublicMessage").into());
            };
            assert_eq!(message.content.body, body, "case {index} {field}");
            let tbs = message
                .content
                .tbs_bytes(WireFormat::MLS_PUBLIC_MESSAGE, Some(&context))
                .ok_or("member sender needs the context")?;
            suite
                .verify_with_label(
                    &hex_field(case, "signature_pub")?,
                    FramedContentAuthData::SIGNATURE_LABEL,
                    &tbs,
                    &message.auth.signature,
                )
                .map_err(|e| format!("case {index} {field}: {e}"))?;
            let tag = suite.mac(
                &hex_field(case, "membership_key")?,
                &message.membership_tag_input(&context),
            );
            assert_eq!(
                message.membership_tag.as_deref(),
                Some(&tag[..]),
                "case {index} {field} membership_tag"
            );
        }
    }
    Ok(())
}
