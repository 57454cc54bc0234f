//! COPY on the wire: `FROM STDIN` feeds CopyData into the session's `CopyIn` as it
//! arrives; `TO STDOUT` runs the equivalent query and writes each row as one CopyData
//! line in text or CSV format.

use bytedata_pgtypes::TextOptions;
use bytedata_sql::{CopyFormat, CopyIn, CopyOptions};
use bytedata_sql::{QueryResult, SqlError};
use datafusion::arrow::array::RecordBatch;
use datafusion::sql::sqlparser::ast::{CopySource, CopyTarget, Statement};
use futures::{SinkExt, StreamExt};
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::messages::copy::{CopyData, CopyDone, CopyInResponse, CopyOutResponse};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::{Connection, Disconnect, Outcome};
use crate::wire::rows::ColumnTypes;

/// A `COPY … TO STDOUT`, as the query whose rows it writes.
pub(crate) struct CopyOut {
    query: Statement,
    options: CopyOptions,
}

/// `Some` if `statement` is a `COPY … TO STDOUT` (with its query, or why it is invalid).
pub(crate) fn copy_to_stdout(statement: &Statement) -> Option<Result<CopyOut, SqlError>> {
    let Statement::Copy {
        source,
        to: true,
        target,
        options,
        legacy_options,
        ..
    } = statement
    else {
        return None;
    };
    Some((|| {
        if !matches!(target, CopyTarget::Stdout) {
            return Err(SqlError::new(
                "42501",
                "COPY to a file is not allowed: use COPY TO STDOUT",
            )
            .with_hint("psql's \\copy writes a client-side file through COPY TO STDOUT."));
        }
        let options = CopyOptions::from_statement(options, legacy_options)?;
        let query = match source {
            CopySource::Query(query) => Statement::Query(query.clone()),
            CopySource::Table {
                table_name,
                columns,
            } => {
                let list = if columns.is_empty() {
                    "*".to_owned()
                } else {
                    columns
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let sql = format!("SELECT {list} FROM {table_name}");
                bytedata_sql::parse(&sql)?
                    .pop()
                    .ok_or_else(|| SqlError::internal("COPY query did not parse"))?
            }
        };
        Ok(CopyOut { query, options })
    })())
}

/// Appends one value in COPY text format.
fn push_text_value(line: &mut String, value: &str, delimiter: char) {
    for c in value.chars() {
        match c {
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            '\u{8}' => line.push_str("\\b"),
            '\u{c}' => line.push_str("\\f"),
            '\u{b}' => line.push_str("\\v"),
            c if c == delimiter => {
                line.push('\\');
                line.push(c);
            }
            c => line.push(c),
        }
    }
}

/// Appends one value in CSV format, quoted when it must be.
fn push_csv_value(line: &mut String, value: &str, options: &CopyOptions) {
    let needs_quotes = value == options.null
        || value == "\\."
        || value.contains([options.delimiter, options.quote, '\n', '\r']);
    if !needs_quotes {
        line.push_str(value);
        return;
    }
    line.push(options.quote);
    for c in value.chars() {
        if c == options.quote || c == options.escape {
            line.push(options.escape);
        }
        line.push(c);
    }
    line.push(options.quote);
}

fn format_line(values: &[Option<String>], options: &CopyOptions) -> String {
    let mut line = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            line.push(options.delimiter);
        }
        match (value, &options.format) {
            (None, _) => line.push_str(&options.null),
            (Some(v), CopyFormat::Text) => push_text_value(&mut line, v, options.delimiter),
            (Some(v), CopyFormat::Csv) => push_csv_value(&mut line, v, options),
        }
    }
    line.push('\n');
    line
}

