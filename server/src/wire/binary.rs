//! PostgreSQL's binary format for the types ByteData returns and accepts: what a client
//! gets when it asks for format 1 (tokio-postgres and JDBC do, for every column), and
//! what it may send as parameters.
//!
//! Encoding is by the PostgreSQL type the RowDescription announced, reading the value from
//! whichever Arrow array holds it; decoding yields the catalog's `Value`, which the session
//! turns into the parameter's Arrow type.

use bytedata_catalog::types::DataType as SqlType;
use bytedata_catalog::value::{Interval, Value};
use bytedata_sql::pgtext::{self, TextOptions};
use bytedata_sql::types::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};
use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    IntervalMonthDayNanoType, IntervalUnit, Time64MicrosecondType, TimeUnit,
    TimestampMicrosecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use bytedata_sql::SqlError;

fn bad_binary(what: &str) -> SqlError {
    SqlError::new(
        "22P03",
        format!("incorrect binary data format in {what} parameter"),
    )
}

/// An integer from any integer array.
fn integer_at(array: &ArrayRef, row: usize) -> Option<i64> {
    Some(match array.data_type() {
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row) as i64,
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row) as i64,
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row) as i64,
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row) as i64,
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row) as i64,
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row) as i64,
        DataType::UInt64 => i64::try_from(array.as_primitive::<UInt64Type>().value(row)).ok()?,
        DataType::Boolean => array.as_boolean().value(row) as i64,
        _ => return None,
    })
}

fn float_at(array: &ArrayRef, row: usize) -> Option<f64> {
    Some(match array.data_type() {
        DataType::Float32 => array.as_primitive::<Float32Type>().value(row) as f64,
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row),
        _ => integer_at(array, row)? as f64,
    })
}

fn micros_at(array: &ArrayRef, row: usize) -> Option<i64> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            Some(array.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        DataType::Timestamp(_, _) => {
            let cast = datafusion::arrow::compute::cast(
                &array.slice(row, 1),
                &DataType::Timestamp(TimeUnit::Microsecond, None),
            )
            .ok()?;
            Some(cast.as_primitive::<TimestampMicrosecondType>().value(0))
        }
        _ => None,
    }
}

/// Appends the binary form of row `row` of `array` as type `oid` (the value only, no
/// length word). Returns false if this type has no binary form here, so the caller can
/// fall back to text.
pub fn encode(
    array: &ArrayRef,
    row: usize,
    oid: u32,
    typmod: i32,
    options: &TextOptions,
    out: &mut BytesMut,
) -> bool {
    match oid {
        16 | 21 | 23 | 26 | 20 => {
            let Some(v) = integer_at(array, row) else {
                return false;
            };
            // Narrowing is exact: the column's type decided both the array and the OID.
            match oid {
                16 => out.put_u8(u8::from(v != 0)),
                21 => out.put_i16(v as i16),
                23 => out.put_i32(v as i32),
                26 => out.put_u32(v as u32),
                _ => out.put_i64(v),
            }
        }
        700 | 701 => {
            let Some(v) = float_at(array, row) else {
                return false;
            };
            if oid == 700 {
                out.put_f32(v as f32);
            } else {
                out.put_f64(v);
            }
        }
        1700 => match pgtext::format(array, row, oid, typmod, options) {
            Some(text) => match numeric_to_binary(&text) {
                Some(bytes) => out.put_slice(&bytes),
                None => return false,
            },
            None => return false,
        },
        17 => match array.data_type() {
            DataType::Binary => out.put_slice(array.as_binary::<i32>().value(row)),
            DataType::LargeBinary => out.put_slice(array.as_binary::<i64>().value(row)),
            DataType::BinaryView => out.put_slice(array.as_binary_view().value(row)),
            _ => return false,
        },
        1082 => match array.data_type() {
            DataType::Date32 => {
                out.put_i32(array.as_primitive::<Date32Type>().value(row) - PG_EPOCH_DAYS)
            }
            _ => return false,
        },
        1083 => match array.data_type() {
            DataType::Time64(TimeUnit::Microsecond) => {
                out.put_i64(array.as_primitive::<Time64MicrosecondType>().value(row))
            }
            _ => return false,
        },
        1114 | 1184 => match micros_at(array, row) {
            Some(micros) => out.put_i64(micros - PG_EPOCH_MICROS),
            None => return false,
        },
        1186 => match array.data_type() {
            DataType::Interval(IntervalUnit::MonthDayNano) => {
                let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
                out.put_i64(v.nanoseconds / 1000);
                out.put_i32(v.days);
                out.put_i32(v.months);
            }
            _ => return false,
        },
        2950 => match pgtext::format(array, row, oid, typmod, options)
            .and_then(|text| bytedata_sql::convert::parse_uuid(&text).ok())
        {
            Some(bytes) => out.put_slice(&bytes),
            None => return false,
        },
        3802 => match pgtext::format(array, row, oid, typmod, options) {
            Some(text) => {
                out.put_u8(1);
                out.put_slice(text.as_bytes());
            }
            None => return false,
        },
        25 | 1043 | 1042 | 19 | 114 | 18 | 705 => {
            match pgtext::format(array, row, oid, typmod, options) {
                Some(text) => out.put_slice(text.as_bytes()),
                None => return false,
            }
        }
        _ if matches!(array.data_type(), DataType::List(_)) => {
            return encode_array(array, row, oid, typmod, options, out);
        }
        _ => return false,
    }
    true
}

