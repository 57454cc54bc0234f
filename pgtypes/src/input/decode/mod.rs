//! The second half of reading a date or time: giving the fields of `tokens` their
//! meaning, as PostgreSQL's `DecodeDateTime` and `DecodeTimeOnly` do, so that every form
//! PostgreSQL reads is read the same way and every form it refuses is refused with the
//! same error.
//!
//! Each field claims bits of a mask (year, month, day, hour, …); a field claiming a bit
//! already claimed is an error, which is what makes `Dec 17 Dec` or two times wrong. A
//! number's meaning depends on what came before it and on `DateOrder`: with nothing yet
//! it is a year if it has three or more digits, else the first field of the session's
//! order; then the next field of that order. Six or more digits run together are a date
//! (`19971217`) or, once a date is known, a time (`073716`). A word is a month, a
//! weekday, a zone abbreviation, a reserved word (`today`, `epoch`), a unit label
//! (`y2001m12`), or else a zone name. Years of one or two digits mean 1970–2069.

use super::tokens::{self, Keyword, Kind, Meridian, Reserved, Token, Unit};
use crate::calendar::{MICROS_PER_DAY, MICROS_PER_SECOND, PG_EPOCH_DAYS, civil_from_days};
use crate::error::Error;
use crate::output::DateOrder;
use crate::zone::Zone;

/// Why a text is refused, as PostgreSQL's `DTERR_*` codes.
#[derive(Debug)]
pub(crate) enum Refusal {
    BadFormat,
    FieldOverflow,
    /// A month or day out of range where the date order may be to blame.
    MonthDayOverflow,
    ZoneOverflow,
    /// An error with its own message (an unknown zone name).
    Other(Error),
}

impl Refusal {
    pub(crate) fn into_error(self, ty: &str, text: &str) -> Error {
        match self {
            Refusal::BadFormat => Error::new(
                "22007",
                format!("invalid input syntax for type {ty}: \"{text}\""),
            ),
            Refusal::FieldOverflow => Error::new(
                "22008",
                format!("date/time field value out of range: \"{text}\""),
            ),
            Refusal::MonthDayOverflow => Error::new(
                "22008",
                format!("date/time field value out of range: \"{text}\""),
            )
            .with_hint("Perhaps you need a different \"datestyle\" setting."),
            Refusal::ZoneOverflow => Error::new(
                "22009",
                format!("time zone displacement out of range: \"{text}\""),
            ),
            Refusal::Other(error) => error,
        }
    }
}

type Decoding<T> = std::result::Result<T, Refusal>;

/// What a date/time text says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    Epoch,
    Infinity,
    MinusInfinity,
    Moment(Moment),
}

/// A calendar date and time of day with the offset they are in.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Moment {
    /// Astronomical year (1 BC is 0), month 1–12, day 1–31.
    pub year: i64,
    pub month: u32,
    pub day: u32,
    /// Microseconds since midnight, up to 24:00:00.
    pub time_micros: i64,
    /// Seconds east of UTC: the zone the text names, else the session's.
    pub offset_east: i32,
}

/// The clock and zone `now`, `today` and zone-less text are read against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context {
    pub order: DateOrder,
    pub zone: Zone,
    pub now_unix_micros: i64,
}

// Mask bits, one per kind of field, as PostgreSQL's DTK_M().
pub(super) const RESERVED: u32 = 1 << 0;
pub(super) const MONTH: u32 = 1 << 1;
pub(super) const YEAR: u32 = 1 << 2;
pub(super) const DAY: u32 = 1 << 3;
pub(super) const TZ: u32 = 1 << 5;
pub(super) const DAYLIGHT_ZONE: u32 = 1 << 6;
pub(super) const MERIDIAN: u32 = 1 << 9;
pub(super) const HOUR: u32 = 1 << 10;
pub(super) const MINUTE: u32 = 1 << 11;
pub(super) const SECOND: u32 = 1 << 12;
pub(super) const DAY_OF_YEAR: u32 = 1 << 15;
pub(super) const WEEKDAY: u32 = 1 << 16;
pub(super) const ERA: u32 = 1 << 18;
pub(super) const DAYLIGHT_MODIFIER: u32 = 1 << 28;
pub(super) const DATE_M: u32 = YEAR | MONTH | DAY;
pub(super) const TIME_M: u32 = HOUR | MINUTE | SECOND;

pub(super) const MAX_ZONE_HOURS: i64 = 15;

mod fields;
#[cfg(test)]
mod tests;

use fields::{Fields, decode_offset, digits_value, unknown_zone, zone_name};

/// Julian day number of 1970-01-01.
const JULIAN_OF_UNIX_EPOCH: i64 = 2_440_588;

