//! Set-returning functions in an expression, as PostgreSQL runs them: one row per
//! element (`SELECT generate_series(1, 3)` is three rows).
//!
//! The functions here are scalar functions that return the whole set as one list value
//! — DataFusion's `generate_series`, and `regexp_matches` and `regexp_split_to_array`
//! (`planner::regexp`) — so every call outside FROM becomes `unnest(…)` of that list,
//! which expands it into rows beside the rest of the select list, as PostgreSQL does
//! (`regexp_split_to_table(…)` is `unnest(regexp_split_to_array(…))`). A select-list
//! item that is just the call keeps PostgreSQL's column name, the function's.
//!
//! In FROM, `generate_series` is a table function already; the others become
//! `unnest(list)` there too, named after the function unless aliased.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, Expr, Ident, SelectItem, SetExpr, Statement};

/// A set-returning function: its name, the scalar function returning its set as a list,
/// and how many arguments the set-returning form takes.
struct SetReturning {
    name: &'static str,
    list_function: &'static str,
    arg_counts: std::ops::RangeInclusive<usize>,
}

const SET_RETURNING: &[SetReturning] = &[
    SetReturning {
        name: "generate_series",
        list_function: "generate_series",
        arg_counts: 2..=3,
    },
    SetReturning {
        name: "regexp_matches",
        list_function: "regexp_matches",
        arg_counts: 2..=3,
    },
    SetReturning {
        name: "regexp_split_to_table",
        list_function: "regexp_split_to_array",
        arg_counts: 2..=3,
    },
];

fn set_returning(name: &ast::ObjectName, arg_count: usize) -> Option<&'static SetReturning> {
    let [ast::ObjectNamePart::Identifier(ident)] = name.0.as_slice() else {
        return None;
    };
    if ident.quote_style.is_some() {
        return None;
    }
    SET_RETURNING
        .iter()
        .find(|f| ident.value.eq_ignore_ascii_case(f.name) && f.arg_counts.contains(&arg_count))
}

fn set_returning_call(expr: &Expr) -> Option<&'static SetReturning> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let ast::FunctionArguments::List(list) = &function.args else {
        return None;
    };
    set_returning(&function.name, list.args.len())
}

pub fn rewrite(statement: &mut Statement) {
    let _ = ast::VisitMut::visit(statement, &mut NameSelectItems);
    let _ = ast::visit_expressions_mut(statement, |expr| {
        // Post-order: the call is wrapped once, after its arguments were visited.
        if let Some(function) = set_returning_call(expr) {
            let mut call = std::mem::replace(expr, Expr::value(ast::Value::Null));
            if let Expr::Function(f) = &mut call {
                f.name = ast::ObjectName::from(vec![Ident::new(function.list_function)]);
            }
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

    fn pre_visit_table_factor(&mut self, factor: &mut ast::TableFactor) -> ControlFlow<()> {
        if let ast::TableFactor::Table {
            name,
            args: Some(args),
            alias,
            ..
        } = factor
            && let Some(function) = set_returning(name, args.args.len())
            && function.name != "generate_series"
        {
            let list_args = std::mem::take(&mut args.args)
                .into_iter()
                .filter_map(|arg| match arg {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect();
            // The call itself, in a select list: the expression pass below unnests it.
            let call = crate::syntax::catalog_queries::call(function.name, list_args);
            // PostgreSQL names the one column after the alias, or else the function.
            let mut alias = alias.take().unwrap_or_else(|| ast::TableAlias {
                explicit: false,
                at: None,
                name: Ident::new(function.name),
                columns: vec![],
            });
            if alias.columns.is_empty() {
                alias.columns.push(ast::TableAliasColumnDef {
                    name: alias.name.clone(),
                    data_type: None,
                });
            }
            // A derived table rather than UNNEST in FROM, which flattens lists of lists
            // (`regexp_matches`' rows are arrays) all the way down.
            let column = crate::syntax::ident_name(&alias.columns[0].name);
            let select = format!(
                "SELECT NULL AS {}",
                crate::syntax::sql_text::quote_ident(&column)
            );
            let Ok(mut subquery) = crate::syntax::sql_text::parse_query(&select) else {
                return ControlFlow::Continue(());
            };
            if let SetExpr::Select(select) = subquery.body.as_mut()
                && let Some(SelectItem::ExprWithAlias { expr, .. }) = select.projection.first_mut()
            {
                *expr = call;
            }
            *factor = ast::TableFactor::Derived {
                lateral: false,
                subquery: Box::new(subquery),
                alias: Some(alias),
                sample: None,
            };
        }
        ControlFlow::Continue(())
    }
}

fn name_items(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr) = item
                    && let Some(function) = set_returning_call(expr)
                {
                    let expr = std::mem::replace(expr, Expr::value(ast::Value::Null));
                    *item = SelectItem::ExprWithAlias {
                        expr,
                        alias: Ident::new(function.name),
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
