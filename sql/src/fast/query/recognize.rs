//! Recognising a single-table query in a parsed statement: purely syntactic, as the
//! point shapes are (`fast::recognize`). Every clause must be one the pipeline runs; a
//! select item a column or `count`/`sum`/`min`/`max`/`avg` of a column (or `count(*)`);
//! the WHERE clause a conjunction of comparisons, BETWEENs and IN lists between a column
//! and operands.

use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, GroupByExpr, LimitClause, OrderByKind, SelectItem, SetExpr,
};

use super::{Aggregate, Comparison, Item, OrderKey, OrderTarget, QueryShape, Shifted, Term};
use crate::fast::recognize::{
    column, is_plain_wildcard, operand, ordered_body, plain_select, plain_table,
};
use crate::syntax::ident_name;

/// Most WHERE terms, select items, GROUP BY or ORDER BY keys, IN-list values a shape takes.
const MAX_TERMS: usize = 64;

pub(crate) fn query_shape(query: &ast::Query) -> Option<QueryShape> {
    let (body, order_by, limit_clause) = ordered_body(query)?;
    let SetExpr::Select(select) = body else {
        return None;
    };
    let plain = plain_select(select);
    if !plain {
        return None;
    }
    let distinct = match &select.distinct {
        None | Some(ast::Distinct::All) => false,
        Some(ast::Distinct::Distinct) => true,
        Some(ast::Distinct::On(_)) => return None,
    };
    let [from] = select.from.as_slice() else {
        return None;
    };
    let (table, qualifier) = plain_table(from)?;
    let GroupByExpr::Expressions(group_exprs, modifiers) = &select.group_by else {
        return None;
    };
    if !modifiers.is_empty() || group_exprs.len() > MAX_TERMS {
        return None;
    }
    let group_by = group_exprs
        .iter()
        .map(|e| column(e, &qualifier))
        .collect::<Option<Vec<_>>>()?;
    if select.projection.len() > MAX_TERMS {
        return None;
    }
    let items = select
        .projection
        .iter()
        .map(|item| select_item(item, &qualifier))
        .collect::<Option<Vec<_>>>()?;
    let mut terms = Vec::new();
    if let Some(selection) = &select.selection {
        conjuncts(selection, &qualifier, &mut terms)?;
    }
    let order_by = match order_by {
        None => Vec::new(),
        Some(ast::OrderBy {
            kind: OrderByKind::Expressions(keys),
            interpolate: None,
        }) if keys.len() <= MAX_TERMS => keys
            .iter()
            .map(|key| order_key(key, &qualifier))
            .collect::<Option<Vec<_>>>()?,
        Some(_) => return None,
    };
    let (limit, offset) = match limit_clause {
        None => (None, None),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) if limit_by.is_empty() => (
            match limit {
                Some(expr) => Some(operand(expr)?),
                None => None,
            },
            match offset {
                Some(offset) => Some(operand(&offset.value)?),
                None => None,
            },
        ),
        Some(_) => return None,
    };
    Some(QueryShape {
        table,
        items,
        terms,
        group_by,
        distinct,
        order_by,
        limit,
        offset,
    })
}

fn select_item(item: &SelectItem, qualifier: &str) -> Option<Item> {
    let (expr, alias) = match item {
        SelectItem::UnnamedExpr(expr) => (expr, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(ident_name(alias))),
        SelectItem::Wildcard(options) if is_plain_wildcard(options) => return Some(Item::All),
        _ => return None,
    };
    if let Some(name) = column(expr, qualifier) {
        return Some(Item::Column {
            output: alias.unwrap_or_else(|| name.clone()),
            name,
        });
    }
    let Expr::Function(function) = expr else {
        return None;
    };
    let (function_name, function, argument) = aggregate(function, qualifier)?;
    Some(Item::Aggregate {
        function,
        argument,
        output: alias.unwrap_or(function_name),
    })
}

