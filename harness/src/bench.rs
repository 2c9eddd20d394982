//! `concord bench [--quick]`: the group-operation benchmarks of Concord's reference, OpenMLS
//! and mls-rs, side by side in one run, with the floor set by the primitives.
//!
//! ```text
//! cargo bench -p concord-benches --bench groups   (CRITERION_HOME = OUT/criterion, fresh)
//!        │  criterion: OUT/criterion/<group>/<function>/<size>/new/{benchmark,estimates}.json
//!        v
//! collect ── rows: implementation, operation, shape, group size, median, spread
//!        ── floor per row: primitive calls the RFC requires x their median cost (suite 1)
//!        v
//! OUT/bench.json          the plot input the HTML report reads (schema 1, below)
//! OUT/bench-detail.json   every figure of every row (schema below)
//! OUT/bench.md            the Markdown table
//! ```
//!
//! `bench.json` (read by `concord run` / `concord report` for the plots: time against group
//! size, one line per implementation; schema version 1):
//!
//! ```json
//! { "schema_version": 1,
//!   "results": [ { "benchmark": "commit (full tree)", "implementation": "reference",
//!                  "group_size": 1024, "mean_ns": 4100000.0 } ] }
//! ```
//!
//! `bench-detail.json` (schema version 1):
//!
//! ```json
//! { "schema_version": 1, "quick": false,
//!   "settings": ["handshake messages as PublicMessage for all three", "..."],
//!   "primitives": [ { "name": "hpke-seal", "median_ns": 55000.0 } ],
//!   "results": [ { "implementation": "openmls", "operation": "commit", "shape": "full",
//!                  "group_size": 1024, "median_ns": 5.1e6, "mean_ns": 5.2e6,
//!                  "spread_ns": 1.2e5, "ratio_to_fastest": 1.08,
//!                  "floor_ns": 1.1e6, "ratio_to_floor": 4.6 } ] }
//! ```
//!
//! `implementation` is `reference`, `openmls`, `mls-rs`, or `reference@suite-N` (the
//! reference in another ciphersuite; no ratio to fastest, no floor). `operation` is one of
//! `key-package`, `create-group`, `commit`, `process-commit`, `add-member`, `join`,
//! `protect-1KiB`, `unprotect-1KiB`, `protect-64KiB`, `unprotect-64KiB`. `shape` is `full`
//! (every parent node set), `sparse` (all members added in one commit) or null (the
//! operation has no group). `spread_ns` is criterion's median absolute deviation of the
//! samples. `ratio_to_fastest` compares implementations of one operation, shape and size;
//! `ratio_to_floor` divides by `floor_ns` (see [`floor`]). Figures are only comparable
//! within one run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::exit;

/// Arguments of `concord bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Criterion's quick mode and groups of 2, 16 and 128 only (unless
    /// CONCORD_BENCH_SIZES says otherwise): a smoke run, not figures to quote.
    #[arg(long)]
    pub quick: bool,
    /// Where bench.json, bench-detail.json and bench.md go.
    #[arg(long, default_value = "reports/out")]
    pub out: PathBuf,
    /// Do not run the benchmarks: collect what OUT/criterion holds from an earlier run.
    #[arg(long)]
    pub no_run: bool,
    /// Leave out the second rows (OpenMLS on libcrux, mls-rs on OpenSSL), for a machine
    /// without the OpenSSL headers.
    #[arg(long)]
    pub without_second_rows: bool,
}

/// One criterion measurement as found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub group: String,
    pub function: String,
    pub value: Option<String>,
    pub median_ns: f64,
    pub mean_ns: f64,
    pub spread_ns: f64,
}

