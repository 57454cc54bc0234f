//! UPDATE and DELETE: find the rows with a query, lock each, re-check it if a concurrent
//! commit changed it (READ COMMITTED), write.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytedata_catalog::descriptor::{Identity, TableDescriptor};
use bytedata_mvcc::IsolationLevel;
use bytedata_pgtypes::Value;
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder};
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{
    self, Delete, FromTable, TableFactor, Update, UpdateTableFromKind,
};
use futures::StreamExt;

use super::insert::assignment_pairs;
use super::{batch_rows, default_of, qualified_name, target_table};
use crate::bridge::field;
use crate::bridge::{ColumnBuilder, finish_column};
use crate::context::StatementContext;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::planner::Planner;
use crate::provider::KvTable;
use crate::syntax::ident_name;
use crate::syntax::sql_text::{is_default_keyword, quote_ident};
use crate::writer::{TableWriter, Writers, same_row};

/// The target of an UPDATE or DELETE: `table [AS alias]`.
fn target(
    context: &StatementContext,
    relation: &TableFactor,
    verb: &str,
) -> Result<(TableDescriptor, String)> {
    let TableFactor::Table {
        name,
        alias,
        args: None,
        ..
    } = relation
    else {
        return Err(SqlError::unsupported(format!(
            "{verb} of this kind of relation"
        )));
    };
    let table = target_table(context, name, verb)?;
    let qualifier = alias
        .as_ref()
        .map_or_else(|| table.name.clone(), |a| ident_name(&a.name));
    Ok((table, qualifier))
}

/// What a row-finding query needs: the text of `SELECT <every column>, <extra>… FROM
/// target [, more] [WHERE …]`.
struct FindRows {
    sql: String,
    /// How many new values follow the row's columns (UPDATE's SET list).
    extra: Vec<usize>,
}

fn find_rows_sql(
    context: &StatementContext,
    table: &TableDescriptor,
    writer: &TableWriter,
    qualifier: &str,
    values: &[(usize, ast::Expr)],
    from: &[ast::TableWithJoins],
    selection: Option<&ast::Expr>,
) -> Result<FindRows> {
    let mut items: Vec<String> = writer
        .codec
        .columns()
        .iter()
        .map(|c| format!("{}.{}", quote_ident(qualifier), quote_ident(&c.name)))
        .collect();
    // Aliased: `SET v = v` would otherwise name a new value like the column it reads.
    items.extend(
        values
            .iter()
            .enumerate()
            .map(|(i, (_, expr))| format!("({expr}) AS \"?new{i}\"")),
    );
    let mut sql = format!(
        "SELECT {} FROM {} AS {}",
        items.join(", "),
        qualified_name(context, table)?,
        quote_ident(qualifier)
    );
    for item in from {
        sql.push_str(&format!(", {item}"));
    }
    if let Some(selection) = selection {
        sql.push_str(&format!(" WHERE {selection}"));
    }
    Ok(FindRows {
        sql,
        extra: values.iter().map(|(p, _)| *p).collect(),
    })
}

/// Plans the row-finding query with the target read through `provider`, casting the new
/// values to their columns' types.
async fn plan_find(
    planner: &Planner,
    table: &TableDescriptor,
    writer: &TableWriter,
    find: &FindRows,
    provider: Arc<dyn TableProvider>,
    params: &[ScalarValue],
) -> Result<(LogicalPlan, Planner)> {
    let planner = planner.with_overrides(HashMap::from([(table.id, provider)]));
    let mut statements = crate::syntax::parse(&find.sql)?;
    let statement = statements
        .pop()
        .ok_or_else(|| SqlError::internal("row query vanished"))?;
    let plan = planner.plan_query(statement, params).await?;
    let width = writer.codec.columns().len();
    let columns: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let exprs: Vec<Expr> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let expr = column.clone();
            match i.checked_sub(width) {
                Some(j) => {
                    let source = expr.get_type(plan.schema())?;
                    let column = &writer.codec.columns()[find.extra[j]];
                    Ok(
                        super::store_cast(expr, &source, &column.data_type, &column.name)?
                            .alias(format!("v{j}")),
                    )
                }
                None => Ok(expr.alias(format!("c{i}"))),
            }
        })
        .collect::<Result<_>>()?;
    let plan = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
    Ok((plan, planner))
}

