//! `index.html`: the whole report in one file that needs no network and no script: summary,
//! interop matrix, claims, failures (requirement text, reproducer, transcript excerpt),
//! stale expectations, coverage by RFC section, benchmark plots (inline SVG).
//!
//! Sections carry stable ids (`summary`, `matrix`, `claims`, `failures`, `findings`, `expectations`,
//! `coverage`, `bench`) for links and for the browser test.

use super::{cell_text, escape, failures, first_line, matrix};
use crate::bench::BenchFile;
use crate::coverage::{self, CoverageStatus, requirement_text};
use crate::findings::{self, Finding};
use crate::model::{CaseResult, Report, Verdict};
use concord_spec::Catalog;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b;line-height:1.4}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass,.tested,.supported{color:#11662b}.fail,.unexpected-pass,.failing,.contradicted{color:#b00020;font-weight:600}
.unsupported,.skipped,.expected-fail,.untested,.no-evidence{color:#6b5800}
.badge{display:inline-block;border-radius:.3rem;padding:0 .4rem;border:1px solid currentColor;font-size:.85em}
code,pre{font-family:ui-monospace,'SFMono-Regular',Menlo,monospace;font-size:.85em}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.case{border:1px solid #ddd;border-left:4px solid #b00020;padding:.25rem 1rem;margin:1rem 0}
.case.expected{border-left-color:#6b5800}
details{margin:.2rem 0}summary{cursor:pointer}
figure.bench{display:inline-block;margin:.5rem 1rem .5rem 0}
";

/// The text of `index.html`; `bench` adds the benchmark plots.
pub fn render(report: &Report, catalog: &Catalog, bench: Option<&BenchFile>) -> String {
    let mut h =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!(
        "<title>Concord report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&report.closing_line())
    ));
    h.push_str("<h1>Concord report</h1>\n");
    summary(&mut h, report);
    interop_matrix(&mut h, report);
    if report.claims.is_some() {
        claims(&mut h, report);
    }
    failure_list(&mut h, report, catalog);
    finding_texts(&mut h, report);
    if !report.stale_expectations.is_empty() {
        stale(&mut h, report);
    }
    coverage_tables(&mut h, report, catalog);
    if let Some(bench) = bench {
        h.push_str("<section id=\"bench\">\n<h2>Benchmarks</h2>\n<p>Time per operation against group size, both axes log scale, one line per implementation.</p>\n");
        h.push_str(&bench.to_svg_figures());
        h.push_str("</section>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn badge(verdict: Verdict) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        verdict.as_str(),
        verdict.as_str()
    )
}

fn summary(h: &mut String, report: &Report) {
    let run = &report.run;
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    h.push_str(&format!(
        "<p>Concord {}, profile <code>{}</code>, seed {}, clients: {}. Exit code <strong id=\"exit-code\">{}</strong>.</p>\n",
        escape(&report.concord_version),
        escape(&run.profile),
        run.seed,
        escape(&if run.clients.is_empty() {
            "none".to_string()
        } else {
            run.clients.join(", ")
        }),
        report.exit_code(false)
    ));
    if !run.command.is_empty() {
        h.push_str(&format!(
            "<p>Command: <code>{}</code></p>\n",
            escape(&run.command)
        ));
    }
    h.push_str("<table id=\"counts\">\n<tr><th>source</th>");
    for verdict in Verdict::ALL {
        h.push_str(&format!(
            "<th class=\"{}\">{}</th>",
            verdict.as_str(),
            verdict.as_str()
        ));
    }
    h.push_str("</tr>\n");
    let mut rows = report.counts_by_source();
    rows.push(("all".to_string(), report.counts()));
    for (source, counts) in rows {
        h.push_str(&format!("<tr><th>{}</th>", escape(&source)));
        for verdict in Verdict::ALL {
            h.push_str(&format!("<td class=\"n\">{}</td>", counts.of(verdict)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    let counts = report.counts();
    if counts.client_faults > 0 {
        h.push_str(&format!(
            "<p class=\"fail\">{} failure(s) were client faults: the system under test crashed, hung or could not be reached.</p>\n",
            counts.client_faults
        ));
    }
    for error in &run.input_errors {
        h.push_str(&format!(
            "<p class=\"fail\">Input error: {}</p>\n",
            escape(error)
        ));
    }
    if !run.notes.is_empty() {
        h.push_str("<p>Not covered by this run:</p>\n<ul>\n");
        for note in &run.notes {
            h.push_str(&format!("<li>{}</li>\n", escape(note)));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");
}

fn interop_matrix(h: &mut String, report: &Report) {
    h.push_str("<section id=\"matrix\">\n<h2>Interop matrix</h2>\n<p>Rows: the first client of a case (an interop script's creator); columns: the other clients it ran with (the diagonal: one client alone).</p>\n");
    let tables = matrix(report);
    if tables.is_empty() {
        h.push_str("<p>No interop or scenario case in this run.</p>\n");
    }
    for table in &tables {
        h.push_str(&format!(
            "<h3>{}</h3>\n<table class=\"matrix\">\n<tr><th></th>",
            escape(&table.source)
        ));
        for client in &table.clients {
            h.push_str(&format!("<th>{}</th>", escape(client)));
        }
        h.push_str("</tr>\n");
        for (r, row) in table.clients.iter().enumerate() {
            h.push_str(&format!("<tr><th>{}</th>", escape(row)));
            for c in 0..table.clients.len() {
                match table.cell(r, c) {
                    Some(counts) => {
                        let class = if counts.fail + counts.unexpected_pass > 0 {
                            "fail"
                        } else if counts.pass > 0 {
                            "pass"
                        } else {
                            "skipped"
                        };
                        h.push_str(&format!(
                            "<td class=\"{class}\">{}</td>",
                            escape(&cell_text(counts))
                        ));
                    }
                    None => h.push_str("<td>·</td>"),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    h.push_str("</section>\n");
}

fn claims(h: &mut String, report: &Report) {
    let Some(claims) = &report.claims else {
        return;
    };
    h.push_str(&format!(
        "<section id=\"claims\">\n<h2>Claims of {}</h2>\n",
        escape(&claims.subject)
    ));
    if let Some(client) = &claims.client {
        h.push_str(&format!(
            "<p>Evidence: the cases of client <code>{}</code>.</p>\n",
            escape(client)
        ));
    }
    h.push_str("<table>\n<tr><th>claim</th><th>verdict</th><th>passed</th><th>failed</th><th>unsupported</th><th>evidence</th></tr>\n");
    for claim in &claims.claims {
        let class = claim.status.as_str().replace(' ', "-");
        let total = claim.passed + claim.failed + claim.unsupported + claim.skipped;
        let mut evidence: Vec<String> = claim
            .evidence
            .iter()
            .map(|e| format!("<code>{}</code>", escape(e)))
            .collect();
        if total > evidence.len() {
            evidence.push(format!("and {} more", total - evidence.len()));
        }
        h.push_str(&format!(
            "<tr><td>{} (<code>{}</code>)</td><td class=\"{class}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
            escape(&claim.label),
            escape(&claim.capability),
            claim.status.as_str(),
            claim.passed,
            claim.failed,
            claim.unsupported,
            if evidence.is_empty() {
                "none".to_string()
            } else {
                evidence.join(", ")
            }
        ));
    }
    h.push_str("</table>\n</section>\n");
}

fn failure_list(h: &mut String, report: &Report, catalog: &Catalog) {
    let failing = failures(report);
    h.push_str(&format!(
        "<section id=\"failures\">\n<h2>Failures ({})</h2>\n",
        failing.len()
    ));
    if failing.is_empty() {
        h.push_str("<p>None.</p>\n");
    }
    for result in failing {
        failure(h, result, catalog);
    }
    h.push_str("</section>\n");
}

fn failure(h: &mut String, result: &CaseResult, catalog: &Catalog) {
    let expected = if result.verdict == Verdict::ExpectedFail {
        " expected"
    } else {
        ""
    };
    h.push_str(&format!(
        "<div class=\"case{expected}\">\n<h3><code>{}</code> {}</h3>\n<ul>\n",
        escape(&result.id),
        badge(result.verdict)
    ));
    let mut facts = vec![format!("source {}", escape(&result.source))];
    if !result.clients.is_empty() {
        facts.push(format!("clients {}", escape(&result.clients.join(", "))));
    }
    if let Some(suite) = result.suite {
        facts.push(format!("cipher suite {suite}"));
    }
    if result.client_fault {
        facts.push("<strong>client fault</strong>".to_string());
    }
    h.push_str(&format!("<li>{}</li>\n", facts.join("; ")));
    if let Some(detail) = &result.detail {
        h.push_str(&format!("<li>{}</li>\n", escape(&first_line(detail))));
    }
    if let Some(reason) = &result.expectation {
        h.push_str(&format!("<li>expectations file: {}</li>\n", escape(reason)));
    }
    for id in &result.requirements {
        match requirement_text(catalog, id) {
            Some((level, summary)) => h.push_str(&format!(
                "<li class=\"requirement\"><code>{}</code> ({level}): {}</li>\n",
                escape(id),
                escape(summary)
            )),
            None => h.push_str(&format!(
                "<li class=\"requirement\"><code>{}</code> (not in the catalog)</li>\n",
                escape(id)
            )),
        }
    }
    for finding in findings::matching(result) {
        h.push_str(&format!(
            "<li class=\"finding\">finding: <a href=\"#{}\"><code>{}</code></a>: {}</li>\n",
            escape(&finding.anchor()),
            escape(&finding.path()),
            escape(&finding.title)
        ));
    }
    if let Some(reproducer) = &result.reproducer {
        h.push_str(&format!(
            "<li>reproduce: <code class=\"reproducer\">{}</code></li>\n",
            escape(reproducer)
        ));
    }
    if let Some(t) = &result.transcript {
        h.push_str(&format!(
            "<li>transcript: <code>{}</code> lines {}-{}</li>\n",
            escape(&t.file),
            t.first_line,
            t.last_line
        ));
    }
    h.push_str("</ul>\n");
    if let Some(excerpt) = result.transcript.as_ref().and_then(|t| t.excerpt.as_ref()) {
        h.push_str(&format!(
            "<pre class=\"transcript\">{}</pre>\n",
            escape(excerpt.trim_end())
        ));
    }
    h.push_str("</div>\n");
}

/// The text of every finding a listed failure links to, so the links resolve inside this
/// one file (absent when no failure has a finding).
fn finding_texts(h: &mut String, report: &Report) {
    let mut linked: Vec<&Finding> = Vec::new();
    for result in failures(report) {
        for finding in findings::matching(result) {
            if !linked.iter().any(|f| f.name == finding.name) {
                linked.push(finding);
            }
        }
    }
    if linked.is_empty() {
        return;
    }
    linked.sort_by(|a, b| a.name.cmp(&b.name));
    h.push_str(&format!(
        "<section id=\"findings\">\n<h2>Findings ({})</h2>\n<p>Confirmed deviations of a peer from RFC 9420 that explain failures above (<code>{}</code>).</p>\n",
        linked.len(),
        findings::DIR
    ));
    for finding in linked {
        h.push_str(&format!(
            "<details class=\"finding\" id=\"{}\"><summary><code>{}</code>: {}</summary>\n<pre>{}</pre>\n</details>\n",
            escape(&finding.anchor()),
            escape(&finding.path()),
            escape(&finding.title),
            escape(finding.text.trim_end())
        ));
    }
    h.push_str("</section>\n");
}

fn stale(h: &mut String, report: &Report) {
    h.push_str(&format!(
        "<section id=\"expectations\">\n<h2>Stale expectations ({})</h2>\n<ul>\n",
        report.stale_expectations.len()
    ));
    for s in &report.stale_expectations {
        h.push_str(&format!(
            "<li><code>{}:{}</code> {} <code>{}</code> ({}): {}</li>\n",
            escape(&s.file),
            s.line,
            s.kind.as_str(),
            escape(&s.selector),
            escape(&s.reason),
            escape(&s.why)
        ));
    }
    h.push_str("</ul>\n</section>\n");
}

fn coverage_tables(h: &mut String, report: &Report, catalog: &Catalog) {
    let coverage = coverage::compute(catalog, &report.results);
    let (tested, failing, untested) = coverage.totals();
    h.push_str(&format!(
        "<section id=\"coverage\">\n<h2>Coverage by RFC section</h2>\n<p><span class=\"tested\">{tested} tested</span>, <span class=\"{}\">{failing} failing</span>, <span class=\"untested\">{untested} untested</span> requirements of the catalog.</p>\n",
        if failing > 0 { "failing" } else { "none-failing" }
    ));
    h.push_str("<table>\n<tr><th>section</th><th>title</th><th>tested</th><th>failing</th><th>untested</th></tr>\n");
    for section in &coverage.sections {
        h.push_str(&format!(
            "<tr><td>{}</td><td><details><summary>{}</summary><ul>",
            escape(&section.section),
            escape(&section.title)
        ));
        for r in &section.requirements {
            let cases = if r.cases.is_empty() {
                String::new()
            } else {
                format!(
                    " — {}",
                    r.cases
                        .iter()
                        .map(|c| format!("<code>{}</code>", escape(c)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            h.push_str(&format!(
                "<li><span class=\"{}\">{}</span> <code>{}</code> ({}): {}{cases}</li>",
                r.status.as_str(),
                r.status.as_str(),
                escape(&r.id),
                escape(&r.level),
                escape(&r.summary)
            ));
        }
        let class = |status: CoverageStatus, n: usize| {
            if n > 0 { status.as_str() } else { "" }
        };
        h.push_str(&format!(
            "</ul></details></td><td class=\"n {}\">{}</td><td class=\"n {}\">{}</td><td class=\"n\">{}</td></tr>\n",
            class(CoverageStatus::Tested, section.tested),
            section.tested,
            class(CoverageStatus::Failing, section.failing),
            section.failing,
            section.untested
        ));
    }
    h.push_str("</table>\n");
    if !coverage.unknown_requirements.is_empty() {
        h.push_str(&format!(
            "<p>Cited but not in the catalog: {}</p>\n",
            escape(&coverage.unknown_requirements.join(", "))
        ));
    }
    h.push_str("</section>\n");
}