/// Decodes a date, timestamp or timestamptz text (`DecodeDateTime`).
pub(crate) fn decode_date_time(text: &str, context: &Context) -> Decoding<Decoded> {
    let tokens = tokens::tokenize(text).ok_or(Refusal::BadFormat)?;
    let mut d = Fields {
        order: context.order,
        ..Fields::default()
    };
    for (index, token) in tokens.iter().enumerate() {
        let mask = d.mask;
        let bits = match token.kind {
            Kind::Date => {
                if d.unit == Some(Unit::Julian) {
                    // `j2452271-08`: a Julian day with a zone run on.
                    let (value, rest) = digits_value(&token.text)?;
                    d.set_julian(value)?;
                    d.offset_east = Some(decode_offset(rest)?);
                    d.unit = None;
                    DATE_M | TIME_M | TZ
                } else if d.unit.is_some() || mask & (MONTH | DAY) == MONTH | DAY {
                    // A date is known: a zone name or a time with a zone run on.
                    if token.text.as_bytes()[0].is_ascii_digit() || d.unit.is_some() {
                        if d.unit.take().is_some_and(|u| u != Unit::Time) {
                            return Err(Refusal::BadFormat);
                        }
                        run_on_time(&mut d, &token.text, mask)?
                    } else {
                        d.named_zone =
                            Some(zone_name(&token.text).ok_or_else(|| unknown_zone(&token.text))?);
                        TZ
                    }
                } else {
                    d.date(&token.text, mask)?
                }
            }
            Kind::Time => {
                if let Some(unit) = d.unit.take()
                    && unit != Unit::Time
                {
                    return Err(Refusal::BadFormat);
                }
                let bits = d.time(&token.text)?;
                if time_overflows(&d) {
                    return Err(Refusal::FieldOverflow);
                }
                bits
            }
            Kind::Offset => {
                d.offset_east = Some(decode_offset(&token.text)?);
                TZ
            }
            Kind::Number => {
                if let Some(unit) = d.unit.take() {
                    d.labelled(unit, &token.text, mask)?
                } else {
                    let length = token.text.len();
                    let point = token.text.find('.');
                    if point.is_some() && mask & DATE_M == 0 {
                        d.date(&token.text, mask)?
                    } else if point.is_some_and(|p| p > 2)
                        || (length >= 6 && (mask & DATE_M == 0 || mask & TIME_M == 0))
                    {
                        // `040506.789`, `20011227`, `040506`: a run of fields.
                        d.number_run(&token.text, mask)?
                    } else {
                        d.number(&token.text, mask)?
                    }
                }
            }
            Kind::Word | Kind::Special => word(&mut d, &tokens, index, context, true)?,
        };
        d.claim(bits)?;
    }
    if d.unit.is_some() {
        return Err(Refusal::BadFormat);
    }
    validate_date(&mut d)?;
    apply_meridian(&mut d)?;
    match d.special {
        Some(Reserved::Epoch) => return Ok(Decoded::Epoch),
        Some(Reserved::Infinity) => return Ok(Decoded::Infinity),
        Some(Reserved::MinusInfinity) => return Ok(Decoded::MinusInfinity),
        _ => {}
    }
    if d.mask & DATE_M != DATE_M {
        return Err(Refusal::BadFormat);
    }
    let moment = finish(&d, context)?;
    Ok(Decoded::Moment(moment))
}

/// `040506-08` after a date (or `t`): a run-together time with a zone.
fn run_on_time(d: &mut Fields, text: &str, mask: u32) -> Decoding<u32> {
    if mask & TIME_M == TIME_M {
        return Err(Refusal::BadFormat);
    }
    let dash = text.find('-').ok_or(Refusal::BadFormat)?;
    d.offset_east = Some(decode_offset(&text[dash..])?);
    let bits = d.number_run(&text[..dash], mask | DATE_M)?;
    Ok(bits | TZ)
}

