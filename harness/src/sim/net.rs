//! The simulated network: a virtual clock, one event queue, hosts, directional links with
//! latency, jitter, loss, duplication, reordering and bandwidth, and the fault verbs
//! (partition, hold and release, crash and restart). Every random choice comes from one
//! seeded ChaCha stream and every map is ordered, so a seed replays byte for byte.
//!
//! ```text
//! send(from, to, payload) ── reliable: kept until acknowledged, retransmitted with backoff
//!        └─ transmit ── link: cut? held? lost? duplicated? ── Arrive at now + delay
//! next() ── pops the earliest event: Arrive (data: ack it, hand it up; ack: forget the
//!           packet), Retransmit, Wake (a host's timer)
//! ```
//!
//! Delivery is at least once: duplicates and reordering reach the hosts, which must be
//! idempotent (the MIMI model numbers its messages for that).

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use super::scenario::LinkSpec;

/// First retransmission timeout; doubled per attempt up to [`MAX_RTO_US`].
pub const RTO_US: u64 = 250_000;
pub const MAX_RTO_US: u64 = 4_000_000;
/// Size of an acknowledgement on the wire (for bandwidth).
const ACK_SIZE: usize = 16;

/// What the network tells its user, in order; the world turns these into transcript lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetNote {
    Sent {
        id: u64,
        from: String,
        to: String,
        size: usize,
        attempt: u32,
    },
    Dropped {
        id: u64,
        from: String,
        to: String,
        why: &'static str,
    },
    Duplicated {
        id: u64,
        from: String,
        to: String,
    },
    Held {
        id: u64,
        from: String,
        to: String,
    },
}

/// An event taken off the queue.
#[derive(Debug)]
pub enum Happening<P> {
    /// Data arrived at `to` (already acknowledged).
    Data {
        id: u64,
        from: String,
        to: String,
        payload: P,
    },
    /// A host's timer (`token` as given to [`Network::wake`]).
    Wake { host: String, token: u64 },
    /// Internal work (acks, retransmissions): nothing for the hosts.
    Internal,
}

#[derive(Debug, Clone)]
enum Body<P> {
    Data(P),
    Ack,
}

#[derive(Debug, Clone)]
struct Packet<P> {
    id: u64,
    from: String,
    to: String,
    size: usize,
    body: Body<P>,
}

#[derive(Debug)]
enum Event<P> {
    Arrive(Packet<P>),
    /// The sender is the unacknowledged packet's own.
    Retransmit {
        id: u64,
    },
    Wake {
        host: String,
        token: u64,
    },
}

#[derive(Debug, Clone, Default)]
struct LinkState<P> {
    spec: Option<LinkSpec>,
    cut: bool,
    held: Option<VecDeque<Packet<P>>>,
    busy_until: u64,
}

impl<P> LinkState<P> {
    fn fresh() -> Self {
        LinkState {
            spec: None,
            cut: false,
            held: None,
            busy_until: 0,
        }
    }
}

/// A scheduled event; ordered by time, then by scheduling order (unique), never by content.
#[derive(Debug)]
struct Queued<P> {
    at: u64,
    order: u64,
    event: Box<Event<P>>,
}

impl<P> PartialEq for Queued<P> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl<P> Eq for Queued<P> {}

impl<P> PartialOrd for Queued<P> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<P> Ord for Queued<P> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

struct Unacked<P> {
    packet: Packet<P>,
    attempts: u32,
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    pub data_sent: u64,
    pub data_delivered: u64,
    pub retransmissions: u64,
    pub lost: u64,
    pub cut: u64,
    pub duplicated: u64,
    pub to_down_host: u64,
    pub bytes: u64,
}

