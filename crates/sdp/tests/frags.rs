//! trickle-ice-sdpfrag (RFC 8840) bodies.

mod common;

use common::crlf;
use wishcast_sdp::{FragSection, SdpFrag};

const RFC8840: &str = include_str!("fixtures/rfc8840_frag.sdpfrag");
const WHIP: &str = include_str!("fixtures/whip_trickle_frag.sdpfrag");

fn parse(s: &str) -> SdpFrag {
    let lf = SdpFrag::parse(s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(SdpFrag::parse(&crlf(s)).unwrap(), lf);
    lf
}

#[test]
fn rfc8840_example() {
    let f = parse(RFC8840);
    assert_eq!(f.ice_ufrag.as_deref(), Some("EsAw"), "media-level ufrag is used when there is no session one");
    assert_eq!(f.ice_pwd.as_deref(), Some("P2uYro0UCOQ4zxjKXaWCBui1"));
    assert_eq!(f.sections.len(), 1);
    let s = &f.sections[0];
    assert_eq!(s.mid.as_deref(), Some("0"));
    assert_eq!(s.candidates.len(), 4);
    assert!(s.candidates.iter().all(|c| c.starts_with("candidate:")));
    assert_eq!(
        s.candidates[2],
        "candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0 ufrag EsAw network-id 1"
    );
    assert!(s.end_of_candidates);
}

#[test]
fn whip_patch_with_two_sections() {
    let f = parse(WHIP);
    assert_eq!(f.ice_ufrag.as_deref(), Some("Jq8x"));
    assert_eq!(f.ice_pwd.as_deref(), Some("mXhQ1pWb4Y8Jr0PGGz9E5bQn"));
    assert_eq!(f.sections.len(), 2);
    assert_eq!(f.sections[0].mid.as_deref(), Some("0"));
    assert_eq!(f.sections[0].candidates.len(), 2);
    assert!(!f.sections[0].end_of_candidates);
    assert_eq!(f.sections[1].mid.as_deref(), Some("1"));
    assert!(f.sections[1].end_of_candidates);
    let all: Vec<(Option<&str>, &str)> = f.candidates().collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].0, Some("1"));
}

#[test]
fn candidates_before_any_m_line_have_no_mid() {
    let f =
        parse("a=candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host\na=candidate:2 1 udp 1 10.0.0.2 5001 typ host\n");
    assert_eq!(
        f.sections,
        [FragSection {
            mid: None,
            candidates: vec![
                "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host".into(),
                "candidate:2 1 udp 1 10.0.0.2 5001 typ host".into()
            ],
            end_of_candidates: false,
        }]
    );
    assert_eq!((f.ice_ufrag, f.ice_pwd), (None, None));
}

#[test]
fn mid_forms_and_mid_without_m_line() {
    for mid in ["0", "audio", "video0", "sdparta_1", "{abc}"] {
        let f =
            parse(&format!("m=video 9 UDP/TLS/RTP/SAVPF 0\na=mid:{mid}\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\n"));
        assert_eq!(f.sections[0].mid.as_deref(), Some(mid));
    }
    // a=mid without an m= line names the following candidates.
    let f = parse(
        "a=ice-ufrag:abcd\na=mid:0\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\na=mid:1\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\na=end-of-candidates\n",
    );
    let mids: Vec<Option<&str>> = f.sections.iter().map(|s| s.mid.as_deref()).collect();
    assert_eq!(mids, [Some("0"), Some("1")]);
    assert!(!f.sections[0].end_of_candidates && f.sections[1].end_of_candidates);
    // Candidates first, then a mid: the mid starts a new group.
    let f = parse("a=candidate:1 1 udp 1 10.0.0.1 9 typ host\na=mid:v\na=candidate:2 1 udp 1 10.0.0.1 9 typ host\n");
    let mids: Vec<Option<&str>> = f.sections.iter().map(|s| s.mid.as_deref()).collect();
    assert_eq!(mids, [None, Some("v")]);
}

#[test]
fn m_lines_of_any_shape_start_sections() {
    let f = parse("m=audio 0 RTP/AVP 0\na=mid:0\nm=video\nm=whatever 1 2 3\na=mid:x\n");
    assert_eq!(f.sections.len(), 3);
    assert_eq!(f.sections[1], FragSection::default());
    assert_eq!(f.sections[2].mid.as_deref(), Some("x"));
}

#[test]
fn session_credentials_win_and_restart_only() {
    let f =
        parse("a=ice-ufrag:new1\na=ice-pwd:newpasswordnewpassword1\nm=audio 9 RTP/AVP 0\na=mid:0\na=ice-ufrag:media\n");
    assert_eq!(f.ice_ufrag.as_deref(), Some("new1"));
    assert_eq!(f.ice_pwd.as_deref(), Some("newpasswordnewpassword1"));
    assert!(f.sections[0].candidates.is_empty());
}

