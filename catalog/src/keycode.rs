//! Order-preserving ("memcomparable") encoding of key tuples.
//!
//! A tuple of values is encoded field after field; comparing two encodings byte by byte
//! gives PostgreSQL's order of the tuples, column by column, with each column ascending
//! or descending. Every field is self-delimiting, so the encoding of the first k columns is
//! a byte prefix of the whole key: equality on a key prefix is a prefix scan, and a range on
//! the next column a bounded range scan.
//!
//! A field is a tag byte then the value's bytes (see docs/key-encoding.md):
//!
//! ```text
//! ascending:  value: 01 payload      NULL: 02        (NULLS LAST, PostgreSQL's default)
//! descending: every byte of the ascending field inverted: value FE !payload, NULL FD
//!             (so NULL comes first: NULLS FIRST, PostgreSQL's default for DESC)
//! ```
//!
//! Payloads: integers big-endian with the sign bit flipped; floats with -0 made 0, NaN made
//! one NaN above +Infinity, then the IEEE bits flipped (all of them for negatives, the sign
//! for the rest); numeric as `Numeric::append_key`; text and bytea with each 00 byte
//! written 00 FF and a 00 01 terminator (text compares by bytes: the C collation;
//! `char(n)` without trailing spaces); dates, times and timestamps as integers; intervals as
//! their 128-bit span; uuids as their 16 bytes.

use std::cmp::Ordering;

use bytedata_pgtypes::DataType;
use bytedata_pgtypes::Numeric;
use bytedata_pgtypes::calendar::MICROS_PER_DAY;
use bytedata_pgtypes::{Interval, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("type {0} cannot be part of a key")]
    NotKeyType(String),
    #[error("value does not match the key column's type {0}")]
    TypeMismatch(String),
    #[error("key bytes do not decode: {0}")]
    Malformed(&'static str),
}

const VALUE_TAG: u8 = 0x01;
const NULL_TAG: u8 = 0x02;

fn invert(bytes: &mut [u8]) {
    for byte in bytes {
        *byte = !*byte;
    }
}

fn push_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &byte in bytes {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

fn float_bits_f64(value: f64) -> u64 {
    let value = if value == 0.0 {
        0.0
    } else if value.is_nan() {
        f64::NAN
    } else {
        value
    };
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn float_bits_f32(value: f32) -> u32 {
    let value = if value == 0.0 {
        0.0
    } else if value.is_nan() {
        f32::NAN
    } else {
        value
    };
    let bits = value.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | (1 << 31)
    }
}

/// Appends one field.
pub fn encode_field(
    out: &mut Vec<u8>,
    value: &Value,
    ty: &DataType,
    direction: Direction,
) -> Result<(), KeyError> {
    if !ty.is_key_type() {
        return Err(KeyError::NotKeyType(ty.display_name()));
    }
    let start = out.len();
    let mismatch = || KeyError::TypeMismatch(ty.display_name());
    match value {
        Value::Null => out.push(NULL_TAG),
        value => {
            out.push(VALUE_TAG);
            match (ty, value) {
                (DataType::Bool, Value::Bool(b)) => out.push(u8::from(*b)),
                (DataType::Int2, Value::Int2(v)) => {
                    out.extend_from_slice(&((*v as u16) ^ 0x8000).to_be_bytes())
                }
                (DataType::Int4, Value::Int4(v)) | (DataType::Date, Value::Date(v)) => {
                    out.extend_from_slice(&((*v as u32) ^ 0x8000_0000).to_be_bytes());
                }
                (DataType::Int8, Value::Int8(v))
                | (DataType::Time, Value::Time(v))
                | (DataType::Timestamp, Value::Timestamp(v))
                | (DataType::TimestampTz, Value::TimestampTz(v)) => {
                    out.extend_from_slice(&((*v as u64) ^ (1 << 63)).to_be_bytes());
                }
                (DataType::Float4, Value::Float4(v)) => {
                    out.extend_from_slice(&float_bits_f32(*v).to_be_bytes())
                }
                (DataType::Float8, Value::Float8(v)) => {
                    out.extend_from_slice(&float_bits_f64(*v).to_be_bytes())
                }
                (DataType::Numeric { .. }, Value::Numeric(v)) => v.append_key(out),
                (DataType::Char(_), Value::Text(s)) => {
                    push_escaped(out, s.trim_end_matches(' ').as_bytes())
                }
                (DataType::Text | DataType::Varchar(_) | DataType::Name, Value::Text(s)) => {
                    push_escaped(out, s.as_bytes())
                }
                (DataType::Bytea, Value::Bytea(b)) => push_escaped(out, b),
                (DataType::Interval, Value::Interval(i)) => {
                    out.extend_from_slice(&((i.span() as u128) ^ (1 << 127)).to_be_bytes());
                }
                (DataType::Uuid, Value::Uuid(u)) => out.extend_from_slice(u),
                _ => {
                    out.truncate(start);
                    return Err(mismatch());
                }
            }
        }
    }
    if direction == Direction::Desc {
        invert(&mut out[start..]);
    }
    Ok(())
}

/// Appends a tuple; `columns` gives each value's type and direction.
pub fn encode_key(
    out: &mut Vec<u8>,
    values: &[Value],
    columns: &[(DataType, Direction)],
) -> Result<(), KeyError> {
    assert_eq!(values.len(), columns.len(), "one value per key column");
    for (value, (ty, direction)) in values.iter().zip(columns) {
        encode_field(out, value, ty, *direction)?;
    }
    Ok(())
}

/// Reads bytes through the inversion of a descending field.
struct FieldReader<'a> {
    bytes: &'a [u8],
    at: usize,
    desc: bool,
}

