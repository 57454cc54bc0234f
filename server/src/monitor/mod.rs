//! `bytedata monitor`: a live terminal view of a running server, read from its HTTP
//! listener — `/metrics` for the figures, `pg_stat_statements` through `/v1/sql` for the
//! top statements — so it needs no database connection and watches any server an
//! operator can reach.
//!
//! Rates and latencies in the live view cover the last interval (the difference of two
//! scrapes); `--once` takes one scrape and reports latencies since the server started.

mod client;
mod figures;
mod view;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use hyper::Method;

use client::Client;
use figures::{Histogram, Scrape};

#[derive(Clone, Debug, clap::Args)]
pub struct MonitorArgs {
    /// The server's HTTP listener.
    #[arg(long, env = "BYTEDATA_URL", default_value = "http://127.0.0.1:8433")]
    pub url: String,
    /// Show one database's keys, memory and WAL (all databases summed otherwise).
    #[arg(long)]
    pub database: Option<String>,
    /// Time between refreshes: `500ms`, `1s`, `2s`…
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Print the figures once as plain text and exit (for scripts).
    #[arg(long)]
    pub once: bool,
    /// Role for HTTP Basic authentication (the password is read from PGPASSWORD).
    #[arg(long, env = "PGUSER")]
    pub user: Option<String>,
}

/// Shortest and longest refresh interval.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
const MAX_INTERVAL: Duration = Duration::from_secs(3600);
/// Statements shown in the top list.
const TOP_STATEMENTS: usize = 10;

fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit_ms) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1.0)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1000.0)
    } else if let Some(m) = text.strip_suffix('m') {
        (m, 60_000.0)
    } else {
        (text, 1000.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid interval \"{text}\" (for example 500ms, 1s, 2m)"))?;
    let interval = Duration::from_secs_f64((value * unit_ms / 1000.0).max(0.0));
    if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&interval) {
        return Err(format!(
            "interval \"{text}\" is outside {} ms to {} s",
            MIN_INTERVAL.as_millis(),
            MAX_INTERVAL.as_secs()
        ));
    }
    Ok(interval)
}

/// A statement of the top list.
#[derive(Clone, Debug, PartialEq)]
pub struct TopStatement {
    pub query: String,
    pub calls: u64,
    pub mean_ms: f64,
    pub total_ms: f64,
    pub rows: u64,
}

/// Latency of one kind of statement.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Latency {
    pub mean_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl Latency {
    fn of(histogram: &Histogram) -> Latency {
        Latency {
            mean_ms: histogram.mean().map(|s| s * 1000.0),
            p99_ms: histogram.quantile(0.99).map(|s| s * 1000.0),
        }
    }
}

/// What one refresh shows.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub uptime_seconds: f64,
    pub connections: f64,
    pub connections_limit: Option<f64>,
    /// Commits per second over the last interval (`None` for `--once`).
    pub commits_per_second: Option<f64>,
    pub commits: f64,
    pub keys: f64,
    pub memory_bytes: f64,
    pub wal_bytes: f64,
    pub snapshot_age_seconds: Option<f64>,
    pub point_reads: Latency,
    pub range_reads: Latency,
    /// Mean fdatasync of the WAL, and commits per group commit (over the interval, or
    /// since the databases were opened for `--once`).
    pub fsync_mean_ms: Option<f64>,
    pub commits_per_group: Option<f64>,
    pub top: Vec<TopStatement>,
}

const LATENCY: &str = "bytedata_statement_duration_seconds";

impl Figures {
    /// The figures of `now`, with rates and latencies over the time since `earlier`.
    pub fn compute(
        now: &Scrape,
        earlier: Option<(&Scrape, Duration)>,
        database: Option<&str>,
    ) -> Figures {
        let by_database: Vec<(&str, &str)> =
            database.map(|d| ("database", d)).into_iter().collect();
        let value = |name: &str| now.sum(name, &by_database).unwrap_or(0.0);
        let latency = |kind: &str| {
            let histogram = now.histogram(LATENCY, &[("kind", kind)]);
            match earlier {
                Some((before, _)) => {
                    Latency::of(&histogram.since(&before.histogram(LATENCY, &[("kind", kind)])))
                }
                None => Latency::of(&histogram),
            }
        };
        let commits = value("bytedata_database_commits");
        let commits_per_second = earlier.map(|(before, elapsed)| {
            let before = before
                .sum("bytedata_database_commits", &by_database)
                .unwrap_or(0.0);
            (commits - before).max(0.0) / elapsed.as_secs_f64().max(1e-3)
        });
        // The ratio of two counters' growth: over the interval, or since open.
        let ratio = |numerator: &str, denominator: &str| {
            let (mut top, mut bottom) = (value(numerator), value(denominator));
            if let Some((before, _)) = earlier {
                top -= before.sum(numerator, &by_database).unwrap_or(0.0);
                bottom -= before.sum(denominator, &by_database).unwrap_or(0.0);
            }
            (bottom > 0.0).then(|| top / bottom)
        };
        Figures {
            fsync_mean_ms: ratio(
                "bytedata_database_wal_sync_seconds",
                "bytedata_database_wal_syncs",
            )
            .map(|s| s * 1000.0),
            commits_per_group: ratio(
                "bytedata_database_committed_batches",
                "bytedata_database_commit_groups",
            ),
            uptime_seconds: now.sum("bytedata_uptime_seconds", &[]).unwrap_or(0.0),
            connections: now.sum("bytedata_connections", &[]).unwrap_or(0.0),
            connections_limit: now.sum("bytedata_connections_limit", &[]),
            commits_per_second,
            commits,
            keys: value("bytedata_database_keys"),
            memory_bytes: value("bytedata_database_memory_bytes"),
            wal_bytes: value("bytedata_database_wal_bytes"),
            snapshot_age_seconds: now.min("bytedata_database_snapshot_age_seconds", &by_database),
            point_reads: latency("point_read"),
            range_reads: latency("range_read"),
            top: Vec::new(),
        }
    }
}

