//! Date and time input in every form PostgreSQL reads, not only ISO 8601: what each
//! `DateStyle` prints (`12/17/1997`, `17.12.1997`, `Wed Dec 17 07:37:16 1997 PST`) and
//! the other forms its documentation lists (`January 8, 1999`, `1999-Jan-08`,
//! `19990108`, `J2451187`, `99 BC`).
//!
//! The text is cut into fields — numbers, words, dates with separators, times with
//! colons, zone offsets — and the fields are then given meaning, as PostgreSQL's
//! `DecodeDateTime` does: a month name fixes the month, a number of more than two digits
//! is a year, and an all-numeric date is read in the session's field order (`DateOrder`)
//! unless its first part has more than two digits (then it is year-month-day). Two-digit
//! years mean 1970–2069. Weekday names are read and ignored.
//!
//! `parse_date` and `parse_timestamp` try the ISO form first (the common case, and the
//! fast one) and come here when it does not fit.

use crate::calendar::{MICROS_PER_SECOND, PG_EPOCH_DAYS};
use crate::error::{Error, Result};
use crate::output::DateOrder;
use crate::zone::{Zone, parse_offset};

/// A date and time read from text.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// Days since 2000-01-01.
    pub days: Option<i64>,
    /// Microseconds since midnight.
    pub time_micros: Option<i64>,
    /// A zone the text names.
    pub zone: Option<Zone>,
}

/// The longest text read; PostgreSQL's own limit on a date/time string is similar.
const MAX_TEXT_BYTES: usize = 256;

/// Julian day number of 2000-01-01.
const JULIAN_OF_PG_EPOCH: i64 = 2_451_545;

#[derive(Debug)]
enum Field<'a> {
    /// Digits, maybe with a fraction (`1997`, `17`, `073716.5`).
    Number(&'a str),
    /// A date with separators (`1997-12-17`, `12/17/1997`, `Dec-17-1997`).
    Date(&'a str),
    /// A time of day (`07:37:16.5`).
    Time(&'a str),
    /// A signed zone offset (`-08`, `+05:30`).
    Offset(&'a str),
    /// A word, lower case (`dec`, `wed`, `pst`, `bc`, `america/los_angeles`).
    Word(String),
}

fn is_separator(c: u8) -> bool {
    matches!(c, b'-' | b'/' | b'.')
}

/// The fields of `text` (with ISO's `T` between date and time already a space).
fn fields(text: &str) -> Option<Vec<Field<'_>>> {
    let bytes = text.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    let run = |mut j: usize, accept: &dyn Fn(u8) -> bool| {
        while j < bytes.len() && accept(bytes[j]) {
            j += 1;
        }
        j
    };
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() || c == b',' {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() {
            let digits_end = run(i, &|b| b.is_ascii_digit());
            match bytes.get(digits_end) {
                Some(b':') => {
                    i = run(digits_end, &|b| {
                        b.is_ascii_digit() || b == b':' || b == b'.'
                    });
                    fields.push(Field::Time(&text[start..i]));
                }
                Some(&b) if is_separator(b) => {
                    i = run(digits_end, &|b| {
                        b.is_ascii_alphanumeric() || is_separator(b)
                    });
                    let token = &text[start..i];
                    // One '.' between digits is a fraction, not a date.
                    let separators = token.bytes().filter(|&b| is_separator(b)).count();
                    if separators == 1
                        && b == b'.'
                        && token.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    {
                        fields.push(Field::Number(token));
                    } else {
                        fields.push(Field::Date(token));
                    }
                }
                _ => {
                    i = digits_end;
                    fields.push(Field::Number(&text[start..i]));
                }
            }
        } else if c == b'+' || c == b'-' {
            if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            i = run(i + 1, &|b| b.is_ascii_digit() || b == b':');
            fields.push(Field::Offset(&text[start..i]));
        } else if c.is_ascii_alphabetic() {
            let letters_end = run(i, &|b| b.is_ascii_alphabetic());
            let word = text[start..letters_end].to_ascii_lowercase();
            match bytes.get(letters_end) {
                // A zone name: `America/New_York`, `EST5EDT`, `Etc/GMT+8`.
                Some(b'/' | b'_') => {
                    i = run(letters_end, &|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'+' | b'-')
                    });
                    fields.push(Field::Word(text[start..i].to_ascii_lowercase()));
                }
                // A month name leading a date: `Dec-17-1997`.
                Some(&b) if is_separator(b) && month_number(&word).is_some() => {
                    i = run(letters_end, &|b| {
                        b.is_ascii_alphanumeric() || is_separator(b)
                    });
                    fields.push(Field::Date(&text[start..i]));
                }
                // A Julian day: `J2451187`.
                Some(b) if b.is_ascii_digit() && word == "j" => {
                    i = letters_end;
                    fields.push(Field::Word(word));
                }
                Some(b) if b.is_ascii_digit() => {
                    i = run(letters_end, &|b| b.is_ascii_alphanumeric());
                    fields.push(Field::Word(text[start..i].to_ascii_lowercase()));
                }
                _ => {
                    i = letters_end;
                    fields.push(Field::Word(word));
                }
            }
        } else {
            return None;
        }
    }
    Some(fields)
}

fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if word.len() < 3 {
        return None;
    }
    if word == "sept" {
        return Some(9);
    }
    let position = MONTHS.iter().position(|m| m.starts_with(word))?;
    Some(position as u32 + 1)
}

fn is_weekday(word: &str) -> bool {
    const DAYS: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    word.len() >= 3 && DAYS.iter().any(|d| d.starts_with(word))
        || matches!(word, "tues" | "wednes" | "thur" | "thurs")
}

/// Zone abbreviations PostgreSQL's `Default` set knows, as seconds east of UTC. A
/// daylight abbreviation means the summer offset whatever the date.
fn abbreviation_offset(word: &str) -> Option<i32> {
    let hours = |h: i32| h * 3600;
    Some(match word {
        "utc" | "gmt" | "ut" | "z" | "zulu" | "wet" => 0,
        "est" => hours(-5),
        "edt" => hours(-4),
        "cst" => hours(-6),
        "cdt" => hours(-5),
        "mst" => hours(-7),
        "mdt" => hours(-6),
        "pst" => hours(-8),
        "pdt" => hours(-7),
        "akst" => hours(-9),
        "akdt" => hours(-8),
        "hst" => hours(-10),
        "ast" => hours(-4),
        "adt" => hours(-3),
        "nst" => -(3 * 3600 + 1800),
        "ndt" => -(2 * 3600 + 1800),
        "west" | "bst" | "cet" | "met" => hours(1),
        "cest" | "mest" | "eet" | "ist" => hours(2),
        "eest" | "msk" => hours(3),
        "awst" | "hkt" | "sgt" => hours(8),
        "jst" | "kst" => hours(9),
        "acst" => 9 * 3600 + 1800,
        "acdt" => 10 * 3600 + 1800,
        "aest" => hours(10),
        "aedt" => hours(11),
        "nzst" => hours(12),
        "nzdt" => hours(13),
        _ => return None,
    })
}

/// A number field as it was written: its value and how many digits it had.
#[derive(Clone, Copy, Debug)]
struct Number {
    value: i64,
    digits: usize,
}

fn number(text: &str) -> Option<Number> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Number {
        value: text.parse().ok()?,
        digits: text.len(),
    })
}

/// What the fields have said so far.
#[derive(Default)]
struct Parts {
    year: Option<Number>,
    month: Option<u32>,
    day: Option<Number>,
    /// Numbers not yet placed (`17` and `1997` of `Dec 17 1997`).
    loose: Vec<Number>,
    time_micros: Option<i64>,
    julian_days: Option<i64>,
    /// `day` counts from the start of the year (`1999.008`).
    day_of_year: bool,
    zone: Option<Zone>,
    bc: bool,
    pm: Option<bool>,
}

