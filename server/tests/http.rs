//! The HTTP listener end to end, through curl: SQL with JSON parameters and results, rows
//! by composite key, paging, transactions, bad input (each leaving the data as it was),
//! authentication, and HTTP writes seen by pgwire and surviving kill -9.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::Server;
use serde_json::{Value, json};

struct Reply {
    status: u16,
    body: Value,
}

/// One request through curl; `body` is sent as it is (not necessarily JSON).
fn request(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<&str>,
) -> Reply {
    let http = server.http.expect("the HTTP listener is on");
    let mut curl = Command::new("curl");
    curl.args(["-s", "-X", method, "-w", "\n%{http_code}"]);
    if let Some(body) = body {
        curl.args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            body,
        ]);
    }
    match auth {
        Some(bearer) if bearer.starts_with("Bearer ") => {
            curl.args(["-H", &format!("authorization: {bearer}")]);
        }
        Some(basic) => {
            curl.args(["-u", basic]);
        }
        None => {}
    }
    curl.arg(format!("http://{http}{path}"));
    let output = curl.output().expect("curl runs");
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').expect("a status line");
    Reply {
        status: status.parse().expect("a status"),
        body: if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()))
        },
    }
}

fn sql(server: &Server, body: Value) -> Reply {
    request(server, "POST", "/v1/sql", Some(&body.to_string()), None)
}

fn rows_path(table: &str, key: &str) -> String {
    format!("/v1/databases/bytedata/tables/{table}/rows/{key}")
}

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.body["code"], code, "{:?}", reply.body);
    assert!(reply.body["message"].is_string(), "{:?}", reply.body);
}

