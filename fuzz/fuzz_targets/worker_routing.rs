//! The socket reader's routing of untrusted datagrams to media workers
//! (`wishcast_sfu::{worker_of_stun, worker_of_ufrag}`): arbitrary bytes must never panic, and a worker is
//! only ever named within range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wishcast_sfu::{worker_of_stun, worker_of_ufrag};

fuzz_target!(|data: &[u8]| {
    for workers in [1usize, 2, 3, 32] {
        if let Some(w) = worker_of_stun(data, workers) {
            assert!(w < workers);
        }
        if let Ok(s) = std::str::from_utf8(data)
            && let Some(w) = worker_of_ufrag(s, workers)
        {
            assert!(w < workers);
        }
    }
});
