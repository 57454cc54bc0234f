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

use datafusion::sql::sqlparser::ast::{self, Expr, FunctionArguments, SelectItem, SetExpr};

use crate::syntax::catalog_queries::call;

pub(crate) const SINGLE_ROW: &str = "bytedata_single_row";

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

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = crate::syntax::parse(sql).unwrap().remove(0);
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
