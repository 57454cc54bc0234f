//! PostgreSQL's input functions: a value of a type from its text, with PostgreSQL's
//! rules and errors. Used wherever text meets a typed value — an INSERT of `'2024-01-01'`
//! into a date, a parameter sent as text, a line of COPY data, a cast of a string — so
//! that what PostgreSQL accepts is accepted, and what it refuses is refused with its
//! SQLSTATE (22P02, 22003, 22007, 22008, 22001).

mod datetime;
mod decode;
mod interval;
mod tokens;

pub use datetime::{parse_date, parse_time, parse_timestamp};
pub use interval::parse_interval;

use crate::error::{Error, Result};
use crate::json::normalize_json;
use crate::numeric::Numeric;
use crate::types::DataType;
use crate::typmod::{apply_char_typmod, apply_numeric_typmod};
use crate::value::Value;
use crate::zone::Zone;

/// Session settings that change how text is read: the time zone zone-less timestamptz
/// text is in, and `DateStyle`'s field order for dates like `01/02/03`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputOptions {
    pub zone: Zone,
    pub date_order: crate::output::DateOrder,
    /// The instant `now`, `today` and their kin mean: the start of the reading
    /// transaction (microseconds since 1970); the clock when there is none.
    pub now_unix_micros: Option<i64>,
}

impl InputOptions {
    /// UTC and month-day-year: for text that depends on neither.
    pub const UTC: InputOptions = InputOptions {
        zone: Zone::UTC,
        date_order: crate::output::DateOrder::Mdy,
        now_unix_micros: None,
    };
}

fn invalid(type_name: &str, text: &str) -> Error {
    Error::invalid_text(type_name, text)
}

pub fn parse_bool(text: &str) -> Result<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "t" | "tr" | "tru" | "true" | "y" | "ye" | "yes" | "on" | "1" => Ok(true),
        "f" | "fa" | "fal" | "fals" | "false" | "n" | "no" | "of" | "off" | "0" => Ok(false),
        _ => Err(invalid("boolean", text)),
    }
}

fn parse_integer(text: &str, ty: &DataType) -> Result<i64> {
    let (name, min, max) = match ty {
        DataType::Int2 => ("smallint", i64::from(i16::MIN), i64::from(i16::MAX)),
        DataType::Int4 => ("integer", i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => ("bigint", i64::MIN, i64::MAX),
    };
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        || digits.starts_with('_')
        || digits.ends_with('_')
    {
        return Err(invalid(name, text));
    }
    let cleaned: String = trimmed.chars().filter(|&c| c != '_').collect();
    match cleaned.parse::<i128>() {
        Ok(v) if v >= i128::from(min) && v <= i128::from(max) => Ok(v as i64),
        _ => Err(Error::new(
            "22003",
            format!("value \"{text}\" is out of range for type {name}"),
        )),
    }
}

fn parse_float(text: &str, name: &str) -> Result<f64> {
    let trimmed = text.trim();
    let value = match trimmed.to_ascii_lowercase().as_str() {
        "nan" => f64::NAN,
        "infinity" | "+infinity" | "inf" | "+inf" => f64::INFINITY,
        "-infinity" | "-inf" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts forms PostgreSQL does not ("infinity" spelled out is handled above).
            if trimmed.is_empty()
                || trimmed
                    .bytes()
                    .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
            {
                return Err(invalid(name, text));
            }
            trimmed.parse::<f64>().map_err(|_| invalid(name, text))?
        }
    };
    if value.is_infinite() && !trimmed.to_ascii_lowercase().contains("inf") {
        return Err(Error::new(
            "22003",
            format!("\"{trimmed}\" is out of range for type {name}"),
        ));
    }
    Ok(value)
}

/// `\x…` hex or the escape format, as `bytea` reads them — the readers of
/// `decode(…, 'hex')` and `decode(…, 'escape')`, with their errors.
pub fn parse_bytea(text: &str) -> Result<Vec<u8>> {
    match text
        .strip_prefix("\\x")
        .or_else(|| text.strip_prefix("\\X"))
    {
        Some(hex) => crate::binary_text::decode(hex, "hex"),
        None => crate::binary_text::decode(text, "escape"),
    }
}

/// A uuid in any of the forms PostgreSQL reads: 32 hex digits, with or without hyphens,
/// optionally in braces.
pub fn parse_uuid(text: &str) -> Result<[u8; 16]> {
    let trimmed = text.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = trimmed.chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid("uuid", text));
    }
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte =
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| invalid("uuid", text))?;
    }
    Ok(bytes)
}

