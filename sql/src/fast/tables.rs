//! The session's cache of tables the fast path resolved: name → descriptor, codec and
//! writer (with its CHECK constraints compiled), built once and reused by every fast
//! statement on that table.
//!
//! An entry is good while the catalog's version is the one it was resolved at and the
//! search path is the same. DDL bumps the version when it commits; a transaction that
//! changed the catalog itself bypasses the cache (its own uncommitted DDL is invisible to
//! the version). Names that are not plain tables (views, system tables, tables in foreign
//! keys) are cached too, as "not for the fast path".

use std::collections::HashMap;
use std::sync::Arc;

use bytedata_catalog::catalog::{INFORMATION_SCHEMA, PG_CATALOG_SCHEMA};
use bytedata_catalog::descriptor::{RelationKind, TableDescriptor};
use bytedata_mvcc::Transaction;

use super::TableName;
use crate::context::cluster::Database;
use crate::error::Result;
use crate::writer::TableWriter;

/// Most names one session's cache holds; it starts over when full.
const MAX_TABLES: usize = 256;

struct Entry {
    catalog_version: u64,
    search_path: Vec<String>,
    table: Option<Arc<TableWriter>>,
}

#[derive(Default)]
pub(crate) struct TableCache {
    entries: HashMap<TableName, Entry>,
}

impl TableCache {
    /// The cached resolution of `name`: `Some(None)` for a name known not to be a fast
    /// table, `None` if it must be resolved again.
    pub fn get(
        &self,
        name: &TableName,
        catalog_version: u64,
        search_path: &[String],
    ) -> Option<Option<Arc<TableWriter>>> {
        let entry = self.entries.get(name)?;
        (entry.catalog_version == catalog_version && entry.search_path == search_path)
            .then(|| entry.table.clone())
    }

    pub fn insert(
        &mut self,
        name: TableName,
        catalog_version: u64,
        search_path: Vec<String>,
        table: Option<Arc<TableWriter>>,
    ) {
        if self.entries.len() >= MAX_TABLES {
            self.entries.clear();
        }
        self.entries.insert(
            name,
            Entry {
                catalog_version,
                search_path,
                table,
            },
        );
    }
}

/// The table `name` means in `txn`, if it is one the fast path may read and write: a
/// regular table, not shadowed by a system table, in no foreign key.
pub(crate) fn resolve(
    database: &Database,
    txn: &Transaction,
    search_path: &[String],
    name: &TableName,
) -> Result<Option<TableDescriptor>> {
    let catalog = &database.catalog;
    let is_system = |schema_id: u32| match schema_id {
        PG_CATALOG_SCHEMA => crate::system::pg_catalog_table(&name.name).is_some(),
        INFORMATION_SCHEMA => crate::system::information_schema_table(&name.name).is_some(),
        _ => false,
    };
    let found = match &name.schema {
        // `pg_temp` and other sessions' temporary schemas are DataFusion's to resolve
        // (and refuse).
        Some(schema) if schema.starts_with("pg_temp") => None,
        Some(schema) => match catalog.schema(txn, schema)? {
            Some(schema) if is_system(schema.id) => None,
            Some(schema) => catalog.table(txn, schema.id, &name.name)?,
            None => None,
        },
        None => {
            if crate::system::pg_catalog_table(&name.name).is_some() {
                return Ok(None);
            }
            let mut found = None;
            for schema_name in search_path {
                let Some(schema) = catalog.schema(txn, schema_name)? else {
                    continue;
                };
                if is_system(schema.id) {
                    return Ok(None);
                }
                if let Some(table) = catalog.table(txn, schema.id, &name.name)? {
                    found = Some(table);
                    break;
                }
            }
            found
        }
    };
    Ok(found.filter(|table| {
        table.kind == RelationKind::Table
            && table.foreign_keys.is_empty()
            && table.referenced_by.is_empty()
    }))
}
