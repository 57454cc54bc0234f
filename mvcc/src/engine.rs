//! The transaction engine over one kv store: begins transactions, holds the lock table
//! and the commit log they share.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytedata_kv::Store;

use crate::error::Result;
use crate::options::TxnOptions;
use crate::shared::Shared;
use crate::txn::Transaction;

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
    /// Transactions committed and rolled back since open (read-only ones included).
    pub commits: u64,
    pub rollbacks: u64,
}

impl Engine {
    pub fn new(store: Store) -> Self {
        Engine {
            shared: Arc::new(Shared::new(store)),
        }
    }

    pub fn open(options: bytedata_kv::Options) -> Result<Self> {
        Ok(Self::new(Store::open(options)?))
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    pub fn begin(&self, options: TxnOptions) -> Transaction {
        let id = self.shared.next_txn_id();
        Transaction::begin(self.shared.clone(), id, options)
    }

    pub fn stats(&self) -> EngineStats {
        EngineStats {
            active_transactions: self.shared.active.load(Ordering::Relaxed),
            locks_held: self.shared.locks.held(),
            lock_waits: self.shared.locks.waiting(),
            commit_log_entries: self.shared.commit_log.lock().len(),
            commits: self.shared.committed.load(Ordering::Relaxed),
            rollbacks: self.shared.rolled_back.load(Ordering::Relaxed),
        }
    }
}
