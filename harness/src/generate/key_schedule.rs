//! `key-schedule.json`: a chain of five epochs through the key schedule of RFC 9420
//! section 8 per suite, as upstream: random tree hashes, commit and PSK secrets and
//! transcript hashes, with the GroupContext, every epoch secret, the external key pair
//! and one exporter output.

use crate::vectors::key_schedule::{Case, Epoch, Exporter};
use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::key_schedule;
use concord_reference::messages::GroupContext;
use rand_chacha::ChaCha20Rng;

use super::{random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

const EPOCHS: u64 = 5;

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    let group_id = random_secret(suite, rng);
    let initial_init_secret = random_secret(suite, rng);
    let mut init_secret = initial_init_secret.to_vec();
    let mut epochs = Vec::new();
    for epoch in 0..EPOCHS {
        let at = |name: &str| format!("epochs[{epoch}].{name}");
        let tree_hash = random_secret(suite, rng);
        let commit_secret = random_secret(suite, rng);
        let psk_secret = random_secret(suite, rng);
        let confirmed_transcript_hash = random_secret(suite, rng);
        let group_context = GroupContext::new(
            suite.id(),
            group_id.to_vec(),
            epoch,
            tree_hash.to_vec(),
            confirmed_transcript_hash.to_vec(),
            Vec::new(),
        )
        .to_bytes();
        let s = key_schedule::next_epoch(
            suite,
            &init_secret,
            &commit_secret,
            &psk_secret,
            &group_context,
        )
        .at(&at("joiner_secret"))?;
        let external =
            key_schedule::external_key_pair(suite, &s.external_secret).at(&at("external_pub"))?;
        let label = hex::encode(random_secret(suite, rng).0);
        let context = random_secret(suite, rng);
        let length = suite.hash_length() as u16;
        let exported = key_schedule::export(
            suite,
            &s.exporter_secret,
            label.as_bytes(),
            &context,
            length,
        )
        .at(&at("exporter.secret"))?;
        init_secret = s.init_secret.clone();
        epochs.push(Epoch {
            tree_hash,
            commit_secret,
            psk_secret,
            confirmed_transcript_hash,
            group_context: HexBytes(group_context),
            joiner_secret: HexBytes(s.joiner_secret),
            welcome_secret: HexBytes(s.welcome_secret),
            init_secret: HexBytes(s.init_secret),
            sender_data_secret: HexBytes(s.sender_data_secret),
            encryption_secret: HexBytes(s.encryption_secret),
            exporter_secret: HexBytes(s.exporter_secret),
            epoch_authenticator: HexBytes(s.epoch_authenticator),
            external_secret: HexBytes(s.external_secret),
            confirmation_key: HexBytes(s.confirmation_key),
            membership_key: HexBytes(s.membership_key),
            resumption_psk: HexBytes(s.resumption_psk),
            external_pub: HexBytes(external.public),
            exporter: Exporter {
                label,
                context,
                length,
                secret: HexBytes(exported),
            },
        });
    }
    Ok(vec![to_value(&Case {
        cipher_suite: suite.id().0,
        group_id,
        initial_init_secret,
        epochs,
    })?])
}
