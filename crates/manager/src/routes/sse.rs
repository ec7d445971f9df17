//! `GET /api/sse/streams`: the merged cluster stream list, sent on connect and then
//! whenever it changes (checked on every registry change and every 2 s).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use wishcast_auth::Access;
use wishcast_http::{ApiResult, require};

use crate::proxy::query_values;
use crate::state::AppState;
use crate::views;

pub async fn streams(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let nodes = query_values(uri.query(), "nodes");
    let filter = query_values(uri.query(), "streams");
    let s = snapshots(state, nodes, filter);
    Ok(Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

fn snapshots(
    state: AppState,
    nodes: Vec<String>,
    filter: Vec<String>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let rx = state.registry.subscribe_changes();
    futures_util::stream::unfold(
        (state, nodes, filter, rx, None::<String>),
        |(state, nodes, filter, mut rx, last)| async move {
            let mut first = last.is_none();
            loop {
                if !first {
                    tokio::select! {
                        r = rx.changed() => if r.is_err() { return None; },
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                }
                first = false;
                let v = views::merged_streams(&state.registry.lock(), &nodes, &filter);
                let json = serde_json::to_string(&v).ok()?;
                if last.as_deref() != Some(json.as_str()) {
                    let ev = Event::default().data(json.clone());
                    return Some((Ok(ev), (state, nodes, filter, rx, Some(json))));
                }
            }
        },
    )
}
