//! Dates, times, timestamps, intervals and time zones as PostgreSQL reads them from text.
//!
//! Values come back in the catalog's representation: days or microseconds since
//! 2000-01-01 (PostgreSQL's epoch), an `Interval` of months, days and microseconds.
//! Accepted: ISO dates and timestamps (`2024-02-29`, `2024-02-29 13:45:06.5+02`,
//! `2024-02-29T13:45:06Z`), BC dates, the special words (`epoch`, `infinity`, `today`,
//! `now` …), time zones by offset or by name (`Europe/Berlin`), and intervals in
//! PostgreSQL's own (`1 year 2 mons 3 days 04:05:06`, `-1 day ago`) and ISO 8601
//! (`P1Y2M3DT4H5M6S`) forms. Errors are PostgreSQL's: 22007 for bad syntax, 22008 for a
//! field out of range.

use std::str::FromStr;

use bytedata_catalog::value::{Interval, MICROS_PER_DAY};
use chrono::{NaiveDate, Offset, TimeZone as _};

use crate::error::{Result, SqlError};
use crate::pgtext::days_from_civil;
use crate::types::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};

const MICROS_PER_SECOND: i64 = 1_000_000;

/// A session time zone: a fixed offset or a zone of the tz database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// Seconds east of UTC.
    Fixed(i32),
    Named(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(0)
    }
}

/// `[+-]HH[:MM[:SS]]` or `[+-]HHMM` as seconds (positive as written).
fn parse_offset(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        b'0'..=b'9' => (1, text),
        _ => return None,
    };
    let parts: Vec<&str> = digits.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h] if h.len() == 4 && h.bytes().all(|b| b.is_ascii_digit()) => {
            (h[..2].parse().ok()?, h[2..].parse().ok()?, 0)
        }
        [h] => (h.parse::<i32>().ok()?, 0, 0),
        [h, m] => (h.parse().ok()?, m.parse().ok()?, 0),
        [h, m, s] => (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?),
        _ => return None,
    };
    if hours > 15 * 24 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60 + seconds))
}

impl Zone {
    pub const UTC: Zone = Zone::Fixed(0);

    /// A `TimeZone` setting: `UTC`, a tz database name, a POSIX-style offset (`UTC+3`,
    /// `<+05>-05`: positive is *west*, as PostgreSQL reads them), or a bare ISO offset
    /// given as a number (`5`, `-8`: east).
    pub fn parse(text: &str) -> Option<Zone> {
        let text = text.trim();
        let upper = text.to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "UTC" | "GMT" | "Z" | "ZULU" | "UCT" | "UNIVERSAL" | "GREENWICH"
        ) {
            return Some(Zone::UTC);
        }
        if let Ok(tz) = text.parse::<chrono_tz::Tz>() {
            return Some(Zone::Named(tz));
        }
        // Zone names match without regard to case, as in PostgreSQL.
        if let Some(tz) = chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(text))
        {
            return Some(Zone::Named(*tz));
        }
        // A bare number is an ISO offset in hours.
        if let Ok(hours) = text.parse::<f64>() {
            if hours.abs() > 15.0 * 24.0 {
                return None;
            }
            return Some(Zone::Fixed((hours * 3600.0).round() as i32));
        }
        // POSIX: an abbreviation (`UTC`, `<+05>`) then an offset west of UTC.
        let rest = if let Some(stripped) = text.strip_prefix('<') {
            &stripped[stripped.find('>')? + 1..]
        } else {
            text.trim_start_matches(|c: char| c.is_ascii_alphabetic())
        };
        let west = parse_offset(rest)?;
        Some(Zone::Fixed(-west))
    }

    /// The offset (seconds east) in force at an instant (microseconds since 1970, UTC).
    pub fn offset_at(&self, unix_micros: i64) -> i32 {
        match self {
            Zone::Fixed(offset) => *offset,
            Zone::Named(tz) => match chrono::DateTime::from_timestamp_micros(unix_micros) {
                Some(utc) => tz
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc(),
                None => 0,
            },
        }
    }

    /// The offset for a wall-clock time in this zone (microseconds since 1970, local):
    /// the earlier one when clocks go back, the one before the jump when they go forward.
    pub fn offset_of_local(&self, local_micros: i64) -> i32 {
        match self {
            Zone::Fixed(offset) => *offset,
            Zone::Named(tz) => {
                let Some(local) =
                    chrono::DateTime::from_timestamp_micros(local_micros).map(|d| d.naive_utc())
                else {
                    return 0;
                };
                match tz.offset_from_local_datetime(&local) {
                    chrono::LocalResult::Single(offset)
                    | chrono::LocalResult::Ambiguous(offset, _) => offset.fix().local_minus_utc(),
                    chrono::LocalResult::None => {
                        tz.offset_from_utc_datetime(&local).fix().local_minus_utc()
                    }
                }
            }
        }
    }
}

