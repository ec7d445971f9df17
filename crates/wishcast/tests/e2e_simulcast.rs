//! End-to-end tests of simulcast, per-subscriber layer control, mute and fast
//! start: the compiled `wishcast` binary against headless Chromium
//! (tests/browser/simulcast.mjs, via playwright-core).
//!
//! The node runs with `[webrtc] test_hooks = true` so the scenarios can cap a
//! subscriber's bandwidth estimate (`POST /session/{stream}/{id}/bwe_cap`).
//! Needs Chromium and Node.js + `npm ci`: `scripts/install-test-deps`.
//! Missing dependencies make these tests FAIL, never skip.
//! Under nextest they run one at a time (.config/nextest.toml, group `browser`).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Node, serial};

/// Loopback, ephemeral ports, and the test hooks on.
const CONFIG: &str = r#"
[http]
listen = "127.0.0.1:0"
cors = true

[webrtc]
listen = "127.0.0.1:0"
tcp_listen = "127.0.0.1:0"
test_hooks = true
"#;

/// `node tests/browser/simulcast.mjs --base URL --scenario NAME [extra…]`
fn simulcast(scenario: &str, extra: &[&str]) -> String {
    let _g = serial();
    common::require_browser_deps();
    let node = Node::start(CONFIG);
    let root = common::repo_root();
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg(root.join("tests/browser/simulcast.mjs"))
        .args(["--base", &node.url, "--scenario", scenario, "--timeout-s", "100"])
        .args(extra);
    if let Some(p) = common::chromium_path() {
        cmd.env("CHROMIUM_PATH", p);
    }
    common::run_script(&format!("simulcast {scenario}"), cmd, Some(&node), Duration::from_secs(110))
}

/// Chromium publishes q/h/f (1280x720 VP8). One player reaches the top layer,
/// drops to a lower one (frameWidth <= 640) when its bandwidth estimate is
/// capped to 200 kbps and returns to the top when the cap is lifted.
#[test]
fn simulcast_bwe_cap_switches_layers() {
    simulcast("bwe", &[]);
}

/// `GET/POST/DELETE /session/{stream}/{id}/layer`: forcing q, h and f changes
/// the decoded size, GET lists three layers with exactly one active, DELETE
/// stops video (audio continues), `{"encodingId": null}` resumes it.
#[test]
fn simulcast_manual_layer() {
    simulcast("manual", &[]);
}

/// `POST /session/{stream}/{id}` `{"kind", "enabled"}` stops and resumes the
/// media of one kind only.
#[test]
fn mute_per_kind() {
    simulcast("mute", &[]);
}

/// 10 sequential joins to a running VP8 publisher (right after it started,
/// then once it has run >= 5 s): WHEP POST -> first decoded frame, decoded
/// from the cached GOP without waiting for a new keyframe.
#[test]
fn fast_start_join_to_first_frame() {
    simulcast("fast-start", &["--max-median-ms", "1500"]);
}