/// `count(*)`, `count(col)`, `sum(col)`, `min(col)`, `max(col)`, `avg(col)`: the name
/// PostgreSQL gives the result column, the aggregate and its column.
fn aggregate(
    function: &ast::Function,
    qualifier: &str,
) -> Option<(String, Aggregate, Option<String>)> {
    let [part] = function.name.0.as_slice() else {
        return None;
    };
    let name = ident_name(part.as_ident()?);
    let aggregate = match name.as_str() {
        "count" => Aggregate::Count,
        "sum" => Aggregate::Sum,
        "min" => Aggregate::Min,
        "max" => Aggregate::Max,
        "avg" => Aggregate::Avg,
        _ => return None,
    };
    let plain = !function.uses_odbc_syntax
        && matches!(function.parameters, ast::FunctionArguments::None)
        && function.filter.is_none()
        && function.null_treatment.is_none()
        && function.over.is_none()
        && function.within_group.is_empty();
    let ast::FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let all = matches!(
        list.duplicate_treatment,
        None | Some(ast::DuplicateTreatment::All)
    );
    if !plain || !all || !list.clauses.is_empty() {
        return None;
    }
    let argument = match list.args.as_slice() {
        [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)]
            if aggregate == Aggregate::Count =>
        {
            None
        }
        [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(expr))] => {
            Some(column(expr, qualifier)?)
        }
        _ => return None,
    };
    Some((name, aggregate, argument))
}

/// An operand, or `operand ± integer literal`.
fn shifted(expr: &Expr) -> Option<Shifted> {
    if let Some(operand) = operand(expr) {
        return Some(Shifted { operand, shift: 0 });
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return None;
    };
    let negate = match op {
        BinaryOperator::Plus => false,
        BinaryOperator::Minus => true,
        _ => return None,
    };
    let base = operand(left)?;
    let super::Operand::Number(digits) = operand(right)? else {
        return None;
    };
    let shift: i64 = digits.parse().ok()?;
    let shift = if negate { shift.checked_neg()? } else { shift };
    Some(Shifted {
        operand: base,
        shift,
    })
}

fn comparison(op: &BinaryOperator) -> Option<Comparison> {
    Some(match op {
        BinaryOperator::Eq => Comparison::Eq,
        BinaryOperator::NotEq => Comparison::NotEq,
        BinaryOperator::Lt => Comparison::Lt,
        BinaryOperator::LtEq => Comparison::LtEq,
        BinaryOperator::Gt => Comparison::Gt,
        BinaryOperator::GtEq => Comparison::GtEq,
        _ => return None,
    })
}

/// `v op col` as `col op' v`.
fn mirrored(comparison: Comparison) -> Comparison {
    match comparison {
        Comparison::Lt => Comparison::Gt,
        Comparison::LtEq => Comparison::GtEq,
        Comparison::Gt => Comparison::Lt,
        Comparison::GtEq => Comparison::LtEq,
        other => other,
    }
}

fn conjuncts(expr: &Expr, qualifier: &str, out: &mut Vec<Term>) -> Option<()> {
    if out.len() >= MAX_TERMS {
        return None;
    }
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, qualifier, out)?;
            conjuncts(right, qualifier, out)
        }
        Expr::Nested(inner) => conjuncts(inner, qualifier, out),
        Expr::BinaryOp { left, op, right } => {
            let op = comparison(op)?;
            let term = match (column(left, qualifier), column(right, qualifier)) {
                (Some(name), None) => Term::Compare {
                    column: name,
                    comparison: op,
                    value: shifted(right)?,
                },
                (None, Some(name)) => Term::Compare {
                    column: name,
                    comparison: mirrored(op),
                    value: shifted(left)?,
                },
                _ => return None,
            };
            out.push(term);
            Some(())
        }
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } => {
            out.push(Term::Between {
                column: column(expr, qualifier)?,
                low: shifted(low)?,
                high: shifted(high)?,
            });
            Some(())
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } if !list.is_empty() && list.len() <= MAX_TERMS => {
            out.push(Term::In {
                column: column(expr, qualifier)?,
                values: list.iter().map(shifted).collect::<Option<_>>()?,
            });
            Some(())
        }
        _ => None,
    }
}

fn order_key(key: &ast::OrderByExpr, qualifier: &str) -> Option<OrderKey> {
    if key.with_fill.is_some() {
        return None;
    }
    let target = match &key.expr {
        Expr::Identifier(ident) => OrderTarget::Name(ident_name(ident)),
        Expr::Value(value) => match &value.value {
            ast::Value::Number(digits, false) => OrderTarget::Position(digits.parse().ok()?),
            _ => return None,
        },
        expr => OrderTarget::Column(column(expr, qualifier)?),
    };
    let descending = key.options.asc == Some(false);
    Some(OrderKey {
        target,
        descending,
        nulls_first: key.options.nulls_first.unwrap_or(descending),
    })
}
