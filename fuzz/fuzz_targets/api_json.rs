//! The node API's JSON shapes (`wishcast_api`): deserializing arbitrary bytes
//! must never panic, and whatever is accepted must re-serialize and parse back
//! to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{Serialize, de::DeserializeOwned};
use std::fmt::Debug;
use wishcast_api::{Info, Session, Strategy, Stream};

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<T>(data) else { return };
    let bytes = serde_json::to_vec(&v).expect("serialize");
    let back: T = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("re-parse of {} failed: {e}", String::from_utf8_lossy(&bytes)));
    assert_eq!(back, v);
    // Through serde_json::Value too (what the node's SSE/cluster code does).
    let value = serde_json::to_value(&v).expect("to_value");
    let back: T = serde_json::from_value(value).expect("from_value");
    assert_eq!(back, v);
}

fuzz_target!(|data: &[u8]| {
    round_trip::<Stream>(data);
    round_trip::<Strategy>(data);
    round_trip::<Vec<Stream>>(data);
    round_trip::<Session>(data);
    round_trip::<Info>(data);
});
