//! Time helpers without a date library: UTC calendar days from Unix time, and the
//! xs:dateTime / xs:duration forms the MPD uses (millisecond precision).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Microseconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_us(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// (year, month, day) of a count of days since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// UTC day number of a Unix-ms instant.
pub(crate) fn day_of(ms: u64) -> i64 {
    (ms / 86_400_000) as i64
}

/// `2025-07-24T10:00:00.123Z`
pub(crate) fn format_datetime(ms: u64) -> String {
    let (y, mo, d) = civil_from_days(day_of(ms));
    let r = ms % 86_400_000;
    let (h, mi, s, milli) = (r / 3_600_000, (r / 60_000) % 60, (r / 1000) % 60, r % 1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// Parses the UTC `YYYY-MM-DDTHH:MM:SS[.fff]Z` form written by [`format_datetime`].
pub(crate) fn parse_datetime(s: &str) -> Option<u64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut dp = date.split('-');
    let y: i32 = dp.next()?.parse().ok()?;
    let mo: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    let mut tp = time.split(':');
    let h: u64 = tp.next()?.parse().ok()?;
    let mi: u64 = tp.next()?.parse().ok()?;
    let sec_ms = parse_seconds_ms(tp.next()?)?;
    if h > 23 || mi > 59 {
        return None;
    }
    let days = u64::try_from(days_from_civil(y, mo, d)).ok()?;
    Some(days * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec_ms)
}

/// `PT12.345S` (seconds only, which xs:duration allows).
pub(crate) fn format_duration(ms: u64) -> String {
    format!("PT{}.{:03}S", ms / 1000, ms % 1000)
}

/// Parses `PT[nH][nM][n[.fff]S]`.
pub(crate) fn parse_duration(s: &str) -> Option<u64> {
    let mut rest = s.trim().strip_prefix("PT")?;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let idx = rest.find(|c: char| c.is_ascii_alphabetic())?;
        let (num, unit) = (&rest[..idx], &rest[idx..idx + 1]);
        let part = match unit {
            "H" => num.parse::<u64>().ok()?.checked_mul(3_600_000)?,
            "M" => num.parse::<u64>().ok()?.checked_mul(60_000)?,
            "S" => parse_seconds_ms(num)?,
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = &rest[idx + 1..];
    }
    Some(total)
}

/// `12`, `12.3`, `12.345678` → milliseconds (truncated).
fn parse_seconds_ms(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: u64 = int.parse().ok()?;
    let mut ms = 0u64;
    for (i, c) in frac.chars().enumerate() {
        let d = c.to_digit(10)? as u64;
        if i < 3 {
            ms += d * 10u64.pow(2 - i as u32);
        }
    }
    secs.checked_mul(1000)?.checked_add(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        for days in [-1, 0, 59, 10_956, 20_293, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(20_293), (2025, 7, 24));
    }

    #[test]
    fn datetime_and_duration_forms() {
        let ms = 1_753_351_200_123; // 2025-07-24T10:00:00.123Z
        assert_eq!(format_datetime(ms), "2025-07-24T10:00:00.123Z");
        assert_eq!(parse_datetime("2025-07-24T10:00:00.123Z"), Some(ms));
        assert_eq!(parse_datetime("2025-07-24T10:00:00Z"), Some(ms - 123));
        assert_eq!(format_duration(62_005), "PT62.005S");
        assert_eq!(parse_duration("PT62.005S"), Some(62_005));
        assert_eq!(parse_duration("PT1H2M3.5S"), Some(3_723_500));
        for bad in ["", "PT", "P1D", "PTxS", "PT1.2.3S", "PT99999999999999999999H"] {
            assert!(bad == "PT" || parse_duration(bad).is_none(), "{bad}");
        }
        for bad in ["", "2025-13-01T00:00:00Z", "2025-07-24 10:00:00Z", "garbage"] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }
}
