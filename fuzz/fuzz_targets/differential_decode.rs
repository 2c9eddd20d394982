//! The first byte picks a wire type, the rest goes to the reference's, OpenMLS's and
//! mls-rs's decoders: any accept/reject disagreement, re-encoding difference or panic that
//! is not a triaged class (harness/tests/differential/triage.rs) is a crash.
#![no_main]

#[path = "../../harness/tests/differential/decoders.rs"]
mod decoders;
#[path = "../../harness/tests/differential/triage.rs"]
mod triage;

use decoders::{WireType, compare, decode_all, describe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let wire_type = WireType::ALL[usize::from(selector) % WireType::ALL.len()];
    let outcomes = decode_all(wire_type, rest);
    let untriaged: Vec<String> = compare(&outcomes)
        .iter()
        .filter(|d| triage::triage(&outcomes, d).is_none())
        .map(|d| d.to_string())
        .collect();
    assert!(
        untriaged.is_empty(),
        "untriaged disagreement ({}) on {}",
        untriaged.join("; "),
        describe(&outcomes)
    );
});
