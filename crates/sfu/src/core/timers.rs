//! A deadline queue of peers: each peer has one pending wake-up; stale heap entries
//! are skipped lazily, so rescheduling is O(log n) and firing never scans all peers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::core::peer::PeerId;

#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, PeerId)>>,
}

impl Timers {
    pub fn schedule(&mut self, at: Instant, peer: PeerId) {
        self.heap.push(Reverse((at, peer)));
    }

    /// Earliest deadline (may be stale; callers re-check the peer's own deadline).
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((t, _))| *t)
    }

    /// Pop one entry due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, PeerId)> {
        match self.heap.peek() {
            Some(Reverse((t, _))) if *t <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Drop stale entries when the heap grows far beyond the number of peers.
    pub fn compact(&mut self, live: impl Fn(&(Instant, PeerId)) -> bool) {
        let old = std::mem::take(&mut self.heap);
        self.heap = old.into_iter().filter(|Reverse(e)| live(e)).collect();
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
}
