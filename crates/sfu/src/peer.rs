//! One WHIP or WHEP session: a str0m `Rtc` plus what the SFU needs to route for it.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::channel::ChannelId;
use str0m::media::{MediaKind, Mid, Rid};
use str0m::net::Protocol;
use str0m::Rtc;
use wishcast_api::SessionState;

use crate::keyframe::KeyframeLimiter;

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

/// A publisher's incoming track.
pub struct TrackIn {
    pub mid: Mid,
    pub kind: MediaKind,
    /// Simulcast: the rid forwarded to subscribers (issue 3 adds per-subscriber choice).
    pub forward_rid: Option<Rid>,
    pub keyframes: KeyframeLimiter,
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
    pub joined_at: Instant,
    pub disconnected_since: Option<Instant>,
    pub first_keyframe_sent: bool,
    pub channels: Vec<ChannelId>,
    pub counters: Vec<MediaCounter>,
    pub bitrate: u64,
    last_rate_bytes: u64,
    last_rate_at: Option<Instant>,
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
            joined_at: now,
            disconnected_since: None,
            first_keyframe_sent: false,
            channels: Vec::new(),
            counters: Vec::new(),
            bitrate: 0,
            last_rate_bytes: 0,
            last_rate_at: None,
            generation: 0,
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
