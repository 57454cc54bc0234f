//! Row descriptions and data rows.

use bytedata_pgtypes::TextOptions;
use bytedata_pgtypes::{DataType, Value};
use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use pgwire::messages::data::{DataRow, FieldDescription, RowDescription};

use super::binary;

pub const FORMAT_TEXT: i16 = 0;
pub const FORMAT_BINARY: i16 = 1;

/// The PostgreSQL type of each column of a result.
#[derive(Clone, Debug)]
pub struct ColumnTypes {
    pub types: Vec<(u32, i32)>,
}

impl ColumnTypes {
    pub fn of(schema: &SchemaRef) -> Self {
        ColumnTypes {
            types: schema
                .fields()
                .iter()
                .map(|f| bytedata_sql::pg_type_of(f))
                .collect(),
        }
    }
}

/// The format of column `i` given a Bind's result format codes: none means all text, one
/// applies to every column.
pub fn format_of(formats: &[i16], i: usize) -> i16 {
    match formats.len() {
        0 => FORMAT_TEXT,
        1 => formats[0],
        _ => formats.get(i).copied().unwrap_or(FORMAT_TEXT),
    }
}

/// The size PostgreSQL reports for a type (negative: variable).
fn type_size(oid: u32) -> i16 {
    match oid {
        16 | 18 => 1,
        21 => 2,
        23 | 26 | 700 | 1082 => 4,
        20 | 701 | 1083 | 1114 | 1184 => 8,
        1186 | 2950 => 16,
        19 => 64,
        _ => -1,
    }
}

pub fn row_description(schema: &SchemaRef, formats: &[i16]) -> RowDescription {
    let types = ColumnTypes::of(schema);
    let fields = schema
        .fields()
        .iter()
        .zip(&types.types)
        .enumerate()
        .map(|(i, (field, (oid, typmod)))| {
            FieldDescription::new(
                field.name().clone(),
                0,
                0,
                *oid,
                type_size(*oid),
                *typmod,
                format_of(formats, i),
            )
        })
        .collect();
    RowDescription::new(fields)
}

