//! Values between Arrow arrays (what DataFusion computes with) and the catalog's stored
//! form (what rows hold), with PostgreSQL's checks on the way in: integer ranges, `varchar`
//! and `char` lengths, `numeric` precision and scale, uuid and json syntax.

use std::sync::Arc;

use bytedata_catalog::numeric::Numeric;
use bytedata_catalog::types::DataType as SqlType;
use bytedata_catalog::value::{Interval, Value};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Decimal256Builder, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder,
    IntervalMonthDayNanoBuilder, ListBuilder, StringBuilder, Time64MicrosecondBuilder,
    TimestampMicrosecondBuilder, make_builder,
};
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Decimal256Type, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, IntervalMonthDayNano, IntervalMonthDayNanoType,
    IntervalUnit, Time64MicrosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type, i256,
};

use crate::error::{Result, SqlError};
use crate::types::{PG_EPOCH_DAYS, PG_EPOCH_MICROS, UNCONSTRAINED_NUMERIC, arrow_type};

fn out_of_range(ty: &SqlType) -> SqlError {
    SqlError::new("22003", format!("{} out of range", ty.display_name()))
}

fn mismatch(ty: &SqlType, arrow: &ArrowType) -> SqlError {
    SqlError::new(
        "42804",
        format!(
            "column is of type {} but expression is of type {}",
            ty.display_name(),
            crate::types::pg_oid_of_arrow(arrow)
        ),
    )
}

/// An integer cell of any Arrow integer type, widened.
fn integer_at(array: &ArrayRef, row: usize) -> Option<i128> {
    Some(match array.data_type() {
        ArrowType::Int8 => i128::from(array.as_primitive::<Int8Type>().value(row)),
        ArrowType::Int16 => i128::from(array.as_primitive::<Int16Type>().value(row)),
        ArrowType::Int32 => i128::from(array.as_primitive::<Int32Type>().value(row)),
        ArrowType::Int64 => i128::from(array.as_primitive::<Int64Type>().value(row)),
        ArrowType::UInt8 => i128::from(array.as_primitive::<UInt8Type>().value(row)),
        ArrowType::UInt16 => i128::from(array.as_primitive::<UInt16Type>().value(row)),
        ArrowType::UInt32 => i128::from(array.as_primitive::<UInt32Type>().value(row)),
        ArrowType::UInt64 => i128::from(array.as_primitive::<UInt64Type>().value(row)),
        _ => return None,
    })
}

fn float_at(array: &ArrayRef, row: usize) -> Option<f64> {
    match array.data_type() {
        ArrowType::Float32 => Some(f64::from(array.as_primitive::<Float32Type>().value(row))),
        ArrowType::Float64 => Some(array.as_primitive::<Float64Type>().value(row)),
        _ => integer_at(array, row).map(|i| i as f64),
    }
}

fn string_at(array: &ArrayRef, row: usize) -> Option<&str> {
    Some(match array.data_type() {
        ArrowType::Utf8 => array.as_string::<i32>().value(row),
        ArrowType::LargeUtf8 => array.as_string::<i64>().value(row),
        ArrowType::Utf8View => array.as_string_view().value(row),
        _ => return None,
    })
}

/// A numeric from any numeric Arrow cell.
fn numeric_at(array: &ArrayRef, row: usize) -> Option<Numeric> {
    Some(match array.data_type() {
        ArrowType::Decimal128(_, scale) => {
            let unscaled = array.as_primitive::<Decimal128Type>().value(row);
            if *scale >= 0 {
                Numeric::from_i128(unscaled, *scale as u16)
            } else {
                Numeric::parse(&format!("{unscaled}e{}", -scale)).ok()?
            }
        }
        ArrowType::Decimal256(_, scale) => {
            let unscaled = array.as_primitive::<Decimal256Type>().value(row);
            Numeric::parse(&format!("{unscaled}e{}", -scale))
                .ok()?
                .with_display_scale((*scale).max(0) as u16)
        }
        ArrowType::Float32 | ArrowType::Float64 => {
            let value = float_at(array, row)?;
            if value.is_nan() {
                Numeric::nan()
            } else if value.is_infinite() {
                Numeric::infinity(value < 0.0)
            } else {
                Numeric::parse(&crate::pgtext::format_f64(value, 1)).ok()?
            }
        }
        _ => Numeric::from_i128(integer_at(array, row)?, 0),
    })
}

