//! Real-world offers parse to what they ask for.

mod common;

use common::*;
use wishcast_sdp::{CodecDesc, Direction, MediaKind, OfferInfo};

fn parse(s: &str) -> OfferInfo {
    let lf = OfferInfo::parse(s).unwrap_or_else(|e| panic!("{e}"));
    let crlf = OfferInfo::parse(&crlf(s)).unwrap_or_else(|e| panic!("CRLF: {e}"));
    assert_eq!(lf, crlf, "LF and CRLF parse differently");
    lf
}

fn codec(o: &OfferInfo, kind: MediaKind, pt: u8) -> &CodecDesc {
    o.sections(kind).flat_map(|m| m.codecs.iter()).find(|c| c.pt == pt).unwrap_or_else(|| panic!("no pt {pt}"))
}

#[test]
fn chrome_whip_simulcast() {
    let o = parse(CHROME_WHIP);
    assert_eq!(o.media.len(), 2);
    assert_eq!(o.ice_ufrag.as_deref(), Some("Jq8x"));
    assert_eq!(o.ice_pwd.as_deref(), Some("mXhQ1pWb4Y8Jr0PGGz9E5bQn"));
    assert!(!o.has_datachannel);

    let a = &o.media[0];
    assert_eq!(a.kind, MediaKind::Audio);
    assert_eq!(a.mid.as_deref(), Some("0"));
    assert_eq!(a.direction, Direction::SendOnly);
    assert!(!a.simulcast && a.rids.is_empty() && !a.port_zero);
    let pts: Vec<u8> = a.codecs.iter().map(|c| c.pt).collect();
    assert_eq!(pts, [111, 63, 9, 0, 8, 13, 110, 126]);
    assert_eq!(
        a.codecs[0],
        CodecDesc {
            pt: 111,
            name: "opus".into(),
            clock_rate: 48000,
            channels: Some(2),
            fmtp: Some("minptime=10;useinbandfec=1".into()),
            rtx_apt: None,
        }
    );
    assert_eq!(a.codecs[1].name, "red");
    assert_eq!(a.codecs[1].fmtp.as_deref(), Some("111/111"));
    assert_eq!(a.codecs[1].rtx_apt, None, "apt is only reported for rtx");
    assert_eq!(o.codec_names(MediaKind::Audio), ["OPUS", "G722", "PCMU", "PCMA"]);

    let v = &o.media[1];
    assert_eq!(v.kind, MediaKind::Video);
    assert_eq!(v.mid.as_deref(), Some("1"));
    assert_eq!(v.direction, Direction::SendOnly);
    assert!(v.simulcast);
    assert_eq!(v.rids, ["q", "h", "f"]);
    assert_eq!(v.codecs.len(), 25);
    assert_eq!(o.codec_names(MediaKind::Video), ["VP8", "H264", "AV1", "VP9", "H265"]);
    assert_eq!(codec(&o, MediaKind::Video, 97).rtx_apt, Some(96));
    assert_eq!(codec(&o, MediaKind::Video, 50).rtx_apt, Some(49));
    assert_eq!(codec(&o, MediaKind::Video, 120).rtx_apt, Some(119));
    assert_eq!(codec(&o, MediaKind::Video, 121).name, "ulpfec");
    let h264: Vec<&str> = v.codecs.iter().filter(|c| c.name == "H264").filter_map(|c| c.fmtp.as_deref()).collect();
    assert_eq!(h264.len(), 6);
    assert!(h264.contains(&"level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f"));
    let h265 = codec(&o, MediaKind::Video, 49);
    assert_eq!(h265.fmtp.as_deref(), Some("level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"));
    assert_eq!((h265.clock_rate, h265.channels), (90000, None));
    assert!(o.codec_names(MediaKind::Application).is_empty());
}

#[test]
fn chrome_whep_recvonly() {
    let o = parse(CHROME_WHEP);
    assert_eq!(o.media.len(), 2);
    assert!(o.media.iter().all(|m| m.direction == Direction::RecvOnly));
    assert!(o.media.iter().all(|m| m.rids.is_empty() && !m.simulcast));
    assert_eq!(o.ice_ufrag.as_deref(), Some("3bK/"));
    assert_eq!(o.ice_pwd.as_deref(), Some("R2p0qLw+Z5vYc8nT1mHs6dJx"));
    assert_eq!(o.codec_names(MediaKind::Audio), ["OPUS", "G722", "PCMU", "PCMA"]);
    assert_eq!(o.codec_names(MediaKind::Video), ["VP8", "H264", "AV1", "VP9"]);
    assert_eq!(o.sections(MediaKind::Video).count(), 1);
}

