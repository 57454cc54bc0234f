//! How a store is opened: where its data lives, when the log is forced to disk, when
//! snapshots are taken, and the size limits every write is checked against.

use std::path::PathBuf;
use std::time::Duration;

use crate::crypto::MasterKey;
use crate::error::{Error, Result};

/// Where the data of a store is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageMode {
    /// Nothing touches the disk; the data lives as long as the process.
    Memory,
    /// Everything in memory, made durable by the write-ahead log and snapshots in `dir`.
    Disk { dir: PathBuf },
    /// As `Disk`, but values of at least `Options::value_threshold_bytes` live in a value
    /// log in `dir` and are read back through a bounded cache; memory holds the keys,
    /// the small values and a pointer per large one.
    Hybrid { dir: PathBuf },
}

impl StorageMode {
    /// The directory of a store on disk.
    pub fn dir(&self) -> Option<&std::path::Path> {
        match self {
            StorageMode::Memory => None,
            StorageMode::Disk { dir } | StorageMode::Hybrid { dir } => Some(dir),
        }
    }
}

/// When acknowledged writes are forced to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// A write is acknowledged only after an fdatasync covers its log record.
    /// Concurrent committers share one fdatasync (group commit).
    Always,
    /// The log is written before acknowledging and fdatasync'ed in the background every
    /// interval: an OS crash or power loss can lose at most the last interval of
    /// acknowledged writes. A crash of the process alone loses nothing.
    Interval(Duration),
    /// The log is written before acknowledging; the OS decides when it reaches the disk.
    /// A crash of the process alone loses nothing.
    Never,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub mode: StorageMode,
    pub fsync: FsyncPolicy,
    /// A log segment is closed (fsynced) and a new one started once it reaches this size.
    pub wal_segment_bytes: u64,
    /// A snapshot is taken once this many log bytes were written since the last one.
    pub snapshot_after_wal_bytes: u64,
    /// A snapshot is taken at least this often while there are new writes.
    pub snapshot_interval: Option<Duration>,
    /// Snapshots kept on disk (at least 2): the log is kept back to the oldest of them, so
    /// a damaged newest snapshot can be replaced by the one before plus the log.
    pub snapshots_kept: usize,
    /// Take a snapshot when the store is closed cleanly, so the next open replays no log.
    pub snapshot_on_close: bool,
    pub max_key_bytes: usize,
    pub max_value_bytes: usize,
    /// Upper bound of one batch: its keys and values plus a few bytes per operation.
    pub max_batch_bytes: usize,
    /// Concurrent batches are written as one log frame up to this size.
    pub group_commit_bytes: usize,
    /// The memory budget: a batch that writes values is refused (`Error::MemoryLimit`)
    /// when the index's approximate memory plus what the batch and the batches queued
    /// ahead of it would add exceeds it. Batches of deletes only, and reads, are never
    /// refused, so a full store can always be shrunk. `None`: no budget.
    pub memory_limit_bytes: Option<u64>,
    /// Seal everything written to disk under data keys wrapped by this master key
    /// (disk mode only). A store created with a key can only be opened with it (or
    /// the key it was rotated to); one created without cannot be opened with one.
    pub encryption: Option<MasterKey>,
    /// Hybrid mode: values of at least this many bytes go to the value log.
    pub value_threshold_bytes: usize,
    /// Hybrid mode: the budget of the cache of values read from the value log. It is
    /// not part of `memory_limit_bytes`, which bounds the index.
    pub value_cache_bytes: u64,
    /// Hybrid mode: a value-log file is closed and a new one started at this size.
    pub value_log_file_bytes: u64,
    /// Hybrid mode: a closed value-log file is compacted (its live values moved to the
    /// newest file) once at least this percentage of its bytes is garbage.
    pub value_log_gc_percent: u8,
    /// A background thread collects garbage, compacts the value log and takes due
    /// snapshots. Off only for tests that drive these steps themselves and count them.
    pub background_maintenance: bool,
}

/// Hard limits of the on-disk formats; options may not exceed them.
pub const FORMAT_MAX_KEY_BYTES: usize = 1 << 20;
pub const FORMAT_MAX_VALUE_BYTES: usize = 1 << 30;
pub const FORMAT_MAX_BATCH_BYTES: usize = 1 << 30;
/// A smaller budget could not hold an empty database's catalog.
pub const MIN_MEMORY_LIMIT_BYTES: u64 = 1 << 20;