/// Applies `numeric(p, s)`: rounds to `s` and checks the digits before the point.
pub fn apply_numeric_typmod(
    value: Numeric,
    precision: Option<u32>,
    scale: Option<u32>,
) -> Result<Numeric> {
    let Some(precision) = precision else {
        return Ok(value);
    };
    let scale = scale.unwrap_or(0);
    if !value.is_finite() {
        if value.is_nan() {
            return Ok(value);
        }
        return Err(
            SqlError::new("22003", "numeric field overflow").with_detail(format!(
                "A field with precision {precision}, scale {scale} cannot hold an infinite value."
            )),
        );
    }
    let rounded = value.round(scale as u16);
    if rounded.integer_digits() > i64::from(precision) - i64::from(scale) {
        return Err(SqlError::new("22003", "numeric field overflow").with_detail(format!(
            "A field with precision {precision}, scale {scale} must round to an absolute value less than 10^{}.",
            precision - scale
        )));
    }
    Ok(rounded)
}

/// Checks and pads a string for `varchar(n)` / `char(n)`, as PostgreSQL does: excess
/// trailing spaces are cut, anything else too long is an error (22001).
pub fn apply_char_typmod(text: &str, ty: &SqlType) -> Result<String> {
    let (limit, pad, name) = match ty {
        SqlType::Varchar(Some(n)) => (*n as usize, false, "character varying"),
        SqlType::Char(n) => (*n as usize, true, "character"),
        _ => return Ok(text.to_owned()),
    };
    let chars = text.chars().count();
    if chars > limit {
        let (head, tail): (String, String) = (
            text.chars().take(limit).collect(),
            text.chars().skip(limit).collect(),
        );
        if tail.chars().all(|c| c == ' ') {
            return Ok(head);
        }
        return Err(SqlError::new(
            "22001",
            format!("value too long for type {name}({limit})"),
        ));
    }
    let mut out = text.to_owned();
    if pad {
        out.extend(std::iter::repeat_n(' ', limit - chars));
    }
    Ok(out)
}

pub fn parse_uuid(text: &str) -> Result<[u8; 16]> {
    let invalid = || {
        SqlError::new(
            "22P02",
            format!("invalid input syntax for type uuid: \"{text}\""),
        )
    };
    let trimmed = text.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = trimmed.chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
    }
    Ok(bytes)
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

/// The value of one Arrow cell as a column of type `ty` stores it.
pub fn value_at(array: &ArrayRef, row: usize, ty: &SqlType) -> Result<Value> {
    value_at_in(array, row, ty, &crate::datetime::Zone::UTC)
}

