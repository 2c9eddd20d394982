//! Who was tested with whom, and how it went: `matrix.md` and `matrix.json`.
//!
//! ```text
//!             column: client of another actor
//! row: client of   ┌──────────────────────────┐
//! the first actor  │ passed / failed / unsup. │  one table per config file
//! (the creator)    └──────────────────────────┘
//! ```
//!
//! A case whose actors use three clients counts in two cells of its row (creator with each
//! other client); a case run by one client alone sits on the diagonal. Every failure and
//! client fault is listed with its transcript lines and a command that reruns just that case.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::runner::{CaseResult, Verdict};

/// A finished case, with what is needed to place it and rerun it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    /// The config file as given on the command line.
    pub config: String,
    pub script: String,
    pub suite: u16,
    /// `private` or `public`.
    pub handshake: &'static str,
    /// Actor → client index, in the script's actor order.
    pub assignment: Vec<(String, usize)>,
    pub result: CaseResult,
    /// One command that reruns this case alone.
    pub reproduce: String,
    /// The requirements the case exercises (its actions' and every case's checks).
    pub requirements: Vec<&'static str>,
    /// The reason an expectations file gives for this case's failure (`--expect`).
    pub expectation: Option<String>,
    /// Wall time of the case on its lane (left out of matrix.json, which stays the same
    /// run after run).
    #[serde(skip)]
    pub duration: std::time::Duration,
}

/// Counts of one cell.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cell {
    pub config: String,
    pub row: String,
    pub column: String,
    pub passed: usize,
    pub failed: usize,
    pub unsupported: usize,
    pub client_fault: usize,
    /// Of the failures, those an expectations file explains (`--expect`).
    pub expected: usize,
    /// Why cases were unsupported, with how many.
    pub unsupported_reasons: BTreeMap<String, usize>,
    /// Failures and client faults, each with its lines and reproducer.
    pub failures: Vec<FailureEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureEntry {
    pub case: String,
    pub script: String,
    pub suite: u16,
    pub handshake: &'static str,
    /// Actor → client name.
    pub actors: BTreeMap<String, String>,
    pub verdict: Verdict,
    pub step: Option<usize>,
    pub action: Option<String>,
    pub check: String,
    pub actor: Option<String>,
    pub client: Option<String>,
    pub detail: String,
    pub transcript_lines: Option<(u64, u64)>,
    pub reproduce: String,
    /// The requirements the failed check (or the refused action) names.
    pub requirements: Vec<&'static str>,
    /// A known failure, as the expectations file explains it (`--expect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

/// The whole matrix.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Matrix {
    pub clients: Vec<String>,
    pub configs: Vec<String>,
    pub cells: Vec<Cell>,
}

impl Matrix {
    pub fn build(clients: &[String], records: &[CaseRecord]) -> Self {
        let mut configs: Vec<String> = Vec::new();
        let mut cells: BTreeMap<(usize, usize, usize), Cell> = BTreeMap::new();
        let name = |i: usize| clients.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        for record in records {
            let config = match configs.iter().position(|c| *c == record.config) {
                Some(i) => i,
                None => {
                    configs.push(record.config.clone());
                    configs.len() - 1
                }
            };
            let Some(&(_, row)) = record.assignment.first() else {
                continue;
            };
            let mut columns: Vec<usize> = Vec::new();
            for &(_, c) in record.assignment.iter().skip(1) {
                if c != row && !columns.contains(&c) {
                    columns.push(c);
                }
            }
            if columns.is_empty() {
                columns.push(row);
            }
            for column in columns {
                let cell = cells.entry((config, row, column)).or_insert_with(|| Cell {
                    config: record.config.clone(),
                    row: name(row),
                    column: name(column),
                    ..Cell::default()
                });
                add(cell, record, &name);
            }
        }
        Matrix {
            clients: clients.to_vec(),
            configs,
            cells: cells.into_values().collect(),
        }
    }

