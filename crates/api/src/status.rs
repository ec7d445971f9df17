//! [`HttpStatus`]: the HTTP status an error type answers with, so the shared HTTP layer
//! (`wishcast-http`) turns a crate's own errors (e.g. the media plane's) into responses
//! without depending on that crate.

/// The status code (`400`, `404`, ...) a request that failed with this error gets.
pub trait HttpStatus {
    fn http_status(&self) -> u16;
}
