//! Reading one catalog file: TOML in, requirements or a typed error out.
//!
//! ```text
//! rfc9420/s07.toml                    mimi-protocol.toml
//!   [[requirement]] ...                 document = "draft-ietf-mimi-protocol-06"
//!                                       profile = "..."
//!                                       [[requirement]] ...
//! ```
//!
//! Each `[[requirement]]` has the string fields `id`, `section`, `title`, `level`, `binds`,
//! `summary`, and may carry `justified` (why no check can observe the statement from outside
//! an implementation). The file's path decides its schema ([`FileSchema`]): the ID prefix,
//! the allowed `binds` values, whether `document` and `profile` are expected.

use std::fmt;

use serde::Deserialize;

use crate::{Binds, Document, Level, Requirement};

/// The document name (and ID prefix) of RFC 9420.
pub(crate) const RFC9420_DOCUMENT: &str = "RFC9420";

const FIELDS: [&str; 6] = ["id", "section", "title", "level", "binds", "summary"];
/// Fields an entry may leave out.
const OPTIONAL_FIELDS: [&str; 1] = ["justified"];
const RFC_BINDS: &[Binds] = &[Binds::Client, Binds::DeliveryService, Binds::Both];
const MIMI_BINDS: &[Binds] = &[
    Binds::Hub,
    Binds::Follower,
    Binds::Provider,
    Binds::Client,
    Binds::Both,
];

/// What a file's path says about its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileSchema {
    /// `rfc9420/sNN.toml`: RFC 9420 section NN; no header; binds client | delivery-service | both.
    Rfc9420 { top_section: u32 },
    /// `mimi-<name>.toml`: a MIMI draft; `document` and `profile` headers; IDs
    /// `MIMI-<NAME>-...`; binds hub | follower | provider | client | both.
    Mimi { name: String },
}

impl FileSchema {
    /// The schema for a path under `spec/catalog/`, or `None` if no schema applies.
    pub fn for_path(path: &str) -> Option<FileSchema> {
        if let Some(file) = path.strip_prefix("rfc9420/") {
            let digits = file.strip_prefix('s')?.strip_suffix(".toml")?;
            if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let top_section = digits.parse().ok().filter(|n| *n > 0)?;
            return Some(FileSchema::Rfc9420 { top_section });
        }
        let name = path.strip_prefix("mimi-")?.strip_suffix(".toml")?;
        let well_formed = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        well_formed.then(|| FileSchema::Mimi {
            name: name.to_owned(),
        })
    }

    fn id_prefix(&self) -> String {
        match self {
            FileSchema::Rfc9420 { .. } => RFC9420_DOCUMENT.to_owned(),
            FileSchema::Mimi { name } => format!("MIMI-{}", name.to_ascii_uppercase()),
        }
    }

    fn allowed_binds(&self) -> &'static [Binds] {
        match self {
            FileSchema::Rfc9420 { .. } => RFC_BINDS,
            FileSchema::Mimi { .. } => MIMI_BINDS,
        }
    }
}

/// A catalog file that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogError {
    /// Path under `spec/catalog/`, e.g. `rfc9420/s07.toml`.
    pub file: String,
    /// 1-based position of the `[[requirement]]` at fault; `None` for the file as a whole.
    pub entry: Option<usize>,
    pub kind: ErrorKind,
}

