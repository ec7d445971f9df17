//! One WHIP or WHEP session: a str0m `Rtc` plus what the SFU needs to route for it.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::Rtc;
use str0m::channel::ChannelId;
use str0m::media::{MediaKind, Mid, Rid};
use str0m::net::Protocol;
use wishcast_api::SessionState;

use crate::core::keyframe::KeyframeLimiter;
use crate::core::layers::Selector;
use crate::core::timeline::Timeline;

/// Slot index plus generation, so a stale id never reaches a reused slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId {
    pub index: u32,
    pub generation: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Publisher,
    Subscriber,
}

/// One encoding of a publisher's track (a simulcast layer, or the only one).
pub struct LayerIn {
    pub rid: Option<Rid>,
    pub keyframes: KeyframeLimiter,
    /// Bytes received in the current measurement window.
    pub window_bytes: u64,
    /// Measured bit/s over the last window.
    pub bitrate: u64,
}

impl LayerIn {
    pub fn new(rid: Option<Rid>) -> Self {
        LayerIn { rid, keyframes: KeyframeLimiter::default(), window_bytes: 0, bitrate: 0 }
    }
}

/// A publisher's incoming track.
pub struct TrackIn {
    pub mid: Mid,
    pub kind: MediaKind,
    /// Encodings; more than one means simulcast.
    pub layers: Vec<LayerIn>,
}

impl TrackIn {
    pub fn simulcast(&self) -> bool {
        self.layers.iter().any(|l| l.rid.is_some())
    }

    /// The layer for a frame's rid, added on first sight.
    pub fn layer_mut(&mut self, rid: Option<Rid>) -> &mut LayerIn {
        let i = match self.layers.iter().position(|l| l.rid == rid) {
            Some(i) => i,
            None => {
                self.layers.push(LayerIn::new(rid));
                self.layers.len() - 1
            }
        };
        &mut self.layers[i]
    }
}

/// Per (mid, rid) cumulative counters from str0m stats events.
#[derive(Debug, Clone, Copy)]
pub struct MediaCounter {
    pub mid: Mid,
    pub rid: Option<Rid>,
    pub bytes: u64,
    pub packets: u64,
    pub nacks: u64,
    pub plis: u64,
}

pub struct Peer {
    pub id: PeerId,
    pub session_id: String,
    pub stream: String,
    pub role: Role,
    pub rtc: Rtc,
    pub ufrag: String,
    /// Our ICE password (verifies checks from new addresses).
    pub local_pwd: String,
    /// The client's current ICE ufrag (an ICE restart changes it).
    pub remote_ufrag: Option<String>,
    pub etag: String,
    pub state: SessionState,
    pub created_at_ms: u64,
    /// Keyed hash of the scoped token that created the session; `None` = unrestricted.
    pub owner: Option<u64>,
    /// Deadline the timer queue holds for this peer.
    pub deadline: Instant,
    /// A heap entry for `deadline` is pending.
    pub timer_armed: bool,
    /// Remote addresses learned by the demuxer.
    pub addrs: Vec<(Protocol, SocketAddr)>,
    /// Publisher: incoming tracks.
    pub tracks_in: Vec<TrackIn>,
    /// Subscriber: mid per kind it receives.
    pub audio_mid: Option<Mid>,
    pub video_mid: Option<Mid>,
    /// Subscriber: waiting for a keyframe before video is written.
    pub video_needs_keyframe: bool,
    /// Subscriber: simulcast layer choice.
    pub selector: Selector,
    /// Subscriber: latest egress bandwidth estimate (bit/s).
    pub bwe_estimate: Option<u64>,
    /// Subscriber: test/operator cap applied to the estimate (bit/s).
    pub bwe_cap: Option<u64>,
    /// Subscriber: per-kind forwarding switches (mute), and video off (`DELETE .../layer`).
    pub audio_enabled: bool,
    pub video_enabled: bool,
    pub video_layer_off: bool,
    /// Subscriber: continuous output time across publisher and layer switches.
    pub video_time: Timeline,
    pub audio_time: Timeline,
    pub joined_at: Instant,
    pub disconnected_since: Option<Instant>,
    /// When a datagram last arrived from this peer.
    pub last_rx: Instant,
    /// ICE+DTLS completed at least once.
    pub first_connected: bool,
    pub first_keyframe_sent: bool,
    pub channels: Vec<ChannelId>,
    pub counters: Vec<MediaCounter>,
    pub bitrate: u64,
    last_rate_bytes: u64,
    last_rate_at: Option<Instant>,
    /// A WHEP session opened by another node's cascade relay (not a viewer).
    pub relay_viewer: bool,
    /// Set for cascade relays (this node is the WebRTC client).
    pub relay: Option<crate::core::relay::RelayInfo>,
    /// Publisher generation (increments per publisher on a stream).
    pub generation: u64,
}

