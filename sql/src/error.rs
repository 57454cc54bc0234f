//! SQL errors: a PostgreSQL SQLSTATE, a message in PostgreSQL's words where we can, and
//! optional detail and hint — what the wire protocol's ErrorResponse carries.

use std::fmt;

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

pub type Result<T, E = SqlError> = std::result::Result<T, E>;

/// The schema name DataFusion resolves unqualified tables in: the search path, which
/// `provider` expands. Messages naming a table drop it, as PostgreSQL names the table as
/// it was written.
pub const SEARCH_PATH_SCHEMA: &str = "$search_path";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// Where in the query string the error is, as PostgreSQL's position field counts:
    /// characters, the first being 1.
    pub position: Option<usize>,
}

impl SqlError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        SqlError {
            code,
            message: message.into(),
            detail: None,
            hint: None,
            position: None,
        }
    }

    pub fn with_position(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn syntax(message: impl Into<String>) -> Self {
        Self::new("42601", message)
    }

    pub fn unsupported(what: impl Into<String>) -> Self {
        Self::new("0A000", format!("{} is not supported", what.into()))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("XX000", message)
    }

    pub fn undefined_table(name: &str) -> Self {
        Self::new("42P01", format!("relation \"{name}\" does not exist"))
    }

    pub fn undefined_column(name: &str) -> Self {
        Self::new("42703", format!("column \"{name}\" does not exist"))
    }

    pub fn in_failed_transaction() -> Self {
        Self::new(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    /// Whether this error leaves the transaction block failed (every error does, except
    /// those raised before anything ran).
    pub fn is_retryable(&self) -> bool {
        matches!(self.code, "40001" | "40P01")
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

impl From<bytedata_pgtypes::Error> for SqlError {
    fn from(error: bytedata_pgtypes::Error) -> Self {
        SqlError {
            code: error.code,
            message: error.message,
            detail: error.detail,
            hint: error.hint,
            position: None,
        }
    }
}

impl From<bytedata_catalog::CatalogError> for SqlError {
    fn from(error: bytedata_catalog::CatalogError) -> Self {
        SqlError::new(error.sqlstate(), error.to_string())
    }
}

impl From<bytedata_mvcc::Error> for SqlError {
    fn from(error: bytedata_mvcc::Error) -> Self {
        SqlError::new(error.sqlstate(), error.to_string())
    }
}

impl From<bytedata_kv::Error> for SqlError {
    fn from(error: bytedata_kv::Error) -> Self {
        bytedata_mvcc::Error::from(error).into()
    }
}

impl From<datafusion::arrow::error::ArrowError> for SqlError {
    fn from(error: datafusion::arrow::error::ArrowError) -> Self {
        DataFusionError::ArrowError(Box::new(error), None).into()
    }
}

/// The text between the first pair of single quotes in `message`, if any.
fn quoted(message: &str, quote: char) -> Option<&str> {
    let start = message.find(quote)? + 1;
    let end = message[start..].find(quote)? + start;
    Some(&message[start..end])
}

/// PostgreSQL's name of an Arrow type in error messages.
fn pg_type_name(arrow: &str) -> &str {
    match arrow {
        "Int16" => "smallint",
        "Int32" => "integer",
        "Int64" => "bigint",
        "Float32" => "real",
        "Float64" => "double precision",
        "Boolean" => "boolean",
        "Utf8" | "Utf8View" | "LargeUtf8" => "text",
        "Date32" => "date",
        name if name.starts_with("Decimal") => "numeric",
        name if name.starts_with("Timestamp") => "timestamp",
        name if name.starts_with("Interval") => "interval",
        other => other,
    }
}

impl From<DataFusionError> for SqlError {
    fn from(error: DataFusionError) -> Self {
        // Errors we raised inside DataFusion come back as they were.
        let error = error.find_root();
        if let DataFusionError::External(inner) = error
            && let Some(sql) = inner.downcast_ref::<SqlError>()
        {
            return sql.clone();
        }
        let message = error.message().to_string();
        let lower = message.to_lowercase();
        if lower.contains("outerreferencecolumn") {
            // DataFusion could not turn a reference to an outer query into a join.
            return SqlError::unsupported(
                "a subquery that refers to an earlier FROM item in this position (LATERAL or correlated)",
            );
        }
        match error {
            DataFusionError::SQL(..) => {
                return SqlError::syntax(format!("syntax error: {message}"));
            }
            DataFusionError::NotImplemented(_) => return SqlError::new("0A000", message),
            DataFusionError::SchemaError(schema_error, _) => {
                return match schema_error.as_ref() {
                    SchemaError::FieldNotFound { field, .. } => match &field.relation {
                        Some(relation) => SqlError::new(
                            "42703",
                            format!("column {}.{} does not exist", relation.table(), field.name),
                        ),
                        None => SqlError::undefined_column(&field.name),
                    },
                    SchemaError::AmbiguousReference { field } => SqlError::new(
                        "42702",
                        format!("column reference \"{}\" is ambiguous", field.name),
                    ),
                    SchemaError::DuplicateQualifiedField { name, .. }
                    | SchemaError::DuplicateUnqualifiedField { name } => {
                        SqlError::new("42712", format!("name \"{name}\" specified more than once"))
                    }
                };
            }
            _ => {}
        }
        if lower.contains("non-boolean predicate") {
            // "Cannot create filter with non-boolean predicate 't.name' returning Utf8"
            let ty = message.rsplit(' ').next().unwrap_or("");
            return SqlError::new(
                "42804",
                format!(
                    "argument of WHERE must be type boolean, not type {}",
                    pg_type_name(ty)
                ),
            );
        }
        if lower.contains("divide by zero") || lower.contains("division by zero") {
            return SqlError::new("22012", "division by zero");
        }
        if lower.contains("can't cast value") {
            // "Can't cast value 99999999999 to type Int32"
            let ty = message.rsplit(' ').next().unwrap_or("");
            let what = match ty {
                "Int16" => "smallint out of range",
                "Int64" => "bigint out of range",
                _ => "integer out of range",
            };
            return SqlError::new("22003", what);
        }
        if lower.contains("too large to store in a decimal")
            || lower.contains("too small to store in a decimal")
        {
            return SqlError::new("22003", "numeric field overflow");
        }
        if lower.contains("overflow") {
            let what = if lower.contains("decimal") {
                "numeric field overflow"
            } else {
                "integer out of range"
            };
            return SqlError::new("22003", what);
        }
        if lower.contains("table '") && lower.contains("not found") {
            // "table 'catalog.schema.name' not found": PostgreSQL names it as written.
            let name = quoted(&message, '\'').unwrap_or("?");
            let mut parts: Vec<&str> = name.split('.').collect();
            if parts.len() == 3 {
                parts.remove(0);
            }
            if parts.first() == Some(&SEARCH_PATH_SCHEMA) {
                parts.remove(0);
            }
            return SqlError::undefined_table(&parts.join("."));
        }
        if lower.contains("invalid function")
            || lower.contains("no function matches")
            || lower.contains("function '") && lower.contains("not found")
            || lower.contains("coercion failed")
        {
            return undefined_function(&message);
        }
        if lower.contains("cannot cast string") || lower.contains("cannot cast value") {
            // "Cannot cast string 'abc' to value of Int32 type"
            let value = quoted(&message, '\'').unwrap_or("");
            let ty = message
                .split(" of ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or("");
            return SqlError::new(
                "22P02",
                format!(
                    "invalid input syntax for type {}: \"{value}\"",
                    pg_type_name(ty)
                ),
            );
        }
        if lower.contains("cannot be cast")
            || lower.contains("cannot coerce")
            || lower.contains("type coercion")
            || lower.contains("does not support") && lower.contains("type")
        {
            return SqlError::new("42804", message);
        }
        match error {
            DataFusionError::Plan(_) => SqlError::new("42000", message),
            DataFusionError::Execution(_) => SqlError::new("XX000", message),
            _ => SqlError::internal(message),
        }
    }
}

/// PostgreSQL's 42883 for DataFusion's ways of saying a function does not exist: the
/// name, and the argument types when DataFusion gave them (`… argument types
/// 'to_char(Int64, Utf8)'`), or our own wording carried through its wrapping.
fn undefined_function(message: &str) -> SqlError {
    let hint = "No function matches the given name and argument types. You might need to add explicit type casts.";
    let error = |text: String| SqlError::new("42883", text).with_hint(hint);
    if let Some(start) = message.find("function ")
        && let Some(length) = message[start..].find(" does not exist")
        && message[start..start + length].contains('(')
    {
        return error(message[start..start + length + " does not exist".len()].to_owned());
    }
    if let Some(start) = message.find("argument types '") {
        let call = &message[start + "argument types '".len()..];
        if let Some(end) = call.find("'")
            && let Some((name, args)) = call[..end].split_once('(')
        {
            let args = args.trim_end_matches(')');
            let mut types = Vec::new();
            let mut depth = 0;
            let mut current = String::new();
            for c in args.chars() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        types.push(pg_type_name(current.trim()).to_owned());
                        current.clear();
                        continue;
                    }
                    _ => {}
                }
                current.push(c);
            }
            if !current.trim().is_empty() {
                types.push(pg_type_name(current.trim()).to_owned());
            }
            return error(format!(
                "function {name}({}) does not exist",
                types.join(", ")
            ));
        }
    }
    let name = quoted(message, '\'').unwrap_or("?");
    error(format!("function {name} does not exist"))
}

/// Wraps a SqlError so it can travel through DataFusion and come back unchanged.
pub fn into_datafusion(error: SqlError) -> DataFusionError {
    DataFusionError::External(Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_functions_speak_postgresql() {
        let error = undefined_function("Invalid function 'nosuch'.\nDid you mean 'cosh'?");
        assert_eq!(error.code, "42883");
        assert_eq!(error.message, "function nosuch does not exist");
        assert!(error.hint.is_some());
        let error = undefined_function(
            "Failed to coerce arguments to satisfy a call to 'to_char' function: coercion from \
             Decimal128(5, 2), Utf8 to the signature OneOf(…) failed. No function matches the \
             given name and argument types 'to_char(Decimal128(5, 2), Utf8)'. You might need \
             to add explicit type casts.\n\tCandidate functions:\n\tto_char(Date32, Utf8)",
        );
        assert_eq!(
            error.message,
            "function to_char(numeric, text) does not exist"
        );
        let error = undefined_function(
            "Function 'mod' user-defined coercion failed with: Error during planning: function \
             mod(text, boolean) does not exist",
        );
        assert_eq!(error.message, "function mod(text, boolean) does not exist");
    }
}
