//! The public handle: open (with recovery), reads through views, writes through the
//! commit pipeline, checkpoints, stats and an orderly close.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::Lsn;
use crate::batch::WriteBatch;
use crate::commit::CommitTicket;
use crate::crypto::{KeyId, MasterKey};
use crate::error::{Error, Result};
use crate::fs::{Fs, RealFs};
use crate::gc::Collector;
use crate::index::Index;
use crate::inner::{CheckpointState, Durable, Inner, Queue, SyncState};
use crate::options::{FsyncPolicy, Options, StorageMode};
use crate::recovery;
use crate::snapshot::SnapshotInfo;
use crate::view::ReadView;
use crate::view_registry::ViewRegistry;
use crate::vlog::ValueLogStats;
use crate::wal::WalCounters;

/// How often the maintenance thread looks for idle garbage and due checkpoints.
const MAINTENANCE_TICK: Duration = Duration::from_millis(100);
/// Keys trimmed per apply-lock hold when collecting in the background.
const IDLE_GC_CHUNK: usize = 4096;
/// After a failed checkpoint, the next automatic attempt waits this long.
const CHECKPOINT_RETRY: Duration = Duration::from_secs(5);

/// What the store looks like right now, for monitoring.
#[derive(Clone, Debug)]
pub struct Stats {
    pub live_keys: u64,
    /// Keys in the index, including deleted ones whose tombstones are not yet collected.
    pub index_entries: u64,
    /// Versions held in memory, tombstones included: live keys plus what the garbage
    /// collector has not trimmed yet or registered views still need.
    pub versions: u64,
    pub approx_memory_bytes: u64,
    /// The budget `approx_memory_bytes` is held to (`Options::memory_limit_bytes`).
    pub memory_limit_bytes: Option<u64>,
    pub visible_lsn: u64,
    /// Highest LSN known to be on stable storage (equals `visible_lsn` in memory mode).
    pub durable_lsn: u64,
    pub wal_segments: usize,
    pub wal_bytes: u64,
    /// fdatasyncs of the log since open; with concurrent committers in `always` mode,
    /// fewer than commits (group commit).
    pub wal_syncs: u64,
    /// Time spent in those fdatasyncs.
    pub wal_sync_seconds: f64,
    /// Groups of commits written to the log together, and the commits (batches) in them:
    /// their ratio is the mean group size.
    pub commit_groups: u64,
    pub committed_batches: u64,
    pub wal_bytes_since_snapshot: u64,
    pub last_snapshot: Option<SnapshotInfo>,
    /// Snapshots written since open.
    pub snapshots_written: u64,
    pub open_views: usize,
    pub gc_pending_keys: usize,
    /// In an encrypted store: the id of the master key its data keys are sealed under.
    pub master_key_id: Option<KeyId>,
    /// In a hybrid store: the value log's files, bytes and garbage, and its cache.
    pub value_log: Option<ValueLogStats>,
}

impl Inner {
    pub(crate) fn wake_maintenance(&self) {
        if !self.checkpoint_due.swap(true, Ordering::AcqRel) {
            let _guard = self.maintenance.lock();
            self.maintenance_wake.notify_one();
        }
    }

    /// Drains the garbage queue in chunks, releasing the apply lock in between.
    fn collect_idle_garbage(&self) {
        loop {
            let mut collector = self.apply.lock();
            if collector.pending() == 0 {
                return;
            }
            let visible = self.visible_lsn.load(Ordering::Acquire);
            if collector.collect(&self.index, &self.views, visible, IDLE_GC_CHUNK) == 0 {
                return;
            }
        }
    }

