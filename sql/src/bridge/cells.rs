//! One Arrow cell as a stored value: what DataFusion computed, converted to the type of
//! the column it is written to, with PostgreSQL's checks on the way in — integer ranges,
//! `varchar` and `char` lengths, `numeric` precision and scale, uuid and json syntax.
//! Text cells bound for a non-text column are read by that type's input function, as
//! PostgreSQL reads an untyped literal.

use bytedata_pgtypes::DataType as SqlType;
use bytedata_pgtypes::Numeric;
use bytedata_pgtypes::calendar::{MICROS_PER_DAY, PG_EPOCH_DAYS};
use bytedata_pgtypes::input::{parse_text, parse_uuid, reads_text};
use bytedata_pgtypes::json::normalize_json;
use bytedata_pgtypes::typmod::{apply_char_typmod, apply_numeric_typmod};
use bytedata_pgtypes::{InputOptions, Interval, Value};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Decimal256Type, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, IntervalMonthDayNanoType, IntervalUnit,
    Time64MicrosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use crate::error::{Result, SqlError};

fn out_of_range(ty: &SqlType) -> SqlError {
    SqlError::new("22003", format!("{} out of range", ty.display_name()))
}

fn mismatch(ty: &SqlType, arrow: &ArrowType) -> SqlError {
    SqlError::new(
        "42804",
        format!(
            "column is of type {} but expression is of type {}",
            ty.display_name(),
            super::types::pg_oid_of_arrow(arrow)
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
                Numeric::parse(&bytedata_pgtypes::output::format_f64(value, 1)).ok()?
            }
        }
        _ => Numeric::from_i128(integer_at(array, row)?, 0),
    })
}

/// The value of one Arrow cell as a column of type `ty` stores it.
pub fn value_at(array: &ArrayRef, row: usize, ty: &SqlType) -> Result<Value> {
    value_at_in(array, row, ty, &InputOptions::UTC)
}

/// `value_at`, reading text cells with PostgreSQL's input functions and the session's
/// `options` (zone-less timestamptz text in its zone, dates in its field order).
pub fn value_at_in(
    array: &ArrayRef,
    row: usize,
    ty: &SqlType,
    options: &InputOptions,
) -> Result<Value> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    if reads_text(ty)
        && let Some(text) = string_at(array, row)
    {
        return Ok(parse_text(text, ty, options)?);
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
        SqlType::Name => {
            let text = string_at(array, row).ok_or_else(bad)?;
            Value::Text(bytedata_pgtypes::input::name_text(text))
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
            ArrowType::Date32 => Value::Date(bytedata_pgtypes::calendar::pg_days_of(
                array.as_primitive::<Date32Type>().value(row),
            )),
            ArrowType::Timestamp(..) => Value::Date(
                (timestamp_micros(array, row)
                    .ok_or_else(bad)?
                    .div_euclid(MICROS_PER_DAY)) as i32
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
                    i64::from(array.as_primitive::<Date32Type>().value(row)) * MICROS_PER_DAY
                }
                _ => return Err(bad()),
            };
            let pg = bytedata_pgtypes::calendar::pg_micros_of(micros);
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
