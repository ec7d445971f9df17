//! Shared fixtures for the integration tests.
#![allow(dead_code)]

pub const CHROME_WHIP: &str = include_str!("../fixtures/chrome_whip_simulcast.sdp");
pub const CHROME_WHEP: &str = include_str!("../fixtures/chrome_whep_recvonly.sdp");
pub const AIORTC: &str = include_str!("../fixtures/aiortc_sendrecv.sdp");
pub const OBS: &str = include_str!("../fixtures/obs_libdatachannel_whip.sdp");
pub const FIREFOX: &str = include_str!("../fixtures/firefox_whip_datachannel.sdp");
/// GStreamer 1.22 webrtcbin (bundle-policy max-bundle): the video section is
/// `m=video 0` + `a=bundle-only`; Opus without channels in the WHEP offer.
pub const GST_WHIP_VP8: &str = include_str!("../fixtures/gstreamer_webrtcbin_whip_vp8.sdp");
pub const GST_WHIP_H264: &str = include_str!("../fixtures/gstreamer_webrtcbin_whip_h264.sdp");
pub const GST_WHEP: &str = include_str!("../fixtures/gstreamer_webrtcbin_whep.sdp");

pub const ALL_OFFERS: [&str; 8] =
    [CHROME_WHIP, CHROME_WHEP, AIORTC, OBS, FIREFOX, GST_WHIP_VP8, GST_WHIP_H264, GST_WHEP];

/// The fixture with CRLF line endings, as browsers send it.
pub fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

/// A valid session header followed by `body` (LF endings).
pub fn offer_with(body: &str) -> String {
    format!("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n{body}")
}
