//! `pg_stat_activity`, `pg_stat_statements` and `pg_stat_database`: live figures from the
//! cluster's `Activity` (`context::activity`), not from the catalog.
//!
//! As in PostgreSQL, everyone sees every connection and statement, but only a superuser
//! or the role itself sees what another connection runs: for anyone else the query reads
//! `<insufficient privilege>` and the columns that would tell what it does are null.

use chrono::{DateTime, Utc};

use crate::context::StatementContext;
use crate::context::activity::Backend;
use crate::system::columns::{Cell, Columns, Kind::*, row};
use crate::system::snapshot::Snapshot;

const INSUFFICIENT_PRIVILEGE: &str = "<insufficient privilege>";

fn micros(at: Option<DateTime<Utc>>) -> Cell {
    at.map_or(Cell::Null, |at| Cell::Int(at.timestamp_micros()))
}

/// Whether the statement's role may see what `owner`'s sessions and statements do.
fn may_see(context: &StatementContext, snapshot: &Snapshot, owner: &str) -> bool {
    context.user == owner
        || snapshot
            .roles
            .iter()
            .any(|role| role.name == context.user && role.superuser)
}

pub(super) const PG_STAT_ACTIVITY: Columns = &[
    ("datid", Oid),
    ("datname", Name),
    ("pid", Int4),
    ("leader_pid", Int4),
    ("usesysid", Oid),
    ("usename", Name),
    ("application_name", Text),
    ("client_addr", Text),
    ("client_hostname", Text),
    ("client_port", Int4),
    ("backend_start", TimestampTz),
    ("xact_start", TimestampTz),
    ("query_start", TimestampTz),
    ("state_change", TimestampTz),
    ("wait_event_type", Text),
    ("wait_event", Text),
    ("state", Text),
    ("backend_xid", Text),
    ("backend_xmin", Text),
    ("query_id", Int8),
    ("query", Text),
    ("backend_type", Text),
];

pub(super) fn pg_stat_activity(context: &StatementContext, s: &Snapshot) -> Vec<Vec<Cell>> {
    let statements = context.cluster.activity().backends();
    statements
        .iter()
        .map(|backend| activity_row(context, s, backend))
        .collect()
}

fn activity_row(context: &StatementContext, s: &Snapshot, backend: &Backend) -> Vec<Cell> {
    let info = &backend.info;
    let status = backend.status();
    let visible = may_see(context, s, &info.user);
    let (client_addr, client_port) = match info.client {
        Some(address) => (
            Cell::from(address.ip().to_string()),
            Cell::from(i32::from(address.port())),
        ),
        // A local connection, as PostgreSQL shows a Unix socket.
        None => (Cell::Null, Cell::from(-1i32)),
    };
    // A connection waiting for its client waits on a client read, as PostgreSQL says.
    let (wait_type, wait_event) = match status.state {
        crate::context::activity::State::Active => (Cell::Null, Cell::Null),
        _ => (Cell::from("Client"), Cell::from("ClientRead")),
    };
    let hidden = |cell: Cell| if visible { cell } else { Cell::Null };
    row![
        info.database_id,
        &info.database,
        info.pid,
        Cell::Null,
        s.role_oid(&info.user),
        &info.user,
        hidden(Cell::from(status.application_name.as_str())),
        hidden(client_addr),
        Cell::Null,
        hidden(client_port),
        hidden(micros(Some(backend.backend_start))),
        hidden(micros(status.xact_start)),
        hidden(micros(status.query_start)),
        hidden(micros(Some(status.state_change))),
        hidden(wait_type),
        hidden(wait_event),
        hidden(Cell::from(status.state.name())),
        Cell::Null,
        Cell::Null,
        Cell::Null,
        if visible {
            Cell::from(&*status.query)
        } else {
            Cell::from(INSUFFICIENT_PRIVILEGE)
        },
        "client backend",
    ]
}

pub(super) const PG_STAT_STATEMENTS: Columns = &[
    ("userid", Oid),
    ("dbid", Oid),
    ("toplevel", Bool),
    ("queryid", Int8),
    ("query", Text),
    ("plans", Int8),
    ("total_plan_time", Float8),
    ("min_plan_time", Float8),
    ("max_plan_time", Float8),
    ("mean_plan_time", Float8),
    ("stddev_plan_time", Float8),
    ("calls", Int8),
    ("total_exec_time", Float8),
    ("min_exec_time", Float8),
    ("max_exec_time", Float8),
    ("mean_exec_time", Float8),
    ("stddev_exec_time", Float8),
    ("rows", Int8),
];