/// A word: a zone abbreviation, a keyword, or a zone name.
fn word(
    d: &mut Fields,
    tokens: &[Token],
    index: usize,
    context: &Context,
    with_date: bool,
) -> Decoding<u32> {
    let text = tokens[index].text.as_str();
    if let Some((east, daylight)) = tokens::zone_abbreviation(text) {
        d.offset_east = Some(east);
        return Ok(if daylight { TZ | DAYLIGHT_ZONE } else { TZ });
    }
    let Some(keyword) = tokens::keyword(text) else {
        d.named_zone = Some(zone_name(text).ok_or(Refusal::BadFormat)?);
        return Ok(TZ);
    };
    Ok(match keyword {
        Keyword::Reserved(reserved) => match reserved {
            Reserved::Now => {
                let local = context.now_unix_micros
                    + i64::from(context.zone.offset_at(context.now_unix_micros))
                        * MICROS_PER_SECOND;
                if with_date {
                    d.set_date_of(local.div_euclid(MICROS_PER_DAY));
                }
                d.set_time_micros(local.rem_euclid(MICROS_PER_DAY));
                d.offset_east = Some(context.zone.offset_at(context.now_unix_micros));
                if with_date {
                    DATE_M | TIME_M | TZ
                } else {
                    TIME_M
                }
            }
            Reserved::Today | Reserved::Tomorrow | Reserved::Yesterday if with_date => {
                let shift = match reserved {
                    Reserved::Tomorrow => 1,
                    Reserved::Yesterday => -1,
                    _ => 0,
                };
                let local = context.now_unix_micros
                    + i64::from(context.zone.offset_at(context.now_unix_micros))
                        * MICROS_PER_SECOND;
                d.set_date_of(local.div_euclid(MICROS_PER_DAY) + shift);
                DATE_M
            }
            Reserved::Zulu => {
                d.set_time_micros(0);
                d.offset_east = Some(0);
                TIME_M | TZ
            }
            Reserved::Epoch | Reserved::Infinity | Reserved::MinusInfinity if with_date => {
                d.special = Some(reserved);
                RESERVED
            }
            _ => return Err(Refusal::BadFormat),
        },
        Keyword::Month(month) if with_date => {
            let mut bits = MONTH;
            // A number read as the month was the day: `17 dec 1997`.
            if d.mask & MONTH != 0
                && !d.text_month
                && d.mask & DAY == 0
                && (1..=31).contains(&d.month)
            {
                d.day = d.month;
                d.mask &= !MONTH;
                bits |= DAY;
            }
            d.text_month = true;
            d.month = i64::from(month);
            bits
        }
        Keyword::Weekday if with_date => WEEKDAY,
        Keyword::Meridian(meridian) => {
            d.meridian = Some(meridian);
            MERIDIAN
        }
        Keyword::Era(bc) => {
            d.bc = bc;
            ERA
        }
        Keyword::DaylightModifier => {
            let east = d.offset_east.ok_or(Refusal::BadFormat)?;
            d.offset_east = Some(east + 3600);
            DAYLIGHT_MODIFIER | DAYLIGHT_ZONE
        }
        Keyword::Unit(unit) => {
            if d.unit.is_some() {
                return Err(Refusal::BadFormat);
            }
            d.unit = Some(unit);
            0
        }
        Keyword::IsoTime => {
            if with_date && d.mask & DATE_M != DATE_M {
                return Err(Refusal::BadFormat);
            }
            let next = tokens.get(index + 1).map(|t| t.kind);
            if !matches!(next, Some(Kind::Number | Kind::Time | Kind::Date)) {
                return Err(Refusal::BadFormat);
            }
            d.unit = Some(Unit::Time);
            0
        }
        Keyword::Ignored => 0,
        _ => return Err(Refusal::BadFormat),
    })
}

fn time_overflows(d: &Fields) -> bool {
    d.hour < 0 || d.hour > 24 || d.minute > 59 || d.second > 60 || d.time_micros() > MICROS_PER_DAY
}

