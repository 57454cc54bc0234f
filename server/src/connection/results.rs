//! Running one statement and sending what it returns, for both protocols.

use std::collections::VecDeque;

use bytedata_pgtypes::TextOptions;
use bytedata_sql::ValueRows;
use bytedata_sql::{PreparedStatement, is_transaction_control};
use bytedata_sql::{QueryResult, Rows, SqlError};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::Statement;
use futures::StreamExt;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::CommandComplete;

use super::{Connection, Outcome};
use crate::wire::rows::{ColumnTypes, data_row, value_data_row};

/// Rows still to send.
pub(crate) struct RowSource {
    types: ColumnTypes,
    /// Batches computed already (or the rest of one partly sent).
    ready: VecDeque<RecordBatch>,
    /// Rows of stored values, encoded without Arrow, and how many of them were sent.
    values: Option<(ValueRows, usize)>,
    stream: Option<SendableRecordBatchStream>,
    /// The command tag for RETURNING rows; `None` for a query (`SELECT n`).
    tag: Option<String>,
    pub sent: usize,
}

/// How far sending got.
pub(crate) enum Sent {
    /// Every row was sent; the command tag follows.
    Done(String),
    /// The row limit was reached with rows left (the portal suspends).
    Suspended,
}

impl RowSource {
    /// `announced`: the columns a Describe already reported, whose types the rows must
    /// be sent in.
    pub fn new(
        schema: SchemaRef,
        rows: Rows,
        tag: Option<String>,
        announced: Option<&SchemaRef>,
    ) -> Self {
        let types = match announced {
            Some(announced) if announced.fields().len() == schema.fields().len() => {
                ColumnTypes::of(announced)
            }
            _ => ColumnTypes::of(&schema),
        };
        let (ready, stream, values) = match rows {
            Rows::Batches(batches) => (batches.into(), None, None),
            Rows::Stream(stream) => (VecDeque::new(), Some(stream), None),
            Rows::Values(rows) => (VecDeque::new(), None, Some((rows, 0))),
        };
        RowSource {
            types,
            ready,
            values,
            stream,
            tag,
            sent: 0,
        }
    }

    fn tag(&self) -> String {
        match &self.tag {
            Some(tag) => tag.clone(),
            None => format!("SELECT {}", self.sent),
        }
    }
}

