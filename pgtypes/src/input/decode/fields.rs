//! The fields of a date/time text as they are placed: the broken-down value (PostgreSQL's
//! `struct pg_tm` and the flags beside it) and the readers of each kind of field —
//! numbers, runs of digits, dates with separators, times, offsets and labelled numbers.

use super::tokens::{self, Keyword, Meridian, Reserved, Unit};
use super::*;
use crate::calendar::{MICROS_PER_SECOND, civil_from_days};

/// The broken-down value being built, as PostgreSQL's `struct pg_tm` and friends.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) mask: u32,
    pub(super) year: i64,
    pub(super) month: i64,
    pub(super) day: i64,
    pub(super) day_of_year: i64,
    pub(super) hour: i64,
    pub(super) minute: i64,
    pub(super) second: i64,
    pub(super) fraction_micros: i64,
    pub(super) two_digit_year: bool,
    pub(super) text_month: bool,
    pub(super) bc: bool,
    pub(super) julian: bool,
    pub(super) meridian: Option<Meridian>,
    /// Seconds east named by an offset or abbreviation.
    pub(super) offset_east: Option<i32>,
    pub(super) named_zone: Option<Zone>,
    /// The label of the next number (`y`, `m`, `t`, `j` …).
    pub(super) unit: Option<Unit>,
    pub(super) special: Option<Reserved>,
    pub(super) order: DateOrder,
}

pub(super) fn digits_value(text: &str) -> Decoding<(i64, &str)> {
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    if end == 0 {
        return Err(Refusal::BadFormat);
    }
    let value: i64 = text[..end].parse().map_err(|_| Refusal::FieldOverflow)?;
    if value > i64::from(i32::MAX) {
        return Err(Refusal::FieldOverflow);
    }
    Ok((value, &text[end..]))
}

/// `.ddd` as microseconds, rounded.
pub(super) fn fraction_micros(text: &str) -> Decoding<i64> {
    let digits = text.strip_prefix('.').ok_or(Refusal::BadFormat)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::BadFormat);
    }
    let value: f64 = format!("0.{digits}0")
        .parse()
        .map_err(|_| Refusal::BadFormat)?;
    Ok((value * 1_000_000.0).round() as i64)
}

/// A signed offset (`-08`, `+05:30`, `-0800`) as seconds east.
pub(super) fn decode_offset(text: &str) -> Decoding<i32> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => return Err(Refusal::BadFormat),
    };
    let (mut hours, mut rest) = digits_value(rest).map_err(|_| Refusal::ZoneOverflow)?;
    let (mut minutes, mut seconds) = (0, 0);
    if let Some(after) = rest.strip_prefix(':') {
        (minutes, rest) = digits_value(after).map_err(|_| Refusal::ZoneOverflow)?;
        if let Some(after) = rest.strip_prefix(':') {
            (seconds, rest) = digits_value(after).map_err(|_| Refusal::ZoneOverflow)?;
        }
    } else if rest.is_empty() && text.len() > 3 {
        minutes = hours % 100;
        hours /= 100;
    }
    if hours > MAX_ZONE_HOURS || minutes >= 60 || seconds >= 60 {
        return Err(Refusal::ZoneOverflow);
    }
    if !rest.is_empty() {
        return Err(Refusal::BadFormat);
    }
    let east = (hours * 60 + minutes) * 60 + seconds;
    Ok(if negative { -east } else { east } as i32)
}

pub(super) fn unknown_zone(name: &str) -> Refusal {
    Refusal::Other(Error::new(
        "22023",
        format!("time zone \"{name}\" not recognized"),
    ))
}

/// A zone named in full: tz database names and POSIX specifications (`gmt+8`).
pub(super) fn zone_name(name: &str) -> Option<Zone> {
    Zone::parse(name)
}

impl Fields {
    pub(super) fn claim(&mut self, bits: u32) -> Decoding<()> {
        if bits & self.mask != 0 {
            return Err(Refusal::BadFormat);
        }
        self.mask |= bits;
        Ok(())
    }