/// Why a catalog file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The path matches neither `rfc9420/sNN.toml` nor `mimi-<name>.toml`.
    UnknownFile,
    /// Not valid TOML, or not the catalog's shape (e.g. `requirement` is not an array of tables).
    Toml {
        message: String,
        line: Option<usize>,
    },
    /// A required field is absent.
    MissingField { field: &'static str },
    /// A field that the schema does not have.
    UnknownField { field: String },
    /// A field that must be a string is something else.
    NotAString { field: String },
    /// A text field is empty (or only whitespace).
    EmptyField { field: &'static str },
    /// The ID is not `<PREFIX>-<section>-<n>` with n a positive integer.
    MalformedId { id: String, expected: String },
    /// `section` is not dotted numbers such as `12.4.2` (a draft may start with an appendix letter).
    MalformedSection { section: String },
    /// The ID's section part differs from the `section` field.
    SectionMismatch { id: String, section: String },
    /// An RFC 9420 entry whose section belongs to another file (`7.3` in `s06.toml`).
    SectionOutsideFile { section: String, top_section: u32 },
    /// `level` is not MUST, MUST NOT, SHOULD, SHOULD NOT or MAY.
    UnknownLevel { value: String },
    /// `binds` is not one of the values this file's schema allows.
    UnknownBinds {
        value: String,
        allowed: Vec<&'static str>,
    },
    /// A draft's `document` is not `draft-ietf-mimi-<name>-NN`.
    MalformedDocument { value: String, expected: String },
    /// The same ID twice (in this file or across files).
    DuplicateId {
        id: String,
        first_file: String,
        first_entry: usize,
    },
}

impl ErrorKind {
    /// The field at fault, when one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            ErrorKind::MissingField { field } | ErrorKind::EmptyField { field } => Some(field),
            ErrorKind::UnknownField { field } | ErrorKind::NotAString { field } => Some(field),
            ErrorKind::MalformedId { .. }
            | ErrorKind::SectionMismatch { .. }
            | ErrorKind::DuplicateId { .. } => Some("id"),
            ErrorKind::MalformedSection { .. } | ErrorKind::SectionOutsideFile { .. } => {
                Some("section")
            }
            ErrorKind::UnknownLevel { .. } => Some("level"),
            ErrorKind::UnknownBinds { .. } => Some("binds"),
            ErrorKind::MalformedDocument { .. } => Some("document"),
            ErrorKind::UnknownFile | ErrorKind::Toml { .. } => None,
        }
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spec/catalog/{}", self.file)?;
        if let Some(entry) = self.entry {
            write!(f, ", [[requirement]] #{entry}")?;
        }
        if let Some(field) = self.kind.field() {
            write!(f, ", field `{field}`")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            ErrorKind::UnknownFile => {
                f.write_str("not a catalog file (expected rfc9420/sNN.toml or mimi-<name>.toml)")
            }
            ErrorKind::Toml { message, line } => {
                f.write_str("not a valid catalog file")?;
                if let Some(line) = line {
                    write!(f, " (line {line})")?;
                }
                write!(f, ": {}", message.trim_end())
            }
            ErrorKind::MissingField { .. } => f.write_str("missing"),
            ErrorKind::UnknownField { .. } => write!(
                f,
                "unknown field (a requirement has: {}; optionally: {})",
                FIELDS.join(", "),
                OPTIONAL_FIELDS.join(", ")
            ),
            ErrorKind::NotAString { .. } => f.write_str("expected a string"),
            ErrorKind::EmptyField { .. } => f.write_str("empty"),
            ErrorKind::MalformedId { id, expected } => {
                write!(f, "malformed ID {id:?} (expected {expected})")
            }
            ErrorKind::MalformedSection { section } => write!(
                f,
                "malformed section {section:?} (expected dotted numbers such as 12.4.2)"
            ),
            ErrorKind::SectionMismatch { id, section } => {
                write!(f, "ID {id:?} does not name section {section:?}")
            }
            ErrorKind::SectionOutsideFile {
                section,
                top_section,
            } => write!(
                f,
                "section {section:?} is not under section {top_section}, which this file holds"
            ),
            ErrorKind::UnknownLevel { value } => write!(
                f,
                "unknown level {value:?} (expected MUST, MUST NOT, SHOULD, SHOULD NOT or MAY)"
            ),
            ErrorKind::UnknownBinds { value, allowed } => write!(
                f,
                "unknown binds {value:?} (expected one of: {})",
                allowed.join(", ")
            ),
            ErrorKind::MalformedDocument { value, expected } => {
                write!(f, "malformed document {value:?} (expected {expected})")
            }
            ErrorKind::DuplicateId {
                id,
                first_file,
                first_entry,
            } => write!(
                f,
                "duplicate ID {id:?}, first used in spec/catalog/{first_file}, [[requirement]] #{first_entry}"
            ),
        }
    }
}

impl std::error::Error for CatalogError {}

/// One parsed file: its document header and its requirements in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedFile {
    /// The document the file belongs to (its `requirements` field is left empty).
    pub document: Document,
    pub requirements: Vec<Requirement>,
}

/// The file's top level, as serde reads it; entries stay tables so each field error can
/// name its entry and field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    document: Option<String>,
    profile: Option<String>,
    #[serde(default)]
    requirement: Vec<toml::Table>,
}

