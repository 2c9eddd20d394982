//! Property tests: no input makes a decoder panic, and every input a decoder accepts is
//! the canonical encoding of what it decoded (strictness leaves no second spelling).
//!
//! Random bytes rarely get past the first fields, so a second strategy mutates valid
//! messages from `messages.json` (byte edits, insertions, truncation) to reach the
//! decoders' deeper branches.

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;

use super::*;

/// Decodes with `T`; if that succeeds, re-encoding must give back `bytes`.
fn canonical<T: Codec>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(value) = T::from_bytes(bytes) {
        prop_assert_eq!(
            value.to_bytes(),
            bytes,
            "{} accepted a non-canonical encoding",
            std::any::type_name::<T>()
        );
    }
    Ok(())
}

/// Every top-level decoder, on the same input.
fn every_decoder(bytes: &[u8]) -> Result<(), TestCaseError> {
    canonical::<MlsMessage>(bytes)?;
    canonical::<KeyPackage>(bytes)?;
    canonical::<Welcome>(bytes)?;
    canonical::<GroupInfo>(bytes)?;
    canonical::<GroupSecrets>(bytes)?;
    canonical::<GroupContext>(bytes)?;
    canonical::<Proposal>(bytes)?;
    canonical::<Commit>(bytes)?;
    canonical::<RatchetTree>(bytes)?;
    canonical::<LeafNode>(bytes)?;
    canonical::<UpdatePath>(bytes)?;
    canonical::<PublicMessage>(bytes)?;
    canonical::<PrivateMessage>(bytes)?;
    canonical::<AuthenticatedContent>(bytes)?;
    canonical::<SenderData>(bytes)?;
    canonical::<RequiredCapabilities>(bytes)?;
    canonical::<ExternalSenders>(bytes)?;
    for content_type in [
        ContentType::Application,
        ContentType::Proposal,
        ContentType::Commit,
    ] {
        if let Ok(content) = PrivateMessageContent::from_bytes(content_type, bytes) {
            prop_assert_eq!(
                content.to_bytes(),
                bytes,
                "PrivateMessageContent not canonical"
            );
        }
    }
    Ok(())
}

/// Valid encodings to mutate: every field of the first cases of `messages.json`, plus
/// one PrivateMessageContent per content type built from them. Empty when the vectors
/// are not available (the vector tests report that).
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let folder = std::env::var_os("CONCORD_VECTORS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/mls-vectors").into()
            });
        let Ok(text) = std::fs::read_to_string(folder.join("messages.json")) else {
            return Vec::new();
        };
        let Ok(Value::Array(cases)) = serde_json::from_str::<Value>(&text) else {
            return Vec::new();
        };
        let mut corpus = Vec::new();
        for case in cases.iter().take(10) {
            for value in case.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(bytes) = value.as_str().and_then(|s| hex::decode(s).ok()) {
                    corpus.push(bytes);
                }
            }
        }
        let plaintexts: Vec<Vec<u8>> = corpus
            .iter()
            .filter_map(|bytes| MlsMessage::from_bytes(bytes).ok())
            .filter_map(|message| match message.body {
                MlsMessageBody::PublicMessage(public) => Some(
                    PrivateMessageContent {
                        body: public.content.body,
                        auth: public.auth,
                        padding: 3,
                    }
                    .to_bytes(),
                ),
                _ => None,
            })
            .collect();
        corpus.extend(plaintexts);
        corpus
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Set { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Set { at, byte }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        any::<usize>().prop_map(|at| Edit::Remove { at }),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit], truncate_to: Option<usize>) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        match *edit {
            Edit::Set { at, byte } if len > 0 => bytes[at % len] = byte,
            Edit::Insert { at, byte } => bytes.insert(at % (len + 1), byte),
            Edit::Remove { at } if len > 0 => {
                bytes.remove(at % len);
            }
            _ => {}
        }
    }
    if let Some(limit) = truncate_to {
        let limit = limit % (bytes.len() + 1);
        bytes.truncate(limit);
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn random_bytes_never_panic_and_accepted_bytes_are_canonical(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        every_decoder(&bytes)?;
    }

    #[test]
    fn mutated_messages_never_panic_and_accepted_bytes_are_canonical(
        pick in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..4),
        truncate_to in proptest::option::weighted(0.2, any::<usize>()),
    ) {
        let corpus = corpus();
        prop_assume!(!corpus.is_empty());
        let original = corpus[pick % corpus.len()].clone();
        every_decoder(&apply(original, &edits, truncate_to))?;
    }
}

#[test]
fn corpus_is_loaded_and_valid() {
    // Guards the mutation test against silently running on nothing.
    let corpus = corpus();
    assert!(corpus.len() > 100, "corpus has {} entries", corpus.len());
    // Unmutated, every entry decodes as at least one of the decoders.
    for bytes in corpus {
        let accepted = MlsMessage::from_bytes(bytes).is_ok()
            || RatchetTree::from_bytes(bytes).is_ok()
            || GroupSecrets::from_bytes(bytes).is_ok()
            || Commit::from_bytes(bytes).is_ok()
            || [
                ContentType::Application,
                ContentType::Proposal,
                ContentType::Commit,
            ]
            .into_iter()
            .any(|t| PrivateMessageContent::from_bytes(t, bytes).is_ok())
            || bare_proposal_decodes(bytes);
        assert!(
            accepted,
            "corpus entry decodes as nothing: {}",
            crate::hex(bytes)
        );
    }
}

fn bare_proposal_decodes(bytes: &[u8]) -> bool {
    Add::from_bytes(bytes).is_ok()
        || Update::from_bytes(bytes).is_ok()
        || Remove::from_bytes(bytes).is_ok()
        || PreSharedKey::from_bytes(bytes).is_ok()
        || ReInit::from_bytes(bytes).is_ok()
        || ExternalInit::from_bytes(bytes).is_ok()
        || GroupContextExtensions::from_bytes(bytes).is_ok()
}