fn syntax(ty: &str, text: &str) -> SqlError {
    SqlError::new(
        "22007",
        format!("invalid input syntax for type {ty}: \"{text}\""),
    )
}

fn out_of_range(text: &str) -> SqlError {
    SqlError::new(
        "22008",
        format!("date/time field value out of range: \"{text}\""),
    )
}

/// Days from 2000-01-01 of a calendar date, checked.
fn civil_days(year: i64, month: u32, day: u32, text: &str) -> Result<i64> {
    let valid = NaiveDate::from_ymd_opt(
        i32::try_from(year).map_err(|_| out_of_range(text))?,
        month,
        day,
    )
    .is_some();
    if !valid {
        return Err(out_of_range(text));
    }
    Ok(days_from_civil(year, month, day) - i64::from(PG_EPOCH_DAYS))
}

/// `YYYY-MM-DD` (with ` BC`) as days since 2000-01-01.
fn date_part(text: &str, original: &str, ty: &str) -> Result<i64> {
    let (body, bc) = match text
        .strip_suffix(" BC")
        .or_else(|| text.strip_suffix(" bc"))
    {
        Some(body) => (body.trim(), true),
        None => (text.trim_end_matches(" AD").trim(), false),
    };
    let parts: Vec<&str> = body.split('-').collect();
    let (year, month, day) = match parts.as_slice() {
        [y, m, d] if !y.is_empty() => (y, m, d),
        [ymd] if ymd.len() == 8 && ymd.bytes().all(|b| b.is_ascii_digit()) => {
            (&&ymd[..4], &&ymd[4..6], &&ymd[6..])
        }
        _ => return Err(syntax(ty, original)),
    };
    let number = |s: &str| -> Result<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax(ty, original));
        }
        s.parse().map_err(|_| syntax(ty, original))
    };
    let mut year = number(year)?;
    if bc {
        if year == 0 {
            return Err(out_of_range(original));
        }
        year = 1 - year;
    }
    let month = u32::try_from(number(month)?).map_err(|_| out_of_range(original))?;
    let day = u32::try_from(number(day)?).map_err(|_| out_of_range(original))?;
    civil_days(year, month, day, original)
}

