//! Rows by primary key over HTTP: `/v1/databases/{db}/tables/{table}/rows/{k1}/{k2}…`.
//!
//! A row's address is its whole primary key, one path segment per key column in key
//! order, percent-decoded and read by the column type's input function (a segment that
//! does not parse is 22P02, 400). Every operation is a statement the SQL fast path runs
//! — a point SELECT, UPDATE, INSERT or DELETE by key, parsed once per session and text —
//! so nothing here plans with DataFusion, and what HTTP writes is what SQL would have
//! written, with the same checks, in the same WAL.
//!
//! - `GET` answers the row as a JSON object (404 with 02000 when there is none).
//! - `PUT` with a JSON object upserts: the row's given columns are set; a new row takes
//!   defaults for the columns not given, an existing one keeps their values (as INSERT …
//!   ON CONFLICT DO UPDATE of those columns would). Key columns in the object must match
//!   the path. It runs as UPDATE, then INSERT if no row was there; an INSERT that loses
//!   a race to a concurrent one retries the UPDATE. Answers the row as stored: 201 when
//!   it was created, 200 when it was updated.
//! - `DELETE` answers 204, or 404 when there was no row.
//! - `GET …/rows?prefix=k1/k2&from=…&to=…&limit=N&reverse=true&after=CURSOR` lists rows
//!   in key order (`listing`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytedata_pgtypes::{DataType, Value};
use bytedata_sql::{PreparedStatement, QueryResult, Session, SqlError, TableInfo};
use datafusion::scalar::ScalarValue;
use serde_json::{Map, Value as Json_};

use super::error::ApiError;
use super::json::{columns_of, text_of, typed};
use super::{AppState, blocking};
use crate::metrics::{Metrics, StatementKind};

/// Tries of an upsert whose INSERT keeps losing to concurrent ones.
const UPSERT_TRIES: usize = 3;

/// `"name"` with quotes doubled: an identifier as SQL reads it, whatever it holds.
pub(super) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) fn table_sql(info: &TableInfo) -> String {
    format!("{}.{}", quoted(&info.schema), quoted(&info.name))
}

/// Key values as they travel in a URL: split at `/` first, then each percent-decoded, so
/// a `/` inside a value is `%2F`.
pub(super) fn decode_segments(raw: &str) -> Result<Vec<String>, ApiError> {
    raw.split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    ApiError::new("22021", "a key segment is not valid UTF-8 once decoded")
                })
        })
        .collect()
}

/// The key segments after `/rows/` in the request's path.
fn key_segments(uri: &Uri) -> Result<Vec<String>, ApiError> {
    let path = uri.path();
    match path.find("/rows/") {
        Some(at) => decode_segments(&path[at + "/rows/".len()..]),
        None => Ok(Vec::new()),
    }
}

/// The value of column `name` of type `ty` that `text` spells.
pub(super) fn parse_value(
    session: &Session,
    name: &str,
    ty: &DataType,
    text: Option<&str>,
) -> Result<Value, ApiError> {
    match text {
        None => Ok(Value::Null),
        Some(text) => {
            bytedata_pgtypes::input::parse_text(text, ty, &session.settings().input_options())
                .map_err(|error| {
                    let error = SqlError::from(error);
                    let detail = format!("column {name}: \"{text}\"");
                    ApiError::from(error.with_detail(detail))
                })
        }
    }
}

pub(super) fn scalar(value: &Value, ty: &DataType) -> Result<ScalarValue, ApiError> {
    Ok(crate::wire::params::value_to_scalar(value, ty)?)
}

/// The table's key values from the path, one per key column.
pub(super) fn key_values(
    session: &Session,
    info: &TableInfo,
    segments: &[String],
) -> Result<Vec<(String, DataType, Value)>, ApiError> {
    if info.key.is_empty() {
        return Err(ApiError::new(
            "0A000",
            format!(
                "table \"{}\" has no primary key, so its rows have no address",
                info.name
            ),
        ));
    }
    if segments.len() != info.key.len() {
        return Err(ApiError::new(
            "42601",
            format!(
                "a row of \"{}\" is addressed by its whole primary key: {} segment(s) ({}), not {}",
                info.name,
                info.key.len(),
                info.key.join(", "),
                segments.len()
            ),
        ));
    }
    info.key
        .iter()
        .zip(segments)
        .map(|(name, text)| {
            let ty = column_type(info, name)?;
            let value = parse_value(session, name, &ty, Some(text))?;
            Ok((name.clone(), ty, value))
        })
        .collect()
}

pub(super) fn column_type(info: &TableInfo, name: &str) -> Result<DataType, ApiError> {
    info.columns
        .iter()
        .find(|(column, _)| column == name)
        .map(|(_, ty)| ty.clone())
        .ok_or_else(|| {
            ApiError::new(
                "42703",
                format!(
                    "column \"{name}\" of relation \"{}\" does not exist",
                    info.name
                ),
            )
        })
}

