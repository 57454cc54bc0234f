//! INSERT: VALUES or a query, column lists, DEFAULT, identity and serial columns,
//! ON CONFLICT DO NOTHING / DO UPDATE, RETURNING.

use std::collections::HashSet;
use std::sync::Arc;

use bytedata_catalog::descriptor::{Identity, TableDescriptor};
use bytedata_pgtypes::Value;
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::{DFSchema, TableReference};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{
    self, ConflictTarget, Insert, OnConflictAction, OnInsert, SetExpr,
};
use futures::StreamExt;

use super::{batch_rows, default_of, target_table};
use crate::bridge::{ColumnBuilder, finish_column, value_at};
use crate::bridge::{arrow_type, field};
use crate::context::StatementContext;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::planner::Planner;
use crate::syntax::sql_text::is_default_keyword;
use crate::syntax::{ident_name, object_name};
use crate::writer::{Conflict, TableWriter, Writers};

/// What to do with a row that violates a unique constraint.
pub(super) enum OnConflictPlan {
    Error,
    /// Skip it; `None` skips conflicts on any constraint.
    Nothing(Option<ConflictOn>),
    Update(ConflictOn, UpsertPlan),
}

/// The constraint an ON CONFLICT names: the primary key or a unique index (position).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ConflictOn {
    Primary,
    Unique(usize),
}

fn matches_target(conflict: &Conflict, target: ConflictOn) -> bool {
    match (conflict, target) {
        (Conflict::Primary { .. }, ConflictOn::Primary) => true,
        (Conflict::Unique { index, .. }, ConflictOn::Unique(wanted)) => *index == wanted,
        _ => false,
    }
}

/// DO UPDATE SET …: expressions over the existing row (qualified by the table's name or
/// alias) and `excluded`, compiled once.
pub(super) struct UpsertPlan {
    /// (position among live columns, the new value cast to the column's type)
    assignments: Vec<(usize, Arc<dyn PhysicalExpr>)>,
    selection: Option<Arc<dyn PhysicalExpr>>,
    schema: Arc<Schema>,
}

fn conflict_target(writer: &TableWriter, target: &ConflictTarget) -> Result<ConflictOn> {
    let table = &writer.table;
    let no_match = || {
        SqlError::new(
            "42P10",
            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        )
    };
    match target {
        ConflictTarget::Columns(columns) => {
            let ids: HashSet<u32> = columns
                .iter()
                .map(|c| {
                    let name = ident_name(c);
                    table
                        .column(&name)
                        .map(|c| c.id)
                        .ok_or_else(|| SqlError::undefined_column(&name))
                })
                .collect::<Result<_>>()?;
            let same = |keys: &[bytedata_catalog::descriptor::KeyColumn]| {
                keys.len() == ids.len() && keys.iter().all(|k| ids.contains(&k.column))
            };
            if !table.has_hidden_row_id() && same(&table.primary_key.columns) {
                return Ok(ConflictOn::Primary);
            }
            writer
                .codec
                .indexes()
                .iter()
                .position(|i| i.descriptor.unique && same(&i.descriptor.columns))
                .map(ConflictOn::Unique)
                .ok_or_else(no_match)
        }
        ConflictTarget::OnConstraint(name) => {
            let (_, name) = object_name(name)?;
            if !table.has_hidden_row_id() && table.primary_key.name == name {
                return Ok(ConflictOn::Primary);
            }
            writer
                .codec
                .indexes()
                .iter()
                .position(|i| i.descriptor.unique && i.descriptor.name == name)
                .map(ConflictOn::Unique)
                .ok_or_else(|| {
                    SqlError::new(
                        "42704",
                        format!(
                            "constraint \"{name}\" for table \"{}\" does not exist",
                            table.name
                        ),
                    )
                })
        }
    }
}

