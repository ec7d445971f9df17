//! [`MediaHandle`]: how the control plane reaches the media workers.
//!
//! Everything the control plane asks is a [`Command`]; [`MediaHandle::send`] routes
//! it and the typed methods below wrap it. Each worker owns a share of the sessions:
//! * publishers and cascade relays go to their stream's home worker
//!   ([`home_of`]); `CreateStream` too;
//! * subscribers (players, the recorder, cascade pulls) go to the least-loaded worker,
//!   after asking the home worker for the publisher's codecs, simulcast state and
//!   viewer count ([`Command::UpstreamInfo`]);
//! * session commands go to the worker named in the session id ([`session_worker`]),
//!   in one hop;
//! * stream views and `DeleteStream` go to every worker and are merged.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc, oneshot};
use wishcast_api::Stream;
use wishcast_sdp::SdpFrag;

use crate::core::command::{Command, LayerView, PatchOutcome, Reply, SessionAnswer};
use crate::core::config::SfuEvent;
use crate::core::error::SfuError;
use crate::core::merge::{merge_streams, pick_session_result};
use crate::core::metrics::Metrics;
use crate::core::placement::{home_of, session_worker};
use crate::core::relay::{RelayClosed, RelayKind};
use crate::io::worker::Cmd;

/// A cheap, cloneable handle to the running media plane.
#[derive(Clone)]
pub struct MediaHandle {
    txs: Arc<Vec<mpsc::UnboundedSender<Cmd>>>,
    /// Sessions per worker (kept by the workers).
    loads: Arc<Vec<Arc<AtomicU64>>>,
    /// Placements asked for but not answered yet, per worker.
    pending: Arc<Vec<AtomicU64>>,
    pub metrics: Arc<Metrics>,
    pub events: broadcast::Sender<SfuEvent>,
    /// Bound UDP sockets (real ports).
    pub udp_addrs: Vec<std::net::SocketAddr>,
    /// Bound TCP listeners (real ports).
    pub tcp_addrs: Vec<std::net::SocketAddr>,
    relay_closed: Arc<Mutex<Option<mpsc::UnboundedReceiver<RelayClosed>>>>,
}

fn stopped() -> SfuError {
    SfuError::Internal("media plane stopped".into())
}

impl MediaHandle {
    pub(crate) fn new(
        txs: Vec<mpsc::UnboundedSender<Cmd>>,
        loads: Vec<Arc<AtomicU64>>,
        metrics: Arc<Metrics>,
        events: broadcast::Sender<SfuEvent>,
        udp_addrs: Vec<std::net::SocketAddr>,
        tcp_addrs: Vec<std::net::SocketAddr>,
        relay_rx: mpsc::UnboundedReceiver<RelayClosed>,
    ) -> Self {
        let pending = (0..txs.len()).map(|_| AtomicU64::new(0)).collect();
        MediaHandle {
            txs: Arc::new(txs),
            loads: Arc::new(loads),
            pending: Arc::new(pending),
            metrics,
            events,
            udp_addrs,
            tcp_addrs,
            relay_closed: Arc::new(Mutex::new(Some(relay_rx))),
        }
    }

    /// Ended cascade relays whose remote sessions should be DELETEd (taken once).
    pub fn take_relay_closed(&self) -> Option<mpsc::UnboundedReceiver<RelayClosed>> {
        self.relay_closed.lock().ok()?.take()
    }

    /// Number of media workers.
    pub fn workers(&self) -> usize {
        self.txs.len()
    }

    /// Sessions on each worker.
    pub fn loads(&self) -> Vec<u64> {
        self.loads.iter().map(|l| l.load(Relaxed)).collect()
    }

    /// The worker that hosts `stream`'s publisher.
    pub fn home_of(&self, stream: &str) -> usize {
        home_of(stream, self.workers())
    }

