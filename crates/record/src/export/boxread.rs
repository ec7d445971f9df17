//! Reading the boxes an export needs from recorded objects: the sample entries
//! and track defaults of an init segment, and the sample runs of a media
//! segment's `moof` (with where their bytes lie). Bounds-checked throughout.

use std::ops::Range;

/// Iterates the boxes in `data[range]`: yields (type, header start, payload range).
/// (type, header start, payload range) of each box.
type BoxList = Vec<([u8; 4], usize, Range<usize>)>;

fn boxes(data: &[u8], range: Range<usize>) -> Result<BoxList, String> {
    let mut out = Vec::new();
    let mut pos = range.start;
    let end = range.end.min(data.len());
    while pos + 8 <= end {
        let size32 = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as u64;
        let typ = [data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]];
        let (hdr, size) = match size32 {
            1 => {
                if pos + 16 > end {
                    return Err("truncated 64-bit box header".into());
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos + 8..pos + 16]);
                (16u64, u64::from_be_bytes(b))
            }
            0 => (8, (end - pos) as u64),
            s => (8, s),
        };
        if size < hdr {
            return Err(format!("box {} has size {size}", String::from_utf8_lossy(&typ)));
        }
        let box_end = (pos as u64).saturating_add(size);
        // A box running past the data is cut short (e.g. only the moof was read).
        let payload_end = box_end.min(end as u64) as usize;
        out.push((typ, pos, pos + hdr as usize..payload_end));
        if box_end > end as u64 {
            break;
        }
        pos = box_end as usize;
    }
    Ok(out)
}

fn find(data: &[u8], range: Range<usize>, typ: &[u8; 4]) -> Result<Option<Range<usize>>, String> {
    Ok(boxes(data, range)?.into_iter().find(|(t, _, _)| t == typ).map(|(_, _, r)| r))
}

fn path(data: &[u8], path: &[&[u8; 4]]) -> Result<Option<Range<usize>>, String> {
    let mut r = 0..data.len();
    for typ in path {
        match find(data, r, typ)? {
            Some(n) => r = n,
            None => return Ok(None),
        }
    }
    Ok(Some(r))
}

fn be32(d: &[u8], at: usize) -> Result<u32, String> {
    d.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(|| "truncated box".to_string())
}

fn be64(d: &[u8], at: usize) -> Result<u64, String> {
    Ok(((be32(d, at)? as u64) << 32) | be32(d, at + 4)? as u64)
}

/// What an export takes from an init segment.
#[derive(Debug, Clone)]
pub(crate) struct InitInfo {
    /// The sample entry boxes inside `stsd`, verbatim.
    pub entries: Vec<Vec<u8>>,
    pub timescale: u32,
    pub width: u32,
    pub height: u32,
    pub default_duration: u32,
    pub default_size: u32,
    pub default_flags: u32,
    /// A WebM (VP8) init segment: media segments are WebM Clusters in ms.
    pub webm: bool,
}

pub(crate) fn read_init(data: &[u8]) -> Result<InitInfo, String> {
    let trak = path(data, &[b"moov", b"trak"])?.ok_or("no moov/trak")?;
    let mdhd = find(data, trak.clone(), b"mdia")?.ok_or("no mdia")?;
    let mdhd_box = find(data, mdhd.clone(), b"mdhd")?.ok_or("no mdhd")?;
    let v = *data.get(mdhd_box.start).ok_or("truncated mdhd")?;
    let timescale = if v == 1 { be32(data, mdhd_box.start + 20)? } else { be32(data, mdhd_box.start + 12)? };
    if timescale == 0 {
        return Err("mdhd timescale 0".into());
    }
    let minf = find(data, mdhd, b"minf")?.ok_or("no minf")?;
    let stbl = find(data, minf, b"stbl")?.ok_or("no stbl")?;
    let stsd = find(data, stbl, b"stsd")?.ok_or("no stsd")?;
    let entries: Vec<Vec<u8>> = boxes(data, stsd.start + 8..stsd.end)?
        .into_iter()
        .map(|(_, start, payload)| data[start..payload.end].to_vec())
        .collect();
    if entries.is_empty() {
        return Err("stsd has no sample entry".into());
    }
    let (mut width, mut height) = (0, 0);
    if let Some(tkhd) = find(data, trak.clone(), b"tkhd")? {
        let v = *data.get(tkhd.start).ok_or("truncated tkhd")?;
        let at = tkhd.start + if v == 1 { 88 } else { 76 };
        width = be32(data, at).unwrap_or(0) >> 16;
        height = be32(data, at + 4).unwrap_or(0) >> 16;
    }
    let (mut default_duration, mut default_size, mut default_flags) = (0, 0, 0);
    if let Some(trex) = path(data, &[b"moov", b"mvex", b"trex"])? {
        default_duration = be32(data, trex.start + 12).unwrap_or(0);
        default_size = be32(data, trex.start + 16).unwrap_or(0);
        default_flags = be32(data, trex.start + 20).unwrap_or(0);
    }
    Ok(InitInfo { entries, timescale, width, height, default_duration, default_size, default_flags, webm: false })
}

/// A WebM (VP8) init segment: a `vp08` sample entry for its picture size, ms timescale.
pub(crate) fn read_webm_init(data: &[u8]) -> Result<InitInfo, String> {
    let (w, h) = crate::webm::read_init(data)?;
    let entry = crate::codec::vp08_entry_bytes(w, h)?;
    Ok(InitInfo {
        entries: vec![entry],
        timescale: 1000,
        width: w as u32,
        height: h as u32,
        default_duration: 0,
        default_size: 0,
        default_flags: 0,
        webm: true,
    })
}

