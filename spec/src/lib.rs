//! Concord's requirement catalog.
//!
//! ```text
//! spec/catalog/rfc9420/sNN.toml ─┐  include_str! (build.rs)    ┌─> Requirement { id, section, title,
//! spec/catalog/mimi-*.toml ──────┴──> load::parse_file ──> Catalog      level, binds, summary,
//!                                                              │        justified? }
//!                                     (typed CatalogError)     ▲  (OnceLock, parsed once)
//!                     checks, vectors, scenarios cite the id ──┘  reports compute coverage from it
//! ```
//!
//! Every verdict Concord gives names the requirement it tests, so a reader holding the RFC
//! can find the sentence. IDs are stable: `RFC9420-<section>-<n>` (and
//! `MIMI-PROTOCOL-<section>-<n>` for the MIMI protocol draft); a requirement that is reworded
//! keeps its ID, one that is removed is never reused.
//!
//! The catalog is data: one TOML file per top-level RFC 9420 section, one per MIMI draft, all
//! compiled into the crate. [`catalog`] parses them on first use; [`requirement`] and
//! [`RFC9420`] are the lookups most callers want.
#![forbid(unsafe_code)]

mod load;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

pub use load::{CatalogError, ErrorKind, FileSchema, parse_file};

mod files {
    include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
}

/// RFC 2119 level of a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Must,
    MustNot,
    Should,
    ShouldNot,
    May,
}

impl Level {
    /// Every level, strongest first.
    pub const ALL: [Level; 5] = [
        Level::Must,
        Level::MustNot,
        Level::Should,
        Level::ShouldNot,
        Level::May,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
        }
    }

    /// Reads a level as the catalog spells it (`"MUST NOT"`); `None` for anything else.
    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.as_str() == text)
    }

    /// MUST and MUST NOT: the statements a conformant implementation cannot skip.
    pub fn is_absolute(self) -> bool {
        matches!(self, Level::Must | Level::MustNot)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a requirement binds: the party whose behaviour a check observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Binds {
    /// An MLS client (or MIMI client).
    Client,
    /// The MLS Delivery Service.
    DeliveryService,
    /// Client and Delivery Service (or, in MIMI, every role).
    Both,
    /// The MIMI hub provider of a room.
    Hub,
    /// A MIMI follower provider.
    Follower,
    /// Any MIMI provider, hub or follower.
    Provider,
}

impl Binds {
    pub const ALL: [Binds; 6] = [
        Binds::Client,
        Binds::DeliveryService,
        Binds::Both,
        Binds::Hub,
        Binds::Follower,
        Binds::Provider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Binds::Client => "client",
            Binds::DeliveryService => "delivery-service",
            Binds::Both => "both",
            Binds::Hub => "hub",
            Binds::Follower => "follower",
            Binds::Provider => "provider",
        }
    }

    pub fn parse(text: &str) -> Option<Binds> {
        Binds::ALL.into_iter().find(|binds| binds.as_str() == text)
    }
}

impl fmt::Display for Binds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One normative statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// Stable identifier, e.g. `RFC9420-2.1.2-1`.
    pub id: String,
    /// Section number in the source document, e.g. `2.1.2`.
    pub section: String,
    /// Section title, as the document names it.
    pub title: String,
    pub level: Level,
    pub binds: Binds,
    /// One-line paraphrase of the statement.
    pub summary: String,
    /// Why no check can observe the statement from outside an implementation (erasure of
    /// secrets, local policy, IANA...), when the catalog says so; `None` for a statement a
    /// check can and should exercise.
    pub justified: Option<String>,
}

impl Requirement {
    /// The top-level section (`12` for `12.4.2`): the unit of coverage reports.
    pub fn top_section(&self) -> &str {
        self.section.split('.').next().unwrap_or(&self.section)
    }

    /// Whether the catalog marks the requirement as not observable from outside.
    pub fn is_justified(&self) -> bool {
        self.justified.is_some()
    }

    /// Whether the requirement sits in `section` or one of its subsections
    /// (`12.4` holds `12.4` and `12.4.2`, not `12.40`).
    pub fn is_in_section(&self, section: &str) -> bool {
        self.section == section
            || self
                .section
                .strip_prefix(section)
                .is_some_and(|rest| rest.starts_with('.'))
    }
}

