//! Writes the progressive MP4 header of an export: `ftyp`, a `moov` with full
//! sample tables (stts, ctts, stss, stsc, stsz, co64) and an edit list that
//! places a late-starting track, and the 64-bit `mdat` header.

use crate::TrackKind;
use crate::boxw::BoxWriter;

/// One track's tables, in decode order.
pub(crate) struct TrackTables {
    pub kind: TrackKind,
    pub timescale: u32,
    pub width: u32,
    pub height: u32,
    pub entries: Vec<Vec<u8>>,
    pub durations: Vec<u32>,
    pub sizes: Vec<u32>,
    pub ctos: Vec<i32>,
    pub sync: Vec<u32>,
    /// (first sample index, sample count, sample description index from 1)
    pub chunks: Vec<(usize, u32, u32)>,
    /// Chunk offsets relative to the start of the mdat payload.
    pub chunk_offsets: Vec<u64>,
    /// Delay of the track's first sample after the movie start, in ms.
    pub delay_ms: u64,
}

impl TrackTables {
    fn media_duration(&self) -> u64 {
        self.durations.iter().map(|d| *d as u64).sum()
    }
    fn duration_ms(&self) -> u64 {
        (self.media_duration() as u128 * 1000 / self.timescale.max(1) as u128) as u64
    }
}

const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// ftyp + moov + mdat header for `payload_len` bytes of samples.
pub(crate) fn header(tracks: &[TrackTables], payload_len: u64) -> Vec<u8> {
    // Offsets are absolute, so the moov is built once to learn its size (co64
    // entries have a fixed width), then again with the final offsets.
    let ftyp = ftyp();
    let probe = moov(tracks, 0);
    let base = (ftyp.len() + probe.len() + 16) as u64;
    let mut out = ftyp;
    out.extend_from_slice(&moov(tracks, base));
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(b"mdat");
    out.extend_from_slice(&(payload_len + 16).to_be_bytes());
    out
}

fn ftyp() -> Vec<u8> {
    let mut w = BoxWriter::with_capacity(32);
    w.begin(b"ftyp");
    w.bytes(b"isom");
    w.u32(0x200);
    for b in [b"isom", b"iso6", b"mp41"] {
        w.bytes(b);
    }
    w.end();
    w.into_bytes()
}

fn moov(tracks: &[TrackTables], base: u64) -> Vec<u8> {
    let mut w = BoxWriter::with_capacity(1024 + tracks.iter().map(|t| t.sizes.len() * 12).sum::<usize>());
    let movie_ms = tracks.iter().map(|t| t.delay_ms + t.duration_ms()).max().unwrap_or(0);
    w.begin(b"moov");
    w.begin_full(b"mvhd", 1, 0);
    w.u64(0);
    w.u64(0);
    w.u32(1000);
    w.u64(movie_ms);
    w.u32(0x0001_0000);
    w.u16(0x0100);
    w.bytes(&[0; 10]);
    for m in MATRIX {
        w.u32(m);
    }
    w.bytes(&[0; 24]);
    w.u32(tracks.len() as u32 + 1);
    w.end();
    for (i, t) in tracks.iter().enumerate() {
        trak(&mut w, t, i as u32 + 1, base);
    }
    w.end();
    w.into_bytes()
}

