//! Every format of the fixture report, as snapshots; report.json against its JSON Schema and
//! back; junit.xml against reports/schema/junit.xsd with xmllint.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

mod common;

use concord_reports::render::{html, json, junit, markdown};
use concord_reports::{Report, Verdict};

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("report.json", json::render(&common::fixture()));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(
        "junit.xml",
        junit::render(&common::fixture(), &common::catalog())
    );
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(
        "summary.md",
        markdown::render(&common::fixture(), &common::catalog())
    );
}

#[test]
fn html_snapshot() {
    let bench = common::bench();
    insta::assert_snapshot!(
        "index.html",
        html::render(&common::fixture(), &common::catalog(), Some(&bench))
    );
}

#[test]
fn the_fixture_has_every_verdict_expectations_and_claims_applied() {
    let report = common::fixture();
    let counts = report.counts();
    for verdict in Verdict::ALL {
        assert!(counts.of(verdict) > 0, "no {verdict} in the fixture");
    }
    assert_eq!(report.stale_expectations.len(), 1);
    assert_eq!(
        report.exit_code(false),
        3,
        "a client fault among the failures"
    );
    assert!(report.claims.is_some());
}

fn schema() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn report_json_validates_against_its_schema() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let instance: serde_json::Value =
        serde_json::from_str(&json::render(&common::fixture())).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // The schema is not a rubber stamp: a verdict outside the six is refused.
    let mut bad = instance.clone();
    bad["results"][0]["verdict"] = "passed".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = instance;
    bad["schema_version"] = 2.into();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn report_json_round_trips() {
    let report = common::fixture();
    let text = json::render(&report);
    let back = Report::from_json(&text, "report.json").unwrap();
    assert_eq!(back, report);
    assert_eq!(json::render(&back), text);
}

#[test]
fn report_json_of_another_version_or_shape_is_refused() {
    let text = json::render(&common::fixture()).replacen(
        "\"schema_version\": 1",
        "\"schema_version\": 9",
        1,
    );
    let error = Report::from_json(&text, "old.json")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("schema_version") && error.contains('9'),
        "{error}"
    );

    let mut value: serde_json::Value =
        serde_json::from_str(&json::render(&common::fixture())).unwrap();
    value["results"][2]["verdict"] = "maybe".into();
    let error = Report::from_json(&value.to_string(), "r.json")
        .unwrap_err()
        .to_string();
    assert!(error.contains("results[2].verdict"), "{error}");

    let error = Report::from_json("{\"schema_version\": 1,", "cut.json")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("cut.json:1:"), "{error}");
}

/// Runs `xmllint --schema junit.xsd` on `xml`; `None` when xmllint is not installed.
fn xmllint(xml: &str) -> Option<std::process::Output> {
    let dir = std::env::temp_dir().join(format!("concord-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("junit-{}.xml", xml.len()));
    std::fs::write(&file, xml).unwrap();
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/junit.xsd");
    let output = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&file)
        .output();
    std::fs::remove_file(&file).ok();
    match output {
        Ok(output) => Some(output),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("cannot run xmllint: {e}"),
    }
}

#[test]
fn junit_validates_against_the_junit_schema() {
    let xml = junit::render(&common::fixture(), &common::catalog());
    let Some(output) = xmllint(&xml) else {
        panic!("xmllint is missing: install libxml2-utils (apt-get install libxml2-utils)");
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // One testsuite per RFC section of a first requirement, plus `uncited`.
    assert_eq!(xml.matches("<testsuite ").count(), 9, "{xml}");
    assert!(xml.contains("<testsuite name=\"RFC9420 12.1.3 Remove\""));
    assert!(xml.contains("<testsuite name=\"uncited\""));

    // And the schema refuses what CI readers would choke on.
    let broken = xml.replacen("time=\"0.025\"", "time=\"soon\"", 1);
    assert!(!xmllint(&broken).unwrap().status.success());
}