/// One source document of the catalog: RFC 9420, or one MIMI draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// `RFC9420`, or the draft name with its revision (`draft-ietf-mimi-protocol-06`).
    pub name: String,
    /// For a draft: the profile Concord pins (how it reads the draft's open points).
    pub profile: Option<String>,
    /// The ID prefix of its requirements, e.g. `RFC9420` or `MIMI-PROTOCOL`.
    pub id_prefix: String,
    /// Its requirements, in file order.
    pub requirements: Vec<Requirement>,
}

/// RFC 9420's top-level sections and their titles (no requirement carries these: entries
/// name the subsection they sit in).
pub const RFC9420_SECTIONS: [(&str, &str); 17] = [
    ("1", "Introduction"),
    ("2", "Terminology"),
    ("3", "Protocol Overview"),
    ("4", "Ratchet Tree Concepts"),
    ("5", "Cryptographic Objects"),
    ("6", "Message Framing"),
    ("7", "Ratchet Tree Operations"),
    ("8", "Key Schedule"),
    ("9", "Secret Tree"),
    ("10", "Key Packages"),
    ("11", "Group Creation"),
    ("12", "Group Evolution"),
    ("13", "Extensibility"),
    ("14", "Sequencing of State Changes"),
    ("15", "Application Messages"),
    ("16", "Security Considerations"),
    ("17", "IANA Considerations"),
];

/// The top-level sections of draft-ietf-mimi-protocol-06.
pub const MIMI_PROTOCOL_06_SECTIONS: [(&str, &str); 11] = [
    ("1", "Introduction"),
    ("2", "Conventions and Definitions"),
    ("3", "Example protocol flow"),
    ("4", "Services required at each layer"),
    ("5", "MIMI Endpoints and Framing"),
    ("6", "Minimal metadata rooms"),
    ("7", "Relation between MIMI state and cryptographic state"),
    ("8", "Consent"),
    ("9", "Security Considerations"),
    ("10", "IANA Considerations"),
    ("11", "Acknowledgments"),
];

/// The top-level sections of draft-ietf-mimi-content-08.
pub const MIMI_CONTENT_08_SECTIONS: [(&str, &str); 12] = [
    ("1", "Terminology"),
    ("2", "Introduction"),
    ("3", "Overview"),
    ("4", "MIMI Content Container Message Semantics"),
    ("5", "Examples"),
    ("6", "CBOR Data Model and Encoding Restrictions"),
    ("7", "Support for Specific Media Types"),
    ("8", "IANA Considerations"),
    ("9", "Security Considerations"),
    ("10", "CDDL Schemas"),
    ("11", "Multipart examples"),
    ("12", "Changelog"),
];

impl Document {
    /// The title of a top-level section: from the document's table of sections when Concord
    /// has one ([`RFC9420_SECTIONS`], [`MIMI_PROTOCOL_06_SECTIONS`]), else the title of an
    /// entry that sits at that level, if any.
    pub fn top_section_title(&self, top: &str) -> Option<&str> {
        let table: &[(&str, &str)] = match self.name.as_str() {
            load::RFC9420_DOCUMENT => &RFC9420_SECTIONS,
            "draft-ietf-mimi-protocol-06" => &MIMI_PROTOCOL_06_SECTIONS,
            "draft-ietf-mimi-content-08" => &MIMI_CONTENT_08_SECTIONS,
            _ => &[],
        };
        if !table.is_empty() {
            return table
                .iter()
                .find(|(number, _)| *number == top)
                .map(|(_, title)| *title);
        }
        self.requirements
            .iter()
            .find(|r| r.section == top)
            .map(|r| r.title.as_str())
    }
}

/// Every requirement of every compiled-in document, with an index by ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalog {
    documents: Vec<Document>,
    /// id -> (document index, requirement index)
    index: BTreeMap<String, (usize, usize)>,
}

