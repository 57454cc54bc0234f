//! Describing a statement without running it: the types of its parameters and the columns
//! it returns — what the extended protocol's Parse and Describe answer.
//!
//! Parameter types come from three places, in order of authority:
//!
//! 1. the types the client gave with Parse (non-zero OIDs);
//! 2. the statement's own text: `$1::int`, or a parameter that is the whole value written
//!    to a column (`INSERT … VALUES ($1)`, `UPDATE … SET c = $1`) takes the column's type;
//! 3. DataFusion's inference on a query that has the statement's expressions
//!    (`aid = $1` makes `$1` the type of `aid`). DML is described through a probe query
//!    over the target table with the same expressions, never by running it.
//!
//! A parameter nothing decides is `text`, as PostgreSQL does for `SELECT $1`.

use std::collections::HashMap;

use bytedata_catalog::descriptor::TableDescriptor;
use bytedata_mvcc::Transaction;
use bytedata_pgtypes::DataType as SqlType;
use datafusion::arrow::datatypes::{DataType as ArrowType, SchemaRef};
use datafusion::sql::sqlparser::ast::{
    self, AssignmentTarget, Expr, FromTable, SelectItem, SetExpr, Statement, Value,
};

use super::Session;
use crate::bridge::arrow_type;
use crate::bridge::types::pg_oid_of_arrow;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};

/// The most parameters one statement may have (PostgreSQL's protocol limit).
pub const MAX_PARAMETERS: usize = 65_535;

#[derive(Clone, Debug)]
pub struct Description {
    /// One PostgreSQL type OID per parameter (`$1` first).
    pub params: Vec<u32>,
    /// The Arrow type each parameter's value must have when the statement runs; `None`
    /// where the planner leaves it open.
    pub param_arrow_types: Vec<Option<ArrowType>>,
    /// The columns of the rows it returns; `None` for a statement without rows.
    pub columns: Option<SchemaRef>,
}

/// The number of a placeholder (`$3` → 3).
fn placeholder_number(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p.strip_prefix('$')?.parse().ok(),
            _ => None,
        },
        Expr::Nested(inner) => placeholder_number(inner),
        _ => None,
    }
}

