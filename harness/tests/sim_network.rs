//! The simulated network's verbs: reliable delivery over loss, partitions, holds, crashes,
//! and determinism from the seed.

use concord_harness::sim::net::{Happening, Network};
use concord_harness::sim::scenario::LinkSpec;

/// Runs the network until `deadline`; returns (time, from, to, payload) of each delivery.
fn drain(net: &mut Network<u32>, deadline: u64) -> Vec<(u64, String, String, u32)> {
    let mut got = Vec::new();
    while let Some(h) = net.next(deadline) {
        if let Happening::Data {
            from, to, payload, ..
        } = h
        {
            got.push((
                net.now(),
                net.name(from).to_string(),
                net.name(to).to_string(),
                *payload,
            ));
        }
    }
    got
}

fn link(loss: f64) -> LinkSpec {
    LinkSpec {
        latency_us: 10_000,
        jitter_us: 5_000,
        loss,
        duplicate: 0.2,
        reorder: 0.2,
        bandwidth: 0,
    }
}

#[test]
fn every_packet_arrives_at_least_once_over_a_lossy_link_and_the_network_goes_quiet() {
    let mut net = Network::new(1, link(0.3), false);
    for i in 0..50 {
        net.send("a", "b", i, 100);
    }
    let got = drain(&mut net, 120_000_000);
    let mut seen: Vec<u32> = got.iter().map(|g| g.3).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    assert!(
        net.stats.lost > 0 && net.stats.retransmissions > 0,
        "{:?}",
        net.stats
    );
    assert!(net.quiet());
}

#[test]
fn the_same_seed_replays_the_same_deliveries_and_another_seed_does_not() {
    let run = |seed| {
        let mut net = Network::new(seed, link(0.1), false);
        for i in 0..30 {
            net.send("a", "b", i, 100);
            net.send("b", "a", 100 + i, 100);
        }
        drain(&mut net, 60_000_000)
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn a_partition_drops_until_healed_then_retransmission_delivers() {
    let mut net = Network::new(2, LinkSpec::default(), false);
    net.partition("a", "b", false);
    net.send("a", "b", 1, 10);
    net.send("b", "a", 2, 10);
    let got = drain(&mut net, 5_000_000);
    // One way: b's packets reach a (their acknowledgements, a -> b, do not: b retransmits).
    assert_eq!(got.iter().filter(|g| g.3 == 1).count(), 0);
    assert!(got.iter().any(|g| g.3 == 2));
    assert!(net.stats.cut > 0);
    net.heal(None);
    let got = drain(&mut net, 20_000_000);
    assert!(got.iter().any(|g| g.3 == 1), "{got:?}");
    assert!(net.quiet());
}

#[test]
fn a_held_link_delivers_nothing_until_released() {
    let mut net = Network::new(3, LinkSpec::default(), false);
    net.hold("a", "b");
    for i in 0..5 {
        net.send("a", "b", i, 10);
    }
    assert!(drain(&mut net, 3_000_000).is_empty());
    net.release("a", "b");
    let got = drain(&mut net, 30_000_000);
    let mut seen: Vec<u32> = got.iter().map(|g| g.3).collect();
    seen.dedup();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, vec![0, 1, 2, 3, 4]);
}

#[test]
fn a_crashed_host_receives_nothing_and_gets_everything_after_restart() {
    let mut net = Network::new(4, LinkSpec::default(), false);
    net.crash("b");
    net.send("a", "b", 7, 10);
    assert!(drain(&mut net, 10_000_000).is_empty());
    assert!(net.stats.to_down_host > 0);
    net.restart("b");
    let got = drain(&mut net, 30_000_000);
    assert!(got.iter().any(|g| g.3 == 7));
}

#[test]
fn bandwidth_spaces_packets_out() {
    let spec = LinkSpec {
        latency_us: 1_000,
        bandwidth: 1_000, // bytes per second
        ..LinkSpec::default()
    };
    let mut net = Network::new(5, spec, false);
    net.send("a", "b", 1, 500);
    net.send("a", "b", 2, 500);
    let got = drain(&mut net, 10_000_000);
    let first = got.iter().find(|g| g.3 == 1).map(|g| g.0);
    let second = got.iter().find(|g| g.3 == 2).map(|g| g.0);
    assert_eq!(first, Some(501_000));
    assert_eq!(second, Some(1_001_000));
}
