//! The recording state machine: sessions (one DASH Period each), the day's
//! manifest, segment cutting, rotation and publisher restarts.
//!
//! Timing: each track's first frame anchors it on the session's wall clock
//! (`offset = (now - session start) * clock_rate`); from then on only RTP
//! timestamp deltas move it, so durations are exact and the tracks stay aligned to
//! within the arrival jitter of their first frames. A new Period made by rotation
//! keeps the anchors (shifted by the rotation point), so continuous media stays
//! continuous across Periods.

use std::time::SystemTime;

use crate::codec::{CodecState, TrackConfig};
use crate::mpd::{Mpd, Period};
use crate::time::{civil_from_days, day_of, unix_ms, unix_us};
use crate::track::{Anchor, Flushed, Track};
use crate::{Codec, Frame, ObjectKind, Output, RecorderConfig, TrackKind, fmp4, mpd_parse, webm};

/// A forward jump of more than this many seconds between two frames of a track is
/// handled as a publisher restart (a new Period).
const MAX_JUMP_SECS: u64 = 30;

struct Session {
    id: String,
    /// `{stream}/{YYYY}/{MM}/{DD}`
    day_dir: String,
    day: i64,
    /// Wall-clock start of the Period in µs since the Unix epoch.
    start_us: u64,
    started_at: SystemTime,
    video: Option<Track>,
    audio: Option<Track>,
    bytes: u64,
    segments: u32,
}

/// Why a session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndReason {
    Finish,
    NewDay,
    Rotate,
}

pub struct Recorder {
    stream: String,
    base_id: String,
    cfg: RecorderConfig,
    existing: Option<String>,
    mpd: Option<Mpd>,
    mpd_day: i64,
    session: Option<Session>,
    sessions_started: u32,
    video_codec: CodecState,
    audio_codec: CodecState,
    /// Anchors carried into the next session by a rotation (kind, anchor, clock).
    carry: Vec<(TrackKind, Anchor)>,
    waiting_keyframe: bool,
    finished: bool,
    warned: Vec<&'static str>,
}

/// A stream or session id as a storage path segment: the one-to-one encoding the
/// manager and the node also use (`wishcast_api::storage_name::encode_segment`).
fn safe_component(s: &str) -> String {
    wishcast_api::storage_name::encode_segment(s)
}

impl Recorder {
    pub fn new(
        stream: &str,
        session_id: &str,
        cfg: RecorderConfig,
        _now: SystemTime,
        existing_manifest: Option<&str>,
    ) -> Self {
        Recorder {
            stream: safe_component(stream),
            base_id: safe_component(session_id),
            cfg,
            existing: existing_manifest.map(str::to_string),
            mpd: None,
            mpd_day: i64::MIN,
            session: None,
            sessions_started: 0,
            video_codec: CodecState::default(),
            audio_codec: CodecState::default(),
            carry: Vec::new(),
            waiting_keyframe: false,
            finished: false,
            warned: Vec::new(),
        }
    }

    /// True while waiting for a video keyframe (the node then asks the publisher
    /// for one): before the first one, after a reported gap, and when the open
    /// video segment has run past twice the target without a keyframe.
    pub fn wants_keyframe(&self) -> bool {
        if self.finished {
            return false;
        }
        if self.waiting_keyframe {
            return true;
        }
        let Some(v) = self.session.as_ref().and_then(|s| s.video.as_ref()) else {
            return false;
        };
        let target = self.cfg.segment_target.as_millis() as u64 * v.timescale as u64 / 1000;
        match (v.segment_start(), v.pending_dts()) {
            (Some(s), Some(p)) => p.saturating_sub(s) > 2 * target.max(1),
            _ => false,
        }
    }

    /// The publisher's video lost frames (str0m `MediaData::contiguous == false`):
    /// video samples are dropped until the next keyframe. The held-back sample then
    /// lasts until that keyframe, so the timeline has no hole.
    pub fn video_discontinuity(&mut self) {
        if self.session.as_ref().is_some_and(|s| s.video.is_some()) {
            self.waiting_keyframe = true;
        }
    }

    fn warn_once(&mut self, key: &'static str, msg: String, out: &mut Vec<Output>) {
        if !self.warned.contains(&key) {
            self.warned.push(key);
            out.push(Output::Warning(msg));
        }
    }

    pub fn push(&mut self, frame: Frame<'_>, now: SystemTime, out: &mut Vec<Output>) {
        self.push_inner(frame, now, out, true);
    }

