//! ICE servers as configured (`[[ice_servers]]`, `[[extra_ice.ice_servers]]`) and as
//! advertised in WHIP/WHEP `Link: <url>; rel="ice-server"` headers (RFC 9725 §4.6).

use serde::{Deserialize, Serialize};

/// One ICE server entry; `Debug` never shows the credential.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IceServer {
    pub urls: UrlList,
    pub username: String,
    pub credential: String,
}

impl std::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer").field("urls", &self.urls).field("username", &self.username).finish()
    }
}

/// `urls` may be a string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum UrlList {
    One(String),
    Many(Vec<String>),
}

impl Default for UrlList {
    fn default() -> Self {
        UrlList::Many(Vec::new())
    }
}

impl UrlList {
    pub fn list(&self) -> Vec<String> {
        match self {
            UrlList::One(s) => vec![s.clone()],
            UrlList::Many(v) => v.clone(),
        }
    }
}

fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

/// One `Link` header value per URL.
pub fn link_headers(servers: &[IceServer]) -> Vec<String> {
    let mut out = Vec::new();
    for s in servers {
        for url in s.urls.list() {
            let mut v = format!("<{url}>; rel=\"ice-server\"");
            if !s.username.is_empty() {
                v.push_str(&format!(
                    "; username={}; credential={}; credential-type=\"password\"",
                    quote(&s.username),
                    quote(&s.credential)
                ));
            }
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_link_per_url() {
        let s = vec![
            IceServer { urls: UrlList::One("stun:a:3478".into()), ..Default::default() },
            IceServer {
                urls: UrlList::Many(vec!["turn:b?transport=udp".into(), "turn:b?transport=tcp".into()]),
                username: "u\"x".into(),
                credential: "c".into(),
            },
        ];
        let l = link_headers(&s);
        assert_eq!(l.len(), 3);
        assert_eq!(l[0], "<stun:a:3478>; rel=\"ice-server\"");
        assert_eq!(
            l[2],
            "<turn:b?transport=tcp>; rel=\"ice-server\"; username=\"u\\\"x\"; credential=\"c\"; credential-type=\"password\""
        );
    }

    #[test]
    fn debug_hides_the_credential() {
        let s = IceServer { urls: UrlList::One("turn:x".into()), username: "u".into(), credential: "sekrit".into() };
        assert!(!format!("{s:?}").contains("sekrit"));
    }
}
