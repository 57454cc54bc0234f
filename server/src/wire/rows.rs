//! Row descriptions and data rows.

use bytedata_sql::pgtext::{self, TextOptions};
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
                .map(|f| bytedata_sql::types::pg_type_of(f))
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
            if let Some(text) = pgtext::format(column, row, oid, typmod, options) {
                data.put_slice(text.as_bytes());
            }
        }
        let length = (data.len() - length_at - 4) as i32;
        data[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
    }
    DataRow::new(data, batch.num_columns() as i16)
}
