//! Recording on one in-process node (no manager): a str0m publisher sends synthetic VP8
//! and audio, `POST /api/record` starts at once, `DELETE` finalizes; the journal, the
//! spool → storage move, the final manifest, node-only playback routes, Range and
//! traversal rejection are checked. (Real codecs, ffprobe and dash.js are covered by
//! crates/wishcast/tests/e2e_recording.rs with Chromium.)

mod common;

use std::time::{Duration, Instant};

use common::{CONNECT, send_frames};
use wishcast_client::{PublishOptions, Publisher};

fn temp_dir(what: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let p = std::env::temp_dir().join(format!("wishcast-node-rec-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// `[recorder]` with spool, journal and fs storage under `dir`, 1 s segments.
fn recorder_config(
    dir: &std::path::Path,
    storage: &std::path::Path,
    auto: &[&str],
) -> wishcast_node::recording::RecorderConfig {
    wishcast_node::recording::RecorderConfig {
        spool_dir: dir.join("spool").display().to_string(),
        index_path: dir.join("index.jsonl").display().to_string(),
        segment_seconds: 1.0,
        auto_streams: auto.iter().map(|s| s.to_string()).collect(),
        storage: wishcast_storage::StorageConfig::fs(storage.display().to_string()),
        ..Default::default()
    }
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(files(&p)) } else { out.push(p) }
        }
    }
    out
}

