//! The HTTP listener: the same databases as the PostgreSQL protocol, for clients that
//! speak JSON, and the endpoints operators' tools read.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | alive: version, uptime, role |
//! | `GET /ready` | recovered and accepting writes (503 while shutting down) |
//! | `GET /metrics` | Prometheus exposition (`crate::metrics`) |
//! | `POST /v1/sql` | statements with JSON parameters and results (`sql`) |
//! | `GET/PUT/DELETE /v1/databases/{db}/tables/{t}/rows/{key…}` | a row by key (`rows`) |
//! | `GET /v1/databases/{db}/tables/{t}/rows?…` | rows in key order, paged (`listing`) |
//! | `POST /v1/databases/{db}/tables/{t}/batch` | puts and deletes in one transaction (`batch`) |
//!
//! Requests run in `bytedata_sql::Session`s like a connection's, so they see and take
//! the same transactions, locks, checks and WAL: a row written over HTTP is in psql's
//! next query and survives a crash once answered. Statements may wait for locks or the
//! disk, so they run where blocking is allowed (`blocking`).
//!
//! Limits: request bodies of at most `http_max_body_bytes` (413 beyond), and every
//! statement bounded by `http_statement_timeout_ms` unless the request sets its own
//! `statement_timeout`. Errors are JSON with a SQLSTATE (`error`).

mod auth;
mod batch;
mod error;
mod https;
mod json;
mod listing;
mod rows;
mod sessions;
mod sql;

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytedata_sql::Session;
use serde_json::json;
use tokio::net::TcpListener;

use crate::config::AuthMethod;
use crate::connection::Shared;
pub use error::ApiError;

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    shared: Arc<Shared>,
    auth: AuthMethod,
    superuser: String,
    default_database: String,
    statement_timeout_ms: u64,
    verified: auth::Verified,
    tokens: Arc<crate::tokens::Tokens>,
    sessions: sessions::SessionPool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

/// The HTTP listener's settings.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub auth: AuthMethod,
    pub max_body_bytes: usize,
    pub statement_timeout_ms: u64,
    pub superuser: String,
    pub tokens: Arc<crate::tokens::Tokens>,
}

impl Inner {
    fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
        self.verified.authenticate(
            &self.shared.cluster,
            self.auth,
            &self.superuser,
            &self.tokens,
            headers,
        )
    }

    /// A new session for one request (its settings die with it).
    fn open_session(&self, database: &str, user: &str) -> Result<Session, ApiError> {
        let mut session = Session::new(self.shared.cluster.clone(), database, user)?;
        self.limit(&mut session)?;
        Ok(session)
    }

    /// A session from the pool, for the rows API, whose statements change no setting.
    fn pooled_session(&self, database: &str, user: &str) -> Result<Session, ApiError> {
        let mut session = self.sessions.take(&self.shared.cluster, database, user)?;
        if session.settings().get("statement_timeout").ok().as_deref() == Some("0") {
            self.limit(&mut session)?;
        }
        Ok(session)
    }

    fn limit(&self, session: &mut Session) -> Result<(), ApiError> {
        for (name, value) in &self.shared.session_defaults {
            session.settings_mut().set(name, value)?;
        }
        if self.statement_timeout_ms > 0 {
            let set = format!("SET statement_timeout = {}", self.statement_timeout_ms);
            blocking(session.execute(&set))?;
        }
        Ok(())
    }
}

/// Runs a statement's future where it may block: the runtime moves this thread's other
/// tasks elsewhere first (as the PostgreSQL connections do).
pub(crate) fn blocking<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

/// The JSON a request body holds, whatever its `Content-Type` says: 400 (22P02) for a
/// body that is not it, 413 (54000) for one over `http_max_body_bytes`.
fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let mut error = ApiError::new(
                "54000",
                "the request body is larger than http_max_body_bytes",
            );
            error.status = StatusCode::PAYLOAD_TOO_LARGE;
            error
        } else {
            ApiError::new(
                "08P01",
                format!("cannot read the request body: {}", rejection.body_text()),
            )
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|error| ApiError::new("22P02", format!("invalid JSON body: {error}")))
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.shared.metrics.uptime().as_secs(),
        "role": "primary",
    }))
}

async fn ready(State(state): State<AppState>) -> Response {
    let stopping = *state.shared.shutdown.borrow();
    let (status, text) = if stopping {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        (StatusCode::OK, "ready")
    };
    let body = json!({
        "status": text,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.shared.metrics.uptime().as_secs(),
        "role": "primary",
    });
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    match state
        .shared
        .metrics
        .render(&state.shared.cluster, &state.shared.registry)
    {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                crate::metrics::Metrics::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(message) => ApiError::new("XX000", message).into_response(),
    }
}

/// Counts every request by its route (the pattern, not the path: keys are not labels).
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| route_label(path.as_str()))
        .unwrap_or("unmatched");
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .shared
        .metrics
        .http_request(route, response.status().as_u16(), started.elapsed());
    response
}

/// Route patterns as static labels (a bounded set).
fn route_label(pattern: &str) -> &'static str {
    match pattern {
        "/health" => "/health",
        "/ready" => "/ready",
        "/metrics" => "/metrics",
        "/v1/sql" => "/v1/sql",
        "/v1/databases/{database}/tables/{table}/rows" => "/v1/databases/{db}/tables/{table}/rows",
        "/v1/databases/{database}/tables/{table}/batch" => {
            "/v1/databases/{db}/tables/{table}/batch"
        }
        "/v1/databases/{database}/tables/{table}/rows/{*key}" => {
            "/v1/databases/{db}/tables/{table}/rows/{key}"
        }
        _ => "other",
    }
}

async fn not_found() -> ApiError {
    ApiError::new("42704", "no such endpoint")
}

pub fn router(shared: Arc<Shared>, options: &HttpOptions, default_database: &str) -> Router {
    let state = AppState {
        inner: Arc::new(Inner {
            shared,
            auth: options.auth,
            superuser: options.superuser.clone(),
            default_database: default_database.to_owned(),
            statement_timeout_ms: options.statement_timeout_ms,
            verified: auth::Verified::default(),
            tokens: options.tokens.clone(),
            sessions: sessions::SessionPool::default(),
        }),
    };
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/sql", post(sql::post_sql))
        .route(
            "/v1/databases/{database}/tables/{table}/rows",
            get(listing::list),
        )
        .route(
            "/v1/databases/{database}/tables/{table}/batch",
            post(batch::post),
        )
        .route(
            "/v1/databases/{database}/tables/{table}/rows/{*key}",
            get(rows::get).put(rows::put).delete(rows::delete),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .with_state(state)
}

/// Serves HTTP on `listener` until the server shuts down; requests in flight finish.
/// With the server's TLS identity it serves HTTPS only.
pub async fn serve(listener: TcpListener, router: Router, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    let stopping = async move {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
    };
    let served = match &shared.tls {
        Some(tls) => match https::TlsListener::new(listener, tls.http_acceptor.clone()) {
            Ok(listener) => {
                axum::serve(listener, router)
                    .with_graceful_shutdown(stopping)
                    .await
            }
            Err(error) => Err(error),
        },
        None => {
            axum::serve(listener, router)
                .with_graceful_shutdown(stopping)
                .await
        }
    };
    if let Err(error) = served {
        tracing::error!(%error, "the HTTP listener failed");
    }
}
