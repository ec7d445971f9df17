//! Shared fixtures for the integration tests.
#![allow(dead_code)]

pub const CHROME_WHIP: &str = include_str!("../fixtures/chrome_whip_simulcast.sdp");
pub const CHROME_WHEP: &str = include_str!("../fixtures/chrome_whep_recvonly.sdp");
pub const AIORTC: &str = include_str!("../fixtures/aiortc_sendrecv.sdp");
pub const OBS: &str = include_str!("../fixtures/obs_libdatachannel_whip.sdp");
pub const FIREFOX: &str = include_str!("../fixtures/firefox_whip_datachannel.sdp");

pub const ALL_OFFERS: [&str; 5] = [CHROME_WHIP, CHROME_WHEP, AIORTC, OBS, FIREFOX];

/// The fixture with CRLF line endings, as browsers send it.
pub fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

/// A valid session header followed by `body` (LF endings).
pub fn offer_with(body: &str) -> String {
    format!("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n{body}")
}
