//! The `m=<media> <port> <proto> <fmt ...>` line that opens an m-section.

use crate::codec::parse_pt;
use crate::error::{SdpError, snippet};
use crate::lines::fields;
use crate::media::MediaKind;

/// What an m-section is carried over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// `UDP/TLS/RTP/SAVPF`: the `<fmt>` list is RTP payload types.
    Rtp,
    /// `UDP/DTLS/SCTP` or `DTLS/SCTP`: data channels.
    Sctp,
}

/// A parsed m= line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MLine<'a> {
    /// The `<media>` token as written.
    pub media: &'a str,
    /// `None` for media types other than audio/video/application.
    pub kind: Option<MediaKind>,
    pub port_zero: bool,
    pub transport: Transport,
    /// Payload types in order, duplicates removed (empty for SCTP).
    pub pts: Vec<u8>,
}

const MLINE_FORM: &str = "`m=<media> <port> <proto> <fmt...>`";

/// Parses an m= line of an offer. `text` is the whole line, for messages.
pub(crate) fn parse_mline<'a>(no: usize, value: &'a str, text: &str) -> Result<MLine<'a>, SdpError> {
    let form_err = || SdpError::at(no, format!("expected {MLINE_FORM}, got `{}`", snippet(text)));
    let f = fields(value).ok_or_else(form_err)?;
    let [media, port, proto, fmts @ ..] = f.as_slice() else {
        return Err(form_err());
    };
    if fmts.is_empty() {
        return Err(form_err());
    }
    let kind = MediaKind::from_sdp(media);
    if kind.is_none() && !media.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
        return Err(SdpError::at(
            no,
            format!("bad media type `{}` in m= line; expected audio, video or application", snippet(media)),
        ));
    }
    let port_zero = parse_port(port).ok_or_else(|| {
        SdpError::at(
            no,
            format!(
                "bad port `{}` in m= line; expected a number 0-65535 (WebRTC offers use 9, or 0 for a disabled section)",
                snippet(port)
            ),
        )
    })? == 0;
    let transport = parse_proto(no, kind, media, proto)?;
    let mut pts = Vec::new();
    if transport == Transport::Rtp {
        let mut seen = [false; 128];
        for fmt in fmts {
            let pt = parse_pt(fmt).ok_or_else(|| {
                SdpError::at(no, format!("payload type `{}` in m= line must be a number 0-127", snippet(fmt)))
            })?;
            if let Some(s) = seen.get_mut(usize::from(pt))
                && !*s
            {
                *s = true;
                pts.push(pt);
            }
        }
    }
    Ok(MLine { media, kind, port_zero, transport, pts })
}

/// `<port>` or `<port>/<count>`; returns the port.
fn parse_port(s: &str) -> Option<u16> {
    let (port, count) = match s.split_once('/') {
        Some((p, c)) => (p, Some(c)),
        None => (s, None),
    };
    let num = |x: &str| -> Option<u16> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        x.parse().ok()
    };
    if let Some(c) = count {
        num(c).filter(|&n| n > 0)?;
    }
    num(port)
}

