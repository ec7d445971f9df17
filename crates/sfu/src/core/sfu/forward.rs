//! How packets flow: publisher frames fan out to subscribers, subscriber keyframe
//! requests go (coalesced) to the publisher, DataChannel messages cross between them.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use str0m::bwe::{Bitrate, BweKind};
use str0m::channel::ChannelData;
use str0m::media::{KeyframeRequestKind, MediaData, MediaKind, MediaTime, Rid};
use str0m::{Event, IceConnectionState};
use wishcast_api::SessionState;

use super::Sfu;
use crate::core::bridge::Bridge;
use crate::core::config::SfuEvent;
use crate::core::layers::{Layer, UP_FACTOR};
use crate::core::peer::{MediaCounter, PeerId, Role};

impl Sfu {
    /// Handle queued events until none are left.
    pub(super) fn pump(&mut self, now: Instant) {
        while let Some((pid, ev)) = self.work.pop_front() {
            self.on_event(pid, ev, now);
        }
    }

    fn on_event(&mut self, pid: PeerId, ev: Event, now: Instant) {
        match ev {
            Event::Connected => self.on_connected(pid, now),
            Event::IceConnectionStateChange(s) => self.on_ice_state(pid, s, now),
            Event::MediaData(d) => self.on_media(pid, d, now),
            Event::KeyframeRequest(req) => {
                self.metrics.plis_received.fetch_add(1, Relaxed);
                // The subscriber wants a keyframe of the layer it receives.
                if let Some((stream, rid)) = self.peer(pid).map(|p| (p.stream.clone(), p.selector.current)) {
                    self.request_keyframe(&stream, now, Some(req.kind), rid.map(Some));
                }
            }
            Event::ChannelOpen(id, _label) => {
                if let Some(p) = self.peer_mut(pid) {
                    p.channels.push(id);
                }
                self.events_session_changed(pid);
            }
            Event::ChannelClose(id) => {
                if let Some(p) = self.peer_mut(pid) {
                    p.channels.retain(|c| *c != id);
                }
            }
            Event::ChannelData(d) => self.on_channel_data(pid, d, now),
            Event::MediaIngressStats(s) => {
                let c = MediaCounter {
                    mid: s.mid,
                    rid: s.rid,
                    bytes: s.bytes,
                    packets: s.packets,
                    nacks: s.nacks,
                    plis: s.plis,
                };
                self.on_counter(pid, c, true);
            }
            Event::MediaEgressStats(s) => {
                let c = MediaCounter {
                    mid: s.mid,
                    rid: s.rid,
                    bytes: s.bytes,
                    packets: s.packets,
                    nacks: s.nacks,
                    plis: s.plis,
                };
                self.on_counter(pid, c, false);
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                if let Some(p) = self.peer_mut(pid) {
                    p.bwe_estimate = Some(estimate.as_u64());
                }
            }
            Event::PeerStats(_) => {
                if let Some(p) = self.peer_mut(pid) {
                    p.update_bitrate(now);
                }
            }
            _ => {}
        }
    }

    fn events_session_changed(&mut self, pid: PeerId) {
        if let Some(p) = self.peer(pid) {
            self.events.push(SfuEvent::SessionChanged(p.stream.clone()));
        }
    }

    fn on_counter(&mut self, pid: PeerId, c: MediaCounter, ingress: bool) {
        let Some(peer) = self.peer_mut(pid) else { return };
        let (bytes, packets, nacks, _plis) = peer.update_counter(c);
        let stream = peer.stream.clone();
        let m = &self.metrics;
        if ingress {
            m.rtp_bytes_in.fetch_add(bytes, Relaxed);
            m.rtp_packets_in.fetch_add(packets, Relaxed);
            m.nacks_sent.fetch_add(nacks, Relaxed);
        } else {
            m.rtp_bytes_out.fetch_add(bytes, Relaxed);
            m.rtp_packets_out.fetch_add(packets, Relaxed);
            m.nacks_received.fetch_add(nacks, Relaxed);
        }
        if let Some(s) = self.streams.get_mut(&stream) {
            if ingress {
                s.publish_bytes += bytes;
                s.publish_packets += packets;
            } else {
                s.subscribe_bytes += bytes;
                s.subscribe_packets += packets;
            }
        }
    }

