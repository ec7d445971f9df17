//! [`OfferInfo`]: what a WHIP/WHEP SDP offer asks for.

use crate::codec::canonical_codec_name;
use crate::error::{SdpError, snippet};
use crate::lines::split_lines;
use crate::media::MediaKind;
use crate::mline::parse_mline;
use crate::section::{MediaSection, SectionBuilder};
use crate::session::Session;

/// Most m-sections accepted in one offer.
pub const MAX_MEDIA_SECTIONS: usize = 64;

/// The parts of an SDP offer the HTTP layer needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferInfo {
    /// Audio, video and application m-sections, in offer order. m-sections
    /// of other media types (e.g. `m=text`) are checked but left out.
    pub media: Vec<MediaSection>,
    /// Session-level `a=ice-ufrag`, else the first media-level one.
    pub ice_ufrag: Option<String>,
    /// Session-level `a=ice-pwd`, else the first media-level one.
    pub ice_pwd: Option<String>,
    /// True if there is an application m-section that is not disabled (see
    /// [`MediaSection::disabled`]).
    pub has_datachannel: bool,
}

impl OfferInfo {
    /// Parses and checks an SDP offer. See the crate docs for the rules.
    ///
    /// # Errors
    ///
    /// An [`SdpError`] naming the first offending line and how to fix it.
    pub fn parse(sdp: &str) -> Result<OfferInfo, SdpError> {
        let lines = split_lines(sdp)?;
        let Some((first, rest)) = lines.split_first() else {
            return Err(SdpError::whole(
                "the SDP offer is empty; send the offer in the request body with `Content-Type: application/sdp`",
            ));
        };
        let mut session = Session::start(first)?;
        let mut builders: Vec<SectionBuilder<'_>> = Vec::new();
        for l in rest {
            if l.kind == 'm' {
                if builders.is_empty() {
                    session.expect_header(Some(l))?;
                }
                if builders.len() >= MAX_MEDIA_SECTIONS {
                    return Err(SdpError::at(
                        l.no,
                        format!("too many m= sections: at most {MAX_MEDIA_SECTIONS} are accepted"),
                    ));
                }
                builders.push(SectionBuilder::new(l.no, parse_mline(l.no, l.value, l.text)?));
            } else if let Some(b) = builders.last_mut() {
                b.line(l)?;
            } else {
                session.line(l)?;
            }
        }
        if builders.is_empty() {
            session.expect_header(None)?;
            return Err(SdpError::whole(
                "offer has no m= section; a WHIP/WHEP offer needs at least one audio or video m-line",
            ));
        }
        check_unique_mids(&builders)?;

        let mut ice_ufrag = session.ice_ufrag.take();
        let mut ice_pwd = session.ice_pwd.take();
        let mut media = Vec::with_capacity(builders.len());
        let mut other_types: Vec<String> = Vec::new();
        for mut b in builders {
            if ice_ufrag.is_none() {
                ice_ufrag = b.ice_ufrag.take();
            }
            if ice_pwd.is_none() {
                ice_pwd = b.ice_pwd.take();
            }
            let media_type = b.mline.media;
            match b.finish(session.direction, &session.bundle_mids)? {
                Some(section) => media.push(section),
                None => {
                    let t = format!("m={}", snippet(media_type));
                    if !other_types.contains(&t) {
                        other_types.push(t);
                    }
                }
            }
        }
        if media.is_empty() {
            return Err(SdpError::whole(format!(
                "offer has no audio, video or application m= section (found only `{}`); a WHIP/WHEP offer needs at least one audio or video m-line",
                other_types.join("`, `")
            )));
        }
        let has_datachannel = media.iter().any(|m| m.kind == MediaKind::Application && !m.disabled());
        Ok(OfferInfo { media, ice_ufrag, ice_pwd, has_datachannel })
    }

    /// The m-sections of one kind, in offer order.
    pub fn sections(&self, kind: MediaKind) -> impl Iterator<Item = &MediaSection> {
        self.media.iter().filter(move |m| m.kind == kind)
    }

    /// Unique canonical codec names (`"H264"`, `"VP8"`, `"OPUS"`, …) offered in
    /// m-sections of `kind`, in order of first appearance. Repair, redundancy
    /// and signalling payloads (rtx, red, ulpfec, flexfec, CN,
    /// telephone-event) are left out. Port-zero sections count too (a
    /// bundle-only section has port 0).
    #[must_use]
    pub fn codec_names(&self, kind: MediaKind) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for c in self.sections(kind).flat_map(|m| m.codecs.iter()) {
            if let Some(n) = canonical_codec_name(&c.name)
                && !names.contains(&n)
            {
                names.push(n);
            }
        }
        names
    }
}

fn check_unique_mids(builders: &[SectionBuilder<'_>]) -> Result<(), SdpError> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for b in builders {
        if let Some(mid) = b.mid.as_deref()
            && let Some(prev) = seen.insert(mid, b.no)
        {
            return Err(SdpError::at(
                b.no,
                format!(
                    "`a=mid:{}` is already used by the m-section at line {prev}; each m-section needs a unique mid",
                    snippet(mid)
                ),
            ));
        }
    }
    Ok(())
}
