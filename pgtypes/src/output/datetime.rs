//! PostgreSQL's text output of dates, times, timestamps and intervals, in the ISO date
//! style (`2024-03-01 12:00:00.5+00`) and the `postgres` interval style (`1 year 2 mons
//! 3 days 04:05:06`). Dates and timestamps here count from the Unix epoch, as Arrow holds
//! them; BC years print as PostgreSQL prints them (`0001-12-31 BC`).

use std::fmt::Write;

use crate::calendar::{MICROS_PER_DAY, civil_from_days};

/// `YYYY-MM-DD` of a day count from 1970-01-01 (BC years as PostgreSQL prints them).
pub fn format_date(days_since_unix_epoch: i32) -> String {
    if days_since_unix_epoch == i32::MAX {
        return "infinity".into();
    }
    if days_since_unix_epoch == i32::MIN {
        return "-infinity".into();
    }
    let (year, month, day) = civil_from_days(i64::from(days_since_unix_epoch));
    if year <= 0 {
        format!("{:04}-{month:02}-{day:02} BC", 1 - year)
    } else {
        format!("{year:04}-{month:02}-{day:02}")
    }
}

/// `HH:MM:SS[.ffffff]` with trailing zeros of the fraction dropped. A time outside the
/// day (only arithmetic can make one) wraps around it, as PostgreSQL's time arithmetic
/// does; `24:00:00` itself is a valid time and stays.
pub fn format_time_of_day(micros: i64) -> String {
    let within_day = if (0..=MICROS_PER_DAY).contains(&micros) {
        micros
    } else {
        micros.rem_euclid(MICROS_PER_DAY)
    };
    format_hours_unbounded(within_day.unsigned_abs())
}

/// A timestamp from microseconds since 1970-01-01 (local time, no zone).
pub fn format_timestamp(micros: i64) -> String {
    if micros == i64::MAX {
        return "infinity".into();
    }
    if micros == i64::MIN {
        return "-infinity".into();
    }
    let days = micros.div_euclid(MICROS_PER_DAY);
    let within = micros.rem_euclid(MICROS_PER_DAY);
    let date = format_date(days as i32);
    match date.strip_suffix(" BC") {
        Some(date) => format!("{date} {} BC", format_time_of_day(within)),
        None => format!("{date} {}", format_time_of_day(within)),
    }
}

/// A UTC instant shown in the session time zone, with its offset (`+00`, `+05:30`).
pub fn format_timestamptz(micros_utc: i64, offset_seconds: i32) -> String {
    if micros_utc == i64::MAX || micros_utc == i64::MIN {
        return format_timestamp(micros_utc);
    }
    let local = format_timestamp(micros_utc + i64::from(offset_seconds) * 1_000_000);
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let offset = offset_seconds.unsigned_abs();
    let mut zone = format!("{sign}{:02}", offset / 3600);
    if !offset.is_multiple_of(3600) {
        let _ = write!(zone, ":{:02}", (offset / 60) % 60);
    }
    match local.strip_suffix(" BC") {
        Some(local) => format!("{local}{zone} BC"),
        None => format!("{local}{zone}"),
    }
}

/// PostgreSQL's default interval style: `1 year 2 mons 3 days 04:05:06`. A field after a
/// negative one shows its sign even when positive (`-1 days +04:00:00`), so the text
/// reads back as the same interval.
pub fn format_interval(months: i32, days: i32, micros: i64) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let (years, months) = (months / 12, months % 12);
    for (value, unit) in [
        (i64::from(years), "year"),
        (i64::from(months), "mon"),
        (i64::from(days), "day"),
    ] {
        if value == 0 {
            continue;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        let plural = if value == 1 { "" } else { "s" };
        let _ = write!(out, "{value} {unit}{plural}");
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || micros != 0 {
        if !is_zero {
            out.push(' ');
        }
        if micros < 0 {
            out.push('-');
        } else if is_before {
            out.push('+');
        }
        out.push_str(&format_hours_unbounded(micros.unsigned_abs()));
    }
    out
}

/// `HH:MM:SS[.ffffff]` where hours may exceed 24 (for intervals).
fn format_hours_unbounded(micros: u64) -> String {
    let seconds = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_and_intervals() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(10_957), "2000-01-01");
        assert_eq!(format_date(-719_163), "0001-12-31 BC");
        assert_eq!(format_date(-719_162), "0001-01-01");
        assert_eq!(format_timestamp(1_500_000), "1970-01-01 00:00:01.5");
        assert_eq!(
            format_timestamptz(0, 3600 * 5 + 1800),
            "1970-01-01 05:30:00+05:30"
        );
        assert_eq!(format_timestamptz(0, 0), "1970-01-01 00:00:00+00");
        assert_eq!(
            format_interval(14, 3, 14_706_000_000),
            "1 year 2 mons 3 days 04:05:06"
        );
        assert_eq!(format_interval(0, 0, 0), "00:00:00");
        assert_eq!(format_interval(0, 0, 100 * 3_600_000_000), "100:00:00");
        assert_eq!(format_time_of_day(86_400_000_000), "24:00:00");
        assert_eq!(format_time_of_day(-3_600_000_000), "23:00:00");
        assert_eq!(format_time_of_day(45_296_500_000), "12:34:56.5");
        assert_eq!(format_interval(0, -1, -1_000_000), "-1 days -00:00:01");
        assert_eq!(format_interval(0, -1, 14_400_000_000), "-1 days +04:00:00");
        assert_eq!(format_interval(-13, 2, 0), "-1 years -1 mons +2 days");
    }
}
