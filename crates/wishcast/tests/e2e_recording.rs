//! Recording end to end: the compiled `wishcast manager` (SQLite index, fs storage) and
//! `wishcast node` (`[recorder]`, registered with the manager), Chromium publishing its
//! fake camera through the manager for 20 s while recording (tests/browser/recording.mjs,
//! which also plays the result with dash.js through the manager's playback proxy), then
//! ffprobe on the stored DASH recording and on the MP4 export, HTTP Range on a segment,
//! traversal attempts, and the index rows. The VP8 run also kill -9s the manager in the
//! middle of the recording and restarts it on the same database: no index row may be lost.
//!
//! Needs Chromium, Node.js + `npm ci` (playwright-core, dashjs) and ffmpeg:
//! `scripts/install-test-deps`. Missing dependencies FAIL the test.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::procs::{Proc, TempDir};
use common::{chromium_path, repo_root, require_browser_deps, run_with_timeout};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn manager_config(port: u16, dir: &Path) -> String {
    format!(
        r#"
[http]
listen = "127.0.0.1:{port}"
cors = true

[database]
url = "sqlite://{db}?mode=rwc"

[recorder.storage]
type = "fs"
root = "{storage}"
"#,
        db = dir.join("index.db").display(),
        storage = dir.join("storage").display(),
    )
}

fn node_config(manager: &str, dir: &Path) -> String {
    format!(
        r#"
[http]
listen = "127.0.0.1:0"

[webrtc]
listen = "127.0.0.1:0"
tcp_listen = ""

[cluster]
manager = "{manager}"
alias = "rec-node"
heartbeat_ms = 500

[recorder]
spool_dir = "{spool}"
index_path = "{journal}"
segment_seconds = 2.0

[recorder.storage]
type = "fs"
root = "{storage}"
"#,
        spool = dir.join("spool").display(),
        journal = dir.join("journal.jsonl").display(),
        storage = dir.join("storage").display(),
    )
}

fn start_manager(port: u16, dir: &Path) -> (Proc, String) {
    let cfg = dir.join("manager.toml");
    std::fs::write(&cfg, manager_config(port, dir)).unwrap();
    Proc::wishcast("manager", &["manager", "-c", cfg.to_str().unwrap()], TempDir::borrowed(dir), "manager")
}

fn json(v: &str) -> serde_json::Value {
    let line = v.lines().rev().find(|l| l.starts_with('{')).unwrap_or("{}");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// ffprobe's JSON (streams + format) of `input`.
fn ffprobe(input: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,codec_type,width,height:format=duration",
            "-of",
            "json",
        ])
        .arg(input)
        .output()
        .expect("ffprobe (apt-get install ffmpeg)");
    assert!(out.status.success(), "ffprobe {} failed: {}", input.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// Decode timestamps strictly increase within each stream of the container.
fn assert_monotonic_dts(input: &Path) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "packet=stream_index,dts", "-of", "csv=p=0"])
        .arg(input)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut last: std::collections::HashMap<String, i64> = Default::default();
    let mut packets = 0;
    for line in text.lines() {
        let mut it = line.split(',');
        let (Some(idx), Some(dts)) = (it.next(), it.next()) else { continue };
        let Ok(dts) = dts.trim().parse::<i64>() else { continue };
        if let Some(prev) = last.insert(idx.to_string(), dts) {
            assert!(dts > prev, "{}: stream {idx} dts {dts} after {prev}", input.display());
        }
        packets += 1;
    }
    assert!(packets > 100, "{}: only {packets} packets", input.display());
}

