//! `POST /v1/databases/{db}/tables/{table}/batch`: puts and deletes of rows by key, in one
//! transaction — all applied, or none.
//!
//! ```json
//! {"operations": [{"put": [1, "a"], "row": {"v": 2}}, {"delete": [3, "b"]}]}
//! ```
//!
//! Keys are arrays of the key columns' values in key order (each made text and read by
//! the column's input function, as a path segment is). A put is the row API's upsert; a
//! delete of a row that is not there is not an error. Answers `{"results": [{"created":
//! bool} | {"deleted": bool}, …]}` in order. The first failing operation rolls everything
//! back; its position is in the error's detail. Inside the transaction a put cannot retry
//! an INSERT that lost a race with a concurrent one: that is 23505 (409), and the whole
//! batch may be sent again.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use bytedata_sql::Session;
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};

use super::error::ApiError;
use super::json::text_of;
use super::rows::{execute, key_params, key_values, table_sql, upsert, where_key};
use super::{AppState, blocking};

/// Most operations one batch may hold.
const MAX_OPERATIONS: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    operations: Vec<Operation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    put: Option<Vec<Json_>>,
    row: Option<Map<String, Json_>>,
    delete: Option<Vec<Json_>>,
}

pub async fn post(
    State(state): State<AppState>,
    Path((database, table)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Json_>, ApiError> {
    let request: BatchRequest = super::json_body(body)?;
    if request.operations.len() > MAX_OPERATIONS {
        return Err(ApiError::new(
            "54000",
            format!("more than {MAX_OPERATIONS} operations in one batch"),
        ));
    }
    let user = state.authenticate(&headers)?;
    let mut session = state.pooled_session(&database, &user)?;
    blocking(session.execute("BEGIN"))?;
    let outcome = apply(
        &state.shared.metrics,
        &mut session,
        &table,
        &request.operations,
    );
    let ended = match &outcome {
        Ok(_) => blocking(session.execute("COMMIT")).map(|_| ()),
        Err(_) => blocking(session.execute("ROLLBACK")).map(|_| ()),
    };
    state.sessions.give_back(session);
    let results = outcome?;
    ended?;
    Ok(Json(json!({ "results": results })))
}

fn key_texts(key: &[Json_]) -> Result<Vec<String>, ApiError> {
    key.iter()
        .map(|value| {
            text_of(value).ok_or_else(|| ApiError::new("22004", "a key value cannot be null"))
        })
        .collect()
}

fn apply(
    metrics: &crate::metrics::Metrics,
    session: &mut Session,
    table: &str,
    operations: &[Operation],
) -> Result<Vec<Json_>, ApiError> {
    let info = session.table_info(table)?;
    let mut results = Vec::with_capacity(operations.len());
    for (position, operation) in operations.iter().enumerate() {
        let done = (|| match operation {
            Operation {
                put: Some(key),
                row: Some(row),
                delete: None,
            } => {
                let key = key_values(session, &info, &key_texts(key)?)?;
                let created = upsert(metrics, session, &info, &key, row, false)?;
                Ok(json!({ "created": created }))
            }
            Operation {
                put: None,
                row: None,
                delete: Some(key),
            } => {
                let key = key_values(session, &info, &key_texts(key)?)?;
                let sql = format!(
                    "DELETE FROM {} WHERE {}",
                    table_sql(&info),
                    where_key(&key, 1)
                );
                let result = execute(metrics, session, &sql, &key_params(&key)?)?;
                let deleted = matches!(result, bytedata_sql::QueryResult::Command { ref tag } if tag != "DELETE 0");
                Ok(json!({ "deleted": deleted }))
            }
            _ => Err(ApiError::new(
                "22023",
                "an operation is {\"put\": KEY, \"row\": {…}} or {\"delete\": KEY}",
            )),
        })();
        match done {
            Ok(result) => results.push(result),
            Err(mut error) => {
                let detail = format!("operation {position} of the batch");
                error.error.detail = Some(match error.error.detail.take() {
                    Some(own) => format!("{own} ({detail})"),
                    None => detail,
                });
                return Err(error);
            }
        }
    }
    Ok(results)
}
