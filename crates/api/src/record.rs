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

/// UTC calendar date `(year, month, day)` of a time (days-from-civil inverse).
pub fn utc_day(t: std::time::SystemTime) -> (i32, u32, u32) {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((yoe + era * 400 + i64::from(m <= 2)) as i32, m, d)
}

/// A stream or session id as a storage path component: the one-to-one encoding of
/// [`crate::storage_name::encode_segment`] (`cam 1` is `cam~201`, `cam_1` stays `cam_1`).
pub fn path_component(s: &str) -> String {
    crate::storage_name::encode_segment(s)
}

/// Storage-relative folder of a stream's day: `{stream}/{YYYY}/{MM}/{DD}` (stream
/// encoded with [`path_component`]).
pub fn day_dir(stream: &str, year: i32, month: u32, day: u32) -> String {
    format!("{}/{year:04}/{month:02}/{day:02}", path_component(stream))
}

/// Storage-relative path of a day's manifest: `{stream}/{YYYY}/{MM}/{DD}/manifest.mpd`.
pub fn day_manifest_path(stream: &str, year: i32, month: u32, day: u32) -> String {
    format!("{}/manifest.mpd", day_dir(stream, year, month, day))
}

/// The manifest path the first layout used (lossy names, see
/// [`crate::storage_name::legacy_path_component`]); old index rows carry it.
pub fn legacy_day_manifest_path(stream: &str, year: i32, month: u32, day: u32) -> String {
    let c = crate::storage_name::legacy_path_component(stream);
    format!("{c}/{year:04}/{month:02}/{day:02}/manifest.mpd")
}

/// The stream a storage path belongs to: its first segment decoded, or None if that
/// segment is not an encoded stream name (then only admins may read it).
pub fn stream_of_path(path: &str) -> Option<String> {
    crate::storage_name::decode_segment(path.split('/').next()?)
}

/// The manifest path of the day folder an object path lies in
/// (`{stream}/{YYYY}/{MM}/{DD}/...` → `{stream}/{YYYY}/{MM}/{DD}/manifest.mpd`), or None
/// for a path shallower than a day folder.
pub fn day_manifest_of_object(path: &str) -> Option<String> {
    let mut it = path.split('/');
    let (s, y, m, d) = (it.next()?, it.next()?, it.next()?, it.next()?);
    Some(format!("{s}/{y}/{m}/{d}/manifest.mpd"))
}

/// Parse the `{YYYY}/{MM}/{DD}` of an export or playback route.
pub fn parse_day(y: &str, m: &str, d: &str) -> Result<(i32, u32, u32), String> {
    let num = |what: &str, v: &str| -> Result<u32, String> {
        if v.is_empty() || v.len() > 4 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{what} `{v}` is not a number: use .../{{stream}}/YYYY/MM/DD"));
        }
        v.parse().map_err(|_| format!("{what} `{v}` is not a number"))
    };
    let (year, month, day) = (num("year", y)?, num("month", m)?, num("day", d)?);
    if !(1970..=9999).contains(&year) {
        return Err(format!("year `{y}` must be 1970-9999"));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("month `{m}` must be 01-12"));
    }
    if !(1..=31).contains(&day) {
        return Err(format!("day `{d}` must be 01-31"));
    }
    Ok((year as i32, month, day))
}

/// The optional `from`/`to` (Unix milliseconds) of an export query string.
pub fn parse_export_range(query: Option<&str>) -> Result<(Option<u64>, Option<u64>), String> {
    let mut from = None;
    let mut to = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match k {
            "from" => &mut from,
            "to" => &mut to,
            _ => continue,
        };
        *slot = Some(v.parse::<u64>().map_err(|_| format!("`{k}` must be Unix milliseconds, got `{v}`"))?);
    }
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(format!("`from` ({f}) must be before `to` ({t})"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn utc_days() {
        let t = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(utc_day(t(0)), (1970, 1, 1));
        assert_eq!(utc_day(t(951_782_400)), (2000, 2, 29));
        assert_eq!(utc_day(t(1_753_315_200)), (2025, 7, 24));
        assert_eq!(utc_day(t(1_753_401_599)), (2025, 7, 24));
        assert_eq!(utc_day(t(1_753_401_600)), (2025, 7, 25));
        assert_eq!(day_manifest_path("cam01", 2025, 7, 24), "cam01/2025/07/24/manifest.mpd");
        assert_eq!(legacy_day_manifest_path("lobby cam/é", 2025, 7, 24), "lobby_cam__/2025/07/24/manifest.mpd");
        assert_eq!(crate::storage_name::legacy_path_component(".."), "___");
        assert_eq!(crate::storage_name::legacy_path_component(""), "_");
        assert_eq!(day_manifest_path("lobby cam/é", 2025, 7, 24), "lobby~20cam~2F~C3~A9/2025/07/24/manifest.mpd");
        assert_eq!(path_component(".."), "~2E.");
        assert_eq!(stream_of_path("cam~201/2025/07/24/manifest.mpd").as_deref(), Some("cam 1"));
        assert_eq!(stream_of_path("cam_1/2025").as_deref(), Some("cam_1"));
        assert_eq!(stream_of_path("cam 1/2025"), None);
        assert_eq!(
            day_manifest_of_object("cam_1/2025/07/24/s1/v_seg_1.m4s").as_deref(),
            Some("cam_1/2025/07/24/manifest.mpd")
        );
        assert_eq!(day_manifest_of_object("cam_1/2025/07/24").as_deref(), Some("cam_1/2025/07/24/manifest.mpd"));
        assert_eq!(day_manifest_of_object("cam_1/2025/07"), None);
    }

    #[test]
    fn export_queries() {
        assert_eq!(parse_day("2025", "07", "24"), Ok((2025, 7, 24)));
        for bad in [
            ("x", "1", "1"),
            ("2025", "13", "1"),
            ("2025", "1", "0"),
            ("-1", "1", "1"),
            ("2025", "", "1"),
            ("99999", "1", "1"),
        ] {
            assert!(parse_day(bad.0, bad.1, bad.2).is_err(), "{bad:?}");
        }
        assert_eq!(parse_export_range(None), Ok((None, None)));
        assert_eq!(parse_export_range(Some("from=5&to=9&x=1")), Ok((Some(5), Some(9))));
        assert!(parse_export_range(Some("from=9&to=5")).is_err());
        assert!(parse_export_range(Some("from=abc")).is_err());
    }
}
