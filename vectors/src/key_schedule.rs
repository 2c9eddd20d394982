//! `key-schedule.json`: a chain of epochs through the key schedule of RFC 9420 section 8,
//! with the GroupContext encoding, exporter (8.5) and external key pair.

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::key_schedule;
use concord_reference::messages::GroupContext;
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub group_id: HexBytes,
    pub initial_init_secret: HexBytes,
    pub epochs: Vec<Epoch>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Epoch {
    pub tree_hash: HexBytes,
    pub commit_secret: HexBytes,
    pub psk_secret: HexBytes,
    pub confirmed_transcript_hash: HexBytes,
    pub group_context: HexBytes,
    pub joiner_secret: HexBytes,
    pub welcome_secret: HexBytes,
    pub init_secret: HexBytes,
    pub sender_data_secret: HexBytes,
    pub encryption_secret: HexBytes,
    pub exporter_secret: HexBytes,
    pub epoch_authenticator: HexBytes,
    pub external_secret: HexBytes,
    pub confirmation_key: HexBytes,
    pub membership_key: HexBytes,
    pub resumption_psk: HexBytes,
    pub external_pub: HexBytes,
    pub exporter: Exporter,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Exporter {
    /// A text label: the vector's string is used as is (its characters happen to be hex
    /// digits, but they are the label's bytes, not an encoding of them).
    pub label: String,
    pub context: HexBytes,
    pub length: u16,
    pub secret: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let mut init_secret = case.initial_init_secret.to_vec();
    for (epoch, e) in case.epochs.iter().enumerate() {
        let at = |name: &str| format!("epochs[{epoch}].{name}");
        let context = GroupContext::new(
            suite.id(),
            case.group_id.to_vec(),
            epoch as u64,
            e.tree_hash.to_vec(),
            e.confirmed_transcript_hash.to_vec(),
            Vec::new(),
        );
        let context_bytes = context.to_bytes();
        expect_bytes(&at("group_context"), &context_bytes, &e.group_context)?;

        let secrets = key_schedule::next_epoch(
            suite,
            &init_secret,
            &e.commit_secret,
            &e.psk_secret,
            &context_bytes,
        )
        .at(&at("joiner_secret"))?;
        for (name, computed, expected) in [
            ("joiner_secret", &secrets.joiner_secret, &e.joiner_secret),
            ("welcome_secret", &secrets.welcome_secret, &e.welcome_secret),
            ("init_secret", &secrets.init_secret, &e.init_secret),
            (
                "sender_data_secret",
                &secrets.sender_data_secret,
                &e.sender_data_secret,
            ),
            (
                "encryption_secret",
                &secrets.encryption_secret,
                &e.encryption_secret,
            ),
            (
                "exporter_secret",
                &secrets.exporter_secret,
                &e.exporter_secret,
            ),
            (
                "epoch_authenticator",
                &secrets.epoch_authenticator,
                &e.epoch_authenticator,
            ),
            (
                "external_secret",
                &secrets.external_secret,
                &e.external_secret,
            ),
            (
                "confirmation_key",
                &secrets.confirmation_key,
                &e.confirmation_key,
            ),
            ("membership_key", &secrets.membership_key, &e.membership_key),
            ("resumption_psk", &secrets.resumption_psk, &e.resumption_psk),
        ] {
            expect_bytes(&at(name), computed, expected)?;
        }
        let external = key_schedule::external_key_pair(suite, &secrets.external_secret)
            .at(&at("external_pub"))?;
        expect_bytes(&at("external_pub"), &external.public, &e.external_pub)?;
        let exported = key_schedule::export(
            suite,
            &secrets.exporter_secret,
            e.exporter.label.as_bytes(),
            &e.exporter.context,
            e.exporter.length,
        )
        .at(&at("exporter.secret"))?;
        expect_bytes(&at("exporter.secret"), &exported, &e.exporter.secret)?;
        init_secret = secrets.init_secret;
    }
    Ok(())
}
