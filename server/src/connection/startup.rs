//! Startup: the StartupMessage, admission (`max_connections`), the role and its
//! authentication, the database, the client's parameters; then AuthenticationOk,
//! ParameterStatus for every reported parameter, BackendKeyData and ReadyForQuery.
//!
//! Errors here are FATAL and end the connection, with PostgreSQL's codes: 53300 too many
//! clients, 28000 no such role or role may not log in, 28P01 failed password, 3D000 no
//! such database, 08P01 protocol violations.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytedata_sql::{Session, SqlError};
use futures::{SinkExt, StreamExt};
use pgwire::api::auth::driver::AuthOutcome;
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::messages::response::ErrorResponse;
use pgwire::messages::startup::{Authentication, BackendKeyData, SecretKey};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::{Connection, Shared, Socket, error_fields};
use crate::config::AuthMethod;

/// How long a client has to complete startup and authentication.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Startup parameters that are not settings.
const NOT_SETTINGS: &[&str] = &["user", "database", "options", "replication"];

async fn fatal(socket: &mut Socket, error: SqlError) -> Option<Connection> {
    tracing::debug!(code = error.code, message = %error.message, "connection refused");
    let _ = socket
        .send(PgWireBackendMessage::ErrorResponse(ErrorResponse::new(
            error_fields("FATAL", &error),
        )))
        .await;
    None
}

