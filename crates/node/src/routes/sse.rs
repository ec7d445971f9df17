//! `GET /api/sse/streams`: a full snapshot on connect, then on every lifecycle event or
//! 2-second tick when the snapshot changed (Live777 semantics, `data:` JSON arrays).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use tokio::sync::broadcast::error::RecvError;
use wishcast_auth::Access;
use wishcast_http::{ApiResult, require};

use super::streams::stream_filter;
use crate::state::AppState;

pub async fn streams(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let filter = stream_filter(&uri);
    let stream = snapshots(state, filter);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

fn snapshots(state: AppState, filter: Vec<String>) -> impl Stream<Item = Result<Event, Infallible>> {
    let rx = state.media.events.subscribe();
    futures_util::stream::unfold((state, filter, rx, None::<String>), |(state, filter, mut rx, last)| async move {
        let mut first = last.is_none();
        loop {
            if !first {
                tokio::select! {
                    r = rx.recv() => if let Err(RecvError::Closed) = r { return None; },
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
            first = false;
            let f = filter.clone();
            let snap = state.media.streams_view(f).await.ok()?;
            let json = serde_json::to_string(&snap).ok()?;
            if last.as_deref() != Some(json.as_str()) {
                let ev = Event::default().data(json.clone());
                return Some((Ok(ev), (state, filter, rx, Some(json))));
            }
        }
    })
}
