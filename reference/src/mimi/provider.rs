//! A provider serving its own users: their key packages, and the fanout of every room
//! they are in, delivered to each local client in order and exactly once.

use std::collections::{BTreeMap, VecDeque};

use super::{Fanout, Name, RoomEvent};

/// One event for one local client, numbered per (room, client) from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub room: Name,
    pub client: Name,
    pub seq: u64,
    pub timestamp: u64,
    pub event: RoomEvent,
}

/// The inbound fanout of one room: the next sequence number due and what came early.
#[derive(Debug, Clone, Default)]
struct Inbound {
    next: u64,
    early: BTreeMap<u64, Fanout>,
}

/// A provider's follower role (the hub's own users are served the same way).
#[derive(Debug, Clone, Default)]
pub struct Provider {
    key_packages: BTreeMap<String, VecDeque<Vec<u8>>>,
    inbound: BTreeMap<Name, Inbound>,
    /// Room -> client -> the next delivery's sequence number.
    next_delivery: BTreeMap<Name, BTreeMap<Name, u64>>,
    duplicates: u64,
    reuse_key_packages: bool,
    handed_out: BTreeMap<Vec<u8>, u64>,
    handed_out_again: u64,
}

impl Provider {
    /// Stores a key package a local client published.
    pub fn publish_key_package(&mut self, client: &str, key_package: Vec<u8>) {
        self.key_packages
            .entry(client.to_string())
            .or_default()
            .push_back(key_package);
    }

    /// Fetch Key Material: hands out one key package of `client`, never twice (unless
    /// the `reused-key-package` misbehaviour is on: then the oldest one, again and again).
    pub fn claim_key_package(&mut self, client: &str) -> Option<Vec<u8>> {
        let stored = self.key_packages.get_mut(client)?;
        let key_package = if self.reuse_key_packages {
            stored.front().cloned()?
        } else {
            stored.pop_front()?
        };
        let count = self.handed_out.entry(key_package.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            self.handed_out_again += 1;
        }
        Some(key_package)
    }

    /// The `reused-key-package` misbehaviour: key packages are handed out without being
    /// used up (MIMI-PROTOCOL-5.2-12 and RFC9420-10-1 broken on purpose). Off by default.
    #[cfg(feature = "adversary")]
    pub fn set_reuse_key_packages(&mut self, on: bool) {
        self.reuse_key_packages = on;
    }

    /// Whether the provider hands out used key packages.
    pub fn reuses_key_packages(&self) -> bool {
        self.reuse_key_packages
    }

    /// How many times a key package already handed out was handed out again.
    pub fn key_packages_handed_out_again(&self) -> u64 {
        self.handed_out_again
    }

    /// How many key packages of `client` are stored.
    pub fn key_package_count(&self, client: &str) -> usize {
        self.key_packages.get(client).map_or(0, VecDeque::len)
    }

    /// How many fanout messages arrived more than once (and were dropped).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Takes a fanout from the hub: a duplicate is dropped, an early one kept until its
    /// turn; returns the deliveries now due, in order.
    pub fn receive_fanout(&mut self, fanout: &Fanout) -> Vec<Delivery> {
        if !self.inbound.contains_key(&fanout.room) {
            self.inbound.insert(fanout.room.clone(), Inbound::default());
        }
        let Some(inbound) = self.inbound.get_mut(&fanout.room) else {
            return Vec::new();
        };
        if fanout.seq < inbound.next || inbound.early.contains_key(&fanout.seq) {
            self.duplicates += 1;
            return Vec::new();
        }
        let mut deliveries = Vec::new();
        if fanout.seq == inbound.next {
            // The one due next (the common case): delivered at once, not buffered.
            inbound.next += 1;
            number_deliveries(&mut self.next_delivery, fanout, &mut deliveries);
        } else {
            inbound.early.insert(fanout.seq, fanout.clone());
        }
        while let Some(next) = inbound.early.remove(&inbound.next) {
            inbound.next += 1;
            number_deliveries(&mut self.next_delivery, &next, &mut deliveries);
        }
        deliveries
    }
}

/// One delivery per recipient of `fanout`, each numbered in its (room, client) stream.
fn number_deliveries(
    next_delivery: &mut BTreeMap<Name, BTreeMap<Name, u64>>,
    fanout: &Fanout,
    out: &mut Vec<Delivery>,
) {
    if !next_delivery.contains_key(&fanout.room) {
        next_delivery.insert(fanout.room.clone(), BTreeMap::new());
    }
    let Some(streams) = next_delivery.get_mut(&fanout.room) else {
        return;
    };
    out.reserve(fanout.recipients.len());
    for client in &fanout.recipients {
        let seq = match streams.get_mut(client) {
            Some(seq) => seq,
            None => streams.entry(client.clone()).or_insert(0),
        };
        out.push(Delivery {
            room: fanout.room.clone(),
            client: client.clone(),
            seq: *seq,
            timestamp: fanout.timestamp,
            event: fanout.event.clone(),
        });
        *seq += 1;
    }
}
