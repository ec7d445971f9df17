//! `manager.toml`: Liveman's `liveman.toml` keys plus wishcast's own (`region`,
//! `pub_max`/`sub_max` on nodes, `[placement]`, `[health]`). Every key has a default;
//! unknown keys are reported (not fatal); invalid values stop start-up with a message
//! naming the key and saying how to fix it.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use wishcast_auth::AuthConfig;
use wishcast_http::config::Port;
pub use wishcast_http::config::{ConfigError, LogConfig};

/// `[http]`: `listen` (default `0.0.0.0:8888`), `cors` and `public`.
pub type HttpConfig = wishcast_http::config::HttpConfig<Port<8888>>;

pub use crate::accounts::Account;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ManagerConfig {
    pub http: HttpConfig,
    pub auth: ManagerAuth,
    pub log: LogConfig,
    pub nodes: Vec<NodeEntry>,
    pub placement: PlacementConfig,
    pub health: HealthConfig,
    pub cascade: CascadeConfig,
    pub extra_ice: ExtraIceConfig,
    pub database: DatabaseConfig,
    /// Playback of recordings (`signed_redirect`, `signed_ttl_seconds`).
    pub playback: PlaybackConfig,
    /// Liveman's automatic recording (`enabled`, `auto_streams`, `tick_ms`).
    pub auto_record: AutoRecordConfig,
    /// Recording storage, `auto_streams` and `retention_days` on the manager.
    pub recorder: ManagerRecorderConfig,
    /// Liveman tables accepted so existing files load; not implemented (a warning is printed).
    pub net4mqtt: Option<toml::Value>,
    pub record_sync: Option<toml::Value>,
    /// Liveman declares a `[[liveion]]` array that it never uses.
    pub liveion: Option<toml::Value>,
}

/// `[auth]`: the node's `secret`/`tokens` plus Liveman's `[[auth.accounts]]`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ManagerAuth {
    pub secret: String,
    pub tokens: Vec<String>,
    pub accounts: Vec<Account>,
}

impl ManagerAuth {
    pub fn auth_config(&self) -> AuthConfig {
        AuthConfig { secret: self.secret.clone(), tokens: self.tokens.clone() }
    }
}

impl std::fmt::Debug for ManagerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerAuth")
            .field("auth", &self.auth_config())
            .field("accounts", &self.accounts.iter().map(|a| a.username.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// Aliases: 1-64 characters of `A-Z a-z 0-9 - _ .`.
pub fn check_alias(a: &str) -> Result<(), String> {
    if a.is_empty() || a.len() > 64 || !a.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!("alias `{a}` must be 1-64 characters of A-Z a-z 0-9 - _ ."));
    }
    Ok(())
}

/// A static `[[nodes]]` entry.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeEntry {
    pub alias: String,
    /// Base URL of the node's HTTP API, e.g. `http://10.0.0.5:7777`.
    pub url: String,
    /// Token the manager presents to the node (one of the node's `auth.tokens`).
    pub token: String,
    /// Liveman's `poll`/`sse`; wishcast always polls every `health.interval_ms`.
    pub mode: String,
    pub region: String,
    /// Publishers this node may take (none = unlimited).
    pub pub_max: Option<u32>,
    /// Viewers per stream on this node (none = the node's `each_stream_max_sub`).
    pub sub_max: Option<u32>,
}

impl std::fmt::Debug for NodeEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeEntry")
            .field("alias", &self.alias)
            .field("url", &self.url)
            .field("token", &if self.token.is_empty() { "<unset>" } else { "<redacted>" })
            .field("region", &self.region)
            .field("pub_max", &self.pub_max)
            .field("sub_max", &self.sub_max)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProxyMode {
    /// The manager forwards WHIP/WHEP and session requests.
    #[default]
    Proxy,
    /// The manager answers `307` with the chosen node's URL.
    Redirect,
}

/// `[placement]` (wishcast).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PlacementConfig {
    /// Region of clients that name none (`?region=` / `X-Region`).
    pub region: String,
    pub mode: ProxyMode,
}

