//! Reading a fast query's rows along its access path, at the statement's snapshot: each
//! decoded whole and kept if it passes the residual predicates. At most `MAX_ROWS_READ`
//! rows are read; one more declines the statement.

use std::ops::Bound;

use bytedata_mvcc::{Transaction, TxnReader};
use bytedata_pgtypes::Value;

use super::MAX_ROWS_READ;
use super::bind::BoundTerms;
use crate::error::{Result, SqlError};
use crate::fast::Decline;
use crate::provider::access::Path;
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

struct Collector<'a> {
    writer: &'a TableWriter,
    terms: &'a BoundTerms,
    rows: Vec<Vec<Value>>,
    read: usize,
    enough: Option<usize>,
}

impl Collector<'_> {
    fn row(&mut self, key: &[u8], value: &[u8]) -> std::result::Result<(), Stop> {
        if self.enough.is_some_and(|enough| self.rows.len() >= enough) {
            return Err(Stop::Enough);
        }
        self.read += 1;
        if self.read > MAX_ROWS_READ {
            return Err(Stop::Decline);
        }
        let row = self
            .writer
            .codec
            .decode(key, value)
            .map_err(SqlError::from)?;
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
            let codec = &collector.writer.codec;
            let index = &codec.indexes()[*index];
            for (start, end) in ranges {
                let scan = reader.scan((as_slice(start), as_slice(end)));
                for entry in scan {
                    let (key, value) = entry?;
                    let primary = codec
                        .primary_key_of(index, &key, &value)
                        .map_err(SqlError::from)?;
                    let row = reader.get(&primary)?.ok_or_else(|| {
                        SqlError::new(
                            "XX002",
                            format!(
                                "index \"{}\" points at a missing row",
                                index.descriptor.name
                            ),
                        )
                    })?;
                    collector.row(&primary, &row)?;
                }
            }
        }
    }
    Ok(())
}

/// The rows the path yields that pass the residual predicates, in the path's order;
/// stopping once `enough` passed.
pub(super) fn rows(
    writer: &TableWriter,
    terms: &BoundTerms,
    txn: &Transaction,
    enough: Option<usize>,
) -> Result<std::result::Result<Vec<Vec<Value>>, Decline>> {
    let reader = txn.reader()?;
    let mut collector = Collector {
        writer,
        terms,
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
