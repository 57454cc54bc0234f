//! An interval times or divided by a number, as PostgreSQL computes it (`interval_mul`,
//! `interval_div`): each field is scaled on its own, and the fraction a field loses
//! cascades down — a fraction of a month becomes days (a month is 30 days here), a
//! fraction of a day becomes time (a day is 24 hours) — rounded to the microsecond.
//!
//! And `age`, the "symbolic" difference of two timestamps in years, months and days
//! (`timestamp_age`): field by field, borrowing from the next field up, a month
//! borrowed as the length of the earlier timestamp's month.

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

/// The fields of a wall-clock time in microseconds from 1970-01-01: year, month, day,
/// hour, minute, second and microsecond.
fn fields_of(local_micros: i64) -> [i64; 7] {
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    let days = local_micros.div_euclid(MICROS_PER_DAY);
    let time = local_micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = crate::calendar::civil_from_days(days);
    let seconds = time / 1_000_000;
    [
        year,
        i64::from(month),
        i64::from(day),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        time % 1_000_000,
    ]
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `age(later, earlier)` of two wall-clock times (microseconds from 1970-01-01, in the
/// zone both are seen in): negative when `later` is earlier.
pub fn age(later_micros: i64, earlier_micros: i64) -> Result<Interval> {
    let first = fields_of(later_micros);
    let second = fields_of(earlier_micros);
    let sign = if later_micros < earlier_micros { -1 } else { 1 };
    // year, month, day, hour, minute, second, microsecond: differences, made positive.
    let mut diff: [i64; 7] = std::array::from_fn(|i| sign * (first[i] - second[i]));
    let [year, month, day, hour, minute, second_, micro] = &mut diff;
    while *micro < 0 {
        *micro += 1_000_000;
        *second_ -= 1;
    }
    while *second_ < 0 {
        *second_ += 60;
        *minute -= 1;
    }
    while *minute < 0 {
        *minute += 60;
        *hour -= 1;
    }
    while *hour < 0 {
        *hour += 24;
        *day -= 1;
    }
    // PostgreSQL borrows the month of whichever timestamp is earlier.
    let earlier = if sign < 0 { first } else { second };
    while *day < 0 {
        *day += days_in_month(earlier[0], earlier[1]);
        *month -= 1;
    }
    while *month < 0 {
        *month += 12;
        *year -= 1;
    }
    let months = i32::try_from(sign * (*year * 12 + *month)).map_err(|_| out_of_range())?;
    let days = i32::try_from(sign * *day).map_err(|_| out_of_range())?;
    let micros = sign * (((*hour * 60 + *minute) * 60 + *second_) * 1_000_000 + *micro);
    Ok(Interval {
        months,
        days,
        micros,
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

    #[test]
    fn age_as_postgres() {
        let at = |text: &str| {
            let pg_micros =
                crate::input::parse_timestamp(text, false, &Default::default()).unwrap();
            crate::calendar::unix_micros_of(pg_micros)
        };
        let cases = [
            ("2001-04-10", "1957-06-13", "43 years 9 mons 27 days"),
            ("1957-06-13", "2001-04-10", "-43 years -9 mons -27 days"),
            ("2001-03-01", "2001-01-31", "1 mon 1 day"),
            (
                "2000-03-01 10:00",
                "2000-02-28 12:30:00.5",
                "1 day 21:29:59.5",
            ),
            ("2001-01-31", "2001-03-01", "-1 mons -1 days"),
            ("2020-01-01", "2020-01-01", "00:00:00"),
        ];
        for (later, earlier, expected) in cases {
            assert_eq!(
                show(age(at(later), at(earlier)).unwrap()),
                expected,
                "age({later}, {earlier})"
            );
        }
    }
}
