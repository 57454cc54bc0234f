//! SQL text ByteData writes itself — identifiers quoted when they must be, relation
//! names as `nextval` takes them — and reads back: expressions stored in the catalog
//! (defaults, CHECK conditions), parsed when used.

use datafusion::sql::sqlparser::ast;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{Result, SqlError};

/// An identifier quoted for SQL text we build.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A name as an identifier in SQL text: bare when it reads back the same, else quoted.
pub fn ident_text(name: &str) -> String {
    let simple = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if simple {
        name.to_owned()
    } else {
        quote_ident(name)
    }
}

/// A string literal naming a relation, as `nextval` takes it: `'public.t_id_seq'`.
pub fn regclass_literal(schema: &str, name: &str) -> String {
    let text = format!("{}.{}", ident_text(schema), ident_text(name));
    format!("'{}'", text.replace('\'', "''"))
}

/// An expression stored in the catalog, parsed (XX001 if it no longer parses: the
/// catalog entry is damaged).
pub fn parse_expr(text: &str) -> Result<ast::Expr> {
    let dialect = PostgreSqlDialect {};
    Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| {
            SqlError::new(
                "XX001",
                format!("stored expression {text:?} does not parse: {e}"),
            )
        })
}

/// A query ByteData writes itself, parsed.
pub fn parse_query(text: &str) -> Result<ast::Query> {
    let dialect = PostgreSqlDialect {};
    Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_query())
        .map(|query| *query)
        .map_err(|e| SqlError::new("XX000", format!("query {text:?} does not parse: {e}")))
}

/// Whether an expression is the keyword DEFAULT (in VALUES or SET).
pub fn is_default_keyword(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Identifier(ident) if ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("default"))
}
