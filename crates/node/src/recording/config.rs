//! `[recorder]` in node.toml (Live777 keys where the concept is the same).

use serde::{Deserialize, Serialize};
use wishcast_storage::StorageConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RecorderConfig {
    /// Streams recorded automatically as soon as they have a publisher (globs: `*`, `?`).
    pub auto_streams: Vec<String>,
    /// Name stored in the recordings index; default: the cluster alias, else the hostname.
    pub node_alias: Option<String>,
    /// Local journal of recording sessions (JSON lines), resent to the manager until acknowledged.
    pub index_path: String,
    /// Rotate into a new recording session after this many seconds (0 = only at midnight UTC).
    pub max_recording_seconds: u64,
    /// Target media segment duration in seconds (segments are cut at keyframes).
    pub segment_seconds: f64,
    /// Local spool: segments are written here first, then moved to `storage` by the mover.
    pub spool_dir: String,
    /// Where recordings end up (never serialized: it holds secrets).
    #[serde(skip_serializing)]
    pub storage: StorageConfig,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            auto_streams: Vec::new(),
            node_alias: None,
            index_path: "./recordings/index.jsonl".into(),
            max_recording_seconds: 86_400,
            segment_seconds: 2.0,
            spool_dir: "./recordings/spool".into(),
            storage: StorageConfig::default(),
        }
    }
}

impl RecorderConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.5..=30.0).contains(&self.segment_seconds) {
            return Err(format!(
                "config key `recorder.segment_seconds`: {} is outside 0.5-30 seconds",
                self.segment_seconds
            ));
        }
        if self.index_path.trim().is_empty() {
            return Err("config key `recorder.index_path`: must not be empty".into());
        }
        if self.spool_dir.trim().is_empty() {
            return Err("config key `recorder.spool_dir`: must not be empty".into());
        }
        for (i, g) in self.auto_streams.iter().enumerate() {
            if g.is_empty() || g.contains('/') {
                return Err(format!(
                    "config key `recorder.auto_streams[{i}]`: `{g}` must be a non-empty glob without `/`"
                ));
            }
        }
        self.storage.validate("recorder.storage")
    }
}
