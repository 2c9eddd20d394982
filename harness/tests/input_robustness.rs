//! Every parser of a user's input, fed arbitrary documents: each answers with a value or a
//! typed error, never a panic (and, since each call runs on the test's own thread, never a
//! hang past the test's timeout). The documents are real ones (the scenarios, the catalog,
//! an expectations file, claims, interop scripts, test vectors) with random edits: numbers
//! replaced by extreme ones, spans replaced by arbitrary text, lines dropped or doubled,
//! unknown fields added, the text cut short. Whatever parses is then used the way the
//! command uses it after reading (a scenario's durations and counts, the catalog's checks,
//! a vector's check), since a bound missed at the door shows up there.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const CASES_PER_PARSER: u32 = 400;

/// Numbers a careless or hostile input might hold.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "65536",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "340282366920938463463374607431768211456",
    "1e308",
    "-9223372036854775808",
    "0.5",
    "NaN",
];

/// Durations likewise (the scenario format writes them as text).
const EXTREME_DURATIONS: &[&str] = &[
    "\"0us\"",
    "\"18446744073709551615us\"",
    "\"18446744073709551615s\"",
    "\"99999999999999999999ms\"",
    "\"-5s\"",
    "\"1.5s\"",
    "\"s\"",
    "\"\"",
];

#[derive(Debug, Clone)]
enum Edit {
    /// Replace the n-th number of the text by an extreme one.
    Number(prop::sample::Index, usize),
    /// Replace the n-th quoted string by an extreme duration.
    Duration(prop::sample::Index, usize),
    /// Replace a span by arbitrary text.
    Splice(prop::sample::Index, usize, String),
    /// Drop a line.
    DropLine(prop::sample::Index),
    /// Double a line.
    DoubleLine(prop::sample::Index),
    /// Cut the text short.
    Truncate(prop::sample::Index),
    /// An unknown field at the start of a line.
    UnknownField(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<prop::sample::Index>(), 0..EXTREMES.len()).prop_map(|(i, n)| Edit::Number(i, n)),
        2 => (any::<prop::sample::Index>(), 0..EXTREME_DURATIONS.len())
            .prop_map(|(i, n)| Edit::Duration(i, n)),
        2 => (any::<prop::sample::Index>(), 0usize..16, ".{0,12}")
            .prop_map(|(i, n, s)| Edit::Splice(i, n, s)),
        1 => any::<prop::sample::Index>().prop_map(Edit::DropLine),
        1 => any::<prop::sample::Index>().prop_map(Edit::DoubleLine),
        1 => any::<prop::sample::Index>().prop_map(Edit::Truncate),
        1 => any::<prop::sample::Index>().prop_map(Edit::UnknownField),
    ]
}

