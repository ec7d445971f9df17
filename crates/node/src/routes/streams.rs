//! `GET /api/streams/`, `GET/POST/DELETE /api/streams/{id}` (Live777 shapes).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use wishcast_auth::Access;
use wishcast_http::body::check_name;
use wishcast_http::{ApiError, ApiResult, require};

use crate::state::AppState;

/// `?streams=a&streams=b` (repeatable; blanks ignored).
pub fn stream_filter(uri: &Uri) -> Vec<String> {
    let mut out = Vec::new();
    for pair in uri.query().unwrap_or("").split('&') {
        if let Some(v) = pair.strip_prefix("streams=") {
            let v = wishcast_api::paths::decode(v);
            if !v.trim().is_empty() {
                out.push(v);
            }
        }
    }
    out
}

pub async fn list(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    let filter = stream_filter(&uri);
    let v = state.media.streams_view(filter).await?;
    Ok(Json(v).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::StreamRead(&id))?;
    let key = id.clone();
    match state.media.stream_view(key).await? {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, format!("stream '{id}' does not exist"))),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::Admin)?;
    check_name("stream", &id)?;
    state.media.create_stream(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&state, &headers, &uri, Access::StreamDelete(&id))?;
    state.media.delete_stream(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_parses_repeated_params() {
        let u: Uri = "/api/streams/?streams=a&streams=&streams=b%20c&x=1".parse().unwrap();
        assert_eq!(stream_filter(&u), vec!["a".to_string(), "b c".to_string()]);
        let u: Uri = "/api/streams/?streams=%".parse().unwrap();
        assert_eq!(stream_filter(&u), vec!["%".to_string()]);
    }
}
