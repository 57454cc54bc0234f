//! Values between JSON and SQL.
//!
//! Out: each value is first written as PostgreSQL writes it in text (the wire's own text
//! output, so dates, intervals and arrays read as psql shows them), then typed for JSON
//! by its column's type: booleans and integers as JSON booleans and numbers, floats as
//! numbers when finite, json/jsonb as the JSON they hold, everything else — numeric
//! included, so no precision is lost, and bytea as `\x…` hex — as a string.
//!
//! In: a parameter or column value is made text (a number as written, a boolean as
//! `true`/`false`, an object or array as its JSON text, null as SQL NULL), then read by
//! the target type's input function — the one path PostgreSQL's own text parameters take.

use bytedata_pgtypes::TextOptions;
use bytedata_sql::{QueryResult, SqlError};
use datafusion::arrow::datatypes::SchemaRef;
use serde_json::{Map, Number, Value as Json};

use super::error::ApiError;

/// Most rows one response carries; a larger result is an error (54000), not a huge body.
pub const MAX_RESULT_ROWS: usize = 100_000;

const BOOL: u32 = 16;
const INT8: u32 = 20;
const INT2: u32 = 21;
const INT4: u32 = 23;
const OID: u32 = 26;
const JSON: u32 = 114;
const FLOAT4: u32 = 700;
const FLOAT8: u32 = 701;
const JSONB: u32 = 3802;

/// One column of a result: its name and PostgreSQL type.
#[derive(serde::Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(skip)]
    pub oid: u32,
}

pub fn columns_of(schema: &SchemaRef) -> Vec<Column> {
    schema
        .fields()
        .iter()
        .map(|field| {
            let (oid, typmod) = bytedata_sql::pg_type_of(field);
            Column {
                name: field.name().clone(),
                type_name: bytedata_sql::format_type(i64::from(oid), Some(i64::from(typmod)))
                    .unwrap_or_else(|| oid.to_string()),
                oid,
            }
        })
        .collect()
}

/// A value of PostgreSQL text output, as JSON for a column of type `oid`.
pub fn typed(text: Option<String>, oid: u32) -> Json {
    let Some(text) = text else {
        return Json::Null;
    };
    match oid {
        BOOL => Json::Bool(text == "t"),
        INT2 | INT4 | INT8 | OID => match text.parse::<i64>() {
            Ok(n) => Json::Number(n.into()),
            Err(_) => Json::String(text),
        },
        FLOAT4 | FLOAT8 => match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Json::Number(n),
            None => Json::String(text),
        },
        JSON | JSONB => serde_json::from_str(&text).unwrap_or(Json::String(text)),
        _ => Json::String(text),
    }
}

/// The text a JSON value gives a SQL parameter or column (`None` for null).
pub fn text_of(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::Bool(b) => Some(if *b { "true" } else { "false" }.to_owned()),
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => Some(s.clone()),
        Json::Array(_) | Json::Object(_) => Some(value.to_string()),
    }
}

/// The JSON answer of one statement's result: `command`, `rows_affected`, and for rows
/// `columns` and `rows` (arrays in column order).
pub async fn result_json(result: QueryResult, options: &TextOptions) -> Result<Json, ApiError> {
    let mut out = Map::new();
    match result {
        QueryResult::Command { tag } => {
            let (command, count) = split_tag(&tag);
            out.insert("command".into(), Json::String(command));
            out.insert("rows_affected".into(), count.map_or(Json::Null, Json::from));
        }
        QueryResult::Rows { schema, rows, tag } => {
            let batches = rows.collect().await?;
            let count: usize = batches.iter().map(|b| b.num_rows()).sum();
            if count > MAX_RESULT_ROWS {
                return Err(SqlError::new(
                    "54000",
                    format!("the result has {count} rows, more than the {MAX_RESULT_ROWS} one response carries"),
                )
                .with_hint("Page with LIMIT and OFFSET, or use the rows API's cursor.")
                .into());
            }
            let columns = columns_of(&schema);
            let rows: Vec<Json> = bytedata_sql::text_rows(&batches, options)
                .into_iter()
                .map(|row| {
                    Json::Array(
                        row.into_iter()
                            .zip(&columns)
                            .map(|(text, column)| typed(text, column.oid))
                            .collect(),
                    )
                })
                .collect();
            let (command, affected) = match tag {
                Some(tag) => split_tag(&tag),
                None => ("SELECT".to_owned(), Some(count as u64)),
            };
            out.insert("command".into(), Json::String(command));
            out.insert(
                "rows_affected".into(),
                affected.map_or(Json::Null, Json::from),
            );
            out.insert(
                "columns".into(),
                serde_json::to_value(&columns).map_err(|e| SqlError::internal(e.to_string()))?,
            );
            out.insert("rows".into(), Json::Array(rows));
        }
        QueryResult::CopyIn(_) => {
            return Err(ApiError::new(
                "0A000",
                "COPY FROM STDIN is not available over HTTP",
            ));
        }
    }
    Ok(Json::Object(out))
}

/// `INSERT 0 3` → ("INSERT", 3); `CREATE TABLE` → ("CREATE TABLE", none).
fn split_tag(tag: &str) -> (String, Option<u64>) {
    let mut words: Vec<&str> = tag.split(' ').collect();
    let count = words.last().and_then(|w| w.parse::<u64>().ok());
    if count.is_some() {
        words.pop();
        if words.first() == Some(&"INSERT") && words.len() == 2 {
            words.pop(); // the OID PostgreSQL still writes
        }
    }
    (words.join(" "), count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_into_command_and_count() {
        assert_eq!(split_tag("INSERT 0 3"), ("INSERT".into(), Some(3)));
        assert_eq!(split_tag("UPDATE 1"), ("UPDATE".into(), Some(1)));
        assert_eq!(split_tag("CREATE TABLE"), ("CREATE TABLE".into(), None));
    }

    #[test]
    fn values_are_typed_by_their_column() {
        assert_eq!(typed(Some("t".into()), BOOL), Json::Bool(true));
        assert_eq!(typed(Some("-42".into()), INT8), Json::from(-42));
        assert_eq!(typed(Some("1.5".into()), FLOAT8), Json::from(1.5));
        assert_eq!(
            typed(Some("NaN".into()), FLOAT8),
            Json::String("NaN".into())
        );
        assert_eq!(
            typed(Some("3.10".into()), 1700),
            Json::String("3.10".into())
        );
        assert_eq!(
            typed(Some("{\"a\": 1}".into()), JSONB),
            serde_json::json!({"a": 1})
        );
        assert_eq!(typed(None, INT4), Json::Null);
    }
}
