//! Timing and session behaviour with synthetic H264/Opus frames: exact sample
//! durations from RTP deltas, loss, reordering, A/V alignment, rotation at
//! midnight and at max_recording_seconds, publisher restart, appending to an
//! existing manifest, keyframe waiting, and malformed input.

mod common;

use std::time::Duration;

use common::t0;
use wishcast_record::{Codec, Frame, ObjectKind, Output, Recorder, RecorderConfig, TrackKind};

/// An H264 access unit: SPS+PPS+IDR (640x360, from x264) or a non-IDR slice,
/// with `n` slice payload bytes (the recorder does not decode slices).
fn h264(key: bool, n: usize) -> Vec<u8> {
    const SPS: &str = "6742c01eda0280bfe5c044000003000400000300f03c58ba80";
    let hex =
        |s: &str| (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect::<Vec<u8>>();
    let mut f = Vec::new();
    if key {
        f.extend_from_slice(&[0, 0, 0, 1]);
        f.extend(hex(SPS));
        f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x0f, 0xc8, 0, 0, 0, 1, 0x65]);
    } else {
        f.extend_from_slice(&[0, 0, 0, 1, 0x41]);
    }
    f.extend(std::iter::repeat_n(0x11, n + 1));
    f
}

/// Synthetic video frames (H264).
fn vp8(key: bool, n: usize) -> Vec<u8> {
    h264(key, n)
}

fn vframe(data: &[u8], rtp: u64) -> Frame<'_> {
    Frame { kind: TrackKind::Video, codec: Codec::H264, rtp_time: rtp, clock_rate: 90_000, keyframe: false, data }
}

fn aframe(data: &[u8], rtp: u64) -> Frame<'_> {
    Frame { kind: TrackKind::Audio, codec: Codec::Opus, rtp_time: rtp, clock_rate: 48_000, keyframe: true, data }
}

/// (duration, size, flags) of each sample in a media segment's trun.
fn trun(seg: &[u8]) -> Vec<(u32, u32, u32)> {
    let p = seg.windows(4).position(|w| w == b"trun").expect("trun");
    let rd = |at: usize| u32::from_be_bytes(seg[at..at + 4].try_into().unwrap());
    let count = rd(p + 8) as usize;
    (0..count).map(|i| (rd(p + 16 + i * 12), rd(p + 20 + i * 12), rd(p + 24 + i * 12))).collect()
}

fn tfdt(seg: &[u8]) -> u64 {
    let p = seg.windows(4).position(|w| w == b"tfdt").expect("tfdt");
    u64::from_be_bytes(seg[p + 8..p + 16].try_into().unwrap())
}

fn segments(outs: &[Output], track: TrackKind) -> Vec<(String, Vec<u8>)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Object { path, bytes, kind: ObjectKind::Segment { track: t, .. } } if *t == track => {
                Some((path.clone(), bytes.clone()))
            }
            _ => None,
        })
        .collect()
}

fn last_manifest(outs: &[Output]) -> (String, String, bool) {
    outs.iter()
        .rev()
        .find_map(|o| match o {
            Output::Object { path, bytes, kind: ObjectKind::Manifest { final_ } } => {
                Some((path.clone(), String::from_utf8(bytes.clone()).unwrap(), *final_))
            }
            _ => None,
        })
        .expect("a manifest")
}

fn rec(cfg: RecorderConfig) -> Recorder {
    Recorder::new("cam01", "s", cfg, t0(), None)
}

/// Feeds `n` video frames with RTP deltas from `delta(i)`, keyframe every 30.
fn feed_video(
    r: &mut Recorder,
    start: std::time::SystemTime,
    n: usize,
    delta: impl Fn(usize) -> u64,
    out: &mut Vec<Output>,
) -> u64 {
    let mut rtp = 1_000_000u64;
    for i in 0..n {
        let f = vp8(i % 30 == 0, 100 + i);
        let now = start + Duration::from_micros((rtp - 1_000_000) * 100 / 9);
        r.push(vframe(&f, rtp), now, out);
        rtp += delta(i);
    }
    rtp
}

