//! The network's event queue: a calendar queue that pops in exactly the order of one
//! binary heap over `(time, order)`, with the sorting done on one millisecond of events
//! at a time.
//!
//! ```text
//! push(at) ── bucket at/1ms ──> ≤ cursor: `late` (a small heap: pushed into the bucket being drained)
//!                               within the ring (4,096 ms): ring[bucket % 4096] (unsorted)
//!                               beyond: `far` (a heap), moved into the ring as it comes near
//! pop ── the lesser of `current`'s last and `late`'s least; when both run dry, the next
//!        non-empty bucket is sorted (greatest first) and becomes `current`
//! ```
//!
//! Every event outside `current` and `late` lies in a later bucket than every event inside
//! them, so the least of those two is the least of all. A simulated network keeps tens of
//! thousands of packets in flight, almost all due within the next hundred milliseconds:
//! one heap over all of them is deep and cold in the cache; one sort per bucket is neither.
//! A bucket's storage, once drained, goes to a small pool and serves the next near bucket
//! that fills, so a busy run does not grow every bucket from empty again and again.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Width of a bucket, in microseconds of virtual time.
const BUCKET_US: u64 = 1_000;
/// Buckets in the ring: events due within this many buckets wait unsorted.
const RING: u64 = 4_096;
/// Drained buckets' storage kept for reuse, at most.
const POOL: usize = 64;
/// Only buckets due within this many buckets of the cursor are given pooled storage: the
/// near future is where the dense buckets are (packets in flight); a bucket further out
/// holds a few timers and grows from empty, rather than sitting on a large buffer.
const POOL_REACH: u64 = 128;

/// An item with its due time and its scheduling order (unique); compared by those only.
#[derive(Debug)]
pub struct Entry<T> {
    pub at: u64,
    pub order: u64,
    pub item: T,
}

impl<T> Entry<T> {
    fn bucket(&self) -> u64 {
        self.at / BUCKET_US
    }

    fn key(&self) -> (u64, u64) {
        (self.at, self.order)
    }
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Events by due time; equal times in scheduling order.
pub struct EventQueue<T> {
    /// The bucket being drained.
    cursor: u64,
    /// The cursor's bucket as it stood when its turn came, sorted greatest first.
    current: Vec<Entry<T>>,
    /// Pushed into the cursor's bucket (or an earlier one) after its turn came.
    late: BinaryHeap<Reverse<Entry<T>>>,
    /// The buckets after the cursor's, each unsorted, by bucket number modulo `RING`.
    ring: Vec<Vec<Entry<T>>>,
    in_ring: usize,
    /// Due beyond the ring.
    far: BinaryHeap<Reverse<Entry<T>>>,
    /// Empty storage of drained buckets.
    pool: Vec<Vec<Entry<T>>>,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            cursor: 0,
            current: Vec::new(),
            late: BinaryHeap::new(),
            ring: (0..RING).map(|_| Vec::new()).collect(),
            in_ring: 0,
            far: BinaryHeap::new(),
            pool: Vec::new(),
        }
    }
}

impl<T> EventQueue<T> {
    pub fn len(&self) -> usize {
        self.current.len() + self.late.len() + self.in_ring + self.far.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, at: u64, order: u64, item: T) {
        let entry = Entry { at, order, item };
        let bucket = entry.bucket();
        if bucket <= self.cursor {
            self.late.push(Reverse(entry));
        } else if bucket < self.cursor + RING {
            self.put_in_ring(bucket, entry);
        } else {
            self.far.push(Reverse(entry));
        }
    }

    fn put_in_ring(&mut self, bucket: u64, entry: Entry<T>) {
        let slot = &mut self.ring[(bucket % RING) as usize];
        if slot.capacity() == 0
            && bucket < self.cursor + POOL_REACH
            && let Some(storage) = self.pool.pop()
        {
            *slot = storage;
        }
        slot.push(entry);
        self.in_ring += 1;
    }

    /// The least entry, without moving on: when the bucket under way is dry, the next
    /// one is searched, not made current. Only a pop moves the cursor, so the cursor never
    /// runs ahead of the clock (a caller peeks, finds the next event beyond its deadline,
    /// and sends more first); had it, everything sent meanwhile would land behind it, in
    /// `late`, one heap again.
    pub fn peek(&self) -> Option<&Entry<T>> {
        if !self.current.is_empty() || !self.late.is_empty() {
            return match (self.current.last(), self.late.peek()) {
                (Some(sorted), Some(Reverse(late))) if late < sorted => Some(late),
                (Some(sorted), _) => Some(sorted),
                (None, late) => late.map(|Reverse(e)| e),
            };
        }
        if self.in_ring > 0 {
            // Far events all lie beyond the ring, so the first non-empty slot has the least.
            return (1..RING)
                .map(|k| &self.ring[((self.cursor + k) % RING) as usize])
                .find(|slot| !slot.is_empty())
                .and_then(|slot| slot.iter().min());
        }
        self.far.peek().map(|Reverse(e)| e)
    }

