//! `psk_secret.json`: the PSK secret of RFC 9420 section 8.4 over external PSKs.

use concord_reference::codec::Bytes;
use concord_reference::crypto::Suite;
use concord_reference::messages::{PreSharedKeyId, Psk};
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, parse_case, with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub psks: Vec<ExternalPsk>,
    pub psk_secret: HexBytes,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExternalPsk {
    pub psk_id: HexBytes,
    pub psk: HexBytes,
    pub psk_nonce: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let psks: Vec<(PreSharedKeyId, Vec<u8>)> = case
        .psks
        .iter()
        .map(|p| {
            (
                PreSharedKeyId {
                    psk: Psk::External {
                        psk_id: Bytes(p.psk_id.to_vec()),
                    },
                    psk_nonce: Bytes(p.psk_nonce.to_vec()),
                },
                p.psk.to_vec(),
            )
        })
        .collect();
    let secret = concord_reference::psk::psk_secret(suite, &psks).at("psk_secret")?;
    expect_bytes("psk_secret", &secret, &case.psk_secret)
}