#[test]
fn durations_are_exact_rtp_deltas_and_loss_lengthens_a_sample() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    // Irregular deltas; frame 40 is lost (the delta after frame 39 is doubled).
    let delta = |i: usize| {
        if i == 39 { 6000 } else { [2900, 3000, 3100][i % 3] }
    };
    feed_video(&mut r, t0(), 100, delta, &mut out);
    r.finish(t0() + Duration::from_secs(4), &mut out);
    let segs = segments(&out, TrackKind::Video);
    let mut durations = Vec::new();
    let mut expected_t = 0;
    for (_, s) in &segs {
        assert_eq!(tfdt(s), expected_t, "segments are contiguous");
        let t = trun(s);
        assert_eq!(t[0].2, 0x0200_0000, "segment starts with a sync sample");
        expected_t += t.iter().map(|x| x.0 as u64).sum::<u64>();
        durations.extend(t.iter().map(|x| x.0 as u64));
    }
    assert_eq!(durations.len(), 100);
    for (i, d) in durations.iter().enumerate().take(99) {
        assert_eq!(*d, delta(i), "sample {i}");
    }
    // The last sample repeats the previous delta.
    assert_eq!(durations[99], delta(98));
    // Cuts only at keyframes (every 30 frames) once 2 s (180000 ticks) passed.
    let counts: Vec<usize> = segs.iter().map(|(_, s)| trun(s).len()).collect();
    assert_eq!(counts, vec![60, 40]);
}

#[test]
fn reordered_and_repeated_frames_are_dropped_with_one_warning() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    let (k, p) = (vp8(true, 50), vp8(false, 50));
    r.push(vframe(&k, 9000), t0(), &mut out);
    r.push(vframe(&p, 12000), t0(), &mut out);
    r.push(vframe(&p, 12000), t0(), &mut out); // repeated
    r.push(vframe(&p, 10500), t0(), &mut out); // reordered
    r.push(vframe(&p, 3000), t0(), &mut out); // before the track start
    r.push(vframe(&p, 15000), t0(), &mut out);
    r.finish(t0() + Duration::from_secs(1), &mut out);
    let warnings = out
        .iter()
        .filter(|o| matches!(o, Output::Warning(w) if w.contains("backwards") || w.contains("not after")))
        .count();
    assert_eq!(warnings, 1, "{out:?}");
    let segs = segments(&out, TrackKind::Video);
    let t = trun(&segs[0].1);
    assert_eq!(t.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3000, 3000, 3000]);
}

#[test]
fn audio_and_video_are_aligned_by_first_arrival() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    let opus = [0xfc, 1, 2, 3];
    // Video starts at t0; audio's first packet arrives 500 ms later with an
    // unrelated RTP origin.
    for i in 0..150u64 {
        let now = t0() + Duration::from_micros(i * 33_333);
        r.push(vframe(&vp8(i % 30 == 0, 80), 5_000 + i * 3000), now, &mut out);
        if i >= 15 {
            let j = i - 15;
            for k in 0..2 {
                let n = j * 2 + k;
                r.push(
                    aframe(&opus, 777_777 + n * 800),
                    t0() + Duration::from_millis(500) + Duration::from_micros(n * 16_667),
                    &mut out,
                );
            }
        }
    }
    r.finish(t0() + Duration::from_secs(5), &mut out);
    let a = segments(&out, TrackKind::Audio);
    assert_eq!(tfdt(&a[0].1), 24_000, "audio starts 0.5 s into the Period (48 kHz)");
    // Audio segments are cut where video was cut (video cut at 2 s = 96000 audio ticks).
    assert_eq!(tfdt(&a[1].1), 96_000);
    let (_, xml, final_) = last_manifest(&out);
    assert!(final_);
    assert!(xml.contains("<S t=\"24000\" d=\"72000\"/>"), "{xml}");
}

#[test]
fn keyframe_wait_before_first_keyframe_and_after_a_gap() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    let p = vp8(false, 40);
    r.push(vframe(&p, 0), t0(), &mut out);
    assert!(r.wants_keyframe());
    assert!(out.is_empty(), "nothing recorded before a keyframe: {out:?}");
    r.push(vframe(&vp8(true, 40), 3000), t0(), &mut out);
    assert!(!r.wants_keyframe());
    r.push(vframe(&p, 6000), t0(), &mut out);
    r.video_discontinuity();
    assert!(r.wants_keyframe());
    r.push(vframe(&p, 9000), t0(), &mut out); // dropped: waiting for a keyframe
    r.push(vframe(&vp8(true, 40), 15000), t0(), &mut out);
    assert!(!r.wants_keyframe());
    r.finish(t0() + Duration::from_secs(1), &mut out);
    let t = trun(&segments(&out, TrackKind::Video)[0].1);
    assert_eq!(t.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3000, 9000, 9000]);
}