pub(crate) fn decode(text: &str, order: DateOrder, ty: &str) -> Result<Decoded> {
    let syntax = || {
        Error::new(
            "22007",
            format!("invalid input syntax for type {ty}: \"{text}\""),
        )
    };
    let out_of_range = || {
        Error::new(
            "22008",
            format!("date/time field value out of range: \"{text}\""),
        )
    };
    if text.len() > MAX_TEXT_BYTES {
        return Err(syntax());
    }
    // ISO's `T` between a date and a time reads as a space.
    let spaced: String = text
        .char_indices()
        .map(|(i, c)| {
            let between_digits = i > 0
                && text.as_bytes()[i - 1].is_ascii_digit()
                && text.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit);
            if matches!(c, 'T' | 't') && between_digits {
                ' '
            } else {
                c
            }
        })
        .collect();
    let fields = fields(&spaced).ok_or_else(syntax)?;
    let mut parts = Parts::default();
    let mut expect_julian = false;
    for field in fields {
        if expect_julian {
            let Field::Number(digits) = field else {
                return Err(syntax());
            };
            let julian = number(digits).ok_or_else(syntax)?;
            parts.julian_days = Some(julian.value - JULIAN_OF_PG_EPOCH);
            expect_julian = false;
            continue;
        }
        match field {
            Field::Time(time) => {
                if parts.time_micros.is_some() {
                    return Err(syntax());
                }
                parts.time_micros = Some(time_of_day(time).ok_or_else(syntax)??);
            }
            Field::Offset(offset) => {
                if parts.zone.is_some() {
                    return Err(syntax());
                }
                // `-0800`, `+05:30`; a bare `-8` counts hours.
                parts.zone = Some(Zone::Fixed(parse_offset(offset).ok_or_else(syntax)?));
            }
            Field::Date(date) => date_field(date, order, &mut parts).ok_or_else(syntax)??,
            Field::Number(digits) => {
                if let Some((whole, fraction)) = digits.split_once('.') {
                    // `1999.008`: a year and a day of the year.
                    let (year, day_of_year) = (number(whole), number(fraction));
                    let (Some(year), Some(day_of_year)) = (year, day_of_year) else {
                        return Err(syntax());
                    };
                    if parts.year.is_some() || day_of_year.value == 0 {
                        return Err(syntax());
                    }
                    parts.year = Some(year);
                    parts.month = Some(1);
                    parts.day = Some(day_of_year);
                    parts.day_of_year = true;
                    continue;
                }
                let value = number(digits).ok_or_else(syntax)?;
                let have_date = parts.year.is_some() && parts.day.is_some();
                match digits.len() {
                    // `19971217`, `971217` before a date; `073716` as a time after one.
                    8 | 6 if !have_date && parts.month.is_none() => {
                        let split = digits.len() - 4;
                        parts.year = Some(number(&digits[..split]).ok_or_else(syntax)?);
                        parts.month = Some(digits[split..split + 2].parse().map_err(|_| syntax())?);
                        parts.day = Some(number(&digits[split + 2..]).ok_or_else(syntax)?);
                    }
                    6 | 4 if have_date && parts.time_micros.is_none() => {
                        let hours = &digits[..2];
                        let minutes = &digits[2..4];
                        let seconds = digits.get(4..).unwrap_or("00");
                        let time = format!("{hours}:{minutes}:{seconds}");
                        parts.time_micros = Some(time_of_day(&time).ok_or_else(syntax)??);
                    }
                    _ => parts.loose.push(value),
                }
            }
            Field::Word(word) => match word.as_str() {
                "ad" | "t" | "on" | "at" => {}
                "bc" => parts.bc = true,
                "am" | "pm" => parts.pm = Some(word == "pm"),
                "allballs" => parts.time_micros = Some(0),
                "j" | "julian" => expect_julian = true,
                _ => {
                    if let Some(month) = month_number(&word) {
                        if parts.month.is_some() {
                            return Err(syntax());
                        }
                        parts.month = Some(month);
                    } else if is_weekday(&word) {
                    } else if let Some(offset) = abbreviation_offset(&word) {
                        if parts.zone.is_some() {
                            return Err(syntax());
                        }
                        parts.zone = Some(Zone::Fixed(offset));
                    } else if let Some(zone) = Zone::parse(&word) {
                        if parts.zone.is_some() {
                            return Err(syntax());
                        }
                        parts.zone = Some(zone);
                    } else {
                        return Err(syntax());
                    }
                }
            },
        }
    }
    if expect_julian {
        return Err(syntax());
    }
    place_loose_numbers(&mut parts).ok_or_else(syntax)?;
    if let Some(pm) = parts.pm {
        let micros = parts.time_micros.ok_or_else(syntax)?;
        let hour = micros / (3600 * MICROS_PER_SECOND);
        if !(1..=12).contains(&hour) {
            return Err(out_of_range());
        }
        let morning = micros % (12 * 3600 * MICROS_PER_SECOND);
        parts.time_micros = Some(morning + if pm { 12 * 3600 * MICROS_PER_SECOND } else { 0 });
    }
    let days = match (parts.julian_days, parts.year, parts.month, parts.day) {
        (Some(days), None, None, None) => Some(days),
        (None, Some(year), Some(month), Some(day)) => {
            let mut year_value = year.value;
            if parts.bc {
                if year_value == 0 {
                    return Err(out_of_range());
                }
                year_value = 1 - year_value;
            } else if year.digits <= 2 {
                year_value += if year_value < 70 { 2000 } else { 1900 };
            }
            if !(1..=12).contains(&month) {
                let error = out_of_range();
                return Err(if month <= 31 && day.value <= 12 {
                    error.with_hint("Perhaps you need a different \"datestyle\" setting.")
                } else {
                    error
                });
            }
            let Ok(day_value) = u32::try_from(day.value) else {
                return Err(out_of_range());
            };
            let days = if parts.day_of_year {
                let first = calendar_days(year_value, 1, 1).ok_or_else(out_of_range)?;
                let last = calendar_days(year_value, 12, 31).ok_or_else(out_of_range)?;
                let days = first + i64::from(day_value) - 1;
                if days > last {
                    return Err(out_of_range());
                }
                days
            } else {
                calendar_days(year_value, month, day_value).ok_or_else(out_of_range)?
            };
            Some(days)
        }
        (None, None, None, None) => None,
        _ => return Err(syntax()),
    };
    Ok(Decoded {
        days,
        time_micros: parts.time_micros,
        zone: parts.zone,
    })
}

