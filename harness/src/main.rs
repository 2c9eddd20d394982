//! `concord`: the conformance suite's one command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use concord_harness::exit;
use concord_harness::generate;
use concord_harness::interop::session as interop;
use concord_harness::vectors::{self, Summary};
use concord_reference::crypto::CipherSuite;

#[derive(Parser, Debug)]
#[command(
    name = "concord",
    version,
    about = "Conformance suite and reference simulator for MLS (RFC 9420) and MIMI"
)]
struct Cli {
    /// Refuse (exit code 2) fields Concord does not know in the working group's formats
    /// (interop scripts, test vectors), which are otherwise ignored with a warning. Concord's
    /// own formats (scenarios, expectations, claims, catalog) refuse them always.
    #[arg(long, global = true)]
    strict: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the whole suite (vectors, interop scripts, scenarios) against the embedded
    /// reference and any --client, and write the reports (index.html, report.json,
    /// junit.xml, summary.md).
    Run(concord_harness::run::RunArgs),
    /// Render the reports again from a saved report.json (--from), merge the shards of one
    /// run (--merge), or compare two runs (--diff, exit 1 on a new failure).
    Report(concord_harness::run::ReportArgs),
    /// Run a saved report's command again (same seed, clients and cases) and say which
    /// verdicts differ (exit 1 if any).
    Replay(concord_harness::compare::ReplayArgs),
    /// Run interop scripts (the MLS working group's format) over clients under test.
    Interop(InteropArgs),
    /// Run the negative recipes (inputs a conformant client must refuse, and controls it
    /// must accept) against clients under test, each case built on the client's own
    /// KeyPackage; closing line `adversary: N passed, N failed, N skipped`.
    Adversary(concord_harness::adversary::cli::AdversaryArgs),
    /// Run multi-provider MIMI scenarios over the simulated network.
    Sim(concord_harness::sim::cli::SimArgs),
    /// Play random operation sequences on the simulator and check the invariants after
    /// each; a failure is shrunk and written out as a scenario `concord sim` replays.
    Property(concord_harness::property::cli::PropertyArgs),
    /// Benchmark group operations of the reference, OpenMLS and mls-rs side by side
    /// (cargo bench in the workspace) and write bench.json, bench-detail.json, bench.md.
    Bench(concord_harness::bench::BenchArgs),
    /// Serve an in-process client (the reference by default) as an MLSClient gRPC server
    /// until SIGINT or SIGTERM.
    ServeClient {
        /// Address to listen on, e.g. 127.0.0.1:50051 (port 0 picks a free one).
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Which in-process client to serve: reference, openmls or mls-rs.
        #[arg(long, default_value = "reference")]
        client: String,
        /// Seed of the reference's randomness (the same seed gives the same answers).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Misbehave on purpose, as a faulty interop server (repeatable; reference only):
        /// list-default-extensions, ignore-external-tree, empty-export, empty-state-auth,
        /// ignore-branch-extensions, shared-state, panic-after-calls=N,
        /// poison-after-calls=N, accept-invalid. Name then answers concord-reference+FAULT.
        #[arg(long, value_name = "NAME")]
        fault: Vec<String>,
    },
    /// Write a test CA and one certificate per MIMI provider domain (PEM), for mutual TLS
    /// between providers on loopback only.
    Certs(concord_harness::provider::cli::CertsArgs),
    /// Serve the reference MIMI provider (hub or follower) over HTTPS with mutual TLS until
    /// SIGINT or SIGTERM.
    ServeProvider(concord_harness::provider::cli::ServeProviderArgs),
    /// Run the MIMI provider conformance checks against a provider server over HTTPS, with
    /// Concord's followers and reference clients on the other side; write the reports.
    ProviderTest(concord_harness::provider::ptest::ProviderTestArgs),
    /// Work with MLS test vectors.
    Vectors {
        #[command(subcommand)]
        command: VectorsCommand,
    },
    /// The requirement catalog: check citations and coverage, list, show.
    Catalog {
        #[command(subcommand)]
        command: concord_harness::catalog::CatalogCommand,
    },
    /// Write an Ed25519 key pair for signed attestations (--attest): DIR/attest.key (PKCS#8
    /// PEM, mode 0600) and DIR/attest.pub (SubjectPublicKeyInfo PEM). An existing key is
    /// kept (exit 2) unless --force.
    Keygen(concord_harness::attest::cli::KeygenArgs),
    /// Check an attestation.json: its DSSE signature with the public key and, with --report,
    /// that the report's SHA-256 is the statement's subject digest; print the statement.
    /// Exit 1 if a check fails, 2 if a file cannot be read or decoded.
    Verify(concord_harness::attest::cli::VerifyArgs),
}

