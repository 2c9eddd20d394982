//! `welcome.json`: a new member opens a Welcome (RFC 9420 section 12.4.3.1): GroupSecrets
//! decryption with the init key, GroupInfo decryption, signature and confirmation tag.

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::messages::{MlsMessage, MlsMessageBody};
use concord_reference::welcome;
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_eq, parse_case, with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub init_priv: HexBytes,
    pub signer_pub: HexBytes,
    /// An MLSMessage carrying the new member's KeyPackage.
    pub key_package: HexBytes,
    /// An MLSMessage carrying the Welcome.
    pub welcome: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let MlsMessageBody::KeyPackage(key_package) = MlsMessage::from_bytes(&case.key_package)
        .at("key_package")?
        .body
    else {
        return Err(Mismatch::new(
            "key_package",
            "not an MLSMessage carrying a KeyPackage",
        ));
    };
    let MlsMessageBody::Welcome(message) =
        MlsMessage::from_bytes(&case.welcome).at("welcome")?.body
    else {
        return Err(Mismatch::new(
            "welcome",
            "not an MLSMessage carrying a Welcome",
        ));
    };
    let public = suite.hpke_public_key(&case.init_priv).at("init_priv")?;
    expect_eq(
        "key_package (init_key matches init_priv)",
        &public[..],
        &key_package.init_key.0[..],
    )?;
    let opened = welcome::open_welcome(suite, &message, &key_package, &case.init_priv, |_| None)
        .at("welcome")?;
    welcome::verify_group_info_signature(suite, &opened.group_info, &case.signer_pub)
        .at("signer_pub")?;
    expect_eq(
        "welcome (group_info cipher suite)",
        opened.group_info.group_context.cipher_suite,
        suite.id(),
    )
}