/// Runs `sql` (one statement, parsed once per session) with `params`, counted in the
/// statement metrics like a statement from a PostgreSQL client.
pub(super) fn execute(
    metrics: &Metrics,
    session: &mut Session,
    sql: &str,
    params: &[ScalarValue],
) -> Result<QueryResult, ApiError> {
    let parsed = session.parse_cached(sql)?;
    let statement = parsed
        .iter()
        .next()
        .cloned()
        .ok_or_else(|| SqlError::internal("a generated statement did not parse"))?;
    let started = std::time::Instant::now();
    let result = blocking(session.execute_prepared(&statement, params));
    metrics.statement(
        StatementKind::of_prepared(&statement),
        result.is_ok(),
        started.elapsed(),
    );
    if let Err(error) = &result {
        metrics.statement_error(error.code);
    }
    record(session, &statement, started, result?)
}

/// Counts a statement the HTTP API ran in the statistics views (`pg_stat_statements`,
/// `pg_stat_database`), as the wire's statements are counted. A query's rows are read
/// here to be counted; the API answers them whole anyway.
pub(super) fn record(
    session: &Session,
    statement: &PreparedStatement,
    started: std::time::Instant,
    result: QueryResult,
) -> Result<QueryResult, ApiError> {
    if !crate::metrics::COUNTING {
        return Ok(result);
    }
    let (result, tag) = match result {
        QueryResult::Rows { schema, rows, tag } => {
            let batches = blocking(rows.collect())?;
            let count: usize = batches.iter().map(|batch| batch.num_rows()).sum();
            let command = tag.clone().unwrap_or_else(|| format!("SELECT {count}"));
            let rows = bytedata_sql::Rows::Batches(batches);
            (QueryResult::Rows { schema, rows, tag }, command)
        }
        QueryResult::Command { tag } => {
            let command = tag.clone();
            (QueryResult::Command { tag }, command)
        }
        other => return Ok(other),
    };
    session.statement_finished(statement, started.elapsed(), &tag);
    Ok(result)
}

/// The rows of a query result as JSON objects.
pub(super) async fn objects(
    session: &Session,
    result: QueryResult,
) -> Result<Vec<Json_>, ApiError> {
    let QueryResult::Rows { schema, rows, .. } = result else {
        return Err(SqlError::internal("a row query returned no rows").into());
    };
    let columns = columns_of(&schema);
    let batches = rows.collect().await?;
    Ok(bytedata_sql::text_rows(&batches, &session.text_options())
        .into_iter()
        .map(|row| {
            let object: Map<String, Json_> = row
                .into_iter()
                .zip(&columns)
                .map(|(text, column)| (column.name.clone(), typed(text, column.oid)))
                .collect();
            Json_::Object(object)
        })
        .collect())
}