/// Compiles DO UPDATE's assignments and WHERE against `<qualifier>.*` and `excluded.*`.
fn upsert_plan(
    context: &StatementContext,
    state: &SessionState,
    writer: &TableWriter,
    qualifier: &str,
    update: &ast::DoUpdate,
) -> Result<UpsertPlan> {
    let columns = writer.codec.columns();
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| field(&c.name, &c.data_type, true))
        .collect();
    let mut qualified: Vec<(Option<TableReference>, Arc<Field>)> = fields
        .iter()
        .map(|f| (Some(TableReference::bare(qualifier)), Arc::new(f.clone())))
        .collect();
    qualified.extend(
        fields
            .iter()
            .map(|f| (Some(TableReference::bare("excluded")), Arc::new(f.clone()))),
    );
    let df_schema = DFSchema::new_with_metadata(qualified, Default::default())?;
    let schema = Arc::new(Schema::new(
        fields
            .iter()
            .chain(fields.iter())
            .cloned()
            .collect::<Vec<_>>(),
    ));
    let plan_expr = |expr: &ast::Expr| -> Result<Expr> {
        Ok(state.create_logical_expr_from_sql_expr(
            datafusion::sql::sqlparser::ast::ExprWithAlias {
                expr: expr.clone(),
                alias: None,
            },
            &df_schema,
        )?)
    };
    let mut assignments = Vec::new();
    let mut seen = HashSet::new();
    for assignment in &update.assignments {
        for (name, value) in assignment_pairs(assignment)? {
            let position = columns
                .iter()
                .position(|c| !c.hidden && c.name == name)
                .ok_or_else(|| {
                    SqlError::new(
                        "42703",
                        format!(
                            "column \"{name}\" of relation \"{}\" does not exist",
                            writer.table.name
                        ),
                    )
                })?;
            if !seen.insert(position) {
                return Err(SqlError::new(
                    "42601",
                    format!("multiple assignments to same column \"{name}\""),
                ));
            }
            let value = if is_default_keyword(&value) {
                default_of(context, &columns[position])?
            } else {
                value
            };
            let expr = cast(plan_expr(&value)?, arrow_type(&columns[position].data_type));
            assignments.push((position, state.create_physical_expr(expr, &df_schema)?));
        }
    }
    let selection = update
        .selection
        .as_ref()
        .map(|s| plan_expr(s).and_then(|e| Ok(state.create_physical_expr(e, &df_schema)?)))
        .transpose()?;
    Ok(UpsertPlan {
        assignments,
        selection,
        schema,
    })
}

/// `SET a = 1` and `SET (a, b) = (1, 2)` as (column, value) pairs.
pub(crate) fn assignment_pairs(assignment: &ast::Assignment) -> Result<Vec<(String, ast::Expr)>> {
    let last = |name: &ast::ObjectName| -> Result<String> {
        name.0
            .last()
            .and_then(|p| p.as_ident())
            .map(ident_name)
            .ok_or_else(|| SqlError::syntax(format!("syntax error at or near \"{name}\"")))
    };
    match &assignment.target {
        ast::AssignmentTarget::ColumnName(name) => {
            Ok(vec![(last(name)?, assignment.value.clone())])
        }
        ast::AssignmentTarget::Tuple(names) => {
            let values = match &assignment.value {
                ast::Expr::Tuple(values) => values.clone(),
                ast::Expr::Nested(value) if names.len() == 1 => vec![(**value).clone()],
                ast::Expr::Subquery(query) => column_subqueries(query)?,
                _ => return Err(SqlError::unsupported("SET (…) = this expression")),
            };
            if values.len() != names.len() {
                return Err(SqlError::new(
                    "42601",
                    "number of columns does not match number of values",
                ));
            }
            names
                .iter()
                .zip(values)
                .map(|(n, v)| Ok((last(n)?, v)))
                .collect()
        }
    }
}

/// `SET (a, b) = (SELECT x, y …)` as `a = (SELECT x …)`, `b = (SELECT y …)`: one scalar
/// subquery per column, each failing as PostgreSQL's does on more than one row and
/// giving NULL on none. The query runs once per column, so a volatile select list (say
/// `random()`) is evaluated separately for each.
fn column_subqueries(query: &ast::Query) -> Result<Vec<ast::Expr>> {
    let ast::SetExpr::Select(select) = query.body.as_ref() else {
        return Err(SqlError::unsupported(
            "SET (…) = (sub-SELECT) over a set operation",
        ));
    };
    select
        .projection
        .iter()
        .map(|item| match item {
            ast::SelectItem::UnnamedExpr(_) | ast::SelectItem::ExprWithAlias { .. } => {
                let mut single = query.clone();
                if let ast::SetExpr::Select(select) = single.body.as_mut() {
                    select.projection = vec![item.clone()];
                }
                Ok(ast::Expr::Subquery(Box::new(single)))
            }
            _ => Err(SqlError::unsupported("SET (…) = (SELECT * …)")),
        })
        .collect()
}

