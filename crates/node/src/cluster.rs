//! Self-registration with a cluster manager (`[cluster]` in node.toml): a background
//! task POSTs a heartbeat to `{manager}/api/cluster/heartbeat` every `heartbeat_ms`
//! (at most 1 s). Every heartbeat carries the full registration (alias, URL, region,
//! limits, a token the manager may use towards this node), the load (streams,
//! sessions, packets/s, bytes/s, CPU) and the stream list, so a restarted manager
//! relearns the node at once and needs no polling.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use wishcast_api::cluster::{HEARTBEAT_PATH, Heartbeat, Load};
use wishcast_auth::{Authenticator, Claims, MODE_ADMIN, MODE_PUBLISH, MODE_SUBSCRIBE};
use wishcast_sfu::MediaHandle;
use wishcast_sfu::Metrics;

use crate::config::NodeConfig;

/// `[cluster]`: register with a manager. Off while `manager` is empty.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterConfig {
    /// Manager base URL, e.g. `http://10.0.0.1:8888`.
    pub manager: String,
    /// Token presented to the manager (an admin token of the manager).
    pub token: String,
    /// Name in the cluster; default `<hostname>-<http port>`.
    pub alias: String,
    pub region: String,
    /// URL the manager uses to reach this node; default `http://<listen ip or first interface ip>:<port>`.
    pub public_url: String,
    pub pub_max: Option<u32>,
    pub sub_max: Option<u32>,
    /// Heartbeat period, ms (100-1000).
    pub heartbeat_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            manager: String::new(),
            token: String::new(),
            alias: String::new(),
            region: String::new(),
            public_url: String::new(),
            pub_max: None,
            sub_max: None,
            heartbeat_ms: 1000,
        }
    }
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("manager", &self.manager)
            .field("token", &if self.token.is_empty() { "<unset>" } else { "<redacted>" })
            .field("alias", &self.alias)
            .field("region", &self.region)
            .field("public_url", &self.public_url)
            .field("pub_max", &self.pub_max)
            .field("sub_max", &self.sub_max)
            .finish()
    }
}

fn is_http_url(v: &str) -> bool {
    v.strip_prefix("http://").or_else(|| v.strip_prefix("https://")).is_some_and(|r| !r.is_empty())
}

impl ClusterConfig {
    pub fn enabled(&self) -> bool {
        !self.manager.trim().is_empty()
    }

    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        if !is_http_url(&self.manager) {
            return Err(format!(
                "config key `cluster.manager`: `{}` is not a URL like \"http://10.0.0.1:8888\"",
                self.manager
            ));
        }
        if !self.public_url.is_empty() && !is_http_url(&self.public_url) {
            return Err(format!(
                "config key `cluster.public_url`: `{}` is not a URL like \"http://10.0.0.5:7777\"",
                self.public_url
            ));
        }
        let alias_ok = self.alias.len() <= 64
            && self.alias.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !alias_ok {
            return Err("config key `cluster.alias`: use at most 64 characters of A-Z a-z 0-9 - _ .".into());
        }
        if !(100..=1000).contains(&self.heartbeat_ms) {
            return Err("config key `cluster.heartbeat_ms`: must be 100-1000 (the manager stops a node after 3 missed heartbeats)".into());
        }
        if self.sub_max == Some(0) {
            return Err(
                "config key `cluster.sub_max`: must be at least 1 (omit it to use strategy.each_stream_max_sub)".into(),
            );
        }
        Ok(())
    }
}

pub(crate) fn hostname() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let h: String =
        h.trim().chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).take(48).collect();
    if h.is_empty() { "node".into() } else { h }
}

/// `public_url` if set, else the listen address (or, for 0.0.0.0, the first interface IP).
fn own_url(cfg: &ClusterConfig, http: SocketAddr) -> String {
    if !cfg.public_url.is_empty() {
        return cfg.public_url.trim_end_matches('/').to_string();
    }
    let ip = if http.ip().is_unspecified() {
        wishcast_sfu::interface_ips(http.is_ipv6())
            .into_iter()
            .find(|ip| !ip.is_loopback())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        http.ip()
    };
    match ip {
        IpAddr::V6(v6) => format!("http://[{v6}]:{}", http.port()),
        IpAddr::V4(v4) => format!("http://{v4}:{}", http.port()),
    }
}

fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Running totals used to turn counters into rates.
struct Sample {
    at: Instant,
    packets: u64,
    bytes: u64,
    cpu: Option<f64>,
}

impl Sample {
    fn take(m: &Metrics) -> Sample {
        let g = Metrics::get;
        Sample {
            at: Instant::now(),
            packets: g(&m.rtp_packets_in) + g(&m.rtp_packets_out),
            bytes: g(&m.rtp_bytes_in) + g(&m.rtp_bytes_out),
            cpu: cpu_seconds(),
        }
    }
}

