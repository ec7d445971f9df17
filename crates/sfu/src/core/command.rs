//! What the control plane asks of a core ([`Command`]) and what it gets back
//! ([`Reply`] and the types inside it).

use str0m::media::MediaKind;
use wishcast_api::Stream;
use wishcast_sdp::SdpFrag;

use crate::core::bridge::UpstreamInfo;
use crate::core::error::SfuError;
use crate::core::relay::RelayKind;

/// A created session, ready for the 201 response.
#[derive(Debug, Clone)]
pub struct SessionAnswer {
    pub session_id: String,
    pub sdp: String,
    pub etag: String,
    /// The publisher is sending simulcast.
    pub simulcast: bool,
}

/// The outcome of a PATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOutcome {
    /// Candidates applied (204).
    Trickled,
    /// ICE restarted (200) with the server's new fragment and ETag.
    Restarted { frag: String, etag: String },
}

/// A layer as listed by `GET /session/{stream}/{id}/layer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerView {
    pub rid: String,
    pub bitrate: u64,
    /// This subscriber currently receives it.
    pub active: bool,
}

/// One control-plane request to a media worker's core, handled by
/// [`Sfu::handle`](crate::core::Sfu::handle). Every route of the node's API that
/// touches media becomes one of these; [`crate::MediaHandle`] decides which worker
/// gets it (the stream's home, the least-loaded worker, the session's owner, or all).
///
/// `owner`: the keyed hash of the scoped token making the request (`None`: an admin
/// or auth off); a session created with a scoped token only obeys that token.
#[derive(Clone)]
pub enum Command {
    /// WHIP: attach a publisher (on the stream's home worker).
    Publish { stream: String, offer: String, owner: Option<u64> },
    /// WHEP: attach a subscriber. `relay`: a cascade pull or the node's recorder (not
    /// counted against `each_stream_max_sub`). `upstream`: what the stream's home
    /// worker said ([`Command::UpstreamInfo`]) when this worker is not the home.
    Subscribe { stream: String, offer: String, owner: Option<u64>, relay: bool, upstream: Option<UpstreamInfo> },
    /// Home worker: what a subscriber accepted on another worker needs to know.
    UpstreamInfo { stream: String },
    /// PATCH: trickled candidates or an ICE restart; `if_match` checks the ETag.
    Patch { stream: String, session: String, frag: SdpFrag, if_match: Option<String>, owner: Option<u64> },
    /// DELETE a session (a session closed in the last 30 s answers `Done` too).
    DeleteSession { stream: String, session: String, owner: Option<u64> },
    /// `POST /api/streams/{id}`: a pinned stream (on its home worker).
    CreateStream { stream: String },
    /// `DELETE /api/streams/{id}`: close every session, drop the stream.
    DeleteStream { stream: String },
    /// Views of the streams on this worker (all when `filter` is empty).
    Streams { filter: Vec<String> },
    /// `GET .../layer`: the publisher's simulcast layers as one subscriber sees them.
    Layers { stream: String, session: String, owner: Option<u64> },
    /// `POST .../layer`: force a layer (`Some(rid)`) or return to automatic (`None`).
    SelectLayer { stream: String, session: String, rid: Option<String>, owner: Option<u64> },
    /// `DELETE .../layer`: stop video to one subscriber (audio continues).
    DisableVideo { stream: String, session: String, owner: Option<u64> },
    /// Mute or unmute one kind for one subscriber.
    SetEnabled { stream: String, session: String, kind: MediaKind, enabled: bool, owner: Option<u64> },
    /// Test hook: cap the bandwidth estimate used for layer choice (`None` lifts it).
    BweCap { stream: String, session: String, bps: Option<u64> },
    /// Cascade step 1: create a relay peer and its offer (on the stream's home worker).
    RelayOffer { stream: String, kind: RelayKind, url: String, token: Option<String> },
    /// Cascade step 2: apply the remote answer (the relay is removed on error).
    RelayAnswer { session: String, answer: String, session_url: String },
    /// Drop a relay whose HTTP exchange failed.
    RelayAbort { session: String },
}