/// Where the VALUES or query columns go: positions among the live columns.
pub(super) fn target_positions(
    table: &TableDescriptor,
    writer: &TableWriter,
    columns: &[ast::ObjectName],
) -> Result<Vec<usize>> {
    let live = writer.codec.columns();
    if columns.is_empty() {
        return Ok(live
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.hidden)
            .map(|(i, _)| i)
            .collect());
    }
    let mut positions = Vec::with_capacity(columns.len());
    for name in columns {
        let name = name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(ident_name)
            .unwrap_or_default();
        let position = live
            .iter()
            .position(|c| !c.hidden && c.name == name)
            .ok_or_else(|| {
                SqlError::new(
                    "42703",
                    format!(
                        "column \"{name}\" of relation \"{}\" does not exist",
                        table.name
                    ),
                )
            })?;
        if positions.contains(&position) {
            return Err(SqlError::new(
                "42701",
                format!("column \"{name}\" specified more than once"),
            ));
        }
        positions.push(position);
    }
    Ok(positions)
}

/// Replaces DEFAULT in VALUES rows by the column's default, and checks the row widths.
fn fill_values(
    context: &StatementContext,
    writer: &TableWriter,
    values: &mut ast::Values,
    targets: &mut Vec<usize>,
    explicit: bool,
) -> Result<()> {
    let width = values.rows.first().map_or(0, |row| row.content.len());
    if values.rows.iter().any(|row| row.content.len() != width) {
        return Err(SqlError::new(
            "42601",
            "VALUES lists must all be the same length",
        ));
    }
    if width > targets.len() {
        return Err(SqlError::new(
            "42601",
            "INSERT has more expressions than target columns",
        ));
    }
    if width < targets.len() {
        if explicit {
            return Err(SqlError::new(
                "42601",
                "INSERT has more target columns than expressions",
            ));
        }
        targets.truncate(width);
    }
    let columns = writer.codec.columns();
    // Only columns with a quoted literal are cast; then every row of the column is, so
    // the rows agree on one type.
    let casts: Vec<Option<ast::Expr>> = targets
        .iter()
        .enumerate()
        .map(|(i, &position)| {
            let quoted = values
                .rows
                .iter()
                .any(|row| row.content.get(i).is_some_and(is_quoted_literal));
            if quoted {
                literal_cast(&columns[position].data_type)
            } else {
                None
            }
        })
        .collect();
    for row in &mut values.rows {
        for ((cell, &position), cast) in row.content.iter_mut().zip(targets.iter()).zip(&casts) {
            let column = &columns[position];
            if is_default_keyword(cell) {
                *cell = default_of(context, column)?;
            } else if let Some(Identity::Always { .. }) = column.identity {
                return Err(identity_always(&column.name));
            }
            if let Some(cast) = cast {
                let mut typed = cast.clone();
                if let ast::Expr::Cast { expr, .. } = &mut typed {
                    **expr = cell.clone();
                }
                *cell = typed;
            }
        }
    }
    Ok(())
}

fn is_quoted_literal(cell: &ast::Expr) -> bool {
    matches!(
        cell,
        ast::Expr::Value(value) if matches!(
            value.value,
            ast::Value::SingleQuotedString(_) | ast::Value::EscapedStringLiteral(_)
        )
    )
}

/// A quoted literal in INSERT's VALUES is read as its target column's type, as in
/// PostgreSQL (`'x'` into an integer column fails as integer input, whatever the other
/// rows hold). This is the cast expression to wrap the column's values in (its operand a
/// placeholder NULL); `None` for text columns, which keep the literal: an assignment to
/// `varchar(n)` checks the length where a cast would cut.
fn literal_cast(data_type: &bytedata_pgtypes::DataType) -> Option<ast::Expr> {
    use bytedata_pgtypes::DataType as T;
    if matches!(data_type, T::Text | T::Varchar(_) | T::Char(_) | T::Name) {
        return None;
    }
    let sql = format!("SELECT CAST(NULL AS {})", data_type.display_name());
    let ast::Statement::Query(query) = crate::syntax::parse(&sql).ok()?.pop()? else {
        return None;
    };
    let ast::SetExpr::Select(select) = *query.body else {
        return None;
    };
    match select.projection.into_iter().next()? {
        ast::SelectItem::UnnamedExpr(cast @ ast::Expr::Cast { .. }) => Some(cast),
        _ => None,
    }
}

