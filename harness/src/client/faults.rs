//! Test doubles of faulty MLS interop servers: the reference served by `concord
//! serve-client --fault NAME`, misbehaving the way real MLSClient servers do, so that what
//! Concord concludes about such servers can itself be tested.
//!
//! ```text
//! MLSClient call ──> FaultyClient ─┬─ count the call over every connection
//!                                  │    (panic-after-calls, poison-after-calls)
//!                                  ├─ tamper with the request (ignore-branch-extensions)
//!                                  ├─> ReferenceClient with Deviations
//!                                  │    (list-default-extensions, ignore-external-tree)
//!                                  └─ tamper with the answer
//!                                       (Name, empty-export, empty-state-auth)
//! shared-state: one FaultyClient behind every connection instead of one per connection
//! ```
//!
//! | fault | what the server does |
//! |---|---|
//! | `list-default-extensions` | every leaf it makes lists the default extension types 1-5 and proposal types 1-7 in its capabilities (RFC 9420 section 7.2 forbids it; OpenMLS does it), signed as listed |
//! | `ignore-external-tree` | Commit, ReInitWelcome and CreateBranch with `external_tree` keep the `ratchet_tree` extension in the Welcome's GroupInfo, and return the tree too |
//! | `empty-export` | Export answers an empty `exported_secret` |
//! | `empty-state-auth` | StateAuth answers empty bytes |
//! | `ignore-branch-extensions` | CreateBranch makes the subgroup without the GroupContext extensions asked for |
//! | `shared-state` | one client instance behind every connection (as the working group's servers are) |
//! | `panic-after-calls=N` | call N+1 panics, and the process exits (the panic hook `concord serve-client` installs) |
//! | `poison-after-calls=N` | every call after the N-th fails with INTERNAL, "PoisonError: ...", as a server whose mutex an earlier panic poisoned |
//! | `accept-invalid` | every receive-side call the reference refuses (JoinGroup, ExternalJoin, HandleCommit, Unprotect, and the ReInit and branch joins) answers success instead: a client without the receive-side validation that the negative vectors target (`concord adversary` must catch it) |
//!
//! With any fault the Name RPC answers `concord-reference+NAME` (several joined with `+`),
//! so a report names the faulty server. Without one, `concord serve-client` does not use
//! this module.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::proto::*;
use super::reference::{Deviations, ReferenceClient};
use super::serve::Served;
use super::{ClientError, ClientUnderTest};

/// The valid `--fault` values (`N` is a number of calls).
pub const FAULT_NAMES: &[&str] = &[
    "list-default-extensions",
    "ignore-external-tree",
    "empty-export",
    "empty-state-auth",
    "ignore-branch-extensions",
    "shared-state",
    "panic-after-calls=N",
    "poison-after-calls=N",
    "accept-invalid",
];

/// The calls that take input from a peer (a Welcome, a GroupInfo, a commit or a message):
/// the ones `accept-invalid` answers with success whatever the reference said.
const RECEIVE_SIDE: &[&str] = &[
    "JoinGroup",
    "ExternalJoin",
    "HandleCommit",
    "Unprotect",
    "HandleReInitCommit",
    "HandleReInitWelcome",
    "HandleBranch",
];

/// The first state ID `accept-invalid` hands out for a join it pretended to accept (far
/// above the reference's own, so a later call on it is refused as an unknown state).
const PRETENDED_STATES: u32 = 0x8000_0000;

/// What a call after the threshold of `poison-after-calls` fails with.
pub const POISONED: &str = "PoisonError: lock poisoned by an earlier panic";

/// The faults a served reference has, from `--fault` flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// The faults as named, without repeats, in the order given.
    names: Vec<String>,
    pub list_default_extensions: bool,
    pub ignore_external_tree: bool,
    pub empty_export: bool,
    pub empty_state_auth: bool,
    pub ignore_branch_extensions: bool,
    pub shared_state: bool,
    pub accept_invalid: bool,
    /// Calls answered before the process panics and exits.
    pub panic_after_calls: Option<u64>,
    /// Calls answered before every call fails with [`POISONED`].
    pub poison_after_calls: Option<u64>,
}

