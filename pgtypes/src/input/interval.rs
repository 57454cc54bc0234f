//! Intervals as PostgreSQL reads them from text: its own form (`1 year 2 mons 3 days
//! 04:05:06`, `-1 day ago`, units glued or apart, a bare number of seconds) and ISO 8601
//! durations (`P1Y2M3DT4H5M6S`). Fractions of a month or a day carry down as PostgreSQL
//! carries them (a month is 30 days here). 22007 for bad syntax, 22015 out of range.

use crate::error::{Error, Result};
use crate::value::Interval;

/// An interval, in PostgreSQL's forms.
pub fn parse_interval(text: &str) -> Result<Interval> {
    let invalid = || {
        Error::new(
            "22007",
            format!("invalid input syntax for type interval: \"{text}\""),
        )
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid());
    }
    if let Some(iso) = trimmed
        .strip_prefix('P')
        .or_else(|| trimmed.strip_prefix('p'))
    {
        return parse_iso_interval(iso).ok_or_else(invalid);
    }
    let mut months: i64 = 0;
    let mut days: i64 = 0;
    let mut micros: f64 = 0.0;
    let lower = trimmed.to_ascii_lowercase();
    let mut tokens: Vec<&str> = lower.split_whitespace().collect();
    let ago = tokens.last() == Some(&"ago");
    if ago {
        tokens.pop();
    }
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if token.contains(':') {
            let (negative, body) = match token.strip_prefix('-') {
                Some(body) => (true, body),
                None => (false, token.strip_prefix('+').unwrap_or(token)),
            };
            let parts: Vec<&str> = body.split(':').collect();
            let number = |s: &str| s.parse::<f64>().map_err(|_| invalid());
            let value = match parts.as_slice() {
                [h, m] => (number(h)? * 3600.0 + number(m)? * 60.0) * 1e6,
                [h, m, s] => (number(h)? * 3600.0 + number(m)? * 60.0 + number(s)?) * 1e6,
                _ => return Err(invalid()),
            };
            micros += if negative { -value } else { value };
            i += 1;
            continue;
        }
        // A number, then its unit (which may be glued on: `3d`, `10min`).
        let split = token
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(token.len());
        let (number, glued) = token.split_at(split);
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let unit = if glued.is_empty() {
            i += 1;
            match tokens.get(i) {
                Some(unit) => *unit,
                // A bare number is seconds.
                None => "seconds",
            }
        } else {
            glued
        };
        i += 1;
        let whole_months = |m: f64| -> Result<(i64, f64)> {
            let whole = m.trunc();
            Ok((whole as i64, (m - whole) * 30.0))
        };
        match unit.trim_end_matches(',') {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" => micros += value,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => micros += value * 1e3,
            "second" | "seconds" | "s" | "sec" | "secs" => micros += value * 1e6,
            "minute" | "minutes" | "m" | "min" | "mins" => micros += value * 60e6,
            "hour" | "hours" | "h" | "hr" | "hrs" => micros += value * 3600e6,
            "day" | "days" | "d" => {
                days += value.trunc() as i64;
                micros += value.fract() * 86_400e6;
            }
            "week" | "weeks" | "w" => {
                let d = value * 7.0;
                days += d.trunc() as i64;
                micros += d.fract() * 86_400e6;
            }
            "month" | "months" | "mon" | "mons" => {
                let (m, extra_days) = whole_months(value)?;
                months += m;
                days += extra_days.trunc() as i64;
                micros += extra_days.fract() * 86_400e6;
            }
            "year" | "years" | "y" | "yr" | "yrs" => {
                let (m, extra_days) = whole_months(value * 12.0)?;
                months += m;
                days += extra_days.trunc() as i64;
            }
            "decade" | "decades" => months += (value * 120.0) as i64,
            "century" | "centuries" => months += (value * 1200.0) as i64,
            "millennium" | "millennia" | "millenniums" => months += (value * 12_000.0) as i64,
            _ => return Err(invalid()),
        }
    }
    let sign = if ago { -1 } else { 1 };
    let interval = Interval {
        months: i32::try_from(sign * months)
            .map_err(|_| Error::new("22015", "interval out of range"))?,
        days: i32::try_from(sign * days)
            .map_err(|_| Error::new("22015", "interval out of range"))?,
        micros: sign * micros.round() as i64,
    };
    Ok(interval)
}

/// The part after `P` of an ISO 8601 duration (`1Y2M3DT4H5M6.5S`).
fn parse_iso_interval(text: &str) -> Option<Interval> {
    let (date, time) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, t),
        None => (text, ""),
    };
    let mut months = 0i64;
    let mut days = 0i64;
    let mut micros = 0f64;
    let mut number = String::new();
    for c in date.chars() {
        if c.is_ascii_digit() || c == '.' || c == '-' {
            number.push(c);
            continue;
        }
        let value: f64 = std::mem::take(&mut number).parse().ok()?;
        match c.to_ascii_uppercase() {
            'Y' => months += (value * 12.0) as i64,
            'M' => months += value as i64,
            'W' => days += (value * 7.0) as i64,
            'D' => days += value as i64,
            _ => return None,
        }
    }
    for c in time.chars() {
        if c.is_ascii_digit() || c == '.' || c == '-' {
            number.push(c);
            continue;
        }
        let value: f64 = std::mem::take(&mut number).parse().ok()?;
        match c.to_ascii_uppercase() {
            'H' => micros += value * 3600e6,
            'M' => micros += value * 60e6,
            'S' => micros += value * 1e6,
            _ => return None,
        }
    }
    if !number.is_empty() {
        return None;
    }
    Some(Interval {
        months: i32::try_from(months).ok()?,
        days: i32::try_from(days).ok()?,
        micros: micros.round() as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::format_interval;

    #[test]
    fn intervals() {
        let show = |t: &str| {
            let i = parse_interval(t).unwrap();
            format_interval(i.months, i.days, i.micros)
        };
        assert_eq!(
            show("1 year 2 months 3 days 04:05:06"),
            "1 year 2 mons 3 days 04:05:06"
        );
        assert_eq!(show("1 day ago"), "-1 days");
        assert_eq!(show("90 minutes"), "01:30:00");
        assert_eq!(show("1.5 days"), "1 day 12:00:00");
        assert_eq!(show("P1Y2M3DT4H5M6S"), "1 year 2 mons 3 days 04:05:06");
        assert_eq!(show("-1 day -00:00:01"), "-1 days -00:00:01");
        assert_eq!(show("2 weeks"), "14 days");
        assert_eq!(show("10"), "00:00:10");
        assert_eq!(parse_interval("1 fortnight").unwrap_err().code, "22007");
    }
}
