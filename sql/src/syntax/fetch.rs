//! `FETCH FIRST n ROWS ONLY` and `FETCH FIRST n ROWS WITH TIES`, which DataFusion does
//! not plan.
//!
//! `ONLY` is `LIMIT n`. `WITH TIES` keeps, after the OFFSET, the first `n` rows and every
//! row that ties with the last of them in the ORDER BY. It becomes a derived table that
//! numbers the rows twice in that order — `row_number()` (their position) and `rank()`
//! (one more than the number of rows strictly before) — filtered by
//! `position > offset AND rank <= offset + n`: a row ties with or precedes the row at
//! position `offset + n` exactly when fewer than `offset + n` rows come strictly before
//! it. The numbering columns are left out of `*` with EXCLUDE.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    self, Expr, LimitClause, OrderByKind, Query, SelectItem, SetExpr, Value,
};

use crate::error::{Result, SqlError};

const RANK: &str = "__ties_rank";
const POSITION: &str = "__ties_position";

pub fn rewrite(statement: &mut ast::Statement) -> Result<()> {
    let mut failure = None;
    let _ = ast::VisitMut::visit(statement, &mut Queries(&mut failure));
    failure.map_or(Ok(()), Err)
}

struct Queries<'a>(&'a mut Option<SqlError>);

impl ast::VisitorMut for Queries<'_> {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Err(error) = rewrite_query(query) {
            *self.0 = Some(error);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

fn rewrite_query(query: &mut Query) -> Result<()> {
    let Some(fetch) = query.fetch.take() else {
        return Ok(());
    };
    if fetch.percent {
        return Err(SqlError::new("0A000", "FETCH … PERCENT is not supported"));
    }
    let count = fetch
        .quantity
        .unwrap_or_else(|| Expr::value(Value::Number("1".to_owned(), false)));
    let offset = match &mut query.limit_clause {
        None => None,
        Some(LimitClause::LimitOffset {
            limit: None,
            offset,
            ..
        }) => offset.as_ref().map(|o| o.value.clone()),
        Some(_) => return Err(SqlError::new("42601", "multiple LIMIT clauses not allowed")),
    };
    if !fetch.with_ties {
        query.limit_clause = Some(LimitClause::LimitOffset {
            limit: Some(count),
            offset: offset.map(|value| ast::Offset {
                value,
                rows: ast::OffsetRows::None,
            }),
            limit_by: vec![],
        });
        return Ok(());
    }
    let order = match query.order_by.take() {
        Some(ast::OrderBy {
            kind: OrderByKind::Expressions(order),
            ..
        }) if !order.is_empty() => order,
        _ => {
            return Err(SqlError::new(
                "42601",
                "WITH TIES cannot be specified without ORDER BY clause",
            ));
        }
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(SqlError::unsupported(
            "FETCH … WITH TIES over a set operation",
        ));
    };
    if select.distinct.is_some() {
        return Err(SqlError::unsupported("FETCH … WITH TIES with DISTINCT"));
    }
    // The window's ORDER BY sees the FROM clause, not the select list: output positions
    // and names are replaced by what they stand for.
    let order_text = order
        .iter()
        .map(|item| {
            let mut item = item.clone();
            if let Some(expr) = select_list_expr(&select.projection, &item.expr) {
                item.expr = expr;
            }
            item.to_string()
        })
        .collect::<Vec<_>>()
        .join(", ");
    let numbering = crate::syntax::sql_text::parse_query(&format!(
        "SELECT rank() OVER (ORDER BY {order_text}) AS {RANK}, row_number() OVER (ORDER BY {order_text}) AS {POSITION}"
    ))?;
    if let SetExpr::Select(numbering) = *numbering.body {
        select.projection.extend(numbering.projection);
    }
    let offset_text = offset.map_or_else(|| "0".to_owned(), |o| format!("({o})"));
    let mut outer = crate::syntax::sql_text::parse_query(&format!(
        "SELECT * FROM (SELECT 1) AS __ties WHERE {POSITION} > {offset_text} AND {RANK} <= {offset_text} + ({count}) ORDER BY {POSITION}"
    ))?;
    let SetExpr::Select(outer_select) = outer.body.as_mut() else {
        return Err(SqlError::new("XX000", "WITH TIES template is not a SELECT"));
    };
    if let Some(SelectItem::Wildcard(options)) = outer_select.projection.first_mut() {
        options.opt_exclude = Some(ast::ExcludeSelectItem::Multiple(vec![
            ast::ObjectName::from(vec![ast::Ident::new(RANK)]),
            ast::ObjectName::from(vec![ast::Ident::new(POSITION)]),
        ]));
    }
    let inner = Query {
        with: None,
        order_by: None,
        limit_clause: None,
        fetch: None,
        ..query.clone()
    };
    if let Some(ast::TableWithJoins {
        relation: ast::TableFactor::Derived { subquery, .. },
        ..
    }) = outer_select.from.first_mut()
    {
        **subquery = inner;
    }
    outer.with = query.with.take();
    *query = outer;
    Ok(())
}

/// What an ORDER BY item refers to in the select list: `ORDER BY 2`, or an output name.
fn select_list_expr(projection: &[SelectItem], expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::Value(value) => {
            let Value::Number(text, _) = &value.value else {
                return None;
            };
            let position: usize = text.parse().ok()?;
            match projection.get(position.checked_sub(1)?)? {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    Some(e.clone())
                }
                _ => None,
            }
        }
        Expr::Identifier(ident) => projection.iter().find_map(|item| match item {
            SelectItem::ExprWithAlias { expr, alias }
                if crate::syntax::ident_name(alias) == crate::syntax::ident_name(ident) =>
            {
                Some(expr.clone())
            }
            _ => None,
        }),
        _ => None,
    }
}
