#![allow(clippy::expect_used)] // fixtures are generated here, not read from input
//! The crypto core per ciphersuite: HPKE seal/open, sign/verify, ExpandWithLabel, one
//! key-schedule epoch, a secret-tree key at generation 1000.
//!
//! `cargo bench -p concord-benches` ; figures are per operation, compare suites (and
//! peers measured in the same run), not absolute times across machines.

use concord_benches::fixture;
use concord_reference::crypto::CipherSuite;
use concord_reference::key_schedule;
use concord_reference::secret_tree::{RatchetKind, RatchetPolicy, SecretTree};
use concord_reference::tree_math::LeafIndex;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
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
        group.finish();
    }
}

criterion_group!(benches, crypto_core);
criterion_main!(benches);