#[test]
fn aiortc_offer() {
    let o = parse(AIORTC);
    assert_eq!(o.media.len(), 3);
    assert_eq!(
        o.media.iter().map(|m| m.kind).collect::<Vec<_>>(),
        [MediaKind::Audio, MediaKind::Video, MediaKind::Application]
    );
    assert!(o.media.iter().take(2).all(|m| m.direction == Direction::SendRecv));
    assert_eq!(o.media[2].direction, Direction::SendRecv, "default");
    assert!(o.media[2].codecs.is_empty());
    assert!(o.has_datachannel);
    assert_eq!(o.ice_ufrag.as_deref(), Some("K3vq"));
    assert_eq!(o.codec_names(MediaKind::Audio), ["OPUS", "PCMU", "PCMA"]);
    assert_eq!(o.codec_names(MediaKind::Video), ["VP8", "H264"]);
    assert_eq!(codec(&o, MediaKind::Video, 102).rtx_apt, Some(101));
    assert_eq!(codec(&o, MediaKind::Audio, 0).clock_rate, 8000);
}

#[test]
fn obs_offer() {
    let o = parse(OBS);
    assert_eq!(o.media.len(), 2);
    assert!(o.media.iter().all(|m| m.direction == Direction::SendOnly));
    assert_eq!(o.codec_names(MediaKind::Audio), ["OPUS"]);
    assert_eq!(o.codec_names(MediaKind::Video), ["H264"]);
    assert_eq!(o.ice_ufrag.as_deref(), Some("sLr3"));
}

#[test]
fn firefox_offer() {
    let o = parse(FIREFOX);
    assert_eq!(o.media.len(), 3);
    assert!(o.has_datachannel);
    assert_eq!(o.media[2].mid.as_deref(), Some("2"));
    assert_eq!(o.codec_names(MediaKind::Audio), ["OPUS", "G722", "PCMU", "PCMA"]);
    assert_eq!(o.codec_names(MediaKind::Video), ["VP8", "VP9", "H264"]);
    assert_eq!(codec(&o, MediaKind::Audio, 9).channels, Some(1));
    assert_eq!(codec(&o, MediaKind::Audio, 101).fmtp.as_deref(), Some("0-15"));
    assert_eq!(codec(&o, MediaKind::Video, 119).rtx_apt, Some(122));
    assert_eq!(o.ice_ufrag.as_deref(), Some("8f2c1a0b"));
}

#[test]
fn tolerated_line_endings_and_whitespace() {
    let base = parse(CHROME_WHIP);
    let trailing_ws: String = CHROME_WHIP.lines().map(|l| format!("{l} \t\r\n")).collect();
    assert_eq!(OfferInfo::parse(&trailing_ws).unwrap(), base);
    let no_final_newline = CHROME_WHIP.trim_end();
    assert_eq!(OfferInfo::parse(no_final_newline).unwrap(), base);
    let extra_trailing = format!("{}\r\n\r\n  \n", crlf(CHROME_WHIP));
    assert_eq!(OfferInfo::parse(&extra_trailing).unwrap(), base);
    let mixed: String = CHROME_WHIP
        .lines()
        .enumerate()
        .map(|(i, l)| if i % 2 == 0 { format!("{l}\r\n") } else { format!("{l}\n") })
        .collect();
    assert_eq!(OfferInfo::parse(&mixed).unwrap(), base);
}