/// A one-row table holding a row's latest version, to re-check the statement against.
fn single_row_table(writer: &TableWriter, row: &[Value]) -> Result<Arc<dyn TableProvider>> {
    let columns = writer.codec.columns();
    let fields: Vec<_> = columns
        .iter()
        .map(|c| field(&c.name, &c.data_type, c.nullable))
        .collect();
    let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
    let arrays = columns
        .iter()
        .zip(row)
        .map(|(c, v)| {
            let mut builder = ColumnBuilder::new(&c.data_type, 1);
            builder.append(v)?;
            Ok(finish_column(&mut builder))
        })
        .collect::<Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// The statement's operation on each row found.
enum Action {
    Update,
    Delete,
}

struct Modify<'s> {
    planner: &'s Planner,
    table: TableDescriptor,
    find: FindRows,
    params: &'s [ScalarValue],
    action: Action,
    /// Whether a row can be found more than once (a join with a FROM/USING list).
    joined: bool,
    keep_rows: bool,
}

impl Modify<'_> {
    /// Re-evaluates the statement against a row's latest version: the new values, or
    /// `None` if the row no longer qualifies.
    async fn recheck(&self, writer: &TableWriter, latest: &[Value]) -> Result<Option<Vec<Value>>> {
        let provider = single_row_table(writer, latest)?;
        let (plan, planner) = plan_find(
            self.planner,
            &self.table,
            writer,
            &self.find,
            provider,
            self.params,
        )
        .await?;
        let state = &planner.state;
        let batches = datafusion::physical_plan::collect(
            crate::planner::checked::physical_plan(state, &plan).await?,
            state.task_ctx(),
        )
        .await?;
        let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(None);
        };
        Ok(Some(self.new_row(writer, batch, 0, latest)?))
    }

    fn new_row(
        &self,
        writer: &TableWriter,
        batch: &RecordBatch,
        row: usize,
        old: &[Value],
    ) -> Result<Vec<Value>> {
        let mut new = old.to_vec();
        let width = writer.codec.columns().len();
        for (j, &position) in self.find.extra.iter().enumerate() {
            new[position] = crate::bridge::value_at_in(
                batch.column(width + j),
                row,
                &writer.codec.columns()[position].data_type,
                &self.planner.context.input,
            )?;
        }
        Ok(new)
    }

    async fn run(&self) -> Result<(u64, Vec<Vec<Value>>)> {
        let txn = self.planner.txn();
        let catalog = &self.planner.context.database.catalog;
        let mut writers = Writers::new(txn, &self.planner.state, catalog);
        let writer = writers.writer(&self.table)?;
        let provider: Arc<dyn TableProvider> = Arc::new(KvTable::with_hidden(self.table.clone()));
        let (plan, finding) = plan_find(
            self.planner,
            &self.table,
            &writer,
            &self.find,
            provider,
            self.params,
        )
        .await?;
        let state = &finding.state;
        let mut stream = datafusion::physical_plan::execute_stream(
            crate::planner::checked::physical_plan(state, &plan).await?,
            state.task_ctx(),
        )?;
        let read_committed = txn.isolation() == IsolationLevel::ReadCommitted;
        let columns = writer.codec.columns().to_vec();
        let mut seen: HashSet<Bytes> = HashSet::new();
        let mut count = 0u64;
        let mut kept = Vec::new();
        while let Some(batch) = stream.next().await {
            crate::context::StatementContext::check_interrupt(state)?;
            let batch = batch?;
            let olds = batch_rows(&batch, &columns, 0, &self.planner.context.input)?;
            let mut changes: Vec<(Vec<Value>, Vec<Value>)> = Vec::with_capacity(olds.len());
            for (i, old) in olds.into_iter().enumerate() {
                let key = Bytes::from(writer.codec.encode_key(&old)?);
                if self.joined && !seen.insert(key.clone()) {
                    continue; // a row matched twice by the join changes once
                }
                // Locked, the row cannot change again until this transaction ends.
                let Some(stored) = txn.lock(&key)? else {
                    continue; // deleted by a concurrent commit
                };
                let latest = writer.codec.decode(&key, &stored)?;
                let new = if same_row(&latest, &old) {
                    self.new_row(&writer, &batch, i, &old)?
                } else if read_committed {
                    match self.recheck(&writer, &latest).await? {
                        Some(new) => new,
                        None => continue,
                    }
                } else {
                    return Err(SqlError::new(
                        "40001",
                        "could not serialize access due to concurrent update",
                    ));
                };
                changes.push((latest, new));
            }
            if let Action::Update = self.action {
                let news: Vec<Vec<Value>> = changes.iter().map(|(_, new)| new.clone()).collect();
                writer.check_rows(&news)?;
            }
            for (old, new) in changes {
                match self.action {
                    Action::Update => writers.update(&writer, &old, &new)?,
                    Action::Delete => writers.delete(&writer, &old)?,
                }
                count += 1;
                if self.keep_rows {
                    kept.push(match self.action {
                        Action::Update => new,
                        Action::Delete => old,
                    });
                }
            }
        }
        writers.finish()?;
        Ok((count, kept))
    }
}

