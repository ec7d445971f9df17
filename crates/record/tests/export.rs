//! Export of multi-session days with real H264+Opus: Periods concatenate on the
//! day's timeline (gaps kept), audio stays aligned, a time range selects
//! segments, and malformed manifests/objects give errors instead of panics.

mod common;

use std::time::Duration;

use common::*;
use wishcast_record::export::{ExportError, ExportPlan, export_to_writer};
use wishcast_record::{Output, RecorderConfig};

fn start_time(path: &std::path::Path) -> Vec<(String, f64)> {
    let mut c = std::process::Command::new("ffprobe");
    c.args(["-v", "error", "-show_entries", "stream=codec_name,start_time", "-of", "json"]).arg(path);
    let json: serde_json::Value = serde_json::from_str(&run(&mut c)).unwrap();
    json["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["codec_name"].as_str().unwrap().to_string(), s["start_time"].as_str().unwrap().parse().unwrap()))
        .collect()
}

#[test]
fn two_sessions_with_a_gap_export_as_one_mp4() {
    let dir = tmpdir("export-two");
    let v = video(&dir, wishcast_record::Codec::H264, 6, 30);
    let a = opus(&dir, 6);
    // Session 1: rotation after 3 s (max_recording_seconds) gives two Periods.
    let cfg = RecorderConfig { max_recording_seconds: 3, ..Default::default() };
    let mut r = wishcast_record::Recorder::new("cam01", "one", cfg, t0(), None);
    let mut outs = feed(&mut r, Some(&v), Some(&a), t0(), 500);
    r.finish(t0() + Duration::from_secs(7), &mut outs);
    write_outputs(&dir, &outs);
    let mpd_rel = "cam01/2025/07/24/manifest.mpd";
    let xml1 = std::fs::read_to_string(dir.join(mpd_rel)).unwrap();
    // Session 2 (another recorder, e.g. after a node restart) 20 s later.
    let later = t0() + Duration::from_secs(20);
    let mut r2 = wishcast_record::Recorder::new("cam01", "two", RecorderConfig::default(), later, Some(&xml1));
    let mut outs2 = feed(&mut r2, Some(&v), Some(&a), later, 0);
    r2.finish(later + Duration::from_secs(6), &mut outs2);
    write_outputs(&dir, &outs2);
    let xml = std::fs::read_to_string(dir.join(mpd_rel)).unwrap();
    assert_eq!(xml.matches("<Period ").count(), 3, "{xml}");

    let exported = export(&dir, mpd_rel, None, None);
    let streams = probe(&exported);
    let vs = streams.iter().find(|s| s.codec == "h264").unwrap();
    assert_eq!(vs.frames, 360, "{vs:?}");
    // 20 s gap + 6 s: the timeline is kept.
    assert!((vs.duration - 26.0).abs() < 0.05, "{vs:?}");
    let au = streams.iter().find(|s| s.codec == "opus").unwrap();
    assert!(au.frames.abs_diff(2 * a.frames.len() as u64) <= 2, "{au:?}");
    // Audio began 0.5 s after video.
    let starts = start_time(&exported);
    let a_start = starts.iter().find(|s| s.0 == "opus").unwrap().1;
    let v_start = starts.iter().find(|s| s.0 == "h264").unwrap().1;
    assert!((a_start - v_start - 0.5).abs() < 0.03, "{starts:?}");
    let errors = decode_errors(&exported);
    assert!(errors.is_empty(), "{errors}");

    // A range inside the second session: only its segments (2 s each) are used.
    let from = common::T0_MS + 21_000;
    let to = common::T0_MS + 23_500;
    let part = export(&dir, mpd_rel, Some(from), Some(to));
    let vs = probe(&part).into_iter().find(|s| s.codec == "h264").unwrap();
    assert_eq!(vs.frames, 120, "segments 0-2 s and 2-4 s of session two: {vs:?}");
    assert!(decode_errors(&part).is_empty());

    // Nothing in range.
    let err = ExportPlan::new(&xml, Some(common::T0_MS + 10_000), Some(common::T0_MS + 15_000)).err().unwrap();
    assert!(matches!(err, ExportError::Empty), "{err}");
    let sessions = outs.iter().chain(&outs2).filter(|o| matches!(o, Output::SessionEnded { .. })).count();
    assert_eq!(sessions, 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plan_streams_in_the_order_it_says() {
    let dir = tmpdir("export-plan");
    let v = video(&dir, wishcast_record::Codec::Vp9, 4, 30);
    let mut r = default_recorder("p", None);
    let mut outs = feed(&mut r, Some(&v), None, t0(), 0);
    r.finish(t0() + Duration::from_secs(4), &mut outs);
    write_outputs(&dir, &outs);
    let folder = dir.join("cam01/2025/07/24");
    let xml = std::fs::read_to_string(folder.join("manifest.mpd")).unwrap();
    let mut plan = ExportPlan::new(&xml, None, None).unwrap();
    assert_eq!(plan.objects(), vec!["p/v_init.mp4", "p/v_00001.m4s", "p/v_00002.m4s"]);
    for p in plan.objects() {
        // Feed media segments only up to the end of their moof, plus the full length.
        let bytes = std::fs::read(folder.join(&p)).unwrap();
        let size = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let n = if p.ends_with(".m4s") { size(0) + size(size(0)) } else { bytes.len() };
        assert!(!p.ends_with(".m4s") || n < bytes.len() / 2, "{p}: {n} of {}", bytes.len());
        plan.feed(&p, &bytes[..n], Some(bytes.len() as u64)).unwrap();
    }
    let header = plan.header().unwrap();
    let mut file = header.clone();
    for (p, range) in plan.body_ranges() {
        let bytes = std::fs::read(folder.join(&p)).unwrap();
        file.extend_from_slice(&bytes[range.start as usize..range.end as usize]);
    }
    assert_eq!(file.len() as u64, plan.total_len(header.len()));
    let out = dir.join("manual.mp4");
    std::fs::write(&out, &file).unwrap();
    let s = &probe(&out)[0];
    assert_eq!((s.codec.as_str(), s.frames), ("vp9", 120));
    assert!(decode_errors(&out).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_exports_are_errors() {
    for bad in ["", "<MPD/>", "not xml at all", "<MPD availabilityStartTime=\"2025-07-24T00:00:00Z\"></MPD>"] {
        assert!(ExportPlan::new(bad, None, None).is_err(), "{bad}");
    }
    let traversal = "<MPD availabilityStartTime=\"2025-07-24T00:00:00Z\"><Period start=\"PT0S\"><AdaptationSet contentType=\"video\"><Representation codecs=\"vp08\"><SegmentTemplate timescale=\"90000\" initialization=\"../../etc/passwd\" media=\"x/v_$Number$.m4s\"><SegmentTimeline><S t=\"0\" d=\"90000\"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>";
    let e = ExportPlan::new(traversal, None, None).err().unwrap();
    assert!(e.to_string().contains("unsafe"), "{e}");
    let ok = traversal.replace("../../etc/passwd", "x/v_init.mp4");
    let mut plan = ExportPlan::new(&ok, None, None).unwrap();
    assert!(plan.feed("x/v_00001.m4s", b"", None).is_err(), "unknown object");
    assert!(plan.feed("x/v_1.m4s", b"garbage", None).is_err(), "segment before init");
    for garbage in [&b""[..], b"\0\0\0\x08moov", b"\0\0\0\x01moov", &[0xff; 100]] {
        assert!(plan.feed("x/v_init.mp4", garbage, None).is_err());
    }
    assert!(plan.header().is_err(), "init never fed");
    let r = export_to_writer(&ok, None, None, |_| Err(std::io::Error::other("gone")), &mut Vec::new());
    assert!(matches!(r, Err(ExportError::Object { .. })));
}