pub(super) fn pg_stat_statements(context: &StatementContext, s: &Snapshot) -> Vec<Vec<Cell>> {
    let mut entries = context.cluster.activity().statements.entries();
    entries.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    entries
        .into_iter()
        .map(|entry| {
            let visible = may_see(context, s, &entry.user);
            // Planning is not timed apart from execution: its columns stay zero, as in
            // PostgreSQL with `pg_stat_statements.track_planning` off.
            row![
                s.role_oid(&entry.user),
                entry.database_id,
                true,
                if visible {
                    Cell::Int(entry.query_id)
                } else {
                    Cell::Null
                },
                if visible {
                    Cell::from(&*entry.text)
                } else {
                    Cell::from(INSUFFICIENT_PRIVILEGE)
                },
                0i64,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                Cell::Int(i64::try_from(entry.calls).unwrap_or(i64::MAX)),
                entry.total_ms,
                entry.min_ms,
                entry.max_ms,
                entry.mean_ms(),
                entry.stddev_ms(),
                Cell::Int(i64::try_from(entry.rows).unwrap_or(i64::MAX)),
            ]
        })
        .collect()
}

pub(super) const PG_STAT_DATABASE: Columns = &[
    ("datid", Oid),
    ("datname", Name),
    ("numbackends", Int4),
    ("xact_commit", Int8),
    ("xact_rollback", Int8),
    ("blks_read", Int8),
    ("blks_hit", Int8),
    ("tup_returned", Int8),
    ("tup_fetched", Int8),
    ("tup_inserted", Int8),
    ("tup_updated", Int8),
    ("tup_deleted", Int8),
    ("conflicts", Int8),
    ("temp_files", Int8),
    ("temp_bytes", Int8),
    ("deadlocks", Int8),
    ("checksum_failures", Int8),
    ("checksum_last_failure", TimestampTz),
    ("blk_read_time", Float8),
    ("blk_write_time", Float8),
    ("session_time", Float8),
    ("active_time", Float8),
    ("idle_in_transaction_time", Float8),
    ("sessions", Int8),
    ("sessions_abandoned", Int8),
    ("sessions_fatal", Int8),
    ("sessions_killed", Int8),
    ("stats_reset", TimestampTz),
];

pub(super) fn pg_stat_database(context: &StatementContext, s: &Snapshot) -> Vec<Vec<Cell>> {
    use std::sync::atomic::Ordering::Relaxed;
    let activity = context.cluster.activity();
    let connections = activity.connections_by_database();
    let open = context.cluster.open_databases();
    let count = |n: u64| Cell::Int(i64::try_from(n).unwrap_or(i64::MAX));
    s.databases
        .iter()
        .map(|database| {
            // A database not opened since the server started has run no transaction.
            let engine = open
                .iter()
                .find(|d| d.descriptor.id == database.id)
                .map(|d| d.engine().stats());
            let (commits, rollbacks) = engine.map_or((0, 0), |e| (e.commits, e.rollbacks));
            let counters = activity.database(database.id);
            let fetched = counters.tup_fetched.load(Relaxed);
            let backends = connections.get(&database.id).copied().unwrap_or(0);
            row![
                database.id,
                &database.name,
                Cell::Int(i64::try_from(backends).unwrap_or(i64::MAX)),
                count(commits),
                count(rollbacks),
                0i64,
                0i64,
                // Rows read are not counted apart from rows returned.
                count(fetched),
                count(fetched),
                count(counters.tup_inserted.load(Relaxed)),
                count(counters.tup_updated.load(Relaxed)),
                count(counters.tup_deleted.load(Relaxed)),
                0i64,
                0i64,
                0i64,
                0i64,
                0i64,
                Cell::Null,
                0.0,
                0.0,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                count(counters.sessions.load(Relaxed)),
                0i64,
                0i64,
                count(counters.sessions_killed.load(Relaxed)),
                Cell::Null,
            ]
        })
        .collect()
}
