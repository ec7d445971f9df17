//! HTTP errors: a status and one plain-text line saying what was wrong and how to fix it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

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

pub type ApiResult<T> = Result<T, ApiError>;
