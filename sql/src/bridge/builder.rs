//! Arrow arrays built from stored values: the columns a scan, the fast path or a
//! `RETURNING` list hands to DataFusion or the wire.

use std::sync::Arc;

use bytedata_pgtypes::DataType as SqlType;

use bytedata_pgtypes::output::format_uuid;
use bytedata_pgtypes::{Numeric, Value};
use datafusion::arrow::array::{
    ArrayRef, AsArray, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Decimal256Builder, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder,
    IntervalMonthDayNanoBuilder, ListBuilder, RecordBatch, StringBuilder, Time64MicrosecondBuilder,
    TimestampMicrosecondBuilder, make_builder,
};
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Decimal128Type, Decimal256Type, IntervalMonthDayNano, SchemaRef,
    TimeUnit, TimestampMicrosecondType, i256,
};

use super::types::arrow_type;
use crate::error::{Result, SqlError};

/// Builds an Arrow array of a column's type from stored values.
pub struct ColumnBuilder {
    ty: SqlType,
    builder: Box<dyn datafusion::arrow::array::ArrayBuilder>,
}

impl ColumnBuilder {
    pub fn new(ty: &SqlType, capacity: usize) -> Self {
        ColumnBuilder {
            ty: ty.clone(),
            builder: make_builder(&arrow_type(ty), capacity),
        }
    }

    pub fn append(&mut self, value: &Value) -> Result<()> {
        append_value(self.builder.as_mut(), value, &self.ty)
    }

    pub fn finish(&mut self) -> ArrayRef {
        self.builder.finish()
    }
}

fn downcast<T: 'static>(builder: &mut dyn datafusion::arrow::array::ArrayBuilder) -> &mut T {
    builder
        .as_any_mut()
        .downcast_mut::<T>()
        .expect("builder made for this type")
}

fn numeric_digits(value: &Numeric, scale: i8) -> String {
    value
        .round(scale.max(0) as u16)
        .to_string()
        .replace('.', "")
}

fn append_value(
    builder: &mut dyn datafusion::arrow::array::ArrayBuilder,
    value: &Value,
    ty: &SqlType,
) -> Result<()> {
    macro_rules! put {
        ($builder:ty, $v:expr) => {
            match value {
                Value::Null => downcast::<$builder>(builder).append_null(),
                _ => downcast::<$builder>(builder).append_value($v),
            }
        };
    }
    let wrong = || {
        SqlError::internal(format!(
            "stored value does not match column type {}",
            ty.display_name()
        ))
    };
    match (ty, value) {
        (SqlType::Bool, Value::Bool(v)) => put!(BooleanBuilder, *v),
        (SqlType::Int2, Value::Int2(v)) => put!(Int16Builder, *v),
        (SqlType::Int4, Value::Int4(v)) => put!(Int32Builder, *v),
        (SqlType::Int8, Value::Int8(v)) => put!(Int64Builder, *v),
        (SqlType::Float4, Value::Float4(v)) => put!(Float32Builder, *v),
        (SqlType::Float8, Value::Float8(v)) => put!(Float64Builder, *v),
        (SqlType::Numeric { precision, scale }, Value::Numeric(n)) => match arrow_type(ty) {
            ArrowType::Decimal128(_, s) => {
                let unscaled: i128 = numeric_digits(n, s)
                    .parse()
                    .map_err(|_| SqlError::new("22003", "numeric field overflow"))?;
                let _ = (precision, scale);
                put!(Decimal128Builder, unscaled)
            }
            ArrowType::Decimal256(_, s) => {
                if !n.is_finite() {
                    return Err(SqlError::unsupported("NaN and Infinity in numeric results"));
                }
                let unscaled = i256::from_string(&numeric_digits(n, s))
                    .ok_or_else(|| SqlError::new("22003", "numeric field overflow"))?;
                put!(Decimal256Builder, unscaled)
            }
            _ => return Err(wrong()),
        },
        (
            SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Name,
            Value::Text(s),
        ) => {
            put!(StringBuilder, s)
        }
        (SqlType::Json | SqlType::Jsonb, Value::Json(s)) => put!(StringBuilder, s),
        (SqlType::Uuid, Value::Uuid(u)) => put!(StringBuilder, format_uuid(u)),
        (SqlType::Bytea, Value::Bytea(b)) => put!(BinaryBuilder, b),
        (SqlType::Date, Value::Date(d)) => {
            put!(Date32Builder, bytedata_pgtypes::calendar::unix_days_of(*d))
        }
        (SqlType::Time, Value::Time(t)) => put!(Time64MicrosecondBuilder, *t),
        (SqlType::Timestamp, Value::Timestamp(t))
        | (SqlType::TimestampTz, Value::TimestampTz(t)) => {
            put!(
                TimestampMicrosecondBuilder,
                bytedata_pgtypes::calendar::unix_micros_of(*t)
            )
        }
        (SqlType::Interval, Value::Interval(i)) => {
            put!(
                IntervalMonthDayNanoBuilder,
                IntervalMonthDayNano::new(i.months, i.days, i.micros.saturating_mul(1000))
            )
        }
        (SqlType::Array(element), Value::Array(items)) => {
            let list =
                downcast::<ListBuilder<Box<dyn datafusion::arrow::array::ArrayBuilder>>>(builder);
            for item in items {
                append_value(list.values().as_mut(), item, element)?;
            }
            list.append(true);
        }
        (SqlType::Array(_), Value::Null) => {
            downcast::<ListBuilder<Box<dyn datafusion::arrow::array::ArrayBuilder>>>(builder)
                .append(false);
        }
        (_, Value::Null) => append_null(builder, ty)?,
        _ => return Err(wrong()),
    }
    Ok(())
}

