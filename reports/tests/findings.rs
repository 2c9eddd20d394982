//! The findings compiled into the crate (`reports/findings/*.md`): every file carries its
//! header, cites requirements of the catalog, is listed in the index; a failure a finding
//! explains links to it in summary.md and index.html, and nothing else does.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use concord_reports::findings::{self, Finding};
use concord_reports::render::{html, markdown};
use concord_reports::{CaseResult, Report, RunInfo};

mod common;

#[test]
fn every_finding_file_has_its_header_fields() {
    let errors: Vec<String> = findings::embedded_errors()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(
        findings::embedded().len() >= 5,
        "only {} findings compiled in",
        findings::embedded().len()
    );
}

#[test]
fn a_finding_missing_a_header_field_is_reported_with_its_file_name() {
    let (name, text) = findings::files()[0];
    let broken = text
        .lines()
        .filter(|line| !line.starts_with("- Confirmed:"))
        .collect::<Vec<_>>()
        .join("\n");
    let (parsed, errors) = findings::parse_all(&[(name, text), ("broken.md", &broken)]);
    assert_eq!(parsed.len(), 1);
    assert_eq!(errors.len(), 1);
    let message = errors[0].to_string();
    assert!(message.contains("reports/findings/broken.md"), "{message}");
    assert!(message.contains("Confirmed"), "{message}");
}

#[test]
fn every_finding_cites_requirements_of_the_catalog_and_a_reproducer() {
    let catalog = concord_spec::catalog().expect("the compiled-in catalog");
    for finding in findings::embedded() {
        for id in &finding.requirements {
            assert!(
                catalog.get(id).is_some(),
                "{}: {id} is not in the catalog",
                finding.path()
            );
        }
        assert!(
            finding.text.contains("\n## Reproducer\n"),
            "{}: no `## Reproducer` section",
            finding.path()
        );
    }
}

#[test]
fn the_index_lists_every_finding() {
    let index = include_str!("../findings/README.md");
    for finding in findings::embedded() {
        assert!(
            index.contains(&format!("]({})", finding.name)),
            "findings/README.md does not list {}",
            finding.name
        );
    }
}

/// A report with one failure of `finding`'s peer citing its first requirement, one failure
/// of the reference citing it too, and a pass of the peer.
fn report_for(finding: &Finding) -> Report {
    let requirement = finding.requirements[0].clone();
    let results = vec![
        CaseResult::fail("adversary", "adversary/linked/suite-1", "accepted")
            .client(finding.peer.clone())
            .requirement(requirement.clone()),
        CaseResult::fail("vectors", "vectors/unlinked", "computed another value")
            .client("reference")
            .requirement(requirement.clone()),
        CaseResult::pass("adversary", "adversary/passed/suite-1")
            .client(finding.peer.clone())
            .requirement(requirement),
    ];
    Report::new("0.1.0", RunInfo::default(), results)
}

/// The lines of `text` from the one that names `case` up to the next case.
fn section_of<'a>(text: &'a str, case: &str, next: &str) -> &'a str {
    let start = text.find(case).unwrap_or_else(|| panic!("{case} missing"));
    let rest = &text[start..];
    let end = rest[case.len()..]
        .find(next)
        .map_or(rest.len(), |i| i + case.len());
    &rest[..end]
}

#[test]
fn a_failure_with_a_finding_links_to_it_in_markdown_and_html() {
    let catalog = common::catalog();
    for finding in findings::embedded() {
        let report = report_for(finding);
        let linked = &report.results[0];
        assert!(
            findings::matching(linked)
                .iter()
                .any(|f| f.name == finding.name),
            "{} does not match its own failure",
            finding.name
        );
        assert!(
            findings::matching(&report.results[1]).is_empty(),
            "a reference failure linked to {:?}",
            findings::matching(&report.results[1])
        );

        let md = markdown::render(&report, &catalog);
        let line = format!("- finding: `{}`: {}", finding.path(), finding.title);
        let linked_md = section_of(&md, "`adversary/linked/suite-1`", "\n### ");
        assert!(linked_md.contains(&line), "{}:\n{linked_md}", finding.name);
        let unlinked_md = section_of(&md, "`vectors/unlinked`", "\n## ");
        assert!(!unlinked_md.contains("- finding:"), "{unlinked_md}");

        let page = html::render(&report, &catalog, Some(&common::bench()));
        let href = format!("<a href=\"#{}\">", finding.anchor());
        let linked_html = section_of(&page, "adversary/linked/suite-1", "<div class=\"case");
        assert!(
            linked_html.contains(&href),
            "{}:\n{linked_html}",
            finding.name
        );
        assert!(
            page.contains(&format!("id=\"{}\"", finding.anchor())),
            "the finding's text is not in the page"
        );
        assert!(page.contains("<section id=\"findings\">"));
    }
}

#[test]
fn a_report_without_linked_failures_has_no_findings_section() {
    let page = html::render(&common::fixture(), &common::catalog(), None);
    assert!(!page.contains("<section id=\"findings\">"));
    let md = markdown::render(&common::fixture(), &common::catalog());
    assert!(!md.contains("- finding:"));
}
