//! PostgreSQL's text output for values held in Arrow arrays: what psql prints and what the
//! text format of the wire protocol carries.
//!
//! Booleans `t`/`f`; floats in PostgreSQL's shortest-exact form (`1e+100`, `1e-05`,
//! `Infinity`, `NaN`), or with `extra_float_digits` ≤ 0 in `%g` form with 15 (float8) or 6
//! (float4) significant digits plus that many; numerics with their scale; dates, times and
//! timestamps in ISO style (`2024-03-01 12:00:00.5+00`); intervals in PostgreSQL's style
//! (`1 year 2 mons 3 days 04:05:06`); bytea as `\x…` hex; arrays as `{1,2,NULL}`.

use std::fmt::Write;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Decimal256Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, IntervalMonthDayNanoType, IntervalUnit, Time64MicrosecondType,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

/// Session settings that change how values print.
#[derive(Clone, Debug)]
pub struct TextOptions {
    pub extra_float_digits: i32,
    /// The session time zone (timestamptz prints in it).
    pub time_zone: crate::datetime::Zone,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            extra_float_digits: 1,
            time_zone: crate::datetime::Zone::UTC,
        }
    }
}

/// Formats a float the way PostgreSQL does. `digits` is `DBL_DIG` (15) or `FLT_DIG` (6).
fn format_float(value: f64, shortest: String, digits: i32, extra: i32) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest exact digits (extra_float_digits > 0), else %g with fewer digits.
    let scientific = if extra > 0 {
        shortest
    } else {
        let precision = (digits + extra).max(1) as usize;
        format!("{:.*e}", precision - 1, value)
    };
    let (mantissa, exponent) = scientific.split_once('e').expect("scientific notation");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    let negative = mantissa.starts_with('-');
    let mut digits_only: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits_only.len() > 1 && digits_only.ends_with('0') {
        digits_only.pop();
    }
    let sign = if negative { "-" } else { "" };
    if exponent < -4 || exponent >= digits {
        let mut out = format!("{sign}{}", &digits_only[..1]);
        if digits_only.len() > 1 {
            out.push('.');
            out.push_str(&digits_only[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
        return out;
    }
    let mut out = sign.to_owned();
    if exponent < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exponent - 1) as usize));
        out.push_str(&digits_only);
    } else {
        let point = exponent as usize + 1;
        if digits_only.len() <= point {
            out.push_str(&digits_only);
            out.push_str(&"0".repeat(point - digits_only.len()));
        } else {
            out.push_str(&digits_only[..point]);
            out.push('.');
            out.push_str(&digits_only[point..]);
        }
    }
    out
}

pub fn format_f64(value: f64, extra: i32) -> String {
    format_float(value, format!("{value:e}"), 15, extra)
}

pub fn format_f32(value: f32, extra: i32) -> String {
    format_float(f64::from(value), format!("{value:e}"), 6, extra)
}

/// Inserts the decimal point into the digits of an unscaled decimal.
fn format_decimal(unscaled: String, scale: i8, trim: bool) -> String {
    let (negative, digits) = match unscaled.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, unscaled),
    };
    let mut out = String::new();
    if scale <= 0 {
        out.push_str(&digits);
        out.push_str(&"0".repeat((-scale) as usize));
    } else {
        let scale = scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale - digits.len() + 1))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        out.push_str(int);
        let frac = if trim {
            frac.trim_end_matches('0')
        } else {
            frac
        };
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
    }
    if negative && out.chars().any(|c| c != '0' && c != '.') {
        out.insert(0, '-');
    }
    out
}