/// A row of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub implementation: String,
    pub operation: String,
    pub shape: Option<String>,
    pub group_size: u64,
    pub median_ns: f64,
    pub mean_ns: f64,
    pub spread_ns: f64,
    pub ratio_to_fastest: Option<f64>,
    pub floor_ns: Option<f64>,
    pub ratio_to_floor: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Primitive {
    pub name: String,
    pub median_ns: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detail {
    pub schema_version: u32,
    pub quick: bool,
    pub settings: Vec<String>,
    pub primitives: Vec<Primitive>,
    pub results: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PlotPoint {
    benchmark: String,
    implementation: String,
    group_size: u64,
    mean_ns: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PlotFile {
    schema_version: u32,
    results: Vec<PlotPoint>,
}

/// What the benchmark aligns across the three implementations, and where one does more.
pub const SETTINGS: [&str; 7] = [
    "ciphersuite 1 (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519), RustCrypto primitives for all three; second rows: OpenMLS on libcrux (openmls-libcrux), mls-rs on OpenSSL (mls-rs-openssl)",
    "handshake messages as PublicMessage for all three; application messages as PrivateMessage without padding",
    "the ratchet tree inside the Welcome's GroupInfo (and the external-join GroupInfo)",
    "committer and receiver at the same leaves in all three: full tree n-1 and n-2, sparse tree 0 and 1",
    "bytes in, bytes out: decoding and encoding are part of every figure",
    "OpenMLS writes its state to its (in-memory) store on every operation; the others write nothing",
    "OpenMLS and the reference sign a GroupInfo with every commit; mls-rs only with a Welcome; mls-rs checks a joined tree on both cores",
];

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{0}")]
    Run(String),
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> BenchError {
    BenchError::File {
        file: path.display().to_string(),
        message: message.to_string(),
    }
}

#[derive(Deserialize)]
struct CriterionId {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

#[derive(Deserialize)]
struct Estimates {
    mean: Estimate,
    median: Estimate,
    median_abs_dev: Estimate,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| file_error(path, format!("not criterion's layout: {e}")))
}

/// Every `new/benchmark.json` with its `new/estimates.json` under `dir`.
pub fn collect(dir: &Path) -> Result<Vec<Measurement>, BenchError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|e| file_error(&folder, e))?;
        for entry in entries {
            let path = entry.map_err(|e| file_error(&folder, e))?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    let id_file = path.join("benchmark.json");
                    let estimates_file = path.join("estimates.json");
                    if id_file.is_file() && estimates_file.is_file() {
                        let id: CriterionId = read_json(&id_file)?;
                        let estimates: Estimates = read_json(&estimates_file)?;
                        out.push(Measurement {
                            group: id.group_id,
                            function: id.function_id.unwrap_or_default(),
                            value: id.value_str,
                            median_ns: estimates.median.point_estimate,
                            mean_ns: estimates.mean.point_estimate,
                            spread_ns: estimates.median_abs_dev.point_estimate,
                        });
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.group, &a.function, &a.value).cmp(&(&b.group, &b.function, &b.value)));
    Ok(out)
}

/// Primitive calls per operation, as the RFC requires them (section numbers of RFC 9420).
///
/// Counted: HPKE seals and opens (12.4.1/12.4.2, 12.4.3.1), key pair derivations from
/// path secrets (7.4), signatures and their checks (LeafNode 7.2, FramedContent 6.1,
/// GroupInfo 12.4.3, KeyPackage 10.1, every leaf of a joined tree 12.4.3.1/7.9.2), hashes
/// (tree hash 7.8 of the changed path only, parent hashes 7.9, transcript hashes 8.2,
/// KeyPackageRef 5.2), MACs (confirmation and membership tags 6.1/8.1), the key
/// schedule (8: two extracts and twelve expansions per epoch), AEAD over the payload or
/// the GroupInfo (estimated at 150 bytes per leaf with the tree inside). Not counted:
/// encoding, tree bookkeeping, memory: the floor is a lower bound.
pub fn floor(operation: &str, shape: Option<&str>, size: u64) -> Option<Vec<(&'static str, f64)>> {
    let n = size as f64;
    let depth = |leaves: u64| f64::from(leaves.max(2).next_power_of_two().trailing_zeros());
    let d = depth(size);
    let d_added = depth(size + 1);
    let full = shape == Some("full");
    let info_bytes = 150.0 * (n + 1.0);
    let aead_64k = |op: &'static str| (op, info_bytes / 65536.0);
    let epoch = [("kdf-extract", 2.0), ("expand-with-label", 12.0)];
    let mut calls: Vec<(&'static str, f64)> = match operation {
        "key-package" => vec![
            ("hpke-keygen", 2.0),
            ("signature-keygen", 1.0),
            ("sign-small", 2.0),
        ],
        "create-group" => vec![
            ("hpke-keygen", 1.0),
            ("signature-keygen", 1.0),
            ("sign-small", 1.0),
            ("hash-small", 2.0),
            ("mac-small", 1.0),
        ],
        "commit" => vec![
            ("hpke-seal", if full { d } else { n - 1.0 }),
            ("derive-key-pair", d + 1.0),
            ("expand-with-label", 2.0 * d + 2.0),
            ("sign-small", 2.0),
            ("hash-small", 2.0 * d + 3.0),
            ("mac-small", 2.0),
        ],
        "process-commit" => vec![
            ("hpke-open", 1.0),
            ("derive-key-pair", d),
            ("expand-with-label", 2.0 * d),
            ("verify-small", 2.0),
            ("hash-small", 2.0 * d + 3.0),
            ("mac-small", 2.0),
        ],
        "add-member" => vec![
            ("verify-small", 2.0),
            ("sign-small", 2.0),
            ("hpke-seal", 1.0),
            aead_64k("aead-seal-64KiB"),
            ("hash-small", d_added + 4.0),
            ("mac-small", 2.0),
            ("expand-with-label", 2.0),
        ],
        "join" => {
            let width = 2.0 * (size + 1).next_power_of_two() as f64 - 1.0;
            vec![
                ("hpke-open", 1.0),
                aead_64k("aead-open-64KiB"),
                ("verify-small", n + 2.0),
                ("hash-small", width + if full { n - 1.0 } else { 0.0 } + 2.0),
                ("mac-small", 1.0),
                ("expand-with-label", 2.0),
            ]
        }
        "protect-1KiB" => vec![
            ("sign-1KiB", 1.0),
            ("aead-seal-1KiB", 1.0),
            ("expand-with-label", 3.0),
        ],
        "unprotect-1KiB" => vec![
            ("verify-1KiB", 1.0),
            ("aead-open-1KiB", 1.0),
            ("expand-with-label", 3.0),
        ],
        "protect-64KiB" => vec![
            ("sign-64KiB", 1.0),
            ("aead-seal-64KiB", 1.0),
            ("expand-with-label", 3.0),
        ],
        "unprotect-64KiB" => vec![
            ("verify-64KiB", 1.0),
            ("aead-open-64KiB", 1.0),
            ("expand-with-label", 3.0),
        ],
        _ => return None,
    };
    if matches!(
        operation,
        "create-group" | "commit" | "process-commit" | "add-member" | "join"
    ) {
        calls.extend(epoch);
    }
    Some(calls)
}

/// Rows from measurements: group `operation/shape` or `operation`, function the
/// implementation, value the group size; the `primitive` group feeds the floor.
pub fn rows(measurements: &[Measurement]) -> (Vec<Primitive>, Vec<Row>) {
    let primitives: BTreeMap<&str, f64> = measurements
        .iter()
        .filter(|m| m.group == "primitive")
        .map(|m| (m.function.as_str(), m.median_ns))
        .collect();
    let mut rows = Vec::new();
    for m in measurements.iter().filter(|m| m.group != "primitive") {
        let (operation, shape) = match m.group.split_once('/') {
            Some((op, shape)) => (op.to_string(), Some(shape.to_string())),
            None => (m.group.clone(), None),
        };
        let group_size = m
            .value
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        let in_suite_1 = !m.function.contains('@');
        let floor_ns = if in_suite_1 {
            floor(&operation, shape.as_deref(), group_size).and_then(|calls| {
                calls
                    .iter()
                    .map(|(name, count)| primitives.get(name).map(|cost| cost * count))
                    .sum::<Option<f64>>()
            })
        } else {
            None
        };
        rows.push(Row {
            implementation: m.function.clone(),
            operation,
            shape,
            group_size,
            median_ns: m.median_ns,
            mean_ns: m.mean_ns,
            spread_ns: m.spread_ns,
            ratio_to_fastest: None,
            floor_ns,
            ratio_to_floor: floor_ns.filter(|f| *f > 0.0).map(|f| m.median_ns / f),
        });
    }
    let mut fastest: BTreeMap<(String, Option<String>, u64), f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.implementation.contains('@')) {
        let key = (r.operation.clone(), r.shape.clone(), r.group_size);
        let best = fastest.entry(key).or_insert(f64::INFINITY);
        *best = best.min(r.median_ns);
    }
    for r in rows.iter_mut().filter(|r| !r.implementation.contains('@')) {
        let key = (r.operation.clone(), r.shape.clone(), r.group_size);
        r.ratio_to_fastest = fastest
            .get(&key)
            .filter(|f| **f > 0.0)
            .map(|f| r.median_ns / f);
    }
    let order = |op: &str| {
        [
            "key-package",
            "create-group",
            "commit",
            "process-commit",
            "add-member",
            "join",
            "protect-1KiB",
            "unprotect-1KiB",
            "protect-64KiB",
            "unprotect-64KiB",
        ]
        .iter()
        .position(|o| *o == op)
        .unwrap_or(usize::MAX)
    };
    rows.sort_by(|a, b| {
        (
            order(&a.operation),
            &a.shape,
            a.group_size,
            &a.implementation,
        )
            .cmp(&(
                order(&b.operation),
                &b.shape,
                b.group_size,
                &b.implementation,
            ))
    });
    let primitives = primitives
        .into_iter()
        .map(|(name, median_ns)| Primitive {
            name: name.to_string(),
            median_ns,
        })
        .collect();
    (primitives, rows)
}

