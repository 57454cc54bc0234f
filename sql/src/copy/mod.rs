//! `COPY … FROM STDIN`: PostgreSQL's text and CSV formats, parsed as the data arrives.
//!
//! The server hands over the bytes of CopyData messages as they come (`CopyIn::feed`);
//! lines are cut out (a CSV field may span lines inside quotes) and split into fields
//! (`fields`). What happens next depends on the column list:
//! - When the lines hold every column of the table (a hidden row id aside) — the usual
//!   bulk load — each field goes through its column type's input function at once, and
//!   every `BATCH_ROWS` typed rows go to a loader thread (`loader`) that writes them
//!   into the statement's transaction: parsing the next batch overlaps writing this
//!   one, and no more than a few batches wait in memory beside what is written.
//! - When columns are left out, they take their defaults, which are expressions: the
//!   lines are collected as text columns and, at the end (`Session::finish_copy`), go
//!   through the same path as `INSERT … SELECT`.
//!
//! Either way the rows are checked as INSERT checks them (NOT NULL, CHECK, keys, unique
//! indexes, foreign keys at the end), all in one transaction. A bad line fails the whole
//! COPY — nothing is loaded — and a bad value names its line; when the loader failed on
//! an earlier row, that error is the one reported, as row-by-row loading would.

mod fields;
mod loader;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::{CopyLegacyCsvOption, CopyLegacyOption, CopyOption};
use std::sync::Arc;

use bytedata_pgtypes::{DataType as SqlType, Value};
pub(crate) use loader::{CopyLoader, Load, LoadReceiver};

use crate::error::{Result, SqlError};
use bytedata_pgtypes::InputOptions;

/// Rows per batch handed to the writer (typed rows to the loader thread, or text columns
/// to the INSERT … SELECT path).
const BATCH_ROWS: usize = 8192;
/// The longest line accepted, a guard against input that never ends a line.
const MAX_LINE_BYTES: usize = 64 << 20;

#[derive(Clone, Debug, PartialEq)]
pub enum CopyFormat {
    Text,
    Csv,
}

#[derive(Clone, Debug)]
pub struct CopyOptions {
    pub format: CopyFormat,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
    pub quote: char,
    pub escape: char,
}

impl CopyOptions {
    pub fn from_statement(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> Result<Self> {
        let mut format = CopyFormat::Text;
        let mut delimiter = None;
        let mut null = None;
        let mut header = false;
        let mut quote = None;
        let mut escape = None;
        for option in options {
            match option {
                CopyOption::Format(name) => {
                    format = match name.value.to_ascii_lowercase().as_str() {
                        "text" => CopyFormat::Text,
                        "csv" => CopyFormat::Csv,
                        "binary" => return Err(SqlError::unsupported("COPY in binary format")),
                        other => {
                            return Err(SqlError::new(
                                "22023",
                                format!("COPY format \"{other}\" not recognized"),
                            ));
                        }
                    }
                }
                CopyOption::Freeze(_) | CopyOption::Encoding(_) => {}
                CopyOption::Delimiter(c) => delimiter = Some(*c),
                CopyOption::Null(s) => null = Some(s.clone()),
                CopyOption::Header(h) => header = *h,
                CopyOption::Quote(c) => quote = Some(*c),
                CopyOption::Escape(c) => escape = Some(*c),
                other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
            }
        }
        for option in legacy {
            match option {
                CopyLegacyOption::Csv(csv) => {
                    format = CopyFormat::Csv;
                    for option in csv {
                        match option {
                            CopyLegacyCsvOption::Header => header = true,
                            CopyLegacyCsvOption::Quote(c) => quote = Some(*c),
                            CopyLegacyCsvOption::Escape(c) => escape = Some(*c),
                            other => {
                                return Err(SqlError::unsupported(format!("COPY option {other}")));
                            }
                        }
                    }
                }
                CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
                CopyLegacyOption::Null(s) => null = Some(s.clone()),
                CopyLegacyOption::Header => header = true,
                CopyLegacyOption::Binary => {
                    return Err(SqlError::unsupported("COPY in binary format"));
                }
                other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
            }
        }
        if header && format == CopyFormat::Text {
            return Err(SqlError::new(
                "0A000",
                "COPY HEADER available only in CSV mode",
            ));
        }
        let csv = format == CopyFormat::Csv;
        let quote = quote.unwrap_or('"');
        let options = CopyOptions {
            delimiter: delimiter.unwrap_or(if csv { ',' } else { '\t' }),
            null: null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() }),
            header,
            quote,
            escape: escape.unwrap_or(quote),
            format,
        };
        if options.delimiter == '\n' || options.delimiter == '\r' {
            return Err(SqlError::new(
                "22023",
                "COPY delimiter cannot be newline or carriage return",
            ));
        }
        Ok(options)
    }
}

