//! Checks a node's [`RecordingReport`] before it reaches the index: every field,
//! and the manifest path `{stream}/{YYYY}/{MM}/{DD}/manifest.mpd` matching the
//! stream and date. Pure; the error names the field and says what is expected.

use wishcast_api::record::{RecordingReport, RecordingStatus};

/// At most this many reports in one `POST /api/recordings/report`.
pub const MAX_REPORTS: usize = 10_000;

/// A field of a report that is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, e.g. `month`.
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

fn bad(field: &'static str, message: impl Into<String>) -> Result<(), FieldError> {
    Err(FieldError { field, message: message.into() })
}

/// The manifest path of a stream's day.
pub fn mpd_path(stream: &str, year: i32, month: u32, day: u32) -> String {
    wishcast_api::record::day_manifest_path(stream, year, month, day)
}

/// Stream names as the recorder uses them in storage paths: what
/// `wishcast_api::storage_name::stream_name_problem` accepts (non-empty, no `/` or
/// control characters, at most 255 bytes once encoded), and also not `.`, `..` or with
/// a `\\`.
pub fn check_stream(stream: &str) -> Result<(), FieldError> {
    if stream == "." || stream == ".." || stream.contains('\\') {
        return bad("stream", format!("`{}` must not be `.` or `..` or contain `\\`", stream.escape_debug()));
    }
    if let Some(problem) = wishcast_api::storage_name::stream_name_problem(stream) {
        return bad("stream", format!("`{}`: {problem}", stream.escape_debug()));
    }
    Ok(())
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A valid calendar date with a four-digit year from 1970.
pub fn check_date(year: i32, month: u32, day: u32) -> Result<(), FieldError> {
    if !(1970..=9999).contains(&year) {
        return bad("year", format!("{year} is not a year between 1970 and 9999"));
    }
    if !(1..=12).contains(&month) {
        return bad("month", format!("{month} is not a month 1-12"));
    }
    let last = days_in_month(year, month);
    if day < 1 || day > last {
        return bad("day", format!("{day} is not a day of {year:04}-{month:02} (1-{last})"));
    }
    Ok(())
}

/// Unix milliseconds of 10000-01-01: later times are not plausible.
const MAX_MS: i64 = 253_402_300_800_000;

/// Check every field of a report.
pub fn check_report(r: &RecordingReport) -> Result<(), FieldError> {
    if r.id.is_empty()
        || r.id.len() > 64
        || !r.id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return bad("id", format!("`{}` must be 1-64 characters of A-Z a-z 0-9 - _ . (a UUID)", r.id.escape_debug()));
    }
    if r.node.is_empty()
        || r.node.len() > 64
        || !r.node.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return bad(
            "node",
            format!("`{}` must be the node alias: 1-64 characters of A-Z a-z 0-9 - _ .", r.node.escape_debug()),
        );
    }
    check_stream(&r.stream)?;
    check_date(r.year, r.month, r.day)?;
    let want = mpd_path(&r.stream, r.year, r.month, r.day);
    // A session recorded before names were encoded (reported again from a node's
    // journal) carries the old layout's path; it is indexed as it is (see
    // docs/recording.md, "Old layout": such folders are readable by admins only).
    let legacy = wishcast_api::record::legacy_day_manifest_path(&r.stream, r.year, r.month, r.day);
    if r.mpd_path != want && r.mpd_path != legacy {
        return bad(
            "mpdPath",
            format!(
                "`{}` must be `{want}` (`{{stream}}/{{YYYY}}/{{MM}}/{{DD}}/manifest.mpd` of the report's stream and date)",
                r.mpd_path.escape_debug()
            ),
        );
    }
    if r.started_at <= 0 || r.started_at >= MAX_MS {
        return bad("startedAt", format!("{} is not a Unix time in milliseconds", r.started_at));
    }
    if let Some(end) = r.ended_at
        && (end < r.started_at || end >= MAX_MS)
    {
        return bad(
            "endedAt",
            format!("{end} must be a Unix time in milliseconds not before startedAt ({})", r.started_at),
        );
    }
    match (r.status, r.ended_at) {
        (RecordingStatus::Active, Some(_)) => {
            return bad("endedAt", "an Active session has not ended: send null, or status Completed/Failed");
        }
        (RecordingStatus::Completed, None) => return bad("endedAt", "a Completed session needs its end time"),
        _ => {}
    }
    if i64::try_from(r.duration_ms).is_err() {
        return bad("durationMs", "too large");
    }
    if i64::try_from(r.bytes).is_err() {
        return bad("bytes", "too large");
    }
    Ok(())
}

