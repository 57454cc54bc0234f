//! Who is connected and what each session is doing (`pg_stat_activity`), the
//! per-database counters of `pg_stat_database`, and the statement statistics of
//! `pg_stat_statements` (`statements`).
//!
//! A session the server gives a process id registers a `Backend` here and keeps the
//! `Registration`; dropping it (the connection ends) removes the entry. The session is
//! the only writer of its entry: the server tells it when a statement starts and when it
//! waits for the client again, and it records the state, the query text and the start
//! times under the entry's own lock — one uncontended lock per statement. Readers (the
//! views, `pg_cancel_backend`, `pg_terminate_backend`) copy an entry under that lock, so
//! a row never mixes two moments of one session.
//!
//! Terminating is cooperative, like cancelling: the running statement, if any, is
//! cancelled, and the connection, which waits on `Backend::terminated` beside its socket,
//! sends FATAL 57P01 and closes once it is back in its loop.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use super::interrupt::Interrupt;
use super::statements::StatementStats;

/// Everything the activity views read, one per cluster.
#[derive(Default)]
pub struct Activity {
    backends: Mutex<BTreeMap<i32, Arc<Backend>>>,
    databases: Mutex<HashMap<u32, Arc<DatabaseCounters>>>,
    pub statements: StatementStats,
}

/// What a connection is, fixed at its start.
#[derive(Clone, Debug)]
pub struct BackendInfo {
    pub pid: i32,
    pub database_id: u32,
    pub database: String,
    pub user: String,
    pub superuser: bool,
    /// `None` for a Unix socket or an address the server could not learn.
    pub client: Option<SocketAddr>,
}

/// `pg_stat_activity.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Active,
    Idle,
    IdleInTransaction,
    IdleInTransactionAborted,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Active,
        State::Idle,
        State::IdleInTransaction,
        State::IdleInTransactionAborted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Idle => "idle",
            State::IdleInTransaction => "idle in transaction",
            State::IdleInTransactionAborted => "idle in transaction (aborted)",
        }
    }
}

/// What a connection is doing, as of its last change.
#[derive(Clone, Debug)]
pub struct Status {
    pub state: State,
    /// The running statement's text, or the last one's when idle (empty before any).
    pub query: Arc<str>,
    pub query_start: Option<DateTime<Utc>>,
    pub xact_start: Option<DateTime<Utc>>,
    pub state_change: DateTime<Utc>,
    pub application_name: String,
}

pub struct Backend {
    pub info: BackendInfo,
    pub backend_start: DateTime<Utc>,
    status: Mutex<Status>,
    interrupt: Arc<Interrupt>,
    terminating: AtomicBool,
    terminate_wake: tokio::sync::Notify,
}

impl Backend {
    pub fn status(&self) -> Status {
        self.status.lock().clone()
    }

    pub(crate) fn statement_started(
        &self,
        query: Arc<str>,
        xact_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let mut status = self.status.lock();
        status.state = State::Active;
        status.query = query;
        status.query_start = Some(now);
        status.xact_start = Some(xact_start);
        status.state_change = now;
    }

    pub(crate) fn went_idle(
        &self,
        state: State,
        xact_start: Option<DateTime<Utc>>,
        application_name: &str,
    ) {
        debug_assert!(state != State::Active);
        let mut status = self.status.lock();
        if status.state != state {
            status.state_change = Utc::now();
        }
        status.state = state;
        status.xact_start = xact_start;
        if status.application_name != application_name {
            status.application_name = application_name.to_owned();
        }
    }

    /// Cancels the running statement, if any (`pg_cancel_backend`).
    pub fn cancel(&self) {
        self.interrupt.cancel();
    }

    /// Asks the connection to end (`pg_terminate_backend`): its statement is cancelled
    /// and its loop closes the connection with FATAL 57P01.
    pub fn terminate(&self) {
        self.terminating.store(true, Ordering::Release);
        self.interrupt.cancel();
        self.terminate_wake.notify_one();
    }

    pub fn is_terminating(&self) -> bool {
        self.terminating.load(Ordering::Acquire)
    }

    /// Completes once `terminate` has been called.
    pub async fn terminated(&self) {
        loop {
            let notified = self.terminate_wake.notified();
            if self.is_terminating() {
                return;
            }
            notified.await;
        }
    }
}

/// A connection's entry; dropping it removes the entry.
pub struct Registration {
    activity: Arc<Activity>,
    backend: Arc<Backend>,
}

impl Registration {
    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = self.activity.backends.lock().remove(&self.backend.info.pid);
        debug_assert!(removed.is_some(), "a registration is removed once");
    }
}

/// `pg_stat_database`'s row counters of one database, since the server started (or
/// `pg_stat_reset`). Transactions are counted by the database's engine.
#[derive(Debug, Default)]
pub struct DatabaseCounters {
    /// Rows returned to clients by queries.
    pub tup_fetched: AtomicU64,
    pub tup_inserted: AtomicU64,
    pub tup_updated: AtomicU64,
    pub tup_deleted: AtomicU64,
    /// Connections made to the database.
    pub sessions: AtomicU64,
    /// Connections ended by `pg_terminate_backend` or shutdown.
    pub sessions_killed: AtomicU64,
}

