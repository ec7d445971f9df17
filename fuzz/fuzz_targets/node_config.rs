//! `wishcast_node::config::parse` + `NodeConfig::validate` (and the env overrides)
//! on arbitrary text: must never panic; an accepted config must survive a TOML
//! round trip unchanged.
//!
//! Input: TOML text, optionally followed by NUL-separated env values
//! `PORT\0LOG_LEVEL\0WISHCAST_PUBLIC_IP` (a NUL can never be part of valid TOML).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wishcast_node::config::{self, NodeConfig};

fn validate(cfg: &NodeConfig) {
    // validate() resolves `public_hostname` through DNS: never from a fuzzer.
    assert!(cfg.webrtc.public_hostname.is_none());
    match cfg.validate() {
        Ok(r) => {
            let n = cfg.webrtc.public_ips.len() + usize::from(cfg.webrtc.public_ip.is_some());
            assert_eq!(r.public_ips.len(), n);
            assert!(cfg.webrtc.advertise_udp || r.tcp.is_some());
            assert!(cfg.strategy.each_stream_max_sub >= 1);
        }
        Err(e) => assert!(e.0.starts_with("config key `"), "{}", e.0),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let toml_text = parts.next().unwrap_or("");
    let env: Vec<&str> = parts.collect();

    let (mut cfg, _unknown) = match config::parse(toml_text) {
        Ok(v) => v,
        Err(e) => {
            assert!(e.0.starts_with("invalid TOML") || e.0.starts_with("config key `"), "{}", e.0);
            return;
        }
    };
    cfg.webrtc.public_hostname = None;
    validate(&cfg);

    // Round trip: what we parsed serializes to TOML that parses back to the same
    // config, with no unknown keys.
    let ser = toml::to_string(&cfg).expect("a parsed config serializes");
    let (again, unknown) = config::parse(&ser).unwrap_or_else(|e| panic!("re-parse failed: {e}\n{ser}"));
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(toml::to_string(&again).unwrap(), ser);
    assert_eq!(again.auth, cfg.auth);
    assert_eq!(again.strategy, cfg.strategy);
    assert_eq!(again.ice_servers, cfg.ice_servers);

    if !env.is_empty() {
        let get = |k: &str| -> Option<String> {
            let i = ["PORT", "LOG_LEVEL", "WISHCAST_PUBLIC_IP"].iter().position(|n| *n == k)?;
            env.get(i).filter(|v| !v.is_empty()).map(|v| v.to_string())
        };
        if config::apply_env(&mut cfg, get).is_ok() {
            validate(&cfg);
        }
    }
});
