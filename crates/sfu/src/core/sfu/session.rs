//! Session admission: WHIP publish, WHEP subscribe, PATCH (trickle / ICE restart),
//! DELETE, and explicit stream create/delete.

use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;
use str0m::change::SdpOffer;
use str0m::config::DtlsCert;
use str0m::format::CodecConfig;
use str0m::media::{MediaKind, Mid, Rid};
use str0m::{Candidate, IceCreds, Rtc};
use wishcast_sdp::{Direction, MediaKind as SdpKind, OfferInfo, SdpFrag};

use super::Sfu;
use crate::core::bridge::UpstreamInfo;
use crate::core::codec;
use crate::core::command::{PatchOutcome, SessionAnswer};
use crate::core::config::SfuEvent;
use crate::core::error::SfuError;
use crate::core::peer::{LayerIn, Peer, PeerId, Role, TrackIn, etag_for};
use crate::core::placement::{ice_creds, session_id};
use crate::core::stream::Stream;

/// Packets of video history per subscriber for answering NACKs (str0m's default is
/// 1000, about 1.2 MB per subscriber; 300 is over a second of a 2 Mbit/s stream).
pub const SEND_BUFFER_VIDEO: usize = 300;

/// Starting estimate for subscribers of simulcast streams (BWE on).
const INITIAL_BWE: Bitrate = Bitrate::kbps(1_500);

fn new_rtc(now: Instant, creds: IceCreds, codecs: CodecConfig, bwe: bool, cert: Option<&DtlsCert>) -> Rtc {
    let mut b = Rtc::builder();
    if let Some(c) = cert {
        // One certificate per node process: generating one per session costs ~1 ms.
        b = b.set_dtls_cert(c.clone());
    }
    let mut b = b
        .set_ice_lite(true)
        .set_local_ice_credentials(creds)
        .set_stats_interval(Some(Duration::from_secs(1)))
        .set_send_buffer_video(SEND_BUFFER_VIDEO);
    if bwe {
        // Only where a layer must be chosen: the pacer would otherwise hold back a
        // single-layer stream whenever the estimate lags its bitrate.
        b = b.enable_bwe(Some(INITIAL_BWE));
    }
    *b.codec_config() = codecs;
    b.build(now)
}

/// Parse and sanity-check an offer. `remote_sends`: WHIP (true) or WHEP (false).
fn parse_offer(offer: &str, remote_sends: bool) -> Result<(OfferInfo, SdpOffer), SfuError> {
    let info = OfferInfo::parse(offer).map_err(|e| SfuError::BadSdp(e.to_string()))?;
    if !codec::has_av(&info) {
        return Err(SfuError::BadSdp("the offer has no audio or video m-line; WHIP/WHEP needs at least one".into()));
    }
    if let Some((i, _)) = info.media.iter().enumerate().find(|(_, m)| m.mid.is_none()) {
        return Err(SfuError::BadSdp(format!(
            "m-line {} has no a=mid; WHIP/WHEP offers must carry a=mid on every m-line (BUNDLE)",
            i + 1
        )));
    }
    let usable = info.media.iter().any(|m| {
        matches!(m.kind, SdpKind::Audio | SdpKind::Video)
            && !m.disabled()
            && match m.direction {
                Direction::SendRecv => true,
                Direction::SendOnly => remote_sends,
                Direction::RecvOnly => !remote_sends,
                Direction::Inactive => false,
            }
    });
    if !usable {
        return Err(SfuError::BadSdp(if remote_sends {
            "a WHIP offer must send media: make its audio/video m-lines sendonly or sendrecv".into()
        } else {
            "a WHEP offer must receive media: make its audio/video m-lines recvonly or sendrecv".into()
        }));
    }
    let parsed = SdpOffer::from_sdp_string(&wishcast_sdp::normalize_offer(offer)).map_err(|e| {
        // str0m's parser messages carry internal pointers: log them, answer plainly.
        tracing::debug!("str0m rejected an offer our inspector accepted: {e}");
        SfuError::BadSdp("the offer could not be parsed as a WebRTC session description".into())
    })?;
    Ok((info, parsed))
}

