//! The upload queue's rules, without I/O: which spool entry the mover may upload
//! next, what a newer put of the same path supersedes, and how long to back off after
//! failures. The spool feeds it events (`begin`, `commit`, `abort`), the mover asks
//! `next_ready` and reports `succeeded` / `failed`.
//!
//! Rules:
//! * Entries are ordered by sequence number (put order).
//! * A *barrier* entry (a manifest: `.mpd`, `.m3u8`) starts only when every entry
//!   before it has finished uploading, so a manifest never names a segment that is not
//!   in storage yet. Other entries may overtake a waiting barrier.
//! * Two entries of the same path never upload at once, and never out of order. When
//!   an entry commits, older pending entries of its path are dropped (superseded); an
//!   entry that commits after a newer one of its path is dropped itself.
//! * A failure backs off that entry (`base·2^(attempts-1)`, capped) and pauses the whole
//!   queue (`base·2^(consecutive failures-1)`, capped), so a storage outage costs one
//!   request per backoff period, not one per entry. A success clears all backoffs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::path::ObjectPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `put` is writing the file; not uploadable yet.
    Writing,
    Pending,
    InFlight,
}

#[derive(Debug, Clone)]
struct Entry {
    path: ObjectPath,
    barrier: bool,
    state: State,
    attempts: u32,
    not_before: Option<Instant>,
}

/// One upload the mover should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub seq: u64,
    pub path: ObjectPath,
}

/// Capped exponential backoff.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Delay after the `n`th consecutive failure (n ≥ 1).
    pub fn delay(&self, n: u32) -> Duration {
        let shift = n.saturating_sub(1).min(31);
        self.base.saturating_mul(1u32 << shift).min(self.max)
    }
}

/// Whether uploads of `path` must wait for everything put before it.
pub fn is_barrier(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".mpd") || lower.ends_with(".m3u8")
}

#[derive(Debug)]
pub struct Queue {
    entries: BTreeMap<u64, Entry>,
    by_path: HashMap<ObjectPath, BTreeSet<u64>>,
    in_flight: usize,
    consecutive_failures: u32,
    paused_until: Option<Instant>,
    backed_off: usize,
    backoff: Backoff,
}

impl Queue {
    pub fn new(backoff: Backoff) -> Queue {
        Queue {
            entries: BTreeMap::new(),
            by_path: HashMap::new(),
            in_flight: 0,
            consecutive_failures: 0,
            paused_until: None,
            backed_off: 0,
            backoff,
        }
    }

    pub fn set_backoff(&mut self, backoff: Backoff) {
        self.backoff = backoff;
    }

    /// A put of `path` with sequence `seq` started writing its file.
    pub fn begin(&mut self, seq: u64, path: ObjectPath) {
        let barrier = is_barrier(path.as_str());
        self.by_path.entry(path.clone()).or_default().insert(seq);
        self.entries.insert(seq, Entry { path, barrier, state: State::Writing, attempts: 0, not_before: None });
    }

    /// The put's file is durable. Returns the sequence numbers whose files are now
    /// superseded and must be deleted (may include `seq` itself).
    pub fn commit(&mut self, seq: u64) -> Vec<u64> {
        let Some(path) = self.entries.get(&seq).map(|e| e.path.clone()) else { return Vec::new() };
        let same: Vec<u64> = self.by_path.get(&path).map(|s| s.iter().copied().collect()).unwrap_or_default();
        let newer_committed = same.iter().any(|s| {
            *s > seq && matches!(self.entries.get(s).map(|e| e.state), Some(State::Pending | State::InFlight))
        });
        if newer_committed {
            self.remove(seq);
            return vec![seq];
        }
        let mut dropped = Vec::new();
        for s in same.into_iter().filter(|s| *s < seq) {
            if self.entries.get(&s).map(|e| e.state) == Some(State::Pending) {
                self.remove(s);
                dropped.push(s);
            }
        }
        if let Some(e) = self.entries.get_mut(&seq) {
            e.state = State::Pending;
        }
        dropped
    }

    /// The put failed; forget the entry.
    pub fn abort(&mut self, seq: u64) {
        self.remove(seq);
    }

    /// The next entry to upload, marked in flight; `None` if nothing may start now.
    pub fn next_ready(&mut self, now: Instant, max_in_flight: usize) -> Option<Job> {
        if self.in_flight >= max_in_flight || self.paused_until.is_some_and(|t| now < t) {
            return None;
        }
        let mut earlier_unfinished = false;
        let mut chosen = None;
        for (&seq, e) in &self.entries {
            let ready = e.state == State::Pending
                && e.not_before.is_none_or(|t| t <= now)
                && !(e.barrier && earlier_unfinished)
                && self.by_path.get(&e.path).and_then(|s| s.first()) == Some(&seq);
            if ready {
                chosen = Some(seq);
                break;
            }
            earlier_unfinished = true;
        }
        let seq = chosen?;
        let e = self.entries.get_mut(&seq)?;
        e.state = State::InFlight;
        e.attempts += 1;
        if e.not_before.take().is_some() {
            self.backed_off -= 1;
        }
        self.in_flight += 1;
        Some(Job { seq, path: e.path.clone() })
    }

