//! SDP inspection for wishcast's WHIP/WHEP HTTP layer.
//!
//! This crate owns the *first look* at client SDP, before it is handed to the
//! WebRTC library: it checks an offer ([`OfferInfo::parse`]) or a
//! trickle-ice-sdpfrag PATCH body ([`SdpFrag::parse`]) and either reports
//! what it asks for (m-sections, codecs, direction, simulcast rids, ICE
//! credentials, candidates) or returns an [`SdpError`] whose message names
//! the offending line, says what was expected and how to fix it, so that
//! client mistakes become clear 400/422 answers instead of 5xx.
//! [`normalize_offer`] corrects the few spec deviations real clients send
//! before the offer goes to the WebRTC library. It does not build answers,
//! negotiate, or do I/O, and has no dependencies.
//!
//! Rules, for offers and frags alike: CRLF or LF line endings, trailing
//! whitespace and trailing empty lines are tolerated; empty input, lines
//! longer than [`MAX_LINE_LEN`] bytes, blank lines in the middle, control
//! characters, lines not of the form `<letter>=<value>` (with an RFC 8866
//! type letter) and malformed `a=candidate` lines are refused. Offers must
//! also start with `v=0`, have `o=`, `s=` and `t=0 0` in RFC 8866 order,
//! use `UDP/TLS/RTP/SAVPF` for audio/video and `UDP/DTLS/SCTP` for data,
//! have well-formed ports, payload types and `a=rtpmap`/`a=fmtp` lines,
//! an rtpmap for every non-static payload type, unique mids, at most one
//! direction per m-section, at most [`MAX_MEDIA_SECTIONS`] m-sections and at
//! least one audio, video or application m-section. Parsing never panics.
//!
//! ```
//! use wishcast_sdp::{Direction, MediaKind, OfferInfo, SdpFrag};
//!
//! let offer = OfferInfo::parse(
//!     "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
//!      m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:0\r\na=sendonly\r\n\
//!      a=rtpmap:96 h264/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n",
//! )?;
//! assert_eq!(offer.media[0].direction, Direction::SendOnly);
//! assert_eq!(offer.codec_names(MediaKind::Video), ["H264"]);
//!
//! let err = OfferInfo::parse("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video\r\n").unwrap_err();
//! assert_eq!(err.to_string(), "line 5: expected `m=<media> <port> <proto> <fmt...>`, got `m=video`");
//!
//! let frag = SdpFrag::parse("a=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host\r\n")?;
//! assert_eq!(frag.sections[0].mid.as_deref(), Some("0"));
//! # Ok::<(), wishcast_sdp::SdpError>(())
//! ```

#![forbid(unsafe_code)]
// "Never panics" is enforced by clippy outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]

mod codec;
mod error;
mod frag;
mod ice;
mod lines;
mod media;
mod mline;
mod normalize;
mod offer;
mod section;
mod session;

pub use codec::{CodecDesc, canonical_codec_name};
pub use error::SdpError;
pub use frag::{FragSection, SdpFrag};
pub use lines::MAX_LINE_LEN;
pub use media::{Direction, MediaKind};
pub use normalize::normalize_offer;
pub use offer::{MAX_MEDIA_SECTIONS, OfferInfo};
pub use section::MediaSection;