/// `YYYY-MM-DD` of a day count from 1970-01-01 (BC years as PostgreSQL prints them).
pub fn format_date(days_since_unix_epoch: i32) -> String {
    if days_since_unix_epoch == i32::MAX {
        return "infinity".into();
    }
    if days_since_unix_epoch == i32::MIN {
        return "-infinity".into();
    }
    let (year, month, day) = civil_from_days(i64::from(days_since_unix_epoch));
    if year <= 0 {
        format!("{:04}-{month:02}-{day:02} BC", 1 - year)
    } else {
        format!("{year:04}-{month:02}-{day:02}")
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days from 1970-01-01 of a civil date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `HH:MM:SS[.ffffff]` with trailing zeros of the fraction dropped.
pub fn format_time_of_day(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// A timestamp from microseconds since 1970-01-01 (local time, no zone).
pub fn format_timestamp(micros: i64) -> String {
    if micros == i64::MAX {
        return "infinity".into();
    }
    if micros == i64::MIN {
        return "-infinity".into();
    }
    let days = micros.div_euclid(86_400_000_000);
    let within = micros.rem_euclid(86_400_000_000);
    let date = format_date(days as i32);
    match date.strip_suffix(" BC") {
        Some(date) => format!("{date} {} BC", format_time_of_day(within)),
        None => format!("{date} {}", format_time_of_day(within)),
    }
}

/// A UTC instant shown in the session time zone, with its offset (`+00`, `+05:30`).
pub fn format_timestamptz(micros_utc: i64, offset_seconds: i32) -> String {
    if micros_utc == i64::MAX || micros_utc == i64::MIN {
        return format_timestamp(micros_utc);
    }
    let local = format_timestamp(micros_utc + i64::from(offset_seconds) * 1_000_000);
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let offset = offset_seconds.unsigned_abs();
    let mut zone = format!("{sign}{:02}", offset / 3600);
    if !offset.is_multiple_of(3600) {
        let _ = write!(zone, ":{:02}", (offset / 60) % 60);
    }
    match local.strip_suffix(" BC") {
        Some(local) => format!("{local}{zone} BC"),
        None => format!("{local}{zone}"),
    }
}

/// PostgreSQL's default interval style: `1 year 2 mons 3 days 04:05:06`.
pub fn format_interval(months: i32, days: i32, micros: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let (years, months) = (months / 12, months % 12);
    let plural = |n: i64, unit: &str| -> String {
        if n == 1 {
            format!("{n} {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if years != 0 {
        parts.push(plural(i64::from(years), "year"));
    }
    if months != 0 {
        parts.push(plural(i64::from(months), "mon"));
    }
    if days != 0 {
        parts.push(plural(i64::from(days), "day"));
    }
    if micros != 0 || parts.is_empty() {
        let negative = micros < 0;
        let time = format_time_of_day_unbounded(micros.unsigned_abs());
        parts.push(if negative { format!("-{time}") } else { time });
    }
    parts.join(" ")
}

/// `H:MM:SS` where hours may exceed 24 (for intervals).
fn format_time_of_day_unbounded(micros: u64) -> String {
    let seconds = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

pub fn format_bytea(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("\\x");
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// An array element as it appears inside `{…}`: quoted when needed.
fn array_element(text: &str) -> String {
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

/// The text of row `row` of `array`, or `None` for NULL. `pg_oid` is the field's
/// PostgreSQL type (it decides, say, whether a decimal is a constrained numeric).
pub fn format(
    array: &ArrayRef,
    row: usize,
    pg_oid: u32,
    typmod: i32,
    options: &TextOptions,
) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let extra = options.extra_float_digits;
    Some(match array.data_type() {
        DataType::Boolean => if array.as_boolean().value(row) {
            "t"
        } else {
            "f"
        }
        .to_owned(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float32 => format_f32(array.as_primitive::<Float32Type>().value(row), extra),
        DataType::Float64 => format_f64(array.as_primitive::<Float64Type>().value(row), extra),
        DataType::Decimal128(_, scale) => {
            let trim = false;
            format_decimal(
                array
                    .as_primitive::<Decimal128Type>()
                    .value(row)
                    .to_string(),
                *scale,
                trim,
            )
        }
        DataType::Decimal256(precision, scale) => {
            // An unconstrained numeric column is held at a fixed scale; PostgreSQL shows
            // each value at its own, which the trailing zeros hide.
            let trim = (*precision, *scale) == crate::types::UNCONSTRAINED_NUMERIC && typmod < 0;
            format_decimal(
                array
                    .as_primitive::<Decimal256Type>()
                    .value(row)
                    .to_string(),
                *scale,
                trim,
            )
        }
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_owned(),
        DataType::Utf8View => array.as_string_view().value(row).to_owned(),
        DataType::Binary => format_bytea(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => format_bytea(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => format_bytea(array.as_binary_view().value(row)),
        DataType::Date32 => format_date(array.as_primitive::<Date32Type>().value(row)),
        DataType::Time64(TimeUnit::Microsecond) => {
            format_time_of_day(array.as_primitive::<Time64MicrosecondType>().value(row))
        }
        DataType::Timestamp(unit, zone) => {
            let micros = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value(row)
                    .saturating_mul(1_000_000),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .value(row)
                    .saturating_mul(1000),
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => {
                    array.as_primitive::<TimestampNanosecondType>().value(row) / 1000
                }
            };
            if zone.is_some() {
                format_timestamptz(micros, options.time_zone.offset_at(micros))
            } else {
                format_timestamp(micros)
            }
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let value = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            format_interval(value.months, value.days, value.nanoseconds / 1000)
        }
        DataType::List(_) if matches!(pg_oid, 22 | 30) => {
            // int2vector and oidvector: space-separated, no braces.
            let values = array.as_list::<i32>().value(row);
            let element_oid = element_oid(pg_oid);
            (0..values.len())
                .filter_map(|i| format(&values, i, element_oid, -1, options))
                .collect::<Vec<_>>()
                .join(" ")
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let values = list.value(row);
            let element_oid = element_oid(pg_oid);
            let mut out = String::from("{");
            for i in 0..values.len() {
                if i > 0 {
                    out.push(',');
                }
                match format(&values, i, element_oid, typmod, options) {
                    None => out.push_str("NULL"),
                    Some(text) => out.push_str(&array_element(&text)),
                }
            }
            out.push('}');
            out
        }
        DataType::Null => return None,
        other => datafusion::arrow::util::display::array_value_to_string(array, row)
            .unwrap_or_else(|_| format!("<{other}>")),
    })
}

/// The element type of an array type OID.
/// The element type of an array type OID (the inverse of `types::array_oid_of`).
pub fn element_oid(array_oid: u32) -> u32 {
    match array_oid {
        1000 => 16,
        1005 | 22 => 21,
        1028 | 30 => 26,
        1007 => 23,
        1016 => 20,
        1021 => 700,
        1022 => 701,
        1231 => 1700,
        1015 => 1043,
        1014 => 1042,
        1001 => 17,
        1182 => 1082,
        1183 => 1083,
        1115 => 1114,
        1185 => 1184,
        1187 => 1186,
        2951 => 2950,
        199 => 114,
        3807 => 3802,
        _ => 25,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_postgres_prints_them() {
        for (value, text) in [
            (0.1, "0.1"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (1e15, "1e+15"),
            (123456789012345.0, "123456789012345"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.0 / 3.0, "0.3333333333333333"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
            (-0.0, "-0"),
        ] {
            assert_eq!(format_f64(value, 1), text, "{value}");
        }
        assert_eq!(format_f64(1.0 / 3.0, 0), "0.333333333333333");
        assert_eq!(format_f32(0.1, 1), "0.1");
        assert_eq!(format_f32(1e7, 1), "1e+07");
    }

    #[test]
    fn decimals_dates_times_and_intervals() {
        assert_eq!(format_decimal("12345".into(), 2, false), "123.45");
        assert_eq!(format_decimal("-5".into(), 3, false), "-0.005");
        assert_eq!(format_decimal("1500".into(), 3, true), "1.5");
        assert_eq!(format_decimal("2000".into(), 3, true), "2");
        assert_eq!(format_decimal("-0".into(), 2, false), "0.00");
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(10_957), "2000-01-01");
        assert_eq!(format_date(-719_163), "0001-12-31 BC");
        assert_eq!(format_date(-719_162), "0001-01-01");
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(format_timestamp(1_500_000), "1970-01-01 00:00:01.5");
        assert_eq!(
            format_timestamptz(0, 3600 * 5 + 1800),
            "1970-01-01 05:30:00+05:30"
        );
        assert_eq!(format_timestamptz(0, 0), "1970-01-01 00:00:00+00");
        assert_eq!(
            format_interval(14, 3, 14_706_000_000),
            "1 year 2 mons 3 days 04:05:06"
        );
        assert_eq!(format_interval(0, 0, 0), "00:00:00");
        assert_eq!(format_interval(0, -1, -1_000_000), "-1 days -00:00:01");
        assert_eq!(format_bytea(&[0xde, 0xad]), "\\xdead");
        assert_eq!(array_element("a b"), "\"a b\"");
        assert_eq!(array_element("NULL"), "\"NULL\"");
    }
}