#[derive(clap::Args, Debug)]
struct InteropArgs {
    /// Interop config files (`{"scripts": {...}}`); repeat or list several.
    #[arg(long = "config", value_name = "FILE", required = true, num_args = 1..)]
    configs: Vec<PathBuf>,
    /// A client under test; repeat for several. Client indices (for --assignment) follow
    /// this order from 0. `grpc://HOST:PORT`: an MLSClient server already running (shared
    /// by every lane; if it dies or stops working, its remaining cases are not run).
    /// `exec:'COMMAND ... {port}'`: Concord runs the server itself, one process per lane on
    /// a free loopback port put in place of {port}, and restarts it after a crash or a
    /// hang (e.g. exec:'interop_client --host 127.0.0.1 -p {port}'). `reference`: the
    /// embedded reference; `openmls`, `mls-rs`: the in-process adapters.
    #[arg(long = "client", value_name = "SPEC", required = true, num_args = 1..)]
    clients: Vec<String>,
    /// Only these cipher suites (comma-separated); default: every suite the assigned
    /// clients all support.
    #[arg(long, value_delimiter = ',')]
    suite: Option<Vec<u16>>,
    /// Handshake messages as PrivateMessage, PublicMessage, or both.
    #[arg(long, value_enum, default_value = "all")]
    handshake: interop::Handshake,
    /// How actors get clients: every assignment (refused above 100,000 for a script), one
    /// drawn from --seed, or pairwise (every two clients in every two roles, seeded).
    #[arg(long, value_enum, default_value = "all")]
    mode: interop::Mode,
    /// Seed of `--mode random` and `--mode pairwise`, and, with the run tag, of every
    /// group id, identity and PSK.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The run tag (hex) mixed into every group id and identity; default: a fresh random
    /// one, printed at the start and written in every reproducer. The same seed and run
    /// tag reproduce a run byte for byte.
    #[arg(long, value_name = "HEX")]
    run_tag: Option<String>,
    /// No progress bar or progress lines (they go to stderr).
    #[arg(long)]
    quiet: bool,
    /// Which cases' calls transcript.jsonl keeps: `failures` (every case that did not
    /// pass; a large run stays small) or `all`.
    #[arg(long, value_enum, default_value = "failures")]
    transcript: TranscriptScope,
    /// Per-call timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Folder for transcript.jsonl, matrix.md and matrix.json.
    #[arg(long, default_value = "concord-interop")]
    out: PathBuf,
    /// Only the script of this name.
    #[arg(long)]
    script: Option<String>,
    /// Only this assignment: client indices in the script's actor order (e.g. 0,1,0).
    #[arg(long, value_delimiter = ',')]
    assignment: Option<Vec<usize>>,
    /// Cases run in parallel on this many lanes, each with its own instance of every client
    /// (its own connection, for a gRPC client); default: the number of CPUs. Case n runs on
    /// lane n mod jobs, so the same command with the same --jobs gives the same transcript.
    #[arg(long)]
    jobs: Option<usize>,
    /// Expectations file (TOML, as for `concord run`): failures it lists as known are
    /// explained in the matrix and do not fail the run; a listed failure that passes does.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Run only shard K of N (from 1) of the cases: a stable partition by case ID, the same
    /// as `concord run --shard K/N` makes of its interop stage.
    #[arg(long, value_name = "K/N")]
    shard: Option<concord_reports::Shard>,
    /// Write each case, failed ones included, as a passive-client test vector in the
    /// working group's format (passive-client-welcome.json, passive-client-handling-commit.json),
    /// with the reference as the passive member, and index.json naming each vector's case,
    /// verdict and reproducer; `concord vectors verify DIR` checks them again.
    #[arg(long, value_name = "DIR")]
    export_vectors: Option<PathBuf>,
    /// Sign the run: write attestation.json beside matrix.json in --out, an in-toto
    /// statement over matrix.json's SHA-256 in a DSSE envelope, signed with this Ed25519
    /// private key (`concord keygen`; `concord verify` checks it).
    #[arg(long, value_name = "KEY")]
    attest: Option<PathBuf>,
}

/// Which cases' calls `concord interop` writes to transcript.jsonl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TranscriptScope {
    Failures,
    All,
}

