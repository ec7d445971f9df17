//! One subscriber's state in the fleet loop: its `Rtc` and socket, join
//! milestones, and per-SSRC counters; counting from str0m events (full mode) or
//! from clear-text SRTP headers (header mode); and its statistics snapshot.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::{Event, Rtc};
use tokio::sync::oneshot;

use crate::count::{FrameTicks, RtpFields, SsrcCount, starts_keyframe};

/// A subscriber whose answer is applied, handed to the loop.
pub struct NewSub {
    pub id: usize,
    pub rtc: Rtc,
    /// Non-blocking.
    pub socket: std::net::UdpSocket,
    pub posted_at: Instant,
    /// When the 201 answer arrived.
    pub answered_at: Instant,
    /// Negotiated payload types (for counting by header).
    pub video_pts: Vec<u8>,
    pub audio_pts: Vec<u8>,
    /// Resolved with the first media packet, or an error if the peer dies first.
    pub joined: oneshot::Sender<Result<(), String>>,
}

/// What one subscriber saw.
#[derive(Debug, Clone, Default)]
pub struct SubStats {
    pub id: usize,
    pub alive: bool,
    pub connected: bool,
    /// WHEP POST → 201 answer.
    pub answer: Duration,
    /// WHEP POST → DTLS connected.
    pub connect: Option<Duration>,
    /// WHEP POST → first RTP packet (any kind).
    pub first_media: Option<Duration>,
    /// WHEP POST → first packet starting a video keyframe.
    pub first_keyframe: Option<Duration>,
    pub window_packets: u64,
    pub window_video_packets: u64,
    pub window_video_frames: u64,
    pub window_audio_packets: u64,
    /// Frames (video) and packets (audio) the stream's RTP timestamps say were sent.
    pub window_video_frames_expected: u64,
    pub window_audio_packets_expected: u64,
    /// Datagrams this subscriber sent (STUN, DTLS, RTCP feedback) in the window.
    pub window_datagrams_out: u64,
    /// Header mode: RTP packets of no negotiated media payload type (RTX, probes).
    pub window_other_packets: u64,
    pub window_bytes: u64,
    pub window_expected: u64,
    pub window_lost: u64,
    pub window_gaps: u64,
    pub window_late: u64,
    pub total_packets: u64,
    pub send_errors: u64,
}

/// One subscriber as the loop owns it.
pub(crate) struct Sub {
    pub(crate) id: usize,
    pub(crate) rtc: Rtc,
    pub(crate) socket: mio::net::UdpSocket,
    pub(crate) local: SocketAddr,
    pub(crate) posted_at: Instant,
    pub(crate) answered_at: Instant,
    pub(crate) connected_at: Option<Instant>,
    pub(crate) first_media: Option<Instant>,
    pub(crate) first_key: Option<Instant>,
    pub(crate) ssrcs: Vec<SsrcCount>,
    pub(crate) joined: Option<oneshot::Sender<Result<(), String>>>,
    pub(crate) video_pts: Vec<u8>,
    pub(crate) audio_pts: Vec<u8>,
    pub(crate) deadline: Instant,
    pub(crate) scheduled: Option<Instant>,
    pub(crate) alive: bool,
    pub(crate) send_errors: u64,
    pub(crate) datagrams_out: u64,
    pub(crate) window_datagrams_base: u64,
    pub(crate) window_other: u64,
}

impl Sub {
    pub(crate) fn on_event(&mut self, e: Event, h264: bool, window: bool) {
        match e {
            Event::Connected => self.connected_at = Some(Instant::now()),
            Event::RtpPacket(p) => {
                let now = Instant::now();
                let ssrc = *p.header.ssrc;
                let video = p.time.frequency().get() == 90_000;
                self.ssrc(ssrc, video, window).on_packet(*p.seq_no, p.payload.len(), p.header.timestamp);
                self.got_media(now);
                if video && self.first_key.is_none() && starts_keyframe(h264, &p.payload) {
                    self.first_key = Some(now);
                }
            }
            _ => {}
        }
    }

    fn ssrc(&mut self, ssrc: u32, video: bool, window: bool) -> &mut SsrcCount {
        match self.ssrcs.iter().position(|c| c.ssrc == ssrc) {
            Some(k) => &mut self.ssrcs[k],
            None => {
                let mut c = SsrcCount::new(ssrc, video);
                if window {
                    c.open_window();
                }
                self.ssrcs.push(c);
                self.ssrcs.last_mut().unwrap()
            }
        }
    }

    fn got_media(&mut self, now: Instant) {
        if self.first_media.is_none() {
            self.first_media = Some(now);
            if let Some(j) = self.joined.take() {
                let _ = j.send(Ok(()));
            }
        }
    }

    /// Header mode: count an SRTP packet without decrypting it.
    pub(crate) fn count_header(&mut self, h: RtpFields, len: usize, window: bool) {
        let video = self.video_pts.contains(&h.pt);
        if !video && !self.audio_pts.contains(&h.pt) {
            self.window_other += u64::from(window);
            return;
        }
        let c = self.ssrc(h.ssrc, video, window);
        let seq = c.extend(h.seq);
        c.on_packet(seq, len.saturating_sub(12), h.ts);
        self.got_media(Instant::now());
    }

    pub(crate) fn stats(&self, ticks: FrameTicks) -> SubStats {
        let since = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(self.posted_at));
        let mut st = SubStats {
            id: self.id,
            alive: self.alive,
            connected: self.connected_at.is_some(),
            answer: self.answered_at.saturating_duration_since(self.posted_at),
            connect: since(self.connected_at),
            first_media: since(self.first_media),
            first_keyframe: since(self.first_key),
            send_errors: self.send_errors,
            window_datagrams_out: self.datagrams_out - self.window_datagrams_base,
            window_other_packets: self.window_other,
            ..Default::default()
        };
        for c in &self.ssrcs {
            st.window_packets += c.window_packets;
            if c.video {
                st.window_video_packets += c.window_packets;
                st.window_video_frames += c.window_frames;
                st.window_video_frames_expected += c.window_frames_expected(ticks.video);
            } else {
                st.window_audio_packets += c.window_packets;
                st.window_audio_packets_expected += c.window_frames_expected(ticks.audio);
            }
            st.window_bytes += c.window_bytes;
            st.window_expected += c.window_expected();
            st.window_lost += c.window_lost();
            st.window_gaps += c.window_gaps;
            st.window_late += c.window_late;
            st.total_packets += c.total_packets;
        }
        st
    }
}
