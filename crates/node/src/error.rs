//! HTTP errors: every client mistake gets a 4xx with a plain-text body saying what was
//! wrong and how to fix it; 5xx only for our own failures.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wishcast_sfu::SfuError;

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

impl From<SfuError> for ApiError {
    fn from(e: SfuError) -> Self {
        let status = match &e {
            SfuError::BadSdp(_) | SfuError::Invalid(_) => StatusCode::BAD_REQUEST,
            SfuError::NotSimulcast(_) => StatusCode::NOT_FOUND,
            SfuError::StreamNotFound(_) | SfuError::SessionNotFound(_) => StatusCode::NOT_FOUND,
            SfuError::AlreadyPublished(_) | SfuError::StreamExists(_) | SfuError::StreamFull { .. } => {
                StatusCode::CONFLICT
            }
            SfuError::NoCommonCodec { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            SfuError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            SfuError::NotOwner => StatusCode::FORBIDDEN,
            SfuError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!("{e}");
        }
        ApiError::new(status, e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