    /// Run `cmd` on worker `w`.
    async fn on(&self, w: usize, cmd: Command) -> Result<Reply, SfuError> {
        let (tx, rx) = oneshot::channel();
        self.txs.get(w).ok_or_else(stopped)?.send(Cmd { cmd, reply: tx }).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Run `cmd` on every worker (concurrently) and collect the answers in order.
    async fn on_all(&self, cmd: Command) -> Result<Vec<Result<Reply, SfuError>>, SfuError> {
        let mut rxs = Vec::with_capacity(self.txs.len());
        for tx in self.txs.iter() {
            let (otx, orx) = oneshot::channel();
            tx.send(Cmd { cmd: cmd.clone(), reply: otx }).map_err(|_| stopped())?;
            rxs.push(orx);
        }
        let mut out = Vec::with_capacity(rxs.len());
        for rx in rxs {
            out.push(rx.await.map_err(|_| stopped())?);
        }
        Ok(out)
    }

    /// A session command: straight to the worker its id names. When that worker says
    /// "not found" (or the id names none), the others are asked too so the error is
    /// the one the node always gave (the stream may exist on another worker).
    async fn on_session(&self, session: &str, cmd: Command) -> Result<Reply, SfuError> {
        if let Some(w) = session_worker(session, self.workers()) {
            match self.on(w, cmd.clone()).await {
                Err(SfuError::SessionNotFound(_) | SfuError::StreamNotFound(_)) if self.workers() > 1 => {}
                r => return r,
            }
        }
        pick_session_result(self.on_all(cmd).await?)
    }

    /// WHEP placement: the least-loaded worker, told what the home worker knows (any
    /// `upstream` in `cmd` is replaced).
    async fn subscribe_on_best(&self, cmd: Command) -> Result<Reply, SfuError> {
        let Command::Subscribe { stream, offer, owner, relay, .. } = cmd else {
            return Err(SfuError::Internal("not a subscribe command".into()));
        };
        let home = self.home_of(&stream);
        let w = self.least_loaded();
        let pending = self.pending.get(w);
        if let Some(p) = pending {
            p.fetch_add(1, Relaxed);
        }
        let r = async {
            let upstream = if w == home {
                None
            } else {
                Some(self.on(home, Command::UpstreamInfo { stream: stream.clone() }).await?.into_upstream()?)
            };
            self.on(w, Command::Subscribe { stream, offer, owner, relay, upstream }).await
        }
        .await;
        if let Some(p) = pending {
            p.fetch_sub(1, Relaxed);
        }
        r
    }

    fn least_loaded(&self) -> usize {
        (0..self.workers())
            .min_by_key(|w| {
                let l = self.loads.get(*w).map(|l| l.load(Relaxed)).unwrap_or(0);
                let p = self.pending.get(*w).map(|p| p.load(Relaxed)).unwrap_or(0);
                (l + p, *w)
            })
            .unwrap_or(0)
    }

    /// Route one command to where it belongs (see the module docs) and answer.
    pub async fn send(&self, cmd: Command) -> Result<Reply, SfuError> {
        if let Some(session) = cmd.session() {
            let session = session.to_string();
            return self.on_session(&session, cmd).await;
        }
        match cmd {
            Command::Publish { ref stream, .. }
            | Command::UpstreamInfo { ref stream }
            | Command::RelayOffer { ref stream, .. } => {
                let home = self.home_of(stream);
                self.on(home, cmd).await
            }
            Command::Subscribe { .. } => self.subscribe_on_best(cmd).await,
            Command::CreateStream { ref stream } => {
                let filter = vec![stream.clone()];
                for r in self.on_all(Command::Streams { filter }).await? {
                    if !r?.into_streams()?.is_empty() {
                        return Err(SfuError::StreamExists(stream.clone()));
                    }
                }
                let home = self.home_of(stream);
                self.on(home, cmd).await
            }
            Command::DeleteStream { .. } => pick_session_result(self.on_all(cmd).await?),
            Command::Streams { .. } => {
                let mut parts = Vec::with_capacity(self.workers());
                for r in self.on_all(cmd).await? {
                    parts.push(r?.into_streams()?);
                }
                Ok(Reply::Streams(merge_streams(parts)))
            }
            // Session commands were routed above.
            _ => Err(SfuError::Internal(format!("no route for the {} command", cmd.name()))),
        }
    }

    /// WHIP: the publisher goes to the stream's home worker.
    pub async fn publish(&self, stream: String, offer: String, owner: Option<u64>) -> Result<SessionAnswer, SfuError> {
        self.send(Command::Publish { stream, offer, owner }).await?.into_session()
    }

    /// WHEP: the subscriber (a player, or with `relay` the recorder or a cascade pull)
    /// goes to the least-loaded worker.
    pub async fn subscribe(
        &self,
        stream: String,
        offer: String,
        owner: Option<u64>,
        relay: bool,
    ) -> Result<SessionAnswer, SfuError> {
        self.send(Command::Subscribe { stream, offer, owner, relay, upstream: None }).await?.into_session()
    }

    /// PATCH a session (trickle or ICE restart).
    pub async fn patch(
        &self,
        stream: String,
        session: String,
        frag: SdpFrag,
        if_match: Option<String>,
        owner: Option<u64>,
    ) -> Result<PatchOutcome, SfuError> {
        self.send(Command::Patch { stream, session, frag, if_match, owner }).await?.into_patched()
    }

    /// DELETE a session.
    pub async fn delete_session(&self, stream: String, session: String, owner: Option<u64>) -> Result<(), SfuError> {
        self.send(Command::DeleteSession { stream, session, owner }).await?.into_done()
    }

    /// A subscriber's view of the publisher's simulcast layers.
    pub async fn layers(
        &self,
        stream: String,
        session: String,
        owner: Option<u64>,
    ) -> Result<Vec<LayerView>, SfuError> {
        self.send(Command::Layers { stream, session, owner }).await?.into_layers()
    }

    /// Force a layer (`Some(rid)`) or return to automatic choice (`None`).
    pub async fn select_layer(
        &self,
        stream: String,
        session: String,
        rid: Option<String>,
        owner: Option<u64>,
    ) -> Result<(), SfuError> {
        self.send(Command::SelectLayer { stream, session, rid, owner }).await?.into_done()
    }

    /// Stop video to one subscriber.
    pub async fn disable_video(&self, stream: String, session: String, owner: Option<u64>) -> Result<(), SfuError> {
        self.send(Command::DisableVideo { stream, session, owner }).await?.into_done()
    }

    /// Mute or unmute one kind for one subscriber.
    pub async fn set_enabled(
        &self,
        stream: String,
        session: String,
        kind: str0m::media::MediaKind,
        enabled: bool,
        owner: Option<u64>,
    ) -> Result<(), SfuError> {
        self.send(Command::SetEnabled { stream, session, kind, enabled, owner }).await?.into_done()
    }

    /// Test hook: cap a subscriber's bandwidth estimate.
    pub async fn set_bwe_cap(&self, stream: String, session: String, bps: Option<u64>) -> Result<(), SfuError> {
        self.send(Command::BweCap { stream, session, bps }).await?.into_done()
    }

    /// Cascade step 1 (on the stream's home worker): `(session id, offer)`.
    pub async fn relay_offer(
        &self,
        stream: String,
        kind: RelayKind,
        url: String,
        token: Option<String>,
    ) -> Result<(String, String), SfuError> {
        self.send(Command::RelayOffer { stream, kind, url, token }).await?.into_relay_offer()
    }

    /// Cascade step 2: apply the remote answer.
    pub async fn relay_answer(&self, session: String, answer: String, session_url: String) -> Result<(), SfuError> {
        self.send(Command::RelayAnswer { session, answer, session_url }).await?.into_done()
    }

    /// Drop a relay whose HTTP exchange failed.
    pub async fn relay_abort(&self, session: String) -> Result<(), SfuError> {
        self.send(Command::RelayAbort { session }).await?.into_done()
    }

    /// Every stream (optionally only those in `filter`), merged over workers.
    pub async fn streams_view(&self, filter: Vec<String>) -> Result<Vec<Stream>, SfuError> {
        self.send(Command::Streams { filter }).await?.into_streams()
    }

    /// One stream, merged over workers.
    pub async fn stream_view(&self, id: String) -> Result<Option<Stream>, SfuError> {
        Ok(self.streams_view(vec![id]).await?.into_iter().next())
    }

    /// `POST /api/streams/{id}` (on the stream's home worker).
    pub async fn create_stream(&self, id: String) -> Result<(), SfuError> {
        self.send(Command::CreateStream { stream: id }).await?.into_done()
    }

    /// `DELETE /api/streams/{id}`: on every worker that has it.
    pub async fn delete_stream(&self, id: String) -> Result<(), SfuError> {
        self.send(Command::DeleteStream { stream: id }).await?.into_done()
    }
}
