//! Codecs: `a=rtpmap` / `a=fmtp` parsing, the static payload-type table and
//! the canonical upper-case codec names used for policy checks.

use crate::error::{SdpError, snippet};

/// Highest RTP payload type (7 bits).
pub const MAX_PT: u8 = 127;

/// One payload type of an m-section, as offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecDesc {
    /// RTP payload type, 0–127.
    pub pt: u8,
    /// Encoding name as written in `a=rtpmap` (e.g. `"H264"`, `"opus"`).
    pub name: String,
    /// RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count, when the rtpmap has one (audio).
    pub channels: Option<u8>,
    /// The text after `a=fmtp:<pt> `, if any.
    pub fmtp: Option<String>,
    /// For `rtx` payloads: the `apt=` (associated payload type) value.
    pub rtx_apt: Option<u8>,
}

impl CodecDesc {
    /// The canonical upper-case name (see [`canonical_codec_name`]), or `None`
    /// for repair/redundancy/signalling payloads.
    #[must_use]
    pub fn canonical_name(&self) -> Option<String> {
        canonical_codec_name(&self.name)
    }
}

/// Maps an rtpmap encoding name to its canonical upper-case form
/// (`h264`→`H264`, `hevc`/`h265`→`H265`, `av1`/`av1x`→`AV1`, `opus`→`OPUS`, …;
/// anything else is simply upper-cased). Returns `None` for payloads that are
/// not media codecs: `rtx`, `red`, `ulpfec`, `flexfec*`, `CN` and
/// `telephone-event`.
#[must_use]
pub fn canonical_codec_name(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let canonical = match upper.as_str() {
        "RTX" | "RED" | "ULPFEC" | "CN" | "TELEPHONE-EVENT" => return None,
        s if s.starts_with("FLEXFEC") => return None,
        "HEVC" => "H265".to_string(),
        "AV1X" => "AV1".to_string(),
        _ => upper,
    };
    Some(canonical)
}

/// Static payload types that may appear in an m= line without an rtpmap
/// (the set the WebRTC library knows): `(pt, name, clock_rate)`.
const STATIC_PTS: [(u8, &str, u32); 4] = [(0, "PCMU", 8000), (8, "PCMA", 8000), (9, "G722", 8000), (13, "CN", 8000)];

/// The codec implied by a static payload type used without an rtpmap.
pub(crate) fn static_codec(pt: u8) -> Option<CodecDesc> {
    STATIC_PTS.iter().find(|(p, _, _)| *p == pt).map(|&(pt, name, clock_rate)| CodecDesc {
        pt,
        name: name.to_string(),
        clock_rate,
        channels: None,
        fmtp: None,
        rtx_apt: None,
    })
}

/// Parses a payload type token: decimal, 0–127.
pub(crate) fn parse_pt(s: &str) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u8>().ok().filter(|&pt| pt <= MAX_PT)
}

/// A parsed `a=rtpmap:<pt> <name>/<clock>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RtpMap {
    pub pt: u8,
    pub name: String,
    pub clock_rate: u32,
    pub channels: Option<u8>,
}

const RTPMAP_FORM: &str =
    "`a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]`, e.g. `a=rtpmap:111 opus/48000/2`";

/// Parses the value after `a=rtpmap:`.
pub(crate) fn parse_rtpmap(no: usize, value: &str) -> Result<RtpMap, SdpError> {
    let bad = |why: &str| SdpError::at(no, format!("{why} in `a=rtpmap:{}`; expected {RTPMAP_FORM}", snippet(value)));
    let (pt_s, enc) = value.split_once(' ').ok_or_else(|| bad("missing encoding"))?;
    let pt = parse_pt(pt_s).ok_or_else(|| bad("payload type must be a number 0-127"))?;
    let enc = enc.trim_start_matches(' ');
    let mut parts = enc.split('/');
    let name = parts.next().unwrap_or("");
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad("bad encoding name"));
    }
    let clock_s = parts.next().ok_or_else(|| bad("missing clock rate"))?;
    let clock_rate = parse_decimal_u32(clock_s)
        .filter(|&c| c > 0)
        .ok_or_else(|| bad("clock rate must be a positive whole number of Hz that fits 32 bits"))?;
    let channels = match parts.next() {
        None => None,
        Some(c) => Some(
            c.parse::<u8>()
                .ok()
                .filter(|&n| n > 0 && c.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad("channel count must be a number 1-255"))?,
        ),
    };
    if parts.next().is_some() {
        return Err(bad("too many `/` fields"));
    }
    Ok(RtpMap { pt, name: name.to_string(), clock_rate, channels })
}

