//! `concord sim SCENARIO... [--seed S] [--client SPEC...] [--out DIR] [--bench]`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Options, load_all, run};
use crate::client::ClientUnderTest;
use crate::exit;
use crate::interop::session::open_client;

/// Arguments of `concord sim`.
#[derive(clap::Args, Debug)]
pub struct SimArgs {
    /// Scenario files (TOML, schema in scenarios/README.md).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Seed of every random choice (network impairments, client randomness).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Which client backs users: SPEC for every user, or USER=SPEC for one (SPEC:
    /// reference, openmls, mls-rs or grpc://HOST:PORT). Repeatable.
    #[arg(long = "client", value_name = "SPEC")]
    pub clients: Vec<String>,
    /// Folder for transcript.jsonl.
    #[arg(long, default_value = "concord-sim")]
    pub out: PathBuf,
    /// Per-call timeout for remote clients, in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Print wall time, simulated packets per second, the simulator's share of the time
    /// and peak memory per scenario.
    #[arg(long)]
    pub bench: bool,
    /// Live mode: real provider servers over HTTPS instead of the simulated network
    /// (Concord serves the reference for every provider without a `url`), with an impairing
    /// proxy in front of each.
    #[arg(long)]
    pub live: bool,
    /// Live mode: the `concord certs` folder the providers served elsewhere trust (needed
    /// when a provider has a `url`; default: a fresh temporary one).
    #[arg(long, value_name = "DIR")]
    pub tls_dir: Option<PathBuf>,
    /// Live mode: DOMAIN=https://HOST:PORT, a provider of the scenarios served elsewhere
    /// (repeatable; overrides the scenario's `url`).
    #[arg(long = "provider", value_name = "DOMAIN=URL")]
    pub providers: Vec<String>,
    /// Run only shard K of N (from 1) of the scenarios: a stable partition by scenario
    /// name, the same as `concord run --shard K/N` makes of its scenario stage.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<concord_reports::Shard>,
}

/// Runs `concord sim`; returns the exit code.
pub fn main(args: SimArgs) -> u8 {
    let mut clients = BTreeMap::new();
    for spec in &args.clients {
        let (user, spec) = match spec.split_once('=') {
            Some((user, spec)) if !spec.starts_with("//") => (user.to_string(), spec.to_string()),
            _ => ("*".to_string(), spec.clone()),
        };
        clients.insert(user, spec);
    }
    let scenarios = match load_all(&args.scenarios) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("concord sim: {e}");
            }
            return exit::BAD_INPUT;
        }
    };
    for user in clients.keys() {
        if user != "*" && !scenarios.iter().any(|s| s.users.contains_key(user)) {
            eprintln!("concord sim: --client {user}=...: no scenario has a user `{user}`");
            return exit::BAD_INPUT;
        }
    }
    let scenarios: Vec<_> = match args.shard {
        Some(shard) => {
            let kept: Vec<_> = scenarios
                .into_iter()
                .filter(|s| shard.contains(&format!("scenario/{}", s.name)))
                .collect();
            println!(
                "concord sim: shard {shard}: {} scenario(s) of this shard",
                kept.len()
            );
            if kept.is_empty() {
                return exit::OK;
            }
            kept
        }
        None => scenarios,
    };
    if !args.live {
        if let Some((s, domain)) = scenarios
            .iter()
            .find_map(|s| s.provider_urls.keys().next().map(|d| (s, d)))
        {
            eprintln!(
                "concord sim: {}: provider `{domain}` has a url: run the scenario with --live",
                s.file.display()
            );
            return exit::BAD_INPUT;
        }
        if args.tls_dir.is_some() || !args.providers.is_empty() {
            eprintln!("concord sim: --tls-dir and --provider need --live");
            return exit::BAD_INPUT;
        }
    }
    let mut urls = BTreeMap::new();
    for flag in &args.providers {
        match flag.split_once('=') {
            Some((domain, url)) if url.starts_with("https://") && !domain.is_empty() => {
                urls.insert(domain.to_string(), url.to_string());
            }
            _ => {
                eprintln!("concord sim: --provider `{flag}`: expected DOMAIN=https://HOST:PORT");
                return exit::BAD_INPUT;
            }
        }
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    // Check every client spec once before running anything (bad spec: exit 2).
    for spec in clients.values() {
        if let Err(e) = open_client(spec, timeout, 0) {
            eprintln!("concord sim: {e}");
            return exit::BAD_INPUT;
        }
    }
    let factory = move |spec: &str, seed: u64| -> Result<Box<dyn ClientUnderTest>, String> {
        open_client(spec, timeout, seed)
    };
    if args.live {
        let mut stdout = std::io::stdout();
        return crate::live::main(
            &scenarios,
            crate::live::LiveOptions {
                seed: args.seed,
                tls_dir: args.tls_dir,
                urls,
                clients,
                hub: None,
            },
            &factory,
            &mut stdout,
        );
    }
    let start = Instant::now();
    let stopwatch = move || start.elapsed();
    let options = Options {
        seed: args.seed,
        clients,
        out: Some(args.out),
        bench: args.bench,
    };
    let mut stdout = std::io::stdout();
    match run(
        &scenarios,
        &options,
        &factory,
        Some(&stopwatch),
        &mut stdout,
    ) {
        Ok(summary) => summary.exit_code(),
        Err(e) => {
            eprintln!("concord sim: {e}");
            exit::BAD_INPUT
        }
    }
}
