//! Nodes' recording reports as the manager receives them
//! (`POST /api/recordings/report`): arbitrary bytes through `serde_json` into
//! `RecordingReports`, then `wishcast_index::validate::check_reports` must not panic;
//! accepted reports must have the canonical manifest path, survive a JSON round
//! trip, and merging them (`wishcast_index::merge::merge`) must never move a
//! session backwards.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wishcast_api::record::{RecordingReport, RecordingReports, RecordingStatus};
use wishcast_index::{merge::merge, validate};

fn terminal(s: RecordingStatus) -> bool {
    s != RecordingStatus::Active
}

fuzz_target!(|data: &[u8]| {
    let Ok(batch) = serde_json::from_slice::<RecordingReports>(data) else { return };
    if validate::check_reports(&batch.reports).is_err() {
        for r in &batch.reports {
            let _ = validate::check_report(r);
        }
        return;
    }
    for r in &batch.reports {
        assert_eq!(r.mpd_path, validate::mpd_path(&r.stream, r.year, r.month, r.day));
        let back: RecordingReport = serde_json::from_slice(&serde_json::to_vec(r).expect("serialize")).expect("re-parse");
        assert_eq!(&back, r);
        assert_eq!(merge(r, r).expect("same session"), None, "a resend changes nothing");
    }
    // Apply the batch in order to the first report of each id, as the index does.
    let mut stored: Vec<RecordingReport> = Vec::new();
    for r in &batch.reports {
        match stored.iter_mut().find(|s| s.id == r.id) {
            None => stored.push(r.clone()),
            Some(old) => match merge(old, r) {
                Err(_) => {}
                Ok(None) => {}
                Ok(Some(m)) => {
                    assert!(m.duration_ms >= old.duration_ms && m.bytes >= old.bytes && m.segments >= old.segments);
                    assert!(!terminal(old.status) || m.status == old.status, "a final status never changes");
                    assert!(m.started_at <= old.started_at);
                    assert_eq!((&m.stream, &m.node, &m.mpd_path), (&old.stream, &old.node, &old.mpd_path));
                    assert_eq!(merge(&m, r).expect("merged row"), None, "merging is idempotent");
                    *old = m;
                }
            },
        }
    }
});
