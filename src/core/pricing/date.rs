//! Calendar dates as `YYYY-MM-DD` strings, without a date-time dependency.
//!
//! The core never reads the clock: callers pass `today` in (the CLI computes it from the system
//! clock with [`date_from_unix_days`]).
//!
//! Wart: the one exception to passing it in is [`set_today`], which the command line calls once
//! per process so that every data file's `as_of` is checked against it where it is parsed (with
//! the file and line); library users that never set it get no future-date check.

/// A valid `YYYY-MM-DD` date as (year, month, day), or `None`.
pub fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y as i64, m) {
        return None;
    }
    Some((y as i64, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `YYYY-MM-DD` date `days` days after 1970-01-01.
pub fn date_from_unix_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whole days from `from` to `to` (negative when `to` is earlier); `None` if either is invalid.
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    let (y1, m1, d1) = parse_date(from)?;
    let (y2, m2, d2) = parse_date(to)?;
    Some(days_from_civil(y2, m2, d2) - days_from_civil(y1, m1, d1))
}

static TODAY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Set today's date (`YYYY-MM-DD`) for the future-date check of data files; the first call wins.
pub fn set_today(today: &str) {
    if parse_date(today).is_some() {
        let _ = TODAY.set(today.to_string());
    }
}

/// Why `as_of` cannot be a date a price or datasheet was recorded on: more than a day after today
/// (a day of slack for time zones). `None` when it is fine or no today was set.
pub fn future_date(as_of: &str) -> Option<String> {
    let today = TODAY.get()?;
    days_between(today, as_of).filter(|d| *d > 1).map(|d| {
        format!("is {d} days in the future (today is {today}): write the date it was recorded")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(parse_date("2026-02-28"), Some((2026, 2, 28)));
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026/01/01",
            "2026-01-32",
            "+026-01-01",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_through_unix_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(date_from_unix_days(0), "1970-01-01");
        // 2000-03-01 is day 11017 (30 years of 365 days + 7 leap days + 59 days of 2000).
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in [-1000, 0, 11_016, 11_017, 20_000, 20_786, 30_000] {
            let s = date_from_unix_days(d);
            let (y, m, dd) = parse_date(&s).unwrap();
            assert_eq!(days_from_civil(y, m, dd), d, "{s}");
        }
        assert_eq!(days_between("2026-08-31", "2026-11-29"), Some(90));
        assert_eq!(days_between("2026-11-29", "2026-08-31"), Some(-90));
    }
}
