//! Relation sizes (`pg_table_size` and kin): the bytes of keys and values a table's
//! rows and index entries take in the store, counted by a scan at the statement's
//! snapshot — exact for what the snapshot sees, and as costly as reading the table.

use super::functions::SizeOf;
use crate::error::SqlError;

/// Bytes of keys and values under a table's storage that `of` counts, read at the
/// statement's snapshot.
pub(crate) fn relation_bytes(
    context: &crate::context::StatementContext,
    table: &bytedata_catalog::descriptor::TableDescriptor,
    of: SizeOf,
) -> Result<i64, SqlError> {
    use bytedata_catalog::keys::{PRIMARY_INDEX, index_end, index_prefix, storage_range};
    let storage = table.storage_id();
    let rows_start = index_prefix(storage, PRIMARY_INDEX).to_vec();
    let rows_end = index_end(storage, PRIMARY_INDEX).to_vec();
    let (all_start, all_end) = storage_range(storage);
    let reader = context.txn.reader()?;
    let sum = |start: Vec<u8>, end: Option<Vec<u8>>| -> Result<u64, SqlError> {
        let mut bytes = 0u64;
        let entries = match end {
            Some(end) => reader.scan(start..end),
            None => reader.scan(start..),
        };
        for entry in entries {
            let (key, value) = entry?;
            bytes += (key.len() + value.len()) as u64;
        }
        Ok(bytes)
    };
    let rows = sum(rows_start, Some(rows_end))?;
    let bytes = match of {
        SizeOf::Rows => rows,
        SizeOf::Total => sum(all_start, all_end)?,
        SizeOf::Indexes => sum(all_start, all_end)?.saturating_sub(rows),
    };
    Ok(i64::try_from(bytes).unwrap_or(i64::MAX))
}
