//! Cascade relays: the node as a WHEP client of another server (pull: the relay is
//! the local stream's publisher) or as a WHIP client (push: the relay is a subscriber
//! of the local stream). The HTTP exchange happens outside the core, so a relay is
//! created in two steps: [`Sfu::relay_offer`] then [`Sfu::relay_answer`] (or
//! [`Sfu::relay_abort`]).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::SdpAnswer;
use str0m::media::{Direction as RtcDirection, MediaKind};
use str0m::net::Protocol;
use str0m::{Candidate, Rtc};

use super::Sfu;
use crate::core::config::SfuEvent;
use crate::core::error::SfuError;
use crate::core::peer::{LayerIn, Peer, Role, TrackIn};
use crate::core::placement::{ice_creds, session_id};
use crate::core::relay::{RelayClosed, RelayInfo, RelayKind};
use crate::core::stream::Stream;

impl Sfu {
    /// Step 1: create the relay peer and its offer. For a pull the stream gets this
    /// relay as its publisher right away (so a concurrent WHIP gets 409).
    pub fn relay_offer(
        &mut self,
        now: Instant,
        stream: &str,
        kind: RelayKind,
        url: &str,
        token: Option<String>,
    ) -> Result<(String, String), SfuError> {
        match kind {
            RelayKind::Pull => {
                if let Some(s) = self.streams.get(stream) {
                    if s.publisher.is_some() {
                        return Err(SfuError::AlreadyPublished(stream.to_string()));
                    }
                } else if !self.cfg.strategy.auto_create_whip {
                    return Err(SfuError::StreamNotFound(stream.to_string()));
                }
            }
            RelayKind::Push => {
                if !self.streams.contains_key(stream) {
                    return Err(SfuError::StreamNotFound(stream.to_string()));
                }
            }
        }
        let creds = ice_creds(self.cfg.worker, self.cfg.workers);
        let ufrag = creds.ufrag.clone();
        let pwd = creds.pass.clone();
        let mut b = Rtc::builder()
            .set_local_ice_credentials(creds)
            .set_stats_interval(Some(Duration::from_secs(1)))
            .set_send_buffer_video(super::session::SEND_BUFFER_VIDEO);
        if let Some(c) = &self.dtls_cert {
            b = b.set_dtls_cert(c.clone());
        }
        if kind == RelayKind::Push {
            // Offer exactly the local publisher's codecs.
            let params: Vec<_> =
                self.streams.get(stream).map(|s| s.codecs.iter().map(|(_, p)| *p).collect()).unwrap_or_default();
            if !params.is_empty() {
                *b.codec_config() = str0m::format::CodecConfig::new_from_payload_params(params);
            }
        }
        let mut rtc = b.build(now);
        for c in &self.candidates {
            if c.proto() == Protocol::Udp {
                rtc.add_local_candidate(c.clone());
            }
        }
        let dir = if kind == RelayKind::Pull { RtcDirection::RecvOnly } else { RtcDirection::SendOnly };
        let mut api = rtc.sdp_api();
        let audio = api.add_media(MediaKind::Audio, dir, None, None, None);
        let video = api.add_media(MediaKind::Video, dir, None, None, None);
        let Some((offer, pending)) = api.apply() else {
            return Err(SfuError::Internal("relay offer had no changes".into()));
        };
        let role = if kind == RelayKind::Pull { Role::Publisher } else { Role::Subscriber };
        if !self.streams.contains_key(stream) {
            let ms = self.unix_ms(now);
            self.streams.insert(stream.to_string(), Stream::new(stream.to_string(), now, ms, false));
            self.events.push(SfuEvent::StreamCreated(stream.to_string()));
        }
        let pid = self.alloc_id();
        let session_id = session_id(self.cfg.worker, self.cfg.workers);
        let mut peer = Peer::new(pid, session_id.clone(), stream.to_string(), role, rtc, ufrag, now, self.unix_ms(now));
        peer.local_pwd = pwd;
        match kind {
            RelayKind::Pull => {
                peer.tracks_in.push(TrackIn { mid: audio, kind: MediaKind::Audio, layers: vec![LayerIn::new(None)] });
                peer.tracks_in.push(TrackIn { mid: video, kind: MediaKind::Video, layers: vec![LayerIn::new(None)] });
            }
            RelayKind::Push => {
                peer.audio_mid = Some(audio);
                peer.video_mid = Some(video);
            }
        }
        peer.relay = Some(RelayInfo { kind, url: url.to_string(), session_url: None, token, pending: Some(pending) });
        let st = self.streams.get_mut(stream).ok_or_else(|| SfuError::Internal("stream vanished".into()))?;
        match kind {
            RelayKind::Pull => {
                st.generation += 1;
                peer.generation = st.generation;
                st.publisher = Some(pid);
                st.publish_leave_at_ms = 0;
                st.publish_left = None;
                st.gops.clear();
            }
            RelayKind::Push => {
                st.subscribers.push(pid);
                st.subscribe_leave_at_ms = 0;
                st.subscribe_left = None;
            }
        }
        self.register_peer(peer, now);
        Ok((session_id, offer.to_sdp_string()))
    }

