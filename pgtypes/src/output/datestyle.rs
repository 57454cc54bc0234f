//! `DateStyle`: how dates and timestamps print, and in which order ambiguous date input
//! is read.
//!
//! The setting has two parts, either of which a `SET` may name alone: the output style
//! (`ISO`, `SQL`, `Postgres`, `German`) and the field order (`MDY`, `DMY`, `YMD`). The
//! order decides input like `01/02/2003` and how `SQL` and `Postgres` print the day and
//! month. `German` alone also sets `DMY`, as in PostgreSQL.
//!
//! | style    | date         | timestamptz (MDY)                 |
//! |----------|--------------|-----------------------------------|
//! | ISO      | `1997-12-17` | `1997-12-17 07:37:16-08`          |
//! | SQL      | `12/17/1997` | `12/17/1997 07:37:16 PST`         |
//! | Postgres | `12-17-1997` | `Wed Dec 17 07:37:16 1997 PST`    |
//! | German   | `17.12.1997` | `17.12.1997 07:37:16 PST`         |
//!
//! Outside ISO a timestamptz carries its zone's abbreviation, or its numeric offset when
//! the zone has none.

use std::fmt::{self, Write};

use crate::calendar::{MICROS_PER_DAY, civil_from_days};
use crate::error::{Error, Result};

/// The output style part of `DateStyle`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DateStyle {
    #[default]
    Iso,
    Sql,
    Postgres,
    German,
}

/// The field order part of `DateStyle`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DateOrder {
    #[default]
    Mdy,
    Dmy,
    Ymd,
}

/// A whole `DateStyle` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DateStyleSetting {
    pub style: DateStyle,
    pub order: DateOrder,
}

impl DateStyleSetting {
    /// `value` applied over `self`, read as PostgreSQL reads it: a list of words
    /// separated by commas or spaces, at most one style and one order.
    pub fn parse_over(self, value: &str) -> Result<DateStyleSetting> {
        let invalid = |detail: Option<&str>| {
            let error = Error::new(
                "22023",
                format!("invalid value for parameter \"DateStyle\": \"{value}\""),
            );
            match detail {
                Some(detail) => error.with_detail(detail),
                None => error,
            }
        };
        let conflicting = || invalid(Some("Conflicting \"datestyle\" specifications."));
        let mut style = None;
        let mut order = None;
        let words = value
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        for word in words {
            let (new_style, new_order) = match word.to_ascii_uppercase().as_str() {
                "ISO" => (Some(DateStyle::Iso), None),
                "SQL" => (Some(DateStyle::Sql), None),
                "POSTGRES" => (Some(DateStyle::Postgres), None),
                "GERMAN" => (Some(DateStyle::German), None),
                "YMD" => (None, Some(DateOrder::Ymd)),
                "DMY" | "EURO" | "EUROPEAN" => (None, Some(DateOrder::Dmy)),
                "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => (None, Some(DateOrder::Mdy)),
                // PostgreSQL ignores DEFAULT here: what follows it still applies.
                "DEFAULT" => (None, None),
                _ => {
                    let detail = format!("Unrecognized key word: \"{word}\".");
                    return Err(invalid(Some(&detail)));
                }
            };
            if let Some(new_style) = new_style {
                if style.is_some_and(|s| s != new_style) {
                    return Err(conflicting());
                }
                style = Some(new_style);
            }
            if let Some(new_order) = new_order {
                if order.is_some_and(|o| o != new_order) {
                    return Err(conflicting());
                }
                order = Some(new_order);
            }
        }
        let order = match (order, style) {
            (Some(order), _) => order,
            (None, Some(DateStyle::German)) => DateOrder::Dmy,
            (None, _) => self.order,
        };
        Ok(DateStyleSetting {
            style: style.unwrap_or(self.style),
            order,
        })
    }
}

