//! Reports read back and compared: `concord report --merge` (the shards of one run into one
//! report), `concord report --diff` (regressions between two runs) and `concord replay`
//! (the same run again, and which verdicts differ).

use std::path::{Path, PathBuf};

use concord_reports::Report;
use concord_reports::shard::{self, Diff};

use crate::exit;
use crate::run::ReportArgs;

/// A report.json, or the folder holding one; errors name the file.
pub fn load_report(path: &Path) -> Result<(Report, PathBuf), String> {
    let file = if path.is_dir() {
        path.join("report.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let report =
        Report::from_json(&text, &file.display().to_string()).map_err(|e| e.to_string())?;
    Ok((report, file))
}

/// `concord report --merge DIR... --out DIR`.
pub fn merge_main(args: &ReportArgs) -> u8 {
    let Some(out) = &args.out else {
        eprintln!("concord report --merge: give --out DIR, the folder of the merged report");
        return exit::BAD_INPUT;
    };
    let mut shards = Vec::new();
    for path in &args.merge {
        match load_report(path) {
            Ok((report, file)) => shards.push((file.display().to_string(), report)),
            Err(e) => {
                eprintln!("concord report --merge: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    let mut merged = match shard::merge(&shards) {
        Ok(merged) => merged,
        Err(e) => {
            eprintln!("concord report --merge: {e}");
            return exit::BAD_INPUT;
        }
    };
    println!(
        "concord report --merge: {} shards, {} cases",
        shards.len(),
        merged.results.len()
    );
    // The shards applied the expectations already; the claims are weighed again over the
    // whole run, when the claims file is still where the shards read it.
    let claims = merged.run.claims_file.clone().map(PathBuf::from);
    let claims = match claims {
        Some(path) if path.is_file() => Some(path),
        Some(path) => {
            merged.run.notes.push(format!(
                "claims: {} not found at merge time: not weighed over the merged run",
                path.display()
            ));
            None
        }
        None => None,
    };
    let bench = args.bench.clone();
    let inputs = match crate::run::read_inputs(None, claims.as_deref(), bench.as_deref()) {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("concord report --merge: {e}");
            return exit::BAD_INPUT;
        }
    };
    crate::run::finish(
        &mut merged,
        &inputs,
        out,
        args.strict_expect,
        "concord report --merge",
    )
}

/// `concord report --diff OLD NEW [--factor F] [--out DIR]`.
pub fn diff_main(args: &ReportArgs) -> u8 {
    let [old_path, new_path] = args.diff.as_slice() else {
        eprintln!("concord report --diff: give two reports, OLD NEW");
        return exit::BAD_INPUT;
    };
    if !(args.factor.is_finite() && args.factor >= 1.0) {
        eprintln!(
            "concord report --diff: --factor {}: expected a number of at least 1",
            args.factor
        );
        return exit::BAD_INPUT;
    }
    let (old, new) = match (load_report(old_path), load_report(new_path)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("concord report --diff: {e}");
            return exit::BAD_INPUT;
        }
    };
    let diff = shard::diff(&old.0, &new.0, args.factor);
    let markdown = diff.to_markdown(&old.1.display().to_string(), &new.1.display().to_string());
    print!("{markdown}");
    if let Some(out) = &args.out {
        let file = out.join("diff.md");
        if let Err(e) = std::fs::create_dir_all(out).and_then(|()| std::fs::write(&file, &markdown))
        {
            eprintln!(
                "concord report --diff: cannot write {}: {e}",
                file.display()
            );
            return exit::BAD_INPUT;
        }
    }
    println!("{}", closing_line(&diff));
    diff.exit_code()
}

fn closing_line(diff: &Diff) -> String {
    format!(
        "diff: {} new failure(s), {} fix(es), {} other change(s), {} new, {} vanished",
        diff.new_failures.len(),
        diff.fixes.len(),
        diff.changed.len(),
        diff.added.len(),
        diff.vanished.len()
    )
}

/// Arguments of `concord replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The report.json of the run to make again (or its folder).
    pub report: PathBuf,
    /// Where the new run's reports go (default: a `replay` folder beside the report).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The words of the command that makes the run again (the program's name left out): the
/// original's, a shard's `--shard` kept, with `--out` set to `out` and without `--attest` (a
/// replay is not signed with the original's key).
pub fn replay_words(original: &[String], out: &Path) -> Vec<String> {
    let mut words = shard::without_options(
        original.get(1..).unwrap_or_default(),
        &["--out", "--attest"],
    );
    words.push("--out".into());
    words.push(out.display().to_string());
    words
}

/// `concord replay report.json`: runs the report's command again (same seed, same clients,
/// same cases, from the current folder), then compares the verdicts case by case. Exit 0
/// when every verdict is the same, 1 when one differs, 2 on bad input, and the new run's
/// 3 when a client under test broke.
pub fn replay_main(args: ReplayArgs) -> u8 {
    let (report, file) = match load_report(&args.report) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("concord replay: {e}");
            return exit::BAD_INPUT;
        }
    };
    if report.run.argv.len() < 2 {
        eprintln!(
            "concord replay: {}: field `run.argv` is missing: the run was made by a Concord that did not record its command's words (its command was: {})",
            file.display(),
            report.run.command
        );
        return exit::BAD_INPUT;
    }
    if !report.run.merged_shards.is_empty() {
        eprintln!(
            "concord replay: {}: a merge of {} shards; replay each shard's report",
            file.display(),
            report.run.merged_shards.len()
        );
        return exit::BAD_INPUT;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).join("replay"));
    let words = replay_words(&report.run.argv, &out);
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(e) => {
            eprintln!("concord replay: cannot find the concord executable: {e}");
            return exit::BAD_INPUT;
        }
    };
    println!("concord replay: concord {}", words.join(" "));
    if report.concord_version != env!("CARGO_PKG_VERSION") {
        println!(
            "concord replay: the run was made by Concord {}, this is {}: verdicts may differ for that reason",
            report.concord_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    let status = match std::process::Command::new(&program).args(&words).status() {
        Ok(status) => status,
        Err(e) => {
            eprintln!("concord replay: cannot run {}: {e}", program.display());
            return exit::BAD_INPUT;
        }
    };
    let again = match load_report(&out) {
        Ok((again, _)) => again,
        Err(e) => {
            eprintln!("concord replay: the new run ({status}) wrote no report: {e}");
            return exit::BAD_INPUT;
        }
    };
    let diff = shard::diff(&report, &again, f64::INFINITY);
    let changes: Vec<&shard::Change> = diff
        .new_failures
        .iter()
        .chain(&diff.fixes)
        .chain(&diff.changed)
        .chain(diff.added.iter().filter(|c| !diff.new_failures.contains(c)))
        .chain(&diff.vanished)
        .collect();
    for change in &changes {
        let verdict =
            |v: Option<concord_reports::Verdict>| v.map_or("absent".to_string(), |v| v.to_string());
        println!(
            "differs: {}: {} then {}",
            change.id,
            verdict(change.old),
            verdict(change.new)
        );
    }
    println!(
        "replay: {} cases, {} verdict(s) differ (new run in {})",
        report.results.len(),
        changes.len(),
        out.display()
    );
    if status.code() == Some(i32::from(exit::SYSTEM_UNDER_TEST)) && changes.is_empty() {
        return exit::SYSTEM_UNDER_TEST;
    }
    u8::from(!changes.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_runs_the_same_words_into_its_own_folder_unsigned() {
        let words: Vec<String> = [
            "concord", "run", "--seed", "7", "--out", "a", "--attest", "k.key", "--shard", "2/3",
            "--client", "openmls",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            replay_words(&words, Path::new("a/replay")),
            [
                "run", "--seed", "7", "--shard", "2/3", "--client", "openmls", "--out", "a/replay"
            ]
        );
    }
}
