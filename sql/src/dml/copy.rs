//! The writing side of `COPY … FROM STDIN` (the parsing side is `crate::copy`): which
//! columns a line fills, and the two ways rows are written — typed rows straight into
//! the table, or text columns through the `INSERT … SELECT` plan when some columns take
//! their defaults.

use std::sync::Arc;

use bytedata_catalog::descriptor::TableDescriptor;
use bytedata_pgtypes::Value;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::sql::sqlparser::ast;

use super::insert::{OnConflictPlan, full_row_plan, insert_bulk, target_positions, write_rows};
use super::target_table;
use crate::context::StatementContext;
use crate::copy::{Load, LoadReceiver};
use crate::error::Result;
use crate::planner::Planner;
use crate::writer::{TableWriter, Writers};

/// The columns of a `COPY … FROM STDIN`, checked against its table.
pub(crate) struct CopyTargets {
    /// Name and type of each field of a line.
    pub columns: Vec<(String, bytedata_pgtypes::DataType)>,
    pub table: TableDescriptor,
    /// The table column (in the codec's order) each field fills.
    pub positions: Vec<usize>,
    /// Columns of a table row, hidden ones included.
    pub row_width: usize,
    /// Where the hidden row id goes, if the table has one.
    pub row_id: Option<usize>,
    /// Whether the fields fill every column but a hidden row id: then no default is
    /// needed and typed rows go straight to the writer.
    pub complete: bool,
}

/// The columns each line of a `COPY … FROM STDIN` into `name` holds (checking the table
/// and the column list).
pub(crate) fn copy_targets(
    planner: &Planner,
    name: &ast::ObjectName,
    columns: &[ast::ObjectName],
) -> Result<CopyTargets> {
    let context = &planner.context;
    let table = target_table(context, name, "copy into")?;
    let mut writers = Writers::new(&context.txn, &planner.state, &context.database.catalog);
    let writer = writers.writer(&table)?;
    let live = writer.codec.columns();
    let positions = target_positions(&table, &writer, columns)?;
    let row_id = live.iter().position(|c| c.hidden);
    let complete = live
        .iter()
        .enumerate()
        .all(|(i, c)| c.hidden || positions.contains(&i));
    Ok(CopyTargets {
        columns: positions
            .iter()
            .map(|&i| (live[i].name.clone(), live[i].data_type.clone()))
            .collect(),
        row_width: live.len(),
        positions,
        row_id,
        complete,
        table,
    })
}

/// Writes rows already in the table's column order, as a plain INSERT writes a batch:
/// CHECKs, NOT NULL, the key and unique indexes (the first violation in row order is the
/// error). Returns how many were written.
pub(crate) fn insert_rows(
    writers: &mut Writers<'_>,
    writer: &TableWriter,
    rows: Vec<Vec<Value>>,
) -> Result<u64> {
    writer.check_rows(&rows)?;
    if !writer.codec.has_unique_index() {
        let mut kept = Vec::new();
        return insert_bulk(
            writers,
            writer,
            rows,
            &OnConflictPlan::Error,
            &mut kept,
            false,
        );
    }
    let mut count = 0;
    for row in rows {
        if let Some(conflict) = writers.insert(writer, &row)? {
            return Err(writer.conflict_error(&conflict, &row));
        }
        count += 1;
    }
    Ok(count)
}

/// Writes the rows of a `COPY … FROM STDIN` that leaves columns out (text columns, one
/// per target column) as `INSERT … SELECT` would: input functions, defaults,
/// constraints, batch by batch.
pub(crate) async fn copy_rows(
    planner: &Planner,
    copy: &crate::copy::CopyIn,
    schema: datafusion::arrow::datatypes::SchemaRef,
    batches: Vec<datafusion::arrow::array::RecordBatch>,
) -> Result<u64> {
    let (context, state, txn) = (&planner.context, &planner.state, planner.txn());
    let table = target_table(context, &copy.table, "copy into")?;
    let catalog = &context.database.catalog;
    let mut writers = Writers::new(txn, state, catalog);
    let writer = writers.writer(&table)?;
    let columns: Vec<ast::ObjectName> = copy
        .columns
        .iter()
        .map(|c| ast::ObjectName::from(vec![c.clone()]))
        .collect();
    let targets = target_positions(&table, &writer, &columns)?;
    let rows = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
    let source = LogicalPlanBuilder::scan(
        "copy_source",
        datafusion::datasource::provider_as_source(Arc::new(rows)),
        None,
    )?
    .build()?;
    let plan = full_row_plan(context, state, &writer, source, &targets, false)?;
    let (count, _) = write_rows(
        state,
        &mut writers,
        &writer,
        plan,
        &OnConflictPlan::Error,
        false,
        &context.input,
    )
    .await?;
    writers.finish()?;
    Ok(count)
}

/// The body of a COPY's loader thread (`copy::CopyLoader`): writes each batch of typed
/// rows into `table` through the statement's writers, assigning the hidden row id (at
/// `row_id`) if the table has one; at `Load::Finish` runs the deferred checks and returns
/// the count. `None` when the channel closed first (the COPY failed).
pub(crate) fn load_rows(
    planner: Planner,
    table: TableDescriptor,
    row_id: Option<usize>,
    mut receiver: LoadReceiver,
) -> Result<Option<u64>> {
    let catalog = &planner.context.database.catalog;
    let mut writers = Writers::new(planner.txn(), &planner.state, catalog);
    let writer = writers.writer(&table)?;
    let mut count = 0u64;
    while let Some(load) = receiver.next() {
        match load {
            Load::Rows(mut rows) => {
                StatementContext::check_interrupt(&planner.state)?;
                if let Some(position) = row_id {
                    for row in &mut rows {
                        debug_assert!(row[position].is_null());
                        row[position] = Value::Int8(catalog.next_row_id(table.id)?);
                    }
                }
                count += insert_rows(&mut writers, &writer, rows)?;
            }
            Load::Finish => {
                writers.finish()?;
                return Ok(Some(count));
            }
        }
    }
    Ok(None)
}
