//! The server's metrics, exposed at `GET /metrics` in Prometheus's text format (0.0.4,
//! the one `promtool check metrics` reads and every scraper accepts).
//!
//! Two kinds of numbers:
//! - *events*, counted where they happen: statements by kind and outcome with their
//!   latency, HTTP requests by route and status with theirs. The hot path touches only
//!   pre-resolved handles (an atomic add, a histogram bucket), never a label lookup.
//! - *state*, read when scraped: uptime, connections, and per database its keys, memory,
//!   WAL and snapshots, straight from the stores' own statistics — so a scrape costs a
//!   few atomic loads per database and nothing between scrapes.
//!
//! Names follow Prometheus conventions: `bytedata_` prefix, base units (`_seconds`,
//! `_bytes`), `_total` on counters (added by the encoder).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytedata_sql::Cluster;
use datafusion::sql::sqlparser::ast::Statement;
use parking_lot::Mutex;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::registry::Registry as Connections;

/// Whether events are counted. Building without the `metrics` feature (on by default)
/// leaves them out — and the statement statistics of the `pg_stat_*` views with them —
/// so a benchmark can measure what the bookkeeping costs (`benches/metrics-cost`).
pub const COUNTING: bool = cfg!(feature = "metrics");

/// What a statement was, for its counters and latency.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum StatementKind {
    /// A SELECT of one row by its whole key (the fast path's point read).
    point_read,
    /// A SELECT of a key range, prefix or list of keys.
    range_read,
    /// Any other SELECT.
    select,
    insert,
    update,
    delete,
    copy,
    ddl,
    transaction,
    other,
}

const KINDS: [StatementKind; 10] = [
    StatementKind::point_read,
    StatementKind::range_read,
    StatementKind::select,
    StatementKind::insert,
    StatementKind::update,
    StatementKind::delete,
    StatementKind::copy,
    StatementKind::ddl,
    StatementKind::transaction,
    StatementKind::other,
];

impl StatementKind {
    /// The kind of a parsed statement, keyed reads told apart.
    pub fn of_prepared(prepared: &bytedata_sql::PreparedStatement) -> StatementKind {
        match prepared.read_kind() {
            Some(bytedata_sql::ReadKind::Point) => StatementKind::point_read,
            Some(bytedata_sql::ReadKind::Range) => StatementKind::range_read,
            None => StatementKind::of(prepared.statement()),
        }
    }