    pub fn pop(&mut self) -> Option<Entry<T>> {
        self.fill();
        let late_first = match (self.current.last(), self.late.peek()) {
            (Some(sorted), Some(Reverse(late))) => late < sorted,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if late_first {
            self.late.pop().map(|Reverse(e)| e)
        } else {
            self.current.pop()
        }
    }

    /// When `current` and `late` are both dry, makes the next non-empty bucket current.
    fn fill(&mut self) {
        if !self.current.is_empty() || !self.late.is_empty() {
            return;
        }
        loop {
            if self.in_ring == 0 {
                let Some(first) = self.far.peek().map(|e| e.0.bucket()) else {
                    return;
                };
                self.cursor = first.max(self.cursor + 1);
            } else {
                self.cursor += 1;
            }
            // Far events now within the ring move into it (the cursor's slot included).
            while let Some(next) = self.far.peek()
                && next.0.bucket() < self.cursor + RING
            {
                let Some(Reverse(entry)) = self.far.pop() else {
                    break;
                };
                let bucket = entry.bucket().max(self.cursor);
                self.put_in_ring(bucket, entry);
            }
            let slot = std::mem::take(&mut self.ring[(self.cursor % RING) as usize]);
            if slot.is_empty() {
                self.recycle(slot);
                continue;
            }
            self.in_ring -= slot.len();
            let mut drained = std::mem::replace(&mut self.current, slot);
            self.current.sort_unstable_by_key(|e| Reverse(e.key()));
            drained.clear();
            self.recycle(drained);
            return;
        }
    }

    fn recycle(&mut self, storage: Vec<Entry<T>>) {
        if storage.capacity() > 0 && self.pool.len() < POOL {
            self.pool.push(storage);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any interleaving of pushes (due no earlier than the last pop, as in a
        /// simulation whose clock never goes back) and pops gives what one binary heap
        /// gives, entry for entry.
        #[test]
        fn pops_in_the_order_of_one_heap(
            steps in prop::collection::vec((0u8..4, 0u64..20_000_000, 0u64..3), 1..600),
        ) {
            let mut queue = EventQueue::default();
            let mut heap = BinaryHeap::new();
            let mut now = 0;
            let mut order = 0;
            for (kind, delay, scale) in steps {
                if kind == 0 {
                    let popped = queue.pop().map(|e| (e.at, e.order, e.item));
                    let expected = heap.pop().map(|Reverse(e): Reverse<(u64, u64, u64)>| e);
                    prop_assert_eq!(popped, expected);
                    if let Some((at, _, _)) = popped {
                        now = at;
                    }
                } else {
                    // Near (microseconds), middling (the ring) and far (past it).
                    let delay = delay / [10_000, 100, 1][scale as usize];
                    order += 1;
                    queue.push(now + delay, order, order);
                    heap.push(Reverse((now + delay, order, order)));
                }
                prop_assert_eq!(queue.len(), heap.len());
                prop_assert_eq!(
                    queue.peek().map(|e| (e.at, e.order)),
                    heap.peek().map(|Reverse(e)| (e.0, e.1))
                );
            }
            while let Some(Reverse(expected)) = heap.pop() {
                let popped = queue.pop().map(|e| (e.at, e.order, e.item));
                prop_assert_eq!(popped, Some(expected));
            }
            prop_assert!(queue.is_empty());
        }
    }

    /// A peek that finds the next event far ahead leaves the cursor where it is: what is
    /// pushed afterwards for earlier times waits in the ring (sorted once per bucket),
    /// not behind the cursor in the `late` heap.
    #[test]
    fn a_peek_does_not_move_the_cursor_ahead_of_the_clock() {
        let mut queue = EventQueue::default();
        queue.push(500 * BUCKET_US, 1, 1);
        assert_eq!(queue.peek().map(|e| e.at), Some(500 * BUCKET_US));
        for order in 2..1_000 {
            queue.push(20 * BUCKET_US + order, order, order);
        }
        assert_eq!(queue.late.len(), 0);
        assert_eq!(queue.pop().map(|e| e.order), Some(2));
        assert_eq!(queue.cursor, 20);
        let rest: Vec<u64> = std::iter::from_fn(|| queue.pop().map(|e| e.order)).collect();
        assert_eq!(rest, (3..1_000).chain([1]).collect::<Vec<_>>());
    }
}
