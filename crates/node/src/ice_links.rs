//! `Link: <url>; rel="ice-server"` headers (RFC 9725 §4.6) for the configured servers.

use crate::config::IceServer;

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

/// One header value per URL.
pub fn render(servers: &[IceServer]) -> Vec<String> {
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
    use crate::config::UrlList;

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
        let l = render(&s);
        assert_eq!(l.len(), 3);
        assert_eq!(l[0], "<stun:a:3478>; rel=\"ice-server\"");
        assert_eq!(
            l[2],
            "<turn:b?transport=tcp>; rel=\"ice-server\"; username=\"u\\\"x\"; credential=\"c\"; credential-type=\"password\""
        );
    }
}
