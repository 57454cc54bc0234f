//! An interval times or divided by a number, as PostgreSQL computes it (`interval_mul`,
//! `interval_div`): each field is scaled on its own, and the fraction a field loses
//! cascades down — a fraction of a month becomes days (a month is 30 days here), a
//! fraction of a day becomes time (a day is 24 hours) — rounded to the microsecond.

use crate::error::{Error, Result};
use crate::value::Interval;

const DAYS_PER_MONTH: f64 = 30.0;
const SECONDS_PER_DAY: f64 = 86_400.0;
const MICROS_PER_SECOND: f64 = 1_000_000.0;

fn out_of_range() -> Error {
    Error::new("22008", "interval out of range")
}

/// Rounds to the microsecond (PostgreSQL's `TSROUND`).
fn to_micro(value: f64) -> f64 {
    (value * MICROS_PER_SECOND).round_ties_even() / MICROS_PER_SECOND
}

fn to_i32(value: f64) -> Result<i32> {
    if value.is_nan() || value < f64::from(i32::MIN) || value > f64::from(i32::MAX) {
        return Err(out_of_range());
    }
    Ok(value.trunc() as i32)
}

/// `interval * factor`.
pub fn multiply(span: Interval, factor: f64) -> Result<Interval> {
    scale(span, |field| field * factor)
}

/// `interval / divisor` (22012 for zero).
pub fn divide(span: Interval, divisor: f64) -> Result<Interval> {
    if divisor == 0.0 {
        return Err(Error::new("22012", "division by zero"));
    }
    scale(span, |field| field / divisor)
}

fn scale(span: Interval, by: impl Fn(f64) -> f64) -> Result<Interval> {
    let months_exact = by(f64::from(span.months));
    let days_exact = by(f64::from(span.days));
    let months = to_i32(months_exact)?;
    let mut days = to_i32(days_exact)?;
    let month_remainder_days = to_micro((months_exact - f64::from(months)) * DAYS_PER_MONTH);
    let mut second_remainder = to_micro(
        (days_exact - f64::from(days) + month_remainder_days - month_remainder_days.trunc())
            * SECONDS_PER_DAY,
    );
    if second_remainder.abs() >= SECONDS_PER_DAY {
        let whole_days = (second_remainder / SECONDS_PER_DAY).trunc();
        days = days
            .checked_add(to_i32(whole_days)?)
            .ok_or_else(out_of_range)?;
        second_remainder -= whole_days * SECONDS_PER_DAY;
    }
    days = days
        .checked_add(to_i32(month_remainder_days.trunc())?)
        .ok_or_else(out_of_range)?;
    let micros = (by(span.micros as f64) + second_remainder * MICROS_PER_SECOND).round_ties_even();
    if micros.is_nan() || micros < i64::MIN as f64 || micros >= i64::MAX as f64 {
        return Err(out_of_range());
    }
    Ok(Interval {
        months,
        days,
        micros: micros as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{IntervalStyle, format_interval_styled};

    fn show(interval: Interval) -> String {
        format_interval_styled(
            interval.months,
            interval.days,
            interval.micros,
            IntervalStyle::Postgres,
        )
    }

    fn parse(text: &str) -> Interval {
        crate::input::parse_interval(text).unwrap()
    }

    #[test]
    fn fractions_cascade_down_as_in_postgresql() {
        // Each expected value is PostgreSQL 15's answer.
        let cases = [
            ("1 day", 2.0, "2 days"),
            ("1 month", 1.5, "1 mon 15 days"),
            ("1 day 01:00:00", 0.5, "12:30:00"),
            ("3 mons 4 days 05:06:07", 0.3, "28 days 06:19:50.1"),
            ("1 hour", -2.5, "-02:30:00"),
            ("1 year", 1.0 / 3.0, "4 mons"),
        ];
        for (input, factor, expected) in cases {
            assert_eq!(
                show(multiply(parse(input), factor).unwrap()),
                expected,
                "{input} * {factor}"
            );
        }
        assert_eq!(
            show(divide(parse("1 month"), 4.0).unwrap()),
            "7 days 12:00:00"
        );
        assert_eq!(
            show(divide(parse("10 days"), 3.0).unwrap()),
            "3 days 08:00:00"
        );
        assert_eq!(divide(parse("1 day"), 0.0).unwrap_err().code, "22012");
        assert_eq!(
            multiply(parse("1000000 years"), 1e9).unwrap_err().code,
            "22008"
        );
    }
}
