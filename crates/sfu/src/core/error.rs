//! Errors of the media plane, each mapping to one HTTP status in the node API.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuError {
    /// 400: the offer or fragment could not be parsed or applied.
    BadSdp(String),
    /// 404
    StreamNotFound(String),
    /// 404
    SessionNotFound(String),
    /// 409: a publisher is already attached.
    AlreadyPublished(String),
    /// 409: the stream already exists (POST /api/streams/{id}).
    StreamExists(String),
    /// 409: `each_stream_max_sub` reached.
    StreamFull { stream: String, max: u32 },
    /// 422: no codec in common; names what each side has.
    NoCommonCodec { offered: Vec<String>, available: Vec<String> },
    /// 400: a well-formed request that makes no sense for this session.
    Invalid(String),
    /// 404: the stream's publisher does not send simulcast.
    NotSimulcast(String),
    /// 403: a scoped token tried to change a session it did not create.
    NotOwner,
    /// 412: If-Match did not match the session's ETag.
    PreconditionFailed,
    /// 500: a bug or a library failure, never a client mistake.
    Internal(String),
}

impl fmt::Display for SfuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SfuError::BadSdp(m) => write!(f, "invalid SDP: {m}"),
            SfuError::StreamNotFound(s) => write!(f, "stream '{s}' does not exist"),
            SfuError::SessionNotFound(s) => write!(f, "session '{s}' does not exist"),
            SfuError::AlreadyPublished(s) => {
                write!(f, "stream '{s}' already has a publisher; DELETE its session first")
            }
            SfuError::StreamExists(s) => write!(f, "stream '{s}' already exists"),
            SfuError::StreamFull { stream, max } => {
                write!(f, "stream '{stream}' is full: each_stream_max_sub = {max}")
            }
            SfuError::NoCommonCodec { offered, available } => write!(
                f,
                "no codec in common: the offer has [{}], this stream/server accepts [{}]",
                offered.join(", "),
                available.join(", ")
            ),
            SfuError::Invalid(m) => write!(f, "{m}"),
            SfuError::NotSimulcast(s) => {
                write!(f, "stream '{s}' has no simulcast layers (its publisher sends a single encoding, or none)")
            }
            SfuError::NotOwner => write!(
                f,
                "forbidden: this session was created with another token; use the token that created it or an admin token"
            ),
            SfuError::PreconditionFailed => {
                write!(f, "If-Match does not match the session's current ETag")
            }
            SfuError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for SfuError {}

impl wishcast_api::HttpStatus for SfuError {
    fn http_status(&self) -> u16 {
        match self {
            SfuError::BadSdp(_) | SfuError::Invalid(_) => 400,
            SfuError::NotOwner => 403,
            SfuError::NotSimulcast(_) | SfuError::StreamNotFound(_) | SfuError::SessionNotFound(_) => 404,
            SfuError::AlreadyPublished(_) | SfuError::StreamExists(_) | SfuError::StreamFull { .. } => 409,
            SfuError::PreconditionFailed => 412,
            SfuError::NoCommonCodec { .. } => 422,
            SfuError::Internal(_) => 500,
        }
    }
}
