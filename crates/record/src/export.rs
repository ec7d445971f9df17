//! Export planner: one day's recording (manifest + init + media segments) →
//! ONE progressive MP4 (`ftyp`, `moov` with full sample tables, `mdat`) that the
//! caller streams without holding it in memory.
//!
//! Use: [`ExportPlan::new`] with the manifest; read each of
//! [`ExportPlan::objects`] (paths relative to the manifest's folder) and
//! [`ExportPlan::feed`] it (media segments: at least up to the end of their
//! `moof`); then write [`ExportPlan::header`] followed by the byte ranges of
//! [`ExportPlan::body_ranges`], in order. Sessions (Periods) are concatenated on
//! the day's timeline: a gap between them extends the last sample before it, and a
//! track that starts late gets an empty edit, so audio and video stay in sync.
//! `from`/`to` (Unix ms) select whole segments that overlap the range.

mod boxread;
mod moov;

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::ops::Range;

use crate::TrackKind;
use crate::mpd::Adaptation;
use crate::mpd_parse;
use boxread::{InitInfo, Run};
use moov::TrackTables;

/// Why an export cannot be made.
#[derive(Debug)]
pub enum ExportError {
    /// The manifest could not be read.
    Manifest(String),
    /// A recorded object is missing, malformed or does not match the manifest.
    Object { path: String, reason: String },
    /// Nothing was recorded in the requested time range.
    Empty,
    /// Reading or writing failed.
    Io(std::io::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Manifest(e) => write!(f, "manifest unreadable: {e}"),
            ExportError::Object { path, reason } => write!(f, "recorded object {path}: {reason}"),
            ExportError::Empty => write!(f, "nothing was recorded in the requested time range"),
            ExportError::Io(e) => write!(f, "export I/O: {e}"),
        }
    }
}

impl std::error::Error for ExportError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Init,
    Segment,
}

#[derive(Debug, Clone)]
struct Object {
    path: String,
    role: Role,
    kind: TrackKind,
    /// Index into `inits` of the init segment this object belongs to.
    init: usize,
    /// Start of the Period on the day's timeline, ms since `availabilityStartTime`.
    period_start_ms: u64,
    /// End of the segment in ms from the Period start (0 for init segments).
    seg_end_ms: u64,
}

#[derive(Debug, Clone)]
struct Chunk {
    kind: TrackKind,
    path: String,
    data: Range<u64>,
    init: usize,
    /// Decode time of the first sample in ms·timescale units on the day's timeline
    /// (i.e. in the export track's timescale).
    start: u64,
    samples: Vec<boxread::RunSample>,
}

/// A planned export. See the module documentation for the calling sequence.
pub struct ExportPlan {
    ast_ms: u64,
    objects: Vec<Object>,
    object_index: HashMap<String, usize>,
    /// Init segment path per init slot, with its parsed content once fed.
    inits: Vec<(String, TrackKind, u32, Option<InitInfo>)>,
    chunks: Vec<Chunk>,
    timescales: HashMap<TrackKind, u32>,
    body: Vec<(String, Range<u64>)>,
}

impl ExportPlan {
    /// Plans an export of `manifest_xml`, optionally limited to the segments that
    /// overlap `[from_ms, to_ms)` (Unix epoch milliseconds).
    pub fn new(manifest_xml: &str, from_ms: Option<u64>, to_ms: Option<u64>) -> Result<Self, ExportError> {
        let mpd = mpd_parse::parse(manifest_xml).map_err(ExportError::Manifest)?;
        let mut plan = ExportPlan {
            ast_ms: mpd.ast_ms,
            objects: Vec::new(),
            object_index: HashMap::new(),
            inits: Vec::new(),
            chunks: Vec::new(),
            timescales: HashMap::new(),
            body: Vec::new(),
        };
        let from = from_ms.unwrap_or(0);
        let to = to_ms.unwrap_or(u64::MAX);
        for p in &mpd.periods {
            for a in &p.sets {
                plan.add_adaptation(a, p.start_ms, from, to)?;
            }
        }
        if plan.objects.iter().all(|o| o.role == Role::Init) {
            return Err(ExportError::Empty);
        }
        Ok(plan)
    }

    fn add_adaptation(&mut self, a: &Adaptation, period_start_ms: u64, from: u64, to: u64) -> Result<(), ExportError> {
        let ts = a.timescale.max(1) as u128;
        let mut selected: Vec<(u32, u64)> = Vec::new();
        for (i, s) in a.segments.iter().enumerate() {
            let start = self.ast_ms as u128 + period_start_ms as u128 + s.t as u128 * 1000 / ts;
            let end = self.ast_ms as u128 + period_start_ms as u128 + (s.t as u128 + s.d as u128) * 1000 / ts;
            if end > from as u128 && start < to as u128 {
                let end_ms = ((s.t as u128 + s.d as u128) * 1000 / ts) as u64;
                selected.push((a.start_number.saturating_add(i as u32), end_ms));
            }
        }
        if selected.is_empty() {
            return Ok(());
        }
        check_path(&a.init)?;
        self.timescales.entry(a.kind).or_insert(a.timescale.max(1));
        let init = self.inits.len();
        self.inits.push((a.init.clone(), a.kind, a.timescale.max(1), None));
        self.push_object(Object {
            path: a.init.clone(),
            role: Role::Init,
            kind: a.kind,
            init,
            period_start_ms,
            seg_end_ms: 0,
        });
        for (n, seg_end_ms) in selected {
            let path = a.segment_path(n);
            check_path(&path)?;
            self.push_object(Object { path, role: Role::Segment, kind: a.kind, init, period_start_ms, seg_end_ms });
        }
        Ok(())
    }

