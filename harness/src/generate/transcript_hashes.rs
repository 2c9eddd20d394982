//! `transcript-hashes.json`: the confirmed and interim transcript hashes and the
//! confirmation tag of a Commit (RFC 9420 section 8.2), one case per suite as upstream.
//! The Commit (two proposal references, no path) is signed by a fresh key over a random
//! GroupContext, framed as a PublicMessage's AuthenticatedContent.

use crate::vectors::transcript_hashes::Case;
use concord_reference::codec::{Bytes, Codec};
use concord_reference::crypto::Suite;
use concord_reference::framing;
use concord_reference::messages::{
    Commit, ContentBody, FramedContent, GroupContext, ProposalOrRef, ProposalRef, Sender,
    WireFormat,
};
use concord_reference::transcript;
use concord_reference::tree_math::LeafIndex;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

use super::{below, random_secret, to_value};
use crate::vectors::{AtField, HexBytes, Mismatch};

pub fn cases(suite: &Suite, rng: &mut ChaCha20Rng) -> Result<Vec<serde_json::Value>, Mismatch> {
    let group_id = random_secret(suite, rng).0;
    let epoch = u64::from(rng.next_u32());
    let context = GroupContext::new(
        suite.id(),
        group_id.clone(),
        epoch,
        random_secret(suite, rng).0,
        random_secret(suite, rng).0,
        Vec::new(),
    );
    let commit = Commit {
        proposals: (0..2)
            .map(|_| ProposalOrRef::Reference(ProposalRef(Bytes(random_secret(suite, rng).0))))
            .collect(),
        path: None,
    };
    let content = FramedContent {
        group_id: Bytes(group_id),
        epoch,
        sender: Sender::Member {
            leaf_index: LeafIndex(below(rng, 16) as u32),
        },
        authenticated_data: Bytes::default(),
        body: ContentBody::Commit(commit),
    };
    let signer = suite
        .signature_generate(rng)
        .at("authenticated_content (signer)")?;
    let mut signed = framing::sign(
        suite,
        &signer.private,
        WireFormat::MLS_PUBLIC_MESSAGE,
        content,
        &context,
    )
    .at("authenticated_content (signature)")?;

    let confirmation_key = random_secret(suite, rng);
    let interim_before = random_secret(suite, rng);
    let confirmed = transcript::confirmed_transcript_hash(
        suite,
        &interim_before,
        &signed.confirmed_transcript_hash_input(),
    );
    let tag = transcript::confirmation_tag(suite, &confirmation_key, &confirmed);
    let interim_after = transcript::interim_transcript_hash(suite, &confirmed, &tag);
    signed.auth.confirmation_tag = Some(Bytes(tag));

    Ok(vec![to_value(&Case {
        cipher_suite: suite.id().0,
        confirmation_key,
        authenticated_content: HexBytes(signed.to_bytes()),
        interim_transcript_hash_before: interim_before,
        confirmed_transcript_hash_after: HexBytes(confirmed),
        interim_transcript_hash_after: HexBytes(interim_after),
    })?])
}
