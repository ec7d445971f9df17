//! The recorder on arbitrary frames (codec, kind, keyframe flag, timestamp jumps,
//! bytes), with restarts, discontinuities and a finish; then the export planner on
//! what it wrote, and on an arbitrary manifest. Must never panic, and every
//! object path must stay inside the stream's folder.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use wishcast_record::export::{ExportPlan, export_to_writer};
use wishcast_record::{Codec, Frame, Output, Recorder, RecorderConfig, TrackKind};

const CODECS: [Codec; 7] = [Codec::H264, Codec::H265, Codec::Vp8, Codec::Vp9, Codec::Av1, Codec::Opus, Codec::Other];

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&0xee) {
        // Arbitrary manifest text, then arbitrary object bytes for each object.
        let split = data.len() / 2;
        let xml = String::from_utf8_lossy(&data[1..split.max(1)]);
        if let Ok(mut plan) = ExportPlan::new(&xml, None, None) {
            for p in plan.objects() {
                assert!(!p.starts_with('/') && !p.split('/').any(|c| c == ".."));
                let _ = plan.feed(&p, &data[split..], None);
            }
            let _ = plan.header();
        }
        return;
    }
    let cfg = RecorderConfig { segment_target: Duration::from_millis(200), max_recording_seconds: 2 };
    let start = UNIX_EPOCH + Duration::from_secs(1_753_401_598); // 23:59:58 UTC
    let mut rec = Recorder::new("cam", "s", cfg, start, None);
    let mut out = Vec::new();
    let mut rtp = [0u64; 2];
    let mut now = start;
    let mut rest = data;
    while rest.len() >= 5 {
        let (hdr, tail) = rest.split_at(5);
        let len = (u16::from_be_bytes([hdr[3], hdr[4]]) as usize).min(tail.len());
        let (body, tail) = tail.split_at(len);
        rest = tail;
        let codec = CODECS[(hdr[0] & 7) as usize % CODECS.len()];
        let kind = if hdr[0] & 8 != 0 { TrackKind::Audio } else { TrackKind::Video };
        let k = kind as usize;
        rtp[k] = match hdr[1] >> 6 {
            0 => rtp[k].wrapping_add(hdr[2] as u64 * 100),
            1 => rtp[k].wrapping_sub(hdr[2] as u64),
            2 => rtp[k].wrapping_add((hdr[2] as u64) << 24),
            _ => rtp[k].wrapping_add(3000),
        };
        now += Duration::from_millis((hdr[1] & 0x1f) as u64 * 20);
        match hdr[0] >> 4 {
            15 => rec.publisher_restarted(now, &mut out),
            14 => rec.video_discontinuity(),
            _ => {}
        }
        let clock = if kind == TrackKind::Audio { 48_000 } else { 90_000 };
        let f = Frame { kind, codec, rtp_time: rtp[k], clock_rate: clock, keyframe: hdr[1] & 0x20 != 0, data: body };
        rec.push(f, now, &mut out);
        let _ = rec.wants_keyframe();
    }
    rec.finish(now, &mut out);

    let mut store: HashMap<String, Vec<u8>> = HashMap::new();
    let mut manifests = Vec::new();
    for o in out {
        if let Output::Object { path, bytes, .. } = o {
            assert!(path.starts_with("cam/") && !path.split('/').any(|c| c == ".." || c.is_empty()), "{path}");
            if path.ends_with(".mpd") {
                manifests.push(path.clone());
            }
            store.insert(path, bytes);
        }
    }
    for m in manifests {
        let dir = &m[..m.rfind('/').unwrap_or(0)];
        let xml = String::from_utf8_lossy(&store[&m]).into_owned();
        let read = |p: &str| store.get(&format!("{dir}/{p}")).cloned().ok_or_else(|| std::io::Error::other("missing"));
        let _ = export_to_writer(&xml, None, None, read, &mut std::io::sink());
    }
});
