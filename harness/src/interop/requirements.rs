//! Which RFC 9420 requirements an interop case exercises, and which one a failed check
//! names, so every interop verdict cites the catalog (spec/catalog/rfc9420/).
//!
//! ```text
//! script steps ──for_action──┐
//! every case: EVERY_CASE ────┼──> CaseRecord.requirements (what a pass is evidence of)
//! failed check ──for_check───┘──> FailureEntry.requirements (what a failure breaks)
//! ```

/// What every case checks, whatever its script: the strict decoding of every message a client
/// emits, and agreement of all members on the epoch authenticator, the exporter and StateAuth
/// after every commit and join.
pub const EVERY_CASE: &[&str] = &[
    "RFC9420-2.1.2-1",
    "RFC9420-8-1",
    "RFC9420-8.5-1",
    "RFC9420-12.4.2-19",
];

/// The requirements a script action exercises (upstream action names).
pub fn for_action(action: &str) -> &'static [&'static str] {
    match action {
        "createGroup" => &["RFC9420-8-1"],
        // Every KeyPackage a client emits is validated as a member validates one before
        // adding it, with its lifetime against the current time (attribution).
        "createKeyPackage" => &[
            "RFC9420-10-3",
            "RFC9420-10.1-1",
            "RFC9420-10-6",
            "RFC9420-10-7",
            "RFC9420-10-8",
            "RFC9420-10-9",
            "RFC9420-10-10",
            "RFC9420-7.2-10",
            "RFC9420-7.3-10",
        ],
        // The reference opens every Welcome a committer made, as each joiner, and joins
        // with it; then the joiner's epoch authenticator must agree with the members'.
        "joinGroup" => &[
            "RFC9420-12.4.3.1-1",
            "RFC9420-12.4.3.1-2",
            "RFC9420-12.4.3.1-3",
            "RFC9420-12.4.3.1-23",
            "RFC9420-12.4.3.1-24",
            "RFC9420-12.4.1-15",
            "RFC9420-12.4.1-17",
            "RFC9420-12.4.1-18",
            "RFC9420-12.4.1-20",
        ],
        "externalJoin" => &[
            "RFC9420-12.4.3.2-1",
            "RFC9420-12.4.3.2-2",
            "RFC9420-12.4.3.2-3",
            "RFC9420-8.3-1",
            "RFC9420-8.3-2",
            "RFC9420-8-2",
            "RFC9420-12.1.6-2",
            "RFC9420-12.4.1-5",
            "RFC9420-12.4.2-11",
            "RFC9420-12.4.3.2-5",
        ],
        "groupInfo" => &["RFC9420-12.4.3-1", "RFC9420-12.4.3.3-1"],
        "add" | "addProposal" => &["RFC9420-12.1.1-1", "RFC9420-12.1.1-2"],
        "updateProposal" => &["RFC9420-12.1.2-1", "RFC9420-12.1.2-2"],
        "remove" | "removeProposal" => &["RFC9420-12.1.3-1", "RFC9420-12.1.3-2"],
        "externalPSK" | "externalPSKProposal" | "installExternalPSK" => {
            &["RFC9420-8.4-1", "RFC9420-8.4-2", "RFC9420-12.1.4-3"]
        }
        "resumptionPSK" | "resumptionPSKProposal" => &["RFC9420-8.4-4", "RFC9420-12.1.4-3"],
        "groupContextExtensions" | "groupContextExtensionsProposal" => {
            &["RFC9420-12.1.7-2", "RFC9420-12.3-2"]
        }
        "addExternalSigner" | "externalSignerProposal" => {
            &["RFC9420-12.1.8-1", "RFC9420-12.1.8-2", "RFC9420-6.1-4"]
        }
        // The new member's Add must be a proposal PublicMessage (wire-format check) that
        // the members accept: signed with its KeyPackage's leaf key.
        "newMemberAddProposal" => &[
            "RFC9420-12.1.8-2",
            "RFC9420-12.1.8-3",
            "RFC9420-6.1-9",
            "RFC9420-6.1-10",
        ],
        // Every commit a client makes is processed by the reference (a shadow member) and
        // by every other member, whose epoch authenticators must then agree: a committer
        // that derives or protects anything otherwise than the receivers do is caught.
        "commit" | "fullCommit" => &[
            "RFC9420-12.4-2",
            "RFC9420-12.4-7",
            "RFC9420-12.2-2",
            "RFC9420-12.3-1",
            "RFC9420-6.1-2",
            "RFC9420-8.1-1",
            "RFC9420-8.1-3",
            "RFC9420-8.1-4",
            "RFC9420-8.1-5",
            "RFC9420-7.5-5",
            "RFC9420-7.6-3",
            "RFC9420-12.4.1-2",
            "RFC9420-12.4.1-3",
            "RFC9420-12.4.1-6",
            "RFC9420-12.4.1-7",
            "RFC9420-12.4.1-8",
            "RFC9420-12.4.1-9",
            "RFC9420-12.4.1-11",
            "RFC9420-12.4.1-12",
            "RFC9420-12.4.1-13",
            "RFC9420-12.4.1-14",
        ],
        "handleCommit" => &[
            "RFC9420-12.4.2-8",
            "RFC9420-12.4.2-16",
            "RFC9420-12.4.2-2",
            "RFC9420-12.4.2-5",
            "RFC9420-12.4.2-6",
            "RFC9420-12.4.2-15",
            "RFC9420-12.4.2-20",
        ],
        "handlePendingCommit" => &["RFC9420-12.4.2-17", "RFC9420-12.4.2-19"],
        // Every other member decrypts and verifies what the sender protected.
        "protect" => &[
            "RFC9420-6-1",
            "RFC9420-6.3.1-1",
            "RFC9420-6.3.2-1",
            "RFC9420-6.1-2",
            "RFC9420-6.3.1-5",
            "RFC9420-6.3.1-8",
            "RFC9420-6.3.2-4",
        ],
        "unprotect" => &["RFC9420-6.3.1-1", "RFC9420-6.3.1-6", "RFC9420-6.3.2-2"],
        "reinit" => &["RFC9420-11.2-1", "RFC9420-11.2-2", "RFC9420-12.1.5-2"],
        "branch" => &["RFC9420-11.3-1", "RFC9420-11.3-2", "RFC9420-11.3-3"],
        _ => &[],
    }
}

