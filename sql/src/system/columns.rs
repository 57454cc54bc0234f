//! How system tables are declared and filled: a table is a list of typed columns and rows
//! of cells, turned into one Arrow batch. The PostgreSQL type of each column (`oid`,
//! `name`, `"char"`, …) rides in the field metadata, so clients see the types PostgreSQL
//! reports even where Arrow holds them as integers and strings.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int16Array, Int32Array, Int64Array,
    ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::array::{Int16Builder, Int64Builder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

use crate::bridge::types::PG_TYPE_KEY;
use crate::error::SqlError;

/// The PostgreSQL type of a system column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Oid,
    Name,
    /// PostgreSQL's one-byte `"char"`.
    Char,
    Text,
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    TimestampTz,
    Int2Array,
    OidArray,
    /// `int2vector` and `oidvector`: arrays that print as `1 2 3`.
    Int2Vector,
    OidVector,
    TextArray,
}

impl Kind {
    fn pg_oid(self) -> u32 {
        match self {
            Kind::Oid => 26,
            Kind::Name => 19,
            Kind::Char => 18,
            Kind::Text => 25,
            Kind::Bool => 16,
            Kind::Int2 => 21,
            Kind::Int4 => 23,
            Kind::Int8 => 20,
            Kind::Float4 => 700,
            Kind::Float8 => 701,
            Kind::TimestampTz => 1184,
            Kind::Int2Array => 1005,
            Kind::OidArray => 1028,
            Kind::Int2Vector => 22,
            Kind::OidVector => 30,
            Kind::TextArray => 1009,
        }
    }

    fn arrow_type(self) -> DataType {
        let list = |element: DataType| DataType::List(Arc::new(Field::new("item", element, true)));
        match self {
            Kind::Oid | Kind::Int8 => DataType::Int64,
            Kind::Name | Kind::Char | Kind::Text => DataType::Utf8,
            Kind::Bool => DataType::Boolean,
            Kind::Int2 => DataType::Int16,
            Kind::Int4 => DataType::Int32,
            Kind::Float4 => DataType::Float32,
            Kind::Float8 => DataType::Float64,
            Kind::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            Kind::Int2Array | Kind::Int2Vector => list(DataType::Int16),
            Kind::OidArray | Kind::OidVector => list(DataType::Int64),
            Kind::TextArray => list(DataType::Utf8),
        }
    }
}

/// One value of a system row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Float(f64),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}
impl From<u32> for Cell {
    fn from(v: u32) -> Self {
        Cell::Int(i64::from(v))
    }
}
impl From<i32> for Cell {
    fn from(v: i32) -> Self {
        Cell::Int(i64::from(v))
    }
}
impl From<i16> for Cell {
    fn from(v: i16) -> Self {
        Cell::Int(i64::from(v))
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Bool(v)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Float(v)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_owned())
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}
impl From<&String> for Cell {
    fn from(v: &String) -> Self {
        Cell::Text(v.clone())
    }
}
impl From<char> for Cell {
    fn from(v: char) -> Self {
        Cell::Text(v.to_string())
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Null, Into::into)
    }
}
impl From<Vec<i64>> for Cell {
    fn from(v: Vec<i64>) -> Self {
        Cell::Ints(v)
    }
}
impl From<Vec<String>> for Cell {
    fn from(v: Vec<String>) -> Self {
        Cell::Texts(v)
    }
}

/// A row of cells: `row![a, b, c]`.
macro_rules! row {
    ($($cell:expr),* $(,)?) => {
        vec![$($crate::system::columns::Cell::from($cell)),*]
    };
}
pub(crate) use row;

/// The columns of a system table.
pub type Columns = &'static [(&'static str, Kind)];

pub fn schema(columns: Columns) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, kind)| {
            Field::new(*name, kind.arrow_type(), true).with_metadata(HashMap::from([(
                PG_TYPE_KEY.to_owned(),
                kind.pg_oid().to_string(),
            )]))
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn mismatch(column: &str, cell: &Cell) -> SqlError {
    SqlError::internal(format!(
        "system column {column} cannot hold the value {cell:?}"
    ))
}

/// The rows as one batch of `schema`. Every row must have one cell per column, of the
/// column's kind (or null): a mismatch is a bug in the table's definition.
pub fn batch(columns: Columns, rows: &[Vec<Cell>]) -> Result<RecordBatch, SqlError> {
    for row in rows {
        if row.len() != columns.len() {
            return Err(SqlError::internal(format!(
                "system row has {} cells for {} columns (first column {})",
                row.len(),
                columns.len(),
                columns.first().map_or("", |c| c.0)
            )));
        }
    }
    let arrays = columns
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| column(name, *kind, rows.iter().map(|r| &r[i])))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema(columns), arrays)?)
}

