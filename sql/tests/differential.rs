//! The differential test: every statement of `tests/differential/*.sql` runs against a
//! real PostgreSQL 15, started here in a temporary directory, and against a ByteData
//! session; results must agree.
//!
//! What must agree: for a query, the column names and every value as text (rows compared
//! in order when the statement has ORDER BY, as sorted lists otherwise); for a command, the
//! number of rows it affected; for an error, the SQLSTATE. Each file starts from an empty
//! database on both sides.
//!
//! ByteData runs every file twice, in two sessions of their own: with the fast path for
//! point statements (the default) and without it (`SET bytedata.fast_path = off`), so both
//! of its paths answer each statement; their result columns must have the same types too.
//!
//! PostgreSQL is found in `/usr/lib/postgresql/15/bin` (or `BYTEDATA_PG_BIN`). When run as
//! root, the server runs as the `postgres` user, as PostgreSQL requires.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bytedata_sql::{Cluster, ClusterOptions, QueryResult, Session};
use tokio_postgres::{NoTls, SimpleQueryMessage};

/// What a statement did, in a form both sides can produce.
#[derive(Debug, PartialEq)]
enum Outcome {
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Option<String>>>,
    },
    Command {
        rows: u64,
    },
    Error {
        code: String,
    },
}

struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
    _dir: tempfile::TempDir,
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn start(bin: PathBuf) -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        let as_postgres_user = running_as_root();
        let data = dir.path().join("data");
        let socket_dir = dir.path().join("socket");
        std::fs::create_dir(&socket_dir).unwrap();
        if as_postgres_user {
            let status = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the PostgreSQL directory failed");
        }
        let port = 20000 + (std::process::id() % 20000) as u16;
        let postgres = Postgres {
            bin,
            data,
            socket_dir,
            port,
            as_postgres_user,
            _dir: dir,
        };
        let output = postgres
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&postgres.data)
            .output()
            .unwrap();
        assert!(output.status.success(), "initdb failed: {output:?}");
        let options = format!(
            "-p {} -k {} -c listen_addresses='' -c fsync=off",
            postgres.port,
            postgres.socket_dir.display()
        );
        // `-w` waits until the server accepts connections.
        let output = postgres
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&postgres.data)
            .args(["-o", &options, "-l"])
            .arg(postgres.data.join("log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(output.status.success(), "pg_ctl start failed: {output:?}");
        postgres
    }

    async fn connect(&self, database: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::Config::new()
            .host_path(&self.socket_dir)
            .port(self.port)
            .user("postgres")
            .dbname(database)
            .connect(NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The statements of a corpus file: `--` comments dropped, split at `;` ending a line.
fn statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            statements.push(current.trim().trim_end_matches(';').to_owned());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        statements.push(current.trim().to_owned());
    }
    statements
}

async fn on_postgres(client: &tokio_postgres::Client, sql: &str) -> Outcome {
    match client.simple_query(sql).await {
        Err(error) => Outcome::Error {
            code: error
                .code()
                .map_or_else(|| format!("no SQLSTATE: {error}"), |c| c.code().to_owned()),
        },
        Ok(messages) => {
            let mut columns = None;
            let mut rows = Vec::new();
            let mut affected = 0;
            for message in messages {
                match message {
                    SimpleQueryMessage::RowDescription(description) => {
                        columns = Some(description.iter().map(|c| c.name().to_owned()).collect());
                    }
                    SimpleQueryMessage::Row(row) => {
                        rows.push(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_owned))
                                .collect(),
                        );
                    }
                    SimpleQueryMessage::CommandComplete(n) => affected = n,
                    _ => {}
                }
            }
            match columns {
                Some(columns) => Outcome::Rows { columns, rows },
                None => Outcome::Command { rows: affected },
            }
        }
    }
}

