//! One m-section of an offer: its attributes gathered into a [`MediaSection`].

use std::collections::HashSet;

use crate::codec::{CodecDesc, Fmtp, RtpMap, parse_fmtp, parse_rtpmap, static_codec};
use crate::error::{SdpError, snippet};
use crate::ice::{check_candidate, check_credential};
use crate::lines::{Line, attribute};
use crate::media::{Direction, MediaKind};
use crate::mline::{MLine, Transport};

/// One audio, video or application m-section of an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSection {
    pub kind: MediaKind,
    /// `a=mid` value, if present.
    pub mid: Option<String>,
    /// Media-level direction, else session-level, else `SendRecv`.
    pub direction: Direction,
    /// Payload types in m= line order. Static types 0 (PCMU), 8 (PCMA),
    /// 9 (G722) and 13 (CN) without an rtpmap are filled in. Empty for
    /// application sections.
    pub codecs: Vec<CodecDesc>,
    /// RTP stream ids from `a=rid:<id> send`, in order.
    pub rids: Vec<String>,
    /// True if the section has an `a=simulcast` line.
    pub simulcast: bool,
    /// True if the m= line has port 0 (a disabled section, or bundle-only).
    pub port_zero: bool,
    /// True if the section has `a=bundle-only` and its mid is in the offer's
    /// `a=group:BUNDLE`: its port 0 then means "shares the transport of the
    /// bundle" (RFC 8843 §6, RFC 8829 §5.2.1), not "disabled".
    pub bundle_only: bool,
}

impl MediaSection {
    /// Whether the offerer disabled this section: port 0 and not a
    /// bundle-only member of a BUNDLE group. Answer such a section with port
    /// 0 and do not use it.
    #[must_use]
    pub fn disabled(&self) -> bool {
        self.port_zero && !self.bundle_only
    }
}

/// Media-level line types in RFC 8866 order.
const ORDER: &str = "mickba";
/// Media-level line types that may appear at most once.
const ONCE: &str = "ik";

/// Longest accepted rid, in bytes.
const MAX_RID_LEN: usize = 255;

/// Collects the lines of one m-section.
#[derive(Debug)]
pub(crate) struct SectionBuilder<'a> {
    pub no: usize,
    pub mline: MLine<'a>,
    pub mid: Option<String>,
    pub ice_ufrag: Option<String>,
    pub ice_pwd: Option<String>,
    direction: Option<Direction>,
    rtpmaps: Vec<Option<RtpMap>>,
    fmtps: Vec<Option<Fmtp>>,
    rids: Vec<String>,
    rid_seen: HashSet<(String, bool)>,
    simulcast: bool,
    bundle_only: bool,
    last: char,
}

impl<'a> SectionBuilder<'a> {
    pub fn new(no: usize, mline: MLine<'a>) -> Self {
        SectionBuilder {
            no,
            mline,
            mid: None,
            ice_ufrag: None,
            ice_pwd: None,
            direction: None,
            rtpmaps: vec![None; 128],
            fmtps: vec![None; 128],
            rids: Vec::new(),
            rid_seen: HashSet::new(),
            simulcast: false,
            bundle_only: false,
            last: 'm',
        }
    }

    /// Handles one line after the m= line (never an m= line itself).
    pub fn line(&mut self, l: &Line<'_>) -> Result<(), SdpError> {
        self.check_order(l)?;
        if l.kind == 'a' {
            self.attribute(l)?;
        }
        Ok(())
    }

    fn check_order(&mut self, l: &Line<'_>) -> Result<(), SdpError> {
        let Some(r) = ORDER.find(l.kind) else {
            return Err(SdpError::at(
                l.no,
                format!(
                    "`{}=` is a session-level line and cannot appear after the first m= line; move it above the first m= line",
                    l.kind
                ),
            ));
        };
        let last_r = ORDER.find(self.last).unwrap_or(0);
        if r < last_r {
            return Err(SdpError::at(
                l.no,
                format!(
                    "`{}=` line is out of order (it must come before `{}=` lines); m-section lines go in the order m i c b k a",
                    l.kind, self.last
                ),
            ));
        }
        if r == last_r && ONCE.contains(l.kind) {
            return Err(SdpError::at(l.no, format!("duplicate `{}=` line in one m-section", l.kind)));
        }
        self.last = l.kind;
        Ok(())
    }