fn column<'a>(
    name: &str,
    kind: Kind,
    cells: impl Iterator<Item = &'a Cell>,
) -> Result<ArrayRef, SqlError> {
    let cells: Vec<&Cell> = cells.collect();
    let int = |cell: &Cell| match cell {
        Cell::Null => Ok(None),
        Cell::Int(v) => Ok(Some(*v)),
        other => Err(mismatch(name, other)),
    };
    Ok(match kind {
        Kind::Oid | Kind::Int8 => Arc::new(
            cells
                .iter()
                .map(|c| int(c))
                .collect::<Result<Int64Array, _>>()?,
        ),
        Kind::Int4 => Arc::new(
            cells
                .iter()
                .map(|c| Ok(int(c)?.map(|v| v as i32)))
                .collect::<Result<Int32Array, SqlError>>()?,
        ),
        Kind::Int2 => Arc::new(
            cells
                .iter()
                .map(|c| Ok(int(c)?.map(|v| v as i16)))
                .collect::<Result<Int16Array, SqlError>>()?,
        ),
        Kind::TimestampTz => Arc::new(
            cells
                .iter()
                .map(|c| int(c))
                .collect::<Result<TimestampMicrosecondArray, _>>()?
                .with_timezone("+00:00"),
        ),
        Kind::Float4 => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::Float(v) => Ok(Some(*v as f32)),
                    Cell::Int(v) => Ok(Some(*v as f32)),
                    other => Err(mismatch(name, other)),
                })
                .collect::<Result<Float32Array, _>>()?,
        ),
        Kind::Float8 => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::Float(v) => Ok(Some(*v)),
                    Cell::Int(v) => Ok(Some(*v as f64)),
                    other => Err(mismatch(name, other)),
                })
                .collect::<Result<Float64Array, _>>()?,
        ),
        Kind::Bool => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::Bool(v) => Ok(Some(*v)),
                    other => Err(mismatch(name, other)),
                })
                .collect::<Result<BooleanArray, _>>()?,
        ),
        Kind::Name | Kind::Char | Kind::Text => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::Text(v) => Ok(Some(v.as_str())),
                    other => Err(mismatch(name, other)),
                })
                .collect::<Result<StringArray, _>>()?,
        ),
        Kind::Int2Array | Kind::Int2Vector => {
            let mut builder = ListBuilder::new(Int16Builder::new());
            for cell in cells {
                match cell {
                    Cell::Null => builder.append_null(),
                    Cell::Ints(values) => {
                        for v in values {
                            builder.values().append_value(*v as i16);
                        }
                        builder.append(true);
                    }
                    other => return Err(mismatch(name, other)),
                }
            }
            Arc::new(builder.finish())
        }
        Kind::OidArray | Kind::OidVector => {
            let mut builder = ListBuilder::new(Int64Builder::new());
            for cell in cells {
                match cell {
                    Cell::Null => builder.append_null(),
                    Cell::Ints(values) => {
                        for v in values {
                            builder.values().append_value(*v);
                        }
                        builder.append(true);
                    }
                    other => return Err(mismatch(name, other)),
                }
            }
            Arc::new(builder.finish())
        }
        Kind::TextArray => {
            let mut builder = ListBuilder::new(StringBuilder::new());
            for cell in cells {
                match cell {
                    Cell::Null => builder.append_null(),
                    Cell::Texts(values) => {
                        for v in values {
                            builder.values().append_value(v);
                        }
                        builder.append(true);
                    }
                    other => return Err(mismatch(name, other)),
                }
            }
            Arc::new(builder.finish())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: Columns = &[
        ("oid", Kind::Oid),
        ("relname", Kind::Name),
        ("relkind", Kind::Char),
        ("indkey", Kind::Int2Array),
    ];

    #[test]
    fn rows_become_a_batch_with_postgres_types() {
        let rows = vec![
            row![16384u32, "t", 'r', Some(vec![1i64, 2])],
            row![16385u32, "v", 'v', Option::<Vec<i64>>::None],
        ];
        let batch = batch(COLUMNS, &rows).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let types: Vec<(u32, i32)> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| crate::bridge::pg_type_of(f))
            .collect();
        assert_eq!(types, [(26, -1), (19, -1), (18, -1), (1005, -1)]);
        assert!(batch.column(3).is_null(1));
    }

    #[test]
    fn a_row_of_the_wrong_shape_is_an_error_not_a_panic() {
        assert!(batch(COLUMNS, &[row![1u32, "t"]]).is_err());
        assert!(batch(COLUMNS, &[row!["x", "t", 'r', Cell::Null]]).is_err());
    }
}
