//! The row format: the non-key columns of a row, as the value of its primary-index key.
//!
//! ```text
//! varint  schema_version   the table version the row was written under
//! varint  column_count     columns the row holds (that version's stored columns)
//! bytes   null_bitmap      ceil(column_count / 8) bytes; bit i (LSB first) = column i is NULL
//! …       values           each non-NULL column in order, in its type's encoding
//! ```
//!
//! Which columns a row holds, and in which order, is the *layout* of its schema version
//! (see `descriptor::TableDescriptor::layout`): the columns that existed at that version,
//! by column id, except key columns whose key encoding is exact. Adding a column creates a
//! new version; rows written before it simply do not hold it, and read as the column's
//! default captured when it was added. Dropping a column creates a new version too; old
//! rows still hold its bytes, which reading skips. Neither rewrites a row. A NULL costs
//! one bit.
//!
//! Value encodings (little-endian): bool 1 byte; int2 2; int4, date, float4 4; int8,
//! time, timestamp(tz), float8 8; interval 16 (months i32, days i32, micros i64); uuid
//! 16; numeric a varint length, then the display scale (u16) and the numeric's key
//! encoding; text, varchar, char, json, jsonb and bytea a varint length and the bytes;
//! arrays a varint length, then a varint element count and each element as a NULL flag
//! byte followed, when not NULL, by the element's encoding.

use bytedata_pgtypes::DataType;
use bytedata_pgtypes::Numeric;
use bytedata_pgtypes::{Interval, Value};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("value does not match the column's type {0}")]
    TypeMismatch(String),
    #[error("row bytes do not decode: {0}")]
    Malformed(&'static str),
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn read_varint(bytes: &[u8], at: &mut usize) -> Result<u64, RowError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes
            .get(*at)
            .ok_or(RowError::Malformed("varint runs past the end"))?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(RowError::Malformed("varint too long"))
}

fn take<'a>(bytes: &'a [u8], at: &mut usize, len: usize) -> Result<&'a [u8], RowError> {
    let slice = bytes
        .get(*at..*at + len)
        .ok_or(RowError::Malformed("value runs past the end of the row"))?;
    *at += len;
    Ok(slice)
}

