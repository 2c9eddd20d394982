//! Which cases a run makes, and how each is named, printed and rerun.
//!
//! A case is one script × one assignment of clients to its actors × one cipher suite × one
//! handshake mode. The suites of an assignment are those every assigned client reports in
//! SupportedCiphersuites (a client whose setup failed constrains nothing: its cases carry
//! the setup verdict), filtered by `--suite`.

use std::path::Path;

use super::config::{ConfigFile, Script};
use super::matrix::{CaseRecord, all_assignments, pairwise_assignments, random_assignment};
use super::runner::Verdict;
use super::session::{Handshake, Mode, Options, SessionError};

/// The most assignments `--mode all` makes of one script. Every assignment is a vector of
/// the script's actors, and their number is clients^actors: past this (a script of 17 actors
/// with 2 clients, of 11 with 3) the run would take hours, and a working group script of 841
/// actors would exhaust memory before the first case. Above it `--mode all` refuses, naming
/// `--mode pairwise`, `--mode random` and `--assignment`.
pub(super) const MAX_ALL_ASSIGNMENTS: u128 = 100_000;

/// The most pairs (two actors, a client for each) `--mode pairwise` covers for one script:
/// one bit of memory each, and each assignment it adds looks at every pair of actors, so
/// this bounds its time to a few seconds. 2^24 pairs (2 MiB) is 841 actors with up to 6
/// clients, or about 2,900 actors with 2.
pub(super) const MAX_PAIRWISE_PAIRS: u128 = 1 << 24;

/// A case to run.
#[derive(Debug, Clone)]
pub(super) struct PlannedCase<'a> {
    pub id: String,
    /// The config file as given.
    pub config: String,
    pub script: &'a Script,
    /// Actor → client index, in the script's actor order.
    pub assignment: Vec<(String, usize)>,
    pub suite: u16,
    pub encrypt: bool,
    pub common_suites: Vec<u16>,
}

/// Every case of the run, in order: file, script, assignment, suite, handshake mode.
pub(super) fn plan<'a>(
    options: &Options,
    files: &'a [ConfigFile],
    client_suites: &[Option<Vec<u16>>],
) -> Result<Vec<PlannedCase<'a>>, SessionError> {
    if let Some(name) = &options.script
        && !files
            .iter()
            .any(|f| f.scripts.iter().any(|s| &s.name == name))
    {
        return Err(SessionError::Usage(format!(
            "no script named `{name}` in the given config files"
        )));
    }
    let modes: &[bool] = match options.handshake {
        Handshake::Private => &[true],
        Handshake::Public => &[false],
        Handshake::All => &[true, false],
    };
    let mut cases = Vec::new();
    for file in files {
        let config = file.path.display().to_string();
        let stem = file
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| config.clone());
        for script in &file.scripts {
            if options
                .script
                .as_ref()
                .is_some_and(|name| *name != script.name)
            {
                continue;
            }
            let actors = script.actors();
            let assignments = match (&options.assignment, options.mode) {
                (Some(given), _) if given.len() != actors.len() => {
                    return Err(SessionError::Usage(format!(
                        "--assignment gives {} clients, but script `{}` of {config} has {} actors ({})",
                        given.len(),
                        script.name,
                        actors.len(),
                        actors.join(", ")
                    )));
                }
                (Some(given), _) => vec![given.clone()],
                (None, mode) => drawn_assignments(
                    mode,
                    options.seed,
                    client_suites.len(),
                    actors.len(),
                    (&config, &stem, &script.name),
                )?,
            };
            for assignment in assignments {
                let common = common_suites(&assignment, client_suites, options);
                let mut suites: Vec<u16> = common
                    .iter()
                    .copied()
                    .filter(|s| {
                        options
                            .suites
                            .as_ref()
                            .is_none_or(|wanted| wanted.contains(s))
                    })
                    .collect();
                suites.sort_unstable();
                suites.dedup();
                let indices: Vec<String> = assignment.iter().map(usize::to_string).collect();
                for suite in suites {
                    for &encrypt in modes {
                        let handshake = if encrypt { "private" } else { "public" };
                        cases.push(PlannedCase {
                            id: format!(
                                "{stem}/{}/{suite}/{handshake}/{}",
                                script.name,
                                indices.join("-")
                            ),
                            config: config.clone(),
                            script,
                            assignment: actors.iter().cloned().zip(assignment.clone()).collect(),
                            suite,
                            encrypt,
                            common_suites: common.clone(),
                        });
                    }
                }
            }
        }
    }
    Ok(cases)
}

