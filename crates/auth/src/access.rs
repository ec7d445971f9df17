//! What a request wants to do, abstracted from HTTP routes.

/// The operation a request performs. Stream names are the *decoded* stream
/// ids the handler will act on (not raw percent-encoded path segments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<'a> {
    /// `POST /whip/{stream}` — needs `w`.
    Publish(&'a str),
    /// `POST /whep/{stream}` — needs `r`.
    Subscribe(&'a str),
    /// `PATCH`/`DELETE`/`POST /session/{stream}/...` including `/layer`
    /// (trickle ICE, hang up, layer selection) — needs any of `r`, `w`, `x`.
    Session(&'a str),
    /// `GET /api/streams/{stream}` — any mode on that stream (even 0).
    StreamRead(&'a str),
    /// `DELETE /api/streams/{stream}` — needs `x`.
    StreamDelete(&'a str),
    /// `POST /api/cascade/{stream}` — needs `x`.
    Cascade(&'a str),
    /// `POST /api/record/{stream}` — needs `x`.
    RecordStart(&'a str),
    /// `GET /api/record/{stream}` — needs `r`.
    RecordRead(&'a str),
    /// `DELETE /api/record/{stream}` — needs `x`.
    RecordStop(&'a str),
    /// Everything else: stream lists, SSE, creating streams, strategy,
    /// token minting, ... — needs a full admin.
    Admin,
}

impl<'a> Access<'a> {
    /// The stream this access targets, or `None` for [`Access::Admin`].
    pub fn stream(&self) -> Option<&'a str> {
        match *self {
            Access::Publish(s)
            | Access::Subscribe(s)
            | Access::Session(s)
            | Access::StreamRead(s)
            | Access::StreamDelete(s)
            | Access::Cascade(s)
            | Access::RecordStart(s)
            | Access::RecordRead(s)
            | Access::RecordStop(s) => Some(s),
            Access::Admin => None,
        }
    }
}
