//! Codec negotiation: turning an offer's payload types into str0m payload params,
//! and choosing what a subscriber may receive (the publisher's codec and parameters).

use str0m::format::{Codec, CodecConfig, CodecSpec, FormatParams, PayloadParams};
use str0m::media::Frequency;
use str0m::media::{MediaKind, Pt};
use wishcast_sdp::{CodecDesc, Direction, MediaKind as SdpKind, OfferInfo};

/// Codecs the node forwards, as names for error messages and `/api/info`.
pub const SUPPORTED: &[&str] = &["H264", "H265", "VP8", "VP9", "AV1", "OPUS", "G722", "PCMU", "PCMA"];

/// Map an rtpmap name to a codec we forward, or None.
pub fn codec_from_name(name: &str) -> Option<Codec> {
    let c = match name.to_ascii_lowercase().as_str() {
        "h264" => Codec::H264,
        "h265" | "hevc" => Codec::H265,
        "vp8" => Codec::Vp8,
        "vp9" => Codec::Vp9,
        "av1" | "av1x" => Codec::Av1,
        "opus" => Codec::Opus,
        "g722" => Codec::G722,
        "pcmu" => Codec::PCMU,
        "pcma" => Codec::PCMA,
        _ => return None,
    };
    Some(c)
}

/// Lowercase codec name as used in the `codecs` field of the streams API.
pub fn codec_name(c: Codec) -> &'static str {
    match c {
        Codec::H264 => "h264",
        Codec::H265 => "h265",
        Codec::Vp8 => "vp8",
        Codec::Vp9 => "vp9",
        Codec::Av1 => "av1",
        Codec::Opus => "opus",
        Codec::G722 => "g722",
        Codec::PCMU => "pcmu",
        Codec::PCMA => "pcma",
        _ => "unknown",
    }
}

fn to_payload(desc: &CodecDesc, all: &[CodecDesc]) -> Option<PayloadParams> {
    let codec = codec_from_name(&desc.name)?;
    // str0m treats G722 as 16 kHz everywhere but on the wire (RFC 3551 quirk).
    let clock = if codec == Codec::G722 { 16_000 } else { desc.clock_rate };
    let clock_rate = Frequency::new(clock)?;
    let format = desc.fmtp.as_deref().map(FormatParams::parse_line).unwrap_or_default();
    let resend =
        all.iter().find(|d| d.rtx_apt == Some(desc.pt) && d.name.eq_ignore_ascii_case("rtx")).map(|d| Pt::from(d.pt));
    let channels = if codec == Codec::Opus { Some(desc.channels.unwrap_or(2)) } else { desc.channels };
    Some(PayloadParams::new(Pt::from(desc.pt), resend, CodecSpec { codec, clock_rate, channels, format }))
}

fn kind_of(k: SdpKind) -> Option<MediaKind> {
    match k {
        SdpKind::Audio => Some(MediaKind::Audio),
        SdpKind::Video => Some(MediaKind::Video),
        SdpKind::Application => None,
    }
}

/// Every supported payload of the offer's audio/video sections, PTs preserved.
/// Sections whose direction does not match `sending` (the remote sends media) are skipped.
pub fn offer_payloads(info: &OfferInfo, remote_sends: bool) -> Vec<(MediaKind, PayloadParams)> {
    let mut out: Vec<(MediaKind, PayloadParams)> = Vec::new();
    for m in &info.media {
        let Some(kind) = kind_of(m.kind) else { continue };
        if m.disabled() {
            continue;
        }
        let dir_ok = match m.direction {
            Direction::SendRecv => true,
            Direction::SendOnly => remote_sends,
            Direction::RecvOnly => !remote_sends,
            Direction::Inactive => false,
        };
        if !dir_ok {
            continue;
        }
        for d in &m.codecs {
            if let Some(p) = to_payload(d, &m.codecs) {
                // Two PTs for the same codec and parameters would both map to one remote
                // PT inside str0m (which asserts on that): keep the first.
                if !out.iter().any(|(_, q)| q.pt() == p.pt() || q.spec() == p.spec()) {
                    out.push((kind, p));
                }
            }
        }
    }
    out
}

/// What a subscriber's session is configured with, all in the subscriber's own
/// payload numbers (payload types are per session; the SFU rewrites them when it
/// writes): for each of the publisher's codecs the offered payload that matches it
/// best, then the offer's other codecs (one per codec, so a republish with another
/// codec still reaches the subscriber). Empty when the publisher is known and none of
/// its codecs is offered (422). Unknown publisher: everything offered.
///
/// Only the offer's own parameters are used, never the publisher's: those carry the
/// publisher's PTs and, once negotiated, str0m's lock, which would make the answer
/// keep the publisher's numbers ("Ignore remote PT change") and clash with the
/// subscriber's.
pub fn subscriber_payloads(
    offered: &[(MediaKind, PayloadParams)],
    publisher: &[(MediaKind, PayloadParams)],
) -> Vec<PayloadParams> {
    if publisher.is_empty() {
        return offered.iter().map(|(_, p)| *p).collect();
    }
    let cfg = CodecConfig::new_from_payload_params(offered.iter().map(|(_, p)| *p).collect());
    let mut out: Vec<PayloadParams> = Vec::new();
    for (_, p) in publisher {
        if let Some(o) = cfg.match_params(*p)
            && !out.iter().any(|q| q.pt() == o.pt())
        {
            out.push(*o);
        }
    }
    if out.is_empty() {
        return out;
    }
    for (_, p) in offered {
        if !out.iter().any(|q| q.pt() == p.pt() || q.spec().codec == p.spec().codec) {
            out.push(*p);
        }
    }
    out
}