impl Connection {
    /// Runs `statement` with `params` in the session.
    pub(crate) async fn run_statement(
        &mut self,
        prepared: &PreparedStatement,
        params: &[ScalarValue],
    ) -> Result<QueryResult, SqlError> {
        let statement = prepared.statement();
        match statement {
            Statement::Deallocate { name, .. } => return self.deallocate(name),
            Statement::Prepare {
                name,
                data_types,
                statement,
            } => return self.sql_prepare(name, data_types, statement).await,
            Statement::Execute {
                name: Some(name),
                parameters,
                immediate: false,
                using,
                into,
                ..
            } if using.is_empty() && into.is_empty() => {
                return self.sql_execute(name, parameters).await;
            }
            _ => {}
        }
        let reports = matches!(
            statement,
            Statement::Set(_) | Statement::Reset(_) | Statement::Discard { .. }
        ) || is_transaction_control(statement);
        let session = &mut self.session;
        let started = std::time::Instant::now();
        // A statement that may wait for a lock or the disk runs where blocking is allowed:
        // `block_in_place` hands this thread's other tasks to another thread first.
        let result = match session.execute_without_blocking(prepared, params).await {
            Some(result) => result,
            None => tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current()
                    .block_on(session.execute_prepared(prepared, params))
            }),
        };
        self.shared.metrics.statement(
            crate::metrics::StatementKind::of_prepared(prepared),
            result.is_ok(),
            started.elapsed(),
        );
        if let Err(error) = &result {
            self.shared.metrics.statement_error(error.code);
        }
        if reports {
            // A failed report is a broken socket: the next write says so.
            let _ = self.report_parameters().await;
        }
        result
    }

    /// `DEALLOCATE name | ALL`: SQL's way to close the connection's prepared statements,
    /// which are the protocol's named statements too (drivers use it so).
    fn deallocate(
        &mut self,
        name: &datafusion::sql::sqlparser::ast::Ident,
    ) -> Result<QueryResult, SqlError> {
        if name.quote_style.is_none() && name.value.eq_ignore_ascii_case("all") {
            self.statements.clear();
            return Ok(QueryResult::Command {
                tag: "DEALLOCATE ALL".into(),
            });
        }
        let key = bytedata_sql::ident_name(name);
        if self.statements.remove(&key).is_none() {
            return Err(SqlError::new(
                "26000",
                format!("prepared statement \"{key}\" does not exist"),
            ));
        }
        Ok(QueryResult::Command {
            tag: "DEALLOCATE".into(),
        })
    }

    /// Sends rows from `source`, at most `limit` (0: all).
    pub(crate) async fn send_rows(
        &mut self,
        source: &mut RowSource,
        formats: &[i16],
        limit: usize,
    ) -> Outcome<Result<Sent, SqlError>> {
        let options: TextOptions = self.session.text_options();
        let mut sent_now = 0usize;
        if let Some((rows, mut next)) = source.values.take() {
            while next < rows.rows().len() && (limit == 0 || sent_now < limit) {
                let Some(message) = value_data_row(&rows.rows()[next], &source.types, formats)
                else {
                    break;
                };
                self.send(PgWireBackendMessage::DataRow(message)).await?;
                next += 1;
                sent_now += 1;
                source.sent += 1;
            }
            let total = rows.rows().len();
            if next < total && limit != 0 && sent_now >= limit {
                source.values = Some((rows, next));
            } else if next < total {
                // A row the direct encoding does not know: it and the rest go through Arrow.
                match rows.into_batch() {
                    Ok(batch) => source.ready.push_front(batch.slice(next, total - next)),
                    Err(error) => return Ok(Err(error)),
                }
            }
        }
        if limit != 0 && sent_now >= limit {
            let more =
                source.values.is_some() || !source.ready.is_empty() || source.stream.is_some();
            if more {
                return Ok(Ok(Sent::Suspended));
            }
            return Ok(Ok(Sent::Done(source.tag())));
        }
        loop {
            let batch = match source.ready.pop_front() {
                Some(batch) => batch,
                None => match source.stream.as_mut() {
                    None => return Ok(Ok(Sent::Done(source.tag()))),
                    Some(stream) => match stream.next().await {
                        None => {
                            source.stream = None;
                            return Ok(Ok(Sent::Done(source.tag())));
                        }
                        Some(Ok(batch)) => batch,
                        Some(Err(error)) => {
                            source.stream = None;
                            return Ok(Err(SqlError::from(error)));
                        }
                    },
                },
            };
            let rows = batch.num_rows();
            let room = if limit == 0 {
                rows
            } else {
                (limit - sent_now).min(rows)
            };
            for row in 0..room {
                let message = data_row(&batch, row, &source.types, formats, &options);
                self.send(PgWireBackendMessage::DataRow(message)).await?;
            }
            sent_now += room;
            source.sent += room;
            if room < rows {
                source.ready.push_front(batch.slice(room, rows - room));
            }
            if limit != 0 && sent_now >= limit {
                let more = !source.ready.is_empty() || source.stream.is_some();
                if more {
                    return Ok(Ok(Sent::Suspended));
                }
                return Ok(Ok(Sent::Done(source.tag())));
            }
        }
    }

    /// Counts a finished statement in the statistics views and logs it if it took at
    /// least `log_min_duration_statement`, as PostgreSQL's `duration: … ms  statement: …`
    /// line with its fields (JSON fields under `log_format = json`).
    pub(crate) fn statement_finished(
        &self,
        prepared: &PreparedStatement,
        started: std::time::Instant,
        tag: &str,
    ) {
        let elapsed = started.elapsed();
        if crate::metrics::COUNTING {
            self.session.statement_finished(prepared, elapsed, tag);
        }
        let statement = prepared.statement();
        let Some(min) = self.session.settings().log_min_duration() else {
            return;
        };
        if elapsed < min {
            return;
        }
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        let rows = tag.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok());
        tracing::info!(
            target: "bytedata::statement",
            duration_ms,
            database = %self.session.database().descriptor.name,
            user = %self.session.user(),
            rows,
            statement = %statement,
            "duration: {duration_ms:.3} ms  statement: {statement}"
        );
    }

    pub(crate) async fn command_complete(&mut self, tag: String) -> Outcome {
        self.send(PgWireBackendMessage::CommandComplete(CommandComplete::new(
            tag,
        )))
        .await
    }
}
