//! Real encoded streams (ffmpeg) → Recorder → files on disk, checked with ffprobe:
//! the concatenated init+segments, the static MPD, and the exported MP4 (codec,
//! picture size, frame count, duration within one frame, clean decode).

mod common;

use common::*;
use wishcast_record::{Codec, ObjectKind, Output, TrackKind};

fn expected_name(c: Codec) -> &'static str {
    match c {
        Codec::H264 => "h264",
        Codec::H265 => "hevc",
        Codec::Vp8 => "vp8",
        Codec::Vp9 => "vp9",
        Codec::Av1 => "av1",
        Codec::Opus => "opus",
        Codec::Other => "",
    }
}

fn check_video(p: &Probe, codec: Codec, frames: usize) {
    assert_eq!(p.codec, expected_name(codec), "{p:?}");
    assert_eq!((p.width, p.height), (640, 360), "{p:?}");
    assert_eq!(p.frames, frames as u64, "{p:?}");
    let want = frames as f64 / 30.0;
    assert!((p.duration - want).abs() <= 1.0 / 30.0 + 1e-3, "duration {} want {want}", p.duration);
}

fn check_audio(p: &Probe, packets: usize) {
    assert_eq!(p.codec, "opus", "{p:?}");
    // ffmpeg's Opus decoder may drop the first packet as pre-roll.
    assert!(p.frames.abs_diff(packets as u64) <= 1, "{p:?} want {packets}");
    let want = packets as f64 * 0.02;
    assert!((p.duration - want).abs() <= 0.021, "audio duration {} want {want}", p.duration);
}

fn record(codec: Codec, with_audio: bool) {
    let name = format!("{codec:?}-{with_audio}").to_lowercase();
    let dir = tmpdir(&name);
    let v = video(&dir, codec, 6, 30);
    assert_eq!(v.frames.len(), 180);
    let a = with_audio.then(|| opus(&dir, 6));
    let mut rec = default_recorder("sess1", None);
    assert!(!rec.wants_keyframe());
    let mut outs = feed(&mut rec, Some(&v), a.as_ref(), t0(), 10);
    let end = t0() + std::time::Duration::from_secs(6);
    rec.finish(end, &mut outs);
    write_outputs(&dir, &outs);

    assert!(matches!(&outs[0], Output::SessionStarted { session_id, year: 2025, month: 7, day: 24, mpd_path, .. }
        if session_id == "sess1" && mpd_path == "cam01/2025/07/24/manifest.mpd"));
    let warnings: Vec<_> = outs.iter().filter(|o| matches!(o, Output::Warning(_))).collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    let vsegs: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Object {
                kind: ObjectKind::Segment { track: TrackKind::Video, number, start_ms, duration_ms },
                ..
            } => Some((*number, *start_ms, *duration_ms)),
            _ => None,
        })
        .collect();
    // Keyframes every second, target 2 s: segments at 0, 2, 4 s.
    assert_eq!(vsegs, vec![(1, 0, 2000), (2, 2000, 2000), (3, 4000, 2000)]);
    match outs.last() {
        Some(Output::SessionEnded { session_id, duration_ms, segments, bytes, .. }) => {
            assert_eq!(session_id, "sess1");
            assert!((5990..=6040).contains(duration_ms), "{duration_ms}");
            assert_eq!(*segments as usize, if with_audio { 6 } else { 3 });
            assert!(*bytes > 10_000);
        }
        other => panic!("last output {other:?}"),
    }
    // Ordering contract: every object a manifest names was output before it.
    let mut seen = std::collections::HashSet::new();
    for o in &outs {
        if let Output::Object { path, bytes, kind } = o {
            if let ObjectKind::Manifest { .. } = kind {
                let xml = String::from_utf8_lossy(bytes);
                for init in xml.split("initialization=\"").skip(1) {
                    let rel = &init[..init.find('"').unwrap()];
                    assert!(seen.contains(&format!("cam01/2025/07/24/{rel}")), "{rel} referenced before written");
                }
            }
            seen.insert(path.clone());
        }
    }

    let vfile = concat_track(&dir, &outs, TrackKind::Video, "video.mp4");
    check_video(&probe(&vfile)[0], codec, 180);
    if let Some(a) = &a {
        let afile = concat_track(&dir, &outs, TrackKind::Audio, "audio.mp4");
        check_audio(&probe(&afile)[0], a.frames.len());
    }

    let mpd = dir.join("cam01/2025/07/24/manifest.mpd");
    let xml = std::fs::read_to_string(&mpd).unwrap();
    assert!(xml.contains("type=\"static\""), "{xml}");
    assert!(xml.contains("width=\"640\" height=\"360\" frameRate=\"30\""), "{xml}");
    let streams = probe(&mpd);
    assert_eq!(streams.len(), if with_audio { 2 } else { 1 }, "{streams:?}");
    assert_eq!(streams[0].codec, expected_name(codec));

    let exported = export(&dir, "cam01/2025/07/24/manifest.mpd", None, None);
    let streams = probe(&exported);
    assert_eq!(streams.len(), if with_audio { 2 } else { 1 }, "{streams:?}");
    let v = streams.iter().find(|s| s.width > 0).unwrap();
    check_video(v, codec, 180);
    if let Some(a) = &a {
        check_audio(streams.iter().find(|s| s.codec == "opus").unwrap(), a.frames.len());
    }
    let errors = decode_errors(&exported);
    assert!(errors.is_empty(), "decode errors: {errors}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn h264_with_opus() {
    record(Codec::H264, true);
}

#[test]
fn vp8_with_opus() {
    record(Codec::Vp8, true);
}

#[test]
fn h265() {
    record(Codec::H265, false);
}

#[test]
fn vp9() {
    record(Codec::Vp9, false);
}

#[test]
fn av1() {
    record(Codec::Av1, false);
}

#[test]
fn opus_only() {
    let dir = tmpdir("opus-only");
    let a = opus(&dir, 5);
    let mut rec = default_recorder("s", None);
    let mut outs = feed(&mut rec, None, Some(&a), t0(), 0);
    rec.finish(t0() + std::time::Duration::from_secs(5), &mut outs);
    write_outputs(&dir, &outs);
    let asegs: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Object {
                kind: ObjectKind::Segment { track: TrackKind::Audio, start_ms, duration_ms, .. }, ..
            } => Some((*start_ms, *duration_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(asegs[0], (0, 2000));
    assert_eq!(asegs[1], (2000, 2000));
    let afile = concat_track(&dir, &outs, TrackKind::Audio, "audio.mp4");
    check_audio(&probe(&afile)[0], a.frames.len());
    let exported = export(&dir, "cam01/2025/07/24/manifest.mpd", None, None);
    check_audio(&probe(&exported)[0], a.frames.len());
    assert!(decode_errors(&exported).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
