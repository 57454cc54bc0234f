//! Result column names as PostgreSQL chooses them (its `FigureColname`): a column's name,
//! a function's name, `case`, `exists`, a cast's operand (or its type, for a constant),
//! else `?column?`. DataFusion names expressions by their text; clients show PostgreSQL's.

use std::pin::Pin;
use std::task::{Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::Column;
use datafusion::error::Result as DfResult;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use datafusion::logical_expr::{Expr as PlanExpr, LogicalPlan, LogicalPlanBuilder};
use datafusion::sql::sqlparser::ast::{self, Expr, SelectItem, SetExpr, Statement};
use futures::Stream;

/// PostgreSQL's name for an expression, if it has one.
fn figure(expr: &Expr) -> Option<String> {
    Some(match expr {
        Expr::Identifier(ident) => crate::syntax::ident_name(ident),
        Expr::CompoundIdentifier(parts) => crate::syntax::ident_name(parts.last()?),
        Expr::Function(function) => {
            let name = function.name.0.last()?.as_ident()?.value.to_lowercase();
            match name.strip_prefix("bytedata_reg") {
                // `x::regclass` and its kin, rewritten before naming (system::rewrite): a
                // cast is named by its operand, or by its type for a constant.
                Some(reg) => match function_args(function).first().and_then(|a| figure(a)) {
                    Some(operand) => operand,
                    None => match reg.rsplit_once('_') {
                        Some((_, "name")) => "text".into(),
                        Some((_, "oid")) => "oid".into(),
                        _ => format!("reg{reg}"),
                    },
                },
                None => name,
            }
        }
        Expr::Cast {
            expr, data_type, ..
        } => match figure(expr) {
            Some(name) if !named_by_type(expr) => name,
            _ => type_name(data_type),
        },
        Expr::Nested(inner) => return figure(inner),
        Expr::Case { .. } => "case".into(),
        Expr::Exists { .. } => "exists".into(),
        Expr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.first()? {
                SelectItem::UnnamedExpr(expr) => return figure(expr),
                SelectItem::ExprWithAlias { alias, .. } => crate::syntax::ident_name(alias),
                _ => return None,
            },
            _ => return None,
        },
        Expr::Array(_) => "array".into(),
        Expr::Extract { .. } => "extract".into(),
        Expr::Position { .. } => "position".into(),
        Expr::Substring { .. } => "substring".into(),
        Expr::Trim { .. } => "btrim".into(),
        Expr::Ceil { .. } => "ceil".into(),
        Expr::Floor { .. } => "floor".into(),
        Expr::TypedString(typed) => type_name(&typed.data_type),
        Expr::Interval(_) => "interval".into(),
        // `a[1]` is named after `a`; `x[1].f` after `f`.
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(field)) => return figure(field),
            _ => return figure(root),
        },
        _ => return None,
    })
}

/// A call's plain positional arguments.
pub(crate) fn function_args(function: &ast::Function) -> Vec<&Expr> {
    match &function.args {
        ast::FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether an expression's name is only that of its type (`'a'::varchar`): an outer
/// cast names it again, as PostgreSQL's weakest kind of column name.
fn named_by_type(expr: &Expr) -> bool {
    match expr {
        Expr::Cast { expr: inner, .. } => figure(inner).is_none() || named_by_type(inner),
        Expr::TypedString(_) | Expr::Interval(_) => true,
        Expr::Nested(inner) => named_by_type(inner),
        _ => false,
    }
}

/// The name PostgreSQL gives a cast to this type (its internal type name).
fn type_name(data_type: &ast::DataType) -> String {
    use ast::DataType as T;
    match data_type {
        T::Int(_) | T::Integer(_) | T::Int4(_) => "int4".into(),
        T::BigInt(_) | T::Int8(_) => "int8".into(),
        T::SmallInt(_) | T::Int2(_) => "int2".into(),
        T::Real | T::Float4 => "float4".into(),
        T::Double(_) | T::DoublePrecision | T::Float8 => "float8".into(),
        T::Boolean | T::Bool => "bool".into(),
        T::Text => "text".into(),
        T::Varchar(_) | T::CharacterVarying(_) => "varchar".into(),
        T::Char(_) | T::Character(_) => "bpchar".into(),
        T::Numeric(_) | T::Decimal(_) => "numeric".into(),
        T::Date => "date".into(),
        T::Timestamp(_, ast::TimezoneInfo::Tz | ast::TimezoneInfo::WithTimeZone) => {
            "timestamptz".into()
        }
        T::Timestamp(..) => "timestamp".into(),
        T::Time(..) => "time".into(),
        T::Interval { .. } => "interval".into(),
        T::Bytea => "bytea".into(),
        T::Uuid => "uuid".into(),
        T::JSON => "json".into(),
        T::JSONB => "jsonb".into(),
        // A cast to an array type is named after its element type, as in PostgreSQL.
        T::Array(
            ast::ArrayElemTypeDef::SquareBracket(element, _)
            | ast::ArrayElemTypeDef::AngleBracket(element)
            | ast::ArrayElemTypeDef::Parenthesis(element),
        ) => type_name(element),
        other => other.to_string().to_lowercase(),
    }
}

/// Names of the result columns of a query, when they can be told from its text (no
/// wildcard in the projection).
pub fn output_names(statement: &Statement) -> Option<Vec<String>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let mut body = query.body.as_ref();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_ref();
    }
    let SetExpr::Select(select) = body else {
        return None;
    };
    items_names(&select.projection)
}

