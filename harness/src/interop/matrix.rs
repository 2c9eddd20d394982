//! Who was tested with whom, and how it went: `matrix.md` and `matrix.json`.
//!
//! ```text
//!             column: client of another actor
//! row: client of   ┌──────────────────────────┐
//! the first actor  │ passed / failed / unsup. │  one table per config file
//! (the creator)    └──────────────────────────┘
//! ```
//!
//! Each case counts in exactly one cell, so the cells add up to the run's cases: its row is
//! the creator's client; its column is the client the case's failure was charged to when that
//! is another client of the case, else the first other client (in actor order); a case run by
//! one client alone sits on the diagonal. Every failure and client fault is listed once, in
//! that cell, with its transcript lines and a command that reruns just that case.

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
    /// What a cell counts (the same sentence as matrix.md's).
    pub cells_count: &'static str,
    pub clients: Vec<String>,
    pub configs: Vec<String>,
    pub cells: Vec<Cell>,
    /// Input warnings of the run (unknown fields of the scripts, with their place).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What a cell counts, as matrix.md and matrix.json say it.
pub const CELLS_COUNT: &str = "Each case counts in exactly one cell: row, the client of the script's first actor (the group's creator); column, the client the case's failure was charged to when it is another client of the case, else the first other client in actor order (the diagonal: one client alone). The cells add up to the run's cases.";