impl Sfu {
    fn ensure_stream(&mut self, stream: &str, now: Instant, allowed: bool) -> Result<(), SfuError> {
        if self.streams.contains_key(stream) {
            return Ok(());
        }
        if !allowed {
            return Err(SfuError::StreamNotFound(stream.to_string()));
        }
        let ms = self.unix_ms(now);
        self.streams.insert(stream.to_string(), Stream::new(stream.to_string(), now, ms, false));
        self.events.push(SfuEvent::StreamCreated(stream.to_string()));
        Ok(())
    }

    pub(super) fn register_peer(&mut self, peer: Peer, now: Instant) -> PeerId {
        let pid = peer.id;
        self.demux.add_ufrag(&peer.ufrag, &peer.local_pwd, pid);
        self.sessions.insert(peer.session_id.clone(), pid);
        let (stream, role) = (peer.stream.clone(), peer.role);
        self.peers[pid.index as usize] = Some(peer);
        self.update_load();
        if role == Role::Subscriber {
            self.report_subscribers(&stream);
        }
        self.drain(pid, now);
        self.pump(now);
        pid
    }

    fn accept(&mut self, rtc: &mut Rtc, offer: SdpOffer) -> Result<String, SfuError> {
        for c in &self.candidates {
            rtc.add_local_candidate(c.clone());
        }
        let answer = rtc.sdp_api().accept_offer(offer).map_err(|e| {
            tracing::debug!("offer not accepted: {e}");
            SfuError::BadSdp(
                "the offer could not be negotiated (check BUNDLE, a=mid, DTLS fingerprint and ICE credentials)".into(),
            )
        })?;
        Ok(answer.to_sdp_string())
    }

    /// WHIP: attach a publisher to `stream`.
    /// `owner`: see [`crate::core::peer::Peer::owner`].
    pub fn publish(
        &mut self,
        now: Instant,
        stream: &str,
        offer: &str,
        owner: Option<u64>,
    ) -> Result<SessionAnswer, SfuError> {
        let (info, parsed) = parse_offer(offer, true)?;
        let exists = self.streams.contains_key(stream);
        if !exists && !self.cfg.strategy.auto_create_whip {
            return Err(SfuError::StreamNotFound(stream.to_string()));
        }
        if let Some(old) = self.streams.get(stream).and_then(|s| s.publisher) {
            // A publisher that went silent (crashed encoder, closed tab) would block
            // the stream until ICE consent expires: let the new one take over.
            let stale = self
                .peer(old)
                .map(|p| {
                    p.first_connected && now.saturating_duration_since(p.last_rx) >= super::lifecycle::STALE_PUBLISHER
                })
                .unwrap_or(true);
            if !stale {
                return Err(SfuError::AlreadyPublished(stream.to_string()));
            }
            self.remove_peer(old, now, "replaced");
        }
        let payloads = codec::offer_payloads(&info, true);
        if payloads.is_empty() {
            return Err(SfuError::NoCommonCodec {
                offered: codec::offered_names(&info),
                available: codec::SUPPORTED.iter().map(|s| s.to_string()).collect(),
            });
        }
        let creds = ice_creds(self.cfg.worker, self.cfg.workers);
        let ufrag = creds.ufrag.clone();
        let pwd = creds.pass.clone();
        let params = payloads.iter().map(|(_, p)| *p).collect();
        let mut rtc = new_rtc(now, creds, CodecConfig::new_from_payload_params(params), false, self.dtls_cert.as_ref());
        let sdp = self.accept(&mut rtc, parsed)?;

        self.ensure_stream(stream, now, true)?;
        let pid = self.alloc_id();
        let session_id = session_id(self.cfg.worker, self.cfg.workers);
        let mut peer =
            Peer::new(pid, session_id.clone(), stream.to_string(), Role::Publisher, rtc, ufrag, now, self.unix_ms(now));
        peer.local_pwd = pwd;
        let mut simulcast = false;
        for m in &info.media {
            let kind = match m.kind {
                SdpKind::Audio => MediaKind::Audio,
                SdpKind::Video => MediaKind::Video,
                SdpKind::Application => continue,
            };
            if m.disabled() || !matches!(m.direction, Direction::SendOnly | Direction::SendRecv) {
                continue;
            }
            let Some(mid) = m.mid.as_deref() else { continue };
            simulcast |= m.simulcast && m.rids.len() > 1;
            let layers = if m.rids.is_empty() {
                vec![LayerIn::new(None)]
            } else {
                m.rids.iter().map(|r| LayerIn::new(Some(Rid::from(r.as_str())))).collect()
            };
            peer.tracks_in.push(TrackIn { mid: Mid::from(mid), kind, layers });
        }
        peer.remote_ufrag = info.ice_ufrag.clone();
        peer.owner = owner;
        let st = self.streams.get_mut(stream).ok_or_else(|| SfuError::Internal("stream vanished".into()))?;
        st.generation += 1;
        peer.generation = st.generation;
        st.publisher = Some(pid);
        st.publish_leave_at_ms = 0;
        st.publish_left = None;
        st.gops.clear();
        // A new publisher's delta frames cannot follow the old one's pictures.
        let subs = st.subscribers.clone();
        for sub in subs {
            if let Some(p) = self.peer_mut(sub) {
                p.video_needs_keyframe = true;
                p.selector.current = None;
            }
        }
        let Some(st) = self.streams.get_mut(stream) else {
            return Err(SfuError::Internal("stream vanished".into()));
        };
        for (k, p) in codec::primary(&payloads) {
            st.set_codec(k, p);
        }
        let etag = peer.etag.clone();
        self.register_peer(peer, now);
        self.events.push(SfuEvent::PublishStarted(stream.to_string()));
        Ok(SessionAnswer { session_id, sdp, etag, simulcast })
    }

