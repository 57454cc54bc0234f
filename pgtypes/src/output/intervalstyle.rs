//! `IntervalStyle`: how intervals print.
//!
//! | style              | `1 year 2 mons -3 days 04:05:06.5`       |
//! |--------------------|------------------------------------------|
//! | `postgres`         | `1 year 2 mons -3 days +04:05:06.5`      |
//! | `postgres_verbose` | `@ 1 year 2 mons -3 days 4 hours 5 mins 6.5 secs` |
//! | `sql_standard`     | `+1-2 -3 +4:05:06.5`                     |
//! | `iso_8601`         | `P1Y2M-3DT4H5M6.5S`                      |
//!
//! The fields are split as PostgreSQL splits them — years and months from the month
//! count, hours, minutes, seconds and microseconds from the time, each with the sign of
//! what it came from — so mixed signs print as PostgreSQL prints them. `postgres` is
//! `datetime::format_interval`; the other three are here.

use std::fmt::Write;

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IntervalStyle {
    #[default]
    Postgres,
    PostgresVerbose,
    SqlStandard,
    Iso8601,
}

impl IntervalStyle {
    pub fn parse(value: &str) -> Result<IntervalStyle> {
        Ok(match value.trim().to_ascii_lowercase().as_str() {
            "postgres" => IntervalStyle::Postgres,
            "postgres_verbose" => IntervalStyle::PostgresVerbose,
            "sql_standard" => IntervalStyle::SqlStandard,
            "iso_8601" => IntervalStyle::Iso8601,
            _ => {
                return Err(Error::new(
                    "22023",
                    format!("invalid value for parameter \"IntervalStyle\": \"{value}\""),
                )
                .with_hint(
                    "Available values: postgres, postgres_verbose, sql_standard, iso_8601.",
                ));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            IntervalStyle::Postgres => "postgres",
            IntervalStyle::PostgresVerbose => "postgres_verbose",
            IntervalStyle::SqlStandard => "sql_standard",
            IntervalStyle::Iso8601 => "iso_8601",
        }
    }
}

/// An interval's fields as PostgreSQL splits them (C's truncating division).
struct Fields {
    years: i64,
    months: i64,
    days: i64,
    hours: i64,
    minutes: i64,
    seconds: i64,
    micros: i64,
}

impl Fields {
    fn of(months: i32, days: i32, micros: i64) -> Fields {
        let months = i64::from(months);
        Fields {
            years: months / 12,
            months: months % 12,
            days: i64::from(days),
            hours: micros / 3_600_000_000,
            minutes: (micros / 60_000_000) % 60,
            seconds: (micros / 1_000_000) % 60,
            micros: micros % 1_000_000,
        }
    }

    fn has_time(&self) -> bool {
        self.hours != 0 || self.minutes != 0 || self.seconds != 0 || self.micros != 0
    }
}

/// `|seconds|[.ffffff]`, trailing zeros of the fraction dropped; two digits when
/// `fill_zeros`.
fn seconds_text(seconds: i64, micros: i64, fill_zeros: bool) -> String {
    let mut out = if fill_zeros {
        format!("{:02}", seconds.unsigned_abs())
    } else {
        seconds.unsigned_abs().to_string()
    };
    if micros != 0 {
        let digits = format!("{:06}", micros.unsigned_abs());
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// An interval in `style`; `postgres` is `format_interval`'s.
pub fn format_interval_styled(months: i32, days: i32, micros: i64, style: IntervalStyle) -> String {
    let fields = Fields::of(months, days, micros);
    match style {
        IntervalStyle::Postgres => super::format_interval(months, days, micros),
        IntervalStyle::PostgresVerbose => verbose(&fields),
        IntervalStyle::SqlStandard => sql_standard(fields),
        IntervalStyle::Iso8601 => iso_8601(&fields),
    }
}

fn verbose(f: &Fields) -> String {
    let mut out = String::from("@");
    let mut is_zero = true;
    let mut is_before = false;
    let mut part = |out: &mut String, value: i64, unit: &str| {
        if value == 0 {
            return;
        }
        // The first field that is not zero decides "ago"; the others print relative to it.
        let shown = if is_zero {
            is_before = value < 0;
            value.abs()
        } else if is_before {
            -value
        } else {
            value
        };
        let plural = if shown == 1 { "" } else { "s" };
        let _ = write!(out, " {shown} {unit}{plural}");
        is_zero = false;
    };
    part(&mut out, f.years, "year");
    part(&mut out, f.months, "mon");
    part(&mut out, f.days, "day");
    part(&mut out, f.hours, "hour");
    part(&mut out, f.minutes, "min");
    if f.seconds != 0 || f.micros != 0 {
        out.push(' ');
        let negative = f.seconds < 0 || (f.seconds == 0 && f.micros < 0);
        if negative {
            if is_zero {
                is_before = true;
            } else if !is_before {
                out.push('-');
            }
        } else if is_before {
            out.push('-');
        }
        out.push_str(&seconds_text(f.seconds, f.micros, false));
        let plural = if f.seconds.abs() != 1 || f.micros != 0 {
            "s"
        } else {
            ""
        };
        let _ = write!(out, " sec{plural}");
        is_zero = false;
    }
    if is_zero {
        out.push_str(" 0");
    }
    if is_before {
        out.push_str(" ago");
    }
    out
}

fn sql_standard(mut f: Fields) -> String {
    let all = [
        f.years, f.months, f.days, f.hours, f.minutes, f.seconds, f.micros,
    ];
    let has_negative = all.iter().any(|&v| v < 0);
    let has_positive = all.iter().any(|&v| v > 0);
    let has_year_month = f.years != 0 || f.months != 0;
    let has_day_time = f.days != 0 || f.has_time();
    // The standard has no mixed signs, and no year-month beside day-time.
    let mixed = (has_negative && has_positive) || (has_year_month && has_day_time);
    let standard = !mixed;
    let mut out = String::new();
    if has_negative && standard {
        out.push('-');
        for value in [
            &mut f.years,
            &mut f.months,
            &mut f.days,
            &mut f.hours,
            &mut f.minutes,
            &mut f.seconds,
            &mut f.micros,
        ] {
            *value = -*value;
        }
    }
    if !has_negative && !has_positive {
        out.push('0');
    } else if !standard {
        let year_sign = if f.years < 0 || f.months < 0 {
            '-'
        } else {
            '+'
        };
        let day_sign = if f.days < 0 { '-' } else { '+' };
        let time_negative = f.hours < 0 || f.minutes < 0 || f.seconds < 0 || f.micros < 0;
        let time_sign = if time_negative { '-' } else { '+' };
        let _ = write!(
            out,
            "{year_sign}{}-{} {day_sign}{} {time_sign}{}:{:02}:{}",
            f.years.abs(),
            f.months.abs(),
            f.days.abs(),
            f.hours.abs(),
            f.minutes.abs(),
            seconds_text(f.seconds, f.micros, true)
        );
    } else if has_year_month {
        let _ = write!(out, "{}-{}", f.years, f.months);
    } else if f.days != 0 {
        let _ = write!(
            out,
            "{} {}:{:02}:{}",
            f.days,
            f.hours,
            f.minutes,
            seconds_text(f.seconds, f.micros, true)
        );
    } else {
        let _ = write!(
            out,
            "{}:{:02}:{}",
            f.hours,
            f.minutes,
            seconds_text(f.seconds, f.micros, true)
        );
    }
    out
}

fn iso_8601(f: &Fields) -> String {
    if f.years == 0 && f.months == 0 && f.days == 0 && !f.has_time() {
        return "PT0S".to_owned();
    }
    let mut out = String::from("P");
    let part = |out: &mut String, value: i64, unit: char| {
        if value != 0 {
            let _ = write!(out, "{value}{unit}");
        }
    };
    part(&mut out, f.years, 'Y');
    part(&mut out, f.months, 'M');
    part(&mut out, f.days, 'D');
    if f.has_time() {
        out.push('T');
    }
    part(&mut out, f.hours, 'H');
    part(&mut out, f.minutes, 'M');
    if f.seconds != 0 || f.micros != 0 {
        if f.seconds < 0 || f.micros < 0 {
            out.push('-');
        }
        out.push_str(&seconds_text(f.seconds, f.micros, false));
        out.push('S');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 year 2 mons 3 days 04:05:06.5
    const MICROS: i64 = ((4 * 60 + 5) * 60 + 6) * 1_000_000 + 500_000;

    fn show(months: i32, days: i32, micros: i64, style: IntervalStyle) -> String {
        format_interval_styled(months, days, micros, style)
    }

    #[test]
    fn verbose_style() {
        use IntervalStyle::PostgresVerbose as V;
        assert_eq!(
            show(14, 3, MICROS, V),
            "@ 1 year 2 mons 3 days 4 hours 5 mins 6.5 secs"
        );
        assert_eq!(show(0, 0, 3_600_000_000, V), "@ 1 hour");
        assert_eq!(show(0, -1, 0, V), "@ 1 day ago");
        assert_eq!(show(0, -1, 3_600_000_000, V), "@ 1 day -1 hours ago");
        assert_eq!(show(0, 0, -1_000_000, V), "@ 1 sec ago");
        assert_eq!(show(0, 0, 0, V), "@ 0");
    }

    #[test]
    fn sql_standard_style() {
        use IntervalStyle::SqlStandard as S;
        assert_eq!(show(14, 0, 0, S), "1-2");
        assert_eq!(show(-14, 0, 0, S), "-1-2");
        assert_eq!(show(0, 3, MICROS, S), "3 4:05:06.5");
        assert_eq!(show(0, 0, MICROS, S), "4:05:06.5");
        assert_eq!(show(14, -3, MICROS, S), "+1-2 -3 +4:05:06.5");
        assert_eq!(show(0, 0, 0, S), "0");
    }

    #[test]
    fn iso_8601_style() {
        use IntervalStyle::Iso8601 as I;
        assert_eq!(show(14, -3, MICROS, I), "P1Y2M-3DT4H5M6.5S");
        assert_eq!(show(0, 0, 0, I), "PT0S");
        assert_eq!(show(0, 0, -1_500_000, I), "PT-1.5S");
    }

    #[test]
    fn names() {
        for style in [
            IntervalStyle::Postgres,
            IntervalStyle::PostgresVerbose,
            IntervalStyle::SqlStandard,
            IntervalStyle::Iso8601,
        ] {
            assert_eq!(IntervalStyle::parse(style.name()).unwrap(), style);
        }
        assert_eq!(IntervalStyle::parse("nope").unwrap_err().code, "22023");
    }
}
