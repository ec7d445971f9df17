//! HTTP errors: every client mistake gets a 4xx with a plain-text body saying what was
//! wrong and how to fix it; 5xx only for our own failures (and those are logged).

use std::fmt::Display;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wishcast_api::HttpStatus;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.message;
        body.push('\n');
        (self.status, [("content-type", "text/plain; charset=utf-8")], body).into_response()
    }
}

/// Any error type that knows its status (e.g. the media plane's `SfuError`) converts
/// with `?`; its `Display` text is the body.
impl<E: HttpStatus + Display> From<E> for ApiError {
    fn from(e: E) -> Self {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!("{e}");
        }
        ApiError::new(status, e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    struct Teapot;
    impl HttpStatus for Teapot {
        fn http_status(&self) -> u16 {
            418
        }
    }
    impl Display for Teapot {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("short and stout")
        }
    }

    #[test]
    fn typed_errors_keep_status_and_text() {
        let e = ApiError::from(Teapot);
        assert_eq!(e.status, StatusCode::IM_A_TEAPOT);
        assert_eq!(e.message, "short and stout");
    }
}
