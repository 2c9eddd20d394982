//! The network's event queue: a calendar queue that pops in exactly the order of one
//! binary heap over `(time, order)`, with the heap's work done on one millisecond of
//! events at a time.
//!
//! ```text
//! push(at) ── bucket at/1ms ──> ≤ cursor: `current` (a small heap: the bucket being drained)
//!                               within the ring (4,096 ms): ring[bucket % 4096] (unsorted)
//!                               beyond: `far` (a heap), moved into the ring as it comes near
//! pop ── the least of `current`; when it runs dry, the next non-empty bucket becomes it
//! ```
//!
//! Every event outside `current` lies in a later bucket than every event inside it, so the
//! least of `current` is the least of all. A simulated network keeps tens of thousands of
//! packets in flight, almost all due within the next hundred milliseconds: one heap over
//! all of them is deep and cold in the cache, a heap over one bucket is neither.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Width of a bucket, in microseconds of virtual time.
const BUCKET_US: u64 = 1_000;
/// Buckets in the ring: events due within this many buckets wait unsorted.
const RING: u64 = 4_096;

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
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
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
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

/// Least `(at, order)` first.
pub struct EventQueue<T> {
    /// The bucket being drained; every event in `ring` and `far` is in a later one.
    cursor: u64,
    current: BinaryHeap<Reverse<Entry<T>>>,
    ring: Vec<Vec<Entry<T>>>,
    in_ring: usize,
    far: BinaryHeap<Reverse<Entry<T>>>,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            cursor: 0,
            current: BinaryHeap::new(),
            ring: (0..RING).map(|_| Vec::new()).collect(),
            in_ring: 0,
            far: BinaryHeap::new(),
        }
    }
}

impl<T> EventQueue<T> {
    pub fn len(&self) -> usize {
        self.current.len() + self.in_ring + self.far.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, at: u64, order: u64, item: T) {
        let entry = Entry { at, order, item };
        let bucket = entry.bucket();
        if bucket <= self.cursor {
            self.current.push(Reverse(entry));
        } else if bucket < self.cursor + RING {
            self.ring[(bucket % RING) as usize].push(entry);
            self.in_ring += 1;
        } else {
            self.far.push(Reverse(entry));
        }
    }

    /// The least entry, left in place.
    pub fn peek(&mut self) -> Option<&Entry<T>> {
        self.fill();
        self.current.peek().map(|e| &e.0)
    }

    /// Takes the least entry.
    pub fn pop(&mut self) -> Option<Entry<T>> {
        self.fill();
        self.current.pop().map(|e| e.0)
    }

    /// Makes `current` hold the least entry, unless the queue is empty.
    fn fill(&mut self) {
        while self.current.is_empty() {
            if self.in_ring == 0 {
                // Nothing near: jump to the first far bucket (or stop).
                let Some(first) = self.far.peek().map(|e| e.0.bucket()) else {
                    return;
                };
                self.cursor = first.max(self.cursor + 1);
            } else {
                self.cursor += 1;
            }
            // Far events that came within the ring's reach.
            while let Some(next) = self.far.peek()
                && next.0.bucket() < self.cursor + RING
            {
                let Some(Reverse(entry)) = self.far.pop() else {
                    break;
                };
                let bucket = entry.bucket();
                if bucket <= self.cursor {
                    self.current.push(Reverse(entry));
                } else {
                    self.ring[(bucket % RING) as usize].push(entry);
                    self.in_ring += 1;
                }
            }
            // Taken with its storage: a slot keeps no capacity between its turns.
            let slot = std::mem::take(&mut self.ring[(self.cursor % RING) as usize]);
            self.in_ring -= slot.len();
            self.current.extend(slot.into_iter().map(Reverse));
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
}