    pub fn of(statement: &Statement) -> StatementKind {
        match statement {
            Statement::Query(_) => StatementKind::select,
            Statement::Insert(_) => StatementKind::insert,
            Statement::Update { .. } => StatementKind::update,
            Statement::Delete(_) => StatementKind::delete,
            Statement::Copy { .. } => StatementKind::copy,
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. } => StatementKind::transaction,
            Statement::CreateTable(_)
            | Statement::CreateIndex(_)
            | Statement::CreateView { .. }
            | Statement::CreateSchema { .. }
            | Statement::CreateDatabase { .. }
            | Statement::CreateSequence { .. }
            | Statement::CreateRole { .. }
            | Statement::AlterTable { .. }
            | Statement::AlterRole { .. }
            | Statement::Drop { .. }
            | Statement::Truncate { .. } => StatementKind::ddl,
            _ => StatementKind::other,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum Outcome {
    ok,
    error,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatementLabels {
    kind: StatementKind,
    outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: StatementKind,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatabaseLabels {
    database: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Latency buckets: 25 µs to about 52 s, doubling.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(25e-6, 2.0, 22)
}

/// What a per-database gauge reads, at scrape time.
struct DatabaseReading<'a> {
    store: &'a bytedata_kv::Stats,
    engine: &'a bytedata_mvcc::EngineStats,
    now_unix_ms: u64,
}

type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// How a per-database gauge reads its value (`None`: no sample for that database).
type ReadGauge = fn(&DatabaseReading) -> Option<f64>;

/// Per-database gauges: name, help, and how to read the value.
const DATABASE_GAUGES: &[(&str, &str, ReadGauge)] = &[
    ("database_keys", "Live keys in a database's store", |r| {
        Some(r.store.live_keys as f64)
    }),
    (
        "database_memory_bytes",
        "Memory a database's index holds, approximately",
        |r| Some(r.store.approx_memory_bytes as f64),
    ),
    (
        "database_memory_limit_bytes",
        "The memory budget of a database's store (absent when unlimited)",
        |r| r.store.memory_limit_bytes.map(|b| b as f64),
    ),
    (
        "database_wal_bytes",
        "Bytes of WAL a database keeps on disk",
        |r| Some(r.store.wal_bytes as f64),
    ),
    (
        "database_wal_syncs",
        "fdatasyncs of a database's WAL since it was opened (a counter read from the store)",
        |r| Some(r.store.wal_syncs as f64),
    ),
    (
        "database_wal_sync_seconds",
        "Time a database's WAL fdatasyncs took since it was opened; over wal_syncs, their mean latency",
        |r| Some(r.store.wal_sync_seconds),
    ),
    (
        "database_commit_groups",
        "Groups of commits a database's WAL wrote (and synced) together since it was opened",
        |r| Some(r.store.commit_groups as f64),
    ),
    (
        "database_committed_batches",
        "Commits in those groups; over commit_groups, the mean group size",
        |r| Some(r.store.committed_batches as f64),
    ),
    (
        "database_commits",
        "Transactions committed in a database since it was opened (a counter read from the engine)",
        |r| Some(r.engine.commits as f64),
    ),
    (
        "database_rollbacks",
        "Transactions rolled back in a database since it was opened (a counter read from the engine)",
        |r| Some(r.engine.rollbacks as f64),
    ),
    (
        "database_snapshot_age_seconds",
        "Seconds since a database's last snapshot was written",
        |r| {
            let snapshot = r.store.last_snapshot.as_ref()?;
            Some(r.now_unix_ms.saturating_sub(snapshot.created_unix_ms) as f64 / 1000.0)
        },
    ),
    (
        "database_snapshot_bytes",
        "Size of a database's last snapshot",
        |r| Some(r.store.last_snapshot.as_ref()?.bytes as f64),
    ),
    (
        "database_snapshot_duration_seconds",
        "How long writing a database's last snapshot took",
        |r| Some(r.store.last_snapshot.as_ref()?.duration.as_secs_f64()),
    ),
    (
        "database_snapshots_written",
        "Snapshots a database's store wrote since it was opened",
        |r| Some(r.store.snapshots_written as f64),
    ),
    (
        "database_value_log_bytes",
        "Bytes in a hybrid database's value log",
        |r| Some(r.store.value_log.as_ref()?.bytes as f64),
    ),
    (
        "database_value_log_garbage_ratio",
        "Share of a hybrid database's value log no version points at (0 to 1)",
        |r| Some(r.store.value_log.as_ref()?.garbage_ratio()),
    ),
    (
        "database_value_cache_hits",
        "Reads a hybrid database's value cache answered since it was opened",
        |r| Some(r.store.value_log.as_ref()?.cache_hits as f64),
    ),
    (
        "database_value_cache_misses",
        "Reads a hybrid database's value cache sent to the value log since it was opened",
        |r| Some(r.store.value_log.as_ref()?.cache_misses as f64),
    ),
];

pub struct Metrics {
    registry: Mutex<Registry>,
    started: Instant,
    statements: Vec<[Counter; 2]>,
    statement_seconds: Vec<Histogram>,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<RouteLabels, Histogram>,
    uptime_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    connections: Gauge,
    connections_by_state: Family<StateLabels, Gauge>,
    connections_limit: Gauge,
    databases: Vec<Family<DatabaseLabels, FloatGauge>>,
    process: ProcessGauges,
    statement_errors: Family<CodeLabels, Counter>,
}

/// The process, read at scrape time (`crate::process`).
struct ProcessGauges {
    resident_bytes: Gauge,
    cpu_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    open_fds: Gauge,
    max_fds: Gauge,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

impl Metrics {
    pub fn new(max_connections: usize) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("bytedata");
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "The running version", build);
        let uptime_seconds = Gauge::default();
        registry.register(
            "uptime_seconds",
            "Seconds since the server started",
            uptime_seconds.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Client connections open now (PostgreSQL protocol)",
            connections.clone(),
        );
        let connections_by_state: Family<StateLabels, Gauge> = Family::default();
        registry.register(
            "connections_by_state",
            "Client connections by what they do (pg_stat_activity's state)",
            connections_by_state.clone(),
        );
        let connections_limit = Gauge::default();
        connections_limit.set(max_connections as i64);
        registry.register(
            "connections_limit",
            "Most client connections accepted at once (max_connections)",
            connections_limit.clone(),
        );
        let statement_family: Family<StatementLabels, Counter> = Family::default();
        registry.register(
            "statements",
            "Statements run, by kind and outcome",
            statement_family.clone(),
        );
        let seconds_family: Family<KindLabels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(latency_buckets()));
        registry.register(
            "statement_duration_seconds",
            "Time to run a statement, by kind",
            seconds_family.clone(),
        );
        let statements = KINDS
            .iter()
            .map(|&kind| {
                [Outcome::ok, Outcome::error].map(|outcome| {
                    statement_family
                        .get_or_create(&StatementLabels { kind, outcome })
                        .clone()
                })
            })
            .collect();
        let statement_seconds = KINDS
            .iter()
            .map(|&kind| seconds_family.get_or_create(&KindLabels { kind }).clone())
            .collect();
        let http_requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            http_requests.clone(),
        );
        let http_seconds: Family<RouteLabels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(latency_buckets()));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            http_seconds.clone(),
        );
        let databases = DATABASE_GAUGES
            .iter()
            .map(|(name, help, _)| {
                let family: Family<DatabaseLabels, FloatGauge> = Family::default();
                registry.register(*name, *help, family.clone());
                family
            })
            .collect();
        let process = ProcessGauges {
            resident_bytes: Gauge::default(),
            cpu_seconds: Gauge::default(),
            open_fds: Gauge::default(),
            max_fds: Gauge::default(),
        };
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the server process",
            process.resident_bytes.clone(),
        );
        registry.register(
            "process_cpu_seconds",
            "CPU time the server process has used, user and system (a counter read from the kernel)",
            process.cpu_seconds.clone(),
        );
        registry.register(
            "process_open_fds",
            "Files and sockets the server process holds open",
            process.open_fds.clone(),
        );
        registry.register(
            "process_max_fds",
            "The most files the server process may hold open",
            process.max_fds.clone(),
        );
        let statement_errors = Family::default();
        registry.register(
            "statement_errors",
            "Statements that failed, by SQLSTATE (a failed statement aborts its transaction)",
            statement_errors.clone(),
        );
        Arc::new(Metrics {
            registry: Mutex::new(registry),
            connections_by_state,
            process,
            statement_errors,
            started: Instant::now(),
            statements,
            statement_seconds,
            http_requests,
            http_seconds,
            uptime_seconds,
            connections,
            connections_limit,
            databases,
        })
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Counts a statement and its latency.
    pub fn statement(&self, kind: StatementKind, ok: bool, elapsed: Duration) {
        if !COUNTING {
            return;
        }
        let i = kind.index();
        self.statements[i][usize::from(!ok)].inc();
        self.statement_seconds[i].observe(elapsed.as_secs_f64());
    }

    /// Counts a failed statement by its SQLSTATE.
    pub fn statement_error(&self, code: &'static str) {
        if !COUNTING {
            return;
        }
        self.statement_errors
            .get_or_create(&CodeLabels { code })
            .inc();
    }

    /// Counts an HTTP request and its latency.
    pub fn http_request(&self, route: &'static str, status: u16, elapsed: Duration) {
        if !COUNTING {
            return;
        }
        self.http_requests
            .get_or_create(&HttpLabels { route, status })
            .inc();
        self.http_seconds
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    /// The `Content-Type` of `render`'s text.
    pub const CONTENT_TYPE: &'static str =
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

    /// The exposition: the state read now, then everything encoded.
    pub fn render(&self, cluster: &Cluster, connections: &Connections) -> Result<String, String> {
        self.uptime_seconds.set(self.uptime().as_secs_f64());
        self.connections.set(connections.active() as i64);
        self.connections_by_state.clear();
        for state in bytedata_sql::activity::State::ALL {
            self.connections_by_state
                .get_or_create(&StateLabels {
                    state: state.name(),
                })
                .set(0);
        }
        for backend in cluster.activity().backends() {
            self.connections_by_state
                .get_or_create(&StateLabels {
                    state: backend.status().state.name(),
                })
                .inc();
        }
        let _ = &self.connections_limit;
        for family in &self.databases {
            family.clear();
        }
        let now_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        for database in cluster.open_databases() {
            let reading = DatabaseReading {
                store: &database.engine().store().stats(),
                engine: &database.engine().stats(),
                now_unix_ms,
            };
            let labels = DatabaseLabels {
                database: database.descriptor.name.clone(),
            };
            for (family, (_, _, read)) in self.databases.iter().zip(DATABASE_GAUGES) {
                if let Some(value) = read(&reading) {
                    family.get_or_create(&labels).set(value);
                }
            }
        }
        let process = crate::process::read();
        if let Some(bytes) = process.resident_bytes {
            self.process.resident_bytes.set(gauge(bytes));
        }
        if let Some(seconds) = process.cpu_seconds {
            self.process.cpu_seconds.set(seconds);
        }
        if let Some(count) = process.open_fds {
            self.process.open_fds.set(gauge(count));
        }
        if let Some(count) = process.max_fds {
            self.process.max_fds.set(gauge(count));
        }
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry.lock())
            .map_err(|error| format!("encoding metrics: {error}"))?;
        Ok(out)
    }
}

fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