fn parse_decimal_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A parsed `a=fmtp:<pt> <params>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fmtp {
    pub pt: u8,
    /// The parameter text, `None` if empty.
    pub params: Option<String>,
    /// The `apt=` parameter, if present.
    pub apt: Option<u8>,
}

/// Parses the value after `a=fmtp:`.
pub(crate) fn parse_fmtp(no: usize, value: &str) -> Result<Fmtp, SdpError> {
    let (pt_s, params) = value.split_once(' ').unwrap_or((value, ""));
    let pt = parse_pt(pt_s).ok_or_else(|| {
        SdpError::at(
            no,
            format!(
                "payload type must be a number 0-127 in `a=fmtp:{}`; expected `a=fmtp:<payload type> <parameters>`",
                snippet(value)
            ),
        )
    })?;
    let params = params.trim_start_matches(' ');
    let mut apt = None;
    for param in params.split(';') {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("apt") {
            let v = v.trim();
            apt = Some(parse_pt(v).ok_or_else(|| {
                SdpError::at(
                    no,
                    format!(
                        "`apt={}` in `a=fmtp:{pt}` must name a payload type 0-127 (the codec this rtx/red payload repairs)",
                        snippet(v)
                    ),
                )
            })?);
        }
    }
    let params = (!params.is_empty()).then(|| params.to_string());
    Ok(Fmtp { pt, params, apt })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        for (i, o) in [
            ("H264", Some("H264")),
            ("h264", Some("H264")),
            ("H265", Some("H265")),
            ("hevc", Some("H265")),
            ("HEVC", Some("H265")),
            ("VP8", Some("VP8")),
            ("vp9", Some("VP9")),
            ("AV1", Some("AV1")),
            ("AV1X", Some("AV1")),
            ("av1x", Some("AV1")),
            ("opus", Some("OPUS")),
            ("G722", Some("G722")),
            ("pcmu", Some("PCMU")),
            ("PCMA", Some("PCMA")),
            ("multiopus", Some("MULTIOPUS")),
            ("rtx", None),
            ("RED", None),
            ("red", None),
            ("ulpfec", None),
            ("flexfec-03", None),
            ("FlexFEC", None),
            ("CN", None),
            ("telephone-event", None),
            ("TELEPHONE-EVENT", None),
        ] {
            assert_eq!(canonical_codec_name(i).as_deref(), o, "{i}");
        }
    }

    #[test]
    fn static_table() {
        assert_eq!(static_codec(0).unwrap().name, "PCMU");
        assert_eq!(static_codec(8).unwrap().name, "PCMA");
        let g722 = static_codec(9).unwrap();
        assert_eq!((g722.name.as_str(), g722.clock_rate, g722.channels), ("G722", 8000, None));
        assert_eq!(static_codec(13).unwrap().name, "CN");
        assert!(static_codec(18).is_none());
        assert!(static_codec(96).is_none());
    }

    #[test]
    fn pts() {
        assert_eq!(parse_pt("0"), Some(0));
        assert_eq!(parse_pt("127"), Some(127));
        assert_eq!(parse_pt("096"), Some(96));
        for bad in ["128", "255", "256", "-1", "+1", "", "1a", "99999999999999999999", "٣"] {
            assert_eq!(parse_pt(bad), None, "{bad}");
        }
    }

    #[test]
    fn rtpmap_ok() {
        assert_eq!(
            parse_rtpmap(1, "111 opus/48000/2").unwrap(),
            RtpMap { pt: 111, name: "opus".into(), clock_rate: 48000, channels: Some(2) }
        );
        assert_eq!(
            parse_rtpmap(1, "96 VP8/90000").unwrap(),
            RtpMap { pt: 96, name: "VP8".into(), clock_rate: 90000, channels: None }
        );
        assert_eq!(parse_rtpmap(1, "126 telephone-event/8000").unwrap().name, "telephone-event");
        assert_eq!(parse_rtpmap(1, "35 flexfec-03/90000").unwrap().name, "flexfec-03");
        assert_eq!(parse_rtpmap(1, "100 X/4294967295").unwrap().clock_rate, u32::MAX);
    }

    #[test]
    fn rtpmap_bad() {
        for (v, needle) in [
            ("abc opus/48000/2", "payload type"),
            ("128 opus/48000/2", "payload type"),
            ("111", "missing encoding"),
            ("111 opus", "missing clock rate"),
            ("111 opus/", "clock rate"),
            ("111 opus/abc", "clock rate"),
            ("111 opus/0", "clock rate"),
            ("111 opus/-48000", "clock rate"),
            ("111 opus/4294967296", "clock rate"),
            ("111 opus/99999999999999999999999", "clock rate"),
            ("111 opus/48000/0", "channel"),
            ("111 opus/48000/256", "channel"),
            ("111 opus/48000/x", "channel"),
            ("111 opus/48000/2/1", "too many"),
            ("111 /48000", "encoding name"),
            ("111 op us/48000", "encoding name"),
        ] {
            let e = parse_rtpmap(7, v).unwrap_err();
            assert_eq!(e.line(), Some(7));
            assert!(e.message().contains(needle), "{v}: {e}");
            assert!(e.message().contains("a=rtpmap:<payload type>"), "{e}");
        }
    }

    #[test]
    fn fmtp_ok() {
        let f = parse_fmtp(1, "97 apt=96").unwrap();
        assert_eq!((f.pt, f.params.as_deref(), f.apt), (97, Some("apt=96"), Some(96)));
        let f = parse_fmtp(1, "111 minptime=10;useinbandfec=1").unwrap();
        assert_eq!((f.params.as_deref(), f.apt), (Some("minptime=10;useinbandfec=1"), None));
        let f = parse_fmtp(1, "102 level-asymmetry-allowed=1; APT = 101 ;x").unwrap();
        assert_eq!(f.apt, Some(101));
        let f = parse_fmtp(1, "63 111/111").unwrap();
        assert_eq!((f.params.as_deref(), f.apt), (Some("111/111"), None));
        let f = parse_fmtp(1, "96").unwrap();
        assert_eq!(f.params, None);
    }

    #[test]
    fn fmtp_bad() {
        assert!(parse_fmtp(2, "x apt=96").unwrap_err().message().contains("payload type"));
        assert!(parse_fmtp(2, "300 apt=96").unwrap_err().message().contains("payload type"));
        assert!(parse_fmtp(2, "").unwrap_err().message().contains("payload type"));
        let e = parse_fmtp(2, "97 apt=abc").unwrap_err();
        assert!(e.message().contains("apt=abc"), "{e}");
        assert!(parse_fmtp(2, "97 apt=999").is_err());
    }
}
