//! Counting received RTP packets per SSRC without decoding them: totals, forward
//! sequence gaps, late (reordered or retransmitted) packets, and loss over the
//! measurement window. Sequence numbers are str0m's 64-bit extended ones, which
//! are already de-duplicated and RTX-unwrapped.

/// Counters of one received SSRC.
#[derive(Debug, Clone, Default)]
pub struct SsrcCount {
    pub ssrc: u32,
    pub video: bool,
    /// Highest sequence number seen.
    max: Option<u64>,
    /// First sequence number that belongs to the window (None: window closed, or
    /// opened before this SSRC's first packet).
    base: Option<u64>,
    window: bool,
    /// Packets with seq >= base while the window is open.
    pub window_packets: u64,
    /// Video: distinct RTP timestamps (frames); audio: packets.
    pub window_frames: u64,
    last_ts: Option<u32>,
    /// RTP timestamp of the first frame counted in the window.
    window_first_ts: Option<u32>,
    pub window_bytes: u64,
    /// Forward jumps (seq > max + 1) in the window and the sequence numbers they skipped.
    pub window_gaps: u64,
    pub window_skipped: u64,
    /// Packets older than `max` in the window (reordered or repaired by RTX).
    pub window_late: u64,
    pub total_packets: u64,
}

impl SsrcCount {
    pub fn new(ssrc: u32, video: bool) -> Self {
        SsrcCount { ssrc, video, ..Default::default() }
    }

    /// One received packet: extended sequence number, payload size, RTP timestamp.
    pub fn on_packet(&mut self, seq: u64, bytes: usize, ts: u32) {
        self.total_packets += 1;
        // A newer timestamp starts a frame (a reordered older one does not).
        let new_frame = self.last_ts.is_none_or(|l| (ts.wrapping_sub(l) as i32) > 0);
        if new_frame {
            self.last_ts = Some(ts);
        }
        if self.window {
            let base = *self.base.get_or_insert(seq);
            if seq >= base {
                self.window_packets += 1;
                self.window_bytes += bytes as u64;
                if new_frame || !self.video {
                    self.window_frames += 1;
                    self.window_first_ts.get_or_insert(ts);
                }
            }
            if let Some(m) = self.max {
                if seq > m + 1 && m + 1 >= base {
                    self.window_gaps += 1;
                    self.window_skipped += seq - m - 1;
                } else if seq < m {
                    self.window_late += 1;
                }
            }
        }
        self.max = Some(self.max.map_or(seq, |m| m.max(seq)));
    }

    /// Start counting: the next expected packet is the first of the window.
    pub fn open_window(&mut self) {
        self.window = true;
        self.base = self.max.map(|m| m + 1);
        self.window_packets = 0;
        self.window_frames = 0;
        self.window_first_ts = None;
        self.window_bytes = 0;
        self.window_gaps = 0;
        self.window_skipped = 0;
        self.window_late = 0;
    }

    pub fn close_window(&mut self) {
        self.window = false;
    }

    /// Extend a 16-bit RTP sequence number to 64 bits next to the highest one seen
    /// (starting at 65536 so a reordered first packet cannot go below zero).
    pub fn extend(&self, seq: u16) -> u64 {
        let Some(max) = self.max else {
            return 65_536 + seq as u64;
        };
        let cand = (max & !0xffff) | seq as u64;
        [cand.saturating_sub(65_536), cand, cand + 65_536].into_iter().min_by_key(|&c| c.abs_diff(max)).unwrap_or(cand)
    }

    /// Frames the sender produced in the window, judged from the RTP timestamps of
    /// the first and last frames received and the nominal frame duration in RTP
    /// ticks (3000 for 30 fps video, 960 for 20 ms Opus). Unlike `window_expected`
    /// this also sees frames a re-packetizing server dropped whole.
    pub fn window_frames_expected(&self, frame_ticks: f64) -> u64 {
        match (self.window_first_ts, self.last_ts) {
            (Some(a), Some(b)) if frame_ticks > 0.0 => (b.wrapping_sub(a) as f64 / frame_ticks).round() as u64 + 1,
            _ => 0,
        }
    }

    /// Packets the sender numbered in the window so far (base..=max).
    pub fn window_expected(&self) -> u64 {
        match (self.base, self.max) {
            (Some(b), Some(m)) if m >= b => m - b + 1,
            _ => 0,
        }
    }