/// `[health]` (wishcast): node polling and heartbeat expiry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthConfig {
    /// Static nodes are polled, and registered nodes expected to heartbeat, this often.
    pub interval_ms: u64,
    /// Missed polls/heartbeats before a node is `stopped`.
    pub misses: u32,
    /// Timeout of one poll.
    pub timeout_ms: u64,
    /// Timeout of a proxied request to a node.
    pub request_timeout_ms: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig { interval_ms: 1000, misses: 3, timeout_ms: 900, request_timeout_ms: 10_000 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CascadeMode {
    /// The destination node pulls from the source with WHEP.
    #[default]
    Pull,
    /// The source node pushes to the destination with WHIP.
    Push,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CascadeConfig {
    pub mode: CascadeMode,
    /// Checks (1 s apart) that the relay's publisher is connected.
    pub check_attempts: u32,
    /// Period of the idle-relay sweep, ms.
    pub check_tick_time: u64,
    /// A relay without viewers for this long is torn down, ms.
    pub maximum_idle_time: u64,
    /// Accepted for Liveman compatibility; wishcast never kicks viewers.
    pub close_other_sub: bool,
}

impl Default for CascadeConfig {
    fn default() -> Self {
        CascadeConfig {
            mode: CascadeMode::Pull,
            check_attempts: 5,
            check_tick_time: 1000,
            maximum_idle_time: 60_000,
            close_other_sub: false,
        }
    }
}

pub use wishcast_api::ice::{IceServer, UrlList};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtraIceConfig {
    pub override_upstream_ice_servers: bool,
    pub ice_servers: Vec<IceServer>,
    pub coturn: Option<CoturnConfig>,
    pub cloudflare: Option<CloudflareConfig>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CoturnConfig {
    pub urls: UrlList,
    /// coturn's `--static-auth-secret`.
    pub secret: String,
    /// Credential lifetime, seconds.
    pub ttl: u64,
}

impl Default for CoturnConfig {
    fn default() -> Self {
        CoturnConfig { urls: UrlList::default(), secret: String::new(), ttl: 3600 }
    }
}

impl std::fmt::Debug for CoturnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoturnConfig").field("urls", &self.urls).field("ttl", &self.ttl).finish()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudflareConfig {
    pub key_id: String,
    pub api_token: String,
    /// Credential lifetime, seconds.
    pub ttl: u64,
    /// Base URL of the Cloudflare Realtime API (override for tests or proxies).
    pub api_base: String,
}

impl Default for CloudflareConfig {
    fn default() -> Self {
        CloudflareConfig {
            key_id: String::new(),
            api_token: String::new(),
            ttl: 3600,
            api_base: "https://rtc.live.cloudflare.com".into(),
        }
    }
}

impl std::fmt::Debug for CloudflareConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudflareConfig")
            .field("key_id", &self.key_id)
            .field("ttl", &self.ttl)
            .field("api_base", &self.api_base)
            .finish()
    }
}

/// `[database]`: the recordings index (`wishcast-index`), opened and migrated at
/// start-up. `url` is `sqlite://path?mode=rwc` (relative to the working directory;
/// the file and its directories are created), `sqlite::memory:` or
/// `postgres://user:password@host:5432/db`; env `DATABASE_URL` overrides it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    /// Seconds allowed to open a connection.
    pub connect_timeout: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: "sqlite://./liveman.db?mode=rwc".into(), max_connections: 10, connect_timeout: 30 }
    }
}

