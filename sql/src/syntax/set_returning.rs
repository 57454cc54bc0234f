//! `generate_series` in an expression, as PostgreSQL runs it: a set-returning function
//! that makes one row per element (`SELECT generate_series(1, 3)` is three rows).
//!
//! DataFusion's scalar `generate_series` returns the series as one list value, so every
//! call outside FROM becomes `unnest(generate_series(…))`, which expands the list into
//! rows beside the rest of the select list, as PostgreSQL does. A select-list item that is
//! just the call keeps PostgreSQL's column name, `generate_series`. Calls in FROM
//! (`FROM generate_series(1, 3) g`) are table functions already and are left alone: they
//! are table factors, not expressions.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, Expr, Ident, SelectItem, SetExpr, Statement};

const NAME: &str = "generate_series";

fn is_generate_series(expr: &Expr) -> bool {
    let Expr::Function(function) = expr else {
        return false;
    };
    let [ast::ObjectNamePart::Identifier(ident)] = function.name.0.as_slice() else {
        return false;
    };
    ident.quote_style.is_none()
        && ident.value.eq_ignore_ascii_case(NAME)
        && matches!(&function.args, ast::FunctionArguments::List(list) if (2..=3).contains(&list.args.len()))
}

pub fn rewrite(statement: &mut Statement) {
    let _ = ast::VisitMut::visit(statement, &mut NameSelectItems);
    let _ = ast::visit_expressions_mut(statement, |expr| {
        // Post-order: the call is wrapped once, after its arguments were visited.
        if is_generate_series(expr) {
            let call = std::mem::replace(expr, Expr::value(ast::Value::Null));
            *expr = crate::syntax::catalog_queries::call("unnest", vec![call]);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Gives an unnamed select-list `generate_series(…)` its PostgreSQL column name before
/// the call is wrapped.
struct NameSelectItems;

impl ast::VisitorMut for NameSelectItems {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut ast::Query) -> ControlFlow<()> {
        name_items(query.body.as_mut());
        ControlFlow::Continue(())
    }
}

fn name_items(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr) = item
                    && is_generate_series(expr)
                {
                    let expr = std::mem::replace(expr, Expr::value(ast::Value::Null));
                    *item = SelectItem::ExprWithAlias {
                        expr,
                        alias: Ident::new(NAME),
                    };
                }
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_items(left);
            name_items(right);
        }
        _ => {}
    }
}