#[test]
fn static_payload_types_without_rtpmap() {
    let o = OfferInfo::parse(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0 8 9 13\na=mid:a\n")).unwrap();
    let names: Vec<(&str, u32)> = o.media[0].codecs.iter().map(|c| (c.name.as_str(), c.clock_rate)).collect();
    assert_eq!(names, [("PCMU", 8000), ("PCMA", 8000), ("G722", 8000), ("CN", 8000)]);
    assert_eq!(o.codec_names(MediaKind::Audio), ["PCMU", "PCMA", "G722"]);
    assert!(o.media[0].codecs.iter().all(|c| c.channels.is_none() && c.fmtp.is_none()));
}

#[test]
fn canonical_names_are_case_insensitive_and_aliases_merge() {
    let o = OfferInfo::parse(&offer_with(
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102 103 104\na=mid:v\n\
         a=rtpmap:96 h264/90000\na=rtpmap:97 HEVC/90000\na=rtpmap:98 h265/90000\n\
         a=rtpmap:99 AV1X/90000\na=rtpmap:100 av1/90000\na=rtpmap:101 vp8/90000\n\
         a=rtpmap:102 flexfec-03/90000\na=rtpmap:103 RTX/90000\na=rtpmap:104 H264/90000\n",
    ))
    .unwrap();
    assert_eq!(o.codec_names(MediaKind::Video), ["H264", "H265", "AV1", "VP8"]);
    assert_eq!(o.codec_names(MediaKind::Audio), Vec::<String>::new());
    assert_eq!(o.media[0].codecs[7].rtx_apt, None, "rtx without fmtp has no apt");
}

#[test]
fn codec_names_span_sections_of_a_kind() {
    let o = OfferInfo::parse(&offer_with(
        "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:0\na=rtpmap:96 VP8/90000\n\
         m=video 0 UDP/TLS/RTP/SAVPF 97 96\na=mid:1\na=bundle-only\na=rtpmap:97 H264/90000\na=rtpmap:96 VP8/90000\n",
    ))
    .unwrap();
    assert!(o.media[1].port_zero);
    assert_eq!(o.codec_names(MediaKind::Video), ["VP8", "H264"]);
}

#[test]
fn session_level_direction_and_credentials() {
    let o = OfferInfo::parse(
        "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\na=ice-ufrag:sess\na=ice-pwd:sessionpassword0123456\na=recvonly\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:0\na=ice-ufrag:media\na=rtpmap:111 opus/48000/2\n\
         m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:1\na=inactive\na=rtpmap:96 VP8/90000\n",
    )
    .unwrap();
    assert_eq!(o.ice_ufrag.as_deref(), Some("sess"), "session level wins");
    assert_eq!(o.ice_pwd.as_deref(), Some("sessionpassword0123456"));
    assert_eq!(o.media[0].direction, Direction::RecvOnly, "inherited from session");
    assert_eq!(o.media[1].direction, Direction::Inactive, "media level overrides");
}

#[test]
fn first_media_level_credentials_and_default_direction() {
    let o = OfferInfo::parse(&offer_with(
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:0\na=rtpmap:111 opus/48000/2\n\
         m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:1\na=ice-ufrag:second\na=ice-pwd:pw2pw2pw2pw2pw2pw2pw2pw\na=rtpmap:96 VP8/90000\n\
         m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:2\na=ice-ufrag:third\na=rtpmap:96 VP8/90000\n",
    ))
    .unwrap();
    assert_eq!(o.ice_ufrag.as_deref(), Some("second"));
    assert_eq!(o.ice_pwd.as_deref(), Some("pw2pw2pw2pw2pw2pw2pw2pw"));
    assert!(o.media.iter().all(|m| m.direction == Direction::SendRecv));
    assert_eq!(o.media.len(), 3);
    let none = OfferInfo::parse(&offer_with("m=audio 9 UDP/TLS/RTP/SAVPF 0\n")).unwrap();
    assert_eq!((none.ice_ufrag, none.ice_pwd, none.media[0].mid.clone()), (None, None, None));
}

#[test]
fn unknown_media_types_are_checked_but_left_out() {
    let o = OfferInfo::parse(&offer_with(
        "m=text 9 UDP/TLS/RTP/SAVPF 98\na=mid:t\na=rtpmap:98 t140/1000\nm=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:a\n",
    ))
    .unwrap();
    assert_eq!(o.media.len(), 1);
    assert_eq!(o.media[0].kind, MediaKind::Audio);
}

#[test]
fn rids_recv_and_restrictions() {
    let o = OfferInfo::parse(&offer_with(
        "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:0\na=rtpmap:96 VP8/90000\n\
         a=rid:hi-res send pt=96;max-width=1280;max-height=720\na=rid:lo_res send\na=rid:r1 recv\n\
         a=simulcast:send hi-res;lo_res recv r1\n",
    ))
    .unwrap();
    assert_eq!(o.media[0].rids, ["hi-res", "lo_res"]);
    assert!(o.media[0].simulcast);
}

#[test]
fn disabled_datachannel_is_not_a_datachannel() {
    let o = OfferInfo::parse(&offer_with(
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\na=mid:1\n",
    ))
    .unwrap();
    assert!(o.media[1].port_zero);
    assert!(!o.has_datachannel);
}

#[test]
fn application_only_offer_is_accepted() {
    let o =
        OfferInfo::parse(&offer_with("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:0\na=sctp-port:5000\n"))
            .unwrap();
    assert!(o.has_datachannel);
    assert!(o.codec_names(MediaKind::Video).is_empty());
}

#[test]
fn unknown_attributes_and_lines_are_ignored() {
    let o = OfferInfo::parse(&offer_with(
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\ni=mic\nc=IN IP4 0.0.0.0\nb=AS:64\nb=TIAS:64000\n\
         a=mid:0\na=x-google-flag:conference\na=rtcp-fb:* nack\na=rtpmap:111 opus/48000/2\na=rtpmap:112 ignored/1\n\
         a=fmtp:113 not=listed\na=ssrc:1 cname:x\na=rtcp-mux-only\n",
    ))
    .unwrap();
    assert_eq!(o.media[0].codecs.len(), 1);
}

#[test]
fn unicode_in_free_text_is_fine() {
    let o = OfferInfo::parse(
        "v=0\no=ñandú 1 2 IN IP4 127.0.0.1\ns=Live från Göteborg 🎥\ni=説明\nt=0 0\n\
         m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:0\na=rtpmap:96 VP8/90000\na=x-label:Kamera ①\n",
    )
    .unwrap();
    assert_eq!(o.codec_names(MediaKind::Video), ["VP8"]);
}

#[test]
fn exactly_64_sections_are_accepted() {
    let body: String = (0..64).map(|i| format!("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:{i}\n")).collect();
    assert_eq!(OfferInfo::parse(&offer_with(&body)).unwrap().media.len(), 64);
}

/// GStreamer 1.22 webrtcbin, bundle-policy max-bundle: `a=group:BUNDLE audio0 video1`
/// and the video section as `m=video 0` + `a=bundle-only` (RFC 8843 §6). That
/// section is part of the bundle, not disabled.
#[test]
fn gstreamer_webrtcbin_whip_bundle_only() {
    for (fixture, video_pt, video_codec) in [(GST_WHIP_VP8, 96, "VP8"), (GST_WHIP_H264, 102, "H264")] {
        let o = parse(fixture);
        assert_eq!(o.media.len(), 2);
        let (a, v) = (&o.media[0], &o.media[1]);
        assert_eq!((a.kind, a.mid.as_deref(), a.direction), (MediaKind::Audio, Some("audio0"), Direction::SendOnly));
        assert!(!a.port_zero && !a.bundle_only && !a.disabled());
        assert_eq!((v.kind, v.mid.as_deref(), v.direction), (MediaKind::Video, Some("video1"), Direction::SendOnly));
        assert!(v.port_zero, "the m= line has port 0");
        assert!(v.bundle_only, "a=bundle-only with its mid in the BUNDLE group");
        assert!(!v.disabled(), "a bundle-only section is not disabled");
        assert_eq!(v.codecs.iter().map(|c| c.pt).collect::<Vec<_>>(), [video_pt]);
        assert_eq!(o.codec_names(MediaKind::Video), [video_codec]);
        assert_eq!(o.codec_names(MediaKind::Audio), ["OPUS"]);
        assert_eq!(codec(&o, MediaKind::Audio, 111).channels, Some(2));
        assert_eq!(o.ice_ufrag.as_ref().map(String::len), Some(32), "media-level ufrag");
        assert!(o.ice_pwd.is_some());
    }
}

#[test]
fn gstreamer_webrtcbin_whep_bundle_only() {
    let o = parse(GST_WHEP);
    let (a, v) = (&o.media[0], &o.media[1]);
    assert_eq!((a.direction, v.direction), (Direction::RecvOnly, Direction::RecvOnly));
    assert!(v.port_zero && v.bundle_only && !v.disabled());
    assert_eq!(codec(&o, MediaKind::Audio, 111).channels, None, "webrtcbin writes `OPUS/48000` without channels");
    assert_eq!(o.codec_names(MediaKind::Video), ["VP8"]);
}

#[test]
fn bundle_only_needs_its_mid_in_a_bundle_group() {
    let body = "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:a\na=rtpmap:111 opus/48000/2\n\
                m=video 0 UDP/TLS/RTP/SAVPF 96\na=mid:v\na=bundle-only\na=rtpmap:96 VP8/90000\n\
                m=video 0 UDP/TLS/RTP/SAVPF 96\na=mid:w\na=rtpmap:96 VP8/90000\n";
    // No BUNDLE group: port 0 disables the section whatever a=bundle-only says.
    let o = parse(&offer_with(body));
    assert!(o.media[1].port_zero && !o.media[1].bundle_only && o.media[1].disabled());
    // In the group: bundle-only; without a=bundle-only, port 0 still disables.
    let o = parse(&offer_with(&format!("a=group:BUNDLE a v w\n{body}")));
    assert!(o.media[1].bundle_only && !o.media[1].disabled());
    assert!(!o.media[2].bundle_only && o.media[2].disabled());
    // A group that does not list the mid.
    let o = parse(&offer_with(&format!("a=group:BUNDLE a\n{body}")));
    assert!(o.media[1].disabled());
}

#[test]
fn bundle_only_datachannel_is_a_datachannel() {
    let o = parse(&offer_with(
        "a=group:BUNDLE 0 1\nm=audio 9 UDP/TLS/RTP/SAVPF 0\na=mid:0\n\
         m=application 0 UDP/DTLS/SCTP webrtc-datachannel\na=mid:1\na=bundle-only\n",
    ));
    assert!(o.has_datachannel);
}