    /// Numbered in the window but never received (after any retransmission).
    pub fn window_lost(&self) -> u64 {
        self.window_expected().saturating_sub(self.window_packets)
    }
}

/// The clear-text fields of an SRTP packet's RTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpFields {
    pub pt: u8,
    pub marker: bool,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
}

/// Parse the fixed RTP header of a datagram; `None` for anything that is not RTP
/// (STUN, DTLS, and RTCP, whose second byte is 192..=223 per RFC 5761).
pub fn rtp_fields(d: &[u8]) -> Option<RtpFields> {
    if d.len() < 12 || d[0] >> 6 != 2 || (192..=223).contains(&d[1]) {
        return None;
    }
    Some(RtpFields {
        pt: d[1] & 0x7f,
        marker: d[1] & 0x80 != 0,
        seq: u16::from_be_bytes([d[2], d[3]]),
        ts: u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
        ssrc: u32::from_be_bytes([d[8], d[9], d[10], d[11]]),
    })
}

/// Whether an RTP payload starts a keyframe (VP8: RFC 7741 descriptor with S=1,
/// partition 0 and P=0 in the frame tag; H.264: an IDR or SPS NAL unit, also inside
/// STAP-A or at the start of a FU-A).
pub fn starts_keyframe(h264: bool, payload: &[u8]) -> bool {
    if h264 { h264_keyframe(payload) } else { vp8_keyframe(payload) }
}

fn vp8_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else { return false };
    let (s, pid) = (b0 & 0x10 != 0, b0 & 0x07);
    if !s || pid != 0 {
        return false;
    }
    let mut i = 1;
    if b0 & 0x80 != 0 {
        let Some(&x) = p.get(1) else { return false };
        i = 2;
        if x & 0x80 != 0 {
            // I: PictureID, 7 or 15 bits (M bit).
            let Some(&pic) = p.get(i) else { return false };
            i += if pic & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            i += 1; // L: TL0PICIDX
        }
        if x & 0x30 != 0 {
            i += 1; // T or K: TID/Y/KEYIDX
        }
    }
    p.get(i).is_some_and(|tag| tag & 0x01 == 0)
}

fn h264_keyframe(p: &[u8]) -> bool {
    let is_key = |t: u8| t == 5 || t == 7;
    let Some(&b0) = p.first() else { return false };
    match b0 & 0x1f {
        24 => {
            // STAP-A: 16-bit size, NAL unit, ...
            let mut i = 1;
            while i + 2 < p.len() {
                let n = u16::from_be_bytes([p[i], p[i + 1]]) as usize;
                if is_key(p[i + 2] & 0x1f) {
                    return true;
                }
                i += 2 + n;
            }
            false
        }
        28 => p.get(1).is_some_and(|h| h & 0x80 != 0 && is_key(h & 0x1f)),
        t => is_key(t),
    }
}