fn encode_array(
    array: &ArrayRef,
    row: usize,
    oid: u32,
    typmod: i32,
    options: &TextOptions,
    out: &mut BytesMut,
) -> bool {
    let list = array.as_list::<i32>();
    let values = list.value(row);
    let element = pgtext::element_oid(oid);
    let has_null = values.null_count() > 0;
    out.put_i32(1); // dimensions
    out.put_i32(i32::from(has_null));
    out.put_u32(element);
    out.put_i32(values.len() as i32);
    out.put_i32(1); // lower bound
    for i in 0..values.len() {
        if values.is_null(i) {
            out.put_i32(-1);
            continue;
        }
        let length_at = out.len();
        out.put_i32(0);
        if !encode(&values, i, element, typmod, options, out) {
            return false;
        }
        let length = (out.len() - length_at - 4) as i32;
        out[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
    }
    true
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

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], SqlError> {
    bytes.try_into().map_err(|_| bad_binary(what))
}

/// A parameter sent in binary, as the catalog value of type `ty`.
pub fn decode(bytes: &[u8], ty: &SqlType) -> Result<Value, SqlError> {
    Ok(match ty {
        SqlType::Bool => Value::Bool(fixed::<1>(bytes, "boolean")?[0] != 0),
        SqlType::Int2 => Value::Int2(i16::from_be_bytes(fixed(bytes, "smallint")?)),
        SqlType::Int4 => Value::Int4(i32::from_be_bytes(fixed(bytes, "integer")?)),
        SqlType::Int8 => match bytes.len() {
            // An oid parameter is four bytes.
            4 => Value::Int8(u32::from_be_bytes(fixed(bytes, "oid")?) as i64),
            _ => Value::Int8(i64::from_be_bytes(fixed(bytes, "bigint")?)),
        },
        SqlType::Float4 => Value::Float4(f32::from_be_bytes(fixed(bytes, "real")?)),
        SqlType::Float8 => Value::Float8(f64::from_be_bytes(fixed(bytes, "double precision")?)),
        SqlType::Numeric { .. } => {
            let text = numeric_from_binary(bytes).ok_or_else(|| bad_binary("numeric"))?;
            bytedata_sql::pginput::parse_text(&text, ty, &Default::default())?
        }
        SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Json => {
            let text = std::str::from_utf8(bytes).map_err(|_| invalid_utf8())?;
            bytedata_sql::pginput::parse_text(text, ty, &Default::default())?
        }
        SqlType::Jsonb => {
            let (version, rest) = bytes.split_first().ok_or_else(|| bad_binary("jsonb"))?;
            if *version != 1 {
                return Err(SqlError::new(
                    "22P03",
                    format!("unsupported jsonb version number {version}"),
                ));
            }
            let text = std::str::from_utf8(rest).map_err(|_| invalid_utf8())?;
            bytedata_sql::pginput::parse_text(text, ty, &Default::default())?
        }
        SqlType::Bytea => Value::Bytea(bytes.to_vec()),
        SqlType::Date => Value::Date(i32::from_be_bytes(fixed(bytes, "date")?)),
        SqlType::Time => Value::Time(i64::from_be_bytes(fixed(bytes, "time")?)),
        SqlType::Timestamp => Value::Timestamp(i64::from_be_bytes(fixed(bytes, "timestamp")?)),
        SqlType::TimestampTz => {
            Value::TimestampTz(i64::from_be_bytes(fixed(bytes, "timestamptz")?))
        }
        SqlType::Interval => {
            let raw: [u8; 16] = fixed(bytes, "interval")?;
            Value::Interval(Interval {
                micros: i64::from_be_bytes(fixed(&raw[0..8], "interval")?),
                days: i32::from_be_bytes(fixed(&raw[8..12], "interval")?),
                months: i32::from_be_bytes(fixed(&raw[12..16], "interval")?),
            })
        }
        SqlType::Uuid => Value::Uuid(fixed(bytes, "uuid")?),
        SqlType::Array(element) => decode_array(bytes, element)?,
    })
}

fn invalid_utf8() -> SqlError {
    SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\"")
}

fn decode_array(bytes: &[u8], element: &SqlType) -> Result<Value, SqlError> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], SqlError> {
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
        return Err(SqlError::unsupported("multidimensional array parameters"));
    }
    let length = i32::from_be_bytes(fixed(take(4)?, "array")?);
    let _lower_bound = take(4)?;
    let length = usize::try_from(length).map_err(|_| bad_binary("array"))?;
    let mut values = Vec::with_capacity(length.min(1 << 16));
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