/// The value of type `ty` that `text` spells, as PostgreSQL's input function reads it.
/// `options` are the session's time zone and date order.
pub fn parse_text(text: &str, ty: &DataType, options: &InputOptions) -> Result<Value> {
    Ok(match ty {
        DataType::Bool => Value::Bool(parse_bool(text)?),
        DataType::Int2 => Value::Int2(parse_integer(text, ty)? as i16),
        DataType::Int4 => Value::Int4(parse_integer(text, ty)? as i32),
        DataType::Int8 => Value::Int8(parse_integer(text, ty)?),
        DataType::Float4 => {
            let value = parse_float(text, "real")?;
            if value.is_finite() && value.abs() > f64::from(f32::MAX) {
                return Err(Error::new(
                    "22003",
                    format!("\"{}\" is out of range for type real", text.trim()),
                ));
            }
            Value::Float4(value as f32)
        }
        DataType::Float8 => Value::Float8(parse_float(text, "double precision")?),
        DataType::Numeric { precision, scale } => {
            let value = Numeric::parse(text.trim()).map_err(|_| invalid("numeric", text))?;
            Value::Numeric(apply_numeric_typmod(value, *precision, *scale)?)
        }
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) => {
            Value::Text(apply_char_typmod(text, ty)?)
        }
        DataType::Name => Value::Text(name_text(text)),
        DataType::Bytea => Value::Bytea(parse_bytea(text)?),
        DataType::Date => Value::Date(parse_date(text, options)?),
        DataType::Time => Value::Time(parse_time(text, options)?),
        DataType::Timestamp => Value::Timestamp(parse_timestamp(text, false, options)?),
        DataType::TimestampTz => Value::TimestampTz(parse_timestamp(text, true, options)?),
        DataType::Interval => Value::Interval(parse_interval(text)?),
        DataType::Uuid => Value::Uuid(parse_uuid(text)?),
        DataType::Json => Value::Json(normalize_json(text, false)?),
        DataType::Jsonb => Value::Json(normalize_json(text, true)?),
        DataType::Array(element) => Value::Array(parse_array(text, element, options)?),
    })
}

/// PostgreSQL's `NAMEDATALEN` less its terminator: the longest name in bytes.
pub const MAX_NAME_BYTES: usize = 63;

/// A `name`: the text cut to 63 bytes, at a character boundary.
pub fn name_text(text: &str) -> String {
    let mut end = text.len().min(MAX_NAME_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A one-dimensional array literal: `{1,2,NULL}`, `{"a b","c"}`.
fn parse_array(text: &str, element: &DataType, options: &InputOptions) -> Result<Vec<Value>> {
    let malformed = || Error::new("22P02", format!("malformed array literal: \"{text}\""));
    let body = text
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(malformed)?;
    let mut items = Vec::new();
    if body.trim().is_empty() {
        return Ok(items);
    }
    let mut chars = body.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let (item, quoted) = if chars.peek() == Some(&'"') {
            chars.next();
            let mut item = String::new();
            loop {
                match chars.next() {
                    Some('\\') => item.push(chars.next().ok_or_else(malformed)?),
                    Some('"') => break,
                    Some(c) => item.push(c),
                    None => return Err(malformed()),
                }
            }
            (item, true)
        } else {
            let mut item = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '{' || c == '"' {
                    return Err(malformed());
                }
                item.push(c);
                chars.next();
            }
            (item.trim().to_owned(), false)
        };
        items.push(if !quoted && item.eq_ignore_ascii_case("null") {
            Value::Null
        } else {
            parse_text(&item, element, options)?
        });
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(_) => return Err(malformed()),
        }
    }
    Ok(items)
}

/// Whether `parse_text` is how text reaches a column of this type (rather than a cast):
/// every type but the text-like ones, which take strings as they are.
pub fn reads_text(ty: &DataType) -> bool {
    !matches!(
        ty,
        DataType::Text | DataType::Varchar(_) | DataType::Char(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, ty: DataType) -> Result<Value> {
        parse_text(text, &ty, &InputOptions::UTC)
    }

    #[test]
    fn integers_floats_and_booleans() {
        assert!(matches!(parse(" 42 ", DataType::Int4), Ok(Value::Int4(42))));
        assert_eq!(parse("4x", DataType::Int4).unwrap_err().code, "22P02");
        assert_eq!(parse("40000", DataType::Int2).unwrap_err().code, "22003");
        assert!(matches!(parse("1e3", DataType::Float8), Ok(Value::Float8(v)) if v == 1000.0));
        assert!(
            matches!(parse("-Infinity", DataType::Float8), Ok(Value::Float8(v)) if v == f64::NEG_INFINITY)
        );
        assert_eq!(parse("1e400", DataType::Float8).unwrap_err().code, "22003");
        assert!(matches!(
            parse("yes", DataType::Bool),
            Ok(Value::Bool(true))
        ));
        assert_eq!(parse("maybe", DataType::Bool).unwrap_err().code, "22P02");
    }

    #[test]
    fn bytea_and_arrays() {
        assert!(
            matches!(parse("\\xDEAD", DataType::Bytea), Ok(Value::Bytea(b)) if b == vec![0xde, 0xad])
        );
        assert!(
            matches!(parse("a\\\\b\\001", DataType::Bytea), Ok(Value::Bytea(b)) if b == b"a\\b\x01")
        );
        let Ok(Value::Array(items)) =
            parse("{1, 2,NULL}", DataType::Array(Box::new(DataType::Int4)))
        else {
            panic!("not an array")
        };
        assert_eq!(items.len(), 3);
        assert!(items[2].is_null());
        let Ok(Value::Array(items)) = parse(
            r#"{"a b","c\"d"}"#,
            DataType::Array(Box::new(DataType::Text)),
        ) else {
            panic!("not an array")
        };
        assert!(matches!(&items[1], Value::Text(t) if t == "c\"d"));
        assert_eq!(
            parse("{1,", DataType::Array(Box::new(DataType::Int4)))
                .unwrap_err()
                .code,
            "22P02"
        );
    }
}
