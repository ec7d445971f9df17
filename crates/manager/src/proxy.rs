//! Talking to nodes: requests carry the node's token (never the client's), transport
//! failures map to 502 and timeouts to 504 with a body naming the node, response bodies
//! are read with a size cap or streamed through, and [`OrphanGuard`] DELETEs a node
//! session whose creator never received it. [`Cluster`] is what the logic that talks to
//! nodes takes (registry, client, counters) instead of the whole `AppState`.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::Stream;
use reqwest::Method;
use wishcast_api::paths::decode;
use wishcast_http::ApiError;

use crate::metrics::ManagerMetrics;
use crate::registry::{NodeTarget, Registry};

/// SDP offers, answers and trickle fragments are limited to this.
pub const MAX_SDP: usize = 64 * 1024;
/// JSON read from nodes (stream lists) is limited to this.
pub const MAX_JSON: usize = 16 * 1024 * 1024;

/// Stream a response body through without buffering it.
pub fn stream_body(resp: reqwest::Response) -> Body {
    let s = futures_util::stream::unfold(Some(resp), |state| async move {
        let mut resp = state?;
        match resp.chunk().await {
            Ok(Some(b)) => Some((Ok::<_, std::io::Error>(b), Some(resp))),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e.without_url().to_string())), None)),
        }
    });
    Body::from_stream(s)
}

/// The nodes as the cascade, health, recording and proxy logic see them: the registry,
/// the HTTP client towards them and the counters. No database, auth or config: built
/// from an `AppState` with `state.cluster()`, or on its own in tests.
#[derive(Clone)]
pub struct Cluster {
    pub registry: Arc<Registry>,
    pub nodes: NodeClient,
    pub metrics: Arc<ManagerMetrics>,
}

impl Cluster {
    /// Send `rb` to `node`, mapping transport failures to 502/504 (counted).
    pub async fn send(&self, rb: reqwest::RequestBuilder, node: &NodeTarget) -> Result<reqwest::Response, ApiError> {
        self.nodes.send(rb, node, &self.metrics).await
    }
}

/// The manager's HTTP client towards nodes.
#[derive(Clone)]
pub struct NodeClient {
    pub http: reqwest::Client,
    pub request_timeout: Duration,
}

impl NodeClient {
    pub fn new(request_timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        NodeClient { http, request_timeout }
    }

    /// A request to `{node.url}{path}` with the node's token.
    pub fn request(&self, method: Method, node: &NodeTarget, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{}", node.url, path)).timeout(self.request_timeout);
        if let Some(t) = &node.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// Send, mapping transport failures to 502/504 with a clear message.
    pub async fn send(
        &self,
        rb: reqwest::RequestBuilder,
        node: &NodeTarget,
        metrics: &ManagerMetrics,
    ) -> Result<reqwest::Response, ApiError> {
        rb.send().await.map_err(|e| node_error(node, &e, metrics))
    }
}

/// An error and its causes on one line.
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// 504 for timeouts, 502 for everything else, naming the node.
pub fn node_error(node: &NodeTarget, e: &reqwest::Error, metrics: &ManagerMetrics) -> ApiError {
    if e.is_timeout() {
        ManagerMetrics::inc(&metrics.proxy_timeouts);
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!("node `{}` did not answer in time; retry, the manager will avoid it if it stays down", node.alias),
        )
    } else {
        ManagerMetrics::inc(&metrics.proxy_bad_gateway);
        let what = if e.is_connect() { "cannot connect to" } else { "request failed at" };
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "{what} node `{}` ({}): {}; retry, the manager will avoid it if it stays down",
                node.alias,
                node.url,
                describe(e)
            ),
        )
    }
}

/// Deletes a node session on drop unless disarmed: used while a freshly created
/// session travels back to the client.
pub struct OrphanGuard {
    pub cluster: Cluster,
    pub node: NodeTarget,
    /// `/session/{stream}/{id}` on the node.
    pub path: String,
    pub stream: String,
    pub session: String,
    pub armed: bool,
}

impl OrphanGuard {
    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for OrphanGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let state = self.cluster.clone();
        let node = self.node.clone();
        let path = std::mem::take(&mut self.path);
        let (stream, session) = (std::mem::take(&mut self.stream), std::mem::take(&mut self.session));
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        rt.spawn(async move {
            state.registry.remove_route(&stream, &session);
            ManagerMetrics::inc(&state.metrics.orphan_sessions_deleted);
            match state.nodes.request(Method::DELETE, &node, &path).send().await {
                Ok(resp) => tracing::info!(node = %node.alias, "deleted orphan session {path}: {}", resp.status()),
                Err(e) => {
                    tracing::warn!(node = %node.alias, "could not delete orphan session {path}: {}", e.without_url())
                }
            }
        });
    }
}

/// A response body that disarms its [`OrphanGuard`] only when the server takes the bytes
/// to write them: if the response is dropped before that (the client went away), the
/// node session is deleted.
pub struct GuardedBody {
    data: Option<Bytes>,
    guard: Option<OrphanGuard>,
}

impl GuardedBody {
    pub fn body(data: Bytes, guard: OrphanGuard) -> Body {
        Body::from_stream(GuardedBody { data: Some(data), guard: Some(guard) })
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(mut g) = self.guard.take() {
            g.disarm();
        }
        match self.data.take() {
            Some(b) => Poll::Ready(Some(Ok(b))),
            None => Poll::Ready(None),
        }
    }
}

/// The query string without `token=` (the client's credential stays at the manager)
/// and without the manager's own placement parameters. Keys are compared decoded, as
/// the token is read (`?%74oken=` is a token too).
pub fn forward_query(query: Option<&str>) -> String {
    let kept: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let k = decode(p.split('=').next().unwrap_or(""));
            !matches!(k.as_str(), "token" | "region" | "nodes")
        })
        .collect();
    if kept.is_empty() { String::new() } else { format!("?{}", kept.join("&")) }
}

/// Values of a repeatable query parameter (`?nodes=a&nodes=b`; a comma list is split too).
pub fn query_values(query: Option<&str>, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pair in query.unwrap_or("").split('&') {
        if let Some((k, v)) = pair.split_once('=')
            && decode(k) == key
        {
            for part in decode(v).split(',') {
                let p = part.trim();
                if !p.is_empty() {
                    out.push(p.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_forwarding_drops_credentials_and_placement_params() {
        assert_eq!(forward_query(Some("token=abc&region=eu&x=1&nodes=a")), "?x=1");
        assert_eq!(forward_query(Some("token=abc")), "");
        assert_eq!(forward_query(None), "");
        assert_eq!(forward_query(Some("%74oken=jwt&x=1&%54oken=keep&re%67ion=eu")), "?x=1&%54oken=keep");
    }

    #[test]
    fn query_values_are_repeatable_and_comma_split() {
        assert_eq!(query_values(Some("nodes=a&nodes=b,c&x=1&nodes="), "nodes"), vec!["a", "b", "c"]);
        assert_eq!(query_values(Some("region=eu%2Dwest"), "region"), vec!["eu-west"]);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a%20b%2Fc"), "a b/c");
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
