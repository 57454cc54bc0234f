//! Temporary tables across sessions: private to their session, gone with it.

use super::Session;
use crate::context::cluster::{Cluster, ClusterOptions};
use crate::context::result::QueryResult;

async fn text(session: &mut Session, sql: &str) -> Vec<Vec<Option<String>>> {
    let results = session.execute(sql).await.unwrap();
    let Some(QueryResult::Rows { rows, .. }) = results.into_iter().last() else {
        panic!("{sql} returned no rows")
    };
    let batches = rows.collect().await.unwrap();
    crate::context::result::text_rows(&batches, &session.text_options())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_tables_are_private_and_end_with_their_session() {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut owner = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    let mut other = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    owner
        .execute("CREATE TEMP TABLE mine (k int PRIMARY KEY); INSERT INTO mine VALUES (1)")
        .await
        .unwrap();
    let schema = text(
        &mut owner,
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname = 'mine'",
    )
    .await;
    let schema = schema[0][0].clone().unwrap();
    assert!(schema.starts_with("pg_temp_"), "{schema}");
    assert_eq!(
        text(&mut owner, "SELECT k FROM mine").await,
        [[Some("1".into())]]
    );

    // Another session neither finds it by name nor reaches it through its schema.
    let error = other.execute("SELECT * FROM mine").await.unwrap_err();
    assert_eq!(error.code, "42P01", "{error:?}");
    let error = other
        .execute(&format!("SELECT * FROM {schema}.mine"))
        .await
        .unwrap_err();
    assert_eq!(error.code, "0A000", "{error:?}");
    // Its own temporary table of the same name is another table.
    other
        .execute("CREATE TEMP TABLE mine (k int); INSERT INTO mine VALUES (2), (3)")
        .await
        .unwrap();
    assert_eq!(
        text(&mut owner, "SELECT count(*) FROM mine").await,
        [[Some("1".into())]]
    );
    assert_eq!(
        text(&mut other, "SELECT count(*) FROM mine").await,
        [[Some("2".into())]]
    );

    // The schema and its tables go when the session ends.
    drop(owner);
    let schemas = text(
        &mut other,
        &format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"),
    )
    .await;
    assert_eq!(schemas, [[Some("0".into())]]);
    let tables = text(
        &mut other,
        "SELECT count(*) FROM pg_class WHERE relname = 'mine'",
    )
    .await;
    assert_eq!(
        tables,
        [[Some("1".into())]],
        "only the other session's remains"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_created_after_a_temporary_one_are_not_temporary() {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut session = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    session
        .execute(
            "CREATE TEMP TABLE scratch (k int); CREATE TABLE kept (k int); \
             CREATE TABLE kept_as AS SELECT 1 AS k; SELECT 2 AS k INTO kept_into",
        )
        .await
        .unwrap();
    let schemas = text(
        &mut session,
        "SELECT c.relname, n.nspname FROM pg_class c JOIN pg_namespace n \
         ON n.oid = c.relnamespace WHERE c.relname LIKE 'kept%' ORDER BY 1",
    )
    .await;
    let public = |name: &str| vec![Some(name.to_owned()), Some("public".to_owned())];
    assert_eq!(
        schemas,
        [public("kept"), public("kept_as"), public("kept_into")]
    );
    // And a second session sees them.
    let mut other = Session::new(cluster, "bytedata", "bytedata").unwrap();
    assert_eq!(
        text(&mut other, "SELECT k FROM kept_into").await,
        [[Some("2".into())]]
    );
}
