//! One client connection: startup, then the message loop.
//!
//! Replies are fed into the socket's buffer and flushed only when the client is about to
//! wait: at ReadyForQuery, on Flush, when a portal suspends, before COPY data is awaited,
//! and whenever the buffer fills. PostgreSQL does the same; it keeps a pipelined client
//! (pgbench, JDBC batches) at one write per round trip.

mod copy;
mod extended;
mod prepare;
mod results;
mod simple;
mod startup;

use std::collections::HashMap;
use std::sync::Arc;

use bytedata_sql::{Cluster, Session, SqlError};
use futures::{SinkExt, StreamExt};
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::messages::response::{ErrorResponse, ReadyForQuery, TransactionStatus};
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::server::{MaybeTls, PgWireMessageServerCodec};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::auth::Scram;
use crate::config::AuthMethod;
use crate::registry::Registry;

pub(crate) type Socket = Framed<MaybeTls, PgWireMessageServerCodec<()>>;

/// What every connection shares.
pub struct Shared {
    pub cluster: Arc<Cluster>,
    pub registry: Arc<Registry>,
    pub tls: Option<crate::tls::Tls>,
    pub scram: Scram,
    /// Becomes true when the server shuts down.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Settings every session starts with (`Config::session_defaults`).
    pub session_defaults: Vec<(String, String)>,
}

/// An error that ends the connection (after it was reported, if it could be).
#[derive(Debug)]
pub(crate) enum Disconnect {
    /// The client went away or the socket failed.
    Io(std::io::Error),
    /// Reported to the client as FATAL.
    Fatal,
}

impl From<std::io::Error> for Disconnect {
    fn from(error: std::io::Error) -> Self {
        Disconnect::Io(error)
    }
}

pub(crate) type Outcome<T = ()> = Result<T, Disconnect>;

pub(crate) fn error_fields(severity: &str, error: &SqlError) -> Vec<(u8, String)> {
    let mut fields = vec![
        (b'S', severity.to_owned()),
        (b'V', severity.to_owned()),
        (b'C', error.code.to_owned()),
        (b'M', error.message.clone()),
    ];
    if let Some(detail) = &error.detail {
        fields.push((b'D', detail.clone()));
    }
    if let Some(hint) = &error.hint {
        fields.push((b'H', hint.clone()));
    }
    if let Some(position) = error.position {
        fields.push((b'P', position.to_string()));
    }
    fields
}

/// Completes once the server starts shutting down.
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    if shutdown.wait_for(|stopping| *stopping).await.is_err() {
        // The server is gone without saying so: nothing to wait for.
        std::future::pending::<()>().await;
    }
}

pub(crate) struct Connection {
    socket: Socket,
    session: Session,
    shared: Arc<Shared>,
    statements: HashMap<String, Arc<extended::Prepared>>,
    /// The text of the query string or prepared statement being run: where the errors it
    /// raises are located (`wire::position`).
    query_text: Option<Arc<str>>,
    portals: HashMap<String, extended::Portal>,
    /// After an error in the extended protocol: discard messages until Sync.
    skip_until_sync: bool,
    /// The values of the reported parameters as the client last heard them.
    reported: HashMap<&'static str, String>,
    /// The settings `reported` was taken from: while they are unchanged, so is it.
    reported_settings: Option<bytedata_sql::Settings>,
    /// Its place among the live connections (freed on drop).
    #[allow(dead_code)]
    slot: crate::registry::Slot,
}

/// Serves one accepted TCP connection to its end.
pub async fn serve(tcp: TcpStream, shared: Arc<Shared>, auth: AuthMethod) {
    let peer = tcp.peer_addr().ok();
    let acceptor = shared.tls.as_ref().map(|t| t.acceptor.clone());
    let negotiated = tokio::time::timeout(
        startup::STARTUP_TIMEOUT,
        pgwire::tokio::server::negotiate_tls(tcp, acceptor),
    )
    .await;
    let socket = match negotiated {
        Ok(Ok(Some(socket))) => socket,
        Ok(Ok(None)) => return,
        Ok(Err(error)) => {
            tracing::debug!(?peer, %error, "connection failed before startup");
            return;
        }
        Err(_) => {
            tracing::debug!(?peer, "startup timed out");
            return;
        }
    };
    let Some(mut connection) = startup::startup(socket, shared, auth, peer).await else {
        return;
    };
    match connection.run().await {
        Ok(()) | Err(Disconnect::Fatal) => {}
        Err(Disconnect::Io(error)) => {
            tracing::debug!(?peer, %error, "connection ended");
        }
    }
    connection.session.terminate();
}