    fn attribute(&mut self, l: &Line<'_>) -> Result<(), SdpError> {
        let (name, value) = attribute(l.value);
        if let Some(d) = Direction::from_sdp(name) {
            if let Some(prev) = self.direction {
                return Err(SdpError::at(
                    l.no,
                    format!(
                        "m-section has more than one direction attribute (`a={prev}` and `a={d}`); keep exactly one"
                    ),
                ));
            }
            self.direction = Some(d);
            return Ok(());
        }
        let rtp = self.mline.transport == Transport::Rtp;
        match name {
            "mid" => self.mid(l, value)?,
            "rtpmap" if rtp => {
                let m = parse_rtpmap(l.no, value.unwrap_or(""))?;
                let pt = m.pt;
                if let Some(slot) = self.rtpmaps.get_mut(usize::from(pt)) {
                    if slot.is_some() {
                        return Err(SdpError::at(
                            l.no,
                            format!("duplicate `a=rtpmap:{pt}`; each payload type needs exactly one rtpmap"),
                        ));
                    }
                    *slot = Some(m);
                }
            }
            "fmtp" if rtp => {
                let f = parse_fmtp(l.no, value.unwrap_or(""))?;
                let pt = f.pt;
                if let Some(slot) = self.fmtps.get_mut(usize::from(pt)) {
                    if slot.is_some() {
                        return Err(SdpError::at(
                            l.no,
                            format!("duplicate `a=fmtp:{pt}`; put all parameters on one line, separated by `;`"),
                        ));
                    }
                    *slot = Some(f);
                }
            }
            "rid" => self.rid(l, value.unwrap_or(""))?,
            "simulcast" => {
                if value.is_none_or(|v| v.trim().is_empty()) {
                    return Err(SdpError::at(
                        l.no,
                        "`a=simulcast` has no value; expected e.g. `a=simulcast:send h;m;l`",
                    ));
                }
                self.simulcast = true;
            }
            "ice-ufrag" => {
                let v = check_credential(l.no, name, value)?;
                self.ice_ufrag.get_or_insert(v);
            }
            "ice-pwd" => {
                let v = check_credential(l.no, name, value)?;
                self.ice_pwd.get_or_insert(v);
            }
            "candidate" => check_candidate(l.no, l.value)?,
            "bundle-only" => self.bundle_only = true,
            _ => {}
        }
        Ok(())
    }

    fn mid(&mut self, l: &Line<'_>, value: Option<&str>) -> Result<(), SdpError> {
        let v = value.unwrap_or("");
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_graphic()) {
            return Err(SdpError::at(
                l.no,
                format!(
                    "bad `{}`: a mid is a non-empty token of visible ASCII characters, e.g. `a=mid:0`",
                    snippet(l.text)
                ),
            ));
        }
        if let Some(prev) = &self.mid {
            return Err(SdpError::at(
                l.no,
                format!("m-section already has `a=mid:{}`; each m-section needs exactly one a=mid", snippet(prev)),
            ));
        }
        self.mid = Some(v.to_string());
        Ok(())
    }

    fn rid(&mut self, l: &Line<'_>, value: &str) -> Result<(), SdpError> {
        let bad = |why: &str| {
            SdpError::at(
                l.no,
                format!(
                    "{why} in `{}`; expected `a=rid:<id> send` or `a=rid:<id> recv [<restrictions>]`",
                    snippet(l.text)
                ),
            )
        };
        let (id, rest) = value.split_once(' ').ok_or_else(|| bad("missing direction"))?;
        if id.is_empty()
            || id.len() > MAX_RID_LEN
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad("a rid id is 1-255 letters, digits, `-` or `_`"));
        }
        let send = match rest.split(' ').next().unwrap_or("") {
            "send" => true,
            "recv" => false,
            _ => return Err(bad("direction must be `send` or `recv`")),
        };
        if !self.rid_seen.insert((id.to_string(), send)) {
            return Err(bad("duplicate rid"));
        }
        if send {
            self.rids.push(id.to_string());
        }
        Ok(())
    }

    /// Builds the section; `None` for media types other than audio, video and
    /// application (they are checked but not reported). `bundle_mids`: the
    /// mids of the offer's BUNDLE groups.
    pub fn finish(
        self,
        session_direction: Option<Direction>,
        bundle_mids: &[String],
    ) -> Result<Option<MediaSection>, SdpError> {
        let bundle_only = self.bundle_only && self.mid.as_ref().is_some_and(|m| bundle_mids.contains(m));
        let mut codecs = Vec::with_capacity(self.mline.pts.len());
        for &pt in &self.mline.pts {
            let idx = usize::from(pt);
            let mut codec = match self.rtpmaps.get(idx).cloned().flatten() {
                Some(m) => CodecDesc {
                    pt,
                    name: m.name,
                    clock_rate: m.clock_rate,
                    channels: m.channels,
                    fmtp: None,
                    rtx_apt: None,
                },
                None => static_codec(pt).ok_or_else(|| {
                    SdpError::at(
                        self.no,
                        format!(
                            "m={} lists payload type {pt} but there is no `a=rtpmap:{pt} <encoding>/<clock rate>`; only the static payload types 0 (PCMU), 8 (PCMA), 9 (G722) and 13 (CN) may omit it",
                            self.mline.media
                        ),
                    )
                })?,
            };
            if let Some(f) = self.fmtps.get(idx).cloned().flatten() {
                codec.fmtp = f.params;
                if codec.name.eq_ignore_ascii_case("rtx") {
                    codec.rtx_apt = f.apt;
                }
            }
            codecs.push(codec);
        }
        let Some(kind) = self.mline.kind else {
            return Ok(None);
        };
        Ok(Some(MediaSection {
            kind,
            mid: self.mid,
            direction: self.direction.or(session_direction).unwrap_or_default(),
            codecs,
            rids: self.rids,
            simulcast: self.simulcast,
            port_zero: self.mline.port_zero,
            bundle_only,
        }))
    }
}