    fn push_inner(&mut self, frame: Frame<'_>, now: SystemTime, out: &mut Vec<Output>, may_restart: bool) {
        if self.finished {
            self.warn_once("finished", "recorder: frame after finish() ignored".into(), out);
            return;
        }
        let codec_ok = match frame.kind {
            TrackKind::Video => matches!(frame.codec, Codec::H264 | Codec::H265 | Codec::Vp8 | Codec::Vp9 | Codec::Av1),
            TrackKind::Audio => frame.codec == Codec::Opus,
        };
        if !codec_ok {
            let msg = format!(
                "recorder: {:?} {:?} frames are not recorded (only H264/H265/VP8/VP9/AV1 video and Opus audio)",
                frame.kind, frame.codec
            );
            self.warn_once(if frame.kind == TrackKind::Video { "codec-v" } else { "codec-a" }, msg, out);
            return;
        }
        if frame.clock_rate == 0 || frame.data.is_empty() {
            self.warn_once("empty", "recorder: frame with clock rate 0 or no data dropped".into(), out);
            return;
        }
        let state = match frame.kind {
            TrackKind::Video => &mut self.video_codec,
            TrackKind::Audio => &mut self.audio_codec,
        };
        let info = match state.inspect(frame.codec, frame.data, frame.keyframe) {
            Ok(i) => i,
            Err(e) => {
                self.warn_once("bitstream", format!("recorder: frame dropped: {e}"), out);
                return;
            }
        };
        let keyframe = info.keyframe;

        let track_exists = self.session.as_ref().is_some_and(|s| match frame.kind {
            TrackKind::Video => s.video.is_some(),
            TrackKind::Audio => s.audio.is_some(),
        });
        if frame.kind == TrackKind::Video
            && (!track_exists || self.waiting_keyframe)
            && !(keyframe && info.config.is_some())
        {
            self.waiting_keyframe = true;
            return;
        }

        // Session and track set-up.
        if self.session.is_none() {
            self.start_session(now, unix_us(now), out);
        }
        if !track_exists {
            let Some(config) = info.config.clone() else {
                return;
            };
            self.add_track(frame.kind, frame.codec, frame.clock_rate, frame.rtp_time, config, now, out);
        }
        if frame.kind == TrackKind::Video && keyframe {
            self.waiting_keyframe = false;
        }

        let Some(track) = self.track(frame.kind) else {
            return;
        };
        if track.timescale != frame.clock_rate || track.codec != frame.codec {
            if may_restart {
                let msg = format!("recorder: {:?} codec or clock rate changed: new Period", frame.kind);
                self.warn_once("codec-change", msg, out);
                self.publisher_restarted(now, out);
                self.push_inner(frame, now, out, false);
            }
            return;
        }
        let Some(dts) = track.anchor.dts(frame.rtp_time) else {
            self.warn_once(
                "backwards",
                "recorder: frame older than the track start dropped (timestamp went backwards)".into(),
                out,
            );
            return;
        };
        let Ok(dts) = u64::try_from(dts) else {
            // Audio from just before a rotation point.
            return;
        };
        if let Some(p) = track.pending_dts() {
            if dts <= p {
                self.warn_once(
                    "backwards",
                    "recorder: frame with a timestamp not after the previous one dropped (reordered or repeated)"
                        .into(),
                    out,
                );
                return;
            }
            if dts - p > MAX_JUMP_SECS * track.timescale as u64 {
                if may_restart {
                    let msg = format!(
                        "recorder: {:?} timestamp jumped by {} s: handled as a publisher restart (new Period)",
                        frame.kind,
                        (dts - p) / track.timescale as u64
                    );
                    self.warn_once("jump", msg, out);
                    self.publisher_restarted(now, out);
                    self.push_inner(frame, now, out, false);
                }
                return;
            }
        }

        // Rotation and parameter changes happen at a keyframe (any audio frame
        // when the session has no video).
        let has_video = self.session.as_ref().is_some_and(|s| s.video.is_some());
        let at_rotation_point = match frame.kind {
            TrackKind::Video => keyframe,
            TrackKind::Audio => !has_video,
        };
        if at_rotation_point {
            let new_config = match (&info.config, frame.kind) {
                (Some(c), TrackKind::Video) if self.track(TrackKind::Video).is_some_and(|t| t.config.key != c.key) => {
                    Some(c.clone())
                }
                _ => None,
            };
            let reason = self.rotation_due(now);
            if reason.is_some() || new_config.is_some() {
                self.rotate(frame.kind, dts, reason.unwrap_or(EndReason::Rotate), new_config, now, out);
                // The frame now starts the new session at dts 0.
                let Some(t) = self.track(frame.kind) else {
                    return;
                };
                let Some(dts) = t.anchor.dts(frame.rtp_time).and_then(|d| u64::try_from(d).ok()) else {
                    return;
                };
                self.append(frame, dts, keyframe, now, out);
                return;
            }
        }
        self.append(frame, dts, keyframe, now, out);
    }

