//! The catalog of one database: its schemas, tables (with their columns, keys, indexes
//! and constraints), views and sequences, kept in the database's own store.
//!
//! Every operation runs inside the caller's transaction, so DDL is transactional: a
//! rolled-back `CREATE TABLE` leaves nothing behind, and a committed one survives restart.
//! Names are claimed with locks that see concurrent commits, so two sessions creating the
//! same table serialize and the second gets 42P07. Object ids, sequence values and hidden
//! row ids come from counters outside transactions (`counters`), as in PostgreSQL.

use std::sync::atomic::{AtomicU64, Ordering};

use bytedata_mvcc::{Engine, Transaction, TxnOptions};

use crate::counters::{CounterSpec, Counters};
use crate::descriptor::{
    Descriptor, IndexDescriptor, SchemaDescriptor, SequenceDescriptor, TableDescriptor,
};
use crate::error::{CatalogError, Result};
use crate::keys::{CounterKind, FIRST_OBJECT_ID, NameKind};
use crate::objects::{self, NameEntry};

/// Schema ids, as in PostgreSQL.
pub const PG_CATALOG_SCHEMA: u32 = 11;
pub const PUBLIC_SCHEMA: u32 = 2200;
pub const INFORMATION_SCHEMA: u32 = 13_000;
/// The parent of schema names.
const ROOT: u32 = 0;

/// Values of hidden row ids recorded ahead at a time (cheap bulk inserts).
const ROW_ID_LOG_AHEAD: i64 = 4096;
/// Sequence values recorded ahead at a time, as PostgreSQL logs them.
const SEQUENCE_LOG_AHEAD: i64 = 32;
const OBJECT_ID_LOG_AHEAD: i64 = 64;

/// A relation found by name.
#[derive(Clone, Debug)]
pub enum Relation {
    Table(TableDescriptor),
    Sequence(SequenceDescriptor),
    /// An index, with the table it belongs to; `None` for the primary key's index.
    Index {
        table: TableDescriptor,
        index: Option<IndexDescriptor>,
    },
}

pub struct Catalog {
    engine: Engine,
    counters: Counters,
    /// Bumped whenever DDL commits, so caches of descriptors know to refresh.
    version: AtomicU64,
    /// Deletes the keys of dropped and truncated tables in the background.
    reclaimer: crate::reclaim::Reclaimer,
}

fn object_id_spec() -> CounterSpec {
    CounterSpec {
        start: i64::from(FIRST_OBJECT_ID),
        increment: 1,
        min_value: i64::from(FIRST_OBJECT_ID),
        max_value: i64::from(u32::MAX),
        cycle: false,
        log_ahead: OBJECT_ID_LOG_AHEAD,
        name: "object ids".into(),
    }
}

fn sequence_spec(sequence: &SequenceDescriptor) -> CounterSpec {
    CounterSpec {
        start: sequence.start,
        increment: sequence.increment,
        min_value: sequence.min_value,
        max_value: sequence.max_value,
        cycle: sequence.cycle,
        log_ahead: SEQUENCE_LOG_AHEAD,
        name: sequence.name.clone(),
    }
}

fn row_id_spec() -> CounterSpec {
    CounterSpec {
        start: 1,
        increment: 1,
        min_value: 1,
        max_value: i64::MAX,
        cycle: false,
        log_ahead: ROW_ID_LOG_AHEAD,
        name: "row ids".into(),
    }
}

/// The primary key's index name as it appears among relation names.
fn pkey_name(table: &TableDescriptor) -> Option<&str> {
    (!table.has_hidden_row_id()).then_some(table.primary_key.name.as_str())
}

impl Catalog {
    /// Opens the catalog of a database store, creating its built-in schemas the first
    /// time.
    pub fn open(engine: Engine, owner: &str) -> Result<Self> {
        let catalog = Catalog {
            counters: Counters::new(engine.store().clone()),
            reclaimer: crate::reclaim::Reclaimer::new(engine.clone()),
            engine,
            version: AtomicU64::new(1),
        };
        let txn = catalog.engine.begin(TxnOptions::default());
        if objects::lookup(&txn, ROOT, NameKind::Schema, "public")?.is_none() {
            for (id, name) in [
                (PG_CATALOG_SCHEMA, "pg_catalog"),
                (PUBLIC_SCHEMA, "public"),
                (INFORMATION_SCHEMA, "information_schema"),
            ] {
                catalog.insert_schema(
                    &txn,
                    SchemaDescriptor {
                        id,
                        name: name.into(),
                        owner: owner.into(),
                    },
                )?;
            }
        }
        txn.commit()?;
        // Storage retired before a crash or shutdown is reclaimed now.
        catalog.reclaimer.wake();
        Ok(catalog)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Changes whenever DDL commits (see `bump_version`).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Called after a transaction that changed the catalog committed.
    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
        // The transaction may have dropped or truncated tables.
        self.reclaimer.wake();
    }