    /// A time `h:m[:s[.f]]` (or `m:s.f`).
    pub(super) fn time(&mut self, text: &str) -> Decoding<u32> {
        let (hour, rest) = digits_value(text)?;
        let rest = rest.strip_prefix(':').ok_or(Refusal::BadFormat)?;
        let (mut minute, rest) = digits_value(rest)?;
        let (mut hour, mut second, mut fraction) = (hour, 0, 0);
        if rest.starts_with('.') {
            // `mm:ss.fff`.
            fraction = fraction_micros(rest)?;
            second = minute;
            minute = hour;
            hour = 0;
        } else if let Some(after) = rest.strip_prefix(':') {
            let (s, rest) = digits_value(after)?;
            second = s;
            if !rest.is_empty() {
                fraction = fraction_micros(rest)?;
            }
        } else if !rest.is_empty() {
            return Err(Refusal::BadFormat);
        }
        if minute > 59 || second > 60 || fraction > MICROS_PER_SECOND {
            return Err(Refusal::FieldOverflow);
        }
        (self.hour, self.minute, self.second, self.fraction_micros) =
            (hour, minute, second, fraction);
        Ok(TIME_M)
    }

    /// A run of digits as a date (`19971217`, `971217`) or time (`073716[.5]`, `0737`).
    pub(super) fn number_run(&mut self, text: &str, mask: u32) -> Decoding<u32> {
        let mut digits = text;
        if let Some(point) = text.find('.') {
            self.fraction_micros = fraction_micros(&text[point..])?;
            digits = &text[..point];
        } else if mask & DATE_M != DATE_M && digits.len() >= 6 {
            let len = digits.len();
            let parse = |s: &str| s.parse::<i64>().map_err(|_| Refusal::FieldOverflow);
            self.day = parse(&digits[len - 2..])?;
            self.month = parse(&digits[len - 4..len - 2])?;
            self.year = parse(&digits[..len - 4])?;
            self.two_digit_year = len - 4 == 2;
            return Ok(DATE_M);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refusal::BadFormat);
        }
        if mask & TIME_M != TIME_M && matches!(digits.len(), 4 | 6) {
            let part = |range: std::ops::Range<usize>| {
                digits[range].parse::<i64>().map_err(|_| Refusal::BadFormat)
            };
            self.hour = part(0..2)?;
            self.minute = part(2..4)?;
            self.second = if digits.len() == 6 { part(4..6)? } else { 0 };
            return Ok(TIME_M);
        }
        Err(Refusal::BadFormat)
    }

    /// One number of a date, placed by what the mask already holds.
    pub(super) fn number(&mut self, text: &str, mask: u32) -> Decoding<u32> {
        let (value, rest) = digits_value(text)?;
        let length = text.len();
        if rest.starts_with('.') {
            if text.len() - rest.len() > 2 {
                return self.number_run(text, mask | DATE_M);
            }
            self.fraction_micros = fraction_micros(rest)?;
        } else if !rest.is_empty() {
            return Err(Refusal::BadFormat);
        }
        if length == 3 && mask & DATE_M == YEAR && (1..=366).contains(&value) {
            self.day_of_year = value;
            return Ok(DAY_OF_YEAR | MONTH | DAY);
        }
        let order = self.order;
        let claimed = match mask & DATE_M {
            0 => {
                if length >= 3 || order == DateOrder::Ymd {
                    self.year = value;
                    YEAR
                } else if order == DateOrder::Dmy {
                    self.day = value;
                    DAY
                } else {
                    self.month = value;
                    MONTH
                }
            }
            YEAR => {
                self.month = value;
                MONTH
            }
            MONTH => {
                if self.text_month && (length >= 3 || order == DateOrder::Ymd) {
                    self.year = value;
                    YEAR
                } else {
                    self.day = value;
                    DAY
                }
            }
            m if m == YEAR | MONTH => {
                if self.text_month && length >= 3 && self.two_digit_year {
                    // `dd-mon-yyyy` even in YMD order: the first number was the day.
                    self.day = self.year;
                    self.year = value;
                    self.two_digit_year = false;
                } else {
                    self.day = value;
                }
                DAY
            }
            DAY => {
                self.month = value;
                MONTH
            }
            m if m == MONTH | DAY => {
                self.year = value;
                YEAR
            }
            DATE_M => return self.number_run(text, mask),
            _ => return Err(Refusal::BadFormat),
        };
        if claimed == YEAR {
            self.two_digit_year = length <= 2;
        }
        Ok(claimed)
    }

    /// A date with separators: text months first, then the numbers in order.
    pub(super) fn date(&mut self, text: &str, mask: u32) -> Decoding<u32> {
        let mut pieces = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && !bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if i == bytes.len() {
                return Err(Refusal::BadFormat);
            }
            let start = i;
            let digit = bytes[i].is_ascii_digit();
            while i < bytes.len()
                && (if digit {
                    bytes[i].is_ascii_digit()
                } else {
                    bytes[i].is_ascii_alphabetic()
                })
            {
                i += 1;
            }
            pieces.push(&text[start..i]);
            if i < bytes.len() {
                i += 1;
            }
        }
        let mut mask = mask;
        let mut claimed = 0;
        let mut numbers = Vec::new();
        for piece in pieces {
            if piece.as_bytes()[0].is_ascii_alphabetic() {
                match tokens::keyword(piece) {
                    Some(Keyword::Month(month)) => {
                        if mask & MONTH != 0 {
                            return Err(Refusal::BadFormat);
                        }
                        self.month = i64::from(month);
                        self.text_month = true;
                        mask |= MONTH;
                        claimed |= MONTH;
                    }
                    Some(Keyword::Ignored) => {}
                    _ => return Err(Refusal::BadFormat),
                }
            } else {
                numbers.push(piece);
            }
        }
        for piece in numbers {
            let bits = self.number(piece, mask)?;
            if bits & mask != 0 {
                return Err(Refusal::BadFormat);
            }
            mask |= bits;
            claimed |= bits;
        }
        if mask & !(DAY_OF_YEAR | TZ) & DATE_M != DATE_M {
            return Err(Refusal::BadFormat);
        }
        Ok(claimed)
    }

    /// A number after a unit label (`y2001`, `j2451187.5`, `t040506`).
    pub(super) fn labelled(&mut self, unit: Unit, text: &str, mask: u32) -> Decoding<u32> {
        let (value, rest) = digits_value(text)?;
        if rest.starts_with('.') {
            if !matches!(unit, Unit::Julian | Unit::Time | Unit::Second) {
                return Err(Refusal::BadFormat);
            }
        } else if !rest.is_empty() {
            return Err(Refusal::BadFormat);
        }
        Ok(match unit {
            Unit::Year => {
                self.year = value;
                YEAR
            }
            Unit::Month if mask & MONTH != 0 && mask & HOUR != 0 => {
                self.minute = value;
                MINUTE
            }
            Unit::Month => {
                self.month = value;
                MONTH
            }
            Unit::Day => {
                self.day = value;
                DAY
            }
            Unit::Hour => {
                self.hour = value;
                HOUR
            }
            Unit::Minute => {
                self.minute = value;
                MINUTE
            }
            Unit::Second => {
                self.second = value;
                if !rest.is_empty() {
                    self.fraction_micros = fraction_micros(rest)?;
                }
                SECOND
            }
            Unit::Julian => {
                self.set_julian(value)?;
                let mut bits = DATE_M;
                if !rest.is_empty() {
                    let fraction: f64 =
                        format!("0{rest}").parse().map_err(|_| Refusal::BadFormat)?;
                    let micros = (fraction * MICROS_PER_DAY as f64).round() as i64;
                    self.set_time_micros(micros);
                    bits |= TIME_M;
                }
                bits
            }
            Unit::Time => {
                let bits = self.number_run(text, mask | DATE_M)?;
                if bits != TIME_M {
                    return Err(Refusal::BadFormat);
                }
                bits
            }
        })
    }

    pub(super) fn set_julian(&mut self, julian_day: i64) -> Decoding<()> {
        if julian_day < 0 {
            return Err(Refusal::FieldOverflow);
        }
        let (year, month, day) = civil_from_days(julian_day - JULIAN_OF_UNIX_EPOCH);
        (self.year, self.month, self.day) = (year, i64::from(month), i64::from(day));
        self.julian = true;
        Ok(())
    }

    pub(super) fn set_time_micros(&mut self, micros: i64) {
        self.hour = micros / (3600 * MICROS_PER_SECOND);
        self.minute = micros / (60 * MICROS_PER_SECOND) % 60;
        self.second = micros / MICROS_PER_SECOND % 60;
        self.fraction_micros = micros % MICROS_PER_SECOND;
    }

    pub(super) fn set_date_of(&mut self, days_since_unix: i64) {
        let (year, month, day) = civil_from_days(days_since_unix);
        (self.year, self.month, self.day) = (year, i64::from(month), i64::from(day));
        self.julian = true;
    }

    pub(super) fn time_micros(&self) -> i64 {
        ((self.hour * 60 + self.minute) * 60 + self.second) * MICROS_PER_SECOND
            + self.fraction_micros
    }
}
