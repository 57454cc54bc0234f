//! The extended query protocol: Parse, Bind, Describe, Execute, Close.
//!
//! A prepared statement keeps its parsed AST and its description (parameter types and
//! result columns), computed once at Parse. A portal is a statement with its parameter
//! values and result formats; once executed it holds the remaining rows, so an Execute
//! with a row limit suspends it and the next Execute resumes.

use std::sync::Arc;

use bytedata_sql::Description;
use bytedata_sql::PreparedStatement;
use bytedata_sql::{QueryResult, SqlError};
use datafusion::scalar::ScalarValue;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::{NoData, ParameterDescription};
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Close, CloseComplete, Describe, Execute, Parse, ParseComplete,
    PortalSuspended,
};
use pgwire::messages::response::EmptyQueryResponse;

use super::results::{RowSource, Sent};
use super::{Connection, Outcome};
use crate::wire::rows::row_description;

/// Most prepared statements and portals one connection may hold.
const MAX_PREPARED: usize = 10_000;

pub(crate) struct Prepared {
    /// `None` for an empty query string.
    statement: Option<Arc<PreparedStatement>>,
    description: Description,
    /// The text as the client sent it (what `pg_stat_activity` shows).
    text: Arc<str>,
}

impl Prepared {
    pub(super) fn new(
        statement: Option<Arc<PreparedStatement>>,
        description: Description,
        text: Arc<str>,
    ) -> Self {
        Prepared {
            statement,
            description,
            text,
        }
    }

    pub(super) fn description(&self) -> &Description {
        &self.description
    }

    pub(super) fn statement(&self) -> Option<Arc<PreparedStatement>> {
        self.statement.clone()
    }
}

enum PortalState {
    NotStarted,
    Rows(RowSource),
    Done,
}

pub(crate) struct Portal {
    prepared: Arc<Prepared>,
    params: Vec<ScalarValue>,
    result_formats: Vec<i16>,
    state: PortalState,
    /// When its first Execute began (the slow-statement log's duration).
    started: Option<std::time::Instant>,
}

fn name_of(name: &Option<String>) -> String {
    name.clone().unwrap_or_default()
}

impl Connection {
    /// Keeps a prepared statement under `name` (the unnamed one is replaced).
    pub(super) fn insert_statement(
        &mut self,
        name: String,
        prepared: Prepared,
    ) -> Result<(), SqlError> {
        if self.statements.len() >= MAX_PREPARED && !self.statements.contains_key(&name) {
            return Err(SqlError::new(
                "54000",
                format!("too many prepared statements (at most {MAX_PREPARED})"),
            ));
        }
        self.statements.insert(name, Arc::new(prepared));
        Ok(())
    }

