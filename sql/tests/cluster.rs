//! A cluster on disk: data survives a reopen, and each database keeps the storage its
//! `CREATE DATABASE … WITH (storage = …)` asked for — encryption included.
#![allow(clippy::unwrap_used)]

use bytedata_sql::MasterKey;
use bytedata_sql::{Cluster, ClusterOptions, QueryResult, Session};

async fn run(session: &mut Session, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let results = session.execute(sql).await.map_err(|e| e.code.to_owned())?;
    let mut rows = Vec::new();
    for result in results {
        if let QueryResult::Rows { rows: stream, .. } = result {
            let batches = stream.collect().await.map_err(|e| e.code.to_owned())?;
            rows.extend(bytedata_sql::text_rows(&batches, &session.text_options()));
        }
    }
    Ok(rows)
}

fn text(rows: &[&str]) -> Vec<Vec<Option<String>>> {
    rows.iter().map(|r| vec![Some((*r).to_owned())]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_keep_their_storage_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let cluster = Cluster::open(ClusterOptions::disk(dir.path())).unwrap();
        let mut main = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
        run(&mut main, "CREATE TABLE kept (id int PRIMARY KEY)")
            .await
            .unwrap();
        run(&mut main, "INSERT INTO kept VALUES (1), (2)")
            .await
            .unwrap();
        run(
            &mut main,
            "CREATE DATABASE scratch WITH (storage = 'memory')",
        )
        .await
        .unwrap();
        run(&mut main, "CREATE DATABASE large WITH (storage = 'hybrid')")
            .await
            .unwrap();
        let mut large = Session::new(cluster.clone(), "large", "bytedata").unwrap();
        run(
            &mut large,
            "CREATE TABLE docs (id int PRIMARY KEY, body text)",
        )
        .await
        .unwrap();
        run(
            &mut large,
            "INSERT INTO docs SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 300) g",
        )
        .await
        .unwrap();
        run(
            &mut large,
            "UPDATE docs SET body = upper(body) WHERE id <= 100",
        )
        .await
        .unwrap();
        let mut scratch = Session::new(cluster.clone(), "scratch", "bytedata").unwrap();
        run(&mut scratch, "CREATE TABLE gone (id int PRIMARY KEY)")
            .await
            .unwrap();
        run(&mut scratch, "INSERT INTO gone VALUES (1)")
            .await
            .unwrap();
        assert_eq!(
            run(&mut scratch, "SELECT count(*) FROM gone")
                .await
                .unwrap(),
            text(&["1"])
        );
    }
    let cluster = Cluster::open(ClusterOptions::disk(dir.path())).unwrap();
    let mut main = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    assert_eq!(
        run(&mut main, "SELECT id FROM kept ORDER BY id")
            .await
            .unwrap(),
        text(&["1", "2"])
    );
    // The memory database is still known to the cluster, but its contents lived in memory.
    let mut scratch = Session::new(cluster, "scratch", "bytedata").unwrap();
    assert_eq!(
        run(&mut scratch, "SELECT * FROM gone").await,
        Err("42P01".to_owned())
    );
    // The hybrid database's rows come back, their large values from its value log.
    let mut large = Session::new(main.cluster().clone(), "large", "bytedata").unwrap();
    assert_eq!(
        run(
            &mut large,
            "SELECT count(*), sum(length(body)), \
             count(*) FILTER (WHERE body = upper(repeat(md5(id::text), 20))) FROM docs"
        )
        .await
        .unwrap(),
        vec![vec![
            Some("300".to_owned()),
            Some("192000".to_owned()),
            Some("100".to_owned())
        ]]
    );
    assert_eq!(
        run(
            &mut large,
            "SELECT body = repeat(md5('250'), 20) FROM docs WHERE id = 250"
        )
        .await
        .unwrap(),
        text(&["t"])
    );
    let value_log_bytes: u64 = files_under(dir.path())
        .iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "vlog"))
        .map(|path| std::fs::metadata(path).unwrap().len())
        .sum();
    assert!(
        value_log_bytes >= 300 * 640,
        "the large values went to a value log ({value_log_bytes} bytes of .vlog files)"
    );
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn new_key() -> MasterKey {
    MasterKey::from_hex(&MasterKey::generate_hex().unwrap()).unwrap()
}

