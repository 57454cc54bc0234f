//! `POST /v1/sql`: SQL over HTTP.
//!
//! `{"database": "bytedata", "query": "…", "params": […]}` runs one query string — with
//! `params`, exactly one statement, its `$n` bound like the extended protocol's text
//! parameters — and answers the last statement's result. `{"statements": [{"query",
//! "params"}, …]}` runs several in one transaction, all or nothing, and answers
//! `{"results": […]}`; an error names the statement (`"statement": i`, from 0).
//!
//! Each request gets a session of its own (a `SET` in one request never reaches
//! another), bounded by the listener's statement timeout unless the request sets one.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bytedata_sql::{PreparedStatement, QueryResult, Session};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::error::ApiError;
use super::json::{result_json, text_of};
use super::{AppState, blocking};
use crate::metrics::{Metrics, StatementKind};

/// Most statements one request may run.
const MAX_STATEMENTS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    database: Option<String>,
    query: Option<String>,
    #[serde(default)]
    params: Vec<Json_>,
    statements: Option<Vec<StatementRequest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRequest {
    query: String,
    #[serde(default)]
    params: Vec<Json_>,
}

pub async fn post_sql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Json_>, ApiError> {
    let request: SqlRequest = super::json_body(body)?;
    let user = state.authenticate(&headers)?;
    let database = request
        .database
        .clone()
        .unwrap_or_else(|| state.default_database.clone());
    let mut session = state.open_session(&database, &user)?;
    match (request.query, request.statements) {
        (Some(query), None) => {
            let result = run(&state.shared.metrics, &mut session, &query, &request.params).await?;
            Ok(Json(result_json(result, &session.text_options()).await?))
        }
        (None, Some(statements)) if !request.params.is_empty() => {
            let _ = statements;
            Err(ApiError::new(
                "42601",
                "\"params\" belong inside each of \"statements\"",
            ))
        }
        (None, Some(statements)) => {
            if statements.len() > MAX_STATEMENTS {
                return Err(ApiError::new(
                    "54000",
                    format!("more than {MAX_STATEMENTS} statements in one request"),
                ));
            }
            Ok(Json(
                run_all(&state.shared.metrics, &mut session, statements).await?,
            ))
        }
        _ => Err(ApiError::new(
            "42601",
            "give either \"query\" or \"statements\"",
        )),
    }
}

/// Runs `statements` in one transaction: every result, or the first error (with the
/// statement's position) and nothing written.
async fn run_all(
    metrics: &Metrics,
    session: &mut Session,
    statements: Vec<StatementRequest>,
) -> Result<Json_, ApiError> {
    blocking(session.execute("BEGIN"))?;
    let mut results = Vec::with_capacity(statements.len());
    for (position, statement) in statements.iter().enumerate() {
        let outcome = match run(metrics, session, &statement.query, &statement.params).await {
            Ok(result) => result_json(result, &session.text_options()).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(json) => results.push(json),
            Err(mut error) => {
                let _ = blocking(session.execute("ROLLBACK"));
                let detail = format!("statement {position} of the request");
                error.error.detail = Some(match error.error.detail.take() {
                    Some(own) => format!("{own} ({detail})"),
                    None => detail,
                });
                return Err(error);
            }
        }
    }
    blocking(session.execute("COMMIT"))?;
    Ok(json!({ "results": results }))
}

/// One query string: with parameters, one statement bound to them. Counted in the
/// statement metrics by its last statement's kind, and — when it is one statement — in
/// the statement statistics as a PostgreSQL client's statement is.
async fn run(
    metrics: &Metrics,
    session: &mut Session,
    query: &str,
    params: &[Json_],
) -> Result<QueryResult, ApiError> {
    let started = std::time::Instant::now();
    let parsed = match session.parse_cached(query) {
        Ok(parsed) => parsed,
        Err(error) => {
            metrics.statement(StatementKind::other, false, started.elapsed());
            metrics.statement_error(error.code);
            return Err(error.into());
        }
    };
    let kind = parsed.last().map_or(StatementKind::other, |last| {
        StatementKind::of_prepared(last)
    });
    let result = run_parsed(session, query, &parsed, params).await;
    metrics.statement(kind, result.is_ok(), started.elapsed());
    if let Err(error) = &result {
        metrics.statement_error(error.error.code);
    }
    match (result, &parsed[..]) {
        (Ok(result), [statement]) => super::rows::record(session, statement, started, result),
        (result, _) => result,
    }
}

async fn run_parsed(
    session: &mut Session,
    query: &str,
    parsed: &[std::sync::Arc<PreparedStatement>],
    params: &[Json_],
) -> Result<QueryResult, ApiError> {
    if params.is_empty() {
        // The text was parsed into the session's cache just before: not parsed again.
        let mut results = blocking(session.execute(query))?;
        return results
            .pop()
            .ok_or_else(|| ApiError::new("42601", "the query is empty"));
    }
    let [prepared] = parsed else {
        return Err(ApiError::new(
            "42601",
            "a query with parameters must be exactly one statement",
        ));
    };
    let description = blocking(session.describe(prepared.statement(), &[]))?;
    let texts: Vec<Option<Bytes>> = params.iter().map(|p| text_of(p).map(Bytes::from)).collect();
    let values = crate::wire::params::decode(
        &description,
        &[],
        &texts,
        &session.settings().input_options(),
    )?;
    Ok(blocking(session.execute_prepared(prepared, &values))?)
}
