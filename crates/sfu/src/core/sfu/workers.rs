//! Cross-worker messages: how one worker's [`Sfu`] talks to the others'.
//!
//! A stream's publisher lives on its home worker ([`crate::core::placement::home_of`]);
//! its subscribers may live on any worker. The home worker hands every publisher
//! frame to every other worker as an `Arc` (no payload copy); those workers keep
//! their own GOP copy (Arcs again) and fan out to their local subscribers. Keyframe
//! requests, DataChannel messages from subscribers and subscriber counts travel back
//! to the home worker. The core only queues messages ([`Sfu::take_bridge`]) and
//! consumes them ([`Sfu::handle_bridge`]); carrying them is the driver's job (or a
//! test's), so all of this runs in memory under a virtual clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use str0m::media::{MediaData, MediaKind};
use str0m::net::Protocol;

use super::Sfu;
use crate::core::bridge::{Bridge, RouteHint, UpstreamInfo};
use crate::core::placement::home_of;
use crate::core::stream::Stream;

impl Sfu {
    /// This worker's index and the number of workers.
    pub fn worker(&self) -> (usize, usize) {
        (self.cfg.worker, self.cfg.workers.max(1))
    }

    /// `stream`'s publisher lives on this worker.
    pub fn is_home(&self, stream: &str) -> bool {
        home_of(stream, self.cfg.workers) == self.cfg.worker
    }

    pub(super) fn multi(&self) -> bool {
        self.cfg.workers > 1
    }

    /// Messages for other workers since the last call: `(destination, message)`.
    pub fn take_bridge(&mut self) -> Vec<(usize, Bridge)> {
        std::mem::take(&mut self.bridge_out)
    }

    /// Append pending messages to `out` (no allocation when `out` has room).
    pub fn drain_bridge(&mut self, out: &mut Vec<(usize, Bridge)>) {
        out.append(&mut self.bridge_out);
    }

    /// Addresses learned or forgotten since the last call.
    pub fn take_route_hints(&mut self) -> Vec<RouteHint> {
        std::mem::take(&mut self.route_hints)
    }

    pub(super) fn send_to_others(&mut self, mut make: impl FnMut() -> Bridge) {
        let (me, n) = self.worker();
        for w in (0..n).filter(|w| *w != me) {
            self.bridge_out.push((w, make()));
        }
    }

    pub(super) fn send_to_home(&mut self, stream: &str, msg: Bridge) {
        let home = home_of(stream, self.cfg.workers);
        if home != self.cfg.worker {
            self.bridge_out.push((home, msg));
        }
    }

    pub(super) fn hint(&mut self, proto: Protocol, addr: SocketAddr, add: bool) {
        if self.multi() {
            self.route_hints.push(RouteHint { proto, addr, add });
        }
    }

    /// Tell the home worker how many subscribers of `stream` live here.
    pub(super) fn report_subscribers(&mut self, stream: &str) {
        if !self.multi() || self.is_home(stream) {
            return;
        }
        let count = self.streams.get(stream).map(|s| s.subscribers.len() as u32).unwrap_or(0);
        self.send_to_home(stream, Bridge::Subscribers { stream: stream.to_string(), count });
    }

    /// Subscribers of `stream` on other workers (home worker's view).
    pub(super) fn remote_subscribers(&self, stream: &str) -> u32 {
        self.remote_subs.get(stream).map(|v| v.iter().sum()).unwrap_or(0)
    }

    /// For the home worker: what a subscriber elsewhere needs to know.
    pub fn upstream_info(&self, stream: &str) -> UpstreamInfo {
        let Some(s) = self.streams.get(stream) else {
            return UpstreamInfo { viewers: self.remote_subscribers(stream) as usize, ..Default::default() };
        };
        let local = s.subscribers.iter().filter(|p| self.peer(**p).map(|p| !p.relay_viewer).unwrap_or(false)).count();
        let simulcast =
            s.publisher.and_then(|p| self.peer(p)).map(|p| p.tracks_in.iter().any(|t| t.simulcast())).unwrap_or(false);
        UpstreamInfo {
            exists: true,
            codecs: s.codecs.clone(),
            simulcast,
            viewers: local + self.remote_subscribers(stream) as usize,
        }
    }

