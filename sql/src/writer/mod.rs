//! Writing rows into a table: the primary entry, the index entries and the constraints.
//!
//! Invariants every write keeps:
//!
//! - a row's primary entry and all its index entries change together, in the
//!   statement's transaction;
//! - a key or unique-index entry is locked (`lock_latest`) before it is probed, so two
//!   transactions inserting the same key serialize on it and the second sees the first's
//!   row once it commits: uniqueness holds across concurrent transactions;
//! - unique and NOT NULL violations are raised at once, row by row (PostgreSQL's
//!   non-deferrable behaviour); foreign keys are checked when the statement ends, so a
//!   statement may insert a parent after its child or delete both (`finish`).
//!
//! Foreign-key lookups read the latest committed state plus the transaction's own writes
//! (not the snapshot): a parent deleted by a concurrent commit is gone, and a child row a
//! concurrent transaction committed still counts.

mod rows;

pub use rows::table_rows;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytedata_catalog::Catalog;
use bytedata_catalog::descriptor::{KeyColumn, ReferentialAction, TableDescriptor};
use bytedata_catalog::table::TableCodec;
use bytedata_mvcc::Transaction;
use bytedata_pgtypes::value::{Value, compare};
use bytes::Bytes;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::execution::context::SessionState;
use datafusion::physical_expr::PhysicalExpr;

use crate::bridge::field;
use crate::bridge::{ColumnBuilder, finish_column};
use crate::error::{Result, SqlError};
use crate::provider::access::prefix_end;
use bytedata_pgtypes::output::value_text;
use bytedata_pgtypes::value::coerce_value;

/// Cascading deletes and updates go at most this deep.
const MAX_CASCADE_DEPTH: usize = 64;

/// How a foreign key finds its parent row.
enum ParentLookup {
    /// By primary key; `order[i]` is the position in the constraint of key column `i`.
    Primary { order: Vec<usize> },
    /// By a unique index (position in the parent's codec), likewise ordered.
    Unique { index: usize, order: Vec<usize> },
}

/// A foreign key of this table.
struct Outgoing {
    name: String,
    /// Positions (among live columns) of the referencing columns.
    positions: Vec<usize>,
    parent: u32,
    lookup: ParentLookup,
}

/// How a foreign key's referencing rows are found in the child table.
enum ChildLookup {
    /// The constraint's columns are a prefix of the child's primary key, in `order`.
    Primary {
        order: Vec<usize>,
    },
    Index {
        index: usize,
        order: Vec<usize>,
    },
    Full,
}

/// A foreign key of another table (or this one) that references this table.
struct Incoming {
    name: String,
    child: u32,
    /// Positions in the child of the referencing columns.
    child_positions: Vec<usize>,
    /// Positions in this table of the referenced columns.
    positions: Vec<usize>,
    on_delete: ReferentialAction,
    on_update: ReferentialAction,
    lookup: ChildLookup,
}

/// A unique constraint that an insert would violate.
pub(crate) enum Conflict {
    /// The primary key: the existing row's key.
    Primary { key: Bytes },
    /// A unique index (position in the codec): the existing row's key.
    Unique { index: usize, key: Bytes },
}

pub(crate) struct TableWriter {
    pub table: TableDescriptor,
    pub codec: TableCodec,
    /// Live columns (hidden ones included), as checks see them.
    schema: SchemaRef,
    checks: Vec<(String, Arc<dyn PhysicalExpr>)>,
    outgoing: Vec<Outgoing>,
    incoming: Vec<Incoming>,
}

fn positions_of(codec: &TableCodec, ids: &[u32]) -> Result<Vec<usize>> {
    ids.iter()
        .map(|id| {
            codec
                .columns()
                .iter()
                .position(|c| c.id == *id)
                .ok_or_else(|| SqlError::internal(format!("constraint on missing column {id}")))
        })
        .collect()
}

