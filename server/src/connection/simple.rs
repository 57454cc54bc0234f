//! The simple query protocol: a query string of any number of statements, each answered
//! with its rows and command tag, then one ReadyForQuery.

use bytedata_sql::PreparedStatement;
use bytedata_sql::{QueryResult, SqlError};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::RowDescription;
use pgwire::messages::response::EmptyQueryResponse;

use super::results::{RowSource, Sent};
use super::{Connection, Outcome};
use crate::wire::rows::row_description;

impl Connection {
    pub(super) async fn simple_query(&mut self, sql: &str) -> Outcome {
        let text: std::sync::Arc<str> = std::sync::Arc::from(sql);
        self.query_text = Some(text.clone());
        self.session.activity_started(text);
        let statements = match self.session.parse_cached(sql) {
            Ok(statements) => statements,
            Err(error) => {
                self.session.mark_failed();
                self.send_error(&error).await?;
                return self.ready_for_query().await;
            }
        };
        if statements.is_empty() {
            self.send(PgWireBackendMessage::EmptyQueryResponse(
                EmptyQueryResponse::new(),
            ))
            .await?;
            return self.ready_for_query().await;
        }
        let implicit = match self.session.begin_query_string(&statements) {
            Ok(implicit) => implicit,
            Err(error) => {
                self.send_error(&error).await?;
                return self.ready_for_query().await;
            }
        };
        let mut succeeded = true;
        for statement in statements.iter() {
            match self.simple_statement(statement).await? {
                Ok(()) => {}
                Err(error) => {
                    self.send_error(&error).await?;
                    succeeded = false;
                    break;
                }
            }
        }
        // Committing an implicit transaction may wait for the disk.
        let session = &mut self.session;
        let ended = if implicit {
            tokio::task::block_in_place(|| session.end_query_string(implicit, succeeded))
        } else {
            session.end_query_string(implicit, succeeded)
        };
        if let Err(error) = ended
            && succeeded
        {
            self.send_error(&error).await?;
        }
        self.ready_for_query().await
    }

    /// One statement of a query string: its rows (text format) and tag.
    async fn simple_statement(
        &mut self,
        statement: &PreparedStatement,
    ) -> Outcome<Result<(), SqlError>> {
        if let Some(copy_out) = super::copy::copy_to_stdout(statement.statement()) {
            return match copy_out {
                Ok(copy_out) => self.copy_out(copy_out).await,
                Err(error) => Ok(Err(error)),
            };
        }
        let started = std::time::Instant::now();
        let result = match self.run_statement(statement, &[]).await {
            Ok(result) => result,
            Err(error) => return Ok(Err(error)),
        };
        match result {
            QueryResult::Command { tag } => {
                self.statement_finished(statement, started, &tag);
                self.command_complete(tag).await?;
                Ok(Ok(()))
            }
            QueryResult::Rows { schema, rows, tag } => {
                let description: RowDescription = row_description(&schema, &[]);
                self.send(PgWireBackendMessage::RowDescription(description))
                    .await?;
                let mut source = RowSource::new(schema, rows, tag, None);
                match self.send_rows(&mut source, &[], 0).await? {
                    Ok(Sent::Done(tag)) => {
                        self.statement_finished(statement, started, &tag);
                        self.command_complete(tag).await?;
                        Ok(Ok(()))
                    }
                    Ok(Sent::Suspended) => Ok(Err(SqlError::new(
                        "XX000",
                        "rows suspended without a row limit",
                    ))),
                    Err(error) => Ok(Err(error)),
                }
            }
            QueryResult::CopyIn(copy) => self.copy_in(copy, false).await,
        }
    }
}
