//! PostgreSQL syntax that catalog queries use and DataFusion does not know, rewritten in
//! the parsed statement before planning:
//!
//! - `pg_catalog.`-qualified function and type names (`pg_catalog.format_type(…)`,
//!   `::pg_catalog.text`) lose the qualifier: every built-in lives there.
//! - `OPERATOR(pg_catalog.~)` becomes the operator it names.
//! - `COLLATE …` is dropped: text compares by bytes, which is the `C` collation, the only
//!   one ByteData has.
//! - `current_user`, `session_user`, `user`, `current_role`, `current_catalog` and
//!   `current_schema` written without parentheses become function calls.
//! - Casts to the object-identifier types become functions that look names up: `x::regclass`
//!   is `bytedata_regclass(x)`, which turns a name into an OID and an OID into a name
//!   (PostgreSQL's `regclass` is both at once); a cast of that on to a text type asks for
//!   the name, on to `oid` for the number.
//!
//! `answer_empty` is the fallback for catalog queries ByteData cannot plan: a SELECT that
//! inner-joins a system table that never has rows (triggers, policies, publications …)
//! has no rows whatever its select list says, so it is answered with none.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, DataType, Expr, FunctionArgumentList, FunctionArguments, Ident,
    ObjectName, SelectItem, SetExpr, Statement, TableFactor, Value,
};

/// The object-identifier types and the function each cast to one becomes.
const REG_TYPES: &[(&str, &str)] = &[
    ("regclass", "bytedata_regclass"),
    ("regtype", "bytedata_regtype"),
    ("regnamespace", "bytedata_regnamespace"),
    ("regrole", "bytedata_regrole"),
];

/// Functions PostgreSQL lets one call without parentheses.
const BARE_FUNCTIONS: &[&str] = &[
    "current_user",
    "session_user",
    "user",
    "current_role",
    "current_catalog",
    "current_schema",
];

pub fn rewrite(statement: &mut Statement) {
    let _ = ast::visit_expressions_mut(statement, |expr| {
        rewrite_expr(expr);
        ControlFlow::<()>::Continue(())
    });
    let _ = ast::VisitMut::visit(statement, &mut LateralValues);
}

/// `CROSS JOIN LATERAL (SELECT e1, e2) AS o(a, b)` — a lateral subquery without FROM,
/// as pgbench writes one — is only a name for expressions over the rows to its left:
/// the join goes, and `o.a` becomes `(e1)` wherever the query uses it.
struct LateralValues;

impl ast::VisitorMut for LateralValues {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut ast::Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let mut names: Vec<(String, Option<String>, Expr)> = Vec::new();
        for from in &mut select.from {
            from.joins.retain(|join| {
                let ast::JoinOperator::CrossJoin(_) = join.join_operator else {
                    return true;
                };
                match lateral_values(&join.relation) {
                    Some(values) => {
                        names.extend(values);
                        false
                    }
                    None => true,
                }
            });
        }
        if names.is_empty() {
            return ControlFlow::Continue(());
        }
        let substitute = |expr: &mut Expr| {
            let _ = ast::visit_expressions_mut(expr, |e| {
                let found = match e {
                    Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                        names.iter().find(|(alias, column, _)| {
                            *alias == crate::syntax::ident_name(&parts[0])
                                && column.as_deref()
                                    == Some(crate::syntax::ident_name(&parts[1]).as_str())
                        })
                    }
                    Expr::Identifier(ident) => names.iter().find(|(_, column, _)| {
                        column.as_deref() == Some(crate::syntax::ident_name(ident).as_str())
                    }),
                    _ => None,
                };
                if let Some((_, _, value)) = found {
                    *e = Expr::Nested(Box::new(value.clone()));
                }
                ControlFlow::<()>::Continue(())
            });
        };
        for item in &mut select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    // Keep the column's name, as the reference named it.
                    let name = match expr {
                        Expr::CompoundIdentifier(parts) => parts.last().cloned(),
                        Expr::Identifier(ident) => Some(ident.clone()),
                        _ => None,
                    };
                    let mut replaced = expr.clone();
                    substitute(&mut replaced);
                    if replaced != *expr {
                        *item = match name {
                            Some(alias) => SelectItem::ExprWithAlias {
                                expr: replaced,
                                alias,
                            },
                            None => SelectItem::UnnamedExpr(replaced),
                        };
                    }
                }
                SelectItem::ExprWithAlias { expr, .. } => substitute(expr),
                _ => {}
            }
        }
        if let Some(selection) = &mut select.selection {
            substitute(selection);
        }
        if let ast::GroupByExpr::Expressions(exprs, _) = &mut select.group_by {
            exprs.iter_mut().for_each(&substitute);
        }
        ControlFlow::Continue(())
    }
}

