//! Negative vectors: the committed set is what the generator writes, the reference meets
//! every case, the cited requirements exist, every validation list of RFC 9420 is hit,
//! and the client runner tells a strict client from a lax one.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::PathBuf;

use concord_harness::adversary::client::{ClientVerdict, run_client};
use concord_harness::adversary::{self, Expect, FAMILIES, NegativeFile};
use concord_harness::client::proto::{
    HandleCommitRequest, HandleCommitResponse, JoinGroupRequest, JoinGroupResponse,
    UnprotectRequest, UnprotectResponse,
};
use concord_harness::client::reference::ReferenceClient;
use concord_harness::client::{ClientError, ClientUnderTest};
use concord_reference::crypto::CipherSuite;

fn committed() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/negative"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-negative-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `vectors/negative` is what `concord vectors generate --negative` writes today.
#[test]
fn the_committed_negative_set_is_current() {
    let dir = scratch("current");
    let written = adversary::generate::generate(&dir, &CipherSuite::ALL, 0)
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    assert_eq!(written.len(), FAMILIES.len());
    for file in &written {
        let name = file.path.file_name().unwrap();
        assert!(
            std::fs::read(committed().join(name)).ok() == std::fs::read(&file.path).ok(),
            "vectors/negative/{} is stale: rerun `concord vectors generate --negative --out vectors/negative`",
            name.to_string_lossy()
        );
    }
    let committed_files = std::fs::read_dir(committed())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(
        committed_files,
        FAMILIES.len(),
        "stray files in vectors/negative"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every case passes on the reference; at least 300 over all seven suites.
#[test]
fn the_reference_meets_every_negative_vector() {
    let summary = concord_harness::vectors::verify_directory(&committed(), None).unwrap();
    assert_eq!(summary.failed, 0, "{:#?}", summary.files);
    assert_eq!(summary.skipped, 0);
    assert!(summary.passed >= 300, "only {} cases", summary.passed);
    assert_eq!(summary.files.len(), FAMILIES.len());
    for file in &summary.files {
        assert_eq!(
            file.cipher_suites,
            vec![1, 2, 3, 4, 5, 6, 7],
            "{}",
            file.family
        );
    }
}

/// A case whose expectation is wrong fails: verification can tell.
#[test]
fn a_wrong_expectation_fails_verification() {
    let dir = scratch("tampered");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(committed().join("public-message.json")).unwrap();
    let mut file: NegativeFile = serde_json::from_str(&text).unwrap();
    let reject = file
        .cases
        .iter_mut()
        .find(|c| c.expected == adversary::Expected::Reject)
        .unwrap();
    reject.error_class = Some(adversary::ErrorClass::Decode);
    let accept = file
        .cases
        .iter_mut()
        .find(|c| c.expected == adversary::Expected::Accept)
        .unwrap();
    accept.expected = adversary::Expected::Reject;
    accept.error_class = Some(adversary::ErrorClass::Signature);
    std::fs::write(
        dir.join("public-message.json"),
        serde_json::to_string(&file).unwrap(),
    )
    .unwrap();
    let summary = concord_harness::vectors::verify_directory(&dir, None).unwrap();
    assert_eq!(summary.failed, 2);
    assert_eq!(
        concord_harness::vectors::format_closing_line(&summary),
        format!("vectors: {} passed, 2 failed, 0 skipped", summary.passed)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_cited_requirement_is_in_the_catalog() {
    for family in FAMILIES {
        for recipe in family.recipes {
            assert!(
                !recipe.requirements.is_empty(),
                "{}/{}",
                family.name,
                recipe.name
            );
            for id in recipe.requirements {
                assert!(
                    concord_spec::requirement(id).is_some(),
                    "{}/{} cites {id}, which spec/catalog does not define",
                    family.name,
                    recipe.name
                );
            }
        }
    }
}

/// Each validation list of RFC 9420 has rejecting cases: 6.3, 7.3, 7.9, 10.1, 12.2,
/// 12.4.2, 12.4.3.1, 12.4.3.2; and every family has a control case that must be
/// accepted.
#[test]
fn every_validation_list_is_covered() {
    for section in [
        "6.3", "7.3", "7.9", "10.1", "12.2", "12.4.2", "12.4.3.1", "12.4.3.2",
    ] {
        let prefix = format!("RFC9420-{section}");
        let hits = FAMILIES
            .iter()
            .flat_map(|f| f.recipes)
            .filter(|r| matches!(r.expect, Expect::Reject(_)))
            .filter(|r| r.requirements.iter().any(|id| id.starts_with(&prefix)))
            .count();
        assert!(hits >= 2, "section {section}: {hits} rejecting recipes");
    }
    for family in FAMILIES {
        assert!(
            family.recipes.iter().any(|r| r.expect == Expect::Accept),
            "{} has no control case",
            family.name
        );
    }
}

/// The reference as a client under test passes every recipe it can be handed.
#[test]
fn the_reference_client_passes_the_client_runner() {
    let mut client = ReferenceClient::new(7);
    let results = run_client(&mut client, CipherSuite(1), 0, now(), None).unwrap();
    let failed: Vec<_> = results
        .iter()
        .filter(|r| matches!(r.verdict, ClientVerdict::Failed { .. }))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let passed = results
        .iter()
        .filter(|r| r.verdict == ClientVerdict::Passed)
        .count();
    assert!(passed >= 100, "only {passed} recipes passed");
}

/// A client that never refuses a Welcome, commit or message.
struct Lax(ReferenceClient);

impl ClientUnderTest for Lax {
    fn create_key_package(
        &mut self,
        request: concord_harness::client::proto::CreateKeyPackageRequest,
    ) -> Result<concord_harness::client::proto::CreateKeyPackageResponse, ClientError> {
        self.0.create_key_package(request)
    }
    fn store_psk(
        &mut self,
        request: concord_harness::client::proto::StorePskRequest,
    ) -> Result<concord_harness::client::proto::StorePskResponse, ClientError> {
        self.0.store_psk(request)
    }
    fn join_group(&mut self, request: JoinGroupRequest) -> Result<JoinGroupResponse, ClientError> {
        Ok(self.0.join_group(request).unwrap_or_default())
    }
    fn handle_commit(
        &mut self,
        request: HandleCommitRequest,
    ) -> Result<HandleCommitResponse, ClientError> {
        let state_id = request.state_id;
        Ok(self
            .0
            .handle_commit(request)
            .unwrap_or(HandleCommitResponse {
                state_id,
                ..Default::default()
            }))
    }
    fn unprotect(&mut self, request: UnprotectRequest) -> Result<UnprotectResponse, ClientError> {
        Ok(self.0.unprotect(request).unwrap_or_default())
    }
}

#[test]
fn a_lax_client_is_caught() {
    let mut client = Lax(ReferenceClient::new(7));
    let results = run_client(
        &mut client,
        CipherSuite(1),
        0,
        now(),
        Some(&["welcome", "commit"]),
    )
    .unwrap();
    for result in &results {
        match (result.expect, &result.verdict) {
            (Expect::Reject(_), verdict) => assert!(
                matches!(verdict, ClientVerdict::Failed { .. }),
                "{}/{} should fail a lax client: {verdict:?}",
                result.family,
                result.recipe
            ),
            (_, verdict) => assert_eq!(verdict, &ClientVerdict::Passed),
        }
    }
    assert!(results.len() >= 20);
}

/// The wall clock: the clients under test check leaf lifetimes against it.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