    /// Retires a table's storage in `txn`: every key under `storage_id` is deleted in the
    /// background once the transaction has committed and no older snapshot remains
    /// (`reclaim`). The caller has made sure nothing names it any more.
    pub fn retire_storage(&self, txn: &Transaction, storage_id: u32) -> Result<()> {
        assert!(
            storage_id >= FIRST_OBJECT_ID,
            "retiring a catalog table's storage"
        );
        txn.put(crate::keys::retired_key(storage_id).to_vec(), Vec::new())?;
        Ok(())
    }

    /// Blocks until no retired storage is being reclaimed; the storage ids reclaimed
    /// since open, or why the last attempt failed.
    pub fn wait_reclaimed(&self) -> std::result::Result<u64, String> {
        self.reclaimer.wait_idle()
    }

    /// A new object id (also the object's OID).
    pub fn next_object_id(&self) -> Result<u32> {
        let id = self
            .counters
            .next(CounterKind::ObjectIds, 0, &object_id_spec())?;
        u32::try_from(id).map_err(|_| CatalogError::Corrupt("object ids exhausted".into()))
    }

    fn insert_schema(&self, txn: &Transaction, schema: SchemaDescriptor) -> Result<()> {
        if !objects::claim(
            txn,
            ROOT,
            NameKind::Schema,
            &schema.name,
            NameEntry::new(schema.id, b'n'),
        )? {
            return Err(CatalogError::DuplicateSchema(schema.name));
        }
        objects::put(txn, schema.id, &Descriptor::Schema(schema))
    }

    pub fn create_schema(
        &self,
        txn: &Transaction,
        name: &str,
        owner: &str,
    ) -> Result<SchemaDescriptor> {
        let schema = SchemaDescriptor {
            id: self.next_object_id()?,
            name: name.to_owned(),
            owner: owner.to_owned(),
        };
        self.insert_schema(txn, schema.clone())?;
        Ok(schema)
    }

    pub fn schema(&self, txn: &Transaction, name: &str) -> Result<Option<SchemaDescriptor>> {
        match objects::lookup(txn, ROOT, NameKind::Schema, name)? {
            Some(entry) => self.schema_by_id(txn, entry.id),
            None => Ok(None),
        }
    }

    pub fn schema_by_id(&self, txn: &Transaction, id: u32) -> Result<Option<SchemaDescriptor>> {
        match objects::get(txn, id)? {
            Some(Descriptor::Schema(schema)) => Ok(Some(schema)),
            Some(_) => Err(CatalogError::Corrupt(format!(
                "object {id} is not a schema"
            ))),
            None => Ok(None),
        }
    }

    pub fn schemas(&self, txn: &Transaction) -> Result<Vec<SchemaDescriptor>> {
        let mut schemas = Vec::new();
        for (_, entry) in objects::names(txn, ROOT, NameKind::Schema)? {
            schemas.extend(self.schema_by_id(txn, entry.id)?);
        }
        Ok(schemas)
    }

    /// Drops a schema. Without `cascade` it must be empty (2BP01); with it, its tables and
    /// sequences are dropped too and returned (their rows are the caller's to delete).
    pub fn drop_schema(
        &self,
        txn: &Transaction,
        name: &str,
        cascade: bool,
    ) -> Result<Vec<Relation>> {
        let schema = self
            .schema(txn, name)?
            .ok_or_else(|| CatalogError::UndefinedSchema(name.to_owned()))?;
        let contents = objects::names(txn, schema.id, NameKind::Relation)?;
        if !contents.is_empty() && !cascade {
            return Err(CatalogError::DependentObjects {
                object: format!("schema {name}"),
            });
        }
        let mut dropped = Vec::new();
        for (_, entry) in contents {
            match objects::get(txn, entry.id)? {
                Some(Descriptor::Table(table)) if entry.relkind != b'i' => {
                    self.drop_table(txn, &table)?;
                    dropped.push(Relation::Table(table));
                }
                Some(Descriptor::Sequence(sequence)) => {
                    self.drop_sequence(txn, &sequence)?;
                    dropped.push(Relation::Sequence(sequence));
                }
                // Indexes go with their tables; already-dropped entries are skipped.
                _ => {}
            }
        }
        objects::release(txn, ROOT, NameKind::Schema, name)?;
        objects::remove(txn, schema.id)?;
        Ok(dropped)
    }

