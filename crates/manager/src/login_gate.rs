//! What stands in front of argon2 on `POST /api/login`: the client address (the socket
//! peer, or the last `X-Forwarded-For` entry when `[http] trust_forwarded_for` is on),
//! the per-address/per-username back-off of [`crate::login_limit`], and a semaphore
//! that bounds concurrent argon2 verifications (excess requests wait briefly in a
//! bounded queue, then get 503). Its counters ([`LoginMetrics`]) feed `GET /metrics`.

use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::login_limit::{LoginLimiter, LoginPolicy};
use crate::metrics::LoginMetrics;

/// Concurrent argon2 verifications (each takes ~19 MiB and one blocking thread).
pub const MAX_CONCURRENT_VERIFY: usize = 2;
/// Logins that may wait for a verification slot; more get 503 at once.
pub const MAX_WAITING: usize = 16;
/// How long a login waits for a slot before 503.
pub const WAIT: Duration = Duration::from_secs(5);

/// The socket peer of a request, when the server was started with connect info.
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

/// The client address: the peer's, or with `trust_forwarded_for` the last
/// `X-Forwarded-For` entry (the one the trusted proxy appended). Unknown = `0.0.0.0`.
pub fn client_ip(peer: Option<SocketAddr>, headers: &HeaderMap, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for {
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .rfind(|s| !s.trim().is_empty());
        if let Some(ip) = last.and_then(|s| s.trim().parse::<IpAddr>().ok()) {
            return ip;
        }
    }
    peer.map(|p| p.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

pub struct LoginGate {
    slots: std::sync::Arc<Semaphore>,
    waiting: AtomicUsize,
    limiter: Mutex<LoginLimiter>,
    keys: std::hash::RandomState,
    pub counters: std::sync::Arc<LoginMetrics>,
}

/// Why a login was not tried.
pub enum Refused {
    /// Blocked by back-off: retry after this long (429).
    Throttled(Duration),
    /// Every verification slot busy (503).
    Busy,
}

/// A verification slot; counts as in flight until dropped. Move it into the blocking
/// task that runs argon2, so a client that hangs up does not free the slot early.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    counters: std::sync::Arc<LoginMetrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Relaxed);
    }
}

impl Default for LoginGate {
    fn default() -> Self {
        LoginGate::new(LoginPolicy::default())
    }
}

impl LoginGate {
    pub fn new(policy: LoginPolicy) -> Self {
        LoginGate {
            slots: std::sync::Arc::new(Semaphore::new(MAX_CONCURRENT_VERIFY)),
            waiting: AtomicUsize::new(0),
            limiter: Mutex::new(LoginLimiter::new(policy)),
            keys: std::hash::RandomState::new(),
            counters: Default::default(),
        }
    }

    pub fn user_key(&self, username: &str) -> u64 {
        self.keys.hash_one(username)
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, LoginLimiter> {
        self.limiter.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Back-off check, then a verification slot (waiting at most [`WAIT`]).
    pub async fn admit(&self, ip: IpAddr, user: u64) -> Result<Slot, Refused> {
        if let Err(d) = self.limiter().check(ip, user, Instant::now()) {
            self.counters.throttled.fetch_add(1, Relaxed);
            return Err(Refused::Throttled(d));
        }
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Relaxed) >= MAX_WAITING {
                    self.waiting.fetch_sub(1, Relaxed);
                    self.counters.busy.fetch_add(1, Relaxed);
                    return Err(Refused::Busy);
                }
                let got = tokio::time::timeout(WAIT, self.slots.clone().acquire_owned()).await;
                self.waiting.fetch_sub(1, Relaxed);
                match got {
                    Ok(Ok(p)) => p,
                    _ => {
                        self.counters.busy.fetch_add(1, Relaxed);
                        return Err(Refused::Busy);
                    }
                }
            }
        };
        let now = self.counters.in_flight.fetch_add(1, Relaxed) + 1;
        self.counters.max_in_flight.fetch_max(now, Relaxed);
        Ok(Slot { _permit: permit, counters: self.counters.clone() })
    }

    pub fn failure(&self, ip: IpAddr, user: u64) {
        self.counters.failures.fetch_add(1, Relaxed);
        self.limiter().failure(ip, user, Instant::now());
    }

    pub fn success(&self, ip: IpAddr, user: u64) {
        self.limiter().success(ip, user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_addresses() {
        let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        assert_eq!(client_ip(Some(peer), &h, false), IpAddr::from([192, 0, 2, 1]));
        assert_eq!(client_ip(Some(peer), &h, true), IpAddr::from([198, 51, 100, 7]));
        h.append("x-forwarded-for", "2001:db8::1".parse().unwrap());
        assert_eq!(client_ip(Some(peer), &h, true), "2001:db8::1".parse::<IpAddr>().unwrap());
        let mut junk = HeaderMap::new();
        junk.append("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(client_ip(Some(peer), &junk, true), IpAddr::from([192, 0, 2, 1]));
        assert_eq!(client_ip(None, &HeaderMap::new(), false), IpAddr::from([0, 0, 0, 0]));
    }
}
