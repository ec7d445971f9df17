//! Per-codec bitstream inspection: keyframe detection, the MP4 sample entry
//! (avc1/hvc1/vp08/vp09/av01/Opus) with its DASH `codecs` string and picture size,
//! and conversion of a WebRTC frame into an MP4 sample payload.
//!
//! H264/H265 access units arrive in Annex-B form: parameter sets (SPS/PPS/VPS) and
//! access unit delimiters are taken out of the samples (they live in the sample
//! entry; a change of parameters starts a new Period) and the remaining NAL units
//! are written 4-byte length-prefixed. AV1 temporal delimiters are dropped.

use shiguredo_mp4::bitstream::{av1, h264, h265, opus, vp8, vp9};
use shiguredo_mp4::boxes::SampleEntry;

use crate::Codec;
use crate::nal::{push_length_prefixed, split_annexb};

/// What a track's init segment and manifest entry are built from.
#[derive(Debug, Clone)]
pub(crate) struct TrackConfig {
    pub entry: SampleEntry,
    pub codecs: String,
    pub width: u16,
    pub height: u16,
    pub channels: u16,
    /// Identity of the decoder configuration: when it changes a new Period starts.
    pub key: Vec<u8>,
}

/// The result of looking at one frame.
pub(crate) struct Inspected {
    pub keyframe: bool,
    /// Present on keyframes whose decoder configuration could be parsed.
    pub config: Option<TrackConfig>,
}

/// Per-track codec state (H264/H265 parameter sets may arrive before the keyframe).
#[derive(Default)]
pub(crate) struct CodecState {
    vps: Option<Vec<u8>>,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

impl CodecState {
    /// Inspects `data`; `hint` is the sender's keyframe flag. Errors describe why the
    /// frame cannot be used (it is then dropped by the caller).
    pub fn inspect(&mut self, codec: Codec, data: &[u8], hint: bool) -> Result<Inspected, String> {
        match codec {
            Codec::H264 => self.h264(data),
            Codec::H265 => self.h265(data),
            Codec::Vp8 => inspect_vp8(data),
            Codec::Vp9 => inspect_vp9(data),
            Codec::Av1 => inspect_av1(data, hint),
            Codec::Opus => Ok(Inspected { keyframe: true, config: Some(opus_config()) }),
            Codec::Other => Err("codec not recordable".into()),
        }
    }

    fn h264(&mut self, data: &[u8]) -> Result<Inspected, String> {
        let mut idr = false;
        for nal in split_annexb(data) {
            match nal[0] & 0x1f {
                5 => idr = true,
                7 => self.sps = Some(nal.to_vec()),
                8 => self.pps = Some(nal.to_vec()),
                _ => {}
            }
        }
        if !idr {
            return Ok(Inspected { keyframe: false, config: None });
        }
        let (Some(sps), Some(pps)) = (&self.sps, &self.pps) else {
            return Err("H264 IDR frame without SPS/PPS seen before it".into());
        };
        let cfg = h264::H264SampleEntryConfig { length_size: h264::LengthSize::FourBytes };
        let avc1 = h264::build_avc1_box(std::slice::from_ref(sps), std::slice::from_ref(pps), &cfg)
            .map_err(|e| format!("H264 SPS/PPS rejected: {e}"))?;
        let (width, height) = (avc1.visual.width, avc1.visual.height);
        let entry = SampleEntry::Avc1(avc1);
        let mut key = sps.clone();
        key.extend_from_slice(pps);
        Ok(Inspected { keyframe: true, config: Some(video_config(entry, width, height, key)?) })
    }

