//! ADD PRIMARY KEY on a table that had only a hidden row id: every row moves from its
//! row id to its new key, in fresh storage (a new storage id); the old storage is
//! retired whole and reclaimed in the background (`catalog::reclaim`).
//!
//! Without unique secondary indexes the only constraint a rewritten row can break is the
//! new key (and NOT NULL), and no other transaction can see the fresh storage: the rows
//! are encoded, sorted by their new key, checked for duplicates side by side, and
//! written in key order without a lock or look-up per row (`put_fresh_sorted`) — a
//! sorted bulk load. With unique secondary indexes, each row's unique entries are probed
//! in row order, one row at a time. Either way the first duplicate in row order is the
//! error reported, and a NULL in a key column only when there is no duplicate.

use bytedata_catalog::descriptor::TableDescriptor;
use bytedata_catalog::keycode::Direction;
use bytedata_catalog::table::TableCodec;
use bytedata_pgtypes::Value;
use bytes::Bytes;

use super::Ddl;
use super::alter::{not_null_violated, save};
use crate::error::{Result, SqlError};

/// ADD PRIMARY KEY: the table's rows move from their hidden row ids to the new key.
pub(super) fn add_primary_key(
    ddl: &Ddl,
    table: TableDescriptor,
    name: Option<String>,
    columns: &[(String, Direction)],
) -> Result<TableDescriptor> {
    let name = name.unwrap_or_else(|| format!("{}_pkey", table.name));
    if !table.has_hidden_row_id() {
        return Err(SqlError::new(
            "42P16",
            format!(
                "multiple primary keys for table \"{}\" are not allowed",
                table.name
            ),
        ));
    }
    if ddl
        .catalog()
        .relation(ddl.txn, table.schema_id, &name)?
        .is_some()
    {
        return Err(SqlError::new(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let mut new = table.clone();
    new.set_primary_key(&name, columns)?;
    // The rows are written to fresh storage and the old is retired whole, so nothing is
    // deleted row by row and no new key can meet an old one.
    new.storage_id = Some(ddl.catalog().next_object_id()?);
    let old_codec = TableCodec::new(&table);
    let new_codec = TableCodec::new(&new);
    let reader = ddl.txn.reader()?;
    let new_ids: Vec<u32> = new_codec.columns().iter().map(|c| c.id).collect();
    let old_positions: Vec<usize> = new_ids
        .iter()
        .map(|id| {
            old_codec
                .columns()
                .iter()
                .position(|c| c.id == *id)
                .ok_or_else(|| SqlError::internal("column lost in key rebuild"))
        })
        .collect::<Result<_>>()?;
    let start = old_codec.primary_prefix().to_vec();
    let end = bytedata_catalog::keys::index_end(
        table.storage_id(),
        bytedata_catalog::keys::PRIMARY_INDEX,
    )
    .to_vec();
    let rekey = Rekey {
        ddl,
        table: &new,
        codec: &new_codec,
        key_name: &name,
    };
    // As in PostgreSQL, which builds the index before it checks for NULLs, a duplicate
    // key is the error to report even when a NULL comes before it.
    let mut null_in = None;
    let mut rows = reader.scan(start..end).filter_map(|entry| {
        let row = entry
            .map_err(SqlError::from)
            .and_then(|(key, value)| Ok(old_codec.decode(&key, &value)?))
            .map(|mut old_row| -> Vec<Value> {
                // The positions are distinct: each value moves out once.
                old_positions
                    .iter()
                    .map(|&p| std::mem::replace(&mut old_row[p], Value::Null))
                    .collect()
            });
        let row = match row {
            Ok(row) => row,
            Err(error) => return Some(Err(error)),
        };
        let null_column = row
            .iter()
            .zip(new_codec.columns())
            .find(|(value, column)| value.is_null() && !column.nullable);
        match null_column {
            Some((_, column)) => {
                null_in.get_or_insert_with(|| column.name.clone());
                None
            }
            None => Some(Ok(row)),
        }
    });
    if new_codec.has_unique_index() {
        // Each row's unique entries are probed in row order, one row at a time.
        for row in &mut rows {
            rekey.write(vec![row?])?;
        }
    } else {
        rekey.load_sorted(&mut rows)?;
    }
    drop(rows);
    if let Some(column) = null_in {
        return Err(not_null_violated(&column, &table.name));
    }
    ddl.catalog().retire_storage(ddl.txn, table.storage_id())?;
    save(ddl, &table, new)
}

/// Writes rows under the table's new primary key.
struct Rekey<'a> {
    ddl: &'a Ddl<'a>,
    table: &'a TableDescriptor,
    codec: &'a TableCodec,
    key_name: &'a str,
}

impl Rekey<'_> {
    /// Writes every row (a table without unique secondary indexes) as a sorted bulk
    /// load, or fails with the first duplicate key in row order.
    fn load_sorted(&self, rows: &mut dyn Iterator<Item = Result<Vec<Value>>>) -> Result<()> {
        assert!(!self.codec.has_unique_index());
        // Pushed in row order and sorted stably: a key's rows stay in row order.
        let mut entries: Vec<(Bytes, Bytes)> = Vec::new();
        let mut index_entries: Vec<(Bytes, Bytes)> = Vec::new();
        for row in rows {
            let row = row?;
            let key = Bytes::from(self.codec.encode_key(&row)?);
            entries.push((key, Bytes::from(self.codec.encode_value(&row)?)));
            for index in self.codec.indexes() {
                let (entry, value) = self.codec.index_entry(index, &row)?;
                index_entries.push((Bytes::from(entry), Bytes::from(value)));
            }
        }
        let mut order: Vec<u32> = (0..entries.len() as u32).collect();
        order.sort_by(|&a, &b| entries[a as usize].0.cmp(&entries[b as usize].0));
        // A key's second row in row order is the one a row-by-row load would refuse.
        let first_refused = order
            .windows(2)
            .filter(|pair| entries[pair[0] as usize].0 == entries[pair[1] as usize].0)
            .map(|pair| pair[1])
            .min();
        if let Some(position) = first_refused {
            let (key, value) = &entries[position as usize];
            let row = self.codec.decode(key, value)?;
            let key_columns = &self.table.primary_key.columns;
            return Err(self.violation(self.key_name, key_columns, &row));
        }
        let mut slots: Vec<Option<(Bytes, Bytes)>> = entries.into_iter().map(Some).collect();
        let sorted: Vec<(Bytes, Bytes)> = order
            .iter()
            .filter_map(|&position| slots[position as usize].take())
            .collect();
        self.ddl.txn.put_fresh_sorted(sorted)?;
        // Distinct keys make distinct entries: every entry ends with its row's key.
        index_entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.ddl.txn.put_fresh_sorted(index_entries)?;
        Ok(())
    }

    /// Writes `rows` in order, or fails with the first one's violation. More than one
    /// row at a time only when the table has no unique secondary index.
    fn write(&self, rows: Vec<Vec<Value>>) -> Result<()> {
        assert!(rows.len() <= 1 || !self.codec.has_unique_index());
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let key = Bytes::from(self.codec.encode_key(row)?);
            entries.push((key, Bytes::from(self.codec.encode_value(row)?)));
        }
        let refused = self.ddl.txn.insert_absent_many(entries)?;
        if let Some(&first) = refused.first() {
            let key_columns = &self.table.primary_key.columns;
            return Err(self.violation(self.key_name, key_columns, &rows[first]));
        }
        for row in &rows {
            for index in self.codec.indexes() {
                let (entry, value) = self.codec.index_entry(index, row)?;
                if index.descriptor.unique
                    && !value.is_empty()
                    && self.ddl.txn.lock_latest(&entry)?.is_some()
                {
                    let descriptor = &index.descriptor;
                    return Err(self.violation(&descriptor.name, &descriptor.columns, row));
                }
                self.ddl.txn.put(entry, value)?;
            }
        }
        Ok(())
    }

    fn violation(
        &self,
        name: &str,
        columns: &[bytedata_catalog::descriptor::KeyColumn],
        row: &[Value],
    ) -> SqlError {
        crate::writer::unique_violation(name, self.table, columns, row, self.codec)
    }
}