#[test]
fn end_of_candidates_alone() {
    let f = parse("a=end-of-candidates\n");
    assert_eq!(f.sections, [FragSection { mid: None, candidates: vec![], end_of_candidates: true }]);
    let f = parse("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\na=end-of-candidates\r\n");
    assert!(f.sections[0].end_of_candidates);
}

#[test]
fn unknown_lines_are_ignored() {
    let f = parse(
        "a=ice-options:trickle\na=group:BUNDLE 0\na=x-foo\na=fingerprint:sha-256 AB\nc=IN IP4 0.0.0.0\nm=audio 9 RTP/AVP 0\nb=AS:1\na=rtpmap:nonsense\na=mid:0\n",
    );
    assert_eq!(f.sections.len(), 1);
    assert_eq!(f.sections[0].mid.as_deref(), Some("0"));
}

#[test]
fn trailing_whitespace_and_lines() {
    let f = parse("a=candidate:1 1 udp 1 10.0.0.1 9 typ host \t\r\n\r\n\n");
    assert_eq!(f.sections[0].candidates, ["candidate:1 1 udp 1 10.0.0.1 9 typ host"]);
}

#[test]
fn rejects() {
    for (input, line, needle) in [
        ("", None, "trickle-ice-sdpfrag is empty"),
        ("\r\n", None, "trickle-ice-sdpfrag is empty"),
        ("candidate:1 1 udp 1 10.0.0.1 9 typ host", Some(1), "expected `<letter>=<value>`"),
        ("a=candidate:1 1 udp 1 10.0.0.1 9 typ", Some(1), "at least 8"),
        ("a=candidate:1 1 udp 1 10.0.0.1 9 host", Some(1), "at least 8"),
        ("a=candidate:1 1 udp 1 10.0.0.1 99999 typ host", Some(1), "port `99999`"),
        ("a=mid:0\n\na=candidate:1 1 udp 1 10.0.0.1 9 typ host", Some(2), "empty line"),
        ("m=audio 9 RTP/AVP 0\na=mid:0\na=mid:1\n", Some(3), "second `a=mid`"),
        ("a=mid:\n", Some(1), "non-empty token"),
        ("a=ice-ufrag:\n", Some(1), "has no value"),
        ("a=ice-pwd:a b\n", Some(1), "without spaces"),
        ("y=1\n", Some(1), "unknown SDP line type"),
    ] {
        let e = SdpFrag::parse(input).expect_err(input);
        assert_eq!(e.line(), line, "{input:?}: {e}");
        assert!(e.to_string().contains(needle), "{input:?}: {e}");
    }
    let long = format!("a=candidate:1 1 udp 1 {} 9 typ host", "h".repeat(5000));
    assert!(SdpFrag::parse(&long).unwrap_err().to_string().contains("limit is 4096"));
    let many: String = (0..65).map(|i| format!("m=audio 9 RTP/AVP 0\na=mid:{i}\n")).collect();
    assert_eq!(SdpFrag::parse(&many).unwrap_err().line(), Some(129));
    let ok: String = (0..64).map(|i| format!("m=audio 9 RTP/AVP 0\na=mid:{i}\n")).collect();
    assert_eq!(SdpFrag::parse(&ok).unwrap().sections.len(), 64);
}

#[test]
fn a_full_offer_is_also_a_valid_frag() {
    // Some clients PATCH with a whole SDP; its candidates are still found.
    let f = SdpFrag::parse(common::AIORTC).unwrap();
    assert_eq!(f.sections.len(), 3);
    assert_eq!(f.candidates().count(), 6);
    assert!(f.sections.iter().all(|s| s.end_of_candidates));
    assert_eq!(f.ice_ufrag.as_deref(), Some("K3vq"));
}

#[test]
fn section_limit_counts_mid_groups_too() {
    let groups: String = (0..65).map(|i| format!("a=mid:{i}\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\n")).collect();
    let e = SdpFrag::parse(&groups).unwrap_err();
    assert_eq!(e.line(), Some(129));
    assert!(e.to_string().contains("too many sections"), "{e}");
    let lead: String = format!(
        "a=candidate:1 1 udp 1 10.0.0.1 9 typ host\n{}",
        (0..64).map(|i| format!("m=audio 9 RTP/AVP 0\na=mid:{i}\n")).collect::<String>()
    );
    assert!(SdpFrag::parse(&lead).is_err());
}