    /// Step 2: apply the remote answer. On error the relay is removed.
    pub fn relay_answer(
        &mut self,
        now: Instant,
        session: &str,
        answer: &str,
        session_url: &str,
    ) -> Result<(), SfuError> {
        let r = self.relay_answer_inner(now, session, answer, session_url);
        if r.is_err() {
            let _ = self.relay_abort(now, session);
        }
        r
    }

    fn relay_answer_inner(
        &mut self,
        now: Instant,
        session: &str,
        answer: &str,
        session_url: &str,
    ) -> Result<(), SfuError> {
        let pid = *self.sessions.get(session).ok_or_else(|| SfuError::SessionNotFound(session.to_string()))?;
        let answer = SdpAnswer::from_sdp_string(answer)
            .map_err(|_| SfuError::BadSdp("the upstream server's answer is not a valid SDP".into()))?;
        let remote_addrs: Vec<SocketAddr> = answer_candidates(&answer);
        let peer = self.peer_mut(pid).ok_or_else(|| SfuError::SessionNotFound(session.to_string()))?;
        let relay = peer.relay.as_mut().ok_or_else(|| SfuError::Invalid("not a relay session".into()))?;
        let pending = relay.pending.take().ok_or_else(|| SfuError::Invalid("relay already answered".into()))?;
        relay.session_url = Some(session_url.to_string());
        peer.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| {
            tracing::debug!("relay answer rejected: {e}");
            SfuError::BadSdp("the upstream server's answer could not be applied".into())
        })?;
        for a in remote_addrs {
            self.demux.add_addr(Protocol::Udp, a, pid);
            self.hint(Protocol::Udp, a, true);
            if let Some(p) = self.peer_mut(pid) {
                p.addrs.push((Protocol::Udp, a));
            }
        }
        self.drain(pid, now);
        self.pump(now);
        Ok(())
    }

    /// Drop a relay whose HTTP exchange failed.
    pub fn relay_abort(&mut self, now: Instant, session: &str) -> Result<(), SfuError> {
        let pid = *self.sessions.get(session).ok_or_else(|| SfuError::SessionNotFound(session.to_string()))?;
        self.remove_peer(pid, now, "relay-failed");
        Ok(())
    }

    /// Relays that ended since the last call (their remote sessions must be DELETEd).
    pub fn take_closed_relays(&mut self) -> Vec<RelayClosed> {
        std::mem::take(&mut self.closed_relays)
    }
}

/// UDP host candidates in an answer (where the upstream's datagrams come from).
fn answer_candidates(answer: &SdpAnswer) -> Vec<SocketAddr> {
    let text = answer.to_sdp_string();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(c) = line.trim().strip_prefix("a=") else { continue };
        if !c.starts_with("candidate:") {
            continue;
        }
        if let Ok(c) = Candidate::from_sdp_string(c)
            && c.proto() == Protocol::Udp
            && !out.contains(&c.addr())
        {
            out.push(c.addr());
        }
    }
    out
}
