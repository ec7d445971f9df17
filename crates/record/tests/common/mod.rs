//! Test helpers: real encoded streams from `ffmpeg`, split into WebRTC-style
//! frames; feeding them to a Recorder with synthetic RTP times; writing the
//! outputs to a temp folder; and `ffprobe` queries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wishcast_record::{Codec, Frame, ObjectKind, Output, Recorder, RecorderConfig, TrackKind};

/// 2025-07-24T10:00:00Z
pub const T0_MS: u64 = 1_753_351_200_000;

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(T0_MS)
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wishcast-record-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (run scripts/install-test-deps)"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn ffmpeg(dir: &Path, args: &[&str]) {
    let mut c = Command::new("ffmpeg");
    c.current_dir(dir).args(["-hide_banner", "-loglevel", "error", "-y"]).args(args);
    run(&mut c);
}

/// Annex-B access units split at access unit delimiters (type `aud_type`).
pub fn split_aus(data: &[u8], h265: bool) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 4 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            let t = if h265 { (data[i + 3] >> 1) & 0x3f } else { data[i + 3] & 0x1f };
            let is_aud = if h265 { t == 35 } else { t == 9 };
            if is_aud {
                let s = if i > 0 && data[i - 1] == 0 { i - 1 } else { i };
                starts.push(s);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut aus = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(data.len());
        aus.push(data[s..e].to_vec());
    }
    aus
}

/// Frames of an IVF file.
pub fn ivf_frames(data: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&data[..4], b"DKIF");
    let hdr = u16::from_le_bytes([data[6], data[7]]) as usize;
    let mut pos = hdr;
    let mut out = Vec::new();
    while pos + 12 <= data.len() {
        let n = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 12;
        out.push(data[pos..pos + n].to_vec());
        pos += n;
    }
    out
}