#[derive(Subcommand, Debug)]
enum VectorsCommand {
    /// Check official vector files (one file per family) against the reference.
    Verify {
        /// Folder holding the vector files (default: $CONCORD_VECTORS, else ../shared/mls-vectors),
        /// or one vector file; a folder of MIMI content examples (`X.cbor` beside `X.edn`),
        /// or one `.cbor` example, is checked as MIMI content (draft-ietf-mimi-content).
        dir: Option<PathBuf>,
        /// Only these families (file stems, comma-separated), e.g. crypto-basics,tree-math;
        /// FAMILY:CASE checks one case (its index from 0), as the report's reproducers do.
        #[arg(long, value_delimiter = ',')]
        only: Option<Vec<String>>,
        /// Print a machine-readable JSON summary instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Write test vectors in the official formats, deterministically from a seed.
    Generate {
        /// Folder to write `<family>.json` files into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Cipher suites (comma-separated, 1 to 7; default all seven).
        #[arg(long, value_delimiter = ',')]
        suite: Option<Vec<u16>>,
        /// Seed of the randomness every value is derived from.
        #[arg(long, default_value_t = generate::DEFAULT_SEED)]
        seed: u64,
        /// Write the negative vectors (one file per family: inputs a conformant client
        /// must reject, with the error class) instead of the official families.
        #[arg(long)]
        negative: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    concord_harness::input::set_strict(cli.strict);
    let code = match cli.command {
        Command::Catalog { command } => concord_harness::catalog::run(command),
        Command::Keygen(args) => concord_harness::attest::cli::keygen_main(args),
        Command::Verify(args) => concord_harness::attest::cli::verify_main(args),
        Command::Vectors {
            command: VectorsCommand::Verify { dir, only, json },
        } => verify(dir, only, json),
        Command::Vectors {
            command:
                VectorsCommand::Generate {
                    out,
                    suite,
                    seed,
                    negative: true,
                },
        } => generate_negative(&out, suite, seed),
        Command::Vectors {
            command:
                VectorsCommand::Generate {
                    out,
                    suite,
                    seed,
                    negative: false,
                },
        } => generate_vectors(&out, suite, seed),
        Command::Run(args) => concord_harness::run::main(args),
        Command::Report(args) => concord_harness::run::report_main(args),
        Command::Replay(args) => concord_harness::compare::replay_main(args),
        Command::Interop(args) => run_interop(args),
        Command::Adversary(args) => concord_harness::adversary::cli::main(args),
        Command::Sim(args) => concord_harness::sim::cli::main(args),
        Command::Property(args) => concord_harness::property::cli::main(args),
        Command::Bench(args) => concord_harness::bench::main(args),
        Command::Certs(args) => concord_harness::provider::cli::certs_main(args),
        Command::ServeProvider(args) => concord_harness::provider::cli::serve_provider_main(args),
        Command::ProviderTest(args) => concord_harness::provider::ptest::main(args),
        Command::ServeClient {
            listen,
            client,
            seed,
            fault,
        } => serve_client(listen, &client, seed, &fault),
    };
    ExitCode::from(code)
}

fn serve_client(listen: std::net::SocketAddr, spec: &str, seed: u64, fault: &[String]) -> u8 {
    if spec.starts_with("grpc://") {
        eprintln!("concord serve-client: --client must be an in-process client, not {spec}");
        return exit::BAD_INPUT;
    }
    if !fault.is_empty() {
        return serve_faulty_client(listen, spec, seed, fault);
    }
    let timeout = concord_harness::client::grpc::DEFAULT_TIMEOUT;
    // An unknown client name is bad usage, found before listening.
    if let Err(e) = interop::open_client(spec, timeout, seed) {
        eprintln!("concord serve-client: {e}");
        return exit::BAD_INPUT;
    }
    // One instance per connection, each with its own seed (the first gets `seed`).
    let owned = spec.to_string();
    let served = concord_harness::client::serve::Served::per_connection(Box::new(move |n| {
        interop::open_client(&owned, timeout, interop::instance_seed(seed, n as usize, 0))
    }));
    let ready = |address| {
        eprintln!(
            "concord serve-client: {spec} serves MLSClient on {address} (one instance per connection; SIGINT or SIGTERM stops it)"
        )
    };
    match concord_harness::client::serve::serve_until_signal(served, listen, ready) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("concord serve-client: {e}");
            exit::BAD_INPUT
        }
    }
}

