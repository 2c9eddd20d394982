#![allow(clippy::expect_used)] // set-up failures stop the benchmark run, naming the step
//! MLS group operations, side by side: Concord's reference, OpenMLS 0.9 (RustCrypto
//! provider) and mls-rs 0.57 (RustCrypto backend), ciphersuite 1; the reference also in
//! every other ciphersuite it has (rows `reference@suite-N`, small groups).
//!
//! Rows (criterion group `operation/shape`, function = implementation, parameter = size):
//!
//! ```text
//! key-package, create-group                     once per implementation
//! commit/{full,sparse}          at the committer: a commit with an UpdatePath, no proposals
//! process-commit/{full,sparse}  at the receiver: that commit, processed and merged
//! add-member/{full,sparse}      at the committer: an Add of one KeyPackage, with the Welcome
//! join/{full,sparse}            the new member joins from that Welcome (tree inside)
//! protect-{1KiB,64KiB}/{..}     an application message at the committer
//! unprotect-{1KiB,64KiB}/{..}   at the receiver
//! primitive                     the primitives of suite 1 (the reference's provider), for
//!                               the floor `concord bench` computes
//! ```
//!
//! Aligned settings: handshake messages as PublicMessage, no padding, the ratchet tree in
//! the GroupInfo of the Welcome, the same leaves for committer and receiver (full tree: n-1
//! and n-2; sparse: 0 and 1), bytes in and bytes out (decoding and encoding are measured).
//! Extra work one library does: OpenMLS writes its state to its in-memory store on every
//! operation; OpenMLS and the reference sign a GroupInfo with every commit, mls-rs only
//! when it carries a Welcome.
//!
//! Environment: `CONCORD_BENCH_SIZES` (default `2,16,128,1024`), `CONCORD_BENCH_4096=1`
//! (the reference at 4,096 members too), `CONCORD_BENCH_IMPLS` (default
//! `reference,openmls,mls-rs`), `CONCORD_BENCH_SUITE_SIZES` (sizes for the reference's other
//! suites, default `2,16`; empty: none).

use std::cell::RefCell;
use std::time::Duration;

use concord_benches::engine::Engine;
use concord_benches::mlsrs::MlsRs;
use concord_benches::openmls::OpenMls;
use concord_benches::reference::Reference;
use concord_benches::scene::{Scene, Shape};
use concord_reference::crypto::{CipherSuite, Suite};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use rand_core::SeedableRng;
use std::hint::black_box;

fn env_sizes(name: &str, default: &str) -> Vec<usize> {
    let text = std::env::var(name).unwrap_or_else(|_| default.to_string());
    let mut sizes = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<usize>() {
            Ok(n) if n >= 2 => sizes.push(n),
            _ => {
                eprintln!("{name}: `{part}` is not a group size of at least 2");
                std::process::exit(2);
            }
        }
    }
    sizes
}

fn enabled(implementation: &str) -> bool {
    std::env::var("CONCORD_BENCH_IMPLS")
        .map(|list| list.split(',').any(|i| i.trim() == implementation))
        .unwrap_or(true)
}

/// Key package generation and group creation.
fn bench_standalone<E: Engine>(c: &mut Criterion, engine: &RefCell<E>) {
    let name = engine.borrow().name();
    let mut group = c.benchmark_group("key-package");
    group.bench_function(&name, |b| {
        b.iter(|| {
            engine
                .borrow_mut()
                .key_package(b"bench member")
                .expect("key package")
        })
    });
    group.finish();
    let mut group = c.benchmark_group("create-group");
    group.bench_function(&name, |b| {
        b.iter(|| {
            engine
                .borrow_mut()
                .create_group(b"bench member")
                .expect("create group")
        })
    });
    group.finish();
}

