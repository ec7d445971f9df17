//! Interop with GStreamer 1.22's webrtcbin (issue 11): webrtcbin publishes
//! (WHIP) VP8 or H.264 plus an Opus tone and an independent aiortc viewer
//! decodes the frames and hears the tone's frequency; and webrtcbin plays
//! (WHEP) a stream an aiortc publisher sends, decoding frames and measuring
//! the tone. webrtcbin offers `BUNDLE audio0 video1` with `m=video 0` +
//! `a=bundle-only`, writes `OPUS/48000` without channels in its WHEP offers,
//! and authenticates DTLS with an RSA-2048 certificate: each used to break
//! the session.
//!
//! libnice never gathers loopback candidates, so the GStreamer client runs in
//! a network namespace the test creates, joined by a veth pair; the node
//! listens on the host end (10.200.N.1). Needs root, iproute2, GStreamer with
//! python bindings (tests/gstreamer/webrtcbin.py runs on /usr/bin/python3 or
//! `WISHCAST_GST_PYTHON`) and aiortc: `scripts/install-test-deps`. Missing
//! dependencies make these tests FAIL, never skip.

mod common;

use std::process::Command;
use std::time::Duration;

use common::bg::Bg;
use common::netns::Netns;
use common::{INSTALL_HINT, Node, python, repo_root, require_aiortc, run_script, serial};

/// Python with the GStreamer bindings (Debian's, not a pyenv one).
fn gst_python() -> String {
    std::env::var("WISHCAST_GST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_string())
}

/// Panics (the test FAILS) unless webrtcbin and the elements the client uses load.
fn require_gstreamer() {
    let check = "import gi\n\
        gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0'); gi.require_version('GstSdp', '1.0')\n\
        from gi.repository import Gst, GstWebRTC, GstSdp\n\
        Gst.init(None)\n\
        need = ['webrtcbin', 'nicesrc', 'dtlssrtpenc', 'srtpenc', 'vp8enc', 'vp8dec', 'x264enc', 'avdec_h264', \
                'opusenc', 'opusdec', 'rtpvp8pay', 'rtph264pay', 'rtpopuspay', 'decodebin', 'videotestsrc', 'audiotestsrc']\n\
        missing = [e for e in need if Gst.ElementFactory.find(e) is None]\n\
        assert not missing, 'missing GStreamer elements: ' + ', '.join(missing)\n";
    match Command::new(gst_python()).args(["-c", check]).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "GStreamer/webrtcbin not usable from `{}`: {}; {INSTALL_HINT}",
            gst_python(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run `{}`: {e}; {INSTALL_HINT}", gst_python()),
    }
}

/// A node whose HTTP and UDP media listeners are on the veth's host end.
fn node_on(ns: &Netns) -> Node {
    Node::start(&format!(
        "[http]\nlisten = \"{ip}:0\"\ncors = true\n\n[webrtc]\nlisten = \"{ip}:0\"\ntcp_listen = \"\"\n",
        ip = ns.host_ip
    ))
}

fn webrtcbin(ns: &Netns, args: &[&str]) -> Command {
    let root = repo_root();
    let mut c = ns.command(&gst_python());
    c.current_dir(&root).arg(root.join("tests/gstreamer/webrtcbin.py")).args(args);
    c
}

fn aiortc(args: &[&str]) -> Command {
    let root = repo_root();
    let mut c = Command::new(python());
    c.current_dir(&root).arg(root.join("tests/gstreamer/aiortc_peer.py")).args(args);
    c
}

/// webrtcbin's payload types in most of these tests: aiortc's fixed ones (VP8
/// 97, H.264 42e01f 101, Opus 96), so that they test GStreamer interop alone.
/// webrtcbin's defaults (VP8 96, H.264 102, Opus 111), which the SFU renumbers
/// for an aiortc viewer (issue 11 item 2), are in
/// `gstreamer_publishes_vp8_own_payload_types` and the Chromium test.
fn aiortc_pts(codec: &str) -> [&'static str; 4] {
    let video = if codec == "VP8" { "97" } else { "101" };
    ["--video-pt", video, "--audio-pt", "96"]
}

/// The JSON result line a driver printed last.
fn result(out: &str) -> serde_json::Value {
    let line = out.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or("{}");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("driver printed no JSON result ({e}): {out}"))
}

fn assert_tone(what: &str, r: &serde_json::Value, hz: f64) {
    let f = r["audio_freq"].as_f64().unwrap_or_else(|| panic!("{what}: no audio frequency in {r}"));
    assert!((f - hz).abs() <= hz * 0.05, "{what}: tone {f} Hz, sent {hz} Hz: {r}");
    assert!(r["video_frames"].as_u64().unwrap_or(0) >= 60, "{what}: {r}");
}

/// webrtcbin publishes; aiortc (an independent stack) views.
fn gstreamer_publishes(codec: &str) {
    gstreamer_publishes_with(codec, true);
}

