//! The hand-written fuzz seeds in /fuzz/corpus are valid inputs, so the
//! fuzzer starts from the accepting paths.

use std::path::Path;

use wishcast_sdp::{OfferInfo, SdpFrag};

fn seeds(target: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        if name.starts_with("seed_") {
            out.push((name, std::fs::read_to_string(&path).expect("seed is UTF-8")));
        }
    }
    assert!(out.len() >= 2, "expected seeds in {}", dir.display());
    out
}

#[test]
fn offer_seeds_parse() {
    for (name, text) in seeds("sdp_offer") {
        OfferInfo::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn frag_seeds_parse() {
    for (name, text) in seeds("sdp_frag") {
        let f = SdpFrag::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(f.candidates().count() > 0, "{name}");
    }
}
