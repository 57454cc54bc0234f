//! Recognising the fast path's shapes in a parsed statement: purely syntactic, done once
//! per prepared statement or cached query text. Anything not plainly one of the shapes —
//! a clause the shape does not name, an expression beyond a column, a constant or a
//! parameter — is `None`, and the statement goes to the general path.

use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, FromTable, GroupByExpr, SelectItem, SetExpr, Statement,
    TableFactor, TableObject, TableWithJoins, UnaryOperator,
};

use super::query::recognize::query_shape;
use super::{Assignment, Operand, Output, Shape, TableName, ValueExpr};
use crate::syntax::ident_name;

/// Most VALUES rows one fast INSERT takes (longer lists are bulk loads).
const MAX_INSERT_ROWS: usize = 1000;
/// Most key columns or output columns a shape takes.
const MAX_COLUMNS: usize = 64;

pub(crate) fn recognize(statement: &Statement) -> Option<Shape> {
    match statement {
        Statement::Query(query) => select(query),
        Statement::Update(update) => update_shape(update),
        Statement::Delete(delete) => delete_shape(delete),
        Statement::Insert(insert) => insert_shape(insert),
        _ => None,
    }
}

/// `[schema.]table [AS alias]`, nothing more: the table's name and the name its columns
/// may be qualified with.
pub(super) fn plain_table(from: &TableWithJoins) -> Option<(TableName, String)> {
    if !from.joins.is_empty() {
        return None;
    }
    let TableFactor::Table {
        name,
        alias,
        args: None,
        with_hints,
        version: None,
        with_ordinality: false,
        partitions,
        json_path: None,
        sample: None,
        index_hints,
    } = &from.relation
    else {
        return None;
    };
    if !with_hints.is_empty() || !partitions.is_empty() || !index_hints.is_empty() {
        return None;
    }
    let table = table_name(name)?;
    let qualifier = match alias {
        None => table.name.clone(),
        Some(alias) if alias.columns.is_empty() => ident_name(&alias.name),
        Some(_) => return None,
    };
    Some((table, qualifier))
}

fn table_name(name: &ast::ObjectName) -> Option<TableName> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| part.as_ident().map(ident_name))
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [name] => Some(TableName {
            schema: None,
            name: name.clone(),
        }),
        [schema, name] => Some(TableName {
            schema: Some(schema.clone()),
            name: name.clone(),
        }),
        _ => None,
    }
}

/// A column reference, bare or qualified by the table's name or alias.
pub(super) fn column(expr: &Expr, qualifier: &str) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident_name(ident)),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [table, column] if ident_name(table) == qualifier => Some(ident_name(column)),
            _ => None,
        },
        Expr::Nested(inner) => column(inner, qualifier),
        _ => None,
    }
}

/// A constant or a parameter.
pub(super) fn operand(expr: &Expr) -> Option<Operand> {
    match expr {
        Expr::Value(value) => match &value.value {
            ast::Value::Placeholder(p) => {
                let n: usize = p.strip_prefix('$')?.parse().ok()?;
                (n >= 1).then(|| Operand::Param(n - 1))
            }
            ast::Value::Number(digits, false) => Some(Operand::Number(digits.clone())),
            ast::Value::SingleQuotedString(text) => Some(Operand::Text(text.clone())),
            ast::Value::Boolean(b) => Some(Operand::Bool(*b)),
            ast::Value::Null => Some(Operand::Null),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(value) => match &value.value {
                ast::Value::Number(digits, false) if !digits.starts_with('-') => {
                    Some(Operand::Number(format!("-{digits}")))
                }
                _ => None,
            },
            _ => None,
        },
        Expr::Nested(inner) => operand(inner),
        Expr::Function(function) if is_now(function) => Some(Operand::Now),
        _ => None,
    }
}

/// `now()`, `CURRENT_TIMESTAMP` (no precision): the transaction's start.
fn is_now(function: &ast::Function) -> bool {
    let [part] = function.name.0.as_slice() else {
        return false;
    };
    let Some(name) = part.as_ident() else {
        return false;
    };
    let name = name.value.to_ascii_lowercase();
    let no_args = match &function.args {
        ast::FunctionArguments::None => name == "current_timestamp",
        ast::FunctionArguments::List(list) => {
            list.args.is_empty() && list.clauses.is_empty() && name == "now"
        }
        ast::FunctionArguments::Subquery(_) => false,
    };
    no_args
        && function.filter.is_none()
        && function.over.is_none()
        && function.within_group.is_empty()
        && matches!(function.parameters, ast::FunctionArguments::None)
}

