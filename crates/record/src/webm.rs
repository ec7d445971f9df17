//! WebM (Matroska) segments for VP8 video. Chromium's Media Source Extensions do
//! not accept VP8 in MP4 (`video/mp4; codecs="vp08…"` is unsupported), so dash.js
//! could not play a `vp08` track: VP8 is recorded as DASH WebM instead — an init
//! segment (EBML header, Segment of unknown size, Info, Tracks) and media
//! segments that are one Cluster each (SimpleBlocks, millisecond timestamps).
//! The reader half serves the export (`crate::export`).

/// Matroska element ids used here.
pub(crate) const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
pub(crate) const CLUSTER: u32 = 0x1F43_B675;
const TIMECODE: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;

fn id_bytes(id: u32) -> Vec<u8> {
    let b = id.to_be_bytes();
    let skip = b.iter().position(|x| *x != 0).unwrap_or(3);
    b[skip..].to_vec()
}

fn element(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    out.extend_from_slice(&id_bytes(id));
    // 8-byte size vint: 0x01 + 7 bytes.
    let n = body.len() as u64;
    out.push(0x01);
    out.extend_from_slice(&n.to_be_bytes()[1..]);
    out.extend_from_slice(body);
}

fn uint(out: &mut Vec<u8>, id: u32, v: u64) {
    let b = v.to_be_bytes();
    let skip = b.iter().position(|x| *x != 0).unwrap_or(7);
    element(out, id, &b[skip..]);
}

/// EBML header + Segment (unknown size) + Info + Tracks for one VP8 track.
pub(crate) fn init_segment(width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(200);
    let mut hdr = Vec::new();
    uint(&mut hdr, 0x4286, 1);
    uint(&mut hdr, 0x42F7, 1);
    uint(&mut hdr, 0x42F2, 4);
    uint(&mut hdr, 0x42F3, 8);
    element(&mut hdr, 0x4282, b"webm");
    uint(&mut hdr, 0x4287, 4);
    uint(&mut hdr, 0x4285, 2);
    element(&mut out, EBML, &hdr);
    out.extend_from_slice(&id_bytes(SEGMENT));
    out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    let mut info = Vec::new();
    uint(&mut info, 0x2AD7B1, 1_000_000);
    element(&mut info, 0x4D80, b"wishcast");
    element(&mut info, 0x5741, b"wishcast");
    element(&mut out, INFO, &info);
    let mut video = Vec::new();
    uint(&mut video, PIXEL_WIDTH, width as u64);
    uint(&mut video, PIXEL_HEIGHT, height as u64);
    let mut entry = Vec::new();
    uint(&mut entry, 0xD7, 1);
    uint(&mut entry, 0x73C5, 1);
    uint(&mut entry, 0x83, 1);
    element(&mut entry, 0x86, b"V_VP8");
    uint(&mut entry, 0x9C, 0);
    element(&mut entry, VIDEO, &video);
    let mut tracks = Vec::new();
    element(&mut tracks, TRACK_ENTRY, &entry);
    element(&mut out, TRACKS, &tracks);
    out
}

/// One frame of a cluster: its time in ms and its bytes in the payload buffer.
pub(crate) struct Block {
    pub ms: u64,
    pub key: bool,
    pub size: usize,
}

/// Media segment: Clusters holding `blocks` (whose bytes follow each other in
/// `payload`). A new Cluster starts whenever a block would be more than 30 s
/// after its Cluster's timecode (SimpleBlock times are 16-bit).
pub(crate) fn media_segment(blocks: &[Block], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + blocks.len() * 16 + 32);
    let mut pos = 0usize;
    let mut i = 0;
    while i < blocks.len() {
        let base = blocks[i].ms;
        let mut body = Vec::with_capacity(payload.len() + 16);
        uint(&mut body, TIMECODE, base);
        while i < blocks.len() && blocks[i].ms - base <= 30_000 {
            let b = &blocks[i];
            let data = payload.get(pos..pos + b.size).unwrap_or(&[]);
            pos += b.size;
            let mut sb = Vec::with_capacity(4 + data.len());
            sb.push(0x81);
            sb.extend_from_slice(&((b.ms - base) as i16).to_be_bytes());
            sb.push(if b.key { 0x80 } else { 0 });
            sb.extend_from_slice(data);
            element(&mut body, SIMPLE_BLOCK, &sb);
            i += 1;
        }
        element(&mut out, CLUSTER, &body);
    }
    out
}

