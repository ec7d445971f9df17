//! Per-subscriber controls: simulcast layer choice (Live777's layer routes), mute per
//! kind, and the bandwidth cap test hook.

use std::time::Instant;

use str0m::media::{MediaKind, Rid};

use super::Sfu;
use crate::core::command::LayerView;
use crate::core::error::SfuError;
use crate::core::peer::{PeerId, Role};

impl Sfu {
    fn subscriber(&self, stream: &str, session: &str, caller: Option<u64>) -> Result<PeerId, SfuError> {
        let pid = self.owned_session(stream, session, caller)?;
        match self.peer(pid).map(|p| p.role) {
            Some(Role::Subscriber) => Ok(pid),
            _ => Err(SfuError::Invalid("this is a publisher session; layers and mute apply to WHEP sessions".into())),
        }
    }

    /// The publisher's simulcast layers, as seen by one subscriber.
    pub fn layers(&self, stream: &str, session: &str, caller: Option<u64>) -> Result<Vec<LayerView>, SfuError> {
        let pid = self.subscriber(stream, session, caller)?;
        let current = self.peer(pid).filter(|p| p.video_enabled && !p.video_layer_off).and_then(|p| p.selector.current);
        let s = self.streams.get(stream).ok_or_else(|| SfuError::NotSimulcast(stream.to_string()))?;
        let v: Vec<LayerView> = match s.publisher.and_then(|p| self.peer(p)) {
            Some(publisher) => publisher
                .tracks_in
                .iter()
                .filter(|t| t.kind == MediaKind::Video)
                .flat_map(|t| t.layers.iter())
                .filter_map(|l| {
                    l.rid.map(|r| LayerView { rid: r.to_string(), bitrate: l.bitrate, active: current == Some(r) })
                })
                .collect(),
            // The publisher is on another worker: the layers its frames showed here.
            None => s
                .upstream_layers
                .iter()
                .map(|(r, _, bitrate)| LayerView { rid: r.to_string(), bitrate: *bitrate, active: current == Some(*r) })
                .collect(),
        };
        if v.is_empty() {
            return Err(SfuError::NotSimulcast(stream.to_string()));
        }
        Ok(v)
    }

    /// Force a layer (`Some(rid)`) or return to automatic choice (`None`).
    pub fn select_layer(
        &mut self,
        now: Instant,
        stream: &str,
        session: &str,
        rid: Option<&str>,
        caller: Option<u64>,
    ) -> Result<(), SfuError> {
        let layers = self.layers(stream, session, caller)?;
        let pid = self.subscriber(stream, session, caller)?;
        let rid = match rid {
            Some(r) => {
                if !layers.iter().any(|l| l.rid == r) {
                    let names: Vec<&str> = layers.iter().map(|l| l.rid.as_str()).collect();
                    return Err(SfuError::Invalid(format!(
                        "no layer `{r}`; this stream has encodingId {}",
                        names.join(", ")
                    )));
                }
                Some(Rid::from(r))
            }
            None => None,
        };
        if let Some(p) = self.peer_mut(pid) {
            p.selector.manual = rid;
            p.video_layer_off = false;
            if let Some(r) = rid {
                p.selector.target = Some(r);
            }
        }
        if let Some(r) = rid {
            self.request_keyframe(stream, now, None, Some(Some(r)));
        }
        Ok(())
    }

    /// `DELETE .../layer`: stop video to this subscriber (audio continues).
    pub fn disable_video_layer(&mut self, stream: &str, session: &str, caller: Option<u64>) -> Result<(), SfuError> {
        let pid = self.subscriber(stream, session, caller)?;
        if let Some(p) = self.peer_mut(pid) {
            p.video_layer_off = true;
        }
        Ok(())
    }

    /// Mute or unmute one kind for one subscriber. Video resumes at a keyframe.
    pub fn set_kind_enabled(
        &mut self,
        now: Instant,
        stream: &str,
        session: &str,
        kind: MediaKind,
        enabled: bool,
        caller: Option<u64>,
    ) -> Result<(), SfuError> {
        let pid = self.subscriber(stream, session, caller)?;
        let mut want_keyframe = false;
        if let Some(p) = self.peer_mut(pid) {
            match kind {
                MediaKind::Audio => p.audio_enabled = enabled,
                MediaKind::Video => {
                    if enabled && !p.video_enabled {
                        p.video_needs_keyframe = true;
                        want_keyframe = true;
                    }
                    p.video_enabled = enabled;
                }
            }
        }
        if want_keyframe {
            let rid = self.peer(pid).and_then(|p| p.selector.current);
            self.request_keyframe(stream, now, None, rid.map(Some));
        }
        Ok(())
    }

    /// Test hook: cap the bandwidth estimate used for layer choice (`None` lifts it).
    pub fn set_bwe_cap(&mut self, stream: &str, session: &str, bps: Option<u64>) -> Result<(), SfuError> {
        let pid = self.subscriber(stream, session, None)?;
        if let Some(p) = self.peer_mut(pid) {
            p.bwe_cap = bps;
        }
        Ok(())
    }
}

impl Sfu {
    /// A subscriber's bandwidth estimate and cap (bit/s), for stats and tests.
    pub fn subscriber_estimate(&self, session: &str) -> Option<(Option<u64>, Option<u64>)> {
        let pid = self.sessions.get(session)?;
        self.peer(*pid).map(|p| (p.bwe_estimate, p.bwe_cap))
    }
}
