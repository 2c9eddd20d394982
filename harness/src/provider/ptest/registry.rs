//! The provider checks' registry: every check of `concord provider-test`, in the order
//! they run, with the roles it applies to and the requirement IDs it exercises.

use super::SOURCE;

/// Which side of a room the provider under test plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestRole {
    Hub,
    Follower,
}

/// One conformance check: its name (as `--only` and the report name it), the roles it
/// applies to, and the requirement IDs it exercises.
#[derive(Debug, Clone, Copy)]
pub struct CheckInfo {
    pub name: &'static str,
    pub roles: &'static [TestRole],
    pub requirements: &'static [&'static str],
    pub what: &'static str,
}

const BOTH: &[TestRole] = &[TestRole::Hub, TestRole::Follower];
const HUB: &[TestRole] = &[TestRole::Hub];
const FOLLOWER: &[TestRole] = &[TestRole::Follower];

/// Every check, in the order they run (the malformed-bodies check last: it may bring the
/// server down).
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        name: "directory",
        roles: BOTH,
        requirements: &["MIMI-PROTOCOL-5.1-1", "MIMI-PROTOCOL-5.1-3"],
        what: "GET /.well-known/mimi-protocol-directory is a JSON object naming every endpoint",
    },
    CheckInfo {
        name: "auth-no-certificate",
        roles: BOTH,
        requirements: &["MIMI-PROTOCOL-4.1-4"],
        what: "a POST over TLS without a client certificate is refused (401 or in the handshake) on every endpoint",
    },
    CheckInfo {
        name: "auth-wrong-provider",
        roles: BOTH,
        requirements: &["MIMI-PROTOCOL-4.1-6", "MIMI-PROTOCOL-9-1"],
        what: "a request speaking for another provider's user than the client certificate proves is refused 403",
    },
    CheckInfo {
        name: "auth-untrusted-certificate",
        roles: BOTH,
        requirements: &["MIMI-PROTOCOL-4.1-5"],
        what: "a client certificate for a follower's domain from a CA the provider does not trust is refused, the genuine one is not",
    },
    CheckInfo {
        name: "key-material",
        roles: BOTH,
        requirements: &[
            "MIMI-PROTOCOL-4.3-1",
            "MIMI-PROTOCOL-5.2-9",
            "MIMI-PROTOCOL-5.2-11",
            "MIMI-PROTOCOL-5.2-12",
            "MIMI-PROTOCOL-5.2-13",
        ],
        what: "KeyPackages handed out are valid, unexpired, of the target user and never handed out twice; an unknown user is userUnknown",
    },
    CheckInfo {
        name: "key-material-suites",
        roles: BOTH,
        requirements: &["MIMI-PROTOCOL-5.2-7", "MIMI-PROTOCOL-5.2-8"],
        what: "KeyPackages are of an acceptable cipher suite and the user code matches the client codes; a request accepting only a GREASE suite gets noCompatibleMaterial, each client nothingCompatible",
    },
    CheckInfo {
        name: "key-material-signature",
        roles: BOTH,
        requirements: &["MIMI-PROTOCOL-5.2-4"],
        what: "a KeyMaterialRequest whose signature does not verify gets no KeyPackage; the same request properly signed does",
    },
    CheckInfo {
        name: "identifier-query",
        roles: BOTH,
        requirements: &[
            "MIMI-PROTOCOL-5.8-2",
            "MIMI-PROTOCOL-5.8-3",
            "MIMI-PROTOCOL-5.8-4",
            "MIMI-PROTOCOL-5.8-6",
        ],
        what: "a handle finds exactly its user (success), an unknown handle notFound, two handles must both match (notFound); each query asked twice gets the same answer",
    },
    CheckInfo {
        name: "consent-update",
        roles: BOTH,
        requirements: &[
            "MIMI-PROTOCOL-5.7-5",
            "MIMI-PROTOCOL-5.7-8",
            "MIMI-PROTOCOL-5.7-9",
        ],
        what: "updateConsent: a grant for a local requester 201, an unknown requester 404, a target of another provider than the sender's 403; a cancel with nothing to cancel 201",
    },
    CheckInfo {
        name: "consent",
        roles: BOTH,
        requirements: &[
            "MIMI-PROTOCOL-5.7-2",
            "MIMI-PROTOCOL-5.7-3",
            "MIMI-PROTOCOL-5.7-11",
        ],
        what: "requestConsent and its cancel are answered 201; from another provider than the requester's, 403",
    },
    CheckInfo {
        name: "room-fanout",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.3-10",
            "MIMI-PROTOCOL-5.4-4",
            "MIMI-PROTOCOL-5.5-1",
            "MIMI-PROTOCOL-5.5-2",
            "MIMI-PROTOCOL-5.5-6",
            "MIMI-CONTENT-3.4-1",
        ],
        what: "an Add's Welcome and a later application message reach the member's provider, open, and carry the accepted timestamp",
    },
    CheckInfo {
        name: "commit-race",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.3-11",
            "MIMI-PROTOCOL-5.3-14",
            "MIMI-PROTOCOL-7.1-2",
        ],
        what: "of two Commits for one epoch the first is accepted, the second answered wrongEpoch and never fanned out",
    },
    CheckInfo {
        name: "ghost-member",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.3-2",
            "MIMI-PROTOCOL-5.3-12",
            "MIMI-PROTOCOL-5.3-17",
            "MIMI-PROTOCOL-9-2",
        ],
        what: "a Commit adding a client of a user outside the participant list is answered notAllowed and not fanned out",
    },
    CheckInfo {
        name: "submit-refusals",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-4.2-1",
            "MIMI-PROTOCOL-4.2-2",
            "MIMI-PROTOCOL-5.4-1",
            "MIMI-PROTOCOL-5.4-2",
            "MIMI-PROTOCOL-5.4-5",
            "MIMI-PROTOCOL-5.4.1.4-1",
        ],
        what: "a Commit or a PublicMessage as an application message, a message of a future epoch, one from a non-participant and messages of another MLS group are refused and not fanned out; a proper one is delivered, its fanout not naming the sender in the clear",
    },
    CheckInfo {
        name: "participant-removal",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.3-3",
            "MIMI-PROTOCOL-5.3-5",
            "MIMI-PROTOCOL-5.3-6",
            "MIMI-PROTOCOL-5.5-22",
            "MIMI-PROTOCOL-7.1-1",
            "MIMI-PROTOCOL-7.3-1",
        ],
        what: "removing a participant but not their client is refused, both in one Commit accepted and sent to the removed client's provider; the removed client's Commit and proposal at the new epoch are refused; nothing refused is fanned out; every Commit fanned out is a client's",
    },
    CheckInfo {
        name: "invalid-proposal-refs",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.3-13"],
        what: "a Remove proposal of a leaf the tree lacks is answered invalidProposal listing exactly its ProposalRef",
    },
    CheckInfo {
        name: "proposal-bundle",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.5-10", "MIMI-PROTOCOL-5.3-16"],
        what: "a leave proposal with another in moreProposals is fanned out with the same moreProposals; a Commit leaving both out is notAllowed and not fanned out; one committing both by reference is accepted",
    },
    CheckInfo {
        name: "participant-changes",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-7.5-6"],
        what: "a Commit whose participant list changes add one user twice is refused and not fanned out; the same with the change once is accepted",
    },
    CheckInfo {
        name: "notify-headers",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-4.1-1",
            "MIMI-PROTOCOL-4.1-2",
            "MIMI-PROTOCOL-4.1-3",
        ],
        what: "every /notify the hub sends names the target follower in Host and carries From: mimi@<hub domain> as a bare addr-spec",
    },
    CheckInfo {
        name: "external-join-authorization",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.6-7"],
        what: "in a closed room, an external Commit of a user outside the participant list is refused and not fanned out; one of a participant without a client is accepted",
    },
    CheckInfo {
        name: "abuse-report",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.9-2"],
        what: "an abuse report to the room's hub is answered 2xx with no body",
    },
    CheckInfo {
        name: "franking",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.4-3",
            "MIMI-PROTOCOL-5.4.1-3",
            "MIMI-PROTOCOL-5.4.1-4",
            "MIMI-PROTOCOL-5.4.1-5",
            "MIMI-PROTOCOL-5.4.1.2-1",
            "MIMI-PROTOCOL-5.4.1.2-2",
            "MIMI-PROTOCOL-5.4.1.2-3",
            "MIMI-PROTOCOL-5.4.1.2-4",
            "MIMI-PROTOCOL-5.4.1.2-5",
            "MIMI-PROTOCOL-5.9-3",
            "MIMI-PROTOCOL-5.9-4",
            "MIMI-PROTOCOL-10.1-1",
            "MIMI-PROTOCOL-10.2-1",
        ],
        what: "a message with a frank_aad tag in a room naming the hub's franking agent (GroupContext component 0x0021) is franked: the frank comes in the answer and the fanout, names the room's suite and verifies with the agent's key; reports of it are accepted, altered ones (content, timestamp, signature) refused; a tag outside frank_aad or a room without the agent in 0x0021 gets no frank",
    },
    CheckInfo {
        name: "frank-verification",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.4.1.1-1",
            "MIMI-PROTOCOL-5.4.1.1-2",
            "MIMI-PROTOCOL-5.4.1.1-3",
            "MIMI-PROTOCOL-5.4.1.1-4",
            "MIMI-PROTOCOL-5.4.1.3-1",
            "MIMI-PROTOCOL-5.4.1.3-2",
            "MIMI-PROTOCOL-5.4.1.3-3",
            "MIMI-PROTOCOL-5.4.1.3-4",
            "MIMI-PROTOCOL-5.4.1.3-5",
            "MIMI-PROTOCOL-5.4.1.3-6",
        ],
        what: "a frank of the hub under test verifies at the receiver; altered in transit (suite, signature, timestamp, missing frank_aad) or checked against another hub domain, sender or room it is refused for that rule, as are franked messages breaking a sender rule (no senderUri/roomUri, senderUri not the sendingUri, a tag of another salt)",
    },
    CheckInfo {
        name: "stale-application",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.4-6"],
        what: "an application message of an older epoch is answered epochTooOld and not fanned out",
    },
    CheckInfo {
        name: "retransmission",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.3-18", "MIMI-PROTOCOL-5.5-7"],
        what: "a byte-identical submitMessage with the same Idempotency-Key gets the same answer and is fanned out once",
    },
    CheckInfo {
        name: "fanout-retry",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.5-7",
            "MIMI-PROTOCOL-5.5-13",
            "MIMI-PROTOCOL-5.5-17",
        ],
        what: "a /notify a follower answers 503 is resent byte-identical and delivered",
    },
    CheckInfo {
        name: "group-info",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.6-1",
            "MIMI-PROTOCOL-5.6-2",
            "MIMI-PROTOCOL-5.6-4",
            "MIMI-PROTOCOL-5.6-5",
        ],
        what: "a participant gets the GroupInfo signed by the hub and encrypted to its key; a non-participant gets notAuthorized; a forged request 4xx",
    },
    CheckInfo {
        name: "group-info-verification",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.6-6"],
        what: "the hub's GroupInfoResponse verifies with its hub_sender key and opens at Concord's requester; altered in transit (signature, hub_sender key or credential, ciphertext, cipher suite) or taken for another room it is refused before use",
    },
    CheckInfo {
        name: "no-hub-relay",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-8-1", "MIMI-PROTOCOL-5.8-1"],
        what: "requestConsent, updateConsent and identifierQuery sent to the hub for a user or domain of another provider are not passed on to that provider",
    },
    CheckInfo {
        name: "hub-external-sender",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-7.4-3"],
        what: "a room whose external_senders names another sender than the hub (its entry from the directory) is refused; in a room with the hub's entry, Commits whose GroupContextExtensions drop it (or the extension) are refused, one keeping it accepted",
    },
    CheckInfo {
        name: "directory-endpoints",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-5.1-2"],
        what: "the hub's /notify requests reach Concord's followers at the URLs their directories name (under a path prefix), not at hard-coded paths",
    },
    CheckInfo {
        name: "fanout-impaired",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.5-7",
            "MIMI-PROTOCOL-5.5-16",
            "MIMI-PROTOCOL-5.5-17",
            "MIMI-PROTOCOL-5.5-8",
        ],
        what: "behind a seeded impairing proxy (drops, lost answers, duplicates, delays, reordering) every accepted message reaches the follower, first copies in acceptance order",
    },
    CheckInfo {
        name: "notify-delivery",
        roles: FOLLOWER,
        requirements: &[
            "MIMI-PROTOCOL-5.5-11",
            "MIMI-PROTOCOL-5.5-14",
            "MIMI-PROTOCOL-4.1-6",
        ],
        what: "a /notify from the room's hub is answered 201, a duplicate 201, one from another provider 403",
    },
    CheckInfo {
        name: "follower-external-sender",
        roles: HUB,
        requirements: &["MIMI-PROTOCOL-7.4-5", "MIMI-PROTOCOL-7.4-7"],
        what: "a Commit removing a follower's last participant while external_senders keeps that follower's entry is refused; the same Commit dropping the entry is accepted",
    },
    CheckInfo {
        name: "key-material-via-hub",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.2-1",
            "MIMI-PROTOCOL-4.3.1-2",
            "MIMI-PROTOCOL-5.2-20",
        ],
        what: "a keyMaterial request for a room, sent to its hub, is passed on to the target's provider and its answer returned unchanged; the Welcome of the Commit adding that KeyPackage reaches that provider",
    },
    CheckInfo {
        name: "proxy-download",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.10.2-1",
            "MIMI-PROTOCOL-5.10.2-2",
            "MIMI-PROTOCOL-5.10.2-4",
            "MIMI-PROTOCOL-5.10.2-5",
        ],
        what: "an asset of a peer provider's asset server comes through GET proxyDownload byte for byte, a missing one gets an HTTP error, and a URL naming a non-peer host (the same server by address) is refused without a fetch",
    },
    CheckInfo {
        name: "ohttp-gateway",
        roles: HUB,
        requirements: &[
            "MIMI-PROTOCOL-5.10.3-1",
            "MIMI-PROTOCOL-5.10.3-2",
            "MIMI-PROTOCOL-5.10.3-3",
            "MIMI-PROTOCOL-5.10.3-7",
        ],
        what: "a GET of a peer provider's asset, encapsulated to the hub's OHTTP key configuration and relayed by a follower, comes back encapsulated byte for byte; one whose target is no peer's asset server is refused without a fetch",
    },
    CheckInfo {
        name: "malformed-bodies",
        roles: BOTH,
        requirements: &["MIMI-PROTOCOL-5-1", "MIMI-PROTOCOL-5.3-15"],
        what: "seeded fuzzed bodies on every endpoint each get a 4xx, and the server stays up",
    },
];

/// The check named `name`.
pub fn check(name: &str) -> Option<&'static CheckInfo> {
    CHECKS.iter().find(|c| c.name == name)
}

/// The traceability registry's view (harness/src/catalog.rs): one citation per check.
pub fn citations() -> Vec<crate::catalog::CheckCitation> {
    CHECKS
        .iter()
        .map(|c| crate::catalog::CheckCitation {
            check: format!("{SOURCE}/{}", c.name),
            source: "harness/src/provider/ptest/registry.rs",
            requirements: c.requirements.iter().map(|r| r.to_string()).collect(),
        })
        .collect()
}
