//! How packets flow: publisher frames fan out to subscribers, subscriber keyframe
//! requests go (coalesced) to the publisher, DataChannel messages cross between them.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use str0m::channel::ChannelData;
use str0m::media::{KeyframeRequestKind, MediaData, MediaKind, MediaTime};
use str0m::{Event, IceConnectionState};
use wishcast_api::SessionState;

use super::{Sfu, SfuEvent};
use crate::peer::{MediaCounter, PeerId, Role};

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
                if let Some(stream) = self.peer(pid).map(|p| p.stream.clone()) {
                    self.request_keyframe(&stream, now, Some(req.kind));
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
                let c = MediaCounter { mid: s.mid, rid: s.rid, bytes: s.bytes, packets: s.packets, nacks: s.nacks, plis: s.plis };
                self.on_counter(pid, c, true);
            }
            Event::MediaEgressStats(s) => {
                let c = MediaCounter { mid: s.mid, rid: s.rid, bytes: s.bytes, packets: s.packets, nacks: s.nacks, plis: s.plis };
                self.on_counter(pid, c, false);
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
        let role = peer.role;
        let stream = peer.stream.clone();
        self.events.push(SfuEvent::SessionChanged(stream.clone()));
        if role == Role::Subscriber {
            self.send_gop(pid, &stream, now);
            let needs = self.peer(pid).map(|p| p.video_needs_keyframe && p.video_mid.is_some()).unwrap_or(false);
            if needs {
                self.request_keyframe(&stream, now, None);
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
            IceConnectionState::Checking => {
                if peer.state == SessionState::New {
                    peer.state = SessionState::Connecting;
                }
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

    /// Ask the publisher of `stream` for a keyframe, at most once per 500 ms per track.
    pub(super) fn request_keyframe(&mut self, stream: &str, now: Instant, kind: Option<KeyframeRequestKind>) {
        let Some(pub_id) = self.streams.get(stream).and_then(|s| s.publisher) else { return };
        let Some(publisher) = self.peer_mut(pub_id) else { return };
        let mut sent = 0u64;
        for i in 0..publisher.tracks_in.len() {
            if publisher.tracks_in[i].kind != MediaKind::Video {
                continue;
            }
            if !publisher.tracks_in[i].keyframes.request(now) {
                continue;
            }
            let (mid, rid) = (publisher.tracks_in[i].mid, publisher.tracks_in[i].forward_rid);
            if let Some(mut w) = publisher.rtc.writer(mid) {
                let k = kind.filter(|k| w.is_request_keyframe_possible(*k)).unwrap_or(KeyframeRequestKind::Pli);
                if w.request_keyframe(rid, k).is_ok() {
                    sent += 1;
                }
            }
        }
        self.metrics.keyframe_requests_sent.fetch_add(sent, Relaxed);
        self.drain(pub_id, now);
    }

    /// A deferred (coalesced) keyframe request whose interval has passed.
    pub(super) fn flush_keyframe_requests(&mut self, pid: PeerId, now: Instant) {
        let Some(publisher) = self.peer_mut(pid) else { return };
        let mut any = false;
        for i in 0..publisher.tracks_in.len() {
            if !publisher.tracks_in[i].keyframes.due(now) {
                continue;
            }
            let (mid, rid) = (publisher.tracks_in[i].mid, publisher.tracks_in[i].forward_rid);
            if let Some(mut w) = publisher.rtc.writer(mid) {
                any |= w.request_keyframe(rid, KeyframeRequestKind::Pli).is_ok();
            }
        }
        if any {
            self.metrics.keyframe_requests_sent.fetch_add(1, Relaxed);
            self.drain(pid, now);
        }
    }

    fn on_media(&mut self, pid: PeerId, data: MediaData, now: Instant) {
        let Some(peer) = self.peer_mut(pid) else { return };
        if peer.role != Role::Publisher {
            return;
        }
        let Some(track) = peer.tracks_in.iter_mut().find(|t| t.mid == data.mid) else { return };
        if track.forward_rid.is_some() && data.rid.is_some() && track.forward_rid != data.rid {
            return;
        }
        let kind = track.kind;
        let keyframe = kind == MediaKind::Video && data.is_keyframe();
        if keyframe {
            track.keyframes.satisfied();
        }
        if !data.contiguous && kind == MediaKind::Video && track.keyframes.request(now) {
            let (mid, rid) = (track.mid, track.forward_rid);
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
        let freq = data.time.frequency();
        let step = (freq.get() as u64 / if kind == MediaKind::Video { 30 } else { 50 }).max(1);
        let out = match kind {
            MediaKind::Video => stream.video_time.map(generation, data.time.numer(), step),
            MediaKind::Audio => stream.audio_time.map(generation, data.time.numer(), step),
        };
        let data = Arc::new(data);
        if kind == MediaKind::Video {
            stream.gop.push(&data);
        }
        let time = MediaTime::new(out, freq);
        let subs = std::mem::take(&mut stream.subscribers);
        for &sub in &subs {
            self.write_to(sub, kind, &data, time, now);
        }
        if let Some(stream) = self.streams.get_mut(&stream_id) {
            // Subscribers added while writing cannot happen (single-threaded), so restore.
            stream.subscribers = subs;
        }
    }

    /// Write one frame to one subscriber and drain it.
    fn write_to(&mut self, sub: PeerId, kind: MediaKind, data: &MediaData, time: MediaTime, now: Instant) {
        let metrics = self.metrics.clone();
        let Some(peer) = self.peer_mut(sub) else { return };
        if peer.state != SessionState::Connected && peer.state != SessionState::Disconnected {
            return;
        }
        let Some(mid) = peer.mid_for(kind) else { return };
        if kind == MediaKind::Video && peer.video_needs_keyframe {
            if !data.is_keyframe() {
                return;
            }
            peer.video_needs_keyframe = false;
            if !peer.first_keyframe_sent {
                peer.first_keyframe_sent = true;
                metrics.observe_keyframe_wait(now.saturating_duration_since(peer.joined_at).as_millis() as u64);
            }
        }
        let Some(w) = peer.rtc.writer(mid) else { return };
        let Some(pt) = w.match_params(data.params) else { return };
        if let Err(e) = w.write(pt, data.network_time, time, data.data.clone()) {
            tracing::debug!("write to subscriber failed: {e}");
        }
        self.drain(sub, now);
    }

    /// Replay the cached GOP to a subscriber that just connected.
    fn send_gop(&mut self, sub: PeerId, stream_id: &str, now: Instant) {
        let Some(stream) = self.streams.get_mut(stream_id) else { return };
        if stream.gop.is_empty() || stream.publisher.is_none() {
            return;
        }
        let generation = stream.generation;
        let frames: Vec<Arc<MediaData>> = stream.gop.frames().to_vec();
        // Map times on a scratch copy of the timeline so the live timeline is not disturbed.
        let mut tl = stream.video_time;
        for f in &frames {
            let step = (f.time.frequency().get() as u64 / 30).max(1);
            let out = tl.map(generation, f.time.numer(), step);
            self.write_to(sub, MediaKind::Video, f, MediaTime::new(out, f.time.frequency()), now);
        }
    }

    fn on_channel_data(&mut self, pid: PeerId, d: ChannelData, now: Instant) {
        let Some(peer) = self.peer(pid) else { return };
        let targets: Vec<PeerId> = match (peer.role, self.streams.get(&peer.stream)) {
            (Role::Publisher, Some(s)) => s.subscribers.clone(),
            (Role::Subscriber, Some(s)) => s.publisher.into_iter().collect(),
            _ => return,
        };
        for t in targets {
            let Some(tp) = self.peer_mut(t) else { continue };
            for i in 0..tp.channels.len() {
                let cid = tp.channels[i];
                if let Some(mut ch) = tp.rtc.channel(cid) {
                    let _ = ch.write(d.binary, &d.data);
                }
            }
            self.drain(t, now);
        }
    }
}