impl Peer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: PeerId,
        session_id: String,
        stream: String,
        role: Role,
        rtc: Rtc,
        ufrag: String,
        now: Instant,
        created_at_ms: u64,
    ) -> Self {
        Peer {
            id,
            etag: etag_for(&ufrag),
            session_id,
            stream,
            role,
            rtc,
            ufrag,
            local_pwd: String::new(),
            remote_ufrag: None,
            state: SessionState::New,
            created_at_ms,
            owner: None,
            deadline: now,
            timer_armed: false,
            addrs: Vec::new(),
            tracks_in: Vec::new(),
            audio_mid: None,
            video_mid: None,
            video_needs_keyframe: true,
            selector: Selector::default(),
            bwe_estimate: None,
            bwe_cap: None,
            audio_enabled: true,
            video_enabled: true,
            video_layer_off: false,
            video_time: Timeline::default(),
            audio_time: Timeline::default(),
            joined_at: now,
            disconnected_since: None,
            last_rx: now,
            first_connected: false,
            first_keyframe_sent: false,
            channels: Vec::new(),
            counters: Vec::new(),
            bitrate: 0,
            last_rate_bytes: 0,
            last_rate_at: None,
            generation: 0,
            relay: None,
            relay_viewer: false,
        }
    }

    /// The estimate used for layer choice (cap applied).
    pub fn effective_estimate(&self) -> Option<u64> {
        match (self.bwe_estimate, self.bwe_cap) {
            (Some(e), Some(c)) => Some(e.min(c)),
            (None, Some(c)) => Some(c),
            (e, None) => e,
        }
    }

    pub fn mid_for(&self, kind: MediaKind) -> Option<Mid> {
        match kind {
            MediaKind::Audio => self.audio_mid,
            MediaKind::Video => self.video_mid,
        }
    }

    /// Record cumulative counters for (mid, rid); returns the deltas (bytes, packets, nacks, plis).
    pub fn update_counter(&mut self, c: MediaCounter) -> (u64, u64, u64, u64) {
        if let Some(old) = self.counters.iter_mut().find(|o| o.mid == c.mid && o.rid == c.rid) {
            let d = (
                c.bytes.saturating_sub(old.bytes),
                c.packets.saturating_sub(old.packets),
                c.nacks.saturating_sub(old.nacks),
                c.plis.saturating_sub(old.plis),
            );
            *old = c;
            d
        } else {
            self.counters.push(c);
            (c.bytes, c.packets, c.nacks, c.plis)
        }
    }

    pub fn total_bytes(&self) -> u64 {
        self.counters.iter().map(|c| c.bytes).sum()
    }

    pub fn total_packets(&self) -> u64 {
        self.counters.iter().map(|c| c.packets).sum()
    }

    /// Refresh the bitrate from the byte counters (called on each stats tick).
    pub fn update_bitrate(&mut self, now: Instant) {
        let bytes = self.total_bytes();
        if let Some(t) = self.last_rate_at {
            let dt = now.saturating_duration_since(t).as_secs_f64();
            if dt >= 0.5 {
                self.bitrate = ((bytes.saturating_sub(self.last_rate_bytes)) as f64 * 8.0 / dt) as u64;
                self.last_rate_bytes = bytes;
                self.last_rate_at = Some(now);
            }
        } else {
            self.last_rate_bytes = bytes;
            self.last_rate_at = Some(now);
        }
    }
}

/// An ETag that changes whenever the ICE credentials change.
pub fn etag_for(ufrag: &str) -> String {
    format!("\"{ufrag}\"")
}
