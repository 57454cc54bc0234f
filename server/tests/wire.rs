//! The wire protocol through a real driver: tokio-postgres against a running
//! `bytedata serve`, in both query protocols, with binary parameters and results.

mod common;

use common::Server;
use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::error::SqlState;

fn code(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map(|e| e.code().code().to_owned())
        .unwrap_or_else(|| format!("no SQLSTATE: {error}"))
}

fn tags(messages: &[SimpleQueryMessage]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_protocol_runs_query_strings() {
    let server = Server::start(&[]);
    let client = server.connect().await;
    let messages = client
        .simple_query(
            "CREATE TABLE t (k int PRIMARY KEY, v text); \
             INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, 'c'); \
             UPDATE t SET v = 'b' WHERE k = 2; \
             SELECT k, v FROM t ORDER BY k",
        )
        .await
        .unwrap();
    // tokio-postgres reports the row count of each command.
    assert_eq!(tags(&messages), ["0", "3", "1", "3"]);
    let rows: Vec<(String, Option<String>)> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some((
                row.get(0).unwrap().to_owned(),
                row.get(1).map(str::to_owned),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("1".to_owned(), Some("a".to_owned())),
            ("2".to_owned(), Some("b".to_owned())),
            ("3".to_owned(), Some("c".to_owned()))
        ]
    );

    // A failing statement rolls back the whole implicit transaction of its string.
    let error = client
        .simple_query("INSERT INTO t VALUES (4, 'd'); SELECT 1/0")
        .await
        .unwrap_err();
    assert_eq!(code(&error), "22012");
    let count: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn extended_protocol_with_binary_parameters_and_results() {
    let server = Server::start(&[]);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE readings (site text, day int, hour smallint, value float8, \
             ok bool, note text, raw bytea, big bigint, PRIMARY KEY (site, day, hour))",
        )
        .await
        .unwrap();
    let insert = client
        .prepare("INSERT INTO readings VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .await
        .unwrap();
    assert_eq!(
        insert.params(),
        [
            tokio_postgres::types::Type::TEXT,
            tokio_postgres::types::Type::INT4,
            tokio_postgres::types::Type::INT2,
            tokio_postgres::types::Type::FLOAT8,
            tokio_postgres::types::Type::BOOL,
            tokio_postgres::types::Type::TEXT,
            tokio_postgres::types::Type::BYTEA,
            tokio_postgres::types::Type::INT8,
        ]
    );
    for day in 1..=5i32 {
        for hour in [0i16, 12] {
            let note: Option<&str> = if hour == 0 { None } else { Some("noon") };
            let inserted = client
                .execute(
                    &insert,
                    &[
                        &"oslo",
                        &day,
                        &hour,
                        &(day as f64 * 1.5),
                        &(day % 2 == 0),
                        &note,
                        &vec![day as u8, 0xff],
                        &(i64::from(day) << 40),
                    ],
                )
                .await
                .unwrap();
            assert_eq!(inserted, 1);
        }
    }
    // A range over a key prefix, parameters typed from the columns they meet.
    let rows = client
        .query(
            "SELECT day, hour, value, ok, note, raw, big FROM readings \
             WHERE site = $1 AND day BETWEEN $2 AND $3 ORDER BY day, hour",
            &[&"oslo", &2i32, &3i32],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    let first = &rows[0];
    assert_eq!(first.get::<_, i32>(0), 2);
    assert_eq!(first.get::<_, i16>(1), 0);
    assert_eq!(first.get::<_, f64>(2), 3.0);
    assert!(first.get::<_, bool>(3));
    assert_eq!(first.get::<_, Option<String>>(4), None);
    assert_eq!(first.get::<_, Vec<u8>>(5), vec![2, 0xff]);
    assert_eq!(first.get::<_, i64>(6), 2i64 << 40);
    assert_eq!(rows[1].get::<_, Option<String>>(4).as_deref(), Some("noon"));

    // Numeric and text values that travel as text and back in binary.
    let row = client
        .query_one(
            "SELECT 12345.678::numeric(10,3)::text, $1::text || '!', $2::int8 * 2",
            &[&"hi", &21i64],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "12345.678");
    assert_eq!(row.get::<_, String>(1), "hi!");
    assert_eq!(row.get::<_, i64>(2), 42);
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_rollback_and_failed_blocks() {
    let server = Server::start(&[]);
    let mut client = server.connect().await;
    client
        .batch_execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
        .await
        .unwrap();
    client
        .execute("INSERT INTO accounts VALUES (1, 100), (2, 100)", &[])
        .await
        .unwrap();

    let transaction = client.transaction().await.unwrap();
    transaction
        .execute(
            "UPDATE accounts SET balance = balance - $1 WHERE id = $2",
            &[&30i32, &1i32],
        )
        .await
        .unwrap();
    transaction.rollback().await.unwrap();
    let balance: i32 = client
        .query_one("SELECT balance FROM accounts WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(balance, 100, "rolled back");

    let transaction = client.transaction().await.unwrap();
    let error = transaction
        .execute("INSERT INTO accounts VALUES (1, 5)", &[])
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::UNIQUE_VIOLATION));
    let error = transaction.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
    transaction.rollback().await.unwrap();

    let transaction = client.transaction().await.unwrap();
    transaction
        .execute(
            "UPDATE accounts SET balance = balance + 1 WHERE id = $1",
            &[&2i32],
        )
        .await
        .unwrap();
    transaction.commit().await.unwrap();
    let balance: i32 = client
        .query_one("SELECT balance FROM accounts WHERE id = $1", &[&2i32])
        .await
        .unwrap()
        .get(0);
    assert_eq!(balance, 101);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_carry_sqlstates_and_the_connection_goes_on() {
    let server = Server::start(&[]);
    let client = server.connect().await;
    for (sql, expected) in [
        ("SELECT * FROM missing", "42P01"),
        ("SELEC 1", "42601"),
        ("SELECT 1/0", "22012"),
        ("SELECT 'x'::int", "22P02"),
        ("SET no_such_setting = 1", "42704"),
    ] {
        let simple = client.simple_query(sql).await.unwrap_err();
        assert_eq!(code(&simple), expected, "simple: {sql}");
        let extended = client.query(sql, &[]).await.unwrap_err();
        assert_eq!(code(&extended), expected, "extended: {sql}");
    }
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn portals_suspend_at_the_row_limit() {
    let server = Server::start(&[]);
    let mut client = server.connect().await;
    let transaction = client.transaction().await.unwrap();
    let statement = transaction
        .prepare("SELECT g FROM generate_series(1, 10) g ORDER BY g")
        .await
        .unwrap();
    let portal = transaction.bind(&statement, &[]).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let rows = transaction.query_portal(&portal, 4).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 4);
        seen.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
    }
    assert_eq!(seen, (1..=10).collect::<Vec<i64>>());
    transaction.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_in_and_out() {
    use futures::{SinkExt, TryStreamExt};
    let server = Server::start(&[]);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(6,2))")
        .await
        .unwrap();
    let sink = client
        .copy_in("COPY items FROM STDIN WITH (FORMAT csv, HEADER)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(
        b"id,name,price\n1,apple,0.5\n2,\"pear, green\",1.25\n3,,2\n",
    ))
    .await
    .unwrap();
    let loaded = sink.finish().await.unwrap();
    assert_eq!(loaded, 3);

    let stream = client.copy_out("COPY items TO STDOUT").await.unwrap();
    let chunks: Vec<bytes::Bytes> = stream.try_collect().await.unwrap();
    let text: String = chunks
        .iter()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert_eq!(text, "1\tapple\t0.50\n2\tpear, green\t1.25\n3\t\\N\t2.00\n");

    // A bad line fails the COPY, names the line, and loads nothing.
    let sink = client.copy_in("COPY items FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"10\tfig\t1\n11\tkiwi\tcheap\n"))
        .await
        .unwrap();
    let error = sink.finish().await.unwrap_err();
    assert_eq!(code(&error), "22P02");
    let message = error.as_db_error().unwrap().message().to_owned();
    let detail = format!("{message} {:?}", error.as_db_error().unwrap().where_());
    assert!(
        detail.contains("line 2") || message.contains("cheap"),
        "{detail}"
    );
    let count: i64 = client
        .query_one("SELECT count(*) FROM items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_request_stops_a_waiting_statement() {
    let server = Server::start(&[]);
    let holder = server.connect().await;
    let waiter = server.connect().await;
    holder
        .batch_execute("CREATE TABLE c (id int PRIMARY KEY, n int); INSERT INTO c VALUES (1, 0)")
        .await
        .unwrap();
    holder
        .batch_execute("BEGIN; UPDATE c SET n = 1 WHERE id = 1")
        .await
        .unwrap();
    let token = waiter.cancel_token();
    let blocked = tokio::spawn(async move {
        let result = waiter.execute("UPDATE c SET n = 2 WHERE id = 1", &[]).await;
        (result, waiter)
    });
    // The update waits on the row lock until cancelled; cancelling early is void, so
    // repeat until it lands.
    let (result, waiter) = loop {
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
        tokio::task::yield_now().await;
        if blocked.is_finished() {
            break blocked.await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(result.unwrap_err().code(), Some(&SqlState::QUERY_CANCELED));
    holder.batch_execute("COMMIT").await.unwrap();
    let n: i32 = waiter
        .query_one("SELECT n FROM c WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn startup_refusals_use_postgresql_codes() {
    let server = Server::start(&["--max-connections", "2"]);
    let connect = |user: &str, database: &str| {
        let url = server.url(user, database);
        async move { tokio_postgres::connect(&url, tokio_postgres::NoTls).await }
    };
    let error = connect("bytedata", "nope").await.err().unwrap();
    assert_eq!(code(&error), "3D000");
    let error = connect("nobody", "bytedata").await.err().unwrap();
    assert_eq!(code(&error), "28000");

    let first = server.connect().await;
    let _second = server.connect_as("bytedata", "postgres").await;
    let error = connect("bytedata", "bytedata").await.err().unwrap();
    assert_eq!(code(&error), "53300");
    drop(first);
    // The slot frees when the server sees the connection close.
    let mut attempts = 0;
    loop {
        match connect("bytedata", "bytedata").await {
            Ok(_) => break,
            Err(error) => {
                assert_eq!(code(&error), "53300");
                attempts += 1;
                assert!(attempts < 500, "the slot never freed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn startup_options_set_parameters() {
    let server = Server::start(&[]);
    let url = format!(
        "{} options='-c statement_timeout=1234 -c TimeZone=UTC' application_name=wiretest",
        server.url("bytedata", "bytedata")
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT current_setting('statement_timeout'), current_setting('application_name')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "1234ms");
    assert_eq!(row.get::<_, String>(1), "wiretest");
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_is_graceful_and_data_survives_a_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let path = data_dir.path().to_owned();
    let mut server = Server::start_in(data_dir, &["--storage", "disk", "--fsync", "always"], &[]);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (1), (2)")
        .await
        .unwrap();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    drop(client);

    let again = tempfile::TempDir::new().unwrap();
    // Reuse the same directory: move the old one's ownership out of the old handle.
    let data_dir = std::mem::replace(&mut server.data_dir, again);
    drop(server);
    assert_eq!(data_dir.path(), path);
    let server = Server::start_in(data_dir, &["--storage", "disk"], &[]);
    let client = server.connect().await;
    let count: i64 = client
        .query_one("SELECT count(*) FROM kept", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hybrid_server_keeps_large_values_on_disk_across_a_kill() {
    let data_dir = tempfile::tempdir().unwrap();
    let path = data_dir.path().to_owned();
    let flags = ["--storage", "hybrid", "--value-cache", "1MB"];
    let mut server = Server::start_in(data_dir, &flags, &[]);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE docs (id int PRIMARY KEY, body text); \
             INSERT INTO docs SELECT g, repeat(md5(g::text), 40) FROM generate_series(1, 500) g",
        )
        .await
        .unwrap();
    // No clean shutdown: the restart replays the log into the value log.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(client);

    let again = tempfile::TempDir::new().unwrap();
    let data_dir = std::mem::replace(&mut server.data_dir, again);
    drop(server);
    let server = Server::start_in(data_dir, &flags, &[]);
    let client = server.connect().await;
    let row = client
        .query_one(
            "SELECT count(*), sum(length(body)), \
             bool_and(body = repeat(md5(id::text), 40)) FROM docs",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 500);
    assert_eq!(row.get::<_, i64>(1), 500 * 1280);
    assert!(row.get::<_, bool>(2));
    let value_log_bytes: u64 = walk(&path)
        .iter()
        .filter(|file| file.extension().is_some_and(|ext| ext == "vlog"))
        .map(|file| std::fs::metadata(file).unwrap().len())
        .sum();
    assert!(
        value_log_bytes >= 500 * 1280,
        "{value_log_bytes} bytes in value logs"
    );
}

#[allow(clippy::unwrap_used)]
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The next log line that contains `text`, with the lines before it.
fn log_until(server: &Server, text: &str) -> (String, Vec<String>) {
    let mut before = Vec::new();
    loop {
        let line = server
            .log
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server logs \"{text}\""));
        if line.contains(text) {
            return (line, before);
        }
        before.push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_statements_are_logged_with_their_duration_and_rows() {
    let server = Server::start(&["--log-min-duration-statement", "0"]);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE slow (k int PRIMARY KEY); INSERT INTO slow VALUES (1), (2)")
        .await
        .unwrap();
    client
        .query("SELECT k FROM slow WHERE k > $1", &[&0i32])
        .await
        .unwrap();
    let (line, _) = log_until(&server, "statement: SELECT k FROM slow WHERE k > $1");
    assert!(line.contains("duration: "), "{line}");
    assert!(line.contains("rows=2"), "{line}");
    assert!(
        line.contains("user=bytedata") && line.contains("database=bytedata"),
        "{line}"
    );
    // A session turns it off for itself; what it runs then is not logged.
    client
        .batch_execute("SET log_min_duration_statement = -1; SELECT 'hidden'")
        .await
        .unwrap();
    client
        .batch_execute("SET log_min_duration_statement = '1h'; SELECT 'too quick'")
        .await
        .unwrap();
    client
        .batch_execute("SET log_min_duration_statement = 0; SELECT 'shown'")
        .await
        .unwrap();
    let (_, before) = log_until(&server, "statement: SELECT 'shown'");
    assert!(
        before
            .iter()
            .all(|l| !l.contains("hidden") && !l.contains("too quick")),
        "{before:?}"
    );
}