    fn relation_name_taken(
        txn: &Transaction,
        schema: u32,
        name: &str,
        entry: NameEntry,
    ) -> Result<()> {
        if !objects::claim(txn, schema, NameKind::Relation, name, entry)? {
            return Err(CatalogError::DuplicateRelation(name.to_owned()));
        }
        Ok(())
    }

    /// Records a new table (its id from `next_object_id`), claiming the names of the
    /// table, its primary key's index and its indexes.
    pub fn create_table(&self, txn: &Transaction, table: &TableDescriptor) -> Result<()> {
        let relkind = match table.kind {
            crate::descriptor::RelationKind::Table => b'r',
            crate::descriptor::RelationKind::View { .. } => b'v',
        };
        Self::relation_name_taken(
            txn,
            table.schema_id,
            &table.name,
            NameEntry::new(table.id, relkind),
        )?;
        if let Some(pkey) = pkey_name(table) {
            Self::relation_name_taken(
                txn,
                table.schema_id,
                pkey,
                NameEntry {
                    id: table.id,
                    relkind: b'i',
                    extra: 0,
                },
            )?;
        }
        for index in &table.indexes {
            Self::relation_name_taken(
                txn,
                table.schema_id,
                &index.name,
                NameEntry {
                    id: table.id,
                    relkind: b'i',
                    extra: index.oid,
                },
            )?;
        }
        objects::put(txn, table.id, &Descriptor::Table(table.clone()))
    }

    /// Records changes to a table (columns, indexes, constraints, its name), claiming and
    /// releasing relation names as they changed.
    pub fn update_table(
        &self,
        txn: &Transaction,
        old: &TableDescriptor,
        new: &TableDescriptor,
    ) -> Result<()> {
        assert_eq!(old.id, new.id);
        let names = |t: &TableDescriptor| -> Vec<(String, NameEntry)> {
            let relkind = if matches!(t.kind, crate::descriptor::RelationKind::View { .. }) {
                b'v'
            } else {
                b'r'
            };
            let mut names = vec![(t.name.clone(), NameEntry::new(t.id, relkind))];
            if let Some(pkey) = pkey_name(t) {
                names.push((
                    pkey.to_owned(),
                    NameEntry {
                        id: t.id,
                        relkind: b'i',
                        extra: 0,
                    },
                ));
            }
            names.extend(t.indexes.iter().map(|i| {
                (
                    i.name.clone(),
                    NameEntry {
                        id: t.id,
                        relkind: b'i',
                        extra: i.oid,
                    },
                )
            }));
            names
        };
        let (before, after) = (names(old), names(new));
        for (name, _) in before
            .iter()
            .filter(|(n, _)| !after.iter().any(|(m, _)| m == n))
        {
            objects::release(txn, old.schema_id, NameKind::Relation, name)?;
        }
        for (name, entry) in after
            .iter()
            .filter(|(n, _)| !before.iter().any(|(m, _)| m == n))
        {
            Self::relation_name_taken(txn, new.schema_id, name, *entry)?;
        }
        objects::put(txn, new.id, &Descriptor::Table(new.clone()))
    }

    /// Removes a table from the catalog (its rows are the caller's to delete), with the
    /// sequences its columns own.
    pub fn drop_table(
        &self,
        txn: &Transaction,
        table: &TableDescriptor,
    ) -> Result<Vec<SequenceDescriptor>> {
        objects::release(txn, table.schema_id, NameKind::Relation, &table.name)?;
        if let Some(pkey) = pkey_name(table) {
            objects::release(txn, table.schema_id, NameKind::Relation, pkey)?;
        }
        for index in &table.indexes {
            objects::release(txn, table.schema_id, NameKind::Relation, &index.name)?;
        }
        objects::remove(txn, table.id)?;
        let mut owned = Vec::new();
        for (_, entry) in objects::names(txn, table.schema_id, NameKind::Relation)? {
            if entry.relkind == b'S'
                && let Some(Descriptor::Sequence(sequence)) = objects::get(txn, entry.id)?
                && sequence
                    .owned_by
                    .is_some_and(|(owner, _)| owner == table.id)
            {
                self.drop_sequence(txn, &sequence)?;
                owned.push(sequence);
            }
        }
        Ok(owned)
    }

    /// Finds a relation by schema and name.
    pub fn relation(&self, txn: &Transaction, schema: u32, name: &str) -> Result<Option<Relation>> {
        let Some(entry) = objects::lookup(txn, schema, NameKind::Relation, name)? else {
            return Ok(None);
        };
        let descriptor = objects::get(txn, entry.id)?.ok_or_else(|| {
            CatalogError::Corrupt(format!("name {name} refers to missing object {}", entry.id))
        })?;
        Ok(Some(match (entry.relkind, descriptor) {
            (b'i', Descriptor::Table(table)) => {
                let index = table.indexes.iter().find(|i| i.oid == entry.extra).cloned();
                Relation::Index { table, index }
            }
            (_, Descriptor::Table(table)) => Relation::Table(table),
            (_, Descriptor::Sequence(sequence)) => Relation::Sequence(sequence),
            _ => {
                return Err(CatalogError::Corrupt(format!(
                    "name {name} refers to an object of another kind"
                )));
            }
        }))
    }

