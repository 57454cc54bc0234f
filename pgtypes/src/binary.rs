//! PostgreSQL's binary format of values (`typsend`/`typreceive`): what a client sends as a
//! parameter in format 1 (`decode`), what a server sends as a result column in format 1
//! (`encode`), and the binary numeric, which has no simple fixed layout.
//!
//! Fixed-size types are big-endian integers and IEEE floats; dates, times and timestamps
//! count from PostgreSQL's epoch exactly as `Value` does; an interval is microseconds,
//! days, months; arrays are a header (dimensions, null flag, element OID, length, lower
//! bound) followed by length-prefixed elements. A value that does not fit its type's
//! layout is 22P03.

use bytes::BufMut;

use crate::error::{Error, Result};
use crate::input::parse_text;
use crate::types::DataType;
use crate::value::{Interval, Value};

/// Elements an array parameter may claim before anything is read: the claim is checked
/// against the bytes as they are read, this bounds the allocation made up front.
const MAX_PREALLOCATED_ELEMENTS: usize = 1 << 16;

fn bad_binary(what: &str) -> Error {
    Error::new(
        "22P03",
        format!("incorrect binary data format in {what} parameter"),
    )
}

fn invalid_utf8() -> Error {
    Error::new("22021", "invalid byte sequence for encoding \"UTF8\"")
}

/// PostgreSQL's binary numeric: digit count, weight (of the first base-10000 digit),
/// sign, display scale, then the base-10000 digits.
pub fn numeric_to_binary(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match text {
        "NaN" => {
            out.extend_from_slice(&[0, 0, 0, 0, 0xC0, 0, 0, 0]);
            return Some(out);
        }
        "Infinity" => {
            out.extend_from_slice(&[0, 0, 0, 0, 0xD0, 0, 0, 0]);
            return Some(out);
        }
        "-Infinity" => {
            out.extend_from_slice(&[0, 0, 0, 0, 0xF0, 0, 0, 0]);
            return Some(out);
        }
        _ => {}
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let dscale = frac_part.len() as u16;
    // Pad the integer part on the left and the fraction on the right to whole groups.
    let int_trimmed = int_part.trim_start_matches('0');
    let int_pad = (4 - int_trimmed.len() % 4) % 4;
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let padded = format!(
        "{}{}{}{}",
        "0".repeat(int_pad),
        int_trimmed,
        frac_part,
        "0".repeat(frac_pad)
    );
    let int_groups = (int_pad + int_trimmed.len()) / 4;
    let mut groups: Vec<i16> = padded
        .as_bytes()
        .chunks(4)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0'))
        })
        .collect();
    let mut weight = int_groups as i16 - 1;
    // Leading and trailing zero groups are implied by the weight and the scale.
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    let sign: u16 = if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    };
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&dscale.to_be_bytes());
    for group in groups {
        out.extend_from_slice(&group.to_be_bytes());
    }
    Some(out)
}