/// `value_at`, reading text cells with PostgreSQL's input functions, zone-less
/// timestamptz text in `zone`.
pub fn value_at_in(
    array: &ArrayRef,
    row: usize,
    ty: &SqlType,
    zone: &crate::datetime::Zone,
) -> Result<Value> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    if crate::pginput::reads_text(ty)
        && let Some(text) = string_at(array, row)
    {
        return crate::pginput::parse_text(text, ty, zone);
    }
    let arrow = array.data_type();
    let bad = || mismatch(ty, arrow);
    Ok(match ty {
        SqlType::Bool => match arrow {
            ArrowType::Boolean => Value::Bool(array.as_boolean().value(row)),
            _ => return Err(bad()),
        },
        SqlType::Int2 => {
            let v = integer_at(array, row)
                .or_else(|| float_at(array, row).map(|f| f.round() as i128))
                .ok_or_else(bad)?;
            Value::Int2(i16::try_from(v).map_err(|_| out_of_range(ty))?)
        }
        SqlType::Int4 => {
            let v = integer_at(array, row)
                .or_else(|| float_at(array, row).map(|f| f.round() as i128))
                .ok_or_else(bad)?;
            Value::Int4(i32::try_from(v).map_err(|_| out_of_range(ty))?)
        }
        SqlType::Int8 => {
            let v = integer_at(array, row)
                .or_else(|| float_at(array, row).map(|f| f.round() as i128))
                .ok_or_else(bad)?;
            Value::Int8(i64::try_from(v).map_err(|_| out_of_range(ty))?)
        }
        SqlType::Float4 => Value::Float4(
            float_at(array, row)
                .or_else(|| numeric_f64(array, row))
                .ok_or_else(bad)? as f32,
        ),
        SqlType::Float8 => Value::Float8(
            float_at(array, row)
                .or_else(|| numeric_f64(array, row))
                .ok_or_else(bad)?,
        ),
        SqlType::Numeric { precision, scale } => {
            let value = numeric_at(array, row).ok_or_else(bad)?;
            Value::Numeric(apply_numeric_typmod(value, *precision, *scale)?)
        }
        SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_) => {
            let text = string_at(array, row).ok_or_else(bad)?;
            Value::Text(apply_char_typmod(text, ty)?)
        }
        SqlType::Json | SqlType::Jsonb => {
            let text = string_at(array, row).ok_or_else(bad)?;
            Value::Json(normalize_json(text, matches!(ty, SqlType::Jsonb))?)
        }
        SqlType::Uuid => Value::Uuid(parse_uuid(string_at(array, row).ok_or_else(bad)?)?),
        SqlType::Bytea => match arrow {
            ArrowType::Binary => Value::Bytea(array.as_binary::<i32>().value(row).to_vec()),
            ArrowType::LargeBinary => Value::Bytea(array.as_binary::<i64>().value(row).to_vec()),
            ArrowType::BinaryView => Value::Bytea(array.as_binary_view().value(row).to_vec()),
            _ => return Err(bad()),
        },
        SqlType::Date => match arrow {
            ArrowType::Date32 => Value::Date(
                array
                    .as_primitive::<Date32Type>()
                    .value(row)
                    .saturating_sub(PG_EPOCH_DAYS),
            ),
            ArrowType::Timestamp(..) => Value::Date(
                (timestamp_micros(array, row)
                    .ok_or_else(bad)?
                    .div_euclid(86_400_000_000)) as i32
                    - PG_EPOCH_DAYS,
            ),
            _ => return Err(bad()),
        },
        SqlType::Time => match arrow {
            ArrowType::Time64(TimeUnit::Microsecond) => {
                Value::Time(array.as_primitive::<Time64MicrosecondType>().value(row))
            }
            _ => return Err(bad()),
        },
        SqlType::Timestamp | SqlType::TimestampTz => {
            let micros = match arrow {
                ArrowType::Timestamp(..) => timestamp_micros(array, row).ok_or_else(bad)?,
                ArrowType::Date32 => {
                    i64::from(array.as_primitive::<Date32Type>().value(row)) * 86_400_000_000
                }
                _ => return Err(bad()),
            };
            let pg = micros.saturating_sub(PG_EPOCH_MICROS);
            if matches!(ty, SqlType::Timestamp) {
                Value::Timestamp(pg)
            } else {
                Value::TimestampTz(pg)
            }
        }
        SqlType::Interval => match arrow {
            ArrowType::Interval(IntervalUnit::MonthDayNano) => {
                let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
                Value::Interval(Interval {
                    months: v.months,
                    days: v.days,
                    micros: v.nanoseconds / 1000,
                })
            }
            _ => return Err(bad()),
        },
        SqlType::Array(element) => match arrow {
            ArrowType::List(_) => {
                let values = array.as_list::<i32>().value(row);
                let items = (0..values.len())
                    .map(|i| value_at(&values, i, element))
                    .collect::<Result<_>>()?;
                Value::Array(items)
            }
            _ => return Err(bad()),
        },
    })
}

fn numeric_f64(array: &ArrayRef, row: usize) -> Option<f64> {
    numeric_at(array, row)?.to_string().parse().ok()
}

fn timestamp_micros(array: &ArrayRef, row: usize) -> Option<i64> {
    match array.data_type() {
        ArrowType::Timestamp(TimeUnit::Second, _) => Some(
            array
                .as_primitive::<TimestampSecondType>()
                .value(row)
                .saturating_mul(1_000_000),
        ),
        ArrowType::Timestamp(TimeUnit::Millisecond, _) => Some(
            array
                .as_primitive::<TimestampMillisecondType>()
                .value(row)
                .saturating_mul(1000),
        ),
        ArrowType::Timestamp(TimeUnit::Microsecond, _) => {
            Some(array.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        ArrowType::Timestamp(TimeUnit::Nanosecond, _) => {
            Some(array.as_primitive::<TimestampNanosecondType>().value(row) / 1000)
        }
        _ => None,
    }
}

/// Validates JSON text; `jsonb` is normalized as PostgreSQL prints it.
pub fn normalize_json(text: &str, binary: bool) -> Result<String> {
    let parsed: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        SqlError::new("22P02", "invalid input syntax for type json")
            .with_detail(format!("Token \"{text}\" is invalid."))
    })?;
    if !binary {
        return Ok(text.to_owned());
    }
    Ok(jsonb_text(&parsed))
}

