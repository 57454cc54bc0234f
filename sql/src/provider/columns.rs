//! The columns a scan builds: Arrow builders fed straight from stored fields.
//!
//! Numbers, booleans, dates, times, timestamps and text go from their stored bytes (see
//! the catalog's `rowcode`) into typed Arrow builders without a `Value` in between — and
//! text without a `String`. Every other type is decoded to a `Value` and appended by the
//! general `ColumnBuilder`, as are key columns and the values of columns a row predates
//! (which the projection hands over as values). Both routes give the same arrays.

use bytedata_catalog::CatalogError;
use bytedata_catalog::projection::FieldSink;
use bytedata_catalog::rowcode::{self, RowError};
use bytedata_pgtypes::DataType as SqlType;
use bytedata_pgtypes::Value;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int16Builder,
    Int32Builder, Int64Builder, StringBuilder, Time64MicrosecondBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::DataType as ArrowType;
use std::sync::Arc;

use crate::bridge::arrow_type;
use crate::bridge::{ColumnBuilder, finish_column};
use crate::error::SqlError;
use bytedata_pgtypes::calendar::{unix_days_of, unix_micros_of};

enum Builder {
    Bool(BooleanBuilder),
    Int2(Int16Builder),
    Int4(Int32Builder),
    Int8(Int64Builder),
    Float4(Float32Builder),
    Float8(Float64Builder),
    /// Days since 2000-01-01 stored, since 1970-01-01 built.
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    /// Microseconds since 2000-01-01 stored, since 1970-01-01 built.
    Timestamp(TimestampMicrosecondBuilder),
    Text(StringBuilder),
    General(ColumnBuilder),
}

pub(super) struct ScanColumn {
    ty: SqlType,
    builder: Builder,
}

fn malformed(what: &'static str) -> SqlError {
    CatalogError::Row(RowError::Malformed(what)).into()
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], SqlError> {
    raw.try_into()
        .map_err(|_| malformed("fixed-width value of the wrong size"))
}

impl ScanColumn {
    pub(super) fn new(ty: &SqlType, capacity: usize) -> Self {
        let builder = match ty {
            SqlType::Bool => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            SqlType::Int2 => Builder::Int2(Int16Builder::with_capacity(capacity)),
            SqlType::Int4 => Builder::Int4(Int32Builder::with_capacity(capacity)),
            SqlType::Int8 => Builder::Int8(Int64Builder::with_capacity(capacity)),
            SqlType::Float4 => Builder::Float4(Float32Builder::with_capacity(capacity)),
            SqlType::Float8 => Builder::Float8(Float64Builder::with_capacity(capacity)),
            SqlType::Date => Builder::Date(Date32Builder::with_capacity(capacity)),
            SqlType::Time => Builder::Time(Time64MicrosecondBuilder::with_capacity(capacity)),
            SqlType::Timestamp | SqlType::TimestampTz => {
                Builder::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity))
            }
            SqlType::Text
            | SqlType::Varchar(_)
            | SqlType::Char(_)
            | SqlType::Json
            | SqlType::Jsonb => {
                Builder::Text(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            _ => Builder::General(ColumnBuilder::new(ty, capacity)),
        };
        ScanColumn {
            ty: ty.clone(),
            builder,
        }
    }

    fn append_raw(&mut self, stored: &SqlType, raw: Option<&[u8]>) -> Result<(), SqlError> {
        let Some(raw) = raw else {
            return self.append_value(&Value::Null);
        };
        match &mut self.builder {
            Builder::Bool(b) => b.append_value(raw.first().copied().unwrap_or(0) != 0),
            Builder::Int2(b) => b.append_value(i16::from_le_bytes(fixed(raw)?)),
            Builder::Int4(b) => b.append_value(i32::from_le_bytes(fixed(raw)?)),
            Builder::Int8(b) => b.append_value(i64::from_le_bytes(fixed(raw)?)),
            Builder::Float4(b) => b.append_value(f32::from_le_bytes(fixed(raw)?)),
            Builder::Float8(b) => b.append_value(f64::from_le_bytes(fixed(raw)?)),
            Builder::Date(b) => b.append_value(unix_days_of(i32::from_le_bytes(fixed(raw)?))),
            Builder::Time(b) => b.append_value(i64::from_le_bytes(fixed(raw)?)),
            Builder::Timestamp(b) => {
                b.append_value(unix_micros_of(i64::from_le_bytes(fixed(raw)?)))
            }
            Builder::Text(b) => b.append_value(
                std::str::from_utf8(raw).map_err(|_| malformed("text is not UTF-8"))?,
            ),
            Builder::General(b) => {
                let value = rowcode::decode_value(raw, stored).map_err(CatalogError::from)?;
                b.append(&value)?;
            }
        }
        Ok(())
    }

