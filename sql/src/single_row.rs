//! Scalar subqueries as PostgreSQL runs them, and `ARRAY(subquery)`.
//!
//! DataFusion accepts a correlated scalar subquery only when it aggregates (so it cannot
//! return several rows); PostgreSQL accepts any and fails at run time (21000) if one
//! returns more than a row. So the select item of a non-aggregating scalar subquery is
//! wrapped in `bytedata_single_row(…)`, an aggregate that is the value of the only row,
//! NULL for no rows, and error 21000 for more — exactly a scalar subquery's meaning, in a
//! form DataFusion can decorrelate into a join.
//!
//! `ARRAY(SELECT x …)` becomes `(SELECT coalesce(array_agg(x), <empty>) FROM (…))`: the
//! subquery's rows collected into an array, empty (not NULL) when there are none.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{self, Expr, FunctionArguments, SelectItem, SetExpr};

use crate::error::{SqlError, into_datafusion};
use crate::system::rewrite::call;

const SINGLE_ROW: &str = "bytedata_single_row";

/// Aggregates that make a subquery's select item one value already.
pub(crate) const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "bool_and",
    "bool_or",
    "every",
    "string_agg",
    "array_agg",
    "json_agg",
    "stddev",
    "variance",
    SINGLE_ROW,
];

