//! Session behaviour that SQL scripts cannot reach: panics inside a statement, cancel
//! requests from another thread, and which statements run without blocking the thread.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};

use super::Session;
use crate::context::cluster::{Cluster, ClusterOptions};
use crate::context::result::QueryResult;

fn session() -> Session {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    Session::new(cluster, "bytedata", "bytedata").unwrap()
}

async fn error_code(session: &mut Session, sql: &str) -> &'static str {
    match session.execute(sql).await {
        Ok(results) => {
            for result in results {
                if let QueryResult::Rows { rows, .. } = result
                    && let Err(error) = rows.collect().await
                {
                    return error.code;
                }
            }
            panic!("{sql} succeeded")
        }
        Err(error) => error.code,
    }
}

/// The session with a function `explode()` that panics.
fn session_with_panicking_function() -> Session {
    let mut session = session();
    let explode = create_udf(
        "explode",
        vec![],
        DataType::Int32,
        Volatility::Volatile,
        Arc::new(|_: &[ColumnarValue]| panic!("boom")),
    );
    datafusion::execution::FunctionRegistry::register_udf(
        Arc::make_mut(&mut session.base),
        Arc::new(explode),
    )
    .unwrap();
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_statement_is_an_error_and_the_session_goes_on() {
    let mut session = session_with_panicking_function();
    session
        .execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    assert_eq!(error_code(&mut session, "SELECT explode()").await, "XX000");
    assert_eq!(
        error_code(&mut session, "INSERT INTO t SELECT explode()").await,
        "XX000"
    );
    session.execute("INSERT INTO t VALUES (1)").await.unwrap();

    // Inside a block, the panic fails the block like any error.
    session.execute("BEGIN").await.unwrap();
    session.execute("INSERT INTO t VALUES (2)").await.unwrap();
    assert_eq!(
        error_code(&mut session, "SELECT explode() FROM t").await,
        "XX000"
    );
    assert_eq!(session.transaction_status(), b'E');
    assert_eq!(error_code(&mut session, "SELECT 1").await, "25P02");
    session.execute("ROLLBACK").await.unwrap();

    let results = session.execute("SELECT count(*) FROM t").await.unwrap();
    let QueryResult::Rows { rows, .. } = results.into_iter().next().unwrap() else {
        panic!("no rows")
    };
    let batches = rows.collect().await.unwrap();
    let text = crate::context::result::text_rows(&batches, &session.text_options());
    assert_eq!(text, vec![vec![Some("1".to_owned())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_a_statement_waiting_for_a_lock() {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut holder = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    let mut waiter = Session::new(cluster, "bytedata", "bytedata").unwrap();
    holder
        .execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)")
        .await
        .unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("UPDATE t SET v = 1 WHERE id = 1")
        .await
        .unwrap();

    let canceller = waiter.canceller();
    let blocked = tokio::spawn(async move {
        let code = error_code(&mut waiter, "UPDATE t SET v = 2 WHERE id = 1").await;
        (code, waiter)
    });
    // A cancel that arrives before the statement starts is void (as in PostgreSQL), so
    // keep asking until the statement has noticed.
    while !blocked.is_finished() {
        canceller.cancel();
        tokio::task::yield_now().await;
    }
    let (code, mut waiter) = blocked.await.unwrap();
    assert_eq!(code, "57014");

    // The holder's update is untouched, and the waiter's session works.
    holder.execute("COMMIT").await.unwrap();
    let results = waiter.execute("SELECT v FROM t").await.unwrap();
    let QueryResult::Rows { rows, .. } = results.into_iter().next().unwrap() else {
        panic!("no rows")
    };
    let batches = rows.collect().await.unwrap();
    let text = crate::context::result::text_rows(&batches, &waiter.text_options());
    assert_eq!(text, vec![vec![Some("1".to_owned())]]);
}

/// What the server's first try at `sql` (one statement) comes to: `None` if the statement
/// was handed back to run where it may block, else its tag or rows as text.
async fn unblocked(session: &mut Session, sql: &str) -> Option<Result<String, &'static str>> {
    let parsed = session.parse_cached(sql).unwrap();
    let outcome = session.execute_without_blocking(&parsed[0], &[]).await?;
    Some(match outcome {
        Ok(QueryResult::Command { tag }) => Ok(tag),
        Ok(QueryResult::Rows { rows, .. }) => {
            let batches = rows.collect().await.unwrap();
            let text = crate::context::result::text_rows(&batches, &session.text_options());
            Ok(format!("{text:?}"))
        }
        Ok(QueryResult::CopyIn(_)) => panic!("{sql} started a COPY"),
        Err(error) => Err(error.code),
    })
}

fn ok(text: &str) -> Option<Result<String, &'static str>> {
    Some(Ok(text.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_write_that_would_wait_for_a_lock_is_handed_back_untouched() {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut holder = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    let mut waiter = Session::new(cluster, "bytedata", "bytedata").unwrap();
    holder
        .execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)")
        .await
        .unwrap();
    holder
        .execute("BEGIN; UPDATE t SET v = v + 1 WHERE id = 1")
        .await
        .unwrap();

    assert_eq!(unblocked(&mut waiter, "BEGIN").await, ok("BEGIN"));
    let free = "UPDATE t SET v = v + 10 WHERE id = 2";
    assert_eq!(unblocked(&mut waiter, free).await, ok("UPDATE 1"));
    // Row 1 is locked by the holder: each write to it is handed back, having done nothing.
    let held = "UPDATE t SET v = v + 10 WHERE id = 1";
    assert_eq!(unblocked(&mut waiter, held).await, None);
    assert_eq!(
        unblocked(&mut waiter, "DELETE FROM t WHERE id = 1").await,
        None
    );
    assert_eq!(
        unblocked(&mut waiter, "INSERT INTO t VALUES (1, 5)").await,
        None
    );
    // The commit of a block with writes waits for the disk.
    assert_eq!(unblocked(&mut waiter, "COMMIT").await, None);
    // The block is not failed, and sees its own write only.
    let read = "SELECT id, v FROM t ORDER BY id";
    let expected = r#"[[Some("1"), Some("0")], [Some("2"), Some("10")]]"#;
    assert_eq!(unblocked(&mut waiter, read).await, ok(expected));

    holder.execute("COMMIT").await.unwrap();
    assert_eq!(unblocked(&mut waiter, held).await, ok("UPDATE 1"));
    waiter.execute("COMMIT").await.unwrap();
    let expected = r#"[[Some("1"), Some("11")], [Some("2"), Some("10")]]"#;
    assert_eq!(unblocked(&mut holder, read).await, ok(expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_that_may_block_are_handed_back() {
    let mut session = session();
    session
        .execute(
            "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0);
             CREATE TABLE u (id int PRIMARY KEY, v int UNIQUE); INSERT INTO u VALUES (1, 0)",
        )
        .await
        .unwrap();
    // Outside a block a write commits, and the commit waits for the disk.
    assert_eq!(
        unblocked(&mut session, "UPDATE t SET v = 1 WHERE id = 1").await,
        None
    );
    assert_eq!(
        unblocked(&mut session, "SELECT v FROM t FOR UPDATE").await,
        None
    );
    assert_eq!(
        unblocked(&mut session, "SELECT v FROM t").await,
        ok(r#"[[Some("0")]]"#)
    );
    assert_eq!(unblocked(&mut session, "BEGIN").await, ok("BEGIN"));
    // Writes whose locks do not all come before their first write.
    assert_eq!(
        unblocked(&mut session, "UPDATE u SET v = 1 WHERE id = 1").await,
        None
    );
    assert_eq!(
        unblocked(&mut session, "INSERT INTO t VALUES (2, 0), (3, 0)").await,
        None
    );
    // The general path's statements.
    assert_eq!(
        unblocked(&mut session, "UPDATE t SET v = 1 WHERE v = 0").await,
        None
    );
    assert_eq!(
        unblocked(&mut session, "INSERT INTO t VALUES (2, 0)").await,
        ok("INSERT 0 1")
    );
    assert_eq!(unblocked(&mut session, "ROLLBACK").await, ok("ROLLBACK"));
    // A commit with nothing to make durable.
    assert_eq!(unblocked(&mut session, "BEGIN").await, ok("BEGIN"));
    assert_eq!(
        unblocked(&mut session, "SELECT count(*) FROM t").await,
        ok(r#"[[Some("1")]]"#)
    );
    assert_eq!(unblocked(&mut session, "COMMIT").await, ok("COMMIT"));
}

/// The rows of the last statement of `sql`, as text.
async fn rows(session: &mut Session, sql: &str) -> Vec<Vec<Option<String>>> {
    let results = session.execute(sql).await.unwrap();
    let QueryResult::Rows { rows, .. } = results.into_iter().last().unwrap() else {
        panic!("{sql} returned no rows")
    };
    let batches = rows.collect().await.unwrap();
    crate::context::result::text_rows(&batches, &session.text_options())
}

fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_query_reuses_its_plan_until_ddl_or_a_setting_changes() {
    let mut session = session();
    session
        .execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')")
        .await
        .unwrap();
    // Not a fast-path shape (a function of a column): DataFusion plans it.
    let query = "SELECT * FROM t WHERE length(v) <> 7";
    assert_eq!(
        rows(&mut session, query).await,
        [row(&[Some("1"), Some("a")])]
    );
    assert_eq!(session.plans_reused(), 0);
    assert_eq!(
        rows(&mut session, query).await,
        [row(&[Some("1"), Some("a")])]
    );
    assert_eq!(session.plans_reused(), 1);

    // Committed DDL: planned again, and the new column is there.
    session
        .execute("ALTER TABLE t ADD COLUMN w int DEFAULT 7")
        .await
        .unwrap();
    let widened = [row(&[Some("1"), Some("a"), Some("7")])];
    assert_eq!(rows(&mut session, query).await, widened);
    assert_eq!(session.plans_reused(), 1);
    assert_eq!(rows(&mut session, query).await, widened);
    assert_eq!(session.plans_reused(), 2);

    // A setting: the name resolves elsewhere.
    session
        .execute("CREATE SCHEMA s; CREATE TABLE s.t (id int PRIMARY KEY, v text)")
        .await
        .unwrap();
    session
        .execute("INSERT INTO s.t VALUES (2, 'b')")
        .await
        .unwrap();
    assert_eq!(rows(&mut session, query).await, widened);
    let reused = session.plans_reused();
    session
        .execute("SET search_path = s, public")
        .await
        .unwrap();
    let other = [row(&[Some("2"), Some("b")])];
    assert_eq!(rows(&mut session, query).await, other);
    assert_eq!(session.plans_reused(), reused);

    // The transaction's own DDL: neither uses nor keeps a plan.
    session.execute("BEGIN").await.unwrap();
    session
        .execute("ALTER TABLE s.t ADD COLUMN z int")
        .await
        .unwrap();
    assert_eq!(
        rows(&mut session, query).await,
        [row(&[Some("2"), Some("b"), None])]
    );
    assert_eq!(
        rows(&mut session, query).await,
        [row(&[Some("2"), Some("b"), None])]
    );
    assert_eq!(session.plans_reused(), reused);
    session.execute("ROLLBACK").await.unwrap();
    // Rolled back, the catalog is as the plan kept before BEGIN saw it.
    assert_eq!(rows(&mut session, query).await, other);
    assert_eq!(session.plans_reused(), reused + 1);

    // A system table shows the catalog as of planning: such plans are not kept.
    let catalog_query = "SELECT relname FROM pg_class WHERE relname = 't' ORDER BY 1";
    let before = rows(&mut session, catalog_query).await;
    assert_eq!(rows(&mut session, catalog_query).await, before);
    assert_eq!(session.plans_reused(), reused + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_plan_binds_new_parameter_values_each_time() {
    let mut session = session();
    session
        .execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")
        .await
        .unwrap();
    let parsed = session
        .parse_cached("SELECT id FROM t WHERE v + 0 > $1 ORDER BY id")
        .unwrap();
    let prepared = parsed[0].clone();
    let mut results = Vec::new();
    for bound in [15, 25, 5] {
        let result = session
            .execute_prepared(
                &prepared,
                &[datafusion::scalar::ScalarValue::Int32(Some(bound))],
            )
            .await
            .unwrap();
        let QueryResult::Rows { rows, .. } = result else {
            panic!("no rows")
        };
        let batches = rows.collect().await.unwrap();
        results.push(crate::context::result::text_rows(&batches, &session.text_options()).len());
    }
    assert_eq!(results, [2, 1, 3]);
    assert_eq!(session.plans_reused(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_scan_read_in_parallel_pieces_sees_every_row_once() {
    let mut session = session();
    session
        .execute("CREATE TABLE big (k int PRIMARY KEY, v int)")
        .await
        .unwrap();
    session
        .execute("INSERT INTO big SELECT g, g % 7 FROM generate_series(1, 60000) g")
        .await
        .unwrap();
    let totals = "SELECT count(*), sum(v), count(DISTINCT k), min(k), max(k) FROM big";
    assert_eq!(
        rows(&mut session, totals).await,
        [row(&[
            Some("60000"),
            Some("179997"),
            Some("60000"),
            Some("1"),
            Some("60000")
        ])]
    );
    let plan = rows(&mut session, "EXPLAIN SELECT count(*) FROM big").await;
    let cut = plan
        .iter()
        .flatten()
        .flatten()
        .any(|line| line.contains("partitions="));
    assert_eq!(
        cut,
        crate::provider::scan::scan_partitions() > 1,
        "{plan:?}"
    );

    // The transaction's own writes are merged into every piece.
    session.execute("BEGIN").await.unwrap();
    session
        .execute("DELETE FROM big WHERE k % 2 = 0")
        .await
        .unwrap();
    session
        .execute("INSERT INTO big VALUES (60001, 1)")
        .await
        .unwrap();
    assert_eq!(
        rows(&mut session, "SELECT count(*), max(k) FROM big").await,
        [row(&[Some("30001"), Some("60001")])]
    );
    session.execute("ROLLBACK").await.unwrap();

    // A scan that may stop early is not cut: it keeps the key order.
    assert_eq!(
        rows(&mut session, "SELECT k FROM big LIMIT 3").await,
        [row(&[Some("1")]), row(&[Some("2")]), row(&[Some("3")])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_its_memory_limit_refuses_writes_with_53200_and_still_reads_and_deletes() {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut admin = Session::new(Arc::clone(&cluster), "bytedata", "bytedata").unwrap();
    admin
        .execute("CREATE DATABASE small WITH (memory_limit = '2MB')")
        .await
        .unwrap();
    let mut small = Session::new(cluster, "small", "bytedata").unwrap();
    small
        .execute("CREATE TABLE t (id int PRIMARY KEY, pad text)")
        .await
        .unwrap();
    let mut inserted = 0;
    let refused = loop {
        let sql = format!(
            "INSERT INTO t SELECT g, repeat('x', 1000) FROM generate_series({}, {}) g",
            inserted + 1,
            inserted + 100
        );
        match small.execute(&sql).await {
            Ok(_) => inserted += 100,
            Err(error) => break error,
        }
        assert!(inserted < 100_000, "the limit never refused a write");
    };
    assert_eq!(refused.code, "53200", "{refused:?}");
    assert!(refused.message.starts_with("out of memory"), "{refused:?}");
    assert!(inserted > 0);
    let count = inserted.to_string();
    assert_eq!(
        rows(&mut small, "SELECT count(*) FROM t").await,
        vec![row(&[Some(&count)])],
        "the refused statement wrote nothing, the others everything"
    );
    small
        .execute("DELETE FROM t WHERE id <= 100")
        .await
        .unwrap();
    // The limit is the database's own: others write on.
    admin
        .execute("CREATE TABLE big AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 50000) g")
        .await
        .unwrap();
    assert_eq!(
        error_code(
            &mut admin,
            "CREATE DATABASE tiny WITH (memory_limit = '64kB')"
        )
        .await,
        "22023"
    );
}