impl DatabaseConfig {
    pub fn index_config(&self) -> wishcast_index::IndexConfig {
        wishcast_index::IndexConfig {
            url: self.url.clone(),
            max_connections: self.max_connections,
            connect_timeout: std::time::Duration::from_secs(self.connect_timeout),
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Postgres URLs may carry a password: print only the scheme.
        let scheme = self.url.split("://").next().unwrap_or("");
        f.debug_struct("DatabaseConfig")
            .field("url", &format_args!("{scheme}://…"))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `[playback]`: how recorded objects are served.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PlaybackConfig {
    /// Answer media segments with a 307 to a presigned URL (S3/OSS only).
    pub signed_redirect: bool,
    pub signed_ttl_seconds: u64,
}

impl Default for PlaybackConfig {
    fn default() -> Self {
        PlaybackConfig { signed_redirect: false, signed_ttl_seconds: 60 }
    }
}

/// `[auto_record]` (Liveman): record matching streams automatically.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoRecordConfig {
    pub enabled: bool,
    pub auto_streams: Vec<String>,
    pub tick_ms: u64,
    /// Accepted for compatibility; wishcast lays recordings out by day.
    pub base_prefix: String,
    /// Accepted for compatibility; nodes rotate (`[recorder] max_recording_seconds` in node.toml).
    pub max_recording_seconds: Option<u64>,
}

impl Default for AutoRecordConfig {
    fn default() -> Self {
        AutoRecordConfig {
            enabled: false,
            auto_streams: Vec::new(),
            tick_ms: 5000,
            base_prefix: String::new(),
            max_recording_seconds: None,
        }
    }
}

/// `[recorder]` on the manager: where recordings are read from (the same storage the
/// nodes write to), streams to record automatically, and retention.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ManagerRecorderConfig {
    /// Streams recorded automatically on their origin node (globs `*`, `?`).
    pub auto_streams: Vec<String>,
    /// Delete recordings (objects and index rows) older than this many days; 0 = keep.
    pub retention_days: u64,
    #[serde(skip_serializing)]
    pub storage: wishcast_storage::StorageConfig,
}

impl ManagerConfig {
    /// Globs of streams the manager records automatically.
    pub fn auto_record_globs(&self) -> Vec<String> {
        let mut g = self.recorder.auto_streams.clone();
        if self.auto_record.enabled {
            g.extend(self.auto_record.auto_streams.iter().cloned());
        }
        g
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Parse TOML text. Returns the config and the keys that were ignored (unknown, or
/// Liveman features not implemented yet).
pub fn parse(text: &str) -> Result<(ManagerConfig, Vec<String>), ConfigError> {
    let (cfg, mut unknown) = wishcast_http::config::parse_toml::<ManagerConfig>(text, &[])?;
    for (present, key) in [(cfg.net4mqtt.is_some(), "net4mqtt")] {
        if present {
            unknown.push(format!("{key} (Liveman feature not implemented by wishcast yet)"));
        }
    }
    if cfg.record_sync.is_some() {
        unknown.push("record_sync (not needed: wishcast nodes push their recording reports to the manager)".into());
    }
    Ok((cfg, unknown))
}

/// Environment overrides: `PORT`, `LOG_LEVEL`, `DATABASE_URL`.
pub fn apply_env(cfg: &mut ManagerConfig, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    wishcast_http::config::apply_env(&mut cfg.http, &mut cfg.log, &get)?;
    if let Some(u) = get("DATABASE_URL") {
        cfg.database.url = u;
    }
    Ok(())
}

fn http_url(key: &str, v: &str) -> Result<(), ConfigError> {
    let rest = v.strip_prefix("http://").or_else(|| v.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
        _ => err(format!("config key `{key}`: `{v}` is not a URL like \"http://10.0.0.5:7777\"")),
    }
}

fn ice_urls(key: &str, urls: &[String]) -> Result<(), ConfigError> {
    if urls.is_empty() {
        return err(format!("config key `{key}`: at least one URL is needed"));
    }
    for u in urls {
        let scheme = u.split(':').next().unwrap_or("");
        if !matches!(scheme, "stun" | "stuns" | "turn" | "turns") {
            return err(format!("config key `{key}`: `{u}` must start with stun:, stuns:, turn: or turns:"));
        }
    }
    Ok(())
}

impl ManagerConfig {
    /// Check every value; returns the HTTP listen address.
    pub fn validate(&self) -> Result<SocketAddr, ConfigError> {
        let listen = self.http.listen_addr()?;
        if !self.http.public.is_empty() {
            http_url("http.public", &self.http.public)?;
        }
        self.log.validate()?;
        self.auth.auth_config().validate().map_err(|e| ConfigError(format!("config: {e}")))?;
        for (i, a) in self.auth.accounts.iter().enumerate() {
            if a.username.is_empty() || a.password.is_empty() {
                return err(format!("config key `auth.accounts[{i}]`: username and password are both required"));
            }
            if a.password.starts_with("$argon2") {
                crate::accounts::check_hash_syntax(&a.password)
                    .map_err(|e| ConfigError(format!("config key `auth.accounts[{i}].password`: {e}")))?;
            }
        }
        if !self.auth.accounts.is_empty() && self.auth.secret.is_empty() {
            return err("config key `auth.secret`: `[[auth.accounts]]` log in with JWTs, so a secret is required");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            check_alias(&n.alias).map_err(|e| ConfigError(format!("config key `nodes[{i}].alias`: {e}")))?;
            if !seen.insert(n.alias.as_str()) {
                return err(format!(
                    "config key `nodes[{i}].alias`: `{}` is used twice; aliases must be unique",
                    n.alias
                ));
            }
            http_url(&format!("nodes[{i}].url"), &n.url)?;
            if !matches!(n.mode.as_str(), "" | "poll" | "sse") {
                return err(format!("config key `nodes[{i}].mode`: `{}` is not `poll` or `sse`", n.mode));
            }
            if n.sub_max == Some(0) {
                return err(format!(
                    "config key `nodes[{i}].sub_max`: must be at least 1 (omit it for the node's own limit)"
                ));
            }
        }
        if self.health.interval_ms < 100 || self.health.interval_ms > 1000 {
            return err("config key `health.interval_ms`: must be 100-1000 (a dead node must be `stopped` within 3 s)");
        }
        if self.health.misses == 0 {
            return err("config key `health.misses`: must be at least 1");
        }
        if self.health.timeout_ms == 0 || self.health.timeout_ms > self.health.interval_ms {
            return err("config key `health.timeout_ms`: must be 1..=health.interval_ms");
        }
        if self.health.request_timeout_ms < 100 {
            return err("config key `health.request_timeout_ms`: must be at least 100");
        }
        if self.cascade.check_attempts == 0 {
            return err("config key `cascade.check_attempts`: must be at least 1");
        }
        if self.cascade.check_tick_time < 100 {
            return err("config key `cascade.check_tick_time`: must be at least 100 (ms)");
        }
        for (i, s) in self.extra_ice.ice_servers.iter().enumerate() {
            let key = format!("extra_ice.ice_servers[{i}].urls");
            ice_urls(&key, &s.urls.list())?;
            let turn = s.urls.list().iter().any(|u| u.starts_with("turn"));
            if turn && (s.username.is_empty() || s.credential.is_empty()) {
                return err(format!("config key `extra_ice.ice_servers[{i}]`: TURN URLs need username and credential"));
            }
        }
        if let Some(c) = &self.extra_ice.coturn {
            ice_urls("extra_ice.coturn.urls", &c.urls.list())?;
            if c.secret.is_empty() {
                return err("config key `extra_ice.coturn.secret`: set it to coturn's --static-auth-secret");
            }
            if c.ttl == 0 {
                return err("config key `extra_ice.coturn.ttl`: must be at least 1 (seconds)");
            }
        }
        if let Some(c) = &self.extra_ice.cloudflare {
            if c.key_id.is_empty() || c.api_token.is_empty() {
                return err("config key `extra_ice.cloudflare`: `key_id` and `api_token` are both required");
            }
            if c.ttl < 60 {
                return err("config key `extra_ice.cloudflare.ttl`: must be at least 60 (seconds)");
            }
            http_url("extra_ice.cloudflare.api_base", &c.api_base)?;
        }
        wishcast_index::url::parse(&self.database.url, std::path::Path::new("/"))
            .map_err(|e| ConfigError(format!("config key `database.url`: {e}")))?;
        if self.database.max_connections == 0 {
            return err("config key `database.max_connections`: must be at least 1");
        }
        if self.database.connect_timeout == 0 {
            return err("config key `database.connect_timeout`: must be at least 1 (seconds)");
        }
        self.recorder.storage.validate("recorder.storage").map_err(ConfigError)?;
        for (i, g) in self.auto_record_globs().iter().enumerate() {
            if g.is_empty() || g.contains('/') {
                return Err(ConfigError(format!(
                    "config key `recorder.auto_streams[{i}]`: `{g}` must be a non-empty glob without `/`"
                )));
            }
        }
        if self.auto_record.tick_ms < 500 {
            return err("config key `auto_record.tick_ms`: must be at least 500");
        }
        if self.playback.signed_ttl_seconds == 0 {
            return err("config key `playback.signed_ttl_seconds`: must be at least 1");
        }
        Ok(listen)
    }

    /// The URL nodes and clients use to reach the manager.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        if !self.http.public.is_empty() {
            return self.http.public.trim_end_matches('/').to_string();
        }
        let host = if bound.ip().is_unspecified() { "127.0.0.1".to_string() } else { bound.ip().to_string() };
        let host = if bound.is_ipv6() && !bound.ip().is_unspecified() { format!("[{host}]") } else { host };
        format!("http://{host}:{}", bound.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_all_defaults() {
        let (c, unknown) = parse("").unwrap();
        assert_eq!(c.http.listen, "0.0.0.0:8888");
        assert_eq!(c.cascade.mode, CascadeMode::Pull);
        assert_eq!(c.placement.mode, ProxyMode::Proxy);
        assert_eq!(c.database.url, "sqlite://./liveman.db?mode=rwc");
        assert!(unknown.is_empty());
        c.validate().unwrap();
    }

    #[test]
    fn liveman_toml_is_accepted() {
        let text = r#"
[http]
listen = "0.0.0.0:8888"
cors = true
public = "http://manager.example:8888"
[auth]
secret = "s3cret"
tokens = ["live777"]
[[auth.accounts]]
username = "live777"
password = "live777"
[log]
level = "debug"
[[nodes]]
alias = "buildin-1"
url = "http://127.0.0.1:7777"
token = "live777"
mode = "sse"
[[nodes]]
alias = "eu-1"
url = "http://10.0.0.2:7777"
region = "eu"
pub_max = 10
sub_max = 100
[cascade]
mode = "push"
check_attempts = 5
check_tick_time = 60000
maximum_idle_time = 60000
close_other_sub = false
[extra_ice]
override_upstream_ice_servers = true
[[extra_ice.ice_servers]]
urls = ["stun:stun.l.google.com:19302"]
[extra_ice.coturn]
secret = "live777"
urls = ["turn:coturn.example:3478?transport=udp"]
ttl = 3600
[extra_ice.cloudflare]
key_id = "k"
api_token = "t"
ttl = 3600
[database]
url = "sqlite://./liveman.db?mode=rwc"
max_connections = 10
connect_timeout = 30
[net4mqtt]
mqtt_url = "mqtt://localhost:1883/net4mqtt"
"#;
        let (c, unknown) = parse(text).unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.nodes[1].sub_max, Some(100));
        assert_eq!(c.cascade.mode, CascadeMode::Push);
        assert_eq!(c.extra_ice.cloudflare.as_ref().unwrap().api_base, "https://rtc.live.cloudflare.com");
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert!(unknown[0].starts_with("net4mqtt"));
        c.validate().unwrap();
        assert_eq!(c.public_url("0.0.0.0:1".parse().unwrap()), "http://manager.example:8888");
    }

    #[test]
    fn errors_name_the_key() {
        let bad = |t: &str| {
            let (c, _) = parse(t).unwrap();
            c.validate().unwrap_err().to_string()
        };
        assert!(bad("[http]\nlisten = \"x\"").contains("http.listen"));
        assert!(bad("[[nodes]]\nalias = \"a\"\nurl = \"10.0.0.1:7777\"").contains("nodes[0].url"));
        assert!(
            bad("[[nodes]]\nalias = \"a\"\nurl = \"http://a\"\n[[nodes]]\nalias = \"a\"\nurl = \"http://b\"")
                .contains("used twice")
        );
        assert!(bad("[[nodes]]\nalias = \"\"\nurl = \"http://a\"").contains("nodes[0].alias"));
        assert!(bad("[auth]\n[[auth.accounts]]\nusername = \"u\"\npassword = \"p\"").contains("auth.secret"));
        assert!(
            bad("[auth]\nsecret = \"s\"\n[[auth.accounts]]\nusername = \"u\"\npassword = \"$argon2id$nope\"")
                .contains("auth.accounts[0].password")
        );
        assert!(bad("[extra_ice.coturn]\nurls = \"turn:x\"").contains("extra_ice.coturn.secret"));
        assert!(bad("[extra_ice.cloudflare]\nkey_id = \"k\"").contains("extra_ice.cloudflare"));
        assert!(bad("[database]\nurl = \"mysql://x\"").contains("database.url"));
        assert!(bad("[database]\nurl = \"sqlite://\"").contains("database.url"));
        assert!(bad("[database]\nconnect_timeout = 0").contains("database.connect_timeout"));
        assert!(bad("[database]\nmax_connections = 0").contains("database.max_connections"));
        assert!(bad("[health]\ninterval_ms = 5000").contains("health.interval_ms"));
        let e = parse("[placement]\nmode = \"teleport\"").unwrap_err().to_string();
        assert!(e.contains("placement.mode"), "{e}");
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let (c, _) = parse(
            "[auth]\nsecret = \"SECRETX\"\ntokens = [\"TOKENX\"]\n[[auth.accounts]]\nusername = \"u\"\npassword = \"PASSX\"\n\
             [[nodes]]\nalias = \"a\"\nurl = \"http://a\"\ntoken = \"NODETOKENX\"\n[extra_ice.coturn]\nsecret = \"COTURNX\"\nurls = \"turn:x\"\n\
             [extra_ice.cloudflare]\nkey_id = \"k\"\napi_token = \"CFX\"\n[database]\nurl = \"postgres://u:DBPASSX@h/db\"",
        )
        .unwrap();
        let d = format!("{c:?}");
        for s in ["SECRETX", "TOKENX", "PASSX", "NODETOKENX", "COTURNX", "CFX", "DBPASSX"] {
            assert!(!d.contains(s), "{s} leaked in {d}");
        }
    }

    #[test]
    fn env_overrides() {
        let mut c = ManagerConfig::default();
        apply_env(&mut c, |k| match k {
            "PORT" => Some("9999".into()),
            "DATABASE_URL" => Some("postgres://x/y".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.http.listen, "0.0.0.0:9999");
        assert_eq!(c.database.url, "postgres://x/y");
        assert!(apply_env(&mut c, |k| (k == "PORT").then(|| "x".into())).is_err());
    }
}