impl Options {
    pub fn memory() -> Self {
        Self::with_mode(StorageMode::Memory)
    }

    pub fn disk(dir: impl Into<PathBuf>) -> Self {
        Self::with_mode(StorageMode::Disk { dir: dir.into() })
    }

    pub fn hybrid(dir: impl Into<PathBuf>) -> Self {
        Self::with_mode(StorageMode::Hybrid { dir: dir.into() })
    }

    fn with_mode(mode: StorageMode) -> Self {
        Options {
            mode,
            fsync: FsyncPolicy::Always,
            wal_segment_bytes: 64 << 20,
            snapshot_after_wal_bytes: 256 << 20,
            snapshot_interval: Some(Duration::from_secs(300)),
            snapshots_kept: 2,
            snapshot_on_close: true,
            max_key_bytes: 16 << 10,
            max_value_bytes: 64 << 20,
            max_batch_bytes: 512 << 20,
            group_commit_bytes: 4 << 20,
            memory_limit_bytes: None,
            encryption: None,
            value_threshold_bytes: 128,
            value_cache_bytes: 64 << 20,
            value_log_file_bytes: 64 << 20,
            value_log_gc_percent: 50,
            background_maintenance: true,
        }
    }

    pub fn fsync(mut self, policy: FsyncPolicy) -> Self {
        self.fsync = policy;
        self
    }

    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit_bytes = Some(bytes);
        self
    }

    pub fn encrypted(mut self, master_key: MasterKey) -> Self {
        self.encryption = Some(master_key);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let fail = |msg: String| Err(Error::Config(msg));
        if self.snapshots_kept < 2 {
            return fail(format!(
                "snapshots_kept is {}, it must be at least 2 so a damaged snapshot can be replaced",
                self.snapshots_kept
            ));
        }
        if self.wal_segment_bytes < 4096 {
            return fail(format!(
                "wal_segment_bytes is {}, it must be at least 4096",
                self.wal_segment_bytes
            ));
        }
        if self.max_key_bytes == 0 || self.max_key_bytes > FORMAT_MAX_KEY_BYTES {
            return fail(format!(
                "max_key_bytes must be between 1 and {FORMAT_MAX_KEY_BYTES}"
            ));
        }
        if self.max_value_bytes > FORMAT_MAX_VALUE_BYTES {
            return fail(format!(
                "max_value_bytes must be at most {FORMAT_MAX_VALUE_BYTES}"
            ));
        }
        if self
            .memory_limit_bytes
            .is_some_and(|limit| limit < MIN_MEMORY_LIMIT_BYTES)
        {
            return fail(format!(
                "memory_limit_bytes must be at least {MIN_MEMORY_LIMIT_BYTES} (1 MiB)"
            ));
        }
        if self.max_batch_bytes == 0 || self.max_batch_bytes > FORMAT_MAX_BATCH_BYTES {
            return fail(format!(
                "max_batch_bytes must be between 1 and {FORMAT_MAX_BATCH_BYTES}"
            ));
        }
        if self.encryption.is_some() && self.mode == StorageMode::Memory {
            return fail(
                "encryption at rest needs a store on disk; a memory store writes no files".into(),
            );
        }
        if self.value_threshold_bytes < crate::pointer::POINTER_BYTES {
            return fail(format!(
                "value_threshold_bytes must be at least {} (a pointer's size)",
                crate::pointer::POINTER_BYTES
            ));
        }
        if self.value_log_file_bytes < 4096 {
            return fail(format!(
                "value_log_file_bytes is {}, it must be at least 4096",
                self.value_log_file_bytes
            ));
        }
        if !(1..=100).contains(&self.value_log_gc_percent) {
            return fail(format!(
                "value_log_gc_percent is {}, it must be between 1 and 100",
                self.value_log_gc_percent
            ));
        }
        if let FsyncPolicy::Interval(every) = self.fsync
            && every.is_zero()
        {
            return fail("the fsync interval must be longer than zero".into());
        }
        Ok(())
    }
}
