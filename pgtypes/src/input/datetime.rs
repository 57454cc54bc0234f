//! Dates, times and timestamps as PostgreSQL reads them from text.
//!
//! Values come back counted from PostgreSQL's epoch: days (`date`) or microseconds
//! (`timestamp`, `timestamptz`) since 2000-01-01, microseconds since midnight (`time`).
//! Accepted: ISO dates and timestamps (`2024-02-29`, `2024-02-29 13:45:06.5+02`,
//! `2024-02-29T13:45:06Z`), BC dates, the special words (`epoch`, `infinity`, `today`,
//! `now` …), and zones by offset or by name (`Europe/Berlin`). Errors are PostgreSQL's:
//! 22007 for bad syntax, 22008 for a field out of range.

use chrono::NaiveDate;

use super::InputOptions;
use super::fields;
use crate::calendar::{
    MICROS_PER_DAY, MICROS_PER_SECOND, PG_EPOCH_DAYS, PG_EPOCH_MICROS, days_from_civil,
    now_unix_micros,
};
use crate::error::{Error, Result};
use crate::zone::{Zone, parse_offset};

fn syntax(ty: &str, text: &str) -> Error {
    Error::new(
        "22007",
        format!("invalid input syntax for type {ty}: \"{text}\""),
    )
}

fn out_of_range(text: &str) -> Error {
    Error::new(
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

/// A `date`: days since 2000-01-01 (`i32::MAX`/`MIN` for ±infinity).
pub fn parse_date(text: &str, options: &InputOptions) -> Result<i32> {
    let zone = &options.zone;
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
            let iso = if bc {
                date_part(&format!("{date} BC"), text, "date")
            } else {
                date_part(date, text, "date")
            };
            match iso {
                Ok(days) => days,
                // Not ISO: the other forms PostgreSQL reads.
                Err(_) => fields::decode(text, options.date_order, "date")?
                    .days
                    .ok_or_else(|| syntax("date", text))?,
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
pub fn parse_timestamp(text: &str, with_zone: bool, options: &InputOptions) -> Result<i64> {
    let zone = &options.zone;
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
    match parse_iso_timestamp(trimmed, text, with_zone, zone, ty) {
        Ok(micros) => Ok(micros),
        // Not ISO: the other forms PostgreSQL reads.
        Err(_) => {
            let decoded = fields::decode(text, options.date_order, ty)?;
            let days = decoded.days.ok_or_else(|| syntax(ty, text))?;
            let local_unix = (days + i64::from(PG_EPOCH_DAYS)) * MICROS_PER_DAY
                + decoded.time_micros.unwrap_or(0);
            let unix = match (with_zone, decoded.zone) {
                (true, explicit) => {
                    let offset = explicit.unwrap_or(*zone).offset_of_local(local_unix);
                    local_unix - i64::from(offset) * MICROS_PER_SECOND
                }
                (false, _) => local_unix,
            };
            Ok(unix - PG_EPOCH_MICROS)
        }
    }
}

/// An ISO 8601 timestamp (`2024-02-29 13:45:06.5+02`), the form most text has.
fn parse_iso_timestamp(
    trimmed: &str,
    text: &str,
    with_zone: bool,
    zone: &Zone,
    ty: &str,
) -> Result<i64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{format_date, format_timestamp, format_timestamptz};

    fn in_zone(zone: &Zone) -> InputOptions {
        InputOptions {
            zone: *zone,
            ..InputOptions::UTC
        }
    }

    fn show_ts(text: &str) -> String {
        format_timestamp(
            parse_timestamp(text, false, &InputOptions::UTC).unwrap() + PG_EPOCH_MICROS,
        )
    }

    fn show_tstz(text: &str, zone: &Zone) -> String {
        let micros = parse_timestamp(text, true, &in_zone(zone)).unwrap() + PG_EPOCH_MICROS;
        format_timestamptz(micros, zone.offset_at(micros))
    }

    #[test]
    fn dates() {
        let show =
            |t: &str| format_date(parse_date(t, &InputOptions::UTC).unwrap() + PG_EPOCH_DAYS);
        assert_eq!(show("2024-02-29"), "2024-02-29");
        assert_eq!(show(" 20240229 "), "2024-02-29");
        assert_eq!(show("0001-12-31 BC"), "0001-12-31 BC");
        assert_eq!(show("epoch"), "1970-01-01");
        assert_eq!(show("2024-02-29 10:00:00"), "2024-02-29");
        assert_eq!(
            parse_date("2023-02-29", &InputOptions::UTC)
                .unwrap_err()
                .code,
            "22008"
        );
        assert_eq!(
            parse_date("tomorrowish", &InputOptions::UTC)
                .unwrap_err()
                .code,
            "22007"
        );
        assert_eq!(
            parse_date("infinity", &InputOptions::UTC).unwrap(),
            i32::MAX
        );
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
            parse_timestamp("2024-13-01", false, &InputOptions::UTC)
                .unwrap_err()
                .code,
            "22008"
        );
        assert_eq!(
            parse_timestamp("yesterdayish", false, &InputOptions::UTC)
                .unwrap_err()
                .code,
            "22007"
        );
    }
}
