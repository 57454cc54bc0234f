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
use super::decode::{Context, Decoded, decode_date_time, decode_time, pg_days};
use crate::calendar::{
    MICROS_PER_DAY, MICROS_PER_SECOND, PG_EPOCH_DAYS, PG_EPOCH_MICROS, now_unix_micros,
};
use crate::error::{Error, Result};
use crate::zone::Zone;

/// Microseconds from 2000-01-01 to the first instant a timestamp may hold, 4714-11-24 BC
/// (Julian day 0), and to the first it may not, 294277-01-01.
const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;
/// Days from 2000-01-01 to the first date a `date` may not hold, 5874898-01-01.
const END_DATE_DAYS: i64 = 2_145_031_948;
/// Days from 2000-01-01 to Julian day 0, the first date a `date` may hold.
const MIN_DATE_DAYS: i64 = -2_451_545;

/// Whether a civil date is inside the Julian-day range PostgreSQL computes in
/// (`IS_VALID_JULIAN`): from November 4714 BC to June 5874898.
fn julian_valid(year: i64, month: u32) -> bool {
    (year > -4713 || (year == -4713 && month >= 11))
        && (year < 5_874_898 || (year == 5_874_898 && month < 6))
}

fn context(options: &InputOptions) -> Context {
    Context {
        order: options.date_order,
        zone: options.zone,
        now_unix_micros: options.now_unix_micros.unwrap_or_else(now_unix_micros),
    }
}

/// `YYYY-MM-DD`, the form nearly all dates come in, read without the general decoder;
/// `None` for anything else (year 0 included, which the decoder refuses properly).
fn iso_date(text: &str) -> Option<(i64, u32, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &text[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let month = u32::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(day).ok().filter(|&d| d >= 1)?;
    let valid =
        year > 0 && NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day).is_some();
    valid.then_some((year, month, day))
}

/// `HH:MM:SS[.ffffff]` as microseconds since midnight; `None` for any other form.
fn iso_time(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let two = |at: usize| -> Option<i64> {
        let part = &text[at..at + 2];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (hours, minutes, seconds) = (two(0)?, two(3)?, two(6)?);
    let micros = match &text[8..] {
        "" => 0,
        fraction => {
            let digits = fraction.strip_prefix('.')?;
            if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            digits.parse::<i64>().ok()? * 10_i64.pow(6 - digits.len() as u32)
        }
    };
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + micros)
}

/// A `time` value: microseconds since midnight. A date or zone in the text is checked
/// and dropped, as PostgreSQL does.
pub fn parse_time(text: &str, options: &InputOptions) -> Result<i64> {
    if let Some(micros) = iso_time(text.trim()) {
        return Ok(micros);
    }
    decode_time(text, &context(options)).map_err(|refusal| refusal.into_error("time", text))
}

/// A `date`: days since 2000-01-01 (`i32::MAX`/`MIN` for ±infinity).
pub fn parse_date(text: &str, options: &InputOptions) -> Result<i32> {
    let (year, month, day) = match iso_date(text.trim()) {
        Some(ymd) => ymd,
        None => match decode_date_time(text, &context(options))
            .map_err(|refusal| refusal.into_error("date", text))?
        {
            Decoded::Infinity => return Ok(i32::MAX),
            Decoded::MinusInfinity => return Ok(i32::MIN),
            Decoded::Epoch => return Ok(-PG_EPOCH_DAYS),
            Decoded::Moment(moment) => (moment.year, moment.month, moment.day),
        },
    };
    let date_out_of_range = || Error::new("22008", format!("date out of range: \"{text}\""));
    if !julian_valid(year, month) {
        return Err(date_out_of_range());
    }
    let days = pg_days(year, month, day);
    if !(MIN_DATE_DAYS..END_DATE_DAYS).contains(&days) {
        return Err(date_out_of_range());
    }
    i32::try_from(days).map_err(|_| date_out_of_range())
}