    /// The upload of `seq` is confirmed (and its file deleted).
    pub fn succeeded(&mut self, seq: u64) {
        if self.entries.get(&seq).map(|e| e.state) == Some(State::InFlight) {
            self.in_flight -= 1;
        }
        self.remove(seq);
        self.consecutive_failures = 0;
        self.paused_until = None;
        if self.backed_off > 0 {
            for e in self.entries.values_mut() {
                e.not_before = None;
            }
            self.backed_off = 0;
        }
    }

    /// The upload of `seq` failed at `now`; returns the queue-wide pause.
    pub fn failed(&mut self, seq: u64, now: Instant) -> Duration {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let pause = self.backoff.delay(self.consecutive_failures);
        self.paused_until = Some(now + pause);
        if let Some(e) = self.entries.get_mut(&seq)
            && e.state == State::InFlight
        {
            self.in_flight -= 1;
            e.state = State::Pending;
            if e.not_before.is_none() {
                self.backed_off += 1;
            }
            e.not_before = Some(now + self.backoff.delay(e.attempts));
        }
        pause
    }

    /// Forget an entry whose file cannot be uploaded (missing or damaged).
    pub fn drop_entry(&mut self, seq: u64) {
        if self.entries.get(&seq).map(|e| e.state) == Some(State::InFlight) {
            self.in_flight -= 1;
        }
        self.remove(seq);
    }