#[test]
fn midnight_rotation_starts_a_new_day_manifest() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    let start = common::t0() + Duration::from_secs(14 * 3600 - 3); // 23:59:57
    feed_video(&mut r, start, 180, |_| 3000, &mut out);
    r.finish(start + Duration::from_secs(6), &mut out);
    let started: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::SessionStarted { session_id, day, mpd_path, .. } => {
                Some((session_id.clone(), *day, mpd_path.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        vec![
            ("s".into(), 24, "cam01/2025/07/24/manifest.mpd".into()),
            ("s-2".into(), 25, "cam01/2025/07/25/manifest.mpd".into())
        ]
    );
    let ended: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::SessionEnded { session_id, duration_ms, .. } => Some((session_id.clone(), *duration_ms)),
            _ => None,
        })
        .collect();
    // Rotation happens at the first keyframe at or after midnight (3 s in).
    assert_eq!(ended, vec![("s".into(), 3000), ("s-2".into(), 3000)]);
    // The old day's manifest was finalised (static) when the day ended.
    let old_final = out.iter().any(|o| matches!(o, Output::Object { path, kind: ObjectKind::Manifest { final_: true }, .. } if path == "cam01/2025/07/24/manifest.mpd"));
    assert!(old_final);
    let (path, xml, _) = last_manifest(&out);
    assert_eq!(path, "cam01/2025/07/25/manifest.mpd");
    assert_eq!(xml.matches("<Period").count(), 1);
    assert!(xml.contains("availabilityStartTime=\"2025-07-25T00:00:00.000Z\""), "{xml}");
    assert!(segments(&out, TrackKind::Video).iter().any(|(p, _)| p == "cam01/2025/07/25/s-2/v_00001.m4s"));
}

#[test]
fn max_seconds_rotation_appends_periods_to_the_same_manifest() {
    let mut r = rec(RecorderConfig { max_recording_seconds: 3, ..Default::default() });
    let mut out = Vec::new();
    feed_video(&mut r, t0(), 240, |_| 3000, &mut out);
    r.finish(t0() + Duration::from_secs(8), &mut out);
    let ids: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::SessionStarted { session_id, .. } => Some(session_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec!["s", "s-2", "s-3"]);
    let (_, xml, final_) = last_manifest(&out);
    assert!(final_);
    assert!(xml.contains("<Period id=\"s\" start=\"PT0.000S\" duration=\"PT3.000S\">"), "{xml}");
    assert!(xml.contains("<Period id=\"s-2\" start=\"PT3.000S\" duration=\"PT3.000S\">"), "{xml}");
    assert!(xml.contains("<Period id=\"s-3\" start=\"PT6.000S\" duration=\"PT2.000S\">"), "{xml}");
    assert!(xml.contains("mediaPresentationDuration=\"PT8.000S\""), "{xml}");
}

#[test]
fn new_session_is_appended_to_an_existing_manifest() {
    let mut first = rec(RecorderConfig::default());
    let mut out = Vec::new();
    feed_video(&mut first, t0(), 90, |_| 3000, &mut out);
    first.finish(t0() + Duration::from_secs(3), &mut out);
    let (_, xml1, _) = last_manifest(&out);

    let later = t0() + Duration::from_secs(60);
    let mut second = Recorder::new("cam01", "other", RecorderConfig::default(), later, Some(&xml1));
    let mut out2 = Vec::new();
    feed_video(&mut second, later, 90, |_| 3000, &mut out2);
    let (_, live, final_) = last_manifest(&out2);
    assert!(!final_);
    assert!(live.contains("type=\"dynamic\"") && live.contains("minimumUpdatePeriod=\"PT2.000S\""), "{live}");
    second.finish(later + Duration::from_secs(3), &mut out2);
    let (_, xml2, _) = last_manifest(&out2);
    assert!(xml2.contains("<Period id=\"s\" start=\"PT0.000S\" duration=\"PT3.000S\">"), "{xml2}");
    assert!(xml2.contains("<Period id=\"other\" start=\"PT60.000S\" duration=\"PT3.000S\">"), "{xml2}");
    assert!(xml2.contains("initialization=\"s/v_init.mp4\"") && xml2.contains("initialization=\"other/v_init.mp4\""));
}