/// The (alias, column, expression) triples a FROM-less lateral subquery defines.
fn lateral_values(factor: &TableFactor) -> Option<Vec<(String, Option<String>, Expr)>> {
    let TableFactor::Derived {
        lateral: true,
        subquery,
        alias: Some(alias),
        ..
    } = factor
    else {
        return None;
    };
    let SetExpr::Select(select) = subquery.body.as_ref() else {
        return None;
    };
    let plain = select.from.is_empty()
        && select.selection.is_none()
        && subquery.order_by.is_none()
        && subquery.limit_clause.is_none()
        && matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    if !plain {
        return None;
    }
    let alias_name = crate::syntax::ident_name(&alias.name);
    select
        .projection
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (expr, own_name) = match item {
                SelectItem::UnnamedExpr(expr) => (expr.clone(), None),
                SelectItem::ExprWithAlias { expr, alias } => {
                    (expr.clone(), Some(crate::syntax::ident_name(alias)))
                }
                _ => return None,
            };
            let column = alias
                .columns
                .get(i)
                .map(|c| crate::syntax::ident_name(&c.name))
                .or(own_name);
            Some((alias_name.clone(), column, expr))
        })
        .collect()
}

/// A call of the function `name` with `args`.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(ast::Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn last_ident(name: &ObjectName) -> Option<&Ident> {
    name.0.last()?.as_ident()
}

fn is_catalog_qualified(name: &ObjectName) -> bool {
    name.0.len() == 2
        && name.0[0]
            .as_ident()
            .is_some_and(|i| i.value.eq_ignore_ascii_case("pg_catalog"))
}

/// The object-identifier type a type names (`regclass`, `pg_catalog.regtype`, …).
fn reg_function(data_type: &DataType) -> Option<&'static str> {
    let name = match data_type {
        DataType::Regclass => "regclass".to_owned(),
        DataType::Custom(name, modifiers) if modifiers.is_empty() => {
            last_ident(name)?.value.to_lowercase()
        }
        _ => return None,
    };
    REG_TYPES
        .iter()
        .find(|(ty, _)| *ty == name)
        .map(|(_, function)| *function)
}

/// The type without a `pg_catalog.` qualifier (`pg_catalog.int2[]` → `int2[]`).
fn unqualified(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Custom(name, modifiers) if is_catalog_qualified(name) => {
            let base = &last_ident(name)?.value;
            let text = if modifiers.is_empty() {
                base.clone()
            } else {
                format!("{base}({})", modifiers.join(","))
            };
            let dialect = ast_dialect();
            datafusion::sql::sqlparser::parser::Parser::new(&dialect)
                .try_with_sql(&text)
                .and_then(|mut p| p.parse_data_type())
                .ok()
        }
        DataType::Array(ast::ArrayElemTypeDef::SquareBracket(element, size)) => {
            Some(DataType::Array(ast::ArrayElemTypeDef::SquareBracket(
                Box::new(unqualified(element)?),
                *size,
            )))
        }
        _ => None,
    }
}

fn ast_dialect() -> datafusion::sql::sqlparser::dialect::PostgreSqlDialect {
    datafusion::sql::sqlparser::dialect::PostgreSqlDialect {}
}

fn is_text_type(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Text | DataType::Varchar(_) | DataType::CharacterVarying(_) | DataType::String(_)
    ) || matches!(data_type, DataType::Custom(name, _)
        if last_ident(name).is_some_and(|i| i.value.eq_ignore_ascii_case("name")))
}

fn is_oid_type(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Custom(name, _)
        if last_ident(name).is_some_and(|i| i.value.eq_ignore_ascii_case("oid")))
        || matches!(
            data_type,
            DataType::Int(_) | DataType::Integer(_) | DataType::BigInt(_) | DataType::Int8(_)
        )
}

