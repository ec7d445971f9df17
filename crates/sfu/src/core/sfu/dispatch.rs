//! [`Sfu::handle`]: the one entry point of the control plane into a core. Each
//! [`Command`] maps to one of the `impl Sfu` methods of the sibling modules.

use std::time::Instant;

use super::Sfu;
use crate::core::command::{Command, Reply};
use crate::core::error::SfuError;

impl Sfu {
    /// Apply one control-plane command at `now`.
    pub fn handle(&mut self, cmd: Command, now: Instant) -> Result<Reply, SfuError> {
        Ok(match cmd {
            Command::Publish { stream, offer, owner } => Reply::Session(self.publish(now, &stream, &offer, owner)?),
            Command::Subscribe { stream, offer, owner, relay, upstream } => {
                Reply::Session(self.subscribe_upstream(now, &stream, &offer, owner, relay, upstream.as_ref())?)
            }
            Command::UpstreamInfo { stream } => Reply::Upstream(self.upstream_info(&stream)),
            Command::Patch { stream, session, frag, if_match, owner } => {
                Reply::Patched(self.patch(now, &stream, &session, &frag, if_match.as_deref(), owner)?)
            }
            Command::DeleteSession { stream, session, owner } => {
                self.delete_session_as(now, &stream, &session, owner)?;
                Reply::Done
            }
            Command::CreateStream { stream } => {
                self.create_stream(now, &stream)?;
                Reply::Done
            }
            Command::DeleteStream { stream } => {
                self.delete_stream(now, &stream)?;
                Reply::Done
            }
            Command::Streams { filter } => Reply::Streams(self.streams_view(&filter)),
            Command::Layers { stream, session, owner } => Reply::Layers(self.layers(&stream, &session, owner)?),
            Command::SelectLayer { stream, session, rid, owner } => {
                self.select_layer(now, &stream, &session, rid.as_deref(), owner)?;
                Reply::Done
            }
            Command::DisableVideo { stream, session, owner } => {
                self.disable_video_layer(&stream, &session, owner)?;
                Reply::Done
            }
            Command::SetEnabled { stream, session, kind, enabled, owner } => {
                self.set_kind_enabled(now, &stream, &session, kind, enabled, owner)?;
                Reply::Done
            }
            Command::BweCap { stream, session, bps } => {
                self.set_bwe_cap(&stream, &session, bps)?;
                Reply::Done
            }
            Command::RelayOffer { stream, kind, url, token } => {
                let (session, sdp) = self.relay_offer(now, &stream, kind, &url, token)?;
                Reply::RelayOffer { session, sdp }
            }
            Command::RelayAnswer { session, answer, session_url } => {
                self.relay_answer(now, &session, &answer, &session_url)?;
                Reply::Done
            }
            Command::RelayAbort { session } => {
                self.relay_abort(now, &session)?;
                Reply::Done
            }
        })
    }
}
