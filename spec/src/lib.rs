//! Concord's requirement catalog.
//!
//! ```text
//! RFC 9420 normative text ──> Requirement { id, section, level, summary }
//!                                  ▲
//!       checks, vectors, scenarios ┘ cite the id; reports compute coverage from it
//! ```
//!
//! Every verdict Concord gives names the requirement it tests, so a reader holding the RFC
//! can find the sentence. IDs are stable: `RFC9420-<section>-<n>`; a requirement that is
//! reworded keeps its ID, one that is removed is never reused.
#![forbid(unsafe_code)]

mod rfc9420;

pub use rfc9420::RFC9420;

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
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
        }
    }
}

/// One normative statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// Stable identifier, e.g. `RFC9420-2.1.2-1`.
    pub id: &'static str,
    /// Section number in the source document, e.g. `2.1.2`.
    pub section: &'static str,
    /// Section title, as the document names it.
    pub title: &'static str,
    pub level: Level,
    /// One-line paraphrase of the statement.
    pub summary: &'static str,
}

/// Looks a requirement up by ID.
pub fn requirement(id: &str) -> Option<&'static Requirement> {
    RFC9420.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_and_match_their_section() {
        let mut seen = BTreeSet::new();
        for r in RFC9420 {
            assert!(seen.insert(r.id), "duplicate requirement id {}", r.id);
            let expected_prefix = format!("RFC9420-{}-", r.section);
            assert!(
                r.id.starts_with(&expected_prefix),
                "{} does not start with {expected_prefix}",
                r.id
            );
            assert!(
                !r.summary.is_empty() && !r.title.is_empty(),
                "{} lacks text",
                r.id
            );
        }
    }

    #[test]
    fn lookup_finds_known_ids_only() {
        assert_eq!(
            requirement("RFC9420-2.1.2-1").map(|r| r.section),
            Some("2.1.2")
        );
        assert!(requirement("RFC9420-99-1").is_none());
    }
}