fn trak(w: &mut BoxWriter, t: &TrackTables, id: u32, base: u64) {
    let video = t.kind == TrackKind::Video;
    w.begin(b"trak");
    w.begin_full(b"tkhd", 1, 0x3);
    w.u64(0);
    w.u64(0);
    w.u32(id);
    w.u32(0);
    w.u64(t.delay_ms + t.duration_ms());
    w.bytes(&[0; 8]);
    w.u16(0);
    w.u16(if video { 0 } else { 1 });
    w.u16(if video { 0 } else { 0x0100 });
    w.u16(0);
    for m in MATRIX {
        w.u32(m);
    }
    w.u32(t.width << 16);
    w.u32(t.height << 16);
    w.end();
    if t.delay_ms > 0 {
        w.begin(b"edts");
        w.begin_full(b"elst", 1, 0);
        w.u32(2);
        w.u64(t.delay_ms);
        w.u64(u64::MAX); // media_time -1: empty edit
        w.u32(0x0001_0000);
        w.u64(t.duration_ms());
        w.u64(0);
        w.u32(0x0001_0000);
        w.end();
        w.end();
    }
    w.begin(b"mdia");
    w.begin_full(b"mdhd", 1, 0);
    w.u64(0);
    w.u64(0);
    w.u32(t.timescale);
    w.u64(t.media_duration());
    w.u16(0x55c4); // "und"
    w.u16(0);
    w.end();
    w.begin_full(b"hdlr", 0, 0);
    w.u32(0);
    w.bytes(if video { b"vide" } else { b"soun" });
    w.bytes(&[0; 12]);
    w.bytes(if video { b"wishcast video\0" } else { b"wishcast audio\0" });
    w.end();
    w.begin(b"minf");
    if video {
        w.begin_full(b"vmhd", 0, 1);
        w.bytes(&[0; 8]);
    } else {
        w.begin_full(b"smhd", 0, 0);
        w.bytes(&[0; 4]);
    }
    w.end();
    w.begin(b"dinf");
    w.begin_full(b"dref", 0, 0);
    w.u32(1);
    w.begin_full(b"url ", 0, 1);
    w.end();
    w.end();
    w.end();
    stbl(w, t, base);
    w.end(); // minf
    w.end(); // mdia
    w.end(); // trak
}

fn stbl(w: &mut BoxWriter, t: &TrackTables, base: u64) {
    w.begin(b"stbl");
    w.begin_full(b"stsd", 0, 0);
    w.u32(t.entries.len() as u32);
    for e in &t.entries {
        w.bytes(e);
    }
    w.end();

    let mut stts: Vec<(u32, u32)> = Vec::new();
    for &d in &t.durations {
        match stts.last_mut() {
            Some((n, dd)) if *dd == d => *n += 1,
            _ => stts.push((1, d)),
        }
    }
    w.begin_full(b"stts", 0, 0);
    w.u32(stts.len() as u32);
    for (n, d) in stts {
        w.u32(n);
        w.u32(d);
    }
    w.end();

    if t.ctos.iter().any(|c| *c != 0) {
        let mut ctts: Vec<(u32, i32)> = Vec::new();
        for &c in &t.ctos {
            match ctts.last_mut() {
                Some((n, cc)) if *cc == c => *n += 1,
                _ => ctts.push((1, c)),
            }
        }
        w.begin_full(b"ctts", 1, 0);
        w.u32(ctts.len() as u32);
        for (n, c) in ctts {
            w.u32(n);
            w.i32(c);
        }
        w.end();
    }

    if t.kind == TrackKind::Video && t.sync.len() < t.sizes.len() {
        w.begin_full(b"stss", 0, 0);
        w.u32(t.sync.len() as u32);
        for s in &t.sync {
            w.u32(*s);
        }
        w.end();
    }

    let mut stsc: Vec<(u32, u32, u32)> = Vec::new();
    for (i, &(_, n, sdi)) in t.chunks.iter().enumerate() {
        if stsc.last().is_none_or(|&(_, pn, ps)| pn != n || ps != sdi) {
            stsc.push((i as u32 + 1, n, sdi));
        }
    }
    w.begin_full(b"stsc", 0, 0);
    w.u32(stsc.len() as u32);
    for (f, n, s) in stsc {
        w.u32(f);
        w.u32(n);
        w.u32(s);
    }
    w.end();

    w.begin_full(b"stsz", 0, 0);
    w.u32(0);
    w.u32(t.sizes.len() as u32);
    for s in &t.sizes {
        w.u32(*s);
    }
    w.end();

    w.begin_full(b"co64", 0, 0);
    w.u32(t.chunk_offsets.len() as u32);
    for o in &t.chunk_offsets {
        w.u64(base + o);
    }
    w.end();
    w.end();
}
