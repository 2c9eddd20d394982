//! Where `concord run` finds its inputs, and what it uses when the working group's files are
//! not beside the repository: a plain clone runs the whole suite on Concord's own files, and
//! says so.
//!
//! ```text
//! official vectors   --vectors > $CONCORD_VECTORS > ../shared/mls-vectors > vectors/generated
//! interop scripts    --configs > $CONCORD_INTEROP_CONFIGS > ../shared/interop-configs > scenarios/interop
//! content examples   $CONCORD_SPECS/mimi-content-examples > ../shared/specs/... > OUT/content-examples (written now)
//! ```
//!
//! A folder named on the command line or in an environment variable is used as given (a
//! missing one is an input error, exit 2): only the default places fall back.

use std::path::{Path, PathBuf};

use concord_reference::content::cbor::Value;
use concord_reference::content::{
    self, ExtensionKey, ExternalPart, MimiContent, NestedPart, PartBody,
};

use crate::run::RunArgs;

/// Concord's own vectors (written by `concord vectors generate`, kept in the repository).
pub const OWN_VECTORS: &str = "vectors/generated";
/// Concord's own interop scripts, in the working group's format.
pub const OWN_INTEROP_SCRIPTS: &str = "scenarios/interop";

/// The folders a run reads, and the lines that say where they come from.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub vectors: PathBuf,
    pub configs: PathBuf,
    /// `None`: no content examples (the run's notes say why).
    pub content: Option<PathBuf>,
    said: Vec<String>,
}

impl Inputs {
    /// Looks for each input in its places, in order (see the module's table).
    pub fn find(args: &RunArgs) -> Inputs {
        let env = |name: &str| std::env::var_os(name).map(PathBuf::from);
        let mut said = Vec::new();
        let vectors = choose(
            "official vectors",
            args.vectors.clone().or_else(|| env("CONCORD_VECTORS")),
            Path::new("../shared/mls-vectors"),
            Path::new(OWN_VECTORS),
            "Concord's own (vectors/generated, from `concord vectors generate`)",
            &mut said,
        );
        let configs = choose(
            "interop scripts",
            args.configs
                .clone()
                .or_else(|| env("CONCORD_INTEROP_CONFIGS")),
            Path::new("../shared/interop-configs"),
            Path::new(OWN_INTEROP_SCRIPTS),
            "Concord's own (scenarios/interop)",
            &mut said,
        );
        let content = match env("CONCORD_SPECS") {
            Some(specs) => {
                let dir = specs.join("mimi-content-examples");
                if dir.is_dir() {
                    Some(dir)
                } else {
                    said.push(format!(
                        "MIMI content examples: {} not found (CONCORD_SPECS is set)",
                        dir.display()
                    ));
                    None
                }
            }
            None => {
                let upstream = Path::new("../shared/specs/mimi-content-examples");
                if upstream.is_dir() {
                    Some(upstream.to_path_buf())
                } else {
                    let own = args.out.join("content-examples");
                    match write_own_content_examples(&own) {
                        Ok(n) => {
                            said.push(format!(
                                "MIMI content examples: not found (no $CONCORD_SPECS, no ../shared/specs); used Concord's own ({n} written to {}); see README",
                                own.display()
                            ));
                            Some(own)
                        }
                        Err(e) => {
                            said.push(format!(
                                "MIMI content examples: not found, and Concord's own could not be written: {e}"
                            ));
                            None
                        }
                    }
                }
            }
        };
        Inputs {
            vectors,
            configs,
            content,
            said,
        }
    }

    /// One line per input that did not come from where it was expected.
    pub fn lines(&self) -> Vec<String> {
        self.said.clone()
    }

    /// Whether any input is Concord's own rather than the working group's.
    pub fn used_own(&self) -> bool {
        !self.said.is_empty()
    }
}

/// `given` when set; else `upstream` when it is a folder; else `own` (with a line saying
/// so) when it is one; else `upstream`, whose absence the stage reports.
fn choose(
    what: &str,
    given: Option<PathBuf>,
    upstream: &Path,
    own: &Path,
    own_name: &str,
    said: &mut Vec<String>,
) -> PathBuf {
    if let Some(given) = given {
        return given;
    }
    if upstream.is_dir() || !own.is_dir() {
        return upstream.to_path_buf();
    }
    said.push(format!(
        "{what}: not found ({} absent, no option or environment variable names another); used {own_name}; see README",
        upstream.display()
    ));
    own.to_path_buf()
}

