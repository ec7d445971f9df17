//! Cascade relay bookkeeping: which way a relay carries media, what a relay peer
//! remembers about its remote session, and how it shows in the streams API.

use str0m::change::SdpPendingOffer;
use wishcast_api::stream::Cascade;

/// Which way media flows through a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayKind {
    /// This node pulls the stream from `url` (a WHEP endpoint).
    Pull,
    /// This node pushes its stream to `url` (a WHIP endpoint).
    Push,
}

/// Relay bookkeeping kept on the peer.
pub struct RelayInfo {
    pub kind: RelayKind,
    pub url: String,
    /// Absolute URL of the remote session, once known; DELETEd when the relay ends.
    pub session_url: Option<String>,
    /// Token for the remote server (never logged).
    pub token: Option<String>,
    pub pending: Option<SdpPendingOffer>,
}

/// A relay that ended: the control plane DELETEs the remote session.
#[derive(Clone)]
pub struct RelayClosed {
    pub session_url: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for RelayClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClosed").field("session_url", &self.session_url).finish_non_exhaustive()
    }
}

/// Cascade info for the streams API.
pub fn cascade_view(r: &RelayInfo) -> Cascade {
    match r.kind {
        RelayKind::Pull => {
            Cascade { source_url: Some(r.url.clone()), target_url: None, session_url: r.session_url.clone() }
        }
        RelayKind::Push => {
            Cascade { source_url: None, target_url: Some(r.url.clone()), session_url: r.session_url.clone() }
        }
    }
}
