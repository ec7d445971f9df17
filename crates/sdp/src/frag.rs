//! [`SdpFrag`]: a trickle-ice-sdpfrag (RFC 8840) body, as sent in a WHIP/WHEP
//! `PATCH` for trickle ICE or an ICE restart.

use crate::error::SdpError;
use crate::ice::{check_candidate, check_credential};
use crate::lines::{attribute, split_lines};
use crate::offer::MAX_MEDIA_SECTIONS;

/// A parsed trickle-ice-sdpfrag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdpFrag {
    /// Session-level `a=ice-ufrag`, else the first media-level one.
    pub ice_ufrag: Option<String>,
    /// Session-level `a=ice-pwd`, else the first media-level one.
    pub ice_pwd: Option<String>,
    /// Candidate groups, in order. Candidates before any m= line go into a
    /// section whose `mid` is `None`.
    pub sections: Vec<FragSection>,
}

/// The candidates of one m-section (or of the part before any m= line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FragSection {
    /// The `a=mid` value as written (`"0"`, `"audio"`, `"video0"`, …).
    pub mid: Option<String>,
    /// Candidate lines without the `a=` prefix, i.e. starting with `candidate:`.
    pub candidates: Vec<String>,
    /// True if the section has `a=end-of-candidates`.
    pub end_of_candidates: bool,
}

impl SdpFrag {
    /// Parses and checks a trickle-ice-sdpfrag. Unknown `a=` lines and other
    /// SDP line types are ignored; candidate lines must be well-formed.
    ///
    /// # Errors
    ///
    /// An [`SdpError`] for empty input, a line that breaks the shared line
    /// rules, a malformed candidate, mid or ICE credential, or more than
    /// [`MAX_MEDIA_SECTIONS`](crate::MAX_MEDIA_SECTIONS) m= lines.
    pub fn parse(frag: &str) -> Result<SdpFrag, SdpError> {
        let lines = split_lines(frag)?;
        if lines.is_empty() {
            return Err(SdpError::whole(
                "the trickle-ice-sdpfrag is empty; send `a=ice-ufrag`, `a=ice-pwd`, `m=`/`a=mid` and `a=candidate` lines with `Content-Type: application/trickle-ice-sdpfrag`",
            ));
        }
        let mut out = SdpFrag::default();
        let (mut media_ufrag, mut media_pwd) = (None, None);
        // The section lines currently go into; pushed to `out.sections` when
        // the next one starts.
        let mut cur: Option<FragSection> = None;
        let mut m_lines = 0usize;
        for l in &lines {
            let in_media = m_lines > 0;
            if l.kind == 'm' {
                m_lines += 1;
                start_section(&mut out.sections, &mut cur, l.no)?;
                continue;
            }
            if l.kind != 'a' {
                continue;
            }
            let (name, value) = attribute(l.value);
            match name {
                "ice-ufrag" => {
                    let v = check_credential(l.no, name, value)?;
                    if in_media { &mut media_ufrag } else { &mut out.ice_ufrag }.get_or_insert(v);
                }
                "ice-pwd" => {
                    let v = check_credential(l.no, name, value)?;
                    if in_media { &mut media_pwd } else { &mut out.ice_pwd }.get_or_insert(v);
                }
                "mid" => {
                    let v = value.unwrap_or("");
                    if v.is_empty() || !v.chars().all(|c| c.is_ascii_graphic()) {
                        return Err(SdpError::at(
                            l.no,
                            "bad `a=mid`: a mid is a non-empty token of visible ASCII characters, e.g. `a=mid:0`",
                        ));
                    }
                    // Before any m= line, a=mid names the pending group if it
                    // is still empty, else starts a new one.
                    let pending_empty = cur.as_ref().is_none_or(|s| *s == FragSection::default());
                    if !in_media && !pending_empty {
                        start_section(&mut out.sections, &mut cur, l.no)?;
                    }
                    let s = cur.get_or_insert_with(FragSection::default);
                    if s.mid.is_some() {
                        return Err(SdpError::at(
                            l.no,
                            "second `a=mid` in one section; start a new section with an `m=` line",
                        ));
                    }
                    s.mid = Some(v.to_string());
                }
                "candidate" => {
                    check_candidate(l.no, l.value)?;
                    cur.get_or_insert_with(FragSection::default).candidates.push(l.value.to_string());
                }
                "end-of-candidates" => {
                    cur.get_or_insert_with(FragSection::default).end_of_candidates = true;
                }
                _ => {}
            }
        }
        out.sections.extend(cur);
        if out.ice_ufrag.is_none() {
            out.ice_ufrag = media_ufrag;
        }
        if out.ice_pwd.is_none() {
            out.ice_pwd = media_pwd;
        }
        Ok(out)
    }

    /// All candidates with the mid of their section, in order.
    pub fn candidates(&self) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.sections.iter().flat_map(|s| s.candidates.iter().map(move |c| (s.mid.as_deref(), c.as_str())))
    }
}

/// Closes the current section (if any) and opens a new, empty one.
fn start_section(sections: &mut Vec<FragSection>, cur: &mut Option<FragSection>, no: usize) -> Result<(), SdpError> {
    sections.extend(cur.take());
    if sections.len() >= MAX_MEDIA_SECTIONS {
        return Err(SdpError::at(
            no,
            format!("too many sections: at most {MAX_MEDIA_SECTIONS} (m= lines or a=mid groups) are accepted"),
        ));
    }
    *cur = Some(FragSection::default());
    Ok(())
}
