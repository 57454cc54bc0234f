//! Transaction control: BEGIN, COMMIT, ROLLBACK, savepoints, and the block a session has
//! open. SET is transactional, as in PostgreSQL: a rollback restores the settings the
//! block began with, and a commit restores those changed by SET LOCAL.

use bytedata_mvcc::{IsolationLevel, Transaction, TxnOptions};
use datafusion::sql::sqlparser::ast::{
    Statement, TransactionAccessMode, TransactionIsolationLevel, TransactionMode,
};

use super::Session;
use crate::context::result::QueryResult;
use crate::context::settings::{Settings, parse_isolation};
use crate::error::{Result, SqlError};

pub(super) struct ActiveTransaction {
    pub(super) txn: Transaction,
    /// Begun with `BEGIN` (else implicit, for a multi-statement query string).
    pub(super) explicit: bool,
    pub(super) failed: bool,
    /// Whether it changed the catalog (caches refresh after it commits).
    pub(super) changed_catalog: bool,
    /// When it began: `now()` for every statement in it.
    pub(super) started_at: chrono::DateTime<chrono::Utc>,
    /// The settings when it began: a rollback restores them (SET is transactional in
    /// PostgreSQL), and a commit restores those changed by `SET LOCAL`.
    pub(super) settings_at_begin: Settings,
    pub(super) set_local: Vec<String>,
}

impl Session {
    pub(super) fn begin_transaction(
        &self,
        isolation: Option<IsolationLevel>,
        read_only: Option<bool>,
    ) -> Transaction {
        let mut options =
            TxnOptions::isolation(isolation.unwrap_or_else(|| self.settings.default_isolation()));
        options.read_only = read_only.unwrap_or_else(|| self.settings.default_read_only());
        if let Some(timeout) = self.settings.lock_timeout() {
            options.lock_wait = bytedata_mvcc::LockWait::Timeout(timeout);
        }
        self.database.engine().begin(options)
    }

    pub(super) fn transaction_control(&mut self, statement: Statement) -> Result<QueryResult> {
        match statement {
            Statement::StartTransaction { modes, .. } => {
                let (isolation, read_only) = transaction_modes(&modes)?;
                if let Some(active) = &mut self.transaction {
                    if active.explicit {
                        // PostgreSQL warns and carries on.
                        return Ok(QueryResult::command("BEGIN"));
                    }
                    active.explicit = true;
                    return Ok(QueryResult::command("BEGIN"));
                }
                self.transaction = Some(ActiveTransaction {
                    txn: self.begin_transaction(isolation, read_only),
                    explicit: true,
                    failed: false,
                    changed_catalog: false,
                    started_at: chrono::Utc::now(),
                    settings_at_begin: self.settings.clone(),
                    set_local: Vec::new(),
                });
                Ok(QueryResult::command("BEGIN"))
            }
            Statement::Commit { .. } => {
                let failed = self.transaction.as_ref().is_some_and(|t| t.failed);
                self.end_transaction(!failed)?;
                // Committing a failed block rolls it back, and says so.
                Ok(QueryResult::command(if failed {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                }))
            }
            Statement::Rollback {
                savepoint: Some(name),
                ..
            } => {
                let Some(active) = &mut self.transaction else {
                    return Err(SqlError::new(
                        "25P01",
                        "ROLLBACK TO SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                active.txn.rollback_to_savepoint(&name.value)?;
                active.failed = false;
                Ok(QueryResult::command("ROLLBACK"))
            }
            Statement::Rollback { .. } => {
                self.end_transaction(false)?;
                Ok(QueryResult::command("ROLLBACK"))
            }
            Statement::Savepoint { name } => {
                let Some(active) = &self.transaction else {
                    return Err(SqlError::new(
                        "25P01",
                        "SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                if active.failed {
                    return Err(SqlError::in_failed_transaction());
                }
                active.txn.savepoint(&name.value)?;
                Ok(QueryResult::command("SAVEPOINT"))
            }
            Statement::ReleaseSavepoint { name } => {
                let Some(active) = &self.transaction else {
                    return Err(SqlError::new(
                        "25P01",
                        "RELEASE SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                if active.failed {
                    return Err(SqlError::in_failed_transaction());
                }
                active.txn.release_savepoint(&name.value)?;
                Ok(QueryResult::command("RELEASE"))
            }
            other => Err(SqlError::unsupported(other.to_string())),
        }
    }

    /// Ends the current transaction (if any) by committing or rolling back.
    pub(super) fn end_transaction(&mut self, commit: bool) -> Result<()> {
        let Some(active) = self.transaction.take() else {
            return Ok(());
        };
        if !commit {
            self.settings = active.settings_at_begin.clone();
        } else {
            for name in &active.set_local {
                self.settings.restore(&active.settings_at_begin, name);
            }
        }
        if commit {
            let changed_catalog = match self.temp_before_commit(&active.txn) {
                Ok(changed) => changed || active.changed_catalog,
                Err(error) => {
                    let _ = active.txn.rollback();
                    return Err(error);
                }
            };
            active.txn.commit()?;
            if changed_catalog {
                self.database.catalog.bump_version();
            }
        } else {
            self.temp_after_rollback();
            active.txn.rollback()?;
        }
        Ok(())
    }

    /// The ON COMMIT actions of temporary tables, in the committing transaction `txn`
    /// (only one that wrote can have rows to delete or tables to drop). Returns whether
    /// the catalog changed.
    pub(super) fn temp_before_commit(&self, txn: &Transaction) -> Result<bool> {
        if !self.shared.uses_temp_schema() || !txn.has_writes() {
            return Ok(false);
        }
        crate::ddl::temp::before_commit(&self.planner(txn))
    }

    /// An ON COMMIT DROP table lives no longer than its transaction.
    pub(super) fn temp_after_rollback(&self) {
        self.shared
            .temp_on_commit
            .lock()
            .retain(|(_, _, action)| *action != crate::context::OnCommit::Drop);
    }

    /// Drops the session's temporary tables (the session is ending).
    pub(super) fn drop_temp_tables(&mut self) {
        if !self.shared.uses_temp_schema() {
            return;
        }
        let txn = self.begin_transaction(None, Some(false));
        let dropped = crate::ddl::temp::drop_temp_schema(&self.planner(&txn))
            .and_then(|()| Ok(txn.commit()?));
        match dropped {
            Ok(_) => self.database.catalog.bump_version(),
            Err(error) => {
                let _ = txn.rollback();
                tracing::warn!(%error, "dropping a session's temporary tables failed");
            }
        }
        self.shared
            .temp_claimed
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

pub fn is_transaction_control(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
    )
}

pub(super) fn transaction_modes(
    modes: &[TransactionMode],
) -> Result<(Option<IsolationLevel>, Option<bool>)> {
    let mut isolation = None;
    let mut read_only = None;
    for mode in modes {
        match mode {
            TransactionMode::IsolationLevel(level) => {
                isolation = Some(match level {
                    TransactionIsolationLevel::ReadUncommitted
                    | TransactionIsolationLevel::ReadCommitted => IsolationLevel::ReadCommitted,
                    TransactionIsolationLevel::RepeatableRead => IsolationLevel::RepeatableRead,
                    TransactionIsolationLevel::Serializable => IsolationLevel::Serializable,
                    other => parse_isolation(&other.to_string())
                        .ok_or_else(|| SqlError::unsupported(format!("isolation level {other}")))?,
                });
            }
            TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => read_only = Some(true),
            TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => {
                read_only = Some(false)
            }
        }
    }
    Ok((isolation, read_only))
}
