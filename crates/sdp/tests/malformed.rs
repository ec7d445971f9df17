//! Every reject rule, with the line it points at and a helpful message.

mod common;

use common::*;
use wishcast_sdp::{MAX_LINE_LEN, OfferInfo, SdpError};

#[track_caller]
fn reject(input: &str, line: Option<usize>, needle: &str) -> SdpError {
    let e = OfferInfo::parse(input).expect_err("offer should be rejected");
    assert_eq!(e.line(), line, "wrong line for: {e}");
    assert!(e.to_string().contains(needle), "`{e}` does not contain `{needle}`");
    assert!(e.to_string().len() < 600, "message too long: {e}");
    e
}

const AUDIO: &str = "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:0\na=rtpmap:111 opus/48000/2\n";

#[test]
fn empty_input() {
    for input in ["", "\n", "\r\n\r\n", "   \t  "] {
        reject(input, None, "the SDP offer is empty");
    }
}

#[test]
fn must_start_with_v0() {
    reject("o=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n", Some(1), "must start with `v=0`");
    reject(&format!("a=x\n{}", offer_with(AUDIO)), Some(1), "must start with `v=0`");
    reject(&offer_with(AUDIO).replacen("v=0", "v=1", 1), Some(1), "unsupported SDP version `v=1`");
    reject(&offer_with(AUDIO).replacen("v=0", "v=0 0", 1), Some(1), "unsupported SDP version");
    reject(&offer_with(AUDIO).replacen("v=0", "V=0", 1), Some(1), "lower-case");
}

#[test]
fn lines_must_be_letter_equals_value() {
    reject(&offer_with(&format!("{AUDIO}hello world\n")), Some(8), "expected `<letter>=<value>`, got `hello world`");
    reject(&offer_with(&format!("{AUDIO}a:mid=0\n")), Some(8), "expected `<letter>=<value>`");
    reject(&offer_with(&format!("{AUDIO}=\n")), Some(8), "expected `<letter>=<value>`");
    reject(&offer_with(&format!("{AUDIO} a=mid:1\n")), Some(8), "leading whitespace");
    reject(&offer_with(&format!("{AUDIO}x=foo\n")), Some(8), "unknown SDP line type `x=`");
    reject(&offer_with(&format!("{AUDIO}\u{1F600}=foo\n")), Some(8), "expected `<letter>=<value>`");
}

#[test]
fn blank_lines_and_control_characters() {
    reject(&offer_with(&format!("\n{AUDIO}")), Some(5), "empty line inside the SDP");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\0\n"), Some(6), "U+0000");
    reject("v=0\ro=- 1 2 IN IP4 127.0.0.1\rs=-\rt=0 0\r", Some(1), "carriage return");
    reject(&crlf(&offer_with(AUDIO)).replace("\r\n", "\n\r"), Some(2), "carriage return");
}

#[test]
fn line_too_long() {
    let long = format!("a=x-pad:{}\n", "y".repeat(MAX_LINE_LEN));
    let e = reject(&offer_with(&format!("{AUDIO}{long}")), Some(8), "the limit is 4096");
    assert!(e.to_string().contains("starts with `a=x-pad:yyy"), "{e}");
    // Exactly at the limit is fine, even with a CRLF after it.
    let at_limit = format!("a=x-pad:{}\r\n", "y".repeat(MAX_LINE_LEN - 8));
    OfferInfo::parse(&offer_with(&format!("{AUDIO}{at_limit}"))).unwrap();
}

#[test]
fn session_header() {
    reject("v=0\n", None, "expected `o=<username>");
    reject("v=0\ns=-\nt=0 0\n", Some(2), "expected `o=<username>");
    reject("v=0\no=- 1 2 IN IP4 127.0.0.1\nt=0 0\n", Some(3), "expected `s=<session name>`");
    reject("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nm=audio 9 UDP/TLS/RTP/SAVPF 0\n", Some(4), "expected `t=0 0`");
    reject("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\n", None, "expected `t=0 0`");
    reject("v=0\no=- one 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n", Some(2), "sess-id");
    reject("v=0\no=- 18446744073709551616 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n", Some(2), "fits 64 bits");
    reject("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=1 2\n", Some(4), "`t=0 0`");
    reject("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\na=group:BUNDLE 0\nt=0 0\n", Some(5), "out of order");
}