/// The network; `P` is what hosts send each other.
pub struct Network<P> {
    now: u64,
    order: u64,
    next_id: u64,
    /// Earliest (time, order) first; events are boxed so the heap moves 24-byte entries.
    queue: BinaryHeap<Reverse<Queued<P>>>,
    /// First retransmission timers, `(time, order, packet id)`: each is set `RTO_US` after
    /// its send and the clock never goes back, so they come due in the order they were set
    /// and wait in a FIFO beside the heap (half the events, none of the heap's work).
    timers: VecDeque<(u64, u64, u64)>,
    rng: ChaCha8Rng,
    default_link: LinkSpec,
    /// from -> to -> link: looked up by `&str` without allocating.
    links: BTreeMap<String, BTreeMap<String, LinkState<P>>>,
    down: BTreeSet<String>,
    /// Packet id (unique in the run) -> what waits for its acknowledgement.
    unacked: BTreeMap<u64, Box<Unacked<P>>>,
    in_flight: u64,
    record: bool,
    notes: Vec<(u64, NetNote)>,
    pub stats: NetStats,
}

impl<P> std::fmt::Debug for Network<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("now", &self.now)
            .field("queued", &(self.queue.len() + self.timers.len()))
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<P: Clone> Network<P> {
    /// A network whose randomness is `seed`; `record` keeps per-packet notes.
    pub fn new(seed: u64, default_link: LinkSpec, record: bool) -> Self {
        Network {
            now: 0,
            order: 0,
            next_id: 1,
            queue: BinaryHeap::new(),
            timers: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            default_link,
            links: BTreeMap::new(),
            down: BTreeSet::new(),
            unacked: BTreeMap::new(),
            in_flight: 0,
            record,
            notes: Vec::new(),
            stats: NetStats::default(),
        }
    }

    /// Virtual time, microseconds since the start.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// A draw from the run's seeded stream.
    pub fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.rng.next_u64() % (bound + 1)
        }
    }

    /// Notes since the last call.
    pub fn take_notes(&mut self) -> Vec<(u64, NetNote)> {
        std::mem::take(&mut self.notes)
    }

    fn note(&mut self, note: impl FnOnce() -> NetNote) {
        if self.record {
            self.notes.push((self.now, note()));
        }
    }

    fn link(&mut self, from: &str, to: &str) -> &mut LinkState<P> {
        // Two lookups on the hot path rather than two allocations per packet.
        if !self.links.get(from).is_some_and(|m| m.contains_key(to)) {
            self.links
                .entry(from.to_string())
                .or_default()
                .insert(to.to_string(), LinkState::fresh());
        }
        match self.links.get_mut(from).and_then(|m| m.get_mut(to)) {
            Some(link) => link,
            None => unreachable!("the link {from} -> {to} was just inserted"),
        }
    }

    pub fn set_link(&mut self, from: &str, to: &str, spec: LinkSpec) {
        self.link(from, to).spec = Some(spec);
    }

    fn schedule(&mut self, at: u64, event: Event<P>) {
        self.order += 1;
        if matches!(event, Event::Arrive(_)) {
            self.in_flight += 1;
        }
        self.queue.push(Reverse(Queued {
            at,
            order: self.order,
            event: Box::new(event),
        }));
    }

    /// Sends `payload` reliably: kept and retransmitted until `to` acknowledges it.
    pub fn send(&mut self, from: &str, to: &str, payload: P, size: usize) {
        let id = self.next_id;
        self.next_id += 1;
        let packet = Packet {
            id,
            from: from.to_string(),
            to: to.to_string(),
            size,
            body: Body::Data(payload),
        };
        self.stats.data_sent += 1;
        self.transmit(packet.clone(), 0);
        self.unacked.insert(
            id,
            Box::new(Unacked {
                packet,
                attempts: 0,
            }),
        );
        self.order += 1;
        self.timers.push_back((self.now + RTO_US, self.order, id));
    }

    /// A timer for `host`, `after` microseconds from now.
    pub fn wake(&mut self, host: &str, after: u64, token: u64) {
        self.schedule(
            self.now + after,
            Event::Wake {
                host: host.to_string(),
                token,
            },
        );
    }

    fn transmit(&mut self, packet: Packet<P>, attempt: u32) {
        // Names are copied only into notes, and notes are kept only when recording.
        let (id, size) = (packet.id, packet.size);
        let (from, to) = (packet.from.as_str(), packet.to.as_str());
        let is_data = matches!(packet.body, Body::Data(_));
        if is_data {
            self.note(|| NetNote::Sent {
                id,
                from: from.to_string(),
                to: to.to_string(),
                size,
                attempt,
            });
            self.stats.bytes += size as u64;
        }
        let default = self.default_link;
        let record = self.record;
        let link = self.link(from, to);
        if link.cut {
            self.stats.cut += 1;
            self.note(|| NetNote::Dropped {
                id,
                from: from.to_string(),
                to: to.to_string(),
                why: "partition",
            });
            return;
        }
        if link.held.is_some() {
            let note = record.then(|| NetNote::Held {
                id,
                from: from.to_string(),
                to: to.to_string(),
            });
            if let Some(held) = &mut self.link(from, to).held {
                held.push_back(packet);
            }
            if let Some(note) = note {
                self.notes.push((self.now, note));
            }
            return;
        }
        let spec = link.spec.unwrap_or(default);
        if self.chance(spec.loss) {
            self.stats.lost += 1;
            self.note(|| NetNote::Dropped {
                id,
                from: from.to_string(),
                to: to.to_string(),
                why: "loss",
            });
            return;
        }
        let copies = if self.chance(spec.duplicate) {
            self.stats.duplicated += 1;
            self.note(|| NetNote::Duplicated {
                id,
                from: from.to_string(),
                to: to.to_string(),
            });
            2
        } else {
            1
        };
        let mut arrivals = [0u64; 2];
        for arrival in arrivals.iter_mut().take(copies) {
            let mut delay = spec.latency_us + self.below(spec.jitter_us);
            if self.chance(spec.reorder) {
                // Held back long enough to arrive after later packets.
                delay += spec.latency_us + self.below(spec.latency_us.max(1_000) * 2);
            }
            let start = if spec.bandwidth > 0 {
                let now = self.now;
                let link = self.link(from, to);
                let begin = link.busy_until.max(now);
                let wire = (size.max(ACK_SIZE) as u64)
                    .saturating_mul(1_000_000)
                    .checked_div(spec.bandwidth)
                    .unwrap_or(0);
                link.busy_until = begin + wire;
                begin + wire
            } else {
                self.now
            };
            *arrival = start + delay;
        }
        if copies == 2 {
            self.schedule(arrivals[0], Event::Arrive(packet.clone()));
            self.schedule(arrivals[1], Event::Arrive(packet));
        } else {
            self.schedule(arrivals[0], Event::Arrive(packet));
        }
    }

    /// The next event, advancing the clock; `None` when nothing is scheduled before
    /// `deadline`.
    pub fn next(&mut self, deadline: u64) -> Option<Happening<P>> {
        let first = self.queue.peek().map(|q| (q.0.at, q.0.order));
        let timer = self.timers.front().map(|&(at, order, _)| (at, order));
        // Earliest (time, order) of the two, as one queue would give it.
        if let Some((at, order)) = timer
            && first.is_none_or(|first| (at, order) < first)
        {
            if at > deadline {
                return None;
            }
            let (at, _, id) = self.timers.pop_front()?;
            self.now = at;
            self.retransmit(id);
            return Some(Happening::Internal);
        }
        if first?.0 > deadline {
            return None;
        }
        let Reverse(Queued { at, event, .. }) = self.queue.pop()?;
        self.now = at;
        Some(match *event {
            Event::Arrive(packet) => {
                self.in_flight -= 1;
                self.arrive(packet)
            }
            Event::Retransmit { id } => {
                self.retransmit(id);
                Happening::Internal
            }
            Event::Wake { host, token } => {
                if self.down.contains(&host) {
                    Happening::Internal
                } else {
                    Happening::Wake { host, token }
                }
            }
        })
    }

    fn arrive(&mut self, packet: Packet<P>) -> Happening<P> {
        if self.down.contains(&packet.to) {
            self.stats.to_down_host += 1;
            let (id, from, to) = (packet.id, packet.from.clone(), packet.to.clone());
            self.note(|| NetNote::Dropped {
                id,
                from,
                to,
                why: "host down",
            });
            return Happening::Internal;
        }
        match packet.body {
            Body::Ack => {
                self.unacked.remove(&packet.id);
                Happening::Internal
            }
            Body::Data(payload) => {
                self.stats.data_delivered += 1;
                let ack = Packet {
                    id: packet.id,
                    from: packet.to.clone(),
                    to: packet.from.clone(),
                    size: ACK_SIZE,
                    body: Body::Ack,
                };
                self.transmit(ack, 0);
                Happening::Data {
                    id: packet.id,
                    from: packet.from,
                    to: packet.to,
                    payload,
                }
            }
        }
    }

    fn retransmit(&mut self, id: u64) {
        let Some(entry) = self.unacked.get_mut(&id) else {
            return;
        };
        if self.down.contains(&entry.packet.from) {
            // Resumed by restart.
            return;
        }
        entry.attempts += 1;
        let attempts = entry.attempts;
        let packet = entry.packet.clone();
        self.stats.retransmissions += 1;
        self.transmit(packet, attempts);
        let backoff = RTO_US
            .saturating_mul(1u64 << attempts.min(16))
            .min(MAX_RTO_US);
        self.schedule(self.now + backoff, Event::Retransmit { id });
    }

    /// Cuts `from -> to` (and back when `both`): packets on it are dropped.
    pub fn partition(&mut self, from: &str, to: &str, both: bool) {
        self.link(from, to).cut = true;
        if both {
            self.link(to, from).cut = true;
        }
    }

    /// Heals one cut (both directions), or all of them.
    pub fn heal(&mut self, pair: Option<(&str, &str)>) {
        match pair {
            Some((a, b)) => {
                self.link(a, b).cut = false;
                self.link(b, a).cut = false;
            }
            None => self
                .links
                .values_mut()
                .flat_map(BTreeMap::values_mut)
                .for_each(|l| l.cut = false),
        }
    }

    /// Holds `from -> to`: packets wait on the link until released.
    pub fn hold(&mut self, from: &str, to: &str) {
        let link = self.link(from, to);
        if link.held.is_none() {
            link.held = Some(VecDeque::new());
        }
    }

    /// Releases a held link: what waited goes out now, in order.
    pub fn release(&mut self, from: &str, to: &str) {
        let held = self.link(from, to).held.take().unwrap_or_default();
        for packet in held {
            self.transmit(packet, 0);
        }
    }

    pub fn is_held(&self, from: &str, to: &str) -> bool {
        self.links
            .get(from)
            .and_then(|m| m.get(to))
            .is_some_and(|l| l.held.is_some())
    }

    /// A crashed host receives nothing and sends nothing until restarted; what it had
    /// sent and not yet seen acknowledged is retransmitted after the restart.
    pub fn crash(&mut self, host: &str) {
        self.down.insert(host.to_string());
    }

    pub fn restart(&mut self, host: &str) {
        if self.down.remove(host) {
            let ids: Vec<u64> = self
                .unacked
                .iter()
                .filter(|(_, u)| u.packet.from == host)
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                self.schedule(self.now, Event::Retransmit { id });
            }
        }
    }

    pub fn is_down(&self, host: &str) -> bool {
        self.down.contains(host)
    }

    /// Nothing in flight and nothing waiting for an acknowledgement.
    pub fn quiet(&self) -> bool {
        self.in_flight == 0 && self.unacked.is_empty()
    }

    /// Moves the clock to `t` (nothing scheduled before it may be pending).
    pub fn advance_to(&mut self, t: u64) {
        self.now = self.now.max(t);
    }

    /// Whether any event is scheduled at all.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && self.timers.is_empty()
    }
}
