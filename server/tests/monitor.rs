//! `bytedata monitor` against a running server: the plain `--once` summary, and the live
//! view in a real terminal (tmux), read back with `capture-pane` and left with `q`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::Server;

async fn some_traffic(server: &Server) {
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE m (id int PRIMARY KEY, v text); \
             INSERT INTO m SELECT g, 'v' || g FROM generate_series(1, 100) g",
        )
        .await
        .unwrap();
    let point = client
        .prepare("SELECT v FROM m WHERE id = $1")
        .await
        .unwrap();
    let range = client
        .prepare("SELECT v FROM m WHERE id BETWEEN $1 AND $2")
        .await
        .unwrap();
    for id in 1..=50i32 {
        client.query(&point, &[&id]).await.unwrap();
        client.query(&range, &[&id, &(id + 9)]).await.unwrap();
    }
}

fn monitor(server: &Server) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bytedata"));
    let url = format!("http://{}", server.http.expect("the HTTP listener is on"));
    command.args(["monitor", "--url", &url]);
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn once_prints_the_figures_and_top_statements() {
    let server = Server::start(&[]);
    some_traffic(&server).await;
    let output = monitor(&server).arg("--once").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let summary = text.lines().next().expect("a summary line");
    for part in ["Uptime: ", "Connections: ", "Keys: ", "Memory: ", "WAL: "] {
        assert!(summary.contains(part), "{part} in {summary}");
    }
    assert!(
        summary.contains("GET avg ") && summary.contains("RANGE avg "),
        "{summary}"
    );
    assert!(
        !summary.contains("GET -"),
        "point reads were timed: {summary}"
    );
    assert!(text.contains("SELECT v FROM m WHERE id = $1"), "{text}");
    assert!(
        text.contains("SELECT v FROM m WHERE id BETWEEN $1 AND $2"),
        "{text}"
    );

    let scoped = monitor(&server)
        .args(["--once", "--database", "bytedata"])
        .output()
        .unwrap();
    assert!(scoped.status.success(), "{scoped:?}");
    assert!(String::from_utf8_lossy(&scoped.stdout).starts_with("Database: bytedata"));

    let unreachable = Command::new(env!("CARGO_BIN_EXE_bytedata"))
        .args(["monitor", "--once", "--url", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach"));
}

/// A tmux server of the test's own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        let available = Command::new("tmux").arg("-V").output();
        assert!(
            available.is_ok_and(|o| o.status.success()),
            "tmux is installed (scripts/clients installs it)"
        );
        Tmux {
            socket: format!("bytedata-monitor-test-{}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "monitor"]).stdout)
            .into_owned()
    }

    fn running(&self) -> bool {
        self.run(&["has-session", "-t", "monitor"]).status.success()
    }

    /// Polls the screen until it shows every one of `parts`.
    async fn wait_for(&self, parts: &[&str]) -> String {
        for _ in 0..600 {
            let screen = self.screen();
            if parts.iter().all(|part| screen.contains(part)) {
                return screen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the screen never showed {parts:?}:\n{}", self.screen());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn live_view_refreshes_in_a_terminal_and_quits_on_q() {
    let server = Server::start(&[]);
    some_traffic(&server).await;
    let tmux = Tmux::new();
    let url = format!("http://{}", server.http.unwrap());
    let command = format!(
        "{} monitor --url {url} --interval 200ms",
        env!("CARGO_BIN_EXE_bytedata")
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "monitor",
        "-x",
        "160",
        "-y",
        "40",
        &command,
    ]);
    assert!(started.status.success(), "{started:?}");
    let screen = tmux
        .wait_for(&["ByteData monitor", "Transactions/s", "Top statements"])
        .await;
    assert!(screen.contains("Uptime: "), "{screen}");

    // New traffic shows in a later refresh: the statement appears in the top list.
    let client = server.connect().await;
    client
        .query("SELECT count(*) FROM m WHERE v LIKE 'v1%'", &[])
        .await
        .unwrap();
    tmux.wait_for(&["SELECT count(*) FROM m WHERE v LIKE $1"])
        .await;

    assert!(
        tmux.run(&["send-keys", "-t", "monitor", "q"])
            .status
            .success()
    );
    for _ in 0..200 {
        if !tmux.running() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the monitor did not quit on q:\n{}", tmux.screen());
}