    fn append_value(&mut self, value: &Value) -> Result<(), SqlError> {
        if value.is_null() {
            match &mut self.builder {
                Builder::Bool(b) => b.append_null(),
                Builder::Int2(b) => b.append_null(),
                Builder::Int4(b) => b.append_null(),
                Builder::Int8(b) => b.append_null(),
                Builder::Float4(b) => b.append_null(),
                Builder::Float8(b) => b.append_null(),
                Builder::Date(b) => b.append_null(),
                Builder::Time(b) => b.append_null(),
                Builder::Timestamp(b) => b.append_null(),
                Builder::Text(b) => b.append_null(),
                Builder::General(b) => b.append(value)?,
            }
            return Ok(());
        }
        match (&mut self.builder, value) {
            (Builder::General(b), value) => b.append(value)?,
            (Builder::Bool(b), Value::Bool(v)) => b.append_value(*v),
            (Builder::Int2(b), Value::Int2(v)) => b.append_value(*v),
            (Builder::Int4(b), Value::Int4(v)) => b.append_value(*v),
            (Builder::Int8(b), Value::Int8(v)) => b.append_value(*v),
            (Builder::Float4(b), Value::Float4(v)) => b.append_value(*v),
            (Builder::Float8(b), Value::Float8(v)) => b.append_value(*v),
            (Builder::Date(b), Value::Date(v)) => b.append_value(unix_days_of(*v)),
            (Builder::Time(b), Value::Time(v)) => b.append_value(*v),
            (Builder::Timestamp(b), Value::Timestamp(v) | Value::TimestampTz(v)) => {
                b.append_value(unix_micros_of(*v))
            }
            (Builder::Text(b), Value::Text(v) | Value::Json(v)) => b.append_value(v),
            _ => {
                return Err(SqlError::internal(format!(
                    "stored value does not match column type {}",
                    self.ty.display_name()
                )));
            }
        }
        Ok(())
    }

    pub(super) fn finish(&mut self) -> ArrayRef {
        match &mut self.builder {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int2(b) => Arc::new(b.finish()),
            Builder::Int4(b) => Arc::new(b.finish()),
            Builder::Int8(b) => Arc::new(b.finish()),
            Builder::Float4(b) => Arc::new(b.finish()),
            Builder::Float8(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => match arrow_type(&self.ty) {
                ArrowType::Timestamp(_, Some(zone)) => Arc::new(b.finish().with_timezone(zone)),
                _ => Arc::new(b.finish()),
            },
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::General(b) => finish_column(b),
        }
    }
}

/// The columns of one batch, in projection order.
pub(super) struct ScanColumns(pub(super) Vec<ScanColumn>);

impl FieldSink for ScanColumns {
    type Error = SqlError;

    fn raw(&mut self, output: usize, ty: &SqlType, raw: Option<&[u8]>) -> Result<(), SqlError> {
        self.0[output].append_raw(ty, raw)
    }

    fn value(&mut self, output: usize, value: &Value) -> Result<(), SqlError> {
        self.0[output].append_value(value)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use bytedata_pgtypes::Numeric;
    use bytedata_pgtypes::value::Interval;
    use datafusion::arrow::array::Array;

    use super::*;

    /// Every type, a value and NULL, appended from stored bytes and from values, must give
    /// the arrays the general builder gives.
    #[test]
    fn stored_bytes_and_values_build_the_same_arrays_as_the_general_builder() {
        let cases: Vec<(SqlType, Value)> = vec![
            (SqlType::Bool, Value::Bool(true)),
            (SqlType::Int2, Value::Int2(-7)),
            (SqlType::Int4, Value::Int4(1 << 20)),
            (SqlType::Int8, Value::Int8(-(1 << 40))),
            (SqlType::Float4, Value::Float4(1.5)),
            (SqlType::Float8, Value::Float8(-2.25)),
            (SqlType::Date, Value::Date(-400)),
            (SqlType::Time, Value::Time(3_600_000_000)),
            (SqlType::Timestamp, Value::Timestamp(86_400_000_000)),
            (SqlType::TimestampTz, Value::TimestampTz(-5)),
            (SqlType::Text, Value::Text("héllo".into())),
            (SqlType::Varchar(Some(3)), Value::Text("abc".into())),
            (SqlType::Char(2), Value::Text("x ".into())),
            (SqlType::Jsonb, Value::Json("{\"a\": 1}".into())),
            (
                SqlType::Numeric {
                    precision: Some(6),
                    scale: Some(2),
                },
                Value::Numeric(Numeric::parse("12.50").unwrap()),
            ),
            (SqlType::Bytea, Value::Bytea(vec![0, 1, 2])),
            (
                SqlType::Interval,
                Value::Interval(Interval {
                    months: 1,
                    days: 2,
                    micros: 3,
                }),
            ),
        ];
        for (ty, value) in cases {
            // The field as a scan meets it: read out of a stored row.
            let mut row = Vec::new();
            rowcode::encode_row(&mut row, 1, &[&ty], &[&value]).unwrap();
            let reader = rowcode::RowReader::parse(&row).unwrap();
            let mut stored = None;
            reader
                .for_each_field(&[&ty], |_, raw| {
                    stored = raw;
                    Ok(())
                })
                .unwrap();
            let mut from_raw = ScanColumn::new(&ty, 4);
            let mut from_values = ScanColumn::new(&ty, 4);
            let mut general = ColumnBuilder::new(&ty, 4);
            for v in [&value, &Value::Null] {
                let raw = if v.is_null() { None } else { stored };
                from_raw.append_raw(&ty, raw).unwrap();
                from_values.append_value(v).unwrap();
                general.append(v).unwrap();
            }
            let expected = finish_column(&mut general);
            for mut column in [from_raw, from_values] {
                let array = column.finish();
                assert_eq!(array.data_type(), expected.data_type(), "{ty:?}");
                assert_eq!(&array, &expected, "{ty:?}");
                assert!(array.is_null(1));
            }
        }
    }

    #[test]
    fn damaged_stored_bytes_are_errors() {
        let mut int = ScanColumn::new(&SqlType::Int4, 1);
        assert!(int.append_raw(&SqlType::Int4, Some(&[1, 2, 3])).is_err());
        let mut text = ScanColumn::new(&SqlType::Text, 1);
        assert!(
            text.append_raw(&SqlType::Text, Some(&[0xff, 0xfe]))
                .is_err()
        );
        let mut wrong = ScanColumn::new(&SqlType::Int8, 1);
        assert!(wrong.append_value(&Value::Text("x".into())).is_err());
    }
}