    /// When waiting could make an entry ready (a backoff ends); `None` if only an
    /// event (commit, upload finished) can.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let mut any = false;
        let mut unblocked = false;
        let mut earliest: Option<Instant> = None;
        for e in self.entries.values().filter(|e| e.state == State::Pending) {
            any = true;
            match e.not_before {
                None => unblocked = true,
                Some(t) => earliest = Some(earliest.map_or(t, |m| m.min(t))),
            }
        }
        if !any {
            return None;
        }
        let entry_ready = if unblocked { None } else { earliest };
        match (self.paused_until, entry_ready) {
            (Some(p), Some(e)) => Some(p.max(e)),
            (Some(p), None) => Some(p),
            (None, e) => e,
        }
    }

    /// Entries not yet uploaded (writing, pending or in flight).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The newest committed entry of `path` (what a reader should see).
    pub fn newest_committed(&self, path: &ObjectPath) -> Option<u64> {
        let seqs = self.by_path.get(path)?;
        seqs.iter()
            .rev()
            .copied()
            .find(|s| matches!(self.entries.get(s).map(|e| e.state), Some(State::Pending | State::InFlight)))
    }

    fn remove(&mut self, seq: u64) {
        if let Some(e) = self.entries.remove(&seq) {
            if e.not_before.is_some() {
                self.backed_off -= 1;
            }
            if let Some(set) = self.by_path.get_mut(&e.path) {
                set.remove(&seq);
                if set.is_empty() {
                    self.by_path.remove(&e.path);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ObjectPath {
        ObjectPath::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn q() -> Queue {
        Queue::new(Backoff { base: Duration::from_millis(100), max: Duration::from_secs(2) })
    }

    fn put(q: &mut Queue, seq: u64, path: &str) -> Vec<u64> {
        q.begin(seq, p(path));
        q.commit(seq)
    }

    fn seq(j: Option<Job>) -> Option<u64> {
        j.map(|j| j.seq)
    }

    #[test]
    fn uploads_in_put_order_with_bounded_concurrency() {
        let mut q = q();
        let now = Instant::now();
        for i in 1..=4 {
            put(&mut q, i, &format!("s/v_{i}.m4s"));
        }
        assert_eq!(seq(q.next_ready(now, 2)), Some(1));
        assert_eq!(seq(q.next_ready(now, 2)), Some(2));
        assert_eq!(q.next_ready(now, 2), None, "concurrency 2");
        q.succeeded(2);
        assert_eq!(seq(q.next_ready(now, 2)), Some(3));
        q.succeeded(1);
        q.succeeded(3);
        assert_eq!(seq(q.next_ready(now, 2)), Some(4));
        q.succeeded(4);
        assert!(q.is_empty());
        assert_eq!(q.in_flight(), 0);
    }

    #[test]
    fn manifest_waits_for_every_earlier_entry() {
        let mut q = q();
        let now = Instant::now();
        put(&mut q, 1, "s/v_1.m4s");
        put(&mut q, 2, "s/v_2.m4s");
        put(&mut q, 3, "s/manifest.mpd");
        put(&mut q, 4, "s/v_3.m4s");
        assert_eq!(seq(q.next_ready(now, 3)), Some(1));
        assert_eq!(seq(q.next_ready(now, 3)), Some(2));
        // The manifest may not start while 1 and 2 are in flight; 4 overtakes it.
        assert_eq!(seq(q.next_ready(now, 3)), Some(4));
        q.succeeded(1);
        assert_eq!(q.next_ready(now, 3), None);
        q.succeeded(2);
        assert_eq!(seq(q.next_ready(now, 3)), Some(3));
    }

    #[test]
    fn manifest_waits_for_a_put_still_writing() {
        let mut q = q();
        let now = Instant::now();
        q.begin(1, p("s/v_1.m4s")); // still writing
        put(&mut q, 2, "s/manifest.mpd");
        assert_eq!(q.next_ready(now, 2), None);
        q.commit(1);
        assert_eq!(seq(q.next_ready(now, 2)), Some(1));
        q.succeeded(1);
        assert_eq!(seq(q.next_ready(now, 2)), Some(2));
        // An aborted put does not block forever.
        let mut q2 = self::q();
        q2.begin(1, p("s/v_1.m4s"));
        put(&mut q2, 2, "s/manifest.mpd");
        q2.abort(1);
        assert_eq!(seq(q2.next_ready(now, 2)), Some(2));
    }

    #[test]
    fn newer_put_supersedes_pending_older() {
        let mut q = q();
        let now = Instant::now();
        assert_eq!(put(&mut q, 1, "s/manifest.mpd"), Vec::<u64>::new());
        assert_eq!(put(&mut q, 2, "s/manifest.mpd"), vec![1]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.newest_committed(&p("s/manifest.mpd")), Some(2));
        assert_eq!(seq(q.next_ready(now, 2)), Some(2));
    }

    #[test]
    fn same_path_in_flight_is_not_superseded_and_blocks_the_newer() {
        let mut q = q();
        let now = Instant::now();
        put(&mut q, 1, "s/manifest.mpd");
        assert_eq!(seq(q.next_ready(now, 2)), Some(1));
        assert_eq!(put(&mut q, 2, "s/manifest.mpd"), Vec::<u64>::new());
        assert_eq!(q.next_ready(now, 2), None, "2 must wait until 1 is stored");
        q.succeeded(1);
        assert_eq!(seq(q.next_ready(now, 2)), Some(2));
    }

    #[test]
    fn older_commit_after_newer_drops_itself() {
        let mut q = q();
        q.begin(1, p("s/m.mpd"));
        q.begin(2, p("s/m.mpd"));
        assert_eq!(q.commit(2), Vec::<u64>::new());
        assert_eq!(q.commit(1), vec![1]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.newest_committed(&p("s/m.mpd")), Some(2));
    }

    #[test]
    fn newer_same_path_waits_for_older_still_writing() {
        let mut q = q();
        let now = Instant::now();
        q.begin(1, p("s/x.bin"));
        put(&mut q, 2, "s/x.bin");
        assert_eq!(q.next_ready(now, 2), None);
        assert_eq!(q.commit(1), vec![1]);
        assert_eq!(seq(q.next_ready(now, 2)), Some(2));
    }

    #[test]
    fn failures_back_off_and_success_clears() {
        let mut q = q();
        let t0 = Instant::now();
        put(&mut q, 1, "s/a");
        put(&mut q, 2, "s/b");
        assert_eq!(seq(q.next_ready(t0, 2)), Some(1));
        assert_eq!(q.failed(1, t0), Duration::from_millis(100));
        assert_eq!(q.next_ready(t0, 2), None, "queue paused");
        assert_eq!(q.next_wakeup(), Some(t0 + Duration::from_millis(100)));
        let t1 = t0 + Duration::from_millis(100);
        // Entry 1 is backed off as long as the pause; entry 1 is first again.
        assert_eq!(seq(q.next_ready(t1, 2)), Some(1));
        assert_eq!(q.failed(1, t1), Duration::from_millis(200));
        let t2 = t1 + Duration::from_millis(200);
        // Entry 1 now waits 200 ms (2nd attempt) from t1: ready at t2, together with 2.
        assert_eq!(seq(q.next_ready(t2, 2)), Some(1));
        assert_eq!(seq(q.next_ready(t2, 2)), Some(2));
        q.failed(1, t2);
        q.succeeded(2);
        // The success clears the pause and entry 1's backoff.
        assert_eq!(seq(q.next_ready(t2, 2)), Some(1));
        q.succeeded(1);
        assert!(q.is_empty());
        assert_eq!(q.next_wakeup(), None);
    }

    #[test]
    fn backoff_is_capped() {
        let b = Backoff { base: Duration::from_millis(500), max: Duration::from_secs(30) };
        assert_eq!(b.delay(1), Duration::from_millis(500));
        assert_eq!(b.delay(2), Duration::from_secs(1));
        assert_eq!(b.delay(7), Duration::from_secs(30));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn drop_unusable_entry() {
        let mut q = q();
        let now = Instant::now();
        put(&mut q, 1, "s/a");
        put(&mut q, 2, "s/b");
        assert_eq!(seq(q.next_ready(now, 1)), Some(1));
        q.drop_entry(1);
        assert_eq!(q.in_flight(), 0);
        assert_eq!(seq(q.next_ready(now, 1)), Some(2));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn barrier_detection() {
        assert!(is_barrier("a/manifest.mpd"));
        assert!(is_barrier("a/index.M3U8"));
        assert!(!is_barrier("a/v_0001.m4s"));
        assert!(!is_barrier("a/mpd"));
    }
}
