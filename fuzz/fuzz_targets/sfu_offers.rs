//! Arbitrary text as a WHIP/WHEP offer to `Sfu::publish` / `Sfu::subscribe`
//! (on a fresh stream and on a stream that already has a publisher, so the
//! subscriber codec matching runs), and as a trickle PATCH body
//! (`SdpFrag::parse` + `Sfu::patch`) on a live session. Must never panic;
//! accepted offers must produce an answer with ICE credentials.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use libfuzzer_sys::fuzz_target;
use wishcast_sdp::SdpFrag;
use wishcast_sfu::{SessionAnswer, SfuError};

fn check(r: &Result<SessionAnswer, SfuError>) {
    match r {
        Ok(a) => {
            let (u, p) = ice_creds(&a.sdp);
            assert!(!u.is_empty() && !p.is_empty(), "answer without ICE creds:\n{}", a.sdp);
            assert!(a.sdp.starts_with("v=0"));
            assert!(!a.etag.is_empty() && !a.session_id.is_empty());
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty());
            assert!(!matches!(e, SfuError::Internal(_)), "{msg}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = Instant::now();
    let mut sfu = new_sfu(now);

    // A live publisher on "live" (target for the subscribe-with-publisher path and PATCH).
    let live = sfu.publish(now, "live", PUB_OFFER, Some(7)).expect("fixed offer is accepted");

    let p = sfu.publish(now, "new", &text, None);
    check(&p);
    let s = sfu.subscribe(now, "new2", &text, Some(1));
    check(&s);
    let s2 = sfu.subscribe(now, "live", &text, None);
    check(&s2);
    // A second publisher on "live" must be refused whatever the offer.
    if let Ok(_) = sfu.publish(now, "live", &text, None) {
        panic!("second publisher accepted");
    }

    if let Ok(frag) = SdpFrag::parse(&text) {
        // Someone else's token may never patch the publisher.
        assert!(sfu.patch(now, "live", &live.session_id, &frag, None, Some(8)).is_err());
        for if_match in [None, Some("*"), Some(live.etag.as_str()), Some("\"nope\"")] {
            match sfu.patch(now, "live", &live.session_id, &frag, if_match, Some(7)) {
                Ok(_) => assert_ne!(if_match, Some("\"nope\"")),
                Err(e) => assert!(!matches!(e, SfuError::Internal(_)), "{e}"),
            }
        }
        if let Ok(a) = &s2 {
            let _ = sfu.patch(now, "live", &a.session_id, &frag, None, None);
            let _ = sfu.layers("live", &a.session_id, None);
            let _ = sfu.select_layer(now, "live", &a.session_id, Some("h"), None);
        }
    }

    for (stream, r) in [("new", &p), ("new2", &s), ("live", &s2)] {
        if let Ok(a) = r {
            sfu.delete_session(now, stream, &a.session_id).expect("delete a session just created");
        }
    }
    let _ = sfu.streams_view(&[]);
    let mut t = now;
    for _ in 0..3 {
        t += Duration::from_secs(3);
        sfu.handle_timeout(t);
        while sfu.poll_transmit().is_some() {}
    }
});