/// Days from 2000-01-01 of a valid calendar date.
fn calendar_days(year: i64, month: u32, day: u32) -> Option<i64> {
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)?;
    let days = (date - epoch).num_days();
    debug_assert_eq!(
        days + i64::from(PG_EPOCH_DAYS),
        crate::calendar::days_from_civil(year, month, day)
    );
    Some(days)
}

/// `HH:MM[:SS[.ffffff]]` as microseconds; `None` for bad syntax, `Some(Err)` out of range.
fn time_of_day(text: &str) -> Option<Result<i64>> {
    let mut parts = text.split(':');
    let hours = number(parts.next()?)?;
    let minutes = number(parts.next()?)?;
    let (seconds, micros) = match parts.next() {
        None => (0, 0),
        Some(seconds) => {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut digits: String = fraction.chars().take(7).collect();
            while digits.len() < 7 {
                digits.push('0');
            }
            let tenths: i64 = digits.parse().ok()?;
            (number(whole)?.value, (tenths + 5) / 10)
        }
    };
    if parts.next().is_some() || hours.digits > 2 || minutes.digits > 2 {
        return None;
    }
    let total = ((hours.value * 60 + minutes.value) * 60 + seconds) * MICROS_PER_SECOND + micros;
    if minutes.value > 59 || seconds > 60 || total > 24 * 3600 * MICROS_PER_SECOND {
        return Some(Err(Error::new(
            "22008",
            format!("date/time field value out of range: \"{text}\""),
        )));
    }
    Some(Ok(total))
}

/// A date field with separators: three parts, one of which may be a month name.
fn date_field(text: &str, order: DateOrder, parts: &mut Parts) -> Option<Result<()>> {
    if parts.year.is_some() || parts.day.is_some() {
        return None;
    }
    let pieces: Vec<&str> = text.split(|c: char| is_separator(c as u8)).collect();
    let [first, second, third] = pieces.as_slice() else {
        return None;
    };
    let named = [first, second, third]
        .iter()
        .position(|p| p.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()));
    match named {
        Some(position) => {
            if parts.month.is_some() {
                return None;
            }
            parts.month = Some(month_number(&pieces[position].to_ascii_lowercase())?);
            let numbers: Vec<Number> = pieces
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != position)
                .map(|(_, p)| number(p))
                .collect::<Option<_>>()?;
            let (a, b) = (numbers[0], numbers[1]);
            // A long number is the year; else the order decides which comes first.
            let (year, day) = if a.digits > 2 {
                (a, b)
            } else if b.digits > 2 {
                (b, a)
            } else if order == DateOrder::Ymd && position == 1 {
                (a, b)
            } else if order == DateOrder::Ymd {
                return Some(Err(Error::new(
                    "22008",
                    format!("date/time field value out of range: \"{text}\""),
                )));
            } else {
                (b, a)
            };
            parts.year = Some(year);
            parts.day = Some(day);
        }
        None => {
            let (a, b, c) = (number(first)?, number(second)?, number(third)?);
            let (year, month, day) = if a.digits > 2 {
                (a, b, c)
            } else {
                match order {
                    DateOrder::Mdy => (c, a, b),
                    DateOrder::Dmy => (c, b, a),
                    DateOrder::Ymd => (a, b, c),
                }
            };
            if parts.month.is_some() {
                return None;
            }
            parts.year = Some(year);
            parts.month = Some(u32::try_from(month.value).ok()?);
            parts.day = Some(day);
        }
    }
    Some(Ok(()))
}

