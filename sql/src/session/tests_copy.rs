//! Bulk loading: COPY lines that fill every column go to the loader thread batch by
//! batch while later lines are parsed, and ADD PRIMARY KEY builds its key order with a
//! sorted load. Both must report what row-by-row loading would — the first error in row
//! order, with its line — and leave nothing behind when they fail.

use super::Session;
use crate::context::cluster::{Cluster, ClusterOptions};
use crate::context::result::QueryResult;
use crate::error::SqlError;

/// More lines than one loader batch holds, so errors can come from either side.
const LINES: usize = 20_000;

fn session() -> Session {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    Session::new(cluster, "bytedata", "bytedata").unwrap()
}

async fn run(session: &mut Session, sql: &str) {
    session.execute(sql).await.unwrap();
}

async fn count(session: &mut Session, sql: &str) -> i64 {
    let results = session.execute(sql).await.unwrap();
    let QueryResult::Rows { rows, .. } = results.into_iter().last().unwrap() else {
        panic!("{sql} returned no rows")
    };
    let batches = rows.collect().await.unwrap();
    let rows = crate::context::result::text_rows(&batches, &session.text_options());
    rows[0][0].clone().unwrap().parse().unwrap()
}

/// Runs `COPY … FROM STDIN` with `data` sent in pieces of `chunk` bytes (cutting lines
/// anywhere), as a client's CopyData messages would.
async fn copy(
    session: &mut Session,
    sql: &str,
    data: &str,
    chunk: usize,
) -> Result<String, SqlError> {
    let mut results = session.execute(sql).await?;
    let Some(QueryResult::CopyIn(mut copy)) = results.pop() else {
        panic!("{sql} did not start a COPY")
    };
    for piece in data.as_bytes().chunks(chunk) {
        if let Err(error) = copy.feed(piece).await {
            return Err(session.fail_copy(copy, error));
        }
    }
    match session.finish_copy(copy).await? {
        QueryResult::Command { tag } => Ok(tag),
        other => panic!("COPY gave {other:?}"),
    }
}