/// A COPY FROM STDIN in progress.
pub struct CopyIn {
    pub(crate) table: datafusion::sql::sqlparser::ast::ObjectName,
    pub(crate) columns: Vec<datafusion::sql::sqlparser::ast::Ident>,
    pub(crate) width: usize,
    /// Name and type of each column a line holds: values are checked by the type's
    /// input function as their line arrives, so an error can name the line.
    targets: Vec<(String, SqlType)>,
    /// The session's time zone and date order, for the values' text.
    input: InputOptions,
    pub(crate) options: CopyOptions,
    pub(crate) txn: bytedata_mvcc::Transaction,
    pub(crate) autocommit: bool,
    sink: Sink,
    /// Bytes after the last complete line.
    pending: Vec<u8>,
    /// How far `pending` has been searched for the end of a line, and whether that point
    /// is inside CSV quotes: a long line arriving in many pieces is scanned once.
    scanned: usize,
    in_quotes: bool,
    /// Lines read so far (the header counts, as in PostgreSQL's messages).
    line: u64,
    /// Set by a `\.` line: anything after it is ignored.
    ended: bool,
}

/// Where the rows of a COPY go as their lines are parsed.
enum Sink {
    /// Every column is in the line: typed rows in the table's column order, sent to the
    /// loader thread `BATCH_ROWS` at a time.
    Typed {
        /// The table column each field of a line fills.
        positions: Vec<usize>,
        /// Columns per table row (a hidden row id included: the loader fills it).
        row_width: usize,
        rows: Vec<Vec<Value>>,
        /// Batches parsed and not yet handed to the loader.
        full: Vec<Vec<Vec<Value>>>,
        loader: CopyLoader,
    },
    /// Some columns take defaults: text columns, loaded at the end.
    Text {
        schema: SchemaRef,
        builders: Vec<StringBuilder>,
        rows_in_builders: usize,
        batches: Vec<RecordBatch>,
    },
}

/// How the rows of a COPY are written: the table columns the fields fill, per line, and
/// the loader that writes them.
pub(crate) struct TypedLoad {
    pub positions: Vec<usize>,
    pub row_width: usize,
    pub loader: CopyLoader,
}

/// What a COPY received, once its data ended.
pub(crate) enum Received {
    /// The loader wrote this many rows.
    Loaded(u64),
    /// Text columns for the INSERT … SELECT path.
    Text(SchemaRef, Vec<RecordBatch>),
}

impl std::fmt::Debug for CopyIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyIn")
            .field("table", &self.table.to_string())
            .field("line", &self.line)
            .finish()
    }
}