/// The operator `OPERATOR(schema.op)` names, if it is one DataFusion knows.
fn named_operator(op: &str) -> Option<BinaryOperator> {
    Some(match op {
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "~~" => BinaryOperator::PGLikeMatch,
        "!~~" => BinaryOperator::PGNotLikeMatch,
        "~~*" => BinaryOperator::PGILikeMatch,
        "=" => BinaryOperator::Eq,
        "<>" | "!=" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        "<=" => BinaryOperator::LtEq,
        ">" => BinaryOperator::Gt,
        ">=" => BinaryOperator::GtEq,
        "||" => BinaryOperator::StringConcat,
        "+" => BinaryOperator::Plus,
        "-" => BinaryOperator::Minus,
        "*" => BinaryOperator::Multiply,
        "/" => BinaryOperator::Divide,
        _ => return None,
    })
}

fn rewrite_expr(expr: &mut Expr) {
    match expr {
        Expr::Function(function)
            if last_ident(&function.name)
                .is_some_and(|i| i.value.eq_ignore_ascii_case("_pg_expandarray")) =>
        {
            // information_schema._pg_expandarray(a): the rows (x, n) of a's elements and
            // subscripts, as JDBC's metadata queries read them.
            if let FunctionArguments::List(list) = &function.args
                && let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(array))] =
                    list.args.as_slice()
            {
                *expr = call(
                    "unnest",
                    vec![call("bytedata_expandarray", vec![array.clone()])],
                );
            }
        }
        Expr::Function(function) => {
            if is_catalog_qualified(&function.name)
                && let Some(ident) = last_ident(&function.name).cloned()
            {
                function.name = ObjectName::from(vec![ident]);
            }
            let bare = matches!(function.args, FunctionArguments::None)
                && function.name.0.len() == 1
                && last_ident(&function.name).is_some_and(|i| {
                    i.quote_style.is_none()
                        && BARE_FUNCTIONS.contains(&i.value.to_lowercase().as_str())
                });
            if bare {
                function.args = FunctionArguments::List(FunctionArgumentList {
                    duplicate_treatment: None,
                    args: vec![],
                    clauses: vec![],
                });
            }
            // `generate_subscripts(a, d)` in a select list runs in step with `unnest(a)`
            // beside it, as set-returning functions do in PostgreSQL.
            if last_ident(&function.name)
                .is_some_and(|i| i.value.eq_ignore_ascii_case("generate_subscripts"))
            {
                let args: Vec<Expr> = crate::syntax::naming::function_args(function)
                    .into_iter()
                    .cloned()
                    .collect();
                if args.len() == 2 {
                    *expr = call("unnest", vec![call("bytedata_subscripts", args)]);
                }
            }
        }
        Expr::Identifier(ident)
            if ident.quote_style.is_none()
                && matches!(
                    ident.value.to_lowercase().as_str(),
                    "current_role" | "current_schema"
                ) =>
        {
            *expr = call(&ident.value.to_lowercase(), vec![]);
        }
        Expr::BinaryOp { op, .. } => {
            if let BinaryOperator::PGCustomBinaryOperator(parts) = op
                && let Some(named) = parts.last().and_then(|o| named_operator(o))
            {
                *op = named;
            }
        }
        // `(composite).field`: a struct field, which DataFusion reads as `composite['field']`.
        Expr::CompoundFieldAccess { root, access_chain } if matches!(**root, Expr::Nested(_)) => {
            for access in access_chain.iter_mut() {
                if let ast::AccessExpr::Dot(Expr::Identifier(field)) = access {
                    let name = crate::syntax::ident_name(field);
                    *access = ast::AccessExpr::Subscript(ast::Subscript::Index {
                        index: Expr::value(Value::SingleQuotedString(name)),
                    });
                }
            }
        }
        // `INTERVAL '1 day 04:05:06'` without fields reads its text as `'…'::interval` does,
        // with PostgreSQL's interval input (DataFusion's reads fewer forms).
        Expr::Interval(ast::Interval {
            value,
            leading_field: None,
            leading_precision: None,
            last_field: None,
            fractional_seconds_precision: None,
        }) if matches!(
            value.as_ref(),
            Expr::Value(ast::ValueWithSpan {
                value: Value::SingleQuotedString(_),
                ..
            })
        ) =>
        {
            let text = std::mem::replace(value.as_mut(), Expr::value(Value::Null));
            *expr = Expr::Cast {
                kind: ast::CastKind::DoubleColon,
                expr: Box::new(text),
                data_type: ast::DataType::Interval {
                    fields: None,
                    precision: None,
                },
                array: false,
                format: None,
            };
        }
        Expr::Collate { expr: inner, .. } => {
            *expr = std::mem::replace(inner.as_mut(), Expr::value(Value::Null));
        }
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } => {
            if let Some(function) = reg_function(data_type) {
                *expr = call(
                    function,
                    vec![std::mem::replace(inner, Expr::value(Value::Null))],
                );
                return;
            }
            if let Some(plain) = unqualified(data_type) {
                *data_type = plain;
            }
            // `x::regclass::text`: the name; `x::regclass::oid`: the OID.
            if let Expr::Function(function) = inner.as_ref()
                && let Some(ident) = last_ident(&function.name)
                && let Some((reg, _)) = REG_TYPES.iter().find(|(_, f)| *f == ident.value)
                && let FunctionArguments::List(list) = &function.args
                && let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(argument))] =
                    list.args.as_slice()
            {
                let argument = argument.clone();
                if is_text_type(data_type) {
                    *expr = call(&format!("bytedata_{reg}_name"), vec![argument]);
                } else if is_oid_type(data_type) {
                    *expr = call(&format!("bytedata_{reg}_oid"), vec![argument]);
                }
            }
        }
        _ => {}
    }
}