    fn maintain(self: &Arc<Self>) {
        loop {
            {
                let mut shutdown = self.maintenance.lock();
                if !*shutdown {
                    self.maintenance_wake
                        .wait_for(&mut shutdown, MAINTENANCE_TICK);
                }
                if *shutdown {
                    return;
                }
            }
            self.collect_idle_garbage();
            if let Err(error) = self.compact_value_log() {
                tracing::warn!(%error, "value log compaction failed; it is retried later");
            }
            if self.is_checkpoint_due() {
                match self.checkpoint() {
                    Ok(_) => self.checkpoint_due.store(false, Ordering::Release),
                    Err(error) => {
                        tracing::warn!(%error, "checkpoint failed; the log still holds every write");
                        if let Some(durable) = &self.durable {
                            durable.checkpoints.lock().retry_after =
                                Some(Instant::now() + CHECKPOINT_RETRY);
                        }
                    }
                }
            }
        }
    }

    fn is_checkpoint_due(&self) -> bool {
        let Some(durable) = &self.durable else {
            return false;
        };
        if self.failure.get().is_some() {
            return false;
        }
        let state = durable.checkpoints.lock();
        if state.retry_after.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        let snapshot_lsn = state.last.as_ref().map_or(0, |info| info.lsn);
        let new_writes = self.visible_lsn.load(Ordering::Acquire) > snapshot_lsn;
        let by_size = durable.wal_bytes_since_snapshot.load(Ordering::Relaxed)
            >= self.options.snapshot_after_wal_bytes;
        let by_time = self
            .options
            .snapshot_interval
            .is_some_and(|every| state.last_at.elapsed() >= every);
        new_writes && (by_size || by_time)
    }

    /// The `interval` fsync policy: force the log to disk every interval.
    fn sync_periodically(self: &Arc<Self>, every: Duration) {
        loop {
            {
                let mut shutdown = self.maintenance.lock();
                if !*shutdown {
                    self.maintenance_wake.wait_for(&mut shutdown, every);
                }
                if *shutdown {
                    return;
                }
            }
            if let Err(error) = self.sync_wal() {
                tracing::error!(%error, "background fdatasync of the WAL failed");
                return;
            }
        }
    }

    /// Makes every written log record durable, without blocking the leader during the
    /// fsync itself.
    pub(crate) fn sync_wal(&self) -> Result<()> {
        let Some(durable) = &self.durable else {
            return Ok(());
        };
        if let Some(error) = self.failure() {
            return Err(error);
        }
        let (file, lsn, path) = {
            let wal = durable.wal.lock();
            if wal.durable_lsn() == wal.written_lsn() {
                return Ok(());
            }
            wal.sync_target()
        };
        let started = Instant::now();
        if let Err(error) = file.sync_data() {
            let error = Error::io(
                format!("fdatasync of WAL segment {}", path.display()),
                error,
            );
            let _ = self.failure.set(error.to_string().into());
            return Err(error);
        }
        let sync_nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        durable.wal.lock().synced_through(lsn, sync_nanos);
        Ok(())
    }

    fn stop_threads(&self) {
        *self.maintenance.lock() = true;
        self.maintenance_wake.notify_all();
    }
}

/// See `Store::newest_reader`. Holding one keeps the versions it could read from being
/// freed, so it is for one burst of look-ups, not to keep.
pub struct NewestReader<'a> {
    store: &'a Store,
    guard: crossbeam_epoch::Guard,
}

impl NewestReader<'_> {
    /// Whether the newest version of `key` holds a value (not a delete, not absent).
    pub fn has_value(&self, key: &[u8]) -> bool {
        self.store
            .inner()
            .index
            .read(key, u64::MAX, &self.guard)
            .is_some_and(|version| version.stored().is_some())
    }
}

/// An ordered key-value store. Cheap to clone; all clones share one store, which closes
/// when the last one is dropped (or on an explicit `close`).
#[derive(Clone)]
pub struct Store {
    handle: Arc<Handle>,
}

struct Handle {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    closed: Mutex<bool>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::warn!(%error, "closing the store failed");
        }
    }
}

impl Store {
    /// Opens (or creates) a store, recovering it from disk in disk mode.
    pub fn open(options: Options) -> Result<Store> {
        Self::open_with_fs(options, Arc::new(RealFs))
    }

