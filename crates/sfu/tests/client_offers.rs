//! Real clients' offers, negotiated by the sans-IO `Sfu`: every m-section the
//! client bundles gets a usable answer (issue 11). Fixtures live in
//! crates/sdp/tests/fixtures.

use std::sync::Arc;
use std::time::Instant;

use wishcast_sfu::Metrics;
use wishcast_sfu::{Sfu, SfuConfig};

const GST_WHIP_VP8: &str = include_str!("../../sdp/tests/fixtures/gstreamer_webrtcbin_whip_vp8.sdp");
const GST_WHIP_H264: &str = include_str!("../../sdp/tests/fixtures/gstreamer_webrtcbin_whip_h264.sdp");
const GST_WHEP: &str = include_str!("../../sdp/tests/fixtures/gstreamer_webrtcbin_whep.sdp");

fn new_sfu(now: Instant) -> Sfu {
    let cfg = SfuConfig { udp_candidates: vec!["10.0.0.1:7777".parse().unwrap()], ..Default::default() };
    Sfu::new(cfg, now, 1_700_000_000_000, Arc::new(Metrics::default()))
}

/// The answer's m= lines with their mid, e.g. `("video1", "m=video 9 UDP/TLS/RTP/SAVPF 96")`.
fn sections(sdp: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in sdp.lines() {
        if l.starts_with("m=") {
            out.push((String::new(), l.to_string()));
        } else if let (Some(mid), Some(last)) = (l.strip_prefix("a=mid:"), out.last_mut()) {
            last.0 = mid.to_string();
        }
    }
    out
}

fn bundle(sdp: &str) -> String {
    sdp.lines().find_map(|l| l.strip_prefix("a=group:BUNDLE ")).unwrap_or("").to_string()
}

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

/// webrtcbin's `m=video 0` + `a=bundle-only` section is part of the bundle:
/// the answer must accept it (non-zero port, its codec) and bundle it.
#[test]
fn gstreamer_bundle_only_video_is_accepted_on_whip() {
    for (offer, codec) in [(GST_WHIP_VP8, "96"), (GST_WHIP_H264, "102")] {
        let now = Instant::now();
        let mut sfu = new_sfu(now);
        let a = sfu.publish(now, "s", &crlf(offer), None).expect("publish accepted");
        assert_eq!(bundle(&a.sdp), "audio0 video1", "answer:\n{}", a.sdp);
        let s = sections(&a.sdp);
        assert_eq!(s.len(), 2, "answer:\n{}", a.sdp);
        assert_eq!(s[0].0, "audio0");
        assert_eq!(s[0].1, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "answer:\n{}", a.sdp);
        assert_eq!(s[1].0, "video1");
        assert_eq!(s[1].1, format!("m=video 9 UDP/TLS/RTP/SAVPF {codec}"), "answer:\n{}", a.sdp);
        assert!(a.sdp.contains(&format!("a=rtpmap:{codec} ")), "answer:\n{}", a.sdp);
        assert!(a.sdp.contains("a=recvonly"), "answer:\n{}", a.sdp);
    }
}

#[test]
fn gstreamer_bundle_only_video_is_accepted_on_whep() {
    let now = Instant::now();
    let mut sfu = new_sfu(now);
    sfu.publish(now, "s", &crlf(GST_WHIP_VP8), None).expect("publish accepted");
    let a = sfu.subscribe(now, "s", &crlf(GST_WHEP), None).expect("subscribe accepted");
    assert_eq!(bundle(&a.sdp), "audio0 video1", "answer:\n{}", a.sdp);
    let s = sections(&a.sdp);
    assert_eq!(s[0].1, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "answer:\n{}", a.sdp);
    assert_eq!(s[1].1, "m=video 9 UDP/TLS/RTP/SAVPF 96", "answer:\n{}", a.sdp);
    assert!(a.sdp.contains("a=sendonly"), "answer:\n{}", a.sdp);
}

/// A port-0 section without `a=bundle-only` (or outside the BUNDLE group) is
/// still rejected, and the rest of the offer is answered.
#[test]
fn port_zero_without_bundle_only_stays_rejected() {
    let offer = GST_WHIP_VP8.replace("a=bundle-only\n", "");
    let now = Instant::now();
    let mut sfu = new_sfu(now);
    let a = sfu.publish(now, "s", &crlf(&offer), None).expect("publish accepted");
    let s = sections(&a.sdp);
    assert_eq!(s[0].1, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "answer:\n{}", a.sdp);
    assert!(s[1].1.starts_with("m=video 0 "), "answer:\n{}", a.sdp);
    assert_eq!(bundle(&a.sdp), "audio0", "answer:\n{}", a.sdp);
}