/// `-c name=value` and `--name=value` pairs from the `options` startup parameter.
fn command_line_settings(options: &str) -> Result<Vec<(String, String)>, SqlError> {
    let mut settings = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut escaped = false;
    for c in options.chars() {
        if escaped {
            word.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c.is_whitespace() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut iter = words.into_iter();
    while let Some(word) = iter.next() {
        let pair = if word == "-c" {
            iter.next()
        } else if let Some(rest) = word.strip_prefix("--") {
            Some(rest.to_owned())
        } else if let Some(rest) = word.strip_prefix("-c") {
            Some(rest.to_owned())
        } else {
            return Err(SqlError::new(
                "42601",
                format!("invalid command-line argument for server process: {word}"),
            ));
        };
        let pair = pair.unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else {
            return Err(SqlError::new(
                "42601",
                format!("-c {pair} requires a value"),
            ));
        };
        settings.push((name.replace('-', "_"), value.to_owned()));
    }
    Ok(settings)
}

pub(super) async fn startup(
    mut socket: Socket,
    shared: Arc<Shared>,
    auth: AuthMethod,
    peer: Option<std::net::SocketAddr>,
) -> Option<Connection> {
    let first = tokio::time::timeout(STARTUP_TIMEOUT, socket.next()).await;
    let startup = match first {
        Ok(Some(Ok(PgWireFrontendMessage::Startup(startup)))) => startup,
        Ok(Some(Ok(PgWireFrontendMessage::CancelRequest(cancel)))) => {
            let secret = match cancel.secret_key {
                SecretKey::I32(key) => key,
                SecretKey::Bytes(bytes) if bytes.len() == 4 => {
                    i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
                }
                SecretKey::Bytes(_) => return None,
            };
            shared.registry.cancel(cancel.pid, secret);
            return None;
        }
        Ok(Some(Ok(_))) => {
            return fatal(
                &mut socket,
                SqlError::new("08P01", "expected a startup message"),
            )
            .await;
        }
        _ => return None,
    };
    if pgwire::api::auth::protocol_negotiation(&mut socket, &startup)
        .await
        .is_err()
    {
        return fatal(
            &mut socket,
            SqlError::new(
                "08P01",
                format!(
                    "unsupported frontend protocol {}.{}",
                    startup.protocol_number_major, startup.protocol_number_minor
                ),
            ),
        )
        .await;
    }
    pgwire::api::auth::save_startup_parameters_to_metadata(&mut socket, &startup);
    let parameters = startup.parameters.clone();
    let Some(user) = parameters.get("user").cloned().filter(|u| !u.is_empty()) else {
        return fatal(
            &mut socket,
            SqlError::new(
                "28000",
                "no PostgreSQL user name specified in startup packet",
            ),
        )
        .await;
    };
    let database = parameters
        .get("database")
        .cloned()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| user.clone());
    if parameters.contains_key("replication") {
        return fatal(
            &mut socket,
            SqlError::new("0A000", "replication connections are not supported"),
        )
        .await;
    }

    let Some(mut slot) = shared.registry.admit() else {
        return fatal(
            &mut socket,
            SqlError::new("53300", "sorry, too many clients already"),
        )
        .await;
    };

    match auth {
        AuthMethod::Trust => match shared.cluster.login_role(&user) {
            Ok(Some(role)) if role.login => {}
            Ok(Some(_)) => {
                return fatal(
                    &mut socket,
                    SqlError::new(
                        "28000",
                        format!("role \"{user}\" is not permitted to log in"),
                    ),
                )
                .await;
            }
            Ok(None) => {
                return fatal(
                    &mut socket,
                    SqlError::new("28000", format!("role \"{user}\" does not exist")),
                )
                .await;
            }
            Err(error) => return fatal(&mut socket, error).await,
        },
        AuthMethod::ScramSha256 => {
            if let Err(error) = scram(&mut socket, &shared, &user).await {
                return fatal(&mut socket, error).await;
            }
            match shared.cluster.login_role(&user) {
                Ok(Some(role)) if role.login => {}
                _ => {
                    return fatal(
                        &mut socket,
                        SqlError::new(
                            "28000",
                            format!("role \"{user}\" is not permitted to log in"),
                        ),
                    )
                    .await;
                }
            }
        }
    }

    let mut session = match Session::new(shared.cluster.clone(), &database, &user) {
        Ok(session) => session,
        Err(error) => return fatal(&mut socket, error).await,
    };
    // The server's defaults first: the client's own parameters may change them.
    let mut settings: Vec<(String, String)> = shared.session_defaults.clone();
    settings.extend(
        parameters
            .iter()
            .filter(|(name, _)| !NOT_SETTINGS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    if let Some(options) = parameters.get("options") {
        match command_line_settings(options) {
            Ok(more) => settings.extend(more),
            Err(error) => return fatal(&mut socket, error).await,
        }
    }
    for (name, value) in settings {
        match session.settings_mut().set(&name, &value) {
            Ok(_) => {}
            // Drivers send parameters of their own (JDBC's, pgjdbc's `geqo`…):
            // PostgreSQL refuses unknown ones, but refusing costs the connection for a
            // setting that would change nothing here.
            Err(error) if error.code == "42704" => {
                tracing::debug!(%name, "ignoring unknown startup parameter");
            }
            Err(error) => return fatal(&mut socket, error).await,
        }
    }
    session.settings_mut().mark_reset_values();

    let pid = shared.registry.next_pid();
    session.register_backend(pid, peer);
    let secret: i32 = rand::random();
    slot.register(pid, secret, session.canceller());

    let mut connection = Connection {
        socket,
        session,
        shared,
        statements: HashMap::new(),
        query_text: None,
        portals: HashMap::new(),
        skip_until_sync: false,
        reported: HashMap::new(),
        reported_settings: None,
        slot,
    };
    let greeting = async {
        connection
            .send(PgWireBackendMessage::Authentication(Authentication::Ok))
            .await?;
        connection.report_parameters().await?;
        connection
            .send(PgWireBackendMessage::BackendKeyData(BackendKeyData::new(
                pid,
                SecretKey::I32(secret),
            )))
            .await?;
        connection.ready_for_query().await
    };
    if greeting.await.is_err() {
        return None;
    }
    tracing::debug!(%user, %database, pid, "connection ready");
    Some(connection)
}

/// Runs the SCRAM-SHA-256 exchange.
async fn scram(socket: &mut Socket, shared: &Shared, user: &str) -> Result<(), SqlError> {
    let failed = || {
        SqlError::new(
            "28P01",
            format!("password authentication failed for user \"{user}\""),
        )
    };
    let mut outcome = shared
        .scram
        .driver
        .begin_authentication(socket, shared.scram.mechanism())
        .await
        .map_err(|_| failed())?;
    loop {
        match outcome {
            AuthOutcome::Authenticated { final_message, .. } => {
                if let Some(message) = final_message {
                    socket
                        .feed(PgWireBackendMessage::Authentication(message))
                        .await
                        .map_err(|_| failed())?;
                }
                socket.set_state(PgWireConnectionState::ReadyForQuery);
                return Ok(());
            }
            AuthOutcome::InProgress => {}
        }
        let message = tokio::time::timeout(STARTUP_TIMEOUT, socket.next())
            .await
            .map_err(|_| SqlError::new("08006", "authentication timed out"))?;
        let Some(Ok(PgWireFrontendMessage::PasswordMessageFamily(message))) = message else {
            return Err(SqlError::new(
                "08P01",
                "expected a SASL response during authentication",
            ));
        };
        outcome = shared
            .scram
            .driver
            .advance_authentication(socket, message)
            .await
            .map_err(|_| failed())?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_carry_settings() {
        let settings =
            command_line_settings("-c statement_timeout=5s --search-path=public -cDateStyle=ISO")
                .expect("valid");
        assert_eq!(
            settings,
            [
                ("statement_timeout".to_owned(), "5s".to_owned()),
                ("search_path".to_owned(), "public".to_owned()),
                ("DateStyle".to_owned(), "ISO".to_owned()),
            ]
        );
        assert_eq!(
            command_line_settings(r"-c application_name=a\ b").expect("valid"),
            [("application_name".to_owned(), "a b".to_owned())]
        );
        assert!(command_line_settings("-c nonsense").is_err());
        assert!(command_line_settings("stray").is_err());
    }
}
