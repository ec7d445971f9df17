//! CMAF fMP4 writing: the init segment (ftyp+moov with mvex, built by
//! `shiguredo_mp4` from the sample entry) and media segments
//! (styp+moof+mdat, one track, one trun, written here).

use std::num::NonZeroU32;

use shiguredo_mp4::boxes::SampleEntry;
use shiguredo_mp4::mux::{Fmp4SegmentMuxer, Sample, SegmentMuxerOptions};

use crate::TrackKind;
use crate::boxw::BoxWriter;

/// Track id used in every init and media segment (one track per file).
pub(crate) const TRACK_ID: u32 = 1;

/// Sample flags: sync sample (depends on no other).
pub(crate) const FLAGS_SYNC: u32 = 0x0200_0000;
/// Sample flags: non-sync sample that depends on others.
pub(crate) const FLAGS_NON_SYNC: u32 = 0x0101_0000;

/// Builds `ftyp`+`moov` for one track with `entry` as its only sample entry.
pub(crate) fn init_segment(
    kind: TrackKind,
    timescale: u32,
    entry: &SampleEntry,
    creation_unix_secs: u64,
) -> Result<Vec<u8>, String> {
    let options = SegmentMuxerOptions {
        creation_timestamp: std::time::Duration::from_secs(creation_unix_secs),
        ..Default::default()
    };
    let mut m = Fmp4SegmentMuxer::with_options(options).map_err(|e| e.to_string())?;
    let ts = NonZeroU32::new(timescale).ok_or("timescale 0")?;
    // The muxer learns its tracks from the samples it is given: describe one empty
    // sample (its moof is discarded) so that the init segment has the track.
    let probe = Sample {
        track_kind: match kind {
            TrackKind::Video => shiguredo_mp4::TrackKind::Video,
            TrackKind::Audio => shiguredo_mp4::TrackKind::Audio,
        },
        sample_entry: Some(entry.clone()),
        keyframe: true,
        timescale: ts,
        duration: 1,
        composition_time_offset: None,
        data_offset: 0,
        data_size: 0,
    };
    m.create_media_segment_metadata(&[probe]).map_err(|e| e.to_string())?;
    m.init_segment_bytes().map_err(|e| e.to_string())
}

/// One sample of a media segment; its bytes are in the segment's payload buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SampleInfo {
    pub duration: u32,
    pub size: u32,
    pub sync: bool,
}

/// Builds a media segment: `styp`, `moof` (mfhd, traf: tfhd, tfdt, trun) and
/// `mdat` holding `payload`. Composition offsets are all zero (WebRTC sends no
/// B-frames), so `trun` carries no composition offset field.
pub(crate) fn media_segment(sequence: u32, base_decode_time: u64, samples: &[SampleInfo], payload: &[u8]) -> Vec<u8> {
    let mut w = BoxWriter::with_capacity(payload.len() + 64 + samples.len() * 12);
    w.begin(b"styp");
    w.bytes(b"msdh");
    w.u32(0);
    w.bytes(b"msdh");
    w.bytes(b"cmfs");
    w.end();
    let moof_start = w.buf.len();
    w.begin(b"moof");
    w.begin_full(b"mfhd", 0, 0);
    w.u32(sequence);
    w.end();
    w.begin(b"traf");
    // default-base-is-moof
    w.begin_full(b"tfhd", 0, 0x02_0000);
    w.u32(TRACK_ID);
    w.end();
    w.begin_full(b"tfdt", 1, 0);
    w.u64(base_decode_time);
    w.end();
    // data-offset, sample-duration, sample-size, sample-flags present
    w.begin_full(b"trun", 0, 0x0001 | 0x0100 | 0x0200 | 0x0400);
    w.u32(samples.len() as u32);
    let data_offset_pos = w.buf.len();
    w.i32(0);
    for s in samples {
        w.u32(s.duration);
        w.u32(s.size);
        w.u32(if s.sync { FLAGS_SYNC } else { FLAGS_NON_SYNC });
    }
    w.end();
    w.end(); // traf
    w.end(); // moof
    let moof_len = w.buf.len() - moof_start;
    let data_offset = (moof_len + 8) as i32;
    w.buf[data_offset_pos..data_offset_pos + 4].copy_from_slice(&data_offset.to_be_bytes());
    w.u32((payload.len() + 8) as u32);
    w.bytes(b"mdat");
    w.bytes(payload);
    w.into_bytes()
}
