//! Reads back a manifest written by [`crate::mpd`] (an earlier session's, or the
//! one an export starts from). A small tag scanner, not a general XML parser: it
//! understands the elements and attributes this crate writes and ignores the rest.
//! Malformed input gives an error naming what was wrong, never a panic.

use crate::TrackKind;
use crate::mpd::{Adaptation, Mpd, Period, Seg};
use crate::time::{parse_datetime, parse_duration};

/// Upper bound on segments expanded from `S@r` (a day of 0.1 s segments is 864 000).
const MAX_SEGMENTS: u64 = 2_000_000;

struct Tag<'a> {
    name: &'a str,
    closing: bool,
    attrs: Vec<(&'a str, String)>,
}

impl Tag<'_> {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str())
    }
    fn num<T: std::str::FromStr>(&self, k: &str) -> Result<Option<T>, String> {
        match self.attr(k) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| format!("<{}> {k}=\"{v}\" is not a number", self.name)),
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

fn tags(xml: &str) -> Result<Vec<Tag<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with("!--") {
            let end = rest.find("-->").ok_or("unterminated comment")?;
            rest = &rest[end + 3..];
            continue;
        }
        let end = rest.find('>').ok_or("unterminated tag")?;
        let body = &rest[..end];
        rest = &rest[end + 1..];
        if body.starts_with('?') || body.starts_with('!') {
            continue;
        }
        let closing = body.starts_with('/');
        let body = body.trim_start_matches('/').trim_end_matches('/');
        let name_end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
        let name = &body[..name_end];
        let mut attrs = Vec::new();
        let mut a = body[name_end..].trim_start();
        while !a.is_empty() {
            let eq = a.find('=').ok_or_else(|| format!("<{name}>: attribute without value"))?;
            let key = a[..eq].trim();
            let after = a[eq + 1..].trim_start();
            let q = after.chars().next().ok_or_else(|| format!("<{name}>: attribute {key} without value"))?;
            if q != '"' && q != '\'' {
                return Err(format!("<{name}>: attribute {key} is not quoted"));
            }
            let close = after[1..].find(q).ok_or_else(|| format!("<{name}>: attribute {key} not terminated"))?;
            attrs.push((key, unescape(&after[1..1 + close])));
            a = after[close + 2..].trim_start();
        }
        out.push(Tag { name, closing, attrs });
    }
    Ok(out)
}

