//! A stream: at most one publisher, any number of subscribers, the publisher's codecs,
//! the cached GOP and the output timelines that keep subscribers continuous.

use std::time::Instant;

use str0m::format::PayloadParams;
use str0m::media::{MediaKind, Rid};

use crate::core::gop::GopCache;
use crate::core::peer::PeerId;

pub struct Stream {
    pub id: String,
    pub created_at_ms: u64,
    pub created_at: Instant,
    /// Created by `POST /api/streams/{id}`: never reaped as an orphan.
    pub pinned: bool,
    pub publisher: Option<PeerId>,
    pub publish_leave_at_ms: u64,
    pub publish_left: Option<Instant>,
    pub subscribers: Vec<PeerId>,
    pub subscribe_leave_at_ms: u64,
    pub subscribe_left: Option<Instant>,
    /// The publisher's codec per kind (kept after it leaves, for continuity).
    pub codecs: Vec<(MediaKind, PayloadParams)>,
    /// The current GOP of each video encoding (rid), for fast start.
    pub gops: Vec<(Option<Rid>, GopCache)>,
    /// Increments with each new publisher.
    pub generation: u64,
    /// Cumulative counters, monotonic across republish and churn.
    pub publish_bytes: u64,
    pub publish_packets: u64,
    pub subscribe_bytes: u64,
    pub subscribe_packets: u64,
    /// Created on a worker other than the stream's home to carry its frames (no API
    /// events; dropped with the upstream when nobody here subscribes).
    pub mirror: bool,
    /// Not the home worker: a publisher on the home worker is sending frames.
    pub upstream_live: bool,
    /// The home worker's publisher generation behind `upstream_live`.
    pub upstream_generation: u64,
    /// Not the home worker: simulcast layers seen upstream (rid, bytes this window,
    /// bit/s last window), for local layer choice.
    pub upstream_layers: Vec<(Rid, u64, u64)>,
}

impl Stream {
    pub fn new(id: String, now: Instant, now_ms: u64, pinned: bool) -> Self {
        Stream {
            id,
            created_at_ms: now_ms,
            created_at: now,
            pinned,
            publisher: None,
            publish_leave_at_ms: 0,
            publish_left: None,
            subscribers: Vec::new(),
            subscribe_leave_at_ms: now_ms,
            subscribe_left: Some(now),
            codecs: Vec::new(),
            gops: Vec::new(),
            generation: 0,
            publish_bytes: 0,
            publish_packets: 0,
            subscribe_bytes: 0,
            subscribe_packets: 0,
            mirror: false,
            upstream_live: false,
            upstream_generation: 0,
            upstream_layers: Vec::new(),
        }
    }

    pub fn gop_mut(&mut self, rid: Option<Rid>) -> &mut GopCache {
        let i = match self.gops.iter().position(|(r, _)| *r == rid) {
            Some(i) => i,
            None => {
                self.gops.push((rid, GopCache::default()));
                self.gops.len() - 1
            }
        };
        &mut self.gops[i].1
    }

    pub fn gop(&self, rid: Option<Rid>) -> Option<&GopCache> {
        self.gops.iter().find(|(r, _)| *r == rid).map(|(_, g)| g)
    }

    pub fn codec_for(&self, kind: MediaKind) -> Option<&PayloadParams> {
        self.codecs.iter().find(|(k, _)| *k == kind).map(|(_, p)| p)
    }

    pub fn set_codec(&mut self, kind: MediaKind, params: PayloadParams) {
        match self.codecs.iter_mut().find(|(k, _)| *k == kind) {
            Some(slot) => slot.1 = params,
            None => self.codecs.push((kind, params)),
        }
    }

    /// When the stream last became empty of both publishers and subscribers.
    pub fn empty_since(&self) -> Option<Instant> {
        if self.publisher.is_some() || self.upstream_live || !self.subscribers.is_empty() {
            return None;
        }
        let mut t = self.created_at;
        for x in [self.publish_left, self.subscribe_left].into_iter().flatten() {
            if x > t {
                t = x;
            }
        }
        Some(t)
    }
}