impl FieldReader<'_> {
    fn byte(&mut self) -> Result<u8, KeyError> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or(KeyError::Malformed("key ends inside a field"))?;
        self.at += 1;
        Ok(if self.desc { !byte } else { byte })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], KeyError> {
        let mut out = [0u8; N];
        for byte in &mut out {
            *byte = self.byte()?;
        }
        Ok(out)
    }

    fn escaped(&mut self) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::new();
        loop {
            match self.byte()? {
                0x00 => match self.byte()? {
                    0xFF => out.push(0x00),
                    0x01 => return Ok(out),
                    _ => return Err(KeyError::Malformed("bad escape in a string field")),
                },
                byte => out.push(byte),
            }
        }
    }
}

fn unflip_f64(bits: u64) -> f64 {
    f64::from_bits(if bits >> 63 == 1 {
        bits & !(1 << 63)
    } else {
        !bits
    })
}

fn unflip_f32(bits: u32) -> f32 {
    f32::from_bits(if bits >> 31 == 1 {
        bits & !(1 << 31)
    } else {
        !bits
    })
}

/// Decodes one field; returns the value and the bytes it took. Decoding is exact except
/// where the encoding is lossy (`DataType::key_is_lossy`, and `char(n)`'s trailing spaces,
/// which the column's length restores).
pub fn decode_field(
    bytes: &[u8],
    ty: &DataType,
    direction: Direction,
) -> Result<(Value, usize), KeyError> {
    let mut reader = FieldReader {
        bytes,
        at: 0,
        desc: direction == Direction::Desc,
    };
    match reader.byte()? {
        NULL_TAG => return Ok((Value::Null, 1)),
        VALUE_TAG => {}
        _ => return Err(KeyError::Malformed("bad field tag")),
    }
    let value = match ty {
        DataType::Bool => Value::Bool(reader.byte()? != 0),
        DataType::Int2 => Value::Int2((u16::from_be_bytes(reader.array()?) ^ 0x8000) as i16),
        DataType::Int4 => Value::Int4((u32::from_be_bytes(reader.array()?) ^ 0x8000_0000) as i32),
        DataType::Date => Value::Date((u32::from_be_bytes(reader.array()?) ^ 0x8000_0000) as i32),
        DataType::Int8 | DataType::Time | DataType::Timestamp | DataType::TimestampTz => {
            let v = (u64::from_be_bytes(reader.array()?) ^ (1 << 63)) as i64;
            match ty {
                DataType::Int8 => Value::Int8(v),
                DataType::Time => Value::Time(v),
                DataType::Timestamp => Value::Timestamp(v),
                _ => Value::TimestampTz(v),
            }
        }
        DataType::Float4 => Value::Float4(unflip_f32(u32::from_be_bytes(reader.array()?))),
        DataType::Float8 => Value::Float8(unflip_f64(u64::from_be_bytes(reader.array()?))),
        DataType::Numeric { .. } => {
            // Numeric's own encoding is read with the inversion undone.
            let rest: Vec<u8> = bytes[reader.at..]
                .iter()
                .map(|&b| if reader.desc { !b } else { b })
                .collect();
            let (value, used) =
                Numeric::decode_key(&rest).map_err(|_| KeyError::Malformed("bad numeric"))?;
            reader.at += used;
            Value::Numeric(value)
        }
        DataType::Text | DataType::Varchar(_) | DataType::Name => {
            let raw = reader.escaped()?;
            Value::Text(
                String::from_utf8(raw).map_err(|_| KeyError::Malformed("text is not UTF-8"))?,
            )
        }
        DataType::Char(length) => {
            let raw = reader.escaped()?;
            let mut text =
                String::from_utf8(raw).map_err(|_| KeyError::Malformed("text is not UTF-8"))?;
            let chars = text.chars().count();
            text.extend(std::iter::repeat_n(
                ' ',
                (*length as usize).saturating_sub(chars),
            ));
            Value::Text(text)
        }
        DataType::Bytea => Value::Bytea(reader.escaped()?),
        DataType::Interval => {
            let span = (u128::from_be_bytes(reader.array()?) ^ (1 << 127)) as i128;
            let days = span.div_euclid(i128::from(MICROS_PER_DAY));
            let micros = span.rem_euclid(i128::from(MICROS_PER_DAY));
            Value::Interval(Interval {
                months: 0,
                days: i32::try_from(days)
                    .map_err(|_| KeyError::Malformed("interval out of range"))?,
                micros: micros as i64,
            })
        }
        DataType::Uuid => Value::Uuid(reader.array()?),
        other => return Err(KeyError::NotKeyType(other.display_name())),
    };
    Ok((value, reader.at))
}