/// Whether a catalog table always has no rows: the system catalog's to say (`system`),
/// passed in by the caller since syntax knows no catalog.
pub type AlwaysEmpty = fn(&str) -> bool;

/// Rewrites each SELECT that inner-joins an always-empty system table into one that
/// returns no rows with the same column names. Returns whether anything changed.
pub fn answer_empty(statement: &mut Statement, always_empty: AlwaysEmpty) -> bool {
    let Statement::Query(query) = statement else {
        return false;
    };
    let (changed, all) = empty_body(&mut query.body, always_empty);
    if changed && all {
        query.order_by = None;
        query.limit_clause = None;
    }
    changed
}

/// (whether any branch changed, whether every branch did)
fn empty_body(body: &mut SetExpr, always_empty: AlwaysEmpty) -> (bool, bool) {
    match body {
        SetExpr::Select(select) => {
            let empty = select.from.iter().any(|from| {
                is_empty_factor(&from.relation, always_empty)
                    || from.joins.iter().any(|join| {
                        matches!(
                            join.join_operator,
                            ast::JoinOperator::Inner(_)
                                | ast::JoinOperator::Join(_)
                                | ast::JoinOperator::CrossJoin(_)
                        ) && is_empty_factor(&join.relation, always_empty)
                    })
            });
            if !empty || has_aggregate(select) {
                return (false, false);
            }
            // Distinct names, as DataFusion needs; the result is renamed to the names the
            // original statement gives its columns.
            select.projection = (0..select.projection.len())
                .map(|i| SelectItem::ExprWithAlias {
                    expr: Expr::value(Value::Null),
                    alias: Ident::new(format!("bytedata_empty_{i}")),
                })
                .collect();
            select.from.clear();
            select.selection = Some(Expr::value(Value::Boolean(false)));
            select.group_by = ast::GroupByExpr::Expressions(vec![], vec![]);
            select.having = None;
            select.distinct = None;
            (true, true)
        }
        SetExpr::SetOperation { left, right, .. } => {
            let (l_changed, l_all) = empty_body(left, always_empty);
            let (r_changed, r_all) = empty_body(right, always_empty);
            (l_changed || r_changed, l_all && r_all)
        }
        SetExpr::Query(query) => empty_body(&mut query.body, always_empty),
        _ => (false, false),
    }
}

/// Whether a statement reads a system table that never has rows (cheap: a walk over its
/// relation names).
pub fn reads_empty_table(statement: &Statement, always_empty: AlwaysEmpty) -> bool {
    let mut found = false;
    let _ = ast::visit_relations(statement, |name| {
        found |= (name.0.len() == 1 || is_catalog_qualified(name))
            && last_ident(name).is_some_and(|i| always_empty(&i.value.to_lowercase()));
        ControlFlow::<()>::Continue(())
    });
    found
}

