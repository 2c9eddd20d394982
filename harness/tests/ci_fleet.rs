//! A plain copy of the repository, with nothing beside it, runs the whole suite on Concord's
//! own files; three shards of that run merge into the unsharded run, case for case; a report
//! diffed against itself is unchanged and against an injected failure exits 1; a replay of a
//! shard gives the same verdicts.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness is in the workspace")
        .to_path_buf()
}

/// The repository's files (tracked, and new ones not ignored) copied into `to`.
fn copy_repository(to: &Path) {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(workspace())
        .output()
        .expect("git runs (the test copies the repository's files)");
    assert!(listed.status.success(), "git ls-files failed");
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("file names are UTF-8");
        let from = workspace().join(name);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let dest = to.join(name);
        std::fs::create_dir_all(dest.parent().expect("a file has a folder")).expect("mkdir");
        std::fs::copy(&from, &dest).expect("copy");
    }
}

fn concord(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .current_dir(dir)
        .env_remove("CONCORD_VECTORS")
        .env_remove("CONCORD_INTEROP_CONFIGS")
        .env_remove("CONCORD_SPECS")
        .output()
        .expect("concord runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn verdicts(report: &Path) -> BTreeMap<String, String> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).expect("report.json"))
            .expect("report.json parses");
    json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_string(),
                r["verdict"].as_str().expect("verdict").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_lone_copy_runs_on_its_own_files_and_its_shards_merge_into_the_whole_run() {
    let root = std::env::temp_dir().join(format!("concord-ci-fleet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let repo = root.join("lone").join("concord");
    copy_repository(&repo);
    let out = |name: &str| root.join(name).display().to_string();

    // The whole run, from a folder with no working group files anywhere near.
    let full = concord(
        &repo,
        &["run", "--quiet", "--seed", "7", "--out", &out("full")],
    );
    let said = text(&full);
    assert_eq!(full.status.code(), Some(0), "{said}");
    for input in [
        "official vectors",
        "interop scripts",
        "MIMI content examples",
    ] {
        assert!(
            said.lines()
                .any(|l| l.starts_with(input) && l.contains("used Concord's own")),
            "no line says where the {input} came from:\n{said}"
        );
    }
    let whole = verdicts(&root.join("full/report.json"));
    for source in [
        "vectors/",
        "negative/",
        "interop/",
        "scenario/",
        "provider/",
        "content/",
    ] {
        assert!(
            whole.keys().any(|id| id.starts_with(source)),
            "no {source} case in the lone run"
        );
    }

    // Three shards, merged.
    let mut shard_sizes = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = concord(
            &repo,
            &[
                "run",
                "--quiet",
                "--seed",
                "7",
                "--shard",
                &shard,
                "--out",
                &out(&format!("s{k}")),
            ],
        );
        assert_eq!(run.status.code(), Some(0), "shard {shard}: {}", text(&run));
        shard_sizes.push(verdicts(&root.join(format!("s{k}/report.json"))).len());
    }
    assert!(
        shard_sizes.iter().all(|&n| n > 0 && n < whole.len()),
        "shards of {shard_sizes:?} cases for a run of {}",
        whole.len()
    );
    let merge = concord(
        &repo,
        &[
            "report",
            "--merge",
            &out("s1"),
            &out("s2"),
            &out("s3"),
            "--out",
            &out("merged"),
        ],
    );
    assert_eq!(merge.status.code(), Some(0), "{}", text(&merge));
    let merged = verdicts(&root.join("merged/report.json"));
    assert_eq!(
        merged, whole,
        "the merge of the shards is not the whole run"
    );
    // Two of three shards are not the whole run: refused.
    let partial = concord(
        &repo,
        &[
            "report",
            "--merge",
            &out("s1"),
            &out("s3"),
            "--out",
            &out("partial"),
        ],
    );
    assert_eq!(partial.status.code(), Some(2), "{}", text(&partial));
    assert!(text(&partial).contains("2/3 missing"), "{}", text(&partial));

    // Regressions: none against itself; one injected failure exits 1.
    let same = concord(&repo, &["report", "--diff", &out("full"), &out("full")]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(
        text(&same).contains("No verdict changed."),
        "{}",
        text(&same)
    );
    let mut json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("full/report.json")).expect("report"),
    )
    .expect("parses");
    let first = json["results"]
        .as_array_mut()
        .and_then(|r| r.iter_mut().find(|r| r["verdict"] == "pass"))
        .expect("a passing case");
    first["verdict"] = "fail".into();
    first["detail"] = "injected".into();
    let broken_id = first["id"].as_str().expect("id").to_string();
    let broken = root.join("broken.json");
    std::fs::write(&broken, json.to_string()).expect("write");
    let worse = concord(
        &repo,
        &[
            "report",
            "--diff",
            &out("full"),
            &broken.display().to_string(),
        ],
    );
    assert_eq!(worse.status.code(), Some(1), "{}", text(&worse));
    assert!(text(&worse).contains(&broken_id), "{}", text(&worse));

    // A replay of a shard gives the same verdicts.
    let replay = concord(&repo, &["replay", &out("s1"), "--out", &out("replay")]);
    assert_eq!(replay.status.code(), Some(0), "{}", text(&replay));
    assert!(
        text(&replay).contains("0 verdict(s) differ"),
        "{}",
        text(&replay)
    );
    let _ = std::fs::remove_dir_all(&root);
}
