use proptest::prelude::*;

use super::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every generated sequence renders to a scenario the simulator's parser accepts.
    #[test]
    fn every_generated_sequence_is_a_valid_scenario(seq in sequence(8, 12)) {
        let (text, steps) = render(&seq, "test");
        let parsed = crate::sim::scenario::parse(Path::new("generated.toml"), &text);
        prop_assert!(parsed.is_ok(), "{parsed:?}\n{text}");
        let scenario = parsed.unwrap();
        prop_assert_eq!(scenario.steps.len(), steps);
    }
}

#[cfg(not(feature = "injected-bug"))]
#[test]
fn a_removal_brings_the_removed_cannot_read_invariant() {
    let seq = Sequence {
        users: 4,
        providers: 2,
        ops: vec![
            Op::Invite {
                by: 0,
                users: vec![0, 1],
            },
            Op::Remove { by: 0, user: 1 },
            Op::Send {
                from: None,
                count: 2,
            },
        ],
    };
    let (text, steps) = render(&seq, "test");
    assert!(text.contains("check = \"removed_cannot_read\""), "{text}");
    assert_eq!(steps, 5);
    let outcome = play(&text, 7, &Default::default()).expect("plays");
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert!(
        outcome
            .requirements
            .iter()
            .any(|r| r.starts_with("RFC9420-"))
    );
}

#[test]
fn operations_that_do_not_apply_are_left_out() {
    // Two users: u1 is already a member, so there is nobody to invite or to join.
    let seq = Sequence {
        users: 2,
        providers: 1,
        ops: vec![
            Op::Invite {
                by: 3,
                users: vec![9],
            },
            Op::JoinExternal { user: 1 },
            Op::PartitionAndHeal {
                provider: 0,
                sender: 0,
            },
            Op::Update { by: 1 },
        ],
    };
    let (text, steps) = render(&seq, "test");
    assert_eq!(steps, 3, "{text}");
    assert!(!text.contains("\"invite\"\nroom = \"r\"\nby = \"u1\""));
}

/// The CI budget: a few dozen random sequences on the reference keep every invariant.
#[cfg(not(feature = "injected-bug"))]
#[test]
fn the_reference_keeps_every_invariant_over_random_sequences() {
    let result = run(&Settings {
        seed: 42,
        cases: 24,
        max_users: 6,
        max_ops: 8,
        client: None,
        differential: false,
    });
    assert!(result.error.is_none(), "{:?}", result.error);
    if let Some(c) = &result.counterexample {
        panic!(
            "counterexample ({} steps): {}\n{}",
            c.steps, c.reason, c.scenario
        );
    }
    assert!(!result.requirements.is_empty());
}

/// With the planted bug, the property run finds a failure and shrinks it to a scenario of
/// under 10 steps, which `concord sim` replays to the same failure.
#[cfg(feature = "injected-bug")]
#[test]
fn the_injected_bug_is_found_and_shrunk_to_a_short_replayable_scenario() {
    let settings = Settings {
        seed: 1,
        cases: 256,
        max_users: 8,
        max_ops: 10,
        client: None,
        differential: false,
    };
    let result = run(&settings);
    let c = result.counterexample.expect("the injected bug is found");
    assert!(c.steps < 10, "{} steps:\n{}", c.steps, c.scenario);
    eprintln!("shrunk to {} steps: {}\n{}", c.steps, c.reason, c.scenario);
    let dir = std::env::temp_dir().join(format!("concord-property-{}", std::process::id()));
    let path = write_counterexample(&dir, &c).expect("written");
    let text = std::fs::read_to_string(&path).expect("read back");
    let replay = play(&text, settings.seed, &Default::default()).expect("replays");
    assert!(!replay.failures.is_empty(), "the replay fails too");
    let _ = std::fs::remove_dir_all(dir);
}
