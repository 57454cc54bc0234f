//! The session's entry among the live connections (`pg_stat_activity`) and what it
//! counts for the statistics views: the server reports when a statement starts and when
//! the connection waits for its client again, and what each statement returned.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::Session;
use crate::context::activity::{BackendInfo, DatabaseCounters, Registration, State};
use crate::context::statements::NormalizedStatement;
use crate::session::PreparedStatement;

/// What a registered session keeps of its entry.
pub(super) struct Registered {
    registration: Registration,
    counters: Arc<DatabaseCounters>,
}

impl Session {
    /// Lists the session among the live connections as process `pid` (and makes
    /// `pg_backend_pid()` return it), until the session is dropped.
    pub fn register_backend(&mut self, pid: i32, client: Option<SocketAddr>) {
        self.set_backend_pid(pid);
        let database_id = self.database.descriptor.id;
        let info = BackendInfo {
            pid,
            database_id,
            database: self.database.descriptor.name.clone(),
            user: self.user.clone(),
            superuser: self.settings.get("is_superuser").is_ok_and(|v| v == "on"),
            client,
        };
        let activity = self.cluster.activity().clone();
        let registration = activity.register(info, self.interrupt.clone());
        self.backend = Some(Registered {
            registration,
            counters: activity.database(database_id),
        });
    }

    /// The session's entry, once registered.
    pub fn backend(&self) -> Option<&Arc<crate::context::activity::Backend>> {
        self.backend.as_ref().map(|b| b.registration.backend())
    }

    /// A statement (or query string) with this text starts running.
    pub fn activity_started(&self, query: Arc<str>) {
        let Some(backend) = self.backend() else {
            return;
        };
        let now = chrono::Utc::now();
        let xact_start = self.transaction.as_ref().map_or(now, |t| t.started_at);
        backend.statement_started(query, xact_start, now);
    }

    /// The connection waits for its client again.
    pub fn activity_idle(&self) {
        let Some(backend) = self.backend() else {
            return;
        };
        let state = match self.transaction_status() {
            b'T' => State::IdleInTransaction,
            b'E' => State::IdleInTransactionAborted,
            _ => State::Idle,
        };
        let xact_start = self
            .transaction
            .as_ref()
            .filter(|t| t.explicit)
            .map(|t| t.started_at);
        backend.went_idle(state, xact_start, self.settings.application_name());
    }

    /// Counts a finished statement: its row counts for `pg_stat_database` and its call
    /// for `pg_stat_statements`. `tag` is its command tag (`SELECT 3`, `INSERT 0 1`).
    /// Sessions the server did not register (HTTP requests') are counted too.
    pub fn statement_finished(&self, prepared: &PreparedStatement, elapsed: Duration, tag: &str) {
        match &self.backend {
            Some(registered) => registered.counters.count_tag(tag),
            None => self
                .cluster
                .activity()
                .database(self.database.descriptor.id)
                .count_tag(tag),
        }
        let rows = tag
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        let normalized: &NormalizedStatement = prepared.normalized();
        self.cluster.activity().statements.record(
            &self.user,
            self.database.descriptor.id,
            normalized,
            elapsed,
            rows,
        );
    }
}
