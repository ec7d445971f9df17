//! `node.toml`: every key has a default; Live777's `live777.toml` keys are accepted
//! where the concept is the same. Unknown keys are reported (not fatal, except inside
//! `[strategy]`), invalid values stop start-up with a message naming the key. `[http]`,
//! `[log]` and the loader are `wishcast-http`'s, shared with the manager.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use serde::{Deserialize, Serialize};
use wishcast_api::Strategy;
pub use wishcast_api::ice::{IceServer, UrlList};
use wishcast_auth::AuthConfig;
use wishcast_http::config::Port;
pub use wishcast_http::config::{ConfigError, LogConfig};

/// `[http]`: `listen` (default `0.0.0.0:7777`) and `cors`.
pub type HttpConfig = wishcast_http::config::HttpConfig<Port<7777>>;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeConfig {
    pub http: HttpConfig,
    pub webrtc: WebrtcConfig,
    pub ice_servers: Vec<IceServer>,
    pub auth: AuthConfig,
    pub strategy: Strategy,
    pub log: LogConfig,
    /// Self-registration with a cluster manager (see `cluster.rs`).
    pub cluster: crate::cluster::ClusterConfig,
    /// Recording (`[recorder]`); absent = recording off (the routes answer 503).
    pub recorder: Option<crate::recording::RecorderConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebrtcConfig {
    /// UDP media socket shared by all peers.
    pub listen: String,
    /// Passive ICE-TCP listener; "" disables it.
    pub tcp_listen: String,
    /// Advertise this address instead of the bound ones (1:1 NAT).
    pub public_ip: Option<String>,
    pub public_ips: Vec<String>,
    /// Resolved at start-up and advertised like `public_ip`.
    pub public_hostname: Option<String>,
    /// false = only TCP candidates are advertised (firewalled UDP, tests).
    pub advertise_udp: bool,
    /// Accepted for Live777 compatibility; wishcast is always ICE-lite.
    pub ice_lite: bool,
    /// Enables test-only routes (`POST /session/{stream}/{id}/bwe_cap`). Keep off in production.
    pub test_hooks: bool,
    /// Media worker threads; 0 = one per core.
    pub workers: usize,
}

impl Default for WebrtcConfig {
    fn default() -> Self {
        WebrtcConfig {
            listen: "0.0.0.0:7777".into(),
            tcp_listen: "0.0.0.0:7778".into(),
            public_ip: None,
            public_ips: Vec::new(),
            public_hostname: None,
            advertise_udp: true,
            ice_lite: true,
            test_hooks: false,
            workers: 0,
        }
    }
}

/// Parse TOML text. Returns the config and the unknown keys that were ignored.
/// An unknown key inside `[strategy]` is an error.
pub fn parse(text: &str) -> Result<(NodeConfig, Vec<String>), ConfigError> {
    let (cfg, mut unknown) = wishcast_http::config::parse_toml::<NodeConfig>(text, &["strategy"])?;
    if !cfg.http.public.is_empty() {
        unknown.push("http.public (a node's public URL is `cluster.public_url`)".into());
    }
    if cfg.http.trust_forwarded_for {
        unknown.push("http.trust_forwarded_for (only the manager reads it)".into());
    }
    Ok((cfg, unknown))
}

/// Apply the usual environment overrides: `PORT`, `LOG_LEVEL`, `WISHCAST_PUBLIC_IP`.
pub fn apply_env(cfg: &mut NodeConfig, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    wishcast_http::config::apply_env(&mut cfg.http, &mut cfg.log, &get)?;
    if let Some(ip) = get("WISHCAST_PUBLIC_IP") {
        cfg.webrtc.public_ips = ip.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        cfg.webrtc.public_ip = None;
    }
    Ok(())
}

/// Validated, typed view of the addresses.
#[derive(Debug, Clone)]
pub struct ResolvedAddrs {
    pub http: SocketAddr,
    pub udp: SocketAddr,
    pub tcp: Option<SocketAddr>,
    pub public_ips: Vec<IpAddr>,
}

fn addr(key: &str, v: &str) -> Result<SocketAddr, ConfigError> {
    v.parse().map_err(|_| {
        ConfigError(format!("config key `{key}`: `{v}` is not an address like \"0.0.0.0:7777\" or \"[::]:7777\""))
    })
}

impl NodeConfig {
    pub fn validate(&self) -> Result<ResolvedAddrs, ConfigError> {
        let http = self.http.listen_addr()?;
        let udp = addr("webrtc.listen", &self.webrtc.listen)?;
        let tcp = if self.webrtc.tcp_listen.trim().is_empty() {
            None
        } else {
            Some(addr("webrtc.tcp_listen", &self.webrtc.tcp_listen)?)
        };
        if self.webrtc.workers > wishcast_sfu::MAX_WORKERS {
            return Err(ConfigError(format!(
                "config key `webrtc.workers`: {} is more than the {} media workers a node can run; use 0 for one per core",
                self.webrtc.workers,
                wishcast_sfu::MAX_WORKERS
            )));
        }
        if !self.webrtc.advertise_udp && tcp.is_none() {
            return Err(ConfigError(
                "config key `webrtc.advertise_udp`: false needs `webrtc.tcp_listen`, otherwise no candidate is left"
                    .into(),
            ));
        }
        let mut public_ips = Vec::new();
        let mut list: Vec<(String, &str)> =
            self.webrtc.public_ips.iter().map(|s| (s.clone(), "webrtc.public_ips")).collect();
        if let Some(p) = &self.webrtc.public_ip {
            list.insert(0, (p.clone(), "webrtc.public_ip"));
        }
        for (s, key) in list {
            let ip: IpAddr =
                s.parse().map_err(|_| ConfigError(format!("config key `{key}`: `{s}` is not an IP address")))?;
            public_ips.push(ip);
        }
        if let Some(h) = &self.webrtc.public_hostname {
            let resolved = (h.as_str(), 0u16)
                .to_socket_addrs()
                .map_err(|e| ConfigError(format!("config key `webrtc.public_hostname`: cannot resolve `{h}`: {e}")))?;
            for a in resolved {
                if !public_ips.contains(&a.ip()) {
                    public_ips.push(a.ip());
                }
            }
        }
        for (i, s) in self.ice_servers.iter().enumerate() {
            let urls = s.urls.list();
            if urls.is_empty() {
                return Err(ConfigError(format!("config key `ice_servers[{i}].urls`: at least one URL is needed")));
            }
            for u in urls {
                let scheme = u.split(':').next().unwrap_or("");
                if !matches!(scheme, "stun" | "stuns" | "turn" | "turns") {
                    return Err(ConfigError(format!(
                        "config key `ice_servers[{i}].urls`: `{u}` must start with stun:, stuns:, turn: or turns:"
                    )));
                }
                if scheme.starts_with("turn") && (s.username.is_empty() || s.credential.is_empty()) {
                    return Err(ConfigError(format!(
                        "config key `ice_servers[{i}]`: TURN URL `{u}` needs username and credential"
                    )));
                }
            }
        }
        self.log.validate()?;
        self.auth.validate().map_err(|e| ConfigError(format!("config: {e}")))?;
        self.cluster.validate().map_err(ConfigError)?;
        if let Some(r) = &self.recorder {
            r.validate().map_err(ConfigError)?;
        }
        if self.strategy.each_stream_max_sub == 0 {
            return Err(ConfigError("config key `strategy.each_stream_max_sub`: must be at least 1".into()));
        }
        Ok(ResolvedAddrs { http, udp, tcp, public_ips })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_all_defaults() {
        let (c, unknown) = parse("").unwrap();
        assert_eq!(c.http.listen, "0.0.0.0:7777");
        assert_eq!(c.webrtc.tcp_listen, "0.0.0.0:7778");
        assert!(unknown.is_empty());
        c.validate().unwrap();
    }

    #[test]
    fn live777_keys_are_accepted() {
        let text = r#"
[http]
listen = "0.0.0.0:7777"
cors = true
[[ice_servers]]
urls = ["stun:stun.l.google.com:19302"]
[auth]
secret = "s"
tokens = ["t"]
[strategy]
each_stream_max_sub = 3
auto_delete_whip = 1000
[log]
level = "debug"
[webrtc]
ice_lite = true
ice_udp_addrs = ["auto"]
"#;
        let (c, unknown) = parse(text).unwrap();
        assert!(c.http.cors);
        assert_eq!(c.strategy.each_stream_max_sub, 3);
        assert_eq!(unknown, vec!["webrtc.ice_udp_addrs".to_string()]);
        c.validate().unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("[http]\nlisten = 5\n").unwrap_err().to_string();
        assert!(e.contains("http.listen"), "{e}");
        let e = parse("[strategy]\neach_stream_max_sub = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("strategy.each_stream_max_sub"), "{e}");
        let (c, _) = parse("[webrtc]\nlisten = \"nope\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("webrtc.listen"));
        let (c, _) = parse("[webrtc]\nworkers = 99\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("webrtc.workers"));
        let (c, _) = parse("[webrtc]\nworkers = 2\n").unwrap();
        assert_eq!(c.webrtc.workers, 2);
        let (c, _) = parse("[webrtc]\npublic_ip = \"1.2.3\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("webrtc.public_ip"));
        let (c, _) = parse("[[ice_servers]]\nurls = \"turn:x\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("ice_servers[0]"));
        let e = parse("[strategy]\neach_stream_max_subs = 3\n").unwrap_err().to_string();
        assert!(e.contains("strategy.each_stream_max_subs"), "an unknown [strategy] key is an error: {e}");
        let (_, unknown) = parse("[http]\npublic = \"http://x\"\n").unwrap();
        assert_eq!(unknown.len(), 1, "http.public is the manager's: {unknown:?}");
        let (c, _) = parse("[log]\nlevel = \"loud\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("log.level"));
    }

    #[test]
    fn env_overrides() {
        let mut c = NodeConfig::default();
        apply_env(&mut c, |k| match k {
            "PORT" => Some("9000".into()),
            "WISHCAST_PUBLIC_IP" => Some("203.0.113.7".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.http.listen, "0.0.0.0:9000");
        assert_eq!(c.validate().unwrap().public_ips, vec!["203.0.113.7".parse::<IpAddr>().unwrap()]);
        assert!(apply_env(&mut c, |k| (k == "PORT").then(|| "x".into())).is_err());
    }
}