/// `concord serve-client --fault`: the reference as a faulty interop server (see
/// `concord_harness::client::faults`).
fn serve_faulty_client(
    listen: std::net::SocketAddr,
    spec: &str,
    seed: u64,
    fault: &[String],
) -> u8 {
    use concord_harness::client::faults;
    if spec != "reference" {
        eprintln!("concord serve-client: --fault needs --client reference, not {spec}");
        return exit::BAD_INPUT;
    }
    let faults = match faults::Faults::from_names(fault) {
        Ok(faults) => faults,
        Err(e) => {
            eprintln!("concord serve-client: {e}");
            return exit::BAD_INPUT;
        }
    };
    if faults.panic_after_calls.is_some() {
        // A crash, as a server built with `panic = "abort"` or whose panic takes the
        // process down: later calls find nothing listening.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default(info);
            std::process::exit(101);
        }));
    }
    let instances = if faults.shared_state {
        "one instance for every connection"
    } else {
        "one instance per connection"
    };
    let named = faults.names().join(", ");
    let served = faults::served(faults, seed);
    let ready = |address| {
        eprintln!(
            "concord serve-client: {spec} serves MLSClient on {address} ({instances}; faults: {named}; SIGINT or SIGTERM stops it)"
        )
    };
    match concord_harness::client::serve::serve_until_signal(served, listen, ready) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("concord serve-client: {e}");
            exit::BAD_INPUT
        }
    }
}

fn verify(dir: Option<PathBuf>, only: Option<Vec<String>>, json: bool) -> u8 {
    let dir = dir.unwrap_or_else(vectors::default_directory);
    if vectors::mimi_content::applies(&dir) {
        return vectors::mimi_content_main(&dir, only.as_deref(), json);
    }
    let summary = match vectors::verify_directory(&dir, only.as_deref()) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("concord vectors verify: {e}");
            return exit::BAD_INPUT;
        }
    };
    if json {
        match serde_json::to_string_pretty(&summary) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("concord vectors verify: cannot write the JSON summary: {e}");
                return exit::BAD_INPUT;
            }
        }
    } else {
        print_summary(&summary);
    }
    summary_exit_code(&summary)
}

fn generate_vectors(out: &std::path::Path, suites: Option<Vec<u16>>, seed: u64) -> u8 {
    let suites: Vec<CipherSuite> = match suites {
        Some(ids) => ids.into_iter().map(CipherSuite).collect(),
        None => CipherSuite::ALL.to_vec(),
    };
    let summary = match generate::generate(out, &suites, seed) {
        Ok(summary) => summary,
        Err(
            e @ (generate::GenerateError::UnsupportedSuite(_) | generate::GenerateError::NoSuites),
        ) => {
            eprintln!("concord vectors generate: {e}");
            return exit::BAD_INPUT;
        }
        Err(e) => {
            eprintln!("concord vectors generate: {e}");
            return exit::UNEXPECTED;
        }
    };
    println!(
        "generated vectors in {} (seed {seed})",
        summary.directory.display()
    );
    for file in &summary.files {
        let suites = if file.cipher_suites.is_empty() {
            "suite-independent".to_string()
        } else {
            let list: Vec<String> = file.cipher_suites.iter().map(u16::to_string).collect();
            format!("suites {}", list.join(","))
        };
        let name = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("{name:<36} {:>4} cases ({suites})", file.cases);
    }
    for (family, reason) in &summary.not_generated {
        println!(
            "{:<36} not generated yet: {reason}",
            format!("{family}.json")
        );
    }
    println!(
        "generated: {} files, {} cases",
        summary.files.len(),
        summary.case_count()
    );
    exit::OK
}

