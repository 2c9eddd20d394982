//! Message protection, per ciphersuite: what a receiver must reject (RFC 9420 section 6).

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::crypto::CipherSuite;
use crate::messages::{ContentBody, Proposal, Remove};
use crate::secret_tree::RatchetPolicy;
use crate::tree_math::LeafIndex;

struct Fixture {
    suite: Suite,
    signature: crate::crypto::SignatureKeyPair,
    context: GroupContext,
    secret: Vec<u8>,
}

fn fixture(id: CipherSuite) -> Fixture {
    let suite = Suite::new(id).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(id.0));
    let secret = vec![7; suite.hash_length()];
    Fixture {
        signature: suite.signature_generate(&mut rng).unwrap(),
        context: GroupContext::new(
            id,
            b"group".to_vec(),
            3,
            secret.clone(),
            secret.clone(),
            Vec::new(),
        ),
        suite,
        secret,
    }
}

impl Fixture {
    fn content(&self, body: ContentBody, sender: Sender) -> FramedContent {
        FramedContent {
            group_id: Bytes(b"group".to_vec()),
            epoch: 3,
            sender,
            authenticated_data: Bytes(b"aad".to_vec()),
            body,
        }
    }

    fn signed(&self, wire_format: WireFormat, body: ContentBody) -> AuthenticatedContent {
        let content = self.content(
            body,
            Sender::Member {
                leaf_index: LeafIndex(2),
            },
        );
        sign(
            &self.suite,
            &self.signature.private,
            wire_format,
            content,
            &self.context,
        )
        .unwrap()
    }

    fn tree(&self) -> SecretTree {
        SecretTree::new(self.suite, &self.secret, 4, RatchetPolicy::default())
    }
}

fn application(data: &[u8]) -> ContentBody {
    ContentBody::Application {
        application_data: Bytes(data.to_vec()),
    }
}

#[test]
fn public_message_membership_tag_and_signature_are_enforced() {
    for id in CipherSuite::ALL {
        let f = fixture(id);
        let proposal = ContentBody::Proposal(Proposal::Remove(Remove {
            removed: LeafIndex(1),
        }));
        let signed = f.signed(WireFormat::MLS_PUBLIC_MESSAGE, proposal);
        let message = protect_public(&f.suite, signed.clone(), &f.context, &f.secret).unwrap();
        let opened = unprotect_public(&f.suite, &message, &f.context, &f.secret).unwrap();
        assert_eq!(opened, signed, "{id:?}");
        verify_signature(&f.suite, &f.signature.public, &opened, &f.context).unwrap();

        let mut bad_tag = message.clone();
        if let Some(tag) = bad_tag.membership_tag.as_mut() {
            tag.0[0] ^= 1;
        }
        assert_eq!(
            unprotect_public(&f.suite, &bad_tag, &f.context, &f.secret),
            Err(FramingError::InvalidMembershipTag),
            "{id:?}"
        );
        let mut no_tag = message.clone();
        no_tag.membership_tag = None;
        assert_eq!(
            unprotect_public(&f.suite, &no_tag, &f.context, &f.secret),
            Err(FramingError::MissingMembershipTag),
            "{id:?}"
        );
        // Another epoch's context: the signature covers the GroupContext.
        let mut other_context = f.context.clone();
        other_context.epoch += 1;
        assert_eq!(
            verify_signature(&f.suite, &f.signature.public, &opened, &other_context),
            Err(FramingError::InvalidSignature),
            "{id:?}"
        );
    }
}

#[test]
fn private_message_round_trip_replay_and_forgery() {
    for id in CipherSuite::ALL {
        let f = fixture(id);
        let mut sender = f.tree();
        let mut receiver = f.tree();
        let first = f.signed(WireFormat::MLS_PRIVATE_MESSAGE, application(b"first"));
        let second = f.signed(WireFormat::MLS_PRIVATE_MESSAGE, application(b"second"));
        let m1 =
            protect_private(&f.suite, &first, &mut sender, &f.secret, 5, [9, 9, 9, 9]).unwrap();
        let m2 =
            protect_private(&f.suite, &second, &mut sender, &f.secret, 0, [1, 2, 3, 4]).unwrap();

        // A forged ciphertext (past the sample the sender data key is derived from) fails
        // content decryption, without burning the genuine message's key.
        let mut forged = m2.clone();
        let last = forged.ciphertext.0.len() - 1;
        forged.ciphertext.0[last] ^= 1;
        assert_eq!(
            unprotect_private(&f.suite, &forged, &mut receiver, &f.secret, |_| true),
            Err(FramingError::ContentDecryption {
                leaf: 2,
                generation: 1
            }),
            "{id:?}"
        );
        // Out of order: the second message first, then the first.
        let (opened2, data2) =
            unprotect_private(&f.suite, &m2, &mut receiver, &f.secret, |_| true).unwrap();
        assert_eq!((opened2, data2.generation), (second, 1), "{id:?}");
        let (opened1, _) =
            unprotect_private(&f.suite, &m1, &mut receiver, &f.secret, |_| true).unwrap();
        verify_signature(&f.suite, &f.signature.public, &opened1, &f.context).unwrap();
        assert_eq!(opened1, first, "{id:?}");
        // A replay finds its key deleted.
        assert_eq!(
            unprotect_private(&f.suite, &m1, &mut receiver, &f.secret, |_| true),
            Err(FramingError::SecretTree(
                SecretTreeError::GenerationConsumed { generation: 0 }
            )),
            "{id:?}"
        );
    }
}

#[test]
fn private_message_rejects_non_members_and_foreign_sender_data() {
    let f = fixture(CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519);
    let content = f.content(application(b"x"), Sender::NewMemberProposal);
    let signed = sign(
        &f.suite,
        &f.signature.private,
        WireFormat::MLS_PRIVATE_MESSAGE,
        content,
        &f.context,
    )
    .unwrap();
    assert_eq!(
        protect_private(&f.suite, &signed, &mut f.tree(), &f.secret, 0, [0; 4]),
        Err(FramingError::PrivateSenderNotMember(
            Sender::NewMemberProposal
        ))
    );

    let signed = f.signed(WireFormat::MLS_PRIVATE_MESSAGE, application(b"x"));
    let message = protect_private(&f.suite, &signed, &mut f.tree(), &f.secret, 0, [0; 4]).unwrap();
    let other_secret = vec![8; f.suite.hash_length()];
    assert_eq!(
        unprotect_private(&f.suite, &message, &mut f.tree(), &other_secret, |_| true),
        Err(FramingError::SenderDataDecryption)
    );
    // Sender data naming a blank leaf is refused before the ratchet moves.
    let mut tree = f.tree();
    assert_eq!(
        unprotect_private(&f.suite, &message, &mut tree, &f.secret, |leaf| leaf
            != LeafIndex(2)),
        Err(FramingError::SenderNotMember { leaf: 2 })
    );
    assert!(unprotect_private(&f.suite, &message, &mut tree, &f.secret, |_| true).is_ok());
    // A commit must carry its confirmation tag.
    let commit = f.signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        ContentBody::Commit(crate::messages::Commit {
            proposals: Vec::new(),
            path: None,
        }),
    );
    assert!(matches!(
        protect_public(&f.suite, commit, &f.context, &f.secret),
        Err(FramingError::ConfirmationTagMismatch { present: false, .. })
    ));
}
