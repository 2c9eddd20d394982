//! `concord vectors verify` on MIMI content examples (draft-ietf-mimi-content): each `X.cbor`
//! (with its `X.edn` beside it) must decode strictly, re-encode to the same bytes, and, for
//! a message with senderUri and roomUri extensions, have the message ID its `.edn` states.
//!
//! ```text
//!  X.cbor ──MimiContent::from_bytes──> re-encode == X.cbor ──check_semantics──> message_id == X.edn's
//!         └─(a 7-item array opening with a 32-octet ID)─> DerivedValues, re-encode == X.cbor
//!  a folder: also every negative case (mimi_content_negative.rs) built from its examples
//! ```

use std::path::{Path, PathBuf};

use concord_reference::content::{self, DerivedValues, MimiContent, cbor};

/// The default folder: `$CONCORD_SPECS/mimi-content-examples`, else
/// `../shared/specs/mimi-content-examples`.
pub fn default_directory() -> PathBuf {
    std::env::var_os("CONCORD_SPECS")
        .map_or_else(|| PathBuf::from("../shared/specs"), PathBuf::from)
        .join("mimi-content-examples")
}

/// Whether `path` is a MIMI content example, or a folder holding some.
pub fn applies(path: &Path) -> bool {
    if path.is_file() {
        return path.extension().is_some_and(|x| x == "cbor");
    }
    std::fs::read_dir(path).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "cbor"))
    })
}

/// One example's verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExampleVerdict {
    /// The file stem, e.g. `reply`.
    pub name: String,
    pub file: PathBuf,
    pub passed: bool,
    pub detail: String,
    pub requirements: Vec<&'static str>,
    /// A negative case whose base example the folder lacks: neither passed nor failed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