    fn on_connected(&mut self, pid: PeerId, now: Instant) {
        let Some(peer) = self.peer_mut(pid) else { return };
        peer.state = SessionState::Connected;
        peer.disconnected_since = None;
        peer.first_connected = true;
        let role = peer.role;
        let stream = peer.stream.clone();
        self.events.push(SfuEvent::SessionChanged(stream.clone()));
        if role == Role::Publisher {
            let waiting = self.streams.get(&stream).map(|s| !s.subscribers.is_empty()).unwrap_or(false)
                || self.remote_subscribers(&stream) > 0;
            if waiting {
                self.request_keyframe(&stream, now, None, None);
            }
        }
        if role == Role::Subscriber {
            self.send_gop(pid, &stream, now);
            let needs = self.peer(pid).map(|p| p.video_needs_keyframe && p.video_mid.is_some()).unwrap_or(false);
            if needs {
                self.request_keyframe(&stream, now, None, None);
            }
        }
    }

    fn on_ice_state(&mut self, pid: PeerId, s: IceConnectionState, now: Instant) {
        let Some(peer) = self.peer_mut(pid) else { return };
        match s {
            IceConnectionState::Disconnected => {
                peer.state = SessionState::Disconnected;
                peer.disconnected_since.get_or_insert(now);
            }
            IceConnectionState::Checking if peer.state == SessionState::New => {
                peer.state = SessionState::Connecting;
            }
            IceConnectionState::Connected | IceConnectionState::Completed => {
                if peer.state == SessionState::Disconnected {
                    peer.state = SessionState::Connected;
                }
                peer.disconnected_since = None;
            }
            _ => {}
        }
        self.events_session_changed(pid);
    }

    /// Ask the publisher of `stream` for a keyframe, at most once per 500 ms per layer.
    /// `only` restricts the request to one encoding (simulcast layer switch).
    pub(super) fn request_keyframe(
        &mut self,
        stream: &str,
        now: Instant,
        kind: Option<KeyframeRequestKind>,
        only: Option<Option<Rid>>,
    ) {
        let Some(pub_id) = self.streams.get(stream).and_then(|s| s.publisher) else {
            // The publisher lives on the stream's home worker: ask there (it coalesces).
            if self.multi() && !self.is_home(stream) {
                self.send_to_home(stream, Bridge::Keyframe { stream: stream.to_string(), kind, only });
            }
            return;
        };
        let Some(publisher) = self.peer_mut(pub_id) else { return };
        let mut sent = 0u64;
        for t in publisher.tracks_in.iter_mut() {
            if t.kind != MediaKind::Video {
                continue;
            }
            let mid = t.mid;
            for l in t.layers.iter_mut() {
                if only.is_some_and(|o| o != l.rid) || !l.keyframes.request(now) {
                    continue;
                }
                if let Some(mut w) = publisher.rtc.writer(mid) {
                    let k = kind.filter(|k| w.is_request_keyframe_possible(*k)).unwrap_or(KeyframeRequestKind::Pli);
                    if w.request_keyframe(l.rid, k).is_ok() {
                        sent += 1;
                    }
                }
            }
        }
        self.metrics.keyframe_requests_sent.fetch_add(sent, Relaxed);
        self.drain(pub_id, now);
    }

    /// Deferred (coalesced) keyframe requests whose interval has passed.
    pub(super) fn flush_keyframe_requests(&mut self, pid: PeerId, now: Instant) {
        let Some(publisher) = self.peer_mut(pid) else { return };
        let mut sent = 0;
        for t in publisher.tracks_in.iter_mut() {
            let mid = t.mid;
            for l in t.layers.iter_mut() {
                if !l.keyframes.due(now) {
                    continue;
                }
                if let Some(mut w) = publisher.rtc.writer(mid)
                    && w.request_keyframe(l.rid, KeyframeRequestKind::Pli).is_ok()
                {
                    sent += 1;
                }
            }
        }
        if sent > 0 {
            self.metrics.keyframe_requests_sent.fetch_add(sent, Relaxed);
            self.drain(pid, now);
        }
    }

    fn on_media(&mut self, pid: PeerId, data: MediaData, now: Instant) {
        let Some(peer) = self.peer_mut(pid) else { return };
        if peer.role != Role::Publisher {
            return;
        }
        let Some(track) = peer.tracks_in.iter_mut().find(|t| t.mid == data.mid) else { return };
        let kind = track.kind;
        let mid = track.mid;
        let keyframe = kind == MediaKind::Video && data.is_keyframe();
        let layer = track.layer_mut(data.rid);
        layer.window_bytes += data.data.len() as u64;
        if keyframe {
            layer.keyframes.satisfied();
        }
        if !data.contiguous && kind == MediaKind::Video && layer.keyframes.request(now) {
            let rid = layer.rid;
            if let Some(mut w) = peer.rtc.writer(mid) {
                let _ = w.request_keyframe(rid, KeyframeRequestKind::Pli);
            }
        }
        let generation = peer.generation;
        let stream_id = peer.stream.clone();
        let Some(stream) = self.streams.get_mut(&stream_id) else { return };
        if stream.codec_for(kind).map(|p| p.spec() != data.params.spec()).unwrap_or(true) {
            stream.set_codec(kind, data.params);
        }
        let data = Arc::new(data);
        if kind == MediaKind::Video {
            stream.gop_mut(data.rid).push(&data);
        }
        self.fan_out(&stream_id, kind, &data, generation, now);
        if self.multi() {
            // Every other worker gets the frame (an Arc: no payload copy) for its own
            // subscribers and GOP copy.
            self.send_to_others(|| Bridge::Frame { stream: stream_id.clone(), generation, kind, data: data.clone() });
        }
    }

