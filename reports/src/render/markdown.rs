//! `summary.md`: the report for a pull request comment or a terminal: summary, interop
//! matrix, claims, failures with their requirement text and reproducer, stale expectations,
//! coverage by section.

use super::{cell_text, failures, first_line, matrix};
use crate::coverage::{self, requirement_text};
use crate::findings;
use crate::model::{Report, Verdict};
use concord_spec::Catalog;

/// Markdown table cells cannot hold `|` or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The text of `summary.md`.
pub fn render(report: &Report, catalog: &Catalog) -> String {
    let mut md = String::from("# Concord report\n\n");
    let run = &report.run;
    md.push_str(&format!(
        "Concord {}, profile `{}`, seed {}, clients: {}.\n\n",
        report.concord_version,
        run.profile,
        run.seed,
        if run.clients.is_empty() {
            "none".to_string()
        } else {
            run.clients.join(", ")
        }
    ));
    if !run.command.is_empty() {
        md.push_str(&format!("Command: `{}`\n\n", run.command));
    }
    md.push_str("## Summary\n\n| source | ");
    md.push_str(
        &Verdict::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    md.push_str(" |\n|---|");
    md.push_str(&"---:|".repeat(Verdict::ALL.len()));
    md.push('\n');
    let mut rows = report.counts_by_source();
    rows.push(("**all**".to_string(), report.counts()));
    for (source, counts) in rows {
        md.push_str(&format!("| {source} |"));
        for verdict in Verdict::ALL {
            md.push_str(&format!(" {} |", counts.of(verdict)));
        }
        md.push('\n');
    }
    let counts = report.counts();
    md.push_str(&format!(
        "\nExit code {}{}.\n",
        report.exit_code(false),
        if counts.client_faults > 0 {
            format!(
                " ({} failure(s) were client faults: a crash, hang or unreachable client)",
                counts.client_faults
            )
        } else {
            String::new()
        }
    ));
    for error in &run.input_errors {
        md.push_str(&format!("\n- input error: {}", cell(error)));
    }
    if !run.input_errors.is_empty() {
        md.push('\n');
    }
    if !run.notes.is_empty() {
        md.push_str("\nNot covered by this run:\n\n");
        for note in &run.notes {
            md.push_str(&format!("- {note}\n"));
        }
    }

    md.push_str("\n## Interop matrix\n");
    let tables = matrix(report);
    if tables.is_empty() {
        md.push_str("\nNo interop or scenario case in this run.\n");
    }
    for table in &tables {
        md.push_str(&format!(
            "\n### {}\n\nRows: the first client of a case (a script's creator); columns: the other clients (the diagonal: one client alone).\n\n|  |",
            table.source
        ));
        for client in &table.clients {
            md.push_str(&format!(" {} |", cell(client)));
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(table.clients.len()));
        md.push('\n');
        for (r, row) in table.clients.iter().enumerate() {
            md.push_str(&format!("| **{}** |", cell(row)));
            for c in 0..table.clients.len() {
                let text = table.cell(r, c).map_or("·".to_string(), cell_text);
                md.push_str(&format!(" {text} |"));
            }
            md.push('\n');
        }
    }

    if let Some(claims) = &report.claims {
        md.push_str(&format!("\n## Claims of {}\n\n", cell(&claims.subject)));
        if let Some(client) = &claims.client {
            md.push_str(&format!("Evidence: the cases of client `{client}`.\n\n"));
        }
        md.push_str("| claim | verdict | passed | failed | unsupported | evidence |\n|---|---|---:|---:|---:|---|\n");
        for claim in &claims.claims {
            let evidence: Vec<String> = claim.evidence.iter().map(|e| format!("`{e}`")).collect();
            let total = claim.passed + claim.failed + claim.unsupported + claim.skipped;
            let more = if total > evidence.len() {
                format!(" and {} more", total - evidence.len())
            } else {
                String::new()
            };
            md.push_str(&format!(
                "| {} (`{}`) | **{}** | {} | {} | {} | {}{} |\n",
                cell(&claim.label),
                claim.capability,
                claim.status.as_str(),
                claim.passed,
                claim.failed,
                claim.unsupported,
                if evidence.is_empty() {
                    "none".to_string()
                } else {
                    evidence.join(", ")
                },
                more
            ));
        }
    }

    let failing = failures(report);
    md.push_str(&format!("\n## Failures ({})\n", failing.len()));
    if failing.is_empty() {
        md.push_str("\nNone.\n");
    }
    for result in failing {
        md.push_str(&format!(
            "\n### `{}`: {}\n\n",
            result.id,
            result.verdict.as_str()
        ));
        let mut facts = Vec::new();
        if !result.clients.is_empty() {
            facts.push(format!("clients: {}", result.clients.join(", ")));
        }
        if let Some(suite) = result.suite {
            facts.push(format!("cipher suite {suite}"));
        }
        if result.client_fault {
            facts.push("client fault".to_string());
        }
        if !facts.is_empty() {
            md.push_str(&format!("- {}\n", facts.join("; ")));
        }
        if let Some(detail) = &result.detail {
            md.push_str(&format!("- {}\n", first_line(detail)));
        }
        if let Some(reason) = &result.expectation {
            md.push_str(&format!("- expectations file: {reason}\n"));
        }
        for id in &result.requirements {
            match requirement_text(catalog, id) {
                Some((level, summary)) => md.push_str(&format!("- {id} ({level}): {summary}\n")),
                None => md.push_str(&format!("- {id} (not in the catalog)\n")),
            }
        }
        for finding in findings::matching(result) {
            md.push_str(&format!(
                "- finding: `{}`: {}\n",
                finding.path(),
                cell(&finding.title)
            ));
        }
        if let Some(reproducer) = &result.reproducer {
            md.push_str(&format!("- reproduce: `{reproducer}`\n"));
        }
        if let Some(t) = &result.transcript {
            md.push_str(&format!(
                "- transcript: {} lines {}-{}\n",
                t.file, t.first_line, t.last_line
            ));
            if let Some(excerpt) = &t.excerpt {
                md.push_str(&format!("\n```text\n{}\n```\n", excerpt.trim_end()));
            }
        }
    }

    if !report.stale_expectations.is_empty() {
        md.push_str(&format!(
            "\n## Stale expectations ({})\n\n",
            report.stale_expectations.len()
        ));
        for stale in &report.stale_expectations {
            md.push_str(&format!(
                "- {}:{}: {} `{}` ({}): {}\n",
                stale.file,
                stale.line,
                stale.kind.as_str(),
                stale.selector,
                stale.reason,
                stale.why
            ));
        }
    }

    let coverage = coverage::compute(catalog, &report.results);
    let (tested, failing, untested) = coverage.totals();
    md.push_str(&format!(
        "\n## Coverage by RFC section\n\n{tested} requirements tested, {failing} failing, {untested} untested.\n\n| section | title | tested | failing | untested |\n|---|---|---:|---:|---:|\n"
    ));
    for section in &coverage.sections {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            section.section,
            cell(&section.title),
            section.tested,
            section.failing,
            section.untested
        ));
    }
    if !coverage.unknown_requirements.is_empty() {
        md.push_str(&format!(
            "\nCited but not in the catalog: {}\n",
            coverage.unknown_requirements.join(", ")
        ));
    }
    md
}
