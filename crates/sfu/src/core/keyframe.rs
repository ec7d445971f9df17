//! Keyframe request coalescing: at most one request upstream per track per interval,
//! however many subscribers ask.

use std::time::{Duration, Instant};

pub const MIN_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Debug, Default, Clone, Copy)]
pub struct KeyframeLimiter {
    last: Option<Instant>,
    /// A request arrived while throttled; send it when the interval ends.
    pending: bool,
}

impl KeyframeLimiter {
    /// Returns true when a request should be sent now.
    pub fn request(&mut self, now: Instant) -> bool {
        match self.last {
            Some(t) if now.saturating_duration_since(t) < MIN_INTERVAL => {
                self.pending = true;
                false
            }
            _ => {
                self.last = Some(now);
                self.pending = false;
                true
            }
        }
    }

    /// A deferred request that is now due.
    pub fn due(&mut self, now: Instant) -> bool {
        if self.pending { self.request(now) } else { false }
    }

    /// When the deferred request (if any) may go out.
    #[cfg(test)]
    pub fn deadline(&self) -> Option<Instant> {
        if self.pending { self.last.map(|t| t + MIN_INTERVAL) } else { None }
    }

    /// A keyframe arrived: nothing left to ask for.
    pub fn satisfied(&mut self) {
        self.pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesces_within_interval() {
        let t0 = Instant::now();
        let mut k = KeyframeLimiter::default();
        assert!(k.request(t0));
        assert!(!k.request(t0 + Duration::from_millis(10)));
        assert!(!k.request(t0 + Duration::from_millis(499)));
        assert_eq!(k.deadline(), Some(t0 + MIN_INTERVAL));
        assert!(!k.due(t0 + Duration::from_millis(400)));
        assert!(k.due(t0 + Duration::from_millis(500)));
        assert!(!k.due(t0 + Duration::from_millis(600)));
        assert!(k.request(t0 + Duration::from_millis(1001)));
    }

    #[test]
    fn keyframe_cancels_pending() {
        let t0 = Instant::now();
        let mut k = KeyframeLimiter::default();
        assert!(k.request(t0));
        assert!(!k.request(t0 + Duration::from_millis(1)));
        k.satisfied();
        assert!(!k.due(t0 + Duration::from_secs(1)));
    }
}
