//! Simulcast layer choice for one subscriber: a pure function of the publisher's
//! measured layer bitrates, the subscriber's bandwidth estimate and its current layer,
//! with hysteresis so a subscriber does not flap between layers.

use std::time::{Duration, Instant};

use str0m::media::Rid;

/// Switch down when the estimate falls below the current layer's rate times this.
pub const DOWN_FACTOR: f64 = 1.0;
/// Switch up only when the estimate exceeds the next layer's rate times this...
pub const UP_FACTOR: f64 = 1.25;
/// ...for at least this long.
pub const UP_HOLD: Duration = Duration::from_millis(1500);

/// One simulcast layer as seen from the publisher.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub rid: Rid,
    /// Measured bit/s (0 while unknown or paused).
    pub bitrate: u64,
}

/// A subscriber's selection state.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Layer forced through the layer API; `None` = automatic.
    pub manual: Option<Rid>,
    /// Layer currently forwarded.
    pub current: Option<Rid>,
    /// Layer we want (switch happens at its next keyframe).
    pub target: Option<Rid>,
    /// Since when the estimate has allowed a higher layer.
    up_since: Option<Instant>,
}

impl Selector {
    /// Recompute the target. `layers` may be in any order; `estimate` is the
    /// subscriber's available bit/s (None = unknown: take the best layer).
    pub fn update(&mut self, layers: &[Layer], estimate: Option<u64>, now: Instant) -> Option<Rid> {
        let mut sorted: Vec<&Layer> = layers.iter().filter(|l| l.bitrate > 0).collect();
        if sorted.is_empty() {
            sorted = layers.iter().collect();
        }
        sorted.sort_by_key(|l| l.bitrate);
        if let Some(m) = &self.manual
            && layers.iter().any(|l| &l.rid == m)
        {
            self.target = Some(*m);
            self.up_since = None;
            return self.target;
        }
        let Some(best) = sorted.last() else {
            self.target = None;
            return None;
        };
        let Some(est) = estimate else {
            self.target = Some(best.rid);
            return self.target;
        };
        let est = est as f64;
        // The highest layer that fits the estimate (the lowest if none does).
        let fits =
            sorted.iter().rev().find(|l| (l.bitrate as f64) * DOWN_FACTOR <= est).or(sorted.first()).map(|l| l.rid);
        let cur_idx = self.current.as_ref().and_then(|c| sorted.iter().position(|l| &l.rid == c));
        let fit_idx = fits.as_ref().and_then(|f| sorted.iter().position(|l| &l.rid == f));
        match (cur_idx, fit_idx) {
            (Some(c), Some(f)) if f > c => {
                // Going up: the highest layer that fits with headroom, held for UP_HOLD.
                let up = sorted[c + 1..].iter().rev().find(|l| (l.bitrate as f64) * UP_FACTOR <= est).map(|l| l.rid);
                match up {
                    Some(up) => {
                        let since = *self.up_since.get_or_insert(now);
                        if now.saturating_duration_since(since) >= UP_HOLD {
                            self.target = Some(up);
                            self.up_since = None;
                        } else {
                            self.target = self.current;
                        }
                    }
                    None => {
                        self.up_since = None;
                        self.target = self.current;
                    }
                }
            }
            _ => {
                // Going down (immediately) or staying, or nothing forwarded yet.
                self.up_since = None;
                self.target = fits;
            }
        }
        self.target
    }

    /// Whether a frame of layer `rid` should be forwarded; switches at keyframes.
    pub fn accept(&mut self, rid: Rid, keyframe: bool) -> bool {
        if self.target == Some(rid) && self.current != Some(rid) && keyframe {
            self.current = Some(rid);
        }
        self.current == Some(rid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Rid {
        Rid::from(s)
    }

    fn layers() -> Vec<Layer> {
        vec![
            Layer { rid: r("f"), bitrate: 2_000_000 },
            Layer { rid: r("q"), bitrate: 150_000 },
            Layer { rid: r("h"), bitrate: 600_000 },
        ]
    }

    #[test]
    fn unknown_estimate_takes_best() {
        let mut s = Selector::default();
        assert_eq!(s.update(&layers(), None, Instant::now()), Some(r("f")));
    }

    #[test]
    fn estimate_picks_highest_fitting_layer_and_lowest_as_floor() {
        let t = Instant::now();
        let mut s = Selector::default();
        assert_eq!(s.update(&layers(), Some(700_000), t), Some(r("h")));
        let mut s = Selector::default();
        assert_eq!(s.update(&layers(), Some(10_000), t), Some(r("q")));
    }

    #[test]
    fn switch_happens_only_at_keyframe_of_target() {
        let t = Instant::now();
        let mut s = Selector::default();
        s.update(&layers(), Some(700_000), t);
        assert!(!s.accept(r("h"), false), "no delta frame before a keyframe");
        assert!(!s.accept(r("f"), true), "not the target layer");
        assert!(s.accept(r("h"), true));
        assert!(s.accept(r("h"), false));
        assert!(!s.accept(r("q"), true));
    }

    #[test]
    fn down_is_immediate_up_needs_headroom_and_hold() {
        let t = Instant::now();
        let mut s = Selector::default();
        s.update(&layers(), Some(3_000_000), t);
        assert!(s.accept(r("f"), true));
        // Cap drops: immediately target the lower layer, still forwarding f until h's keyframe.
        assert_eq!(s.update(&layers(), Some(500_000), t), Some(r("q")));
        assert!(s.accept(r("f"), false));
        assert!(s.accept(r("q"), true));
        // Estimate recovers to just above h: no headroom, stay on q.
        assert_eq!(s.update(&layers(), Some(650_000), t), Some(r("q")));
        // Enough headroom for h, but must hold.
        assert_eq!(s.update(&layers(), Some(800_000), t), Some(r("q")));
        assert_eq!(s.update(&layers(), Some(800_000), t + Duration::from_millis(500)), Some(r("q")));
        assert_eq!(s.update(&layers(), Some(800_000), t + UP_HOLD), Some(r("h")));
        assert!(s.accept(r("h"), true));
        // With plenty of room, straight to the best layer that fits (after the hold).
        let t2 = t + Duration::from_secs(10);
        s.accept(r("q"), true);
        s.target = Some(r("q"));
        s.current = Some(r("q"));
        assert_eq!(s.update(&layers(), Some(5_000_000), t2), Some(r("q")));
        assert_eq!(s.update(&layers(), Some(5_000_000), t2 + UP_HOLD), Some(r("f")));
    }

    #[test]
    fn a_dip_resets_the_hold() {
        let t = Instant::now();
        let mut s = Selector::default();
        s.update(&layers(), Some(200_000), t);
        s.accept(r("q"), true);
        s.update(&layers(), Some(800_000), t);
        s.update(&layers(), Some(300_000), t + Duration::from_millis(1000));
        assert_eq!(s.update(&layers(), Some(800_000), t + Duration::from_millis(2000)), Some(r("q")));
    }

    #[test]
    fn manual_overrides_estimate() {
        let t = Instant::now();
        let mut s = Selector { manual: Some(r("q")), ..Default::default() };
        assert_eq!(s.update(&layers(), Some(9_000_000), t), Some(r("q")));
        s.manual = Some(r("nope"));
        assert_eq!(s.update(&layers(), None, t), Some(r("f")), "unknown manual rid is ignored");
    }
}
