//! RFC 4571 framing (`wishcast_sfu::{FrameReader, frame}`): a `FrameReader` fed the same
//! byte stream in arbitrary chunks must yield exactly the frames a one-shot
//! reference parser finds, and `frame()` must round-trip.
//!
//! Input: byte 0 = number of chunk-size control bytes (mod 8), then those
//! bytes (each one chunk length, cycled; 0 = an empty `extend`), then the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wishcast_sfu::{FrameReader, frame};

/// Whole frames in `buf`, zero-length ones skipped, plus the unconsumed tail length.
fn reference(buf: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut out = Vec::new();
    let mut i = 0;
    while buf.len() - i >= 2 {
        let len = u16::from_be_bytes([buf[i], buf[i + 1]]) as usize;
        if buf.len() - i - 2 < len {
            break;
        }
        if len > 0 {
            out.push(&buf[i + 2..i + 2 + len]);
        }
        i += 2 + len;
    }
    (out, buf.len() - i)
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let n = (n as usize % 8).min(rest.len());
    let (ctl, stream) = rest.split_at(n);

    let mut r = FrameReader::default();
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut pos = 0;
    let mut k = 0;
    while pos < stream.len() {
        let size = if ctl.is_empty() { stream.len() } else { ctl[k % ctl.len()] as usize };
        k += 1;
        let end = (pos + size).min(stream.len());
        r.extend(&stream[pos..end]);
        pos = end;
        while let Some(f) = r.next_frame() {
            assert!(!f.is_empty());
            got.push(f);
        }
        if k > 4 * stream.len() + 8 {
            // Only zero-size chunks: feed the rest at once.
            r.extend(&stream[pos..]);
            pos = stream.len();
            while let Some(f) = r.next_frame() {
                got.push(f);
            }
        }
    }
    assert_eq!(r.next_frame(), None);
    let (want, _tail) = reference(stream);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.as_slice(), *w);
    }

    // frame() round trip, through a fresh reader fed byte by byte.
    let mut r2 = FrameReader::default();
    let mut framed = Vec::new();
    for g in &got {
        let f = frame(g).expect("a frame read fits in u16");
        assert_eq!(f.len(), g.len() + 2);
        framed.extend_from_slice(&f);
    }
    let mut again = Vec::new();
    for b in &framed {
        r2.extend(std::slice::from_ref(b));
        while let Some(f) = r2.next_frame() {
            again.push(f);
        }
    }
    assert_eq!(again, got);
    // frame() refuses only what cannot be framed.
    assert_eq!(frame(stream).is_some(), stream.len() <= u16::MAX as usize);
});