/// Every group operation in one freshly built group.
fn bench_scene<E: Engine>(c: &mut Criterion, engine: &RefCell<E>, shape: Shape, size: usize) {
    let name = engine.borrow().name();
    let started = std::time::Instant::now();
    let scene = Scene::build(&mut *engine.borrow_mut(), shape, size)
        .unwrap_or_else(|e| panic!("{name}: building a {} tree of {size}: {e}", shape.name()));
    eprintln!(
        "{name}: {} tree of {size} members built and checked in {:.1} s",
        shape.name(),
        started.elapsed().as_secs_f64()
    );
    let Scene {
        mut committer,
        receiver,
        ..
    } = scene;
    let id = BenchmarkId::new(&name, size);
    let shape = shape.name();

    // Commit with an UpdatePath, discarded after each iteration.
    let mut group = c.benchmark_group(format!("commit/{shape}"));
    group.bench_function(id.clone(), |b| {
        b.iter(|| {
            let mut e = engine.borrow_mut();
            let commit = e.commit_update(&mut committer).expect("commit");
            e.discard_pending(&mut committer).expect("discard");
            commit
        })
    });
    group.finish();

    // The receiver processes one such commit, from a fresh copy each time; checked first.
    let commit = {
        let mut e = engine.borrow_mut();
        let mut sender = e.clone_member(&committer).expect("copy committer");
        let commit = e.commit_update(&mut sender).expect("commit");
        e.merge_pending(&mut sender).expect("merge");
        let mut copy = e.clone_member(&receiver).expect("copy receiver");
        e.process_commit(&mut copy, &commit)
            .expect("process commit");
        assert_eq!(
            e.epoch_authenticator(&sender).expect("authenticator"),
            e.epoch_authenticator(&copy).expect("authenticator"),
            "{name}: the receiver disagrees after the commit"
        );
        commit
    };
    let mut group = c.benchmark_group(format!("process-commit/{shape}"));
    group.bench_function(id.clone(), |b| {
        b.iter_batched(
            || engine.borrow_mut().clone_member(&receiver).expect("copy"),
            |mut member| {
                engine
                    .borrow_mut()
                    .process_commit(&mut member, &commit)
                    .expect("process commit");
                member
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // Adding one member (commit and Welcome), and joining from that Welcome.
    let (key_package, joiner) = engine
        .borrow_mut()
        .key_package(b"newcomer")
        .expect("key package");
    let mut group = c.benchmark_group(format!("add-member/{shape}"));
    group.bench_function(id.clone(), |b| {
        b.iter(|| {
            let mut e = engine.borrow_mut();
            let out = e
                .commit_add(&mut committer, std::slice::from_ref(&key_package))
                .expect("add");
            e.discard_pending(&mut committer).expect("discard");
            out
        })
    });
    group.finish();
    let welcome = {
        let mut e = engine.borrow_mut();
        let mut adder = e.clone_member(&committer).expect("copy committer");
        let (_, welcome) = e
            .commit_add(&mut adder, std::slice::from_ref(&key_package))
            .expect("add");
        e.merge_pending(&mut adder).expect("merge");
        let copy = e.clone_joiner(&joiner).expect("copy joiner");
        let joined = e.join(copy, &welcome).expect("join");
        assert_eq!(
            e.epoch_authenticator(&adder).expect("authenticator"),
            e.epoch_authenticator(&joined).expect("authenticator"),
            "{name}: the joiner disagrees"
        );
        welcome
    };
    let mut group = c.benchmark_group(format!("join/{shape}"));
    group.bench_function(id.clone(), |b| {
        b.iter_batched(
            || {
                engine
                    .borrow_mut()
                    .clone_joiner(&joiner)
                    .expect("copy joiner")
            },
            |joiner| engine.borrow_mut().join(joiner, &welcome).expect("join"),
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // Application messages.
    for (label, length) in [("1KiB", 1024), ("64KiB", 64 * 1024)] {
        let payload = vec![0xa5u8; length];
        let mut sender = engine.borrow_mut().clone_member(&committer).expect("copy");
        let mut group = c.benchmark_group(format!("protect-{label}/{shape}"));
        group.bench_function(id.clone(), |b| {
            b.iter(|| {
                engine
                    .borrow_mut()
                    .protect(&mut sender, black_box(&payload))
                    .expect("protect")
            })
        });
        group.finish();
        drop(sender);
        let (mut sender, mut reader) = {
            let mut e = engine.borrow_mut();
            let mut sender = e.clone_member(&committer).expect("copy");
            let mut reader = e.clone_member(&receiver).expect("copy");
            let message = e.protect(&mut sender, &payload).expect("protect");
            let opened = e.unprotect(&mut reader, &message).expect("unprotect");
            assert!(opened == payload, "{name}: the message read back differs");
            (sender, reader)
        };
        let mut group = c.benchmark_group(format!("unprotect-{label}/{shape}"));
        group.bench_function(id.clone(), |b| {
            b.iter_batched(
                || {
                    engine
                        .borrow_mut()
                        .protect(&mut sender, &payload)
                        .expect("protect")
                },
                |message| {
                    engine
                        .borrow_mut()
                        .unprotect(&mut reader, &message)
                        .expect("unprotect")
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

/// The primitives of suite 1 with the reference's provider: what the floor is made of.
fn bench_primitives(c: &mut Criterion) {
    let suite = Suite::new(CipherSuite(1)).expect("suite 1");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let hpke = suite.hpke_generate_key_pair(&mut rng).expect("HPKE keys");
    let signature = suite.signature_generate(&mut rng).expect("signature keys");
    let secret = vec![0x5a; suite.hash_length()];
    let small = vec![0x33u8; 256];
    let (enc, sealed) = suite
        .hpke_seal(&hpke.public, b"info", b"aad", &small[..64], &mut rng)
        .expect("seal");
    let key = vec![7u8; suite.aead_key_length()];
    let nonce = vec![9u8; suite.aead_nonce_length()];
    let mut group = c.benchmark_group("primitive");
    group.bench_function("hpke-seal", |b| {
        b.iter(|| {
            suite.hpke_seal(
                &hpke.public,
                b"info",
                b"aad",
                black_box(&small[..64]),
                &mut rng,
            )
        })
    });
    group.bench_function("hpke-open", |b| {
        b.iter(|| suite.hpke_open(&hpke.private, &enc, b"info", b"aad", black_box(&sealed)))
    });
    group.bench_function("derive-key-pair", |b| {
        b.iter(|| suite.hpke_derive_key_pair(black_box(&secret)))
    });
    group.bench_function("hpke-keygen", |b| {
        b.iter(|| suite.hpke_generate_key_pair(&mut rng))
    });
    group.bench_function("signature-keygen", |b| {
        b.iter(|| suite.signature_generate(&mut rng))
    });
    for (label, length) in [("small", 256usize), ("1KiB", 1024), ("64KiB", 64 * 1024)] {
        let message = vec![0x44u8; length];
        let signed = suite.sign(&signature.private, &message).expect("sign");
        group.bench_function(format!("sign-{label}"), |b| {
            b.iter(|| suite.sign(&signature.private, black_box(&message)))
        });
        group.bench_function(format!("verify-{label}"), |b| {
            b.iter(|| suite.verify(&signature.public, black_box(&message), &signed))
        });
    }
    group.bench_function("hash-small", |b| b.iter(|| suite.hash(black_box(&small))));
    group.bench_function("mac-small", |b| {
        b.iter(|| suite.mac(&secret, black_box(&small)))
    });
    group.bench_function("kdf-extract", |b| {
        b.iter(|| suite.kdf_extract(&secret, black_box(&secret)))
    });
    group.bench_function("expand-with-label", |b| {
        b.iter(|| suite.expand_with_label(black_box(&secret), b"label", b"context", 32))
    });
    for (label, length) in [("1KiB", 1024usize), ("64KiB", 64 * 1024)] {
        let plaintext = vec![0x55u8; length];
        let ciphertext = suite
            .aead_seal(&key, &nonce, b"", &plaintext)
            .expect("seal");
        group.bench_function(format!("aead-seal-{label}"), |b| {
            b.iter(|| suite.aead_seal(&key, &nonce, b"", black_box(&plaintext)))
        });
        group.bench_function(format!("aead-open-{label}"), |b| {
            b.iter(|| suite.aead_open(&key, &nonce, b"", black_box(&ciphertext)))
        });
    }
    group.finish();
}

fn groups(c: &mut Criterion) {
    bench_primitives(c);
    let reference = RefCell::new(Reference::new(CipherSuite(1), 1).expect("suite 1"));
    let openmls = RefCell::new(OpenMls::<openmls_rust_crypto::RustCrypto>::default());
    let mlsrs = RefCell::new(MlsRs::<mls_rs_crypto_rustcrypto::RustCryptoProvider>::default());
    let (with_ref, with_openmls, with_mlsrs) =
        (enabled("reference"), enabled("openmls"), enabled("mls-rs"));
    if with_ref {
        bench_standalone(c, &reference);
    }
    if with_openmls {
        bench_standalone(c, &openmls);
    }
    if with_mlsrs {
        bench_standalone(c, &mlsrs);
    }
    #[cfg(feature = "second-rows")]
    let second = SecondRows::new(c);
    // Size by size, all side by side, so drifting load on the machine hits all.
    for size in env_sizes("CONCORD_BENCH_SIZES", "2,16,128,1024") {
        for shape in Shape::ALL {
            if with_ref {
                bench_scene(c, &reference, shape, size);
            }
            if with_openmls {
                bench_scene(c, &openmls, shape, size);
            }
            if with_mlsrs {
                bench_scene(c, &mlsrs, shape, size);
            }
            #[cfg(feature = "second-rows")]
            second.scene(c, shape, size);
        }
    }
    if with_ref && std::env::var("CONCORD_BENCH_4096").is_ok_and(|v| v == "1") {
        for shape in Shape::ALL {
            bench_scene(c, &reference, shape, 4096);
        }
    }
    if with_ref {
        let sizes = env_sizes("CONCORD_BENCH_SUITE_SIZES", "2,16");
        for id in CipherSuite::ALL.into_iter().filter(|id| id.0 != 1) {
            let Ok(engine) = Reference::new(id, u64::from(id.0)) else {
                continue;
            };
            let engine = RefCell::new(engine);
            bench_standalone(c, &engine);
            for &size in &sizes {
                for shape in Shape::ALL {
                    bench_scene(c, &engine, shape, size);
                }
            }
        }
    }
}

/// OpenMLS on libcrux and mls-rs on OpenSSL: the same operations as the main rows.
#[cfg(feature = "second-rows")]
struct SecondRows {
    openmls: Option<RefCell<OpenMls<openmls_libcrux_crypto::CryptoProvider>>>,
    mlsrs: Option<RefCell<MlsRs<mls_rs_crypto_openssl::OpensslCryptoProvider>>>,
}

#[cfg(feature = "second-rows")]
impl SecondRows {
    fn new(c: &mut Criterion) -> Self {
        let rows = SecondRows {
            openmls: enabled("openmls-libcrux").then(|| RefCell::new(OpenMls::default())),
            mlsrs: enabled("mls-rs-openssl").then(|| RefCell::new(MlsRs::default())),
        };
        if let Some(engine) = &rows.openmls {
            bench_standalone(c, engine);
        }
        if let Some(engine) = &rows.mlsrs {
            bench_standalone(c, engine);
        }
        rows
    }

    fn scene(&self, c: &mut Criterion, shape: Shape, size: usize) {
        if let Some(engine) = &self.openmls {
            bench_scene(c, engine, shape, size);
        }
        if let Some(engine) = &self.mlsrs {
            bench_scene(c, engine, shape, size);
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = groups
}
criterion_main!(benches);