fn generate_negative(out: &std::path::Path, suites: Option<Vec<u16>>, seed: u64) -> u8 {
    let suites: Vec<CipherSuite> = match suites {
        Some(ids) => ids.into_iter().map(CipherSuite).collect(),
        None => CipherSuite::ALL.to_vec(),
    };
    if let Some(bad) = suites
        .iter()
        .find(|id| concord_reference::crypto::Suite::new(**id).is_err())
    {
        eprintln!(
            "concord vectors generate --negative: cipher suite {} is not implemented",
            bad.0
        );
        return exit::BAD_INPUT;
    }
    match concord_harness::adversary::generate::generate(out, &suites, seed) {
        Ok(files) => {
            println!(
                "generated negative vectors in {} (seed {seed})",
                out.display()
            );
            for file in &files {
                let name = file
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                println!("{name:<36} {:>4} cases", file.cases);
            }
            println!(
                "generated: {} files, {} cases",
                files.len(),
                files.iter().map(|f| f.cases).sum::<usize>()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("concord vectors generate --negative: {e}");
            exit::UNEXPECTED
        }
    }
}

fn print_summary(summary: &Summary) {
    let kind = if concord_harness::adversary::verify::is_negative_directory(&summary.directory) {
        "negative vectors"
    } else {
        "official vectors"
    };
    println!("{kind} in {}", summary.directory.display());
    for file in &summary.files {
        println!("{}", vectors::format_file_line(file));
        for place in &file.unknown_fields {
            eprintln!(
                "warning: {}: {place}: unknown field, ignored (--strict refuses it)",
                file.path.display()
            );
        }
    }
    for name in &summary.absent_families {
        println!("{name:<32} not present in this folder: not checked");
    }
    for name in &summary.unrecognised_files {
        println!("{name:<32} not an official vector family: ignored");
    }
    let unreadable = summary.input_error_count();
    if unreadable > 0 {
        println!(
            "{unreadable} file(s) could not be read: their cases were not checked (exit code 2)"
        );
    }
    println!("{}", vectors::format_closing_line(summary));
}

/// Bad input wins over failures: a run that could not read all its files is not a
/// verdict on the reference.
fn summary_exit_code(summary: &Summary) -> u8 {
    if summary.has_input_errors() {
        exit::BAD_INPUT
    } else if summary.failed > 0 {
        exit::UNEXPECTED
    } else {
        exit::OK
    }
}

fn run_interop(args: InteropArgs) -> u8 {
    if args.timeout == 0 {
        eprintln!("concord interop: --timeout must be at least 1 second");
        return exit::BAD_INPUT;
    }
    let timeout = std::time::Duration::from_secs(args.timeout);
    let jobs = match args.jobs {
        Some(0) => {
            eprintln!("concord interop: --jobs must be at least 1");
            return exit::BAD_INPUT;
        }
        Some(jobs) => jobs,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let lanes = match interop::open_lanes(&args.clients, jobs, timeout, args.seed) {
        Ok(lanes) => lanes,
        Err(e) => {
            eprintln!("concord interop: {e}");
            return exit::BAD_INPUT;
        }
    };
    let expectations = match &args.expect {
        Some(path) => match concord_reports::Expectations::load(path) {
            Ok(expectations) => Some(expectations),
            Err(e) => {
                eprintln!("concord interop: {e}");
                return exit::BAD_INPUT;
            }
        },
        None => None,
    };
    let attest_key =
        match concord_harness::attest::cli::load_key("concord interop", args.attest.as_deref()) {
            Ok(key) => key,
            Err(code) => return code,
        };
    // Group ids, identities and PSKs come from the seed and the run tag: the same seed and
    // run tag give the same transcript; a fresh tag keeps this run apart from earlier ones.
    let run_tag = match args.run_tag {
        Some(tag) if interop::valid_run_tag(&tag) => tag.to_ascii_lowercase(),
        Some(tag) => {
            eprintln!("concord interop: --run-tag `{tag}` is not 1 to 16 hex digits");
            return exit::BAD_INPUT;
        }
        None => interop::fresh_run_tag(),
    };
    let nonce = interop::run_nonce(args.seed, &run_tag);
    let options = interop::Options {
        configs: args.configs,
        client_specs: args.clients,
        suites: args.suite,
        handshake: args.handshake,
        mode: args.mode,
        seed: args.seed,
        timeout,
        out: Some(args.out),
        script: args.script,
        assignment: args.assignment,
        nonce,
        run_tag,
        quiet: args.quiet,
        expectations,
        transcript_passes: args.transcript == TranscriptScope::All,
        shard: args.shard,
        export_vectors: args.export_vectors,
    };
    let mut stdout = std::io::stdout();
    match interop::run_lanes(&options, lanes, &mut stdout) {
        Ok(summary) => {
            if let Some(expectations) = &options.expectations {
                for stale in &summary.stale {
                    println!(
                        "stale expectation {}:{} ({}): {}",
                        stale.file, stale.line, stale.selector, stale.why
                    );
                }
                println!(
                    "{} known failure(s) (expected by {}), {} unexpected pass(es)",
                    summary.expected_failures,
                    expectations.file,
                    summary.unexpected_passes.len()
                );
            }
            let attested = attest_key
                .as_ref()
                .zip(options.out.as_deref())
                .map(|(key, out)| {
                    let written = concord_harness::attest::attest_interop(
                        key,
                        &summary,
                        &options.client_specs,
                        options.seed,
                        out,
                    );
                    concord_harness::attest::cli::report_written("concord interop", written, key)
                });
            println!("{}", summary.closing_line());
            match attested {
                Some(code) if code != exit::OK => code,
                _ => summary.exit_code(),
            }
        }
        Err(e) => {
            eprintln!("concord interop: {e}");
            exit::BAD_INPUT
        }
    }
}