/// Where each key column sits among `ids`, if the key's first `ids.len()` columns are
/// exactly `ids` in some order (`whole`: all key columns).
fn key_order(key: &[KeyColumn], ids: &[u32], whole: bool) -> Option<Vec<usize>> {
    if key.len() < ids.len() || (whole && key.len() != ids.len()) {
        return None;
    }
    key[..ids.len()]
        .iter()
        .map(|k| ids.iter().position(|id| *id == k.column))
        .collect()
}

impl TableWriter {
    fn new(
        state: &SessionState,
        catalog: &Catalog,
        txn: &Transaction,
        table: TableDescriptor,
    ) -> Result<Self> {
        let codec = TableCodec::new(&table);
        let fields: Vec<_> = codec
            .columns()
            .iter()
            .map(|c| field(&c.name, &c.data_type, true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let df_schema = DFSchema::try_from_qualified_schema(table.name.as_str(), &schema)?;
        let checks = table
            .checks
            .iter()
            .map(|check| {
                let expr = state.create_logical_expr(&check.expression, &df_schema)?;
                Ok((
                    check.name.clone(),
                    state.create_physical_expr(expr, &df_schema)?,
                ))
            })
            .collect::<Result<_>>()?;
        let mut outgoing = Vec::new();
        for fk in &table.foreign_keys {
            let parent = if fk.referenced_table == table.id {
                table.clone()
            } else {
                catalog
                    .table_by_id(txn, fk.referenced_table)?
                    .ok_or_else(|| {
                        SqlError::internal(format!(
                            "foreign key {} references a missing table",
                            fk.name
                        ))
                    })?
            };
            let lookup = if let Some(order) =
                key_order(&parent.primary_key.columns, &fk.referenced_columns, true)
                    .filter(|_| !parent.has_hidden_row_id())
            {
                ParentLookup::Primary { order }
            } else {
                parent
                    .indexes
                    .iter()
                    .enumerate()
                    .filter(|(_, index)| index.unique)
                    .find_map(|(i, index)| {
                        key_order(&index.columns, &fk.referenced_columns, true)
                            .map(|order| ParentLookup::Unique { index: i, order })
                    })
                    .ok_or_else(|| {
                        SqlError::internal(format!(
                            "foreign key {} has no unique key to look up",
                            fk.name
                        ))
                    })?
            };
            outgoing.push(Outgoing {
                name: fk.name.clone(),
                positions: positions_of(&codec, &fk.columns)?,
                parent: parent.id,
                lookup,
            });
        }
        let mut incoming = Vec::new();
        for &child_id in &table.referenced_by {
            let child = if child_id == table.id {
                table.clone()
            } else {
                match catalog.table_by_id(txn, child_id)? {
                    Some(child) => child,
                    None => continue,
                }
            };
            let child_codec = TableCodec::new(&child);
            for fk in child
                .foreign_keys
                .iter()
                .filter(|fk| fk.referenced_table == table.id)
            {
                let lookup = if let Some(order) =
                    key_order(&child.primary_key.columns, &fk.columns, false)
                {
                    ChildLookup::Primary { order }
                } else if let Some((index, order)) =
                    child.indexes.iter().enumerate().find_map(|(i, index)| {
                        key_order(&index.columns, &fk.columns, false).map(|o| (i, o))
                    })
                {
                    ChildLookup::Index { index, order }
                } else {
                    ChildLookup::Full
                };
                incoming.push(Incoming {
                    name: fk.name.clone(),
                    child: child.id,
                    child_positions: positions_of(&child_codec, &fk.columns)?,
                    positions: positions_of(&codec, &fk.referenced_columns)?,
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                    lookup,
                });
            }
        }
        Ok(TableWriter {
            table,
            codec,
            schema,
            checks,
            outgoing,
            incoming,
        })
    }

    /// Rejects NULL in NOT NULL columns (23502).
    pub fn check_not_null(&self, row: &[Value]) -> Result<()> {
        for (value, column) in row.iter().zip(self.codec.columns()) {
            if value.is_null() && !column.nullable {
                return Err(SqlError::new(
                    "23502",
                    format!("null value in column \"{}\" of relation \"{}\" violates not-null constraint", column.name, self.table.name),
                )
                .with_detail(self.failing_row(row)));
            }
        }
        Ok(())
    }

    /// `Failing row contains (…).`, as PostgreSQL details a violation.
    pub fn failing_row(&self, row: &[Value]) -> String {
        let values: Vec<String> = row
            .iter()
            .zip(self.codec.columns())
            .filter(|(_, c)| !c.hidden)
            .map(|(v, _)| value_text(v))
            .collect();
        format!("Failing row contains ({}).", values.join(", "))
    }

    /// Evaluates the CHECK constraints over rows; a row for which one is false fails
    /// (23514). NULL passes, as in PostgreSQL.
    pub fn check_rows(&self, rows: &[Vec<Value>]) -> Result<()> {
        if self.checks.is_empty() || rows.is_empty() {
            return Ok(());
        }
        let mut builders: Vec<ColumnBuilder> = self
            .codec
            .columns()
            .iter()
            .map(|c| ColumnBuilder::new(&c.data_type, rows.len()))
            .collect();
        for row in rows {
            for (builder, value) in builders.iter_mut().zip(row) {
                builder.append(value)?;
            }
        }
        let columns = builders.iter_mut().map(finish_column).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        for (name, check) in &self.checks {
            let result = check.evaluate(&batch)?.into_array(rows.len())?;
            let result = result
                .as_boolean_opt()
                .ok_or_else(|| SqlError::internal("CHECK did not give a boolean"))?;
            if let Some(row) = (0..rows.len()).find(|&i| result.is_valid(i) && !result.value(i)) {
                return Err(SqlError::new(
                    "23514",
                    format!(
                        "new row for relation \"{}\" violates check constraint \"{name}\"",
                        self.table.name
                    ),
                )
                .with_detail(self.failing_row(&rows[row])));
            }
        }
        Ok(())
    }

    /// The names and values of some columns, as `(a, b)=(1, 2)`.
    pub fn key_text(&self, columns: &[KeyColumn], row: &[Value]) -> String {
        let mut names = Vec::new();
        let mut values = Vec::new();
        for key in columns {
            if let Some(p) = self.codec.columns().iter().position(|c| c.id == key.column) {
                names.push(self.codec.columns()[p].name.clone());
                values.push(value_text(&row[p]));
            }
        }
        format!("({})=({})", names.join(", "), values.join(", "))
    }

    /// The 23505 error for a conflict of `row`.
    pub fn conflict_error(&self, conflict: &Conflict, row: &[Value]) -> SqlError {
        let (name, columns) = match conflict {
            Conflict::Primary { .. } => (
                &self.table.primary_key.name,
                &self.table.primary_key.columns,
            ),
            Conflict::Unique { index, .. } => {
                let index = &self.codec.indexes()[*index].descriptor;
                (&index.name, &index.columns)
            }
        };
        SqlError::new(
            "23505",
            format!("duplicate key value violates unique constraint \"{name}\""),
        )
        .with_detail(format!(
            "Key {} already exists.",
            self.key_text(columns, row)
        ))
    }
}

/// The 23505 error for a unique index, by name (index builds).
pub(crate) fn unique_violation(
    name: &str,
    table: &TableDescriptor,
    columns: &[KeyColumn],
    row: &[Value],
    codec: &TableCodec,
) -> SqlError {
    let mut names = Vec::new();
    let mut values = Vec::new();
    for key in columns {
        if let Some(p) = codec.columns().iter().position(|c| c.id == key.column) {
            names.push(codec.columns()[p].name.clone());
            values.push(value_text(&row[p]));
        }
    }
    SqlError::new("23505", format!("could not create unique index \"{name}\""))
        .with_detail(format!(
            "Key ({})=({}) is duplicated.",
            names.join(", "),
            values.join(", ")
        ))
        .with_hint(format!("table \"{}\"", table.name))
}

/// A foreign key to verify when the statement ends.
enum Pending {
    /// A child row needs its parent: table, constraint position, the referencing values.
    Parent {
        table: u32,
        fk: usize,
        values: Vec<Value>,
    },
    /// A parent row went or changed: no child may still reference its old values.
    Children {
        table: u32,
        fk: usize,
        values: Vec<Value>,
    },
}

/// The writers of one statement, with the foreign-key checks it owes.
pub(crate) struct Writers<'a> {
    pub txn: &'a Transaction,
    /// Compiles the CHECKs of writers built during the statement; `None` on the fast
    /// path, whose one writer comes built and whose tables are in no foreign key.
    state: Option<&'a SessionState>,
    catalog: &'a Catalog,
    tables: HashMap<u32, Arc<TableWriter>>,
    pending: Vec<Pending>,
    /// What is already pending, so a thousand children of one parent check it once.
    pending_seen: HashSet<(bool, u32, usize, Vec<u8>)>,
    depth: usize,
}

fn values_key(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        // Any faithful encoding will do: the row format's per-value encoding is one.
        let text = value_text(value);
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

fn equal(a: &Value, b: &Value) -> bool {
    compare(a, b) == Some(std::cmp::Ordering::Equal)
}

impl<'a> Writers<'a> {
    pub fn new(txn: &'a Transaction, state: &'a SessionState, catalog: &'a Catalog) -> Self {
        Self::with_state(txn, Some(state), catalog)
    }

    fn with_state(
        txn: &'a Transaction,
        state: Option<&'a SessionState>,
        catalog: &'a Catalog,
    ) -> Self {
        Writers {
            txn,
            state,
            catalog,
            tables: HashMap::new(),
            pending: Vec::new(),
            pending_seen: HashSet::new(),
            depth: 0,
        }
    }

    /// The writers of a statement that writes one table, whose writer is built already
    /// (the fast path's, cached across statements).
    pub fn with_writer(
        txn: &'a Transaction,
        catalog: &'a Catalog,
        writer: Arc<TableWriter>,
    ) -> Self {
        let mut writers = Self::with_state(txn, None, catalog);
        writers.tables.insert(writer.table.id, writer);
        writers
    }

    /// The writer of a table, built once per statement.
    pub fn writer(&mut self, table: &TableDescriptor) -> Result<Arc<TableWriter>> {
        if let Some(writer) = self.tables.get(&table.id) {
            return Ok(writer.clone());
        }
        let state = self
            .state
            .ok_or_else(|| SqlError::internal("a second table's writer on the fast path"))?;
        let writer = Arc::new(TableWriter::new(
            state,
            self.catalog,
            self.txn,
            table.clone(),
        )?);
        self.tables.insert(table.id, writer.clone());
        Ok(writer)
    }

    fn writer_by_id(&mut self, id: u32) -> Result<Arc<TableWriter>> {
        if let Some(writer) = self.tables.get(&id) {
            return Ok(writer.clone());
        }
        let table = self
            .catalog
            .table_by_id(self.txn, id)?
            .ok_or_else(|| SqlError::internal(format!("table {id} vanished")))?;
        self.writer(&table)
    }

    fn defer(&mut self, pending: Pending) {
        let (kind, table, fk, values) = match &pending {
            Pending::Parent { table, fk, values } => (true, *table, *fk, values),
            Pending::Children { table, fk, values } => (false, *table, *fk, values),
        };
        if self
            .pending_seen
            .insert((kind, table, fk, values_key(values)))
        {
            self.pending.push(pending);
        }
    }

    /// Probes the unique constraints for a new row, locking each key probed. `own` is the
    /// row's previous key when it is being updated (finding itself is no conflict).
    fn probe(
        &self,
        writer: &TableWriter,
        key: &[u8],
        row: &[Value],
        own: Option<&[u8]>,
    ) -> Result<Option<Conflict>> {
        if own != Some(key) && self.txn.lock_latest(key)?.is_some() {
            return Ok(Some(Conflict::Primary {
                key: Bytes::copy_from_slice(key),
            }));
        }
        for (i, index) in writer.codec.indexes().iter().enumerate() {
            if !index.descriptor.unique {
                continue;
            }
            let (entry, value) = writer.codec.index_entry(index, row)?;
            if value.is_empty() {
                continue; // a NULL column: never a conflict
            }
            if let Some(existing) = self.txn.lock_latest(&entry)? {
                let mut existing_key = writer.codec.primary_prefix().to_vec();
                existing_key.extend_from_slice(&existing);
                if own != Some(&existing_key[..]) && existing_key != key {
                    return Ok(Some(Conflict::Unique {
                        index: i,
                        key: Bytes::from(existing_key),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Inserts a row (CHECKs already evaluated), or reports the constraint it conflicts
    /// with and writes nothing.
    pub fn insert(&mut self, writer: &TableWriter, row: &[Value]) -> Result<Option<Conflict>> {
        writer.check_not_null(row)?;
        let key = Bytes::from(writer.codec.encode_key(row)?);
        if writer.codec.has_unique_index() {
            if let Some(conflict) = self.probe(writer, &key, row, None)? {
                return Ok(Some(conflict));
            }
            self.txn.put(key, writer.codec.encode_value(row)?)?;
        } else {
            // The key is the only constraint to probe: one lock and look-up for both.
            // The key moves into the write buffer; a conflict (rare) encodes it again
            // rather than every row paying for a shared copy.
            let value = Bytes::from(writer.codec.encode_value(row)?);
            if !self.txn.insert_absent(key, value)? {
                let key = Bytes::from(writer.codec.encode_key(row)?);
                return Ok(Some(Conflict::Primary { key }));
            }
        }
        for index in writer.codec.indexes() {
            let (entry, value) = writer.codec.index_entry(index, row)?;
            self.txn.put(entry, value)?;
        }
        self.defer_parents(writer, row, None);
        Ok(None)
    }

    /// Inserts rows (NOT NULL and CHECKs already checked) as `insert` one after another
    /// would, into a table whose only unique constraint is its primary key: returns the
    /// positions of the rows whose key is taken, which are not written. The rows' locks
    /// are taken together and their entries written in one go (`insert_absent_many`).
    pub fn insert_many(&mut self, writer: &TableWriter, rows: &[Vec<Value>]) -> Result<Vec<usize>> {
        assert!(
            !writer.codec.has_unique_index(),
            "rows of a table with unique indexes are inserted one by one"
        );
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            debug_assert!(writer.check_not_null(row).is_ok());
            let key = Bytes::from(writer.codec.encode_key(row)?);
            entries.push((key, Bytes::from(writer.codec.encode_value(row)?)));
        }
        let refused = self.txn.insert_absent_many(entries)?;
        let mut next_refused = refused.iter().copied().peekable();
        for (position, row) in rows.iter().enumerate() {
            if next_refused.next_if_eq(&position).is_some() {
                continue;
            }
            for index in writer.codec.indexes() {
                let (entry, value) = writer.codec.index_entry(index, row)?;
                self.txn.put(entry, value)?;
            }
            self.defer_parents(writer, row, None);
        }
        Ok(refused)
    }

    fn defer_parents(&mut self, writer: &TableWriter, row: &[Value], old: Option<&[Value]>) {
        for (i, fk) in writer.outgoing.iter().enumerate() {
            let values: Vec<Value> = fk.positions.iter().map(|&p| row[p].clone()).collect();
            if values.iter().any(Value::is_null) {
                continue; // MATCH SIMPLE: a NULL column exempts the row
            }
            if let Some(old) = old
                && fk.positions.iter().all(|&p| equal(&old[p], &row[p]))
            {
                continue;
            }
            self.defer(Pending::Parent {
                table: writer.table.id,
                fk: i,
                values,
            });
        }
    }

    /// Replaces a row (already locked by the caller) with a new version; CHECKs already
    /// evaluated.
    pub fn update(&mut self, writer: &TableWriter, old: &[Value], new: &[Value]) -> Result<()> {
        writer.check_not_null(new)?;
        let old_key = writer.codec.encode_key(old)?;
        let new_key = writer.codec.encode_key(new)?;
        if let Some(conflict) = self.probe(writer, &new_key, new, Some(&old_key))? {
            return Err(writer.conflict_error(&conflict, new));
        }
        if old_key != new_key {
            self.txn.delete(old_key)?;
        }
        self.txn.put(new_key, writer.codec.encode_value(new)?)?;
        for index in writer.codec.indexes() {
            let (old_entry, _) = writer.codec.index_entry(index, old)?;
            let (new_entry, value) = writer.codec.index_entry(index, new)?;
            if old_entry != new_entry {
                self.txn.delete(old_entry)?;
            }
            self.txn.put(new_entry, value)?;
        }
        self.defer_parents(writer, new, Some(old));
        self.referenced_change(writer, old, Some(new))
    }

    /// Deletes a row (already locked by the caller).
    pub fn delete(&mut self, writer: &TableWriter, old: &[Value]) -> Result<()> {
        self.txn.delete(writer.codec.encode_key(old)?)?;
        for index in writer.codec.indexes() {
            let (entry, _) = writer.codec.index_entry(index, old)?;
            self.txn.delete(entry)?;
        }
        self.referenced_change(writer, old, None)
    }

    /// What a deleted (`new` = None) or updated row means for the rows referencing it.
    fn referenced_change(
        &mut self,
        writer: &TableWriter,
        old: &[Value],
        new: Option<&[Value]>,
    ) -> Result<()> {
        for (i, fk) in writer.incoming.iter().enumerate() {
            let values: Vec<Value> = fk.positions.iter().map(|&p| old[p].clone()).collect();
            if values.iter().any(Value::is_null) {
                continue;
            }
            if let Some(new) = new
                && fk.positions.iter().all(|&p| equal(&old[p], &new[p]))
            {
                continue;
            }
            let action = if new.is_some() {
                fk.on_update
            } else {
                fk.on_delete
            };
            match action {
                ReferentialAction::NoAction => self.defer(Pending::Children {
                    table: writer.table.id,
                    fk: i,
                    values,
                }),
                ReferentialAction::Restrict => {
                    if !self.children(writer, fk, &values)?.is_empty() {
                        return Err(self.still_referenced(writer, fk, &values));
                    }
                }
                ReferentialAction::Cascade | ReferentialAction::SetNull => {
                    if self.depth >= MAX_CASCADE_DEPTH {
                        return Err(SqlError::new(
                            "54001",
                            format!(
                                "foreign key actions cascade deeper than {MAX_CASCADE_DEPTH} levels"
                            ),
                        ));
                    }
                    let child = self.writer_by_id(fk.child)?;
                    let rows = self.children(writer, fk, &values)?;
                    self.depth += 1;
                    for row in rows {
                        self.txn.lock(&child.codec.encode_key(&row)?)?;
                        match (action, new) {
                            (ReferentialAction::Cascade, None) => self.delete(&child, &row)?,
                            (ReferentialAction::Cascade, Some(new)) => {
                                let mut updated = row.clone();
                                for (&c, &p) in fk.child_positions.iter().zip(&fk.positions) {
                                    updated[c] =
                                        coerce_value(&new[p], &child.codec.columns()[c].data_type)
                                            .unwrap_or(Value::Null);
                                }
                                child.check_rows(std::slice::from_ref(&updated))?;
                                self.update(&child, &row, &updated)?;
                            }
                            _ => {
                                let mut updated = row.clone();
                                for &c in &fk.child_positions {
                                    updated[c] = Value::Null;
                                }
                                child.check_rows(std::slice::from_ref(&updated))?;
                                self.update(&child, &row, &updated)?;
                            }
                        }
                    }
                    self.depth -= 1;
                }
                ReferentialAction::SetDefault => {
                    return Err(SqlError::unsupported("ON DELETE/UPDATE SET DEFAULT"));
                }
            }
        }
        Ok(())
    }

    fn still_referenced(&self, writer: &TableWriter, fk: &Incoming, values: &[Value]) -> SqlError {
        let child_name = self
            .tables
            .get(&fk.child)
            .map_or_else(|| fk.child.to_string(), |c| c.table.name.clone());
        let names: Vec<String> = fk
            .positions
            .iter()
            .map(|&p| writer.codec.columns()[p].name.clone())
            .collect();
        let values: Vec<String> = values.iter().map(value_text).collect();
        SqlError::new(
            "23503",
            format!("update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{child_name}\"", writer.table.name, fk.name),
        )
        .with_detail(format!("Key ({})=({}) is still referenced from table \"{child_name}\".", names.join(", "), values.join(", ")))
    }

    /// The rows of the child table referencing `values`, as of now.
    fn children(
        &mut self,
        _parent: &TableWriter,
        fk: &Incoming,
        values: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let child = self.writer_by_id(fk.child)?;
        let coerced: Option<Vec<Value>> = values
            .iter()
            .zip(&fk.child_positions)
            .map(|(v, &c)| coerce_value(v, &child.codec.columns()[c].data_type))
            .collect();
        let Some(coerced) = coerced else {
            return Ok(Vec::new());
        };
        let reader = self.txn.latest_reader()?;
        let matches = |row: &[Value]| {
            fk.child_positions
                .iter()
                .zip(&coerced)
                .all(|(&c, v)| equal(&row[c], v))
        };
        let mut rows = Vec::new();
        match &fk.lookup {
            ChildLookup::Primary { order } => {
                let ordered: Vec<Value> = order.iter().map(|&i| coerced[i].clone()).collect();
                let prefix = child.codec.encode_key_prefix(&ordered)?;
                for entry in reader.scan((
                    std::ops::Bound::Included(prefix.clone()),
                    prefix_end(&prefix),
                )) {
                    let (key, value) = entry?;
                    let row = child.codec.decode(&key, &value)?;
                    if matches(&row) {
                        rows.push(row);
                    }
                }
            }
            ChildLookup::Index { index, order } => {
                let index = &child.codec.indexes()[*index];
                let ordered: Vec<Value> = order.iter().map(|&i| coerced[i].clone()).collect();
                let prefix = child.codec.encode_index_prefix(index, &ordered)?;
                for entry in reader.scan((
                    std::ops::Bound::Included(prefix.clone()),
                    prefix_end(&prefix),
                )) {
                    let (key, value) = entry?;
                    let primary = child.codec.primary_key_of(index, &key, &value)?;
                    if let Some(stored) = reader.get(&primary)? {
                        let row = child.codec.decode(&primary, &stored)?;
                        if matches(&row) {
                            rows.push(row);
                        }
                    }
                }
            }
            ChildLookup::Full => {
                let start = child.codec.primary_prefix().to_vec();
                for entry in
                    reader.scan((std::ops::Bound::Included(start.clone()), prefix_end(&start)))
                {
                    let (key, value) = entry?;
                    let row = child.codec.decode(&key, &value)?;
                    if matches(&row) {
                        rows.push(row);
                    }
                }
            }
        }
        Ok(rows)
    }

    /// Whether the parent row a child's values reference exists (locking it, so it cannot
    /// go before this transaction commits).
    fn parent_exists(&mut self, fk: &Outgoing, values: &[Value]) -> Result<bool> {
        let parent = self.writer_by_id(fk.parent)?;
        let (order, index) = match &fk.lookup {
            ParentLookup::Primary { order } => (order, None),
            ParentLookup::Unique { index, order } => (order, Some(&parent.codec.indexes()[*index])),
        };
        let parent_types: Vec<_> = match index {
            None => parent
                .codec
                .key_types()
                .into_iter()
                .map(|(t, _)| t)
                .collect(),
            Some(index) => index
                .descriptor
                .columns
                .iter()
                .filter_map(|k| {
                    parent
                        .codec
                        .columns()
                        .iter()
                        .find(|c| c.id == k.column)
                        .map(|c| c.data_type.clone())
                })
                .collect(),
        };
        let mut ordered = Vec::with_capacity(order.len());
        for (&i, ty) in order.iter().zip(&parent_types) {
            match coerce_value(&values[i], ty) {
                Some(value) => ordered.push(value),
                None => return Ok(false),
            }
        }
        let key = match index {
            None => parent.codec.encode_key_prefix(&ordered)?,
            Some(index) => parent.codec.encode_index_prefix(index, &ordered)?,
        };
        Ok(self.txn.lock_latest(&key)?.is_some())
    }

    /// Runs the foreign-key checks the statement deferred.
    pub fn finish(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for item in pending {
            match item {
                Pending::Parent { table, fk, values } => {
                    let writer = self.writer_by_id(table)?;
                    let constraint = &writer.outgoing[fk];
                    if !self.parent_exists(constraint, &values)? {
                        let parent = self.writer_by_id(constraint.parent)?;
                        let names: Vec<String> = constraint
                            .positions
                            .iter()
                            .map(|&p| writer.codec.columns()[p].name.clone())
                            .collect();
                        let texts: Vec<String> = values.iter().map(value_text).collect();
                        return Err(SqlError::new(
                            "23503",
                            format!("insert or update on table \"{}\" violates foreign key constraint \"{}\"", writer.table.name, constraint.name),
                        )
                        .with_detail(format!("Key ({})=({}) is not present in table \"{}\".", names.join(", "), texts.join(", "), parent.table.name)));
                    }
                }
                Pending::Children { table, fk, values } => {
                    let writer = self.writer_by_id(table)?;
                    let constraint = &writer.incoming[fk];
                    if !self.children(&writer, constraint, &values)?.is_empty() {
                        return Err(self.still_referenced(&writer, constraint, &values));
                    }
                }
            }
        }
        self.pending_seen.clear();
        Ok(())
    }

    /// Checks that every row of `table` satisfies its foreign key `fk` (ALTER TABLE ADD
    /// FOREIGN KEY on a table with rows).
    pub fn validate_foreign_key(&mut self, table: &TableDescriptor, fk_name: &str) -> Result<()> {
        let writer = self.writer(table)?;
        let Some(fk) = writer.outgoing.iter().position(|f| f.name == fk_name) else {
            return Err(SqlError::internal(format!(
                "foreign key {fk_name} to validate is missing"
            )));
        };
        for row in rows::table_rows(self.txn, &writer.codec)? {
            let (_, row) = row?;
            self.defer_parents_one(&writer, &row, fk);
        }
        self.finish()
    }

    fn defer_parents_one(&mut self, writer: &TableWriter, row: &[Value], fk: usize) {
        let values: Vec<Value> = writer.outgoing[fk]
            .positions
            .iter()
            .map(|&p| row[p].clone())
            .collect();
        if !values.iter().any(Value::is_null) {
            self.defer(Pending::Parent {
                table: writer.table.id,
                fk,
                values,
            });
        }
    }
}

/// Whether two rows hold equal values everywhere (a re-read row unchanged).
pub(crate) fn same_row(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            _ => equal(x, y),
        })
}
