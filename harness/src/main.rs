//! `concord`: the conformance suite's one command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use concord_harness::exit;
use concord_harness::vectors::{self, Summary};

#[derive(Parser, Debug)]
#[command(
    name = "concord",
    version,
    about = "Conformance suite and reference simulator for MLS (RFC 9420) and MIMI"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the whole suite against the embedded reference.
    Run {
        /// Folder of official vectors (default: $CONCORD_VECTORS, else ../shared/mls-vectors).
        #[arg(long)]
        vectors: Option<PathBuf>,
    },
    /// Work with MLS test vectors.
    Vectors {
        #[command(subcommand)]
        command: VectorsCommand,
    },
}

#[derive(Subcommand, Debug)]
enum VectorsCommand {
    /// Check official vector files (one file per family) against the reference.
    Verify {
        /// Folder holding the vector files (default: $CONCORD_VECTORS, else ../shared/mls-vectors).
        dir: Option<PathBuf>,
        /// Only these families (file stems, comma-separated), e.g. crypto-basics,tree-math.
        #[arg(long, value_delimiter = ',')]
        only: Option<Vec<String>>,
        /// Print a machine-readable JSON summary instead of lines.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Vectors {
            command: VectorsCommand::Verify { dir, only, json },
        } => verify(dir, only, json),
        Command::Run { vectors } => run(vectors),
    };
    ExitCode::from(code)
}

fn verify(dir: Option<PathBuf>, only: Option<Vec<String>>, json: bool) -> u8 {
    let dir = dir.unwrap_or_else(vectors::default_directory);
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

fn print_summary(summary: &Summary) {
    println!("official vectors in {}", summary.directory.display());
    for file in &summary.files {
        println!("{}", vectors::format_file_line(file));
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

fn run(vectors_dir: Option<PathBuf>) -> u8 {
    println!("concord run: the suite against the embedded reference");
    println!("step 1/1: official test vectors");
    let code = verify(vectors_dir, None, false);
    println!();
    println!(
        "not built yet: the interop harness (gRPC MLSClient), the simulated multi-provider network,"
    );
    println!("scenarios, the adversary and the reports; `concord run` grows with them.");
    code
}