/// GET `path` exactly as written (no client-side normalization); status and body.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_start_stop_moves_segments_and_serves_them() {
    let dir = temp_dir("basic");
    let storage = dir.join("storage");
    let node = common::start_with(|c| {
        c.recorder = Some(recorder_config(&dir, &storage, &[]));
    })
    .await;
    let h = &node.http;

    // Not a stream yet: 404 with a hint; recording state false.
    let r = h.post(node.url("/api/record/cam")).send().await.unwrap();
    assert_eq!(r.status(), 404, "{}", r.text().await.unwrap());

    let mut p = Publisher::connect(&node.whip("cam"), None, PublishOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    send_frames(&mut p, 0, 10, 30, 30, true).await;

    let t = Instant::now();
    let r =
        h.post(node.url("/api/record/cam")).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(500), "starting must not wait for media");
    let started: serde_json::Value = r.json().await.unwrap();
    let mpd_path = started["mpd_path"].as_str().unwrap().to_string();
    assert!(mpd_path.starts_with("cam/") && mpd_path.ends_with("/manifest.mpd"), "{started}");
    // A second start returns the same recording.
    let again: serde_json::Value = h.post(node.url("/api/record/cam")).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["record_id"], started["record_id"]);
    let st: serde_json::Value = h.get(node.url("/api/record/cam")).send().await.unwrap().json().await.unwrap();
    assert_eq!(st["recording"], true);

    // ~4 s of media, keyframe every second.
    send_frames(&mut p, 10, 120, 30, 30, true).await;
    assert_eq!(h.delete(node.url("/api/record/cam")).send().await.unwrap().status(), 200);
    let st: serde_json::Value = h.get(node.url("/api/record/cam")).send().await.unwrap().json().await.unwrap();
    assert_eq!(st["recording"], false);

    // The mover empties the spool into storage; the manifest is final.
    let mpd_file = storage.join(&mpd_path);
    common::wait_until("final manifest in storage", Duration::from_secs(20), || {
        let f = mpd_file.clone();
        async move { std::fs::read_to_string(&f).is_ok_and(|s| s.contains("type=\"static\"")) }
    })
    .await;
    let stored = files(&storage);
    // VP8 video is stored as WebM segments (Chromium's MSE has no VP8-in-MP4), audio as fMP4.
    let segs: Vec<_> = stored
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "m4s" || e == "webm"))
        .filter(|p| !p.to_string_lossy().contains("init"))
        .collect();
    assert!(segs.len() >= 3, "expected several segments, got {stored:?}");
    assert!(stored.iter().any(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains("init"))), "{stored:?}");

    // Journal: one Completed session with the segments and duration.
    let days: serde_json::Value = h.get(node.url("/api/playback/cam")).send().await.unwrap().json().await.unwrap();
    assert_eq!(days[0]["mpd_path"], mpd_path.as_str(), "{days}");
    let list: serde_json::Value = h.get(node.url("/api/playback")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list, serde_json::json!(["cam"]));
    let journal = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "Completed", "{journal}");
    assert!(last["segments"].as_u64().unwrap() >= 3 && last["durationMs"].as_u64().unwrap() >= 2500, "{last}");

    // Objects: whole, Range, 416, content types; traversal rejected.
    let seg =
        *segs.iter().find(|p| p.file_name().unwrap().to_string_lossy().starts_with("v_")).expect("a video segment");
    let rel = seg.strip_prefix(&storage).unwrap().to_str().unwrap().to_string();
    let full = std::fs::read(seg).unwrap();
    let r = h.get(node.url(&format!("/api/record/object/{rel}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/webm");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &full[..]);
    let r = h.get(node.url(&format!("/api/record/object/{rel}"))).header("range", "bytes=4-11").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"].to_str().unwrap(), format!("bytes 4-11/{}", full.len()));
    assert_eq!(r.bytes().await.unwrap().as_ref(), &full[4..12]);
    let r = h.get(node.url(&format!("/api/record/object/{rel}"))).header("range", "bytes=-5").send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), &full[full.len() - 5..]);
    let r = h
        .get(node.url(&format!("/api/record/object/{rel}")))
        .header("range", format!("bytes={}-", full.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    let r = h.get(node.url(&format!("/api/record/object/{mpd_path}"))).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/dash+xml");
    std::fs::write(dir.join("secret.txt"), "top secret").unwrap();
    // Raw requests: HTTP client libraries would normalize `..` away before sending.
    for bad in [
        "../secret.txt",
        "..%2Fsecret.txt",
        "%2E%2E/secret.txt",
        "%2Fetc%2Fpasswd",
        "cam/../../secret.txt",
        "cam/..%2F..%2Fsecret.txt",
        "..%5Csecret.txt",
        "cam%00x",
        "cam//x",
    ] {
        let (st, body) = raw_get(node.node.http_addr, &format!("/api/record/object/{bad}")).await;
        assert!(st == 400 || st == 404, "{bad}: {st} {body}");
        assert!(!body.contains("top secret"), "{bad} leaked");
    }

    // Export of the day: one MP4 (ftyp first), Content-Length matches.
    let parts: Vec<&str> = mpd_path.split('/').collect();
    let r = h
        .get(node.url(&format!("/api/record/export/cam/{}/{}/{}", parts[1], parts[2], parts[3])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let len: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let mp4 = r.bytes().await.unwrap();
    assert_eq!(mp4.len(), len);
    assert_eq!(&mp4[4..8], b"ftyp");
    let r = h.get(node.url("/api/record/export/cam/2025/13/01")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = h.get(node.url("/api/record/export/cam/2001/01/01")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let _ = p.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_off_without_a_recorder_section() {
    let node = common::start().await;
    let r = node.http.post(node.url("/api/record/x")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("[recorder]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finalizes_running_recordings() {
    let dir = temp_dir("shutdown");
    let storage = dir.join("storage");
    let node = common::start_with(|c| {
        c.recorder = Some(recorder_config(&dir, &storage, &["auto-*"]));
    })
    .await;
    // `auto_streams` starts it when the publisher arrives.
    let mut p = Publisher::connect(&node.whip("auto-1"), None, PublishOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    send_frames(&mut p, 0, 75, 30, 30, true).await;
    let st: serde_json::Value =
        node.http.get(node.url("/api/record/auto-1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(st["recording"], true, "auto_streams did not start the recording");
    node.node.shutdown().await;
    let journal = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "Completed", "{journal}");
    let mpd = std::fs::read_to_string(storage.join(last["mpdPath"].as_str().unwrap())).unwrap();
    assert!(mpd.contains("type=\"static\""), "{mpd}");
    let _ = p.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
