#![allow(clippy::expect_used)] // set-up failures stop the benchmark run, naming the step
//! The multi-provider simulator (`concord sim`), end to end through the harness's sim API:
//! one scenario per group size, generated here, run with reference clients and seed 1.
//!
//! Rows (criterion group `sim`, function `members`, parameter = group size): one full
//! run of the scenario (providers and clients set up, the group built by batch invites,
//! one update, then the application messages from random members over three providers,
//! under 1% loss and 1% reordering on every link), checked by its assertions (converged,
//! delivered exactly once, participants only). Throughput is in delivered application
//! messages (messages x (members - 1)): the delivered_once assertion guarantees that count.
//!
//! Before the criterion rows, each size is run once with the simulator's own stopwatch and
//! its `--bench` line printed: wall time, deliveries per second, the simulator's share of
//! the wall time (outside client-under-test calls), peak memory.
//!
//! Environment: `CONCORD_SIM_BENCH_SIZES` (default `50,200`), `CONCORD_SIM_BENCH_MESSAGES`
//! (application messages per run, default 200).

use std::path::Path;
use std::time::{Duration, Instant};

use concord_client::ClientUnderTest;
use concord_reference_client::ReferenceClient;
use concord_sim::{self as sim, Options, Scenario, scenario};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

fn env_list(name: &str, default: &str, minimum: usize) -> Vec<usize> {
    let text = std::env::var(name).unwrap_or_else(|_| default.to_string());
    let mut values = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<usize>() {
            Ok(n) if n >= minimum => values.push(n),
            _ => {
                eprintln!("{name}: `{part}` is not a number of at least {minimum}");
                std::process::exit(2);
            }
        }
    }
    values
}

/// A scenario of `members` members over three providers and `messages` messages.
fn scenario(members: usize, messages: usize) -> Scenario {
    let text = format!(
        r#"name = "sim bench: {members} members, {messages} messages"
transcript = "steps"
step_timeout = "30m"

[network]
latency = "20ms"
jitter = "10ms"
loss = 0.01
reorder = 0.01

[[provider]]
name = "p1.example"
[[provider]]
name = "p2.example"
[[provider]]
name = "p3.example"

[[user]]
name = "founder"
provider = "p1.example"

[[users]]
prefix = "u"
count = {others}
providers = ["p1.example", "p2.example", "p3.example"]

[[step]]
action = "create"
room = "r"
by = "founder"

[[step]]
action = "invite"
room = "r"
by = "founder"
user_prefix = "u"
batch = 100

[[step]]
action = "update"
room = "r"
by = "u1"

[[step]]
action = "send"
room = "r"
from = "*"
count = {messages}

[[assert]]
check = "converged"
room = "r"
[[assert]]
check = "delivered_once"
room = "r"
[[assert]]
check = "participants_only"
room = "r"
"#,
        others = members - 1,
    );
    scenario::parse(Path::new("benches/sim.rs"), &text).expect("the generated scenario parses")
}

fn reference_client(spec: &str, seed: u64) -> Result<Box<dyn ClientUnderTest>, String> {
    match spec {
        "reference" => Ok(Box::new(ReferenceClient::new(seed))),
        other => Err(format!(
            "the sim benchmark runs reference clients, not `{other}`"
        )),
    }
}

/// Runs the scenario once; every assertion must pass.
fn run(scenario: &Scenario, stopwatch: Option<&dyn Fn() -> Duration>) -> sim::Summary {
    let options = Options {
        seed: 1,
        bench: stopwatch.is_some(),
        ..Options::default()
    };
    let mut out = Vec::new();
    let summary = sim::run(
        std::slice::from_ref(scenario),
        &options,
        &reference_client,
        stopwatch,
        &mut out,
    )
    .expect("the scenario runs");
    assert!(
        summary.failed == 0 && summary.passed > 0,
        "{}",
        String::from_utf8_lossy(&out)
    );
    summary
}

fn bench_sim(c: &mut Criterion) {
    let sizes = env_list("CONCORD_SIM_BENCH_SIZES", "50,200", 2);
    let messages = env_list("CONCORD_SIM_BENCH_MESSAGES", "200", 1)
        .first()
        .copied()
        .unwrap_or(200);
    let mut group = c.benchmark_group("sim");
    // Runs take from half a second to seconds: a few whole runs per sample, no warm-up.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(30));
    for &members in &sizes {
        let scenario = scenario(members, messages);
        let start = Instant::now();
        let stopwatch = move || start.elapsed();
        for bench in run(&scenario, Some(&stopwatch)).benches {
            println!("{}", bench.line());
        }
        group.throughput(Throughput::Elements((messages * (members - 1)) as u64));
        group.bench_with_input(
            BenchmarkId::new("members", members),
            &scenario,
            |b, scenario| b.iter(|| run(scenario, None)),
        );
    }
    group.finish();
}

criterion_group!(benches, bench_sim);
criterion_main!(benches);
