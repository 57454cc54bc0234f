//! Parsing: sqlparser's PostgreSQL dialect, plus the few statements it does not know in
//! the form PostgreSQL (or ByteData) writes them.
//!
//! `CREATE DATABASE name [WITH] [(] option [=] value [, …] [)]` is parsed here: sqlparser
//! accepts none of PostgreSQL's options. The options come back in the statement's
//! `with_tags` list (name → value), which is otherwise unused in our dialect.
//!
//! Syntax errors are reported as PostgreSQL reports them: `syntax error at or near "x"`
//! with the position of `x` in the query string (psql shows the line and a caret).

use datafusion::sql::sqlparser::ast::{self, Ident, ObjectName, Statement, Tag};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::error::{Result, SqlError};

/// Most statements one query string may hold.
const MAX_STATEMENTS: usize = 10_000;

/// Parses a query string into its statements (empty statements are skipped).
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| syntax_error(sql, ParserError::from(e)))?;
    let mut parser =
        Parser::new(&dialect).with_tokens_with_locations(copy_booleans(without_only(tokens)));
    let mut statements = Vec::new();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token().token == Token::EOF {
            break;
        }
        if statements.len() == MAX_STATEMENTS {
            return Err(SqlError::new(
                "54000",
                format!("a query string may hold at most {MAX_STATEMENTS} statements"),
            ));
        }
        let statement = if parser.parse_keywords(&[Keyword::CREATE, Keyword::DATABASE]) {
            create_database(&mut parser)
        } else if parser.parse_keyword(Keyword::VACUUM) {
            vacuum(&mut parser)
        } else if is_word(&parser.peek_token().token, "checkpoint") {
            parser.next_token();
            Ok(checkpoint_statement())
        } else {
            parser.parse_statement()
        }
        .map_err(|e| syntax_error(sql, e))?;
        let mut statement = select_into_as_create(statement)?;
        crate::syntax::catalog_queries::rewrite(&mut statement);
        crate::syntax::literals::rewrite(&mut statement);
        crate::syntax::set_returning::rewrite(&mut statement);
        crate::syntax::fetch::rewrite(&mut statement)?;
        crate::syntax::single_row::rewrite(&mut statement);
        statements.push(statement);
        let next = parser.peek_token();
        if next.token != Token::EOF && next.token != Token::SemiColon {
            let location = next.span.start;
            let error = near(&next.token.to_string());
            return Err(
                match char_position(sql, location.line as usize, location.column as usize) {
                    Some(position) => error.with_position(position),
                    None => error,
                },
            );
        }
    }
    Ok(statements)
}

/// `FROM ONLY t` (also after JOIN, UPDATE, TRUNCATE, and `DELETE FROM`) excludes the
/// tables inheriting from `t`; there is no inheritance here, so it is `FROM t`. `ONLY` is
/// reserved in PostgreSQL: unquoted, it names no table.
fn without_only(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let significant = |token: &TokenWithSpan| !matches!(token.token, Token::Whitespace(_));
    let mut previous: Option<Keyword> = None;
    let mut i = 0;
    while i < tokens.len() {
        if !significant(&tokens[i]) {
            i += 1;
            continue;
        }
        let keyword = match &tokens[i].token {
            Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
            _ => None,
        };
        let after_table_keyword = matches!(
            previous,
            Some(
                Keyword::FROM
                    | Keyword::JOIN
                    | Keyword::UPDATE
                    | Keyword::TRUNCATE
                    | Keyword::TABLE
            )
        );
        if after_table_keyword && keyword == Some(Keyword::ONLY) {
            let next = tokens[i + 1..].iter().find(|t| significant(t));
            if matches!(next.map(|t| &t.token), Some(Token::Word(_) | Token::LParen)) {
                tokens[i].token =
                    Token::Whitespace(datafusion::sql::sqlparser::tokenizer::Whitespace::Space);
                i += 1;
                continue;
            }
        }
        previous = keyword;
        i += 1;
    }
    tokens
}

