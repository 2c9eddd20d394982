//! Interop scripts in the working group's format: every shipped config parses, and a
//! mistake is named by file, script, step index and field.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test scaffolding: a failure here is a test failure

use std::path::{Path, PathBuf};

use concord_harness::interop::config::{self, Action, ProposalSpec, StepRef};
use serde_json::json;

fn configs_dir() -> PathBuf {
    std::env::var_os("CONCORD_INTEROP_CONFIGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/interop-configs"
            ))
        })
}

#[test]
fn every_shipped_config_parses_without_unknown_fields() {
    let dir = configs_dir();
    assert!(
        dir.is_dir(),
        "{} missing (set CONCORD_INTEROP_CONFIGS)",
        dir.display()
    );
    let mut scripts = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let file = config::load(&path).unwrap_or_else(|e| panic!("{e}"));
            for script in &file.scripts {
                assert!(
                    !script.steps.is_empty(),
                    "{}: {} is empty",
                    path.display(),
                    script.name
                );
                assert_eq!(
                    script.unknown_fields,
                    vec![],
                    "{}: {}",
                    path.display(),
                    script.name
                );
                scripts += 1;
            }
        }
    }
    assert!(scripts >= 20, "only {scripts} scripts found");
}

#[test]
fn commit_with_references_and_values_parses_to_typed_steps() {
    let file = config::load(&configs_dir().join("commit.json")).unwrap();
    let add = file.scripts.iter().find(|s| s.name == "add").unwrap();
    let Action::FullCommit {
        commit,
        members,
        joiners,
    } = &add.steps[6].action
    else {
        panic!("step 6 is {:?}", add.steps[6]);
    };
    assert_eq!(commit.by_reference, vec![StepRef(4), StepRef(5)]);
    assert_eq!(
        commit.by_value,
        vec![ProposalSpec::Add {
            key_package: StepRef(3)
        }]
    );
    assert!(commit.force_path);
    assert_eq!(members, &vec!["bob".to_string()]);
    assert_eq!(joiners.len(), 3);
    assert_eq!(
        add.actors(),
        vec![
            "alice", "bob", "charlie1", "charlie2", "charlie3", "charlie4", "charlie5", "charlie6"
        ]
    );
}

fn error_of(steps: serde_json::Value) -> String {
    let value = json!({"scripts": {"s": steps}});
    config::parse(Path::new("broken.json"), &value)
        .unwrap_err()
        .to_string()
}

#[test]
fn mistakes_name_file_script_step_and_field() {
    let forward = error_of(json!([
        {"action": "createGroup", "actor": "alice"},
        {"action": "addProposal", "actor": "alice", "keyPackage": 2},
        {"action": "createKeyPackage", "actor": "bob"}
    ]));
    assert!(
        forward.starts_with("broken.json: script `s`, step 1, field `keyPackage`"),
        "{forward}"
    );

    let wrong_kind = error_of(json!([
        {"action": "createGroup", "actor": "alice"},
        {"action": "addProposal", "actor": "alice", "keyPackage": 0}
    ]));
    assert!(
        wrong_kind.contains("step 0 produces nothing another step can use"),
        "{wrong_kind}"
    );

    let bad_type = error_of(json!([{"action": "createGroup", "actor": "alice", "members": "bob"}]));
    assert!(bad_type.contains("step 0, field `members`"), "{bad_type}");

    let unknown = error_of(json!([{"action": "teleport", "actor": "alice"}]));
    assert!(
        unknown.contains("field `action`: unknown action `teleport`"),
        "{unknown}"
    );

    let no_actor = error_of(json!([{"action": "createGroup"}]));
    assert!(no_actor.contains("field `actor`"), "{no_actor}");

    let bad_value = error_of(json!([
        {"action": "createGroup", "actor": "alice"},
        {"action": "fullCommit", "actor": "alice", "byValue": [{"proposalType": "add"}]}
    ]));
    assert!(
        bad_value.contains("field `byValue[0].keyPackage`: missing"),
        "{bad_value}"
    );

    let bad_base64 = error_of(json!([
        {"action": "createGroup", "actor": "alice"},
        {"action": "groupContextExtensionsProposal", "actor": "alice", "extensions": [{"extension_type": 3, "extension_data": "***"}]}
    ]));
    assert!(
        bad_base64.contains("extensions[0].extension_data"),
        "{bad_base64}"
    );
}

#[test]
fn unknown_fields_are_kept_and_reported_as_warnings() {
    let value =
        json!({"scripts": {"s": [{"action": "createGroup", "actor": "alice", "colour": "blue"}]}});
    let file = config::parse(Path::new("x.json"), &value).unwrap();
    assert_eq!(
        file.scripts[0].unknown_fields,
        vec![(0, "colour".to_string())]
    );
    let warnings = file.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("x.json: script `s`, step 0: unknown field `colour`"),
        "{warnings:?}"
    );
}

#[test]
fn a_missing_or_broken_file_is_an_error_not_a_panic() {
    let missing = config::load(Path::new("/nonexistent/config.json")).unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
    let not_scripts = config::parse(Path::new("y.json"), &json!({"tests": []})).unwrap_err();
    assert_eq!(not_scripts.field, "scripts");
}
