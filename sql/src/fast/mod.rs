//! The fast path: OLTP point statements run straight against the transaction, beside
//! DataFusion.
//!
//! Planning a point SELECT with DataFusion costs a few hundred microseconds; reading the
//! row costs one. So the shapes an OLTP workload repeats are recognised in the parsed
//! statement (once per prepared statement or cached query text, `recognize`) and run
//! without a plan:
//!
//! - `SELECT col [AS name], … | * FROM t WHERE <every primary-key column> = v [AND …]`
//! - `UPDATE t SET col = v | col ± v, … WHERE <every primary-key column> = v …`
//! - `DELETE FROM t WHERE <every primary-key column> = v …`
//! - `INSERT INTO t [(cols)] VALUES (v, …), …`
//!
//! where `v` is a parameter, a literal, NULL or `now()`/`CURRENT_TIMESTAMP`; and
//! single-table queries over key prefixes, ranges, IN lists and index look-ups, with
//! filters, aggregates, grouping, ordering and limits (`query`).
//!
//! The rule that keeps the two paths' answers identical: the fast path *declines* (and the
//! general path runs the statement from the start) whenever anything is not plainly what
//! it handles — a table that is a view, a system table or in a foreign key, a column it
//! does not find, a value whose conversion is not exact, a column default other than
//! NULL, an arithmetic overflow. It declines only before it writes, so the general path
//! starts from a clean statement; errors it raises itself are those of the shared
//! writer (unique, NOT NULL and CHECK violations), with the general path's words.
//!
//! Reads and locks follow `dml::modify`: the row is found at the statement's snapshot,
//! then locked, and the new values are computed from its latest version (READ COMMITTED)
//! or the lock fails if it changed (higher levels).

mod eval;
pub(crate) mod query;
mod recognize;
pub(crate) mod tables;

use std::sync::Arc;

use bytedata_catalog::Catalog;
use bytedata_catalog::descriptor::Identity;
use bytedata_mvcc::Transaction;
use bytedata_pgtypes::Value;
use datafusion::arrow::datatypes::Schema;

pub(crate) use eval::Inputs;
pub(crate) use recognize::recognize;

use crate::bridge::field;
use crate::bridge::values_batch;
use crate::context::result::{QueryResult, Rows, ValueRows};
use crate::error::Result;
use crate::writer::{TableWriter, Writers};

/// The statement leaves the fast path for the general one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decline;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

/// A constant or a parameter.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    /// `$n`, zero-based.
    Param(usize),
    /// An integer literal's digits (with its sign).
    Number(String),
    Text(String),
    Bool(bool),
    Null,
    /// `now()`, `CURRENT_TIMESTAMP`.
    Now,
}