pub fn rewrite(statement: &mut ast::Statement) {
    let _ = ast::visit_expressions_mut(statement, |expr| {
        match expr {
            Expr::Subquery(query) => wrap_single_row(query),
            Expr::Function(function)
                if function.name.to_string().eq_ignore_ascii_case("array")
                    && matches!(function.args, FunctionArguments::Subquery(_)) =>
            {
                if let FunctionArguments::Subquery(query) = &function.args
                    && let Some(array) = array_of(query)
                {
                    *expr = array;
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

fn aggregates(expr: &Expr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(expr, |e| {
        if let Expr::Function(f) = e
            && (f.over.is_none()
                && AGGREGATES.contains(&f.name.to_string().to_lowercase().as_str()))
        {
            found = true;
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

fn wrap_single_row(query: &mut ast::Query) {
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let grouped = !matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty())
        || select.having.is_some()
        || select.distinct.is_some();
    if grouped || select.selection.is_none() || select.projection.len() != 1 {
        return;
    }
    let (SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }) =
        &mut select.projection[0]
    else {
        return;
    };
    if aggregates(item) {
        return;
    }
    let inner = std::mem::replace(item, Expr::value(ast::Value::Null));
    *item = call(SINGLE_ROW, vec![inner]);
    // One row has no order, and more are an error whatever their order; an ORDER BY of
    // a column would not plan beside the aggregate.
    query.order_by = None;
}

fn array_of(query: &ast::Query) -> Option<Expr> {
    collect_in_place(query).or_else(|| collect_derived(query))
}

/// `ARRAY(SELECT x FROM … WHERE … ORDER BY …)` of a plain SELECT becomes the same SELECT
/// of `array_agg(x ORDER BY …)`: outer references in its WHERE stay where DataFusion can
/// decorrelate them.
fn collect_in_place(query: &ast::Query) -> Option<Expr> {
    if query.limit_clause.is_some() || query.fetch.is_some() || query.with.is_some() {
        return None;
    }
    let mut query = query.clone();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let grouped = !matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty())
        || select.having.is_some()
        || select.distinct.is_some();
    if grouped || select.projection.len() != 1 {
        return None;
    }
    let (SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }) =
        &mut select.projection[0]
    else {
        return None;
    };
    if aggregates(item) {
        return None;
    }
    let mut order = Vec::new();
    if let Some(order_by) = query.order_by.take() {
        let ast::OrderByKind::Expressions(exprs) = order_by.kind else {
            return None;
        };
        for mut by in exprs {
            // `ORDER BY 1` names the (only) select item.
            if matches!(&by.expr, Expr::Value(v) if v.to_string() == "1") {
                by.expr = item.clone();
            }
            order.push(by);
        }
    }
    let element = std::mem::replace(item, Expr::value(ast::Value::Null));
    let mut aggregated = call("array_agg", vec![element]);
    if let Expr::Function(f) = &mut aggregated
        && let FunctionArguments::List(list) = &mut f.args
        && !order.is_empty()
    {
        list.clauses
            .push(ast::FunctionArgumentClause::OrderBy(order));
    }
    *item = call("coalesce", vec![aggregated, call("make_array", vec![])]);
    Some(Expr::Subquery(Box::new(query)))
}

/// Any other query: its rows collected from a derived table.
fn collect_derived(query: &ast::Query) -> Option<Expr> {
    // The shape, parsed once per use from text (sturdier than building the AST by hand),
    // with the subquery put in place of `VALUES (NULL)`.
    const TEMPLATE: &str = "(SELECT coalesce(array_agg(bytedata_element), make_array()) \
                            FROM (VALUES (NULL)) AS bytedata_array (bytedata_element))";
    let dialect = datafusion::sql::sqlparser::dialect::PostgreSqlDialect {};
    let mut template = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(TEMPLATE)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    if let Expr::Subquery(outer) = &mut template
        && let SetExpr::Select(select) = outer.body.as_mut()
        && let Some(from) = select.from.first_mut()
        && let ast::TableFactor::Derived { subquery, .. } = &mut from.relation
    {
        **subquery = query.clone();
        return Some(template);
    }
    None
}

/// The aggregate a scalar subquery's item is wrapped in.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SingleRow {
    signature: Signature,
}

impl AggregateUDFImpl for SingleRow {
    fn name(&self) -> &str {
        SINGLE_ROW
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> DfResult<FieldRef> {
        // The item keeps its PostgreSQL type (the metadata of its field).
        match arg_fields.first() {
            Some(field) => Ok(Arc::new(
                field
                    .as_ref()
                    .clone()
                    .with_name(SINGLE_ROW)
                    .with_nullable(true),
            )),
            None => Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
                SINGLE_ROW,
                DataType::Null,
                true,
            ))),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(SingleRowAccumulator {
            value: ScalarValue::try_from(args.return_field.data_type())?,
            rows: 0,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(args.return_field.as_ref().clone().with_name("value")),
            Arc::new(datafusion::arrow::datatypes::Field::new(
                "rows",
                DataType::Int64,
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct SingleRowAccumulator {
    value: ScalarValue,
    rows: i64,
}

fn too_many_rows() -> datafusion::error::DataFusionError {
    into_datafusion(SqlError::new(
        "21000",
        "more than one row returned by a subquery used as an expression",
    ))
}

impl SingleRowAccumulator {
    fn add(&mut self, value: ScalarValue, rows: i64) -> DfResult<()> {
        if rows == 0 {
            return Ok(());
        }
        if self.rows + rows > 1 {
            return Err(too_many_rows());
        }
        self.rows += rows;
        self.value = value;
        Ok(())
    }
}

impl Accumulator for SingleRowAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let array = &values[0];
        if array.len() > 1 {
            return Err(too_many_rows());
        }
        if array.len() == 1 {
            self.add(ScalarValue::try_from_array(array, 0)?, 1)?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let counts = datafusion::common::cast::as_int64_array(&states[1])?;
        for row in 0..states[0].len() {
            let rows = if counts.is_valid(row) {
                counts.value(row)
            } else {
                0
            };
            self.add(ScalarValue::try_from_array(&states[0], row)?, rows)?;
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![
            self.value.clone(),
            ScalarValue::Int64(Some(self.rows)),
        ])
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.value.size()
    }
}

pub fn register(state: &mut SessionState) {
    let _ = datafusion::execution::FunctionRegistry::register_udaf(
        state,
        Arc::new(AggregateUDF::new_from_impl(SingleRow {
            signature: Signature::any(1, Volatility::Immutable),
        })),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = crate::parse::parse(sql).unwrap().remove(0);
        rewrite(&mut statement);
        statement.to_string()
    }

    #[test]
    fn scalar_subqueries_that_do_not_aggregate_are_wrapped() {
        assert_eq!(
            rewritten("SELECT (SELECT b FROM u WHERE u.a = t.a) FROM t"),
            "SELECT (SELECT bytedata_single_row(b) FROM u WHERE u.a = t.a) FROM t"
        );
        assert_eq!(
            rewritten("SELECT (SELECT max(b) FROM u WHERE u.a = t.a) FROM t"),
            "SELECT (SELECT max(b) FROM u WHERE u.a = t.a) FROM t"
        );
        assert_eq!(
            rewritten("SELECT (SELECT b FROM u WHERE u.a = t.a ORDER BY b) FROM t"),
            "SELECT (SELECT bytedata_single_row(b) FROM u WHERE u.a = t.a) FROM t"
        );
        assert_eq!(
            rewritten("SELECT (SELECT b FROM u WHERE u.a = t.a LIMIT 1) FROM t"),
            "SELECT (SELECT b FROM u WHERE u.a = t.a LIMIT 1) FROM t"
        );
    }

    #[test]
    fn array_of_a_subquery_collects_its_rows() {
        assert_eq!(
            rewritten("SELECT ARRAY(SELECT b FROM u WHERE u.a = t.a ORDER BY 1) FROM t"),
            "SELECT (SELECT coalesce(array_agg(b ORDER BY b), make_array()) \
             FROM u WHERE u.a = t.a) FROM t"
        );
        assert_eq!(
            rewritten("SELECT ARRAY(SELECT 1 UNION SELECT 2)"),
            "SELECT (SELECT coalesce(array_agg(bytedata_element), make_array()) \
             FROM (SELECT 1 UNION SELECT 2) AS bytedata_array (bytedata_element))"
        );
    }
}
