//! The recorder's storage paths agree with `wishcast_api::record::day_manifest_path`,
//! which the manager and the node use to find a day's recording without the recorder.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wishcast_record::{Codec, Frame, Output, Recorder, RecorderConfig, TrackKind};

#[test]
fn manifest_paths_match_the_shared_layout() {
    let now = UNIX_EPOCH + Duration::from_secs(1_753_315_200 + 3600); // 2025-07-24 01:00 UTC
    for stream in ["cam01", "lobby cam/é", "..", "a.b~c-d_e"] {
        let mut rec = Recorder::new(stream, "s1", RecorderConfig::default(), now, None);
        let mut out = Vec::new();
        for i in 0..100u64 {
            let f = Frame {
                kind: TrackKind::Audio,
                codec: Codec::Opus,
                rtp_time: i * 960,
                clock_rate: 48_000,
                keyframe: true,
                data: &[0xfc, 0xff, 0xfe],
            };
            rec.push(f, now + Duration::from_millis(i * 20), &mut out);
        }
        rec.finish(now + Duration::from_secs(3), &mut out);
        let want = wishcast_api::record::day_manifest_path(stream, 2025, 7, 24);
        let started: Vec<&String> = out
            .iter()
            .filter_map(|o| match o {
                Output::SessionStarted { mpd_path, .. } => Some(mpd_path),
                _ => None,
            })
            .collect();
        assert!(!started.is_empty(), "{stream}: no session started");
        assert!(started.iter().all(|p| **p == want), "{stream}: {started:?} != {want}");
        let manifests: Vec<&String> = out
            .iter()
            .filter_map(|o| match o {
                Output::Object { path, .. } if path.ends_with(".mpd") => Some(path),
                _ => None,
            })
            .collect();
        assert!(manifests.iter().all(|p| **p == want), "{stream}: {manifests:?}");
        let _ = SystemTime::now();
    }
}
