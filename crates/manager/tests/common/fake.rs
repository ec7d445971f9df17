//! A scriptable fake node: answers the node API the manager uses (stream list,
//! strategy, WHIP/WHEP, sessions, cascade) with canned data and records every request,
//! so tests can check exactly what the manager sent and inject failures.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_api::{PubSub, Session, SessionState, Stream};

#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub auth: Option<String>,
    pub body: String,
}

pub struct FakeState {
    pub streams: Mutex<Vec<Stream>>,
    pub max_sub: AtomicU32,
    pub log: Mutex<Vec<Req>>,
    pub offer_delay_ms: AtomicU64,
    pub break_answer_body: AtomicBool,
    pub fail_polls: AtomicBool,
    pub next_id: AtomicU64,
    pub cascade_status: AtomicU16,
}

impl FakeState {
    pub fn requests(&self, method: &str, prefix: &str) -> Vec<Req> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method.as_str() == method && r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    pub fn set_streams(&self, s: Vec<Stream>) {
        *self.streams.lock().unwrap() = s;
    }
}

pub struct FakeNode {
    pub base: String,
    pub state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn session(id: &str) -> Session {
    Session {
        id: id.into(),
        created_at: 1,
        leave_at: 0,
        state: SessionState::Connected,
        cascade: None,
        has_data_channel: false,
        stats: Default::default(),
    }
}

/// A stream with the given publisher and subscriber session ids.
pub fn stream(id: &str, publishers: &[&str], subscribers: &[&str]) -> Stream {
    Stream {
        id: id.into(),
        created_at: 1,
        publish: PubSub { leave_at: 0, sessions: publishers.iter().map(|s| session(s)).collect() },
        subscribe: PubSub { leave_at: 0, sessions: subscribers.iter().map(|s| session(s)).collect() },
        stats_scope: "node".into(),
        ..Default::default()
    }
}

pub async fn start(max_sub: u32) -> FakeNode {
    let state = Arc::new(FakeState {
        streams: Mutex::new(Vec::new()),
        max_sub: AtomicU32::new(max_sub),
        log: Mutex::new(Vec::new()),
        offer_delay_ms: AtomicU64::new(0),
        break_answer_body: AtomicBool::new(false),
        fail_polls: AtomicBool::new(false),
        next_id: AtomicU64::new(1),
        cascade_status: AtomicU16::new(200),
    });
    let app = Router::new().fallback(handle).with_state(state.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    FakeNode { base, state, task }
}

const ANSWER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

async fn handle(
    State(st): State<Arc<FakeState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    st.log.lock().unwrap().push(Req {
        method: method.clone(),
        path: path.clone(),
        auth,
        body: String::from_utf8_lossy(&body).into(),
    });
    let p = uri.path();
    let seg: Vec<&str> = p.trim_start_matches('/').split('/').collect();
    match (method.as_str(), seg.as_slice()) {
        ("GET", ["api", "streams", ""]) => {
            if st.fail_polls.load(Relaxed) {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            axum::Json(st.streams.lock().unwrap().clone()).into_response()
        }
        ("GET", ["api", "strategy", ""]) => {
            let s = wishcast_api::Strategy { each_stream_max_sub: st.max_sub.load(Relaxed), ..Default::default() };
            axum::Json(s).into_response()
        }
        ("GET", ["api", "streams", id]) => match st.streams.lock().unwrap().iter().find(|s| s.id == *id) {
            Some(s) => axum::Json(s.clone()).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        ("DELETE", ["api", "streams", id]) => {
            let mut g = st.streams.lock().unwrap();
            let before = g.len();
            g.retain(|s| s.id != *id);
            if g.len() < before {
                StatusCode::NO_CONTENT.into_response()
            } else {
                StatusCode::NOT_FOUND.into_response()
            }
        }
        ("POST", ["whip" | "whep", s]) => {
            let delay = st.offer_delay_ms.load(Relaxed);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let id = format!("sess-{}", st.next_id.fetch_add(1, Relaxed));
            let location = format!("/session/{s}/{id}");
            let body = if st.break_answer_body.load(Relaxed) {
                // Headers and a first chunk go out, then the connection breaks.
                let chunks = futures_util::stream::unfold(0u8, |i| async move {
                    match i {
                        0 => Some((Ok(Bytes::from_static(b"v=0\r\n")), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            Some((Err(std::io::Error::other("node crashed mid-answer")), 2))
                        }
                        _ => None,
                    }
                });
                Body::from_stream(chunks)
            } else {
                Body::from(ANSWER)
            };
            let mut r = Response::new(body);
            *r.status_mut() = StatusCode::CREATED;
            let h = r.headers_mut();
            h.insert("content-type", "application/sdp".parse().unwrap());
            h.insert("location", location.parse().unwrap());
            h.insert("etag", "\"abc\"".parse().unwrap());
            h.append("link", "<stun:node.example:3478>; rel=\"ice-server\"".parse().unwrap());
            r
        }
        ("DELETE", ["session", _, _]) => StatusCode::OK.into_response(),
        ("PATCH", ["session", _, _]) => StatusCode::NO_CONTENT.into_response(),
        ("POST", ["api", "cascade", _]) => {
            let code = StatusCode::from_u16(st.cascade_status.load(Relaxed)).unwrap_or(StatusCode::OK);
            (code, "").into_response()
        }
        _ => (StatusCode::NOT_FOUND, "fake node: no such route").into_response(),
    }
}