    /// Write one frame to every local subscriber of `stream_id`.
    pub(super) fn fan_out(
        &mut self,
        stream_id: &str,
        kind: MediaKind,
        data: &Arc<MediaData>,
        generation: u64,
        now: Instant,
    ) {
        let Some(stream) = self.streams.get_mut(stream_id) else { return };
        let subs = std::mem::take(&mut stream.subscribers);
        for &sub in &subs {
            self.write_to(sub, kind, data, generation, now);
        }
        if let Some(stream) = self.streams.get_mut(stream_id) {
            // Nothing can add subscribers while we write (single-threaded), so restore.
            stream.subscribers = subs;
        }
    }

    /// Write one frame to one subscriber (if its mute/layer state wants it) and drain it.
    fn write_to(&mut self, sub: PeerId, kind: MediaKind, data: &MediaData, generation: u64, now: Instant) {
        let mut keyframe_wait_ms = None;
        let Some(peer) = self.peer_mut(sub) else { return };
        if peer.state != SessionState::Connected && peer.state != SessionState::Disconnected {
            return;
        }
        let Some(mid) = peer.mid_for(kind) else { return };
        let keyframe = data.is_keyframe();
        let freq = data.time.frequency();
        let out = match kind {
            MediaKind::Audio => {
                if !peer.audio_enabled {
                    return;
                }
                let step = (freq.get() as u64 / 50).max(1);
                peer.audio_time.map(generation << 8, data.time.numer(), step)
            }
            MediaKind::Video => {
                if !peer.video_enabled || peer.video_layer_off {
                    return;
                }
                if let Some(rid) = data.rid
                    && !peer.selector.accept(rid, keyframe)
                {
                    return;
                }
                if peer.video_needs_keyframe {
                    if !keyframe {
                        return;
                    }
                    peer.video_needs_keyframe = false;
                    if !peer.first_keyframe_sent {
                        peer.first_keyframe_sent = true;
                        keyframe_wait_ms = Some(now.saturating_duration_since(peer.joined_at).as_millis() as u64);
                    }
                }
                // A simulcast layer switch re-bases time like a new publisher would.
                let layer_key = data.rid.map(|r| rid_key(&r)).unwrap_or(0);
                let step = (freq.get() as u64 / 30).max(1);
                peer.video_time.map(generation << 8 | layer_key, data.time.numer(), step)
            }
        };
        let Some(w) = peer.rtc.writer(mid) else { return };
        let Some(pt) = w.match_params(data.params) else { return };
        if let Err(e) = w.write(pt, data.network_time, MediaTime::new(out, freq), data.data.clone()) {
            tracing::debug!("write to subscriber failed: {e}");
        }
        if let Some(ms) = keyframe_wait_ms {
            self.metrics.observe_keyframe_wait(ms);
        }
        self.drain(sub, now);
    }

    /// Replay the cached GOP of the subscriber's layer to a subscriber that just connected.
    fn send_gop(&mut self, sub: PeerId, stream_id: &str, now: Instant) {
        let Some(stream) = self.streams.get(stream_id) else { return };
        if stream.publisher.is_none() && !stream.upstream_live {
            return;
        }
        let generation = stream.generation;
        let target = self.peer(sub).and_then(|p| p.selector.target);
        let Some(gop) = stream.gop(target).or_else(|| stream.gops.iter().map(|(_, g)| g).find(|g| !g.is_empty()))
        else {
            return;
        };
        let frames: Vec<Arc<MediaData>> = gop.frames().to_vec();
        if let (Some(first), Some(p)) = (frames.first(), self.peer_mut(sub))
            && let Some(rid) = first.rid
        {
            p.selector.target = Some(rid);
        }
        for f in &frames {
            self.write_to(sub, MediaKind::Video, f, generation, now);
        }
    }