    /// Completes the held-back sample, cuts a segment when due, and holds `frame` back.
    fn append(&mut self, frame: Frame<'_>, dts: u64, keyframe: bool, now: SystemTime, out: &mut Vec<Output>) {
        let target_ms = (self.cfg.segment_target.as_millis() as u64).max(1);
        let has_video = self.session.as_ref().is_some_and(|s| s.video.is_some());
        let Some(track) = self.track_mut(frame.kind) else {
            return;
        };
        track.complete_pending(Some(dts));
        let target = target_ms * track.timescale as u64 / 1000;
        let elapsed = track.segment_start().map(|s| dts.saturating_sub(s)).unwrap_or(0);
        let cut = match frame.kind {
            TrackKind::Video => keyframe && elapsed >= target,
            // Audio follows the video cuts; alone (or while video stalls) it cuts by time.
            TrackKind::Audio => {
                track.cut_at.is_some_and(|t| dts >= t) || (elapsed >= target && (!has_video || elapsed >= 3 * target))
            }
        };
        let mut flushed = None;
        if cut {
            flushed = track.flush();
        }
        let sync = keyframe || frame.kind == TrackKind::Audio;
        track.add(dts, sync, frame.data);
        if let Some(f) = flushed {
            if frame.kind == TrackKind::Video {
                // Ask audio to cut at the same media time (converted to its clock).
                let vts = self.track(TrackKind::Video).map(|t| t.timescale).unwrap_or(90_000) as u128;
                if let Some(a) = self.track_mut(TrackKind::Audio) {
                    a.cut_at = Some(((f.start + f.duration) as u128 * a.timescale as u128 / vts.max(1)) as u64);
                }
            }
            self.emit_segment(frame.kind, f, out);
            self.emit_manifest(false, now, out);
        }
    }

    fn rotation_due(&self, now: SystemTime) -> Option<EndReason> {
        let s = self.session.as_ref()?;
        let now_ms = unix_ms(now);
        if day_of(now_ms) != s.day {
            return Some(EndReason::NewDay);
        }
        let max = self.cfg.max_recording_seconds;
        if max > 0 && now_ms.saturating_sub(s.start_us / 1000) >= max.saturating_mul(1000) {
            return Some(EndReason::Rotate);
        }
        None
    }

    fn track(&self, kind: TrackKind) -> Option<&Track> {
        let s = self.session.as_ref()?;
        match kind {
            TrackKind::Video => s.video.as_ref(),
            TrackKind::Audio => s.audio.as_ref(),
        }
    }

    fn track_mut(&mut self, kind: TrackKind) -> Option<&mut Track> {
        let s = self.session.as_mut()?;
        match kind {
            TrackKind::Video => s.video.as_mut(),
            TrackKind::Audio => s.audio.as_mut(),
        }
    }

    /// Begins a session (Period) whose media time 0 is `start_us` (wall clock).
    fn start_session(&mut self, now: SystemTime, start_us: u64, out: &mut Vec<Output>) {
        self.sessions_started += 1;
        let id = if self.sessions_started == 1 {
            self.base_id.clone()
        } else {
            format!("{}-{}", self.base_id, self.sessions_started)
        };
        let start_ms = start_us / 1000;
        let day = day_of(unix_ms(now));
        let (y, m, d) = civil_from_days(day);
        let day_dir = format!("{}/{y:04}/{m:02}/{d:02}", self.stream);
        if self.mpd.is_none() || self.mpd_day != day {
            // A new day: start from the existing manifest when it is that day's.
            let existing = self.existing.take().and_then(|x| match mpd_parse::parse(&x) {
                Ok(m) if day_of(m.ast_ms) == day => Some(m),
                Ok(_) => None,
                Err(e) => {
                    out.push(Output::Warning(format!(
                        "recorder: existing manifest not appended to ({e}); it is replaced"
                    )));
                    None
                }
            });
            self.mpd = Some(existing.unwrap_or(Mpd { ast_ms: start_ms, periods: Vec::new() }));
            self.mpd_day = day;
        }
        if let Some(mpd) = self.mpd.as_mut() {
            // Periods must not overlap: start after the previous one ends.
            let mut rel = start_ms.saturating_sub(mpd.ast_ms);
            if let Some(end) =
                mpd.periods.last().map(|p| p.start_ms + p.duration_ms.unwrap_or_else(|| p.media_end_ms()))
            {
                rel = rel.max(end);
            }
            mpd.periods.push(Period { id: id.clone(), start_ms: rel, duration_ms: None, sets: Vec::new() });
        }
        out.push(Output::SessionStarted {
            session_id: id.clone(),
            year: y,
            month: m,
            day: d,
            mpd_path: format!("{day_dir}/manifest.mpd"),
            started_at: now,
        });
        self.session = Some(Session {
            id,
            day_dir,
            day,
            start_us,
            started_at: now,
            video: None,
            audio: None,
            bytes: 0,
            segments: 0,
        });
    }

