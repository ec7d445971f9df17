//! Back-off for `POST /api/login`: failed logins are counted per client address and per
//! username; past a few free failures each further one blocks that key for a doubling
//! delay (capped), answered `429 Too Many Requests` with `Retry-After`. Memory is
//! bounded: each table holds at most `max_tracked` keys (usernames only as a keyed
//! 64-bit hash), entries are forgotten `forget_after` their last failure, and a full
//! table drops expired entries, then its stalest one. Pure: the caller passes `now`.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits (the defaults are documented in docs/auth.md, "Threat model").
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Failures from one address before it is blocked.
    pub ip_free_failures: u32,
    /// Failures for one username (from any address) before it is blocked.
    pub user_free_failures: u32,
    /// First block; each further failure doubles it.
    pub base_delay: Duration,
    /// Longest block.
    pub max_delay: Duration,
    /// A key with no failure for this long is forgotten.
    pub forget_after: Duration,
    /// Keys per table (addresses, usernames).
    pub max_tracked: usize,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            ip_free_failures: 5,
            user_free_failures: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            forget_after: Duration::from_secs(15 * 60),
            max_tracked: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

struct Table<K> {
    map: HashMap<K, Entry>,
    free: u32,
}

impl<K: Hash + Eq + Copy> Table<K> {
    fn new(free: u32) -> Self {
        Table { map: HashMap::new(), free }
    }

    fn blocked(&self, k: &K, now: Instant) -> Option<Duration> {
        let until = self.map.get(k)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    fn fail(&mut self, k: K, now: Instant, p: &LoginPolicy) {
        if !self.map.contains_key(&k) && self.map.len() >= p.max_tracked {
            self.map.retain(|_, e| now.saturating_duration_since(e.last_failure) < p.forget_after);
            if self.map.len() >= p.max_tracked
                && let Some(stalest) = self.map.iter().min_by_key(|(_, e)| e.last_failure).map(|(k, _)| *k)
            {
                self.map.remove(&stalest);
            }
        }
        let e = self.map.entry(k).or_insert(Entry { failures: 0, last_failure: now, blocked_until: None });
        if now.saturating_duration_since(e.last_failure) >= p.forget_after {
            *e = Entry { failures: 0, last_failure: now, blocked_until: None };
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        if e.failures >= self.free {
            let doublings = (e.failures - self.free).min(20);
            let delay = p.base_delay.saturating_mul(1 << doublings).min(p.max_delay);
            e.blocked_until = Some(now + delay);
        }
    }

    fn clear(&mut self, k: &K) {
        self.map.remove(k);
    }
}

/// Counts failed logins; see the module docs.
pub struct LoginLimiter {
    policy: LoginPolicy,
    ips: Table<IpAddr>,
    users: Table<u64>,
}

impl LoginLimiter {
    pub fn new(policy: LoginPolicy) -> Self {
        LoginLimiter { ips: Table::new(policy.ip_free_failures), users: Table::new(policy.user_free_failures), policy }
    }

    /// `Err(retry_after)` while the address or the username is blocked.
    pub fn check(&self, ip: IpAddr, user: u64, now: Instant) -> Result<(), Duration> {
        match (self.ips.blocked(&ip, now), self.users.blocked(&user, now)) {
            (None, None) => Ok(()),
            (a, b) => Err(a.unwrap_or_default().max(b.unwrap_or_default())),
        }
    }

    /// A wrong password (or unknown username) from `ip` for `user`.
    pub fn failure(&mut self, ip: IpAddr, user: u64, now: Instant) {
        self.ips.fail(ip, now, &self.policy);
        self.users.fail(user, now, &self.policy);
    }

    /// A successful login clears both keys.
    pub fn success(&mut self, ip: IpAddr, user: u64) {
        self.ips.clear(&ip);
        self.users.clear(&user);
    }

    /// Keys tracked (addresses, usernames).
    pub fn tracked(&self) -> (usize, usize) {
        (self.ips.map.len(), self.users.map.len())
    }
}

/// Whole seconds for `Retry-After`, rounded up, at least 1.
pub fn retry_after_secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    fn policy() -> LoginPolicy {
        LoginPolicy { max_tracked: 4, ..LoginPolicy::default() }
    }

    #[test]
    fn an_address_is_blocked_after_its_free_failures_with_doubling_delays() {
        let t0 = Instant::now();
        let mut l = LoginLimiter::new(policy());
        for i in 0..4 {
            l.failure(ip(1), i, t0);
            assert_eq!(l.check(ip(1), 99, t0), Ok(()), "failure {i} is free");
        }
        l.failure(ip(1), 4, t0);
        assert_eq!(l.check(ip(1), 99, t0), Err(Duration::from_secs(1)));
        // Another address is not affected; the blocked one is free again after the delay.
        assert_eq!(l.check(ip(2), 99, t0), Ok(()));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(l.check(ip(1), 99, t1), Ok(()));
        l.failure(ip(1), 5, t1);
        assert_eq!(l.check(ip(1), 99, t1), Err(Duration::from_secs(2)));
        let mut t = t1;
        for _ in 0..20 {
            t += Duration::from_secs(400);
            l.failure(ip(1), 6, t);
        }
        assert_eq!(l.check(ip(1), 99, t), Err(Duration::from_secs(300)), "capped");
    }

    #[test]
    fn a_username_is_blocked_from_every_address() {
        let t0 = Instant::now();
        let mut l = LoginLimiter::new(LoginPolicy { max_tracked: 100, ..policy() });
        for i in 0..10 {
            l.failure(ip(i), 7, t0);
        }
        assert_eq!(l.check(ip(50), 7, t0), Err(Duration::from_secs(1)));
        assert_eq!(l.check(ip(50), 8, t0), Ok(()));
        l.success(ip(50), 7);
        assert_eq!(l.check(ip(50), 7, t0), Ok(()));
    }

    #[test]
    fn entries_are_forgotten_and_tables_stay_bounded() {
        let t0 = Instant::now();
        let mut l = LoginLimiter::new(policy());
        for _ in 0..5 {
            l.failure(ip(1), 1, t0);
        }
        assert!(l.check(ip(1), 1, t0).is_err());
        // After `forget_after` the count starts again from zero.
        let later = t0 + Duration::from_secs(15 * 60);
        l.failure(ip(1), 1, later);
        assert_eq!(l.check(ip(1), 1, later), Ok(()));
        for n in 0..=255u8 {
            l.failure(ip(n), u64::from(n), later + Duration::from_millis(u64::from(n)));
            let (a, b) = l.tracked();
            assert!(a <= 4 && b <= 4, "{a} {b}");
        }
        // The newest keys are kept, the stalest dropped.
        l.failure(ip(255), 255, later + Duration::from_secs(1));
        assert!(l.ips.map.contains_key(&ip(255)) && !l.ips.map.contains_key(&ip(1)));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(300)), 300);
    }
}