/// Years made whole (BC, two digits), the day of the year placed, months and days
/// checked (`ValidateDate`).
fn validate_date(d: &mut Fields) -> Decoding<()> {
    if d.mask & DATE_M != 0 {
        if d.julian {
        } else if d.bc {
            if d.year <= 0 {
                return Err(Refusal::FieldOverflow);
            }
            d.year = 1 - d.year;
        } else if d.two_digit_year {
            if d.year < 70 {
                d.year += 2000;
            } else if d.year < 100 {
                d.year += 1900;
            }
        } else if d.year <= 0 {
            return Err(Refusal::FieldOverflow);
        }
    }
    if d.mask & DAY_OF_YEAR != 0 {
        let first = crate::calendar::days_from_civil(d.year, 1, 1);
        let (year, month, day) = civil_from_days(first + d.day_of_year - 1);
        (d.year, d.month, d.day) = (year, i64::from(month), i64::from(day));
    }
    if d.mask & MONTH != 0 && !(1..=12).contains(&d.month) {
        return Err(Refusal::MonthDayOverflow);
    }
    if d.mask & DAY != 0 && !(1..=31).contains(&d.day) {
        return Err(Refusal::MonthDayOverflow);
    }
    if d.mask & DATE_M == DATE_M && d.day > days_in_month(d.year, d.month) {
        return Err(Refusal::FieldOverflow);
    }
    Ok(())
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn apply_meridian(d: &mut Fields) -> Decoding<()> {
    if let Some(meridian) = d.meridian {
        if d.hour > 12 {
            return Err(Refusal::FieldOverflow);
        }
        match meridian {
            Meridian::Am if d.hour == 12 => d.hour = 0,
            Meridian::Pm if d.hour != 12 => d.hour += 12,
            _ => {}
        }
    }
    Ok(())
}

/// The date and time with their offset: the one the text gave, else the named zone's
/// or the session zone's at that wall-clock time.
fn finish(d: &Fields, context: &Context) -> Decoding<Moment> {
    let month = u32::try_from(d.month).map_err(|_| Refusal::FieldOverflow)?;
    let day = u32::try_from(d.day).map_err(|_| Refusal::FieldOverflow)?;
    let time_micros = d.time_micros();
    let local_unix = || {
        crate::calendar::days_from_civil(d.year, month, day)
            .saturating_mul(MICROS_PER_DAY)
            .saturating_add(time_micros)
    };
    let offset_east = if let Some(zone) = d.named_zone {
        if d.mask & DAYLIGHT_MODIFIER != 0 {
            return Err(Refusal::BadFormat);
        }
        zone.offset_of_local(local_unix())
    } else if let Some(east) = d.offset_east {
        east
    } else {
        if d.mask & DAYLIGHT_MODIFIER != 0 {
            return Err(Refusal::BadFormat);
        }
        context.zone.offset_of_local(local_unix())
    };
    Ok(Moment {
        year: d.year,
        month,
        day,
        time_micros,
        offset_east,
    })
}

/// Decodes a `time` text (`DecodeTimeOnly`): a time of day, perhaps with a date and a
/// zone, which are checked and dropped. Returns microseconds since midnight.
pub(crate) fn decode_time(text: &str, context: &Context) -> Decoding<i64> {
    let tokens = tokens::tokenize(text).ok_or(Refusal::BadFormat)?;
    let mut d = Fields {
        order: context.order,
        ..Fields::default()
    };
    let last_is_date = tokens.last().is_some_and(|t| t.kind == Kind::Date);
    let second_is_time = tokens.get(1).is_some_and(|t| t.kind == Kind::Time);
    for (index, token) in tokens.iter().enumerate() {
        let mask = d.mask;
        let bits = match token.kind {
            Kind::Date => {
                if index == 0 && tokens.len() >= 2 && (last_is_date || second_is_time) {
                    d.date(&token.text, mask)?
                } else if token.text.as_bytes()[0].is_ascii_digit() {
                    run_on_time(&mut d, &token.text, mask)?
                } else {
                    d.named_zone =
                        Some(zone_name(&token.text).ok_or_else(|| unknown_zone(&token.text))?);
                    TZ
                }
            }
            Kind::Time => {
                d.unit = None;
                d.time(&token.text)?
            }
            Kind::Offset => {
                d.offset_east = Some(decode_offset(&token.text)?);
                TZ
            }
            Kind::Number => {
                if let Some(unit) = d.unit.take() {
                    d.labelled(unit, &token.text, mask)?
                } else {
                    let point = token.text.find('.');
                    if let Some(point) = point {
                        if index == 0 && tokens.len() >= 2 && last_is_date {
                            d.date(&token.text, mask)?
                        } else if point > 2 {
                            d.number_run(&token.text, mask | DATE_M)?
                        } else {
                            return Err(Refusal::BadFormat);
                        }
                    } else if token.text.len() > 4 {
                        d.number_run(&token.text, mask | DATE_M)?
                    } else {
                        d.number(&token.text, mask | DATE_M)?
                    }
                }
            }
            Kind::Word | Kind::Special => word(&mut d, &tokens, index, context, false)?,
        };
        d.claim(bits)?;
    }
    validate_date(&mut d)?;
    apply_meridian(&mut d)?;
    if time_overflows(&d) || d.mask & TIME_M != TIME_M {
        return Err(if d.mask & TIME_M != TIME_M {
            Refusal::BadFormat
        } else {
            Refusal::FieldOverflow
        });
    }
    // A zone with daylight saving time needs a date to say which offset it means.
    if let Some(zone) = d.named_zone
        && !zone_is_fixed(zone)
        && d.mask & DATE_M != DATE_M
    {
        return Err(Refusal::BadFormat);
    }
    Ok(d.time_micros())
}

/// Whether a zone keeps one offset all year (checked at two instants half a year apart).
fn zone_is_fixed(zone: Zone) -> bool {
    let january = 1_704_067_200 * MICROS_PER_SECOND;
    let july = january + 182 * MICROS_PER_DAY;
    zone.offset_at(january) == zone.offset_at(july)
}

/// Days since 2000-01-01 of a civil date.
pub(crate) fn pg_days(year: i64, month: u32, day: u32) -> i64 {
    crate::calendar::days_from_civil(year, month, day) - i64::from(PG_EPOCH_DAYS)
}
