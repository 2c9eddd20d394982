//! Transcript hashes and the confirmation tag (RFC 9420 sections 8.2 and 6.1).
//!
//! ```text
//! confirmed_transcript_hash_[n] = Hash(interim_transcript_hash_[n-1] || ConfirmedTranscriptHashInput_[n])
//! interim_transcript_hash_[n]   = Hash(confirmed_transcript_hash_[n] || InterimTranscriptHashInput_[n])
//! confirmation_tag              = MAC(confirmation_key, confirmed_transcript_hash)
//! ```
//!
//! `ConfirmedTranscriptHashInput` is `wire_format || FramedContent || signature` of the
//! Commit's AuthenticatedContent; `InterimTranscriptHashInput` is `MAC confirmation_tag`.
//! Both are encoded by `messages`; this module only chains hashes.

use crate::codec::write_opaque;
use crate::crypto::Suite;

/// The next confirmed transcript hash.
pub fn confirmed_transcript_hash(
    suite: &Suite,
    interim_before: &[u8],
    confirmed_input: &[u8],
) -> Vec<u8> {
    let mut input = Vec::with_capacity(interim_before.len() + confirmed_input.len());
    input.extend_from_slice(interim_before);
    input.extend_from_slice(confirmed_input);
    suite.hash(&input)
}

/// The interim transcript hash that follows a confirmed one and its confirmation tag.
pub fn interim_transcript_hash(
    suite: &Suite,
    confirmed: &[u8],
    confirmation_tag: &[u8],
) -> Vec<u8> {
    let mut input = confirmed.to_vec();
    write_opaque(&mut input, confirmation_tag);
    suite.hash(&input)
}

/// `confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)`.
pub fn confirmation_tag(
    suite: &Suite,
    confirmation_key: &[u8],
    confirmed_transcript_hash: &[u8],
) -> Vec<u8> {
    suite.mac(confirmation_key, confirmed_transcript_hash)
}
