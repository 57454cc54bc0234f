//! `GET /v1/databases/{db}/tables/{table}/rows?…`: rows in key order, a page at a time.
//!
//! - `prefix=k1/k2` pins the first key columns (segments as in a row's path);
//! - `from` (inclusive) and `to` (exclusive) bound the next key column;
//! - `limit` (default 1,000, at most 10,000), `reverse=true` for descending order;
//! - `after=CURSOR` continues a listing: every page but the last answers
//!   `"next": CURSOR`, an opaque token (the last row's key) to pass back.
//!
//! With `Accept: application/x-ndjson` the answer is a stream of rows instead, one JSON
//! object per line, every row of the range (or `limit` of them): the server reads it page
//! by page as the client consumes it, so memory stays bounded by a page and a slow reader
//! slows the reading. Each page is its own statement, like a client following cursors. An
//! error after the first page ends the stream with one `{"error": {…}}` line.
//!
//! The statement is a SELECT with the key conditions and ORDER BY the key, which the
//! table provider turns into one range scan of the key's order; the cursor becomes
//! "after this key" conditions over the columns past the prefix.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytedata_pgtypes::{DataType, Value};
use bytedata_sql::Session;
use datafusion::scalar::ScalarValue;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::AppState;
use super::error::ApiError;
use super::json::text_of;
use super::rows::{
    column_type, decode_segments, execute, objects, parse_value, quoted, scalar, table_sql,
};

const DEFAULT_LIMIT: usize = 1000;
const MAX_LIMIT: usize = 10_000;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Read from the raw query string (`prefix_segments`); here so it is not unknown.
    #[allow(dead_code)]
    prefix: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    reverse: bool,
    after: Option<String>,
}

/// Conditions and their parameters, numbered as they are added.
struct Conditions {
    sql: Vec<String>,
    params: Vec<ScalarValue>,
}

impl Conditions {
    fn add(
        &mut self,
        column: &str,
        op: &str,
        ty: &DataType,
        value: &Value,
    ) -> Result<String, ApiError> {
        self.params.push(scalar(value, ty)?);
        Ok(format!("{} {op} ${}", quoted(column), self.params.len()))
    }
}

fn cursor_key(cursor: &str) -> Result<Vec<Option<String>>, ApiError> {
    let bad = || ApiError::new("22023", "the cursor is not one this server gave");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let values: Vec<Json_> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok(values.iter().map(text_of).collect())
}

fn make_cursor(row: &Json_, key: &[String]) -> String {
    let values: Vec<Json_> = key
        .iter()
        .map(|name| row.get(name).cloned().unwrap_or(Json_::Null))
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Json_::Array(values).to_string())
}

/// The `prefix` segments, from the raw query string (decoding it whole first would turn
/// a `%2F` inside a value into a separator).
fn prefix_segments(uri: &Uri) -> Result<Vec<String>, ApiError> {
    let raw = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("prefix="))
        .unwrap_or("");
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    decode_segments(raw)
}

pub async fn list(
    State(state): State<AppState>,
    Path((database, table)): Path<(String, String)>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new("22023", e.body_text()))?;
    let prefix = prefix_segments(&uri)?;
    let user = state.authenticate(&headers)?;
    let mut session = state.pooled_session(&database, &user)?;
    if wants_ndjson(&headers) {
        return stream(state, session, table, query, prefix).await;
    }
    let outcome = page(&state.shared.metrics, &mut session, &table, &query, &prefix).await;
    state.sessions.give_back(session);
    outcome.map(|page| Json(page).into_response())
}

fn wants_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(NDJSON))
}

const NDJSON: &str = "application/x-ndjson";
/// Pages a stream holds ready ahead of its reader.
const STREAM_PAGES_AHEAD: usize = 2;

/// Streams every row of the listing as lines of JSON. The first page is read before
/// answering, so a bad request still gets its error status.
async fn stream(
    state: AppState,
    mut session: Session,
    table: String,
    mut query: ListQuery,
    prefix: Vec<String>,
) -> Result<Response, ApiError> {
    let mut remaining = query.limit.unwrap_or(usize::MAX);
    query.limit = Some(remaining.min(DEFAULT_LIMIT));
    let first = match page(&state.shared.metrics, &mut session, &table, &query, &prefix).await {
        Ok(first) => first,
        Err(error) => {
            state.sessions.give_back(session);
            return Err(error);
        }
    };
    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(STREAM_PAGES_AHEAD);
    tokio::spawn(async move {
        let mut current: Result<Json_, ApiError> = Ok(first);
        loop {
            let rows_page = match current {
                Ok(rows_page) => rows_page,
                Err(error) => {
                    let line = format!("{}\n", json!({ "error": error.body() }));
                    let _ = sender.send(Ok(Bytes::from(line))).await;
                    break;
                }
            };
            let rows = rows_page["rows"].as_array().map_or(&[][..], Vec::as_slice);
            let mut lines = String::new();
            for row in rows {
                lines.push_str(&row.to_string());
                lines.push('\n');
            }
            remaining = remaining.saturating_sub(rows.len());
            if sender.send(Ok(Bytes::from(lines))).await.is_err() {
                break; // The client went away.
            }
            match rows_page["next"].as_str() {
                Some(next) if remaining > 0 => {
                    query.after = Some(next.to_owned());
                    query.limit = Some(remaining.min(DEFAULT_LIMIT));
                }
                _ => break,
            }
            current = page(&state.shared.metrics, &mut session, &table, &query, &prefix).await;
        }
        state.sessions.give_back(session);
    });
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    Ok((
        [(axum::http::header::CONTENT_TYPE, NDJSON)],
        Body::from_stream(body),
    )
        .into_response())
}

