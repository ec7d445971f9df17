//! `SdpFrag::parse` on arbitrary text: must never panic, and accepted
//! candidates must look like candidates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wishcast_sdp::{MAX_MEDIA_SECTIONS, SdpFrag};

fuzz_target!(|data: &[u8]| {
    let frag = String::from_utf8_lossy(data);
    match SdpFrag::parse(&frag) {
        Ok(f) => {
            assert!(f.sections.len() <= MAX_MEDIA_SECTIONS);
            for (_, c) in f.candidates() {
                assert!(c.starts_with("candidate:") && c.split(' ').count() >= 8);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty() && msg.len() < 1024, "{} bytes", msg.len());
        }
    }
});