impl Faults {
    /// The faults named by `names`; an unknown name, or a count that is not a number,
    /// is an error that lists the valid names.
    pub fn from_names(names: &[String]) -> Result<Faults, String> {
        let mut faults = Faults::default();
        for given in names {
            let (name, count) = match given.split_once('=') {
                Some((name, count)) => (name, Some(count)),
                None => (given.as_str(), None),
            };
            let flag = match name {
                "list-default-extensions" => Some(&mut faults.list_default_extensions),
                "ignore-external-tree" => Some(&mut faults.ignore_external_tree),
                "empty-export" => Some(&mut faults.empty_export),
                "empty-state-auth" => Some(&mut faults.empty_state_auth),
                "ignore-branch-extensions" => Some(&mut faults.ignore_branch_extensions),
                "shared-state" => Some(&mut faults.shared_state),
                "accept-invalid" => Some(&mut faults.accept_invalid),
                _ => None,
            };
            let threshold = match name {
                "panic-after-calls" => Some(&mut faults.panic_after_calls),
                "poison-after-calls" => Some(&mut faults.poison_after_calls),
                _ => None,
            };
            let canonical = match (flag, threshold, count) {
                (Some(flag), None, None) => {
                    *flag = true;
                    name.to_string()
                }
                (None, Some(threshold), Some(count)) => {
                    let count: u64 = count.parse().map_err(|_| {
                        format!("--fault `{given}`: `{name}=N` takes a number of calls")
                    })?;
                    if threshold.is_some_and(|earlier| earlier != count) {
                        return Err(format!("--fault `{name}` is given twice"));
                    }
                    *threshold = Some(count);
                    format!("{name}={count}")
                }
                _ => {
                    return Err(format!(
                        "--fault `{given}`: unknown; expected one of {}",
                        FAULT_NAMES.join(", ")
                    ));
                }
            };
            if !faults.names.contains(&canonical) {
                faults.names.push(canonical);
            }
        }
        Ok(faults)
    }

    /// No fault at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The faults as named (`panic-after-calls=3`), in the order given.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// What the reference is told to do differently.
    fn deviations(&self) -> Deviations {
        Deviations {
            list_default_types: self.list_default_extensions,
            ignore_external_tree: self.ignore_external_tree,
        }
    }
}

/// The reference with faults, behind the MLSClient interface.
pub struct FaultyClient {
    inner: ReferenceClient,
    faults: Arc<Faults>,
    /// Calls so far, over every instance of the server.
    calls: Arc<AtomicU64>,
    /// Joins pretended by `accept-invalid` so far (the next pretended state ID).
    pretended: u32,
}

impl std::fmt::Debug for FaultyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyClient")
            .field("faults", &self.faults.names)
            .finish_non_exhaustive()
    }
}

impl FaultyClient {
    /// `reference` with `faults`, counting its calls in `calls` (shared by every instance
    /// of one server, so the thresholds count calls over all connections).
    pub fn new(reference: ReferenceClient, faults: Arc<Faults>, calls: Arc<AtomicU64>) -> Self {
        FaultyClient {
            inner: reference.with_deviations(faults.deviations()),
            faults,
            calls,
            pretended: 0,
        }
    }

    /// Counts one call; past a threshold, panics or fails as a poisoned server.
    fn count(&self, method: &'static str) -> Result<(), ClientError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst).saturating_add(1);
        if let Some(limit) = self.faults.panic_after_calls
            && call > limit
        {
            panic!("{method}: call {call} after panic-after-calls={limit}: the client crashed");
        }
        match self.faults.poison_after_calls {
            // INTERNAL on the wire, as a server answers when a lock it takes is poisoned.
            // In process the same answer: a refusal with code INTERNAL.
            Some(limit) if call > limit => Err(ClientError::Refused {
                method,
                code: "Internal".into(),
                message: POISONED.into(),
            }),
            _ => Ok(()),
        }
    }

    /// The faults that change what the reference is asked.
    fn tamper_with_request(&self, request: &mut dyn Any) {
        if self.faults.ignore_branch_extensions
            && let Some(branch) = request.downcast_mut::<CreateBranchRequest>()
        {
            branch.extensions.clear();
        }
    }