async fn page(
    metrics: &crate::metrics::Metrics,
    session: &mut Session,
    table: &str,
    query: &ListQuery,
    prefix: &[String],
) -> Result<Json_, ApiError> {
    let info = session.table_info(table)?;
    if info.key.is_empty() {
        return Err(ApiError::new(
            "0A000",
            format!(
                "table \"{}\" has no primary key to list its rows by",
                info.name
            ),
        ));
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::new(
            "22023",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let mut conditions = Conditions {
        sql: Vec::new(),
        params: Vec::new(),
    };
    if prefix.len() > info.key.len() {
        return Err(ApiError::new(
            "42601",
            format!(
                "the key of \"{}\" has {} column(s)",
                info.name,
                info.key.len()
            ),
        ));
    }
    let typed_key: Vec<(String, DataType)> = info
        .key
        .iter()
        .map(|name| Ok((name.clone(), column_type(&info, name)?)))
        .collect::<Result<_, ApiError>>()?;
    for ((name, ty), text) in typed_key.iter().zip(prefix) {
        let value = parse_value(session, name, ty, Some(text))?;
        let condition = conditions.add(name, "=", ty, &value)?;
        conditions.sql.push(condition);
    }
    let rest = &typed_key[prefix.len()..];
    if let Some((name, ty)) = rest.first() {
        if let Some(from) = &query.from {
            let value = parse_value(session, name, ty, Some(from))?;
            let condition = conditions.add(name, ">=", ty, &value)?;
            conditions.sql.push(condition);
        }
        if let Some(to) = &query.to {
            let value = parse_value(session, name, ty, Some(to))?;
            let condition = conditions.add(name, "<", ty, &value)?;
            conditions.sql.push(condition);
        }
    } else if query.from.is_some() || query.to.is_some() {
        return Err(ApiError::new(
            "42601",
            "from and to bound the key column after the prefix, and the prefix is the whole key",
        ));
    }
    if let Some(cursor) = &query.after {
        let last = cursor_key(cursor)?;
        if last.len() != typed_key.len() {
            return Err(ApiError::new(
                "22023",
                "the cursor is not one this server gave",
            ));
        }
        // Past the last row: (a > x) OR (a = x AND b > y) OR … over the columns after
        // the prefix, whose values the prefix pins anyway.
        let op = if query.reverse { "<" } else { ">" };
        let mut alternatives = Vec::new();
        for depth in prefix.len()..typed_key.len() {
            let mut terms = Vec::new();
            for (i, ((name, ty), text)) in typed_key
                .iter()
                .zip(&last)
                .enumerate()
                .take(depth + 1)
                .skip(prefix.len())
            {
                let value = parse_value(session, name, ty, text.as_deref())?;
                let term_op = if i == depth { op } else { "=" };
                terms.push(conditions.add(name, term_op, ty, &value)?);
            }
            alternatives.push(format!("({})", terms.join(" AND ")));
        }
        if !alternatives.is_empty() {
            conditions
                .sql
                .push(format!("({})", alternatives.join(" OR ")));
        }
    }
    let direction = if query.reverse { " DESC" } else { "" };
    let order = typed_key
        .iter()
        .map(|(name, _)| format!("{}{direction}", quoted(name)))
        .collect::<Vec<_>>()
        .join(", ");
    let filter = if conditions.sql.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.sql.join(" AND "))
    };
    let sql = format!(
        "SELECT * FROM {}{filter} ORDER BY {order} LIMIT {}",
        table_sql(&info),
        limit + 1
    );
    let result = execute(metrics, session, &sql, &conditions.params)?;
    let mut rows = objects(session, result).await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|row| make_cursor(row, &info.key))
    } else {
        None
    };
    Ok(json!({ "rows": rows, "next": next }))
}