    /// WHEP: attach a subscriber to `stream` (which may have no publisher yet).
    pub fn subscribe(
        &mut self,
        now: Instant,
        stream: &str,
        offer: &str,
        owner: Option<u64>,
    ) -> Result<SessionAnswer, SfuError> {
        self.subscribe_with(now, stream, offer, owner, false)
    }

    /// WHEP with `relay = true`: a cascade relay pulling this stream; it is not counted
    /// against `each_stream_max_sub` (the manager sizes relays itself).
    pub fn subscribe_with(
        &mut self,
        now: Instant,
        stream: &str,
        offer: &str,
        owner: Option<u64>,
        relay: bool,
    ) -> Result<SessionAnswer, SfuError> {
        self.subscribe_upstream(now, stream, offer, owner, relay, None)
    }

    /// WHEP on a worker that is not `stream`'s home: `upstream` is what the home
    /// worker said ([`Sfu::upstream_info`]); `None` when this worker is the home.
    pub fn subscribe_upstream(
        &mut self,
        now: Instant,
        stream: &str,
        offer: &str,
        owner: Option<u64>,
        relay: bool,
        upstream: Option<&UpstreamInfo>,
    ) -> Result<SessionAnswer, SfuError> {
        let (info, parsed) = parse_offer(offer, false)?;
        let local = self.streams.contains_key(stream);
        let elsewhere = upstream.map(|u| u.exists).unwrap_or(false);
        if !local && !elsewhere && !self.cfg.strategy.auto_create_whep {
            return Err(SfuError::StreamNotFound(stream.to_string()));
        }
        let max = self.cfg.strategy.each_stream_max_sub;
        let (mut publisher_codecs, mut simulcast, mut viewers) = match self.streams.get(stream) {
            Some(s) => {
                let viewers =
                    s.subscribers.iter().filter(|p| self.peer(**p).map(|p| !p.relay_viewer).unwrap_or(false)).count();
                let sim = s
                    .publisher
                    .and_then(|p| self.peer(p))
                    .map(|p| p.tracks_in.iter().any(|t| t.simulcast()))
                    .unwrap_or(false)
                    || s.upstream_layers.len() > 1;
                (s.codecs.clone(), sim, viewers + self.remote_subscribers(stream) as usize)
            }
            None => (Vec::new(), false, 0),
        };
        if let Some(u) = upstream {
            viewers = viewers.max(u.viewers);
            simulcast |= u.simulcast;
            if publisher_codecs.is_empty() {
                publisher_codecs = u.codecs.clone();
            }
        }
        if !relay && viewers >= max as usize {
            return Err(SfuError::StreamFull { stream: stream.to_string(), max });
        }
        let offered = codec::offer_payloads(&info, false);
        let params = codec::subscriber_payloads(&offered, &publisher_codecs);
        let no_common = || {
            let available = if publisher_codecs.is_empty() {
                codec::SUPPORTED.iter().map(|s| s.to_string()).collect()
            } else {
                publisher_codecs.iter().map(|(_, p)| codec::codec_name(p.spec().codec).to_ascii_uppercase()).collect()
            };
            SfuError::NoCommonCodec { offered: codec::offered_names(&info), available }
        };
        if params.is_empty() {
            return Err(no_common());
        }
        let creds = ice_creds(self.cfg.worker, self.cfg.workers);
        let ufrag = creds.ufrag.clone();
        let pwd = creds.pass.clone();
        let mut rtc =
            new_rtc(now, creds, CodecConfig::new_from_payload_params(params), simulcast, self.dtls_cert.as_ref());
        let sdp = self.accept(&mut rtc, parsed)?;
        if !publisher_codecs.is_empty() && !codec::answer_carries(&sdp, &publisher_codecs) {
            // Never a 201 whose media the stream cannot fill.
            return Err(no_common());
        }

        if !local && elsewhere {
            // The stream lives on its home worker; here it is a mirror (no events).
            let ms = self.unix_ms(now);
            let mut s = Stream::new(stream.to_string(), now, ms, false);
            s.mirror = true;
            s.codecs = publisher_codecs.clone();
            self.streams.insert(stream.to_string(), s);
        }
        self.ensure_stream(stream, now, true)?;
        let pid = self.alloc_id();
        let session_id = session_id(self.cfg.worker, self.cfg.workers);
        let mut peer = Peer::new(
            pid,
            session_id.clone(),
            stream.to_string(),
            Role::Subscriber,
            rtc,
            ufrag,
            now,
            self.unix_ms(now),
        );
        peer.local_pwd = pwd;
        for m in &info.media {
            if m.disabled() || !matches!(m.direction, Direction::RecvOnly | Direction::SendRecv) {
                continue;
            }
            let Some(mid) = m.mid.as_deref() else { continue };
            match m.kind {
                SdpKind::Audio if peer.audio_mid.is_none() => peer.audio_mid = Some(Mid::from(mid)),
                SdpKind::Video if peer.video_mid.is_none() => peer.video_mid = Some(Mid::from(mid)),
                _ => {}
            }
        }
        peer.remote_ufrag = info.ice_ufrag.clone();
        peer.owner = owner;
        peer.relay_viewer = relay;
        let st = self.streams.get_mut(stream).ok_or_else(|| SfuError::Internal("stream vanished".into()))?;
        st.subscribers.push(pid);
        st.subscribe_leave_at_ms = 0;
        st.subscribe_left = None;
        let etag = peer.etag.clone();
        self.register_peer(peer, now);
        self.events.push(SfuEvent::SubscribeStarted(stream.to_string()));
        Ok(SessionAnswer { session_id, sdp, etag, simulcast })
    }

