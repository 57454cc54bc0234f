//! Real clients, unmodified, against `bytedata serve`: psql scripts whose whole output is
//! compared with expected files (`tests/psql/*.sql` → `*.out`, the `\d` family, COPY and
//! catalog queries), and one scripted session each through psycopg 3 with SQLAlchemy 2,
//! node-postgres and PostgreSQL's JDBC driver (`tests/clients/`).
//!
//! The drivers are installed by `scripts/clients` (the test script runs it first). A
//! driver that is missing is a failure, never a skip: CI must run every client.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::Server;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate sits in the workspace")
        .to_path_buf()
}

fn clients_dir() -> PathBuf {
    match std::env::var_os("BYTEDATA_CLIENTS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/bytedata/clients"),
    }
}

fn installed(path: &Path) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run scripts/clients to install the client drivers",
        path.display()
    );
    path.to_path_buf()
}

/// Runs a command to completion; its stdout and stderr together.
fn run(command: &mut Command) -> (bool, String) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn psql_script(name: &str) {
    let server = Server::start(&[]);
    let dir = repository().join("tests/psql");
    let script = std::fs::File::open(dir.join(format!("{name}.sql"))).expect("script exists");
    let expected =
        std::fs::read_to_string(dir.join(format!("{name}.out"))).expect("expected output exists");
    // Errors go to stderr: merged into stdout as a terminal shows them (psql flushes its
    // output before it reports an error, so the order is the script's).
    let output = Command::new("sh")
        .args([
            "-c",
            "exec psql \"$@\" 2>&1",
            "psql",
            "-X",
            "-h",
            "127.0.0.1",
        ])
        .args([
            "-p",
            &server.port().to_string(),
            "-U",
            "bytedata",
            "-d",
            "bytedata",
        ])
        .args(["-f", "-"])
        .env("PGTZ", "UTC")
        .stdin(script)
        .output()
        .expect("psql runs (it comes with PostgreSQL's client package)");
    let actual = String::from_utf8_lossy(&output.stdout);
    if actual != expected {
        panic!(
            "psql output of {name}.sql differs from {name}.out\n--- expected\n{expected}\n\
             --- actual\n{actual}"
        );
    }
}

#[test]
fn psql_describe_family() {
    psql_script("describe");
}

#[test]
fn psql_copy() {
    psql_script("copy");
}

#[test]
fn psql_catalog_queries() {
    psql_script("catalog");
}

#[test]
fn psql_prepare_execute_deallocate() {
    psql_script("prepare");
}

#[test]
fn psycopg_and_sqlalchemy_session() {
    let python = installed(&clients_dir().join("venv/bin/python"));
    let server = Server::start(&[]);
    let dsn = format!(
        "host=127.0.0.1 port={} user=bytedata dbname=bytedata",
        server.port()
    );
    let (ok, text) = run(Command::new(python)
        .arg(repository().join("tests/clients/python_session.py"))
        .arg(dsn));
    assert!(ok, "the python session failed:\n{text}");
    assert!(text.contains("python clients: all checks passed"), "{text}");
}

#[test]
fn node_postgres_session() {
    let modules = installed(&clients_dir().join("node/node_modules"));
    let server = Server::start(&[]);
    let (ok, text) = run(Command::new("node")
        .arg(repository().join("tests/clients/node_session.js"))
        .arg(server.port().to_string())
        .env("NODE_PATH", modules));
    assert!(ok, "the node session failed:\n{text}");
    assert!(text.contains("node client: all checks passed"), "{text}");
}

#[test]
fn jdbc_session() {
    let jar = installed(Path::new("/usr/share/java/postgresql.jar"));
    let server = Server::start(&[]);
    let (ok, text) = run(Command::new("java")
        .arg("-cp")
        .arg(jar)
        .arg(repository().join("tests/clients/JdbcSession.java"))
        .arg(server.port().to_string()));
    assert!(ok, "the JDBC session failed:\n{text}");
    assert!(text.contains("jdbc client: all checks passed"), "{text}");
}