    /// A table (or view) by schema and name.
    pub fn table(
        &self,
        txn: &Transaction,
        schema: u32,
        name: &str,
    ) -> Result<Option<TableDescriptor>> {
        Ok(match self.relation(txn, schema, name)? {
            Some(Relation::Table(table)) => Some(table),
            _ => None,
        })
    }

    pub fn table_by_id(&self, txn: &Transaction, id: u32) -> Result<Option<TableDescriptor>> {
        match objects::get(txn, id)? {
            Some(Descriptor::Table(table)) => Ok(Some(table)),
            Some(_) => Err(CatalogError::Corrupt(format!("object {id} is not a table"))),
            None => Ok(None),
        }
    }

    /// Tables and views of a schema, by name.
    pub fn tables(&self, txn: &Transaction, schema: u32) -> Result<Vec<TableDescriptor>> {
        let mut tables = Vec::new();
        for (_, entry) in objects::names(txn, schema, NameKind::Relation)? {
            if matches!(entry.relkind, b'r' | b'v') {
                tables.extend(self.table_by_id(txn, entry.id)?);
            }
        }
        Ok(tables)
    }

    pub fn sequences(&self, txn: &Transaction, schema: u32) -> Result<Vec<SequenceDescriptor>> {
        let mut sequences = Vec::new();
        for (_, entry) in objects::names(txn, schema, NameKind::Relation)? {
            if entry.relkind == b'S'
                && let Some(Descriptor::Sequence(sequence)) = objects::get(txn, entry.id)?
            {
                sequences.push(sequence);
            }
        }
        Ok(sequences)
    }

    pub fn create_sequence(&self, txn: &Transaction, sequence: &SequenceDescriptor) -> Result<()> {
        Self::relation_name_taken(
            txn,
            sequence.schema_id,
            &sequence.name,
            NameEntry::new(sequence.id, b'S'),
        )?;
        objects::put(txn, sequence.id, &Descriptor::Sequence(sequence.clone()))
    }

    pub fn update_sequence(&self, txn: &Transaction, sequence: &SequenceDescriptor) -> Result<()> {
        objects::put(txn, sequence.id, &Descriptor::Sequence(sequence.clone()))
    }

    pub fn sequence_by_id(&self, txn: &Transaction, id: u32) -> Result<Option<SequenceDescriptor>> {
        match objects::get(txn, id)? {
            Some(Descriptor::Sequence(sequence)) => Ok(Some(sequence)),
            _ => Ok(None),
        }
    }

    pub fn drop_sequence(&self, txn: &Transaction, sequence: &SequenceDescriptor) -> Result<()> {
        objects::release(txn, sequence.schema_id, NameKind::Relation, &sequence.name)?;
        objects::remove(txn, sequence.id)
    }

    /// `nextval`: outside the transaction, never repeating a value.
    pub fn nextval(&self, sequence: &SequenceDescriptor) -> Result<i64> {
        self.counters
            .next(CounterKind::Sequence, sequence.id, &sequence_spec(sequence))
    }

    /// `setval`.
    pub fn setval(&self, sequence: &SequenceDescriptor, value: i64, is_called: bool) -> Result<()> {
        if value < sequence.min_value || value > sequence.max_value {
            return Err(CatalogError::InvalidDefinition(format!(
                "setval: value {value} is out of bounds for sequence \"{}\" ({}..{})",
                sequence.name, sequence.min_value, sequence.max_value
            )));
        }
        self.counters
            .set(CounterKind::Sequence, sequence.id, value, is_called)
    }

    /// The sequence's last value and whether `nextval` has been called since it was set.
    pub fn sequence_state(&self, sequence: &SequenceDescriptor) -> Result<(i64, bool)> {
        self.counters
            .peek(CounterKind::Sequence, sequence.id, &sequence_spec(sequence))
    }

    /// Forgets the counters of a dropped sequence or table. Call only once the drop has
    /// committed (a rolled-back drop must keep them).
    pub fn forget_counters(&self, id: u32) -> Result<()> {
        self.counters.forget(CounterKind::Sequence, id)?;
        self.counters.forget(CounterKind::RowIds, id)
    }

    /// The next hidden row id of a table without a primary key.
    pub fn next_row_id(&self, table: u32) -> Result<i64> {
        self.counters
            .next(CounterKind::RowIds, table, &row_id_spec())
    }
}