/// Check a batch; the error names the report (`reports[3].month`).
pub fn check_reports(reports: &[RecordingReport]) -> Result<(), String> {
    if reports.len() > MAX_REPORTS {
        return Err(format!(
            "`reports`: {} reports in one request, at most {MAX_REPORTS}: send them in batches",
            reports.len()
        ));
    }
    for (i, r) in reports.iter().enumerate() {
        check_report(r).map_err(|e| format!("`reports[{i}].{}`: {}", e.field, e.message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> RecordingReport {
        RecordingReport {
            id: "8f0e4b6e-2c1a-4c7e-9a57-0d9f3c1b2a10".into(),
            node: "node-1".into(),
            stream: "camera01".into(),
            year: 2025,
            month: 7,
            day: 24,
            mpd_path: "camera01/2025/07/24/manifest.mpd".into(),
            started_at: 1_753_315_200_000,
            ended_at: None,
            duration_ms: 2000,
            bytes: 100_000,
            segments: 2,
            status: RecordingStatus::Active,
        }
    }

    fn field_of(edit: impl FnOnce(&mut RecordingReport)) -> &'static str {
        let mut r = good();
        edit(&mut r);
        check_report(&r).unwrap_err().field
    }

    #[test]
    fn a_good_report_passes() {
        check_report(&good()).unwrap();
        let mut r = good();
        r.status = RecordingStatus::Completed;
        r.ended_at = Some(r.started_at + 2000);
        check_report(&r).unwrap();
        r.status = RecordingStatus::Failed;
        r.ended_at = None;
        check_report(&r).unwrap();
        let mut leap = good();
        (leap.year, leap.month, leap.day, leap.mpd_path) = (2024, 2, 29, "camera01/2024/02/29/manifest.mpd".into());
        check_report(&leap).unwrap();
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(field_of(|r| r.id.clear()), "id");
        assert_eq!(field_of(|r| r.id = "a/b".into()), "id");
        assert_eq!(field_of(|r| r.id = "x".repeat(65)), "id");
        assert_eq!(field_of(|r| r.node = "no de".into()), "node");
        assert_eq!(field_of(|r| r.stream.clear()), "stream");
        assert_eq!(field_of(|r| r.stream = "..".into()), "stream");
        assert_eq!(field_of(|r| r.stream = "a/b".into()), "stream");
        assert_eq!(field_of(|r| r.stream = "a\\b".into()), "stream");
        assert_eq!(field_of(|r| r.stream = "a\nb".into()), "stream");
        assert_eq!(field_of(|r| r.year = 1969), "year");
        assert_eq!(field_of(|r| r.year = 10_000), "year");
        assert_eq!(field_of(|r| r.month = 0), "month");
        assert_eq!(field_of(|r| r.month = 13), "month");
        assert_eq!(field_of(|r| r.day = 0), "day");
        assert_eq!(field_of(|r| r.day = 32), "day");
        assert_eq!(field_of(|r| (r.year, r.month, r.day) = (2025, 2, 29)), "day");
        assert_eq!(field_of(|r| (r.month, r.day) = (4, 31)), "day");
        assert_eq!(field_of(|r| r.day = 25), "mpdPath", "path must match the date");
        assert_eq!(field_of(|r| r.mpd_path = "camera01/2025/7/24/manifest.mpd".into()), "mpdPath");
        assert_eq!(field_of(|r| r.mpd_path = "../camera01/2025/07/24/manifest.mpd".into()), "mpdPath");
        assert_eq!(field_of(|r| r.mpd_path = "/camera01/2025/07/24/manifest.mpd".into()), "mpdPath");
        assert_eq!(field_of(|r| r.mpd_path = "other/2025/07/24/manifest.mpd".into()), "mpdPath");
        assert_eq!(field_of(|r| r.started_at = 0), "startedAt");
        assert_eq!(field_of(|r| r.started_at = -5), "startedAt");
        assert_eq!(field_of(|r| r.started_at = i64::MAX), "startedAt");
        assert_eq!(
            field_of(|r| {
                r.status = RecordingStatus::Completed;
                r.ended_at = Some(r.started_at - 1)
            }),
            "endedAt"
        );
        assert_eq!(field_of(|r| r.ended_at = Some(r.started_at + 1)), "endedAt", "Active with an end");
        assert_eq!(field_of(|r| r.status = RecordingStatus::Completed), "endedAt", "Completed without an end");
        assert_eq!(field_of(|r| r.duration_ms = u64::MAX), "durationMs");
        assert_eq!(field_of(|r| r.bytes = u64::MAX), "bytes");
    }

    #[test]
    fn batch_errors_name_the_report() {
        let mut bad = good();
        bad.month = 13;
        let e = check_reports(&[good(), bad]).unwrap_err();
        assert!(e.starts_with("`reports[1].month`"), "{e}");
        let many = vec![good(); MAX_REPORTS + 1];
        assert!(check_reports(&many).unwrap_err().starts_with("`reports`"));
        check_reports(&[]).unwrap();
    }

    #[test]
    fn calendar() {
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2025, 12), 31);
        assert_eq!(days_in_month(2025, 13), 0);
    }
}