/// The highest placeholder number in a statement, and the types written on them
/// (`$1::int`).
fn placeholders(statement: &Statement) -> Result<(usize, HashMap<usize, SqlType>)> {
    let mut highest = 0;
    let mut casts = HashMap::new();
    let mut failure = None;
    let _ = ast::visit_expressions(statement, |expr| {
        if let Some(n) = placeholder_number(expr) {
            highest = highest.max(n);
        }
        if let Expr::Cast {
            expr: inner,
            data_type,
            ..
        } = expr
            && let Some(n) = placeholder_number(inner)
        {
            match crate::syntax::typename::column_type(data_type) {
                Ok(column) => {
                    casts.entry(n).or_insert(column.data_type);
                }
                Err(error) => failure = Some(error),
            }
        }
        if let Expr::Function(function) = expr
            && let ast::FunctionArguments::List(list) = &function.args
        {
            let name = function.name.to_string().to_ascii_lowercase();
            for (i, arg) in list.args.iter().enumerate() {
                if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(arg)) = arg
                    && let Some(n) = placeholder_number(arg)
                    && let Some(ty) = argument_type(&name, i)
                {
                    casts.entry(n).or_insert(ty);
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    if let Some(error) = failure {
        return Err(error);
    }
    if highest > MAX_PARAMETERS {
        return Err(SqlError::new(
            "54000",
            format!("too many parameters: {highest} (at most {MAX_PARAMETERS})"),
        ));
    }
    Ok((highest, casts))
}

/// The declared type of a function's argument, for functions whose arguments DataFusion
/// takes as anything (catalog and administration functions): what PostgreSQL's signature
/// says, so a `$n` there is described as PostgreSQL would describe it.
fn argument_type(function: &str, position: usize) -> Option<SqlType> {
    let function = function.strip_prefix("pg_catalog.").unwrap_or(function);
    Some(match (function, position) {
        ("pg_cancel_backend" | "pg_terminate_backend", 0) => SqlType::Int4,
        ("pg_terminate_backend", 1) => SqlType::Int8,
        // userid and dbid are `oid`s in PostgreSQL; int8 holds every one.
        ("pg_stat_statements_reset", 0..=2) => SqlType::Int8,
        _ => return None,
    })
}

fn select_where(
    projection: Vec<SelectItem>,
    from: Vec<ast::TableWithJoins>,
    selection: Option<Expr>,
) -> Statement {
    let projection = if projection.is_empty() {
        vec![SelectItem::UnnamedExpr(Expr::value(Value::Boolean(true)))]
    } else {
        projection
    };
    // A parsed template keeps this independent of the AST's many optional fields.
    let mut template = crate::syntax::parse("SELECT 1")
        .ok()
        .and_then(|mut statements| statements.pop())
        .expect("the template query parses");
    if let Statement::Query(query) = &mut template
        && let SetExpr::Select(select) = query.body.as_mut()
    {
        select.projection = projection;
        select.from = from;
        select.selection = selection;
    }
    template
}

impl Session {
    /// Describes `statement`: its parameters' types (given types first, `0` meaning
    /// unspecified) and the columns it returns. Nothing is run or written.
    pub async fn describe(&mut self, statement: &Statement, given: &[u32]) -> Result<Description> {
        let (highest, casts) = placeholders(statement)?;
        let count = highest.max(given.len());
        let mut types: Vec<Option<SqlType>> = (1..=count)
            .map(|n| {
                given
                    .get(n - 1)
                    .filter(|oid| **oid != 0)
                    .and_then(|oid| SqlType::from_oid(*oid))
                    .or_else(|| casts.get(&n).cloned())
            })
            .collect();
        for (i, oid) in given.iter().enumerate() {
            if *oid != 0 && types[i].is_none() {
                return Err(SqlError::new(
                    "42704",
                    format!("type with OID {oid} is not supported"),
                ));
            }
        }

        let txn = self.describe_transaction();
        let (probe, columns) = match statement {
            Statement::Query(_) => (Some(statement.clone()), None),
            Statement::Explain { .. } => (None, Some(explain_schema())),
            Statement::ShowVariable { .. } => {
                let result = self.execute_statement(statement.clone(), &[]).await?;
                let columns = match result {
                    QueryResult::Rows { schema, .. } => Some(schema),
                    _ => None,
                };
                (None, columns)
            }
            Statement::Insert(insert) => {
                let ast::TableObject::TableName(name) = &insert.table else {
                    return Err(SqlError::unsupported("INSERT INTO a table function"));
                };
                let table = self.describe_table(&txn, name)?;
                let columns: Vec<&bytedata_catalog::descriptor::ColumnDescriptor> =
                    if insert.columns.is_empty() {
                        table.columns.iter().filter(|c| !c.hidden).collect()
                    } else {
                        insert
                            .columns
                            .iter()
                            .filter_map(|ident| {
                                let name = ident
                                    .0
                                    .last()
                                    .and_then(|part| part.as_ident())
                                    .map(crate::syntax::ident_name)
                                    .unwrap_or_default();
                                table.columns.iter().find(|c| c.name == name)
                            })
                            .collect()
                    };
                if let Some(source) = &insert.source
                    && let SetExpr::Values(values) = source.body.as_ref()
                {
                    for row in &values.rows {
                        for (value, column) in row.iter().zip(&columns) {
                            if let Some(n) = placeholder_number(value)
                                && types[n - 1].is_none()
                            {
                                types[n - 1] = Some(column.data_type.clone());
                            }
                        }
                    }
                }
                let probe = match &insert.source {
                    Some(source) if !matches!(source.body.as_ref(), SetExpr::Values(_)) => {
                        Some(Statement::Query(source.clone()))
                    }
                    _ => None,
                };
                let returning = self
                    .returning_schema(&txn, name, insert.returning.clone())
                    .await?;
                (probe, returning)
            }
            Statement::Update(update) => {
                let table_name = relation_name(&update.table.relation)?;
                let table = self.describe_table(&txn, &table_name)?;
                let mut projection = Vec::new();
                for assignment in &update.assignments {
                    if let AssignmentTarget::ColumnName(column) = &assignment.target
                        && let Some(n) = placeholder_number(&assignment.value)
                        && types[n - 1].is_none()
                    {
                        let name = column
                            .0
                            .last()
                            .and_then(|part| part.as_ident())
                            .map(crate::syntax::ident_name)
                            .unwrap_or_default();
                        if let Some(column) = table.columns.iter().find(|c| c.name == name) {
                            types[n - 1] = Some(column.data_type.clone());
                        }
                    }
                    projection.push(SelectItem::UnnamedExpr(assignment.value.clone()));
                }
                let mut from = vec![update.table.clone()];
                if let Some(ast::UpdateTableFromKind::AfterSet(more))
                | Some(ast::UpdateTableFromKind::BeforeSet(more)) = &update.from
                {
                    from.extend(more.iter().cloned());
                }
                let probe = select_where(projection, from, update.selection.clone());
                let returning = self
                    .returning_schema(&txn, &table_name, update.returning.clone())
                    .await?;
                (Some(probe), returning)
            }
            Statement::Delete(delete) => {
                let tables = match &delete.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t.clone(),
                };
                let Some(first) = tables.first() else {
                    return Err(SqlError::syntax("DELETE without a table"));
                };
                let table_name = relation_name(&first.relation)?;
                let mut from = tables.clone();
                from.extend(delete.using.clone().unwrap_or_default());
                let probe = select_where(vec![], from, delete.selection.clone());
                let returning = self
                    .returning_schema(&txn, &table_name, delete.returning.clone())
                    .await?;
                (Some(probe), returning)
            }
            _ => (None, None),
        };

        let mut arrow_types: Vec<Option<ArrowType>> =
            types.iter().map(|t| t.as_ref().map(arrow_type)).collect();
        let mut columns = columns;
        if let Some(probe) = probe {
            let is_query = matches!(statement, Statement::Query(_));
            let names = crate::syntax::naming::output_names(&probe);
            let planner = self.planner(&txn);
            let state = &planner.state;
            let plan = planner.plan_query(probe, &[]).await?;
            let inferred = plan.get_parameter_types()?;
            for (i, slot) in arrow_types.iter_mut().enumerate() {
                if let Some(Some(found)) = inferred.get(&format!("${}", i + 1)) {
                    if slot.is_none() {
                        types[i] = SqlType::from_oid(pg_oid_of_arrow(found));
                    }
                    *slot = Some(found.clone());
                }
            }
            if is_query {
                // The analyzer decides result types (literals as int4, say): describe the
                // columns as execution will produce them. A plan the analyzer rejects
                // without parameter values keeps its planned types.
                let plan = state
                    .analyzer()
                    .execute_and_check(plan.clone(), state.config_options(), |_, _| {})
                    .unwrap_or(plan);
                let schema = std::sync::Arc::new(plan.schema().as_arrow().clone());
                columns = Some(crate::syntax::naming::rename(schema, names.as_deref()));
            }
        }
        if !self.in_explicit_transaction() {
            let _ = txn.rollback();
        }
        let params = types
            .iter()
            .map(|t| t.as_ref().map_or(25, |t| t.oid()))
            .collect();
        Ok(Description {
            params,
            param_arrow_types: arrow_types,
            columns,
        })
    }

    /// The transaction a description reads the catalog in: the open one (which may
    /// have created the tables named), else a fresh read-only one.
    fn describe_transaction(&self) -> Transaction {
        match &self.transaction {
            Some(active) if !active.failed => active.txn.clone(),
            _ => self.begin_transaction(None, Some(true)),
        }
    }

    fn in_explicit_transaction(&self) -> bool {
        self.transaction
            .as_ref()
            .is_some_and(|t| !t.failed && t.explicit)
    }

    fn describe_table(&self, txn: &Transaction, name: &ast::ObjectName) -> Result<TableDescriptor> {
        crate::dml::target_table(&self.planner(txn).context, name, "describe")
    }

    async fn returning_schema(
        &self,
        txn: &Transaction,
        table: &ast::ObjectName,
        returning: Option<Vec<SelectItem>>,
    ) -> Result<Option<SchemaRef>> {
        let items = returning.unwrap_or_default();
        if items.is_empty() {
            return Ok(None);
        }
        let from = vec![ast::TableWithJoins {
            relation: ast::TableFactor::Table {
                name: table.clone(),
                alias: None,
                args: None,
                with_hints: vec![],
                version: None,
                with_ordinality: false,
                partitions: vec![],
                json_path: None,
                sample: None,
                index_hints: vec![],
            },
            joins: vec![],
        }];
        let probe = select_where(items, from, None);
        let names = crate::syntax::naming::output_names(&probe);
        let plan = self.planner(txn).plan_query(probe, &[]).await?;
        let schema = std::sync::Arc::new(plan.schema().as_arrow().clone());
        Ok(Some(crate::syntax::naming::rename(
            schema,
            names.as_deref(),
        )))
    }
}

fn relation_name(relation: &ast::TableFactor) -> Result<ast::ObjectName> {
    match relation {
        ast::TableFactor::Table { name, .. } => Ok(name.clone()),
        _ => Err(SqlError::unsupported("DML on anything but a table")),
    }
}

fn explain_schema() -> SchemaRef {
    std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
        datafusion::arrow::datatypes::Field::new("QUERY PLAN", ArrowType::Utf8, false),
    ]))
}
