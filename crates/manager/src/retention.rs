//! Retention (`[recorder] retention_days` on the manager, 0 = keep forever): once an
//! hour, every indexed day older than the limit has its objects removed from storage
//! (`{stream}/{YYYY}/{MM}/{DD}/...`) and then its index rows. Storage first: a crash in
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

/// One retention pass; returns how many days were removed.
pub async fn sweep(state: &AppState, days: u64, now: SystemTime) -> Result<usize, String> {
    let Some(store) = state.store.as_ref() else { return Ok(0) };
    let (y, m, d) = date_before(now, days);
    // Days strictly before the cut-off date.
    let old = state.index.days_before(y, m, d).await.map_err(|e| e.to_string())?;
    let mut removed = 0;
    for (stream, day) in old {
        let prefix = wishcast_api::record::day_dir(&stream, day.year, day.month, day.day);
        let path = ObjectPath::parse(&prefix).map_err(|e| format!("{prefix}: {e}"))?;
        store.delete_prefix(&path).await.map_err(|e| format!("deleting {prefix}: {e}"))?;
        state.index.delete_day(&stream, day.year, day.month, day.day).await.map_err(|e| e.to_string())?;
        tracing::info!(%stream, day = %prefix, "retention: removed recordings older than {days} days");
        removed += 1;
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
}
