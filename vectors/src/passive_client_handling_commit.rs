//! `passive-client-handling-commit.json`: a member joins by Welcome (as in
//! `passive-client-welcome`), then for each epoch receives the proposals and the commit
//! (RFC 9420 sections 12.2, 12.3, 12.4.2) and must reach the vector's epoch
//! authenticator (section 8).

use concord_reference::codec::Codec;
use concord_reference::commit::GroupState;
use concord_reference::crypto::Suite;
use concord_reference::messages::MlsMessage;
use serde::Deserialize;

use super::passive_client_welcome::{Case, external_psk, join_case};
use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, with_suite,
};

#[derive(Deserialize)]
struct Epoch {
    /// MLSMessages carrying the proposals the commit may reference.
    proposals: Vec<HexBytes>,
    /// An MLSMessage carrying the commit.
    commit: HexBytes,
    epoch_authenticator: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    let epochs = case
        .epochs
        .iter()
        .enumerate()
        .map(|(n, epoch)| super::parse_at::<Epoch>(case_index, &format!("epochs[{n}]"), epoch))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(with_suite(case.cipher_suite, |suite| {
        verify(suite, &case, &epochs)
    }))
}

fn verify(suite: &Suite, case: &Case, epochs: &[Epoch]) -> Result<(), Mismatch> {
    let joined = join_case(suite, case)?;
    expect_bytes(
        "initial_epoch_authenticator",
        joined.epoch_authenticator(),
        &case.initial_epoch_authenticator,
    )?;
    let mut state = GroupState::new(joined);
    for (n, epoch) in epochs.iter().enumerate() {
        for (k, proposal) in epoch.proposals.iter().enumerate() {
            let field = format!("epochs[{n}].proposals[{k}]");
            let message = MlsMessage::from_bytes(proposal).at(&field)?;
            state.receive_proposal(&message).at(&field)?;
        }
        let field = format!("epochs[{n}].commit");
        let message = MlsMessage::from_bytes(&epoch.commit).at(&field)?;
        state
            .process_commit(&message, |psk_id| external_psk(case, psk_id))
            .at(&field)?;
        expect_bytes(
            &format!("epochs[{n}].epoch_authenticator"),
            state.epoch_authenticator(),
            &epoch.epoch_authenticator,
        )?;
    }
    Ok(())
}