/// PostgreSQL's name for a select item; `None` for a wildcard.
fn item_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::UnnamedExpr(expr) => Some(figure(expr).unwrap_or_else(|| "?column?".into())),
        SelectItem::ExprWithAlias { alias, .. } => Some(crate::syntax::ident_name(alias)),
        _ => None,
    }
}

/// PostgreSQL's names for select items, or `None` if a wildcard is among them.
pub fn items_names(items: &[SelectItem]) -> Option<Vec<String>> {
    items.iter().map(item_name).collect()
}

/// The schema with its fields renamed (types and metadata kept).
pub fn rename(schema: SchemaRef, names: Option<&[String]>) -> SchemaRef {
    let Some(names) = names.filter(|n| n.len() == schema.fields().len()) else {
        return schema;
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(names)
        .map(|(field, name)| field.as_ref().clone().with_name(name.clone()))
        .collect();
    std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

struct Renamed {
    inner: SendableRecordBatchStream,
    schema: SchemaRef,
}

impl Stream for Renamed {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let schema = self.schema.clone();
        self.inner.as_mut().poll_next(cx).map(|item| {
            item.map(|batch| {
                batch.and_then(|b| {
                    RecordBatch::try_new(schema, b.columns().to_vec()).map_err(Into::into)
                })
            })
        })
    }
}

impl RecordBatchStream for Renamed {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

pub fn renamed_stream(
    inner: SendableRecordBatchStream,
    schema: SchemaRef,
) -> SendableRecordBatchStream {
    if inner.schema() == schema {
        return inner;
    }
    Box::pin(Renamed { inner, schema })
}

/// The plan with its output columns renamed to `names` (when the counts agree).
pub fn alias_columns(plan: LogicalPlan, names: &[String]) -> DfResult<LogicalPlan> {
    let schema = plan.schema().clone();
    if names.len() != schema.fields().len()
        || schema
            .iter()
            .zip(names)
            .all(|((_, field), name)| field.name() == name)
    {
        return Ok(plan);
    }
    let exprs: Vec<PlanExpr> = schema
        .iter()
        .zip(names)
        .map(|((qualifier, field), name)| {
            PlanExpr::Column(Column::new(qualifier.cloned(), field.name())).alias(name)
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(exprs)?.build()
}

fn has_subquery(expr: &Expr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(expr, |e| {
        found |= matches!(
            e,
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. }
        );
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

/// Roughly the name DataFusion gives an expression: its text with casts left out, since
/// DataFusion names `CAST(x AS t)` after `x` alone (`'1'::int` and `'1'::bigint` clash).
fn datafusion_name(expr: &Expr) -> String {
    let mut expr = expr.clone();
    let _ = ast::visit_expressions_mut(&mut expr, |e: &mut Expr| {
        if let Expr::Cast { expr: inner, .. } = e {
            *e = std::mem::replace(inner.as_mut(), Expr::value(ast::Value::Null));
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    expr.to_string()
}

/// Gives distinct aliases to select items DataFusion would name alike — the same
/// expression twice, several subqueries (all named `(<subquery>)`), the same alias
/// twice — since PostgreSQL
/// allows duplicate output names and DataFusion does not. Call after `output_names`:
/// the results are renamed to PostgreSQL's names afterwards.
pub fn disambiguate(statement: &mut Statement) {
    fn body(set: &mut SetExpr, counter: &mut usize) {
        match set {
            SetExpr::Select(select) => {
                let mut seen = std::collections::HashSet::new();
                let mut aliases = std::collections::HashSet::new();
                for item in &mut select.projection {
                    match item {
                        SelectItem::UnnamedExpr(expr) => {
                            let text = datafusion_name(expr);
                            if has_subquery(expr) || !seen.insert(text) {
                                *counter += 1;
                                let alias =
                                    ast::Ident::with_quote('"', format!("?column?{counter}"));
                                *item = SelectItem::ExprWithAlias {
                                    expr: expr.clone(),
                                    alias,
                                };
                            }
                        }
                        // `SELECT a AS c, b AS c`: the second is renamed for DataFusion.
                        SelectItem::ExprWithAlias { alias, .. }
                            if !aliases.insert(crate::syntax::ident_name(alias)) =>
                        {
                            *counter += 1;
                            *alias = ast::Ident::with_quote(
                                '"',
                                format!("{}?{counter}", crate::syntax::ident_name(alias)),
                            );
                        }
                        _ => {}
                    }
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                body(left, counter);
                body(right, counter);
            }
            SetExpr::Query(query) => body(&mut query.body, counter),
            _ => {}
        }
    }
    if let Statement::Query(query) = statement {
        body(&mut query.body, &mut 0);
    }
}

/// Names the unnamed columns of subqueries in FROM and of WITH queries as PostgreSQL
/// does (`count`, `?column?`), so that `SELECT * FROM (SELECT count(*) FROM t) s` shows
/// `count` and `s.count` resolves. A name two columns of one subquery would share is
/// left to DataFusion, which does not allow duplicates.
pub fn name_nested_columns(statement: &mut Statement) {
    let _ = ast::VisitMut::visit(statement, &mut NestedColumns);
}

struct NestedColumns;

impl ast::VisitorMut for NestedColumns {
    type Break = ();

    fn pre_visit_table_factor(
        &mut self,
        factor: &mut ast::TableFactor,
    ) -> std::ops::ControlFlow<()> {
        if let ast::TableFactor::Derived { subquery, .. } = factor {
            name_body_columns(&mut subquery.body);
        }
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut ast::Query) -> std::ops::ControlFlow<()> {
        if let Some(with) = &mut query.with {
            for cte in &mut with.cte_tables {
                name_body_columns(&mut cte.query.body);
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

fn name_body_columns(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            let names: Vec<Option<String>> = select.projection.iter().map(item_name).collect();
            for (item, name) in select.projection.iter_mut().zip(&names) {
                let (SelectItem::UnnamedExpr(expr), Some(name)) = (&*item, name) else {
                    continue;
                };
                let plain_column =
                    matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
                let unique = names.iter().filter(|n| n.as_ref() == Some(name)).count() == 1;
                if !plain_column && unique {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias: ast::Ident::with_quote('"', name.clone()),
                    };
                }
            }
        }
        SetExpr::SetOperation { left, .. } => name_body_columns(left),
        SetExpr::Query(query) => name_body_columns(&mut query.body),
        _ => {}
    }
}

/// Functions in FROM that return one column: PostgreSQL names that column after the
/// alias (`FROM generate_series(1, 3) g` has a column `g`), DataFusion does not.
const SCALAR_TABLE_FUNCTIONS: &[&str] = &["generate_series", "unnest", "range"];

struct FunctionAliases;

impl ast::VisitorMut for FunctionAliases {
    type Break = ();

    fn pre_visit_table_factor(
        &mut self,
        factor: &mut ast::TableFactor,
    ) -> std::ops::ControlFlow<()> {
        // `pg_catalog.unnest(…)`: the functions live nowhere else.
        if let ast::TableFactor::Table {
            name,
            args: Some(_),
            ..
        } = factor
            && name.0.len() == 2
            && name.0[0]
                .as_ident()
                .is_some_and(|i| i.value.eq_ignore_ascii_case("pg_catalog"))
        {
            name.0.remove(0);
        }
        // sqlparser reads only a bare `unnest(…)` as UNNEST.
        if let ast::TableFactor::Table {
            name,
            args: Some(args),
            alias,
            ..
        } = factor
            && name.0.len() == 1
            && name.0[0]
                .as_ident()
                .is_some_and(|i| i.quote_style.is_none() && i.value.eq_ignore_ascii_case("unnest"))
            && args.args.len() == 1
            && let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(array)) = &args.args[0]
        {
            *factor = ast::TableFactor::UNNEST {
                alias: alias.take(),
                array_exprs: vec![array.clone()],
                with_offset: false,
                with_offset_alias: None,
                with_ordinality: false,
            };
        }
        if let ast::TableFactor::UNNEST {
            alias: Some(alias),
            array_exprs,
            with_offset: false,
            with_ordinality: false,
            ..
        } = factor
            && alias.columns.is_empty()
            && array_exprs.len() == 1
        {
            alias.columns.push(ast::TableAliasColumnDef {
                name: alias.name.clone(),
                data_type: None,
            });
        }
        if let ast::TableFactor::Table {
            name,
            args: Some(_),
            alias: Some(alias),
            ..
        } = factor
            && alias.columns.is_empty()
            && name.0.len() == 1
            && name.0[0]
                .as_ident()
                .is_some_and(|i| SCALAR_TABLE_FUNCTIONS.contains(&i.value.to_lowercase().as_str()))
        {
            alias.columns.push(ast::TableAliasColumnDef {
                name: alias.name.clone(),
                data_type: None,
            });
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// Names single-column function results after their alias, as PostgreSQL does.
pub fn name_function_columns(statement: &mut Statement) {
    let _ = ast::VisitMut::visit(statement, &mut FunctionAliases);
}