const DECODE: &str = "MIMI-CONTENT-10.1-1";
const DETERMINISTIC: &str = "MIMI-CONTENT-6.1-1";
const MESSAGE_ID: &str = "MIMI-CONTENT-3.3-1";
const DERIVED: &str = "MIMI-CONTENT-4.6-1";
/// What a receiving client checks of an example beyond its shape (semantics.rs): content ID
/// targets, external content encryption fields, one reaction per text part, UTF-8 in the
/// required text media types, embedded MIMI content.
const SEMANTICS: &[&str] = &[
    "MIMI-CONTENT-4.4-1",
    "MIMI-CONTENT-4.5-1",
    "MIMI-CONTENT-5.3-1",
    "MIMI-CONTENT-7.1-1",
    "MIMI-CONTENT-7.1-2",
    "MIMI-CONTENT-7.1-3",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The message ID stated in an `.edn` file: `# message ID = h'..'` (a message), or the first
/// `h'..'` after `messageId` (derived values).
pub fn stated_id(edn: &str) -> Option<Vec<u8>> {
    let start = match edn.find("message ID = h'") {
        Some(at) => at + "message ID = h'".len(),
        None => {
            let after = edn.find("messageId")?;
            after + edn[after..].find("h'")? + 2
        }
    };
    let end = start + edn[start..].find('\'')?;
    let digits: String = edn[start..end]
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// Whether the bytes look like `MessageDerivedValues` (a 7-item array opening with a
/// 32-octet byte string) rather than `mimiContent` (opening with a 16-octet salt).
fn is_derived(bytes: &[u8]) -> bool {
    matches!(cbor::decode(bytes), Ok(cbor::Value::Array(items))
        if items.len() == 7 && matches!(&items[0], cbor::Value::Bytes(b) if b.len() == 32))
}

/// Verifies one example.
pub fn verify_example(path: &Path) -> ExampleVerdict {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let verdict = |passed, detail: String, requirements: Vec<&'static str>| ExampleVerdict {
        name: name.clone(),
        file: path.to_path_buf(),
        passed,
        detail,
        requirements,
        skipped: false,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return verdict(
                false,
                format!("cannot read {}: {e}", path.display()),
                vec![],
            );
        }
    };
    let edn = std::fs::read_to_string(path.with_extension("edn")).ok();
    let stated = edn.as_deref().and_then(stated_id);
    if is_derived(&bytes) {
        let derived = match DerivedValues::from_bytes(&bytes) {
            Ok(d) => d,
            Err(e) => return verdict(false, format!("MessageDerivedValues: {e}"), vec![DERIVED]),
        };
        let again = derived.to_bytes();
        if again != bytes {
            return verdict(
                false,
                format!(
                    "re-encoding differs from byte {}",
                    first_difference(&again, &bytes)
                ),
                vec![DERIVED, DETERMINISTIC],
            );
        }
        let mut detail = format!(
            "MessageDerivedValues decoded and re-encoded byte-identically ({} bytes)",
            bytes.len()
        );
        if let Some(stated) = stated
            && stated != derived.message_id
        {
            detail.push_str(&format!(
                "; note: its messageId {} differs from the {} its .edn states (the example files disagree)",
                hex(&derived.message_id),
                hex(&stated)
            ));
        }
        return verdict(true, detail, vec![DERIVED, DETERMINISTIC]);
    }
    let message = match MimiContent::from_bytes(&bytes) {
        Ok(m) => m,
        Err(e) => return verdict(false, e.to_string(), vec![DECODE, DETERMINISTIC]),
    };
    let again = message.to_bytes();
    if again != bytes {
        return verdict(
            false,
            format!(
                "re-encoding differs from byte {}",
                first_difference(&again, &bytes)
            ),
            vec![DECODE, DETERMINISTIC],
        );
    }
    let mut requirements = vec![DECODE, DETERMINISTIC];
    requirements.extend_from_slice(SEMANTICS);
    if let Err(e) = message.check_semantics() {
        return verdict(
            false,
            format!("decoded, but a receiver refuses it: {e}"),
            requirements,
        );
    }
    let id_detail = match (message.sender_uri(), message.room_uri()) {
        (Some(sender), Some(room)) => {
            requirements.push(MESSAGE_ID);
            let id = content::message_id(&bytes, &message.salt, sender, room);
            match stated {
                Some(stated) if stated == id => format!("message ID {} as stated", hex(&id)),
                Some(stated) => {
                    return verdict(
                        false,
                        format!(
                            "message ID {} (sender {sender}, room {room}), the .edn states {}",
                            hex(&id),
                            hex(&stated)
                        ),
                        requirements,
                    );
                }
                None => format!("message ID {} (no .edn states one)", hex(&id)),
            }
        }
        _ => "no senderUri and roomUri extensions: message ID not computed".to_string(),
    };
    verdict(
        true,
        format!(
            "decoded, re-encoded byte-identically ({} bytes), {id_detail}",
            bytes.len()
        ),
        requirements,
    )
}

/// Every example of `path` (a folder or one file), sorted by name; `only` keeps those named.
pub fn verify(path: &Path, only: Option<&[String]>) -> Result<Vec<ExampleVerdict>, String> {
    let mut files = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "cbor"))
            .collect()
    };
    files.sort();
    if let Some(names) = only {
        for n in names {
            if !files
                .iter()
                .any(|f| f.file_stem().is_some_and(|s| s == n.as_str()))
            {
                return Err(format!(
                    "--only {n}: no example {n}.cbor in {}",
                    path.display()
                ));
            }
        }
        files.retain(|f| {
            f.file_stem()
                .is_some_and(|s| names.iter().any(|n| s == n.as_str()))
        });
    }
    if files.is_empty() {
        return Err(format!("{}: no .cbor examples", path.display()));
    }
    let mut verdicts: Vec<ExampleVerdict> = files.iter().map(|f| verify_example(f)).collect();
    if path.is_dir() && only.is_none() {
        verdicts.extend(negative_verdicts(path));
    }
    Ok(verdicts)
}

/// The negative cases (mimi_content_negative.rs) built from the examples of `dir`, one
/// verdict each, named `negative/<case>`.
fn negative_verdicts(dir: &Path) -> Vec<ExampleVerdict> {
    super::mimi_content_negative::run(dir)
        .into_iter()
        .map(|(case, outcome)| {
            let (passed, detail, skipped) = match outcome {
                Some(Ok(detail)) => (true, format!("{}: {detail}", case.what), false),
                Some(Err(detail)) => (false, format!("{}: {detail}", case.what), false),
                None => (
                    false,
                    format!("no {}.cbor to build it from", case.base),
                    true,
                ),
            };
            ExampleVerdict {
                name: format!("negative/{}", case.name),
                file: dir.join(format!("{}.cbor", case.base)),
                passed,
                detail,
                requirements: case.requirements.to_vec(),
                skipped,
            }
        })
        .collect()
}

