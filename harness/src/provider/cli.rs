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

/// `concord serve-provider`.
#[derive(clap::Args, Debug)]
pub struct ServeProviderArgs {
    /// Address to listen on, e.g. 127.0.0.1:8443 (port 0 picks a free one).
    #[arg(long)]
    pub listen: std::net::SocketAddr,
    /// The provider's domain; its certificate DOMAIN.pem must be in --tls-dir.
    #[arg(long)]
    pub domain: String,
    /// hub (owns rooms, orders their commits, fans out) or follower (serves its users,
    /// forwards to the hub).
    #[arg(long, default_value = "hub")]
    pub role: String,
    /// A `concord certs` folder: ca.pem, DOMAIN.pem, DOMAIN.key.pem, and peers.toml (optional)
    /// mapping other domains to their https://HOST:PORT.
    #[arg(long)]
    pub tls_dir: PathBuf,
    /// The provider's own users (comma-separated); they get key packages at the first request.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "alice,bob,carol,dave,erin,frank"
    )]
    pub users: Vec<String>,
    /// Where a peer domain is served: DOMAIN=https://HOST:PORT (repeatable; overrides
    /// peers.toml).
    #[arg(long)]
    pub resolve: Vec<String>,
    /// Misbehave on purpose, for testing the tests (repeatable): accept-ghost-member,
    /// accept-two-commits-per-epoch, panic-on-malformed, reuse-key-material, no-fanout-retry,
    /// accept-stale-application, skip-authentication, no-franking, accept-unverified-reports,
    /// frank-other-suite, mismatched-hub-sender, relay-through-hub, hard-coded-endpoints,
    /// allow-hub-sender-removal.
    #[arg(long)]
    pub fault: Vec<String>,
    /// Seed of the provider's randomness (key packages): the same seed, the same keys.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// `concord serve-provider`: serve until SIGINT or SIGTERM; exit 2 on bad input or when the
/// server cannot start.
pub fn serve_provider_main(args: ServeProviderArgs) -> u8 {
    let fail = |message: String| {
        eprintln!("concord serve-provider: {message}");
        exit::BAD_INPUT
    };
    if !certs::valid_domain(&args.domain) {
        return fail(format!("--domain `{}` is not a DNS name", args.domain));
    }
    let role = match super::reference::parse_role(&args.role) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let faults = match super::reference::faults_from_names(&args.fault) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    if let Err(e) = super::reference::check_users(&args.users) {
        return fail(e);
    }
    if faults.panic_on_malformed {
        // The fault must look like a real crash: a panic in a handler ends the process.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default(info);
            std::process::exit(101);
        }));
    }
    let options = super::server::ServerOptions {
        listen: args.listen,
        domain: args.domain.clone(),
        tls_dir: args.tls_dir.clone(),
        resolve: args.resolve.clone(),
        body_limit: super::server::DEFAULT_BODY_LIMIT,
        request_timeout: super::server::DEFAULT_REQUEST_TIMEOUT,
        instrument: None,
        path_prefix: String::new(),
    };
    let (domain, users, seed) = (args.domain.clone(), args.users.clone(), args.seed);
    let faults_named = if args.fault.is_empty() {
        String::new()
    } else {
        format!(", faults: {}", args.fault.join(", "))
    };
    let result = super::server::serve_until_signal(
        options,
        move || super::reference::provider(&domain, role, &users, seed, faults),
        |addr| {
            println!(
                "concord serve-provider: {} ({}) listening on https://{addr}{faults_named}",
                args.domain, args.role
            );
        },
    );
    match result {
        Ok(()) => {
            println!("concord serve-provider: stopped");
            exit::OK
        }
        Err(e) => fail(e.to_string()),
    }
}
