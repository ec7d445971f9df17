//! End-to-end tests: the compiled `wishcast` binary against real WebRTC
//! clients — headless Chromium (tests/browser/e2e.mjs, via playwright-core)
//! and aiortc (tests/aiortc/e2e.py).
//!
//! Needs Chromium, Node.js + `npm ci`, and aiortc: `scripts/install-test-deps`.
//! Missing dependencies make these tests FAIL, never skip.
//! Under nextest they run one at a time (.config/nextest.toml, group `browser`).

mod common;

use common::{Node, aiortc_scenario, browser_scenario, serial};

fn browser(scenario: &str, codec: &str) {
    browser_with(common::DEFAULT_CONFIG, scenario, codec, &[]);
}

fn browser_with(config: &str, scenario: &str, codec: &str, extra: &[&str]) {
    let _g = serial();
    common::require_browser_deps();
    let node = Node::start(config);
    browser_scenario(&node, scenario, codec, extra);
}

// --- one publisher (fake camera + mic), three players -----------------------

#[test]
fn fanout_vp8() {
    browser("fanout", "VP8");
}

#[test]
fn fanout_vp9() {
    browser("fanout", "VP9");
}

#[test]
fn fanout_h264() {
    browser("fanout", "H264");
}

#[test]
fn fanout_av1() {
    browser("fanout", "AV1");
}

/// Offers are POSTed before ICE gathering completes (candidates trickled
/// with PATCH afterwards, best effort): the server's answer alone must do.
#[test]
fn fanout_vp8_offer_before_ice_gathering() {
    browser_with(common::DEFAULT_CONFIG, "fanout", "VP8", &["--no-wait-ice"]);
}

// --- session life cycle ---------------------------------------------------------

#[test]
fn early_subscribe_vp8() {
    browser("early-subscribe", "VP8");
}

/// The WHEP answer is made before the publisher's codec is known.
#[test]
fn early_subscribe_h264() {
    browser("early-subscribe", "H264");
}

#[test]
fn republish_vp8() {
    browser("republish", "VP8");
}

/// The first publisher closes its PeerConnection without DELETE: the server
/// must end that session by itself and accept the next publisher.
#[test]
fn republish_pcclose_vp8() {
    browser("republish-pcclose", "VP8");
}

/// The first publisher vanishes without DELETE; the server must notice the
/// dead peer and let a new publisher in while the player keeps its session.
#[test]
fn republish_abrupt_vp8() {
    browser("republish-abrupt", "VP8");
}

// --- transports and data ---------------------------------------------------------

#[test]
fn tcp_only_vp8() {
    let config = r#"
[http]
listen = "127.0.0.1:0"
cors = true

[webrtc]
listen = "127.0.0.1:0"
tcp_listen = "127.0.0.1:0"
advertise_udp = false
"#;
    browser_with(config, "tcp", "VP8", &[]);
}

#[test]
fn datachannel() {
    browser("datachannel", "VP8");
}

#[test]
fn join_latency_vp8() {
    browser("join-latency", "VP8");
}

// --- aiortc -------------------------------------------------------------------------

#[test]
fn aiortc_vp8() {
    let _g = serial();
    common::require_aiortc();
    let node = Node::start_default();
    aiortc_scenario(&node, "VP8", &[]);
}

#[test]
fn aiortc_h264() {
    let _g = serial();
    common::require_aiortc();
    let node = Node::start_default();
    aiortc_scenario(&node, "H264", &[]);
}

#[test]
fn aiortc_early_subscribe_vp8() {
    let _g = serial();
    common::require_aiortc();
    let node = Node::start_default();
    aiortc_scenario(&node, "VP8", &["--scenario", "early-subscribe"]);
}

#[test]
fn aiortc_early_subscribe_h264() {
    let _g = serial();
    common::require_aiortc();
    let node = Node::start_default();
    aiortc_scenario(&node, "H264", &["--scenario", "early-subscribe"]);
}
