//! The DASH manifest model of one day's recording and its XML rendering.
//!
//! One Period per recording session; each Period has a video and/or an audio
//! AdaptationSet with one Representation and a `SegmentTemplate` +
//! `SegmentTimeline` giving every segment's exact start and duration. Period
//! starts are relative to `availabilityStartTime`, the wall-clock start of the
//! day's first session, so a player can seek across sessions.

use std::fmt::Write as _;

use crate::TrackKind;
use crate::time::{format_datetime, format_duration};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mpd {
    /// Unix ms of the timeline origin (start of the day's first Period).
    pub ast_ms: u64,
    pub periods: Vec<Period>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Period {
    pub id: String,
    /// ms since `ast_ms`.
    pub start_ms: u64,
    /// Set once the session has ended.
    pub duration_ms: Option<u64>,
    pub sets: Vec<Adaptation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Adaptation {
    pub kind: TrackKind,
    /// `video/mp4`, `audio/mp4` or `video/webm` (VP8).
    pub mime: String,
    pub codecs: String,
    pub width: u16,
    pub height: u16,
    /// `frameRate` as written (e.g. `30` or `2997/100`), empty when unknown.
    pub frame_rate: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub bandwidth: u64,
    pub timescale: u32,
    /// Paths relative to the manifest's folder.
    pub init: String,
    pub media: String,
    pub start_number: u32,
    pub segments: Vec<Seg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seg {
    /// Start in `timescale` ticks from the Period start.
    pub t: u64,
    pub d: u64,
}

impl Adaptation {
    /// End of the last segment in ms (rounded up).
    pub fn end_ms(&self) -> u64 {
        match (self.segments.last(), self.timescale) {
            (Some(s), ts) if ts > 0 => (s.t.saturating_add(s.d) as u128 * 1000).div_ceil(ts as u128) as u64,
            _ => 0,
        }
    }

    /// Path of segment `number` (the template's `$Number%05d$` expanded).
    pub fn segment_path(&self, number: u32) -> String {
        expand_number(&self.media, number)
    }
}

/// Expands `$Number$` / `$Number%0Nd$` in a media template.
pub(crate) fn expand_number(template: &str, number: u32) -> String {
    if let Some(start) = template.find("$Number")
        && let Some(len) = template[start + 1..].find('$')
    {
        let end = start + 1 + len;
        let spec = &template[start + 7..end];
        let width: usize =
            spec.strip_prefix("%0").and_then(|s| s.strip_suffix('d')).and_then(|w| w.parse().ok()).unwrap_or(0);
        return format!("{}{:0width$}{}", &template[..start], number, &template[end + 1..], width = width.min(20));
    }
    template.to_string()
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Mpd {
    /// End of the last Period in ms since `ast_ms`.
    pub fn end_ms(&self) -> u64 {
        self.periods.iter().map(|p| p.start_ms + p.duration_ms.unwrap_or_else(|| p.media_end_ms())).max().unwrap_or(0)
    }

    /// Renders the manifest: `dynamic` while recording (`final_ == false`),
    /// `static` with `mediaPresentationDuration` once finished.
    pub fn render(&self, final_: bool, publish_ms: u64, update_period_ms: u64) -> String {
        let mut x = String::with_capacity(2048);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str("<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\"");
        let ast = format_datetime(self.ast_ms);
        if final_ {
            let _ = write!(
                x,
                " type=\"static\" availabilityStartTime=\"{ast}\" mediaPresentationDuration=\"{}\"",
                format_duration(self.end_ms())
            );
        } else {
            let _ = write!(
                x,
                " type=\"dynamic\" availabilityStartTime=\"{ast}\" publishTime=\"{}\" minimumUpdatePeriod=\"{}\" suggestedPresentationDelay=\"{}\"",
                format_datetime(publish_ms),
                format_duration(update_period_ms),
                // Segments are published only once complete (and then uploaded):
                // start players three segments behind the live edge.
                format_duration(update_period_ms * 3)
            );
        }
        let _ = writeln!(x, " minBufferTime=\"{}\">", format_duration(update_period_ms.max(1000) * 2));
        for p in &self.periods {
            let _ = write!(x, "  <Period id=\"{}\" start=\"{}\"", xml_escape(&p.id), format_duration(p.start_ms));
            if let Some(d) = p.duration_ms {
                let _ = write!(x, " duration=\"{}\"", format_duration(d));
            }
            x.push_str(">\n");
            for (i, a) in p.sets.iter().enumerate() {
                render_set(&mut x, i, a);
            }
            x.push_str("  </Period>\n");
        }
        x.push_str("</MPD>\n");
        x
    }
}

impl Period {
    /// End of the longest track in ms from the Period start.
    pub fn media_end_ms(&self) -> u64 {
        self.sets.iter().map(Adaptation::end_ms).max().unwrap_or(0)
    }
}

fn render_set(x: &mut String, id: usize, a: &Adaptation) {
    let (ct, rid) = match a.kind {
        TrackKind::Video => ("video", "v"),
        TrackKind::Audio => ("audio", "a"),
    };
    let mime = xml_escape(&a.mime);
    let _ = writeln!(
        x,
        "    <AdaptationSet id=\"{id}\" contentType=\"{ct}\" mimeType=\"{mime}\" segmentAlignment=\"true\" startWithSAP=\"1\">"
    );
    let _ = write!(
        x,
        "      <Representation id=\"{rid}\" codecs=\"{}\" bandwidth=\"{}\"",
        xml_escape(&a.codecs),
        a.bandwidth.max(1)
    );
    match a.kind {
        TrackKind::Video => {
            if a.width > 0 && a.height > 0 {
                let _ = write!(x, " width=\"{}\" height=\"{}\"", a.width, a.height);
            }
            if !a.frame_rate.is_empty() {
                let _ = write!(x, " frameRate=\"{}\"", xml_escape(&a.frame_rate));
            }
            x.push_str(">\n");
        }
        TrackKind::Audio => {
            let _ = writeln!(x, " audioSamplingRate=\"{}\">", a.sample_rate);
            let _ = writeln!(
                x,
                "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>",
                a.channels.max(1)
            );
        }
    }
    let _ = write!(
        x,
        "        <SegmentTemplate timescale=\"{}\" initialization=\"{}\" media=\"{}\" startNumber=\"{}\">\n          <SegmentTimeline>\n",
        a.timescale,
        xml_escape(&a.init),
        xml_escape(&a.media),
        a.start_number
    );
    // Runs of equal durations without a gap collapse into S@r.
    let mut i = 0;
    let mut expected_t = None;
    while i < a.segments.len() {
        let s = a.segments[i];
        let mut r = 0;
        while i + r + 1 < a.segments.len() {
            let n = a.segments[i + r + 1];
            if n.d == s.d && n.t == s.t + s.d * (r as u64 + 1) {
                r += 1;
            } else {
                break;
            }
        }
        x.push_str("            <S");
        if expected_t != Some(s.t) {
            let _ = write!(x, " t=\"{}\"", s.t);
        }
        let _ = write!(x, " d=\"{}\"", s.d);
        if r > 0 {
            let _ = write!(x, " r=\"{r}\"");
        }
        x.push_str("/>\n");
        expected_t = Some(s.t + s.d * (r as u64 + 1));
        i += r + 1;
    }
    x.push_str(
        "          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n    </AdaptationSet>\n",
    );
}

#[cfg(test)]
pub(crate) fn render_test_sample() -> Mpd {
    let video = Adaptation {
        kind: TrackKind::Video,
        mime: "video/mp4".into(),
        codecs: "avc1.42c01e".into(),
        width: 640,
        height: 360,
        frame_rate: "30".into(),
        sample_rate: 0,
        channels: 0,
        bandwidth: 800_000,
        timescale: 90_000,
        init: "s1/v_init.mp4".into(),
        media: "s1/v_$Number%05d$.m4s".into(),
        start_number: 1,
        segments: vec![
            Seg { t: 0, d: 180_000 },
            Seg { t: 180_000, d: 180_000 },
            Seg { t: 360_000, d: 90_000 },
            Seg { t: 900_000, d: 3000 },
        ],
    };
    let audio = Adaptation {
        kind: TrackKind::Audio,
        mime: "audio/mp4".into(),
        codecs: "opus".into(),
        width: 0,
        height: 0,
        frame_rate: String::new(),
        sample_rate: 48_000,
        channels: 2,
        bandwidth: 32_000,
        timescale: 48_000,
        init: "s1/a_init.mp4".into(),
        media: "s1/a_$Number%05d$.m4s".into(),
        start_number: 1,
        segments: vec![Seg { t: 960, d: 96_000 }],
    };
    Mpd {
        ast_ms: 1_753_351_200_000,
        periods: vec![
            Period { id: "s1".into(), start_ms: 0, duration_ms: Some(10_034), sets: vec![video, audio] },
            Period { id: "s1-2".into(), start_ms: 20_000, duration_ms: None, sets: vec![] },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_template() {
        assert_eq!(expand_number("s1/v_$Number%05d$.m4s", 7), "s1/v_00007.m4s");
        assert_eq!(expand_number("v_$Number$.m4s", 12), "v_12.m4s");
        assert_eq!(expand_number("plain", 3), "plain");
        assert_eq!(expand_number("$Number", 3), "$Number");
    }
}