    // Track identity, timing origin and configuration, plus the usual now/out.
    #[allow(clippy::too_many_arguments)]
    fn add_track(
        &mut self,
        kind: TrackKind,
        codec: Codec,
        clock: u32,
        rtp: u64,
        config: TrackConfig,
        now: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let anchor = match self.carry.iter().position(|(k, _)| *k == kind) {
            Some(i) => self.carry.swap_remove(i).1,
            None => {
                let since_us = unix_us(now).saturating_sub(s.start_us) as u128;
                Anchor { rtp_base: rtp, offset: (since_us * clock as u128 / 1_000_000) as i64 }
            }
        };
        let track = Track::new(kind, codec, clock, config, anchor);
        let built = if track.is_webm() {
            Ok(webm::init_segment(track.config.width, track.config.height))
        } else {
            fmp4::init_segment(kind, clock, &track.config.entry, unix_ms(s.started_at) / 1000)
        };
        let init = match built {
            Ok(b) => b,
            Err(e) => {
                out.push(Output::Warning(format!("recorder: {kind:?} init segment not built: {e}")));
                return;
            }
        };
        let path = format!("{}/{}/{}", s.day_dir, s.id, track.init_path());
        let Some(s) = self.session.as_mut() else {
            return;
        };
        s.bytes += init.len() as u64;
        out.push(Output::Object { path, bytes: init, kind: ObjectKind::Init });
        match kind {
            TrackKind::Video => s.video = Some(track),
            TrackKind::Audio => s.audio = Some(track),
        }
    }