/// Reads the top statements from `pg_stat_statements` (leaving out the monitor's own).
async fn top_statements(
    client: &mut Client,
    database: Option<&str>,
) -> Result<Vec<TopStatement>, String> {
    let query = format!(
        "SELECT query, calls, mean_exec_time, total_exec_time, rows FROM pg_stat_statements \
         WHERE query NOT LIKE '%pg_stat_statements%' \
         ORDER BY total_exec_time DESC LIMIT {TOP_STATEMENTS}"
    );
    let mut body = serde_json::json!({ "query": query });
    if let Some(database) = database {
        body["database"] = serde_json::Value::from(database);
    }
    let text = client
        .request(Method::POST, "/v1/sql", Some(body.to_string()))
        .await?;
    let reply: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("/v1/sql answered: {error}"))?;
    let rows = reply["rows"].as_array().cloned().unwrap_or_default();
    let number = |v: &serde_json::Value| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0.0)
    };
    Ok(rows
        .iter()
        .map(|row| TopStatement {
            query: row[0].as_str().unwrap_or_default().to_owned(),
            calls: number(&row[1]) as u64,
            mean_ms: number(&row[2]),
            total_ms: number(&row[3]),
            rows: number(&row[4]) as u64,
        })
        .collect())
}

async fn scrape(client: &mut Client) -> Result<Scrape, String> {
    let text = client.request(Method::GET, "/metrics", None).await?;
    Ok(Scrape::parse(&text))
}

/// Runs `bytedata monitor`.
pub fn run(args: MonitorArgs) -> ExitCode {
    let password = std::env::var("PGPASSWORD").unwrap_or_default();
    let credentials = args.user.as_deref().map(|user| (user, password.as_str()));
    let mut client = match Client::new(&args.url, credentials) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("bytedata monitor: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bytedata monitor: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.once {
        let figures = runtime.block_on(async {
            let now = scrape(&mut client).await?;
            let mut figures = Figures::compute(&now, None, args.database.as_deref());
            figures.top = top_statements(&mut client, args.database.as_deref()).await?;
            Ok::<_, String>(figures)
        });
        return match figures {
            Ok(figures) => {
                print!("{}", view::plain(&figures, args.database.as_deref()));
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("bytedata monitor: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let refresh = |earlier: Option<&(Scrape, Instant)>| {
        runtime.block_on(async {
            let now = scrape(&mut client).await?;
            let taken = Instant::now();
            let mut figures = Figures::compute(
                &now,
                earlier.map(|(scrape, at)| (scrape, taken.duration_since(*at))),
                args.database.as_deref(),
            );
            figures.top = top_statements(&mut client, args.database.as_deref()).await?;
            Ok::<_, String>((figures, (now, taken)))
        })
    };
    match view::live(&args, refresh) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bytedata monitor: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_with_units_and_bounds() {
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_interval("10ms").is_err());
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn figures_over_an_interval_use_differences() {
        let before = Scrape::parse(
            "bytedata_database_commits{database=\"a\"} 100\n\
             bytedata_database_commits{database=\"b\"} 5\n\
             bytedata_database_keys{database=\"a\"} 7\n",
        );
        let now = Scrape::parse(
            "bytedata_database_commits{database=\"a\"} 300\n\
             bytedata_database_commits{database=\"b\"} 5\n\
             bytedata_database_keys{database=\"a\"} 9\n\
             bytedata_database_wal_syncs{database=\"a\"} 10\n\
             bytedata_database_wal_sync_seconds{database=\"a\"} 0.02\n\
             bytedata_database_commit_groups{database=\"a\"} 10\n\
             bytedata_database_committed_batches{database=\"a\"} 40\n\
             bytedata_uptime_seconds 61\n",
        );
        let all = Figures::compute(&now, Some((&before, Duration::from_secs(2))), None);
        assert_eq!(all.commits_per_second, Some(100.0));
        assert_eq!(all.keys, 9.0);
        assert_eq!(all.uptime_seconds, 61.0);
        assert_eq!(all.commits_per_group, Some(4.0));
        let fsync = all.fsync_mean_ms.expect("syncs happened");
        assert!((fsync - 2.0).abs() < 1e-9, "{fsync}");
        let b = Figures::compute(&now, Some((&before, Duration::from_secs(2))), Some("b"));
        assert_eq!(b.commits_per_second, Some(0.0));
        assert_eq!(b.keys, 0.0);
        assert_eq!(Figures::compute(&now, None, None).commits_per_second, None);
    }
}