pub async fn update(
    planner: &Planner,
    update: Update,
    params: &[ScalarValue],
) -> Result<QueryResult> {
    if !update.table.joins.is_empty() || update.limit.is_some() || !update.order_by.is_empty() {
        return Err(SqlError::unsupported(
            "UPDATE with joins, ORDER BY or LIMIT",
        ));
    }
    let (context, txn) = (&planner.context, planner.txn());
    let (table, qualifier) = target(context, &update.table.relation, "update")?;
    let writer = Writers::new(txn, &planner.state, &context.database.catalog).writer(&table)?;
    let mut values: Vec<(usize, ast::Expr)> = Vec::new();
    for assignment in &update.assignments {
        for (name, value) in assignment_pairs(assignment)? {
            let position = writer
                .codec
                .columns()
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
            if values.iter().any(|(p, _)| *p == position) {
                return Err(SqlError::new(
                    "42601",
                    format!("multiple assignments to same column \"{name}\""),
                ));
            }
            let column = &writer.codec.columns()[position];
            let value = if is_default_keyword(&value) {
                default_of(context, column)?
            } else {
                if let Some(Identity::Always { .. }) = column.identity {
                    return Err(SqlError::new(
                        "428C9",
                        format!("column \"{name}\" can only be updated to DEFAULT"),
                    )
                    .with_detail(format!(
                        "Column \"{name}\" is an identity column defined as GENERATED ALWAYS."
                    )));
                }
                value
            };
            values.push((position, value));
        }
    }
    let from: Vec<ast::TableWithJoins> = match &update.from {
        None => Vec::new(),
        Some(UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from)) => {
            from.clone()
        }
    };
    let find = find_rows_sql(
        context,
        &table,
        &writer,
        &qualifier,
        &values,
        &from,
        update.selection.as_ref(),
    )?;
    let modify = Modify {
        planner,
        table: table.clone(),
        find,
        params,
        action: Action::Update,
        joined: !from.is_empty(),
        keep_rows: update.returning.is_some(),
    };
    let (count, rows) = modify.run().await?;
    let tag = format!("UPDATE {count}");
    super::returning::returning(
        planner,
        &table,
        Some(&qualifier),
        update.returning,
        rows,
        params,
        tag,
    )
    .await
}

pub async fn delete(
    planner: &Planner,
    delete: Delete,
    params: &[ScalarValue],
) -> Result<QueryResult> {
    if !delete.tables.is_empty() || delete.limit.is_some() || !delete.order_by.is_empty() {
        return Err(SqlError::unsupported(
            "DELETE with table list, ORDER BY or LIMIT",
        ));
    }
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let [target_item] = from.as_slice() else {
        return Err(SqlError::unsupported("DELETE from several tables"));
    };
    if !target_item.joins.is_empty() {
        return Err(SqlError::unsupported("DELETE with joins; use USING"));
    }
    let (context, txn) = (&planner.context, planner.txn());
    let (table, qualifier) = target(context, &target_item.relation, "delete from")?;
    let writer = Writers::new(txn, &planner.state, &context.database.catalog).writer(&table)?;
    let using = delete.using.clone().unwrap_or_default();
    let find = find_rows_sql(
        context,
        &table,
        &writer,
        &qualifier,
        &[],
        &using,
        delete.selection.as_ref(),
    )?;
    let modify = Modify {
        planner,
        table: table.clone(),
        find,
        params,
        action: Action::Delete,
        joined: !using.is_empty(),
        keep_rows: delete.returning.is_some(),
    };
    let (count, rows) = modify.run().await?;
    let tag = format!("DELETE {count}");
    super::returning::returning(
        planner,
        &table,
        Some(&qualifier),
        delete.returning,
        rows,
        params,
        tag,
    )
    .await
}