/// The requirements a failed check names (the check names of [`super::runner::Problem`]).
/// A refusal names the requirements of the refused action instead.
pub fn for_check(check: &str) -> &'static [&'static str] {
    match check {
        "decode" => &["RFC9420-2.1.2-1", "RFC9420-10.1-1", "RFC9420-7.3-3"],
        "wire-format" => &["RFC9420-6-1", "RFC9420-12.1.8-3"],
        "handshake-mode" => &["RFC9420-6-2", "RFC9420-6-3"],
        "plaintext" | "authenticated-data" => &["RFC9420-6.3.1-1", "RFC9420-6.3.1-6"],
        "export" | "export-empty" | "export-length" => &["RFC9420-8.5-1"],
        "epoch-authenticator" | "epoch-authenticator-empty" | "state-auth" | "state-auth-empty" => {
            &["RFC9420-8-1", "RFC9420-12.4.2-19"]
        }
        // A contract of the interop interface, not of the RFC: nothing to cite, and the
        // step's requirements are not the cause either.
        "external-tree-ignored"
        | "external-tree-missing"
        | "branch-extensions-ignored"
        | "client-down"
        | "client-fault" => &[],
        _ => &[],
    }
}

/// The requirements a problem cites: those of its cause when the check that found it
/// knows them (a violation the reference found in a client's output), else
/// [`for_failure`].
pub fn for_problem(problem: &super::runner::Problem) -> Vec<&'static str> {
    if problem.requirements.is_empty() {
        for_failure(&problem.check, problem.action.as_deref())
    } else {
        problem.requirements.clone()
    }
}

/// The requirements a failure cites: its check's, else (a refusal, a client fault) its
/// action's.
pub fn for_failure(check: &str, action: Option<&str>) -> Vec<&'static str> {
    let by_check = for_check(check);
    if !by_check.is_empty() {
        return by_check.to_vec();
    }
    if matches!(
        check,
        "external-tree-ignored"
            | "external-tree-missing"
            | "branch-extensions-ignored"
            | "client-down"
            | "client-fault"
    ) {
        return Vec::new();
    }
    action.map(for_action).unwrap_or_default().to_vec()
}

/// Every action and check the runner knows, with what it cites: the interop runner's entry
/// in the traceability registry.
pub fn citations() -> Vec<(String, Vec<&'static str>)> {
    const ACTIONS: &[&str] = &[
        "createGroup",
        "createKeyPackage",
        "joinGroup",
        "externalJoin",
        "groupInfo",
        "addProposal",
        "updateProposal",
        "removeProposal",
        "externalPSKProposal",
        "resumptionPSKProposal",
        "groupContextExtensionsProposal",
        "externalSignerProposal",
        "newMemberAddProposal",
        "commit",
        "handleCommit",
        "handlePendingCommit",
        "protect",
        "unprotect",
        "reinit",
        "branch",
    ];
    const CHECKS: &[&str] = &[
        "decode",
        "wire-format",
        "handshake-mode",
        "plaintext",
        "export",
        "epoch-authenticator",
    ];
    let mut out = vec![("interop: every case".to_string(), EVERY_CASE.to_vec())];
    out.extend(
        ACTIONS
            .iter()
            .map(|a| (format!("interop action {a}"), for_action(a).to_vec())),
    );
    out.extend(
        CHECKS
            .iter()
            .map(|c| (format!("interop check {c}"), for_check(c).to_vec())),
    );
    out
}

/// The requirements a case over `actions` exercises, sorted and without repeats.
pub fn for_case<'a>(actions: impl Iterator<Item = &'a str>) -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = EVERY_CASE.to_vec();
    for action in actions {
        ids.extend_from_slice(for_action(action));
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cited_id_is_in_the_catalog() {
        for (what, ids) in citations() {
            assert!(!ids.is_empty(), "{what} cites nothing");
            for id in ids {
                assert!(
                    concord_spec::requirement(id).is_some(),
                    "{what} cites {id}, which the catalog lacks"
                );
            }
        }
    }

    #[test]
    fn a_refusal_cites_its_action_and_a_check_its_own() {
        assert_eq!(
            for_failure("refused", Some("joinGroup")),
            for_action("joinGroup")
        );
        assert_eq!(
            for_failure("decode", Some("joinGroup")),
            for_check("decode")
        );
        assert!(for_failure("script", None).is_empty());
    }

    #[test]
    fn a_case_cites_what_every_case_checks_and_its_actions() {
        let ids = for_case(["createGroup", "protect", "protect"].into_iter());
        assert!(ids.contains(&"RFC9420-6-1"));
        assert!(EVERY_CASE.iter().all(|id| ids.contains(id)));
        let mut sorted = ids.clone();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }
}
