//! The `concord certs`, `concord serve-provider` and `concord provider-test` commands.

use std::path::PathBuf;

use crate::exit;

use super::certs;

/// `concord certs`.
#[derive(clap::Args, Debug)]
pub struct CertsArgs {
    /// Folder to write the test CA and the provider certificates into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Provider domains to make certificates for (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "hub.example,follower.example,f1.example,f2.example"
    )]
    pub domains: Vec<String>,
}

/// `concord certs`: write the folder; exit 2 on bad input or an unwritable folder.
pub fn certs_main(args: CertsArgs) -> u8 {
    match certs::generate(&args.out, &args.domains) {
        Ok(files) => {
            println!(
                "concord certs: test CA and {} provider certificate(s) in {} (loopback tests only: the keys are unencrypted and the CA key is kept there)",
                args.domains.len(),
                args.out.display()
            );
            for file in files {
                println!("  {}", file.display());
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("concord certs: {e}");
            exit::BAD_INPUT
        }
    }
}
