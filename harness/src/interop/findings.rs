//! Findings reported once per client: a deviation that would end every case the client
//! takes part in (an Export stub answering empty bytes, a request it ignores) is recorded
//! the first time it is seen, and the cases go on without that check for that client, so
//! one stub never hides everything else about a client.
//!
//! ```text
//! any lane ── report(client, check, ...) ──> Findings (first sighting kept, in plan order)
//! end of run ── records() ──> one result per (client, check): `findings/client-N/CHECK`,
//!                              counted as one failure, charged to that client
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;

/// One deviation of one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The client's index in `--client` order.
    pub client: usize,
    /// The check that found it (`export-empty`, `external-tree-ignored`, ...).
    pub check: &'static str,
    /// The actor the client played when it was first seen.
    pub actor: String,
    /// What was seen, the first time.
    pub detail: String,
    /// The case it was first seen in, and that case's position in the plan.
    pub case: String,
    pub position: usize,
    /// How many times it was seen over the run.
    pub seen: usize,
    /// The requirements it breaks (empty: a contract of the interop interface, not of
    /// the RFC).
    pub requirements: Vec<&'static str>,
}

/// The run's findings, shared by every lane.
#[derive(Debug, Default)]
pub struct Findings {
    found: Mutex<BTreeMap<(usize, &'static str), Finding>>,
}

impl Findings {
    /// Records a sighting; the earliest case in plan order keeps the detail, so the result
    /// does not depend on the lanes' timing.
    pub fn report(&self, finding: Finding) {
        let Ok(mut found) = self.found.lock() else {
            return;
        };
        match found.get_mut(&(finding.client, finding.check)) {
            Some(known) => {
                known.seen += 1;
                if finding.position < known.position {
                    let seen = known.seen;
                    *known = Finding { seen, ..finding };
                }
            }
            None => {
                found.insert(
                    (finding.client, finding.check),
                    Finding { seen: 1, ..finding },
                );
            }
        }
    }

    /// Whether `client` has a finding of `check` already (the check is then skipped).
    pub fn has(&self, client: usize, check: &str) -> bool {
        self.found
            .lock()
            .is_ok_and(|found| found.keys().any(|(c, k)| *c == client && *k == check))
    }

    /// Every finding, by client then check.
    pub fn all(&self) -> Vec<Finding> {
        self.found
            .lock()
            .map(|found| found.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(client: usize, check: &'static str, position: usize) -> Finding {
        Finding {
            client,
            check,
            actor: "alice".into(),
            detail: format!("seen at {position}"),
            case: format!("case-{position}"),
            position,
            seen: 0,
            requirements: Vec::new(),
        }
    }

    #[test]
    fn one_finding_per_client_and_check_keeping_the_earliest_case() {
        let findings = Findings::default();
        findings.report(finding(1, "export-empty", 7));
        findings.report(finding(1, "export-empty", 3));
        findings.report(finding(1, "export-empty", 9));
        findings.report(finding(0, "export-empty", 5));
        let all = findings.all();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].case, "case-3");
        assert_eq!(all[1].seen, 3);
        assert!(findings.has(1, "export-empty"));
        assert!(!findings.has(1, "state-auth-empty"));
    }
}