fn with_key(dir: &std::path::Path, key: Option<&MasterKey>) -> ClusterOptions {
    ClusterOptions {
        master_key: key.cloned(),
        ..ClusterOptions::disk(dir)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_database_writes_no_plaintext_and_opens_with_its_current_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (new_key(), new_key());
    {
        let cluster = Cluster::open(with_key(dir.path(), Some(&old))).unwrap();
        let mut main = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
        run(&mut main, "CREATE DATABASE vault WITH (encrypted = true)")
            .await
            .unwrap();
        assert_eq!(
            run(
                &mut main,
                "CREATE DATABASE nowhere WITH (storage = 'memory', encrypted = true)"
            )
            .await,
            Err("22023".to_owned())
        );
        let mut vault = Session::new(cluster.clone(), "vault", "bytedata").unwrap();
        run(
            &mut vault,
            "CREATE TABLE secrets (id int PRIMARY KEY, note text)",
        )
        .await
        .unwrap();
        run(
            &mut vault,
            "INSERT INTO secrets VALUES (1, 'MARKER-topsecret')",
        )
        .await
        .unwrap();
        cluster.close().unwrap();
    }
    for path in files_under(dir.path()) {
        let data = std::fs::read(&path).unwrap();
        assert!(
            !data.windows(6).any(|window| window == b"MARKER"),
            "{} holds the secret in plaintext",
            path.display()
        );
    }

    // Without the key the database does not open; the rest of the cluster does.
    let cluster = Cluster::open(with_key(dir.path(), None)).unwrap();
    let refused = Session::new(cluster.clone(), "vault", "bytedata")
        .err()
        .unwrap();
    assert!(refused.message.contains("master key"), "{refused:?}");
    let mut main = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
    assert_eq!(
        run(&mut main, "CREATE DATABASE more WITH (encrypted = true)").await,
        Err("55000".to_owned())
    );
    cluster.close().unwrap();
    drop((main, cluster));

    let rotated = bytedata_sql::rotate_master_key(dir.path(), &old, &new).unwrap();
    assert_eq!(rotated.len(), 1, "{rotated:?}");
    let again = bytedata_sql::rotate_master_key(dir.path(), &old, &new).unwrap();
    assert!(again.is_empty(), "a repeated rotation finds nothing to do");

    let cluster = Cluster::open(with_key(dir.path(), Some(&old))).unwrap();
    assert!(Session::new(cluster.clone(), "vault", "bytedata").is_err());
    cluster.close().unwrap();
    drop(cluster);
    let cluster = Cluster::open(with_key(dir.path(), Some(&new))).unwrap();
    let mut vault = Session::new(cluster, "vault", "bytedata").unwrap();
    assert_eq!(
        run(&mut vault, "SELECT note FROM secrets").await.unwrap(),
        text(&["MARKER-topsecret"])
    );
}

fn snapshots_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut snapshots: Vec<_> = files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .collect();
    snapshots.sort();
    snapshots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_writes_snapshots_that_a_reopen_starts_from() {
    let dir = tempfile::tempdir().unwrap();
    {
        let cluster = Cluster::open(ClusterOptions::disk(dir.path())).unwrap();
        let mut main = Session::new(cluster.clone(), "bytedata", "bytedata").unwrap();
        run(&mut main, "CREATE TABLE kept (id int PRIMARY KEY)")
            .await
            .unwrap();
        run(&mut main, "INSERT INTO kept VALUES (1), (2)")
            .await
            .unwrap();
        let before = snapshots_under(dir.path());
        run(&mut main, "CHECKPOINT").await.unwrap();
        let after = snapshots_under(dir.path());
        assert_ne!(before, after, "CHECKPOINT wrote no snapshot");
        run(&mut main, "CREATE ROLE plain LOGIN").await.unwrap();
        let mut plain = Session::new(cluster.clone(), "bytedata", "plain").unwrap();
        assert_eq!(run(&mut plain, "CHECKPOINT").await, Err("42501".to_owned()));
        cluster.close().unwrap();
    }
    let cluster = Cluster::open(ClusterOptions::disk(dir.path())).unwrap();
    let mut main = Session::new(cluster, "bytedata", "bytedata").unwrap();
    assert_eq!(
        run(&mut main, "SELECT id FROM kept ORDER BY id")
            .await
            .unwrap(),
        text(&["1", "2"])
    );
}