/// `LINES` lines `id<TAB>id * 2`, with some lines replaced.
fn lines(replaced: &[(usize, &str)]) -> String {
    let mut data = String::new();
    for id in 1..=LINES {
        match replaced.iter().find(|(line, _)| *line == id) {
            Some((_, text)) => data.push_str(text),
            None => data.push_str(&format!("{id}\t{}", id * 2)),
        }
        data.push('\n');
    }
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_copy_loads_every_batch_and_a_row_id_table_gets_distinct_ids() {
    let mut session = session();
    run(
        &mut session,
        "CREATE TABLE keyed (id int PRIMARY KEY, v int); CREATE TABLE loose (id int, v int)",
    )
    .await;
    for table in ["keyed", "loose"] {
        let tag = copy(
            &mut session,
            &format!("COPY {table} FROM STDIN"),
            &lines(&[]),
            1000,
        )
        .await
        .unwrap();
        assert_eq!(tag, format!("COPY {LINES}"));
        let sum = count(
            &mut session,
            &format!("SELECT sum(v) - 2 * sum(id) FROM {table}"),
        )
        .await;
        assert_eq!(sum, 0, "{table}: every value landed beside its id");
        let rows = count(&mut session, &format!("SELECT count(*) FROM {table}")).await;
        assert_eq!(rows, LINES as i64);
    }
    // The row ids of the loose table are distinct keys: a second load adds, not replaces.
    copy(&mut session, "COPY loose FROM STDIN", &lines(&[]), 65536)
        .await
        .unwrap();
    assert_eq!(
        count(&mut session, "SELECT count(*) FROM loose").await,
        2 * LINES as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_error_in_row_order_wins_whichever_side_finds_it() {
    let mut session = session();
    run(
        &mut session,
        "CREATE TABLE t (id int PRIMARY KEY, v int CHECK (v >= 0))",
    )
    .await;
    // A duplicate key in the first batch (found by the loader) and a bad number just
    // after it (found by the parser, maybe before the loader reaches the duplicate):
    // the duplicate comes first in row order, so it is the error.
    let data = lines(&[(8190, "1\t0"), (8200, "x\t1")]);
    let error = copy(&mut session, "COPY t FROM STDIN", &data, 4096)
        .await
        .unwrap_err();
    assert_eq!(error.code, "23505", "{error:?}");
    // The other way round: the bad number, with its line.
    let data = lines(&[(9000, "9000\tnope"), (15000, "1\t0")]);
    let error = copy(&mut session, "COPY t FROM STDIN", &data, 4096)
        .await
        .unwrap_err();
    assert_eq!(error.code, "22P02", "{error:?}");
    assert!(
        error.detail.as_deref().unwrap_or("").contains("line 9000"),
        "{error:?}"
    );
    // A CHECK fails in the loader past the first batch.
    let data = lines(&[(12000, "12000\t-1")]);
    let error = copy(&mut session, "COPY t FROM STDIN", &data, 777)
        .await
        .unwrap_err();
    assert_eq!(error.code, "23514", "{error:?}");
    // NOT NULL of the key.
    let data = lines(&[(10, "\\N\t1")]);
    let error = copy(&mut session, "COPY t FROM STDIN", &data, 777)
        .await
        .unwrap_err();
    assert_eq!(error.code, "23502", "{error:?}");
    assert_eq!(
        count(&mut session, "SELECT count(*) FROM t").await,
        0,
        "nothing of a failed COPY stays"
    );
    // After all that, a good load works.
    copy(&mut session, "COPY t FROM STDIN", &lines(&[]), 4096)
        .await
        .unwrap();
    assert_eq!(
        count(&mut session, "SELECT count(*) FROM t").await,
        LINES as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_indexes_and_foreign_keys_are_checked_on_the_loader_path() {
    let mut session = session();
    run(
        &mut session,
        "CREATE TABLE parent (id int PRIMARY KEY); INSERT INTO parent SELECT g FROM generate_series(1, 100) g; \
         CREATE TABLE child (id int PRIMARY KEY, p int REFERENCES parent (id)); \
         CREATE TABLE u (id int PRIMARY KEY, v int UNIQUE)",
    )
    .await;
    let data: String = (1..=100).map(|i| format!("{i}\t{i}\n")).collect();
    copy(&mut session, "COPY child FROM STDIN", &data, 100)
        .await
        .unwrap();
    let error = copy(&mut session, "COPY child FROM STDIN", "101\t101\n", 100)
        .await
        .unwrap_err();
    assert_eq!(error.code, "23503", "{error:?}");
    let error = copy(&mut session, "COPY u FROM STDIN", "1\t7\n2\t8\n3\t7\n", 5)
        .await
        .unwrap_err();
    assert_eq!(error.code, "23505", "{error:?}");
    assert!(error.message.contains("u_v_key"), "{error:?}");
    assert_eq!(count(&mut session, "SELECT count(*) FROM u").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_primary_key_reports_the_first_duplicate_in_row_order() {
    let mut session = session();
    // Row order 5, 2, 9, 2, 5: loading row by row refuses the fourth row (2) first.
    run(&mut session, "CREATE TABLE d (id int, v text); INSERT INTO d VALUES (5, 'a'), (2, 'b'), (9, 'c'), (2, 'd'), (5, 'e')").await;
    let error = session
        .execute("ALTER TABLE d ADD PRIMARY KEY (id)")
        .await
        .unwrap_err();
    assert_eq!(error.code, "23505", "{error:?}");
    assert!(
        error.detail.as_deref().unwrap_or("").contains("(id)=(2)"),
        "{error:?}"
    );
    // A large table, an index beside the new key: every row and entry is there after.
    run(
        &mut session,
        &format!(
            "CREATE TABLE big (id int, v int); CREATE INDEX big_v ON big (v); \
         INSERT INTO big SELECT {LINES} + 1 - g, g % 7 FROM generate_series(1, {LINES}) g; \
         ALTER TABLE big ADD PRIMARY KEY (id)"
        ),
    )
    .await;
    assert_eq!(
        count(&mut session, "SELECT count(*) FROM big WHERE v = 3").await,
        (1..=LINES).filter(|g| g % 7 == 3).count() as i64
    );
    assert_eq!(
        count(
            &mut session,
            "SELECT count(*) FROM big WHERE id BETWEEN 100 AND 199"
        )
        .await,
        100
    );
    let error = session
        .execute("INSERT INTO big VALUES (5, 0)")
        .await
        .unwrap_err();
    assert_eq!(error.code, "23505", "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_a_file_reads_it_on_the_server_for_superusers_only() {
    let mut session = session();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.tsv");
    std::fs::write(&path, lines(&[])).unwrap();
    let path = path.display().to_string();
    run(&mut session, "CREATE TABLE t (id int PRIMARY KEY, v int)").await;
    let results = session
        .execute(&format!("COPY t FROM '{path}'"))
        .await
        .unwrap();
    let Some(QueryResult::Command { tag }) = results.last() else {
        panic!("{results:?}")
    };
    assert_eq!(tag, &format!("COPY {LINES}"));
    assert_eq!(count(&mut session, "SELECT sum(v) FROM t").await, {
        let n = LINES as i64;
        n * (n + 1)
    });

    // A bad line loads nothing; a missing file and a relative path are PostgreSQL's errors.
    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, lines(&[(LINES - 1, "x\t1")])).unwrap();
    run(&mut session, "CREATE TABLE u (id int, v int)").await;
    let error = session
        .execute(&format!("COPY u FROM '{}'", bad.display()))
        .await
        .unwrap_err();
    assert_eq!(error.code, "22P02", "{error:?}");
    assert_eq!(count(&mut session, "SELECT count(*) FROM u").await, 0);
    let missing = dir.path().join("missing.tsv").display().to_string();
    let error = session
        .execute(&format!("COPY u FROM '{missing}'"))
        .await
        .unwrap_err();
    assert_eq!(error.code, "58P01", "{error:?}");
    assert_eq!(
        error.message,
        format!("could not open file \"{missing}\" for reading: No such file or directory")
    );
    let error = session.execute("COPY u FROM 'rows.tsv'").await.unwrap_err();
    assert_eq!(error.code, "42602", "{error:?}");

    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut admin = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    run(
        &mut admin,
        "CREATE ROLE plain LOGIN; CREATE TABLE t (id int, v int)",
    )
    .await;
    let mut plain = Session::new(cluster, "bytedata", "plain").unwrap();
    let error = plain
        .execute(&format!("COPY t FROM '{path}'"))
        .await
        .unwrap_err();
    assert_eq!(error.code, "42501", "{error:?}");
}
