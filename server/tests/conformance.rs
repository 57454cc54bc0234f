//! The external conformance corpus (sqllogictest select1–5: 8,884 queries that pass on
//! PostgreSQL 15) through the wire, as clients meet it: each file against a fresh server,
//! once in the simple query protocol (text results, as psql reads them) and once in the
//! extended protocol with binary results (as tokio-postgres and JDBC read them). The
//! SQL crate runs the same files in-process (`sql/tests/slt.rs`); this run adds the
//! server's parsing, parameter description, binary encoding and framing.
//!
//! The corpus lives beside the repository (or where `BYTEDATA_CONFORMANCE_DIR` points);
//! when it is absent the tests say so and pass.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::error::Error;
use std::path::{Path, PathBuf};

use bytedata_pgtypes::binary::numeric_from_binary;
use bytedata_pgtypes::output::{format_f32, format_f64};
use common::Server;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, SimpleQueryMessage};

/// An error as a file sees it: the SQLSTATE in front of the message.
#[derive(Debug)]
struct WireError(String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

impl From<tokio_postgres::Error> for WireError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.as_db_error() {
            Some(db) => WireError(format!("{}: {}", db.code().code(), db.message())),
            None => WireError(error.to_string()),
        }
    }
}

/// One value of a binary result row in PostgreSQL's text output (what the simple
/// protocol would have carried), for the types the corpus produces.
struct CellText(Option<String>);

impl<'a> FromSql<'a> for CellText {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        let text = match *ty {
            Type::BOOL => if bool::from_sql(ty, raw)? { "t" } else { "f" }.to_owned(),
            Type::INT2 => i16::from_sql(ty, raw)?.to_string(),
            Type::INT4 => i32::from_sql(ty, raw)?.to_string(),
            Type::INT8 => i64::from_sql(ty, raw)?.to_string(),
            Type::FLOAT4 => format_f32(f32::from_sql(ty, raw)?, 1),
            Type::FLOAT8 => format_f64(f64::from_sql(ty, raw)?, 1),
            Type::NUMERIC => numeric_from_binary(raw).ok_or("malformed binary numeric")?,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                String::from_utf8(raw.to_vec())?
            }
            _ => return Err(format!("no text form here for a binary {ty}").into()),
        };
        Ok(CellText(Some(text)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(CellText(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// NULL and the empty string as the sqllogictest convention writes them.
fn cell(value: Option<&str>) -> String {
    match value {
        None => "NULL".to_owned(),
        Some("") => "(empty)".to_owned(),
        Some(text) => text.to_owned(),
    }
}

struct WireDb {
    client: Client,
    extended: bool,
}

impl WireDb {
    async fn simple(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        let mut columns = None;
        let mut rows = Vec::new();
        let mut count = 0;
        for message in self.client.simple_query(sql).await? {
            match message {
                SimpleQueryMessage::RowDescription(description) => {
                    columns = Some(description.len());
                }
                SimpleQueryMessage::Row(row) => {
                    columns = Some(row.len());
                    rows.push((0..row.len()).map(|i| cell(row.get(i))).collect());
                }
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match columns {
            Some(width) => DBOutput::Rows {
                types: vec![DefaultColumnType::Any; width],
                rows,
            },
            None => DBOutput::StatementComplete(count),
        })
    }

    async fn extended(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        let statement = self.client.prepare(sql).await?;
        if statement.columns().is_empty() {
            let count = self.client.execute(&statement, &[]).await?;
            return Ok(DBOutput::StatementComplete(count));
        }
        let width = statement.columns().len();
        let rows = self
            .client
            .query(&statement, &[])
            .await?
            .iter()
            .map(|row| {
                (0..width)
                    .map(|i| {
                        let CellText(text) = row.try_get(i)?;
                        Ok(cell(text.as_deref()))
                    })
                    .collect::<Result<Vec<_>, tokio_postgres::Error>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; width],
            rows,
        })
    }
}

#[async_trait::async_trait]
impl AsyncDB for WireDb {
    type Error = WireError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        if self.extended {
            self.extended(sql).await
        } else {
            self.simple(sql).await
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "bytedata"
    }
}

fn corpus_file(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("BYTEDATA_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"));
    let path = dir.join("sqllogictest").join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: conformance corpus {} not found (set BYTEDATA_CONFORMANCE_DIR)",
            path.display()
        );
        None
    }
}

/// Runs every record of `path` against a fresh server; reports every failure.
async fn run_file(path: &Path, extended: bool) {
    let server = Server::start(&[]);
    let url = server.url("bytedata", "bytedata");
    let mut runner = sqllogictest::Runner::new(move || {
        let url = url.clone();
        async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            Ok(WireDb { client, extended })
        }
    });
    runner.add_label("postgresql");
    let records = sqllogictest::parse_file::<DefaultColumnType>(path).unwrap();
    let mut failures = Vec::new();
    let mut total = 0;
    for record in records {
        if matches!(
            record,
            sqllogictest::Record::Query { .. } | sqllogictest::Record::Statement { .. }
        ) {
            total += 1;
        }
        if let Err(error) = runner.run_async(record).await {
            failures.push(error.display(false).to_string());
        }
    }
    const SHOWN: usize = 10;
    assert!(
        failures.is_empty(),
        "{} ({} protocol): {} of {total} records failed\n\n{}",
        path.display(),
        if extended { "extended" } else { "simple" },
        failures.len(),
        failures
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

macro_rules! conformance {
    ($($test:ident => $file:literal),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            if let Some(path) = corpus_file($file) {
                run_file(&path, false).await;
                run_file(&path, true).await;
            }
        }
    )*};
}

conformance! {
    select1_through_the_wire => "select1.slt",
    select2_through_the_wire => "select2.slt",
    select3_through_the_wire => "select3.slt",
    select4_through_the_wire => "select4.slt",
    select5_through_the_wire => "select5.slt",
}