    fn emit_segment(&mut self, kind: TrackKind, f: Flushed, out: &mut Vec<Output>) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(t) = (match kind {
            TrackKind::Video => s.video.as_ref(),
            TrackKind::Audio => s.audio.as_ref(),
        }) else {
            return;
        };
        let ts = t.timescale.max(1) as u64;
        let path = format!("{}/{}/{}", s.day_dir, s.id, t.segment_name(f.number));
        s.bytes += f.bytes.len() as u64;
        s.segments += 1;
        out.push(Output::Object {
            path,
            bytes: f.bytes,
            kind: ObjectKind::Segment {
                track: kind,
                number: f.number,
                start_ms: f.start * 1000 / ts,
                duration_ms: f.duration * 1000 / ts,
            },
        });
    }

    /// Refreshes the current session's Period in the manifest and writes it.
    fn emit_manifest(&mut self, final_: bool, now: SystemTime, out: &mut Vec<Output>) {
        let (Some(s), Some(mpd)) = (self.session.as_ref(), self.mpd.as_mut()) else {
            return;
        };
        if let Some(p) = mpd.periods.last_mut() {
            p.sets = [s.video.as_ref(), s.audio.as_ref()]
                .into_iter()
                .flatten()
                .filter(|t| !t.segs.is_empty())
                .map(|t| t.adaptation(&s.id))
                .collect();
        }
        let update_ms = (self.cfg.segment_target.as_millis() as u64).max(1000);
        let xml = mpd.render(final_, unix_ms(now), update_ms);
        out.push(Output::Object {
            path: format!("{}/manifest.mpd", s.day_dir),
            bytes: xml.into_bytes(),
            kind: ObjectKind::Manifest { final_ },
        });
    }

    /// Flushes both tracks, writes the manifest and reports the end of the session.
    fn end_session(&mut self, reason: EndReason, now: SystemTime, out: &mut Vec<Output>) {
        for kind in [TrackKind::Video, TrackKind::Audio] {
            if let Some(f) = self.track_mut(kind).and_then(Track::flush_all) {
                self.emit_segment(kind, f, out);
            }
        }
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let duration_ms = [s.video.as_ref(), s.audio.as_ref()]
            .into_iter()
            .flatten()
            .map(|t| t.adaptation(&s.id).end_ms())
            .max()
            .unwrap_or(0);
        if let Some(p) = self.mpd.as_mut().and_then(|m| m.periods.last_mut()) {
            p.duration_ms = Some(duration_ms);
        }
        self.emit_manifest(reason != EndReason::Rotate, now, out);
        if let Some(s) = self.session.take() {
            out.push(Output::SessionEnded {
                session_id: s.id,
                ended_at: now,
                duration_ms,
                bytes: s.bytes,
                segments: s.segments,
            });
        }
    }

    /// Ends the session at media time `at` of track `kind` and starts the next one
    /// there, carrying the track anchors over (shifted) so media stays continuous.
    fn rotate(
        &mut self,
        kind: TrackKind,
        at: u64,
        reason: EndReason,
        new_video: Option<TrackConfig>,
        now: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let Some(ts) = self.track(kind).map(|t| t.timescale.max(1) as u128) else {
            return;
        };
        let start_us = s.start_us + (at as u128 * 1_000_000 / ts) as u64;
        // The held-back sample of `kind` ends exactly at the rotation point.
        if let Some(t) = self.track_mut(kind) {
            t.complete_pending(Some(at));
        }
        let mut carry = Vec::new();
        for t in [self.track(TrackKind::Video), self.track(TrackKind::Audio)].into_iter().flatten() {
            let shift = (at as u128 * t.timescale as u128 / ts) as i64;
            let anchor = Anchor { rtp_base: t.anchor.rtp_base, offset: t.anchor.offset - shift };
            let config = if t.kind == TrackKind::Video {
                new_video.clone().unwrap_or_else(|| t.config.clone())
            } else {
                t.config.clone()
            };
            carry.push((t.kind, t.codec, t.timescale, anchor, config));
        }
        self.end_session(reason, now, out);
        self.start_session(now, start_us, out);
        for (k, codec, clock, anchor, config) in carry {
            self.carry.push((k, anchor));
            self.add_track(k, codec, clock, anchor.rtp_base, config, now, out);
        }
        self.carry.clear();
    }

    /// The publisher went away or came back (new SSRC, timestamps jump): the
    /// session ends (its Period is closed) and the next frame starts a new session,
    /// a new Period in the same day's manifest, with fresh timing anchors. Video
    /// waits for a keyframe.
    pub fn publisher_restarted(&mut self, now: SystemTime, out: &mut Vec<Output>) {
        if self.session.is_some() {
            self.end_session(EndReason::Rotate, now, out);
        }
        self.video_codec = CodecState::default();
        self.audio_codec = CodecState::default();
        self.waiting_keyframe = false;
    }

    /// Stop: flushes the open segments and writes the final (static) manifest.
    pub fn finish(&mut self, now: SystemTime, out: &mut Vec<Output>) {
        if self.finished {
            return;
        }
        if self.session.is_some() {
            self.end_session(EndReason::Finish, now, out);
        } else if let Some(mpd) = self.mpd.as_ref() {
            // Sessions ended by a restart: the day's manifest becomes static.
            if let Some(dir) = self.day_dir_of_mpd() {
                let xml = mpd.render(true, unix_ms(now), 2000);
                out.push(Output::Object {
                    path: format!("{dir}/manifest.mpd"),
                    bytes: xml.into_bytes(),
                    kind: ObjectKind::Manifest { final_: true },
                });
            }
        }
        self.finished = true;
    }

    fn day_dir_of_mpd(&self) -> Option<String> {
        if self.mpd.as_ref()?.periods.is_empty() {
            return None;
        }
        let (y, m, d) = civil_from_days(self.mpd_day);
        Some(format!("{}/{y:04}/{m:02}/{d:02}", self.stream))
    }
}

#[cfg(test)]
mod tests {
    use super::safe_component;

    #[test]
    fn path_components_are_safe() {
        // The first layout's lossy rule (kept to recognise old folders).
        let legacy = wishcast_api::storage_name::legacy_path_component;
        assert_eq!(legacy("cam-01.main"), "cam-01.main");
        assert_eq!(legacy("../x"), ".._x");
        assert_eq!(legacy(".."), "___");
        assert_eq!(legacy("."), "__");
        assert_eq!(legacy(""), "_");
        assert_eq!(legacy("/abs"), "_abs");
        // The encoding used now: one-to-one, never a dot segment, never a `/`.
        assert_eq!(safe_component("cam-01.main"), "cam-01.main");
        assert_eq!(safe_component("../x"), "~2E.~2Fx");
        assert_eq!(safe_component(".."), "~2E.");
        assert_eq!(safe_component("."), "~2E");
        assert_eq!(safe_component("/abs"), "~2Fabs");
        assert_ne!(safe_component("cam 1"), safe_component("cam_1"));
    }
}
