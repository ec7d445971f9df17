//! Sans-IO recorder for wishcast: turns depacketized WebRTC frames into CMAF fMP4
//! segments plus a DASH manifest, one folder per UTC day, and plans the export of a
//! day's recording as one progressive MP4.
//!
//! Nothing here does I/O or reads a clock: every call takes `now`, and results come
//! back as [`Output`] values (objects to store, session events, warnings) in the
//! order they must be written. See `docs/recording-format.md` for the format.

mod boxw;
mod codec;
mod fmp4;
mod mpd;
mod mpd_parse;
mod nal;
mod recorder;
mod time;
mod track;
mod webm;

pub mod export;

pub use recorder::Recorder;

use std::time::Duration;

/// The kind of a track (one video and one audio track per recording at most).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    Video,
    Audio,
}

/// The codec of a frame. `Other` (G.711, G.722, ...) is skipped with one warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    H264,
    H265,
    Vp8,
    Vp9,
    Av1,
    Opus,
    Other,
}

/// One depacketized frame (str0m frame mode).
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub kind: TrackKind,
    pub codec: Codec,
    /// Extended (unwrapped) RTP timestamp in `clock_rate` ticks.
    pub rtp_time: u64,
    /// 90000 for video, 48000 for Opus.
    pub clock_rate: u32,
    /// str0m's `MediaData::is_keyframe()`. For H264/H265/VP8/VP9/AV1 the recorder
    /// also looks at the bitstream itself.
    pub keyframe: bool,
    pub data: &'a [u8],
}

/// Recorder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Segments are cut at the first video keyframe once this much media has been
    /// collected (audio-only: every `segment_target`).
    pub segment_target: Duration,
    /// A session longer than this is ended and a new one (a new Period of the same
    /// day's manifest) begins at the next keyframe. 0 = never.
    pub max_recording_seconds: u64,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig { segment_target: Duration::from_secs(2), max_recording_seconds: 86_400 }
    }
}

/// What the recorder wants done, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write (or overwrite, for manifests) this storage-relative object.
    Object {
        path: String,
        bytes: Vec<u8>,
        kind: ObjectKind,
    },
    /// A new recording session began in a day folder (start, midnight-UTC rotation,
    /// `max_recording_seconds` rotation, publisher restart, codec parameter change).
    SessionStarted {
        session_id: String,
        year: i32,
        month: u32,
        day: u32,
        mpd_path: String,
        started_at: std::time::SystemTime,
    },
    /// A session ended (rotation or finish).
    SessionEnded {
        session_id: String,
        ended_at: std::time::SystemTime,
        duration_ms: u64,
        bytes: u64,
        segments: u32,
    },
    Warning(String),
}

/// What an [`Output::Object`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectKind {
    Init,
    Segment {
        track: TrackKind,
        number: u32,
        /// Start of the segment in ms since the session (Period) start.
        start_ms: u64,
        duration_ms: u64,
    },
    Manifest {
        final_: bool,
    },
}
