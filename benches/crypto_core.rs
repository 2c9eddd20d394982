#![allow(clippy::expect_used)] // fixtures are generated here, not read from input
//! The crypto core per ciphersuite: HPKE seal/open, sign/verify, ExpandWithLabel, one
//! key-schedule epoch, a secret-tree key at generation 1000, protect and unprotect of a
//! 1 KiB application message.
//!
//! `cargo bench -p concord-benches` ; figures are per operation, compare suites (and
//! peers measured in the same run), not absolute times across machines.

use concord_benches::fixture;
use concord_reference::codec::Bytes;
use concord_reference::crypto::CipherSuite;
use concord_reference::framing;
use concord_reference::key_schedule;
use concord_reference::messages::{ContentBody, FramedContent, GroupContext, Sender, WireFormat};
use concord_reference::secret_tree::{RatchetKind, RatchetPolicy, SecretTree};
use concord_reference::tree_math::LeafIndex;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn crypto_core(c: &mut Criterion) {
    for id in CipherSuite::ALL {
        let Some(mut f) = fixture(id) else { continue };
        let suite = f.suite;
        let name = format!("suite-{}", id.0);
        let mut group = c.benchmark_group("crypto-core");

        let (enc, ciphertext) = suite
            .hpke_seal(
                &f.hpke.public,
                b"info",
                b"aad",
                &f.payload[..64],
                &mut f.rng,
            )
            .expect("seal with a generated key");
        group.bench_function(BenchmarkId::new("hpke-seal", &name), |b| {
            b.iter(|| {
                suite.hpke_seal(
                    &f.hpke.public,
                    b"info",
                    b"aad",
                    black_box(&f.payload[..64]),
                    &mut f.rng,
                )
            })
        });
        group.bench_function(BenchmarkId::new("hpke-open", &name), |b| {
            b.iter(|| {
                suite.hpke_open(
                    &f.hpke.private,
                    &enc,
                    b"info",
                    b"aad",
                    black_box(&ciphertext),
                )
            })
        });

        let signature = suite.sign(&f.signature.private, &f.payload).expect("sign");
        group.bench_function(BenchmarkId::new("sign", &name), |b| {
            b.iter(|| suite.sign(&f.signature.private, black_box(&f.payload)))
        });
        group.bench_function(BenchmarkId::new("verify", &name), |b| {
            b.iter(|| suite.verify(&f.signature.public, black_box(&f.payload), &signature))
        });

        group.bench_function(BenchmarkId::new("expand-with-label", &name), |b| {
            b.iter(|| suite.expand_with_label(black_box(&f.secret), b"label", b"context", 32))
        });

        let group_context = vec![0u8; 120];
        group.bench_function(BenchmarkId::new("key-schedule-epoch", &name), |b| {
            b.iter(|| {
                key_schedule::next_epoch(
                    &suite,
                    &f.secret,
                    &f.secret,
                    &f.secret,
                    black_box(&group_context),
                )
            })
        });

        group.bench_function(
            BenchmarkId::new("secret-tree-generation-1000", &name),
            |b| {
                b.iter(|| {
                    let tree = SecretTree::new(suite, &f.secret, 8, RatchetPolicy::default());
                    tree.peek_key(LeafIndex(3), RatchetKind::Application, black_box(1000))
                })
            },
        );
        // Protect / unprotect a 1 KiB application message as a PrivateMessage: sign,
        // encrypt content and sender data; then decrypt both and verify the signature.
        let context = GroupContext::new(
            id,
            b"bench group".to_vec(),
            7,
            f.secret.clone(),
            f.secret.clone(),
            Vec::new(),
        );
        let content = FramedContent {
            group_id: Bytes(b"bench group".to_vec()),
            epoch: 7,
            sender: Sender::Member {
                leaf_index: LeafIndex(1),
            },
            authenticated_data: Bytes::default(),
            body: ContentBody::Application {
                application_data: Bytes(f.payload.clone()),
            },
        };
        let mut sender_tree = SecretTree::new(suite, &f.secret, 4, RatchetPolicy::default());
        group.bench_function(BenchmarkId::new("protect-1KiB", &name), |b| {
            b.iter(|| {
                let signed = framing::sign(
                    &suite,
                    &f.signature.private,
                    WireFormat::MLS_PRIVATE_MESSAGE,
                    content.clone(),
                    &context,
                )
                .expect("sign");
                framing::protect_private(
                    &suite,
                    &signed,
                    &mut sender_tree,
                    &f.secret,
                    0,
                    [1, 2, 3, 4],
                )
                .expect("protect")
            })
        });
        let signed = framing::sign(
            &suite,
            &f.signature.private,
            WireFormat::MLS_PRIVATE_MESSAGE,
            content.clone(),
            &context,
        )
        .expect("sign");
        let fresh = SecretTree::new(suite, &f.secret, 4, RatchetPolicy::default());
        let message = framing::protect_private(
            &suite,
            &signed,
            &mut fresh.clone(),
            &f.secret,
            0,
            [1, 2, 3, 4],
        )
        .expect("protect");
        group.bench_function(BenchmarkId::new("unprotect-1KiB", &name), |b| {
            b.iter_batched(
                || fresh.clone(),
                |mut tree| {
                    let (opened, _) =
                        framing::unprotect_private(&suite, &message, &mut tree, &f.secret, |_| {
                            true
                        })
                        .expect("unprotect");
                    framing::verify_signature(&suite, &f.signature.public, &opened, &context)
                        .expect("signature")
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, crypto_core);
criterion_main!(benches);