/// Appends one non-NULL value in its row encoding.
pub fn encode_value(out: &mut Vec<u8>, value: &Value, ty: &DataType) -> Result<(), RowError> {
    let mismatch = || RowError::TypeMismatch(ty.display_name());
    match (ty, value) {
        (DataType::Bool, Value::Bool(b)) => out.push(u8::from(*b)),
        (DataType::Int2, Value::Int2(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (DataType::Int4, Value::Int4(v)) | (DataType::Date, Value::Date(v)) => {
            out.extend_from_slice(&v.to_le_bytes())
        }
        (DataType::Int8, Value::Int8(v))
        | (DataType::Time, Value::Time(v))
        | (DataType::Timestamp, Value::Timestamp(v))
        | (DataType::TimestampTz, Value::TimestampTz(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (DataType::Float4, Value::Float4(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (DataType::Float8, Value::Float8(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (DataType::Interval, Value::Interval(i)) => {
            out.extend_from_slice(&i.months.to_le_bytes());
            out.extend_from_slice(&i.days.to_le_bytes());
            out.extend_from_slice(&i.micros.to_le_bytes());
        }
        (DataType::Uuid, Value::Uuid(u)) => out.extend_from_slice(u),
        (DataType::Numeric { .. }, Value::Numeric(n)) => {
            let mut body = n.display_scale().to_le_bytes().to_vec();
            n.append_key(&mut body);
            put_varint(out, body.len() as u64);
            out.extend_from_slice(&body);
        }
        (
            DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Name,
            Value::Text(s),
        )
        | (DataType::Json | DataType::Jsonb, Value::Json(s)) => {
            put_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        (DataType::Bytea, Value::Bytea(b)) => {
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
        (DataType::Array(element), Value::Array(items)) => {
            let mut body = Vec::new();
            put_varint(&mut body, items.len() as u64);
            for item in items {
                if item.is_null() {
                    body.push(1);
                } else {
                    body.push(0);
                    encode_value(&mut body, item, element)?;
                }
            }
            put_varint(out, body.len() as u64);
            out.extend_from_slice(&body);
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// The bytes of one value at `at`: the fixed-width bytes, or the bytes after a varint
/// length. Advances `at` past the value.
fn field<'a>(bytes: &'a [u8], at: &mut usize, ty: &DataType) -> Result<&'a [u8], RowError> {
    // `name` is fixed-width (64) in PostgreSQL's catalogs but stored here as text is.
    let width = match ty {
        DataType::Name => -1,
        _ => ty.byte_length(),
    };
    match width {
        -1 => {
            let len = read_varint(bytes, at)? as usize;
            take(bytes, at, len)
        }
        fixed => take(bytes, at, fixed as usize),
    }
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], RowError> {
    raw.try_into()
        .map_err(|_| RowError::Malformed("fixed-width value of the wrong size"))
}

/// Decodes the raw bytes of one value (as `RowReader::fields` yields them).
pub fn decode_value(raw: &[u8], ty: &DataType) -> Result<Value, RowError> {
    let utf8 = |raw: &[u8]| {
        String::from_utf8(raw.to_vec()).map_err(|_| RowError::Malformed("text is not UTF-8"))
    };
    Ok(match ty {
        DataType::Bool => Value::Bool(raw.first().copied().unwrap_or(0) != 0),
        DataType::Int2 => Value::Int2(i16::from_le_bytes(fixed(raw)?)),
        DataType::Int4 => Value::Int4(i32::from_le_bytes(fixed(raw)?)),
        DataType::Date => Value::Date(i32::from_le_bytes(fixed(raw)?)),
        DataType::Int8 => Value::Int8(i64::from_le_bytes(fixed(raw)?)),
        DataType::Time => Value::Time(i64::from_le_bytes(fixed(raw)?)),
        DataType::Timestamp => Value::Timestamp(i64::from_le_bytes(fixed(raw)?)),
        DataType::TimestampTz => Value::TimestampTz(i64::from_le_bytes(fixed(raw)?)),
        DataType::Float4 => Value::Float4(f32::from_le_bytes(fixed(raw)?)),
        DataType::Float8 => Value::Float8(f64::from_le_bytes(fixed(raw)?)),
        DataType::Interval => {
            let raw: [u8; 16] = fixed(raw)?;
            Value::Interval(Interval {
                months: i32::from_le_bytes(fixed(&raw[0..4])?),
                days: i32::from_le_bytes(fixed(&raw[4..8])?),
                micros: i64::from_le_bytes(fixed(&raw[8..16])?),
            })
        }
        DataType::Uuid => Value::Uuid(fixed(raw)?),
        DataType::Numeric { .. } => {
            let scale = u16::from_le_bytes(fixed(
                raw.get(..2).ok_or(RowError::Malformed("short numeric"))?,
            )?);
            let (value, used) =
                Numeric::decode_key(&raw[2..]).map_err(|_| RowError::Malformed("bad numeric"))?;
            if used != raw.len() - 2 {
                return Err(RowError::Malformed("trailing bytes after a numeric"));
            }
            Value::Numeric(value.with_display_scale(scale))
        }
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Name => {
            Value::Text(utf8(raw)?)
        }
        DataType::Json | DataType::Jsonb => Value::Json(utf8(raw)?),
        DataType::Bytea => Value::Bytea(raw.to_vec()),
        DataType::Array(element) => {
            let mut at = 0;
            let count = read_varint(raw, &mut at)? as usize;
            if count > raw.len() {
                return Err(RowError::Malformed("array count exceeds its bytes"));
            }
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                let null = *raw.get(at).ok_or(RowError::Malformed("array ends early"))?;
                at += 1;
                items.push(if null == 1 {
                    Value::Null
                } else {
                    decode_value(field(raw, &mut at, element)?, element)?
                });
            }
            if at != raw.len() {
                return Err(RowError::Malformed("trailing bytes after an array"));
            }
            Value::Array(items)
        }
    })
}

/// Encodes a row: `values` in the layout's order, one per column of `layout`.
pub fn encode_row(
    out: &mut Vec<u8>,
    version: u32,
    layout: &[&DataType],
    values: &[&Value],
) -> Result<(), RowError> {
    assert_eq!(
        layout.len(),
        values.len(),
        "one value per column of the layout"
    );
    put_varint(out, u64::from(version));
    put_varint(out, layout.len() as u64);
    let bitmap_at = out.len();
    out.resize(bitmap_at + layout.len().div_ceil(8), 0);
    for (i, (ty, value)) in layout.iter().zip(values).enumerate() {
        if value.is_null() {
            out[bitmap_at + i / 8] |= 1 << (i % 8);
        } else {
            encode_value(out, value, ty)?;
        }
    }
    Ok(())
}

/// A parsed row header, giving access to the row's fields.
pub struct RowReader<'a> {
    version: u32,
    columns: usize,
    bitmap: &'a [u8],
    data: &'a [u8],
}

impl<'a> RowReader<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RowError> {
        let mut at = 0;
        let version = u32::try_from(read_varint(bytes, &mut at)?)
            .map_err(|_| RowError::Malformed("schema version out of range"))?;
        let columns = read_varint(bytes, &mut at)? as usize;
        if columns > 1600 {
            // PostgreSQL's limit of columns per table.
            return Err(RowError::Malformed("more columns than a table can have"));
        }
        let bitmap = take(bytes, &mut at, columns.div_ceil(8))?;
        Ok(RowReader {
            version,
            columns,
            bitmap,
            data: &bytes[at..],
        })
    }

    /// The table version the row was written under.
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn column_count(&self) -> usize {
        self.columns
    }

    pub fn is_null(&self, i: usize) -> bool {
        self.bitmap[i / 8] & (1 << (i % 8)) != 0
    }

    /// Calls `f` with each column's raw bytes (`None` for NULL), given the layout of the
    /// row's version.
    pub fn for_each_field<T: std::borrow::Borrow<DataType>>(
        &self,
        layout: &[T],
        f: impl FnMut(usize, Option<&'a [u8]>) -> Result<(), RowError>,
    ) -> Result<(), RowError> {
        if layout.len() != self.columns {
            return Err(RowError::Malformed(
                "row holds a different number of columns than its version",
            ));
        }
        self.for_each_leading_field(layout, f)
    }

    /// As `for_each_field`, for the first `leading.len()` columns only: the rest of the
    /// row is not read (nor checked).
    pub fn for_each_leading_field<T: std::borrow::Borrow<DataType>>(
        &self,
        leading: &[T],
        mut f: impl FnMut(usize, Option<&'a [u8]>) -> Result<(), RowError>,
    ) -> Result<(), RowError> {
        if leading.len() > self.columns {
            return Err(RowError::Malformed(
                "row holds fewer columns than its version",
            ));
        }
        let mut at = 0;
        for (i, ty) in leading.iter().enumerate() {
            if self.is_null(i) {
                f(i, None)?;
            } else {
                f(i, Some(field(self.data, &mut at, ty.borrow())?))?;
            }
        }
        if leading.len() == self.columns && at != self.data.len() {
            return Err(RowError::Malformed("trailing bytes after the last column"));
        }
        Ok(())
    }

    /// Decodes every column.
    pub fn values(&self, layout: &[&DataType]) -> Result<Vec<Value>, RowError> {
        let mut values = Vec::with_capacity(layout.len());
        self.for_each_field(layout, |i, raw| {
            values.push(match raw {
                None => Value::Null,
                Some(raw) => decode_value(raw, layout[i])?,
            });
            Ok(())
        })?;
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_roundtrips_and_nulls_cost_a_bit() {
        let layout = [
            DataType::Int4,
            DataType::Text,
            DataType::Numeric {
                precision: Some(10),
                scale: Some(2),
            },
            DataType::Bool,
            DataType::Array(Box::new(DataType::Int8)),
            DataType::Interval,
        ];
        let layout: Vec<&DataType> = layout.iter().collect();
        let values = [
            Value::Int4(-7),
            Value::Text("héllo".into()),
            Value::Numeric(Numeric::parse("12.50").unwrap()),
            Value::Null,
            Value::Array(vec![Value::Int8(1), Value::Null, Value::Int8(3)]),
            Value::Interval(Interval {
                months: 1,
                days: -2,
                micros: 3,
            }),
        ];
        let mut row = Vec::new();
        encode_row(&mut row, 3, &layout, &values.iter().collect::<Vec<_>>()).unwrap();
        let reader = RowReader::parse(&row).unwrap();
        assert_eq!(reader.version(), 3);
        let decoded = reader.values(&layout).unwrap();
        assert_eq!(format!("{decoded:?}"), format!("{values:?}"));
        match &decoded[2] {
            Value::Numeric(n) => assert_eq!(n.to_string(), "12.50", "display scale kept"),
            other => panic!("{other:?}"),
        }

        let mut all_null = Vec::new();
        let nulls = vec![&Value::Null; 6];
        encode_row(&mut all_null, 3, &layout, &nulls).unwrap();
        assert_eq!(all_null.len(), 3, "version, count and a one-byte bitmap");
    }

    #[test]
    fn every_stored_type_roundtrips_beside_its_neighbours() {
        // A value that decodes to the wrong width corrupts every column after it, so
        // each type sits between two others.
        let cases = [
            (DataType::Bool, Value::Bool(true)),
            (DataType::Int2, Value::Int2(-2)),
            (DataType::Int8, Value::Int8(1 << 40)),
            (DataType::Float4, Value::Float4(1.5)),
            (DataType::Float8, Value::Float8(-2.25)),
            (DataType::Date, Value::Date(-10)),
            (DataType::Time, Value::Time(1_000_000)),
            (DataType::Timestamp, Value::Timestamp(-5)),
            (DataType::TimestampTz, Value::TimestampTz(7)),
            (DataType::Uuid, Value::Uuid([9; 16])),
            (DataType::Varchar(Some(4)), Value::Text("ab".into())),
            (DataType::Char(3), Value::Text("x  ".into())),
            (DataType::Name, Value::Text("relname".into())),
            (DataType::Json, Value::Json("{}".into())),
            (DataType::Jsonb, Value::Json("[1]".into())),
            (DataType::Bytea, Value::Bytea(vec![0, 255])),
        ];
        for (ty, value) in cases {
            let layout = [DataType::Text, ty.clone(), DataType::Int4];
            let layout: Vec<&DataType> = layout.iter().collect();
            let values = [Value::Text("before".into()), value, Value::Int4(42)];
            let mut row = Vec::new();
            encode_row(&mut row, 1, &layout, &values.iter().collect::<Vec<_>>()).unwrap();
            let decoded = RowReader::parse(&row).unwrap().values(&layout).unwrap();
            assert_eq!(format!("{decoded:?}"), format!("{values:?}"), "{ty:?}");
        }
    }

    #[test]
    fn damaged_rows_are_errors_not_panics() {
        let layout = [DataType::Text, DataType::Int8];
        let layout: Vec<&DataType> = layout.iter().collect();
        let mut row = Vec::new();
        encode_row(
            &mut row,
            1,
            &layout,
            &[&Value::Text("abc".into()), &Value::Int8(5)],
        )
        .unwrap();
        for len in 0..row.len() {
            let result = RowReader::parse(&row[..len]).and_then(|r| r.values(&layout));
            assert!(result.is_err(), "truncated to {len} bytes");
        }
        let mut longer = row.clone();
        longer.push(0);
        assert!(RowReader::parse(&longer).unwrap().values(&layout).is_err());
        assert!(
            RowReader::parse(&row)
                .unwrap()
                .values(&layout[..1])
                .is_err()
        );
    }
}