/// The assignments `mode` makes of a script of `actors` actors, refused (before building
/// any) when there would be too many. `script` is (config file, its stem, script name): the
/// stem and name salt the seed.
fn drawn_assignments(
    mode: Mode,
    seed: u64,
    clients: usize,
    actors: usize,
    (config, stem, script): (&str, &str, &str),
) -> Result<Vec<Vec<usize>>, SessionError> {
    let salt = format!("{stem}/{script}");
    Ok(match mode {
        Mode::All => {
            if assignment_count(clients, actors).is_none_or(|n| n > MAX_ALL_ASSIGNMENTS) {
                return Err(too_many_assignments(config, script, clients, actors));
            }
            all_assignments(clients, actors)
        }
        Mode::Random => vec![random_assignment(clients, actors, seed, &salt)],
        Mode::Pairwise => {
            if pair_count(clients, actors).is_none_or(|n| n > MAX_PAIRWISE_PAIRS) {
                return Err(too_many_pairs(config, script, clients, actors));
            }
            pairwise_assignments(clients, actors, seed, &salt)
        }
    })
}

/// clients^actors, the number of assignments of a script; `None` past `u128`.
fn assignment_count(clients: usize, actors: usize) -> Option<u128> {
    (clients as u128).checked_pow(u32::try_from(actors).ok()?)
}

/// The pairs a covering array of strength 2 covers: (actors choose 2) × clients².
fn pair_count(clients: usize, actors: usize) -> Option<u128> {
    let actors = actors as u128;
    let clients = clients as u128;
    (actors * actors.saturating_sub(1) / 2).checked_mul(clients.checked_mul(clients)?)
}

/// The refusal of `--mode all` for a script with too many assignments, with the figure.
fn too_many_assignments(config: &str, script: &str, clients: usize, actors: usize) -> SessionError {
    let figure = match assignment_count(clients, actors) {
        Some(n) => format!("{clients}^{actors} = {}", grouped(n)),
        None => format!(
            "{clients}^{actors} (more than 10^{})",
            (actors as f64 * (clients as f64).log10()).floor()
        ),
    };
    SessionError::Usage(format!(
        "script `{script}` of {config} has {actors} actors and there are {clients} clients: \
         --mode all would make {figure} assignments, more than the {} a script may have; \
         use --mode pairwise (every two clients in every two roles, a few dozen assignments), \
         --mode random (one assignment drawn from --seed), or --script {script} --assignment \
         (one assignment, client indices in actor order)",
        grouped(MAX_ALL_ASSIGNMENTS)
    ))
}

/// The refusal of `--mode pairwise` for a script with too many pairs to track.
fn too_many_pairs(config: &str, script: &str, clients: usize, actors: usize) -> SessionError {
    let figure = pair_count(clients, actors).map_or_else(|| "too many".into(), grouped);
    SessionError::Usage(format!(
        "script `{script}` of {config} has {actors} actors and there are {clients} clients: \
         --mode pairwise would cover {figure} pairs of actors and clients, more than the {} \
         it tracks; use --mode random (one assignment drawn from --seed), or --script \
         {script} --assignment (one assignment, client indices in actor order)",
        grouped(MAX_PAIRWISE_PAIRS)
    ))
}

/// `n` with thousands separated by commas: 2,199,023,255,552.
fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The suites every assigned client supports; clients whose setup failed constrain nothing.
fn common_suites(
    assignment: &[usize],
    client_suites: &[Option<Vec<u16>>],
    options: &Options,
) -> Vec<u16> {
    let mut common: Option<Vec<u16>> = None;
    for &client in assignment {
        if let Some(Some(suites)) = client_suites.get(client) {
            common = Some(match common {
                None => suites.clone(),
                Some(so_far) => so_far.into_iter().filter(|s| suites.contains(s)).collect(),
            });
        }
    }
    common.unwrap_or_else(|| options.suites.clone().unwrap_or_else(|| vec![1]))
}

