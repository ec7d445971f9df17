//! The current group of pictures of a video track: every frame since the last
//! keyframe, shared by `Arc`, so a joining subscriber decodes at once.

use std::sync::Arc;

use str0m::media::MediaData;

/// Upper bounds so a publisher that never sends keyframes cannot grow memory.
const MAX_FRAMES: usize = 600;
const MAX_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
pub struct GopCache {
    frames: Vec<Arc<MediaData>>,
    bytes: usize,
    /// False until the first keyframe, and after overflow until the next one.
    valid: bool,
}

impl GopCache {
    pub fn push(&mut self, frame: &Arc<MediaData>) {
        if frame.is_keyframe() {
            self.frames.clear();
            self.bytes = 0;
            self.valid = true;
        }
        if !self.valid {
            return;
        }
        if self.frames.len() >= MAX_FRAMES || self.bytes + frame.data.len() > MAX_BYTES {
            self.clear();
            return;
        }
        self.bytes += frame.data.len();
        self.frames.push(Arc::clone(frame));
    }

    pub fn clear(&mut self) {
        self.frames.clear();
        self.bytes = 0;
        self.valid = false;
    }

    /// Frames from the last keyframe on, oldest first; empty if none is cached.
    pub fn frames(&self) -> &[Arc<MediaData>] {
        if self.valid { &self.frames } else { &[] }
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}