#[derive(Clone, Debug)]
pub(crate) enum ValueExpr {
    Operand(Operand),
    /// `column ± operand`.
    Arithmetic {
        column: String,
        subtract: bool,
        operand: Operand,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Assignment {
    pub column: String,
    pub value: ValueExpr,
}

#[derive(Clone, Debug)]
pub(crate) enum Output {
    /// `*`: the visible columns.
    All,
    Column {
        name: String,
        output: String,
    },
}

/// A statement the fast path recognised.
#[derive(Clone, Debug)]
pub(crate) enum Shape {
    Get {
        table: TableName,
        outputs: Vec<Output>,
        key: Vec<(String, Operand)>,
        /// The same statement as a query, for when the equalities are not a whole key.
        query: Option<Box<query::QueryShape>>,
    },
    Query(Box<query::QueryShape>),
    Update {
        table: TableName,
        assignments: Vec<Assignment>,
        key: Vec<(String, Operand)>,
    },
    Delete {
        table: TableName,
        key: Vec<(String, Operand)>,
    },
    Insert {
        table: TableName,
        /// Empty: the visible columns in order.
        columns: Vec<String>,
        rows: Vec<Vec<Operand>>,
    },
}

impl Shape {
    pub fn table(&self) -> &TableName {
        match self {
            Shape::Get { table, .. }
            | Shape::Update { table, .. }
            | Shape::Delete { table, .. }
            | Shape::Insert { table, .. } => table,
            Shape::Query(query) => &query.table,
        }
    }
}

/// What a fast statement came to.
pub(crate) type Outcome = std::result::Result<QueryResult, Decline>;

/// The position among the live columns of a visible column.
fn visible_position(writer: &TableWriter, name: &str) -> std::result::Result<usize, Decline> {
    writer
        .codec
        .columns()
        .iter()
        .position(|c| !c.hidden && c.name == name)
        .ok_or(Decline)
}

/// The primary key the equalities name, if they name every key column exactly once.
fn point_key(
    writer: &TableWriter,
    key: &[(String, Operand)],
    inputs: &Inputs,
) -> std::result::Result<Vec<u8>, Decline> {
    if writer.table.has_hidden_row_id() {
        return Err(Decline);
    }
    let positions: Vec<usize> = writer.codec.key_positions().collect();
    if positions.len() != key.len() {
        return Err(Decline);
    }
    let columns = writer.codec.columns();
    let mut values = Vec::with_capacity(positions.len());
    for position in positions {
        let column = &columns[position];
        let (_, operand) = key
            .iter()
            .find(|(name, _)| *name == column.name)
            .ok_or(Decline)?;
        values.push(eval::key_value(operand, &column.data_type, inputs)?);
    }
    writer.codec.encode_key_prefix(&values).map_err(|_| Decline)
}

/// Whether every lock the statement may find held comes before its first write, so that
/// refusing a held lock (`Transaction::no_wait_scope`) leaves nothing to undo.
///
/// A row's own key is locked first; an inserted row's unique index entries are probed
/// (locked) before it is written, and a non-unique entry ends in the row's key, which
/// only the row's lock holder writes. But removing a unique entry locks it after the row
/// was written, and a concurrent insert that probed the same value may hold it; and a
/// second inserted row is locked after the first was written.
pub(crate) fn locks_before_writing(shape: &Shape, writer: &TableWriter) -> bool {
    match shape {
        Shape::Get { .. } | Shape::Query(_) => true,
        Shape::Insert { rows, .. } => rows.len() == 1,
        Shape::Update { .. } | Shape::Delete { .. } => !writer.codec.has_unique_index(),
    }
}

/// Runs a recognised statement on its table (resolved by the caller) in `txn`.
pub(crate) fn execute(
    shape: &Shape,
    writer: &Arc<TableWriter>,
    catalog: &Catalog,
    txn: &Transaction,
    inputs: &Inputs,
) -> Result<Outcome> {
    match shape {
        Shape::Get {
            outputs,
            key,
            query,
            ..
        } => match (get(writer, outputs, key, txn, inputs)?, query) {
            (Err(Decline), Some(query)) => query::execute(query, writer, txn, inputs),
            (outcome, _) => Ok(outcome),
        },
        Shape::Query(query) => query::execute(query, writer, txn, inputs),
        Shape::Update {
            assignments, key, ..
        } => update(writer, assignments, key, catalog, txn, inputs),
        Shape::Delete { key, .. } => delete(writer, key, catalog, txn, inputs),
        Shape::Insert { columns, rows, .. } => insert(writer, columns, rows, catalog, txn, inputs),
    }
}

macro_rules! declined {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(Decline) => return Ok(Err(Decline)),
        }
    };
}

fn get(
    writer: &TableWriter,
    outputs: &[Output],
    key: &[(String, Operand)],
    txn: &Transaction,
    inputs: &Inputs,
) -> Result<Outcome> {
    let columns = writer.codec.columns();
    let mut selected: Vec<(usize, &str)> = Vec::with_capacity(outputs.len());
    for output in outputs {
        match output {
            Output::All => selected.extend(
                columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.hidden)
                    .map(|(i, c)| (i, c.name.as_str())),
            ),
            Output::Column { name, output } => {
                selected.push((declined!(visible_position(writer, name)), output.as_str()));
            }
        }
    }
    let key = declined!(point_key(writer, key, inputs));
    let row = txn.get_with(&key, |stored| {
        stored.map(|stored| writer.codec.decode(&key, stored))
    })?;
    let row = row.transpose()?;
    let fields = selected
        .iter()
        .map(|(position, output)| {
            let column = &columns[*position];
            field(output, &column.data_type, column.nullable)
        })
        .collect();
    let types = selected
        .iter()
        .map(|(position, _)| columns[*position].data_type.clone())
        .collect();
    let values: Vec<Vec<Value>> = row
        .into_iter()
        .map(|row| {
            selected
                .iter()
                .map(|(position, _)| row[*position].clone())
                .collect()
        })
        .collect();
    rows_outcome(fields, types, values)
}

/// A query's result from its columns and rows of values: kept as values when the wire can
/// send them so (`ValueRows`), else as one Arrow batch.
fn rows_outcome(
    fields: Vec<datafusion::arrow::datatypes::Field>,
    types: Vec<bytedata_pgtypes::DataType>,
    values: Vec<Vec<Value>>,
) -> Result<Outcome> {
    let schema = Arc::new(Schema::new(fields));
    let rows = match ValueRows::new(schema.clone(), types, values) {
        Ok(values) => Rows::Values(values),
        Err((types, values)) => Rows::Batches(vec![values_batch(schema.clone(), &types, &values)?]),
    };
    Ok(Ok(QueryResult::Rows {
        schema,
        rows,
        tag: None,
    }))
}

/// The row at `key` as the statement's snapshot sees it, locked and in its latest
/// version (see `dml::modify`), or `None` if there is none.
fn locked_row(writer: &TableWriter, key: &[u8], txn: &Transaction) -> Result<Option<Vec<Value>>> {
    if !txn.get_with(key, |stored| stored.is_some())? {
        return Ok(None);
    }
    match txn.lock(key)? {
        None => Ok(None), // deleted by a concurrent commit
        Some(stored) => Ok(Some(writer.codec.decode(key, &stored)?)),
    }
}