/// Writes Concord's own MIMI content examples (draft-ietf-mimi-content-08 messages made by
/// the reference's encoder: `NAME.cbor`, with `NAME.edn` giving its diagnostic notation and
/// message ID) into `dir`; returns how many. They check the decoder against the encoder, the
/// deterministic encoding and the message IDs, and seed the negative content cases: weaker
/// than the draft's own examples, which an independent author wrote.
pub fn write_own_content_examples(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let examples = own_content_examples();
    for (name, message) in &examples {
        let bytes = message.to_bytes();
        std::fs::write(dir.join(format!("{name}.cbor")), &bytes)?;
        let mut edn = format!("# {} (written by concord run)\n", name.to_uppercase());
        if let (Some(sender), Some(room)) = (message.sender_uri(), message.room_uri()) {
            let id = content::message_id(&bytes, &message.salt, sender, room);
            edn.push_str(&format!("# message ID = h'{}'\n", hex::encode(id)));
        }
        edn.push_str(&diagnostic(&message.to_value()));
        edn.push('\n');
        std::fs::write(dir.join(format!("{name}.edn")), edn)?;
    }
    Ok(examples.len())
}

const SENDER: &str = "mimi://concord.example/u/ana";
const ROOM: &str = "mimi://concord.example/r/conformance";

fn part(disposition: u8, content_type: &str, content: &str) -> NestedPart {
    NestedPart {
        disposition,
        language: "en".into(),
        body: PartBody::Single {
            content_type: content_type.into(),
            content: content.as_bytes().to_vec(),
        },
    }
}

fn message(salt: u8, body: NestedPart) -> MimiContent {
    MimiContent {
        salt: [salt; 16],
        replaces: None,
        topic_id: Vec::new(),
        expires: None,
        in_reply_to: None,
        extensions: vec![
            (ExtensionKey::SENDER_URI, Value::Text(SENDER.into())),
            (ExtensionKey::ROOM_URI, Value::Text(ROOM.into())),
        ],
        nested_part: body,
    }
}

fn id_of(message: &MimiContent) -> content::MessageId {
    content::message_id(&message.to_bytes(), &message.salt, SENDER, ROOM)
}