/// Encodes row `row` of `batch`.
pub fn data_row(
    batch: &RecordBatch,
    row: usize,
    types: &ColumnTypes,
    formats: &[i16],
    options: &TextOptions,
) -> DataRow {
    let mut data = BytesMut::with_capacity(16 * batch.num_columns());
    for (i, column) in batch.columns().iter().enumerate() {
        if column.is_null(row) {
            data.put_i32(-1);
            continue;
        }
        let (oid, typmod) = types.types[i];
        let length_at = data.len();
        data.put_i32(0);
        let binary_done = format_of(formats, i) == FORMAT_BINARY
            && binary::encode(column, row, oid, typmod, options, &mut data);
        if !binary_done {
            data.truncate(length_at + 4);
            if let Some(text) = bytedata_sql::cell_text(column, row, oid, typmod, options) {
                data.put_slice(text.as_bytes());
            }
        }
        let length = (data.len() - length_at - 4) as i32;
        data[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
    }
    DataRow::new(data, batch.num_columns() as i16)
}

/// Encodes a row of stored values (`bytedata_sql::ValueRows`) straight into a
/// data row, byte for byte what `data_row` makes of the same values in Arrow arrays.
/// `None` for a value or a (value, announced type) pair it does not encode, which then
/// takes the Arrow path.
pub fn value_data_row(values: &[Value], types: &ColumnTypes, formats: &[i16]) -> Option<DataRow> {
    use std::fmt::Write;
    let mut data = BytesMut::with_capacity(16 * values.len());
    for (i, value) in values.iter().enumerate() {
        if let Value::Null = value {
            data.put_i32(-1);
            continue;
        }
        let (oid, _) = types.types.get(i).copied()?;
        let length_at = data.len();
        data.put_i32(0);
        if format_of(formats, i) == FORMAT_BINARY {
            // Sent at the announced type, which must be the value's own: any other
            // pairing goes the Arrow way, which converts.
            let ty =
                DataType::from_oid(oid).filter(|ty| ty.oid() == oid && is_own_type(value, ty))?;
            bytedata_pgtypes::binary::encode(value, &ty, &mut data)?;
        } else {
            put_text(value, &mut data)?;
        }
        let length = (data.len() - length_at - 4) as i32;
        data[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
    }
    return Some(DataRow::new(data, values.len() as i16));

    /// Whether a value `ValueRows` carries is of type `ty` (booleans, integers, text).
    fn is_own_type(value: &Value, ty: &DataType) -> bool {
        matches!(
            (value, ty),
            (Value::Bool(_), DataType::Bool)
                | (Value::Int2(_), DataType::Int2)
                | (Value::Int4(_), DataType::Int4)
                | (Value::Int8(_), DataType::Int8)
                | (
                    Value::Text(_),
                    DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Name
                )
        )
    }

    fn put_text(value: &Value, data: &mut BytesMut) -> Option<()> {
        match value {
            Value::Bool(v) => data.put_u8(if *v { b't' } else { b'f' }),
            Value::Int2(v) => write!(data, "{v}").ok()?,
            Value::Int4(v) => write!(data, "{v}").ok()?,
            Value::Int8(v) => write!(data, "{v}").ok()?,
            Value::Text(v) => data.put_slice(v.as_bytes()),
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytedata_pgtypes::DataType as SqlType;
    use bytedata_sql::ValueRows;
    use datafusion::arrow::datatypes::Schema;

    use super::*;

    /// Every supported type, extremes and NULL, in text and binary: the direct encoding
    /// is the Arrow path's, byte for byte.
    #[test]
    fn stored_values_encode_as_their_arrow_arrays_do() {
        let columns = [
            (
                SqlType::Bool,
                vec![Value::Bool(true), Value::Bool(false), Value::Null],
            ),
            (
                SqlType::Int2,
                vec![Value::Int2(i16::MIN), Value::Int2(0), Value::Int2(i16::MAX)],
            ),
            (
                SqlType::Int4,
                vec![
                    Value::Int4(i32::MIN),
                    Value::Int4(-1),
                    Value::Int4(i32::MAX),
                ],
            ),
            (
                SqlType::Int8,
                vec![Value::Int8(i64::MIN), Value::Null, Value::Int8(i64::MAX)],
            ),
            (
                SqlType::Text,
                vec![
                    Value::Text(String::new()),
                    Value::Text("zürich \\ \"q\"".into()),
                    Value::Null,
                ],
            ),
            (
                SqlType::Varchar(Some(5)),
                vec![
                    Value::Text("abc".into()),
                    Value::Null,
                    Value::Text("x".into()),
                ],
            ),
            (
                SqlType::Char(3),
                vec![
                    Value::Text("ab ".into()),
                    Value::Text("xyz".into()),
                    Value::Null,
                ],
            ),
        ];
        let fields: Vec<_> = columns
            .iter()
            .enumerate()
            .map(|(i, (ty, _))| bytedata_sql::field(&format!("c{i}"), ty, true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let types: Vec<SqlType> = columns.iter().map(|(ty, _)| ty.clone()).collect();
        let rows: Vec<Vec<Value>> = (0..3)
            .map(|r| {
                columns
                    .iter()
                    .map(|(_, values)| values[r].clone())
                    .collect()
            })
            .collect();
        let Ok(value_rows) = ValueRows::new(schema.clone(), types.clone(), rows.clone()) else {
            panic!("every type here travels as values")
        };
        let batch = value_rows.into_batch().expect("a batch");
        let column_types = ColumnTypes::of(&schema);
        let options = TextOptions::default();
        let all_binary = vec![FORMAT_BINARY];
        let mixed: Vec<i16> = (0..columns.len() as i16).map(|i| i % 2).collect();
        for formats in [vec![], all_binary, mixed] {
            for (r, row) in rows.iter().enumerate() {
                let direct = value_data_row(row, &column_types, &formats).expect("encodes");
                let arrow = data_row(&batch, r, &column_types, &formats, &options);
                let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
                pgwire::messages::Message::encode(&direct, &mut a).expect("encodes");
                pgwire::messages::Message::encode(&arrow, &mut b).expect("encodes");
                assert_eq!(a, b, "row {r}, formats {formats:?}");
            }
        }
    }

    #[test]
    fn a_value_the_direct_encoding_does_not_know_is_left_to_the_arrow_path() {
        let schema = Arc::new(Schema::new(vec![bytedata_sql::field(
            "f",
            &SqlType::Float8,
            true,
        )]));
        let types = ColumnTypes::of(&schema);
        assert!(value_data_row(&[Value::Float8(1.5)], &types, &[]).is_none());
        // An integer announced as a float (a Describe that planned another type).
        assert!(value_data_row(&[Value::Int4(1)], &types, &[FORMAT_BINARY]).is_none());
        assert!(
            ValueRows::new(
                schema,
                vec![SqlType::Float8],
                vec![vec![Value::Float8(1.5)]]
            )
            .is_err()
        );
    }
}
