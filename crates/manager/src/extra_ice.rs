//! `[extra_ice]`: ICE servers the manager adds to proxied WHIP/WHEP answers as
//! `Link: <url>; rel="ice-server"` headers — static servers, coturn REST-API
//! credentials (`--use-auth-secret`), and Cloudflare TURN credentials (cached until
//! shortly before they expire; one fetch at a time).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;

use crate::config::{CloudflareConfig, ExtraIceConfig, IceServer, UrlList};

/// coturn TURN REST API credentials: `username` = expiry as unix seconds,
/// `credential` = base64(HMAC-SHA1(secret, username)).
pub fn coturn_credentials(secret: &str, ttl: u64, now_unix: u64) -> (String, String) {
    let username = now_unix.saturating_add(ttl).to_string();
    // HMAC accepts keys of any length.
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return (username, String::new()),
    };
    mac.update(username.as_bytes());
    let credential = STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

/// One `Link` header value per URL (RFC 9725 §4.6).
pub fn render(servers: &[IceServer]) -> Vec<String> {
    wishcast_api::ice::link_headers(servers)
}

/// Replace (override) or extend the upstream ice-server `Link`s. Other links (the
/// WHEP layer extension) are always kept.
pub fn merge(headers: &mut HeaderMap, extra: &[String], override_upstream: bool) {
    if override_upstream {
        let keep: Vec<HeaderValue> = headers
            .get_all("link")
            .iter()
            .filter(|v| !v.to_str().unwrap_or("").contains("rel=\"ice-server\""))
            .cloned()
            .collect();
        headers.remove("link");
        for v in keep {
            headers.append("link", v);
        }
    }
    for l in extra {
        if let Ok(v) = HeaderValue::from_str(l) {
            headers.append("link", v);
        }
    }
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CfServers {
    Many(Vec<CfServer>),
    One(CfServer),
}

#[derive(Deserialize)]
struct CfServer {
    urls: UrlList,
    #[serde(default)]
    username: String,
    #[serde(default)]
    credential: String,
}

#[derive(Deserialize)]
struct CfResponse {
    #[serde(rename = "iceServers")]
    ice_servers: CfServers,
}

struct Cached {
    links: Vec<String>,
    refresh_at: Instant,
}

pub struct ExtraIce {
    cfg: ExtraIceConfig,
    static_links: Vec<String>,
    http: reqwest::Client,
    cloudflare: tokio::sync::Mutex<Option<Cached>>,
}

impl ExtraIce {
    pub fn new(cfg: ExtraIceConfig, http: reqwest::Client) -> Self {
        let static_links = render(&cfg.ice_servers);
        ExtraIce { cfg, static_links, http, cloudflare: tokio::sync::Mutex::new(None) }
    }

    pub fn override_upstream(&self) -> bool {
        self.cfg.override_upstream_ice_servers
    }

    /// True when nothing would be added or removed.
    pub fn is_noop(&self) -> bool {
        !self.cfg.override_upstream_ice_servers
            && self.static_links.is_empty()
            && self.cfg.coturn.is_none()
            && self.cfg.cloudflare.is_none()
    }

    /// Every extra `Link` value for one answer. Fails only when Cloudflare is
    /// configured and unreachable (and nothing valid is cached).
    pub async fn links(&self) -> Result<Vec<String>, String> {
        let mut out = self.static_links.clone();
        if let Some(c) = &self.cfg.coturn {
            let (username, credential) = coturn_credentials(&c.secret, c.ttl, now_unix());
            out.extend(render(&[IceServer { urls: c.urls.clone(), username, credential }]));
        }
        if let Some(cf) = &self.cfg.cloudflare {
            out.extend(self.cloudflare_links(cf).await?);
        }
        Ok(out)
    }

    async fn cloudflare_links(&self, cf: &CloudflareConfig) -> Result<Vec<String>, String> {
        let mut cache = self.cloudflare.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.links.clone());
        }
        let url = format!(
            "{}/v1/turn/keys/{}/credentials/generate-ice-servers",
            cf.api_base.trim_end_matches('/'),
            wishcast_api::paths::encode(&cf.key_id)
        );
        let resp = self
            .http
            .post(&url)
            .bearer_auth(&cf.api_token)
            .json(&serde_json::json!({ "ttl": cf.ttl }))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| format!("Cloudflare TURN API unreachable ({}): {}", cf.api_base, e.without_url()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!(
                "Cloudflare TURN API answered {status}; check extra_ice.cloudflare.key_id and api_token"
            ));
        }
        let body = wishcast_http::body::read_limited(resp, 256 * 1024)
            .await
            .map_err(|e| format!("Cloudflare TURN API: {e}"))?;
        let parsed: CfResponse =
            serde_json::from_slice(&body).map_err(|e| format!("Cloudflare TURN API: unexpected answer ({e})"))?;
        let servers: Vec<IceServer> = match parsed.ice_servers {
            CfServers::Many(v) => v,
            CfServers::One(s) => vec![s],
        }
        .into_iter()
        .map(|s| IceServer { urls: s.urls, username: s.username, credential: s.credential })
        .collect();
        let links = render(&servers);
        // Refresh a little before the credentials expire: at 3/4 of the TTL, at most 5 min early.
        let margin = (cf.ttl / 4).min(300);
        let refresh_at = Instant::now() + Duration::from_secs(cf.ttl.saturating_sub(margin));
        *cache = Some(Cached { links: links.clone(), refresh_at });
        Ok(links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coturn_credential_vector() {
        // python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'live777',b'1700003600',hashlib.sha1).digest()).decode())"
        let (u, c) = coturn_credentials("live777", 3600, 1_700_000_000);
        assert_eq!(u, "1700003600");
        assert_eq!(c, "zYeLpsd2URY+WnPBes28U53i8T8=");
    }

    #[test]
    fn merge_overrides_only_ice_server_links() {
        let mut h = HeaderMap::new();
        h.append("link", HeaderValue::from_static("<stun:up:3478>; rel=\"ice-server\""));
        h.append("link", HeaderValue::from_static("</session/s/x/layer>; rel=\"urn:ietf:params:whep:ext:core:layer\""));
        let extra = render(&[IceServer {
            urls: UrlList::One("turn:t:3478".into()),
            username: "u".into(),
            credential: "c".into(),
        }]);
        let mut a = h.clone();
        merge(&mut a, &extra, false);
        assert_eq!(a.get_all("link").iter().count(), 3);
        merge(&mut h, &extra, true);
        let got: Vec<_> = h.get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].contains("layer"));
        assert_eq!(
            got[1],
            "<turn:t:3478>; rel=\"ice-server\"; username=\"u\"; credential=\"c\"; credential-type=\"password\""
        );
    }
}