/// A timestamp as microseconds since 2000-01-01: wall-clock time for `timestamp`; for
/// `timestamptz` (`with_zone`) the UTC instant, a zone-less text read in the session zone.
pub fn parse_timestamp(text: &str, with_zone: bool, options: &InputOptions) -> Result<i64> {
    let ty = if with_zone {
        "timestamp with time zone"
    } else {
        "timestamp"
    };
    if let Some(micros) = parse_iso_timestamp(text.trim(), with_zone, &options.zone) {
        return Ok(micros);
    }
    let moment = match decode_date_time(text, &context(options))
        .map_err(|refusal| refusal.into_error(ty, text))?
    {
        Decoded::Infinity => return Ok(i64::MAX),
        Decoded::MinusInfinity => return Ok(i64::MIN),
        Decoded::Epoch => return Ok(-PG_EPOCH_MICROS),
        Decoded::Moment(moment) => moment,
    };
    let timestamp_out_of_range =
        || Error::new("22008", format!("timestamp out of range: \"{text}\""));
    if !julian_valid(moment.year, moment.month) {
        return Err(timestamp_out_of_range());
    }
    let local = pg_days(moment.year, moment.month, moment.day)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|micros| micros.checked_add(moment.time_micros))
        .ok_or_else(timestamp_out_of_range)?;
    let micros = if with_zone {
        local - i64::from(moment.offset_east) * MICROS_PER_SECOND
    } else {
        local
    };
    if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&micros) {
        return Err(timestamp_out_of_range());
    }
    Ok(micros)
}

/// `YYYY-MM-DD[( |T)HH:MM:SS[.ffffff]][Z|±HH[:MM]]`, the form most text has, read without
/// the general decoder; `None` for anything else.
fn parse_iso_timestamp(text: &str, with_zone: bool, zone: &Zone) -> Option<i64> {
    let (year, month, day) = iso_date(text.get(..10)?)?;
    let rest = &text[10..];
    let (time_micros, rest) = if rest.is_empty() {
        (0, rest)
    } else {
        let rest = rest.strip_prefix([' ', 'T'])?;
        let end = rest
            .find(|c: char| !c.is_ascii_digit() && c != ':' && c != '.')
            .unwrap_or(rest.len());
        (iso_time(&rest[..end])?, &rest[end..])
    };
    let explicit = match rest {
        "" => None,
        "Z" | "z" => Some(0),
        offset => {
            let bytes = offset.as_bytes();
            let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            let (hours, minutes) = match bytes.len() {
                3 if digits_only(&offset[1..]) => (&offset[1..3], "00"),
                6 if bytes[3] == b':' => (&offset[1..3], &offset[4..6]),
                5 if digits_only(&offset[1..]) => (&offset[1..3], &offset[3..5]),
                _ => return None,
            };
            if !digits_only(hours) || !digits_only(minutes) {
                return None;
            }
            let east = hours.parse::<i32>().ok()? * 3600 + minutes.parse::<i32>().ok()? * 60;
            match bytes[0] {
                b'+' => Some(east),
                b'-' => Some(-east),
                _ => return None,
            }
        }
    };
    let local = pg_days(year, month, day) * MICROS_PER_DAY + time_micros;
    if !with_zone {
        return Some(local);
    }
    let offset = match explicit {
        Some(east) => east,
        None => zone.offset_of_local(local + PG_EPOCH_MICROS),
    };
    Some(local - i64::from(offset) * MICROS_PER_SECOND)
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
        assert_eq!(
            parse_time("13:45:06.5", &InputOptions::UTC).unwrap(),
            49_506_500_000
        );
        assert_eq!(
            parse_time("1:05 pm", &InputOptions::UTC).unwrap(),
            46_800_000_000 + 300_000_000
        );
        assert_eq!(
            parse_time("24:00", &InputOptions::UTC).unwrap(),
            86_400_000_000
        );
        assert_eq!(
            parse_time("25:00", &InputOptions::UTC).unwrap_err().code,
            "22008"
        );
        assert_eq!(
            parse_time("noon", &InputOptions::UTC).unwrap_err().code,
            "22007"
        );
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