fn append_null(
    builder: &mut dyn datafusion::arrow::array::ArrayBuilder,
    ty: &SqlType,
) -> Result<()> {
    match ty {
        SqlType::Bool => downcast::<BooleanBuilder>(builder).append_null(),
        SqlType::Int2 => downcast::<Int16Builder>(builder).append_null(),
        SqlType::Int4 => downcast::<Int32Builder>(builder).append_null(),
        SqlType::Int8 => downcast::<Int64Builder>(builder).append_null(),
        SqlType::Float4 => downcast::<Float32Builder>(builder).append_null(),
        SqlType::Float8 => downcast::<Float64Builder>(builder).append_null(),
        SqlType::Numeric { .. } => match arrow_type(ty) {
            ArrowType::Decimal128(..) => downcast::<Decimal128Builder>(builder).append_null(),
            _ => downcast::<Decimal256Builder>(builder).append_null(),
        },
        SqlType::Text
        | SqlType::Varchar(_)
        | SqlType::Char(_)
        | SqlType::Name
        | SqlType::Json
        | SqlType::Jsonb
        | SqlType::Uuid => downcast::<StringBuilder>(builder).append_null(),
        SqlType::Bytea => downcast::<BinaryBuilder>(builder).append_null(),
        SqlType::Date => downcast::<Date32Builder>(builder).append_null(),
        SqlType::Time => downcast::<Time64MicrosecondBuilder>(builder).append_null(),
        SqlType::Timestamp | SqlType::TimestampTz => {
            downcast::<TimestampMicrosecondBuilder>(builder).append_null()
        }
        SqlType::Interval => downcast::<IntervalMonthDayNanoBuilder>(builder).append_null(),
        SqlType::Array(_) => {
            downcast::<ListBuilder<Box<dyn datafusion::arrow::array::ArrayBuilder>>>(builder)
                .append(false)
        }
    }
    Ok(())
}

/// Decimal builders need their precision and scale set before finishing.
pub fn finish_column(builder: &mut ColumnBuilder) -> ArrayRef {
    let array = builder.finish();
    match arrow_type(&builder.ty) {
        ArrowType::Decimal128(p, s) => Arc::new(
            array
                .as_primitive::<Decimal128Type>()
                .clone()
                .with_precision_and_scale(p, s)
                .expect("valid decimal type"),
        ),
        ArrowType::Decimal256(p, s) => Arc::new(
            array
                .as_primitive::<Decimal256Type>()
                .clone()
                .with_precision_and_scale(p, s)
                .expect("valid decimal type"),
        ),
        ArrowType::Timestamp(TimeUnit::Microsecond, Some(zone)) => Arc::new(
            array
                .as_primitive::<TimestampMicrosecondType>()
                .clone()
                .with_timezone(zone),
        ),
        _ => array,
    }
}

/// Rows of stored values (each of its column's type) as one record batch.
pub fn values_batch(
    schema: SchemaRef,
    types: &[SqlType],
    rows: &[Vec<Value>],
) -> Result<RecordBatch> {
    let mut arrays = Vec::with_capacity(types.len());
    for (position, ty) in types.iter().enumerate() {
        let mut builder = ColumnBuilder::new(ty, rows.len());
        for row in rows {
            builder.append(&row[position])?;
        }
        arrays.push(finish_column(&mut builder));
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}
