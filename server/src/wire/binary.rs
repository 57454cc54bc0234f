//! PostgreSQL's binary format for the types ByteData returns and accepts: what a client
//! gets when it asks for format 1 (tokio-postgres and JDBC do, for every column), and
//! what it may send as parameters.
//!
//! Encoding is by the PostgreSQL type the RowDescription announced, reading the value from
//! whichever Arrow array holds it. Decoding a parameter is `bytedata_pgtypes::binary`'s.

use bytedata_pgtypes::TextOptions;
use bytedata_pgtypes::calendar::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};
use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    IntervalMonthDayNanoType, IntervalUnit, Time64MicrosecondType, TimeUnit,
    TimestampMicrosecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

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
        1700 => match bytedata_sql::cell_text(array, row, oid, typmod, options) {
            Some(text) => match bytedata_pgtypes::binary::numeric_to_binary(&text) {
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
        2950 => match bytedata_sql::cell_text(array, row, oid, typmod, options)
            .and_then(|text| bytedata_pgtypes::input::parse_uuid(&text).ok())
        {
            Some(bytes) => out.put_slice(&bytes),
            None => return false,
        },
        3802 => match bytedata_sql::cell_text(array, row, oid, typmod, options) {
            Some(text) => {
                out.put_u8(1);
                out.put_slice(text.as_bytes());
            }
            None => return false,
        },
        25 | 1043 | 1042 | 19 | 114 | 18 | 705 => {
            match bytedata_sql::cell_text(array, row, oid, typmod, options) {
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
    let element = bytedata_pgtypes::types::element_oid(oid);
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