#[test]
fn no_media_sections() {
    reject(
        &offer_with(""),
        None,
        "offer has no m= section; a WHIP/WHEP offer needs at least one audio or video m-line",
    );
    reject(&offer_with("a=group:BUNDLE\n"), None, "offer has no m= section");
    reject(
        &offer_with("m=text 9 UDP/TLS/RTP/SAVPF 98\na=mid:0\na=rtpmap:98 t140/1000\nm=message 9 UDP/DTLS/SCTP x\n"),
        None,
        "found only `m=text`, `m=message`",
    );
}

#[test]
fn too_many_sections() {
    let body: String = (0..65).map(|i| format!("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:{i}\n")).collect();
    reject(&offer_with(&body), Some(5 + 64 * 2), "too many m= sections: at most 64");
}

#[test]
fn bad_m_lines() {
    reject(&offer_with("m=video\n"), Some(5), "expected `m=<media> <port> <proto> <fmt...>`, got `m=video`");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF\n"), Some(5), "expected `m=<media> <port> <proto> <fmt...>`");
    reject(&offer_with("m=\n"), Some(5), "got `m=`");
    reject(&offer_with("m=video nine UDP/TLS/RTP/SAVPF 96\n"), Some(5), "bad port `nine`");
    reject(&offer_with("m=video 70000 UDP/TLS/RTP/SAVPF 96\n"), Some(5), "bad port `70000`");
    reject(&offer_with("m=video 99999999999999999999999999 UDP/TLS/RTP/SAVPF 96\n"), Some(5), "bad port");
    reject(&offer_with("m=video 9 RTP/AVP 96\n"), Some(5), "needs `UDP/TLS/RTP/SAVPF`");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVP 96\n"), Some(5), "needs `UDP/TLS/RTP/SAVPF`");
    reject(&offer_with("m=application 9 SCTP webrtc-datachannel\n"), Some(5), "need `UDP/DTLS/SCTP`");
    reject(&offer_with("m=text 9 T140 98\n"), Some(5), "unknown transport `T140`");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF VP8\n"), Some(5), "payload type `VP8`");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF 200\n"), Some(5), "payload type `200`");
    reject(&offer_with("m=vidéo 9 UDP/TLS/RTP/SAVPF 96\n"), Some(5), "bad media type");
}

#[test]
fn bad_rtpmaps_and_fmtps() {
    let m = "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:0\n";
    reject(&offer_with(&format!("{m}a=rtpmap:opus 111/48000\n")), Some(7), "payload type must be a number 0-127");
    reject(&offer_with(&format!("{m}a=rtpmap:1111 opus/48000/2\n")), Some(7), "payload type must be a number");
    reject(&offer_with(&format!("{m}a=rtpmap:111 opus/fast/2\n")), Some(7), "clock rate");
    reject(&offer_with(&format!("{m}a=rtpmap:111 opus/0/2\n")), Some(7), "clock rate");
    reject(&offer_with(&format!("{m}a=rtpmap:111 opus/48000000000/2\n")), Some(7), "clock rate");
    reject(&offer_with(&format!("{m}a=rtpmap:111 opus\n")), Some(7), "missing clock rate");
    reject(&offer_with(&format!("{m}a=rtpmap:111\n")), Some(7), "missing encoding");
    reject(&offer_with(&format!("{m}a=rtpmap\n")), Some(7), "missing encoding");
    reject(
        &offer_with(&format!("{m}a=rtpmap:111 opus/48000/2\na=rtpmap:111 opus/48000/2\n")),
        Some(8),
        "duplicate `a=rtpmap:111`",
    );
    reject(&offer_with(&format!("{m}a=rtpmap:111 opus/48000/2\na=fmtp:opus x=1\n")), Some(8), "a=fmtp:<payload type>");
    reject(
        &offer_with(&format!("{m}a=rtpmap:111 opus/48000/2\na=fmtp:111 a=1\na=fmtp:111 b=2\n")),
        Some(9),
        "duplicate `a=fmtp:111`",
    );
    reject(
        &offer_with(
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97\na=mid:0\na=rtpmap:96 VP8/90000\na=rtpmap:97 rtx/90000\na=fmtp:97 apt=vp8\n",
        ),
        Some(9),
        "`apt=vp8`",
    );
}