/// PostgreSQL's COPY options take any boolean spelling (`freeze on`, as pgbench sends);
/// sqlparser's only `true` and `false`. Inside the parentheses of a COPY statement, `on`
/// and `off` become those.
fn copy_booleans(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut in_copy = false;
    let mut at_start = true;
    let mut depth = 0usize;
    for token in &mut tokens {
        match &token.token {
            Token::Whitespace(_) => continue,
            Token::SemiColon => {
                in_copy = false;
                at_start = true;
                depth = 0;
                continue;
            }
            Token::Word(word) if at_start => in_copy = word.keyword == Keyword::COPY,
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(word) if in_copy && depth > 0 && word.quote_style.is_none() => {
                if word.value.eq_ignore_ascii_case("on") {
                    token.token = Token::make_keyword("TRUE");
                } else if word.value.eq_ignore_ascii_case("off") {
                    token.token = Token::make_keyword("FALSE");
                }
            }
            _ => {}
        }
        at_start = false;
    }
    tokens
}

/// The statement `CHECKPOINT` travels as: sqlparser has no CHECKPOINT, and its FLUSH
/// (MySQL's) is otherwise refused, so a FLUSH carrying this marker channel is ours.
pub const CHECKPOINT_CHANNEL: &str = "\u{0}checkpoint";

fn checkpoint_statement() -> Statement {
    Statement::Flush {
        object_type: ast::FlushType::Tables,
        location: None,
        channel: Some(CHECKPOINT_CHANNEL.to_owned()),
        read_lock: false,
        export: false,
        tables: vec![],
    }
}

/// Whether `statement` is CHECKPOINT.
pub fn is_checkpoint(statement: &Statement) -> bool {
    matches!(statement, Statement::Flush { channel: Some(c), tables, .. } if c == CHECKPOINT_CHANNEL && tables.is_empty())
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// `SELECT … INTO [TEMP] [TABLE] t FROM …` is `CREATE [TEMP] TABLE t AS SELECT … FROM …`.
fn select_into_as_create(mut statement: Statement) -> Result<Statement> {
    let Statement::Query(query) = &mut statement else {
        return Ok(statement);
    };
    let ast::SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(statement);
    };
    let Some(into) = select.into.take() else {
        return Ok(statement);
    };
    let temporary = if into.temporary { "TEMPORARY " } else { "" };
    let text = format!("CREATE {temporary}TABLE {} AS {query}", into.name);
    // Parsed as it is: the rewrites below run once, on the result.
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&text)
        .and_then(|mut parser| parser.parse_statement())
        .map_err(|e| SqlError::new("XX000", format!("SELECT INTO as CREATE TABLE AS: {e}")))
}

fn near(token: &str) -> SqlError {
    if token.is_empty() || token == "EOF" {
        SqlError::syntax("syntax error at end of input")
    } else {
        SqlError::syntax(format!("syntax error at or near \"{token}\""))
    }
}

/// The character position (1-based, over the whole string) of a line and column (both
/// 1-based) in `sql`; `None` when they are not in it.
fn char_position(sql: &str, line: usize, column: usize) -> Option<usize> {
    if line == 0 || column == 0 {
        return None;
    }
    let mut position = 1;
    for (number, text) in sql.split('\n').enumerate() {
        if number + 1 == line {
            return (column <= text.chars().count() + 1).then_some(position + column - 1);
        }
        position += text.chars().count() + 1;
    }
    None
}

