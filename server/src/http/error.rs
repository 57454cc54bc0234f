//! Errors over HTTP: the SQLSTATE error as JSON (`{"code", "message", "detail", "hint"}`)
//! with the HTTP status that fits its class, so a client can branch on either.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytedata_sql::SqlError;
use serde::Serialize;

/// An error answered to an HTTP request.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: SqlError,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

/// The HTTP status of a SQLSTATE: bad input 400, missing things 404, conflicts 409,
/// privileges 403, limits 503, the server's own failures 500.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "28000" | "28P01" => StatusCode::UNAUTHORIZED,
        "42501" => StatusCode::FORBIDDEN,
        "42P01" | "3D000" | "02000" | "42883" | "42704" => StatusCode::NOT_FOUND,
        "23505" | "40001" | "40P01" | "55P03" | "25P02" => StatusCode::CONFLICT,
        "54000" => StatusCode::PAYLOAD_TOO_LARGE,
        "57014" => StatusCode::REQUEST_TIMEOUT,
        "57P01" | "57P03" => StatusCode::SERVICE_UNAVAILABLE,
        _ if code.starts_with("53") => StatusCode::SERVICE_UNAVAILABLE,
        _ if code.starts_with("XX") || code.starts_with("58") => StatusCode::INTERNAL_SERVER_ERROR,
        // Data exceptions, syntax and access rules, constraint violations, invalid
        // transaction states: the request is wrong, not the server.
        _ => StatusCode::BAD_REQUEST,
    }
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        SqlError::new(code, message).into()
    }

    /// The error as the JSON object a response carries.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.json()).unwrap_or_default()
    }

    fn json(&self) -> Body<'_> {
        Body {
            code: self.error.code,
            message: &self.error.message,
            detail: self.error.detail.as_deref(),
            hint: self.error.hint.as_deref(),
        }
    }
}

impl From<SqlError> for ApiError {
    fn from(error: SqlError) -> Self {
        ApiError {
            status: status_of(error.code),
            error,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_sqlstate_class() {
        for (code, status) in [
            ("22P02", 400),
            ("42601", 400),
            ("23502", 400),
            ("42P01", 404),
            ("23505", 409),
            ("40001", 409),
            ("28P01", 401),
            ("42501", 403),
            ("53300", 503),
            ("XX000", 500),
        ] {
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
    }
}