/// The `q`-quantile (0..=1) of `v` by nearest rank; `v` gets sorted.
pub fn percentile(v: &mut [f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

/// Nominal frame durations in RTP ticks, for [`SsrcCount::window_frames_expected`] (set by the fleet, read per subscriber).
#[derive(Debug, Clone, Copy)]
pub struct FrameTicks {
    pub video: f64,
    pub audio: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_counts_only_the_window() {
        let mut c = SsrcCount::new(1, true);
        c.on_packet(10, 100, 0);
        c.on_packet(12, 100, 0); // a gap before the window: not counted
        c.open_window();
        for s in [13, 14, 16, 17] {
            c.on_packet(s, 100, 0);
        }
        assert_eq!((c.window_expected(), c.window_packets, c.window_lost()), (5, 4, 1));
        assert_eq!((c.window_gaps, c.window_skipped), (1, 1));
        c.on_packet(15, 100, 0); // repaired by RTX
        assert_eq!((c.window_lost(), c.window_late), (0, 1));
        c.on_packet(11, 100, 0); // older than the window: ignored
        assert_eq!(c.window_packets, 5);
        assert_eq!(c.total_packets, 8);
    }

    #[test]
    fn a_loss_at_the_start_of_the_window_counts() {
        let mut c = SsrcCount::new(1, false);
        c.on_packet(1, 10, 0);
        c.open_window();
        c.on_packet(3, 10, 0);
        assert_eq!((c.window_expected(), c.window_lost(), c.window_gaps), (2, 1, 1));
    }

    #[test]
    fn an_ssrc_first_seen_in_the_window_starts_at_its_first_packet() {
        let mut c = SsrcCount::new(1, false);
        c.open_window();
        c.on_packet(500, 10, 0);
        c.on_packet(501, 10, 0);
        assert_eq!((c.window_expected(), c.window_lost()), (2, 0));
    }

    #[test]
    fn sequence_numbers_extend_across_wraps() {
        let mut c = SsrcCount::new(1, true);
        let mut last = 0;
        for i in 0..200_000u64 {
            let seq = (60_000 + i) as u16;
            let e = c.extend(seq);
            if i > 0 {
                assert_eq!(e, last + 1);
            }
            c.on_packet(e, 1, i as u32);
            last = e;
        }
        assert_eq!(c.extend(last as u16 - 3), last - 3, "reordered");
        assert_eq!(c.extend(last as u16 + 10), last + 10, "gap");
    }

    #[test]
    fn frames_are_video_timestamps_or_audio_packets() {
        let mut v = SsrcCount::new(1, true);
        let mut a = SsrcCount::new(2, false);
        v.open_window();
        a.open_window();
        for i in 0..10 {
            v.on_packet(i, 1, 3000 * (i as u32 / 5));
            a.on_packet(i, 1, 960 * i as u32);
        }
        v.on_packet(10, 1, 0); // late packet of an old frame
        assert_eq!((v.window_frames, a.window_frames), (2, 10));
        assert_eq!(v.window_frames_expected(3000.0), 2);
        v.on_packet(11, 1, 3000 * 5); // frames 2, 3 and 4 never came
        assert_eq!((v.window_frames, v.window_frames_expected(3000.0)), (3, 6));
        assert_eq!(a.window_frames_expected(960.0), 10);
    }

    #[test]
    fn rtp_headers_are_told_from_rtcp_stun_and_dtls() {
        let mut p = [0u8; 20];
        p[..12].copy_from_slice(&[0x80, 0x80 | 96, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(rtp_fields(&p), Some(RtpFields { pt: 96, marker: true, seq: 0x1234, ts: 1, ssrc: 0xdead_beef }));
        p[1] = 200; // SR
        assert_eq!(rtp_fields(&p), None);
        p[1] = 111;
        p[0] = 0x00; // STUN
        assert_eq!(rtp_fields(&p), None);
        p[0] = 22; // DTLS handshake
        assert_eq!(rtp_fields(&p), None);
        assert_eq!(rtp_fields(&[0x80; 11]), None);
    }

    #[test]
    fn vp8_keyframes() {
        // No extension, S=1, PID 0, then a key frame tag (P=0).
        assert!(starts_keyframe(false, &[0x10, 0x50, 0x9d]));
        assert!(!starts_keyframe(false, &[0x10, 0x51]));
        assert!(!starts_keyframe(false, &[0x00, 0x50])); // not a partition start
        // X=1, I=1 with a 15-bit picture id, L=1, K=1.
        assert!(starts_keyframe(false, &[0x90, 0xd0, 0x81, 0x02, 0x05, 0x20, 0x50]));
        assert!(!starts_keyframe(false, &[0x90, 0xd0, 0x81, 0x02, 0x05, 0x20, 0x51]));
    }

    #[test]
    fn h264_keyframes() {
        assert!(starts_keyframe(true, &[0x65, 1]));
        assert!(starts_keyframe(true, &[0x67, 1]));
        assert!(!starts_keyframe(true, &[0x41, 1]));
        assert!(starts_keyframe(true, &[0x7c, 0x85, 1])); // FU-A start of IDR
        assert!(!starts_keyframe(true, &[0x7c, 0x05, 1])); // FU-A middle
        assert!(starts_keyframe(true, &[0x78, 0, 2, 0x68, 0xce, 0, 2, 0x65, 1])); // STAP-A PPS + IDR
    }

    #[test]
    fn percentiles() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 0.5), Some(3.0));
        assert_eq!(percentile(&mut v, 0.95), Some(5.0));
        assert_eq!(percentile(&mut v, 0.0), Some(1.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }
}
