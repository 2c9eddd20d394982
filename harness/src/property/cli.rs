//! `concord property [--cases N] [--seed S] [--users MAX] [--ops MAX] [--client SPEC]
//! [--differential] [--out DIR]`.

use std::path::PathBuf;

use super::{Settings, run, write_counterexample};
use crate::exit;

/// Arguments of `concord property`.
#[derive(clap::Args, Debug)]
pub struct PropertyArgs {
    /// How many random sequences to play (10000 for the long run).
    #[arg(long, default_value_t = 64)]
    pub cases: u32,
    /// Seed of the generator and of every simulated run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Most users a sequence has (2 or more).
    #[arg(long = "users", default_value_t = 8)]
    pub max_users: u8,
    /// Most operations a sequence has.
    #[arg(long = "ops", default_value_t = 10)]
    pub max_ops: usize,
    /// The client backing every user but the room's creator (as `concord sim --client`:
    /// reference, openmls, mls-rs or grpc://HOST:PORT); default the reference.
    #[arg(long)]
    pub client: Option<String>,
    /// Play each sequence with the reference too and compare the verdicts.
    #[arg(long)]
    pub differential: bool,
    /// Where the shrunk counterexample goes (property-counterexample.toml).
    #[arg(long, default_value = "concord-property")]
    pub out: PathBuf,
}

/// Runs `concord property`; returns the exit code.
pub fn main(args: PropertyArgs) -> u8 {
    if args.max_users < 2 {
        eprintln!(
            "concord property: --users must be 2 or more (got {})",
            args.max_users
        );
        return exit::BAD_INPUT;
    }
    if args.differential && args.client.is_none() {
        eprintln!(
            "concord property: --differential needs --client SPEC to compare with the reference"
        );
        return exit::BAD_INPUT;
    }
    if let Some(spec) = &args.client
        && let Err(e) =
            crate::interop::session::open_client(spec, std::time::Duration::from_secs(30), 0)
    {
        eprintln!("concord property: {e}");
        return exit::BAD_INPUT;
    }
    let settings = Settings {
        seed: args.seed,
        cases: args.cases,
        max_users: args.max_users,
        max_ops: args.max_ops,
        client: args.client.clone(),
        differential: args.differential,
    };
    let result = run(&settings);
    let ids: Vec<&str> = result.requirements.iter().map(String::as_str).collect();
    if let Some(error) = &result.error {
        eprintln!("concord property: {error}");
        println!("property: 0 passed, 0 failed, {} skipped", args.cases);
        return exit::BAD_INPUT;
    }
    match &result.counterexample {
        None => {
            println!(
                "pass        {} sequences kept every invariant in {:.1}s ({})",
                result.cases,
                result.seconds,
                ids.join(", ")
            );
            println!("property: {} passed, 0 failed, 0 skipped", result.cases);
            if result.client_fault {
                exit::SYSTEM_UNDER_TEST
            } else {
                exit::OK
            }
        }
        Some(c) => {
            println!("fail        {}", c.reason);
            match write_counterexample(&args.out, c) {
                Ok(path) => println!(
                    "minimal failing sequence: {} steps, written to {} (replay: concord sim {} --seed {})",
                    c.steps,
                    path.display(),
                    path.display(),
                    args.seed
                ),
                Err(e) => eprintln!("concord property: {e}"),
            }
            println!("property: 0 passed, 1 failed, 0 skipped");
            if result.client_fault {
                exit::SYSTEM_UNDER_TEST
            } else {
                exit::UNEXPECTED
            }
        }
    }
}