/// `key = v [AND key = v]…` as (column, operand) pairs.
fn equalities(selection: &Expr, qualifier: &str, out: &mut Vec<(String, Operand)>) -> Option<()> {
    match selection {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            equalities(left, qualifier, out)?;
            equalities(right, qualifier, out)
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            let pair = match (column(left, qualifier), column(right, qualifier)) {
                (Some(name), None) => (name, operand(right)?),
                (None, Some(name)) => (name, operand(left)?),
                _ => return None,
            };
            if out.len() >= MAX_COLUMNS || out.iter().any(|(name, _)| *name == pair.0) {
                return None;
            }
            out.push(pair);
            Some(())
        }
        Expr::Nested(inner) => equalities(inner, qualifier, out),
        _ => None,
    }
}

fn key_of(selection: Option<&Expr>, qualifier: &str) -> Option<Vec<(String, Operand)>> {
    let mut key = Vec::new();
    equalities(selection?, qualifier, &mut key)?;
    Some(key)
}

/// The body of a query, with its ORDER BY and LIMIT/OFFSET, when it has no other clause
/// around it (WITH, FETCH, FOR UPDATE…).
pub(super) fn ordered_body(
    query: &ast::Query,
) -> Option<(&SetExpr, Option<&ast::OrderBy>, Option<&ast::LimitClause>)> {
    let ast::Query {
        with: None,
        body,
        order_by,
        limit_clause,
        fetch: None,
        locks,
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators,
    } = query
    else {
        return None;
    };
    (locks.is_empty() && pipe_operators.is_empty()).then_some((
        body.as_ref(),
        order_by.as_ref(),
        limit_clause.as_ref(),
    ))
}

/// The body of a query with no clause around it (WITH, ORDER BY, LIMIT, FOR UPDATE…).
fn bare_body(query: &ast::Query) -> Option<&SetExpr> {
    match ordered_body(query)? {
        (body, None, None) => Some(body),
        _ => None,
    }
}

/// A SELECT with none of the clauses no shape takes (hints, INTO, HAVING, windows,
/// dialect extensions); DISTINCT and GROUP BY are each shape's to check.
pub(super) fn plain_select(select: &ast::Select) -> bool {
    select.optimizer_hints.is_empty()
        && select.select_modifiers.is_none()
        && select.top.is_none()
        && select.exclude.is_none()
        && select.into.is_none()
        && select.lateral_views.is_empty()
        && select.prewhere.is_none()
        && select.connect_by.is_empty()
        && select.cluster_by.is_empty()
        && select.distribute_by.is_empty()
        && select.sort_by.is_empty()
        && select.having.is_none()
        && select.named_window.is_empty()
        && select.qualify.is_none()
        && select.value_table_mode.is_none()
        && matches!(select.flavor, ast::SelectFlavor::Standard)
}

/// A point get when the query is one, else a query the pipeline runs, if it is one.
fn select(query: &ast::Query) -> Option<Shape> {
    point_select(query).or_else(|| query_shape(query).map(|shape| Shape::Query(Box::new(shape))))
}

fn point_select(query: &ast::Query) -> Option<Shape> {
    let SetExpr::Select(select) = bare_body(query)? else {
        return None;
    };
    let plain = plain_select(select)
        && select.distinct.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !plain {
        return None;
    }
    let (table, qualifier) = plain_table(from)?;
    if select.projection.len() > MAX_COLUMNS {
        return None;
    }
    let mut outputs = Vec::with_capacity(select.projection.len());
    for item in &select.projection {
        outputs.push(match item {
            SelectItem::UnnamedExpr(expr) => {
                let name = column(expr, &qualifier)?;
                Output::Column {
                    output: name.clone(),
                    name,
                }
            }
            SelectItem::ExprWithAlias { expr, alias } => Output::Column {
                name: column(expr, &qualifier)?,
                output: ident_name(alias),
            },
            SelectItem::Wildcard(options) if is_plain_wildcard(options) => Output::All,
            _ => return None,
        });
    }
    let key = key_of(select.selection.as_ref(), &qualifier)?;
    Some(Shape::Get {
        table,
        outputs,
        key,
        query: query_shape(query).map(Box::new),
    })
}

pub(super) fn is_plain_wildcard(options: &ast::WildcardAdditionalOptions) -> bool {
    options.opt_ilike.is_none()
        && options.opt_exclude.is_none()
        && options.opt_except.is_none()
        && options.opt_replace.is_none()
        && options.opt_rename.is_none()
}

