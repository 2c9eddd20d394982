//! The `concord certs`, `concord serve-provider` and `concord provider-test` commands.

use std::path::PathBuf;
use std::time::Duration;

use crate::exit;

use super::{certs, server};

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

/// `concord serve-provider`.
#[derive(clap::Args, Debug)]
pub struct ServeProviderArgs {
    /// Address to listen on, e.g. 127.0.0.1:8443 (port 0 picks a free one).
    #[arg(long)]
    pub listen: std::net::SocketAddr,
    /// The provider's domain (its certificate DOMAIN.pem in --tls-dir).
    #[arg(long)]
    pub domain: String,
    /// hub (hosts rooms) or follower (serves its users, receives /notify).
    #[arg(long, default_value = "hub")]
    pub role: String,
    /// A `concord certs` folder: the CA, this provider's certificate and key, peers.toml.
    /// Required: providers talk mutual TLS only.
    #[arg(long)]
    pub tls_dir: Option<PathBuf>,
    /// Local users (comma-separated); each publishes 32 key packages at start.
    #[arg(long, value_delimiter = ',', default_value = "alice,bob")]
    pub users: Vec<String>,
    /// Where a peer provider is reached: DOMAIN=https://HOST:PORT (repeatable); before
    /// peers.toml in --tls-dir and https://DOMAIN.
    #[arg(long = "resolve", value_name = "DOMAIN=URL")]
    pub resolve: Vec<String>,
    /// A test-only misbehaviour (repeatable): accept-ghost-member,
    /// accept-two-commits-per-epoch, panic-on-malformed, reuse-key-material, no-fanout-retry,
    /// accept-stale-application, skip-authentication.
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Seed of the reference's randomness (key packages, signatures).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Largest request body in bytes (larger: 413).
    #[arg(long, default_value_t = server::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Per-request deadline in seconds (past it: 408).
    #[arg(long, default_value_t = server::DEFAULT_REQUEST_TIMEOUT.as_secs())]
    pub request_timeout: u64,
}

/// `concord serve-provider`: serve until SIGINT or SIGTERM, then exit 0 once in-flight
/// requests are answered. Bad usage exits 2 before listening.
pub fn serve_provider_main(args: ServeProviderArgs) -> u8 {
    let Some(tls_dir) = args.tls_dir else {
        eprintln!(
            "concord serve-provider: --tls-dir is required: MIMI providers talk mutual TLS only (make a loopback test folder with `concord certs --out DIR`)"
        );
        return exit::BAD_INPUT;
    };
    if !certs::valid_domain(&args.domain) {
        eprintln!(
            "concord serve-provider: --domain `{}` is not a DNS name",
            args.domain
        );
        return exit::BAD_INPUT;
    }
    let role = match server::parse_role(&args.role) {
        Ok(role) => role,
        Err(e) => {
            eprintln!("concord serve-provider: {e}");
            return exit::BAD_INPUT;
        }
    };
    let faults = match server::faults_from_names(&args.faults) {
        Ok(faults) => faults,
        Err(e) => {
            eprintln!("concord serve-provider: {e}");
            return exit::BAD_INPUT;
        }
    };
    if args.body_limit == 0 || args.request_timeout == 0 {
        eprintln!("concord serve-provider: --body-limit and --request-timeout must be positive");
        return exit::BAD_INPUT;
    }
    // A panic anywhere (the panic-on-malformed fault) ends the process, as a crash would:
    // tokio would otherwise only end the connection's task.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        eprintln!("concord serve-provider: panicked; the server process ends");
        std::process::exit(101);
    }));
    let fault_note = if args.faults.is_empty() {
        String::new()
    } else {
        format!(" with test faults {}", args.faults.join(","))
    };
    let domain = args.domain.clone();
    let role_name = args.role.clone();
    let options = server::ServerOptions {
        listen: args.listen,
        domain: args.domain,
        role,
        tls_dir,
        users: args.users,
        resolve: args.resolve,
        faults,
        seed: args.seed,
        body_limit: args.body_limit,
        request_timeout: Duration::from_secs(args.request_timeout),
        instrument: None,
    };
    let ready = |addr| {
        println!(
            "concord serve-provider: {domain} ({role_name}) listening on https://{addr}{fault_note} (mutual TLS; SIGINT or SIGTERM stops it)"
        );
    };
    match server::serve_until_signal(options, ready) {
        Ok(()) => {
            eprintln!("concord serve-provider: stopped");
            exit::OK
        }
        Err(e) => {
            eprintln!("concord serve-provider: {e}");
            exit::BAD_INPUT
        }
    }
}
