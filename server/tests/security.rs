//! Authentication and transport security, end to end: SCRAM-SHA-256 against roles in the
//! catalog (right, wrong and changed passwords), `is_superuser` per role, and TLS with
//! psql's `sslmode=require` and `verify-full` against a certificate made for the test.

mod common;

use std::path::Path;
use std::process::Command;

use common::Server;

async fn connect(
    server: &Server,
    user: &str,
    password: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let url = format!("{} password={password}", server.url(user, "bytedata"));
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

fn sqlstate(error: &tokio_postgres::Error) -> &str {
    error.code().map_or("", |c| c.code())
}

#[tokio::test]
async fn scram_checks_passwords_of_catalog_roles() {
    let server = Server::start(&["--auth", "scram-sha-256", "--superuser-password", "s3cret"]);
    let admin = connect(&server, "bytedata", "s3cret")
        .await
        .expect("right password");
    let Err(wrong) = connect(&server, "bytedata", "guess").await else {
        panic!("accepted: wrong password");
    };
    assert_eq!(sqlstate(&wrong), "28P01");
    let Err(unknown) = connect(&server, "nobody", "s3cret").await else {
        panic!("accepted: unknown role");
    };
    assert_eq!(
        sqlstate(&unknown),
        "28P01",
        "no hint whether the role exists"
    );

    admin
        .batch_execute("CREATE ROLE app LOGIN PASSWORD 'first'")
        .await
        .unwrap();
    let app = connect(&server, "app", "first")
        .await
        .expect("the new role logs in");
    let row = app.query_one("SHOW is_superuser", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "off");
    let row = admin.query_one("SHOW is_superuser", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "on");

    admin
        .batch_execute("ALTER ROLE app PASSWORD 'second'")
        .await
        .unwrap();
    let Err(old) = connect(&server, "app", "first").await else {
        panic!("accepted: old password");
    };
    assert_eq!(sqlstate(&old), "28P01");
    connect(&server, "app", "second")
        .await
        .expect("new password");

    // The verifier is stored, never the password.
    let row = admin
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "********");
}

/// A self-signed certificate for `localhost` and its key, made with openssl.
fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(status.status.success(), "{status:?}");
    (cert, key)
}

fn psql(port: u16, conninfo: &str, sql: &str) -> (bool, String) {
    let output = Command::new("psql")
        .args(["-X", "-A", "-t", "-c", sql])
        .arg(format!(
            "host=localhost port={port} user=bytedata dbname=bytedata {conninfo}"
        ))
        .output()
        .expect("psql runs");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn tls_works_with_require_and_verify_full() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(certs.path());
    let server = Server::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let port = server.port();
    let query = "SELECT 'over tls'";

    let (ok, text) = psql(port, "sslmode=require", query);
    assert!(ok && text.trim() == "over tls", "{text}");

    let root = format!("sslmode=verify-full sslrootcert={}", cert.display());
    let (ok, text) = psql(port, &root, query);
    assert!(ok && text.trim() == "over tls", "{text}");

    // verify-full refuses a server whose certificate it cannot trust.
    let other = tempfile::tempdir().unwrap();
    let (stranger, _) = certificate(other.path());
    let (ok, text) = psql(
        port,
        &format!("sslmode=verify-full sslrootcert={}", stranger.display()),
        query,
    );
    assert!(
        !ok,
        "a certificate from another authority was accepted: {text}"
    );

    // The HTTP listener serves HTTPS with the same certificate, and nothing in plaintext.
    let http_port = server.http.expect("the HTTP listener is on").port();
    let https = Command::new("curl")
        .args(["-s", "--cacert"])
        .arg(&cert)
        .arg(format!("https://localhost:{http_port}/health"))
        .output()
        .expect("curl runs");
    let body = String::from_utf8_lossy(&https.stdout);
    assert!(
        https.status.success() && body.contains("\"version\""),
        "{https:?}"
    );
    let plain = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{http_port}/health"))
        .output()
        .expect("curl runs");
    assert_ne!(
        String::from_utf8_lossy(&plain.stdout),
        "200",
        "a plaintext request was answered on the HTTPS listener"
    );
}

#[test]
fn a_tls_setup_error_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let output = Command::new(env!("CARGO_BIN_EXE_bytedata"))
        .args(["serve", "--listen", "127.0.0.1:0", "--http-listen", "off"])
        .args(["--storage", "memory"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&missing)
        .arg("--tls-key")
        .arg(&missing)
        .output()
        .expect("the bytedata binary runs");
    assert!(!output.status.success(), "started without its certificate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("missing.pem"),
        "the error names the file: {stderr}"
    );
}

/// Runs the bytedata binary to its exit; a server that starts when it should not is
/// killed after a minute and fails the test instead of hanging it.
fn bytedata(args: &[&str]) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_bytedata"))
        .args(args)
        .env_remove("BYTEDATA_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the bytedata binary runs");
    let pid = child.id() as i32;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait_with_output()));
    match receiver.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(output) => output.expect("the bytedata binary's output"),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid has no memory effects.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            panic!("bytedata {args:?} did not exit");
        }
    }
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn an_encrypted_server_writes_no_plaintext_and_rotates_its_master_key() {
    let keys = tempfile::tempdir().unwrap();
    let key_file = |name: &str| {
        let output = bytedata(&["keygen"]);
        assert!(output.status.success());
        let path = keys.path().join(name);
        std::fs::write(&path, &output.stdout).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (old, new) = (key_file("old.key"), key_file("new.key"));

    let data_dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(
        data_dir,
        &["--storage", "disk"],
        &["--master-key-file", &old, "--encrypt", "true"],
    );
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE secrets (id int PRIMARY KEY, note text);
             INSERT INTO secrets VALUES (1, 'MARKER-topsecret');",
        )
        .await
        .unwrap();
    drop(client);
    assert!(server.terminate().success());
    let data_dir = std::mem::replace(&mut server.data_dir, tempfile::tempdir().unwrap());
    drop(server);
    for path in files_under(data_dir.path()) {
        let data = std::fs::read(&path).unwrap();
        assert!(
            !data.windows(6).any(|window| window == b"MARKER"),
            "{} holds the secret in plaintext",
            path.display()
        );
    }

    let dir = data_dir.path().to_str().unwrap();
    let refused = bytedata(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "off",
        "--data-dir",
        dir,
    ]);
    assert!(!refused.status.success(), "started without the master key");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("master key"), "{stderr}");

    let rotate = [
        "rotate-key",
        "--data-dir",
        dir,
        "--master-key-file",
        &old,
        "--new-master-key-file",
        &new,
    ];
    let output = bytedata(&rotate);
    assert!(output.status.success(), "{output:?}");
    let refused = bytedata(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "off",
        "--data-dir",
        dir,
        "--master-key-file",
        &old,
    ]);
    assert!(!refused.status.success(), "started with the retired key");

    let server = Server::start_in(
        data_dir,
        &["--storage", "disk"],
        &["--master-key-file", &new],
    );
    let client = server.connect().await;
    let row = client
        .query_one("SELECT note FROM secrets WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "MARKER-topsecret");
}
