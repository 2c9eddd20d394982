//! `concord keygen` and `concord verify`.

use std::path::{Path, PathBuf};

use super::{AttestError, AttestKey, Verified, key};
use crate::exit;

/// Arguments of `concord keygen`.
#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// Folder for attest.key (the private key, PKCS#8 PEM, mode 0600) and attest.pub (the
    /// public key, SubjectPublicKeyInfo PEM); created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace a key pair already in the folder.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `concord verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// An attestation.json written by `concord run --attest` (or interop, provider-test).
    #[arg(value_name = "ATTESTATION")]
    pub attestation: PathBuf,
    /// The signer's public key (attest.pub from `concord keygen`).
    #[arg(long, value_name = "PUB")]
    pub key: PathBuf,
    /// The report (or matrix.json) to check against the statement's subject digest.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Reads the signing key of `--attest` before anything runs: a key that cannot be used
/// fails at once (exit 2), not after the run.
pub fn load_key(command: &str, file: Option<&Path>) -> Result<Option<AttestKey>, u8> {
    match file.map(AttestKey::load).transpose() {
        Ok(key) => Ok(key),
        Err(e) => {
            eprintln!("{command}: --attest {e}");
            Err(exit::BAD_INPUT)
        }
    }
}

/// Prints where an attestation went, or why it could not be written (then exit code 2).
pub fn report_written(command: &str, written: Result<PathBuf, AttestError>, key: &AttestKey) -> u8 {
    match written {
        Ok(path) => {
            println!("attestation: {} (keyid {})", path.display(), key.keyid());
            exit::OK
        }
        Err(e) => {
            eprintln!("{command}: no attestation: {e}");
            exit::BAD_INPUT
        }
    }
}

/// `concord keygen`; returns the exit code.
pub fn keygen_main(args: KeygenArgs) -> u8 {
    match key::generate(&args.out, args.force) {
        Ok(key) => {
            println!(
                "keygen: wrote {} (private key, mode 0600) and {} (public key); keyid {}",
                key.file().display(),
                args.out.join(key::PUBLIC_FILE).display(),
                key.keyid()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("concord keygen: {e}");
            e.exit_code()
        }
    }
}

/// `concord verify`; returns the exit code.
pub fn verify_main(args: VerifyArgs) -> u8 {
    match super::verify(&args.attestation, &args.key, args.report.as_deref()) {
        Ok(verified) => {
            print_verified(&args, &verified);
            exit::OK
        }
        Err(e) => {
            eprintln!("concord verify: {e}");
            let code = e.exit_code();
            if code == exit::UNEXPECTED {
                println!("verify: FAILED");
            }
            code
        }
    }
}

fn print_verified(args: &VerifyArgs, verified: &Verified) {
    let statement = &verified.statement;
    println!("attestation: {}", args.attestation.display());
    println!(
        "signature: good, Ed25519 key {} (keyid {})",
        args.key.display(),
        verified.keyid
    );
    println!("predicate type: {}", statement.predicate_type);
    for subject in &statement.subject {
        let digests: Vec<String> = subject
            .digest
            .iter()
            .map(|(algorithm, value)| format!("{algorithm}:{value}"))
            .collect();
        println!("subject: {} {}", subject.name, digests.join(" "));
    }
    if let Some((report, digest)) = &verified.report {
        println!("report: {} matches (sha256:{digest})", report.display());
    }
    if let Some(predicate) = &verified.predicate {
        println!(
            "concord: {} (commit {}), catalog sha256:{}",
            predicate.concord_version, predicate.source_commit, predicate.catalog_sha256
        );
        println!("command: {}", predicate.command);
        let suites: Vec<String> = predicate.suites.iter().map(u16::to_string).collect();
        println!(
            "{}: profile {}, seed {}, suites {}",
            predicate.subcommand,
            predicate.profile.as_deref().unwrap_or("-"),
            predicate.seed,
            if suites.is_empty() {
                "-".to_string()
            } else {
                suites.join(",")
            }
        );
        for client in &predicate.clients {
            let mut line = format!("client: {}", client.spec);
            if let Some(name) = &client.name {
                line.push_str(&format!(" (name {name})"));
            }
            if let Some(program) = &client.executable {
                match (&program.path, &program.sha256, &program.error) {
                    (Some(path), Some(digest), _) => {
                        line.push_str(&format!(", executable {path} sha256:{digest}"))
                    }
                    (_, _, error) => line.push_str(&format!(
                        ", executable `{}`: {}",
                        program.word,
                        error.as_deref().unwrap_or("no digest")
                    )),
                }
            }
            println!("{line}");
        }
        let c = &predicate.counts;
        println!(
            "counts: {} pass, {} fail, {} unsupported, {} expected-fail, {} unexpected-pass, {} skipped ({} client faults)",
            c.pass,
            c.fail,
            c.unsupported,
            c.expected_fail,
            c.unexpected_pass,
            c.skipped,
            c.client_faults
        );
    } else {
        println!("predicate: not Concord's, not summarised");
    }
    println!("verify: ok");
}