    /// Once a second: measure layer bitrates, re-choose each subscriber's layer and ask
    /// for keyframes of the layers subscribers are waiting to switch to.
    pub(super) fn update_layers(&mut self, now: Instant, elapsed_secs: f64) {
        let streams: Vec<(String, Option<PeerId>)> = self
            .streams
            .values()
            .filter(|s| s.publisher.is_some() || !s.upstream_layers.is_empty())
            .map(|s| (s.id.clone(), s.publisher))
            .collect();
        let rate = |bytes: u64| (bytes as f64 * 8.0 / elapsed_secs.max(0.001)) as u64;
        for (stream_id, pub_id) in streams {
            let mut layers: Vec<Layer> = Vec::new();
            if let Some(pub_id) = pub_id {
                let Some(publisher) = self.peer_mut(pub_id) else { continue };
                for t in publisher.tracks_in.iter_mut().filter(|t| t.kind == MediaKind::Video) {
                    for l in t.layers.iter_mut() {
                        l.bitrate = rate(l.window_bytes);
                        l.window_bytes = 0;
                        if let Some(rid) = l.rid {
                            layers.push(Layer { rid, bitrate: l.bitrate });
                        }
                    }
                }
            } else if let Some(s) = self.streams.get_mut(&stream_id) {
                // Layers of a publisher on another worker, measured from its frames.
                for l in s.upstream_layers.iter_mut() {
                    l.2 = rate(l.1);
                    l.1 = 0;
                    layers.push(Layer { rid: l.0, bitrate: l.2 });
                }
            }
            if layers.is_empty() {
                continue;
            }
            let top: u64 = layers.iter().map(|l| l.bitrate).max().unwrap_or(0);
            let subs = self.streams.get(&stream_id).map(|s| s.subscribers.clone()).unwrap_or_default();
            let mut wanted: Vec<Rid> = Vec::new();
            for sub in subs {
                let Some(p) = self.peer_mut(sub) else { continue };
                let est = p.effective_estimate();
                let target = p.selector.update(&layers, est, now);
                if let Some(t) = target
                    && p.selector.current != Some(t)
                    && !wanted.contains(&t)
                {
                    wanted.push(t);
                }
                // Let BWE discover room for the best layer: probe towards it, and pad up
                // to the next layer so the estimate can grow past the current rate.
                let cur_rate =
                    p.selector.current.and_then(|c| layers.iter().find(|l| l.rid == c)).map(|l| l.bitrate).unwrap_or(0);
                let next_rate = layers.iter().map(|l| l.bitrate).filter(|b| *b > cur_rate).min();
                let (minimum, desired) = if p.video_enabled && !p.video_layer_off {
                    (
                        Bitrate::bps(next_rate.map(|r| (r as f64 * UP_FACTOR) as u64).unwrap_or(100_000)),
                        Bitrate::bps((top as f64 * UP_FACTOR * 1.3) as u64 + 200_000),
                    )
                } else {
                    // No video to this subscriber: no reason to probe or pad.
                    (Bitrate::bps(0), Bitrate::kbps(100))
                };
                p.rtc.bwe().set_bitrate(minimum, desired);
                self.drain(sub, now);
            }
            for rid in wanted {
                self.request_keyframe(&stream_id, now, None, Some(Some(rid)));
            }
        }
    }

    fn on_channel_data(&mut self, pid: PeerId, d: ChannelData, now: Instant) {
        let Some(peer) = self.peer(pid) else { return };
        let role = peer.role;
        let stream = peer.stream.clone();
        let targets: Vec<PeerId> = match (role, self.streams.get(&stream)) {
            (Role::Publisher, Some(s)) => s.subscribers.clone(),
            (Role::Subscriber, Some(s)) => s.publisher.into_iter().collect(),
            _ => return,
        };
        if self.multi() {
            // Subscribers on other workers; a publisher on the home worker.
            match role {
                Role::Publisher => self.send_to_others(|| Bridge::ChannelDown {
                    stream: stream.clone(),
                    binary: d.binary,
                    data: d.data.clone(),
                }),
                Role::Subscriber if targets.is_empty() => self.send_to_home(
                    &stream,
                    Bridge::ChannelUp { stream: stream.clone(), binary: d.binary, data: d.data.clone() },
                ),
                Role::Subscriber => {}
            }
        }
        self.write_channels(&targets, d.binary, &d.data, now);
    }

    /// Write one DataChannel message on every open channel of `targets`.
    pub(super) fn write_channels(&mut self, targets: &[PeerId], binary: bool, data: &[u8], now: Instant) {
        for &t in targets {
            let Some(tp) = self.peer_mut(t) else { continue };
            for i in 0..tp.channels.len() {
                let cid = tp.channels[i];
                if let Some(mut ch) = tp.rtc.channel(cid) {
                    let _ = ch.write(binary, data);
                }
            }
            self.drain(t, now);
        }
    }
}

/// A small stable number per rid, to key timelines per layer.
fn rid_key(r: &Rid) -> u64 {
    r.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)) & 0xff
}