/// `col = v`, `col = col ± v`, `col = v + col`.
fn value_expr(expr: &Expr, qualifier: &str) -> Option<ValueExpr> {
    if let Some(operand) = operand(expr) {
        return Some(ValueExpr::Operand(operand));
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return None;
    };
    let subtract = match op {
        BinaryOperator::Plus => false,
        BinaryOperator::Minus => true,
        _ => return None,
    };
    match (column(left, qualifier), column(right, qualifier)) {
        (Some(column), None) => Some(ValueExpr::Arithmetic {
            column,
            subtract,
            operand: operand(right)?,
        }),
        (None, Some(column)) if !subtract => Some(ValueExpr::Arithmetic {
            column,
            subtract,
            operand: operand(left)?,
        }),
        _ => None,
    }
}

fn update_shape(update: &ast::Update) -> Option<Shape> {
    if !update.optimizer_hints.is_empty()
        || update.from.is_some()
        || update.returning.is_some()
        || update.output.is_some()
        || update.or.is_some()
        || !update.order_by.is_empty()
        || update.limit.is_some()
        || update.assignments.is_empty()
    {
        return None;
    }
    let (table, qualifier) = plain_table(&update.table)?;
    let mut assignments = Vec::with_capacity(update.assignments.len());
    for assignment in &update.assignments {
        let ast::AssignmentTarget::ColumnName(name) = &assignment.target else {
            return None;
        };
        let [part] = name.0.as_slice() else {
            return None;
        };
        let name = ident_name(part.as_ident()?);
        if crate::syntax::sql_text::is_default_keyword(&assignment.value)
            || assignments.iter().any(|a: &Assignment| a.column == name)
        {
            return None;
        }
        assignments.push(Assignment {
            column: name,
            value: value_expr(&assignment.value, &qualifier)?,
        });
    }
    let key = key_of(update.selection.as_ref(), &qualifier)?;
    Some(Shape::Update {
        table,
        assignments,
        key,
    })
}

fn delete_shape(delete: &ast::Delete) -> Option<Shape> {
    if !delete.optimizer_hints.is_empty()
        || !delete.tables.is_empty()
        || delete.using.is_some()
        || delete.returning.is_some()
        || delete.output.is_some()
        || !delete.order_by.is_empty()
        || delete.limit.is_some()
    {
        return None;
    }
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let [from] = from.as_slice() else {
        return None;
    };
    let (table, qualifier) = plain_table(from)?;
    let key = key_of(delete.selection.as_ref(), &qualifier)?;
    Some(Shape::Delete { table, key })
}

fn insert_shape(insert: &ast::Insert) -> Option<Shape> {
    let plain = insert.optimizer_hints.is_empty()
        && insert.or.is_none()
        && !insert.ignore
        && insert.table_alias.is_none()
        && !insert.overwrite
        && insert.assignments.is_empty()
        && insert.partitioned.is_none()
        && insert.after_columns.is_empty()
        && !insert.has_table_keyword
        && insert.on.is_none()
        && insert.returning.is_none()
        && insert.output.is_none()
        && !insert.replace_into
        && insert.priority.is_none()
        && insert.insert_alias.is_none()
        && insert.settings.is_none()
        && insert.format_clause.is_none()
        && insert.multi_table_insert_type.is_none()
        && insert.multi_table_into_clauses.is_empty()
        && insert.multi_table_when_clauses.is_empty();
    if !plain {
        return None;
    }
    let TableObject::TableName(name) = &insert.table else {
        return None;
    };
    let table = table_name(name)?;
    let mut columns = Vec::with_capacity(insert.columns.len());
    for name in &insert.columns {
        let [part] = name.0.as_slice() else {
            return None;
        };
        let name = ident_name(part.as_ident()?);
        if columns.contains(&name) || columns.len() >= MAX_COLUMNS {
            return None;
        }
        columns.push(name);
    }
    let SetExpr::Values(values) = bare_body(insert.source.as_ref()?)? else {
        return None;
    };
    if values.explicit_row || values.rows.is_empty() || values.rows.len() > MAX_INSERT_ROWS {
        return None;
    }
    let width = values.rows[0].content.len();
    if width == 0 || (!columns.is_empty() && width != columns.len()) {
        return None;
    }
    let mut rows = Vec::with_capacity(values.rows.len());
    for row in &values.rows {
        if row.content.len() != width {
            return None;
        }
        let row: Vec<Operand> = row
            .content
            .iter()
            .map(|cell| {
                if crate::syntax::sql_text::is_default_keyword(cell) {
                    None
                } else {
                    operand(cell)
                }
            })
            .collect::<Option<_>>()?;
        rows.push(row);
    }
    Some(Shape::Insert {
        table,
        columns,
        rows,
    })
}
