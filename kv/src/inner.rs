//! The state a store's parts share: `Inner`, behind the `Store` handle and every
//! `ReadView`.
//!
//! Each part adds its own methods in its own file — the commit pipeline (`commit`),
//! checkpoints (`checkpoint`), value-log compaction (`compaction`), read views (`view`),
//! maintenance and the public handle (`store`) — and finds here only the data they share
//! and the locks that guard it:
//!
//! - `queue`: batches submitted and waiting for a leader, and the next LSN to assign;
//! - `sync` and `group_done`: whether a group leader is active, and what is applied;
//! - `apply`: the apply lock, held while versions are added, trimmed or relocated;
//! - `Durable::checkpoints`: serializes checkpoints and compaction.
//!
//! Lock order, where several are held: `checkpoints`, then `sync`, then `apply`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::batch::WriteBatch;
use crate::crypto::keyring::SharedKeyring;
use crate::fs::{DirLock, Fs};
use crate::gc::Collector;
use crate::hybrid::HybridValues;
use crate::index::Index;
use crate::options::Options;
use crate::snapshot::SnapshotInfo;
use crate::view_registry::ViewRegistry;
use crate::wal::Wal;

pub(crate) struct Inner {
    pub options: Options,
    pub index: Index,
    /// Every batch up to this LSN is applied; readers read at or below it.
    pub visible_lsn: AtomicU64,
    pub views: ViewRegistry,
    /// The log and snapshots; `None` in memory mode.
    pub durable: Option<Durable>,
    /// The value log: hybrid mode (or a store that was hybrid) only.
    pub values: Option<HybridValues>,
    pub queue: Mutex<Queue>,
    pub sync: Mutex<SyncState>,
    pub group_done: Condvar,
    /// The apply lock: held while versions are added or trimmed.
    pub apply: Mutex<Collector>,
    /// Set once, by the first failed write or fsync of the log.
    pub failure: OnceLock<Arc<str>>,
    pub maintenance: Mutex<bool>,
    pub maintenance_wake: Condvar,
    pub checkpoint_due: AtomicBool,
}

pub(crate) struct Durable {
    pub fs: Arc<dyn Fs>,
    pub snapshot_dir: PathBuf,
    pub wal: Mutex<Wal>,
    /// Serializes checkpoints and remembers the last one.
    pub checkpoints: Mutex<CheckpointState>,
    pub wal_bytes_since_snapshot: AtomicU64,
    pub dir_lock: Mutex<Option<Box<dyn DirLock>>>,
    pub dir: PathBuf,
    /// The data keys of an encrypted store.
    pub keyring: Option<SharedKeyring>,
}

pub(crate) struct CheckpointState {
    pub last: Option<SnapshotInfo>,
    /// Snapshots written since open.
    pub written: u64,
    pub last_at: Instant,
    pub retry_after: Option<Instant>,
}

pub(crate) struct Pending {
    pub lsn: u64,
    pub encoded: Vec<u8>,
    pub batch: WriteBatch,
    /// What applying it may add to the index's memory (`WriteBatch::memory_charge_bytes`).
    pub charge_bytes: u64,
}

pub(crate) struct Queue {
    pub next_lsn: u64,
    pub pending: Vec<Pending>,
    pub closed: bool,
}

pub(crate) struct SyncState {
    pub leader_active: bool,
    pub applied_lsn: u64,
}
