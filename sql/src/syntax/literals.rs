//! Literals PostgreSQL reads that DataFusion does not, rewritten into forms it does:
//!
//! - `LIKE` / `ILIKE` with `ESCAPE 'c'` for any character `c` (or `ESCAPE ''`, no escape):
//!   a literal pattern is rewritten to use the backslash, DataFusion's only escape.
//! - `U&'d\0061t\+000061'` (already decoded by the parser) and `N'…'` are plain text.
//! - A number with an exponent beyond what a decimal holds (`1e300`), cast to a float
//!   type: read as the text it is (`'1e300'::float8`), as PostgreSQL's numeric would hold
//!   it exactly before the cast.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, Expr, Value};

/// Exponents past this do not fit a 256-bit decimal (76 digits).
const DECIMAL_EXPONENT_LIMIT: i32 = 76;

pub fn rewrite(statement: &mut ast::Statement) {
    let _ = ast::visit_expressions_mut(statement, |expr| {
        rewrite_expr(expr);
        ControlFlow::<()>::Continue(())
    });
}

fn rewrite_expr(expr: &mut Expr) {
    match expr {
        Expr::Value(ast::ValueWithSpan {
            value: value @ (Value::UnicodeStringLiteral(_) | Value::NationalStringLiteral(_)),
            ..
        }) => {
            if let Value::UnicodeStringLiteral(text) | Value::NationalStringLiteral(text) = value {
                *value = Value::SingleQuotedString(std::mem::take(text));
            }
        }
        Expr::Like {
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char,
            ..
        } => {
            let escape = match escape_char.as_ref().map(|e| &e.value) {
                Some(Value::SingleQuotedString(escape)) => escape.clone(),
                _ => return,
            };
            if escape == "\\" {
                return;
            }
            let Expr::Value(ast::ValueWithSpan {
                value: Value::SingleQuotedString(text),
                ..
            }) = pattern.as_mut()
            else {
                return;
            };
            let mut chars = escape.chars();
            let escape = match (chars.next(), chars.next()) {
                (None, _) => None,
                (Some(c), None) => Some(c),
                // More than one character: PostgreSQL's error, raised by DataFusion's.
                _ => return,
            };
            if let Some(rewritten) = with_backslash_escape(text, escape) {
                *text = rewritten;
                *escape_char = None;
            }
        }
        Expr::Cast {
            expr: inner,
            data_type:
                ast::DataType::Float8
                | ast::DataType::Float4
                | ast::DataType::Real
                | ast::DataType::Double(_)
                | ast::DataType::DoublePrecision
                | ast::DataType::Float(_),
            ..
        } => {
            let negative = matches!(
                inner.as_ref(),
                Expr::UnaryOp {
                    op: ast::UnaryOperator::Minus,
                    ..
                }
            );
            let number = match inner.as_mut() {
                Expr::Value(ast::ValueWithSpan {
                    value: Value::Number(digits, _),
                    ..
                }) => digits.clone(),
                Expr::UnaryOp { expr: operand, .. } => match operand.as_ref() {
                    Expr::Value(ast::ValueWithSpan {
                        value: Value::Number(digits, _),
                        ..
                    }) => digits.clone(),
                    _ => return,
                },
                _ => return,
            };
            let exponent = number
                .split_once(['e', 'E'])
                .and_then(|(_, exponent)| exponent.parse::<i32>().ok());
            if exponent.is_some_and(|e| e.abs() > DECIMAL_EXPONENT_LIMIT) {
                let text = if negative {
                    format!("-{number}")
                } else {
                    number
                };
                **inner = Expr::value(Value::SingleQuotedString(text));
            }
        }
        _ => {}
    }
}

/// `pattern` with escape character `escape` (none: `None`) rewritten to escape with a
/// backslash. `None` if the pattern ends in a lone escape (left for the error).
fn with_backslash_escape(pattern: &str, escape: Option<char>) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            let next = chars.next()?;
            out.push('\\');
            out.push(next);
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_backslashes() {
        assert_eq!(with_backslash_escape("a#_c", Some('#')).unwrap(), "a\\_c");
        assert_eq!(with_backslash_escape("a##c", Some('#')).unwrap(), "a\\#c");
        assert_eq!(with_backslash_escape("a\\%", Some('#')).unwrap(), "a\\\\%");
        assert_eq!(with_backslash_escape("a\\_", None).unwrap(), "a\\\\_");
        assert_eq!(with_backslash_escape("ab#", Some('#')), None);
    }

    #[test]
    fn statements_are_rewritten() {
        let sql = "SELECT 'a_c' LIKE 'a#_c' ESCAPE '#', 1e300::float8, -1e-300::float4, \
                   1e3::float8, U&'d\\0061t\\+000061'";
        let mut statement = crate::syntax::parse(sql).unwrap().pop().unwrap();
        rewrite(&mut statement);
        assert_eq!(
            statement.to_string(),
            "SELECT 'a_c' LIKE 'a\\_c', '1e300'::FLOAT8, -'1e-300'::FLOAT4, 1e3::FLOAT8, 'data'"
        );
    }
}