fn parse_proto(no: usize, kind: Option<MediaKind>, media: &str, proto: &str) -> Result<Transport, SdpError> {
    let transport = match proto {
        "UDP/TLS/RTP/SAVPF" => Some(Transport::Rtp),
        "UDP/DTLS/SCTP" | "DTLS/SCTP" => Some(Transport::Sctp),
        _ => None,
    };
    match (kind, transport) {
        (Some(MediaKind::Audio | MediaKind::Video), Some(Transport::Rtp)) => Ok(Transport::Rtp),
        (Some(MediaKind::Application), Some(Transport::Sctp)) => Ok(Transport::Sctp),
        (None, Some(t)) => Ok(t),
        (Some(MediaKind::Audio | MediaKind::Video), _) => Err(SdpError::at(
            no,
            format!(
                "m={media} uses transport `{}`; WebRTC audio/video needs `UDP/TLS/RTP/SAVPF` (ICE + DTLS-SRTP)",
                snippet(proto)
            ),
        )),
        (Some(MediaKind::Application), _) => Err(SdpError::at(
            no,
            format!(
                "m=application uses transport `{}`; WebRTC data channels need `UDP/DTLS/SCTP` (or legacy `DTLS/SCTP`)",
                snippet(proto)
            ),
        )),
        (None, None) => Err(SdpError::at(
            no,
            format!(
                "unknown transport `{}` in m= line; expected `UDP/TLS/RTP/SAVPF` or `UDP/DTLS/SCTP`",
                snippet(proto)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &str) -> MLine<'_> {
        parse_mline(1, v, v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    fn err(v: &str) -> String {
        parse_mline(3, v, &format!("m={v}")).unwrap_err().to_string()
    }

    #[test]
    fn good_lines() {
        let m = ok("video 9 UDP/TLS/RTP/SAVPF 96 97 96 127 0");
        assert_eq!(m.kind, Some(MediaKind::Video));
        assert_eq!(m.pts, vec![96, 97, 127, 0]);
        assert!(!m.port_zero);
        let m = ok("audio 0 UDP/TLS/RTP/SAVPF 111");
        assert!(m.port_zero);
        let m = ok("application 9 UDP/DTLS/SCTP webrtc-datachannel");
        assert_eq!((m.kind, m.transport, m.pts.len()), (Some(MediaKind::Application), Transport::Sctp, 0));
        assert_eq!(ok("application 5000 DTLS/SCTP 5000").transport, Transport::Sctp);
        assert_eq!(ok("text 9 UDP/TLS/RTP/SAVPF 98").kind, None);
        assert_eq!(ok("audio 9/2 UDP/TLS/RTP/SAVPF 111").pts, vec![111]);
        assert_eq!(ok("audio 65535 UDP/TLS/RTP/SAVPF 111").pts, vec![111]);
    }

    #[test]
    fn bad_lines() {
        assert_eq!(err("video"), "line 3: expected `m=<media> <port> <proto> <fmt...>`, got `m=video`");
        for (v, needle) in [
            ("video 9", "expected `m=<media>"),
            ("video 9 UDP/TLS/RTP/SAVPF", "expected `m=<media>"),
            ("video  9 UDP/TLS/RTP/SAVPF 96", "expected `m=<media>"),
            ("", "expected `m=<media>"),
            ("video x UDP/TLS/RTP/SAVPF 96", "bad port"),
            ("video -1 UDP/TLS/RTP/SAVPF 96", "bad port"),
            ("video 65536 UDP/TLS/RTP/SAVPF 96", "bad port"),
            ("video 99999999999999999999999 UDP/TLS/RTP/SAVPF 96", "bad port"),
            ("video 9/0 UDP/TLS/RTP/SAVPF 96", "bad port"),
            ("video 9/ UDP/TLS/RTP/SAVPF 96", "bad port"),
            ("video 9 RTP/AVP 96", "needs `UDP/TLS/RTP/SAVPF`"),
            ("video 9 udp/tls/rtp/savpf 96", "needs `UDP/TLS/RTP/SAVPF`"),
            ("audio 9 UDP/DTLS/SCTP webrtc-datachannel", "needs `UDP/TLS/RTP/SAVPF`"),
            ("application 9 UDP/TLS/RTP/SAVPF 96", "need `UDP/DTLS/SCTP`"),
            ("text 9 FOO 1", "unknown transport"),
            ("vidéo 9 UDP/TLS/RTP/SAVPF 96", "bad media type"),
            ("video 9 UDP/TLS/RTP/SAVPF 96 x", "payload type `x`"),
            ("video 9 UDP/TLS/RTP/SAVPF 128", "payload type `128`"),
            ("video 9 UDP/TLS/RTP/SAVPF 4294967296", "payload type"),
        ] {
            let e = err(v);
            assert!(e.contains(needle), "{v}: {e}");
            assert!(e.starts_with("line 3: "), "{e}");
        }
    }
}
