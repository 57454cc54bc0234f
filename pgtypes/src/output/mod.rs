//! PostgreSQL's text output: what psql prints and what the text format of the wire
//! protocol carries. Booleans `t`/`f`; numbers (`numbers`); dates, times and intervals
//! (`datetime`); bytea as `\x…` hex; uuids in their 8-4-4-4-12 form; arrays as
//! `{1,2,NULL}` with elements quoted where PostgreSQL quotes them.
//!
//! How values print depends on session settings, gathered in `TextOptions`.

mod datestyle;
mod datetime;
mod intervalstyle;
mod numbers;

use std::fmt::Write;

pub use datestyle::{
    DateOrder, DateStyle, DateStyleSetting, format_date_styled, format_timestamp_styled,
};
pub use datetime::{
    format_date, format_interval, format_time_of_day, format_timestamp, format_timestamptz,
};
pub use intervalstyle::{IntervalStyle, format_interval_styled};
pub use numbers::{format_decimal, format_f32, format_f64};

use crate::calendar::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};
use crate::value::Value;
use crate::zone::Zone;

/// Session settings that change how values print.
#[derive(Clone, Debug)]
pub struct TextOptions {
    /// `extra_float_digits`: above 0, floats print in their shortest exact form.
    pub extra_float_digits: i32,
    /// The session time zone (timestamptz prints in it).
    pub time_zone: Zone,
    /// `DateStyle`: how dates and timestamps print.
    pub date_style: DateStyleSetting,
    /// `IntervalStyle`: how intervals print.
    pub interval_style: IntervalStyle,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            extra_float_digits: 1,
            time_zone: Zone::UTC,
            date_style: DateStyleSetting::default(),
            interval_style: IntervalStyle::default(),
        }
    }
}

pub fn format_bytea(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("\\x");
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

pub fn format_uuid(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An array element as it appears inside `{…}`: quoted when needed.
pub fn array_element(text: &str) -> String {
    let needs_quotes = text.is_empty()
        || text.eq_ignore_ascii_case("null")
        || text
            .chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\' | ' ' | '\t' | '\n'));
    if !needs_quotes {
        return text.to_owned();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A value in PostgreSQL's text output (UTC for timestamptz), for error details such as
/// `Key (id)=(1) already exists.`; NULL prints as `null`, as PostgreSQL's details do.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "t" } else { "f" }.into(),
        Value::Int2(v) => v.to_string(),
        Value::Int4(v) => v.to_string(),
        Value::Int8(v) => v.to_string(),
        Value::Float4(v) => format_f32(*v, 1),
        Value::Float8(v) => format_f64(*v, 1),
        Value::Numeric(n) => n.to_string(),
        Value::Text(s) | Value::Json(s) => s.clone(),
        Value::Bytea(b) => format_bytea(b),
        Value::Date(days) => format_date(days.saturating_add(PG_EPOCH_DAYS)),
        Value::Time(micros) => format_time_of_day(*micros),
        Value::Timestamp(micros) => format_timestamp(micros.saturating_add(PG_EPOCH_MICROS)),
        Value::TimestampTz(micros) => format_timestamptz(micros.saturating_add(PG_EPOCH_MICROS), 0),
        Value::Interval(i) => format_interval(i.months, i.days, i.micros),
        Value::Uuid(bytes) => format_uuid(bytes),
        Value::Array(items) => format!(
            "{{{}}}",
            items.iter().map(value_text).collect::<Vec<_>>().join(",")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytea_uuid_and_array_elements() {
        assert_eq!(format_bytea(&[0xde, 0xad]), "\\xdead");
        assert_eq!(
            format_uuid(&[
                0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38,
                0x0a, 0x11
            ]),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert_eq!(array_element("a b"), "\"a b\"");
        assert_eq!(array_element("NULL"), "\"NULL\"");
        assert_eq!(array_element("plain"), "plain");
    }

    #[test]
    fn values_in_error_details() {
        assert_eq!(value_text(&Value::Null), "null");
        assert_eq!(value_text(&Value::Date(0)), "2000-01-01");
        assert_eq!(value_text(&Value::TimestampTz(0)), "2000-01-01 00:00:00+00");
        assert_eq!(
            value_text(&Value::Array(vec![Value::Int4(1), Value::Null])),
            "{1,null}"
        );
    }
}
