//! `COPY … FROM STDIN`: PostgreSQL's text and CSV formats, parsed as the data arrives.
//!
//! The server hands over the bytes of CopyData messages as they come (`CopyIn::feed`);
//! lines are cut out (a CSV field may span lines inside quotes), split into fields and
//! collected as text columns. At the end (`Session::finish_copy`) the rows go through the
//! same path as `INSERT … SELECT`: PostgreSQL's input function of each column type,
//! defaults for columns not listed, every constraint, batch by batch in one transaction.
//! A bad line fails the whole COPY — nothing is loaded — and the error names the line.

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::{CopyLegacyCsvOption, CopyLegacyOption, CopyOption};
use std::sync::Arc;

use bytedata_pgtypes::DataType as SqlType;

use crate::error::{Result, SqlError};
use bytedata_pgtypes::Zone;

/// Rows per batch handed to the writer.
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

/// A COPY FROM STDIN in progress: the rows received so far, as text columns.
pub struct CopyIn {
    pub(crate) table: datafusion::sql::sqlparser::ast::ObjectName,
    pub(crate) columns: Vec<datafusion::sql::sqlparser::ast::Ident>,
    pub(crate) width: usize,
    /// Name and type of each column a line holds: values are checked by the type's
    /// input function as their line arrives, so an error can name the line.
    targets: Vec<(String, SqlType)>,
    zone: Zone,
    pub(crate) options: CopyOptions,
    pub(crate) txn: bytedata_mvcc::Transaction,
    pub(crate) autocommit: bool,
    schema: SchemaRef,
    builders: Vec<StringBuilder>,
    rows_in_builders: usize,
    pub(crate) batches: Vec<RecordBatch>,
    /// Bytes after the last complete line.
    pending: Vec<u8>,
    /// Lines read so far (the header counts, as in PostgreSQL's messages).
    line: u64,
    /// Set by a `\.` line: anything after it is ignored.
    ended: bool,
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
    pub(crate) fn new(
        table: datafusion::sql::sqlparser::ast::ObjectName,
        columns: Vec<datafusion::sql::sqlparser::ast::Ident>,
        targets: Vec<(String, SqlType)>,
        zone: Zone,
        options: CopyOptions,
        txn: bytedata_mvcc::Transaction,
        autocommit: bool,
    ) -> Self {
        let width = targets.len();
        let fields: Vec<Field> = (0..width)
            .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
            .collect();
        CopyIn {
            table,
            columns,
            width,
            targets,
            zone,
            options,
            txn,
            autocommit,
            schema: Arc::new(Schema::new(fields)),
            builders: (0..width).map(|_| StringBuilder::new()).collect(),
            rows_in_builders: 0,
            batches: Vec::new(),
            pending: Vec::new(),
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

    /// Takes the next chunk of data; any complete lines in it are parsed now.
    pub fn feed(&mut self, data: &[u8]) -> Result<()> {
        self.pending.extend_from_slice(data);
        let mut start = 0;
        let mut in_quotes = false;
        let csv = self.options.format == CopyFormat::Csv;
        let quote = self.options.quote as u32;
        let mut i = 0;
        while i < self.pending.len() {
            let byte = self.pending[i];
            if csv && u32::from(byte) == quote {
                in_quotes = !in_quotes;
            } else if byte == b'\n' && !in_quotes {
                let mut end = i;
                if end > start && self.pending[end - 1] == b'\r' {
                    end -= 1;
                }
                let line = self.pending[start..end].to_vec();
                self.line(&line)?;
                start = i + 1;
            }
            i += 1;
        }
        self.pending.drain(..start);
        if self.pending.len() > MAX_LINE_BYTES {
            return Err(self.error(format!("line longer than {MAX_LINE_BYTES} bytes")));
        }
        Ok(())
    }

    /// The end of the data: a last line without a newline counts too.
    pub(crate) fn finish_input(&mut self) -> Result<Vec<RecordBatch>> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line)?;
        }
        self.flush_batch()?;
        Ok(std::mem::take(&mut self.batches))
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
        for ((name, ty), field) in self.targets.iter().zip(&fields) {
            if let Some(text) = field
                && bytedata_pgtypes::input::reads_text(ty)
                && let Err(error) = bytedata_pgtypes::input::parse_text(text, ty, &self.zone)
            {
                return Err(SqlError::from(error).with_detail(format!(
                    "COPY {}, line {}, column {name}: \"{text}\"",
                    self.table, self.line
                )));
            }
        }
        for (builder, field) in self.builders.iter_mut().zip(fields) {
            builder.append_option(field);
        }
        self.rows_in_builders += 1;
        if self.rows_in_builders == BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<()> {
        if self.rows_in_builders == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let options = datafusion::arrow::array::RecordBatchOptions::new()
            .with_row_count(Some(self.rows_in_builders));
        self.batches.push(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &options,
        )?);
        self.rows_in_builders = 0;
        Ok(())
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Text format: fields split at the delimiter, backslash escapes decoded, the NULL
    /// string (matched before decoding) is NULL.
    fn text_fields(&self, line: &str) -> Result<Vec<Option<String>>> {
        let delimiter = self.options.delimiter;
        let mut fields = Vec::with_capacity(self.width);
        for raw in line.split(delimiter) {
            if raw == self.options.null {
                fields.push(None);
                continue;
            }
            let mut value = String::with_capacity(raw.len());
            let mut chars = raw.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    value.push(c);
                    continue;
                }
                match chars.next() {
                    Some('b') => value.push('\u{8}'),
                    Some('f') => value.push('\u{c}'),
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some('v') => value.push('\u{b}'),
                    Some(d @ '0'..='7') => {
                        let mut code = d.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.peek().and_then(|c| c.to_digit(8)) {
                                Some(digit) => {
                                    code = code * 8 + digit;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    Some('x') => {
                        let mut code = 0;
                        let mut digits = 0;
                        while digits < 2 {
                            match chars.peek().and_then(|c| c.to_digit(16)) {
                                Some(digit) => {
                                    code = code * 16 + digit;
                                    chars.next();
                                    digits += 1;
                                }
                                None => break,
                            }
                        }
                        if digits == 0 {
                            value.push('x');
                        } else {
                            value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                    }
                    Some(other) => value.push(other),
                    None => return Err(self.error("end-of-copy marker corrupt")),
                }
            }
            fields.push(Some(value));
        }
        Ok(fields)
    }

    /// CSV: quoted fields may hold delimiters, quotes (doubled or escaped) and newlines;
    /// an unquoted field equal to the NULL string is NULL, a quoted one never is.
    fn csv_fields(&self, line: &str) -> Result<Vec<Option<String>>> {
        let CopyOptions {
            delimiter,
            quote,
            escape,
            ..
        } = self.options;
        let mut fields = Vec::with_capacity(self.width);
        let mut chars = line.chars().peekable();
        loop {
            let mut value = String::new();
            let mut quoted = false;
            let mut in_quotes = false;
            while let Some(&c) = chars.peek() {
                if in_quotes {
                    chars.next();
                    if c == escape && chars.peek() == Some(&quote) && escape != quote {
                        value.push(quote);
                        chars.next();
                    } else if c == quote {
                        if escape == quote && chars.peek() == Some(&quote) {
                            value.push(quote);
                            chars.next();
                        } else {
                            in_quotes = false;
                        }
                    } else {
                        value.push(c);
                    }
                } else if c == delimiter {
                    break;
                } else if c == quote {
                    chars.next();
                    quoted = true;
                    in_quotes = true;
                } else {
                    chars.next();
                    value.push(c);
                }
            }
            if in_quotes {
                return Err(self.error("unterminated CSV quoted field"));
            }
            fields.push(if !quoted && value == self.options.null {
                None
            } else {
                Some(value)
            });
            if chars.next().is_none() {
                break;
            }
        }
        Ok(fields)
    }
}