/// Parses a manifest. Errors say what is wrong.
pub(crate) fn parse(xml: &str) -> Result<Mpd, String> {
    let mut mpd: Option<Mpd> = None;
    let mut kind: Option<TrackKind> = None;
    let mut total_segments: u64 = 0;
    for tag in tags(xml)? {
        if tag.closing {
            continue;
        }
        match tag.name {
            "MPD" => {
                let ast = tag.attr("availabilityStartTime").ok_or("<MPD> has no availabilityStartTime")?;
                let ast_ms = parse_datetime(ast)
                    .ok_or_else(|| format!("<MPD> availabilityStartTime \"{ast}\" is not a UTC xs:dateTime"))?;
                mpd = Some(Mpd { ast_ms, periods: Vec::new() });
            }
            "Period" => {
                let m = mpd.as_mut().ok_or("<Period> outside <MPD>")?;
                let start = tag.attr("start").unwrap_or("PT0S");
                let start_ms =
                    parse_duration(start).ok_or_else(|| format!("<Period> start \"{start}\" is not an xs:duration"))?;
                let duration_ms = match tag.attr("duration") {
                    Some(d) => Some(
                        parse_duration(d).ok_or_else(|| format!("<Period> duration \"{d}\" is not an xs:duration"))?,
                    ),
                    None => None,
                };
                let id = tag.attr("id").unwrap_or_default().to_string();
                m.periods.push(Period { id, start_ms, duration_ms, sets: Vec::new() });
            }
            "AdaptationSet" => {
                let p = mpd.as_mut().and_then(|m| m.periods.last_mut()).ok_or("<AdaptationSet> outside <Period>")?;
                let ct = tag.attr("contentType").or(tag.attr("mimeType")).unwrap_or_default();
                kind = if ct.starts_with("video") {
                    Some(TrackKind::Video)
                } else if ct.starts_with("audio") {
                    Some(TrackKind::Audio)
                } else {
                    None
                };
                if let Some(k) = kind {
                    p.sets.push(Adaptation {
                        kind: k,
                        mime: tag
                            .attr("mimeType")
                            .unwrap_or(if k == TrackKind::Video { "video/mp4" } else { "audio/mp4" })
                            .to_string(),
                        codecs: String::new(),
                        width: 0,
                        height: 0,
                        frame_rate: String::new(),
                        sample_rate: 0,
                        channels: 0,
                        bandwidth: 0,
                        timescale: 1,
                        init: String::new(),
                        media: String::new(),
                        start_number: 1,
                        segments: Vec::new(),
                    });
                }
            }
            "Representation" | "AudioChannelConfiguration" | "SegmentTemplate" | "S" => {
                if kind.is_none() {
                    continue;
                }
                let a = mpd
                    .as_mut()
                    .and_then(|m| m.periods.last_mut())
                    .and_then(|p| p.sets.last_mut())
                    .ok_or_else(|| format!("<{}> outside <AdaptationSet>", tag.name))?;
                match tag.name {
                    "Representation" => {
                        a.codecs = tag.attr("codecs").unwrap_or_default().to_string();
                        a.width = tag.num("width")?.unwrap_or(0);
                        a.height = tag.num("height")?.unwrap_or(0);
                        a.frame_rate = tag.attr("frameRate").unwrap_or_default().to_string();
                        a.sample_rate = tag.num("audioSamplingRate")?.unwrap_or(0);
                        a.bandwidth = tag.num("bandwidth")?.unwrap_or(0);
                    }
                    "AudioChannelConfiguration" => a.channels = tag.num("value")?.unwrap_or(0),
                    "SegmentTemplate" => {
                        a.timescale = tag.num("timescale")?.unwrap_or(1);
                        if a.timescale == 0 {
                            return Err("<SegmentTemplate> timescale=\"0\"".into());
                        }
                        a.init = tag.attr("initialization").unwrap_or_default().to_string();
                        a.media = tag.attr("media").unwrap_or_default().to_string();
                        a.start_number = tag.num("startNumber")?.unwrap_or(1);
                    }
                    _ => {
                        let d: u64 = tag.num("d")?.ok_or("<S> without d")?;
                        let r: u64 = tag.num("r")?.unwrap_or(0);
                        let mut t: u64 = match tag.num("t")? {
                            Some(t) => t,
                            None => a.segments.last().map(|s| s.t.saturating_add(s.d)).unwrap_or(0),
                        };
                        total_segments = total_segments.saturating_add(r + 1);
                        if total_segments > MAX_SEGMENTS || d == 0 {
                            return Err(format!("<S d=\"{d}\" r=\"{r}\">: too many segments or zero duration"));
                        }
                        for _ in 0..=r {
                            a.segments.push(Seg { t, d });
                            t = t.saturating_add(d);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    mpd.ok_or_else(|| "no <MPD> element".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpd::render_test_sample;

    #[test]
    fn round_trip() {
        let m = render_test_sample();
        let xml = m.render(false, m.ast_ms + 5000, 2000);
        assert_eq!(parse(&xml).unwrap(), m);
        let xml = m.render(true, 0, 2000);
        assert_eq!(parse(&xml).unwrap(), m);
    }

    #[test]
    fn malformed_manifests_are_errors() {
        for bad in [
            "",
            "<MPD>",
            "<MPD availabilityStartTime=\"x\">",
            "<MPD availabilityStartTime=\"2025-07-24T00:00:00Z\"><Period start=\"PT1",
            "<MPD availabilityStartTime=\"2025-07-24T00:00:00Z\"><Period start=\"bad\">",
            "<Period/>",
            "<MPD availabilityStartTime=\"2025-07-24T00:00:00Z\"><Period><AdaptationSet contentType=\"video\"><S d=\"1\" r=\"99999999999\"/>",
            "<MPD availabilityStartTime=\"2025-07-24T00:00:00Z\"><Period><AdaptationSet contentType=\"video\"><SegmentTemplate timescale=\"0\"/>",
            "<MPD a=b>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