fn load(m: &Metrics, prev: &Sample, now: &Sample) -> Load {
    let secs = now.at.duration_since(prev.at).as_secs_f64().max(0.001);
    let rate = |a: u64, b: u64| (b.saturating_sub(a) as f64 / secs) as u64;
    let cpu = match (prev.cpu, now.cpu) {
        (Some(a), Some(b)) => (((b - a).max(0.0) / secs) * 100.0) as f32,
        _ => 0.0,
    };
    Load {
        streams: Metrics::get(&m.streams),
        publishers: Metrics::get(&m.publishers),
        subscribers: Metrics::get(&m.subscribers),
        packets_per_sec: rate(prev.packets, now.packets),
        bytes_per_sec: rate(prev.bytes, now.bytes),
        cpu,
    }
}

/// The heartbeat task; dropping it stops the heartbeats (it lives inside the node's
/// HTTP server task, so a node whose server stops also stops heartbeating).
pub struct HeartbeatTask(JoinHandle<()>);

impl Drop for HeartbeatTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Start heartbeating if `[cluster] manager` is set.
pub fn spawn(cfg: &NodeConfig, http: SocketAddr, media: MediaHandle) -> Option<HeartbeatTask> {
    let c = cfg.cluster.clone();
    if !c.enabled() {
        return None;
    }
    let alias = if c.alias.is_empty() { format!("{}-{}", hostname(), http.port()) } else { c.alias.clone() };
    let url = own_url(&c, http);
    let auth = Authenticator::new(&cfg.auth);
    let first_token = cfg.auth.tokens.first().cloned();
    let strategy = cfg.strategy.clone();
    let interval = Duration::from_millis(c.heartbeat_ms);
    let endpoint = format!("{}{}", c.manager.trim_end_matches('/'), HEARTBEAT_PATH);
    tracing::info!(alias = %alias, url = %url, manager = %c.manager, "registering with the cluster manager");
    Some(HeartbeatTask(tokio::spawn(async move {
        let http = reqwest::Client::builder().timeout(interval.mul_f32(0.9)).build().unwrap_or_default();
        let mut iv = tokio::time::interval(interval);
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut prev = Sample::take(&media.metrics);
        let mut failing: Option<String> = None;
        loop {
            iv.tick().await;
            let Ok(streams) = media.streams_view(Vec::new()).await else {
                tracing::warn!("media plane stopped: no more heartbeats");
                return;
            };
            let now = Sample::take(&media.metrics);
            let load = load(&media.metrics, &prev, &now);
            prev = now;
            // The manager talks to this node with a static token, or a short-lived admin JWT.
            let token = first_token.clone().or_else(|| {
                let claims =
                    Claims { id: "*".into(), exp: now_unix() + 600, mode: MODE_SUBSCRIBE | MODE_PUBLISH | MODE_ADMIN };
                auth.mint(&claims)
            });
            let hb = Heartbeat {
                alias: alias.clone(),
                url: url.clone(),
                region: c.region.clone(),
                token,
                pub_max: c.pub_max,
                sub_max: c.sub_max,
                interval_ms: c.heartbeat_ms,
                load,
                strategy: Some(strategy.clone()),
                streams,
            };
            let mut rq = http.post(&endpoint).json(&hb);
            if !c.token.is_empty() {
                rq = rq.bearer_auth(&c.token);
            }
            let outcome = match rq.send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    let hint =
                        if status.as_u16() == 401 || status.as_u16() == 403 { " (check cluster.token)" } else { "" };
                    Err(format!("manager answered {status}{hint}: {}", body.trim()))
                }
                Err(e) => Err(format!("manager unreachable: {}", e.without_url())),
            };
            match (outcome, &failing) {
                (Ok(()), Some(_)) => {
                    tracing::info!("heartbeats to the manager work again");
                    failing = None;
                }
                (Err(e), last) if last.as_deref() != Some(e.as_str()) => {
                    tracing::warn!("heartbeat to {endpoint} failed: {e}");
                    failing = Some(e);
                }
                _ => {}
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let mut c = ClusterConfig::default();
        assert!(!c.enabled());
        c.validate().unwrap();
        c.manager = "10.0.0.1:8888".into();
        assert!(c.validate().unwrap_err().contains("cluster.manager"));
        c.manager = "http://10.0.0.1:8888".into();
        c.validate().unwrap();
        c.heartbeat_ms = 5000;
        assert!(c.validate().unwrap_err().contains("cluster.heartbeat_ms"));
        c.heartbeat_ms = 1000;
        c.alias = "bad alias".into();
        assert!(c.validate().unwrap_err().contains("cluster.alias"));
        c.alias = "n1".into();
        c.public_url = "nope".into();
        assert!(c.validate().unwrap_err().contains("cluster.public_url"));
        c.token = "TOKENX".into();
        assert!(!format!("{c:?}").contains("TOKENX"));
    }

    #[test]
    fn own_url_defaults() {
        let c = ClusterConfig { public_url: "http://n:1/".into(), ..Default::default() };
        assert_eq!(own_url(&c, "127.0.0.1:5".parse().unwrap()), "http://n:1");
        let c = ClusterConfig::default();
        assert_eq!(own_url(&c, "127.0.0.1:5".parse().unwrap()), "http://127.0.0.1:5");
        assert!(own_url(&c, "0.0.0.0:5".parse().unwrap()).ends_with(":5"));
    }
}
