//! Operands as values of a column's type, the way the general path would store or
//! compare them — or `Decline` when the conversion is anything but plain, so the general
//! path runs the statement and gives PostgreSQL's answer (or its error) itself.
//!
//! Two conversions, as in PostgreSQL:
//! - *key*: the operand compared with a key column must denote exactly one value of the
//!   column's type (an `int8` parameter out of `int4` range matches nothing, which is the
//!   general path's business);
//! - *store*: the operand assigned to a column (UPDATE's SET, INSERT's VALUES): text is
//!   read by the type's input function, integers are range-checked.

use bytedata_pgtypes::DataType as SqlType;
use bytedata_pgtypes::Value;
use datafusion::scalar::ScalarValue;

use super::{Decline, Operand};
use bytedata_pgtypes::InputOptions;
use bytedata_pgtypes::calendar::PG_EPOCH_MICROS;

/// What an operand evaluates against.
pub(crate) struct Inputs<'a> {
    pub params: &'a [ScalarValue],
    /// The transaction's start, for `now()`.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The session's time zone and date order, for text.
    pub input: &'a InputOptions,
}

/// The outcome of a conversion: a value, or the statement leaves the fast path.
pub(crate) type Converted = std::result::Result<Value, Decline>;

fn integer_of(ty: &SqlType, v: i128) -> Option<Value> {
    Some(match ty {
        SqlType::Int2 => Value::Int2(i16::try_from(v).ok()?),
        SqlType::Int4 => Value::Int4(i32::try_from(v).ok()?),
        SqlType::Int8 => Value::Int8(i64::try_from(v).ok()?),
        _ => return None,
    })
}

fn is_integer(ty: &SqlType) -> bool {
    matches!(ty, SqlType::Int2 | SqlType::Int4 | SqlType::Int8)
}

/// An operand compared for equality with a key column of type `ty`.
pub(crate) fn key_value(operand: &Operand, ty: &SqlType, inputs: &Inputs) -> Converted {
    match operand {
        Operand::Param(i) => {
            let scalar = inputs.params.get(*i).ok_or(Decline)?;
            crate::provider::access::exact_value(scalar, ty).ok_or(Decline)
        }
        Operand::Number(digits) if is_integer(ty) => {
            let v: i128 = digits.parse().map_err(|_| Decline)?;
            integer_of(ty, v).ok_or(Decline)
        }
        Operand::Text(text) if matches!(ty, SqlType::Text | SqlType::Varchar(None)) => {
            Ok(Value::Text(text.clone()))
        }
        Operand::Bool(b) if *ty == SqlType::Bool => Ok(Value::Bool(*b)),
        _ => Err(Decline),
    }
}

/// An operand assigned to a column of type `ty`.
pub(crate) fn store_value(operand: &Operand, ty: &SqlType, inputs: &Inputs) -> Converted {
    match operand {
        Operand::Null => Ok(Value::Null),
        Operand::Param(i) => {
            let scalar = inputs.params.get(*i).ok_or(Decline)?;
            store_scalar(scalar, ty, inputs.input)
        }
        Operand::Number(digits) if is_integer(ty) => {
            let v: i128 = digits.parse().map_err(|_| Decline)?;
            integer_of(ty, v).ok_or(Decline)
        }
        Operand::Text(text) if bytedata_pgtypes::input::reads_text(ty) => {
            bytedata_pgtypes::input::parse_text(text, ty, inputs.input).map_err(|_| Decline)
        }
        Operand::Bool(b) if *ty == SqlType::Bool => Ok(Value::Bool(*b)),
        Operand::Now => {
            let unix_micros = inputs.now.timestamp_micros();
            let micros = unix_micros - PG_EPOCH_MICROS;
            match ty {
                SqlType::TimestampTz => Ok(Value::TimestampTz(micros)),
                SqlType::Timestamp => {
                    let offset_s = i64::from(inputs.input.zone.offset_at(unix_micros));
                    Ok(Value::Timestamp(micros + offset_s * 1_000_000))
                }
                _ => Err(Decline),
            }
        }
        _ => Err(Decline),
    }
}

