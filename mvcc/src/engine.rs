//! The transaction engine over one kv store: begins transactions, holds the lock table
//! and the commit log they share.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytedata_kv::Store;
use parking_lot::Mutex;

use crate::commit_log::CommitLog;
use crate::error::Result;
use crate::locks::{LockManager, LockWait};
use crate::txn::Transaction;

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

pub(crate) struct Shared {
    pub store: Store,
    pub locks: LockManager,
    pub commit_log: Mutex<CommitLog>,
    next_txn_id: AtomicU64,
    pub active: AtomicU64,
}

/// Transactions over one kv store. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

/// What the engine looks like right now, for monitoring.
#[derive(Clone, Debug)]
pub struct EngineStats {
    pub active_transactions: u64,
    pub locks_held: usize,
    /// Transactions waiting for a lock another one holds.
    pub lock_waits: usize,
    /// Recent commits kept for validating serializable transactions.
    pub commit_log_entries: usize,
}

impl Engine {
    pub fn new(store: Store) -> Self {
        Engine {
            shared: Arc::new(Shared {
                store,
                locks: LockManager::new(),
                commit_log: Mutex::new(CommitLog::default()),
                next_txn_id: AtomicU64::new(1),
                active: AtomicU64::new(0),
            }),
        }
    }

    pub fn open(options: bytedata_kv::Options) -> Result<Self> {
        Ok(Self::new(Store::open(options)?))
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    pub fn begin(&self, options: TxnOptions) -> Transaction {
        let id = self.shared.next_txn_id.fetch_add(1, Ordering::Relaxed);
        Transaction::begin(self.shared.clone(), id, options)
    }

    pub fn stats(&self) -> EngineStats {
        EngineStats {
            active_transactions: self.shared.active.load(Ordering::Relaxed),
            locks_held: self.shared.locks.held(),
            lock_waits: self.shared.locks.waiting(),
            commit_log_entries: self.shared.commit_log.lock().len(),
        }
    }
}