fn codecs(probe: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = probe["streams"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["codec_name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn duration(probe: &serde_json::Value) -> f64 {
    probe["format"]["duration"].as_str().and_then(|d| d.parse().ok()).unwrap_or(0.0)
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn record_and_verify(codec: &str, restart_manager: bool) {
    let _serial = common::serial();
    require_browser_deps();
    let dir = TempDir::new(&format!("recording-{}", codec.to_lowercase()));
    let port = free_port();
    let (manager, base) = start_manager(port, &dir.0);
    let mut manager = Some(manager);
    let (node, _node_url) = Proc::wishcast(
        "node",
        &["node", "-c", dir.write("node.toml", &node_config(&base, &dir.0)).to_str().unwrap()],
        TempDir::borrowed(&dir.0),
        "node",
    );

    // The browser scenario runs in the background while we may restart the manager.
    let root = repo_root();
    let mut cmd = Command::new("node");
    cmd.current_dir(&root).arg(root.join("tests/browser/recording.mjs")).args([
        "--base",
        &base,
        "--codec",
        codec,
        "--seconds",
        "20",
        "--timeout-s",
        "100",
    ]);
    if let Some(p) = chromium_path() {
        cmd.env("CHROMIUM_PATH", p);
    }
    let script = std::thread::spawn(move || run_with_timeout(cmd, Duration::from_secs(105)));
    if restart_manager {
        // Mid-recording (the script publishes, starts recording after ~3-5 s, records 20 s).
        std::thread::sleep(Duration::from_secs(12));
        let mut m = manager.take().unwrap();
        let _ = m.child.kill(); // SIGKILL
        let _ = m.child.wait();
        std::thread::sleep(Duration::from_secs(1));
        let (m2, base2) = start_manager(port, &dir.0);
        assert_eq!(base2, base);
        manager = Some(m2);
    }
    let (status, out, err) = script.join().unwrap();
    let logs = || format!("{}\n{}", manager.as_ref().map(|m| m.logs()).unwrap_or_default(), node.logs());
    println!("browser recording {codec}: {}", out.trim());
    assert!(
        status.is_some_and(|s| s.success()),
        "recording.mjs failed ({status:?})\n--- stdout ---\n{out}\n--- stderr ---\n{err}\n{}",
        logs()
    );
    let r = json(&out);
    let stream = r["stream"].as_str().unwrap().to_string();
    let mpd_path = r["mpd_path"].as_str().unwrap().to_string();
    let wall_s = r["recordedWallMs"].as_f64().unwrap() / 1000.0;
    assert!(r["recordStartMs"].as_f64().unwrap() < 1000.0, "starting a recording must not block: {r}");
    let c = http();

    // Index: the session rows survived (and the manager restart did not lose any).
    let day: Vec<&str> = mpd_path.split('/').collect();
    let (y, m, d) = (day[1], day[2], day[3]);
    let sessions: serde_json::Value = c
        .get(format!("{base}/api/playback/{stream}/{y}/{m}/{d}"))
        .send()
        .unwrap()
        .json()
        .unwrap_or_else(|e| panic!("sessions JSON: {e}\n{}", logs()));
    let sessions = sessions.as_array().cloned().unwrap_or_default();
    assert!(!sessions.is_empty(), "no recording session rows for {stream}\n{}", logs());
    assert!(
        sessions.iter().all(|s| s["status"] == "Completed" && s["node"] == "rec-node"),
        "sessions not completed: {sessions:?}"
    );
    let index_ms: f64 = sessions.iter().map(|s| s["durationMs"].as_f64().unwrap_or(0.0)).sum();

    // The stored DASH recording.
    let storage = dir.0.join("storage");
    let mpd_file = storage.join(&mpd_path);
    let mpd = std::fs::read_to_string(&mpd_file).unwrap_or_else(|e| panic!("{}: {e}\n{}", mpd_file.display(), logs()));
    assert!(mpd.contains("type=\"static\""), "final manifest is not static: {mpd}");
    let probe = ffprobe(&mpd_file);
    let want_video = if codec == "H264" { "h264" } else { "vp8" };
    assert_eq!(
        codecs(&probe),
        {
            let mut v = vec!["opus".to_string(), want_video.to_string()];
            v.sort();
            v
        },
        "{probe}"
    );
    let dash_s = duration(&probe);
    assert!((dash_s - index_ms / 1000.0).abs() <= 1.0, "DASH duration {dash_s} s vs index {index_ms} ms");
    assert!((dash_s - wall_s).abs() <= 2.5, "DASH duration {dash_s} s vs {wall_s} s recorded (wall clock)");
    // Spool drained: everything reached storage.
    let left: Vec<_> = walk(&dir.0.join("spool"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "m4s" || e == "mp4" || e == "mpd"))
        .collect();
    assert!(left.is_empty(), "spool still holds {left:?}");

    // MP4 export through the manager: one progressive file, same codecs and duration.
    let export = c.get(format!("{base}/api/record/export/{stream}/{y}/{m}/{d}")).send().unwrap();
    assert_eq!(export.status(), 200, "export: {}", export.text().unwrap_or_default());
    let bytes = export.bytes().unwrap();
    let mp4 = dir.0.join("export.mp4");
    std::fs::write(&mp4, &bytes).unwrap();
    let probe = ffprobe(&mp4);
    assert_eq!(codecs(&probe).len(), 2, "{probe}");
    let mp4_s = duration(&probe);
    assert!((mp4_s - dash_s).abs() <= 1.0, "export {mp4_s} s vs DASH {dash_s} s");
    // Every frame decodes (passthrough timing: the null muxer's constant-rate conversion
    // would complain about WebRTC's variable frame timing, not about the file).
    let dec = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&mp4)
        .args(["-fps_mode", "passthrough", "-f", "null", "-"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    // The null muxer re-times frames into the encoder's 1/fps time base, where two
    // frames of WebRTC's jittery timing can land on one tick; that message is about
    // ffmpeg's own output, so it is ignored here and the file's packet timestamps are
    // checked directly instead (assert_monotonic_dts).
    let errors: Vec<String> = String::from_utf8_lossy(&dec.stderr)
        .lines()
        .filter(|l| !l.contains("non monotonically increasing dts to muxer"))
        .map(str::to_string)
        .collect();
    assert!(dec.status.success() && errors.is_empty(), "export does not decode cleanly: {errors:?}");
    assert_monotonic_dts(&mp4);

    // `wishcast export` (CLI) writes the same file from the same storage.
    let cli = dir.0.join("cli.mp4");
    let st = Command::new(env!("CARGO_BIN_EXE_wishcast"))
        .args([
            "export",
            "-c",
            dir.0.join("manager.toml").to_str().unwrap(),
            &stream,
            &format!("{y}-{m}-{d}"),
            "-o",
            cli.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(std::fs::read(&cli).unwrap() == bytes.as_ref(), "CLI export differs from the HTTP export");

    // Range on a media segment.
    let seg = walk(&storage)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "m4s") && !p.to_string_lossy().contains("init"))
        .expect("a segment");
    let rel = seg.strip_prefix(&storage).unwrap().to_str().unwrap().to_string();
    let full = std::fs::read(&seg).unwrap();
    let rsp = c.get(format!("{base}/api/record/object/{rel}")).header("Range", "bytes=10-109").send().unwrap();
    assert_eq!(rsp.status(), 206);
    assert_eq!(rsp.headers()["content-range"].to_str().unwrap(), format!("bytes 10-109/{}", full.len()));
    assert_eq!(rsp.bytes().unwrap().as_ref(), &full[10..110]);
    let rsp = c
        .get(format!("{base}/api/record/object/{rel}"))
        .header("Range", format!("bytes={}-", full.len() + 5))
        .send()
        .unwrap();
    assert_eq!(rsp.status(), 416);

    // Traversal attempts never leave the storage root.
    std::fs::write(dir.0.join("secret.txt"), "top secret").unwrap();
    // Raw requests: HTTP client libraries would normalize `..` away before sending.
    let addr = base.trim_start_matches("http://").to_string();
    for bad in [
        "../secret.txt",
        "..%2Fsecret.txt",
        "%2E%2E/secret.txt",
        "%2Fetc%2Fpasswd",
        "a/../../secret.txt",
        "a/..%2F..%2Fsecret.txt",
        "..%5Csecret.txt",
        "a%00b",
    ] {
        let (st, body) = raw_get(&addr, &format!("/api/record/object/{bad}"));
        assert!(st == 400 || st == 404, "{bad} -> {st} {body}");
        assert!(!body.contains("top secret") && !body.contains("root:"), "{bad} leaked: {body}");
    }
    drop(manager);
}

/// GET `path` exactly as written; status and the whole response text.
fn raw_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    (text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), text)
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn chromium_vp8_recording_survives_a_manager_kill_and_plays_with_dashjs() {
    let t = Instant::now();
    record_and_verify("VP8", true);
    println!("VP8 recording test took {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn chromium_h264_recording_probes_exports_and_plays_with_dashjs() {
    record_and_verify("H264", false);
}
