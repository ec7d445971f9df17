//! The `[http]` and `[log]` config sections both servers read, the TOML loader that
//! names the bad key, and the `PORT` / `LOG_LEVEL` environment overrides.

use std::marker::PhantomData;
use std::net::SocketAddr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A configuration problem, naming the key.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

/// A server's default listen port, as a type: `HttpConfig<Port<7777>>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Port<const N: u16>;

pub trait DefaultPort {
    const PORT: u16;
}

impl<const N: u16> DefaultPort for Port<N> {
    const PORT: u16 = N;
}

/// `[http]`, with the server's default port `P` (node 7777, manager 8888).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig<P: DefaultPort> {
    /// HTTP listen address.
    pub listen: String,
    /// Permissive CORS (the request's origin), preflight answered before auth.
    pub cors: bool,
    /// Manager only: the URL nodes and clients use to reach it (`http://<listen>` when
    /// empty). A node reports it as an ignored key (its own is `[cluster] public_url`).
    pub public: String,
    /// Manager only: take the client address from the last `X-Forwarded-For` entry
    /// instead of the socket peer (login back-off). Only behind a reverse proxy that sets it.
    pub trust_forwarded_for: bool,
    #[serde(skip)]
    pub port: PhantomData<P>,
}

impl<P: DefaultPort> Default for HttpConfig<P> {
    fn default() -> Self {
        HttpConfig {
            listen: format!("0.0.0.0:{}", P::PORT),
            cors: false,
            public: String::new(),
            trust_forwarded_for: false,
            port: PhantomData,
        }
    }
}

impl<P: DefaultPort> HttpConfig<P> {
    /// `listen` as an address, or an error naming `http.listen`.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "config key `http.listen`: `{}` is not an address like \"0.0.0.0:{port}\" or \"[::]:{port}\"",
                self.listen,
                port = P::PORT
            ))
        })
    }
}

/// `[log]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// error | warn | info | debug | trace (env `LOG_LEVEL`).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into() }
    }
}

impl LogConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if matches!(self.level.to_ascii_lowercase().as_str(), "error" | "warn" | "info" | "debug" | "trace") {
            return Ok(());
        }
        Err(ConfigError(format!(
            "config key `log.level`: `{}` is not one of error, warn, info, debug, trace",
            self.level
        )))
    }
}

/// Parse TOML text into `T`. Returns the config and the unknown keys that were ignored
/// (for a warning); an unknown key inside one of the `strict` tables is an error. A bad
/// value is an error naming its key (`config key `http.listen`: ...`).
pub fn parse_toml<T: DeserializeOwned>(text: &str, strict: &[&str]) -> Result<(T, Vec<String>), ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| ConfigError(format!("invalid TOML: {e}")))?;
    let mut unknown = Vec::new();
    let mut track = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let ignored = serde_ignored::Deserializer::new(de, &mut track);
    let cfg: T = serde_path_to_error::deserialize(ignored).map_err(|e| {
        let inner = e.inner().to_string();
        let first = inner.lines().last().unwrap_or("").trim().to_string();
        ConfigError(format!("config key `{}`: {}", e.path(), if first.is_empty() { inner } else { first }))
    })?;
    for key in &unknown {
        if let Some(table) = strict.iter().find(|t| key.strip_prefix(**t).is_some_and(|r| r.starts_with('.'))) {
            return Err(ConfigError(format!(
                "config key `{key}`: unknown key; [{table}] accepts only its documented keys"
            )));
        }
    }
    Ok((cfg, unknown))
}

/// The environment overrides both servers honour: `PORT` (keeps the listen host) and
/// `LOG_LEVEL`.
pub fn apply_env<P: DefaultPort>(
    http: &mut HttpConfig<P>,
    log: &mut LogConfig,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    if let Some(port) = get("PORT") {
        let p: u16 = port.parse().map_err(|_| {
            ConfigError(format!("env PORT: `{port}` is not a port number (0-65535, 0 = any free port)"))
        })?;
        let host = http.listen.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or("0.0.0.0".into());
        http.listen = format!("{host}:{p}");
    }
    if let Some(l) = get("LOG_LEVEL") {
        log.level = l;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Cfg {
        http: HttpConfig<Port<7777>>,
        log: LogConfig,
        strategy: Strict,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Strict {
        n: u32,
    }

    #[test]
    fn defaults_and_unknown_keys() {
        let (c, unknown) = parse_toml::<Cfg>("", &["strategy"]).unwrap();
        assert_eq!(c.http.listen, "0.0.0.0:7777");
        assert!(unknown.is_empty());
        let (c, unknown) =
            parse_toml::<Cfg>("[http]\ncors = true\nnope = 1\n[hooks]\nx = 1\n[strategy]\nn = 3\n", &["strategy"])
                .unwrap();
        assert!(c.http.cors);
        assert_eq!(c.http.listen, "0.0.0.0:7777", "a partial table keeps the server's default");
        assert_eq!(c.strategy.n, 3);
        assert_eq!(unknown, vec!["hooks".to_string(), "http.nope".to_string()]);
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse_toml::<Cfg>("[http]\nlisten = 5\n", &[]).unwrap_err().to_string();
        assert!(e.starts_with("config key `http.listen`: "), "{e}");
        let e = parse_toml::<Cfg>("[strategy]\nn = \"x\"\n", &[]).unwrap_err().to_string();
        assert!(e.starts_with("config key `strategy.n`: "), "{e}");
        let e = parse_toml::<Cfg>("[strategy]\nm = 1\n", &["strategy"]).unwrap_err().to_string();
        assert!(e.starts_with("config key `strategy.m`: unknown key"), "{e}");
        let (_, unknown) = parse_toml::<Cfg>("[strategy]\nm = 1\n", &[]).unwrap();
        assert_eq!(unknown, vec!["strategy.m".to_string()], "not strict: a warning");
        assert!(parse_toml::<Cfg>("[http", &[]).unwrap_err().to_string().starts_with("invalid TOML"));
        let (c, _) = parse_toml::<Cfg>("[http]\nlisten = \"x\"\n[log]\nlevel = \"loud\"\n", &[]).unwrap();
        assert!(c.http.listen_addr().unwrap_err().to_string().contains("http.listen"));
        assert!(c.log.validate().unwrap_err().to_string().contains("log.level"));
    }

    #[test]
    fn env_overrides() {
        let mut http = HttpConfig::<Port<8888>> { listen: "127.0.0.1:1".into(), ..Default::default() };
        let mut log = LogConfig::default();
        let env = |k: &str| match k {
            "PORT" => Some("9000".to_string()),
            "LOG_LEVEL" => Some("debug".to_string()),
            _ => None,
        };
        apply_env(&mut http, &mut log, &env).unwrap();
        assert_eq!((http.listen.as_str(), log.level.as_str()), ("127.0.0.1:9000", "debug"));
        let e = apply_env(&mut http, &mut log, &|k: &str| (k == "PORT").then(|| "x".into())).unwrap_err();
        assert!(e.to_string().starts_with("env PORT"), "{e}");
    }
}