    pub fn to_markdown(&self) -> String {
        let mut md = String::from("# Interop matrix\n\n");
        md.push_str(
            "Rows: the client of each script's first actor (the group's creator). Columns: the \
             clients of the other actors (the diagonal: one client alone). A cell counts \
             passed, failed and unsupported cases, and client faults when there are any.\n",
        );
        for config in &self.configs {
            md.push_str(&format!("\n## {config}\n\n|  |"));
            for client in &self.clients {
                md.push_str(&format!(" {client} |"));
            }
            md.push_str("\n|---|");
            md.push_str(&"---|".repeat(self.clients.len()));
            md.push('\n');
            for row in &self.clients {
                md.push_str(&format!("| **{row}** |"));
                for column in &self.clients {
                    let cell = self
                        .cells
                        .iter()
                        .find(|c| &c.config == config && &c.row == row && &c.column == column);
                    md.push_str(&format!(" {} |", cell.map_or("·".into(), cell_text)));
                }
                md.push('\n');
            }
            // Why the unsupported cases of this config were unsupported: the client that
            // answered so, and the RPC it does not implement.
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for cell in self.cells.iter().filter(|c| &c.config == config) {
                for (reason, count) in &cell.unsupported_reasons {
                    *reasons.entry(reason.as_str()).or_default() += count;
                }
            }
            if !reasons.is_empty() {
                md.push_str(
                    "
Unsupported, by reason:

",
                );
                for (reason, count) in reasons {
                    md.push_str(&format!("- {count} × {}\n", reason.replace('\n', " ")));
                }
            }
        }
        let failures: Vec<&FailureEntry> =
            self.cells.iter().flat_map(|c| c.failures.iter()).collect();
        if !failures.is_empty() {
            md.push_str("\n## Failures and client faults\n");
            let mut seen = Vec::new();
            for f in failures {
                if seen.contains(&&f.case) {
                    continue;
                }
                seen.push(&f.case);
                let actors: Vec<String> =
                    f.actors.iter().map(|(a, c)| format!("{a}={c}")).collect();
                md.push_str(&format!(
                    "\n### `{}`\n\n- {:?}: script `{}`, suite {}, {} handshakes, {}\n",
                    f.case,
                    f.verdict,
                    f.script,
                    f.suite,
                    f.handshake,
                    actors.join(" ")
                ));
                let step = match (f.step, &f.action) {
                    (Some(s), Some(a)) => format!("step {s} (`{a}`)"),
                    (Some(s), None) => format!("step {s}"),
                    _ => "outside the steps".into(),
                };
                let who = match (&f.client, &f.actor) {
                    (Some(c), Some(a)) => format!(", client {c} (as {a})"),
                    (None, Some(a)) => format!(", actor {a}"),
                    _ => String::new(),
                };
                md.push_str(&format!(
                    "- {step}, check `{}`{who}: {}\n",
                    f.check,
                    f.detail.replace('\n', " ")
                ));
                if let Some(expected) = &f.expected {
                    md.push_str(&format!("- known failure: {expected}\n"));
                }
                for id in &f.requirements {
                    let summary = concord_spec::requirement(id)
                        .map(|r| format!(" {} ({}): {}", r.level.as_str(), r.section, r.summary))
                        .unwrap_or_default();
                    md.push_str(&format!("- requirement `{id}`{summary}\n"));
                }
                if let Some((first, last)) = f.transcript_lines {
                    md.push_str(&format!("- transcript.jsonl lines {first}-{last}\n"));
                }
                md.push_str(&format!("- reproduce: `{}`\n", f.reproduce));
            }
        }
        md
    }

    /// Writes `matrix.md` and `matrix.json` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join("matrix.md"), self.to_markdown())?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("matrix.json"), json + "\n")
    }
}

fn add(cell: &mut Cell, record: &CaseRecord, name: &dyn Fn(usize) -> String) {
    let result = &record.result;
    match result.verdict {
        Verdict::Passed => cell.passed += 1,
        Verdict::Unsupported => {
            cell.unsupported += 1;
            let reason = result
                .problem
                .as_ref()
                .map(|p| match &p.client {
                    Some(client) => format!("{client}: {}", p.detail),
                    None => p.detail.clone(),
                })
                .unwrap_or_default();
            *cell.unsupported_reasons.entry(reason).or_default() += 1;
        }
        Verdict::Failed | Verdict::ClientFault => {
            if result.verdict == Verdict::Failed {
                cell.failed += 1;
                if record.expectation.is_some() {
                    cell.expected += 1;
                }
            } else {
                cell.client_fault += 1;
            }
            let problem = result.problem.clone();
            cell.failures.push(FailureEntry {
                case: result.id.clone(),
                script: record.script.clone(),
                suite: record.suite,
                handshake: record.handshake,
                actors: record
                    .assignment
                    .iter()
                    .map(|(a, c)| (a.clone(), name(*c)))
                    .collect(),
                verdict: result.verdict,
                step: problem.as_ref().and_then(|p| p.step),
                action: problem.as_ref().and_then(|p| p.action.clone()),
                check: problem
                    .as_ref()
                    .map(|p| p.check.clone())
                    .unwrap_or_default(),
                actor: problem.as_ref().and_then(|p| p.actor.clone()),
                client: problem.as_ref().and_then(|p| p.client.clone()),
                detail: problem
                    .as_ref()
                    .map(|p| p.detail.clone())
                    .unwrap_or_default(),
                transcript_lines: problem.as_ref().and_then(|p| p.lines).or(result.lines),
                reproduce: record.reproduce.clone(),
                requirements: problem
                    .as_ref()
                    .map(|p| super::requirements::for_failure(&p.check, p.action.as_deref()))
                    .unwrap_or_default(),
                expected: record.expectation.clone(),
            });
        }
    }
}

fn cell_text(cell: &Cell) -> String {
    let failed = if cell.expected > 0 {
        format!("{} failed ({} known)", cell.failed, cell.expected)
    } else {
        format!("{} failed", cell.failed)
    };
    let mut text = format!(
        "{} passed, {failed}, {} unsupported",
        cell.passed, cell.unsupported
    );
    if cell.client_fault > 0 {
        text.push_str(&format!(", {} client fault", cell.client_fault));
    }
    text
}

/// Every assignment of `clients` clients to `actors` actors, in odometer order (the last
/// actor's client changes fastest).
pub fn all_assignments(clients: usize, actors: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for _ in 0..actors {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..clients).map(move |c| {
                    let mut next = prefix.clone();
                    next.push(c);
                    next
                })
            })
            .collect();
    }
    if clients == 0 { Vec::new() } else { out }
}

/// One assignment drawn from `seed` and `salt` (the config and script): the same inputs
/// always draw the same assignment.
pub fn random_assignment(clients: usize, actors: usize, seed: u64, salt: &str) -> Vec<usize> {
    use rand_core::{Rng, SeedableRng};
    if clients == 0 {
        return Vec::new();
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ stable_hash(salt));
    (0..actors)
        .map(|_| (rng.next_u64() % clients as u64) as usize)
        .collect()
}

/// FNV-1a: a hash that does not change between builds or platforms.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