/// Where sqlparser's message says the error is (`… at Line: 3, Column: 7`).
fn reported_location(text: &str) -> Option<(usize, usize)> {
    let rest = &text[text.rfind("at Line: ")? + "at Line: ".len()..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

/// PostgreSQL's wording for a sqlparser error ("Expected: …, found: x at Line: 1, …"),
/// at the position sqlparser names.
fn syntax_error(sql: &str, error: ParserError) -> SqlError {
    let text = match &error {
        ParserError::TokenizerError(text) | ParserError::ParserError(text) => text.clone(),
        ParserError::RecursionLimitExceeded => {
            return SqlError::new("54001", "statement is too deeply nested");
        }
    };
    let found = text
        .split("found: ")
        .nth(1)
        .map(|rest| match rest.rfind(" at Line:") {
            Some(end) => &rest[..end],
            None => rest,
        });
    let error = match found {
        Some(token) => near(token),
        None => SqlError::syntax(format!("syntax error: {text}")),
    };
    match reported_location(&text).and_then(|(line, column)| char_position(sql, line, column)) {
        Some(position) => error.with_position(position),
        None => error,
    }
}

/// After `VACUUM`, PostgreSQL's forms: `[FULL] [FREEZE] [VERBOSE] [ANALYZE]` or a
/// parenthesised option list, then tables (each with optional columns). The statement
/// keeps the first table; the session checks none and does nothing (the store collects
/// old versions by itself).
fn vacuum(parser: &mut Parser) -> Result<Statement, ParserError> {
    use datafusion::sql::sqlparser::ast::VacuumStatement;
    let mut full = false;
    if parser.consume_token(&Token::LParen) {
        let mut depth = 1usize;
        while depth > 0 {
            match parser.next_token().token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::EOF => return parser.expected("')'", parser.peek_token()),
                _ => {}
            }
        }
    } else {
        loop {
            if parser.parse_keyword(Keyword::FULL) {
                full = true;
            } else if parser
                .parse_one_of_keywords(&[Keyword::FREEZE, Keyword::VERBOSE, Keyword::ANALYZE])
                .is_none()
            {
                break;
            }
        }
    }
    let mut table_name = None;
    if !matches!(parser.peek_token().token, Token::EOF | Token::SemiColon) {
        loop {
            let name = parser.parse_object_name(false)?;
            table_name.get_or_insert(name);
            if parser.consume_token(&Token::LParen) {
                parser.parse_comma_separated(|p| p.parse_identifier())?;
                parser.expect_token(&Token::RParen)?;
            }
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        }
    }
    Ok(Statement::Vacuum(VacuumStatement {
        full,
        sort_only: false,
        delete_only: false,
        reindex: false,
        recluster: false,
        table_name,
        threshold: None,
        boost: false,
    }))
}

/// After `CREATE DATABASE`: `[IF NOT EXISTS] name [WITH] options`, where the options are
/// a parenthesised comma-separated list or PostgreSQL's space-separated one.
fn create_database(parser: &mut Parser) -> Result<Statement, ParserError> {
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parser.parse_object_name(false)?;
    let _ = parser.parse_keyword(Keyword::WITH);
    let parenthesised = parser.consume_token(&Token::LParen);
    let mut options = Vec::new();
    loop {
        let next = parser.peek_token().token;
        if next == Token::EOF || next == Token::SemiColon || next == Token::RParen {
            break;
        }
        let key = parser.parse_identifier()?;
        let _ = parser.consume_token(&Token::Eq);
        let value = match parser.next_token().token {
            Token::SingleQuotedString(s) => s,
            Token::Number(n, _) => n,
            Token::Word(word) => word.value,
            _ => {
                return parser.expected_ref("an option value", &parser.get_current_token().clone());
            }
        };
        options.push(Tag::new(
            ObjectName::from(vec![Ident::new(key.value.to_lowercase())]),
            value,
        ));
        if parenthesised {
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        } else {
            let _ = parser.consume_token(&Token::Comma);
        }
    }
    if parenthesised {
        parser.expect_token(&Token::RParen)?;
    }
    let mut statement = blank_create_database();
    if let Statement::CreateDatabase {
        db_name,
        if_not_exists: ine,
        with_tags,
        ..
    } = &mut statement
    {
        *db_name = name;
        *ine = if_not_exists;
        *with_tags = Some(options);
    }
    Ok(statement)
}

/// A `CREATE DATABASE` statement with nothing set, to fill in.
fn blank_create_database() -> Statement {
    let dialect = PostgreSqlDialect {};
    Parser::new(&dialect)
        .try_with_sql("CREATE DATABASE x")
        .and_then(|mut p| p.parse_statement())
        .unwrap_or_else(|_| unreachable!("sqlparser parses CREATE DATABASE x"))
}

/// The options of a `CREATE DATABASE` parsed here, lower-cased names with their values.
pub fn create_database_options(statement: &Statement) -> Vec<(String, String)> {
    match statement {
        Statement::CreateDatabase {
            with_tags: Some(tags),
            ..
        } => tags
            .iter()
            .map(|tag| (tag.key.to_string(), tag.value.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// An identifier as PostgreSQL resolves it: folded to lower case unless quoted.
pub fn ident_name(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// An object name as `(schema, name)`: the last two parts (a database prefix must be the
/// current database, checked by the caller).
pub fn object_name(name: &ObjectName) -> Result<(Option<String>, String)> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| {
            part.as_ident()
                .map(ident_name)
                .ok_or_else(|| SqlError::syntax(format!("syntax error at or near \"{part}\"")))
        })
        .collect::<Result<_>>()?;
    match parts.as_slice() {
        [name] => Ok((None, name.clone())),
        [schema, name] => Ok((Some(schema.clone()), name.clone())),
        [_, schema, name] => Ok((Some(schema.clone()), name.clone())),
        _ => Err(SqlError::syntax(format!(
            "improper qualified name (too many dotted names): {name}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_database_options_in_both_forms() {
        let statements = parse("CREATE DATABASE a WITH (storage = 'memory', fsync = never); create database \"B\" owner = bob").unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(
            create_database_options(&statements[0]),
            vec![
                ("storage".to_owned(), "memory".to_owned()),
                ("fsync".to_owned(), "never".to_owned())
            ]
        );
        let Statement::CreateDatabase { db_name, .. } = &statements[1] else {
            panic!("not a CREATE DATABASE")
        };
        assert_eq!(db_name.to_string(), "\"B\"");
        assert_eq!(
            create_database_options(&statements[1]),
            vec![("owner".to_owned(), "bob".to_owned())]
        );
    }

    #[test]
    fn syntax_errors_name_the_token() {
        let error = parse("SELEC 1").unwrap_err();
        assert_eq!(error.code, "42601");
        assert_eq!(error.message, "syntax error at or near \"SELEC\"");
        assert_eq!(error.position, Some(1));
        let error = parse("SELECT 1 +").unwrap_err();
        assert_eq!(error.message, "syntax error at end of input");
        // Positions count characters over the whole string, lines included.
        let error = parse("SELECT 'é';\nSELECT 1 FRM t").unwrap_err();
        assert_eq!(error.message, "syntax error at or near \"t\"");
        assert_eq!(error.position, Some(12 + 14));
        let error = parse("SELECT 1 SELECT 2").unwrap_err();
        assert_eq!(error.message, "syntax error at or near \"SELECT\"");
        assert_eq!(error.position, Some(10));
    }

    #[test]
    fn only_is_dropped_before_a_table() {
        let statements = parse(
            "SELECT * FROM ONLY t JOIN ONLY u ON true; UPDATE ONLY t SET a = 1; \
             DELETE FROM ONLY t; TRUNCATE ONLY t; SELECT 1 AS \"only\" FROM t",
        )
        .unwrap();
        let texts: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            texts,
            [
                "SELECT * FROM t JOIN u ON true",
                "UPDATE t SET a = 1",
                "DELETE FROM t",
                "TRUNCATE t",
                "SELECT 1 AS \"only\" FROM t",
            ]
        );
    }

    #[test]
    fn empty_statements_are_skipped() {
        assert_eq!(parse(";;SELECT 1;;").unwrap().len(), 1);
        assert!(parse("  ").unwrap().is_empty());
    }
}