/// `HH:MM[:SS[.ffffff]]` as microseconds since midnight (`24:00:00` allowed).
fn time_part(text: &str, original: &str, ty: &str) -> Result<i64> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(syntax(ty, original));
    }
    let field = |s: &str| -> Result<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 2 {
            return Err(syntax(ty, original));
        }
        s.parse().map_err(|_| syntax(ty, original))
    };
    let hours = field(parts[0])?;
    let minutes = field(parts[1])?;
    let (seconds, micros) = match parts.get(2) {
        None => (0, 0),
        Some(s) => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax(ty, original));
            }
            // Rounded to microseconds, as PostgreSQL stores them.
            let mut digits: String = fraction.chars().take(7).collect();
            while digits.len() < 7 {
                digits.push('0');
            }
            let tenths: i64 = digits.parse().unwrap_or(0);
            (field(whole)?, (tenths + 5) / 10)
        }
    };
    let total = ((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + micros;
    if minutes > 59 || seconds > 60 || total > 24 * 3600 * MICROS_PER_SECOND {
        return Err(out_of_range(original));
    }
    Ok(total)
}

/// A `time` value: microseconds since midnight.
pub fn parse_time(text: &str) -> Result<i64> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower == "allballs" {
        return Ok(0);
    }
    let (body, pm) = if let Some(body) = lower.strip_suffix("pm") {
        (body.trim(), Some(true))
    } else if let Some(body) = lower.strip_suffix("am") {
        (body.trim(), Some(false))
    } else {
        (lower.as_str(), None)
    };
    // A date in front (`2024-01-01 12:00`) is allowed and ignored.
    let body = body.rsplit([' ', 'T', 't']).next().unwrap_or(body);
    let mut micros = time_part(body, text, "time without time zone")?;
    if let Some(pm) = pm {
        let hour = micros / (3600 * MICROS_PER_SECOND);
        if !(1..=12).contains(&hour) {
            return Err(out_of_range(text));
        }
        micros %= 12 * 3600 * MICROS_PER_SECOND;
        if pm {
            micros += 12 * 3600 * MICROS_PER_SECOND;
        }
    }
    Ok(micros)
}

/// Special values of dates and timestamps.
enum Special {
    Infinity,
    MinusInfinity,
    /// A day offset from today (`today`, `tomorrow`, `yesterday`), or `now`.
    Relative(i64),
    Now,
    Epoch,
}

fn special(lower: &str) -> Option<Special> {
    Some(match lower {
        "infinity" | "+infinity" => Special::Infinity,
        "-infinity" => Special::MinusInfinity,
        "today" => Special::Relative(0),
        "tomorrow" => Special::Relative(1),
        "yesterday" => Special::Relative(-1),
        "now" => Special::Now,
        "epoch" => Special::Epoch,
        _ => return None,
    })
}

fn now_unix_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A `date`: days since 2000-01-01 (`i32::MAX`/`MIN` for ±infinity).
pub fn parse_date(text: &str, zone: &Zone) -> Result<i32> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let days = match special(&lower) {
        Some(Special::Infinity) => return Ok(i32::MAX),
        Some(Special::MinusInfinity) => return Ok(i32::MIN),
        Some(Special::Epoch) => -i64::from(PG_EPOCH_DAYS),
        Some(Special::Now) => local_today(zone),
        Some(Special::Relative(offset)) => local_today(zone) + offset,
        None => {
            // A time after the date is allowed and ignored.
            let date = trimmed.split([' ', 'T']).next().unwrap_or(trimmed);
            let bc = lower.ends_with(" bc");
            if bc {
                date_part(&format!("{date} BC"), text, "date")?
            } else {
                date_part(date, text, "date")?
            }
        }
    };
    i32::try_from(days).map_err(|_| out_of_range(text))
}

fn local_today(zone: &Zone) -> i64 {
    let now = now_unix_micros();
    let local = now + i64::from(zone.offset_at(now)) * MICROS_PER_SECOND;
    local.div_euclid(MICROS_PER_DAY) - i64::from(PG_EPOCH_DAYS)
}