/// Whether an answer negotiated at least one of `codecs` (by rtpmap name).
pub fn answer_carries(sdp: &str, codecs: &[(MediaKind, PayloadParams)]) -> bool {
    sdp.lines()
        .filter_map(|l| l.trim().strip_prefix("a=rtpmap:"))
        .filter_map(|r| r.split_once(' ')?.1.split('/').next())
        .filter_map(codec_from_name)
        .any(|c| codecs.iter().any(|(_, p)| p.spec().codec == c))
}

/// Canonical names of the supported codecs offered for a kind.
pub fn offered_names(info: &OfferInfo) -> Vec<String> {
    let mut v = info.codec_names(SdpKind::Video);
    v.extend(info.codec_names(SdpKind::Audio));
    v
}

/// Whether the offer has any audio or video section at all.
pub fn has_av(info: &OfferInfo) -> bool {
    info.media.iter().any(|m| matches!(m.kind, SdpKind::Audio | SdpKind::Video) && !m.disabled())
}

/// The first payload of each kind: what a publisher will send with.
pub fn primary(payloads: &[(MediaKind, PayloadParams)]) -> Vec<(MediaKind, PayloadParams)> {
    let mut out = Vec::new();
    for kind in [MediaKind::Video, MediaKind::Audio] {
        if let Some((_, p)) = payloads.iter().find(|(k, _)| *k == kind) {
            out.push((kind, *p));
        }
    }
    out
}

/// fmtp text of a payload, for the streams API.
pub fn fmtp_string(p: &PayloadParams) -> String {
    p.spec().format.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(pt: u8, name: &str, clock: u32, fmtp: Option<&str>, apt: Option<u8>) -> CodecDesc {
        CodecDesc {
            pt,
            name: name.into(),
            clock_rate: clock,
            channels: None,
            fmtp: fmtp.map(str::to_string),
            rtx_apt: apt,
        }
    }

    #[test]
    fn h264_high_profile_and_rtx_are_kept() {
        let all = vec![
            desc(102, "H264", 90000, Some("profile-level-id=640c1f;packetization-mode=1"), None),
            desc(103, "rtx", 90000, Some("apt=102"), Some(102)),
        ];
        let p = to_payload(&all[0], &all).expect("h264 supported");
        assert_eq!(p.spec().codec, Codec::H264);
        assert_eq!(p.spec().format.profile_level_id, Some(0x640c1f));
        assert_eq!(p.resend(), Some(Pt::from(103)));
        assert!(to_payload(&all[1], &all).is_none(), "rtx is not a media codec");
    }

    #[test]
    fn g722_clock_is_16k_inside() {
        let all = vec![desc(9, "G722", 8000, None, None)];
        let p = to_payload(&all[0], &all).expect("g722");
        assert_eq!(p.spec().clock_rate.get(), 16000);
    }

    #[test]
    fn answers_are_checked_for_the_streams_codecs() {
        let vp8 = PayloadParams::new(
            Pt::from(96),
            None,
            CodecSpec {
                codec: Codec::Vp8,
                clock_rate: Frequency::NINETY_KHZ,
                channels: None,
                format: FormatParams::default(),
            },
        );
        let ans = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 97 98\r\na=rtpmap:97 VP8/90000\r\na=rtpmap:98 rtx/90000\r\n";
        assert!(answer_carries(ans, &[(MediaKind::Video, vp8)]));
        let other = "m=video 9 UDP/TLS/RTP/SAVPF 99\r\na=rtpmap:99 H264/90000\r\na=rtpmap:9 G722/8000\r\n";
        assert!(!answer_carries(other, &[(MediaKind::Video, vp8)]));
    }

    #[test]
    fn subscriber_payloads_use_the_subscribers_numbers() {
        let p = |pt: u8, rtx: Option<u8>, codec: Codec, clock: Frequency, ch: Option<u8>| {
            PayloadParams::new(
                Pt::from(pt),
                rtx.map(Pt::from),
                CodecSpec { codec, clock_rate: clock, channels: ch, format: FormatParams::default() },
            )
        };
        let k90 = Frequency::NINETY_KHZ;
        let k48 = Frequency::FORTY_EIGHT_KHZ;
        // Publisher: aiortc numbers. Viewer: webrtc-rs numbers (VP9 on the publisher's VP8 RTX).
        let publisher = [
            (MediaKind::Video, p(97, Some(98), Codec::Vp8, k90, None)),
            (MediaKind::Audio, p(96, None, Codec::Opus, k48, Some(2))),
        ];
        let offered = [
            (MediaKind::Audio, p(111, None, Codec::Opus, k48, Some(2))),
            (MediaKind::Video, p(96, Some(97), Codec::Vp8, k90, None)),
            (MediaKind::Video, p(98, Some(99), Codec::Vp9, k90, None)),
        ];
        let got: Vec<(u8, Option<u8>)> =
            subscriber_payloads(&offered, &publisher).iter().map(|p| (*p.pt(), p.resend().map(|r| *r))).collect();
        assert_eq!(got, [(96, Some(97)), (111, None), (98, Some(99))], "stream codecs first, all in offered numbers");
        assert!(subscriber_payloads(&offered[2..], &publisher[..1]).is_empty(), "no VP8 offered: nothing");
        assert_eq!(subscriber_payloads(&offered, &[]).len(), 3, "no publisher yet: everything offered");
    }

    #[test]
    fn unknown_codecs_are_skipped() {
        let all = vec![desc(120, "MP4V-ES", 90000, None, None)];
        assert!(to_payload(&all[0], &all).is_none());
    }
}