/// Parses one catalog file; `path` is its path under `spec/catalog/` and decides the schema.
/// Checks everything that one file can show: fields, ID shape, section, level, binds, and
/// IDs unique within the file ([`crate::Catalog::from_files`] checks across files).
pub fn parse_file(path: &str, text: &str) -> Result<ParsedFile, CatalogError> {
    let error = |entry: Option<usize>, kind: ErrorKind| CatalogError {
        file: path.to_owned(),
        entry,
        kind,
    };
    let schema = FileSchema::for_path(path).ok_or_else(|| error(None, ErrorKind::UnknownFile))?;
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        error(
            None,
            ErrorKind::Toml {
                message: e.message().to_owned(),
                line,
            },
        )
    })?;
    let id_prefix = schema.id_prefix();
    let document = match &schema {
        FileSchema::Rfc9420 { .. } => {
            for (field, value) in [("document", &raw.document), ("profile", &raw.profile)] {
                if value.is_some() {
                    return Err(error(
                        None,
                        ErrorKind::UnknownField {
                            field: field.to_owned(),
                        },
                    ));
                }
            }
            Document {
                name: RFC9420_DOCUMENT.to_owned(),
                profile: None,
                id_prefix: id_prefix.clone(),
                requirements: Vec::new(),
            }
        }
        FileSchema::Mimi { name } => {
            let document = raw
                .document
                .ok_or_else(|| error(None, ErrorKind::MissingField { field: "document" }))?;
            let expected = format!("draft-ietf-mimi-{name}-NN");
            let revision = document
                .strip_prefix(&format!("draft-ietf-mimi-{name}-"))
                .unwrap_or_default();
            if revision.len() != 2 || !revision.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error(
                    None,
                    ErrorKind::MalformedDocument {
                        value: document,
                        expected,
                    },
                ));
            }
            let profile = raw
                .profile
                .ok_or_else(|| error(None, ErrorKind::MissingField { field: "profile" }))?;
            if profile.trim().is_empty() {
                return Err(error(None, ErrorKind::EmptyField { field: "profile" }));
            }
            Document {
                name: document,
                profile: Some(profile),
                id_prefix: id_prefix.clone(),
                requirements: Vec::new(),
            }
        }
    };

    let mut requirements: Vec<Requirement> = Vec::with_capacity(raw.requirement.len());
    for (position, table) in raw.requirement.iter().enumerate() {
        let entry = Some(position + 1);
        let requirement = parse_entry(&schema, &id_prefix, table).map_err(|k| error(entry, k))?;
        if let Some(first) = requirements.iter().position(|r| r.id == requirement.id) {
            return Err(error(
                entry,
                ErrorKind::DuplicateId {
                    id: requirement.id,
                    first_file: path.to_owned(),
                    first_entry: first + 1,
                },
            ));
        }
        requirements.push(requirement);
    }
    Ok(ParsedFile {
        document,
        requirements,
    })
}

fn parse_entry(
    schema: &FileSchema,
    id_prefix: &str,
    table: &toml::Table,
) -> Result<Requirement, ErrorKind> {
    if let Some(unknown) = table
        .keys()
        .find(|k| !FIELDS.contains(&k.as_str()) && !OPTIONAL_FIELDS.contains(&k.as_str()))
    {
        return Err(ErrorKind::UnknownField {
            field: unknown.clone(),
        });
    }
    let optional_text = |field: &'static str| -> Result<Option<String>, ErrorKind> {
        match table.get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) if s.trim().is_empty() => {
                Err(ErrorKind::EmptyField { field })
            }
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ErrorKind::NotAString {
                field: field.to_owned(),
            }),
        }
    };
    let text = |field: &'static str| -> Result<String, ErrorKind> {
        optional_text(field)?.ok_or(ErrorKind::MissingField { field })
    };
    let id = text("id")?;
    let section = text("section")?;
    let title = text("title")?;
    let level = text("level")?;
    let binds = text("binds")?;
    let summary = text("summary")?;
    let justified = optional_text("justified")?;

    let expected = format!("{id_prefix}-<section>-<n>");
    let (id_section, _number) = id
        .strip_prefix(id_prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.rsplit_once('-'))
        .filter(|(s, n)| is_section(s) && is_positive_integer(n))
        .ok_or_else(|| ErrorKind::MalformedId {
            id: id.clone(),
            expected: expected.clone(),
        })?;
    if !is_section(&section) {
        return Err(ErrorKind::MalformedSection { section });
    }
    if id_section != section {
        return Err(ErrorKind::SectionMismatch { id, section });
    }
    if let FileSchema::Rfc9420 { top_section } = schema
        && section.split('.').next() != Some(top_section.to_string().as_str())
    {
        return Err(ErrorKind::SectionOutsideFile {
            section,
            top_section: *top_section,
        });
    }
    let level = Level::parse(&level).ok_or(ErrorKind::UnknownLevel { value: level })?;
    let allowed = schema.allowed_binds();
    let binds = Binds::parse(&binds)
        .filter(|b| allowed.contains(b))
        .ok_or_else(|| ErrorKind::UnknownBinds {
            value: binds,
            allowed: allowed.iter().map(|b| b.as_str()).collect(),
        })?;
    Ok(Requirement {
        id,
        section,
        title,
        level,
        binds,
        summary,
        justified,
    })
}

/// `12`, `12.4.2`; a draft's appendix may start with one capital letter (`A.1`).
fn is_section(text: &str) -> bool {
    let mut parts = text.split('.');
    let first_ok = parts.next().is_some_and(|first| {
        is_positive_integer(first) || (first.len() == 1 && first.as_bytes()[0].is_ascii_uppercase())
    });
    first_ok && parts.all(is_positive_integer)
}

/// A positive decimal integer without leading zeros.
fn is_positive_integer(text: &str) -> bool {
    !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit())
}
