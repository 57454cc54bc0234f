//! The calendar under every date and time value: civil dates (proleptic Gregorian, year 0
//! is 1 BC as in PostgreSQL), the two epochs values are counted from, and the clock.
//!
//! Stored values count from PostgreSQL's epoch, 2000-01-01 (days for `date`, microseconds
//! for `timestamp` and `timestamptz`); Arrow and the system clock count from the Unix
//! epoch, 1970-01-01. The constants here are the only conversion between the two.

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days from 1970-01-01 (the Unix epoch) to 2000-01-01 (PostgreSQL's).
pub const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
pub const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS as i64 * MICROS_PER_DAY;

const _: () = assert!(PG_EPOCH_MICROS == 946_684_800 * MICROS_PER_SECOND);

/// A stored timestamp (microseconds from 2000) as Arrow holds it (from 1970). The two
/// infinities are the extreme values on both sides, so they stay infinite and order
/// before and after every finite value.
pub fn unix_micros_of(pg_micros: i64) -> i64 {
    match pg_micros {
        i64::MIN | i64::MAX => pg_micros,
        finite => finite.saturating_add(PG_EPOCH_MICROS),
    }
}

/// The inverse of `unix_micros_of`.
pub fn pg_micros_of(unix_micros: i64) -> i64 {
    match unix_micros {
        i64::MIN | i64::MAX => unix_micros,
        finite => finite.saturating_sub(PG_EPOCH_MICROS),
    }
}

/// A stored date (days from 2000) as Arrow holds it (from 1970), infinities kept.
pub fn unix_days_of(pg_days: i32) -> i32 {
    match pg_days {
        i32::MIN | i32::MAX => pg_days,
        finite => finite.saturating_add(PG_EPOCH_DAYS),
    }
}

/// The inverse of `unix_days_of`.
pub fn pg_days_of(unix_days: i32) -> i32 {
    match unix_days {
        i32::MIN | i32::MAX => unix_days,
        finite => finite.saturating_sub(PG_EPOCH_DAYS),
    }
}

/// The civil date (year, month, day) of a day count from 1970-01-01 — Howard Hinnant's
/// days-to-civil algorithm.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    debug_assert!((1..=12).contains(&m) && (1..=31).contains(&d));
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days from 1970-01-01 of a civil date (the inverse of `civil_from_days`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    debug_assert!((1..=12).contains(&month), "month {month}");
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The system clock: microseconds since 1970-01-01 UTC.
pub fn now_unix_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 1, 1), i64::from(PG_EPOCH_DAYS));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(civil_from_days(-719_163), (0, 12, 31));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
