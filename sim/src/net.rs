//! The simulated network: a virtual clock, one event queue, hosts, directional links with
//! latency, jitter, loss, duplication, reordering and bandwidth, and the fault verbs
//! (partition, hold and release, crash and restart). Every random choice comes from one
//! seeded ChaCha stream, events are ordered by time and then by scheduling order, and no
//! map is iterated in an order that reaches the hosts, so a seed replays byte for byte.
//! The queue is a calendar queue (`queue.rs`) that pops exactly as one heap would.
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

use std::collections::VecDeque;
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use rustc_hash::FxHashMap as HashMap;

use super::queue::{Entry, EventQueue};
use super::scenario::LinkSpec;
use super::window::Window;

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
    /// Data arrived at `to` (already acknowledged). The payload is shared with the
    /// sender's copy kept for retransmission.
    Data {
        id: u64,
        from: HostId,
        to: HostId,
        payload: Arc<P>,
    },
    /// A host's timer (`token` as given to [`Network::wake`]).
    Wake { host: HostId, token: u64 },
    /// Internal work (acks, retransmissions): nothing for the hosts.
    Internal,
}

/// A host, by the order it was first named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(u32);

impl HostId {
    /// The number, for tables indexed by host.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A packet on the wire: data (shared with the sender's unacknowledged copy) or an ack.
#[derive(Debug)]
struct Packet<P> {
    id: u64,
    from: HostId,
    to: HostId,
    size: usize,
    /// `None`: the acknowledgement of data packet `id`.
    data: Option<Arc<P>>,
}

impl<P> Clone for Packet<P> {
    fn clone(&self) -> Self {
        Packet {
            id: self.id,
            from: self.from,
            to: self.to,
            size: self.size,
            data: self.data.clone(),
        }
    }
}

#[derive(Debug)]
enum Event<P> {
    Arrive(Packet<P>),
    /// The sender is the unacknowledged packet's own.
    Retransmit {
        id: u64,
    },
    Wake {
        host: HostId,
        token: u64,
    },
}

#[derive(Debug)]
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
///
/// Hosts are numbered as they are first named, so a packet carries two numbers rather
/// than two names, and a payload is shared (not copied) between the packet on the wire,
/// its duplicates and the sender's copy kept for retransmission. Maps keyed by number
/// are hash maps: looked up, never iterated in an order that reaches the transcript.
pub struct Network<P> {
    now: u64,
    order: u64,
    next_id: u64,
    /// Earliest (time, order) first; scheduling order breaks ties, never content.
    queue: EventQueue<Event<P>>,
    /// First retransmission timers, `(time, order, packet id)`: each is set `RTO_US` after
    /// its send and the clock never goes back, so they come due in the order they were set
    /// and wait in a FIFO beside the heap (half the events, none of the heap's work).
    timers: VecDeque<(u64, u64, u64)>,
    rng: ChaCha8Rng,
    default_link: LinkSpec,
    names: Vec<Arc<str>>,
    hosts: HashMap<Arc<str>, HostId>,
    links: HashMap<(HostId, HostId), LinkState<P>>,
    /// Indexed by host.
    down: Vec<bool>,
    /// What waits for its acknowledgement, by packet id (handed out in sending order).
    unacked: Window<Unacked<P>>,
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

impl<P> Network<P> {
    /// A network whose randomness is `seed`; `record` keeps per-packet notes.
    pub fn new(seed: u64, default_link: LinkSpec, record: bool) -> Self {
        Network {
            now: 0,
            order: 0,
            next_id: 1,
            queue: EventQueue::default(),
            timers: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            default_link,
            names: Vec::new(),
            hosts: HashMap::default(),
            links: HashMap::default(),
            down: Vec::new(),
            unacked: Window::default(),
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

    /// The number of host `name`, numbering it if it is new.
    pub fn host(&mut self, name: &str) -> HostId {
        if let Some(id) = self.hosts.get(name) {
            return *id;
        }
        let id = HostId(self.names.len() as u32);
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.hosts.insert(name, id);
        self.down.push(false);
        id
    }

    /// The name of a host.
    /// The number of a host already named, without numbering a new one.
    pub fn lookup(&self, name: &str) -> Option<HostId> {
        self.hosts.get(name).copied()
    }

    pub fn name(&self, host: HostId) -> &Arc<str> {
        &self.names[host.0 as usize]
    }

    fn text(&self, host: HostId) -> String {
        self.names[host.0 as usize].to_string()
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

    fn note(&mut self, note: impl FnOnce(&Self) -> NetNote) {
        if self.record {
            let note = note(self);
            self.notes.push((self.now, note));
        }
    }

    fn link(&mut self, from: HostId, to: HostId) -> &mut LinkState<P> {
        self.links
            .entry((from, to))
            .or_insert_with(LinkState::fresh)
    }

    fn link_of(&mut self, from: &str, to: &str) -> &mut LinkState<P> {
        let (from, to) = (self.host(from), self.host(to));
        self.link(from, to)
    }

    pub fn set_link(&mut self, from: &str, to: &str, spec: LinkSpec) {
        self.link_of(from, to).spec = Some(spec);
    }

    fn schedule(&mut self, at: u64, event: Event<P>) {
        self.order += 1;
        if matches!(event, Event::Arrive(_)) {
            self.in_flight += 1;
        }
        self.queue.push(at, self.order, event);
    }

    /// Sends `payload` reliably: kept and retransmitted until `to` acknowledges it.
    pub fn send(&mut self, from: &str, to: &str, payload: P, size: usize) {
        let (from, to) = (self.host(from), self.host(to));
        self.send_between(from, to, payload, size);
    }

    /// [`Network::send`] between hosts already numbered.
    pub fn send_between(&mut self, from: HostId, to: HostId, payload: P, size: usize) {
        let id = self.next_id;
        self.next_id += 1;
        let packet = Packet {
            id,
            from,
            to,
            size,
            data: Some(Arc::new(payload)),
        };
        self.stats.data_sent += 1;
        self.transmit(packet.clone(), 0);
        self.unacked.insert(
            id,
            Unacked {
                packet,
                attempts: 0,
            },
        );
        self.order += 1;
        self.timers.push_back((self.now + RTO_US, self.order, id));
    }

    /// A timer for `host`, `after` microseconds from now.
    pub fn wake(&mut self, host: &str, after: u64, token: u64) {
        let host = self.host(host);
        self.schedule(self.now + after, Event::Wake { host, token });
    }

    fn transmit(&mut self, packet: Packet<P>, attempt: u32) {
        let (id, size, from, to) = (packet.id, packet.size, packet.from, packet.to);
        if packet.data.is_some() {
            self.note(|n| NetNote::Sent {
                id,
                from: n.text(from),
                to: n.text(to),
                size,
                attempt,
            });
            self.stats.bytes += size as u64;
        }
        let default = self.default_link;
        // A link never configured, cut, held or loaded has no entry: the defaults.
        let spec = match self.links.get_mut(&(from, to)) {
            None => default,
            Some(link) => {
                if link.cut {
                    self.stats.cut += 1;
                    self.note(|n| NetNote::Dropped {
                        id,
                        from: n.text(from),
                        to: n.text(to),
                        why: "partition",
                    });
                    return;
                }
                if let Some(held) = &mut link.held {
                    held.push_back(packet);
                    self.note(|n| NetNote::Held {
                        id,
                        from: n.text(from),
                        to: n.text(to),
                    });
                    return;
                }
                link.spec.unwrap_or(default)
            }
        };
        if self.chance(spec.loss) {
            self.stats.lost += 1;
            self.note(|n| NetNote::Dropped {
                id,
                from: n.text(from),
                to: n.text(to),
                why: "loss",
            });
            return;
        }
        let copies = if self.chance(spec.duplicate) {
            self.stats.duplicated += 1;
            self.note(|n| NetNote::Duplicated {
                id,
                from: n.text(from),
                to: n.text(to),
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
        let first = self.queue.peek().map(|q| (q.at, q.order));
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
        let Entry {
            at, item: event, ..
        } = self.queue.pop()?;
        self.now = at;
        Some(match event {
            Event::Arrive(packet) => {
                self.in_flight -= 1;
                self.arrive(packet)
            }
            Event::Retransmit { id } => {
                self.retransmit(id);
                Happening::Internal
            }
            Event::Wake { host, token } => {
                if self.down[host.0 as usize] {
                    Happening::Internal
                } else {
                    Happening::Wake { host, token }
                }
            }
        })
    }

    fn arrive(&mut self, packet: Packet<P>) -> Happening<P> {
        let (id, from, to) = (packet.id, packet.from, packet.to);
        if self.down[to.0 as usize] {
            self.stats.to_down_host += 1;
            self.note(|n| NetNote::Dropped {
                id,
                from: n.text(from),
                to: n.text(to),
                why: "host down",
            });
            return Happening::Internal;
        }
        match packet.data {
            None => {
                self.unacked.remove(id);
                Happening::Internal
            }
            Some(payload) => {
                self.stats.data_delivered += 1;
                let ack = Packet {
                    id,
                    from: to,
                    to: from,
                    size: ACK_SIZE,
                    data: None,
                };
                self.transmit(ack, 0);
                Happening::Data {
                    id,
                    from,
                    to,
                    payload,
                }
            }
        }
    }

    fn retransmit(&mut self, id: u64) {
        let Some(entry) = self.unacked.get_mut(id) else {
            return;
        };
        if self.down[entry.packet.from.0 as usize] {
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
        self.link_of(from, to).cut = true;
        if both {
            self.link_of(to, from).cut = true;
        }
    }

    /// Heals one cut (both directions), or all of them.
    pub fn heal(&mut self, pair: Option<(&str, &str)>) {
        match pair {
            Some((a, b)) => {
                self.link_of(a, b).cut = false;
                self.link_of(b, a).cut = false;
            }
            None => self.links.values_mut().for_each(|l| l.cut = false),
        }
    }

    /// Holds `from -> to`: packets wait on the link until released.
    pub fn hold(&mut self, from: &str, to: &str) {
        let link = self.link_of(from, to);
        if link.held.is_none() {
            link.held = Some(VecDeque::new());
        }
    }

    /// Releases a held link: what waited goes out now, in order.
    pub fn release(&mut self, from: &str, to: &str) {
        let held = self.link_of(from, to).held.take().unwrap_or_default();
        for packet in held {
            self.transmit(packet, 0);
        }
    }

    pub fn is_held(&self, from: &str, to: &str) -> bool {
        let (Some(from), Some(to)) = (self.hosts.get(from), self.hosts.get(to)) else {
            return false;
        };
        self.links
            .get(&(*from, *to))
            .is_some_and(|l| l.held.is_some())
    }

    /// A crashed host receives nothing and sends nothing until restarted; what it had
    /// sent and not yet seen acknowledged is retransmitted after the restart.
    pub fn crash(&mut self, host: &str) {
        let host = self.host(host);
        self.down[host.0 as usize] = true;
    }

    pub fn restart(&mut self, host: &str) {
        let host = self.host(host);
        if std::mem::replace(&mut self.down[host.0 as usize], false) {
            let ids: Vec<u64> = self
                .unacked
                .iter()
                .filter(|(_, u)| u.packet.from == host)
                .map(|(id, _)| id)
                .collect();
            // In sending order.
            for id in ids {
                self.schedule(self.now, Event::Retransmit { id });
            }
        }
    }

    pub fn is_down(&self, host: &str) -> bool {
        self.hosts
            .get(host)
            .is_some_and(|h| self.down[h.0 as usize])
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
