//! DROP TABLE, TRUNCATE and ADD PRIMARY KEY retire a table's storage whole; the
//! catalog's reclaimer deletes its keys in the background once no snapshot that could
//! read them remains. These tests look at the store underneath the SQL: the keys are
//! there while an old snapshot may read them, and gone once it has ended.

use std::sync::Arc;

use super::Session;
use crate::context::cluster::{Cluster, ClusterOptions};
use crate::context::result::QueryResult;

async fn single(session: &mut Session, sql: &str) -> String {
    let results = session.execute(sql).await.unwrap();
    let QueryResult::Rows { rows, .. } = results.into_iter().last().unwrap() else {
        panic!("{sql} returned no rows")
    };
    let batches = rows.collect().await.unwrap();
    let rows = crate::context::result::text_rows(&batches, &session.text_options());
    rows[0][0].clone().unwrap()
}

/// Keys in the store under a storage id, at the latest state.
fn keys_under(session: &Session, storage_id: u32) -> usize {
    let (start, end) = bytedata_catalog::keys::storage_range(storage_id);
    let view = session.database.engine().store().read_view();
    view.scan(start..end.unwrap()).count()
}

/// The storage id of a table, by name, in the public schema.
fn storage_of(session: &Session, table: &str) -> u32 {
    let catalog = &session.database.catalog;
    let txn = session.database.engine().begin(Default::default());
    let schema = catalog.schema(&txn, "public").unwrap().unwrap();
    let found = catalog.relation(&txn, schema.id, table).unwrap().unwrap();
    let bytedata_catalog::Relation::Table(descriptor) = found else {
        panic!("{table} is not a table")
    };
    txn.rollback().unwrap();
    descriptor.storage_id()
}

fn two_sessions() -> (Session, Session) {
    let cluster: Arc<Cluster> = Cluster::open(ClusterOptions::memory()).unwrap();
    let first = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    let second = Session::new(cluster, "bytedata", "bytedata").unwrap();
    (first, second)
}

const ROWS: usize = 10_000;

async fn filled(session: &mut Session) -> u32 {
    session
        .execute(&format!(
            "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE INDEX t_v ON t (v); \
             INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, {ROWS}) g"
        ))
        .await
        .unwrap();
    let storage = storage_of(session, "t");
    // Rows and their index entries.
    assert_eq!(keys_under(session, storage), 2 * ROWS);
    storage
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_table_is_reclaimed_once_no_snapshot_can_read_it() {
    let (mut session, mut reader) = two_sessions();
    let storage = filled(&mut session).await;
    reader
        .execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    assert_eq!(
        single(&mut reader, "SELECT count(*) FROM t").await,
        ROWS.to_string()
    );

    session.execute("DROP TABLE t").await.unwrap();
    // The reader's snapshot predates the drop: it still reads every row, and the
    // reclaimer waits for it.
    assert_eq!(
        single(&mut reader, "SELECT count(*) FROM t").await,
        ROWS.to_string()
    );
    assert_eq!(keys_under(&session, storage), 2 * ROWS);
    reader.execute("COMMIT").await.unwrap();

    session.database.catalog.wait_reclaimed().unwrap();
    assert_eq!(keys_under(&session, storage), 0);
    let marker = bytedata_catalog::keys::retired_key(storage);
    assert!(
        session
            .database
            .engine()
            .store()
            .get(&marker)
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_moves_the_table_to_fresh_storage_and_rollback_keeps_the_old() {
    let (mut session, _) = two_sessions();
    let old = filled(&mut session).await;

    session.execute("BEGIN").await.unwrap();
    session.execute("TRUNCATE t").await.unwrap();
    assert_eq!(single(&mut session, "SELECT count(*) FROM t").await, "0");
    session.execute("ROLLBACK").await.unwrap();
    assert_eq!(storage_of(&session, "t"), old);
    assert_eq!(
        single(&mut session, "SELECT count(*) FROM t").await,
        ROWS.to_string()
    );

    session.execute("TRUNCATE t").await.unwrap();
    let new = storage_of(&session, "t");
    assert_ne!(new, old);
    assert_eq!(single(&mut session, "SELECT count(*) FROM t").await, "0");
    session
        .execute("INSERT INTO t VALUES (1, 'again'), (2, 'v2')")
        .await
        .unwrap();
    assert_eq!(
        single(&mut session, "SELECT id FROM t WHERE v = 'again'").await,
        "1"
    );
    session.database.catalog.wait_reclaimed().unwrap();
    assert_eq!(keys_under(&session, old), 0);
    assert_eq!(keys_under(&session, new), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_primary_key_writes_fresh_storage_and_retires_the_old() {
    let (mut session, _) = two_sessions();
    session
        .execute(
            "CREATE TABLE h (a int NOT NULL, b text); \
             INSERT INTO h SELECT g, 'b' || g FROM generate_series(1, 1000) g",
        )
        .await
        .unwrap();
    let old = storage_of(&session, "h");
    session
        .execute("ALTER TABLE h ADD PRIMARY KEY (a)")
        .await
        .unwrap();
    let new = storage_of(&session, "h");
    assert_ne!(new, old);
    assert_eq!(
        single(&mut session, "SELECT b FROM h WHERE a = 500").await,
        "b500"
    );
    assert_eq!(single(&mut session, "SELECT count(*) FROM h").await, "1000");
    session.database.catalog.wait_reclaimed().unwrap();
    assert_eq!(keys_under(&session, old), 0);
    assert_eq!(keys_under(&session, new), 1000);
}
