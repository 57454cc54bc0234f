//! Running statements without blocking the caller's thread.
//!
//! A statement that waits — for a row lock another transaction holds, or for its commit
//! to be durable — blocks the thread it runs on. The server runs such statements where
//! blocking is allowed (tokio's `block_in_place`), which first hands the thread's other
//! tasks to another thread: tens of microseconds per statement, more than an OLTP
//! statement's own work. So the server asks here first:
//!
//! - statements that never wait run at once: queries without row locks, transaction
//!   control other than a COMMIT with writes to make durable, SET and SHOW;
//! - the fast path's writes inside a transaction block run under a no-wait scope: if a
//!   lock they need is held, they stop before they have written anything, and the caller
//!   runs the statement again where it may wait;
//! - anything else is left to the caller (`None`), untouched.
//!
//! The invariant that makes the retry clean: a statement given back to the caller has
//! changed nothing the retry could notice: no write, no failed transaction (a hidden row
//! id it drew is skipped, as one drawn by a rolled-back statement is).

use std::panic::AssertUnwindSafe;

use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::Statement;

use super::Session;
use super::prepared::PreparedStatement;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::fast::Shape;

/// Statements that never wait, whatever the session's state.
fn never_waits(statement: &Statement) -> bool {
    match statement {
        // `FOR UPDATE`/`FOR SHARE` lock the rows they read.
        Statement::Query(query) => query.locks.is_empty(),
        // EXPLAIN ANALYZE runs its statement.
        Statement::Explain { analyze, .. } => !analyze,
        Statement::ShowVariable { .. }
        | Statement::StartTransaction { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Set(_) => true,
        _ => false,
    }
}

impl Session {
    /// Runs `prepared` if it can run without blocking the thread; `None` if it may block,
    /// in which case nothing of it ran and the caller runs it with `execute_prepared`
    /// where blocking is allowed.
    pub async fn execute_without_blocking(
        &mut self,
        prepared: &PreparedStatement,
        params: &[ScalarValue],
    ) -> Option<Result<QueryResult>> {
        let statement = prepared.statement();
        if never_waits(statement) || self.commits_nothing(statement) {
            return Some(self.execute_prepared(prepared, params).await);
        }
        self.fast_write_without_waiting(prepared.shape.as_ref()?, params)
    }

    /// A COMMIT with nothing to make durable: no transaction, a failed one (it rolls
    /// back) or one without writes.
    fn commits_nothing(&self, statement: &Statement) -> bool {
        matches!(statement, Statement::Commit { .. })
            && self
                .transaction
                .as_ref()
                .is_none_or(|active| active.failed || !active.txn.has_writes())
    }

    /// A fast-path write inside a transaction block, refusing to wait for locks.
    fn fast_write_without_waiting(
        &mut self,
        shape: &Shape,
        params: &[ScalarValue],
    ) -> Option<Result<QueryResult>> {
        if matches!(shape, Shape::Get { .. } | Shape::Query(_)) || !self.settings.fast_path() {
            return None;
        }
        // Outside a block the statement commits, and a commit waits for the disk. The
        // general path reports a failed block and a failed stream.
        let active = self.transaction.as_ref()?;
        if active.failed || self.interrupt.stream_failed() {
            return None;
        }
        let txn = active.txn.clone();
        let started_at = active.started_at;
        let writer = self.fast_table(shape.table(), &txn).ok()??;
        if !crate::fast::locks_before_writing(shape, &writer) {
            return None;
        }
        txn.new_statement().ok()?;
        self.clock = started_at;
        self.interrupt.start(txn.cancel_handle(), None);
        let scope = txn.no_wait_scope();
        let outcome =
            std::panic::catch_unwind(AssertUnwindSafe(|| self.run_fast(shape, params, &txn)))
                .unwrap_or_else(|panic| Err(crate::context::result::panic_error(panic)));
        let (refused, wrote) = (scope.refused(), scope.wrote());
        drop(scope);
        let error = match outcome {
            _ if refused && !wrote => return None,
            // Declines come before writing.
            Ok(None) if !wrote => return None,
            Ok(Some(result)) if !refused => return Some(Ok(result)),
            Err(error) if !refused => error,
            _ => SqlError::internal("a fast statement was refused a lock after writing"),
        };
        if let Some(active) = &mut self.transaction {
            active.failed = true;
        }
        Some(Err(error))
    }
}