/// A WebM media segment as one run per frame (frames are not contiguous: each
/// has a SimpleBlock header). `end_ms` (the segment's end from the manifest)
/// gives the last frame its duration.
pub(crate) fn read_webm_segment(data: &[u8], end_ms: u64) -> Result<Vec<Run>, String> {
    let frames = crate::webm::read_segment(data)?;
    let mut runs = Vec::with_capacity(frames.len());
    for (k, (ms, key, range)) in frames.iter().enumerate() {
        let next = frames.get(k + 1).map(|f| f.0).unwrap_or(end_ms);
        let duration = u32::try_from(next.saturating_sub(*ms)).unwrap_or(u32::MAX).max(1);
        let size = u32::try_from(range.end - range.start).map_err(|_| "frame too large")?;
        runs.push(Run {
            decode_time: *ms,
            data: range.clone(),
            samples: vec![RunSample { duration, size, sync: *key, cto: 0 }],
        });
    }
    Ok(runs)
}

/// One sample of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunSample {
    pub duration: u32,
    pub size: u32,
    pub sync: bool,
    pub cto: i32,
}

/// One `trun`: its decode time and where its bytes lie in the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    pub decode_time: u64,
    pub data: Range<u64>,
    pub samples: Vec<RunSample>,
}

/// Most samples accepted in one trun (a 2 s segment has ~100).
const MAX_RUN_SAMPLES: u32 = 1_000_000;

/// Reads the runs of the (first) track of a media segment. `total_len` is the
/// object's full length when known (data ranges must lie within it).
pub(crate) fn read_segment(data: &[u8], init: &InitInfo, total_len: Option<u64>) -> Result<Vec<Run>, String> {
    let mut runs = Vec::new();
    for (typ, moof_start, moof) in boxes(data, 0..data.len())? {
        if &typ != b"moof" {
            continue;
        }
        for (t, _, traf) in boxes(data, moof.clone())? {
            if &t != b"traf" {
                continue;
            }
            let tfhd = find(data, traf.clone(), b"tfhd")?.ok_or("traf without tfhd")?;
            let flags = be32(data, tfhd.start)? & 0xff_ffff;
            let mut at = tfhd.start + 8;
            let mut base = moof_start as u64;
            if flags & 0x1 != 0 {
                base = be64(data, at)?;
                at += 8;
            }
            if flags & 0x2 != 0 {
                at += 4;
            }
            let mut def_dur = init.default_duration;
            let mut def_size = init.default_size;
            let mut def_flags = init.default_flags;
            if flags & 0x8 != 0 {
                def_dur = be32(data, at)?;
                at += 4;
            }
            if flags & 0x10 != 0 {
                def_size = be32(data, at)?;
                at += 4;
            }
            if flags & 0x20 != 0 {
                def_flags = be32(data, at)?;
            }
            let mut decode_time = match find(data, traf.clone(), b"tfdt")? {
                Some(r) if data.get(r.start) == Some(&1) => be64(data, r.start + 4)?,
                Some(r) => be32(data, r.start + 4)? as u64,
                None => return Err("traf without tfdt".into()),
            };
            let mut next_data = base;
            for (tt, _, trun) in boxes(data, traf)? {
                if &tt != b"trun" {
                    continue;
                }
                let vf = be32(data, trun.start)?;
                let (version, tf) = (vf >> 24, vf & 0xff_ffff);
                let count = be32(data, trun.start + 4)?;
                if count > MAX_RUN_SAMPLES {
                    return Err(format!("trun with {count} samples"));
                }
                let mut p = trun.start + 8;
                let mut start = next_data;
                if tf & 0x1 != 0 {
                    start = base.checked_add_signed(be32(data, p)? as i32 as i64).ok_or("data offset out of range")?;
                    p += 4;
                }
                let mut first_flags = None;
                if tf & 0x4 != 0 {
                    first_flags = Some(be32(data, p)?);
                    p += 4;
                }
                let mut samples = Vec::with_capacity(count as usize);
                let mut total: u64 = 0;
                for i in 0..count {
                    let mut s = RunSample { duration: def_dur, size: def_size, sync: false, cto: 0 };
                    let mut fl = if i == 0 { first_flags.unwrap_or(def_flags) } else { def_flags };
                    if tf & 0x100 != 0 {
                        s.duration = be32(data, p)?;
                        p += 4;
                    }
                    if tf & 0x200 != 0 {
                        s.size = be32(data, p)?;
                        p += 4;
                    }
                    if tf & 0x400 != 0 {
                        fl = be32(data, p)?;
                        p += 4;
                    }
                    if tf & 0x800 != 0 {
                        let raw = be32(data, p)?;
                        s.cto = if version == 0 { i32::try_from(raw).unwrap_or(i32::MAX) } else { raw as i32 };
                        p += 4;
                    }
                    s.sync = fl & 0x0001_0000 == 0;
                    total += s.size as u64;
                    samples.push(s);
                }
                let end = start.checked_add(total).ok_or("sample sizes overflow")?;
                if let Some(len) = total_len
                    && end > len
                {
                    return Err(format!("samples end at byte {end} but the object has {len}"));
                }
                next_data = end;
                let dur: u64 = samples.iter().map(|s| s.duration as u64).sum();
                runs.push(Run { decode_time, data: start..end, samples });
                decode_time = decode_time.saturating_add(dur);
            }
        }
        break; // one moof per segment
    }
    if runs.is_empty() {
        return Err("no moof/traf/trun found".into());
    }
    Ok(runs)
}
