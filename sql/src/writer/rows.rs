//! Reading a table's rows back, in key order, as stored values — what DDL that rewrites
//! rows (a new key, a new index, a type change) and foreign-key validation walk.

use bytedata_catalog::keys::{PRIMARY_INDEX, index_end, index_prefix};
use bytedata_catalog::table::TableCodec;
use bytedata_mvcc::Transaction;
use bytedata_pgtypes::Value;

use crate::error::Result;

/// Every row of a table, decoded (for backfills and rebuilds), read as the transaction
/// sees it now.
pub fn table_rows<'a>(
    txn: &Transaction,
    codec: &'a TableCodec,
) -> Result<impl Iterator<Item = Result<(bytes::Bytes, Vec<Value>)>> + 'a> {
    let reader = txn.reader()?;
    let range = (
        index_prefix(codec.storage_id(), PRIMARY_INDEX).to_vec(),
        index_end(codec.storage_id(), PRIMARY_INDEX).to_vec(),
    );
    let codec_rows = reader.scan(range.0..range.1);
    Ok(codec_rows.map(move |entry| {
        let (key, value) = entry?;
        Ok((key.clone(), codec.decode(&key, &value)?))
    }))
}