/// A parameter's value stored in a column: only when the parameter already has the
/// column's representation (or is text the column's input function reads).
fn store_scalar(scalar: &ScalarValue, ty: &SqlType, input: &InputOptions) -> Converted {
    if scalar.is_null() {
        return Ok(Value::Null);
    }
    let arrow = scalar.data_type();
    let text = matches!(
        arrow,
        datafusion::arrow::datatypes::DataType::Utf8
            | datafusion::arrow::datatypes::DataType::LargeUtf8
            | datafusion::arrow::datatypes::DataType::Utf8View
    );
    let same = arrow == crate::bridge::arrow_type(ty);
    if !(same || (text && bytedata_pgtypes::input::reads_text(ty))) {
        return Err(Decline);
    }
    let array = scalar.to_array().map_err(|_| Decline)?;
    crate::bridge::value_at_in(&array, 0, ty, input).map_err(|_| Decline)
}

/// The SQL type of an integer operand as PostgreSQL types it: a parameter by what it was
/// bound as, a literal `integer` when it fits, else `bigint`.
fn operand_integer(
    operand: &Operand,
    inputs: &Inputs,
) -> std::result::Result<Option<(i128, SqlType)>, Decline> {
    match operand {
        Operand::Null => Ok(None),
        Operand::Number(digits) => {
            let v: i64 = digits.parse().map_err(|_| Decline)?;
            let ty = if i32::try_from(v).is_ok() {
                SqlType::Int4
            } else {
                SqlType::Int8
            };
            Ok(Some((i128::from(v), ty)))
        }
        Operand::Param(i) => match inputs.params.get(*i).ok_or(Decline)? {
            ScalarValue::Int16(v) => Ok(v.map(|v| (i128::from(v), SqlType::Int2))),
            ScalarValue::Int32(v) => Ok(v.map(|v| (i128::from(v), SqlType::Int4))),
            ScalarValue::Int64(v) => Ok(v.map(|v| (i128::from(v), SqlType::Int8))),
            _ => Err(Decline),
        },
        _ => Err(Decline),
    }
}

/// `column ± operand` over integers, typed as PostgreSQL types it (`smallint ± smallint`
/// is `smallint`, else the wider of the two). Overflow, of the arithmetic or of the
/// assignment to the column, declines: the general path raises 22003 itself.
pub(crate) fn arithmetic(
    current: &Value,
    column_type: &SqlType,
    subtract: bool,
    operand: &Operand,
    inputs: &Inputs,
) -> Converted {
    if !is_integer(column_type) {
        return Err(Decline);
    }
    let Some((right, right_type)) = operand_integer(operand, inputs)? else {
        return Ok(Value::Null);
    };
    let left = match current {
        Value::Null => return Ok(Value::Null),
        Value::Int2(v) => i128::from(*v),
        Value::Int4(v) => i128::from(*v),
        Value::Int8(v) => i128::from(*v),
        _ => return Err(Decline),
    };
    let result_type = match (column_type, &right_type) {
        (SqlType::Int2, SqlType::Int2) => SqlType::Int2,
        (SqlType::Int8, _) | (_, SqlType::Int8) => SqlType::Int8,
        _ => SqlType::Int4,
    };
    let sum = if subtract { left - right } else { left + right };
    integer_of(&result_type, sum).ok_or(Decline)?;
    integer_of(column_type, sum).ok_or(Decline)
}

/// `operand + shift` (the shift an integer literal, `$1 + 99`) compared with a column of
/// type `ty`: with no shift, as `key_value`; else integer arithmetic typed as PostgreSQL
/// types it, declining on overflow (the general path raises 22003) and when the sum is
/// not a value of the column's type.
pub(crate) fn shifted_key_value(
    operand: &Operand,
    shift: i64,
    ty: &SqlType,
    inputs: &Inputs,
) -> Converted {
    if shift == 0 {
        return key_value(operand, ty, inputs);
    }
    let Some((value, value_type)) = operand_integer(operand, inputs)? else {
        return Err(Decline);
    };
    let shift_type = if i32::try_from(shift).is_ok() {
        SqlType::Int4
    } else {
        SqlType::Int8
    };
    let result_type = match (&value_type, &shift_type) {
        (SqlType::Int8, _) | (_, SqlType::Int8) => SqlType::Int8,
        _ => SqlType::Int4,
    };
    let sum = value + i128::from(shift);
    integer_of(&result_type, sum).ok_or(Decline)?;
    integer_of(ty, sum).ok_or(Decline)
}

/// A LIMIT or OFFSET count: a non-negative integer, else the general path decides.
pub(crate) fn row_count(operand: &Operand, inputs: &Inputs) -> std::result::Result<u64, Decline> {
    match operand_integer(operand, inputs)? {
        Some((v, _)) => u64::try_from(v).map_err(|_| Decline),
        None => Err(Decline),
    }
}