/// A timestamp's trailing zone, if it has one: the text before it and the zone.
fn split_zone(text: &str) -> (&str, Option<Zone>) {
    let text = text.trim();
    if let Some(body) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return (body, Some(Zone::UTC));
    }
    // A named zone after a space: `2024-01-01 10:00 Europe/Paris`, `… UTC`.
    if let Some((body, last)) = text.rsplit_once(' ')
        && last.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !matches!(
            last.to_ascii_lowercase().as_str(),
            "bc" | "ad" | "am" | "pm"
        )
        && let Some(zone) =
            Zone::parse(last).filter(|_| !last.contains(['+', '-']) || last.contains('/'))
    {
        return (body.trim_end(), Some(zone));
    }
    // A numeric offset after the time: the last '+' or '-' past the date's dashes.
    let time_start = text.find([' ', 'T']).map_or(0, |i| i + 1);
    if let Some(position) = text[time_start..].rfind(['+', '-']).map(|p| p + time_start)
        && time_start > 0
        && let Some(offset) = parse_offset(text[position..].trim())
    {
        return (text[..position].trim_end(), Some(Zone::Fixed(offset)));
    }
    (text, None)
}

/// A timestamp as microseconds since 2000-01-01: wall-clock time for `timestamp`; for
/// `timestamptz` (`with_zone`) the UTC instant, a zone-less text read in `zone`.
pub fn parse_timestamp(text: &str, with_zone: bool, zone: &Zone) -> Result<i64> {
    let ty = if with_zone {
        "timestamp with time zone"
    } else {
        "timestamp without time zone"
    };
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    if let Some(special) = special(&lower) {
        let unix = match special {
            Special::Infinity => return Ok(i64::MAX),
            Special::MinusInfinity => return Ok(i64::MIN),
            Special::Epoch => 0,
            Special::Now => {
                let now = now_unix_micros();
                if with_zone {
                    now
                } else {
                    now + i64::from(zone.offset_at(now)) * MICROS_PER_SECOND
                }
            }
            Special::Relative(offset) => {
                let local =
                    (local_today(zone) + offset + i64::from(PG_EPOCH_DAYS)) * MICROS_PER_DAY;
                if with_zone {
                    local - i64::from(zone.offset_of_local(local)) * MICROS_PER_SECOND
                } else {
                    local
                }
            }
        };
        return Ok(unix - PG_EPOCH_MICROS);
    }
    let (body, explicit) = split_zone(trimmed);
    let bc = body.to_ascii_lowercase().ends_with(" bc");
    let body = if bc {
        body[..body.len() - 3].trim_end()
    } else {
        body
    };
    let (date, time) = match body.find([' ', 'T', 't']) {
        Some(i) => (&body[..i], body[i + 1..].trim()),
        None => (body, ""),
    };
    let date = if bc {
        format!("{date} BC")
    } else {
        date.to_owned()
    };
    let days = date_part(&date, text, ty)?;
    let micros = if time.is_empty() {
        0
    } else {
        time_part(time, text, ty)?
    };
    let local_unix = (days + i64::from(PG_EPOCH_DAYS)) * MICROS_PER_DAY + micros;
    let unix = if with_zone {
        let offset = explicit.unwrap_or(*zone).offset_of_local(local_unix);
        local_unix - i64::from(offset) * MICROS_PER_SECOND
    } else {
        // A zone on a plain timestamp is ignored, as PostgreSQL ignores it.
        local_unix
    };
    Ok(unix - PG_EPOCH_MICROS)
}

