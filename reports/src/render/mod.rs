//! The four formats, and what they share: the interop matrix, the failures list, escaping.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;

use std::collections::BTreeMap;

use crate::model::{CaseResult, Counts, Report, Verdict};

/// Escapes text for XML and HTML (attributes and content), dropping the control characters
/// XML 1.0 cannot carry.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One table of the interop matrix: the cases of one source, placed by their clients.
///
/// Row: the case's first client (the group's creator in an interop script); column: each
/// other client it ran with (a case run by one client alone sits on the diagonal).
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixTable {
    pub source: String,
    pub clients: Vec<String>,
    /// (row, column) → counts.
    pub cells: BTreeMap<(usize, usize), Counts>,
}

impl MatrixTable {
    pub fn cell(&self, row: usize, column: usize) -> Option<&Counts> {
        self.cells.get(&(row, column))
    }
}

/// The sources whose cases put clients together (the others check one client alone and
/// stay out of the matrix).
pub const MATRIX_SOURCES: [&str; 2] = ["interop", "scenario"];

/// Matrix tables of the [`MATRIX_SOURCES`], in order of first appearance.
pub fn matrix(report: &Report) -> Vec<MatrixTable> {
    let mut tables: Vec<MatrixTable> = Vec::new();
    for result in &report.results {
        if !MATRIX_SOURCES.contains(&result.source.as_str()) {
            continue;
        }
        let Some((first, others)) = result.clients.split_first() else {
            continue;
        };
        let index = match tables.iter().position(|t| t.source == result.source) {
            Some(index) => index,
            None => {
                // Order clients as the run lists them, then any others as met.
                tables.push(MatrixTable {
                    source: result.source.clone(),
                    clients: report.run.clients.clone(),
                    cells: BTreeMap::new(),
                });
                tables.len() - 1
            }
        };
        let table = &mut tables[index];
        let mut position = |name: &String| match table.clients.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                table.clients.push(name.clone());
                table.clients.len() - 1
            }
        };
        let row = position(first);
        let mut columns: Vec<usize> = others.iter().map(&mut position).collect();
        columns.retain(|&c| c != row);
        columns.dedup();
        if columns.is_empty() {
            columns.push(row);
        }
        for column in columns {
            add(table.cells.entry((row, column)).or_default(), result);
        }
    }
    // Drop clients a table never met (run clients absent from this source).
    for table in &mut tables {
        let used: Vec<usize> = (0..table.clients.len())
            .filter(|&i| table.cells.keys().any(|&(r, c)| r == i || c == i))
            .collect();
        if used.len() != table.clients.len() {
            let clients: Vec<String> = used.iter().map(|&i| table.clients[i].clone()).collect();
            let remap = |i: usize| used.iter().position(|&u| u == i).unwrap_or(i);
            table.cells = std::mem::take(&mut table.cells)
                .into_iter()
                .map(|((r, c), counts)| ((remap(r), remap(c)), counts))
                .collect();
            table.clients = clients;
        }
    }
    tables
}

fn add(counts: &mut Counts, result: &CaseResult) {
    match result.verdict {
        Verdict::Pass => counts.pass += 1,
        Verdict::Fail => {
            counts.fail += 1;
            if result.client_fault {
                counts.client_faults += 1;
            }
        }
        Verdict::Unsupported => counts.unsupported += 1,
        Verdict::ExpectedFail => counts.expected_fail += 1,
        Verdict::UnexpectedPass => counts.unexpected_pass += 1,
        Verdict::Skipped => counts.skipped += 1,
    }
}

/// A cell as text: `12 pass` and every other non-zero count.
pub fn cell_text(counts: &Counts) -> String {
    let parts: Vec<String> = Verdict::ALL
        .iter()
        .filter(|v| counts.of(**v) > 0)
        .map(|v| format!("{} {}", counts.of(*v), v.as_str()))
        .collect();
    if parts.is_empty() {
        "·".to_string()
    } else {
        parts.join(", ")
    }
}

/// The results a reader must look at: unexpected ones first (fail, unexpected-pass), then
/// expected failures.
pub fn failures(report: &Report) -> Vec<&CaseResult> {
    let mut out: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| r.verdict.is_unexpected())
        .collect();
    out.extend(
        report
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::ExpectedFail),
    );
    out
}

/// A sortable key for a section label (`RFC9420 12.4.2` before `RFC9420 12.10`; `uncited`
/// last).
pub fn section_order(section: &str) -> (u8, String, Vec<u32>) {
    if section == "uncited" {
        return (1, String::new(), Vec::new());
    }
    let (document, number) = section.rsplit_once(' ').unwrap_or(("", section));
    let numbers = number
        .split('.')
        .map(|n| n.parse::<u32>().unwrap_or(u32::MAX))
        .collect();
    (0, document.to_string(), numbers)
}

/// A one-line summary of a detail (the first line, at most 200 characters).
pub fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 200 {
        let cut: String = line.chars().take(200).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// Seconds, as every format writes them.
pub fn seconds(value: Option<f64>) -> String {
    format!("{:.3}", value.unwrap_or(0.0))
}