    fn push_object(&mut self, o: Object) {
        self.object_index.insert(o.path.clone(), self.objects.len());
        self.objects.push(o);
    }

    /// Objects to read and feed, relative to the manifest's folder, in order
    /// (each init segment comes before its media segments).
    pub fn objects(&self) -> Vec<String> {
        self.objects.iter().map(|o| o.path.clone()).collect()
    }

    /// Feeds one object's bytes. `total_len` is the object's full size when only
    /// a prefix (at least the `moof`) is given; `None` means `bytes` is whole.
    pub fn feed(&mut self, path: &str, bytes: &[u8], total_len: Option<u64>) -> Result<(), ExportError> {
        let err = |reason: String| ExportError::Object { path: path.to_string(), reason };
        let Some(&idx) = self.object_index.get(path) else {
            return Err(err("not part of this export".into()));
        };
        let o = self.objects[idx].clone();
        match o.role {
            Role::Init => {
                let info = if crate::webm::is_webm(bytes) {
                    boxread::read_webm_init(bytes)
                } else {
                    boxread::read_init(bytes)
                }
                .map_err(err)?;
                let slot = &mut self.inits[o.init];
                if !info.webm && info.timescale != slot.2 {
                    return Err(err(format!("timescale {} but the manifest says {}", info.timescale, slot.2)));
                }
                slot.3 = Some(info);
            }
            Role::Segment => {
                let Some(info) = self.inits[o.init].3.as_ref() else {
                    return Err(err("fed before its init segment".into()));
                };
                let runs: Vec<Run> = if info.webm {
                    if total_len.is_some_and(|n| n != bytes.len() as u64) {
                        return Err(err("WebM segments must be fed whole".into()));
                    }
                    boxread::read_webm_segment(bytes, o.seg_end_ms).map_err(err)?
                } else {
                    boxread::read_segment(bytes, info, Some(total_len.unwrap_or(bytes.len() as u64))).map_err(err)?
                };
                let out_ts = *self.timescales.get(&o.kind).unwrap_or(&1) as u128;
                let in_ts = info.timescale.max(1) as u128;
                for r in runs {
                    let mut samples = r.samples;
                    if in_ts != out_ts {
                        for s in &mut samples {
                            s.duration = (s.duration as u128 * out_ts / in_ts).max(1) as u32;
                            s.cto = (s.cto as i128 * out_ts as i128 / in_ts as i128) as i32;
                        }
                    }
                    let start = o.period_start_ms as u128 * out_ts / 1000 + r.decode_time as u128 * out_ts / in_ts;
                    self.chunks.push(Chunk {
                        kind: o.kind,
                        path: o.path.clone(),
                        data: r.data,
                        init: o.init,
                        start: start as u64,
                        samples,
                    });
                }
            }
        }
        Ok(())
    }