    /// Opens a store on the given file system (the simulated one in tests).
    pub fn open_with_fs(options: Options, fs: Arc<dyn Fs>) -> Result<Store> {
        options.validate()?;
        let started = Instant::now();
        let (index, durable, values, last_lsn, collector) = match &options.mode {
            StorageMode::Memory => (Index::new(), None, None, 0, Collector::default()),
            StorageMode::Disk { dir } | StorageMode::Hybrid { dir } => {
                let recovered = recovery::recover(fs.clone(), dir, &options)?;
                tracing::info!(
                    dir = %dir.display(),
                    keys = recovered.index.live_keys(),
                    lsn = recovered.last_lsn,
                    snapshot_lsn = recovered.last_snapshot.as_ref().map_or(0, |s| s.lsn),
                    replayed_batches = recovered.replayed_batches,
                    truncated_wal_bytes = recovered.truncated_wal_bytes,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "store recovered"
                );
                let durable = Durable {
                    fs,
                    snapshot_dir: recovered.snapshot_dir,
                    wal: Mutex::new(recovered.wal),
                    checkpoints: Mutex::new(CheckpointState {
                        last: recovered.last_snapshot,
                        written: 0,
                        last_at: Instant::now(),
                        retry_after: None,
                    }),
                    wal_bytes_since_snapshot: AtomicU64::new(recovered.wal_bytes_since_snapshot),
                    dir_lock: Mutex::new(Some(recovered.dir_lock)),
                    dir: dir.clone(),
                    keyring: recovered.keyring,
                };
                (
                    recovered.index,
                    Some(durable),
                    recovered.values,
                    recovered.last_lsn,
                    recovered.collector,
                )
            }
        };
        let inner = Arc::new(Inner {
            index,
            visible_lsn: AtomicU64::new(last_lsn),
            views: ViewRegistry::default(),
            durable,
            values,
            queue: Mutex::new(Queue {
                next_lsn: last_lsn + 1,
                pending: Vec::new(),
                closed: false,
            }),
            sync: Mutex::new(SyncState {
                leader_active: false,
                applied_lsn: last_lsn,
            }),
            group_done: Condvar::new(),
            apply: Mutex::new(collector),
            failure: OnceLock::new(),
            maintenance: Mutex::new(false),
            maintenance_wake: Condvar::new(),
            checkpoint_due: AtomicBool::new(false),
            options,
        });
        inner.collect_idle_garbage();
        inner.account_value_log();

        let mut threads = Vec::new();
        let spawn = |name: &str, work: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(work)
                .map_err(|e| Error::io("starting a background thread", e))
        };
        if inner.options.background_maintenance {
            let worker = inner.clone();
            threads.push(spawn(
                "kv-maintenance",
                Box::new(move || worker.maintain()),
            )?);
        }
        if let (Some(_), FsyncPolicy::Interval(every)) = (&inner.durable, inner.options.fsync) {
            let worker = inner.clone();
            threads.push(spawn(
                "kv-wal-sync",
                Box::new(move || worker.sync_periodically(every)),
            )?);
        }
        Ok(Store {
            handle: Arc::new(Handle {
                inner,
                threads: Mutex::new(threads),
                closed: Mutex::new(false),
            }),
        })
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    pub fn options(&self) -> &Options {
        &self.inner().options
    }

    /// A consistent view of everything committed so far.
    pub fn read_view(&self) -> ReadView {
        ReadView::new(self.inner().clone())
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read_view().get(key)
    }

    /// Calls `f` with the newest value of `key` in the index — newer than every view's
    /// while a batch writing it is being applied — without registering a view. For a
    /// caller holding the key's write lock: the previous holder released it only once its
    /// commit was applied and no other writer can be under way, so the newest version is
    /// the one to see; and the collector never removes a key's newest version (a newest
    /// delete may take the whole key with it, which reads the same).
    pub fn newest_with<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> Result<R> {
        let guard = crossbeam_epoch::pin();
        let stored = self
            .inner()
            .index
            .read(key, u64::MAX, &guard)
            .and_then(|version| version.stored());
        self.inner().with_value(stored, f)
    }

