//! Codec negotiation: turning an offer's payload types into str0m payload params,
//! and choosing what a subscriber may receive (the publisher's codec and parameters).

use str0m::format::{Codec, CodecSpec, FormatParams, PayloadParams};
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
    fn unknown_codecs_are_skipped() {
        let all = vec![desc(120, "MP4V-ES", 90000, None, None)];
        assert!(to_payload(&all[0], &all).is_none());
    }
}