fn time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The implementations always in the table.
const MAIN_ROWS: [&str; 3] = ["reference", "openmls", "mls-rs"];

/// Every implementation's column, in table order: the second rows (other primitives
/// under OpenMLS and mls-rs) appear when measured.
const IMPLEMENTATIONS: [&str; 5] = [
    "reference",
    "openmls",
    "openmls-libcrux",
    "mls-rs",
    "mls-rs-openssl",
];

/// The Markdown table: one line per operation, shape and size; per implementation the
/// median, the spread (in % of the median), the ratio to the fastest and to the floor.
pub fn markdown(detail: &Detail) -> String {
    let mut out = String::from("# Benchmarks: reference, OpenMLS, mls-rs\n\n");
    if detail.quick {
        out.push_str("Quick run (criterion --quick): a smoke test, not figures to quote.\n\n");
    }
    for setting in &detail.settings {
        let _ = writeln!(out, "- {setting}");
    }
    out.push_str(
        "\nCell: median ± spread (median absolute deviation, % of the median), \
         [ratio to the fastest of the row, ratio to the floor]. Floor: primitive calls \
         the RFC requires times their measured cost (reference provider, suite 1).\n\n",
    );
    let implementations: Vec<&str> = IMPLEMENTATIONS
        .iter()
        .copied()
        .filter(|&name| {
            MAIN_ROWS.contains(&name) || detail.results.iter().any(|r| r.implementation == name)
        })
        .collect();
    out.push_str("| operation | tree | members | floor |");
    for name in &implementations {
        let _ = write!(out, " {name} |");
    }
    out.push_str("\n|---|---|---:|---:|");
    out.push_str(&"---|".repeat(implementations.len()));
    out.push('\n');
    let mut lines: Vec<(&str, Option<&str>, u64)> = Vec::new();
    for r in detail
        .results
        .iter()
        .filter(|r| !r.implementation.contains('@'))
    {
        let key = (r.operation.as_str(), r.shape.as_deref(), r.group_size);
        if !lines.contains(&key) {
            lines.push(key);
        }
    }
    for (operation, shape, size) in lines {
        let cell = |implementation: &str| {
            detail
                .results
                .iter()
                .find(|r| {
                    r.implementation == implementation
                        && r.operation == operation
                        && r.shape.as_deref() == shape
                        && r.group_size == size
                })
                .map(|r| {
                    let mut text = format!(
                        "{} ±{:.0}%",
                        time(r.median_ns),
                        100.0 * r.spread_ns / r.median_ns.max(f64::MIN_POSITIVE)
                    );
                    let fastest = r.ratio_to_fastest.map_or("-".into(), |x| format!("{x:.2}"));
                    let floor = r.ratio_to_floor.map_or("-".into(), |x| format!("{x:.1}"));
                    let _ = write!(text, " [{fastest}, {floor}]");
                    if r.ratio_to_fastest.is_some_and(|x| x <= 1.0) {
                        text = format!("**{text}**");
                    }
                    text
                })
                .unwrap_or_else(|| "-".into())
        };
        let floor = detail
            .results
            .iter()
            .find(|r| {
                r.operation == operation && r.shape.as_deref() == shape && r.group_size == size
            })
            .and_then(|r| r.floor_ns)
            .map_or("-".into(), time);
        let _ = write!(
            out,
            "| {operation} | {} | {size} | {floor} |",
            shape.unwrap_or("-")
        );
        for name in &implementations {
            let _ = write!(out, " {} |", cell(name));
        }
        out.push('\n');
    }
    let others: Vec<&Row> = detail
        .results
        .iter()
        .filter(|r| r.implementation.contains('@'))
        .collect();
    if !others.is_empty() {
        let mut suites: Vec<&str> = others
            .iter()
            .map(|r| r.implementation.trim_start_matches("reference@"))
            .collect();
        suites.sort_unstable();
        suites.dedup();
        out.push_str("\n## The reference in its other ciphersuites (median ± spread)\n\n");
        let _ = writeln!(
            out,
            "| operation | tree | members | {} |",
            suites.join(" | ")
        );
        let _ = writeln!(out, "|---|---|---:|{}", "---:|".repeat(suites.len()));
        let mut lines: Vec<(&str, Option<&str>, u64)> = Vec::new();
        for r in &others {
            let key = (r.operation.as_str(), r.shape.as_deref(), r.group_size);
            if !lines.contains(&key) {
                lines.push(key);
            }
        }
        for (operation, shape, size) in lines {
            let cells: Vec<String> = suites
                .iter()
                .map(|suite| {
                    others
                        .iter()
                        .find(|r| {
                            r.implementation.trim_start_matches("reference@") == *suite
                                && r.operation == operation
                                && r.shape.as_deref() == shape
                                && r.group_size == size
                        })
                        .map_or("-".into(), |r| {
                            format!(
                                "{} ±{:.0}%",
                                time(r.median_ns),
                                100.0 * r.spread_ns / r.median_ns.max(f64::MIN_POSITIVE)
                            )
                        })
                })
                .collect();
            let _ = writeln!(
                out,
                "| {operation} | {} | {size} | {} |",
                shape.unwrap_or("-"),
                cells.join(" | ")
            );
        }
    }
    out
}