/// Places the numbers that came alone: with a month named, the day (at most two digits,
/// the first such) and the year; they need a month to make sense.
fn place_loose_numbers(parts: &mut Parts) -> Option<()> {
    let loose = std::mem::take(&mut parts.loose);
    if loose.is_empty() {
        return Some(());
    }
    parts.month?;
    for value in loose {
        let could_be_day = value.digits <= 2 && (1..=31).contains(&value.value);
        if parts.day.is_none() && could_be_day && parts.julian_days.is_none() {
            parts.day = Some(value);
        } else if parts.year.is_none() {
            parts.year = Some(value);
        } else {
            return None;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(text: &str, order: DateOrder) -> i64 {
        decode(text, order, "date").unwrap().days.unwrap()
    }

    fn ymd(year: i64, month: u32, day: u32) -> i64 {
        calendar_days(year, month, day).unwrap()
    }

    #[test]
    fn the_documented_date_forms() {
        use DateOrder::*;
        let jan8 = ymd(1999, 1, 8);
        for text in [
            "January 8, 1999",
            "1999-Jan-08",
            "Jan-08-1999",
            "08-Jan-1999",
            "19990108",
            "990108",
            "1999.008",
            "J2451187",
            "Fri Jan 08 1999",
        ] {
            assert_eq!(days(text, Mdy), jan8, "{text}");
        }
        assert_eq!(days("1/8/1999", Mdy), jan8);
        assert_eq!(days("1/8/1999", Dmy), ymd(1999, 8, 1));
        assert_eq!(days("01/02/03", Mdy), ymd(2003, 1, 2));
        assert_eq!(days("01/02/03", Dmy), ymd(2003, 2, 1));
        assert_eq!(days("01/02/03", Ymd), ymd(2001, 2, 3));
        assert_eq!(days("99-Jan-08", Ymd), jan8);
        assert_eq!(days("08-Jan-99", Mdy), jan8);
        assert!(decode("08-Jan-99", Ymd, "date").is_err());
        assert_eq!(days("17.12.1997", Dmy), ymd(1997, 12, 17));
        assert_eq!(days("January 8, 99 BC", Mdy), ymd(-98, 1, 8));
        let wrong_order = decode("1/18/1999", Dmy, "date").unwrap_err();
        assert_eq!(wrong_order.code, "22008");
        assert!(wrong_order.hint.is_some());
        assert_eq!(decode("Febtober 3", Mdy, "date").unwrap_err().code, "22007");
    }

    #[test]
    fn timestamps_as_each_style_prints_them() {
        let decoded = decode("Wed Dec 17 07:37:16 1997 PST", DateOrder::Mdy, "t").unwrap();
        assert_eq!(decoded.days, Some(ymd(1997, 12, 17)));
        assert_eq!(decoded.time_micros, Some(27_436 * MICROS_PER_SECOND));
        assert_eq!(decoded.zone, Some(Zone::Fixed(-8 * 3600)));
        let decoded = decode("Wed 17 Dec 07:37:16.5 1997", DateOrder::Dmy, "t").unwrap();
        assert_eq!(decoded.days, Some(ymd(1997, 12, 17)));
        assert_eq!(decoded.time_micros, Some(27_436_500_000));
        let decoded = decode("12/17/1997 07:37:16-08", DateOrder::Mdy, "t").unwrap();
        assert_eq!(decoded.zone, Some(Zone::Fixed(-8 * 3600)));
        let decoded = decode("19971217T073716", DateOrder::Mdy, "t").unwrap();
        assert_eq!(decoded.time_micros, Some(27_436 * MICROS_PER_SECOND));
        let decoded = decode("Dec 17 1997 7:37 pm America/New_York", DateOrder::Mdy, "t");
        let decoded = decoded.unwrap();
        assert_eq!(
            decoded.time_micros,
            Some(19 * 3600 * MICROS_PER_SECOND + 37 * 60_000_000)
        );
        assert!(matches!(decoded.zone, Some(Zone::Named(_))));
    }
}