impl Connection {
    async fn run(&mut self) -> Outcome {
        let mut shutdown = self.shared.shutdown.subscribe();
        let backend = self.session.backend().cloned();
        loop {
            let terminated = async {
                match &backend {
                    Some(backend) => backend.terminated().await,
                    None => std::future::pending().await,
                }
            };
            let next = tokio::select! {
                // A stop asked for wins over messages already waiting.
                biased;
                _ = stopping(&mut shutdown) => None,
                _ = terminated => None,
                next = self.socket.next() => Some(next),
            };
            let Some(next) = next else {
                // The server stops, or `pg_terminate_backend` named this connection.
                let error = SqlError::new(
                    "57P01",
                    "terminating connection due to administrator command",
                );
                self.send_fatal(&error).await?;
                return Err(Disconnect::Fatal);
            };
            let message = match next {
                None => return Ok(()),
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    let error = SqlError::new("08P01", format!("invalid message: {error}"));
                    self.send_fatal(&error).await?;
                    return Err(Disconnect::Fatal);
                }
            };
            match message {
                PgWireFrontendMessage::Terminate(_) => return Ok(()),
                PgWireFrontendMessage::Query(query) => {
                    self.skip_until_sync = false;
                    self.simple_query(&query.query).await?;
                }
                PgWireFrontendMessage::Sync(_) => {
                    self.skip_until_sync = false;
                    self.sync().await?;
                }
                PgWireFrontendMessage::Flush(_) => self.socket.flush().await?,
                _ if self.skip_until_sync => {}
                PgWireFrontendMessage::Parse(parse) => {
                    let result = self.parse(parse).await;
                    self.extended_outcome(result).await?;
                }
                PgWireFrontendMessage::Bind(bind) => {
                    let result = self.bind(bind).await;
                    self.extended_outcome(result).await?;
                }
                PgWireFrontendMessage::Describe(describe) => {
                    let result = self.describe(describe).await;
                    self.extended_outcome(result).await?;
                }
                PgWireFrontendMessage::Execute(execute) => {
                    let result = self.execute(execute).await?;
                    self.extended_outcome(result).await?;
                }
                PgWireFrontendMessage::Close(close) => {
                    let result = self.close(close).await;
                    self.extended_outcome(result).await?;
                }
                // Stray COPY messages (after a COPY failed) are ignored, as PostgreSQL does.
                PgWireFrontendMessage::CopyData(_)
                | PgWireFrontendMessage::CopyDone(_)
                | PgWireFrontendMessage::CopyFail(_) => {}
                other => {
                    let error = SqlError::new(
                        "08P01",
                        format!("unexpected message {other:?} after startup"),
                    );
                    self.send_fatal(&error).await?;
                    return Err(Disconnect::Fatal);
                }
            }
        }
    }

    /// Reports an extended-protocol error and discards messages up to Sync.
    async fn extended_outcome(&mut self, result: Result<(), SqlError>) -> Outcome {
        if let Err(error) = result {
            self.session.mark_failed();
            self.send_error(&error).await?;
            self.skip_until_sync = true;
        }
        Ok(())
    }

    pub(crate) async fn send(&mut self, message: PgWireBackendMessage) -> Outcome {
        self.socket.feed(message).await?;
        Ok(())
    }

    pub(crate) async fn send_error(&mut self, error: &SqlError) -> Outcome {
        let position = self
            .query_text
            .as_deref()
            .and_then(|query| crate::wire::position::locate(error, query));
        let located;
        let error = match position {
            Some(position) if error.position.is_none() => {
                located = error.clone().with_position(position);
                &located
            }
            _ => error,
        };
        self.send(PgWireBackendMessage::ErrorResponse(ErrorResponse::new(
            error_fields("ERROR", error),
        )))
        .await
    }

    async fn send_fatal(&mut self, error: &SqlError) -> Outcome {
        self.socket
            .send(PgWireBackendMessage::ErrorResponse(ErrorResponse::new(
                error_fields("FATAL", error),
            )))
            .await?;
        Ok(())
    }

    pub(crate) fn transaction_status(&self) -> TransactionStatus {
        match self.session.transaction_status() {
            b'T' => TransactionStatus::Transaction,
            b'E' => TransactionStatus::Error,
            _ => TransactionStatus::Idle,
        }
    }

    pub(crate) async fn ready_for_query(&mut self) -> Outcome {
        self.session.activity_idle();
        let status = self.transaction_status();
        self.socket.set_state(PgWireConnectionState::ReadyForQuery);
        self.socket
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
        Ok(())
    }

    /// Tells the client about reported parameters that changed (`SET TimeZone` …).
    pub(crate) async fn report_parameters(&mut self) -> Outcome {
        let settings = self.session.settings();
        if self
            .reported_settings
            .as_ref()
            .is_some_and(|reported| settings.unchanged_since(reported))
        {
            return Ok(());
        }
        self.reported_settings = Some(settings.clone());
        let mut changed = Vec::new();
        for name in bytedata_sql::REPORTED_SETTINGS {
            let Ok(value) = self.session.settings().get(name) else {
                continue;
            };
            if self.reported.get(name) != Some(&value) {
                changed.push((*name, value));
            }
        }
        for (name, value) in changed {
            self.reported.insert(name, value.clone());
            self.send(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                name.to_owned(),
                value,
            )))
            .await?;
        }
        Ok(())
    }
}