/// The column of `record` in row `row` (see [`CELLS_COUNT`]).
fn column_of(record: &CaseRecord, row: usize, clients: &[String]) -> usize {
    let others: Vec<usize> = record
        .assignment
        .iter()
        .map(|&(_, c)| c)
        .filter(|&c| c != row)
        .collect();
    let charged = record
        .result
        .problem
        .as_ref()
        .and_then(|p| p.client.as_ref())
        .and_then(|name| clients.iter().position(|c| c == name));
    match charged {
        Some(c) if others.contains(&c) => c,
        _ => others.first().copied().unwrap_or(row),
    }
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
            let column = column_of(record, row, clients);
            let cell = cells.entry((config, row, column)).or_insert_with(|| Cell {
                config: record.config.clone(),
                row: name(row),
                column: name(column),
                ..Cell::default()
            });
            add(cell, record, &name);
        }
        Matrix {
            cells_count: CELLS_COUNT,
            clients: clients.to_vec(),
            configs,
            cells: cells.into_values().collect(),
            warnings: Vec::new(),
        }
    }

    pub fn to_markdown(&self) -> String {
        let mut md = String::from("# Interop matrix\n\n");
        for warning in &self.warnings {
            md.push_str(&format!("Warning: {warning}\n\n"));
        }
        md.push_str(
            &format!(
                "{CELLS_COUNT} A cell counts passed, failed and unsupported cases, and client faults when there are any.\n"
            ),
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
        Verdict::Unsupported | Verdict::Skipped => {
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
                    .map(super::requirements::for_problem)
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

/// A covering array of strength 2, drawn from `seed` and `salt` as [`random_assignment`]
/// draws: for every two actors a and b and every two clients x and y, some assignment gives a
/// client x and b client y, in far fewer assignments than every combination (2 clients over
/// 41 actors: about a dozen instead of 2^41). A failure that takes two particular clients in
/// two particular roles shows up; one that takes three may not.
///
/// It opens with one assignment per client that gives it every actor, then adds assignments
/// greedily, as AETG does: each is the best of a few seeded candidates, a candidate starting
/// from the actor and client in most pairs still uncovered and giving each further actor, in a
/// seeded order, the client that covers most pairs with the actors already given. Each added
/// assignment covers a pair none before it covered, so none repeats. With at most two actors
/// (or one client) this is every assignment.
pub fn pairwise_assignments(
    clients: usize,
    actors: usize,
    seed: u64,
    salt: &str,
) -> Vec<Vec<usize>> {
    use rand_core::SeedableRng;
    if clients <= 1 || actors <= 2 {
        return all_assignments(clients, actors);
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ stable_hash(salt));
    let mut uncovered = PairTable::new(clients, actors);
    let mut rows: Vec<Vec<usize>> = (0..clients).map(|c| vec![c; actors]).collect();
    for row in &rows {
        uncovered.cover(row);
    }
    // A candidate looks at every pair of actors once; more candidates than a few save an
    // assignment or two at most, and for hundreds of actors one is nearly as good: about 4
    // million pair lookups per assignment keep 841 actors under a second.
    let work = actors.saturating_mul(actors).saturating_mul(clients).max(1);
    let candidates = ((1usize << 22) / work).clamp(1, 8);
    while uncovered.remaining > 0 {
        let (gain, row) = (0..candidates).map(|_| uncovered.candidate(&mut rng)).fold(
            (0, Vec::new()),
            |best, next| {
                if next.0 > best.0 { next } else { best }
            },
        );
        // A candidate always covers the pair it starts from; this guards the loop anyway.
        let row = if gain == 0 {
            uncovered.first_uncovered_row()
        } else {
            row
        };
        uncovered.cover(&row);
        rows.push(row);
    }
    rows
}

/// The pairs (actor a, client x, actor b, client y), a < b, no assignment covers yet: one bit
/// each, with the count per (actor, client) that picks where a candidate starts.
struct PairTable {
    clients: usize,
    actors: usize,
    bits: Vec<u64>,
    remaining: usize,
    /// Uncovered pairs that involve (actor, client), at `actor * clients + client`.
    open: Vec<usize>,
}

impl PairTable {
    fn new(clients: usize, actors: usize) -> Self {
        let pairs = actors * (actors - 1) / 2 * clients * clients;
        let mut bits = vec![u64::MAX; pairs.div_ceil(64)];
        if let Some(last) = bits.last_mut()
            && !pairs.is_multiple_of(64)
        {
            *last = (1u64 << (pairs % 64)) - 1;
        }
        PairTable {
            clients,
            actors,
            bits,
            remaining: pairs,
            open: vec![(actors - 1) * clients; actors * clients],
        }
    }

    fn index(&self, (a, x): (usize, usize), (b, y): (usize, usize)) -> usize {
        let ((a, x), (b, y)) = if a < b {
            ((a, x), (b, y))
        } else {
            ((b, y), (a, x))
        };
        let pair = a * (2 * self.actors - a - 1) / 2 + (b - a - 1);
        (pair * self.clients + x) * self.clients + y
    }

    fn is_open(&self, one: (usize, usize), other: (usize, usize)) -> bool {
        let i = self.index(one, other);
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }

    fn cover(&mut self, row: &[usize]) {
        for a in 0..self.actors {
            for b in a + 1..self.actors {
                let i = self.index((a, row[a]), (b, row[b]));
                if self.bits[i / 64] >> (i % 64) & 1 == 1 {
                    self.bits[i / 64] &= !(1 << (i % 64));
                    self.remaining -= 1;
                    self.open[a * self.clients + row[a]] -= 1;
                    self.open[b * self.clients + row[b]] -= 1;
                }
            }
        }
    }

    /// A candidate assignment and the number of uncovered pairs it covers.
    fn candidate(&self, rng: &mut rand_chacha::ChaCha20Rng) -> (usize, Vec<usize>) {
        let most = self.open.iter().copied().max().unwrap_or(0);
        let starts: Vec<usize> = (0..self.open.len())
            .filter(|&i| self.open[i] == most)
            .collect();
        let start = starts[pick(rng, starts.len())];
        let (first, value) = (start / self.clients, start % self.clients);
        let mut order: Vec<usize> = (0..self.actors).filter(|&a| a != first).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, pick(rng, i + 1));
        }
        let mut row = vec![0; self.actors];
        row[first] = value;
        let mut given = vec![first];
        let mut gain = 0;
        let mut scores = vec![0; self.clients];
        let mut best = Vec::with_capacity(self.clients);
        for actor in order {
            scores.fill(0);
            for &g in &given {
                // The bits of (g, row[g]) with (actor, each client): side by side when g is
                // the first of the pair, `clients` apart when it is the second.
                let (first, step) = if g < actor {
                    (self.index((g, row[g]), (actor, 0)), 1)
                } else {
                    (self.index((actor, 0), (g, row[g])), self.clients)
                };
                for (client, score) in scores.iter_mut().enumerate() {
                    let i = first + client * step;
                    *score += (self.bits[i / 64] >> (i % 64) & 1) as usize;
                }
            }
            let top = scores.iter().copied().max().unwrap_or(0);
            best.clear();
            best.extend((0..self.clients).filter(|&c| scores[c] == top));
            row[actor] = best[pick(rng, best.len())];
            gain += top;
            given.push(actor);
        }
        (gain, row)
    }

    /// An assignment covering the first uncovered pair (the others' clients: 0).
    fn first_uncovered_row(&self) -> Vec<usize> {
        let mut row = vec![0; self.actors];
        for a in 0..self.actors {
            for b in a + 1..self.actors {
                for x in 0..self.clients {
                    for y in 0..self.clients {
                        if self.is_open((a, x), (b, y)) {
                            row[a] = x;
                            row[b] = y;
                            return row;
                        }
                    }
                }
            }
        }
        row
    }
}

/// A number below `bound` (> 0) from `rng`.
fn pick(rng: &mut rand_chacha::ChaCha20Rng, bound: usize) -> usize {
    use rand_core::Rng;
    (rng.next_u64() % bound as u64) as usize
}

/// FNV-1a: a hash that does not change between builds or platforms.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
