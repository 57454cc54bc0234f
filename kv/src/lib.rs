//! ByteData's storage engine: an embedded, thread-safe, ordered byte-key/byte-value
//! store with atomic write batches, consistent read views, a write-ahead log with group
//! commit, and background snapshots.
//!
//! # Design
//!
//! All data lives in memory, in a B+-tree with lock-free reads (`index`) mapping each key to a
//! short chain of versions stamped with the LSN of the batch that wrote them. Durability
//! comes from a write-ahead log (`wal`) and periodic snapshots (`snapshot`,
//! `checkpoint`); at open, the newest snapshot that verifies is loaded and the log after
//! it replayed (`recovery`).
//!
//! A write is a `WriteBatch`: many puts and deletes that commit as one unit under one
//! LSN. The commit pipeline (`commit`) assigns LSNs in submission order, writes
//! concurrent batches as one log write with one fdatasync (group commit), applies them to
//! the index and then advances the *visible LSN*. Reads go through a `ReadView`, which
//! fixes an LSN and sees exactly the batches at or below it — never part of a batch,
//! never a batch that is not yet in the log — for as long as it lives, while writers
//! continue. Versions that no view can see any more are trimmed by the garbage collector
//! (`gc`).
//!
//! # Invariants
//!
//! - LSNs are assigned without gaps, and batches are logged, applied and made visible in
//!   LSN order.
//! - A batch is visible only after its log record is written (and fdatasync'ed in
//!   `always` mode). Once `write` returns in `always` mode, the batch survives any crash.
//! - A batch is applied whole or not at all, in memory and at recovery.
//! - The log is never truncated or deleted past what a durable snapshot covers.
//! - Every byte read back from disk is checked (checksums, lengths, order, LSN
//!   continuity) before it is trusted; what fails is reported with file and offset.
//! - What the index holds agrees with itself: key order, tree shape, version chains and
//!   counters are walked and recounted after changes in debug builds (`index::check`),
//!   and `Store::check_consistency` checks them, and the value log's accounting, on
//!   demand.
//!
//! # Example
//!
//! ```
//! use bytedata_kv::{Options, Store, WriteBatch};
//!
//! # fn main() -> bytedata_kv::Result<()> {
//! # let dir = tempfile::tempdir().map_err(|e| bytedata_kv::Error::Config(e.to_string()))?;
//! let store = Store::open(Options::disk(dir.path()))?; // recovers what is on disk
//! let mut batch = WriteBatch::new();
//! batch.put("account/1", "90").put("account/2", "110"); // all or nothing, one LSN
//! store.write(batch)?; // durable when it returns
//! let view = store.read_view(); // consistent while writers go on
//! store.delete("account/1")?;
//! let keys = view
//!     .scan("account/".."account0")
//!     .map(|entry| entry.map(|(key, _)| key))
//!     .collect::<bytedata_kv::Result<Vec<_>>>()?;
//! assert_eq!(keys, [b"account/1".to_vec(), b"account/2".to_vec()]);
//! assert_eq!(store.get(b"account/1")?, None);
//! # Ok(())
//! # }
//! ```
//!
//! Storage modes: `Memory` (nothing on disk), `Disk` (memory plus log and snapshots) and
//! `Hybrid` (as `Disk`, but large values live in an append-only value log, `vlog`, and
//! the index holds pointers to them, `pointer`; `hybrid` decides which values go there,
//! `compaction` reclaims the space of dead values).
//!
//! The parts of a store share one `inner::Inner` (the index, the commit queue, the locks);
//! each adds its methods in its own file: `commit`, `checkpoint`, `compaction`, `view`,
//! `store` (the public handle and maintenance).
//! Disk and hybrid stores can be encrypted at rest (`crypto`: every log frame, snapshot
//! block and value-log entry sealed).

mod batch;
mod checkpoint;
mod codec;
mod commit;
mod compaction;
mod crypto;
mod error;
pub mod fs;
mod gc;
mod hybrid;
mod index;
mod inner;
mod options;
mod pointer;
mod recovery;
mod snapshot;
mod store;
mod view;
mod view_registry;
mod vlog;
mod wal;

pub use batch::{BatchOp, WriteBatch};
pub use commit::CommitTicket;
pub use crypto::{KeyId, MasterKey};
pub use error::{Error, Result};
pub use options::{FsyncPolicy, MIN_MEMORY_LIMIT_BYTES, Options, StorageMode};
pub use snapshot::SnapshotInfo;
pub use store::{NewestReader, Stats, Store};
pub use view::{KeyRange, ReadView, Scan};
pub use vlog::ValueLogStats;

/// A log sequence number: the position of a committed batch in the total order of
/// commits. The first batch of a store has LSN 1; LSN 0 is the empty store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
