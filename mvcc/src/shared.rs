//! What every transaction of one engine shares: the kv store, the lock table, the commit
//! log serializable transactions are validated against, and the counters.

use std::sync::atomic::{AtomicU64, Ordering};

use bytedata_kv::Store;
use parking_lot::Mutex;

use crate::commit_log::CommitLog;
use crate::locks::{LockManager, TxnId};

pub(crate) struct Shared {
    pub store: Store,
    pub locks: LockManager,
    pub commit_log: Mutex<CommitLog>,
    next_txn_id: AtomicU64,
    pub active: AtomicU64,
    /// Transactions ended since open, by outcome (a dropped one counts as rolled back).
    pub committed: AtomicU64,
    pub rolled_back: AtomicU64,
}

impl Shared {
    pub fn new(store: Store) -> Self {
        Shared {
            store,
            locks: LockManager::new(),
            commit_log: Mutex::new(CommitLog::default()),
            next_txn_id: AtomicU64::new(1),
            active: AtomicU64::new(0),
            committed: AtomicU64::new(0),
            rolled_back: AtomicU64::new(0),
        }
    }

    /// A transaction id never handed out before in this engine.
    pub fn next_txn_id(&self) -> TxnId {
        self.next_txn_id.fetch_add(1, Ordering::Relaxed)
    }
}
