//! One track of one recording session: the RTP→media time mapping, the sample
//! held back until the next frame gives its exact duration, and the media segment
//! being collected.

use crate::codec::{self, TrackConfig};
use crate::fmp4::{self, SampleInfo};
use crate::mpd::{Adaptation, Seg};
use crate::webm;
use crate::{Codec, TrackKind};

/// Maps extended RTP timestamps to decode times relative to the Period start:
/// `dts = offset + (rtp - rtp_base)` (both in the track's timescale, which is the
/// RTP clock rate), so sample durations are exact RTP deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    pub rtp_base: u64,
    pub offset: i64,
}

impl Anchor {
    pub fn dts(&self, rtp: u64) -> Option<i64> {
        let delta = i64::try_from(rtp.checked_sub(self.rtp_base)?).ok()?;
        self.offset.checked_add(delta)
    }
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    dts: u64,
    size: u32,
    sync: bool,
}

/// A finished media segment, ready to be written.
pub(crate) struct Flushed {
    pub number: u32,
    pub bytes: Vec<u8>,
    pub start: u64,
    pub duration: u64,
}

pub(crate) struct Track {
    pub kind: TrackKind,
    pub codec: Codec,
    pub timescale: u32,
    pub config: TrackConfig,
    pub anchor: Anchor,
    pending: Option<Pending>,
    last_delta: u32,
    seg_start: Option<u64>,
    samples: Vec<SampleInfo>,
    payload: Vec<u8>,
    next_number: u32,
    pub segs: Vec<Seg>,
    pub media_bytes: u64,
    pub sample_count: u64,
    /// Set by the recorder: cut before the first sample at or after this time.
    pub cut_at: Option<u64>,
}

impl Track {
    pub fn new(kind: TrackKind, codec: Codec, timescale: u32, config: TrackConfig, anchor: Anchor) -> Self {
        let default_delta = match kind {
            TrackKind::Video => timescale / 30,
            TrackKind::Audio => timescale / 50,
        };
        Track {
            kind,
            codec,
            timescale,
            config,
            anchor,
            pending: None,
            last_delta: default_delta.max(1),
            seg_start: None,
            samples: Vec::new(),
            payload: Vec::new(),
            next_number: 1,
            segs: Vec::new(),
            media_bytes: 0,
            sample_count: 0,
            cut_at: None,
        }
    }

    /// VP8 is recorded as WebM (Chromium's MSE has no VP8-in-MP4).
    pub fn is_webm(&self) -> bool {
        self.codec == Codec::Vp8
    }

