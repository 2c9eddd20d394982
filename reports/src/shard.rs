//! Sharded runs and regressions: a stable partition of a run's cases over N machines
//! ([`Shard`]), the merge of the shards' reports into one ([`merge`]), and the difference
//! between two reports ([`diff`]).
//!
//! A shard holds the cases whose *unit* hashes to it. A unit is the smallest piece of work a
//! stage can run alone: one interop case, one scenario file, one vector case, the whole
//! property stage. Its ID is the case ID for stages with one case per unit, and a prefix of
//! the case IDs for the others (`scenario/NAME`), so a unit's cases stay together. The hash is
//! FNV-1a (64 bits) of the unit ID, which depends on nothing but the ID: the same case lands
//! in the same shard on every machine, in every Concord build.

use std::collections::{BTreeMap, BTreeSet};

use crate::expect::StaleExpectation;
use crate::model::{CaseResult, Report, RunInfo, Verdict};

/// The most shards a run can be split into.
pub const MAX_SHARDS: u32 = 10_000;

/// Shard `index` of `count` (both from 1, as CI matrices number jobs): `--shard K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether the unit named `unit` belongs to this shard.
    pub fn contains(&self, unit: &str) -> bool {
        self.count <= 1 || stable_hash(unit) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N ≤ [`MAX_SHARDS`].
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected K/N, two whole numbers with 1 <= K <= N (e.g. 2/3)";
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}`: {expected}"))?;
        let parse = |part: &str| part.trim().parse::<u32>().ok();
        let (Some(index), Some(count)) = (parse(k), parse(n)) else {
            return Err(format!("`{text}`: {expected}"));
        };
        if index == 0 || count == 0 || index > count {
            return Err(format!("`{text}`: {expected}"));
        }
        if count > MAX_SHARDS {
            return Err(format!("`{text}`: at most {MAX_SHARDS} shards"));
        }
        Ok(Shard { index, count })
    }
}

/// FNV-1a, 64 bits: stable across platforms, builds and Rust versions (the standard
/// library's hasher is not).
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The command's words without the options that differ between the shards of one run
/// (`--shard K/N`, `--out DIR`, `--attest KEY`), for comparing shards and for the merged
/// report's command.
pub fn shared_words(words: &[String]) -> Vec<String> {
    without_options(words, &["--shard", "--out", "--attest"])
}

/// `words` without each of `options` and its value (`--out DIR` or `--out=DIR`).
pub fn without_options(words: &[String], options: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_value = false;
    for word in words {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let name = word.split_once('=').map_or(word.as_str(), |(name, _)| name);
        if options.contains(&name) {
            // `--out DIR`: the value is the next word; `--out=DIR`: it is in this one.
            skip_value = !word.contains('=');
            continue;
        }
        out.push(word.clone());
    }
    out
}

/// Why shards cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError(pub String);

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MergeError {}

/// Merges the reports of the N shards of one run (each named by the file it came from, for
/// the errors) into the report of the whole run. Refuses shards of different runs (Concord
/// version, seed, profile, clients, command, expectations and claims files), a shard given
/// twice or missing, a report that is not a shard, and a case in two shards.
///
/// The merged report holds every shard's results (in shard order, grouped by source in the
/// order the stages first appear), the union of their notes and input errors, the
/// expectation entries stale in every shard, and the longest shard's duration (the shards
/// run side by side). Claims are left to the caller, which can read the claims file again.
pub fn merge(shards: &[(String, Report)]) -> Result<Report, MergeError> {
    let Some((first_file, first)) = shards.first() else {
        return Err(MergeError("no report to merge".into()));
    };
    let shard_of = |file: &str, report: &Report| -> Result<Shard, MergeError> {
        let text = report.run.shard.as_deref().ok_or_else(|| {
            MergeError(format!(
                "{file}: not a shard (its run has no `shard`; it was not made with --shard K/N)"
            ))
        })?;
        text.parse::<Shard>()
            .map_err(|e| MergeError(format!("{file}: field `run.shard`: {e}")))
    };
    let count = shard_of(first_file, first)?.count;
    let reference_words = shared_words(&first.run.argv);
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (file, report) in shards {
        let shard = shard_of(file, report)?;
        let differs = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            MergeError(format!(
                "{file} is a shard of another run: {what} {b:?}, while {first_file} has {a:?}"
            ))
        };
        if shard.count != count {
            return Err(differs("shard count", &count, &shard.count));
        }
        if report.concord_version != first.concord_version {
            return Err(differs(
                "Concord version",
                &first.concord_version,
                &report.concord_version,
            ));
        }
        let (a, b) = (&first.run, &report.run);
        if a.seed != b.seed {
            return Err(differs("seed", &a.seed, &b.seed));
        }
        if a.profile != b.profile {
            return Err(differs("profile", &a.profile, &b.profile));
        }
        if a.clients != b.clients {
            return Err(differs("clients", &a.clients, &b.clients));
        }
        if a.expectations_file != b.expectations_file {
            return Err(differs(
                "expectations file",
                &a.expectations_file,
                &b.expectations_file,
            ));
        }
        if a.claims_file != b.claims_file {
            return Err(differs("claims file", &a.claims_file, &b.claims_file));
        }
        let words = shared_words(&b.argv);
        if words != reference_words {
            return Err(differs(
                "command",
                &reference_words.join(" "),
                &words.join(" "),
            ));
        }
        if let Some(other) = seen.insert(shard.index, file) {
            return Err(MergeError(format!(
                "shard {shard} is given twice: {other} and {file}"
            )));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError(format!(
            "shard(s) {} missing: the merge of {} of {count} shards would not be the whole run",
            missing.join(", "),
            seen.len()
        )));
    }

    // Shard order, so the merge of the same shards is the same file.
    let mut ordered: Vec<&(String, Report)> = shards.iter().collect();
    ordered.sort_by_key(|(file, report)| shard_of(file, report).map_or(0, |s| s.index));
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    let mut sources: Vec<&str> = Vec::new();
    for (file, report) in &ordered {
        for result in &report.results {
            // A result drawn from the whole run is filed by every shard that saw it.
            if let Some(other) = owner.insert(&result.id, file)
                && !result.per_run
            {
                return Err(MergeError(format!(
                    "case {} is in two shards ({other} and {file}): they were not cut by one partition",
                    result.id
                )));
            }
            if !sources.contains(&result.source.as_str()) {
                sources.push(&result.source);
            }
        }
    }
    let mut results: Vec<CaseResult> = Vec::new();
    let mut per_run: BTreeMap<String, usize> = BTreeMap::new();
    for source in &sources {
        for (_, report) in &ordered {
            for result in report.results.iter().filter(|r| r.source == *source) {
                if !result.per_run {
                    results.push(result.clone());
                    continue;
                }
                // One copy of a per-run result: the first shard's, or a failing one.
                match per_run.get(&result.id) {
                    Some(&at) => {
                        if result.verdict.is_unexpected() && !results[at].verdict.is_unexpected() {
                            results[at] = result.clone();
                        }
                    }
                    None => {
                        per_run.insert(result.id.clone(), results.len());
                        results.push(result.clone());
                    }
                }
            }
        }
    }
    let union = |pick: &dyn Fn(&RunInfo) -> &Vec<String>| {
        let mut out: Vec<String> = Vec::new();
        for (_, report) in &ordered {
            for item in pick(&report.run) {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
        }
        out
    };
    // The shards' common command: without --shard and --out it reruns the whole run.
    let words = reference_words;
    let run = RunInfo {
        command: words.join(" "),
        argv: words,
        profile: first.run.profile.clone(),
        seed: first.run.seed,
        clients: first.run.clients.clone(),
        duration_seconds: ordered
            .iter()
            .filter_map(|(_, r)| r.run.duration_seconds)
            .reduce(f64::max),
        expectations_file: first.run.expectations_file.clone(),
        claims_file: first.run.claims_file.clone(),
        input_errors: union(&|run| &run.input_errors),
        notes: union(&|run| &run.notes),
        shard: None,
        merged_shards: (1..=count).map(|k| format!("{k}/{count}")).collect(),
    };
    let mut report = Report::new(first.concord_version.clone(), run, results);
    report.stale_expectations = stale_in_every_shard(&ordered);
    Ok(report)
}

/// The expectation entries stale in every shard: an entry that matched a case anywhere is
/// not "matching nothing", and an unsupported entry is stale only if every shard found its
/// cases passing (or had none).
fn stale_in_every_shard(shards: &[&(String, Report)]) -> Vec<StaleExpectation> {
    let key = |s: &StaleExpectation| (s.file.clone(), s.line);
    let mut stale: BTreeMap<(String, usize), StaleExpectation> = BTreeMap::new();
    let mut everywhere: Option<BTreeSet<(String, usize)>> = None;
    for (_, report) in shards {
        let here: BTreeSet<(String, usize)> = report.stale_expectations.iter().map(key).collect();
        for entry in &report.stale_expectations {
            let kept = stale.entry(key(entry)).or_insert_with(|| entry.clone());
            // "All matching cases pass" says more than "matches no case of this shard".
            if !entry.why.starts_with("matches no case") {
                *kept = entry.clone();
            }
        }
        everywhere = Some(match everywhere {
            None => here,
            Some(before) => before.intersection(&here).cloned().collect(),
        });
    }
    let everywhere = everywhere.unwrap_or_default();
    stale
        .into_iter()
        .filter(|(k, _)| everywhere.contains(k))
        .map(|(_, mut entry)| {
            if entry.why.starts_with("matches no case") {
                entry.why = "matches no case of this run".into();
            }
            entry
        })
        .collect()
}

/// A case whose verdict or duration changed between two reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: String,
    pub old: Option<Verdict>,
    pub new: Option<Verdict>,
    /// The new run's detail (why it failed), or the old one's for a vanished case.
    pub detail: Option<String>,
    pub old_seconds: Option<f64>,
    pub new_seconds: Option<f64>,
}

/// What changed from one report to another, case by case (by case ID).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diff {
    /// Cases that did not fail before (or did not exist) and fail now (fail or
    /// unexpected-pass): what a CI gate stops on.
    pub new_failures: Vec<Change>,
    /// Cases that failed before and do not now.
    pub fixes: Vec<Change>,
    /// Other verdict changes (e.g. pass → skipped, unsupported → pass).
    pub changed: Vec<Change>,
    /// Cases only in the new report (those that fail are also new failures).
    pub added: Vec<Change>,
    /// Cases only in the old report.
    pub vanished: Vec<Change>,
    /// Cases whose duration changed by more than the factor, both ways.
    pub slower: Vec<Change>,
    pub faster: Vec<Change>,
    /// The factor and floor the durations were compared with.
    pub factor: f64,
    pub floor_seconds: f64,
}

/// Durations under this many seconds in both runs are noise, never a change.
pub const DURATION_FLOOR_SECONDS: f64 = 0.05;

/// Compares `old` and `new` case by case; a duration counts as changed when one run took
/// more than `factor` times the other and at least one took [`DURATION_FLOOR_SECONDS`].
pub fn diff(old: &Report, new: &Report, factor: f64) -> Diff {
    let index = |report: &Report| -> BTreeMap<String, CaseResult> {
        report
            .results
            .iter()
            .map(|r| (r.id.clone(), r.clone()))
            .collect()
    };
    let (before, after) = (index(old), index(new));
    let mut out = Diff {
        factor,
        floor_seconds: DURATION_FLOOR_SECONDS,
        ..Diff::default()
    };
    for (id, now) in &after {
        let was = before.get(id);
        let change = Change {
            id: id.clone(),
            old: was.map(|r| r.verdict),
            new: Some(now.verdict),
            detail: now.detail.clone(),
            old_seconds: was.and_then(|r| r.duration_seconds),
            new_seconds: now.duration_seconds,
        };
        let failed_before = was.is_some_and(|r| r.verdict.is_unexpected());
        if now.verdict.is_unexpected() && !failed_before {
            out.new_failures.push(change.clone());
        } else if failed_before && !now.verdict.is_unexpected() {
            out.fixes.push(change.clone());
        } else if was.is_some_and(|r| r.verdict != now.verdict) {
            out.changed.push(change.clone());
        }
        if was.is_none() {
            out.added.push(change.clone());
        }
        if let (Some(a), Some(b)) = (change.old_seconds, change.new_seconds)
            && a.max(b) >= DURATION_FLOOR_SECONDS
        {
            if b > a * factor {
                out.slower.push(change);
            } else if a > b * factor {
                out.faster.push(change);
            }
        }
    }
    for (id, was) in &before {
        if !after.contains_key(id) {
            out.vanished.push(Change {
                id: id.clone(),
                old: Some(was.verdict),
                new: None,
                detail: was.detail.clone(),
                old_seconds: was.duration_seconds,
                new_seconds: None,
            });
        }
    }
    out
}

impl Diff {
    /// No verdict changed and no case came or went (durations aside).
    pub fn verdicts_unchanged(&self) -> bool {
        self.new_failures.is_empty()
            && self.fixes.is_empty()
            && self.changed.is_empty()
            && self.added.is_empty()
            && self.vanished.is_empty()
    }

    /// `concord report --diff`'s exit code: 1 on any new failure, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.new_failures.is_empty())
    }

    /// Markdown for a pull request comment: a summary line, then one table per kind of
    /// change that has any.
    pub fn to_markdown(&self, old_name: &str, new_name: &str) -> String {
        let mut md = format!("# Concord: {new_name} against {old_name}\n\n");
        md.push_str(&format!(
            "{} new failure(s), {} fix(es), {} other verdict change(s), {} new case(s), {} vanished case(s), {} slower and {} faster by more than {}x\n",
            self.new_failures.len(),
            self.fixes.len(),
            self.changed.len(),
            self.added.len(),
            self.vanished.len(),
            self.slower.len(),
            self.faster.len(),
            self.factor
        ));
        if self.verdicts_unchanged() {
            md.push_str("\nNo verdict changed.\n");
        }
        let verdict = |v: Option<Verdict>| v.map_or("-".to_string(), |v| format!("`{v}`"));
        let cell = |text: &str| {
            let line = crate::render::first_line(text);
            let short: String = line.chars().take(160).collect();
            short.replace('|', "\\|")
        };
        let mut table = |title: &str, rows: &[Change], with_time: bool| {
            if rows.is_empty() {
                return;
            }
            md.push_str(&format!("\n## {title} ({})\n\n", rows.len()));
            if with_time {
                md.push_str("| case | before (s) | now (s) | ratio |\n|---|---|---|---|\n");
                for c in rows {
                    let (a, b) = (c.old_seconds.unwrap_or(0.0), c.new_seconds.unwrap_or(0.0));
                    let ratio = if a > 0.0 { b / a } else { f64::INFINITY };
                    md.push_str(&format!("| `{}` | {a:.3} | {b:.3} | {ratio:.2}x |\n", c.id));
                }
            } else {
                md.push_str("| case | before | now | detail |\n|---|---|---|---|\n");
                for c in rows {
                    md.push_str(&format!(
                        "| `{}` | {} | {} | {} |\n",
                        c.id,
                        verdict(c.old),
                        verdict(c.new),
                        c.detail.as_deref().map(cell).unwrap_or_default()
                    ));
                }
            }
        };
        table("New failures", &self.new_failures, false);
        table("Fixed", &self.fixes, false);
        table("Other verdict changes", &self.changed, false);
        table("New cases", &self.added, false);
        table("Vanished cases", &self.vanished, false);
        table("Slower", &self.slower, true);
        table("Faster", &self.faster, true);
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard_report(shard: &str, ids: &[(&str, Verdict)]) -> Report {
        let run = RunInfo {
            command: format!("concord run --seed 7 --shard {shard} --out s"),
            argv: [
                "concord", "run", "--seed", "7", "--shard", shard, "--out", "s",
            ]
            .map(String::from)
            .to_vec(),
            profile: "quick".into(),
            seed: 7,
            clients: vec!["reference".into()],
            shard: Some(shard.into()),
            ..RunInfo::default()
        };
        let results = ids
            .iter()
            .map(|(id, v)| CaseResult::new(id.split('/').next().unwrap_or("x"), *id, *v))
            .collect();
        Report::new("0.1.0", run, results)
    }

    #[test]
    fn shard_specs_parse_and_refuse_nonsense() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "", "1/20000"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn the_words_shards_share_leave_out_shard_out_and_attest_in_both_spellings() {
        let words = [
            "concord",
            "run",
            "--shard=2/3",
            "--out",
            "a",
            "--seed",
            "7",
            "--attest=k",
            "--out=b",
            "--client",
            "openmls",
        ]
        .map(String::from);
        assert_eq!(
            shared_words(&words),
            ["concord", "run", "--seed", "7", "--client", "openmls"]
        );
    }

    #[test]
    fn every_unit_is_in_exactly_one_shard() {
        for count in [1u32, 2, 3, 7] {
            for n in 0..500 {
                let unit = format!("interop/commit/add/{n}/private/0");
                let owners = (1..=count)
                    .filter(|&index| Shard { index, count }.contains(&unit))
                    .count();
                assert_eq!(owners, 1, "{unit} in {owners} of {count} shards");
            }
        }
        // Not all in one shard: the hash spreads.
        let first = (0..300)
            .filter(|n| Shard { index: 1, count: 3 }.contains(&format!("case/{n}")))
            .count();
        assert!(
            (60..140).contains(&first),
            "shard 1 of 3 holds {first} of 300"
        );
    }

    #[test]
    fn the_hash_is_fnv1a_64() {
        // Known answers of FNV-1a 64 (the empty string is the offset basis).
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn shards_merge_into_one_run() {
        let one = shard_report(
            "1/2",
            &[("vectors/a", Verdict::Pass), ("interop/x", Verdict::Fail)],
        );
        let two = shard_report(
            "2/2",
            &[("vectors/b", Verdict::Pass), ("interop/y", Verdict::Pass)],
        );
        let merged = merge(&[("two".into(), two), ("one".into(), one)]).expect("merges");
        let ids: Vec<&str> = merged.results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["vectors/a", "vectors/b", "interop/x", "interop/y"]);
        assert_eq!(merged.run.shard, None);
        assert_eq!(merged.run.merged_shards, ["1/2", "2/2"]);
        assert_eq!(merged.run.command, "concord run --seed 7");
        assert_eq!(merged.exit_code(false), 1);
    }

    #[test]
    fn shards_of_different_runs_or_incomplete_sets_are_refused() {
        let one = shard_report("1/2", &[("a/1", Verdict::Pass)]);
        let mut other_seed = shard_report("2/2", &[("a/2", Verdict::Pass)]);
        other_seed.run.seed = 8;
        let error = merge(&[("one".into(), one.clone()), ("two".into(), other_seed)]);
        assert!(error.is_err_and(|e| e.0.contains("seed")));
        let error = merge(&[("one".into(), one.clone())]);
        assert!(error.is_err_and(|e| e.0.contains("2/2 missing")));
        let error = merge(&[("one".into(), one.clone()), ("again".into(), one.clone())]);
        assert!(error.is_err_and(|e| e.0.contains("twice")));
        let mut overlap = shard_report("2/2", &[("a/1", Verdict::Pass)]);
        overlap.run.seed = 7;
        let error = merge(&[("one".into(), one.clone()), ("two".into(), overlap)]);
        assert!(error.is_err_and(|e| e.0.contains("two shards")));
        let mut whole = one.clone();
        whole.run.shard = None;
        assert!(merge(&[("whole".into(), whole)]).is_err_and(|e| e.0.contains("not a shard")));
        let mut other_client = shard_report("2/2", &[("a/2", Verdict::Pass)]);
        other_client.run.argv.push("--client".into());
        other_client.run.argv.push("openmls".into());
        let error = merge(&[("one".into(), one), ("two".into(), other_client)]);
        assert!(error.is_err_and(|e| e.0.contains("command")));
    }

    #[test]
    fn a_per_run_result_filed_by_several_shards_is_kept_once_failing_if_any_failed() {
        let mut one = shard_report(
            "1/2",
            &[
                ("interop/a", Verdict::Pass),
                ("interop/findings/client-1/x", Verdict::Pass),
            ],
        );
        let mut two = shard_report(
            "2/2",
            &[
                ("interop/b", Verdict::Pass),
                ("interop/findings/client-1/x", Verdict::Fail),
            ],
        );
        one.results[1].per_run = true;
        two.results[1].per_run = true;
        let merged =
            merge(&[("one".into(), one.clone()), ("two".into(), two.clone())]).expect("merges");
        let ids: Vec<(&str, Verdict)> = merged
            .results
            .iter()
            .map(|r| (r.id.as_str(), r.verdict))
            .collect();
        assert_eq!(
            ids,
            [
                ("interop/a", Verdict::Pass),
                ("interop/findings/client-1/x", Verdict::Fail),
                ("interop/b", Verdict::Pass)
            ]
        );
        // A case result in two shards is still refused.
        two.results[1].per_run = false;
        assert!(merge(&[("one".into(), one), ("two".into(), two)]).is_err());
    }

    #[test]
    fn an_entry_is_stale_after_the_merge_only_if_stale_in_every_shard() {
        let stale = |line: usize, why: &str| StaleExpectation {
            file: "expect.toml".into(),
            line,
            kind: crate::expect::ExpectationKind::KnownFailure,
            selector: "client=x".into(),
            reason: "r".into(),
            why: why.into(),
        };
        let mut one = shard_report("1/2", &[("a/1", Verdict::Pass)]);
        let mut two = shard_report("2/2", &[("a/2", Verdict::Pass)]);
        one.stale_expectations = vec![
            stale(3, "matches no case of this run"),
            stale(9, "matches no case of this run"),
        ];
        two.stale_expectations = vec![stale(9, "matches no case of this run")];
        let merged = merge(&[("one".into(), one), ("two".into(), two)]).expect("merges");
        let lines: Vec<usize> = merged.stale_expectations.iter().map(|s| s.line).collect();
        assert_eq!(lines, [9]);
    }

    #[test]
    fn a_diff_finds_new_failures_fixes_and_churn() {
        let old = shard_report(
            "1/1",
            &[
                ("a/1", Verdict::Pass),
                ("a/2", Verdict::Fail),
                ("a/3", Verdict::Pass),
            ],
        );
        let mut new = shard_report(
            "1/1",
            &[
                ("a/1", Verdict::Fail),
                ("a/2", Verdict::Pass),
                ("a/4", Verdict::Pass),
            ],
        );
        new.results[0].detail = Some("injected | broken".into());
        let d = diff(&old, &new, 2.0);
        assert_eq!(d.new_failures.len(), 1);
        assert_eq!(d.fixes.len(), 1);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.vanished.len(), 1);
        assert_eq!(d.exit_code(), 1);
        let md = d.to_markdown("old", "new");
        assert!(
            md.contains("| `a/1` | `pass` | `fail` | injected \\| broken |"),
            "{md}"
        );
        let same = diff(&old, &old, 2.0);
        assert!(same.verdicts_unchanged());
        assert_eq!(same.exit_code(), 0);
        assert!(
            same.to_markdown("old", "old")
                .contains("No verdict changed.")
        );
    }

    #[test]
    fn durations_change_only_beyond_the_factor_and_the_floor() {
        let mut old = shard_report(
            "1/1",
            &[
                ("a/1", Verdict::Pass),
                ("a/2", Verdict::Pass),
                ("a/3", Verdict::Pass),
            ],
        );
        let mut new = old.clone();
        for (r, s) in old.results.iter_mut().zip([1.0, 0.001, 1.0]) {
            r.duration_seconds = Some(s);
        }
        for (r, s) in new.results.iter_mut().zip([3.0, 0.04, 1.5]) {
            r.duration_seconds = Some(s);
        }
        let d = diff(&old, &new, 2.0);
        let slower: Vec<&str> = d.slower.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(slower, ["a/1"]);
        assert!(d.faster.is_empty());
        assert_eq!(d.exit_code(), 0);
    }
}
