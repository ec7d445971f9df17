//! A minimal WHIP/WHEP HTTP client (RFC 9725) on reqwest: POST an offer, PATCH a
//! fragment, DELETE. Used by the str0m peers here, the load tool and node cascading.

use std::fmt;

/// What the server answered to an offer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub sdp: String,
    /// Absolute session URL resolved against the request URL.
    pub location: String,
    pub etag: Option<String>,
    pub links: Vec<String>,
}

#[derive(Debug)]
pub struct WhipError {
    pub status: Option<u16>,
    pub message: String,
}

impl fmt::Display for WhipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}
impl std::error::Error for WhipError {}

fn transport(e: reqwest::Error) -> WhipError {
    WhipError { status: None, message: e.to_string() }
}

/// WHIP/WHEP client bound to one reqwest client.
#[derive(Clone, Default)]
pub struct WhipClient {
    http: reqwest::Client,
}

impl WhipClient {
    pub fn new(http: reqwest::Client) -> Self {
        WhipClient { http }
    }

    /// POST an SDP offer to a WHIP or WHEP endpoint.
    pub async fn offer(&self, url: &str, sdp: &str, token: Option<&str>) -> Result<Answer, WhipError> {
        self.offer_with(url, sdp, token, &[]).await
    }

    /// Like [`offer`](Self::offer), with extra request headers.
    pub async fn offer_with(
        &self,
        url: &str,
        sdp: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, WhipError> {
        let mut req = self.http.post(url).header("content-type", "application/sdp").body(sdp.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.map_err(transport)?;
        if status != 201 {
            return Err(WhipError { status: Some(status), message: body });
        }
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or(WhipError { status: Some(status), message: "answer without Location".into() })?;
        let location = resolve(url, location);
        let etag = headers.get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
        let links = headers.get_all("link").iter().filter_map(|v| v.to_str().ok().map(str::to_string)).collect();
        Ok(Answer { status, sdp: body, location, etag, links })
    }

    /// PATCH a trickle-ice-sdpfrag to a session URL; returns (status, body).
    pub async fn patch(
        &self,
        session_url: &str,
        frag: &str,
        etag: Option<&str>,
        token: Option<&str>,
    ) -> Result<(u16, String), WhipError> {
        let mut req = self
            .http
            .patch(session_url)
            .header("content-type", "application/trickle-ice-sdpfrag")
            .body(frag.to_string());
        if let Some(e) = etag {
            req = req.header("if-match", e);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.map_err(transport)?))
    }

    /// DELETE a session; returns the status code.
    pub async fn delete(&self, session_url: &str, token: Option<&str>) -> Result<u16, WhipError> {
        let mut req = self.http.delete(session_url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(transport)?;
        Ok(resp.status().as_u16())
    }
}

/// Resolve a possibly relative `Location` against the request URL.
pub fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    // scheme://authority
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[after_scheme..].find('/').map(|i| i + after_scheme).unwrap_or(base.len());
    if location.starts_with('/') {
        format!("{}{}", &base[..authority_end], location)
    } else {
        let dir_end = base.rfind('/').filter(|&i| i >= authority_end).map(|i| i + 1).unwrap_or(base.len());
        format!("{}{}", &base[..dir_end], location)
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;
    #[test]
    fn resolves_locations() {
        assert_eq!(resolve("http://a:1/whip/s", "/session/s/x"), "http://a:1/session/s/x");
        assert_eq!(resolve("http://a:1/whip/s", "http://b/x"), "http://b/x");
        assert_eq!(resolve("http://a:1/whip/s", "x"), "http://a:1/whip/x");
    }
}