    /// Like `session_in_stream`, and the caller must own it when it was created with a
    /// scoped token (`caller = None` means an admin or auth off).
    pub(super) fn owned_session(&self, stream: &str, session: &str, caller: Option<u64>) -> Result<PeerId, SfuError> {
        let pid = self.session_in_stream(stream, session)?;
        match (caller, self.peer(pid).and_then(|p| p.owner)) {
            (Some(c), Some(o)) if c == o => Ok(pid),
            (None, _) => Ok(pid),
            _ => Err(SfuError::NotOwner),
        }
    }

    fn session_in_stream(&self, stream: &str, session: &str) -> Result<PeerId, SfuError> {
        if !self.streams.contains_key(stream) {
            return Err(SfuError::StreamNotFound(stream.to_string()));
        }
        let pid = *self.sessions.get(session).ok_or_else(|| SfuError::SessionNotFound(session.to_string()))?;
        match self.peer(pid) {
            Some(p) if p.stream == stream => Ok(pid),
            _ => Err(SfuError::SessionNotFound(session.to_string())),
        }
    }

    /// The session's current ETag.
    pub fn etag(&self, stream: &str, session: &str) -> Result<String, SfuError> {
        let pid = self.session_in_stream(stream, session)?;
        Ok(self.peer(pid).map(|p| p.etag.clone()).unwrap_or_default())
    }

