#!/usr/bin/env python3
"""Merges the mutation-testing shards into summary.json, survivors.md and equivalent.md.

Usage: python3 reports/mutants/merge.py reports/mutants

Reads every shards/K-of-N/ folder (cargo-mutants' mutants.out/outcomes.json, and
unit-tests.tsv: the suite's survivors against the reference's unit tests) and
equivalent.toml (survivors judged equivalent, each with its reason). A mutant is one
cargo-mutants scenario that builds; unviable ones (they do not compile) are counted apart.
Exits 1 with the file and field when an input is malformed.
"""

import json
import os
import subprocess
import sys
import tomllib


def fail(message):
    print(f"merge: {message}", file=sys.stderr)
    sys.exit(1)


def load_equivalents(path):
    if not os.path.exists(path):
        return {}
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        fail(f"{path}: {error}")
    out = {}
    for index, entry in enumerate(data.get("mutant", [])):
        for field in ("name", "reason"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                fail(f"{path}: mutant #{index + 1}: field `{field}` missing or empty "
                     "(expected the cargo-mutants name and why no input can tell it apart)")
        out[entry["name"]] = entry["reason"].strip()
    return out


def shard_outcomes(folder):
    path = os.path.join(folder, "mutants.out", "outcomes.json")
    try:
        with open(path) as handle:
            whole = json.load(handle)
            outcomes = whole["outcomes"]
    except (OSError, ValueError, KeyError) as error:
        fail(f"{path}: cannot read the outcomes ({error.__class__.__name__}: {error})")
    unit = {}
    tsv = os.path.join(folder, "unit-tests.tsv")
    if os.path.exists(tsv):
        with open(tsv) as handle:
            for number, line in enumerate(handle, 1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 2 or parts[1] not in ("caught", "missed"):
                    fail(f"{tsv}:{number}: expected `LOG-NAME<TAB>caught|missed`")
                unit[parts[0]] = parts[1]
    commit_path = os.path.join(folder, "commit")
    commit = open(commit_path).read().strip() if os.path.exists(commit_path) else None
    # cargo-mutants writes end_time when the shard is through; without it the shard was
    # cut short and its figures cover only the mutants it reached.
    complete = bool(whole.get("end_time"))
    return outcomes, unit, commit, complete


def suite_time(base, commit):
    """The committer time of `commit` (0 when git does not know it)."""
    try:
        out = subprocess.run(["git", "-C", base, "log", "-1", "--format=%ct", commit],
                             capture_output=True, text=True, check=True).stdout.strip()
        return int(out or 0)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "reports/mutants"
    shards_dir = os.path.join(base, "shards")
    equivalents = load_equivalents(os.path.join(base, "equivalent.toml"))
    names = sorted(os.listdir(shards_dir)) if os.path.isdir(shards_dir) else []
    if not names:
        fail(f"no shards in {shards_dir}: run reports/mutants/run-shard K/N first")

    # Rechecks (run-shard --recheck): mutants run again against a later suite; their
    # outcome replaces the shard's for the same mutant.
    rechecks_dir = os.path.join(base, "rechecks")
    recheck_names = sorted(os.listdir(rechecks_dir)) if os.path.isdir(rechecks_dir) else []
    # Oldest suite first, so that a later recheck of the same mutant wins: a folder is
    # CODE-SUITE (short commits); order by the suite commit's time, then by name.
    recheck_names.sort(key=lambda name: (suite_time(base, name.rsplit("-", 1)[-1]), name))
    rechecked = {}
    for name in recheck_names:
        outcomes, _, _, _ = shard_outcomes(os.path.join(rechecks_dir, name))
        for outcome in outcomes:
            scenario = outcome.get("scenario")
            if isinstance(scenario, dict) and "Mutant" in scenario:
                rechecked[scenario["Mutant"]["name"]] = (name, outcome)
    counts = dict(mutants=0, unviable=0, killed_by_suite=0, killed_by_unit_tests_only=0,
                  survived=0, equivalent=0, timeout=0)
    survivors, equivalent_list, commits, seen = [], [], set(), set()
    shard_sets = set()
    partial = []
    for name in names:
        folder = os.path.join(shards_dir, name)
        try:
            k, n = name.split("-of-")
            shard_sets.add(int(n))
        except ValueError:
            fail(f"{folder}: a shard folder is named K-of-N")
        outcomes, unit, commit, complete = shard_outcomes(folder)
        if not complete:
            partial.append(name)
        if commit:
            commits.add(commit)
        for outcome in outcomes:
            scenario = outcome.get("scenario")
            if not isinstance(scenario, dict) or "Mutant" not in scenario:
                continue  # the baseline
            mutant = scenario["Mutant"]
            key = mutant["name"]
            if key in seen:
                continue  # the same shard run twice
            seen.add(key)
            recheck = None
            if key in rechecked:
                recheck, outcome = rechecked[key]
            summary = outcome.get("summary")
            if summary == "Unviable":
                counts["unviable"] += 1
                continue
            counts["mutants"] += 1
            function = (mutant.get("function") or {}).get("function_name")
            entry = {
                "file": mutant["file"],
                "line": mutant["span"]["start"]["line"],
                "mutation": key.split(": ", 1)[1] if ": " in key else key,
                "function": function,
                "name": key,
            }
            if recheck:
                entry["rechecked"] = recheck
            if summary == "CaughtMutant":
                counts["killed_by_suite"] += 1
            elif summary == "Timeout":
                counts["timeout"] += 1
            elif summary == "MissedMutant":
                log = os.path.basename(outcome.get("log_path", "")).removesuffix(".log")
                if key in equivalents:
                    counts["equivalent"] += 1
                    equivalent_list.append({**entry, "reason": equivalents[key]})
                elif unit.get(log) == "caught":
                    counts["killed_by_unit_tests_only"] += 1
                    survivors.append({**entry, "unit_tests": "caught"})
                else:
                    counts["survived"] += 1
                    survivors.append({**entry, "unit_tests": unit.get(log, "not run")})
            else:
                fail(f"{folder}: mutant {key}: unexpected outcome {summary!r}")

    live = counts["mutants"] - counts["equivalent"]
    score = round(100.0 * counts["killed_by_suite"] / live, 1) if live else 0.0
    stale = sorted(set(equivalents) - {e["name"] for e in equivalent_list})
    summary = {
        **counts,
        "score_percent": score,
        "score_formula": "killed_by_suite / (mutants - equivalent)",
        "shards": names,
        "partial_shards": partial,
        "rechecks": recheck_names,
        "shard_counts": sorted(shard_sets),
        "commits": sorted(commits),
        "scope": ".cargo/mutants.toml",
        "oracle": "clients/reference/tests/suite_oracle.rs (a prebuilt concord: adversary and "
                  "interop against the mutated reference over gRPC)",
        "survivors": survivors,
        "equivalents": equivalent_list,
        "equivalent_entries_not_found": stale,
    }
    with open(os.path.join(base, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
        handle.write("\n")

    def table(rows, last):
        lines = ["| file | line | mutation | " + last + " |", "|---|---|---|---|"]
        for row in sorted(rows, key=lambda r: (r["file"], r["line"], r["mutation"])):
            lines.append(f"| {row['file']} | {row['line']} | `{row['mutation']}` | "
                         f"{row.get('reason') or row.get('unit_tests')} |")
        return "\n".join(lines) + "\n"

    with open(os.path.join(base, "survivors.md"), "w") as handle:
        handle.write("# Mutants the suite did not kill\n\nWritten by `reports/mutants/merge.py`; "
                     "the last column says whether the reference's unit tests kill it.\n\n")
        handle.write(table(survivors, "unit tests"))
    with open(os.path.join(base, "equivalent.md"), "w") as handle:
        handle.write("# Mutants judged equivalent\n\nFrom `reports/mutants/equivalent.toml`, "
                     "written by `reports/mutants/merge.py`.\n\n")
        handle.write(table(equivalent_list, "why no input tells it apart"))
    print(f"mutants: {counts['mutants']} ({counts['unviable']} unviable apart), "
          f"{counts['killed_by_suite']} killed by the suite, "
          f"{counts['killed_by_unit_tests_only']} by the unit tests only, "
          f"{counts['survived']} survived, {counts['equivalent']} equivalent, "
          f"{counts['timeout']} timed out: score {score}% over {len(names)} shard(s)"
          + (f" ({', '.join(partial)} cut short)" if partial else ""))
    if stale:
        print(f"merge: equivalent.toml names mutants not missed in these shards: {stale}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