/// An interval, in PostgreSQL's forms.
pub fn parse_interval(text: &str) -> Result<Interval> {
    let invalid = || {
        SqlError::new(
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
            .map_err(|_| SqlError::new("22015", "interval out of range"))?,
        days: i32::try_from(sign * days)
            .map_err(|_| SqlError::new("22015", "interval out of range"))?,
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

impl FromStr for Zone {
    type Err = SqlError;

    fn from_str(text: &str) -> Result<Self> {
        Zone::parse(text).ok_or_else(|| {
            SqlError::new(
                "22023",
                format!("invalid value for parameter \"TimeZone\": \"{text}\""),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pgtext::{format_date, format_interval, format_timestamp, format_timestamptz};

    fn show_ts(text: &str) -> String {
        format_timestamp(parse_timestamp(text, false, &Zone::UTC).unwrap() + PG_EPOCH_MICROS)
    }

    fn show_tstz(text: &str, zone: &Zone) -> String {
        let micros = parse_timestamp(text, true, zone).unwrap() + PG_EPOCH_MICROS;
        format_timestamptz(micros, zone.offset_at(micros))
    }

    #[test]
    fn dates() {
        let show = |t: &str| format_date(parse_date(t, &Zone::UTC).unwrap() + PG_EPOCH_DAYS);
        assert_eq!(show("2024-02-29"), "2024-02-29");
        assert_eq!(show(" 20240229 "), "2024-02-29");
        assert_eq!(show("0001-12-31 BC"), "0001-12-31 BC");
        assert_eq!(show("epoch"), "1970-01-01");
        assert_eq!(show("2024-02-29 10:00:00"), "2024-02-29");
        assert_eq!(
            parse_date("2023-02-29", &Zone::UTC).unwrap_err().code,
            "22008"
        );
        assert_eq!(
            parse_date("tomorrowish", &Zone::UTC).unwrap_err().code,
            "22007"
        );
        assert_eq!(parse_date("infinity", &Zone::UTC).unwrap(), i32::MAX);
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("13:45:06.5").unwrap(), 49_506_500_000);
        assert_eq!(parse_time("1:05 pm").unwrap(), 46_800_000_000 + 300_000_000);
        assert_eq!(parse_time("24:00").unwrap(), 86_400_000_000);
        assert_eq!(parse_time("25:00").unwrap_err().code, "22008");
        assert_eq!(parse_time("noon").unwrap_err().code, "22007");
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            show_ts("2024-02-29 13:45:06.123456"),
            "2024-02-29 13:45:06.123456"
        );
        assert_eq!(show_ts("2024-02-29T13:45:06"), "2024-02-29 13:45:06");
        assert_eq!(show_ts("2024-02-29 13:45:06+02"), "2024-02-29 13:45:06");
        assert_eq!(show_ts("2024-02-29"), "2024-02-29 00:00:00");
        assert_eq!(
            show_tstz("2024-02-29 13:45:06+02", &Zone::UTC),
            "2024-02-29 11:45:06+00"
        );
        assert_eq!(
            show_tstz("2024-02-29 13:45:06Z", &Zone::UTC),
            "2024-02-29 13:45:06+00"
        );
        assert_eq!(
            show_tstz("2024-02-29 13:45:06-0330", &Zone::UTC),
            "2024-02-29 17:15:06+00"
        );
        let kolkata = Zone::parse("Asia/Kolkata").unwrap();
        assert_eq!(
            show_tstz("2024-02-29 13:45:06+02", &kolkata),
            "2024-02-29 17:15:06+05:30"
        );
        assert_eq!(
            show_tstz("2024-02-29 13:45:06", &kolkata),
            "2024-02-29 13:45:06+05:30"
        );
        let berlin = Zone::parse("europe/berlin").unwrap();
        assert_eq!(
            show_tstz("2024-07-01 12:00:00", &berlin),
            "2024-07-01 12:00:00+02"
        );
        assert_eq!(
            show_tstz("2024-01-01 12:00:00 Europe/Berlin", &Zone::UTC),
            "2024-01-01 11:00:00+00"
        );
        assert_eq!(
            parse_timestamp("2024-13-01", false, &Zone::UTC)
                .unwrap_err()
                .code,
            "22008"
        );
        assert_eq!(
            parse_timestamp("yesterdayish", false, &Zone::UTC)
                .unwrap_err()
                .code,
            "22007"
        );
    }

    #[test]
    fn zones() {
        assert_eq!(Zone::parse("UTC"), Some(Zone::UTC));
        assert_eq!(Zone::parse("5"), Some(Zone::Fixed(18_000)));
        assert_eq!(Zone::parse("<+05>-05"), Some(Zone::Fixed(18_000)));
        assert_eq!(Zone::parse("UTC+3"), Some(Zone::Fixed(-10_800)));
        assert_eq!(Zone::parse("Mars/Olympus"), None);
    }

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