fn affected(result: &QueryResult) -> u64 {
    match result {
        QueryResult::Command { tag } => tag
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

pub(super) fn where_key(key: &[(String, DataType, Value)], first_param: usize) -> String {
    key.iter()
        .enumerate()
        .map(|(i, (name, _, _))| format!("{} = ${}", quoted(name), first_param + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

pub(super) fn key_params(key: &[(String, DataType, Value)]) -> Result<Vec<ScalarValue>, ApiError> {
    key.iter().map(|(_, ty, value)| scalar(value, ty)).collect()
}

async fn get_row(
    metrics: &Metrics,
    session: &mut Session,
    info: &TableInfo,
    key: &[(String, DataType, Value)],
) -> Result<Option<Json_>, ApiError> {
    let sql = format!(
        "SELECT * FROM {} WHERE {}",
        table_sql(info),
        where_key(key, 1)
    );
    let result = execute(metrics, session, &sql, &key_params(key)?)?;
    Ok(objects(session, result).await?.into_iter().next())
}

fn no_row() -> ApiError {
    ApiError::new("02000", "no row has this key")
}

pub async fn get(
    State(state): State<AppState>,
    Path((database, table, _)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Json_>, ApiError> {
    let user = state.authenticate(&headers)?;
    let mut session = state.pooled_session(&database, &user)?;
    let outcome = async {
        let info = session.table_info(&table)?;
        let key = key_values(&session, &info, &key_segments(&uri)?)?;
        get_row(&state.shared.metrics, &mut session, &info, &key)
            .await?
            .ok_or_else(no_row)
    }
    .await;
    state.sessions.give_back(session);
    Ok(Json(outcome?))
}

pub async fn delete(
    State(state): State<AppState>,
    Path((database, table, _)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let user = state.authenticate(&headers)?;
    let mut session = state.pooled_session(&database, &user)?;
    let outcome = (|| {
        let info = session.table_info(&table)?;
        let key = key_values(&session, &info, &key_segments(&uri)?)?;
        let sql = format!(
            "DELETE FROM {} WHERE {}",
            table_sql(&info),
            where_key(&key, 1)
        );
        let result = execute(
            &state.shared.metrics,
            &mut session,
            &sql,
            &key_params(&key)?,
        )?;
        match affected(&result) {
            0 => Err(no_row()),
            _ => Ok(StatusCode::NO_CONTENT),
        }
    })();
    state.sessions.give_back(session);
    outcome
}

pub async fn put(
    State(state): State<AppState>,
    Path((database, table, _)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body: Json_ = super::json_body(body)?;
    let user = state.authenticate(&headers)?;
    let mut session = state.pooled_session(&database, &user)?;
    let outcome = async {
        let info = session.table_info(&table)?;
        let key = key_values(&session, &info, &key_segments(&uri)?)?;
        let Json_::Object(object) = body else {
            return Err(ApiError::new(
                "22023",
                "a row is a JSON object of its columns",
            ));
        };
        let metrics = &state.shared.metrics;
        let created = upsert(metrics, &mut session, &info, &key, &object, true)?;
        let row = get_row(metrics, &mut session, &info, &key)
            .await?
            .ok_or_else(no_row)?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok((status, Json(row)).into_response())
    }
    .await;
    state.sessions.give_back(session);
    outcome
}

/// The non-key columns of `object` with their values, checking that any key column in it
/// matches the path.
pub(super) fn row_values(
    session: &Session,
    info: &TableInfo,
    key: &[(String, DataType, Value)],
    object: &Map<String, Json_>,
) -> Result<Vec<(String, DataType, Value)>, ApiError> {
    let mut values = Vec::with_capacity(object.len());
    for (name, json) in object {
        let ty = column_type(info, name)?;
        let value = parse_value(session, name, &ty, text_of(json).as_deref())?;
        match key.iter().find(|(k, _, _)| k == name) {
            Some((_, _, path_value))
                if bytedata_pgtypes::output::value_text(path_value)
                    != bytedata_pgtypes::output::value_text(&value) =>
            {
                return Err(ApiError::new(
                    "22023",
                    format!("key column \"{name}\" in the row differs from the path"),
                ));
            }
            Some(_) => {}
            None => values.push((name.clone(), ty, value)),
        }
    }
    Ok(values)
}

/// Writes the row at `key` with the columns of `object`: whether it was created. With
/// `retry`, an INSERT that loses a race to a concurrent one updates instead; without
/// (inside a transaction, which the failed INSERT has ended), that is the error.
pub(super) fn upsert(
    metrics: &Metrics,
    session: &mut Session,
    info: &TableInfo,
    key: &[(String, DataType, Value)],
    object: &Map<String, Json_>,
    retry: bool,
) -> Result<bool, ApiError> {
    let values = row_values(session, info, key, object)?;
    let table = table_sql(info);
    let mut all: Vec<&(String, DataType, Value)> = key.iter().collect();
    all.extend(values.iter());
    let insert = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        all.iter()
            .map(|(name, _, _)| quoted(name))
            .collect::<Vec<_>>()
            .join(", "),
        (1..=all.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let insert_params: Vec<ScalarValue> = all
        .iter()
        .map(|(_, ty, value)| scalar(value, ty))
        .collect::<Result<_, _>>()?;
    if values.is_empty() {
        // Only the key: the row exists afterwards either way.
        return match execute(metrics, session, &insert, &insert_params) {
            Ok(_) => Ok(true),
            Err(error) if error.error.code == "23505" => Ok(false),
            Err(error) => Err(error),
        };
    }
    let update = format!(
        "UPDATE {table} SET {} WHERE {}",
        values
            .iter()
            .enumerate()
            .map(|(i, (name, _, _))| format!("{} = ${}", quoted(name), i + 1))
            .collect::<Vec<_>>()
            .join(", "),
        where_key(key, values.len() + 1)
    );
    let mut update_params: Vec<ScalarValue> = values
        .iter()
        .map(|(_, ty, value)| scalar(value, ty))
        .collect::<Result<_, _>>()?;
    update_params.extend(key_params(key)?);
    for _ in 0..UPSERT_TRIES {
        if affected(&execute(metrics, session, &update, &update_params)?) > 0 {
            return Ok(false);
        }
        match execute(metrics, session, &insert, &insert_params) {
            Ok(_) => return Ok(true),
            // A concurrent insert of the same key committed first: update it instead.
            Err(error) if retry && error.error.code == "23505" && is_key_conflict(&error, info) => {
            }
            Err(error) => return Err(error),
        }
    }
    Err(ApiError::new(
        "40001",
        "the row kept being inserted and deleted concurrently; try again",
    ))
}

/// Whether a unique violation is on the primary key (not a unique index of another
/// column, which is the request's own error).
fn is_key_conflict(error: &ApiError, info: &TableInfo) -> bool {
    error
        .error
        .message
        .contains(&format!("\"{}_pkey\"", info.name))
        || error
            .error
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with(&format!("Key ({})=", info.key.join(", "))))
}
