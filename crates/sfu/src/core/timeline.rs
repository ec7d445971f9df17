//! Continuous RTP time for subscribers across publisher changes: when a new publisher
//! starts, its timestamps are shifted so the subscriber's clock keeps running.

/// One track's output timeline, in the codec's clock units (u64, extended).
#[derive(Debug, Default, Clone, Copy)]
pub struct Timeline {
    generation: u64,
    offset: u64,
    last_out: Option<u64>,
    started: bool,
}

impl Timeline {
    /// Map an input timestamp from publisher `generation` to the output timeline.
    /// `step` is the gap inserted at a publisher switch (about one frame).
    pub fn map(&mut self, generation: u64, input: u64, step: u64) -> u64 {
        if !self.started || generation != self.generation {
            self.offset = match self.last_out {
                Some(last) => last.wrapping_add(step).wrapping_sub(input),
                None => 0,
            };
            self.generation = generation;
            self.started = true;
        }
        let out = input.wrapping_add(self.offset);
        self.last_out = Some(match self.last_out {
            Some(l) if (out.wrapping_sub(l) as i64) < 0 => l,
            _ => out,
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Timeline;

    #[test]
    fn first_publisher_is_untouched() {
        let mut t = Timeline::default();
        assert_eq!(t.map(1, 1000, 3000), 1000);
        assert_eq!(t.map(1, 4000, 3000), 4000);
    }

    #[test]
    fn republish_continues_after_last_output() {
        let mut t = Timeline::default();
        t.map(1, 1000, 3000);
        t.map(1, 90_000, 3000);
        // New publisher starts at an unrelated random timestamp.
        let out = t.map(2, 5_000_000, 3000);
        assert_eq!(out, 93_000);
        assert_eq!(t.map(2, 5_003_000, 3000), 96_000);
    }
}