impl Connection {
    /// Receives the data of a `COPY … FROM STDIN` and loads it.
    pub(super) async fn copy_in(
        &mut self,
        mut copy: Box<CopyIn>,
        extended: bool,
    ) -> Outcome<Result<(), SqlError>> {
        let width = copy.width();
        // Text and CSV are both "textual" (0) on the wire; only binary COPY is 1.
        let format = 0;
        self.socket
            .set_state(PgWireConnectionState::CopyInProgress(extended));
        self.socket
            .send(PgWireBackendMessage::CopyInResponse(CopyInResponse::new(
                format,
                width as i16,
                vec![0; width],
            )))
            .await?;
        let mut failure: Option<SqlError> = None;
        let outcome = loop {
            let Some(message) = self.socket.next().await else {
                let error = SqlError::new("08P01", "connection lost during COPY");
                self.session.fail_copy(copy, error);
                return Err(Disconnect::Fatal);
            };
            match message {
                Ok(PgWireFrontendMessage::CopyData(data)) => {
                    if failure.is_none()
                        && let Err(error) = copy.feed(&data.data).await
                    {
                        failure = Some(error);
                    }
                }
                Ok(PgWireFrontendMessage::CopyDone(_)) => {
                    break match failure {
                        Some(error) => Err(self.session.fail_copy(copy, error)),
                        None => {
                            let session = &mut self.session;
                            tokio::task::block_in_place(|| {
                                tokio::runtime::Handle::current()
                                    .block_on(session.finish_copy(copy))
                            })
                        }
                    };
                }
                Ok(PgWireFrontendMessage::CopyFail(fail)) => {
                    let error =
                        SqlError::new("57014", format!("COPY from stdin failed: {}", fail.message));
                    break Err(self.session.fail_copy(copy, error));
                }
                // Clients pipeline Sync and Flush behind the Execute that started COPY.
                Ok(PgWireFrontendMessage::Sync(_)) | Ok(PgWireFrontendMessage::Flush(_)) => {}
                Ok(PgWireFrontendMessage::Terminate(_)) | Err(_) => {
                    let error = SqlError::new("08P01", "COPY ended by the client");
                    self.session.fail_copy(copy, error);
                    return Err(Disconnect::Fatal);
                }
                Ok(other) => {
                    let error = SqlError::new(
                        "08P01",
                        format!("unexpected message type during COPY: {other:?}"),
                    );
                    break Err(self.session.fail_copy(copy, error));
                }
            }
        };
        self.socket.set_state(PgWireConnectionState::ReadyForQuery);
        match outcome {
            Ok(result) => {
                let tag = result.tag(0);
                self.command_complete(tag).await?;
                Ok(Ok(()))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    /// Runs a `COPY … TO STDOUT` and sends its rows.
    pub(super) async fn copy_out(&mut self, copy: CopyOut) -> Outcome<Result<(), SqlError>> {
        let query = bytedata_sql::PreparedStatement::new(copy.query);
        let result = match self.run_statement(&query, &[]).await {
            Ok(result) => result,
            Err(error) => return Ok(Err(error)),
        };
        let QueryResult::Rows { schema, rows, .. } = result else {
            return Ok(Err(SqlError::internal("COPY query returned no rows")));
        };
        let width = schema.fields().len();
        self.send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
            0,
            width as i16,
            vec![0; width],
        )))
        .await?;
        if copy.options.header {
            let names: Vec<Option<String>> = schema
                .fields()
                .iter()
                .map(|f| Some(f.name().clone()))
                .collect();
            let line = format_line(&names, &copy.options);
            self.send(PgWireBackendMessage::CopyData(CopyData::new(line.into())))
                .await?;
        }
        let types = ColumnTypes::of(&schema);
        let text_options = self.session.text_options();
        let mut count = 0usize;
        let mut stream = match rows {
            bytedata_sql::Rows::Batches(batches) => {
                futures::stream::iter(batches.into_iter().map(Ok)).boxed()
            }
            bytedata_sql::Rows::Stream(stream) => stream.boxed(),
            bytedata_sql::Rows::Values(rows) => match rows.into_batch() {
                Ok(batch) => futures::stream::iter([Ok(batch)]).boxed(),
                Err(error) => return Ok(Err(error)),
            },
        };
        while let Some(batch) = stream.next().await {
            let batch = match batch {
                Ok(batch) => batch,
                Err(error) => return Ok(Err(SqlError::from(error))),
            };
            count += batch.num_rows();
            for line in batch_lines(&batch, &types, &text_options, &copy.options) {
                self.send(PgWireBackendMessage::CopyData(CopyData::new(line.into())))
                    .await?;
            }
        }
        self.send(PgWireBackendMessage::CopyDone(CopyDone::new()))
            .await?;
        self.command_complete(format!("COPY {count}")).await?;
        Ok(Ok(()))
    }
}

fn batch_lines(
    batch: &RecordBatch,
    types: &ColumnTypes,
    text_options: &TextOptions,
    options: &CopyOptions,
) -> Vec<String> {
    (0..batch.num_rows())
        .map(|row| {
            let values: Vec<Option<String>> = batch
                .columns()
                .iter()
                .zip(&types.types)
                .map(|(column, (oid, typmod))| {
                    bytedata_sql::cell_text(column, row, *oid, *typmod, text_options)
                })
                .collect();
            format_line(&values, options)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(sql: &str) -> CopyOptions {
        let statement = bytedata_sql::parse(sql)
            .expect("parses")
            .pop()
            .expect("one statement");
        match copy_to_stdout(&statement) {
            Some(Ok(copy)) => copy.options,
            _ => panic!("not a COPY TO STDOUT: {sql}"),
        }
    }

    #[test]
    fn text_lines_escape_what_they_must() {
        let text = options("COPY t TO STDOUT");
        let line = format_line(
            &[Some("a\tb\\c\nd".into()), None, Some(String::new())],
            &text,
        );
        assert_eq!(line, "a\\tb\\\\c\\nd\t\\N\t\n");
    }

    #[test]
    fn csv_lines_quote_what_they_must() {
        let csv = options("COPY t TO STDOUT (FORMAT csv)");
        let line = format_line(
            &[
                Some("plain".into()),
                Some("has,comma".into()),
                Some("say \"hi\"".into()),
                Some(String::new()),
                None,
            ],
            &csv,
        );
        assert_eq!(line, "plain,\"has,comma\",\"say \"\"hi\"\"\",\"\",\n");
        let custom = options("COPY t TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'NULL')");
        assert_eq!(
            format_line(&[Some("a;b".into()), None, Some("NULL".into())], &custom),
            "\"a;b\";NULL;\"NULL\"\n"
        );
    }

    #[test]
    fn copy_to_a_file_is_refused() {
        let statement = bytedata_sql::parse("COPY t TO '/tmp/x'")
            .expect("parses")
            .pop()
            .expect("one statement");
        let error = copy_to_stdout(&statement)
            .expect("a COPY TO")
            .err()
            .expect("refused");
        assert_eq!(error.code, "42501");
    }
}
