//! Starting a real `bytedata serve` for a test: on a free port, with its own data
//! directory, stopped when the handle drops.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
    /// The HTTP listener's address (`None` when the test turned it off).
    pub http: Option<SocketAddr>,
    pub data_dir: tempfile::TempDir,
    /// Lines the server logs after start.
    pub log: mpsc::Receiver<String>,
}

impl Server {
    /// A server on a fresh in-memory cluster.
    pub fn start(extra: &[&str]) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        Server::start_in(data_dir, &["--storage", "memory"], extra)
    }

    /// A server on `data_dir` with the given flags.
    pub fn start_in(data_dir: tempfile::TempDir, mode: &[&str], extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bytedata"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log-level", "info"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(mode)
            .args(extra)
            // Tests run side by side: each HTTP listener on a free port of its own.
            .args(if extra.contains(&"--http-listen") {
                &[][..]
            } else {
                &["--http-listen", "127.0.0.1:0"][..]
            })
            .env_remove("BYTEDATA_CONFIG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the bytedata binary starts");
        let stderr = child.stderr.take().unwrap();
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        // The server names its addresses once it accepts connections: HTTP's first (if
        // it is on), then the PostgreSQL listener's.
        let mut http = None;
        let address = loop {
            let line = log
                .recv_timeout(Duration::from_secs(60))
                .expect("the server reports its address");
            if let Some(rest) = line.split("HTTP listening on ").nth(1) {
                let address = rest.split_whitespace().next().unwrap();
                http = Some(address.parse().unwrap());
            } else if let Some(rest) = line.split("listening on ").nth(1) {
                let address = rest.split_whitespace().next().unwrap();
                break address.parse().unwrap();
            }
        };
        Server {
            child,
            address,
            http,
            data_dir,
            log,
        }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn url(&self, user: &str, database: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} dbname={database}",
            self.port()
        )
    }

    pub async fn connect(&self) -> tokio_postgres::Client {
        self.connect_as("bytedata", "bytedata").await
    }

    pub async fn connect_as(&self, user: &str, database: &str) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.url(user, database), tokio_postgres::NoTls)
                .await
                .expect("connects");
        tokio::spawn(connection);
        client
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        self.child.wait().unwrap()
    }

    /// Waits for a log line containing `text`.
    pub fn wait_for_log(&self, text: &str) -> String {
        loop {
            let line = self
                .log
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("the server logs \"{text}\""));
            if line.contains(text) {
                return line;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