    pub(super) async fn parse(&mut self, parse: Parse) -> Result<(), SqlError> {
        self.query_text = Some(Arc::from(parse.query.as_str()));
        let name = name_of(&parse.name);
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Err(SqlError::new(
                "42P05",
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        if self.statements.len() >= MAX_PREPARED {
            return Err(SqlError::new(
                "54000",
                format!("too many prepared statements (at most {MAX_PREPARED})"),
            ));
        }
        let mut statements = bytedata_sql::parse(&parse.query)?;
        if statements.len() > 1 {
            return Err(SqlError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let statement = statements
            .pop()
            .map(|s| Arc::new(PreparedStatement::new(s)));
        let description = match &statement {
            Some(statement) => {
                let started = std::time::Instant::now();
                let described = self
                    .session
                    .describe(statement.statement(), &parse.type_oids)
                    .await;
                if described.is_err() {
                    // A statement that cannot even be planned failed as a statement.
                    self.shared.metrics.statement(
                        crate::metrics::StatementKind::of(statement.statement()),
                        false,
                        started.elapsed(),
                    );
                }
                described?
            }
            None => Description {
                params: vec![],
                param_arrow_types: vec![],
                columns: None,
            },
        };
        let text = Arc::from(parse.query.as_str());
        self.insert_statement(name, Prepared::new(statement, description, text))?;
        self.send(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
            .await
            .map_err(|_| SqlError::new("08006", "connection lost"))?;
        Ok(())
    }

    pub(super) async fn bind(&mut self, bind: Bind) -> Result<(), SqlError> {
        // A parameter's error has no position in the query.
        self.query_text = None;
        let statement_name = name_of(&bind.statement_name);
        let portal_name = name_of(&bind.portal_name);
        let prepared = self
            .statements
            .get(&statement_name)
            .cloned()
            .ok_or_else(|| {
                SqlError::new(
                    "26000",
                    format!("prepared statement \"{statement_name}\" does not exist"),
                )
            })?;
        if !portal_name.is_empty() && self.portals.contains_key(&portal_name) {
            return Err(SqlError::new(
                "42P03",
                format!("cursor \"{portal_name}\" already exists"),
            ));
        }
        if self.portals.len() >= MAX_PREPARED {
            return Err(SqlError::new(
                "54000",
                format!("too many portals (at most {MAX_PREPARED})"),
            ));
        }
        let input = self.session.settings().input_options();
        let params = crate::wire::params::decode(
            &prepared.description,
            &bind.parameter_format_codes,
            &bind.parameters,
            &input,
        )?;
        if let Some(columns) = &prepared.description.columns {
            let n = bind.result_column_format_codes.len();
            if n > 1 && n != columns.fields().len() {
                return Err(SqlError::new(
                    "08P01",
                    format!(
                        "bind message has {n} result formats but query has {} columns",
                        columns.fields().len()
                    ),
                ));
            }
        }
        if bind
            .result_column_format_codes
            .iter()
            .any(|f| *f != 0 && *f != 1)
        {
            return Err(SqlError::new("22023", "invalid result format code"));
        }
        self.portals.insert(
            portal_name,
            Portal {
                prepared,
                params,
                result_formats: bind.result_column_format_codes,
                state: PortalState::NotStarted,
                started: None,
            },
        );
        self.send(PgWireBackendMessage::BindComplete(BindComplete::new()))
            .await
            .map_err(|_| SqlError::new("08006", "connection lost"))?;
        Ok(())
    }

    pub(super) async fn describe(&mut self, describe: Describe) -> Result<(), SqlError> {
        let name = name_of(&describe.name);
        let lost = |_| SqlError::new("08006", "connection lost");
        if describe.target_type == b'S' {
            let prepared = self.statements.get(&name).cloned().ok_or_else(|| {
                SqlError::new(
                    "26000",
                    format!("prepared statement \"{name}\" does not exist"),
                )
            })?;
            self.send(PgWireBackendMessage::ParameterDescription(
                ParameterDescription::new(prepared.description.params.clone()),
            ))
            .await
            .map_err(lost)?;
            match &prepared.description.columns {
                Some(columns) => self
                    .send(PgWireBackendMessage::RowDescription(row_description(
                        columns,
                        &[],
                    )))
                    .await
                    .map_err(lost)?,
                None => self
                    .send(PgWireBackendMessage::NoData(NoData::new()))
                    .await
                    .map_err(lost)?,
            }
            return Ok(());
        }
        let portal = self
            .portals
            .get(&name)
            .ok_or_else(|| SqlError::new("34000", format!("portal \"{name}\" does not exist")))?;
        let message = match &portal.prepared.description.columns {
            Some(columns) => PgWireBackendMessage::RowDescription(row_description(
                columns,
                &portal.result_formats,
            )),
            None => PgWireBackendMessage::NoData(NoData::new()),
        };
        self.send(message).await.map_err(lost)
    }

    /// Runs (or resumes) a portal. The outer result is the connection's; the inner the
    /// statement's.
    pub(super) async fn execute(&mut self, execute: Execute) -> Outcome<Result<(), SqlError>> {
        let name = name_of(&execute.name);
        let Some(mut portal) = self.portals.remove(&name) else {
            return Ok(Err(SqlError::new(
                "34000",
                format!("portal \"{name}\" does not exist"),
            )));
        };
        let limit = usize::try_from(execute.max_rows).unwrap_or(0);
        let outcome = self.execute_portal(&mut portal, limit).await;
        // The unnamed portal lives until the next Bind or Sync; named ones until Close.
        self.portals.insert(name, portal);
        outcome
    }

    async fn execute_portal(
        &mut self,
        portal: &mut Portal,
        limit: usize,
    ) -> Outcome<Result<(), SqlError>> {
        if let PortalState::NotStarted = portal.state {
            let Some(statement) = portal.prepared.statement.clone() else {
                portal.state = PortalState::Done;
                self.send(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
                return Ok(Ok(()));
            };
            if let Some(copy_out) = super::copy::copy_to_stdout(statement.statement()) {
                portal.state = PortalState::Done;
                return match copy_out {
                    Ok(copy_out) => self.copy_out(copy_out).await,
                    Err(error) => Ok(Err(error)),
                };
            }
            portal.started = Some(std::time::Instant::now());
            self.session.activity_started(portal.prepared.text.clone());
            self.query_text = Some(portal.prepared.text.clone());
            let result = match self.run_statement(&statement, &portal.params).await {
                Ok(result) => result,
                Err(error) => {
                    portal.state = PortalState::Done;
                    return Ok(Err(error));
                }
            };
            match result {
                QueryResult::Command { tag } => {
                    portal.state = PortalState::Done;
                    if let Some(started) = portal.started {
                        self.statement_finished(&statement, started, &tag);
                    }
                    self.command_complete(tag).await?;
                    return Ok(Ok(()));
                }
                QueryResult::CopyIn(copy) => {
                    portal.state = PortalState::Done;
                    return self.copy_in(copy, true).await;
                }
                QueryResult::Rows { schema, rows, tag } => {
                    let announced = portal.prepared.description.columns.as_ref();
                    portal.state = PortalState::Rows(RowSource::new(schema, rows, tag, announced));
                }
            }
        }
        match &mut portal.state {
            PortalState::Rows(source) => {
                let formats = portal.result_formats.clone();
                match self.send_rows(source, &formats, limit).await? {
                    Ok(Sent::Suspended) => {
                        self.send(PgWireBackendMessage::PortalSuspended(PortalSuspended::new()))
                            .await?;
                        Ok(Ok(()))
                    }
                    Ok(Sent::Done(tag)) => {
                        portal.state = PortalState::Done;
                        if let (Some(started), Some(statement)) =
                            (portal.started, portal.prepared.statement.as_ref())
                        {
                            self.statement_finished(statement, started, &tag);
                        }
                        self.command_complete(tag).await?;
                        Ok(Ok(()))
                    }
                    Err(error) => {
                        portal.state = PortalState::Done;
                        Ok(Err(error))
                    }
                }
            }
            PortalState::Done => {
                // Executing a finished portal again yields nothing more.
                let tag = match &portal.prepared.description.columns {
                    Some(_) => "SELECT 0".to_owned(),
                    None => return Ok(Ok(())),
                };
                self.command_complete(tag).await?;
                Ok(Ok(()))
            }
            PortalState::NotStarted => Ok(Err(SqlError::internal("portal did not start"))),
        }
    }

    pub(super) async fn close(&mut self, close: Close) -> Result<(), SqlError> {
        let name = name_of(&close.name);
        if close.target_type == b'S' {
            self.statements.remove(&name);
        } else {
            self.portals.remove(&name);
        }
        self.send(PgWireBackendMessage::CloseComplete(CloseComplete::new()))
            .await
            .map_err(|_| SqlError::new("08006", "connection lost"))
    }

    /// Sync: the end of an extended-protocol exchange. Outside a transaction block every
    /// portal closes: the transactions their rows were read in are over.
    pub(super) async fn sync(&mut self) -> Outcome {
        if self.transaction_status() == pgwire::messages::response::TransactionStatus::Idle {
            self.portals.clear();
        }
        self.ready_for_query().await
    }
}