fn identity_always(column: &str) -> SqlError {
    SqlError::new(
        "428C9",
        format!("cannot insert a non-DEFAULT value into column \"{column}\""),
    )
    .with_detail(format!(
        "Column \"{column}\" is an identity column defined as GENERATED ALWAYS."
    ))
    .with_hint("Use OVERRIDING SYSTEM VALUE to override.")
}

/// The plan giving every live column of the table from the source's columns (at
/// `targets`): casts, defaults, sequence values and row ids. `explicit_values`: the
/// source's values were given by the statement (not VALUES with DEFAULT replaced), so a
/// GENERATED ALWAYS column may not be among the targets.
pub(super) fn full_row_plan(
    context: &StatementContext,
    state: &SessionState,
    writer: &TableWriter,
    source: LogicalPlan,
    targets: &[usize],
    explicit_values: bool,
) -> Result<LogicalPlan> {
    let source_fields: Vec<Expr> = source
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    if source_fields.len() > targets.len() {
        return Err(SqlError::new(
            "42601",
            "INSERT has more expressions than target columns",
        ));
    }
    let empty = DFSchema::empty();
    let mut exprs = Vec::with_capacity(writer.codec.columns().len());
    for (position, column) in writer.codec.columns().iter().enumerate() {
        let ty = arrow_type(&column.data_type);
        let expr = if let Some(j) = targets
            .iter()
            .position(|&t| t == position)
            .filter(|&j| j < source_fields.len())
        {
            if explicit_values && matches!(column.identity, Some(Identity::Always { .. })) {
                return Err(identity_always(&column.name));
            }
            source_fields[j].clone()
        } else if column.hidden {
            Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
                state
                    .scalar_functions()
                    .get("bytedata_next_rowid")
                    .cloned()
                    .ok_or_else(|| SqlError::internal("row id function is missing"))?,
                vec![lit(i64::from(writer.table.id))],
            ))
        } else {
            let default = default_of(context, column)?;
            state.create_logical_expr_from_sql_expr(
                ast::ExprWithAlias {
                    expr: default,
                    alias: None,
                },
                &empty,
            )?
        };
        let _ = ty;
        let expr = super::store_cast(
            expr.clone(),
            &expr.get_type(source.schema())?,
            &column.data_type,
            &column.name,
        )?;
        exprs.push(expr.alias(format!("c{position}")));
    }
    Ok(LogicalPlanBuilder::from(source).project(exprs)?.build()?)
}

