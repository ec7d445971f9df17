//! Merging a resent report into the stored session, so that a session never moves
//! backwards: a late `Active` report cannot undo `Completed`/`Failed`, and duration,
//! bytes and segment counts only grow. Pure.

use wishcast_api::record::{RecordingReport, RecordingStatus};

use crate::error::IndexError;

fn terminal(s: RecordingStatus) -> bool {
    !matches!(s, RecordingStatus::Active)
}

/// The stored row after applying `new` to `old` (same `id`), or `None` when `new`
/// changes nothing. A report that moves a session to another stream, node, day or
/// manifest is refused.
pub fn merge(old: &RecordingReport, new: &RecordingReport) -> Result<Option<RecordingReport>, IndexError> {
    let same = old.stream == new.stream
        && old.node == new.node
        && (old.year, old.month, old.day) == (new.year, new.month, new.day)
        && old.mpd_path == new.mpd_path;
    if !same {
        return Err(IndexError::Conflict(format!(
            "recording session `{}` is stored for stream `{}` on node `{}`, {:04}-{:02}-{:02}; a report cannot move it to stream `{}` on node `{}`, {:04}-{:02}-{:02} (use a new session id)",
            old.id,
            old.stream,
            old.node,
            old.year,
            old.month,
            old.day,
            new.stream,
            new.node,
            new.year,
            new.month,
            new.day
        )));
    }
    let status = if terminal(old.status) { old.status } else { new.status };
    let ended_at = match (old.ended_at, new.ended_at) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    // An Active row has no end (a terminal old status keeps its end, if any).
    let ended_at = if terminal(status) { ended_at } else { None };
    let merged = RecordingReport {
        started_at: old.started_at.min(new.started_at),
        ended_at,
        duration_ms: old.duration_ms.max(new.duration_ms),
        bytes: old.bytes.max(new.bytes),
        segments: old.segments.max(new.segments),
        status,
        ..old.clone()
    };
    Ok((merged != *old).then_some(merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(duration_ms: u64) -> RecordingReport {
        RecordingReport {
            id: "s1".into(),
            node: "n1".into(),
            stream: "cam".into(),
            year: 2025,
            month: 7,
            day: 24,
            mpd_path: "cam/2025/07/24/manifest.mpd".into(),
            started_at: 1_000,
            ended_at: None,
            duration_ms,
            bytes: duration_ms * 10,
            segments: (duration_ms / 2000) as u32,
            status: RecordingStatus::Active,
        }
    }

    fn completed(duration_ms: u64) -> RecordingReport {
        RecordingReport {
            status: RecordingStatus::Completed,
            ended_at: Some(1_000 + duration_ms as i64),
            ..active(duration_ms)
        }
    }

    #[test]
    fn progress_is_applied() {
        let m = merge(&active(2000), &active(4000)).unwrap().unwrap();
        assert_eq!((m.duration_ms, m.bytes, m.segments), (4000, 40_000, 2));
        let m = merge(&active(4000), &completed(6000)).unwrap().unwrap();
        assert_eq!(m.status, RecordingStatus::Completed);
        assert_eq!(m.ended_at, Some(7_000));
    }

    #[test]
    fn same_report_changes_nothing() {
        assert_eq!(merge(&active(2000), &active(2000)).unwrap(), None);
        assert_eq!(merge(&completed(2000), &completed(2000)).unwrap(), None);
    }

    #[test]
    fn never_backwards() {
        // A late Active resend after Completed.
        assert_eq!(merge(&completed(6000), &active(4000)).unwrap(), None);
        // Smaller counters.
        assert_eq!(merge(&active(6000), &active(2000)).unwrap(), None);
        // A late Active resend with larger counters still cannot reopen the session.
        let m = merge(&completed(6000), &active(8000)).unwrap().unwrap();
        assert_eq!((m.status, m.ended_at, m.duration_ms), (RecordingStatus::Completed, Some(7_000), 8000));
        // The first terminal status wins.
        let failed = RecordingReport { status: RecordingStatus::Failed, ..completed(6000) };
        assert_eq!(merge(&failed, &completed(6000)).unwrap(), None);
    }

    #[test]
    fn a_session_cannot_move() {
        let mut other = active(2000);
        other.stream = "cam2".into();
        other.mpd_path = "cam2/2025/07/24/manifest.mpd".into();
        assert!(matches!(merge(&active(2000), &other), Err(IndexError::Conflict(m)) if m.contains("cam2")));
        let mut other = active(2000);
        other.node = "n2".into();
        assert!(merge(&active(2000), &other).is_err());
        let mut other = active(2000);
        other.day = 25;
        assert!(merge(&active(2000), &other).is_err());
    }
}
