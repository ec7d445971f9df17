//! [`normalize_offer`]: rewrites the few spec deviations real clients send, so
//! that the WebRTC library negotiates what the client meant.

use std::borrow::Cow;

/// Returns `sdp` with known client quirks corrected (unchanged, borrowed,
/// when there is none). Call it on an offer that [`crate::OfferInfo::parse`]
/// accepted, before handing it to the WebRTC library.
///
/// * `a=rtpmap:<pt> opus/48000` without the channel count (GStreamer
///   webrtcbin's WHEP offers) becomes `opus/48000/2`: RFC 7587 §7 says the
///   Opus rtpmap always names 2 channels, and a parser that reads the missing
///   count as "1" or "unknown" matches no Opus codec and rejects the audio
///   section.
///
/// Line endings are kept as sent.
#[must_use]
pub fn normalize_offer(sdp: &str) -> Cow<'_, str> {
    if !sdp.split_inclusive('\n').any(|l| opus_without_channels(l).is_some()) {
        return Cow::Borrowed(sdp);
    }
    let mut out = String::with_capacity(sdp.len() + 8);
    for l in sdp.split_inclusive('\n') {
        match opus_without_channels(l) {
            Some(end) => {
                let (head, tail) = l.split_at(end);
                out.push_str(head);
                out.push_str("/2");
                out.push_str(tail);
            }
            None => out.push_str(l),
        }
    }
    Cow::Owned(out)
}

/// For `a=rtpmap:<pt> opus/48000[\r][\n]`, the byte offset just after `48000`.
fn opus_without_channels(line: &str) -> Option<usize> {
    let body = line.trim_end_matches(['\r', '\n']);
    let rest = body.strip_prefix("a=rtpmap:")?;
    let (pt, enc) = rest.split_once(' ')?;
    if pt.is_empty() || !pt.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (name, clock) = enc.trim_end().split_once('/')?;
    (name.eq_ignore_ascii_case("opus") && clock == "48000").then(|| body.trim_end().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_gets_two_channels() {
        let sdp = "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 OPUS/48000\r\na=rtpmap:0 PCMU/8000\r\n";
        assert_eq!(
            normalize_offer(sdp),
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 OPUS/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
        );
        assert_eq!(normalize_offer("a=rtpmap:96 opus/48000\n"), "a=rtpmap:96 opus/48000/2\n");
        assert_eq!(normalize_offer("a=rtpmap:96 opus/48000"), "a=rtpmap:96 opus/48000/2");
    }

    #[test]
    fn other_lines_are_borrowed_unchanged() {
        for sdp in [
            "a=rtpmap:111 opus/48000/2\r\n",
            "a=rtpmap:111 opus/48000/1\r\n",
            "a=rtpmap:0 PCMU/8000\r\n",
            "a=rtpmap:96 opus/16000\n",
            "a=rtpmapx:96 opus/48000\n",
            "a=rtpmap:x opus/48000\n",
            "a=fmtp:111 opus/48000\n",
            "",
        ] {
            assert!(matches!(normalize_offer(sdp), Cow::Borrowed(s) if s == sdp), "{sdp:?}");
        }
    }
}
