//! Counters the media plane updates and `/metrics` reads (atomics, no locks).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds (ms) of the keyframe-wait histogram buckets.
pub const KEYFRAME_WAIT_BUCKETS_MS: [u64; 8] = [10, 50, 100, 250, 500, 1000, 2500, 5000];

#[derive(Default)]
pub struct Metrics {
    pub rtp_packets_in: AtomicU64,
    pub rtp_bytes_in: AtomicU64,
    pub rtp_packets_out: AtomicU64,
    pub rtp_bytes_out: AtomicU64,
    pub nacks_received: AtomicU64,
    pub nacks_sent: AtomicU64,
    pub plis_received: AtomicU64,
    pub keyframe_requests_sent: AtomicU64,
    pub datagrams_in: AtomicU64,
    pub datagrams_out: AtomicU64,
    pub datagrams_unrouted: AtomicU64,
    /// Datagrams the socket reader could not hand to a busy worker.
    pub datagrams_dropped: AtomicU64,
    /// Cross-worker messages dropped because the receiving worker was behind.
    pub bridge_dropped: AtomicU64,
    pub streams: AtomicU64,
    pub publishers: AtomicU64,
    pub subscribers: AtomicU64,
    /// Cumulative counts per bucket (Prometheus `le` semantics), plus +Inf.
    pub keyframe_wait_buckets: [AtomicU64; 9],
    pub keyframe_wait_sum_ms: AtomicU64,
    pub keyframe_wait_count: AtomicU64,
}

impl Metrics {
    pub fn observe_keyframe_wait(&self, ms: u64) {
        for (i, le) in KEYFRAME_WAIT_BUCKETS_MS.iter().enumerate() {
            if ms <= *le {
                self.keyframe_wait_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.keyframe_wait_buckets[8].fetch_add(1, Relaxed);
        self.keyframe_wait_sum_ms.fetch_add(ms, Relaxed);
        self.keyframe_wait_count.fetch_add(1, Relaxed);
    }

    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Relaxed)
    }
}