impl fmt::Display for DateStyleSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let style = match self.style {
            DateStyle::Iso => "ISO",
            DateStyle::Sql => "SQL",
            DateStyle::Postgres => "Postgres",
            DateStyle::German => "German",
        };
        let order = match self.order {
            DateOrder::Mdy => "MDY",
            DateOrder::Dmy => "DMY",
            DateOrder::Ymd => "YMD",
        };
        write!(f, "{style}, {order}")
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// The calendar fields of a day count from 1970-01-01: year as printed (BC years count
/// up from 1), month, day, weekday (0 = Sunday), and whether it is BC.
fn fields(days_since_unix_epoch: i64) -> (i64, u32, u32, usize, bool) {
    let (year, month, day) = civil_from_days(days_since_unix_epoch);
    // 1970-01-01 was a Thursday.
    let weekday = (days_since_unix_epoch + 4).rem_euclid(7) as usize;
    let bc = year <= 0;
    let shown_year = if bc { 1 - year } else { year };
    (shown_year, month, day, weekday, bc)
}

/// A date in `setting`'s style (not ISO: `format_date` prints that).
pub fn format_date_styled(days_since_unix_epoch: i32, setting: DateStyleSetting) -> String {
    if days_since_unix_epoch == i32::MAX {
        return "infinity".into();
    }
    if days_since_unix_epoch == i32::MIN {
        return "-infinity".into();
    }
    let (year, month, day, _, bc) = fields(i64::from(days_since_unix_epoch));
    let dmy = setting.order == DateOrder::Dmy;
    let (first, second) = if dmy { (day, month) } else { (month, day) };
    let mut out = match setting.style {
        DateStyle::Iso => format!("{year:04}-{month:02}-{day:02}"),
        DateStyle::Sql => format!("{first:02}/{second:02}/{year:04}"),
        DateStyle::German => format!("{day:02}.{month:02}.{year:04}"),
        DateStyle::Postgres => format!("{first:02}-{second:02}-{year:04}"),
    };
    if bc {
        out.push_str(" BC");
    }
    out
}