impl CopyIn {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        table: datafusion::sql::sqlparser::ast::ObjectName,
        columns: Vec<datafusion::sql::sqlparser::ast::Ident>,
        targets: Vec<(String, SqlType)>,
        input: InputOptions,
        options: CopyOptions,
        txn: bytedata_mvcc::Transaction,
        autocommit: bool,
        typed: Option<TypedLoad>,
    ) -> Self {
        let width = targets.len();
        let sink = match typed {
            Some(TypedLoad {
                positions,
                row_width,
                loader,
            }) => {
                assert_eq!(positions.len(), width);
                assert!(positions.iter().all(|&p| p < row_width));
                Sink::Typed {
                    positions,
                    row_width,
                    rows: Vec::with_capacity(BATCH_ROWS),
                    full: Vec::new(),
                    loader,
                }
            }
            None => {
                let fields: Vec<Field> = (0..width)
                    .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
                    .collect();
                Sink::Text {
                    schema: Arc::new(Schema::new(fields)),
                    builders: (0..width).map(|_| StringBuilder::new()).collect(),
                    rows_in_builders: 0,
                    batches: Vec::new(),
                }
            }
        };
        CopyIn {
            table,
            columns,
            width,
            targets,
            input,
            options,
            txn,
            autocommit,
            sink,
            pending: Vec::new(),
            scanned: 0,
            in_quotes: false,
            line: 0,
            ended: false,
        }
    }

    /// How many columns each row has (for the CopyInResponse).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the format is text (else CSV): the CopyInResponse says so.
    pub fn is_text(&self) -> bool {
        self.options.format == CopyFormat::Text
    }

    /// Takes the next chunk of data: complete lines in it are parsed now, and full
    /// batches of typed rows go to the loader (waiting while it is two batches behind).
    pub async fn feed(&mut self, data: &[u8]) -> Result<()> {
        let parsed = self.cut_lines(data);
        self.hand_over(parsed.is_err()).await?;
        parsed
    }

    /// Sends the loader the full batches, and with `all` the rows of the batch being
    /// filled too: when a line is bad, the rows before it are written first, so that an
    /// error among them — earlier in row order — is the one reported.
    async fn hand_over(&mut self, all: bool) -> Result<()> {
        if let Sink::Typed {
            rows, full, loader, ..
        } = &mut self.sink
        {
            for batch in full.drain(..) {
                loader.send(batch).await?;
            }
            if all && !rows.is_empty() {
                loader.send(std::mem::take(rows)).await?;
            }
        }
        Ok(())
    }

    fn cut_lines(&mut self, data: &[u8]) -> Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(data);
        let csv = self.options.format == CopyFormat::Csv;
        let quote = self.options.quote as u32;
        let mut start = 0;
        let mut i = self.scanned;
        let mut outcome = Ok(());
        while i < pending.len() {
            let byte = pending[i];
            if csv && u32::from(byte) == quote {
                self.in_quotes = !self.in_quotes;
            } else if byte == b'\n' && !self.in_quotes {
                let mut end = i;
                if end > start && pending[end - 1] == b'\r' {
                    end -= 1;
                }
                outcome = self.line(&pending[start..end]);
                start = i + 1;
                if outcome.is_err() {
                    break;
                }
            }
            i += 1;
        }
        pending.drain(..start);
        self.scanned = pending.len();
        self.pending = pending;
        outcome?;
        if self.pending.len() > MAX_LINE_BYTES {
            return Err(self.error(format!("line longer than {MAX_LINE_BYTES} bytes")));
        }
        Ok(())
    }

    /// The end of the data: a last line without a newline counts too. The loader, if
    /// any, writes what is left and runs the statement's deferred checks.
    pub(crate) async fn finish_input(&mut self) -> Result<Received> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            let parsed = self.line(&line);
            if parsed.is_err() {
                self.hand_over(true).await?;
            }
            parsed?;
        }
        self.hand_over(true).await?;
        match &mut self.sink {
            Sink::Typed { loader, .. } => Ok(Received::Loaded(loader.finish().await?)),
            Sink::Text { schema, .. } => {
                let schema = schema.clone();
                self.flush_text()?;
                let Sink::Text { batches, .. } = &mut self.sink else {
                    unreachable!("the sink does not change");
                };
                Ok(Received::Text(schema, std::mem::take(batches)))
            }
        }
    }

    /// The error to report when the COPY fails with `error`: the loader's own, if it had
    /// failed on an earlier row. Stops the loader; nothing it wrote survives the rollback
    /// that follows.
    pub(crate) fn abort(&mut self, error: SqlError) -> SqlError {
        match &mut self.sink {
            Sink::Typed { loader, .. } => loader.abort().unwrap_or(error),
            Sink::Text { .. } => error,
        }
    }

    fn error(&self, message: impl Into<String>) -> SqlError {
        let message = message.into();
        SqlError::new("22P04", message.clone())
            .with_detail(format!("COPY {}, line {}", self.table, self.line))
    }

    fn line(&mut self, bytes: &[u8]) -> Result<()> {
        if self.ended {
            return Ok(());
        }
        self.line += 1;
        let text = std::str::from_utf8(bytes).map_err(|_| {
            SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\"")
                .with_detail(format!("COPY {}, line {}", self.table, self.line))
        })?;
        if text == "\\." {
            self.ended = true;
            return Ok(());
        }
        if self.line == 1 && self.options.header {
            return Ok(());
        }
        let fields = match self.options.format {
            CopyFormat::Text => self.text_fields(text)?,
            CopyFormat::Csv => self.csv_fields(text)?,
        };
        if fields.len() < self.width {
            return Err(self.error(format!("missing data for column {}", fields.len() + 1)));
        }
        if fields.len() > self.width {
            return Err(self.error("extra data after last expected column"));
        }
        match &mut self.sink {
            Sink::Typed {
                positions,
                row_width,
                rows,
                full,
                ..
            } => {
                let mut row = vec![Value::Null; *row_width];
                for (((name, ty), field), &position) in
                    self.targets.iter().zip(fields).zip(positions.iter())
                {
                    let Some(text) = field else { continue };
                    row[position] = bytedata_pgtypes::input::parse_text(&text, ty, &self.input)
                        .map_err(|error| {
                            SqlError::from(error).with_detail(format!(
                                "COPY {}, line {}, column {name}: \"{text}\"",
                                self.table, self.line
                            ))
                        })?;
                }
                rows.push(row);
                if rows.len() == BATCH_ROWS {
                    full.push(std::mem::replace(rows, Vec::with_capacity(BATCH_ROWS)));
                }
            }
            Sink::Text {
                builders,
                rows_in_builders,
                ..
            } => {
                for ((name, ty), field) in self.targets.iter().zip(&fields) {
                    if let Some(text) = field
                        && bytedata_pgtypes::input::reads_text(ty)
                        && let Err(error) =
                            bytedata_pgtypes::input::parse_text(text, ty, &self.input)
                    {
                        return Err(SqlError::from(error).with_detail(format!(
                            "COPY {}, line {}, column {name}: \"{text}\"",
                            self.table, self.line
                        )));
                    }
                }
                for (builder, field) in builders.iter_mut().zip(fields) {
                    builder.append_option(field);
                }
                *rows_in_builders += 1;
                if *rows_in_builders == BATCH_ROWS {
                    self.flush_text()?;
                }
            }
        }
        Ok(())
    }

    fn flush_text(&mut self) -> Result<()> {
        let Sink::Text {
            schema,
            builders,
            rows_in_builders,
            batches,
        } = &mut self.sink
        else {
            return Ok(());
        };
        if *rows_in_builders == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let options = datafusion::arrow::array::RecordBatchOptions::new()
            .with_row_count(Some(*rows_in_builders));
        batches.push(RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &options,
        )?);
        *rows_in_builders = 0;
        Ok(())
    }
}