    /// The bytes before the sample data: ftyp, moov and the mdat header. Call
    /// after every object has been fed; also fixes [`Self::body_ranges`].
    pub fn header(&mut self) -> Result<Vec<u8>, ExportError> {
        if let Some((path, ..)) = self.inits.iter().find(|i| i.3.is_none()) {
            return Err(ExportError::Object { path: path.clone(), reason: "init segment not fed".into() });
        }
        let mut chunks = std::mem::take(&mut self.chunks);
        chunks.retain(|c| !c.samples.is_empty());
        if chunks.is_empty() {
            return Err(ExportError::Empty);
        }
        // Body order: chunks interleaved by time (ms), video first on ties.
        let ms =
            |c: &Chunk, ts: &HashMap<TrackKind, u32>| c.start as u128 * 1000 / *ts.get(&c.kind).unwrap_or(&1) as u128;
        chunks.sort_by_key(|c| (ms(c, &self.timescales), c.kind == TrackKind::Audio));
        let origin_ms = chunks.iter().map(|c| ms(c, &self.timescales)).min().unwrap_or(0);
        let mut offset = 0u64;
        let mut tracks: Vec<TrackTables> = Vec::new();
        let mut entry_maps: Vec<HashMap<usize, u32>> = Vec::new();
        let mut last_dts: Vec<Option<u64>> = Vec::new();
        self.body.clear();
        for c in &chunks {
            let ti = match tracks.iter().position(|t| t.kind == c.kind) {
                Some(i) => i,
                None => {
                    let ts = *self.timescales.get(&c.kind).unwrap_or(&1);
                    tracks.push(TrackTables {
                        kind: c.kind,
                        timescale: ts,
                        width: 0,
                        height: 0,
                        entries: Vec::new(),
                        durations: Vec::new(),
                        sizes: Vec::new(),
                        ctos: Vec::new(),
                        sync: Vec::new(),
                        chunks: Vec::new(),
                        chunk_offsets: Vec::new(),
                        delay_ms: (ms(c, &self.timescales) - origin_ms) as u64,
                    });
                    entry_maps.push(HashMap::new());
                    last_dts.push(None);
                    tracks.len() - 1
                }
            };
            let t = &mut tracks[ti];
            let info = self.inits[c.init].3.as_ref().ok_or(ExportError::Empty)?;
            // Sample description: one per distinct sample entry.
            let sdi = match entry_maps[ti].get(&c.init) {
                Some(s) => *s,
                None => {
                    let entry = info.entries[0].clone();
                    let s = match t.entries.iter().position(|e| *e == entry) {
                        Some(p) => p as u32 + 1,
                        None => {
                            t.entries.push(entry);
                            t.entries.len() as u32
                        }
                    };
                    entry_maps[ti].insert(c.init, s);
                    s
                }
            };
            if t.width == 0 {
                t.width = info.width;
                t.height = info.height;
            }
            // A gap (or overlap) since the previous chunk adjusts the last sample.
            if let (Some(prev), Some(last)) = (last_dts[ti], t.durations.last_mut())
                && c.start > prev
            {
                *last = u32::try_from(c.start - prev).unwrap_or(u32::MAX);
            }
            let first = t.sizes.len();
            let mut dts = c.start;
            for s in &c.samples {
                t.durations.push(s.duration.max(1));
                t.sizes.push(s.size);
                t.ctos.push(s.cto);
                if s.sync {
                    t.sync.push(t.sizes.len() as u32);
                }
                last_dts[ti] = Some(dts);
                dts = dts.saturating_add(s.duration as u64);
            }
            t.chunks.push((first, c.samples.len() as u32, sdi));
            t.chunk_offsets.push(offset);
            offset += c.data.end - c.data.start;
            self.body.push((c.path.clone(), c.data.clone()));
        }
        self.chunks = chunks;
        Ok(moov::header(&tracks, offset))
    }

    /// Byte ranges of the objects to copy after the header, in order (valid after
    /// [`Self::header`]).
    pub fn body_ranges(&self) -> Vec<(String, Range<u64>)> {
        self.body.clone()
    }

    /// Size of the whole MP4: `header_len` plus the body ranges.
    pub fn total_len(&self, header_len: usize) -> u64 {
        header_len as u64 + self.body.iter().map(|(_, r)| r.end - r.start).sum::<u64>()
    }
}

fn check_path(p: &str) -> Result<(), ExportError> {
    if p.is_empty() || p.starts_with('/') || p.contains('\\') || p.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(ExportError::Manifest(format!("unsafe or empty object path \"{p}\" in the manifest")));
    }
    Ok(())
}

/// Exports one day's recording to `out`. `read` returns an object's bytes given
/// its path relative to the manifest's folder; each media segment is read twice
/// (once to plan, once to copy), so at most one segment is in memory at a time.
/// Returns the number of bytes written.
pub fn export_to_writer<R, W>(
    manifest_xml: &str,
    from_ms: Option<u64>,
    to_ms: Option<u64>,
    mut read: R,
    out: &mut W,
) -> Result<u64, ExportError>
where
    R: FnMut(&str) -> std::io::Result<Vec<u8>>,
    W: Write,
{
    let mut plan = ExportPlan::new(manifest_xml, from_ms, to_ms)?;
    for path in plan.objects() {
        let bytes = read(&path).map_err(|e| ExportError::Object { path: path.clone(), reason: e.to_string() })?;
        plan.feed(&path, &bytes, None)?;
    }
    let header = plan.header()?;
    out.write_all(&header).map_err(ExportError::Io)?;
    let mut written = header.len() as u64;
    let mut cached: Option<(String, Vec<u8>)> = None;
    for (path, range) in plan.body_ranges() {
        if cached.as_ref().is_none_or(|(p, _)| *p != path) {
            let bytes = read(&path).map_err(|e| ExportError::Object { path: path.clone(), reason: e.to_string() })?;
            cached = Some((path.clone(), bytes));
        }
        let Some((_, bytes)) = cached.as_ref() else {
            continue;
        };
        let slice =
            usize::try_from(range.start).ok().zip(usize::try_from(range.end).ok()).and_then(|(s, e)| bytes.get(s..e));
        let Some(slice) = slice else {
            return Err(ExportError::Object { path, reason: "object changed since it was planned (shorter)".into() });
        };
        out.write_all(slice).map_err(ExportError::Io)?;
        written += slice.len() as u64;
    }
    Ok(written)
}