fn is_empty_factor(factor: &TableFactor, always_empty: AlwaysEmpty) -> bool {
    let TableFactor::Table {
        name, args: None, ..
    } = factor
    else {
        return false;
    };
    let in_catalog = name.0.len() == 1 || is_catalog_qualified(name);
    in_catalog && last_ident(name).is_some_and(|i| always_empty(&i.value.to_lowercase()))
}

/// Whether a SELECT aggregates (so it has a row even over no rows). Aggregates inside
/// its subqueries do not count.
fn has_aggregate(select: &ast::Select) -> bool {
    struct Aggregates {
        depth: usize,
        found: bool,
    }
    impl ast::Visitor for Aggregates {
        type Break = ();
        fn pre_visit_query(&mut self, _: &ast::Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &ast::Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if self.depth == 0
                && let Expr::Function(f) = expr
                && f.over.is_none()
                && let Some(i) = last_ident(&f.name)
                && crate::syntax::single_row::AGGREGATES.contains(&i.value.to_lowercase().as_str())
            {
                self.found = true;
            }
            ControlFlow::Continue(())
        }
    }
    if !matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty())
        || select.having.is_some()
    {
        return true;
    }
    let mut visitor = Aggregates {
        depth: 0,
        found: false,
    };
    let _ = ast::Visit::visit(&select.projection, &mut visitor);
    visitor.found
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
    fn catalog_syntax_becomes_plain_sql() {
        assert_eq!(
            rewritten(
                "SELECT pg_catalog.format_type(a, b) FROM t \
                 WHERE c OPERATOR(pg_catalog.~) '^(x)$' COLLATE pg_catalog.default"
            ),
            "SELECT format_type(a, b) FROM t WHERE c ~ '^(x)$'"
        );
        assert_eq!(
            rewritten("SELECT current_user, session_user, current_schema"),
            "SELECT current_user(), session_user(), current_schema()"
        );
        assert_eq!(
            rewritten("SELECT x::pg_catalog.text, y::pg_catalog.int2[]"),
            "SELECT x::TEXT, y::INT2[]"
        );
    }

    #[test]
    fn from_less_lateral_subqueries_are_inlined() {
        assert_eq!(
            rewritten(
                "SELECT o.n, count(*) FROM pg_class AS c \
                 CROSS JOIN LATERAL (SELECT f(c.x)) AS o(n) WHERE o.n IS NOT NULL GROUP BY 1"
            ),
            "SELECT (f(c.x)) AS n, count(*) FROM pg_class AS c WHERE (f(c.x)) IS NOT NULL GROUP BY 1"
        );
    }

    #[test]
    fn reg_casts_become_lookups() {
        assert_eq!(
            rewritten("SELECT 't'::regclass, c.oid::pg_catalog.regclass"),
            "SELECT bytedata_regclass('t'), bytedata_regclass(c.oid)"
        );
        assert_eq!(
            rewritten("SELECT 't'::regclass::oid, c.oid::regclass::pg_catalog.text"),
            "SELECT bytedata_regclass_oid('t'), bytedata_regclass_name(c.oid)"
        );
        assert_eq!(
            rewritten("SELECT t::regtype::text"),
            "SELECT bytedata_regtype_name(t)"
        );
    }

    /// The syntax layer's tests name the empty tables themselves; `system`'s tests check
    /// its own list.
    fn triggers_are_empty(name: &str) -> bool {
        name == "pg_trigger"
    }

    #[test]
    fn selects_over_empty_catalog_tables_are_answered_empty() {
        let mut statement = crate::syntax::parse(
            "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_catalog.pg_trigger t \
             WHERE t.tgrelid = '1' ORDER BY 1",
        )
        .unwrap()
        .remove(0);
        assert!(answer_empty(&mut statement, triggers_are_empty));
        assert_eq!(
            statement.to_string(),
            "SELECT NULL AS bytedata_empty_0, NULL AS bytedata_empty_1 WHERE false"
        );
        let mut counted = crate::syntax::parse("SELECT count(*) FROM pg_trigger")
            .unwrap()
            .remove(0);
        assert!(
            !answer_empty(&mut counted, triggers_are_empty),
            "an aggregate has a row"
        );
        let mut user = crate::syntax::parse("SELECT * FROM accounts")
            .unwrap()
            .remove(0);
        assert!(!answer_empty(&mut user, triggers_are_empty));
    }
}
