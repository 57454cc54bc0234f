//! What a transaction is begun with: its isolation level, whether it may write, and how
//! it waits for locks.

use crate::locks::LockWait;

/// Isolation levels, as PostgreSQL defines them (see docs/transactions.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// Each statement reads a fresh snapshot; writes lock and see the latest version.
    #[default]
    ReadCommitted,
    /// Snapshot isolation: one snapshot for the transaction; a key changed by a commit
    /// after the snapshot cannot be written (first updater wins).
    RepeatableRead,
    /// Repeatable read plus validation of everything read at commit: commits are
    /// equivalent to running one at a time in commit order.
    Serializable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnOptions {
    pub isolation: IsolationLevel,
    pub read_only: bool,
    pub lock_wait: LockWait,
}

impl Default for TxnOptions {
    fn default() -> Self {
        TxnOptions {
            isolation: IsolationLevel::default(),
            read_only: false,
            lock_wait: LockWait::Block,
        }
    }
}

impl TxnOptions {
    pub fn isolation(isolation: IsolationLevel) -> Self {
        TxnOptions {
            isolation,
            ..Self::default()
        }
    }

    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub fn lock_wait(mut self, wait: LockWait) -> Self {
        self.lock_wait = wait;
        self
    }
}
