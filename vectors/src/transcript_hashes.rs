//! `transcript-hashes.json`: the confirmed and interim transcript hashes and the
//! confirmation tag of a Commit (RFC 9420 section 8.2).

use concord_reference::codec::Codec;
use concord_reference::crypto::Suite;
use concord_reference::messages::{AuthenticatedContent, ContentType};
use concord_reference::transcript;
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, expect_eq, parse_case,
    with_suite,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub cipher_suite: u16,
    pub confirmation_key: HexBytes,
    /// An AuthenticatedContent carrying a Commit.
    pub authenticated_content: HexBytes,
    pub interim_transcript_hash_before: HexBytes,
    pub confirmed_transcript_hash_after: HexBytes,
    pub interim_transcript_hash_after: HexBytes,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(with_suite(case.cipher_suite, |suite| verify(suite, &case)))
}

fn verify(suite: &Suite, case: &Case) -> Result<(), Mismatch> {
    let content = AuthenticatedContent::from_bytes(&case.authenticated_content)
        .at("authenticated_content")?;
    expect_eq(
        "authenticated_content (content type)",
        content.content.content_type(),
        ContentType::Commit,
    )?;
    expect_bytes(
        "authenticated_content (re-encoded)",
        &content.to_bytes(),
        &case.authenticated_content,
    )?;
    let tag = content.auth.confirmation_tag.as_ref().ok_or_else(|| {
        Mismatch::new(
            "authenticated_content",
            "a Commit without a confirmation_tag",
        )
    })?;

    let confirmed = transcript::confirmed_transcript_hash(
        suite,
        &case.interim_transcript_hash_before,
        &content.confirmed_transcript_hash_input(),
    );
    expect_bytes(
        "confirmed_transcript_hash_after",
        &confirmed,
        &case.confirmed_transcript_hash_after,
    )?;
    let expected_tag = transcript::confirmation_tag(suite, &case.confirmation_key, &confirmed);
    expect_bytes(
        "authenticated_content (confirmation_tag)",
        tag,
        &expected_tag,
    )?;
    let interim = transcript::interim_transcript_hash(suite, &confirmed, tag);
    expect_bytes(
        "interim_transcript_hash_after",
        &interim,
        &case.interim_transcript_hash_after,
    )
}
