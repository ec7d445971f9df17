//! [`MediaHandle`]: how the control plane reaches the media workers.
//!
//! Each worker owns a share of the sessions. Publishers (and cascade relays) go to
//! their stream's home worker, subscribers to the least-loaded worker; session
//! routes (PATCH, DELETE, layer, mute) are tried on each worker until the owner
//! answers; stream views are merged ([`crate::merge`]). [`MediaHandle::call`] runs a
//! closure on worker 0, which also sees every stream's frames (bridge messages), so
//! code written against the one-worker media plane keeps working there.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, oneshot};
use wishcast_api::Stream;

use crate::core::{RelayClosed, SessionAnswer, Sfu, SfuEvent};
use crate::error::SfuError;
use crate::merge::{merge_streams, pick_session_result};
use crate::metrics::Metrics;
use crate::placement::home_of;
use crate::worker::Cmd;

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

    /// Run `f` on worker 0 and return its result. Worker 0 receives every stream's
    /// frames, but holds only its own share of the sessions: use the methods below
    /// for anything session- or stream-wide.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Sfu, Instant) -> R + Send + 'static,
    ) -> Result<R, SfuError> {
        self.call_on(0, f).await
    }

    /// Run `f` on worker `w`.
    pub async fn call_on<R: Send + 'static>(
        &self,
        w: usize,
        f: impl FnOnce(&mut Sfu, Instant) -> R + Send + 'static,
    ) -> Result<R, SfuError> {
        let (tx, rx) = oneshot::channel();
        let cmd: Cmd = Box::new(move |sfu, now| {
            let _ = tx.send(f(sfu, now));
        });
        self.txs.get(w).ok_or_else(stopped)?.send(cmd).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())
    }

    /// Run `f` on every worker (in order) and collect the results.
    pub async fn call_all<R: Send + 'static>(
        &self,
        f: impl Fn(&mut Sfu, Instant) -> R + Clone + Send + 'static,
    ) -> Result<Vec<R>, SfuError> {
        let mut rxs = Vec::with_capacity(self.txs.len());
        for tx in self.txs.iter() {
            let (otx, orx) = oneshot::channel();
            let f = f.clone();
            let cmd: Cmd = Box::new(move |sfu, now| {
                let _ = otx.send(f(sfu, now));
            });
            tx.send(cmd).map_err(|_| stopped())?;
            rxs.push(orx);
        }
        let mut out = Vec::with_capacity(rxs.len());
        for rx in rxs {
            out.push(rx.await.map_err(|_| stopped())?);
        }
        Ok(out)
    }

    /// A call on one session: runs on each worker until one owns it; answers the
    /// owner's result (or "not found" when nobody does).
    pub async fn call_session<R: Send + 'static>(
        &self,
        f: impl Fn(&mut Sfu, Instant) -> Result<R, SfuError> + Clone + Send + 'static,
    ) -> Result<R, SfuError> {
        let mut results = Vec::new();
        for w in 0..self.workers() {
            match self.call_on(w, f.clone()).await? {
                Ok(v) => return Ok(v),
                Err(e) => results.push(Err(e)),
            }
        }
        pick_session_result(results)
    }

    /// The worker that hosts `stream`'s publisher.
    pub fn home_of(&self, stream: &str) -> usize {
        home_of(stream, self.workers())
    }

    /// Run `f` on `stream`'s home worker (publisher, relays, pinned stream).
    pub async fn call_home<R: Send + 'static>(
        &self,
        stream: &str,
        f: impl FnOnce(&mut Sfu, Instant) -> R + Send + 'static,
    ) -> Result<R, SfuError> {
        self.call_on(self.home_of(stream), f).await
    }

    /// WHIP: the publisher goes to the stream's home worker.
    pub async fn publish(&self, stream: String, offer: String, owner: Option<u64>) -> Result<SessionAnswer, SfuError> {
        let s = stream.clone();
        self.call_home(&stream, move |sfu, now| sfu.publish(now, &s, &offer, owner)).await?
    }

    /// WHEP: the subscriber goes to the least-loaded worker.
    pub async fn subscribe(
        &self,
        stream: String,
        offer: String,
        owner: Option<u64>,
        relay: bool,
    ) -> Result<SessionAnswer, SfuError> {
        let home = self.home_of(&stream);
        // Relay subscribers (cascade pulls by other nodes, the node's own recorder) stay on
        // the stream's home worker: they are few, each carries the whole stream, and the
        // recorder's every-codec offer with a simulcast H.264 publisher was seen to fail
        // through a remote worker (its viewer session closed right after connecting).
        let w = if relay { home } else { self.least_loaded() };
        let pending = self.pending.get(w);
        if let Some(p) = pending {
            p.fetch_add(1, Relaxed);
        }
        let r = if w == home {
            let s = stream.clone();
            self.call_on(w, move |sfu, now| sfu.subscribe_with(now, &s, &offer, owner, relay)).await
        } else {
            let s = stream.clone();
            let info = self.call_on(home, move |sfu, _| sfu.upstream_info(&s)).await;
            match info {
                Ok(info) => {
                    self.call_on(w, move |sfu, now| {
                        sfu.subscribe_upstream(now, &stream, &offer, owner, relay, Some(&info))
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        };
        if let Some(p) = pending {
            p.fetch_sub(1, Relaxed);
        }
        r?
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

    /// Every stream (optionally only those in `filter`), merged over workers.
    pub async fn streams_view(&self, filter: Vec<String>) -> Result<Vec<Stream>, SfuError> {
        let parts = self.call_all(move |sfu, _| sfu.streams_view(&filter)).await?;
        Ok(merge_streams(parts))
    }

    /// One stream, merged over workers.
    pub async fn stream_view(&self, id: String) -> Result<Option<Stream>, SfuError> {
        Ok(self.streams_view(vec![id]).await?.into_iter().next())
    }

    /// `POST /api/streams/{id}` (on the stream's home worker).
    pub async fn create_stream(&self, id: String) -> Result<(), SfuError> {
        let exists = self.stream_view(id.clone()).await?.is_some();
        if exists {
            return Err(SfuError::StreamExists(id));
        }
        let s = id.clone();
        self.call_home(&id, move |sfu, now| sfu.create_stream(now, &s)).await?
    }

    /// `DELETE /api/streams/{id}`: on every worker that has it.
    pub async fn delete_stream(&self, id: String) -> Result<(), SfuError> {
        let r = self.call_all(move |sfu, now| sfu.delete_stream(now, &id)).await?;
        pick_session_result(r)
    }
}
