//! Frames shared by the in-memory SFU tests.
#![allow(dead_code)]

/// A VP8 frame: keyframes carry the key-frame tag and start code; the payload embeds
/// a counter so order and integrity can be checked.
pub fn vp8_frame(n: u32, key: bool, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    if key {
        v.extend_from_slice(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    } else {
        v.extend_from_slice(&[0x11, 0x02, 0x00]);
    }
    v.extend_from_slice(&n.to_be_bytes());
    while v.len() < len {
        v.push((v.len() as u32 ^ n) as u8);
    }
    v
}

/// The counter `vp8_frame` embedded.
pub fn frame_no(data: &[u8], key: bool) -> u32 {
    let o = if key { 10 } else { 3 };
    u32::from_be_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]])
}
pub mod net;

/// An H.264 access unit in Annex B form: a keyframe is SPS + PPS + IDR slice, a delta
/// frame one non-IDR slice. The slice embeds `#` and the 8-digit counter (ASCII, so no
/// start-code emulation) and ends with `tag` (e.g. the simulcast layer).
pub fn h264_frame(n: u32, key: bool, len: usize, tag: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 24);
    if key {
        v.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0x8d, 0x68, 0x14, 0x1e, 0xd0]);
        v.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
        v.extend_from_slice(&[0, 0, 0, 1, 0x65]);
    } else {
        v.extend_from_slice(&[0, 0, 0, 1, 0x41]);
    }
    v.push(b'#');
    v.extend_from_slice(format!("{n:08}").as_bytes());
    while v.len() + 1 < len {
        v.push(0xa0 | (v.len() as u8 & 0x0f));
    }
    v.push(tag);
    v
}

/// The counter `h264_frame` embedded (None if the frame is not one of ours).
pub fn h264_no(data: &[u8]) -> Option<u32> {
    let i = data.iter().position(|b| *b == b'#')?;
    std::str::from_utf8(data.get(i + 1..i + 9)?).ok()?.parse().ok()
}