/// `aiortc_numbers`: webrtcbin uses aiortc's payload types, else its own
/// (then the SFU renumbers them for the viewer).
fn gstreamer_publishes_with(codec: &str, aiortc_numbers: bool) {
    let _g = serial();
    require_gstreamer();
    require_aiortc();
    let ns = Netns::create("gst");
    let node = node_on(&ns);
    let stream = format!("gst-pub-{}", codec.to_ascii_lowercase());
    let whip = format!("{}/whip/{stream}", node.url);
    let whep = format!("{}/whep/{stream}", node.url);

    let pts = aiortc_pts(codec);
    let mut args = vec!["publish", &whip, "--codec", codec, "--freq", "440", "--seconds", "12"];
    if aiortc_numbers {
        args.extend(pts);
    }
    let mut publisher = Bg::spawn("webrtcbin publisher", webrtcbin(&ns, &args));
    if !publisher.wait_for_line("connection-state connected", Duration::from_secs(25)) {
        panic!("webrtcbin did not connect to the node\n{}\n{}", publisher.logs(), node.logs());
    }
    let out = run_script(
        &format!("aiortc viewer of webrtcbin {codec}"),
        aiortc(&["play", &whep, "--codec", codec, "--frames", "60", "--expect-freq", "440", "--timeout", "30"]),
        Some(&node),
        Duration::from_secs(45),
    );
    assert_tone("aiortc viewer", &result(&out), 440.0);

    let status = publisher.finish(Duration::from_secs(30));
    let r = result(&publisher.stdout());
    println!("webrtcbin publisher: {r}");
    if status.map(|s| s.success()) != Some(true) || r["ok"] != true {
        panic!("webrtcbin publisher failed ({status:?})\n{}\n{}", publisher.logs(), node.logs());
    }
    assert_eq!(r["answer_bundle"], "a=group:BUNDLE audio0 video1", "{r}");
    let mlines: Vec<&str> = r["answer_mlines"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(mlines.iter().all(|m| !m.contains(" 0 UDP")), "no rejected m-line: {mlines:?}");
    assert_eq!(r["delete_status"], 200, "{r}");
}

/// webrtcbin publishes with its own payload types (VP8 96, Opus 111, the same
/// as Chromium's); headless Chromium views, decodes and hears the tone.
#[test]
fn gstreamer_publishes_vp8_chromium_plays() {
    let _g = serial();
    require_gstreamer();
    common::require_browser_deps();
    let ns = Netns::create("gst");
    let node = node_on(&ns);
    let stream = "gst-pub-chromium";
    let whip = format!("{}/whip/{stream}", node.url);
    let mut publisher = Bg::spawn(
        "webrtcbin publisher",
        webrtcbin(&ns, &["publish", &whip, "--codec", "VP8", "--freq", "440", "--seconds", "15"]),
    );
    if !publisher.wait_for_line("connection-state connected", Duration::from_secs(25)) {
        panic!("webrtcbin did not connect to the node\n{}\n{}", publisher.logs(), node.logs());
    }
    common::browser_scenario(&node, "play", "VP8", &["--stream", stream, "--expect-tone", "440"]);
    let status = publisher.finish(Duration::from_secs(30));
    let r = result(&publisher.stdout());
    println!("webrtcbin publisher: {r}");
    if status.map(|s| s.success()) != Some(true) || r["ok"] != true {
        panic!("webrtcbin publisher failed ({status:?})\n{}\n{}", publisher.logs(), node.logs());
    }
    assert_eq!(
        r["answer_mlines"],
        serde_json::json!(["m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=video 9 UDP/TLS/RTP/SAVPF 96"])
    );
}

/// aiortc publishes; webrtcbin plays.
fn gstreamer_plays(codec: &str) {
    let _g = serial();
    require_gstreamer();
    require_aiortc();
    let ns = Netns::create("gst");
    let node = node_on(&ns);
    let stream = format!("gst-play-{}", codec.to_ascii_lowercase());
    let whip = format!("{}/whip/{stream}", node.url);
    let whep = format!("{}/whep/{stream}", node.url);

    let mut publisher = Bg::spawn(
        "aiortc publisher",
        aiortc(&["publish", &whip, "--codec", codec, "--freq", "660", "--seconds", "40"]),
    );
    if !publisher.wait_for_line("\"publishing\": true", Duration::from_secs(25)) {
        panic!("the aiortc publisher did not connect\n{}\n{}", publisher.logs(), node.logs());
    }
    let pts = aiortc_pts(codec);
    let mut args = vec!["play", &whep, "--codec", codec, "--frames", "60", "--expect-freq", "660", "--timeout", "30"];
    args.extend(pts);
    let out =
        run_script(&format!("webrtcbin viewer ({codec})"), webrtcbin(&ns, &args), Some(&node), Duration::from_secs(45));
    let r = result(&out);
    assert_eq!(r["ok"], true, "{r}");
    assert_tone("webrtcbin viewer", &r, 660.0);
    assert_eq!(r["video_size"], serde_json::json!([320, 240]), "{r}");
    assert_eq!(r["answer_bundle"], "a=group:BUNDLE audio0 video1", "{r}");
    assert_eq!(r["delete_status"], 200, "{r}");
}

#[test]
fn gstreamer_publishes_vp8() {
    gstreamer_publishes("VP8");
}

/// webrtcbin's own payload types (VP8 96, Opus 111); the aiortc viewer offers
/// VP8 97 and Opus 96.
#[test]
fn gstreamer_publishes_vp8_own_payload_types() {
    gstreamer_publishes_with("VP8", false);
}

#[test]
fn gstreamer_publishes_h264() {
    gstreamer_publishes("H264");
}

#[test]
fn gstreamer_plays_vp8() {
    gstreamer_plays("VP8");
}

#[test]
fn gstreamer_plays_h264() {
    gstreamer_plays("H264");
}
