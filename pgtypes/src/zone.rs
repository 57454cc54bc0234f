//! Time zones: the session's `TimeZone`, and zones written in timestamp input.
//!
//! A zone is a fixed offset or a zone of the tz database (chrono-tz). Offsets are seconds
//! *east* of UTC, as ISO 8601 writes them; POSIX-style settings (`UTC+3`) count west and
//! are turned around when read, as PostgreSQL does.

use std::str::FromStr;

use chrono::{Offset, TimeZone as _};

use crate::error::{Error, Result};

/// The largest offset PostgreSQL accepts: 15 days' worth of hours, in hours.
const MAX_OFFSET_HOURS: i32 = 15 * 24;

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
pub(crate) fn parse_offset(text: &str) -> Option<i32> {
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
    if hours > MAX_OFFSET_HOURS || minutes > 59 || seconds > 59 {
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
            if hours.abs() > f64::from(MAX_OFFSET_HOURS) {
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

    /// The zone's abbreviation at an instant (`PST`, `CEST`, `UTC`), as the non-ISO date
    /// styles print it; `None` for a fixed offset other than UTC.
    pub fn abbreviation_at(&self, unix_micros: i64) -> Option<String> {
        use chrono_tz::OffsetName;
        match self {
            Zone::Fixed(0) => Some("UTC".to_owned()),
            Zone::Fixed(_) => None,
            Zone::Named(tz) => {
                let utc = chrono::DateTime::from_timestamp_micros(unix_micros)?;
                tz.offset_from_utc_datetime(&utc.naive_utc())
                    .abbreviation()
                    .map(str::to_owned)
            }
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

impl FromStr for Zone {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Zone::parse(text).ok_or_else(|| {
            Error::new(
                "22023",
                format!("invalid value for parameter \"TimeZone\": \"{text}\""),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones() {
        assert_eq!(Zone::parse("UTC"), Some(Zone::UTC));
        assert_eq!(Zone::parse("5"), Some(Zone::Fixed(18_000)));
        assert_eq!(Zone::parse("<+05>-05"), Some(Zone::Fixed(18_000)));
        assert_eq!(Zone::parse("UTC+3"), Some(Zone::Fixed(-10_800)));
        assert_eq!(Zone::parse("Mars/Olympus"), None);
        assert_eq!("Mars/Olympus".parse::<Zone>().unwrap_err().code, "22023");
    }
}
