//! sqllogictest files run in-process against a `Session`: ours under `tests/slt/`, and
//! the external conformance corpus (select1–5) when it is present beside the repository
//! (or where `BYTEDATA_CONFORMANCE_DIR` points).
//!
//! Values print as PostgreSQL's text output; NULL as `NULL`, the empty string as
//! `(empty)`, as the sqllogictest convention wants. Errors carry their SQLSTATE: a file
//! checks it with `statement error <regex>` against "<code>: <message>".

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytedata_sql::{Cluster, ClusterOptions, QueryResult, Session, SqlError};
use datafusion::arrow::datatypes::DataType;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

struct Engine {
    session: Session,
}

/// The error a file sees: the SQLSTATE in front of PostgreSQL's message.
#[derive(Debug)]
struct EngineError(SqlError);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)?;
        if let Some(detail) = &self.0.detail {
            write!(f, " DETAIL: {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EngineError {}

fn column_type(ty: &DataType) -> DefaultColumnType {
    if ty.is_integer() {
        DefaultColumnType::Integer
    } else if ty.is_floating() || matches!(ty, DataType::Decimal128(..) | DataType::Decimal256(..))
    {
        DefaultColumnType::FloatingPoint
    } else {
        DefaultColumnType::Text
    }
}

#[async_trait::async_trait]
impl AsyncDB for Engine {
    type Error = EngineError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, EngineError> {
        // `COPY … FROM STDIN` takes the record's further lines as its data, as psql does.
        let (sql, copy_data) = match sql.split_once('\n') {
            Some((first, rest)) if first.to_ascii_uppercase().contains("FROM STDIN") => {
                (first, Some(rest))
            }
            _ => (sql, None),
        };
        let mut results = self.session.execute(sql).await.map_err(EngineError)?;
        let Some(last) = results.pop() else {
            return Ok(DBOutput::StatementComplete(0));
        };
        let last = match (last, copy_data) {
            (QueryResult::CopyIn(mut copy), data) => {
                let data = format!("{}\n", data.unwrap_or(""));
                match copy.feed(data.as_bytes()).await {
                    Ok(()) => self.session.finish_copy(copy).await,
                    Err(error) => Err(self.session.fail_copy(copy, error)),
                }
                .map_err(EngineError)?
            }
            (last, _) => last,
        };
        match last {
            QueryResult::CopyIn(_) => Err(EngineError(bytedata_sql::SqlError::internal(
                "COPY FROM STDIN without data",
            ))),
            QueryResult::Command { tag } => {
                let count = tag
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                Ok(DBOutput::StatementComplete(count))
            }
            QueryResult::Rows { schema, rows, .. } => {
                let batches = rows.collect().await.map_err(EngineError)?;
                let options = self.session.text_options();
                let rows = bytedata_sql::text_rows(&batches, &options)
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|value| match value {
                                None => "NULL".to_owned(),
                                Some(text) if text.is_empty() => "(empty)".to_owned(),
                                Some(text) => text,
                            })
                            .collect()
                    })
                    .collect();
                Ok(DBOutput::Rows {
                    types: schema
                        .fields()
                        .iter()
                        .map(|f| column_type(f.data_type()))
                        .collect(),
                    rows,
                })
            }
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "bytedata"
    }

    fn error_sql_state(error: &EngineError) -> Option<String> {
        Some(error.0.code.to_owned())
    }
}

async fn run_file(path: &Path) -> Result<(), String> {
    // A fresh cluster per file: files assume an empty database.
    let cluster: Arc<Cluster> = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut runner = sqllogictest::Runner::new(move || {
        let cluster = cluster.clone();
        async move {
            Ok(Engine {
                session: Session::new(cluster, "bytedata", "bytedata").map_err(EngineError)?,
            })
        }
    });
    runner.add_label("postgresql");
    runner.add_label("bytedata");
    // Every record runs, so one failure does not hide the next.
    let records = sqllogictest::parse_file::<DefaultColumnType>(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let total = records
        .iter()
        .filter(|r| {
            matches!(
                r,
                sqllogictest::Record::Query { .. } | sqllogictest::Record::Statement { .. }
            )
        })
        .count();
    let mut failures = Vec::new();
    for record in records {
        if let Err(error) = runner.run_async(record).await {
            failures.push(error.display(false).to_string());
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 10;
    let mut report = format!(
        "{}: {} of {total} records failed",
        path.display(),
        failures.len()
    );
    for failure in failures.iter().take(SHOWN) {
        report.push_str("\n\n");
        report.push_str(failure);
    }
    Err(report)
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn slt_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    files
}

/// Runs files, reporting every failure (not just the first).
async fn run_all(files: Vec<PathBuf>) {
    assert!(!files.is_empty(), "no .slt files found");
    let mut failures = Vec::new();
    for file in &files {
        if let Err(error) = run_file(file).await {
            failures.push(error);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt() {
    let filter = std::env::var("SLT").ok();
    let files = slt_files(&workspace().join("tests/slt"))
        .into_iter()
        .filter(|f| {
            filter
                .as_ref()
                .is_none_or(|name| f.to_string_lossy().contains(name.as_str()))
        })
        .collect();
    run_all(files).await;
}

fn conformance_file(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("BYTEDATA_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/conformance"));
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

macro_rules! conformance {
    ($($test:ident => $file:literal),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            if let Some(path) = conformance_file($file) {
                run_all(vec![path]).await;
            }
        }
    )*};
}

conformance! {
    conformance_select1 => "select1.slt",
    conformance_select2 => "select2.slt",
    conformance_select3 => "select3.slt",
    conformance_select4 => "select4.slt",
    conformance_select5 => "select5.slt",
}
