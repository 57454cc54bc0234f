//! pgbench, unmodified, against `bytedata serve`: the default initialisation (COPY FROM
//! STDIN, VACUUM, ADD PRIMARY KEY), then its three built-in scripts in each query mode,
//! and the books must balance afterwards.

mod common;

use std::process::Command;

use common::Server;

fn pgbench(server: &Server, args: &[&str]) -> String {
    let output = Command::new("pgbench")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port().to_string(),
            "-U",
            "bytedata",
        ])
        .args(args)
        .arg("bytedata")
        .output()
        .expect("pgbench runs (it comes with PostgreSQL's client package)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn pgbench_initialises_runs_every_mode_and_balances() {
    let server = Server::start(&[]);
    let init = pgbench(&server, &["-i", "-s", "2"]);
    assert!(init.contains("done in"), "{init}");
    let client = server.connect().await;
    let accounts: i64 = client
        .query_one("SELECT count(*) FROM pgbench_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(accounts, 200_000);
    // ADD PRIMARY KEY made aid a key: a point lookup is a point get.
    let plan = client
        .simple_query("EXPLAIN SELECT abalance FROM pgbench_accounts WHERE aid = 7")
        .await
        .unwrap();
    let plan: String = plan
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect();
    assert!(plan.contains("access=point get (aid)"), "{plan}");

    for mode in ["simple", "extended", "prepared"] {
        for script in [&["-S"][..], &["-N"][..], &[][..]] {
            let mut args = vec!["-n", "-t", "200", "-c", "4", "-M", mode];
            args.extend_from_slice(script);
            let out = pgbench(&server, &args);
            assert!(
                out.contains("number of transactions actually processed: 800/800"),
                "{mode} {script:?}:\n{out}"
            );
            assert!(
                out.contains("number of failed transactions: 0"),
                "{mode} {script:?}:\n{out}"
            );
        }
    }
    // Every transaction that wrote history moved the same delta into an account, and the
    // default script also into its teller and branch (they all start at 0); -N leaves
    // tellers and branches alone.
    let row = client
        .query_one(
            "SELECT (SELECT coalesce(sum(delta), 0) FROM pgbench_history), \
                    (SELECT sum(abalance) FROM pgbench_accounts), \
                    (SELECT sum(tbalance) FROM pgbench_tellers), \
                    (SELECT sum(bbalance) FROM pgbench_branches), \
                    (SELECT count(*) FROM pgbench_history)",
            &[],
        )
        .await
        .unwrap();
    let deltas: i64 = row.get(0);
    let history: i64 = row.get(4);
    // -N and the default script each wrote one history row per transaction, 3 modes.
    assert_eq!(history, 2 * 3 * 800);
    assert_eq!(row.get::<_, i64>(1), deltas);
    let default_script_deltas: i64 = row.get(2);
    assert_eq!(row.get::<_, i64>(3), default_script_deltas);
}
