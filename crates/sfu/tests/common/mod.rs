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
