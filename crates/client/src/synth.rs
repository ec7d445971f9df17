//! Synthetic media whose integrity a receiver can check.
//!
//! Every frame carries a self-describing marker: `WCF1`, a kind letter (`K` video
//! keyframe, `D` video delta frame, `A` audio), then the sequence number, the body
//! length and an FNV-1a checksum of the body as 8 hex digits each, then `|` and the
//! body. Body bytes are never zero and the header is ASCII, so the marker never
//! contains an H.264 start code and survives Annex-B re-framing.
//!
//! Video frames get a codec prefix that str0m's depacketizers understand:
//! * VP8: the 3-byte frame tag (bit 0 = 0 for a key frame, 1 for an inter frame) and,
//!   for key frames, the start code `9d 01 2a` plus 2+2 bytes of width/height
//!   (RFC 6386 §9.1). str0m marks a VP8 frame as a keyframe when the first payload
//!   byte of the partition head has P (bit 0) = 0.
//! * H.264: Annex-B NAL units; key frames are SPS + PPS + IDR (type 5), delta frames
//!   one non-IDR slice (type 1). str0m marks frames containing an IDR as keyframes.

use crate::VideoCodec;

const MAGIC: &[u8; 4] = b"WCF1";
const HEADER_LEN: usize = 4 + 1 + 8 + 8 + 8 + 1;

/// What kind of synthetic frame a marker declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Keyframe,
    Delta,
    Audio,
}

impl FrameKind {
    fn letter(self) -> u8 {
        match self {
            FrameKind::Keyframe => b'K',
            FrameKind::Delta => b'D',
            FrameKind::Audio => b'A',
        }
    }

    fn from_letter(l: u8) -> Option<Self> {
        match l {
            b'K' => Some(FrameKind::Keyframe),
            b'D' => Some(FrameKind::Delta),
            b'A' => Some(FrameKind::Audio),
            _ => None,
        }
    }
}

/// The result of checking a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCheck {
    pub kind: FrameKind,
    pub seq: u32,
    /// Body length as declared by the header.
    pub len: usize,
    /// The body is complete and its checksum matches.
    pub intact: bool,
}

/// 32-bit FNV-1a.
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn body(seq: u32, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((seq as usize).wrapping_mul(131).wrapping_add(i.wrapping_mul(7)) % 255 + 1) as u8).collect()
}

fn hex8(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(format!("{v:08x}").as_bytes());
}

/// The marker + body part of a frame.
pub fn marker(kind: FrameKind, seq: u32, body_len: usize) -> Vec<u8> {
    let b = body(seq, body_len);
    let mut out = Vec::with_capacity(HEADER_LEN + body_len);
    out.extend_from_slice(MAGIC);
    out.push(kind.letter());
    hex8(&mut out, seq);
    hex8(&mut out, body_len as u32);
    hex8(&mut out, fnv1a(&b));
    out.push(b'|');
    out.extend_from_slice(&b);
    out
}

/// A VP8 frame of roughly `size` bytes carrying sequence number `seq`.
pub fn vp8_frame(seq: u32, size: usize, keyframe: bool) -> Vec<u8> {
    let prefix = if keyframe { 10 } else { 3 };
    let body_len = size.saturating_sub(prefix + HEADER_LEN).max(1);
    let kind = if keyframe { FrameKind::Keyframe } else { FrameKind::Delta };
    let m = marker(kind, seq, body_len);
    // Frame tag: bit 0 frame type (0 = key), bits 1-3 version, bit 4 show_frame,
    // bits 5-23 first partition size.
    let part = (m.len() as u32).min(0x7ffff);
    let tag = (part << 5) | (1 << 4) | u32::from(!keyframe);
    let mut out = Vec::with_capacity(prefix + m.len());
    out.extend_from_slice(&tag.to_le_bytes()[..3]);
    if keyframe {
        out.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        out.extend_from_slice(&320u16.to_le_bytes());
        out.extend_from_slice(&240u16.to_le_bytes());
    }
    out.extend_from_slice(&m);
    out
}

/// An H.264 Annex-B access unit of roughly `size` bytes carrying `seq`.
pub fn h264_frame(seq: u32, size: usize, keyframe: bool) -> Vec<u8> {
    const SC: [u8; 4] = [0, 0, 0, 1];
    // Baseline profile 3.1 SPS / PPS (contents are not decoded by the SFU).
    const SPS: [u8; 8] = [0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16];
    const PPS: [u8; 4] = [0x68, 0xce, 0x3c, 0x80];
    let prefix = if keyframe { 4 + SPS.len() + 4 + PPS.len() + 5 } else { 5 };
    let body_len = size.saturating_sub(prefix + HEADER_LEN).max(1);
    let kind = if keyframe { FrameKind::Keyframe } else { FrameKind::Delta };
    let m = marker(kind, seq, body_len);
    let mut out = Vec::with_capacity(prefix + m.len());
    if keyframe {
        out.extend_from_slice(&SC);
        out.extend_from_slice(&SPS);
        out.extend_from_slice(&SC);
        out.extend_from_slice(&PPS);
        out.extend_from_slice(&SC);
        out.push(0x65); // IDR slice
    } else {
        out.extend_from_slice(&SC);
        out.push(0x41); // non-IDR slice
    }
    out.extend_from_slice(&m);
    out
}

