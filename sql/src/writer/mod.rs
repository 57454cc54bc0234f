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

mod foreign_keys;
mod rows;
mod writers;

use foreign_keys::{ChildLookup, Incoming, Outgoing, ParentLookup};
pub use rows::table_rows;
pub(crate) use writers::Writers;

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

/// Whether two rows hold equal values everywhere (a re-read row unchanged).
pub(crate) fn same_row(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            _ => equal(x, y),
        })
}

fn equal(a: &Value, b: &Value) -> bool {
    compare(a, b) == Some(std::cmp::Ordering::Equal)
}