    /// `newest_with` for many keys under one epoch pin, with the same caveat: for keys
    /// the caller holds the write locks of.
    pub fn newest_reader(&self) -> NewestReader<'_> {
        NewestReader {
            store: self,
            guard: crossbeam_epoch::pin(),
        }
    }

    /// The LSN up to which every batch is visible.
    pub fn visible_lsn(&self) -> Lsn {
        Lsn(self.inner().visible_lsn.load(Ordering::Acquire))
    }

    /// The LSN the oldest live read view reads at; `None` when no view is open. Every
    /// commit at or below it is seen by every view: data no newer snapshot can address is
    /// out of every reader's reach once this passes the commit that orphaned it.
    pub fn oldest_view_lsn(&self) -> Option<Lsn> {
        self.inner().views.lsns().first().copied().map(Lsn)
    }

    /// Commits a batch atomically and returns its LSN once it is applied (and durable in
    /// `always` mode).
    pub fn write(&self, batch: WriteBatch) -> Result<Lsn> {
        self.submit(batch)?.wait()
    }

    /// Queues a batch for commit and returns at once with its LSN assigned; the ticket
    /// waits for the commit. Batches commit in the order they are submitted.
    pub fn submit(&self, batch: WriteBatch) -> Result<CommitTicket> {
        self.inner().submit(batch)
    }

    pub fn put(&self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Result<Lsn> {
        let mut batch = WriteBatch::with_capacity(1);
        batch.put(key, value);
        self.write(batch)
    }

    pub fn delete(&self, key: impl Into<Vec<u8>>) -> Result<Lsn> {
        let mut batch = WriteBatch::with_capacity(1);
        batch.delete(key);
        self.write(batch)
    }

    /// Forces every acknowledged write to stable storage (useful with the `interval` and
    /// `never` policies).
    pub fn sync(&self) -> Result<()> {
        self.inner().sync_wal()
    }

    /// Writes a snapshot of the current state now, then drops the snapshots and log
    /// segments it makes unnecessary. `None` in memory mode.
    pub fn checkpoint(&self) -> Result<Option<SnapshotInfo>> {
        self.inner().checkpoint()
    }

    /// Re-seals the data keys of an encrypted store under `new_master` and adds a fresh
    /// data key that files created from now on use. Only the keyring is rewritten
    /// (atomically: a crash leaves the old keyring or the new one); from then on the
    /// store opens with `new_master` only. Returns the new key's id.
    pub fn rotate_master_key(&self, new_master: &MasterKey) -> Result<KeyId> {
        let inner = self.inner();
        let Some((durable, keyring)) = inner
            .durable
            .as_ref()
            .and_then(|durable| Some((durable, durable.keyring.as_ref()?)))
        else {
            return Err(Error::Encryption(
                "the store is not encrypted; there is no master key to rotate".into(),
            ));
        };
        let mut keyring = keyring.lock();
        let rotated = keyring.rotated(new_master)?;
        rotated.write(&*durable.fs, &durable.dir, new_master)?;
        tracing::info!(
            from = %keyring.master_id(),
            to = %rotated.master_id(),
            data_keys = rotated.data_key_count(),
            "master key rotated"
        );
        *keyring = rotated;
        Ok(new_master.id())
    }

    /// Verifies the store's structures against themselves (tests and diagnosis): waits
    /// until no commit group is being written and holds off checkpoints and compaction,
    /// then walks the whole index — key order, tree shape, version chains, counters — and
    /// checks the value log's byte accounting exactly. Costs a walk of everything held;
    /// `Err` names the first violation.
    pub fn check_consistency(&self) -> std::result::Result<(), String> {
        let inner = self.inner();
        let _no_checkpoint = inner.durable.as_ref().map(|d| d.checkpoints.lock());
        let mut sync = inner.sync.lock();
        while sync.leader_active {
            inner.group_done.wait(&mut sync);
        }
        let _apply = inner.apply.lock();
        inner.index.check_consistency(&crossbeam_epoch::pin())?;
        match inner.value_accounting_violation(true) {
            Some(violation) => Err(violation),
            None => Ok(()),
        }
    }

    pub fn stats(&self) -> Stats {
        let inner = self.inner();
        let visible_lsn = inner.visible_lsn.load(Ordering::Acquire);
        let (durable_lsn, wal_segments, wal_bytes, wal, since, (last_snapshot, snapshots_written)) =
            match &inner.durable {
                None => (visible_lsn, 0, 0, WalCounters::default(), 0, (None, 0)),
                Some(durable) => {
                    let (durable_lsn, (segments, bytes), counters) = {
                        let wal = durable.wal.lock();
                        (wal.durable_lsn(), wal.size(), wal.counters())
                    };
                    (
                        durable_lsn,
                        segments,
                        bytes,
                        counters,
                        durable.wal_bytes_since_snapshot.load(Ordering::Relaxed),
                        {
                            let checkpoints = durable.checkpoints.lock();
                            (checkpoints.last.clone(), checkpoints.written)
                        },
                    )
                }
            };
        Stats {
            live_keys: inner.index.live_keys(),
            index_entries: inner.index.entries(),
            versions: inner.index.versions(),
            approx_memory_bytes: inner.index.approx_bytes(),
            memory_limit_bytes: inner.options.memory_limit_bytes,
            visible_lsn,
            durable_lsn,
            wal_segments,
            wal_bytes,
            wal_syncs: wal.syncs,
            wal_sync_seconds: wal.sync_nanos as f64 / 1e9,
            commit_groups: wal.groups,
            committed_batches: wal.batches,
            wal_bytes_since_snapshot: since,
            last_snapshot,
            snapshots_written,
            open_views: inner.views.count(),
            gc_pending_keys: inner.apply.lock().pending(),
            master_key_id: inner
                .durable
                .as_ref()
                .and_then(|durable| durable.keyring.as_ref())
                .map(|keyring| keyring.lock().master_id()),
            value_log: inner.values.as_ref().map(|values| {
                values.log.note_dead(&inner.index.take_dead_values());
                values.stats()
            }),
        }
    }

    /// Compacts value-log files until none has enough garbage to be worth it; returns
    /// how many were compacted (tests and tools; the maintenance thread does this too).
    pub fn compact_value_log(&self) -> Result<usize> {
        let mut compacted = 0;
        while self.inner().compact_value_log()? {
            compacted += 1;
        }
        Ok(compacted)
    }

    /// Runs the garbage collector until nothing collectable is left (tests and tools).
    pub fn collect_garbage(&self) {
        self.inner().collect_idle_garbage();
    }

    /// Finishes queued commits, stops background work, takes the closing snapshot (or
    /// syncs the log) and releases the directory. Later writes fail with
    /// `Error::Closed`; views keep working. Closing twice is harmless.
    pub fn close(&self) -> Result<()> {
        self.handle.close()
    }
}

impl Handle {
    fn close(&self) -> Result<()> {
        let mut closed = self.closed.lock();
        if *closed {
            return Ok(());
        }
        *closed = true;
        let inner = &self.inner;
        let last_lsn = {
            let mut queue = inner.queue.lock();
            queue.closed = true;
            queue.next_lsn - 1
        };
        let flushed = inner.wait_applied(last_lsn);
        inner.stop_threads();
        for thread in self.threads.lock().drain(..) {
            if thread.join().is_err() {
                tracing::error!("a background thread of the store panicked");
            }
        }
        let Some(durable) = &inner.durable else {
            return flushed;
        };
        let finished = flushed.and_then(|()| {
            let snapshot_lsn = durable
                .checkpoints
                .lock()
                .last
                .as_ref()
                .map_or(0, |s| s.lsn);
            if inner.options.snapshot_on_close && last_lsn > snapshot_lsn {
                inner.checkpoint().map(|_| ())
            } else {
                inner.sync_wal()
            }
        });
        durable.dir_lock.lock().take();
        finished
    }
}