    pub fn prefix(&self) -> &'static str {
        match self.kind {
            TrackKind::Video => "v",
            TrackKind::Audio => "a",
        }
    }

    /// Decode time of the held-back sample, if any.
    pub fn pending_dts(&self) -> Option<u64> {
        self.pending.map(|p| p.dts)
    }

    /// Start of the segment being collected.
    pub fn segment_start(&self) -> Option<u64> {
        self.seg_start
    }

    /// Closes the held-back sample with the duration up to `next_dts`
    /// (or the previous duration when `next_dts` is `None`).
    pub fn complete_pending(&mut self, next_dts: Option<u64>) {
        if let Some(p) = self.pending.take() {
            let d = match next_dts {
                Some(n) if n > p.dts => u32::try_from(n - p.dts).unwrap_or(u32::MAX),
                _ => self.last_delta,
            };
            self.last_delta = d.max(1);
            self.samples.push(SampleInfo { duration: d.max(1), size: p.size, sync: p.sync });
        }
    }

    /// Adds a frame as the new held-back sample; false when it held no data.
    pub fn add(&mut self, dts: u64, sync: bool, data: &[u8]) -> bool {
        let size = codec::append_sample(self.codec, data, &mut self.payload);
        if size == 0 {
            return false;
        }
        if self.seg_start.is_none() {
            self.seg_start = Some(dts);
        }
        self.pending = Some(Pending { dts, size: size as u32, sync });
        true
    }

    /// Collected media time of the open segment (completed samples only).
    pub fn collected(&self) -> u64 {
        self.samples.iter().map(|s| s.duration as u64).sum()
    }

    /// Writes the completed samples as a media segment. The held-back sample, if
    /// any, must have been completed first (it is otherwise kept for the next one).
    pub fn flush(&mut self) -> Option<Flushed> {
        let start = self.seg_start?;
        if self.samples.is_empty() {
            return None;
        }
        let sizes: usize = self.samples.iter().map(|s| s.size as usize).sum();
        let rest = self.payload.split_off(sizes.min(self.payload.len()));
        let number = self.next_number;
        let bytes = if self.is_webm() {
            let ts = self.timescale.max(1) as u128;
            let mut t = start;
            let blocks: Vec<webm::Block> = self
                .samples
                .iter()
                .map(|s| {
                    let b = webm::Block { ms: (t as u128 * 1000 / ts) as u64, key: s.sync, size: s.size as usize };
                    t += s.duration as u64;
                    b
                })
                .collect();
            webm::media_segment(&blocks, &self.payload)
        } else {
            fmp4::media_segment(number, start, &self.samples, &self.payload)
        };
        let duration = self.collected();
        self.payload = rest;
        self.sample_count += self.samples.len() as u64;
        self.samples.clear();
        self.seg_start = self.pending.map(|p| p.dts);
        self.next_number += 1;
        self.segs.push(Seg { t: start, d: duration });
        self.media_bytes += bytes.len() as u64;
        self.cut_at = None;
        Some(Flushed { number, bytes, start, duration })
    }

    /// Completes the held-back sample with the previous duration and flushes.
    pub fn flush_all(&mut self) -> Option<Flushed> {
        self.complete_pending(None);
        self.flush()
    }

    pub fn init_path(&self) -> String {
        format!("{}_init.{}", self.prefix(), if self.is_webm() { "webm" } else { "mp4" })
    }

    fn segment_ext(&self) -> &'static str {
        if self.is_webm() { "webm" } else { "m4s" }
    }

    pub fn segment_name(&self, number: u32) -> String {
        format!("{}_{number:05}.{}", self.prefix(), self.segment_ext())
    }

    /// The manifest entry for this track; paths are prefixed with `dir/`.
    pub fn adaptation(&self, dir: &str) -> Adaptation {
        let ticks: u64 = self.segs.iter().map(|s| s.d).sum();
        let ts = self.timescale.max(1) as u64;
        let bandwidth = if ticks > 0 { (self.media_bytes as u128 * 8 * ts as u128 / ticks as u128) as u64 } else { 0 };
        let frame_rate = if self.kind == TrackKind::Video && ticks > 0 && self.sample_count > 0 {
            let milli = (self.sample_count as u128 * ts as u128 * 1000 / ticks as u128) as u64;
            if milli % 1000 <= 5 || milli % 1000 >= 995 {
                format!("{}", (milli + 500) / 1000)
            } else {
                format!("{milli}/1000")
            }
        } else {
            String::new()
        };
        Adaptation {
            kind: self.kind,
            mime: match (self.kind, self.is_webm()) {
                (_, true) => "video/webm",
                (TrackKind::Video, false) => "video/mp4",
                (TrackKind::Audio, false) => "audio/mp4",
            }
            .into(),
            codecs: self.config.codecs.clone(),
            width: self.config.width,
            height: self.config.height,
            frame_rate,
            sample_rate: if self.kind == TrackKind::Audio { self.timescale } else { 0 },
            channels: self.config.channels,
            bandwidth,
            timescale: self.timescale,
            init: format!("{dir}/{}", self.init_path()),
            media: format!("{dir}/{}_$Number%05d$.{}", self.prefix(), self.segment_ext()),
            start_number: 1,
            segments: self.segs.clone(),
        }
    }
}