/// A video frame for `codec`.
pub fn video_frame(codec: VideoCodec, seq: u32, size: usize, keyframe: bool) -> Vec<u8> {
    match codec {
        VideoCodec::Vp8 => vp8_frame(seq, size, keyframe),
        VideoCodec::H264 => h264_frame(seq, size, keyframe),
    }
}

/// An Opus-like audio payload of `size` bytes (TOC byte for a 20 ms SILK frame,
/// then the marker).
pub fn audio_frame(seq: u32, size: usize) -> Vec<u8> {
    let body_len = size.saturating_sub(1 + HEADER_LEN).max(1);
    let mut out = vec![0x78];
    out.extend_from_slice(&marker(FrameKind::Audio, seq, body_len));
    out
}

fn parse_hex8(b: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok()
}

/// Find and verify the marker in a received frame. `None` if there is no readable
/// marker header at all; otherwise `intact` says whether the body is complete and
/// matches its checksum (and nothing follows it).
pub fn check_frame(data: &[u8]) -> Option<FrameCheck> {
    let start = data.windows(MAGIC.len()).position(|w| w == MAGIC)?;
    let h = data.get(start..start + HEADER_LEN)?;
    let kind = FrameKind::from_letter(h[4])?;
    let seq = parse_hex8(&h[5..13])?;
    let len = parse_hex8(&h[13..21])? as usize;
    let sum = parse_hex8(&h[21..29])?;
    if h[29] != b'|' {
        return None;
    }
    let rest = &data[start + HEADER_LEN..];
    let intact = rest.len() == len && fnv1a(rest) == sum && rest == body(seq, len).as_slice();
    Some(FrameCheck { kind, seq, len, intact })
}

/// Whether a VP8 frame's tag says key frame (bit 0 = 0) and the start code follows.
pub fn is_vp8_keyframe(data: &[u8]) -> bool {
    data.len() >= 10 && data[0] & 1 == 0 && data[3..6] == [0x9d, 0x01, 0x2a]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_frames_round_trip() {
        let k = vp8_frame(7, 5000, true);
        assert_eq!(k.len(), 5000);
        assert!(is_vp8_keyframe(&k));
        let c = check_frame(&k).unwrap();
        assert_eq!((c.kind, c.seq, c.intact), (FrameKind::Keyframe, 7, true));
        let d = vp8_frame(8, 1200, false);
        assert!(!is_vp8_keyframe(&d));
        assert_eq!(d[0] & 1, 1);
        let c = check_frame(&d).unwrap();
        assert_eq!((c.kind, c.seq, c.intact), (FrameKind::Delta, 8, true));
    }

    #[test]
    fn corruption_is_detected() {
        let mut k = vp8_frame(3, 3000, true);
        k[2000] ^= 0x55;
        assert!(!check_frame(&k).unwrap().intact);
        let k = vp8_frame(3, 3000, true);
        assert!(!check_frame(&k[..2999]).unwrap().intact);
        let mut k2 = k.clone();
        k2.push(1);
        assert!(!check_frame(&k2).unwrap().intact);
        assert!(check_frame(b"no marker here").is_none());
    }

    #[test]
    fn h264_frames_have_no_spurious_start_codes() {
        let k = h264_frame(1, 4000, true);
        let sc = k.windows(3).filter(|w| *w == [0, 0, 1]).count();
        assert_eq!(sc, 3, "SPS, PPS and IDR only");
        let c = check_frame(&k).unwrap();
        assert!(c.intact && c.kind == FrameKind::Keyframe && c.seq == 1);
        let d = h264_frame(0x0001_0000, 2000, false);
        assert_eq!(d.windows(3).filter(|w| *w == [0, 0, 1]).count(), 1);
        assert!(check_frame(&d).unwrap().intact);
    }

    #[test]
    fn audio_frames_round_trip() {
        let a = audio_frame(42, 120);
        assert_eq!(a.len(), 120);
        let c = check_frame(&a).unwrap();
        assert_eq!((c.kind, c.seq, c.intact), (FrameKind::Audio, 42, true));
    }
}
