//! Where in the query string an error is, for the errors PostgreSQL points at.
//!
//! The SQL layer knows the position of a syntax error (the parser's) but not of a
//! literal an input function refused, or of a name that does not resolve: those errors
//! come from planning and execution, which work on the parsed statement. PostgreSQL
//! points at them (`LINE 1: … ^` in psql), so the connection, which has the query text,
//! finds the text the error quotes:
//!
//! - an input error (`invalid input syntax for type integer: "x"`, out of range, …): the
//!   quoted literal `'x'`, when the query has it;
//! - an undefined column, relation, type or function: the name as a whole word outside
//!   string literals.
//!
//! The first occurrence is taken. When the text is not found, the error has no position,
//! as a value that came from a table has none in PostgreSQL either.

use bytedata_sql::SqlError;

/// The position (1-based, in characters) `error` refers to in `query`, if it can be found.
pub(crate) fn locate(error: &SqlError, query: &str) -> Option<usize> {
    if let Some(position) = error.position {
        return Some(position);
    }
    match error.code {
        // Input functions' errors; not 22023, which SET raises without a position.
        "22P02" | "22007" | "22008" | "22003" | "22015" | "22009" => {
            let value = quoted_at_end(&error.message)?;
            let literal = format!("'{}'", value.replace('\'', "''"));
            let byte = outside_literals(query, &literal, false)?;
            Some(query[..byte].chars().count() + 1)
        }
        "42703" | "42P01" | "42704" | "42883" => {
            let name = undefined_name(&error.message)?;
            let byte = outside_literals(query, &name, true)?;
            Some(query[..byte].chars().count() + 1)
        }
        _ => None,
    }
}

/// `…: "value"` at the end of a message: the value.
fn quoted_at_end(message: &str) -> Option<&str> {
    let body = message.strip_suffix('"')?;
    let start = body.rfind(": \"")?;
    Some(&body[start + 3..])
}

/// The name an "undefined" error is about, as it would be written unquoted in the query:
/// `column "x" does not exist`, `relation "s.t" does not exist`, `function f(integer) …`.
fn undefined_name(message: &str) -> Option<String> {
    let name = if let Some(rest) = message.strip_prefix("function ") {
        rest.split(['(', ' ']).next()?.to_owned()
    } else {
        let start = message.find('"')? + 1;
        let end = start + message[start..].find('"')?;
        message[start..end].to_owned()
    };
    // A qualified name is found by its last part.
    let name = name.rsplit('.').next()?.to_owned();
    (!name.is_empty()).then_some(name)
}

/// The byte offset of the first occurrence of `needle` in `query`: for a literal, any
/// occurrence that starts outside another literal; for a word, one outside literals that
/// is a whole word (case-insensitive).
fn outside_literals(query: &str, needle: &str, word: bool) -> Option<usize> {
    let bytes = query.as_bytes();
    let mut in_literal = false;
    let mut i = 0;
    while i < bytes.len() {
        let here = &query[i..];
        if !in_literal {
            let matches = if word {
                here.len() >= needle.len()
                    && here.is_char_boundary(needle.len())
                    && here[..needle.len()].eq_ignore_ascii_case(needle)
                    && !is_word_byte(bytes.get(i + needle.len()).copied())
                    && !(i > 0 && is_word_byte(Some(bytes[i - 1])))
            } else {
                here.starts_with(needle)
            };
            if matches {
                return Some(i);
            }
        }
        if bytes[i] == b'\'' {
            in_literal = !in_literal;
        }
        i += here.chars().next().map_or(1, char::len_utf8);
    }
    None
}

fn is_word_byte(byte: Option<u8>) -> bool {
    byte.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(code: &'static str, message: &str, query: &str) -> Option<usize> {
        locate(&SqlError::new(code, message), query)
    }

    #[test]
    fn input_errors_point_at_their_literal() {
        let query = "INSERT INTO t VALUES (1, 'ok'), (2, 'bad')";
        assert_eq!(
            at(
                "22P02",
                "invalid input syntax for type integer: \"bad\"",
                query
            ),
            Some(37)
        );
        // Quotes inside the value are doubled in the query.
        assert_eq!(
            at(
                "22P02",
                "invalid input syntax for type integer: \"it's\"",
                "SELECT 'it''s'::int"
            ),
            Some(8)
        );
        // Characters, not bytes.
        assert_eq!(
            at(
                "22007",
                "invalid input syntax for type date: \"x\"",
                "SELECT 'é', 'x'::date"
            ),
            Some(13)
        );
        assert_eq!(
            at(
                "22P02",
                "invalid input syntax for type integer: \"x\"",
                "SELECT v::int FROM t"
            ),
            None
        );
    }

    #[test]
    fn undefined_names_point_at_the_word_outside_literals() {
        let query = "SELECT 'nope', nopex, nope FROM t";
        assert_eq!(
            at("42703", "column \"nope\" does not exist", query),
            Some(23)
        );
        assert_eq!(
            at(
                "42P01",
                "relation \"s.missing\" does not exist",
                "SELECT * FROM s.Missing"
            ),
            Some(17)
        );
        assert_eq!(
            at(
                "42883",
                "function nosuch(integer) does not exist",
                "SELECT nosuch(1)"
            ),
            Some(8)
        );
        assert_eq!(
            at("42703", "column \"gone\" does not exist", "SELECT 1"),
            None
        );
        assert_eq!(
            at(
                "22023",
                "invalid value for parameter \"DateStyle\": \"x\"",
                "SET datestyle = 'x'"
            ),
            None
        );
        let positioned = SqlError::new("42601", "syntax error").with_position(4);
        assert_eq!(locate(&positioned, "anything"), Some(4));
    }
}