/// Packets of an Ogg Opus file, without the OpusHead/OpusTags header packets.
pub fn ogg_packets(data: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut cur = Vec::new();
    let mut pos = 0;
    while pos + 27 <= data.len() {
        assert_eq!(&data[pos..pos + 4], b"OggS");
        let nseg = data[pos + 26] as usize;
        let lacing = &data[pos + 27..pos + 27 + nseg];
        let mut body = pos + 27 + nseg;
        for &l in lacing {
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

pub struct Media {
    pub codec: Codec,
    pub frames: Vec<Vec<u8>>,
}

/// Encodes `secs` seconds of 640x360 30 fps test video, keyframe every `gop` frames.
pub fn video(dir: &Path, codec: Codec, secs: u32, gop: u32) -> Media {
    let t = secs.to_string();
    let g = gop.to_string();
    let src = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", &t];
    let (args, file): (Vec<&str>, &str) = match codec {
        Codec::H264 => (
            vec![
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-bf",
                "0",
                "-g",
                &g,
                "-x264-params",
                "aud=1",
                "-bsf:v",
                "h264_mp4toannexb",
                "-f",
                "h264",
            ],
            "v.h264",
        ),
        Codec::H265 => (
            vec![
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-g",
                &g,
                "-x265-params",
                "aud=1:bframes=0:log-level=error",
                "-f",
                "hevc",
            ],
            "v.h265",
        ),
        Codec::Vp8 => (
            vec!["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", &g, "-b:v", "800k", "-f", "ivf"],
            "v.ivf",
        ),
        Codec::Vp9 => (
            vec![
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-g",
                &g,
                "-b:v",
                "800k",
                "-f",
                "ivf",
            ],
            "v.ivf",
        ),
        Codec::Av1 => (
            vec!["-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8", "-g", &g, "-b:v", "500k", "-f", "ivf"],
            "v.ivf",
        ),
        _ => panic!("not a video codec"),
    };
    let mut all: Vec<&str> = src.to_vec();
    all.extend(args);
    all.push(file);
    ffmpeg(dir, &all);
    let data = std::fs::read(dir.join(file)).unwrap();
    let frames = match codec {
        Codec::H264 => split_aus(&data, false),
        Codec::H265 => split_aus(&data, true),
        _ => ivf_frames(&data),
    };
    Media { codec, frames }
}

/// Encodes `secs` seconds of a 440 Hz tone as 20 ms Opus packets.
pub fn opus(dir: &Path, secs: u32) -> Media {
    let t = secs.to_string();
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-ac",
            "2",
            "-t",
            &t,
            "-c:a",
            "libopus",
            "-b:a",
            "64k",
            "-frame_duration",
            "20",
            "-f",
            "ogg",
            "a.ogg",
        ],
    );
    Media { codec: Codec::Opus, frames: ogg_packets(&std::fs::read(dir.join("a.ogg")).unwrap()) }
}

/// Feeds video (30 fps, RTP from `v_rtp0`) and audio (20 ms, RTP from `a_rtp0`,
/// starting `audio_delay_ms` after the video) interleaved by wall time starting at
/// `start`. Returns all outputs (without calling finish).
pub fn feed(
    rec: &mut Recorder,
    video: Option<&Media>,
    audio: Option<&Media>,
    start: SystemTime,
    audio_delay_ms: u64,
) -> Vec<Output> {
    let mut out = Vec::new();
    let mut events: Vec<(u64, TrackKind, usize)> = Vec::new();
    if let Some(v) = video {
        for i in 0..v.frames.len() {
            events.push(((i as u64 * 100_000) / 3, TrackKind::Video, i));
        }
    }
    if let Some(a) = audio {
        for i in 0..a.frames.len() {
            events.push((audio_delay_ms * 1000 + i as u64 * 20_000, TrackKind::Audio, i));
        }
    }
    events.sort_by_key(|e| (e.0, e.1 == TrackKind::Audio));
    for (us, kind, i) in events {
        let now = start + Duration::from_micros(us);
        let (m, rtp, clock) = match kind {
            TrackKind::Video => (video.unwrap(), 7_000 + i as u64 * 3000, 90_000),
            TrackKind::Audio => (audio.unwrap(), 11_000 + i as u64 * 960, 48_000),
        };
        let f = Frame { kind, codec: m.codec, rtp_time: rtp, clock_rate: clock, keyframe: false, data: &m.frames[i] };
        rec.push(f, now, &mut out);
    }
    out
}

/// Writes every object output under `dir` (later writes of a path overwrite).
pub fn write_outputs(dir: &Path, outs: &[Output]) {
    for o in outs {
        if let Output::Object { path, bytes, .. } = o {
            assert!(!path.starts_with('/') && !path.split('/').any(|c| c == ".."), "unsafe path {path}");
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    }
}

/// Concatenates a track's init and media segments (in output order) into one file.
pub fn concat_track(dir: &Path, outs: &[Output], track: TrackKind, name: &str) -> PathBuf {
    let mut bytes = Vec::new();
    let prefix = match track {
        TrackKind::Video => "v_init.",
        TrackKind::Audio => "a_init.",
    };
    let mut inits = 0;
    for o in outs {
        match o {
            Output::Object { path, bytes: b, kind: ObjectKind::Init }
                if path.rsplit('/').next().is_some_and(|n| n.starts_with(prefix)) && inits == 0 =>
            {
                bytes.extend_from_slice(b);
                inits += 1;
            }
            Output::Object { bytes: b, kind: ObjectKind::Segment { track: t, .. }, .. } if *t == track => {
                bytes.extend_from_slice(b)
            }
            _ => {}
        }
    }
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

pub fn default_recorder(session: &str, existing: Option<&str>) -> Recorder {
    Recorder::new("cam01", session, RecorderConfig::default(), t0(), existing)
}

/// `ffprobe` stream facts: (codec_name, width, height, frames, duration seconds).
#[derive(Debug, Clone)]
pub struct Probe {
    pub codec: String,
    pub width: u64,
    pub height: u64,
    pub frames: u64,
    pub duration: f64,
}

pub fn probe(path: &Path) -> Vec<Probe> {
    let mut c = Command::new("ffprobe");
    c.args([
        "-v",
        "error",
        "-count_frames",
        "-show_entries",
        "stream=codec_name,width,height,nb_read_frames,duration:format=duration",
        "-of",
        "json",
    ])
    .arg(path);
    let json: serde_json::Value = serde_json::from_str(&run(&mut c)).unwrap();
    let fmt_dur = json["format"]["duration"].as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    json["streams"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| Probe {
            codec: s["codec_name"].as_str().unwrap_or("").to_string(),
            width: s["width"].as_u64().unwrap_or(0),
            height: s["height"].as_u64().unwrap_or(0),
            frames: s["nb_read_frames"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0),
            duration: s["duration"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .filter(|d: &f64| *d > 0.0)
                .unwrap_or(if fmt_dur > 0.0 { fmt_dur } else { packet_span(path, i) }),
        })
        .collect()
}

/// Duration from packet times (for a WebM stream without a Duration element):
/// end of the last packet minus the first packet's time.
pub fn packet_span(path: &Path, stream: usize) -> f64 {
    let mut c = Command::new("ffprobe");
    c.args([
        "-v",
        "error",
        "-select_streams",
        &stream.to_string(),
        "-show_entries",
        "packet=pts_time,duration_time",
        "-of",
        "csv=p=0",
    ])
    .arg(path);
    let (mut first, mut end) = (f64::MAX, 0f64);
    for line in run(&mut c).lines() {
        let mut it = line.split(',');
        let pts: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let dur: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        first = first.min(pts);
        end = end.max(pts + dur);
    }
    if first == f64::MAX { 0.0 } else { end - first }
}

/// Decodes the whole file; returns ffmpeg's error output (empty = clean).
pub fn decode_errors(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "ffmpeg decode failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exports the day's manifest found in `dir` into `dir/export.mp4`.
pub fn export(dir: &Path, mpd_rel: &str, from: Option<u64>, to: Option<u64>) -> PathBuf {
    let mpd_path = dir.join(mpd_rel);
    let folder = mpd_path.parent().unwrap().to_path_buf();
    let xml = std::fs::read_to_string(&mpd_path).unwrap();
    let out_path = dir.join("export.mp4");
    let mut f = std::fs::File::create(&out_path).unwrap();
    let n =
        wishcast_record::export::export_to_writer(&xml, from, to, |p| std::fs::read(folder.join(p)), &mut f).unwrap();
    assert_eq!(n, std::fs::metadata(&out_path).unwrap().len());
    out_path
}