/// The examples, by name: the names the negative content cases start from (original, reply,
/// reaction, attachment, multipart-3) and a few more kinds (edit, delete, expiring).
fn own_content_examples() -> Vec<(&'static str, MimiContent)> {
    const RENDER: u8 = 1;
    const REACTION: u8 = 2;
    const ATTACHMENT: u8 = 6;
    let markdown = "text/markdown;variant=GFM-MIMI";
    let original = message(0x11, part(RENDER, markdown, "Conformance run *started*."));
    let original_id = id_of(&original);
    let mut reply = message(0x22, part(RENDER, markdown, "Which suites?"));
    reply.in_reply_to = Some(original_id);
    let mut reaction = message(
        0x33,
        part(REACTION, "text/plain;charset=utf-8", "\u{1f44d}"),
    );
    reaction.in_reply_to = Some(original_id);
    let mut edit = message(0x44, part(RENDER, markdown, "Conformance run *finished*."));
    edit.replaces = Some(original_id);
    let mut delete = message(
        0x55,
        NestedPart {
            disposition: RENDER,
            language: String::new(),
            body: PartBody::Null,
        },
    );
    delete.replaces = Some(original_id);
    let mut expiring = message(
        0x66,
        part(RENDER, "text/plain;charset=utf-8", "gone in a day"),
    );
    expiring.expires = Some(content::Expiration {
        relative: true,
        time: 86_400,
    });
    let attachment = message(
        0x77,
        NestedPart {
            disposition: ATTACHMENT,
            language: String::new(),
            body: PartBody::External(ExternalPart {
                content_type: "application/json".into(),
                url: "https://files.concord.example/report.json".into(),
                expires: 0,
                size: 4096,
                enc_alg: 1,
                key: vec![0x5a; 16],
                nonce: vec![0xa5; 12],
                aad: Vec::new(),
                hash_alg: 1,
                content_hash: vec![0x3c; 32],
                description: "the run's report".into(),
                filename: "report.json".into(),
            }),
        },
    );
    // Parts in depth-first order: 0 the whole, 1 the text alternatives (3 is HTML naming
    // parts 5 and 10 by cid: URIs), 4 an image with its caption, 7 three pages.
    let multi = |semantics: u8, parts: Vec<NestedPart>| NestedPart {
        disposition: RENDER,
        language: String::new(),
        body: PartBody::Multi { semantics, parts },
    };
    const CHOOSE_ONE: u8 = 0;
    const SINGLE_UNIT: u8 = 1;
    const PROCESS_ALL: u8 = 2;
    let html = "<p>Results: <img src=\"cid:5@local.invalid\"> and the last page \
                <a href=\"cid:10@local.invalid\">here</a>.</p>";
    let multipart = message(
        0x88,
        multi(
            PROCESS_ALL,
            vec![
                multi(
                    CHOOSE_ONE,
                    vec![
                        part(
                            RENDER,
                            "text/plain;charset=utf-8",
                            "Results: see the pages.",
                        ),
                        part(RENDER, "text/html;charset=utf-8", html),
                    ],
                ),
                multi(
                    SINGLE_UNIT,
                    vec![
                        part(
                            RENDER,
                            "image/svg+xml",
                            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                        ),
                        part(
                            RENDER,
                            "text/plain;charset=utf-8",
                            "a chart of the verdicts",
                        ),
                    ],
                ),
                multi(
                    PROCESS_ALL,
                    vec![
                        part(RENDER, "text/plain;charset=utf-8", "page 1"),
                        part(RENDER, "text/plain;charset=utf-8", "page 2"),
                        part(RENDER, "text/plain;charset=utf-8", "page 3"),
                    ],
                ),
            ],
        ),
    );
    vec![
        ("original", original),
        ("reply", reply),
        ("reaction", reaction),
        ("edit", edit),
        ("delete", delete),
        ("expiring", expiring),
        ("attachment", attachment),
        ("multipart-3", multipart),
    ]
}

/// CBOR diagnostic notation (RFC 8949 section 8) of `value`, one line.
fn diagnostic(value: &Value) -> String {
    match value {
        Value::Unsigned(n) => n.to_string(),
        Value::Negative(n) => format!("-{}", u128::from(*n) + 1),
        Value::Bytes(b) => format!("h'{}'", hex::encode(b)),
        Value::Text(t) => format!("{t:?}"),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(diagnostic).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", diagnostic(k), diagnostic(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Tag(tag, inner) => format!("{tag}({})", diagnostic(inner)),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Undefined => "undefined".into(),
        Value::Simple(n) => format!("simple({n})"),
        Value::Float(f) => format!("{f:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_content_examples_verify_and_state_their_message_ids() {
        let dir = std::env::temp_dir().join(format!("concord-own-content-{}", std::process::id()));
        let written = write_own_content_examples(&dir).expect("writes");
        assert_eq!(written, 8);
        let verdicts = crate::vectors::mimi_content::verify(&dir, None).expect("verifies");
        let failed: Vec<String> = verdicts
            .iter()
            .filter(|v| !v.passed && !v.skipped)
            .map(|v| format!("{}: {}", v.name, v.detail))
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
        // The message IDs are checked, not merely computed: every example states one.
        assert!(
            verdicts
                .iter()
                .filter(|v| !v.name.starts_with("negative/"))
                .all(|v| v.detail.contains("as stated")),
            "{verdicts:#?}"
        );
        // The negative cases found their base examples.
        assert!(
            verdicts
                .iter()
                .filter(|v| v.name.starts_with("negative/"))
                .count()
                > 10
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_diagnostic_notation_reads_like_rfc_8949() {
        let value = Value::Array(vec![
            Value::Bytes(vec![1, 2]),
            Value::Null,
            Value::Negative(0),
            Value::Map(vec![(Value::Unsigned(1), Value::Text("a\"b".into()))]),
        ]);
        assert_eq!(diagnostic(&value), r#"[h'0102', null, -1, {1: "a\"b"}]"#);
    }
}