pub async fn insert(
    planner: &Planner,
    insert: Insert,
    params: &[ScalarValue],
) -> Result<QueryResult> {
    if insert.replace_into || insert.or.is_some() || insert.ignore || !insert.assignments.is_empty()
    {
        return Err(SqlError::unsupported("this form of INSERT"));
    }
    let ast::TableObject::TableName(name) = &insert.table else {
        return Err(SqlError::unsupported("INSERT INTO a table function"));
    };
    let (context, state, txn) = (&planner.context, &planner.state, planner.txn());
    let table = target_table(context, name, "insert into")?;
    let catalog = &context.database.catalog;
    let mut writers = Writers::new(txn, state, catalog);
    let writer = writers.writer(&table)?;
    let explicit = !insert.columns.is_empty();
    let mut targets = target_positions(&table, &writer, &insert.columns)?;
    let mut explicit_values = false;
    let source = match insert.source {
        None => {
            targets.clear();
            LogicalPlanBuilder::empty(true).build()?
        }
        Some(mut query) => {
            match query.body.as_mut() {
                SetExpr::Values(values) => {
                    fill_values(context, &writer, values, &mut targets, explicit)?
                }
                _ => explicit_values = true,
            }
            let plan = planner
                .plan_query(ast::Statement::Query(query), params)
                .await?;
            let width = plan.schema().fields().len();
            if width < targets.len() {
                if explicit {
                    return Err(SqlError::new(
                        "42601",
                        "INSERT has more target columns than expressions",
                    ));
                }
                targets.truncate(width);
            }
            plan
        }
    };
    let qualifier = insert
        .table_alias
        .as_ref()
        .map_or_else(|| table.name.clone(), |a| ident_name(&a.alias));
    let on_conflict = match &insert.on {
        None => OnConflictPlan::Error,
        Some(OnInsert::OnConflict(on)) => {
            let target = on
                .conflict_target
                .as_ref()
                .map(|t| conflict_target(&writer, t))
                .transpose()?;
            match &on.action {
                OnConflictAction::DoNothing => OnConflictPlan::Nothing(target),
                OnConflictAction::DoUpdate(update) => {
                    let target = target.ok_or_else(|| {
                        SqlError::new("42601", "ON CONFLICT DO UPDATE requires inference specification or constraint name")
                            .with_hint("For example, ON CONFLICT (column_name).")
                    })?;
                    OnConflictPlan::Update(
                        target,
                        upsert_plan(context, state, &writer, &qualifier, update)?,
                    )
                }
            }
        }
        Some(_) => return Err(SqlError::unsupported("ON DUPLICATE KEY UPDATE")),
    };
    let plan = full_row_plan(context, state, &writer, source, &targets, explicit_values)?;
    let returning = insert.returning.is_some();
    let (count, rows) = write_rows(
        state,
        &mut writers,
        &writer,
        plan,
        &on_conflict,
        returning,
        &context.input,
    )
    .await?;
    writers.finish()?;
    let tag = format!("INSERT 0 {count}");
    super::returning::returning(
        planner,
        &table,
        Some(&qualifier),
        insert.returning,
        rows,
        params,
        tag,
    )
    .await
}

/// Runs the full-row plan and writes what it yields. Returns the count and, if asked,
/// the rows written.
pub(super) async fn write_rows(
    state: &SessionState,
    writers: &mut Writers<'_>,
    writer: &Arc<TableWriter>,
    plan: LogicalPlan,
    on_conflict: &OnConflictPlan,
    keep_rows: bool,
    options: &bytedata_pgtypes::InputOptions,
) -> Result<(u64, Vec<Vec<Value>>)> {
    let physical = crate::planner::checked::physical_plan(state, &plan).await?;
    let mut stream = datafusion::physical_plan::execute_stream(physical, state.task_ctx())?;
    let mut count = 0u64;
    let mut kept = Vec::new();
    // Keys this statement inserted or updated: DO UPDATE may not touch a row twice.
    let mut touched: HashSet<Bytes> = HashSet::new();
    let columns = writer.codec.columns().to_vec();
    // Rows of a table whose only unique constraint is the primary key go in batch by
    // batch, unless DO UPDATE may change a row that a later one then meets.
    let bulk =
        !writer.codec.has_unique_index() && !matches!(on_conflict, OnConflictPlan::Update(..));
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        crate::context::StatementContext::check_interrupt(state)?;
        let rows = batch_rows(&batch, &columns, 0, options)?;
        writer.check_rows(&rows)?;
        if bulk {
            count += insert_bulk(writers, writer, rows, on_conflict, &mut kept, keep_rows)?;
            continue;
        }
        for row in rows {
            let conflict = match writers.insert(writer, &row)? {
                None => {
                    count += 1;
                    if matches!(on_conflict, OnConflictPlan::Update(..)) {
                        touched.insert(Bytes::from(writer.codec.encode_key(&row)?));
                    }
                    if keep_rows {
                        kept.push(row);
                    }
                    continue;
                }
                Some(conflict) => conflict,
            };
            match on_conflict {
                OnConflictPlan::Error => return Err(writer.conflict_error(&conflict, &row)),
                OnConflictPlan::Nothing(None) => {}
                OnConflictPlan::Nothing(Some(target)) if matches_target(&conflict, *target) => {}
                OnConflictPlan::Update(target, plan) if matches_target(&conflict, *target) => {
                    let key = match &conflict {
                        Conflict::Primary { key } | Conflict::Unique { key, .. } => key.clone(),
                    };
                    if !touched.insert(key.clone()) {
                        return Err(SqlError::new("21000", "ON CONFLICT DO UPDATE command cannot affect row a second time")
                            .with_hint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values."));
                    }
                    let stored = writers.txn.lock(&key)?.ok_or_else(|| {
                        SqlError::new(
                            "40001",
                            "could not serialize access due to concurrent delete",
                        )
                    })?;
                    let existing = writer.codec.decode(&key, &stored)?;
                    if let Some(updated) = upsert_row(plan, writer, &existing, &row)? {
                        writer.check_rows(std::slice::from_ref(&updated))?;
                        writers.update(writer, &existing, &updated)?;
                        count += 1;
                        if keep_rows {
                            kept.push(updated);
                        }
                    }
                }
                _ => return Err(writer.conflict_error(&conflict, &row)),
            }
        }
    }
    Ok((count, kept))
}

