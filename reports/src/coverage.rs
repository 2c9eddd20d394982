//! Coverage by RFC section, computed from the requirement catalog (concord-spec) and the
//! requirement IDs the results cite, never kept by hand.
//!
//! ```text
//! catalog requirement ── cited by a fail, unexpected-pass or expected-fail ──> failing
//!                     ── else cited by a pass ─────────────────────────────> tested
//!                     ── else (not cited, or only skipped / unsupported) ──> untested
//! ```

use concord_spec::{Catalog, Requirement};
use serde::Serialize;

use crate::model::{CaseResult, Verdict};

/// How many citing case IDs a requirement lists (failing ones first).
pub const CASES_LISTED: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageStatus {
    Tested,
    Failing,
    Untested,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Tested => "tested",
            CoverageStatus::Failing => "failing",
            CoverageStatus::Untested => "untested",
        }
    }
}

/// One catalog requirement and the cases that cite it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementCoverage {
    pub id: String,
    pub level: String,
    pub summary: String,
    pub status: CoverageStatus,
    pub passed: usize,
    pub failed: usize,
    /// Citing case IDs, failing first, at most [`CASES_LISTED`].
    pub cases: Vec<String>,
}

/// One section of the document (`RFC9420 12.4.2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionCoverage {
    /// Document and section number, e.g. `RFC9420 12.4.2`.
    pub section: String,
    pub title: String,
    pub tested: usize,
    pub failing: usize,
    pub untested: usize,
    pub requirements: Vec<RequirementCoverage>,
}

/// The whole coverage table, with the cited IDs the catalog does not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub sections: Vec<SectionCoverage>,
    pub unknown_requirements: Vec<String>,
}

impl Coverage {
    /// Totals over every section: (tested, failing, untested).
    pub fn totals(&self) -> (usize, usize, usize) {
        self.sections.iter().fold((0, 0, 0), |(t, f, u), s| {
            (t + s.tested, f + s.failing, u + s.untested)
        })
    }
}

/// Every requirement of the catalog with its document's ID prefix, in document order
/// (RFC 9420, then the MIMI drafts).
fn requirements(catalog: &Catalog) -> impl Iterator<Item = (&str, &Requirement)> {
    catalog
        .documents()
        .iter()
        .flat_map(|d| d.requirements.iter().map(|r| (d.id_prefix.as_str(), r)))
}

/// The document and section of a requirement ID (IDs are `<DOCUMENT>-<section>-<n>`):
/// `RFC9420-12.4.2-3` gives `RFC9420 12.4.2`.
pub fn section_of(id: &str) -> String {
    let mut parts: Vec<&str> = id.rsplitn(3, '-').collect();
    parts.reverse();
    match parts.as_slice() {
        [document, section, _] => format!("{document} {section}"),
        _ => "uncited".to_string(),
    }
}

/// The catalog's title of a section key made by [`section_of`], if it knows one.
pub fn section_title<'c>(catalog: &'c Catalog, section: &str) -> Option<&'c str> {
    let (document, number) = section.rsplit_once(' ')?;
    requirements(catalog)
        .find(|(prefix, r)| r.section == number && *prefix == document)
        .map(|(_, r)| r.title.as_str())
}

/// Level and paraphrase of a requirement, when the catalog knows it.
pub fn requirement_text<'c>(catalog: &'c Catalog, id: &str) -> Option<(&'static str, &'c str)> {
    catalog
        .get(id)
        .map(|r| (r.level.as_str(), r.summary.as_str()))
}

/// Computes coverage of `catalog` by `results`.
pub fn compute(catalog: &Catalog, results: &[CaseResult]) -> Coverage {
    let mut sections: Vec<SectionCoverage> = Vec::new();
    for (prefix, requirement) in requirements(catalog) {
        let citing: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.requirements.contains(&requirement.id))
            .collect();
        let failed = citing
            .iter()
            .filter(|r| {
                matches!(
                    r.verdict,
                    Verdict::Fail | Verdict::UnexpectedPass | Verdict::ExpectedFail
                )
            })
            .count();
        let passed = citing.iter().filter(|r| r.verdict == Verdict::Pass).count();
        let status = if failed > 0 {
            CoverageStatus::Failing
        } else if passed > 0 {
            CoverageStatus::Tested
        } else {
            CoverageStatus::Untested
        };
        let mut listed = citing.clone();
        listed.sort_by_key(|r| !r.verdict.is_unexpected() && r.verdict != Verdict::ExpectedFail);
        let entry = RequirementCoverage {
            id: requirement.id.clone(),
            level: requirement.level.as_str().to_string(),
            summary: requirement.summary.clone(),
            status,
            passed,
            failed,
            cases: listed
                .iter()
                .take(CASES_LISTED)
                .map(|r| r.id.clone())
                .collect(),
        };
        let key = format!("{prefix} {}", requirement.section);
        let index = match sections.iter().position(|s| s.section == key) {
            Some(index) => index,
            None => {
                sections.push(SectionCoverage {
                    section: key,
                    title: requirement.title.clone(),
                    tested: 0,
                    failing: 0,
                    untested: 0,
                    requirements: Vec::new(),
                });
                sections.len() - 1
            }
        };
        let section = &mut sections[index];
        match status {
            CoverageStatus::Tested => section.tested += 1,
            CoverageStatus::Failing => section.failing += 1,
            CoverageStatus::Untested => section.untested += 1,
        }
        section.requirements.push(entry);
    }
    let mut unknown_requirements: Vec<String> = results
        .iter()
        .flat_map(|r| r.requirements.iter())
        .filter(|id| catalog.get(id).is_none())
        .cloned()
        .collect();
    unknown_requirements.sort();
    unknown_requirements.dedup();
    Coverage {
        sections,
        unknown_requirements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_come_from_ids() {
        assert_eq!(section_of("RFC9420-12.4.2-1"), "RFC9420 12.4.2");
        assert_eq!(section_of("MIMI-PROTOCOL-5.3-2"), "MIMI-PROTOCOL 5.3");
        assert_eq!(section_of("nonsense"), "uncited");
    }

    #[test]
    fn a_failure_marks_its_requirement_failing() {
        let results = vec![
            CaseResult::pass("vectors", "a").requirement("RFC9420-2.1.2-1"),
            CaseResult::fail("vectors", "b", "x").requirement("RFC9420-4.2-1"),
            CaseResult::pass("vectors", "c").requirement("RFC9420-4.2-1"),
            CaseResult::pass("vectors", "d").requirement("RFC9420-99-1"),
        ];
        let catalog = concord_spec::catalog().unwrap();
        let coverage = compute(catalog, &results);
        let find = |id: &str| {
            coverage
                .sections
                .iter()
                .flat_map(|s| s.requirements.iter())
                .find(|r| r.id == id)
                .map(|r| (r.status, r.cases.clone()))
        };
        assert_eq!(
            find("RFC9420-2.1.2-1"),
            Some((CoverageStatus::Tested, vec!["a".to_string()]))
        );
        assert_eq!(
            find("RFC9420-4.2-1"),
            Some((CoverageStatus::Failing, vec!["b".into(), "c".into()]))
        );
        assert_eq!(
            find("RFC9420-2.1.2-2").map(|f| f.0),
            Some(CoverageStatus::Untested)
        );
        assert_eq!(coverage.unknown_requirements, ["RFC9420-99-1"]);
        let (tested, failing, untested) = coverage.totals();
        assert_eq!(tested + failing + untested, catalog.len());
    }
}
