//! `OfferInfo::parse` on arbitrary text: must never panic, and what it
//! accepts or refuses must keep the crate's promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wishcast_sdp::{MAX_MEDIA_SECTIONS, MediaKind, OfferInfo};

fuzz_target!(|data: &[u8]| {
    // Invalid UTF-8 becomes U+FFFD so every input exercises the parser.
    let sdp = String::from_utf8_lossy(data);
    match OfferInfo::parse(&sdp) {
        Ok(offer) => {
            assert!(!offer.media.is_empty() && offer.media.len() <= MAX_MEDIA_SECTIONS);
            for m in &offer.media {
                for c in &m.codecs {
                    assert!(c.pt <= 127 && c.clock_rate > 0 && !c.name.is_empty());
                }
                if m.kind == MediaKind::Application {
                    assert!(m.codecs.is_empty());
                }
            }
            for kind in [MediaKind::Audio, MediaKind::Video, MediaKind::Application] {
                let names = offer.codec_names(kind);
                assert!(names.iter().all(|n| *n == n.to_ascii_uppercase()));
            }
        }
        Err(e) => {
            // Messages quote client input only in short excerpts.
            let msg = e.to_string();
            assert!(!msg.is_empty() && msg.len() < 1024, "{} bytes", msg.len());
        }
    }
});