#[test]
fn health_ready_and_sql_with_typed_json() {
    let server = Server::start(&[]);
    let health = request(&server, "GET", "/health", None, None);
    assert_eq!(health.status, 200);
    assert_eq!(health.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(request(&server, "GET", "/ready", None, None).status, 200);

    let created = sql(
        &server,
        json!({"query": "CREATE TABLE t (id int PRIMARY KEY, name text, price numeric(10,2), ok boolean, raw bytea, at date)"}),
    );
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["command"], "CREATE TABLE");
    let inserted = sql(
        &server,
        json!({"query": "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6)", "params": [1, "one", "12.50", true, "\\x0102", "2026-12-07"]}),
    );
    assert_eq!(
        inserted.body,
        json!({"command": "INSERT", "rows_affected": 1})
    );
    let selected = sql(
        &server,
        json!({"query": "SELECT * FROM t WHERE id = $1", "params": [1]}),
    );
    assert_eq!(selected.status, 200, "{:?}", selected.body);
    assert_eq!(
        selected.body["rows"],
        json!([[1, "one", "12.50", true, "\\x0102", "2026-12-07"]])
    );
    assert_eq!(
        selected.body["columns"][2],
        json!({"name": "price", "type": "numeric(10,2)"})
    );
    assert_eq!(selected.body["rows_affected"], 1);

    // Several statements, one transaction: a failure leaves nothing of the others.
    let failed = sql(
        &server,
        json!({"statements": [
            {"query": "INSERT INTO t (id, name) VALUES (2, 'two')"},
            {"query": "INSERT INTO t (id, name) VALUES ($1, 'again')", "params": [1]},
        ]}),
    );
    assert_error(&failed, 409, "23505");
    assert!(
        failed.body["detail"]
            .as_str()
            .unwrap()
            .contains("statement 1"),
        "{:?}",
        failed.body
    );
    let count = sql(&server, json!({"query": "SELECT count(*) FROM t"}));
    assert_eq!(count.body["rows"], json!([[1]]));
    let both = sql(
        &server,
        json!({"statements": [
            {"query": "INSERT INTO t (id, name) VALUES (2, 'two')"},
            {"query": "SELECT name FROM t ORDER BY id"},
        ]}),
    );
    assert_eq!(both.body["results"][1]["rows"], json!([["one"], ["two"]]));

    // Bad input: each a clear error, the data as it was.
    let bad_json = request(&server, "POST", "/v1/sql", Some("{\"query\": "), None);
    assert_error(&bad_json, 400, "22P02");
    assert_error(&sql(&server, json!({"query": "SELEC 1"})), 400, "42601");
    assert_error(
        &sql(&server, json!({"query": "SELECT * FROM nowhere"})),
        404,
        "42P01",
    );
    assert_error(
        &sql(
            &server,
            json!({"query": "SELECT * FROM t WHERE id = $1", "params": ["x"]}),
        ),
        400,
        "22P02",
    );
    assert_error(
        &sql(
            &server,
            json!({"query": "INSERT INTO t (id) VALUES (NULL)"}),
        ),
        400,
        "23502",
    );
    assert_error(&sql(&server, json!({"nothing": 1})), 400, "22P02");
    let count = sql(&server, json!({"query": "SELECT count(*) FROM t"}));
    assert_eq!(count.body["rows"], json!([[2]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_by_composite_key_seen_by_pgwire_and_back() {
    let server = Server::start(&[]);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE events (tenant text, day date, seq int, body text NOT NULL, n int, \
             PRIMARY KEY (tenant, day, seq))",
        )
        .await
        .unwrap();
    // Segments are percent-decoded and read by each key column's input function.
    let path = rows_path("events", "acme%2Fwest/2026-12-07/1");
    let put = request(
        &server,
        "PUT",
        &path,
        Some(r#"{"body": "first", "n": 5}"#),
        None,
    );
    assert_eq!(put.status, 201, "{:?}", put.body);
    assert_eq!(
        put.body,
        json!({"tenant": "acme/west", "day": "2026-12-07", "seq": 1, "body": "first", "n": 5})
    );
    let row = client
        .query_one(
            "SELECT body, n FROM events WHERE tenant = 'acme/west' AND seq = 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "first");
    // Upsert: the given columns change, the others stay.
    let put = request(&server, "PUT", &path, Some(r#"{"body": "second"}"#), None);
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["n"], 5);
    client
        .execute("UPDATE events SET n = 6 WHERE seq = 1", &[])
        .await
        .unwrap();
    assert_eq!(request(&server, "GET", &path, None, None).body["n"], 6);

    // Paging through a prefix in key order, forwards and back.
    for seq in 2..=7 {
        let path = rows_path("events", &format!("acme%2Fwest/2026-12-07/{seq}"));
        let reply = request(
            &server,
            "PUT",
            &path,
            Some(&format!(r#"{{"body": "b{seq}"}}"#)),
            None,
        );
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    request(
        &server,
        "PUT",
        &rows_path("events", "other/2026-12-07/1"),
        Some(r#"{"body": "x"}"#),
        None,
    );
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path =
            "/v1/databases/bytedata/tables/events/rows?prefix=acme%2Fwest&limit=3".to_owned();
        if let Some(cursor) = &after {
            path.push_str(&format!("&after={cursor}"));
        }
        let page = request(&server, "GET", &path, None, None);
        assert_eq!(page.status, 200, "{:?}", page.body);
        for row in page.body["rows"].as_array().unwrap() {
            seen.push(row["seq"].as_i64().unwrap());
        }
        match page.body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (1..=7).collect::<Vec<i64>>());
    let reverse = request(
        &server,
        "GET",
        "/v1/databases/bytedata/tables/events/rows?prefix=acme%2Fwest/2026-12-07&from=3&to=6&reverse=true",
        None,
        None,
    );
    let seqs: Vec<i64> = reverse.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [5, 4, 3]);

    // Bad input leaves every row as it was.
    assert_error(
        &request(
            &server,
            "GET",
            &rows_path("events", "acme/notadate/1"),
            None,
            None,
        ),
        400,
        "22007",
    );
    assert_error(
        &request(
            &server,
            "GET",
            &rows_path("events", "acme%2Fwest/2026-12-07/x"),
            None,
            None,
        ),
        400,
        "22P02",
    );
    assert_error(
        &request(&server, "GET", &rows_path("nowhere", "1"), None, None),
        404,
        "42P01",
    );
    assert_error(
        &request(
            &server,
            "GET",
            &rows_path("events", "acme%2Fwest/2026-12-07/99"),
            None,
            None,
        ),
        404,
        "02000",
    );
    assert_error(
        &request(&server, "PUT", &path, Some(r#"{"body": null}"#), None),
        400,
        "23502",
    );
    assert_error(
        &request(&server, "PUT", &path, Some(r#"{"seq": 2}"#), None),
        400,
        "22023",
    );
    assert_error(
        &request(&server, "PUT", &path, Some(r#"{"nope": 1}"#), None),
        400,
        "42703",
    );
    assert_error(
        &request(&server, "PUT", &path, Some("[1, 2"), None),
        400,
        "22P02",
    );
    assert_eq!(
        request(&server, "GET", &path, None, None).body["body"],
        "second"
    );

    // A batch: all of it, or none of it.
    let batch_path = "/v1/databases/bytedata/tables/events/batch";
    let failing = json!({"operations": [
        {"put": ["b", "2026-12-08", 1], "row": {"body": "new"}},
        {"delete": ["acme/west", "2026-12-07", 2]},
        {"put": ["b", "2026-12-08", 2], "row": {"body": null}},
    ]});
    let reply = request(
        &server,
        "POST",
        batch_path,
        Some(&failing.to_string()),
        None,
    );
    assert_error(&reply, 400, "23502");
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("operation 2"),
        "{:?}",
        reply.body
    );
    let good = json!({"operations": [
        {"put": ["b", "2026-12-08", 1], "row": {"body": "new"}},
        {"delete": ["acme/west", "2026-12-07", 2]},
        {"delete": ["nobody", "2026-12-07", 2]},
    ]});
    let reply = request(&server, "POST", batch_path, Some(&good.to_string()), None);
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body["results"],
        json!([{"created": true}, {"deleted": true}, {"deleted": false}])
    );
    let count: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 8, "seven acme rows, one other, one b, one deleted");

    assert_eq!(request(&server, "DELETE", &path, None, None).status, 204);
    assert_error(&request(&server, "DELETE", &path, None, None), 404, "02000");
    let left: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 7);
    let _ = client;
}

#[test]
fn oversize_bodies_and_credentials() {
    let server = Server::start(&[
        "--http-max-body",
        "1KB",
        "--http-auth",
        "scram-sha-256",
        "--superuser-password",
        "s3cret",
    ]);
    let superuser = Some("bytedata:s3cret");
    let big = json!({"query": format!("SELECT '{}'", "x".repeat(4096))}).to_string();
    let reply = request(&server, "POST", "/v1/sql", Some(&big), superuser);
    assert_error(&reply, 413, "54000");
    let query = json!({"query": "SELECT 1 AS one"}).to_string();
    assert_error(
        &request(&server, "POST", "/v1/sql", Some(&query), None),
        401,
        "28P01",
    );
    assert_error(
        &request(
            &server,
            "POST",
            "/v1/sql",
            Some(&query),
            Some("bytedata:wrong"),
        ),
        401,
        "28P01",
    );
    assert_error(
        &request(
            &server,
            "POST",
            "/v1/sql",
            Some(&query),
            Some("nobody:s3cret"),
        ),
        401,
        "28P01",
    );
    let ok = request(&server, "POST", "/v1/sql", Some(&query), superuser);
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["rows"], json!([[1]]));
}

/// A listing as newline-delimited JSON: the status and the rows, one per line.
fn ndjson(server: &Server, path: &str) -> (u16, Vec<Value>) {
    let http = server.http.expect("the HTTP listener is on");
    let output = Command::new("curl")
        .args([
            "-s",
            "-H",
            "accept: application/x-ndjson",
            "-w",
            "\n%{http_code}",
        ])
        .arg(format!("http://{http}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').expect("a status line");
    let rows = body
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    (status.parse().unwrap(), rows)
}

#[test]
fn listings_stream_as_ndjson_past_one_page() {
    let server = Server::start(&[]);
    let setup = sql(
        &server,
        json!({"query": "CREATE TABLE s (g int, id int, v text, PRIMARY KEY (g, id)); \
                         INSERT INTO s SELECT n % 2, n, 'v' || n FROM generate_series(1, 2500) n"}),
    );
    assert_eq!(setup.status, 200, "{:?}", setup.body);
    let listing = "/v1/databases/bytedata/tables/s/rows";
    let (status, rows) = ndjson(&server, listing);
    assert_eq!(status, 200);
    assert_eq!(rows.len(), 2500, "every row, across pages");
    let keys: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r["g"].as_i64().unwrap(), r["id"].as_i64().unwrap()))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "in key order");

    let (_, odd) = ndjson(&server, &format!("{listing}?prefix=1&limit=1200"));
    assert_eq!(odd.len(), 1200);
    assert!(odd.iter().all(|r| r["g"] == 1));
    let (_, reversed) = ndjson(&server, &format!("{listing}?prefix=0&reverse=true"));
    assert_eq!(reversed.len(), 1250);
    assert_eq!(reversed[0]["id"], 2500);

    let (status, error) = ndjson(&server, "/v1/databases/bytedata/tables/missing/rows");
    assert_eq!(status, 404);
    assert_eq!(error[0]["code"], "42P01");
}

#[test]
fn bearer_tokens_run_as_their_role() {
    let issued = Command::new(env!("CARGO_BIN_EXE_bytedata"))
        .args(["token", "--role", "app"])
        .output()
        .unwrap();
    assert!(issued.status.success(), "{issued:?}");
    let text = String::from_utf8(issued.stdout).unwrap();
    let (token, line) = text.trim().split_once('\n').expect("a token and its line");
    let files = tempfile::tempdir().unwrap();
    let tokens = files.path().join("tokens");
    std::fs::write(&tokens, format!("# issued for the test\n{line}\n")).unwrap();
    let server = Server::start(&[
        "--http-auth",
        "scram-sha-256",
        "--superuser-password",
        "s3cret",
        "--http-tokens-file",
        tokens.to_str().unwrap(),
    ]);
    let create = json!({"query": "CREATE ROLE app LOGIN"}).to_string();
    let created = request(
        &server,
        "POST",
        "/v1/sql",
        Some(&create),
        Some("bytedata:s3cret"),
    );
    assert_eq!(created.status, 200, "{:?}", created.body);
    let whoami = json!({"query": "SELECT current_user AS me"}).to_string();
    let bearer = format!("Bearer {token}");
    let me = request(&server, "POST", "/v1/sql", Some(&whoami), Some(&bearer));
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["rows"], json!([["app"]]));
    let forged = format!("Bearer {token}x");
    assert_error(
        &request(&server, "POST", "/v1/sql", Some(&whoami), Some(&forged)),
        401,
        "28P01",
    );

    // A tokens file with a malformed line stops the server at start, naming the line.
    std::fs::write(&tokens, format!("{line}\napp not-a-digest\n")).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_bytedata"))
        .args(["serve", "--storage", "memory", "--listen", "127.0.0.1:0"])
        .args(["--http-listen", "127.0.0.1:0", "--data-dir"])
        .arg(files.path().join("data"))
        .arg("--http-tokens-file")
        .arg(&tokens)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_http_writes_survive_kill_9() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(data_dir, &["--storage", "disk"], &[]);
    let created = sql(
        &server,
        json!({"query": "CREATE TABLE d (k int PRIMARY KEY, v text)"}),
    );
    assert_eq!(created.status, 200, "{:?}", created.body);
    for k in 0..50 {
        let reply = request(
            &server,
            "PUT",
            &rows_path("d", &k.to_string()),
            Some(&format!(r#"{{"v": "v{k}"}}"#)),
            None,
        );
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let again = tempfile::TempDir::new().unwrap();
    let data_dir = std::mem::replace(&mut server.data_dir, again);
    drop(server);
    let server = Server::start_in(data_dir, &["--storage", "disk"], &[]);
    let client = server.connect().await;
    let row = client
        .query_one("SELECT count(*), min(v), max(k) FROM d", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 50);
    assert_eq!(row.get::<_, String>(1), "v0");
    assert_eq!(row.get::<_, i32>(2), 49);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_happens() {
    let server = Server::start(&[]);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE m (k int PRIMARY KEY)")
        .await
        .unwrap();
    client
        .execute("INSERT INTO m VALUES (1)", &[])
        .await
        .unwrap();
    client.query("SELECT * FROM m", &[]).await.unwrap();
    client
        .query("SELECT * FROM m WHERE k = $1", &[&1i32])
        .await
        .unwrap();
    let _ = client.query("SELECT * FROM nowhere", &[]).await;
    let _ = client.batch_execute("SELECT * FROM nowhere").await;
    request(&server, "GET", "/health", None, None);
    let text = scrape(&server);
    assert_eq!(sample(&text, "bytedata_build_info{"), 1.0);
    assert!(
        sample(
            &text,
            "bytedata_statements_total{kind=\"insert\",outcome=\"ok\"}"
        ) >= 1.0
    );
    assert!(
        sample(
            &text,
            "bytedata_statements_total{kind=\"select\",outcome=\"error\"}"
        ) >= 1.0
    );
    assert_eq!(sample(&text, "bytedata_connections "), 1.0);
    assert_eq!(
        sample(&text, "bytedata_connections_by_state{state=\"idle\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "bytedata_connections_by_state{state=\"active\"}"),
        0.0
    );
    assert!(
        sample(
            &text,
            "bytedata_http_requests_total{route=\"/health\",status=\"200\"}"
        ) >= 1.0
    );
    assert!(sample(&text, "bytedata_database_keys{database=\"bytedata\"}") >= 1.0);
    assert!(sample(&text, "bytedata_database_commits{database=\"bytedata\"}") >= 2.0);
    assert!(
        sample(
            &text,
            "bytedata_database_committed_batches{database=\"bytedata\"}"
        ) >= 0.0
    );
    assert!(
        sample(
            &text,
            "bytedata_database_wal_sync_seconds{database=\"bytedata\"}"
        ) >= 0.0
    );
    assert!(
        sample(
            &text,
            "bytedata_statements_total{kind=\"point_read\",outcome=\"ok\"}"
        ) >= 1.0
    );
    assert!(sample(&text, "bytedata_statement_errors_total{code=\"42P01\"}") >= 1.0);
    assert!(sample(&text, "bytedata_process_resident_memory_bytes ") > 0.0);
    assert!(sample(&text, "bytedata_process_open_fds ") >= 3.0);
    assert!(sample(&text, "bytedata_process_max_fds ") >= 3.0);
    // Statements over HTTP are statements too.
    let deletes = "bytedata_statements_total{kind=\"delete\",outcome=\"ok\"}";
    let before = sample(&text, deletes);
    let deleted = request(&server, "DELETE", &rows_path("m", "1"), None, None);
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    assert_eq!(sample(&scrape(&server), deletes), before + 1.0);
}

/// The server's metrics exposition.
fn scrape(server: &Server) -> String {
    let http = server.http.unwrap();
    let output = Command::new("curl")
        .args(["-s", &format!("http://{http}/metrics")])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

/// The value of the sample whose line starts with `name` (labels included).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(name))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{name} in\n{text}"))
}

/// A child process killed when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn promtool_accepts_the_exposition_and_prometheus_scrapes_it() {
    let server = Server::start(&[]);
    let http = server.http.unwrap();
    let exposition = scrape(&server).into_bytes();
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package, installed by scripts/clients)");
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), &exposition).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // A real Prometheus scrapes the server and answers a PromQL query about it.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: bytedata\n    \
             static_configs:\n      - targets: ['{http}']\n"
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus (Debian's prometheus package, installed by scripts/clients)"),
    );
    let query = "bytedata_build_info{job=\"bytedata\"} == 1";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let output = Command::new("curl")
            .args(["-s", "-G", &format!("http://127.0.0.1:{port}/api/v1/query")])
            .args(["--data-urlencode", &format!("query={query}")])
            .output()
            .unwrap();
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        if let Some(first) = answer["data"]["result"].as_array().and_then(|r| r.first()) {
            assert_eq!(
                first["metric"]["version"],
                env!("CARGO_PKG_VERSION"),
                "{answer}"
            );
            assert_eq!(first["metric"]["job"], "bytedata", "{answer}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus never had the server's metrics: {answer}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