/// Reads an EBML variable-size integer at `pos`: (value without marker, length).
fn vint(d: &[u8], pos: usize, keep_marker: bool) -> Option<(u64, usize)> {
    let first = *d.get(pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || pos + len > d.len() {
        return None;
    }
    let mut v = if keep_marker { first as u64 } else { (first as u64) & (0xFF >> len) };
    for k in 1..len {
        v = (v << 8) | d[pos + k] as u64;
    }
    Some((v, len))
}

/// The elements in `d[range]`: (id, payload start, payload end). An unknown or
/// oversized size runs to the end of the range.
fn children(d: &[u8], start: usize, end: usize) -> Vec<(u32, usize, usize)> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        let Some((id, il)) = vint(d, pos, true) else {
            break;
        };
        let Some((size, sl)) = vint(d, pos + il, false) else {
            break;
        };
        let body = pos + il + sl;
        if body > end {
            break;
        }
        let unknown = size == (1u64 << (7 * sl)) - 1;
        let stop = if unknown { end } else { body.saturating_add(size.min(usize::MAX as u64) as usize).min(end) };
        out.push((id as u32, body, stop));
        pos = stop.max(pos + 1);
    }
    out
}

fn read_uint(d: &[u8], s: usize, e: usize) -> u64 {
    d[s..e.min(s + 8)].iter().fold(0, |v, b| (v << 8) | *b as u64)
}

/// True when `d` starts with an EBML header.
pub(crate) fn is_webm(d: &[u8]) -> bool {
    d.len() >= 4 && u32::from_be_bytes([d[0], d[1], d[2], d[3]]) == EBML
}

/// Picture size of the first video track of a WebM init segment.
pub(crate) fn read_init(d: &[u8]) -> Result<(u16, u16), String> {
    for (id, s, e) in children(d, 0, d.len()) {
        if id != SEGMENT {
            continue;
        }
        for (id, s, e) in children(d, s, e) {
            if id != TRACKS {
                continue;
            }
            for (id, s, e) in children(d, s, e) {
                if id != TRACK_ENTRY {
                    continue;
                }
                for (id, s, e) in children(d, s, e) {
                    if id == VIDEO {
                        let mut wh = (0, 0);
                        for (id, s, e) in children(d, s, e) {
                            match id {
                                PIXEL_WIDTH => wh.0 = read_uint(d, s, e),
                                PIXEL_HEIGHT => wh.1 = read_uint(d, s, e),
                                _ => {}
                            }
                        }
                        let (w, h) = (u16::try_from(wh.0).unwrap_or(0), u16::try_from(wh.1).unwrap_or(0));
                        if w == 0 || h == 0 {
                            return Err("WebM video track without a picture size".into());
                        }
                        return Ok((w, h));
                    }
                }
            }
        }
    }
    Err("no WebM Segment/Tracks/TrackEntry/Video".into())
}

/// Frames of a WebM media segment: (time ms, keyframe, byte range in `d`).
pub(crate) fn read_segment(d: &[u8]) -> Result<Vec<(u64, bool, std::ops::Range<u64>)>, String> {
    let mut out = Vec::new();
    for (id, s, e) in children(d, 0, d.len()) {
        if id != CLUSTER {
            continue;
        }
        let mut base = 0u64;
        for (id, s, e) in children(d, s, e) {
            match id {
                TIMECODE => base = read_uint(d, s, e),
                SIMPLE_BLOCK => {
                    let Some((_, tl)) = vint(d, s, false) else {
                        return Err("SimpleBlock without a track number".into());
                    };
                    let h = s + tl;
                    if h + 3 > e {
                        return Err("truncated SimpleBlock".into());
                    }
                    if d[h + 2] & 0x06 != 0 {
                        return Err("laced SimpleBlocks are not supported".into());
                    }
                    let rel = i16::from_be_bytes([d[h], d[h + 1]]) as i64;
                    let ms = base.checked_add_signed(rel).ok_or("SimpleBlock time before 0")?;
                    out.push((ms, d[h + 2] & 0x80 != 0, (h + 3) as u64..e as u64));
                }
                _ => {}
            }
        }
    }
    if out.is_empty() {
        return Err("no WebM Cluster with SimpleBlocks".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let init = init_segment(640, 360);
        assert!(is_webm(&init));
        assert_eq!(read_init(&init), Ok((640, 360)));
        let blocks = [
            Block { ms: 1000, key: true, size: 3 },
            Block { ms: 1033, key: false, size: 2 },
            Block { ms: 40_000, key: false, size: 1 },
        ];
        let seg = media_segment(&blocks, &[1, 2, 3, 4, 5, 6]);
        let frames = read_segment(&seg).unwrap();
        let got: Vec<_> =
            frames.iter().map(|(ms, k, r)| (*ms, *k, seg[r.start as usize..r.end as usize].to_vec())).collect();
        assert_eq!(got, vec![(1000, true, vec![1, 2, 3]), (1033, false, vec![4, 5]), (40_000, false, vec![6])]);
        for bad in [
            &b""[..],
            &[0x1A, 0x45, 0xDF, 0xA3],
            &[0x1F, 0x43, 0xB6, 0x75, 0x85, 0xA3, 0x83, 0x81, 0, 0],
            &[0xff; 20],
            &[0; 20],
        ] {
            assert!(read_segment(bad).is_err());
            assert!(read_init(bad).is_err());
        }
    }
}
