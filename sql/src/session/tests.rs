//! Session behaviour that SQL scripts cannot reach: panics inside a statement and cancel
//! requests from another thread.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};

use super::Session;
use crate::cluster::{Cluster, ClusterOptions};
use crate::result::QueryResult;

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
    datafusion::execution::FunctionRegistry::register_udf(&mut session.base, Arc::new(explode))
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
    let text = crate::result::text_rows(&batches, &session.text_options());
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
    let text = crate::result::text_rows(&batches, &waiter.text_options());
    assert_eq!(text, vec![vec![Some("1".to_owned())]]);
}
