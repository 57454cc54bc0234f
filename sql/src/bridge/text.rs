//! The text output of one Arrow cell: what psql prints and what the text format of the
//! wire protocol carries. The PostgreSQL type the field announces decides what the Arrow
//! type alone cannot (an unconstrained numeric's scale, `int2vector` and `oidvector`);
//! the formatting itself is `bytedata_pgtypes::output`'s.

use bytedata_pgtypes::TextOptions;
use bytedata_pgtypes::output::{
    DateStyle, array_element, format_bytea, format_date, format_date_styled, format_decimal,
    format_f32, format_f64, format_interval_styled, format_time_of_day, format_timestamp,
    format_timestamp_styled, format_timestamptz,
};
use bytedata_pgtypes::types::element_oid;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Decimal256Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, IntervalMonthDayNanoType, IntervalUnit, Time64MicrosecondType,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use super::types::UNCONSTRAINED_NUMERIC;

/// The text of row `row` of `array`, or `None` for NULL. `pg_oid` is the field's
/// PostgreSQL type (it decides, say, whether a decimal is a constrained numeric).
pub fn cell_text(
    array: &ArrayRef,
    row: usize,
    pg_oid: u32,
    typmod: i32,
    options: &TextOptions,
) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let extra = options.extra_float_digits;
    Some(match array.data_type() {
        DataType::Boolean => if array.as_boolean().value(row) {
            "t"
        } else {
            "f"
        }
        .to_owned(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float32 => format_f32(array.as_primitive::<Float32Type>().value(row), extra),
        DataType::Float64 => format_f64(array.as_primitive::<Float64Type>().value(row), extra),
        DataType::Decimal128(_, scale) => {
            let trim = false;
            format_decimal(
                array
                    .as_primitive::<Decimal128Type>()
                    .value(row)
                    .to_string(),
                *scale,
                trim,
            )
        }
        DataType::Decimal256(precision, scale) => {
            // An unconstrained numeric column is held at a fixed scale; PostgreSQL shows
            // each value at its own, which the trailing zeros hide.
            let trim = (*precision, *scale) == UNCONSTRAINED_NUMERIC && typmod < 0;
            format_decimal(
                array
                    .as_primitive::<Decimal256Type>()
                    .value(row)
                    .to_string(),
                *scale,
                trim,
            )
        }
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_owned(),
        DataType::Utf8View => array.as_string_view().value(row).to_owned(),
        DataType::Binary => format_bytea(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => format_bytea(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => format_bytea(array.as_binary_view().value(row)),
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            match options.date_style.style {
                DateStyle::Iso => format_date(days),
                _ => format_date_styled(days, options.date_style),
            }
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            format_time_of_day(array.as_primitive::<Time64MicrosecondType>().value(row))
        }
        DataType::Timestamp(unit, zone) => {
            let micros = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value(row)
                    .saturating_mul(1_000_000),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .value(row)
                    .saturating_mul(1000),
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => {
                    array.as_primitive::<TimestampNanosecondType>().value(row) / 1000
                }
            };
            let iso = options.date_style.style == DateStyle::Iso;
            match (zone.is_some(), iso) {
                (true, true) => format_timestamptz(micros, options.time_zone.offset_at(micros)),
                (false, true) => format_timestamp(micros),
                (true, false) => {
                    let offset = options.time_zone.offset_at(micros);
                    let abbreviation = options.time_zone.abbreviation_at(micros);
                    format_timestamp_styled(
                        micros.saturating_add(i64::from(offset) * 1_000_000),
                        Some((abbreviation.as_deref(), offset)),
                        options.date_style,
                    )
                }
                (false, false) => format_timestamp_styled(micros, None, options.date_style),
            }
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let value = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            format_interval_styled(
                value.months,
                value.days,
                value.nanoseconds / 1000,
                options.interval_style,
            )
        }
        DataType::List(_) if matches!(pg_oid, 22 | 30) => {
            // int2vector and oidvector: space-separated, no braces.
            let values = array.as_list::<i32>().value(row);
            let element_oid = element_oid(pg_oid);
            (0..values.len())
                .filter_map(|i| cell_text(&values, i, element_oid, -1, options))
                .collect::<Vec<_>>()
                .join(" ")
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let values = list.value(row);
            let element_oid = element_oid(pg_oid);
            let mut out = String::from("{");
            for i in 0..values.len() {
                if i > 0 {
                    out.push(',');
                }
                match cell_text(&values, i, element_oid, typmod, options) {
                    None => out.push_str("NULL"),
                    Some(text) => out.push_str(&array_element(&text)),
                }
            }
            out.push('}');
            out
        }
        DataType::Null => return None,
        other => datafusion::arrow::util::display::array_value_to_string(array, row)
            .unwrap_or_else(|_| format!("<{other}>")),
    })
}
