//! The reference provider (`concord_reference::mimi::service::ProviderService`) behind the
//! server's [`Service`] interface, and the `--role` / `--fault` names of the command line.

use concord_reference::mimi::service as svc;

use super::server::{Outbound, Request, Response, Service};

/// The reference provider, served.
#[derive(Debug)]
pub struct Reference(pub svc::ProviderService);

impl Service for Reference {
    fn handle(&mut self, request: &Request, now_ms: u64) -> Response {
        self.0.handle(request, now_ms)
    }

    fn take_outbound(&mut self) -> Vec<Outbound> {
        self.0.take_outbound()
    }

    fn outbound_done(&mut self, id: u64, status: Option<u16>, now_ms: u64) {
        self.0.outbound_done(id, status, now_ms);
    }

    fn directory(&self, base_url: &str) -> Vec<u8> {
        self.0.directory(base_url)
    }

    fn handle_deferred(&mut self, request: &Request, now_ms: u64) -> svc::Handled {
        self.0.handle_deferred(request, now_ms)
    }

    fn fetched(&mut self, token: u64, answer: Option<svc::Fetched>, now_ms: u64) -> Response {
        self.0.fetched(token, answer, now_ms)
    }
}

/// `--fault NAME` names (the kebab-case of `ServiceFaults`'s fields), in field order.
pub const FAULT_NAMES: &[&str] = &[
    "accept-ghost-member",
    "accept-two-commits-per-epoch",
    "panic-on-malformed",
    "reuse-key-material",
    "no-fanout-retry",
    "accept-stale-application",
    "skip-authentication",
    "no-franking",
    "accept-unverified-reports",
    "frank-other-suite",
    "mismatched-hub-sender",
    "relay-through-hub",
    "hard-coded-endpoints",
    "allow-hub-sender-removal",
    "open-proxy",
    "no-key-material-relay",
    "keep-departed-follower-senders",
];

/// The faults named by `--fault` flags.
pub fn faults_from_names(names: &[String]) -> Result<svc::ServiceFaults, String> {
    let mut faults = svc::ServiceFaults::default();
    for name in names {
        let flag = match name.as_str() {
            "accept-ghost-member" => &mut faults.accept_ghost_member,
            "accept-two-commits-per-epoch" => &mut faults.accept_two_commits_per_epoch,
            "panic-on-malformed" => &mut faults.panic_on_malformed,
            "reuse-key-material" => &mut faults.reuse_key_material,
            "no-fanout-retry" => &mut faults.no_fanout_retry,
            "accept-stale-application" => &mut faults.accept_stale_application,
            "skip-authentication" => &mut faults.skip_authentication,
            "no-franking" => &mut faults.no_franking,
            "accept-unverified-reports" => &mut faults.accept_unverified_reports,
            "frank-other-suite" => &mut faults.frank_other_suite,
            "mismatched-hub-sender" => &mut faults.mismatched_hub_sender,
            "relay-through-hub" => &mut faults.relay_through_hub,
            "hard-coded-endpoints" => &mut faults.hard_coded_endpoints,
            "allow-hub-sender-removal" => &mut faults.allow_hub_sender_removal,
            "open-proxy" => &mut faults.open_proxy,
            "no-key-material-relay" => &mut faults.no_key_material_relay,
            "keep-departed-follower-senders" => &mut faults.keep_departed_follower_senders,
            other => {
                return Err(format!(
                    "--fault `{other}`: unknown; expected one of {}",
                    FAULT_NAMES.join(", ")
                ));
            }
        };
        *flag = true;
    }
    Ok(faults)
}

/// Parses `--role`.
pub fn parse_role(role: &str) -> Result<svc::Role, String> {
    match role {
        "hub" => Ok(svc::Role::Hub),
        "follower" => Ok(svc::Role::Follower),
        other => Err(format!("--role `{other}`: expected hub or follower")),
    }
}

/// A reference provider.
pub fn provider(
    domain: &str,
    role: svc::Role,
    users: &[String],
    seed: u64,
    faults: svc::ServiceFaults,
) -> Box<dyn Service> {
    let users: Vec<&str> = users.iter().map(String::as_str).collect();
    Box::new(Reference(svc::ProviderService::with_faults(
        domain, role, &users, seed, faults,
    )))
}

/// A reference provider served on a free loopback port, with the certificates of
/// `tls_dir` and the default limits (`concord run`'s provider stage, tests).
pub async fn serve_on_loopback(
    tls_dir: &std::path::Path,
    domain: &str,
    role: svc::Role,
    users: &[String],
    seed: u64,
    faults: svc::ServiceFaults,
) -> Result<super::server::RunningServer, super::server::ServerError> {
    super::server::start(
        super::server::ServerOptions {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            domain: domain.to_string(),
            tls_dir: tls_dir.to_path_buf(),
            resolve: Vec::new(),
            body_limit: super::server::DEFAULT_BODY_LIMIT,
            request_timeout: super::server::DEFAULT_REQUEST_TIMEOUT,
            instrument: None,
            path_prefix: String::new(),
        },
        provider(domain, role, users, seed, faults),
    )
    .await
}

/// Checks a `--users` list: each a user name or `user@domain`, no blanks.
pub fn check_users(users: &[String]) -> Result<(), String> {
    match users
        .iter()
        .find(|u| u.is_empty() || u.contains(char::is_whitespace))
    {
        Some(user) => Err(format!("--users: `{user}` is not a user name")),
        None => Ok(()),
    }
}

/// The users of Concord's own followers in `concord provider-test`.
pub const FOLLOWER_USERS: &[&str] = &["carol", "dave", "erin"];

/// One of Concord's honest followers (the [`super::ptest::FollowerFactory`] of the command).
pub fn follower(domain: &str, seed: u64) -> Box<dyn Service> {
    let users: Vec<String> = FOLLOWER_USERS.iter().map(|u| u.to_string()).collect();
    provider(
        domain,
        svc::Role::Follower,
        &users,
        seed,
        svc::ServiceFaults::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_name_parses_and_sets_one_distinct_flag() {
        let mut seen = Vec::new();
        for name in FAULT_NAMES {
            let faults = faults_from_names(&[name.to_string()]).unwrap();
            assert_ne!(faults, svc::ServiceFaults::default(), "{name} sets nothing");
            assert!(
                !seen.contains(&faults),
                "{name} sets the same flag as another"
            );
            seen.push(faults);
        }
        let err = faults_from_names(&["crash".into()]).unwrap_err();
        assert!(
            err.contains("crash") && err.contains("accept-ghost-member"),
            "{err}"
        );
        assert!(parse_role("relay").unwrap_err().contains("hub or follower"));
    }
}