/// Writes bench.json, bench-detail.json and bench.md into `out`.
pub fn write(out: &Path, detail: &Detail) -> Result<(), BenchError> {
    std::fs::create_dir_all(out).map_err(|e| file_error(out, e))?;
    let plot = PlotFile {
        schema_version: 1,
        results: detail
            .results
            .iter()
            .map(|r| PlotPoint {
                benchmark: match &r.shape {
                    Some(shape) => format!("{} ({shape} tree)", r.operation),
                    None => r.operation.clone(),
                },
                implementation: r.implementation.clone(),
                group_size: r.group_size,
                mean_ns: r.median_ns.max(f64::MIN_POSITIVE),
            })
            .collect(),
    };
    let put = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| file_error(&path, e))
    };
    put("bench.json", to_json(&plot))?;
    put("bench-detail.json", to_json(detail))?;
    put("bench.md", markdown(detail))
}

/// Pretty JSON (these types hold strings and finite numbers: serializing cannot fail).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// Runs the benchmarks (unless `--no-run`), then writes the reports.
pub fn main(args: BenchArgs) -> u8 {
    let criterion_dir = args.out.join("criterion");
    if !args.no_run {
        if criterion_dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&criterion_dir)
        {
            eprintln!("concord bench: {}: {e}", criterion_dir.display());
            return exit::BAD_INPUT;
        }
        let absolute = match std::path::absolute(&criterion_dir) {
            Ok(path) => path,
            Err(e) => {
                eprintln!("concord bench: {}: {e}", criterion_dir.display());
                return exit::BAD_INPUT;
            }
        };
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.args(["bench", "-p", "concord-benches", "--bench", "groups"]);
        if !args.without_second_rows {
            command.args(["--features", "second-rows"]);
        }
        command.arg("--").env("CRITERION_HOME", &absolute);
        if args.quick {
            command.arg("--quick");
            if std::env::var_os("CONCORD_BENCH_SIZES").is_none() {
                command.env("CONCORD_BENCH_SIZES", "2,16,128");
            }
        }
        eprintln!("concord bench: running {command:?}");
        match command.status() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("concord bench: the benchmarks failed ({status})");
                return exit::UNEXPECTED;
            }
            Err(e) => {
                eprintln!("concord bench: cannot run cargo (run from the workspace): {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    let measurements = match collect(&criterion_dir) {
        Ok(m) if !m.is_empty() => m,
        Ok(_) => {
            eprintln!(
                "concord bench: {}: no criterion results",
                criterion_dir.display()
            );
            return exit::BAD_INPUT;
        }
        Err(e) => {
            eprintln!("concord bench: {e}");
            return exit::BAD_INPUT;
        }
    };
    let (primitives, results) = rows(&measurements);
    let detail = Detail {
        schema_version: 1,
        quick: args.quick,
        settings: SETTINGS.iter().map(|s| s.to_string()).collect(),
        primitives,
        results,
    };
    if let Err(e) = write(&args.out, &detail) {
        eprintln!("concord bench: {e}");
        return exit::BAD_INPUT;
    }
    print!("{}", markdown(&detail));
    eprintln!(
        "concord bench: wrote {} rows to {}",
        detail.results.len(),
        args.out.join("bench.json").display()
    );
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(group: &str, function: &str, value: Option<&str>, median: f64) -> Measurement {
        Measurement {
            group: group.into(),
            function: function.into(),
            value: value.map(Into::into),
            median_ns: median,
            mean_ns: median,
            spread_ns: median / 10.0,
        }
    }

    #[test]
    fn rows_carry_ratios_to_the_fastest_and_to_the_floor() {
        let mut ms = vec![
            measurement("commit/full", "reference", Some("16"), 200.0),
            measurement("commit/full", "openmls", Some("16"), 400.0),
            measurement("commit/full", "reference@suite-2", Some("16"), 900.0),
        ];
        for name in [
            "hpke-seal",
            "derive-key-pair",
            "expand-with-label",
            "sign-small",
            "hash-small",
            "mac-small",
            "kdf-extract",
        ] {
            ms.push(measurement("primitive", name, None, 1.0));
        }
        let (primitives, rows) = rows(&ms);
        assert_eq!(primitives.len(), 7);
        let get = |i: &str| rows.iter().find(|r| r.implementation == i).unwrap();
        assert_eq!(get("reference").ratio_to_fastest, Some(1.0));
        assert_eq!(get("openmls").ratio_to_fastest, Some(2.0));
        assert_eq!(get("reference@suite-2").ratio_to_fastest, None);
        // d = 4: 4 seals, 5 derivations, 10 expansions, 2 signatures, 11 hashes, 2 MACs,
        // 2 extracts and 12 expansions of the key schedule.
        assert_eq!(
            get("reference").floor_ns,
            Some(4.0 + 5.0 + 10.0 + 2.0 + 11.0 + 2.0 + 14.0)
        );
        assert_eq!(get("reference").shape.as_deref(), Some("full"));
    }

    #[test]
    fn a_sparse_commit_seals_to_every_other_leaf() {
        let calls = floor("commit", Some("sparse"), 1024).unwrap();
        assert!(calls.contains(&("hpke-seal", 1023.0)));
        let calls = floor("commit", Some("full"), 1024).unwrap();
        assert!(calls.contains(&("hpke-seal", 10.0)));
        assert!(floor("no such operation", None, 2).is_none());
    }

    #[test]
    fn a_joiner_checks_every_leaf_signature() {
        let calls = floor("join", Some("full"), 1024).unwrap();
        assert!(calls.contains(&("verify-small", 1026.0)));
    }

    #[test]
    fn criterion_results_are_read_and_written_back_as_tables() {
        let dir = std::env::temp_dir().join(format!("concord-bench-test-{}", std::process::id()));
        let new = dir.join("criterion/commit_full/reference/16/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"commit/full","function_id":"reference","value_str":"16","throughput":null,"full_id":"commit/full/reference/16","directory_name":"commit_full/reference/16","title":"commit/full/reference/16"}"#,
        )
        .unwrap();
        let estimate = |x: f64| {
            format!(
                r#"{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{x},"upper_bound":{x}}},"point_estimate":{x},"standard_error":1.0}}"#
            )
        };
        std::fs::write(
            new.join("estimates.json"),
            format!(
                r#"{{"mean":{},"median":{},"median_abs_dev":{},"slope":null,"std_dev":{}}}"#,
                estimate(2.0e6),
                estimate(1.5e6),
                estimate(1.0e5),
                estimate(1.0)
            ),
        )
        .unwrap();
        let ms = collect(&dir.join("criterion")).unwrap();
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].median_ns, 1.5e6);
        let (primitives, results) = rows(&ms);
        let detail = Detail {
            schema_version: 1,
            quick: true,
            settings: vec![],
            primitives,
            results,
        };
        write(&dir, &detail).unwrap();
        let table = std::fs::read_to_string(dir.join("bench.md")).unwrap();
        assert!(
            table.contains("| commit | full | 16 | - | **1.50 ms ±7% [1.00, -]** | - | - |"),
            "{table}"
        );
        let plot: PlotFile =
            serde_json::from_str(&std::fs::read_to_string(dir.join("bench.json")).unwrap())
                .unwrap();
        assert_eq!(plot.results[0].benchmark, "commit (full tree)");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn other_suites_get_a_table_of_their_own_one_column_per_suite() {
        let ms = vec![
            measurement("commit/full", "reference", Some("2"), 1000.0),
            measurement("commit/full", "reference@suite-2", Some("2"), 2000.0),
            measurement("commit/full", "reference@suite-3", Some("2"), 3000.0),
        ];
        let (primitives, results) = rows(&ms);
        let table = markdown(&Detail {
            schema_version: 1,
            quick: false,
            settings: vec![],
            primitives,
            results,
        });
        assert!(
            table.contains("| operation | tree | members | suite-2 | suite-3 |"),
            "{table}"
        );
        assert!(
            table.contains("| commit | full | 2 | 2.0 µs ±10% | 3.0 µs ±10% |"),
            "{table}"
        );
    }

    #[test]
    fn a_broken_estimates_file_is_named() {
        let dir = std::env::temp_dir().join(format!("concord-bench-bad-{}", std::process::id()));
        let new = dir.join("g/f/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"group_id":"g"}"#).unwrap();
        std::fs::write(new.join("estimates.json"), "{").unwrap();
        let error = collect(&dir).unwrap_err().to_string();
        assert!(error.contains("estimates.json"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