/// Writes one batch of rows through `Writers::insert_many`, with the outcome `insert`
/// row after row would have: the first error in row order wins, whether a NOT NULL
/// violation or a taken key. Returns the number of rows written.
pub(super) fn insert_bulk(
    writers: &mut Writers<'_>,
    writer: &TableWriter,
    mut rows: Vec<Vec<Value>>,
    on_conflict: &OnConflictPlan,
    kept: &mut Vec<Vec<Value>>,
    keep_rows: bool,
) -> Result<u64> {
    let null_at = rows
        .iter()
        .position(|row| writer.check_not_null(row).is_err());
    let checked = null_at.unwrap_or(rows.len());
    let refused = writers.insert_many(writer, &rows[..checked])?;
    if let Some(&first) = refused.first() {
        let conflict = Conflict::Primary {
            key: Bytes::from(writer.codec.encode_key(&rows[first])?),
        };
        let ignored = match on_conflict {
            OnConflictPlan::Nothing(None) => true,
            OnConflictPlan::Nothing(Some(target)) => matches_target(&conflict, *target),
            OnConflictPlan::Error | OnConflictPlan::Update(..) => false,
        };
        if !ignored {
            return Err(writer.conflict_error(&conflict, &rows[first]));
        }
    }
    if let Some(row) = null_at {
        writer.check_not_null(&rows[row])?;
    }
    let written = checked - refused.len();
    if keep_rows {
        rows.truncate(checked);
        let mut next_refused = refused.iter().copied().peekable();
        let mut position = 0;
        rows.retain(|_| {
            let keep = next_refused.next_if_eq(&position).is_none();
            position += 1;
            keep
        });
        kept.append(&mut rows);
    }
    Ok(written as u64)
}

/// The row DO UPDATE makes of an existing row and the proposed one, or `None` when its
/// WHERE rejects it.
fn upsert_row(
    plan: &UpsertPlan,
    writer: &TableWriter,
    existing: &[Value],
    proposed: &[Value],
) -> Result<Option<Vec<Value>>> {
    let columns = writer.codec.columns();
    let mut arrays = Vec::with_capacity(columns.len() * 2);
    for row in [existing, proposed] {
        for (column, value) in columns.iter().zip(row) {
            let mut builder = ColumnBuilder::new(&column.data_type, 1);
            builder.append(value)?;
            arrays.push(finish_column(&mut builder));
        }
    }
    let batch = RecordBatch::try_new(plan.schema.clone(), arrays)?;
    if let Some(selection) = &plan.selection {
        let keep = selection.evaluate(&batch)?.into_array(1)?;
        let keep = datafusion::arrow::array::AsArray::as_boolean_opt(&keep)
            .ok_or_else(|| SqlError::new("42804", "argument of WHERE must be type boolean"))?;
        if !(datafusion::arrow::array::Array::is_valid(keep, 0) && keep.value(0)) {
            return Ok(None);
        }
    }
    let mut updated = existing.to_vec();
    for (position, expr) in &plan.assignments {
        let value = expr.evaluate(&batch)?.into_array(1)?;
        updated[*position] = value_at(&value, 0, &columns[*position].data_type)?;
    }
    Ok(Some(updated))
}

/// Inserts the rows of a planned query into a new table (CREATE TABLE … AS).
pub(crate) async fn insert_plan(
    planner: &Planner,
    table: &TableDescriptor,
    source: LogicalPlan,
) -> Result<u64> {
    let (context, state) = (&planner.context, &planner.state);
    let mut writers = Writers::new(planner.txn(), state, &context.database.catalog);
    let writer = writers.writer(table)?;
    let targets: Vec<usize> = writer
        .codec
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.hidden)
        .map(|(i, _)| i)
        .collect();
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