/// The text of a binary numeric.
pub fn numeric_from_binary(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<i16> {
        Some(i16::from_be_bytes(bytes.get(i..i + 2)?.try_into().ok()?))
    };
    let ndigits = usize::try_from(word(0)?).ok()?;
    let weight = word(2)? as i32;
    let sign = word(4)? as u16;
    let dscale = usize::try_from(word(6)?).ok()?;
    if bytes.len() != 8 + 2 * ndigits {
        return None;
    }
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0 | 0x4000 => {}
        _ => return None,
    }
    let digits: Vec<i16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Option<_>>()?;
    if digits.iter().any(|d| !(0..10_000).contains(d)) {
        return None;
    }
    let mut int_part = String::new();
    for position in 0..=weight.max(-1) {
        let digit = digits.get(position as usize).copied().unwrap_or(0);
        if int_part.is_empty() {
            if digit != 0 {
                int_part = digit.to_string();
            }
        } else {
            int_part.push_str(&format!("{digit:04}"));
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut position = weight + 1;
    while frac.len() < dscale {
        let digit = if position < 0 {
            0
        } else {
            digits.get(position as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{digit:04}"));
        position += 1;
    }
    frac.truncate(dscale);
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    text.push_str(&int_part);
    if dscale > 0 {
        text.push('.');
        text.push_str(&frac);
    }
    Some(text)
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| bad_binary(what))
}

/// Appends the binary form of a non-null value of type `ty` (the value only, no length
/// word), as `decode` reads it back. `None` for NULL, which has no binary form (its
/// length word is -1), for a numeric out of the binary format's range, and for an array
/// whose type is not an array type.
pub fn encode<B>(value: &Value, ty: &DataType, out: &mut B) -> Option<()>
where
    B: BufMut + AsMut<[u8]>,
{
    let mut put = |bytes: &[u8]| out.put_slice(bytes);
    match value {
        Value::Null => return None,
        Value::Bool(v) => put(&[u8::from(*v)]),
        Value::Int2(v) => put(&v.to_be_bytes()),
        Value::Int4(v) => put(&v.to_be_bytes()),
        Value::Int8(v) => put(&v.to_be_bytes()),
        Value::Float4(v) => put(&v.to_be_bytes()),
        Value::Float8(v) => put(&v.to_be_bytes()),
        Value::Numeric(n) => put(&numeric_to_binary(&n.to_string())?),
        Value::Text(text) => put(text.as_bytes()),
        Value::Json(text) => {
            // jsonb leads with its version; json is its text.
            if *ty == DataType::Jsonb {
                put(&[1]);
            }
            put(text.as_bytes());
        }
        Value::Bytea(bytes) => put(bytes),
        Value::Date(days) => put(&days.to_be_bytes()),
        Value::Time(micros) | Value::Timestamp(micros) | Value::TimestampTz(micros) => {
            put(&micros.to_be_bytes())
        }
        Value::Interval(interval) => {
            put(&interval.micros.to_be_bytes());
            put(&interval.days.to_be_bytes());
            put(&interval.months.to_be_bytes());
        }
        Value::Uuid(bytes) => put(bytes),
        Value::Array(items) => {
            let DataType::Array(element) = ty else {
                return None;
            };
            let has_null = items.iter().any(Value::is_null);
            let length = i32::try_from(items.len()).ok()?;
            put(&1i32.to_be_bytes()); // dimensions
            put(&i32::from(has_null).to_be_bytes());
            put(&element.oid().to_be_bytes());
            put(&length.to_be_bytes());
            put(&1i32.to_be_bytes()); // lower bound
            for item in items {
                let length_at = out.as_mut().len();
                out.put_i32(-1);
                if encode(item, element, out).is_some() {
                    let bytes = out.as_mut();
                    let length = i32::try_from(bytes.len() - length_at - 4).ok()?;
                    bytes[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
                } else if !item.is_null() {
                    return None;
                }
            }
        }
    }
    Some(())
}

/// A value sent in binary, as a `Value` of type `ty`.
pub fn decode(bytes: &[u8], ty: &DataType) -> Result<Value> {
    // Text inside binary values (text, json, the digits of a numeric) is read by the
    // type's input function; none of it depends on a time zone.
    let options = crate::input::InputOptions::UTC;
    Ok(match ty {
        DataType::Bool => Value::Bool(fixed::<1>(bytes, "boolean")?[0] != 0),
        DataType::Int2 => Value::Int2(i16::from_be_bytes(fixed(bytes, "smallint")?)),
        DataType::Int4 => Value::Int4(i32::from_be_bytes(fixed(bytes, "integer")?)),
        DataType::Int8 => match bytes.len() {
            // An oid parameter is four bytes.
            4 => Value::Int8(u32::from_be_bytes(fixed(bytes, "oid")?) as i64),
            _ => Value::Int8(i64::from_be_bytes(fixed(bytes, "bigint")?)),
        },
        DataType::Float4 => Value::Float4(f32::from_be_bytes(fixed(bytes, "real")?)),
        DataType::Float8 => Value::Float8(f64::from_be_bytes(fixed(bytes, "double precision")?)),
        DataType::Numeric { .. } => {
            let text = numeric_from_binary(bytes).ok_or_else(|| bad_binary("numeric"))?;
            parse_text(&text, ty, &options)?
        }
        DataType::Text
        | DataType::Varchar(_)
        | DataType::Char(_)
        | DataType::Name
        | DataType::Json => {
            let text = std::str::from_utf8(bytes).map_err(|_| invalid_utf8())?;
            parse_text(text, ty, &options)?
        }
        DataType::Jsonb => {
            let (version, rest) = bytes.split_first().ok_or_else(|| bad_binary("jsonb"))?;
            if *version != 1 {
                return Err(Error::new(
                    "22P03",
                    format!("unsupported jsonb version number {version}"),
                ));
            }
            let text = std::str::from_utf8(rest).map_err(|_| invalid_utf8())?;
            parse_text(text, ty, &options)?
        }
        DataType::Bytea => Value::Bytea(bytes.to_vec()),
        DataType::Date => Value::Date(i32::from_be_bytes(fixed(bytes, "date")?)),
        DataType::Time => Value::Time(i64::from_be_bytes(fixed(bytes, "time")?)),
        DataType::Timestamp => Value::Timestamp(i64::from_be_bytes(fixed(bytes, "timestamp")?)),
        DataType::TimestampTz => {
            Value::TimestampTz(i64::from_be_bytes(fixed(bytes, "timestamptz")?))
        }
        DataType::Interval => {
            let raw: [u8; 16] = fixed(bytes, "interval")?;
            Value::Interval(Interval {
                micros: i64::from_be_bytes(fixed(&raw[0..8], "interval")?),
                days: i32::from_be_bytes(fixed(&raw[8..12], "interval")?),
                months: i32::from_be_bytes(fixed(&raw[12..16], "interval")?),
            })
        }
        DataType::Uuid => Value::Uuid(fixed(bytes, "uuid")?),
        DataType::Array(element) => decode_array(bytes, element)?,
    })
}

fn decode_array(bytes: &[u8], element: &DataType) -> Result<Value> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let slice = bytes.get(at..at + n).ok_or_else(|| bad_binary("array"))?;
        at += n;
        Ok(slice)
    };
    let dimensions = i32::from_be_bytes(fixed(take(4)?, "array")?);
    let _has_null = take(4)?;
    let _element_oid = take(4)?;
    if dimensions == 0 {
        return Ok(Value::Array(vec![]));
    }
    if dimensions != 1 {
        return Err(Error::unsupported("multidimensional array parameters"));
    }
    let length = i32::from_be_bytes(fixed(take(4)?, "array")?);
    let _lower_bound = take(4)?;
    let length = usize::try_from(length).map_err(|_| bad_binary("array"))?;
    let mut values = Vec::with_capacity(length.min(MAX_PREALLOCATED_ELEMENTS));
    for _ in 0..length {
        let size = i32::from_be_bytes(fixed(take(4)?, "array")?);
        if size < 0 {
            values.push(Value::Null);
        } else {
            values.push(decode(take(size as usize)?, element)?);
        }
    }
    Ok(Value::Array(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_round_trips_through_binary() {
        for text in [
            "0",
            "1",
            "-1",
            "10000",
            "12345.678",
            "0.0001",
            "-0.5",
            "99999999.99999999",
            "100.00",
            "1e0",
        ] {
            if text == "1e0" {
                assert_eq!(numeric_to_binary(text), None);
                continue;
            }
            let binary = numeric_to_binary(text).expect(text);
            assert_eq!(
                numeric_from_binary(&binary).as_deref(),
                Some(text),
                "{text}"
            );
        }
    }

    /// Encodes `value` as a column of `ty` sends it, and decodes it back.
    fn round_trip(value: Value, ty: &DataType) -> Value {
        let mut bytes = Vec::new();
        encode(&value, ty, &mut bytes).expect("has a binary form");
        decode(&bytes, ty).expect("decodes")
    }

    #[test]
    fn every_type_reads_back_what_it_sends() {
        use crate::numeric::Numeric;
        use crate::value::compare;
        let cases = [
            (Value::Bool(true), DataType::Bool),
            (Value::Int2(-7), DataType::Int2),
            (Value::Int4(i32::MIN), DataType::Int4),
            (Value::Int8(i64::MAX), DataType::Int8),
            (Value::Float4(1.5), DataType::Float4),
            (Value::Float8(-0.25), DataType::Float8),
            (
                Value::Numeric(Numeric::parse("12345.678").unwrap()),
                DataType::Numeric {
                    precision: None,
                    scale: None,
                },
            ),
            (Value::Bytea(vec![0, 255, 7]), DataType::Bytea),
            (Value::Date(-3), DataType::Date),
            (Value::Time(49_506_500_000), DataType::Time),
            (Value::Timestamp(1), DataType::Timestamp),
            (Value::TimestampTz(-1), DataType::TimestampTz),
            (
                Value::Interval(Interval {
                    months: 14,
                    days: -3,
                    micros: 5,
                }),
                DataType::Interval,
            ),
            (Value::Uuid([9; 16]), DataType::Uuid),
        ];
        for (value, ty) in cases {
            let back = round_trip(value.clone(), &ty);
            assert_eq!(
                compare(&value, &back),
                Some(std::cmp::Ordering::Equal),
                "{value:?} as {ty:?}"
            );
        }
        assert!(matches!(
            round_trip(Value::Text("zürich".into()), &DataType::Text),
            Value::Text(t) if t == "zürich"
        ));
        assert!(matches!(
            round_trip(Value::Json(r#"{"a": 1}"#.into()), &DataType::Jsonb),
            Value::Json(t) if t == r#"{"a": 1}"#
        ));
        let array = round_trip(
            Value::Array(vec![Value::Int4(1), Value::Null, Value::Int4(3)]),
            &DataType::Array(Box::new(DataType::Int4)),
        );
        let Value::Array(items) = array else {
            panic!("not an array")
        };
        assert!(matches!(
            items.as_slice(),
            [Value::Int4(1), Value::Null, Value::Int4(3)]
        ));
        assert_eq!(encode(&Value::Null, &DataType::Int4, &mut Vec::new()), None);
    }

    #[test]
    fn numeric_binary_layout_is_postgresql_s() {
        // 12345.678 = 1|2345.6780 → digits [1, 2345, 6780], weight 1, dscale 3.
        let binary = numeric_to_binary("12345.678").expect("numeric");
        assert_eq!(
            binary,
            [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C]
        );
    }
}