    /// A message from worker `from`.
    pub fn handle_bridge(&mut self, now: Instant, from: usize, msg: Bridge) {
        match msg {
            Bridge::Frame { stream, generation, kind, data } => {
                self.on_remote_frame(&stream, generation, kind, data, now)
            }
            Bridge::Unpublished { stream } => self.on_remote_unpublished(&stream, now),
            Bridge::Destroyed { stream, reason } => {
                if self.streams.contains_key(&stream) {
                    self.destroy_stream(&stream, now, reason);
                }
            }
            Bridge::Keyframe { stream, kind, only } => self.request_keyframe(&stream, now, kind, only),
            Bridge::ChannelDown { stream, binary, data } => {
                let subs = self.streams.get(&stream).map(|s| s.subscribers.clone()).unwrap_or_default();
                self.write_channels(&subs, binary, &data, now);
            }
            Bridge::ChannelUp { stream, binary, data } => {
                let publisher: Vec<_> = self.streams.get(&stream).and_then(|s| s.publisher).into_iter().collect();
                self.write_channels(&publisher, binary, &data, now);
            }
            Bridge::Subscribers { stream, count } => {
                let n = self.cfg.workers.max(1);
                let v = self.remote_subs.entry(stream.clone()).or_insert_with(|| vec![0; n]);
                if let Some(c) = v.get_mut(from) {
                    *c = count;
                }
                if v.iter().all(|c| *c == 0) {
                    self.remote_subs.remove(&stream);
                }
                if count > 0
                    && let Some(s) = self.streams.get_mut(&stream)
                {
                    s.subscribe_left = None;
                    s.subscribe_leave_at_ms = 0;
                }
            }
        }
        self.pump(now);
    }

    fn on_remote_frame(
        &mut self,
        stream_id: &str,
        generation: u64,
        kind: str0m::media::MediaKind,
        data: Arc<MediaData>,
        now: Instant,
    ) {
        if !self.streams.contains_key(stream_id) {
            // A mirror: keeps the GOP so joins here are served locally; no API events.
            let ms = self.unix_ms(now);
            let mut s = Stream::new(stream_id.to_string(), now, ms, false);
            s.mirror = true;
            self.streams.insert(stream_id.to_string(), s);
        }
        let Some(st) = self.streams.get_mut(stream_id) else { return };
        if !st.upstream_live || st.upstream_generation != generation {
            // A new publisher: its delta frames cannot follow the old one's pictures.
            st.upstream_live = true;
            st.upstream_generation = generation;
            st.generation += 1;
            st.gops.clear();
            st.upstream_layers.clear();
            st.publish_left = None;
            st.publish_leave_at_ms = 0;
            let subs = st.subscribers.clone();
            for sub in subs {
                if let Some(p) = self.peer_mut(sub) {
                    p.video_needs_keyframe = true;
                    p.selector.current = None;
                }
            }
        }
        let Some(st) = self.streams.get_mut(stream_id) else { return };
        if st.codec_for(kind).map(|p| p.spec() != data.params.spec()).unwrap_or(true) {
            st.set_codec(kind, data.params);
        }
        if kind == MediaKind::Video {
            if let Some(rid) = data.rid {
                match st.upstream_layers.iter_mut().find(|l| l.0 == rid) {
                    Some(l) => l.1 += data.data.len() as u64,
                    None => st.upstream_layers.push((rid, data.data.len() as u64, 0)),
                }
            }
            st.gop_mut(data.rid).push(&data);
        }
        let local_generation = st.generation;
        self.fan_out(stream_id, kind, &data, local_generation, now);
    }

    fn on_remote_unpublished(&mut self, stream_id: &str, now: Instant) {
        let ms = self.unix_ms(now);
        let Some(st) = self.streams.get_mut(stream_id) else { return };
        st.upstream_live = false;
        st.gops.clear();
        st.upstream_layers.clear();
        st.publish_left = Some(now);
        st.publish_leave_at_ms = ms;
        if st.mirror && st.subscribers.is_empty() {
            self.streams.remove(stream_id);
        }
    }
}
