//! A session: one client connection's state — its database, role, settings and open
//! transaction — and the entry point for SQL.
//!
//! Transactions: outside `BEGIN … COMMIT` every statement runs in a transaction of its
//! own (autocommit); a query string of several statements runs as one implicit
//! transaction, as PostgreSQL does. Inside a block, an error fails the block: every
//! statement then fails with 25P02 until `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`).
//!
//! The session is the top of the SQL layer and the only part that holds state across
//! statements. Its files, in the order a statement meets them:
//!
//! - `activity`: its entry among the live connections and the statistics it feeds;
//! - `execute`: query strings and prepared statements, run under the interrupt, routed;
//! - `transaction`: BEGIN/COMMIT/ROLLBACK and savepoints; `utility`: SET, SHOW, RESET;
//! - `copy`: COPY FROM STDIN begun, loaded, abandoned;
//! - `fast`: statements the fast path runs; `query`: queries DataFusion plans, EXPLAIN;
//! - `prepared`: parses and plans kept for reuse; `describe`: parameter and row types
//!   without running; `unblocking`: what may run without blocking the caller's thread.
//!
//! DML and DDL get a `Planner` — the statement's context and DataFusion state — and
//! nothing else of the session.

mod activity;
mod copy;
pub mod describe;
mod execute;
mod fast;
pub mod prepared;
mod query;
pub mod tables;
mod transaction;
mod unblocking;
mod utility;

use std::collections::HashMap;
use std::sync::Arc;

use bytedata_mvcc::Transaction;
use bytedata_pgtypes::TextOptions;
use datafusion::execution::context::SessionState;

use crate::context::cluster::{Cluster, Database};
use crate::context::interrupt::{Canceller, Interrupt};
use crate::context::settings::Settings;
use crate::context::{SessionShared, StatementContext};
use crate::error::Result;
use crate::planner::Planner;
use prepared::TextCache;
pub use prepared::{PreparedStatement, ReadKind};
use transaction::ActiveTransaction;
pub use transaction::is_transaction_control;

pub struct Session {
    cluster: Arc<Cluster>,
    database: Arc<Database>,
    user: String,
    settings: Settings,
    /// DataFusion's state before any statement, shared with every connection.
    base: Arc<SessionState>,
    transaction: Option<ActiveTransaction>,
    /// The start of the running statement's transaction (what `now()` returns).
    clock: chrono::DateTime<chrono::Utc>,
    interrupt: Arc<Interrupt>,
    shared: Arc<SessionShared>,
    /// Tables the fast path resolved (`fast::tables`).
    fast_tables: crate::fast::tables::TableCache,
    /// Query texts of the simple protocol, parsed (`prepared`).
    texts: TextCache,
    /// Statements the fast path ran to completion (or to an error of its own).
    fast_runs: u64,
    /// Executions that reused a kept logical plan.
    plans_reused: u64,
    /// Its entry among the live connections, once the server registered it.
    backend: Option<activity::Registered>,
}

impl Session {
    /// A session of `user` on `database` (3D000 if it does not exist).
    pub fn new(cluster: Arc<Cluster>, database: &str, user: &str) -> Result<Self> {
        let database = cluster.database(database)?;
        let shared = Arc::new(SessionShared::new(user));
        let base = crate::planner::base()?;
        let superuser = cluster.login_role(user)?.is_some_and(|role| role.superuser);
        let mut settings = Settings::new(user);
        settings.set_superuser(superuser);
        Ok(Session {
            settings,
            cluster,
            database,
            user: user.to_owned(),
            base,
            transaction: None,
            clock: chrono::Utc::now(),
            interrupt: Arc::new(Interrupt::default()),
            shared,
            fast_tables: Default::default(),
            texts: Default::default(),
            fast_runs: 0,
            plans_reused: 0,
            backend: None,
        })
    }

    pub fn database(&self) -> &Arc<Database> {
        &self.database
    }

    /// The process id clients know this session by (`pg_backend_pid()`).
    pub fn set_backend_pid(&self, pid: i32) {
        self.shared
            .backend_pid
            .store(pid, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    pub fn text_options(&self) -> TextOptions {
        self.settings.text_options()
    }

    /// `I` idle, `T` in a transaction block, `E` in a failed one (ReadyForQuery status).
    pub fn transaction_status(&self) -> u8 {
        match &self.transaction {
            Some(active)
                if active.explicit && (active.failed || self.interrupt.stream_failed()) =>
            {
                b'E'
            }
            Some(active) if active.explicit => b'T',
            _ => b'I',
        }
    }

    /// What another connection uses to cancel this session's running statement.
    pub fn canceller(&self) -> Canceller {
        self.interrupt.clone()
    }

    /// How many statements the fast path has run in this session (tests and diagnosis).
    pub fn fast_path_runs(&self) -> u64 {
        self.fast_runs
    }

    /// How many executions reused a kept logical plan (tests and diagnosis).
    pub fn plans_reused(&self) -> u64 {
        self.plans_reused
    }

    /// Marks an open transaction block failed: an error happened that the session did
    /// not see (a statement that did not parse, a bad Bind), and PostgreSQL fails the
    /// block for any error in it.
    pub fn mark_failed(&mut self) {
        if let Some(active) = &mut self.transaction
            && active.explicit
        {
            active.failed = true;
        }
    }

    /// Rolls back anything open (the connection is going away).
    pub fn terminate(&mut self) {
        let _ = self.end_transaction(false);
        self.drop_temp_tables();
    }

    /// The cancel flag of the current transaction, for CancelRequest and timeouts.
    pub fn cancel_handle(&self) -> Option<bytedata_mvcc::CancelHandle> {
        self.transaction.as_ref().map(|t| t.txn.cancel_handle())
    }

    /// The planner of a statement running in `txn` now: the session's database, role,
    /// search path, time zone and clock, and its settings published to its functions.
    fn planner(&self, txn: &Transaction) -> Planner {
        *self.shared.settings.lock() = self.settings.clone();
        let context = StatementContext {
            database: self.database.clone(),
            txn: txn.clone(),
            search_path: self.search_path(),
            overrides: HashMap::new(),
            base_state: self.base.clone(),
            view_depth: 0,
            now: self.clock,
            interrupt: self.interrupt.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            input: self.input_options(),
            system: Arc::default(),
            shared: self.shared.clone(),
        };
        Planner::new(context)
    }
}

impl Session {
    /// How text becomes values in this session: its zone and date order, and `now`
    /// meaning the start of the current transaction, as in PostgreSQL.
    pub fn input_options(&self) -> bytedata_pgtypes::InputOptions {
        bytedata_pgtypes::InputOptions {
            now_unix_micros: Some(self.clock.timestamp_micros()),
            ..self.settings.input_options()
        }
    }

    /// The settings' search path, behind the temporary schema once there is one.
    fn search_path(&self) -> Vec<String> {
        let mut path = self.settings.search_path();
        if self.shared.uses_temp_schema() {
            path.insert(0, self.shared.temp_schema.clone());
        }
        path
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.terminate();
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_copy;
#[cfg(test)]
mod tests_storage;
#[cfg(test)]
mod tests_temp;
