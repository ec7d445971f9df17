//! RFC 4571 framing for ICE-TCP: each packet is preceded by a 16-bit big-endian length.

/// Accumulates bytes from a TCP stream and yields whole frames.
#[derive(Default)]
pub struct FrameReader {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed (compacted on the next `extend`).
    pos: usize,
}

impl FrameReader {
    pub fn extend(&mut self, data: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Next complete frame, if any. Zero-length frames are skipped.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            let rest = &self.buf[self.pos..];
            if rest.len() < 2 {
                return None;
            }
            let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            if rest.len() < 2 + len {
                return None;
            }
            let frame = &rest[2..2 + len];
            self.pos += 2 + len;
            if !frame.is_empty() {
                return Some(frame.to_vec());
            }
        }
    }
}

/// Prefix a packet with its RFC 4571 length; None if it is too large to frame.
pub fn frame(data: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(data.len()).ok()?;
    let mut v = Vec::with_capacity(data.len() + 2);
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(data);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_joins_frames() {
        let mut r = FrameReader::default();
        let a = frame(b"hello").unwrap();
        let b = frame(b"world!").unwrap();
        let mut all = a.clone();
        all.extend_from_slice(&b);
        r.extend(&all[..3]);
        assert_eq!(r.next_frame(), None);
        r.extend(&all[3..]);
        assert_eq!(r.next_frame().as_deref(), Some(&b"hello"[..]));
        assert_eq!(r.next_frame().as_deref(), Some(&b"world!"[..]));
        assert_eq!(r.next_frame(), None);
    }

    #[test]
    fn garbage_lengths_never_panic() {
        let mut r = FrameReader::default();
        r.extend(&[0xff, 0xff, 1, 2, 3]);
        assert_eq!(r.next_frame(), None);
        r.extend(&[0, 0, 0, 1, 9]);
        assert_eq!(r.next_frame(), None);
        assert!(frame(&vec![0u8; 70_000]).is_none());
    }
}
