//! Wire types of recording: what a node reports to the manager about its recording
//! sessions (`POST /api/recordings/report` on the manager), the recorder routes
//! (`/api/record/{stream}`) and the playback index (`/api/playback/{stream}`).
//!
//! One *recording session* is one contiguous recording of one stream on one node: it
//! starts when recording starts (or a publisher reconnects, or the recording rotates
//! at midnight UTC / `max_recording_seconds`) and ends when it stops. Every session
//! of a UTC day is one Period of that day's manifest
//! `{stream}/{YYYY}/{MM}/{DD}/manifest.mpd`.

use serde::{Deserialize, Serialize};

/// State of a recording session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordingStatus {
    /// Still being written.
    Active,
    /// Finished normally; its manifest is final.
    Completed,
    /// Ended by an error (storage failure, unsupported codec...).
    Failed,
}

impl RecordingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Active" => Some(Self::Active),
            "Completed" => Some(Self::Completed),
            "Failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One recording session as a node reports it. Reports are idempotent: the manager
/// upserts by `id`, so a node may resend any report any number of times (it does,
/// periodically, until the manager acknowledges it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingReport {
    /// Globally unique session id (UUID v4 chosen by the node).
    pub id: String,
    /// Node alias that recorded it.
    pub node: String,
    pub stream: String,
    /// UTC date of the day folder the session writes into.
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// Storage-relative path of the day's manifest, `{stream}/{YYYY}/{MM}/{DD}/manifest.mpd`.
    pub mpd_path: String,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds; `None` while active.
    pub ended_at: Option<i64>,
    /// Media duration written so far.
    pub duration_ms: u64,
    /// Bytes of finished segments written so far.
    pub bytes: u64,
    /// Number of finished media segments (all tracks).
    pub segments: u32,
    pub status: RecordingStatus,
}

/// Body of `POST /api/recordings/report` (node → manager).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordingReports {
    pub reports: Vec<RecordingReport>,
}

/// Answer of `POST /api/recordings/report`: how many reports were stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportAck {
    pub stored: usize,
}

/// One day of a stream's recordings: an entry of `GET /api/playback/{stream}` (the
/// seed's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybackDay {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub mpd_path: String,
}

/// Answer of `POST /api/record/{stream}` (Live777 shape plus the day's manifest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordStarted {
    /// The stream id.
    pub id: String,
    /// The recording session id.
    pub record_id: String,
    /// Storage-relative folder of the day.
    pub record_dir: String,
    pub mpd_path: String,
}

/// Answer of `GET /api/record/{stream}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordState {
    pub recording: bool,
}
