//! A cluster on disk: data survives a reopen, and each database keeps the storage its
//! `CREATE DATABASE … WITH (storage = …)` asked for.

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
        // Hybrid storage arrives with its own issue: refused, not silently disk.
        assert_eq!(
            run(&mut main, "CREATE DATABASE later WITH (storage = 'hybrid')").await,
            Err("0A000".to_owned())
        );
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
    assert!(Session::new(main.cluster().clone(), "later", "bytedata").is_err());
}
