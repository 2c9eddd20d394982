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
    ("mls_welcome", |b| {
        round_trip_message(b, WireFormat::MLS_WELCOME).map(drop)
    }),
    ("mls_group_info", |b| {
        round_trip_message(b, WireFormat::MLS_GROUP_INFO).map(drop)
    }),
    ("mls_key_package", |b| {
        round_trip_message(b, WireFormat::MLS_KEY_PACKAGE).map(drop)
    }),
    ("ratchet_tree", |b| round_trip::<RatchetTree>(b).map(drop)),
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
        as_proposal(
            b,
            ProposalType::GROUP_CONTEXT_EXTENSIONS,
            Proposal::GroupContextExtensions,
        )
    }),
    ("commit", |b| round_trip::<Commit>(b).map(drop)),
    ("public_message_application", |b| {
        public_message(b, ContentType::Application)
    }),
    ("public_message_proposal", |b| {
        public_message(b, ContentType::Proposal)
    }),
    ("public_message_commit", |b| {
        public_message(b, ContentType::Commit)
    }),
    ("private_message", |b| {
        round_trip_message(b, WireFormat::MLS_PRIVATE_MESSAGE).map(drop)
    }),
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

/// One hex field of one vector file and the type it holds.
struct Field {
    file: &'static str,
    /// Path of keys to the field; `[]` steps into every element of a list.
    path: &'static [&'static str],
    check: FieldCheck,
}

const OTHER_FIELDS: &[Field] = &[
    Field {
        file: "welcome.json",
        path: &["key_package"],
        check: |b| round_trip_message(b, WireFormat::MLS_KEY_PACKAGE).map(drop),
    },
    Field {
        file: "welcome.json",
        path: &["welcome"],
        check: |b| round_trip_message(b, WireFormat::MLS_WELCOME).map(drop),
    },
    Field {
        file: "message-protection.json",
        path: &["proposal"],
        check: |b| round_trip::<Proposal>(b).map(drop),
    },
    Field {
        file: "message-protection.json",
        path: &["commit"],
        check: |b| round_trip::<Commit>(b).map(drop),
    },
    Field {
        file: "message-protection.json",
        path: &["proposal_pub"],
        check: |b| round_trip_message(b, WireFormat::MLS_PUBLIC_MESSAGE).map(drop),
    },
    Field {
        file: "message-protection.json",
        path: &["commit_pub"],
        check: |b| round_trip_message(b, WireFormat::MLS_PUBLIC_MESSAGE).map(drop),
    },
    Field {
        file: "message-protection.json",
        path: &["proposal_priv"],
        check: |b| round_trip_message(b, WireFormat::MLS_PRIVATE_MESSAGE).map(drop),
    },
    Field {
        file: "message-protection.json",
        path: &["commit_priv"],
        check: |b| round_trip_message(b, WireFormat::MLS_PRIVATE_MESSAGE).map(drop),
    },
    Field {
        file: "message-protection.json",
        path: &["application_priv"],
        check: |b| round_trip_message(b, WireFormat::MLS_PRIVATE_MESSAGE).map(drop),
    },
    Field {
        file: "tree-operations.json",
        path: &["proposal"],
        check: |b| round_trip::<Proposal>(b).map(drop),
    },
    Field {
        file: "tree-operations.json",
        path: &["tree_before"],
        check: |b| round_trip::<RatchetTree>(b).map(drop),
    },
    Field {
        file: "tree-operations.json",
        path: &["tree_after"],
        check: |b| round_trip::<RatchetTree>(b).map(drop),
    },
    Field {
        file: "tree-validation.json",
        path: &["tree"],
        check: |b| round_trip::<RatchetTree>(b).map(drop),
    },
    Field {
        file: "treekem.json",
        path: &["ratchet_tree"],
        check: |b| round_trip::<RatchetTree>(b).map(drop),
    },
    Field {
        file: "treekem.json",
        path: &["update_paths", "[]", "update_path"],
        check: |b| round_trip::<UpdatePath>(b).map(drop),
    },
    Field {
        file: "passive-client-welcome.json",
        path: &["key_package"],
        check: |b| round_trip_message(b, WireFormat::MLS_KEY_PACKAGE).map(drop),
    },
    Field {
        file: "passive-client-welcome.json",
        path: &["welcome"],
        check: |b| round_trip_message(b, WireFormat::MLS_WELCOME).map(drop),
    },
    Field {
        file: "passive-client-welcome.json",
        path: &["ratchet_tree"],
        check: |b| round_trip::<RatchetTree>(b).map(drop),
    },
    Field {
        file: "passive-client-handling-commit.json",
        path: &["key_package"],
        check: |b| round_trip_message(b, WireFormat::MLS_KEY_PACKAGE).map(drop),
    },
    Field {
        file: "passive-client-handling-commit.json",
        path: &["welcome"],
        check: |b| round_trip_message(b, WireFormat::MLS_WELCOME).map(drop),
    },
    Field {
        file: "passive-client-handling-commit.json",
        path: &["epochs", "[]", "proposals", "[]"],
        check: |b| round_trip::<MlsMessage>(b).map(drop),
    },
    Field {
        file: "passive-client-handling-commit.json",
        path: &["epochs", "[]", "commit"],
        check: |b| round_trip::<MlsMessage>(b).map(drop),
    },
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
    for field in OTHER_FIELDS {
        let cases = load(field.file)?;
        let mut checked = 0;
        for (index, case) in cases.iter().enumerate() {
            let mut values = Vec::new();
            values_at(case, field.path, &mut values);
            for value in values {
                let bytes = hex::decode(value.as_str().ok_or("not a string")?)?;
                checked += 1;
                if let Err(e) = (field.check)(&bytes) {
                    failures.push(format!(
                        "{} case {index} {}: {e}",
                        field.file,
                        field.path.join(".")
                    ));
                }
            }
        }
        assert!(
            checked > 0,
            "{} {}: no values found",
            field.file,
            field.path.join(".")
        );
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