/// jsonb's text form: keys sorted (by length, then bytes, as PostgreSQL stores them),
/// `": "` and `", "` separators.
pub fn jsonb_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(b.0)));
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        serde_json::Value::String((*k).clone()),
                        jsonb_text(v)
                    )
                })
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(jsonb_text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

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
        (SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_), Value::Text(s)) => {
            put!(StringBuilder, s)
        }
        (SqlType::Json | SqlType::Jsonb, Value::Json(s)) => put!(StringBuilder, s),
        (SqlType::Uuid, Value::Uuid(u)) => put!(StringBuilder, format_uuid(u)),
        (SqlType::Bytea, Value::Bytea(b)) => put!(BinaryBuilder, b),
        (SqlType::Date, Value::Date(d)) => put!(Date32Builder, d.saturating_add(PG_EPOCH_DAYS)),
        (SqlType::Time, Value::Time(t)) => put!(Time64MicrosecondBuilder, *t),
        (SqlType::Timestamp, Value::Timestamp(t))
        | (SqlType::TimestampTz, Value::TimestampTz(t)) => {
            put!(
                TimestampMicrosecondBuilder,
                t.saturating_add(PG_EPOCH_MICROS)
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

/// Precision and scale of an unconstrained numeric, for builders and casts.
pub fn unconstrained_numeric() -> ArrowType {
    ArrowType::Decimal256(UNCONSTRAINED_NUMERIC.0, UNCONSTRAINED_NUMERIC.1)
}

/// A value in PostgreSQL's text output (UTC for timestamptz), for error details such as
/// `Key (id)=(1) already exists.`; NULL prints as `null`, as PostgreSQL's details do.
pub fn value_text(value: &Value) -> String {
    use crate::pgtext;
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "t" } else { "f" }.into(),
        Value::Int2(v) => v.to_string(),
        Value::Int4(v) => v.to_string(),
        Value::Int8(v) => v.to_string(),
        Value::Float4(v) => pgtext::format_f32(*v, 1),
        Value::Float8(v) => pgtext::format_f64(*v, 1),
        Value::Numeric(n) => n.to_string(),
        Value::Text(s) | Value::Json(s) => s.clone(),
        Value::Bytea(b) => pgtext::format_bytea(b),
        Value::Date(days) => pgtext::format_date(days.saturating_add(PG_EPOCH_DAYS)),
        Value::Time(micros) => pgtext::format_time_of_day(*micros),
        Value::Timestamp(micros) => {
            pgtext::format_timestamp(micros.saturating_add(PG_EPOCH_MICROS))
        }
        Value::TimestampTz(micros) => {
            pgtext::format_timestamptz(micros.saturating_add(PG_EPOCH_MICROS), 0)
        }
        Value::Interval(i) => pgtext::format_interval(i.months, i.days, i.micros),
        Value::Uuid(bytes) => format_uuid(bytes),
        Value::Array(items) => format!(
            "{{{}}}",
            items.iter().map(value_text).collect::<Vec<_>>().join(",")
        ),
    }
}

/// A value converted to another key type of the same family (a foreign key's `int4`
/// looked up in an `int8` key, say); `None` when it cannot be represented there.
pub fn coerce_value(value: &Value, to: &SqlType) -> Option<Value> {
    let integer = |v: i128| -> Option<Value> {
        Some(match to {
            SqlType::Int2 => Value::Int2(i16::try_from(v).ok()?),
            SqlType::Int4 => Value::Int4(i32::try_from(v).ok()?),
            SqlType::Int8 => Value::Int8(i64::try_from(v).ok()?),
            SqlType::Numeric { .. } => Value::Numeric(Numeric::from_i128(v, 0)),
            SqlType::Float8 => Value::Float8(v as f64),
            _ => return None,
        })
    };
    match (value, to) {
        (Value::Null, _) => Some(Value::Null),
        (Value::Int2(v), _) => integer(i128::from(*v)),
        (Value::Int4(v), _) => integer(i128::from(*v)),
        (Value::Int8(v), _) => integer(i128::from(*v)),
        (Value::Numeric(n), SqlType::Numeric { .. }) => Some(Value::Numeric(n.clone())),
        (Value::Numeric(n), SqlType::Int2 | SqlType::Int4 | SqlType::Int8) => {
            let whole = n.to_i128(0)?;
            (Numeric::from_i128(whole, 0) == *n).then_some(())?;
            integer(whole)
        }
        (Value::Float4(v), SqlType::Float8) => Some(Value::Float8(f64::from(*v))),
        (Value::Timestamp(v), SqlType::Timestamp) => Some(Value::Timestamp(*v)),
        (Value::TimestampTz(v), SqlType::TimestampTz) => Some(Value::TimestampTz(*v)),
        (v, _) => Some(v.clone()),
    }
}