    /// PATCH: trickled candidates, or an ICE restart when the fragment carries new
    /// credentials. `if_match` must equal the ETag (or be `*`) when given.
    pub fn patch(
        &mut self,
        now: Instant,
        stream: &str,
        session: &str,
        frag: &SdpFrag,
        if_match: Option<&str>,
        caller: Option<u64>,
    ) -> Result<PatchOutcome, SfuError> {
        let pid = self.owned_session(stream, session, caller)?;
        let candidates = self.candidates.clone();
        let (worker, workers) = (self.cfg.worker, self.cfg.workers);
        let peer = self.peer_mut(pid).ok_or_else(|| SfuError::SessionNotFound(session.to_string()))?;
        if let Some(m) = if_match {
            let m = m.trim();
            if m != "*" && m != peer.etag && m.trim_start_matches("W/") != peer.etag {
                return Err(SfuError::PreconditionFailed);
            }
        }
        let restart = match (&frag.ice_ufrag, &frag.ice_pwd) {
            (Some(u), Some(p)) if peer.remote_ufrag.as_deref() != Some(u.as_str()) => Some((u.clone(), p.clone())),
            _ => None,
        };
        let mut outcome = PatchOutcome::Trickled;
        if let Some((ufrag, pass)) = restart {
            let local = ice_creds(worker, workers);
            let mut api = peer.rtc.direct_api();
            api.set_remote_ice_credentials(IceCreds { ufrag: ufrag.clone(), pass });
            api.set_local_ice_credentials(local.clone());
            let old = std::mem::replace(&mut peer.ufrag, local.ufrag.clone());
            peer.local_pwd = local.pass.clone();
            peer.remote_ufrag = Some(ufrag);
            peer.etag = etag_for(&peer.ufrag);
            let mut text = format!("a=ice-ufrag:{}\r\na=ice-pwd:{}\r\n", local.ufrag, local.pass);
            for c in &candidates {
                text.push_str(&format!("a={}\r\n", c.to_sdp_string()));
            }
            text.push_str("a=end-of-candidates\r\n");
            outcome = PatchOutcome::Restarted { frag: text, etag: peer.etag.clone() };
            self.demux.remove_ufrag(&old);
            self.demux.add_ufrag(&local.ufrag, &local.pass, pid);
        }
        if let Some(peer) = self.peer_mut(pid) {
            for s in &frag.sections {
                for c in &s.candidates {
                    // mDNS (.local) and unparsable candidates are skipped: ICE-lite learns
                    // remote addresses from the client's checks anyway.
                    if let Ok(c) = Candidate::from_sdp_string(c) {
                        peer.rtc.add_remote_candidate(c);
                    }
                }
            }
        }
        self.drain(pid, now);
        self.pump(now);
        Ok(outcome)
    }

    /// DELETE a session (as an admin).
    pub fn delete_session(&mut self, now: Instant, stream: &str, session: &str) -> Result<(), SfuError> {
        self.delete_session_as(now, stream, session, None)
    }

    /// DELETE a session on behalf of `caller` (see `owned_session`). A session that
    /// ended in the last 30 s (e.g. the client closed its PeerConnection first) is
    /// already gone: that DELETE succeeds.
    pub fn delete_session_as(
        &mut self,
        now: Instant,
        stream: &str,
        session: &str,
        caller: Option<u64>,
    ) -> Result<(), SfuError> {
        if !self.sessions.contains_key(session)
            && let Some((s, _)) = self.tombstones.get(session)
            && s == stream
        {
            return Ok(());
        }
        let pid = self.owned_session(stream, session, caller)?;
        self.remove_peer(pid, now, "api-deleted");
        Ok(())
    }

    /// `POST /api/streams/{id}`: an explicitly created (pinned) stream.
    pub fn create_stream(&mut self, now: Instant, stream: &str) -> Result<(), SfuError> {
        if self.streams.contains_key(stream) {
            return Err(SfuError::StreamExists(stream.to_string()));
        }
        let ms = self.unix_ms(now);
        self.streams.insert(stream.to_string(), Stream::new(stream.to_string(), now, ms, true));
        self.events.push(SfuEvent::StreamCreated(stream.to_string()));
        Ok(())
    }

    /// `DELETE /api/streams/{id}`: close every session and drop the stream.
    pub fn delete_stream(&mut self, now: Instant, stream: &str) -> Result<(), SfuError> {
        if !self.streams.contains_key(stream) {
            return Err(SfuError::StreamNotFound(stream.to_string()));
        }
        self.destroy_stream(stream, now, "api-deleted");
        Ok(())
    }
}