fn update(
    writer: &Arc<TableWriter>,
    assignments: &[Assignment],
    key: &[(String, Operand)],
    catalog: &Catalog,
    txn: &Transaction,
    inputs: &Inputs,
) -> Result<Outcome> {
    let columns = writer.codec.columns();
    let mut targets = Vec::with_capacity(assignments.len());
    for assignment in assignments {
        let position = declined!(visible_position(writer, &assignment.column));
        if let Some(Identity::Always { .. }) = columns[position].identity {
            return Ok(Err(Decline));
        }
        let source = match &assignment.value {
            ValueExpr::Operand(_) => None,
            ValueExpr::Arithmetic { column, .. } => {
                Some(declined!(visible_position(writer, column)))
            }
        };
        targets.push((position, source));
    }
    let key = declined!(point_key(writer, key, inputs));
    let Some(old) = locked_row(writer, &key, txn)? else {
        return Ok(Ok(QueryResult::command("UPDATE 0")));
    };
    let mut new = old.clone();
    for (assignment, (position, source)) in assignments.iter().zip(&targets) {
        let ty = &columns[*position].data_type;
        new[*position] = match (&assignment.value, source) {
            (ValueExpr::Operand(operand), _) => declined!(eval::store_value(operand, ty, inputs)),
            (
                ValueExpr::Arithmetic {
                    subtract, operand, ..
                },
                Some(source),
            ) => {
                if columns[*source].data_type != *ty {
                    return Ok(Err(Decline));
                }
                declined!(eval::arithmetic(
                    &old[*source],
                    ty,
                    *subtract,
                    operand,
                    inputs
                ))
            }
            (ValueExpr::Arithmetic { .. }, None) => return Ok(Err(Decline)),
        };
    }
    writer.check_rows(std::slice::from_ref(&new))?;
    let mut writers = Writers::with_writer(txn, catalog, writer.clone());
    writers.update(writer, &old, &new)?;
    writers.finish()?;
    Ok(Ok(QueryResult::command("UPDATE 1")))
}

fn delete(
    writer: &Arc<TableWriter>,
    key: &[(String, Operand)],
    catalog: &Catalog,
    txn: &Transaction,
    inputs: &Inputs,
) -> Result<Outcome> {
    let key = declined!(point_key(writer, key, inputs));
    let Some(old) = locked_row(writer, &key, txn)? else {
        return Ok(Ok(QueryResult::command("DELETE 0")));
    };
    let mut writers = Writers::with_writer(txn, catalog, writer.clone());
    writers.delete(writer, &old)?;
    writers.finish()?;
    Ok(Ok(QueryResult::command("DELETE 1")))
}

fn insert(
    writer: &Arc<TableWriter>,
    names: &[String],
    rows: &[Vec<Operand>],
    catalog: &Catalog,
    txn: &Transaction,
    inputs: &Inputs,
) -> Result<Outcome> {
    let columns = writer.codec.columns();
    let targets: Vec<usize> = if names.is_empty() {
        let visible = columns.iter().enumerate().filter(|(_, c)| !c.hidden);
        visible.map(|(i, _)| i).collect()
    } else {
        let positions = names.iter().map(|name| visible_position(writer, name));
        declined!(positions.collect::<std::result::Result<_, _>>())
    };
    let width = rows.first().map_or(0, Vec::len);
    if width > targets.len() {
        return Ok(Err(Decline));
    }
    let targets = &targets[..width];
    // Every column the statement does not give must default to NULL (or be the hidden
    // row id); an identity column given a value must allow it.
    for (position, column) in columns.iter().enumerate() {
        let given = targets.contains(&position);
        match (&column.identity, given) {
            (Some(Identity::Always { .. }), true) => return Ok(Err(Decline)),
            (Some(_), false) => return Ok(Err(Decline)),
            _ => {}
        }
        if !given && !column.hidden && column.default.is_some() {
            return Ok(Err(Decline));
        }
    }
    let hidden = columns.iter().position(|c| c.hidden);
    let mut full_rows = Vec::with_capacity(rows.len());
    for row in rows {
        let mut full = vec![Value::Null; columns.len()];
        for (operand, &position) in row.iter().zip(targets) {
            full[position] = declined!(eval::store_value(
                operand,
                &columns[position].data_type,
                inputs
            ));
        }
        full_rows.push(full);
    }
    // Row ids are drawn only once nothing can decline: a declined statement draws its own.
    if let Some(hidden) = hidden {
        for full in &mut full_rows {
            full[hidden] = Value::Int8(catalog.next_row_id(writer.table.id)?);
        }
    }
    writer.check_rows(&full_rows)?;
    let mut writers = Writers::with_writer(txn, catalog, writer.clone());
    for row in &full_rows {
        if let Some(conflict) = writers.insert(writer, row)? {
            return Err(writer.conflict_error(&conflict, row));
        }
    }
    writers.finish()?;
    Ok(Ok(QueryResult::command(format!(
        "INSERT 0 {}",
        full_rows.len()
    ))))
}
