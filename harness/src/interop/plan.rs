//! Which cases a run makes, and how each is named, printed and rerun.
//!
//! A case is one script × one assignment of clients to its actors × one cipher suite × one
//! handshake mode. The suites of an assignment are those every assigned client reports in
//! SupportedCiphersuites (a client whose setup failed constrains nothing: its cases carry
//! the setup verdict), filtered by `--suite`.

use std::path::Path;

use super::config::{ConfigFile, Script};
use super::matrix::{CaseRecord, all_assignments, random_assignment};
use super::runner::Verdict;
use super::session::{Handshake, Mode, Options, SessionError};

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
                (None, Mode::All) => all_assignments(client_suites.len(), actors.len()),
                (None, Mode::Random) => vec![random_assignment(
                    client_suites.len(),
                    actors.len(),
                    options.seed,
                    &format!("{stem}/{}", script.name),
                )],
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
        Verdict::Failed => "FAILED",
        Verdict::Unsupported => "unsupported",
        Verdict::ClientFault => "CLIENT FAULT",
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