    /// `accept-invalid`: the success a client without receive-side validation answers
    /// where the reference refused. A join gets a new state ID; a commit or message
    /// handled leaves the state where it was (`state_id` of the request).
    fn accept_anyway<R: Any + Default>(
        &mut self,
        method: &'static str,
        refused: ClientError,
        state_id: Option<u32>,
    ) -> Result<R, ClientError> {
        if !(self.faults.accept_invalid
            && RECEIVE_SIDE.contains(&method)
            && matches!(refused, ClientError::Refused { .. }))
        {
            return Err(refused);
        }
        let state_id = state_id.unwrap_or_else(|| {
            self.pretended = self.pretended.wrapping_add(1);
            PRETENDED_STATES.wrapping_add(self.pretended)
        });
        let mut answer = R::default();
        let any: &mut dyn Any = &mut answer;
        if let Some(joined) = any.downcast_mut::<JoinGroupResponse>() {
            joined.state_id = state_id;
        } else if let Some(joined) = any.downcast_mut::<ExternalJoinResponse>() {
            joined.state_id = state_id;
        } else if let Some(handled) = any.downcast_mut::<HandleCommitResponse>() {
            handled.state_id = state_id;
        }
        Ok(answer)
    }

    /// The faults that change what the reference answered.
    fn tamper_with_answer(&self, answer: &mut dyn Any) {
        if let Some(name) = answer.downcast_mut::<NameResponse>() {
            name.name = format!("{}+{}", name.name, self.faults.names.join("+"));
        }
        if self.faults.empty_export
            && let Some(export) = answer.downcast_mut::<ExportResponse>()
        {
            export.exported_secret.clear();
        }
        if self.faults.empty_state_auth
            && let Some(state_auth) = answer.downcast_mut::<StateAuthResponse>()
        {
            state_auth.state_auth_secret.clear();
        }
    }
}

// Every RPC goes through the same pass-through (the service's method table), so none
// escapes the call count; the two tamper hooks pick the requests and answers they change
// by type.
macro_rules! faulty_methods {
    ($(($method:ident, $rpc:ident, $request:ident, $response:ident)),* $(,)?) => {
        impl ClientUnderTest for FaultyClient {
            $(
                fn $method(&mut self, mut request: $request) -> Result<$response, ClientError> {
                    self.count(stringify!($rpc))?;
                    self.tamper_with_request(&mut request);
                    let state_id = handled_state(&request);
                    let mut answer = match self.inner.$method(request) {
                        Ok(answer) => answer,
                        Err(refused) => self.accept_anyway(stringify!($rpc), refused, state_id)?,
                    };
                    self.tamper_with_answer(&mut answer);
                    Ok(answer)
                }
            )*
        }
    };
}
concord_client::for_each_mls_client_method!(faulty_methods);

/// The state a commit or message is handled in (kept by a pretended success); `None` for a
/// join, which makes a new state.
fn handled_state(request: &dyn Any) -> Option<u32> {
    if let Some(commit) = request.downcast_ref::<HandleCommitRequest>() {
        return Some(commit.state_id);
    }
    request
        .downcast_ref::<UnprotectRequest>()
        .map(|message| message.state_id)
}

/// The server `concord serve-client --fault` runs: faulty reference instances, one per
/// connection seeded as the healthy server seeds them, or one for every connection with
/// `shared-state`. One call count covers them all.
pub fn served(faults: Faults, seed: u64) -> Served {
    let faults = Arc::new(faults);
    let calls = Arc::new(AtomicU64::new(0));
    if faults.shared_state {
        let client = FaultyClient::new(ReferenceClient::new(seed), faults, calls);
        return Served::new(Box::new(client));
    }
    Served::per_connection(Box::new(move |n| {
        let seed = crate::interop::session::instance_seed(seed, n as usize, 0);
        let client = FaultyClient::new(ReferenceClient::new(seed), faults.clone(), calls.clone());
        Ok(Box::new(client) as Box<dyn ClientUnderTest>)
    }))
}

#[cfg(test)]
mod tests;
