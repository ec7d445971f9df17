//! Retention (`[recorder] retention_days` on the manager, 0 = keep forever): once an
//! hour, every indexed day older than the limit has its objects removed from storage
//! (the day folder of its manifest path, `{stream}/{YYYY}/{MM}/{DD}/...` with the stream
//! encoded) and then its index rows; a day that fails is logged and skipped. Storage first: a crash in
//! between leaves a row whose objects are gone (retried next hour), never orphaned
//! objects without a row.

use std::time::{Duration, SystemTime};

use wishcast_storage::ObjectPath;

use crate::state::AppState;

/// UTC calendar date `days` before `now`.
pub fn date_before(now: SystemTime, days: u64) -> (i32, u32, u32) {
    let t = now.checked_sub(Duration::from_secs(days * 86_400)).unwrap_or(SystemTime::UNIX_EPOCH);
    wishcast_api::record::utc_day(t)
}

/// The day folder a row's manifest path names (`{folder}/{YYYY}/{MM}/{DD}`), checked to
/// be a valid storage path of exactly that shape. Rows carry the folder they were
/// written to (old rows the old layout's), so retention removes what is really there.
fn day_prefix(mpd_path: &str) -> Result<ObjectPath, String> {
    let dir = mpd_path.strip_suffix("/manifest.mpd").filter(|d| d.split('/').count() == 4).ok_or_else(|| {
        format!("manifest path `{}` is not `{{stream}}/YYYY/MM/DD/manifest.mpd`", mpd_path.escape_debug())
    })?;
    ObjectPath::parse(dir).map_err(|e| format!("`{}`: {e}", dir.escape_debug()))
}

/// One retention pass; returns how many days were removed. A row that cannot be
/// removed (a path storage refuses, a storage or index error on that day) is logged
/// and skipped, so one bad row never stops the others; it is tried again next pass.
pub async fn sweep(state: &AppState, days: u64, now: SystemTime) -> Result<usize, String> {
    let Some(store) = state.store.as_ref() else { return Ok(0) };
    let (y, m, d) = date_before(now, days);
    // Days strictly before the cut-off date.
    let old = state.index.days_before(y, m, d).await.map_err(|e| e.to_string())?;
    let mut removed = 0;
    for (stream, day) in old {
        let date = format!("{:04}-{:02}-{:02}", day.year, day.month, day.day);
        let result = async {
            let path = day_prefix(&day.mpd_path)?;
            store.delete_prefix(&path).await.map_err(|e| format!("deleting {path}: {e}"))?;
            // A day recorded across the upgrade to encoded names has sessions in both
            // layouts; the row names one of them.
            let current = wishcast_api::record::day_dir(&stream, day.year, day.month, day.day);
            if current != path.as_str()
                && let Ok(p) = ObjectPath::parse(&current)
            {
                store.delete_prefix(&p).await.map_err(|e| format!("deleting {p}: {e}"))?;
            }
            state.index.delete_day(&stream, day.year, day.month, day.day).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(path)
        }
        .await;
        match result {
            Ok(path) => {
                tracing::info!(%stream, day = %path, "retention: removed recordings older than {days} days");
                removed += 1;
            }
            Err(e) => {
                tracing::warn!(stream = %stream.escape_debug(), %date, "retention: skipping this day: {e}");
            }
        }
    }
    Ok(removed)
}

pub fn spawn(state: AppState, days: u64) -> Option<tokio::task::JoinHandle<()>> {
    if days == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_secs(3600));
        loop {
            iv.tick().await;
            if let Err(e) = sweep(&state, days, SystemTime::now()).await {
                tracing::warn!("retention pass failed (will retry in an hour): {e}");
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_753_315_200); // 2025-07-24
        assert_eq!(date_before(t, 0), (2025, 7, 24));
        assert_eq!(date_before(t, 24), (2025, 6, 30));
        assert_eq!(date_before(t, 365), (2024, 7, 24));
    }

    #[test]
    fn day_prefixes() {
        assert_eq!(day_prefix("cam~201/2025/07/24/manifest.mpd").unwrap().as_str(), "cam~201/2025/07/24");
        assert_eq!(day_prefix("cam_1/2025/07/24/manifest.mpd").unwrap().as_str(), "cam_1/2025/07/24");
        assert!(day_prefix("cam/2025/07/manifest.mpd").is_err());
        assert!(day_prefix("cam/2025/07/24/x.mpd").is_err());
        assert!(day_prefix("../2025/07/24/manifest.mpd").is_err());
        assert!(day_prefix(&format!("{}/2025/07/24/manifest.mpd", "a".repeat(256))).is_err());
    }
}