/// Byte offsets where each maximal run of `accept` starts and ends.
fn runs(text: &str, accept: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (accept(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// The nearest char boundary at or before `i`.
fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, edit: &Edit) -> String {
    let replace = |spans: Vec<(usize, usize)>, index: &prop::sample::Index, with: &str| {
        if spans.is_empty() {
            return text.to_string();
        }
        let (s, e) = spans[index.index(spans.len())];
        format!("{}{with}{}", &text[..s], &text[e..])
    };
    let lines: Vec<&str> = text.lines().collect();
    match edit {
        Edit::Number(i, n) => replace(runs(text, |c| c.is_ascii_digit()), i, EXTREMES[*n]),
        Edit::Duration(i, n) => {
            // A quoted string: from a quote to the next.
            let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
            let spans = quotes
                .chunks(2)
                .filter_map(|pair| match pair {
                    [a, b] => Some((*a, *b + 1)),
                    _ => None,
                })
                .collect();
            replace(spans, i, EXTREME_DURATIONS[*n])
        }
        Edit::Splice(i, len, with) => {
            if text.is_empty() {
                return with.clone();
            }
            let s = floor(text, i.index(text.len()));
            let e = floor(text, s + len);
            format!("{}{with}{}", &text[..s], &text[e..])
        }
        Edit::DropLine(i) | Edit::DoubleLine(i) | Edit::UnknownField(i) if !lines.is_empty() => {
            let at = i.index(lines.len());
            let mut out = Vec::new();
            for (n, line) in lines.iter().enumerate() {
                if n == at {
                    match edit {
                        Edit::DropLine(_) => continue,
                        Edit::DoubleLine(_) => out.push(line.to_string()),
                        _ => out.push("zz_unknown = 1".to_string()),
                    }
                }
                out.push(line.to_string());
            }
            out.join("\n")
        }
        Edit::Truncate(i) => text[..floor(text, i.index(text.len() + 1))].to_string(),
        _ => text.to_string(),
    }
}

/// Runs `body` on `CASES_PER_PARSER` (or `cases`) edited versions of the seeds; a panic fails the test
/// with the document that caused it.
fn never_panics(name: &str, seeds: &[(String, String)], body: impl Fn(&str, &str)) {
    never_panics_n(name, CASES_PER_PARSER, seeds, body);
}

fn never_panics_n(name: &str, cases: u32, seeds: &[(String, String)], body: impl Fn(&str, &str)) {
    assert!(!seeds.is_empty(), "{name}: no seed documents");
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = (0..seeds.len(), proptest::collection::vec(edit(), 1..=3));
    let result = runner.run(&strategy, |(seed, edits)| {
        let (file, text) = &seeds[seed];
        let mut doc = text.clone();
        for e in &edits {
            doc = apply(&doc, e);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| body(file, &doc)));
        prop_assert!(
            outcome.is_ok(),
            "{name}: a panic on an edit of {file} ({edits:?}):\n{doc}"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn read_dir(dir: &Path, extension: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == extension).then(|| {
                let text = std::fs::read_to_string(&path).unwrap();
                (path.display().to_string(), text)
            })
        })
        .collect();
    out.sort();
    out
}

fn reference(
    _: &str,
    seed: u64,
) -> Result<Box<dyn concord_harness::client::ClientUnderTest>, String> {
    Ok(Box::new(
        concord_harness::client::reference::ReferenceClient::new(seed),
    ))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

static RAN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn seeds_by_name(file: &str) -> String {
    std::fs::read_to_string(file).unwrap_or_default()
}

#[test]
fn scenario_files() {
    let seeds = read_dir(&root().join("scenarios"), "toml");
    never_panics_n("scenario", 2_000, &seeds, |file, text| {
        let Ok(scenario) = concord_harness::sim::scenario::parse(Path::new(file), text) else {
            return;
        };
        // Accepted: it runs to a verdict, unless an edit raised a number above the largest
        // of the original (a count of 100,000 sends is within the limits, and runs long;
        // the limits have their own tests).
        let largest = |t: &str| {
            runs(t, |c| c.is_ascii_digit())
                .iter()
                .map(|&(s, e)| t[s..e].parse::<u64>().unwrap_or(u64::MAX))
                .max()
                .unwrap_or(0)
        };
        let original = &seeds_by_name(file);
        // scale.toml runs for minutes as it is: parsed only.
        if !file.ends_with("scale.toml") && largest(text) <= largest(original) {
            RAN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if std::env::var_os("CONCORD_ROBUSTNESS_TRACE").is_some() {
                eprintln!("=== running {file}:\n{text}\n===");
            }
            let mut sink = Vec::new();
            let _ = concord_harness::sim::run(
                &[scenario],
                &concord_harness::sim::Options::default(),
                &reference,
                None,
                &mut sink,
            );
        }
    });
    let ran = RAN.load(std::sync::atomic::Ordering::Relaxed);
    assert!(ran > 50, "only {ran} edited scenarios ran");
}

#[test]
fn interop_scripts() {
    let dir = std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/interop-configs"));
    let seeds = read_dir(&dir, "json");
    never_panics("interop script", &seeds, |file, text| {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
            && let Ok(config) = concord_harness::interop::config::parse(Path::new(file), &value)
        {
            let _ = config.warnings();
        }
    });
}

#[test]
fn expectations_and_claims() {
    let seeds = read_dir(&root().join("reports/expectations"), "toml");
    never_panics("expectations", &seeds, |file, text| {
        let _ = concord_reports::expect::Expectations::parse(text, file);
    });
    let claims = vec![(
        "claims.toml".to_string(),
        "subject = \"Example Messenger 4.2\"\nclient = \"reference\"\nciphersuites = [1, 3]\n\
         proposal_types = [\"add\", \"update\", \"remove\"]\nexternal_join = true\n\
         mimi_roles = [\"hub\", \"follower\"]\ndma_services = [\"1:1-text\", \"group-text\"]\n"
            .to_string(),
    )];
    never_panics("claims", &claims, |file, text| {
        let _ = concord_reports::claims::ClaimsSpec::parse(text, file);
    });
}

#[test]
fn catalog_files() {
    let catalog = root().join("spec/catalog");
    let mut seeds = read_dir(&catalog, "toml");
    seeds.extend(read_dir(&catalog.join("rfc9420"), "toml"));
    let relative: Vec<(String, String)> = seeds
        .into_iter()
        .map(|(path, text)| {
            let rel = Path::new(&path)
                .strip_prefix(&catalog)
                .map(|p| p.display().to_string())
                .unwrap_or(path);
            (rel, text)
        })
        .collect();
    never_panics("catalog", &relative, |file, text| {
        let _ = concord_spec::parse_file(file, text);
    });
}

#[test]
fn official_vector_files() {
    let dir = std::env::var_os("CONCORD_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/mls-vectors"));
    // The small families, cut to their first cases: each edited document is checked whole.
    let seeds: Vec<(String, String)> = ["tree-math", "deserialization", "psk_secret", "messages"]
        .iter()
        .filter_map(|family| {
            let text = std::fs::read_to_string(dir.join(format!("{family}.json"))).ok()?;
            let cases: Vec<serde_json::Value> = serde_json::from_str(&text).ok()?;
            let first: Vec<_> = cases.into_iter().take(2).collect();
            Some((
                family.to_string(),
                serde_json::to_string_pretty(&first).unwrap(),
            ))
        })
        .collect();
    never_panics("vectors", &seeds, |family, text| {
        let scratch = std::env::temp_dir().join(format!(
            "concord-robustness-{}-{family}.json",
            std::process::id()
        ));
        std::fs::write(&scratch, text).unwrap();
        let family = concord_harness::vectors::family(family).unwrap();
        let _ = concord_harness::vectors::verify_file(family, &scratch);
        let _ = concord_harness::input::take_unknown();
        let _ = std::fs::remove_file(&scratch);
    });
}