#[test]
fn publisher_restart_starts_a_new_period() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    feed_video(&mut r, t0(), 60, |_| 3000, &mut out);
    r.publisher_restarted(t0() + Duration::from_secs(2), &mut out);
    assert!(out.iter().any(|o| matches!(o, Output::SessionEnded { session_id, .. } if session_id == "s")));
    // The new publisher's timestamps start elsewhere.
    let later = t0() + Duration::from_secs(5);
    let mut rtp = 42u64;
    for i in 0..60 {
        r.push(vframe(&vp8(i % 30 == 0, 60), rtp), later + Duration::from_micros(i * 33_333), &mut out);
        rtp += 3000;
    }
    r.finish(later + Duration::from_secs(2), &mut out);
    let (_, xml, _) = last_manifest(&out);
    assert!(xml.contains("<Period id=\"s-2\" start=\"PT5.000S\""), "{xml}");
    // A timestamp jump of minutes is handled the same way.
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    r.push(vframe(&vp8(true, 10), 0), t0(), &mut out);
    r.push(vframe(&vp8(true, 10), 90_000 * 600), t0() + Duration::from_millis(33), &mut out);
    assert!(
        out.iter().any(|o| matches!(o, Output::SessionStarted { session_id, .. } if session_id == "s-2")),
        "{out:?}"
    );
}

#[test]
fn other_codecs_are_skipped_with_one_warning() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    for i in 0..10 {
        r.push(
            Frame {
                kind: TrackKind::Audio,
                codec: Codec::Other,
                rtp_time: i * 160,
                clock_rate: 8000,
                keyframe: true,
                data: &[1, 2, 3],
            },
            t0(),
            &mut out,
        );
    }
    assert_eq!(out.len(), 1);
    assert!(matches!(&out[0], Output::Warning(w) if w.contains("not recorded")));
}

#[test]
fn malformed_frames_and_absurd_timestamps_never_panic() {
    let blobs: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0, 0, 1],
        vec![0, 0, 0, 1, 0x65],
        vec![0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0, 0, 0, 1, 0x65, 1],
        vec![0, 0, 0, 1, 0x40, 1, 0, 0, 1, 0x42, 1, 0, 0, 1, 0x44, 1, 0, 0, 1, 0x26, 1],
        vp8(true, 0),
        vp8(true, 3)[..5].to_vec(),
        vec![0x12, 0, 0x0a, 0x05, 0, 0, 0, 0x42, 0xff],
        vec![0x82, 0x49, 0x83, 0x42, 0x00],
        vec![0xff; 64],
    ];
    let rtps = [0, 1, u64::MAX, u64::MAX / 2, 3000, 2, i64::MAX as u64 + 5];
    for codec in [Codec::H264, Codec::H265, Codec::Vp8, Codec::Vp9, Codec::Av1, Codec::Opus] {
        let kind = if codec == Codec::Opus { TrackKind::Audio } else { TrackKind::Video };
        let mut r = rec(RecorderConfig { segment_target: Duration::ZERO, max_recording_seconds: 1 });
        let mut out = Vec::new();
        let mut n = 0u64;
        for b in &blobs {
            for &rtp in &rtps {
                for clock in [0, 1, 90_000, u32::MAX] {
                    n += 1;
                    let f =
                        Frame { kind, codec, rtp_time: rtp, clock_rate: clock, keyframe: n.is_multiple_of(2), data: b };
                    r.push(f, t0() + Duration::from_millis(n * 7), &mut out);
                    // Also a valid keyframe now and then so tracks exist.
                    r.push(vframe(&vp8(true, 5), rtp), t0() + Duration::from_millis(n * 7), &mut out);
                }
            }
            r.publisher_restarted(t0() + Duration::from_millis(n * 7), &mut out);
        }
        r.finish(std::time::UNIX_EPOCH, &mut out);
        r.push(vframe(&vp8(true, 5), 1), t0(), &mut out);
        let _ = r.wants_keyframe();
    }
}

#[test]
fn extended_timestamps_across_the_32_bit_wrap_stay_exact() {
    let mut r = rec(RecorderConfig::default());
    let mut out = Vec::new();
    // The node unwraps RTP timestamps; the recorder must cope with values past 2^32.
    let mut rtp = (1u64 << 32) - 90_000;
    for i in 0..90u64 {
        r.push(vframe(&vp8(i % 30 == 0, 20), rtp), t0() + Duration::from_micros(i * 33_333), &mut out);
        rtp += 3000;
    }
    r.finish(t0() + Duration::from_secs(3), &mut out);
    let segs = segments(&out, TrackKind::Video);
    let all: Vec<u32> = segs.iter().flat_map(|(_, s)| trun(s)).map(|x| x.0).collect();
    assert_eq!(all.len(), 90);
    assert!(all.iter().all(|d| *d == 3000), "{all:?}");
    assert_eq!(tfdt(&segs[1].1), 180_000);
}