/// Decodes a tuple of `columns.len()` fields; returns the values and the bytes they took.
pub fn decode_key(
    bytes: &[u8],
    columns: &[(DataType, Direction)],
) -> Result<(Vec<Value>, usize), KeyError> {
    let mut values = Vec::with_capacity(columns.len());
    let mut at = 0;
    for (ty, direction) in columns {
        let (value, used) = decode_field(&bytes[at..], ty, *direction)?;
        values.push(value);
        at += used;
    }
    Ok((values, at))
}

/// PostgreSQL's order of two tuples under the key's columns: each column ascending or
/// descending, NULLs last when ascending and first when descending. The reference the
/// encoding is tested against.
pub fn compare_tuples(a: &[Value], b: &[Value], columns: &[(DataType, Direction)]) -> Ordering {
    for ((x, y), (ty, direction)) in a.iter().zip(b).zip(columns) {
        let ascending = match (x, y) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Greater,
            (_, Value::Null) => Ordering::Less,
            (Value::Text(x), Value::Text(y)) if matches!(ty, DataType::Char(_)) => x
                .trim_end_matches(' ')
                .as_bytes()
                .cmp(y.trim_end_matches(' ').as_bytes()),
            (x, y) => bytedata_pgtypes::value::compare(x, y).expect("values of the column's type"),
        };
        let ordering = if *direction == Direction::Desc {
            ascending.reverse()
        } else {
            ascending
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}
