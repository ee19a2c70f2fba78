//! The mock's clock. Virtual by default: frozen at a start instant and moved
//! only by `POST /__mock/clock`, so token (60 min) and session (48 h) expiry
//! can be tested without waiting. Each scope has its own clock (`scope.rs`):
//! a case that advances it ages every other session of its scope, and only
//! those; run clock-moving cases in a scope of their own.

use std::time::{SystemTime, UNIX_EPOCH};

/// 2026-01-01T00:00:00Z: the default start of virtual time.
pub const DEFAULT_START: i64 = 1_767_225_600;

/// 9999-12-31T23:59:59Z: the last instant RFC 3339 (four-digit years) and
/// HTTP dates can write. Virtual time never goes beyond it, so every `now`,
/// `expires_at` and `Date` the mock writes stays well-formed.
pub const LATEST: i64 = 253_402_300_799;

/// Advancing would move time beyond [`LATEST`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeyondLatest;

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Frozen at `now` (unix seconds) until advanced.
    Virtual { now: i64 },
    /// The system clock, plus whatever was advanced through the control API.
    System { offset: i64 },
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        match *self {
            Clock::Virtual { now } => now,
            Clock::System { offset } => system_now().saturating_add(offset),
        }
    }

    /// Moves time forward (never backward: expiry is monotone). Refused, and
    /// nothing changes, when "now" would pass [`LATEST`].
    pub fn advance(&mut self, seconds: u64) -> Result<(), BeyondLatest> {
        let s = i64::try_from(seconds).map_err(|_| BeyondLatest)?;
        if self.now().checked_add(s).is_none_or(|t| t > LATEST) {
            return Err(BeyondLatest);
        }
        match self {
            Clock::Virtual { now } => *now += s,
            Clock::System { offset } => *offset += s,
        }
        Ok(())
    }
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// RFC 3339 in UTC with second precision, e.g. `2026-01-01T00:00:00Z`.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A wall-clock instant in RFC 3339 with milliseconds, e.g.
/// `2026-01-01T00:00:00.123Z` (the `ts` of `serve --log` lines).
pub fn rfc3339_millis(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = rfc3339(since.as_secs() as i64);
    format!(
        "{}.{:03}Z",
        seconds.trim_end_matches('Z'),
        since.subsec_millis()
    )
}

/// An HTTP date in IMF-fixdate form (RFC 9110 section 5.6.7), e.g.
/// `Thu, 01 Jan 2026 00:00:00 GMT`, for the `Date` header. Meant for
/// instants from 1970 to [`LATEST`]; others are written all the same.
pub fn http_date(unix: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[(m - 1) as usize];
    format!(
        "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (also with `+00:00`), the form [`rfc3339`] writes.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let rest = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+00:00"))
        .or_else(|| s.strip_suffix('z'))?;
    if rest.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &rest[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return None; // e.g. 2026-02-30
    }
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

// Howard Hinnant's civil-date algorithms (public domain), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(DEFAULT_START), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_825_600), "2000-02-29T12:00:00Z");
        assert_eq!(rfc3339(2_147_483_647), "2038-01-19T03:14:07Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_what_it_formats() {
        for t in [0, DEFAULT_START, 951_825_600, 4_102_444_800, 1_234_567_890] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2026-01-01T00:00:00+00:00"),
            Some(DEFAULT_START)
        );
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-01-01 00:00:00Z",
            "x",
            "2026-01-01T00:00:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn virtual_clock_moves_only_when_advanced() {
        let mut c = Clock::Virtual { now: DEFAULT_START };
        assert_eq!(c.now(), DEFAULT_START);
        c.advance(3600).unwrap();
        assert_eq!(c.now(), DEFAULT_START + 3600);
    }

    #[test]
    fn time_ends_at_the_last_second_of_9999() {
        assert_eq!(rfc3339(LATEST), "9999-12-31T23:59:59Z");
        let mut c = Clock::Virtual { now: DEFAULT_START };
        for too_far in [
            u64::MAX,
            i64::MAX as u64,
            (LATEST - DEFAULT_START + 1) as u64,
        ] {
            assert_eq!(c.advance(too_far), Err(BeyondLatest));
            assert_eq!(c.now(), DEFAULT_START);
        }
        c.advance((LATEST - DEFAULT_START) as u64).unwrap();
        assert_eq!(c.now(), LATEST);
        assert_eq!(c.advance(1), Err(BeyondLatest));
        c.advance(0).unwrap();
        let mut system = Clock::System { offset: 0 };
        assert_eq!(system.advance(u64::MAX), Err(BeyondLatest));
        assert_eq!(system, Clock::System { offset: 0 });
    }

    #[test]
    fn wall_clock_instants_have_milliseconds() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(DEFAULT_START as u64 * 1000 + 7);
        assert_eq!(rfc3339_millis(t), "2026-01-01T00:00:00.007Z");
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(DEFAULT_START), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(http_date(951_825_600), "Tue, 29 Feb 2000 12:00:00 GMT");
        assert_eq!(http_date(LATEST), "Fri, 31 Dec 9999 23:59:59 GMT");
    }
}
