//! Reading a fast query's rows along its access path, at the statement's snapshot: of
//! each, only the columns the query uses are decoded (the rest stay NULL in the row), and
//! the row is kept if it passes the residual predicates. An index look-up whose columns
//! all live in the index entry (its columns and the primary key) reads no row at all. At
//! most `MAX_ROWS_READ` rows are read; one more declines the statement.

use std::ops::Bound;

use bytedata_catalog::CatalogError;
use bytedata_catalog::projection::{FieldSink, RowProjection};
use bytedata_catalog::rowcode::decode_value;
use bytedata_catalog::table::IndexCodec;
use bytedata_mvcc::{Transaction, TxnReader};
use bytedata_pgtypes::{DataType, Value};

use super::MAX_ROWS_READ;
use super::bind::BoundTerms;
use crate::error::{Result, SqlError};
use crate::fast::Decline;
use crate::provider::access::Path;
use crate::provider::scan::missing_row;
use crate::writer::TableWriter;

/// Why reading stopped before the path's end.
enum Stop {
    /// OFFSET + LIMIT rows passed.
    Enough,
    Decline,
    Failed(SqlError),
}

impl From<bytedata_mvcc::Error> for Stop {
    fn from(error: bytedata_mvcc::Error) -> Self {
        Stop::Failed(error.into())
    }
}

impl From<SqlError> for Stop {
    fn from(error: SqlError) -> Self {
        Stop::Failed(error)
    }
}

/// Decoded fields into a row of the table's width, at their positions.
struct SparseRow<'a> {
    row: &'a mut [Value],
    positions: &'a [usize],
}

impl FieldSink for SparseRow<'_> {
    type Error = CatalogError;

    fn raw(
        &mut self,
        output: usize,
        ty: &DataType,
        raw: Option<&[u8]>,
    ) -> Result<(), CatalogError> {
        self.row[self.positions[output]] = match raw {
            None => Value::Null,
            Some(raw) => decode_value(raw, ty)?,
        };
        Ok(())
    }

    fn value(&mut self, output: usize, value: &Value) -> Result<(), CatalogError> {
        self.row[self.positions[output]] = value.clone();
        Ok(())
    }
}

struct Collector<'a> {
    writer: &'a TableWriter,
    terms: &'a BoundTerms,
    /// The columns the query uses, ascending.
    needed: &'a [usize],
    projection: RowProjection,
    rows: Vec<Vec<Value>>,
    read: usize,
    enough: Option<usize>,
}

impl Collector<'_> {
    fn counted(&mut self) -> std::result::Result<(), Stop> {
        if self.enough.is_some_and(|enough| self.rows.len() >= enough) {
            return Err(Stop::Enough);
        }
        self.read += 1;
        if self.read > MAX_ROWS_READ {
            return Err(Stop::Decline);
        }
        Ok(())
    }

    fn row(&mut self, key: &[u8], value: &[u8]) -> std::result::Result<(), Stop> {
        self.counted()?;
        let mut row = vec![Value::Null; self.writer.codec.columns().len()];
        let mut sink = SparseRow {
            row: &mut row,
            positions: self.needed,
        };
        self.projection
            .decode(key, value, &mut sink)
            .map_err(SqlError::from)?;
        self.keep(row)
    }

    /// A row from an index entry alone.
    fn entry(
        &mut self,
        index: &IndexCodec,
        key: &[u8],
        value: &[u8],
    ) -> std::result::Result<(), Stop> {
        self.counted()?;
        let codec = &self.writer.codec;
        let mut row = vec![Value::Null; codec.columns().len()];
        let needed = self.needed;
        codec
            .fill_from_index_entry(
                index,
                key,
                value,
                |p| needed.binary_search(&p).is_ok(),
                &mut row,
            )
            .map_err(SqlError::from)?;
        self.keep(row)
    }

    fn keep(&mut self, row: Vec<Value>) -> std::result::Result<(), Stop> {
        for predicate in &self.terms.residual {
            if !predicate.holds(&row).map_err(|Decline| Stop::Decline)? {
                return Ok(());
            }
        }
        self.rows.push(row);
        Ok(())
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

fn walk(collector: &mut Collector, reader: &TxnReader) -> std::result::Result<(), Stop> {
    match &collector.terms.access.path {
        Path::Points(keys) => {
            for key in keys {
                if let Some(value) = reader.get(key)? {
                    collector.row(key, &value)?;
                }
            }
        }
        Path::Ranges(ranges) => {
            for (start, end) in ranges {
                let mut scan = reader.scan((as_slice(start), as_slice(end)));
                // One more than the budget, so that a range past it is seen to be.
                scan.visit(MAX_ROWS_READ + 1, |key, value| collector.row(key, value))?;
            }
        }
        Path::Index { index, ranges } => {
            let writer = collector.writer;
            let codec = &writer.codec;
            let index = &codec.indexes()[*index];
            let held = codec.index_only_positions(index);
            let index_only = collector.needed.iter().all(|p| held.contains(p));
            for (start, end) in ranges {
                let mut scan = reader.scan((as_slice(start), as_slice(end)));
                if index_only {
                    // Entries visited in place; one more than the budget, as for ranges.
                    scan.visit(MAX_ROWS_READ + 1, |key, value| {
                        collector.entry(index, key, value)
                    })?;
                    continue;
                }
                for entry in scan {
                    let (key, value) = entry?;
                    let primary = codec
                        .primary_key_of(index, &key, &value)
                        .map_err(SqlError::from)?;
                    let row = reader
                        .get(&primary)?
                        .ok_or_else(|| missing_row(&index.descriptor.name))?;
                    collector.row(&primary, &row)?;
                }
            }
        }
    }
    Ok(())
}

/// The rows the path yields that pass the residual predicates, in the path's order, with
/// the `needed` columns (ascending positions) decoded; stopping once `enough` passed.
pub(super) fn rows(
    writer: &TableWriter,
    terms: &BoundTerms,
    needed: &[usize],
    txn: &Transaction,
    enough: Option<usize>,
) -> Result<std::result::Result<Vec<Vec<Value>>, Decline>> {
    debug_assert!(needed.windows(2).all(|w| w[0] < w[1]));
    let reader = txn.reader()?;
    let mut collector = Collector {
        writer,
        terms,
        needed,
        projection: RowProjection::new(&writer.codec, needed),
        rows: Vec::new(),
        read: 0,
        enough,
    };
    match walk(&mut collector, &reader) {
        Ok(()) | Err(Stop::Enough) => Ok(Ok(collector.rows)),
        Err(Stop::Decline) => Ok(Err(Decline)),
        Err(Stop::Failed(error)) => Err(error),
    }
}
