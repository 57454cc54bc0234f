//! The statistics views through a real driver: `pg_stat_activity` with
//! `pg_cancel_backend` and `pg_terminate_backend`, `pg_stat_statements`,
//! `pg_stat_database`, and who may see and signal what.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::Server;
use tokio_postgres::error::SqlState;

/// Polls `query` (one row, one text column) until `done` holds for its value.
async fn wait_until(
    client: &tokio_postgres::Client,
    query: &str,
    done: impl Fn(Option<&str>) -> bool,
) -> Option<String> {
    for _ in 0..500 {
        let rows = client.query(query, &[]).await.unwrap();
        let value: Option<String> = rows.first().and_then(|row| row.get(0));
        if done(value.as_deref()) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{query} never reached the expected value");
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_shows_sessions_and_cancel_and_terminate_act_on_them() {
    let server = Server::start(&[]);
    let admin = server.connect().await;
    let holder = server.connect().await;
    let waiter = server.connect().await;
    admin
        .batch_execute(
            "SET application_name = 'admin'; \
             CREATE TABLE c (id int PRIMARY KEY, n int); INSERT INTO c VALUES (1, 0)",
        )
        .await
        .unwrap();
    let pid_of = async |client: &tokio_postgres::Client| -> i32 {
        client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0)
    };
    let (holder_pid, waiter_pid) = (pid_of(&holder).await, pid_of(&waiter).await);
    holder
        .batch_execute("BEGIN; UPDATE c SET n = 1 WHERE id = 1")
        .await
        .unwrap();
    let holder_state = format!("SELECT state FROM pg_stat_activity WHERE pid = {holder_pid}");
    let state = wait_until(&admin, &holder_state, |s| s == Some("idle in transaction")).await;
    assert_eq!(state.as_deref(), Some("idle in transaction"));

    let blocked = tokio::spawn(async move {
        let result = waiter.execute("UPDATE c SET n = 2 WHERE id = 1", &[]).await;
        (result, waiter)
    });
    let waiter_query =
        format!("SELECT query FROM pg_stat_activity WHERE pid = {waiter_pid} AND state = 'active'");
    let query = wait_until(&admin, &waiter_query, |q| q.is_some()).await;
    assert_eq!(query.as_deref(), Some("UPDATE c SET n = 2 WHERE id = 1"));
    let row = admin
        .query_one(
            "SELECT datname, usename, client_addr, backend_start <= now(), \
                    xact_start IS NOT NULL, backend_type \
             FROM pg_stat_activity WHERE pid = $1",
            &[&waiter_pid],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "bytedata");
    assert_eq!(row.get::<_, String>(1), "bytedata");
    assert_eq!(row.get::<_, String>(2), "127.0.0.1");
    assert!(row.get::<_, bool>(3));
    assert!(row.get::<_, bool>(4));
    assert_eq!(row.get::<_, String>(5), "client backend");
    let me: String = admin
        .query_one(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(me, "admin");

    // The cancel may land before the statement starts waiting, where it is void: ask
    // until the statement ends.
    let (result, waiter) = loop {
        let signalled: bool = admin
            .query_one("SELECT pg_cancel_backend($1)", &[&waiter_pid])
            .await
            .unwrap()
            .get(0);
        assert!(signalled);
        if blocked.is_finished() {
            break blocked.await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(result.unwrap_err().code(), Some(&SqlState::QUERY_CANCELED));

    // Terminating the holder ends its connection and rolls its transaction back.
    let terminated: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&holder_pid])
        .await
        .unwrap()
        .get(0);
    assert!(terminated);
    let error = holder.batch_execute("SELECT 1").await.unwrap_err();
    assert!(
        error.is_closed() || error.code() == Some(&SqlState::ADMIN_SHUTDOWN),
        "{error}"
    );
    let gone = format!("SELECT count(*)::text FROM pg_stat_activity WHERE pid = {holder_pid}");
    wait_until(&admin, &gone, |n| n == Some("0")).await;
    waiter
        .execute("UPDATE c SET n = 3 WHERE id = 1", &[])
        .await
        .expect("the lock went with the terminated session");
    let n: i32 = admin
        .query_one("SELECT n FROM c WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3, "the terminated session's update was rolled back");

    let absent: bool = admin
        .query_one("SELECT pg_cancel_backend(1)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!absent, "no backend has pid 1");
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_are_counted_by_shape() {
    let server = Server::start(&[]);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE s (id int PRIMARY KEY, v text); \
             INSERT INTO s VALUES (1, 'a'), (2, 'b'), (3, 'c'); \
             SELECT pg_stat_statements_reset()",
        )
        .await
        .unwrap();
    // Simple protocol, different constants: one statement.
    for id in 1..=2 {
        client
            .simple_query(&format!("SELECT v FROM s WHERE id = {id}"))
            .await
            .unwrap();
    }
    // Extended protocol, one prepared statement run three times.
    let prepared = client
        .prepare("SELECT v FROM s WHERE id <= $1")
        .await
        .unwrap();
    for limit in 1..=3i32 {
        client.query(&prepared, &[&limit]).await.unwrap();
    }
    let rows = client
        .query(
            "SELECT query, calls, rows, total_exec_time >= max_exec_time, \
                    min_exec_time <= mean_exec_time \
             FROM pg_stat_statements WHERE query LIKE '%FROM s WHERE%' ORDER BY query",
            &[],
        )
        .await
        .unwrap();
    let seen: Vec<(String, i64, i64, bool, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "SELECT v FROM s WHERE id <= $1".to_owned(),
                3,
                6,
                true,
                true
            ),
            ("SELECT v FROM s WHERE id = $1".to_owned(), 2, 2, true, true),
        ]
    );
    client
        .batch_execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap();
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%FROM s WHERE%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);

    // Statements over HTTP count too: /v1/sql by its statement, the rows API by the
    // statement it runs.
    let http = server.http.expect("the HTTP listener is on");
    for id in [2, 3] {
        let body = format!(r#"{{"query": "SELECT v FROM s WHERE id = $1", "params": [{id}]}}"#);
        let posted = std::process::Command::new("curl")
            .args(["-sf", "--data-binary", &body])
            .arg(format!("http://{http}/v1/sql"))
            .output()
            .unwrap();
        assert!(posted.status.success(), "{posted:?}");
    }
    let got = std::process::Command::new("curl")
        .arg("-sf")
        .arg(format!(
            "http://{http}/v1/databases/bytedata/tables/s/rows/1"
        ))
        .output()
        .unwrap();
    assert!(got.status.success(), "{got:?}");
    let row = client
        .query_one(
            "SELECT calls, rows FROM pg_stat_statements WHERE query = 'SELECT v FROM s WHERE id = $1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (2, 2));
    let by_key: i64 = client
        .query_one(
            "SELECT coalesce(sum(calls), 0)::int8 FROM pg_stat_statements WHERE query LIKE '%\"s\"%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(by_key, 1, "the rows API's point read");
}

#[tokio::test(flavor = "multi_thread")]
async fn database_counters_follow_transactions_and_rows() {
    let server = Server::start(&[]);
    let client = server.connect().await;
    let counters = async || -> (i64, i64, i64, i64, i64, i32) {
        let row = client
            .query_one(
                "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, \
                        numbackends \
                 FROM pg_stat_database WHERE datname = current_database()",
                &[],
            )
            .await
            .unwrap();
        (
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
        )
    };
    client
        .batch_execute("CREATE TABLE d (id int PRIMARY KEY, n int)")
        .await
        .unwrap();
    let before = counters().await;
    client
        .batch_execute("INSERT INTO d VALUES (1, 0), (2, 0), (3, 0)")
        .await
        .unwrap();
    client
        .batch_execute("UPDATE d SET n = n + 1 WHERE id < 3")
        .await
        .unwrap();
    client
        .batch_execute("BEGIN; DELETE FROM d WHERE id = 3; ROLLBACK")
        .await
        .unwrap();
    let after = counters().await;
    assert!(after.0 >= before.0 + 2, "{before:?} → {after:?}");
    assert!(after.1 > before.1, "{before:?} → {after:?}");
    assert_eq!(after.2 - before.2, 3);
    assert_eq!(after.3 - before.3, 2);
    assert_eq!(
        after.4 - before.4,
        1,
        "deleted rows count even when rolled back"
    );
    assert_eq!(after.5, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn other_roles_see_less_and_may_not_signal_a_superuser() {
    let server = Server::start(&[]);
    let admin = server.connect().await;
    admin
        .batch_execute("CREATE ROLE app LOGIN; SELECT 'secret' AS marker")
        .await
        .unwrap();
    let admin_pid: i32 = admin
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let app = server.connect_as("app", "bytedata").await;
    let query: String = app
        .query_one(
            "SELECT query FROM pg_stat_activity WHERE pid = $1",
            &[&admin_pid],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(query, "<insufficient privilege>");
    let own: String = app
        .query_one(
            "SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(own.contains("pg_stat_activity"), "{own}");
    for (function, message) in [
        (
            "pg_cancel_backend",
            "must be a superuser to cancel superuser query",
        ),
        (
            "pg_terminate_backend",
            "must be a superuser to terminate superuser process",
        ),
    ] {
        let error = app
            .query_one(&format!("SELECT {function}($1)"), &[&admin_pid])
            .await
            .unwrap_err();
        let db = error.as_db_error().expect("an error from the server");
        assert_eq!(db.code(), &SqlState::INSUFFICIENT_PRIVILEGE);
        assert_eq!(db.message(), message);
    }
    let error = app
        .batch_execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    admin
        .batch_execute("SELECT 1")
        .await
        .expect("still connected");
}