/// `SS[.ffffff]` of a time of day in microseconds, trailing zeros of the fraction dropped.
fn seconds_text(within_day_micros: i64) -> String {
    let seconds = (within_day_micros / 1_000_000) % 60;
    let fraction = within_day_micros % 1_000_000;
    let mut out = format!("{seconds:02}");
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// A zone's offset as the non-ISO styles print it when the zone has no abbreviation:
/// `-08`, `+05:30`.
fn offset_text(offset_seconds: i32) -> String {
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let offset = offset_seconds.unsigned_abs();
    let mut out = format!("{sign}{:02}", offset / 3600);
    if !offset.is_multiple_of(60) {
        let _ = write!(out, ":{:02}:{:02}", (offset / 60) % 60, offset % 60);
    } else if !offset.is_multiple_of(3600) {
        let _ = write!(out, ":{:02}", (offset / 60) % 60);
    }
    out
}

/// A timestamp (local microseconds since 1970) in `setting`'s style, not ISO; with
/// `zone`, a timestamptz: the zone's abbreviation if it has one, else its offset.
pub fn format_timestamp_styled(
    local_micros: i64,
    zone: Option<(Option<&str>, i32)>,
    setting: DateStyleSetting,
) -> String {
    if local_micros == i64::MAX {
        return "infinity".into();
    }
    if local_micros == i64::MIN {
        return "-infinity".into();
    }
    let days = local_micros.div_euclid(MICROS_PER_DAY);
    let within = local_micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day, weekday, bc) = fields(days);
    let (hours, minutes) = (within / 3_600_000_000, (within / 60_000_000) % 60);
    let time = format!("{hours:02}:{minutes:02}:{}", seconds_text(within));
    let dmy = setting.order == DateOrder::Dmy;
    let (first, second) = if dmy { (day, month) } else { (month, day) };
    let mut out = match setting.style {
        DateStyle::Iso => format!("{year:04}-{month:02}-{day:02} {time}"),
        DateStyle::Sql => format!("{first:02}/{second:02}/{year:04} {time}"),
        DateStyle::German => format!("{day:02}.{month:02}.{year:04} {time}"),
        DateStyle::Postgres => {
            let month_name = MONTHS[(month as usize).saturating_sub(1) % 12];
            let weekday_name = WEEKDAYS[weekday];
            if dmy {
                format!("{weekday_name} {day:02} {month_name} {time} {year:04}")
            } else {
                format!("{weekday_name} {month_name} {day:02} {time} {year:04}")
            }
        }
    };
    if let Some((abbreviation, offset_seconds)) = zone {
        match abbreviation {
            Some(abbreviation) => {
                out.push(' ');
                out.push_str(abbreviation);
            }
            None => {
                // Postgres puts a space before a numeric zone so the text reads back.
                if setting.style == DateStyle::Postgres {
                    out.push(' ');
                }
                out.push_str(&offset_text(offset_seconds));
            }
        }
    }
    if bc {
        out.push_str(" BC");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(text: &str) -> DateStyleSetting {
        DateStyleSetting::default().parse_over(text).unwrap()
    }

    #[test]
    fn settings_read_as_postgresql_reads_them() {
        assert_eq!(setting("Postgres, MDY").to_string(), "Postgres, MDY");
        assert_eq!(setting("german").to_string(), "German, DMY");
        assert_eq!(setting("sql dmy").to_string(), "SQL, DMY");
        assert_eq!(setting("YMD").to_string(), "ISO, YMD");
        assert_eq!(setting("euro, postgres").to_string(), "Postgres, DMY");
        let sql_dmy = setting("SQL, DMY");
        assert_eq!(sql_dmy.parse_over("ISO").unwrap().to_string(), "ISO, DMY");
        let conflict = DateStyleSetting::default()
            .parse_over("ISO, SQL")
            .unwrap_err();
        assert_eq!(conflict.code, "22023");
        assert!(DateStyleSetting::default().parse_over("nonsense").is_err());
    }

    #[test]
    fn dates_in_each_style() {
        // 1997-12-17 is day 10_212 from 1970-01-01.
        let day = 10_212;
        assert_eq!(format_date_styled(day, setting("ISO")), "1997-12-17");
        assert_eq!(format_date_styled(day, setting("SQL, MDY")), "12/17/1997");
        assert_eq!(format_date_styled(day, setting("SQL, DMY")), "17/12/1997");
        assert_eq!(
            format_date_styled(day, setting("Postgres, MDY")),
            "12-17-1997"
        );
        assert_eq!(
            format_date_styled(day, setting("Postgres, DMY")),
            "17-12-1997"
        );
        assert_eq!(format_date_styled(day, setting("German")), "17.12.1997");
        assert_eq!(
            format_date_styled(-719_163, setting("SQL")),
            "12/31/0001 BC"
        );
    }

    #[test]
    fn timestamps_in_each_style() {
        let micros = 10_212 * MICROS_PER_DAY + ((7 * 60 + 37) * 60 + 16) * 1_000_000;
        let pst = Some((Some("PST"), -8 * 3600));
        let postgres = setting("Postgres, MDY");
        assert_eq!(
            format_timestamp_styled(micros, pst, postgres),
            "Wed Dec 17 07:37:16 1997 PST"
        );
        assert_eq!(
            format_timestamp_styled(micros + 500_000, None, postgres),
            "Wed Dec 17 07:37:16.5 1997"
        );
        assert_eq!(
            format_timestamp_styled(micros, None, setting("Postgres, DMY")),
            "Wed 17 Dec 07:37:16 1997"
        );
        assert_eq!(
            format_timestamp_styled(micros, pst, setting("SQL")),
            "12/17/1997 07:37:16 PST"
        );
        assert_eq!(
            format_timestamp_styled(micros, Some((None, 19_800)), setting("German")),
            "17.12.1997 07:37:16+05:30"
        );
        assert_eq!(
            format_timestamp_styled(micros, Some((None, -3 * 3600)), postgres),
            "Wed Dec 17 07:37:16 1997 -03"
        );
        assert_eq!(
            format_timestamp_styled(0, None, postgres),
            "Thu Jan 01 00:00:00 1970"
        );
    }
}