/// What ByteData did, and the PostgreSQL types (OID, typmod) of the columns it returned.
async fn on_bytedata(session: &mut Session, sql: &str) -> (Outcome, Vec<(u32, i32)>) {
    let error = |e: bytedata_sql::SqlError| {
        let code = e.code.to_owned();
        (Outcome::Error { code }, vec![])
    };
    let result = match session.execute(sql).await {
        Ok(mut results) if results.len() == 1 => results.remove(0),
        Ok(results) => panic!("{sql}: {} results", results.len()),
        Err(e) => return error(e),
    };
    let outcome = match result {
        QueryResult::Rows { schema, rows, tag } => {
            let batches = match rows.collect().await {
                Ok(batches) => batches,
                Err(e) => return error(e),
            };
            let rows = bytedata_sql::text_rows(&batches, &session.text_options());
            // `… RETURNING` reports rows to the client, with its command's count.
            let _ = tag;
            let types = schema
                .fields()
                .iter()
                .map(|f| bytedata_sql::pg_type_of(f))
                .collect();
            let columns = schema.fields().iter().map(|f| f.name().clone()).collect();
            return (Outcome::Rows { columns, rows }, types);
        }
        QueryResult::CopyIn(_) => panic!("{sql}: COPY FROM STDIN has no place in the corpus"),
        QueryResult::Command { tag } => Outcome::Command {
            rows: tag
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
        },
    };
    (outcome, vec![])
}

/// The point statements of `point.sql` (at least) take the fast path.
const MIN_FAST_RUNS: u64 = 30;

fn ordered(sql: &str) -> bool {
    sql.to_ascii_uppercase().contains("ORDER BY")
}

fn sorted(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Rows { columns, mut rows } => {
            rows.sort();
            Outcome::Rows { columns, rows }
        }
        other => other,
    }
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytedata_agrees_with_postgres() {
    let bin = std::env::var_os("BYTEDATA_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
    assert!(
        bin.join("postgres").exists(),
        "PostgreSQL 15 is not installed at {} (set BYTEDATA_PG_BIN)",
        bin.display()
    );
    let postgres = Postgres::start(bin);
    let admin = postgres.connect("postgres").await;
    let mut differences = Vec::new();
    let mut compared = 0;
    let mut fast_runs = 0;
    for (n, file) in corpus().iter().enumerate() {
        let database = format!("differential_{n}");
        admin
            .simple_query(&format!("CREATE DATABASE {database}"))
            .await
            .unwrap();
        let client = postgres.connect(&database).await;
        let session = || {
            let cluster: Arc<Cluster> = Cluster::open(ClusterOptions::memory()).unwrap();
            Session::new(cluster, "bytedata", "bytedata").unwrap()
        };
        let mut fast = session();
        let mut general = session();
        general
            .execute("SET bytedata.fast_path = off")
            .await
            .unwrap();
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        for sql in statements(&std::fs::read_to_string(file).unwrap()) {
            let mut expected = on_postgres(&client, &sql).await;
            let (mut actual, fast_types) = on_bytedata(&mut fast, &sql).await;
            let (mut planned, general_types) = on_bytedata(&mut general, &sql).await;
            if !ordered(&sql) {
                expected = sorted(expected);
                actual = sorted(actual);
                planned = sorted(planned);
            }
            compared += 1;
            if expected != actual {
                differences.push(format!(
                    "{name}: {sql}\n  PostgreSQL: {expected:?}\n  ByteData:   {actual:?}"
                ));
            }
            if expected != planned {
                differences.push(format!(
                    "{name} (without the fast path): {sql}\n  PostgreSQL: {expected:?}\n  ByteData:   {planned:?}"
                ));
            }
            if fast_types != general_types {
                differences.push(format!(
                    "{name}: {sql}\n  column types, fast path: {fast_types:?}\n  planned: {general_types:?}"
                ));
            }
        }
        assert_eq!(
            general.fast_path_runs(),
            0,
            "{name}: the fast path ran while off"
        );
        fast_runs += fast.fast_path_runs();
    }

    assert!(
        differences.is_empty(),
        "{} of {compared} statements differ:\n\n{}",
        differences.len(),
        differences.join("\n\n")
    );
    assert!(compared > 0, "the corpus is empty");
    assert!(
        fast_runs >= MIN_FAST_RUNS,
        "only {fast_runs} statements of the corpus took the fast path"
    );
}
