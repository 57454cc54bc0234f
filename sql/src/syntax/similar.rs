//! The regular-expression syntax DataFusion reads differently from PostgreSQL:
//!
//! - `x [NOT] SIMILAR TO p [ESCAPE e]` becomes `[NOT] pg_similar_to(x, p[, e])`.
//!   DataFusion takes `p` as a regular expression as it is; PostgreSQL translates the
//!   SQL pattern (`%`, `_`, anchored at both ends) first (`planner::regexp`).
//! - `x ~ p`, `x ~* p`, `x !~ p`, `x !~* p` become `[NOT] regexp_like(x, p[, 'i'])`:
//!   DataFusion's operators take the `regex` crate's defaults (`.` not matching a
//!   newline) and pass on its error text.
//! - `substring(x FROM 'pattern')` with a string literal, and `substring(x FROM p FOR
//!   'e')`, become `pg_substring_regex(x, p[, e])`: PostgreSQL's POSIX and SIMILAR forms
//!   of `substring`, which DataFusion reads as positions.
//!
//! Runs after output names are chosen, so the columns keep PostgreSQL's names.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, BinaryOperator, Expr, UnaryOperator, Value};

use crate::syntax::catalog_queries::call;

fn take(expr: &mut Expr) -> Expr {
    std::mem::replace(expr, Expr::value(Value::Null))
}

fn is_string_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_) | Value::EscapedStringLiteral(_)))
}

fn maybe_not(test: Expr, negated: bool) -> Expr {
    if negated {
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: Box::new(Expr::Nested(Box::new(test))),
        }
    } else {
        test
    }
}

pub fn rewrite(statement: &mut ast::Statement) {
    let _ = ast::visit_expressions_mut(statement, |expr: &mut Expr| {
        match expr {
            Expr::BinaryOp { left, op, right }
                if matches!(
                    op,
                    BinaryOperator::PGRegexMatch
                        | BinaryOperator::PGRegexIMatch
                        | BinaryOperator::PGRegexNotMatch
                        | BinaryOperator::PGRegexNotIMatch
                ) =>
            {
                let insensitive = matches!(
                    op,
                    BinaryOperator::PGRegexIMatch | BinaryOperator::PGRegexNotIMatch
                );
                let not = matches!(
                    op,
                    BinaryOperator::PGRegexNotMatch | BinaryOperator::PGRegexNotIMatch
                );
                let mut args = vec![take(left), take(right)];
                if insensitive {
                    args.push(Expr::value(Value::SingleQuotedString("i".to_owned())));
                }
                *expr = maybe_not(call("regexp_like", args), not);
            }
            Expr::SimilarTo {
                negated,
                expr: value,
                pattern,
                escape_char,
            } => {
                let mut args = vec![take(value), take(pattern)];
                if let Some(escape) = escape_char.take() {
                    args.push(Expr::Value(escape));
                }
                *expr = maybe_not(call("pg_similar_to", args), *negated);
            }
            Expr::Substring {
                expr: value,
                substring_from: Some(from),
                substring_for,
                ..
            } => {
                let similar = substring_for.as_deref().is_some_and(is_string_literal);
                if similar || (substring_for.is_none() && is_string_literal(from)) {
                    let mut args = vec![take(value), take(from)];
                    if let Some(escape) = substring_for.as_deref_mut() {
                        args.push(take(escape));
                    }
                    *expr = call("pg_substring_regex", args);
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}