impl Catalog {
    /// Builds a catalog from `(path under spec/catalog/, contents)` pairs: every RFC 9420
    /// file joins one document, every MIMI file is its own. IDs must be unique across all.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
        let mut documents: Vec<Document> = Vec::new();
        let mut index = BTreeMap::new();
        // Where each ID was first seen, for the duplicate error.
        let mut origin: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for (path, text) in files {
            let parsed = parse_file(path, text)?;
            for (position, requirement) in parsed.requirements.iter().enumerate() {
                if let Some((first_file, first_entry)) = origin.get(&requirement.id) {
                    return Err(CatalogError {
                        file: (*path).to_owned(),
                        entry: Some(position + 1),
                        kind: ErrorKind::DuplicateId {
                            id: requirement.id.clone(),
                            first_file: first_file.clone(),
                            first_entry: *first_entry,
                        },
                    });
                }
                origin.insert(requirement.id.clone(), ((*path).to_owned(), position + 1));
            }
            let slot = match documents
                .iter()
                .position(|d| d.name == parsed.document.name)
            {
                Some(slot) => slot,
                None => {
                    documents.push(Document {
                        requirements: Vec::new(),
                        ..parsed.document.clone()
                    });
                    documents.len() - 1
                }
            };
            for requirement in parsed.requirements {
                let document = &mut documents[slot];
                index.insert(requirement.id.clone(), (slot, document.requirements.len()));
                document.requirements.push(requirement);
            }
        }
        Ok(Catalog { documents, index })
    }

    /// Looks a requirement up by ID.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        let (document, position) = self.index.get(id)?;
        self.documents.get(*document)?.requirements.get(*position)
    }

    /// The documents, RFC 9420 first when present, then the drafts in file order.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// The document of this name (`RFC9420`, `draft-ietf-mimi-protocol-06`).
    pub fn document(&self, name: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.name == name)
    }

    /// RFC 9420's requirements (empty if no RFC file was loaded).
    pub fn rfc9420(&self) -> &[Requirement] {
        self.document(load::RFC9420_DOCUMENT)
            .map(|d| d.requirements.as_slice())
            .unwrap_or(&[])
    }

    /// Every requirement of every document.
    pub fn requirements(&self) -> impl Iterator<Item = &Requirement> {
        self.documents.iter().flat_map(|d| d.requirements.iter())
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// One check and the requirements it exercises: what each part of Concord registers with
/// the traceability check (`concord catalog check`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckCitation {
    /// The check's name as reports show it, e.g. `vectors/tree-math`.
    pub check: String,
    /// Where the citation is written down (a path in the workspace).
    pub source: &'static str,
    /// Requirement IDs, as cited.
    pub requirements: Vec<String>,
}

/// The compiled-in files, `(path under spec/catalog/, contents)`, sorted by path.
pub fn compiled_files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}

/// The catalog compiled into this crate, parsed on first use. An error names the file,
/// the entry and the field at fault; the crate's tests load it, so a shipped build has none.
pub fn catalog() -> Result<&'static Catalog, &'static CatalogError> {
    static CATALOG: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();
    CATALOG
        .get_or_init(|| Catalog::from_files(files::FILES))
        .as_ref()
}

/// Looks a requirement up by ID in the compiled-in catalog (`None` if the catalog does
/// not load: [`catalog`] says why).
pub fn requirement(id: &str) -> Option<&'static Requirement> {
    catalog().ok()?.get(id)
}

/// RFC 9420's requirements as a slice: `RFC9420.iter()`, `for r in RFC9420`.
#[derive(Clone, Copy, Debug)]
pub struct Rfc9420Requirements;

/// RFC 9420's requirements from the compiled-in catalog (empty if it does not load).
pub static RFC9420: Rfc9420Requirements = Rfc9420Requirements;

impl std::ops::Deref for Rfc9420Requirements {
    type Target = [Requirement];

    fn deref(&self) -> &[Requirement] {
        catalog().map(Catalog::rfc9420).unwrap_or(&[])
    }
}

impl IntoIterator for Rfc9420Requirements {
    type Item = &'static Requirement;
    type IntoIter = std::slice::Iter<'static, Requirement>;

    fn into_iter(self) -> Self::IntoIter {
        catalog().map(Catalog::rfc9420).unwrap_or(&[]).iter()
    }
}

#[cfg(test)]
mod tests;