impl Command {
    /// The session the command acts on, for commands that name one.
    pub fn session(&self) -> Option<&str> {
        match self {
            Command::Patch { session, .. }
            | Command::DeleteSession { session, .. }
            | Command::Layers { session, .. }
            | Command::SelectLayer { session, .. }
            | Command::DisableVideo { session, .. }
            | Command::SetEnabled { session, .. }
            | Command::BweCap { session, .. }
            | Command::RelayAnswer { session, .. }
            | Command::RelayAbort { session } => Some(session),
            _ => None,
        }
    }

    /// A short name for logs (commands carry offers and tokens: never log them whole).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Publish { .. } => "publish",
            Command::Subscribe { .. } => "subscribe",
            Command::UpstreamInfo { .. } => "upstream-info",
            Command::Patch { .. } => "patch",
            Command::DeleteSession { .. } => "delete-session",
            Command::CreateStream { .. } => "create-stream",
            Command::DeleteStream { .. } => "delete-stream",
            Command::Streams { .. } => "streams",
            Command::Layers { .. } => "layers",
            Command::SelectLayer { .. } => "select-layer",
            Command::DisableVideo { .. } => "disable-video",
            Command::SetEnabled { .. } => "set-enabled",
            Command::BweCap { .. } => "bwe-cap",
            Command::RelayOffer { .. } => "relay-offer",
            Command::RelayAnswer { .. } => "relay-answer",
            Command::RelayAbort { .. } => "relay-abort",
        }
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command").field("name", &self.name()).field("session", &self.session()).finish_non_exhaustive()
    }
}

/// What a [`Command`] answers (the variant follows the command).
#[derive(Debug, Clone)]
pub enum Reply {
    /// `Publish`, `Subscribe`: the created session.
    Session(SessionAnswer),
    /// `UpstreamInfo`.
    Upstream(UpstreamInfo),
    /// `Patch`.
    Patched(PatchOutcome),
    /// `Layers`.
    Layers(Vec<LayerView>),
    /// `Streams`.
    Streams(Vec<Stream>),
    /// `RelayOffer`: the relay's session id and its SDP offer.
    RelayOffer { session: String, sdp: String },
    /// Everything else.
    Done,
}

fn mismatch(want: &str, got: &Reply) -> SfuError {
    SfuError::Internal(format!("media worker answered {got:?} where {want} was expected"))
}

impl Reply {
    pub fn into_session(self) -> Result<SessionAnswer, SfuError> {
        match self {
            Reply::Session(a) => Ok(a),
            r => Err(mismatch("a session", &r)),
        }
    }

    pub fn into_upstream(self) -> Result<UpstreamInfo, SfuError> {
        match self {
            Reply::Upstream(u) => Ok(u),
            r => Err(mismatch("upstream info", &r)),
        }
    }

    pub fn into_patched(self) -> Result<PatchOutcome, SfuError> {
        match self {
            Reply::Patched(p) => Ok(p),
            r => Err(mismatch("a patch outcome", &r)),
        }
    }

    pub fn into_layers(self) -> Result<Vec<LayerView>, SfuError> {
        match self {
            Reply::Layers(l) => Ok(l),
            r => Err(mismatch("layers", &r)),
        }
    }

    pub fn into_streams(self) -> Result<Vec<Stream>, SfuError> {
        match self {
            Reply::Streams(s) => Ok(s),
            r => Err(mismatch("streams", &r)),
        }
    }

    pub fn into_relay_offer(self) -> Result<(String, String), SfuError> {
        match self {
            Reply::RelayOffer { session, sdp } => Ok((session, sdp)),
            r => Err(mismatch("a relay offer", &r)),
        }
    }

    pub fn into_done(self) -> Result<(), SfuError> {
        match self {
            Reply::Done => Ok(()),
            r => Err(mismatch("no value", &r)),
        }
    }
}