impl DatabaseCounters {
    /// Counts what a finished statement reports in its command tag (`INSERT 0 5`,
    /// `SELECT 3`, `COPY 10`, …).
    pub fn count_tag(&self, tag: &str) {
        let mut words = tag.split(' ');
        let verb = words.next().unwrap_or("");
        let Some(rows) = words.next_back().and_then(|n| n.parse::<u64>().ok()) else {
            return;
        };
        let counter = match verb {
            "SELECT" | "FETCH" => &self.tup_fetched,
            "INSERT" | "COPY" => &self.tup_inserted,
            "UPDATE" => &self.tup_updated,
            "DELETE" => &self.tup_deleted,
            _ => return,
        };
        counter.fetch_add(rows, Ordering::Relaxed);
    }

    fn reset(&self) {
        for counter in [
            &self.tup_fetched,
            &self.tup_inserted,
            &self.tup_updated,
            &self.tup_deleted,
            &self.sessions,
            &self.sessions_killed,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

impl Activity {
    /// Adds a connection; it is listed until the registration is dropped.
    pub fn register(
        self: &Arc<Self>,
        info: BackendInfo,
        interrupt: Arc<Interrupt>,
    ) -> Registration {
        let now = Utc::now();
        let pid = info.pid;
        self.database(info.database_id)
            .sessions
            .fetch_add(1, Ordering::Relaxed);
        let backend = Arc::new(Backend {
            info,
            backend_start: now,
            status: Mutex::new(Status {
                state: State::Idle,
                query: Arc::from(""),
                query_start: None,
                xact_start: None,
                state_change: now,
                application_name: String::new(),
            }),
            interrupt,
            terminating: AtomicBool::new(false),
            terminate_wake: tokio::sync::Notify::new(),
        });
        let earlier = self.backends.lock().insert(pid, backend.clone());
        assert!(earlier.is_none(), "process id {pid} registered twice");
        Registration {
            activity: self.clone(),
            backend,
        }
    }

    /// The connections, by process id.
    pub fn backends(&self) -> Vec<Arc<Backend>> {
        self.backends.lock().values().cloned().collect()
    }

    pub fn backend(&self, pid: i32) -> Option<Arc<Backend>> {
        self.backends.lock().get(&pid).cloned()
    }

    /// The counters of a database (created on first use).
    pub fn database(&self, database_id: u32) -> Arc<DatabaseCounters> {
        self.databases
            .lock()
            .entry(database_id)
            .or_default()
            .clone()
    }

    /// How many connections are on each database.
    pub fn connections_by_database(&self) -> HashMap<u32, u64> {
        let mut counts = HashMap::new();
        for backend in self.backends.lock().values() {
            *counts.entry(backend.info.database_id).or_insert(0) += 1;
        }
        counts
    }

    /// `pg_stat_reset()`: zeroes the row counters of one database.
    pub fn reset_database(&self, database_id: u32) {
        self.database(database_id).reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(pid: i32) -> BackendInfo {
        BackendInfo {
            pid,
            database_id: 7,
            database: "db".into(),
            user: "alice".into(),
            superuser: false,
            client: None,
        }
    }

    #[test]
    fn registration_lists_a_backend_until_dropped() {
        let activity = Arc::new(Activity::default());
        let first = activity.register(info(1), Arc::default());
        let second = activity.register(info(2), Arc::default());
        let pids: Vec<i32> = activity.backends().iter().map(|b| b.info.pid).collect();
        assert_eq!(pids, [1, 2]);
        assert_eq!(activity.connections_by_database()[&7], 2);
        drop(first);
        assert!(activity.backend(1).is_none());
        assert!(activity.backend(2).is_some());
        drop(second);
        assert!(activity.backends().is_empty());
        assert_eq!(
            activity.database(7).sessions.load(Ordering::Relaxed),
            2,
            "sessions count connections made, not live ones"
        );
    }

    #[test]
    fn status_follows_statements_and_idleness() {
        let activity = Arc::new(Activity::default());
        let registration = activity.register(info(3), Arc::default());
        let backend = registration.backend();
        assert_eq!(backend.status().state, State::Idle);
        let start = Utc::now();
        backend.statement_started(Arc::from("SELECT 1"), start, start);
        let status = backend.status();
        assert_eq!(status.state, State::Active);
        assert_eq!(&*status.query, "SELECT 1");
        assert_eq!(status.xact_start, Some(start));
        backend.went_idle(State::IdleInTransaction, Some(start), "psql");
        let status = backend.status();
        assert_eq!(status.state.name(), "idle in transaction");
        assert_eq!(
            &*status.query, "SELECT 1",
            "the last statement stays visible"
        );
        assert_eq!(status.application_name, "psql");
    }

    #[tokio::test]
    async fn terminate_wakes_a_waiting_connection() {
        let activity = Arc::new(Activity::default());
        let registration = activity.register(info(4), Arc::default());
        let backend = registration.backend().clone();
        let waiter = tokio::spawn({
            let backend = backend.clone();
            async move { backend.terminated().await }
        });
        backend.terminate();
        waiter.await.expect("the waiter ends");
        assert!(backend.is_terminating());
    }

    #[test]
    fn command_tags_count_rows_by_kind() {
        let counters = DatabaseCounters::default();
        for tag in [
            "INSERT 0 5",
            "SELECT 3",
            "UPDATE 2",
            "DELETE 1",
            "COPY 4",
            "BEGIN",
        ] {
            counters.count_tag(tag);
        }
        assert_eq!(counters.tup_inserted.load(Ordering::Relaxed), 9);
        assert_eq!(counters.tup_fetched.load(Ordering::Relaxed), 3);
        assert_eq!(counters.tup_updated.load(Ordering::Relaxed), 2);
        assert_eq!(counters.tup_deleted.load(Ordering::Relaxed), 1);
    }
}
