//! `junit.xml` in the common Jenkins/Ant JUnit format (`reports/schema/junit.xsd`): one
//! `<testsuite>` per RFC section (the section of a case's first requirement, or `uncited`).
//!
//! ```text
//! pass             <testcase/>
//! fail             <failure message type="fail">      (a client fault: <error type="client-fault">)
//! unexpected-pass  <failure message type="unexpected-pass">
//! expected-fail    <skipped message="expected failure: REASON"/>
//! unsupported      <skipped message="unsupported: ..."/>
//! skipped          <skipped message="skipped: ..."/>
//! ```
//!
//! Every test case carries its reproducer (and transcript lines) in `<system-out>`.

use std::collections::BTreeMap;

use super::{escape, first_line, seconds, section_order};
use crate::coverage::{requirement_text, section_title};
use crate::model::{CaseResult, Report, Verdict};
use concord_spec::Catalog;

/// Orders sections as the document does (see [`section_order`]).
type SectionKey = (u8, String, Vec<u32>);

/// The text of `junit.xml`.
pub fn render(report: &Report, catalog: &Catalog) -> String {
    let mut sections: BTreeMap<SectionKey, (String, Vec<&CaseResult>)> = BTreeMap::new();
    for result in &report.results {
        let section = result.section();
        sections
            .entry(section_order(&section))
            .or_insert_with(|| (section, Vec::new()))
            .1
            .push(result);
    }
    let totals = tally(report.results.iter());
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"concord\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n",
        totals.tests,
        totals.failures,
        totals.errors,
        totals.skipped,
        seconds(Some(totals.time))
    ));
    for (id, (section, results)) in sections.values().enumerate() {
        let name = match section_title(catalog, section) {
            Some(title) => format!("{section} {title}"),
            None => section.clone(),
        };
        let t = tally(results.iter().copied());
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" id=\"{id}\" package=\"concord\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n",
            escape(&name),
            t.tests,
            t.failures,
            t.errors,
            t.skipped,
            seconds(Some(t.time))
        ));
        for result in results {
            testcase(&mut xml, result, catalog);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: f64,
}

fn tally<'a>(results: impl Iterator<Item = &'a CaseResult>) -> Tally {
    let mut t = Tally {
        tests: 0,
        failures: 0,
        errors: 0,
        skipped: 0,
        time: 0.0,
    };
    for result in results {
        t.tests += 1;
        t.time += result.duration_seconds.unwrap_or(0.0);
        match result.verdict {
            Verdict::Fail if result.client_fault => t.errors += 1,
            Verdict::Fail | Verdict::UnexpectedPass => t.failures += 1,
            Verdict::ExpectedFail | Verdict::Unsupported | Verdict::Skipped => t.skipped += 1,
            Verdict::Pass => {}
        }
    }
    t
}

fn testcase(xml: &mut String, result: &CaseResult, catalog: &Catalog) {
    xml.push_str(&format!(
        "    <testcase classname=\"concord.{}\" name=\"{}\" time=\"{}\">\n",
        escape(&result.source),
        escape(&result.id),
        seconds(result.duration_seconds)
    ));
    let detail = result.detail.clone().unwrap_or_default();
    let reason = result.expectation.clone().unwrap_or_default();
    match result.verdict {
        Verdict::Pass => {}
        Verdict::Fail => {
            let element = if result.client_fault {
                "error"
            } else {
                "failure"
            };
            let kind = if result.client_fault {
                "client-fault"
            } else {
                "fail"
            };
            xml.push_str(&format!(
                "      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>\n",
                escape(&first_line(&detail)),
                escape(&failure_body(result, &detail, catalog))
            ));
        }
        Verdict::UnexpectedPass => {
            let message = format!("listed as a known failure ({reason}) but passed");
            xml.push_str(&format!(
                "      <failure message=\"{}\" type=\"unexpected-pass\">{}</failure>\n",
                escape(&message),
                escape(&failure_body(result, &message, catalog))
            ));
        }
        Verdict::ExpectedFail => skipped(xml, &format!("expected failure: {reason}")),
        Verdict::Unsupported => skipped(xml, &format!("unsupported: {}", first_line(&detail))),
        Verdict::Skipped => skipped(xml, &format!("skipped: {}", first_line(&detail))),
    }
    let mut out = String::new();
    if !result.clients.is_empty() {
        out.push_str(&format!("clients: {}\n", result.clients.join(", ")));
    }
    if let Some(suite) = result.suite {
        out.push_str(&format!("cipher suite: {suite}\n"));
    }
    if !result.requirements.is_empty() {
        out.push_str(&format!(
            "requirements: {}\n",
            result.requirements.join(", ")
        ));
    }
    if let Some(reproducer) = &result.reproducer {
        out.push_str(&format!("reproduce: {reproducer}\n"));
    }
    if let Some(t) = &result.transcript {
        out.push_str(&format!(
            "transcript: {} lines {}-{}\n",
            t.file, t.first_line, t.last_line
        ));
    }
    if !out.is_empty() {
        xml.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            escape(&out)
        ));
    }
    xml.push_str("    </testcase>\n");
}

fn skipped(xml: &mut String, message: &str) {
    xml.push_str(&format!(
        "      <skipped message=\"{}\"/>\n",
        escape(message)
    ));
}

/// The failure's text: the detail, then what each cited requirement says.
fn failure_body(result: &CaseResult, detail: &str, catalog: &Catalog) -> String {
    let mut body = format!("{detail}\n");
    for id in &result.requirements {
        if let Some((level, summary)) = requirement_text(catalog, id) {
            body.push_str(&format!("{id} ({level}): {summary}\n"));
        }
    }
    if let Some(excerpt) = result.transcript.as_ref().and_then(|t| t.excerpt.as_ref()) {
        body.push_str("transcript excerpt:\n");
        body.push_str(excerpt);
        if !excerpt.ends_with('\n') {
            body.push('\n');
        }
    }
    body
}