    fn h265(&mut self, data: &[u8]) -> Result<Inspected, String> {
        let mut irap = false;
        for nal in split_annexb(data) {
            if nal.len() < 2 {
                continue;
            }
            match (nal[0] >> 1) & 0x3f {
                16..=21 => irap = true,
                32 => self.vps = Some(nal.to_vec()),
                33 => self.sps = Some(nal.to_vec()),
                34 => self.pps = Some(nal.to_vec()),
                _ => {}
            }
        }
        if !irap {
            return Ok(Inspected { keyframe: false, config: None });
        }
        let (Some(vps), Some(sps), Some(pps)) = (&self.vps, &self.sps, &self.pps) else {
            return Err("H265 IRAP frame without VPS/SPS/PPS seen before it".into());
        };
        let cfg = h265::H265SampleEntryConfig {
            length_size: h265::LengthSize::FourBytes,
            avg_frame_rate: h265::H265SampleEntryConfig::AVG_FRAME_RATE_UNSPECIFIED,
            constant_frame_rate: h265::H265ConstantFrameRate::Unknown,
        };
        let hvc1 =
            h265::build_hvc1_box(std::slice::from_ref(vps), std::slice::from_ref(sps), std::slice::from_ref(pps), &cfg)
                .map_err(|e| format!("H265 VPS/SPS/PPS rejected: {e}"))?;
        let (width, height) = (hvc1.visual.width, hvc1.visual.height);
        let mut key = vps.clone();
        key.extend_from_slice(sps);
        key.extend_from_slice(pps);
        Ok(Inspected { keyframe: true, config: Some(video_config(SampleEntry::Hvc1(hvc1), width, height, key)?) })
    }
}

fn video_config(entry: SampleEntry, width: u16, height: u16, key: Vec<u8>) -> Result<TrackConfig, String> {
    let codecs =
        shiguredo_mp4::codec_string::from_sample_entry(&entry).map_err(|e| format!("no codecs string: {e}"))?;
    Ok(TrackConfig { entry, codecs, width, height, channels: 0, key })
}

fn vp8_config(width: u16, height: u16) -> vp8::Vp8SampleEntryConfig {
    vp8::Vp8SampleEntryConfig {
        video_full_range_flag: false,
        colour_primaries: vp8::Vp8SampleEntryConfig::COLOUR_PRIMARIES_BT601,
        transfer_characteristics: vp8::Vp8SampleEntryConfig::TRANSFER_CHARACTERISTICS_BT601,
        matrix_coefficients: vp8::Vp8SampleEntryConfig::MATRIX_COEFFICIENTS_BT601,
        width,
        height,
    }
}

/// The encoded `vp08` sample entry for a picture size (the export's stsd entry
/// for VP8, which is recorded as WebM).
pub(crate) fn vp08_entry_bytes(width: u16, height: u16) -> Result<Vec<u8>, String> {
    use shiguredo_mp4::Encode;
    SampleEntry::Vp08(vp8::build_vp08_box(&vp8_config(width, height))).encode_to_vec().map_err(|e| e.to_string())
}

fn inspect_vp8(data: &[u8]) -> Result<Inspected, String> {
    let h = vp8::parse_frame_header(data).map_err(|e| format!("VP8 frame header: {e}"))?;
    let Some(info) = h.keyframe.filter(|_| h.frame_type == vp8::Vp8FrameType::Key) else {
        return Ok(Inspected { keyframe: false, config: None });
    };
    if info.width == 0 || info.height == 0 {
        return Err("VP8 keyframe with a zero picture size".into());
    }
    let entry = SampleEntry::Vp08(vp8::build_vp08_box(&vp8_config(info.width, info.height)));
    let key = [&b"vp8"[..], &info.width.to_be_bytes(), &info.height.to_be_bytes()].concat();
    let mut config = video_config(entry, info.width, info.height, key)?;
    // Recorded as WebM (see `crate::webm`): the WebM codecs string.
    config.codecs = "vp8".into();
    Ok(Inspected { keyframe: true, config: Some(config) })
}

/// VP9 level (Annex A of the VP9 bitstream spec) from the picture size alone.
fn vp9_level(width: u32, height: u32) -> u8 {
    const LEVELS: [(u64, u8); 8] = [
        (36_864, 10),
        (73_728, 11),
        (122_880, 20),
        (245_760, 21),
        (552_960, 30),
        (983_040, 31),
        (2_228_224, 41),
        (8_912_896, 51),
    ];
    let samples = width as u64 * height as u64;
    LEVELS.iter().find(|(max, _)| samples <= *max).map(|(_, l)| *l).unwrap_or(61)
}

fn inspect_vp9(data: &[u8]) -> Result<Inspected, String> {
    let h = vp9::parse_frame_header(data).map_err(|e| format!("VP9 frame header: {e}"))?;
    let key = h.frame_type == vp9::Vp9FrameType::Key && h.show_existing_frame.is_none();
    if !key {
        return Ok(Inspected { keyframe: false, config: None });
    }
    let vp9::Vp9FrameSize::Resolved { width, height } = h.frame_size else {
        return Err("VP9 keyframe without a frame size".into());
    };
    let (w16, h16) = (u16::try_from(width).unwrap_or(0), u16::try_from(height).unwrap_or(0));
    if w16 == 0 || h16 == 0 {
        return Err(format!("VP9 keyframe with picture size {width}x{height}"));
    }
    let cfg = vp9::Vp9SampleEntryConfig {
        level: vp9_level(width, height),
        colour_primaries: vp9::Vp9SampleEntryConfig::COLOUR_PRIMARIES_BT601,
        transfer_characteristics: vp9::Vp9SampleEntryConfig::TRANSFER_CHARACTERISTICS_BT601,
        matrix_coefficients: vp9::Vp9SampleEntryConfig::MATRIX_COEFFICIENTS_BT601,
        width: w16,
        height: h16,
    };
    let b = vp9::build_vp09_box(&h, &cfg).map_err(|e| format!("VP9 sample entry: {e}"))?;
    let key = [
        &b"vp9"[..],
        &[h.profile, h.bit_depth, h.subsampling_x, h.subsampling_y],
        &w16.to_be_bytes(),
        &h16.to_be_bytes(),
    ]
    .concat();
    Ok(Inspected { keyframe: true, config: Some(video_config(SampleEntry::Vp09(b), w16, h16, key)?) })
}

fn inspect_av1(data: &[u8], hint: bool) -> Result<Inspected, String> {
    let obus = av1::parse_obus(data, av1::Av1ObuParseContext::Sample).map_err(|e| format!("AV1 OBUs: {e}"))?;
    let Some(seq_obu) = obus.iter().find(|o| o.obu_type == av1::Av1ObuType::SequenceHeader) else {
        return Ok(Inspected { keyframe: false, config: None });
    };
    let seq = av1::parse_sequence_header(seq_obu.payload).map_err(|e| format!("AV1 sequence header: {e}"))?;
    let rap = obus
        .iter()
        .find(|o| matches!(o.obu_type, av1::Av1ObuType::Frame | av1::Av1ObuType::FrameHeader))
        .and_then(|o| av1::parse_frame_header_prefix(o.payload, &seq).ok())
        .map(|p| p.is_rap())
        .unwrap_or(hint);
    if !rap {
        return Ok(Inspected { keyframe: false, config: None });
    }
    let cfg = av1::Av1SampleEntryConfig { initial_presentation_delay_minus_one: None };
    let b = av1::build_av01_box(&seq, seq_obu.obu, &cfg).map_err(|e| format!("AV1 sample entry: {e}"))?;
    let (w, h) = (b.visual.width, b.visual.height);
    Ok(Inspected { keyframe: true, config: Some(video_config(SampleEntry::Av01(b), w, h, seq_obu.obu.to_vec())?) })
}

fn opus_config() -> TrackConfig {
    let cfg = opus::OpusSampleEntryConfig {
        channel_count: opus::ChannelCount::Stereo,
        pre_skip: 0,
        input_sample_rate: 48_000,
        output_gain: 0,
    };
    TrackConfig {
        entry: SampleEntry::Opus(opus::build_opus_box(&cfg)),
        codecs: "opus".into(),
        width: 0,
        height: 0,
        channels: 2,
        key: b"opus".to_vec(),
    }
}

/// Appends the MP4 sample payload for `data` to `out`; returns the bytes added
/// (0 = nothing decodable in the frame).
pub(crate) fn append_sample(codec: Codec, data: &[u8], out: &mut Vec<u8>) -> usize {
    let before = out.len();
    match codec {
        Codec::H264 => {
            for nal in split_annexb(data) {
                if !matches!(nal[0] & 0x1f, 7..=9) {
                    push_length_prefixed(out, nal);
                }
            }
        }
        Codec::H265 => {
            for nal in split_annexb(data) {
                if !matches!((nal[0] >> 1) & 0x3f, 32..=35) {
                    push_length_prefixed(out, nal);
                }
            }
        }
        Codec::Av1 => {
            if let Ok(obus) = av1::parse_obus(data, av1::Av1ObuParseContext::Sample) {
                for o in obus {
                    if o.obu_type != av1::Av1ObuType::TemporalDelimiter {
                        out.extend_from_slice(o.obu);
                    }
                }
            }
        }
        Codec::Vp8 | Codec::Vp9 | Codec::Opus => out.extend_from_slice(data),
        Codec::Other => {}
    }
    out.len() - before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_never_panics() {
        let inputs: [&[u8]; 8] = [
            &[],
            &[0],
            &[0, 0, 1],
            &[0, 0, 1, 0x65],
            &[0, 0, 1, 0x67, 0xff],
            &[0x9d, 0x01, 0x2a],
            &[0xff; 40],
            &[0x12, 0x00, 0x0a, 0x0b, 0, 0, 0],
        ];
        for codec in [Codec::H264, Codec::H265, Codec::Vp8, Codec::Vp9, Codec::Av1, Codec::Opus, Codec::Other] {
            for data in inputs {
                let mut st = CodecState::default();
                let _ = st.inspect(codec, data, true);
                let _ = st.inspect(codec, data, false);
                let mut out = Vec::new();
                append_sample(codec, data, &mut out);
            }
        }
    }

    #[test]
    fn h264_strips_parameter_sets_and_length_prefixes() {
        let au = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 7, 8];
        let mut out = Vec::new();
        assert_eq!(append_sample(Codec::H264, &au, &mut out), 7);
        assert_eq!(out, vec![0, 0, 0, 3, 0x65, 7, 8]);
    }

    #[test]
    fn vp9_levels() {
        assert_eq!(vp9_level(640, 360), 21);
        assert_eq!(vp9_level(1280, 720), 31);
        assert_eq!(vp9_level(1920, 1080), 41);
    }
}
