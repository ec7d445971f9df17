//! Measures the CPU cost of `Recorder::push` on a 2 Mbps 30 fps H264 stream
//! (1280x720, x264, keyframe every 2 s) plus 20 ms Opus packets, 60 s of media.
//! Run in release mode: `cargo run --release -p wishcast-record --example push_cost`.
//! Needs `ffmpeg` (libx264, libopus) on PATH.

use std::process::Command;
use std::time::{Duration, Instant, UNIX_EPOCH};

use wishcast_record::{Codec, Frame, Output, Recorder, RecorderConfig, TrackKind};

fn ffmpeg(dir: &std::path::Path, args: &[&str]) {
    let st = Command::new("ffmpeg")
        .current_dir(dir)
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg");
    assert!(st.success());
}

fn main() {
    let dir = std::env::temp_dir().join(format!("wishcast-push-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    ffmpeg(
        &dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-t",
            "10",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-b:v",
            "2M",
            "-maxrate",
            "2M",
            "-bufsize",
            "1M",
            "-g",
            "60",
            "-bf",
            "0",
            "-x264-params",
            "aud=1",
            "-f",
            "h264",
            "v.h264",
        ],
    );
    ffmpeg(
        &dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-ac",
            "2",
            "-t",
            "10",
            "-c:a",
            "libopus",
            "-b:a",
            "64k",
            "-f",
            "ogg",
            "a.ogg",
        ],
    );
    let v = std::fs::read(dir.join("v.h264")).unwrap();
    let aus = split_aud(&v);
    let a = ogg_packets(&std::fs::read(dir.join("a.ogg")).unwrap());
    let video_bytes: usize = aus.iter().map(Vec::len).sum();
    println!(
        "video: {} frames, {:.2} Mbit/s; audio: {} packets",
        aus.len(),
        video_bytes as f64 * 8.0 / 10.0 / 1e6,
        a.len()
    );

    let start = UNIX_EPOCH + Duration::from_secs(1_753_351_200);
    let mut rec = Recorder::new("bench", "s", RecorderConfig::default(), start, None);
    let mut out: Vec<Output> = Vec::new();
    let (mut spent_v, mut spent_a) = (Duration::ZERO, Duration::ZERO);
    let (mut nv, mut na) = (0u64, 0u64);
    let mut written = 0usize;
    for lap in 0..6u64 {
        // Interleave by media time: 3 audio packets per 2 video frames.
        let (mut i, mut j) = (0usize, 0usize);
        while i < aus.len() || j < a.len() {
            let vt = i as u64 * 100_000 / 3;
            let at = j as u64 * 20_000;
            if i < aus.len() && (j >= a.len() || vt <= at) {
                let idx = lap * aus.len() as u64 + i as u64;
                let f = Frame {
                    kind: TrackKind::Video,
                    codec: Codec::H264,
                    rtp_time: idx * 3000,
                    clock_rate: 90_000,
                    keyframe: false,
                    data: &aus[i],
                };
                let now = start + Duration::from_micros(lap * 10_000_000 + vt);
                let t = Instant::now();
                rec.push(f, now, &mut out);
                spent_v += t.elapsed();
                nv += 1;
                i += 1;
            } else {
                let idx = lap * a.len() as u64 + j as u64;
                let f = Frame {
                    kind: TrackKind::Audio,
                    codec: Codec::Opus,
                    rtp_time: idx * 960,
                    clock_rate: 48_000,
                    keyframe: true,
                    data: &a[j],
                };
                let now = start + Duration::from_micros(lap * 10_000_000 + at);
                let t = Instant::now();
                rec.push(f, now, &mut out);
                spent_a += t.elapsed();
                na += 1;
                j += 1;
            }
            for o in out.drain(..) {
                if let Output::Object { bytes, .. } = o {
                    written += bytes.len();
                }
            }
        }
    }
    rec.finish(start + Duration::from_secs(60), &mut out);
    let total = spent_v + spent_a;
    println!(
        "push(): video {:.1} µs/frame over {nv} frames, audio {:.1} µs/packet over {na} packets",
        spent_v.as_secs_f64() * 1e6 / nv as f64,
        spent_a.as_secs_f64() * 1e6 / na as f64
    );
    println!(
        "total {:.1} ms for 60 s of media = {:.3} % of one core; {:.1} MB written",
        total.as_secs_f64() * 1e3,
        total.as_secs_f64() / 60.0 * 100.0,
        written as f64 / 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn split_aud(data: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    for i in 0..data.len().saturating_sub(4) {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && data[i + 3] & 0x1f == 9 {
            starts.push(if i > 0 && data[i - 1] == 0 { i - 1 } else { i });
        }
    }
    starts.iter().enumerate().map(|(k, &s)| data[s..*starts.get(k + 1).unwrap_or(&data.len())].to_vec()).collect()
}

fn ogg_packets(data: &[u8]) -> Vec<Vec<u8>> {
    let (mut packets, mut cur, mut pos) = (Vec::new(), Vec::new(), 0);
    while pos + 27 <= data.len() {
        let nseg = data[pos + 26] as usize;
        let mut body = pos + 27 + nseg;
        for &l in &data[pos + 27..pos + 27 + nseg] {
            cur.extend_from_slice(&data[body..body + l as usize]);
            body += l as usize;
            if l < 255 {
                packets.push(std::mem::take(&mut cur));
            }
        }
        pos = body;
    }
    packets.into_iter().skip(2).collect()
}