/// The traceability registry's view (harness/src/catalog.rs): what each part of the check
/// exercises (the strict decoder refuses what sections 4.1, 4.3, 6.1 to 6.3 forbid).
pub fn citations() -> Vec<concord_spec::CheckCitation> {
    let cite = |check: &str, ids: &[&str]| concord_spec::CheckCitation {
        check: format!("content/{check}"),
        source: "vectors/src/mimi_content.rs",
        requirements: ids.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        cite(
            "decode",
            &[
                DECODE,
                DETERMINISTIC,
                "MIMI-CONTENT-4.1-1",
                "MIMI-CONTENT-4.3-1",
                "MIMI-CONTENT-6.2-1",
                "MIMI-CONTENT-6.3-1",
            ],
        ),
        cite("message-id", &[MESSAGE_ID]),
        cite("derived-values", &[DERIVED, DETERMINISTIC]),
        cite("semantics", SEMANTICS),
    ]
    .into_iter()
    .chain(
        super::mimi_content_negative::CASES
            .iter()
            .map(|case| cite(&format!("negative/{}", case.name), case.requirements)),
    )
    .collect()
}

/// The results of `concord run`'s content stage (source `content`).
pub fn run_for_report(path: &Path) -> Vec<concord_reports::CaseResult> {
    const SOURCE: &str = "content";
    match verify(path, None) {
        Ok(verdicts) => verdicts
            .into_iter()
            .map(|v| {
                let id = format!("{SOURCE}/{}", v.name);
                let result = if v.skipped {
                    concord_reports::CaseResult::skipped(SOURCE, id, v.detail)
                } else if v.passed {
                    concord_reports::CaseResult::pass(SOURCE, id).detail(v.detail)
                } else {
                    concord_reports::CaseResult::fail(SOURCE, id, v.detail)
                };
                result
                    .requirements(v.requirements.iter().copied())
                    .reproducer(format!("concord vectors verify {}", v.file.display()))
            })
            .collect(),
        Err(e) => vec![concord_reports::CaseResult::fail(
            SOURCE,
            format!("{SOURCE}/examples"),
            e,
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_pass_and_a_tampered_one_fails() {
        let examples = default_directory();
        let examples = if examples.is_dir() {
            examples
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/mimi-content-examples")
        };
        let verdicts = verify(&examples, None).unwrap();
        assert!(verdicts.len() >= 15);
        assert!(verdicts.iter().all(|v| v.passed), "{verdicts:?}");
        let ids = verdicts
            .iter()
            .filter(|v| v.detail.contains("as stated"))
            .count();
        assert!(ids >= 14, "message IDs checked: {ids}");

        let dir = std::env::temp_dir().join(format!("concord-content-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["original", "reply"] {
            for ext in ["cbor", "edn"] {
                std::fs::copy(
                    examples.join(format!("{name}.{ext}")),
                    dir.join(format!("{name}.{ext}")),
                )
                .unwrap();
            }
        }
        // One byte of the original's text changed: it still decodes, its ID no longer matches.
        let mut bytes = std::fs::read(dir.join("original.cbor")).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(dir.join("original.cbor"), &bytes).unwrap();
        // The reply's salt head made non-shortest: refused as non-deterministic.
        let reply = std::fs::read(dir.join("reply.cbor")).unwrap();
        let mut long = vec![reply[0], 0x58, 0x10];
        long.extend_from_slice(&reply[2..]);
        std::fs::write(dir.join("reply.cbor"), &long).unwrap();
        let verdicts = verify(&dir, None).unwrap();
        let original = verdicts.iter().find(|v| v.name == "original").unwrap();
        assert!(
            !original.passed && original.detail.contains("the .edn states"),
            "{original:?}"
        );
        let reply = verdicts.iter().find(|v| v.name == "reply").unwrap();
        assert!(
            !reply.passed && reply.detail.contains("shortest"),
            "{reply:?}"
        );
        assert!(verify(&dir, Some(&["nope".to_string()])).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