/// A command that reruns just this case.
pub(super) fn reproducer(options: &Options, case: &PlannedCase<'_>) -> String {
    let mut parts = vec!["concord".to_string(), "interop".into()];
    parts.extend(["--config".into(), quote(&case.config)]);
    for spec in &options.client_specs {
        parts.extend(["--client".into(), quote(spec)]);
    }
    let indices: Vec<String> = case.assignment.iter().map(|(_, c)| c.to_string()).collect();
    parts.extend([
        "--script".into(),
        quote(&case.script.name),
        "--suite".into(),
        case.suite.to_string(),
        "--handshake".into(),
        (if case.encrypt { "private" } else { "public" }).into(),
        "--assignment".into(),
        indices.join(","),
    ]);
    parts.extend([
        "--seed".into(),
        options.seed.to_string(),
        "--run-tag".into(),
        options.run_tag.clone(),
    ]);
    if options.timeout != crate::client::grpc::DEFAULT_TIMEOUT {
        parts.extend(["--timeout".into(), options.timeout.as_secs().to_string()]);
    }
    parts.join(" ")
}

/// Shell-quotes `text` when it needs it.
fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The printed line of a case that did not pass.
pub(super) fn case_line(record: &CaseRecord, names: &[String]) -> String {
    let result = &record.result;
    let verdict = match result.verdict {
        Verdict::Passed => "passed",
        Verdict::Failed if record.expectation.is_some() => "known failure",
        Verdict::Failed => "FAILED",
        Verdict::Unsupported => "unsupported",
        Verdict::ClientFault => "CLIENT FAULT",
        Verdict::Skipped => "not run",
    };
    let actors: Vec<String> = record
        .assignment
        .iter()
        .map(|(a, c)| format!("{a}={}", names.get(*c).map_or("?", String::as_str)))
        .collect();
    let file = Path::new(&record.config)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| record.config.clone());
    let mut line = format!(
        "{verdict:<12} {file} {} suite {} {} [{}]",
        record.script,
        record.suite,
        record.handshake,
        actors.join(" ")
    );
    if let Some(p) = &result.problem {
        match (p.step, &p.action) {
            (Some(step), Some(action)) => line.push_str(&format!(": step {step} ({action})")),
            (Some(step), None) => line.push_str(&format!(": step {step}")),
            (None, _) => line.push(':'),
        }
        line.push_str(&format!(" check {}", p.check));
        if let Some(client) = &p.client {
            line.push_str(&format!(", client {client}"));
            if let Some(actor) = &p.actor {
                line.push_str(&format!(" (as {actor})"));
            }
        }
        line.push_str(&format!(": {}", p.detail.replace('\n', " ")));
        if let Some((first, last)) = p.lines {
            line.push_str(&format!(" [transcript lines {first}-{last}]"));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// The pairs (actor a, client x, actor b, client y), a < b, no row covers.
    fn missing_pairs(rows: &[Vec<usize>], clients: usize, actors: usize) -> Vec<[usize; 4]> {
        let mut missing = Vec::new();
        for a in 0..actors {
            for b in a + 1..actors {
                for x in 0..clients {
                    for y in 0..clients {
                        if !rows.iter().any(|row| row[a] == x && row[b] == y) {
                            missing.push([a, x, b, y]);
                        }
                    }
                }
            }
        }
        missing
    }

    /// (clients, actors, the most rows allowed: a few above what the construction makes,
    /// which is a few above the smallest known covering arrays).
    const SIZES: &[(usize, usize, usize)] = &[
        (1, 1, 1),
        (1, 41, 1),
        (2, 1, 2),
        (2, 2, 4),
        (2, 3, 6),
        (2, 8, 10),
        (2, 41, 16),
        (3, 2, 9),
        (3, 5, 16),
        (3, 10, 22),
        (4, 6, 28),
        (5, 4, 34),
    ];

    #[test]
    fn pairwise_covers_every_pair_in_few_distinct_rows() {
        for &(clients, actors, most) in SIZES {
            for seed in [0, 1, 7] {
                let rows = pairwise_assignments(clients, actors, seed, "stem/script");
                let missing = missing_pairs(&rows, clients, actors);
                assert!(
                    missing.is_empty(),
                    "{clients} clients, {actors} actors, seed {seed}: {missing:?} uncovered"
                );
                assert!(
                    rows.len() <= most,
                    "{clients} clients, {actors} actors, seed {seed}: {} rows, more than {most}",
                    rows.len()
                );
                let mut distinct = rows.clone();
                distinct.sort();
                distinct.dedup();
                assert_eq!(distinct.len(), rows.len(), "a repeated row: {rows:?}");
                assert!(rows.iter().all(|row| row.len() == actors));
                assert!(rows.iter().flatten().all(|&c| c < clients));
            }
        }
    }

    #[test]
    fn the_coverage_check_sees_a_removed_row() {
        // Each added row covers a pair no earlier row covers, so without the last one a pair
        // is missing.
        for &(clients, actors, _) in SIZES.iter().filter(|&&(c, a, _)| c > 1 && a > 1) {
            let mut rows = pairwise_assignments(clients, actors, 3, "stem/script");
            let last = rows.pop().expect("rows");
            let missing = missing_pairs(&rows, clients, actors);
            assert!(
                !missing.is_empty(),
                "{clients}×{actors}: the last row adds nothing"
            );
            for [a, x, b, y] in missing {
                assert_eq!((last[a], last[b]), (x, y));
            }
        }
        // A hand-made array with the pairs of actor 2 at client 0 left out.
        let rows = vec![vec![0, 0, 1], vec![1, 1, 1], vec![0, 1, 1], vec![1, 0, 1]];
        assert_eq!(
            missing_pairs(&rows, 2, 3),
            vec![[0, 0, 2, 0], [0, 1, 2, 0], [1, 0, 2, 0], [1, 1, 2, 0]]
        );
    }

    #[test]
    fn pairwise_is_the_same_for_a_seed_and_varies_with_it() {
        let once = pairwise_assignments(3, 10, 42, "stem/script");
        assert_eq!(once, pairwise_assignments(3, 10, 42, "stem/script"));
        assert_ne!(once, pairwise_assignments(3, 10, 43, "stem/script"));
        assert_ne!(once, pairwise_assignments(3, 10, 42, "stem/other"));
    }

    /// The assignments of script `many` in many.json.
    fn drawn(mode: Mode, clients: usize, actors: usize) -> Result<Vec<Vec<usize>>, SessionError> {
        drawn_assignments(mode, 1, clients, actors, ("many.json", "many", "many"))
    }

    #[test]
    fn mode_all_refuses_too_many_assignments_before_building_any() {
        let started = Instant::now();
        let Err(SessionError::Usage(message)) = drawn(Mode::All, 2, 41) else {
            panic!("2^41 assignments drawn");
        };
        assert!(started.elapsed() < Duration::from_secs(1));
        for part in [
            "script `many` of many.json",
            "41 actors",
            "2 clients",
            "2^41 = 2,199,023,255,552 assignments",
            "--mode pairwise",
            "--mode random",
            "--assignment",
        ] {
            assert!(message.contains(part), "{part:?} not in {message}");
        }
        // Past u128.
        let Err(SessionError::Usage(message)) = drawn(Mode::All, 3, 841) else {
            panic!("3^841 assignments drawn");
        };
        assert!(message.contains("3^841 (more than 10^401)"), "{message}");
        // Just past the limit: 2^17 = 131,072.
        assert!(drawn(Mode::All, 2, 17).is_err());
    }

    #[test]
    fn mode_all_draws_every_assignment_of_a_small_script() {
        let mut drawn_all = drawn(Mode::All, 3, 4).expect("81 assignments");
        assert_eq!(drawn_all.len(), 81);
        drawn_all.sort();
        drawn_all.dedup();
        assert_eq!(drawn_all.len(), 81);
        assert!(
            drawn_all
                .iter()
                .all(|row| row.len() == 4 && row.iter().all(|&c| c < 3))
        );
        // At the limit exactly: 10^5, and 2^16.
        assert_eq!(assignment_count(10, 5), Some(MAX_ALL_ASSIGNMENTS));
        assert_eq!(
            drawn(Mode::All, 2, 16).ok().map(|rows| rows.len()),
            Some(65_536)
        );
        assert_eq!(assignment_count(3, 841), None);
    }

    #[test]
    fn mode_pairwise_draws_a_covering_array_per_script() {
        let rows = drawn(Mode::Pairwise, 2, 41).expect("a covering array");
        assert!(rows.len() <= 16, "{} assignments", rows.len());
        assert!(missing_pairs(&rows, 2, 41).is_empty());
        assert_eq!(rows, pairwise_assignments(2, 41, 1, "many/many"));
        // Tracking the pairs of too large a script is refused too.
        let Err(SessionError::Usage(message)) = drawn(Mode::Pairwise, 20, 841) else {
            panic!("pairs of 841 actors and 20 clients tracked");
        };
        assert!(message.contains("141,288,000 pairs"), "{message}");
    }

    #[test]
    fn figures_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(100_000), "100,000");
        assert_eq!(grouped(2_199_023_255_552), "2,199,023,255,552");
    }
}