#[test]
fn payload_type_without_rtpmap() {
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:0\n"), Some(5), "no `a=rtpmap:96");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0 18\na=mid:0\n"), Some(5), "lists payload type 18");
}

#[test]
fn mids_directions_rids() {
    reject(
        &offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\nm=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\n"),
        Some(7),
        "already used by the m-section at line 5",
    );
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\na=mid:1\n"), Some(7), "already has `a=mid:0`");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:\n"), Some(6), "non-empty token");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:a b\n"), Some(6), "non-empty token");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=sendonly\na=recvonly\n"), Some(7), "more than one direction");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=sendonly\na=sendonly\n"), Some(7), "more than one direction");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF 0\na=rid:h\n"), Some(6), "missing direction");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF 0\na=rid:h sendonly\n"), Some(6), "`send` or `recv`");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF 0\na=rid:h.1 send\n"), Some(6), "letters, digits");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF 0\na=rid:h send\na=rid:h send\n"), Some(7), "duplicate rid");
    reject(&offer_with("m=video 9 UDP/TLS/RTP/SAVPF 0\na=simulcast:\n"), Some(6), "a=simulcast:send h;m;l");
}

#[test]
fn media_section_line_order() {
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\nt=0 0\n"), Some(7), "session-level line");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\nc=IN IP4 0.0.0.0\n"), Some(7), "out of order");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\ni=a\ni=b\n"), Some(7), "duplicate `i=`");
}

#[test]
fn bad_candidates_in_offer() {
    let m = "m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\n";
    for (cand, needle) in [
        ("a=candidate:1 1 udp 2122260223 10.0.0.1 5000 typ", "found 7"),
        ("a=candidate:1 1 udp 2122260223 10.0.0.1", "found 5"),
        ("a=candidate:", "found 0"),
        ("a=candidate", "must be `candidate:`"),
        ("a=candidate:1 1 udp 99999999999 10.0.0.1 5000 typ host", "priority"),
        ("a=candidate:1 1 udp 1 10.0.0.1 5000 kind host", "`typ`"),
        ("a=candidate:1 1 udp 1 10.0.0.1 5000 typ local", "host, srflx, prflx or relay"),
    ] {
        reject(&offer_with(&format!("{m}{cand}\n")), Some(7), needle);
    }
    reject(&format!("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\na=candidate:x\n{m}"), Some(5), "malformed candidate");
}

#[test]
fn bad_ice_credentials() {
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=ice-ufrag:\n"), Some(6), "`a=ice-ufrag` has no value");
    reject(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=ice-pwd:has space\n"), Some(6), "without spaces");
}

#[test]
fn every_fixture_truncated_mid_line_is_handled() {
    // Cutting an offer at every char boundary must never panic, and cutting
    // inside an m= line or an rtpmap must be reported.
    for fixture in ALL_OFFERS {
        for (i, _) in fixture.char_indices() {
            let _ = OfferInfo::parse(fixture.get(..i).unwrap_or(""));
        }
    }
    let cut = CHROME_WHIP.split("m=video 9 UDP").next().unwrap_or("");
    let e = OfferInfo::parse(&format!("{cut}m=video 9 UDP")).unwrap_err();
    assert!(e.to_string().contains("expected `m=<media> <port> <proto> <fmt...>`"), "{e}");
}

#[test]
fn errors_display_and_are_std_errors() {
    let e = OfferInfo::parse("nonsense").unwrap_err();
    assert_eq!(e.to_string(), "line 1: expected `<letter>=<value>`, got `nonsense`");
    assert_eq!(e.message(), "expected `<letter>=<value>`, got `nonsense`");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    assert!(boxed.to_string().starts_with("line 1"));
}
