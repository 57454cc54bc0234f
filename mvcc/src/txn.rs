//! A transaction: a snapshot to read from, a buffer of its own writes, the locks on the
//! keys it writes, and (when serializable) what it read.
//!
//! Reads see the snapshot with the transaction's own writes merged in. A scan sees the
//! own writes as they were when it started, so a statement that reads and writes the same
//! keys never reads its own output (the buffer is a persistent map: taking a copy for a
//! scan or a savepoint costs nothing until one side changes).
//!
//! A transaction handle is cheap to clone (scans keep one); the transaction rolls back
//! when the last handle goes without a commit.

use std::ops::{Bound, ControlFlow};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytedata_kv::{Lsn, ReadView, WriteBatch};
use bytes::Bytes;
use imbl::OrdMap;
use parking_lot::Mutex;

use crate::commit_log::ReadSet;
use crate::engine::{IsolationLevel, Shared, TxnOptions};
use crate::error::{Error, Result};
use crate::locks::{Acquired, LockId, LockWait, Signal, TxnId};
use crate::scan::{TxnScan, merged_for_each, owned_bounds, slice_bound};

/// The transaction's own writes: `None` deletes.
pub(crate) type Writes = OrdMap<Bytes, Option<Bytes>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Active,
    Committed,
    RolledBack,
}

struct Savepoint {
    name: String,
    writes: Writes,
    locks: usize,
}

impl State {
    fn view(&self) -> &ReadView {
        self.view
            .as_ref()
            .expect("an active transaction has a snapshot")
    }
}

struct State {
    status: Status,
    /// What reads see: the transaction's snapshot, or at READ COMMITTED the statement's.
    /// Released (`None`) as soon as the transaction stops reading — when it commits or
    /// ends — so the garbage collector need not keep versions for it.
    view: Option<ReadView>,
    /// The snapshot the transaction started with (fixed at REPEATABLE READ and above).
    snapshot_lsn: u64,
    writes: Writes,
    /// Locks taken, in the order they were taken (savepoints release a suffix).
    locks: Vec<LockId>,
    reads: ReadSet,
    savepoints: Vec<Savepoint>,
    /// Writes made so far (for `NoWaitScope::wrote`).
    writes_made: u64,
}

pub(crate) struct TxnInner {
    engine: Arc<Shared>,
    id: TxnId,
    options: TxnOptions,
    /// Present for read-write transactions, which can hold locks.
    signal: Option<Arc<Signal>>,
    cancel: Arc<AtomicBool>,
    /// Whether reads are tracked for commit-time validation.
    tracks_reads: bool,
    /// Inside a `NoWaitScope`: a lock held by another transaction is refused at once.
    no_wait: AtomicBool,
    /// A lock was refused because of `no_wait`.
    refused: AtomicBool,
    state: Mutex<State>,
}

/// A transaction. Cheap to clone; all clones are the same transaction.
#[derive(Clone)]
pub struct Transaction {
    inner: Arc<TxnInner>,
}

/// A flag that cancels what a transaction is waiting for (a lock), from any thread.
#[derive(Clone, Debug)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Clears the flag, for the next statement.
    pub fn reset(&self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Transaction {
    pub(crate) fn begin(engine: Arc<Shared>, id: TxnId, options: TxnOptions) -> Self {
        let view = engine.store.read_view();
        let snapshot_lsn = view.lsn().0;
        let read_write = !options.read_only;
        let tracks_reads = read_write && options.isolation == IsolationLevel::Serializable;
        if tracks_reads {
            engine.commit_log.lock().register_serializable(snapshot_lsn);
        }
        let signal = read_write.then(|| engine.locks.register(id));
        engine.active.fetch_add(1, Ordering::Relaxed);
        Transaction {
            inner: Arc::new(TxnInner {
                engine,
                id,
                options,
                signal,
                cancel: Arc::new(AtomicBool::new(false)),
                tracks_reads,
                no_wait: AtomicBool::new(false),
                refused: AtomicBool::new(false),
                state: Mutex::new(State {
                    status: Status::Active,
                    view: Some(view),
                    snapshot_lsn,
                    writes: Writes::new(),
                    locks: Vec::new(),
                    reads: ReadSet::default(),
                    savepoints: Vec::new(),
                    writes_made: 0,
                }),
            }),
        }
    }

    /// Until the scope ends, a lock another transaction holds is not waited for: taking
    /// it fails at once (55P03) and the scope records that it did. For running a
    /// statement on a thread that must not block, and running it again where it may
    /// block when it would have waited; `wrote` tells whether it is still clean to.
    pub fn no_wait_scope(&self) -> NoWaitScope<'_> {
        let previous = self.inner.no_wait.swap(true, Ordering::AcqRel);
        assert!(!previous, "no-wait scopes do not nest");
        self.inner.refused.store(false, Ordering::Release);
        let writes_at_start = self.inner.state.lock().writes_made;
        NoWaitScope {
            txn: self,
            writes_at_start,
        }
    }

    pub fn id(&self) -> u64 {
        self.inner.id
    }

    pub fn isolation(&self) -> IsolationLevel {
        self.inner.options.isolation
    }

    pub fn is_read_only(&self) -> bool {
        self.inner.options.read_only
    }

    /// The LSN reads currently see (the statement's, at READ COMMITTED).
    pub fn snapshot_lsn(&self) -> Lsn {
        let state = self.inner.state.lock();
        state
            .view
            .as_ref()
            .map_or(Lsn(state.snapshot_lsn), ReadView::lsn)
    }

    pub fn is_active(&self) -> bool {
        self.inner.state.lock().status == Status::Active
    }

    /// Whether the transaction has written anything (that a rollback would undo).
    pub fn has_writes(&self) -> bool {
        !self.inner.state.lock().writes.is_empty()
    }

    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.inner.cancel.clone())
    }

    fn active_state(&self) -> Result<parking_lot::MutexGuard<'_, State>> {
        let state = self.inner.state.lock();
        if state.status != Status::Active {
            return Err(Error::NotActive);
        }
        Ok(state)
    }

    /// Starts a new statement: at READ COMMITTED, reads now see everything committed so
    /// far; at higher levels, nothing changes.
    pub fn new_statement(&self) -> Result<()> {
        let mut state = self.active_state()?;
        if self.inner.options.isolation == IsolationLevel::ReadCommitted {
            state.view = Some(self.inner.engine.store.read_view());
        }
        Ok(())
    }

    pub(crate) fn note_read(&self, key: &[u8]) {
        if self.inner.tracks_reads {
            let mut state = self.inner.state.lock();
            self.record_read(&mut state, key);
        }
    }

    fn record_read(&self, state: &mut State, key: &[u8]) {
        if self.inner.tracks_reads && !state.reads.keys.contains(key) {
            state.reads.keys.insert(Bytes::copy_from_slice(key));
        }
    }

    pub(crate) fn record_range(&self, start: Bound<Bytes>, end: Bound<Bytes>) {
        if self.inner.tracks_reads {
            self.inner.state.lock().reads.ranges.push((start, end));
        }
    }

    pub(crate) fn tracks_reads(&self) -> bool {
        self.inner.tracks_reads
    }

    /// The value of `key` as this transaction sees it.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.get_with(key, |value| value.map(Bytes::copy_from_slice))
    }

    /// Calls `f` with the value of `key` without copying it out of the store.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> Result<R> {
        let mut state = self.active_state()?;
        self.record_read(&mut state, key);
        if let Some(own) = state.writes.get(key) {
            return Ok(f(own.as_deref()));
        }
        Ok(state.view().get_with(key, f)?)
    }

    /// A reader frozen at this moment: the snapshot (the statement's, at READ COMMITTED)
    /// with the own writes made so far, and none made later. A statement reads through
    /// one, so it never sees its own output (an `UPDATE` that moves a row ahead of its
    /// scan must not meet it again).
    pub fn reader(&self) -> Result<TxnReader> {
        let state = self.active_state()?;
        Ok(TxnReader {
            txn: self.clone(),
            view: state.view().clone(),
            writes: state.writes.clone(),
        })
    }

    /// A reader of the latest committed state (not the snapshot) with the own writes made
    /// so far: for checks that must see concurrent commits, such as a foreign key's
    /// referencing rows when the referenced row goes.
    pub fn latest_reader(&self) -> Result<TxnReader> {
        let state = self.active_state()?;
        Ok(TxnReader {
            txn: self.clone(),
            view: self.inner.engine.store.read_view(),
            writes: state.writes.clone(),
        })
    }

    /// Entries of `range` in ascending key order, own writes merged in.
    pub fn scan(&self, range: impl bytedata_kv::KeyRange) -> Result<TxnScan> {
        self.open_scan(&range, false)
    }

    /// Entries of `range` in descending key order, own writes merged in.
    pub fn scan_rev(&self, range: impl bytedata_kv::KeyRange) -> Result<TxnScan> {
        self.open_scan(&range, true)
    }

    fn open_scan(&self, range: &impl bytedata_kv::KeyRange, reverse: bool) -> Result<TxnScan> {
        let state = self.active_state()?;
        let (lower, upper) = owned_bounds(range);
        Ok(TxnScan::new(
            self.clone(),
            state.view().clone(),
            state.writes.clone(),
            lower,
            upper,
            reverse,
        ))
    }

    /// Calls `f` on every entry of `range` in order, borrowed, until it breaks.
    pub fn for_each<B>(
        &self,
        range: impl bytedata_kv::KeyRange,
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> ControlFlow<B>,
    ) -> Result<Option<B>> {
        let (view, writes) = {
            let state = self.active_state()?;
            (state.view().clone(), state.writes.clone())
        };
        let (lower, upper) = owned_bounds(&range);
        let (start, end) = if reverse {
            (&upper, &lower)
        } else {
            (&lower, &upper)
        };
        let mut last: Option<Bytes> = None;
        let tracking = self.inner.tracks_reads;
        let result = merged_for_each(
            &view,
            &writes,
            slice_bound(start),
            slice_bound(end),
            reverse,
            |key, value| {
                if tracking {
                    last = Some(Bytes::copy_from_slice(key));
                }
                f(key, value)
            },
        )?;
        if tracking {
            // What was read: from the start to the last key visited, or the whole range.
            let reached = match (&result, last) {
                (Some(_), Some(last)) => Bound::Included(last),
                _ => end.clone(),
            };
            let (low, high) = if reverse {
                (reached, start.clone())
            } else {
                (start.clone(), reached)
            };
            self.record_range(low, high);
        }
        Ok(result)
    }

    /// Locks `key` for this transaction, waiting for another holder as the options say.
    /// At REPEATABLE READ and SERIALIZABLE, a key changed by a commit after the snapshot
    /// cannot be written: that is a serialization failure.
    fn lock_key(&self, key: &[u8]) -> Result<()> {
        self.lock_key_checked(key, true)
    }

    /// Records locks just taken as the transaction's, to be released when it ends, and
    /// returns its state. A transaction that ended while they were being taken (rolled
    /// back through another handle) releases them at once instead: nothing else would.
    /// Takes the locks `ids` together, waiting as the options say, and returns the
    /// transaction's state with those taken just now. They are kept whatever happened,
    /// so that the end of the transaction releases them.
    fn lock_all(
        &self,
        ids: &[LockId],
    ) -> Result<(parking_lot::MutexGuard<'_, State>, Vec<LockId>)> {
        let mut taken = Vec::with_capacity(ids.len());
        let acquired = self.inner.engine.locks.acquire_many(
            self.inner.id,
            ids,
            self.lock_wait(),
            &self.inner.cancel,
            &mut taken,
        );
        let state = self.keep_locks(&taken)?;
        acquired.inspect_err(|error| self.note_refusal(error))?;
        Ok((state, taken))
    }

    fn keep_locks(&self, taken: &[LockId]) -> Result<parking_lot::MutexGuard<'_, State>> {
        let mut state = self.inner.state.lock();
        if state.status != Status::Active {
            drop(state);
            if let Some(signal) = &self.inner.signal {
                self.inner
                    .engine
                    .locks
                    .release(self.inner.id, taken, signal);
            }
            return Err(Error::NotActive);
        }
        state.locks.extend_from_slice(taken);
        Ok(state)
    }

    /// How to wait for a lock another transaction holds: not at all inside a no-wait scope.
    fn lock_wait(&self) -> LockWait {
        if self.inner.no_wait.load(Ordering::Acquire) {
            LockWait::NoWait
        } else {
            self.inner.options.lock_wait
        }
    }

    /// Remembers that a no-wait scope refused a lock.
    fn note_refusal(&self, error: &Error) {
        if self.inner.no_wait.load(Ordering::Acquire)
            && matches!(error, Error::LockNotAvailable { .. })
        {
            self.inner.refused.store(true, Ordering::Release);
        }
    }

    /// Locks `key`; with `check_snapshot`, fails at REPEATABLE READ and above if a commit
    /// after the snapshot changed it (when newly locked).
    fn lock_key_checked(&self, key: &[u8], check_snapshot: bool) -> Result<()> {
        if self.inner.signal.is_none() {
            return Err(Error::ReadOnly {
                operation: "a write",
            });
        }
        let wait = self.lock_wait();
        // The wait happens without the state lock, so the transaction's scans stay usable.
        let engine = &self.inner.engine;
        let id = engine.locks.lock_id(key);
        let acquired = engine
            .locks
            .acquire(self.inner.id, id, wait, &self.inner.cancel)
            .inspect_err(|error| self.note_refusal(error))?;
        let new: &[LockId] = if acquired == Acquired::New {
            std::slice::from_ref(&id)
        } else {
            &[]
        };
        let state = self.keep_locks(new)?;
        if acquired == Acquired::New
            && check_snapshot
            && self.inner.options.isolation != IsolationLevel::ReadCommitted
        {
            // Every commit to the key is visible now: its writer released the lock
            // only after its commit was applied. A key absent both in the snapshot
            // and now lost nothing (and its versions may already be collected).
            let latest = self.inner.engine.store.read_view();
            let changed = latest
                .last_write(key)
                .is_some_and(|lsn| lsn.0 > state.snapshot_lsn);
            if changed && (latest.contains_key(key) || state.view().contains_key(key)) {
                return Err(Error::Serialization {
                    reason: "concurrent update",
                });
            }
        }
        Ok(())
    }

    pub fn put(&self, key: impl Into<Bytes>, value: impl Into<Bytes>) -> Result<()> {
        self.write(key.into(), Some(value.into()))
    }

    pub fn delete(&self, key: impl Into<Bytes>) -> Result<()> {
        self.write(key.into(), None)
    }

    fn write(&self, key: Bytes, value: Option<Bytes>) -> Result<()> {
        if self.inner.options.read_only {
            return Err(Error::ReadOnly {
                operation: if value.is_some() {
                    "a write"
                } else {
                    "a delete"
                },
            });
        }
        drop(self.active_state()?);
        self.lock_key(&key)?;
        let mut state = self.active_state()?;
        state.writes.insert(key, value);
        state.writes_made += 1;
        Ok(())
    }

    /// Locks `key` as for a write (`SELECT … FOR UPDATE`) and returns its value for
    /// update: the transaction's own write if any, else at READ COMMITTED the latest
    /// committed value, and at higher levels the snapshot's (which is the latest, or
    /// locking it fails).
    pub fn lock(&self, key: &[u8]) -> Result<Option<Bytes>> {
        if self.inner.options.read_only {
            return Err(Error::ReadOnly {
                operation: "SELECT FOR UPDATE",
            });
        }
        self.lock_key(key)?;
        let state = self.active_state()?;
        if let Some(own) = state.writes.get(key) {
            return Ok(own.clone());
        }
        let value = match self.inner.options.isolation {
            IsolationLevel::ReadCommitted => self.newest(key)?,
            _ => state.view().get(key)?.map(Bytes::from),
        };
        Ok(value)
    }

    /// The newest committed value of a key this transaction has locked.
    fn newest(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self
            .inner
            .engine
            .store
            .newest_with(key, |value| value.map(Bytes::copy_from_slice))?)
    }

    /// Locks `key` and returns its latest committed value (or this transaction's own
    /// write), at any isolation level and without failing because a commit after the
    /// snapshot changed it. For checks that must see concurrent commits — the uniqueness of
    /// a name, say: a second transaction creating the same name waits for the first and
    /// then finds the name taken.
    pub fn lock_latest(&self, key: &[u8]) -> Result<Option<Bytes>> {
        if self.inner.options.read_only {
            return Err(Error::ReadOnly {
                operation: "a write",
            });
        }
        self.lock_key_checked(key, false)?;
        let state = self.active_state()?;
        if let Some(own) = state.writes.get(key) {
            return Ok(own.clone());
        }
        self.newest(key)
    }

    /// Writes `key` → `value` unless the key holds a value, as `lock_latest` sees it;
    /// then writes nothing and returns whether it did. Locks the key either way. One lock
    /// and one look-up where `lock_latest` and `put` take two: for inserting new rows.
    pub fn insert_absent(&self, key: Bytes, value: Bytes) -> Result<bool> {
        if self.inner.options.read_only {
            return Err(Error::ReadOnly {
                operation: "a write",
            });
        }
        self.lock_key_checked(&key, false)?;
        let mut state = self.active_state()?;
        let present = match state.writes.get(&key) {
            Some(own) => own.is_some(),
            None => self.inner.engine.store.newest_reader().has_value(&key),
        };
        if present {
            return Ok(false);
        }
        state.writes.insert(key, Some(value));
        state.writes_made += 1;
        Ok(true)
    }

    /// `insert_absent` for many entries, in order: an entry whose key holds a value (a
    /// committed one, or one this call or an earlier write of the transaction put there)
    /// is not written. Returns the positions of those refused. The locks are taken first,
    /// all together, and the entries then written under one hold of the transaction's
    /// state: for bulk inserts, where taking both per row costs more than the write.
    pub fn insert_absent_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<Vec<usize>> {
        if self.inner.options.read_only || self.inner.signal.is_none() {
            return Err(Error::ReadOnly {
                operation: "a write",
            });
        }
        drop(self.active_state()?);
        let engine = &self.inner.engine;
        let ids: Vec<LockId> = entries
            .iter()
            .map(|(key, _)| engine.locks.lock_id(key))
            .collect();
        let (mut state, _) = self.lock_all(&ids)?;
        let newest = engine.store.newest_reader();
        let mut refused = Vec::new();
        let mut written = 0;
        // Bulk loads mostly come in key order: a key past the greatest own write cannot
        // be among them, which spares the look-up in the buffer.
        let mut greatest_own = state.writes.get_max().map(|(key, _)| key.clone());
        for (position, (key, value)) in entries.into_iter().enumerate() {
            let past_own = greatest_own.as_ref().is_none_or(|greatest| key > greatest);
            let own = if past_own {
                None
            } else {
                state.writes.get(&key)
            };
            let present = match own {
                Some(own) => own.is_some(),
                None => newest.has_value(&key),
            };
            if present {
                refused.push(position);
                continue;
            }
            if past_own {
                greatest_own = Some(key.clone());
            }
            state.writes.insert(key, Some(value));
            written += 1;
        }
        state.writes_made += written;
        Ok(refused)
    }

    /// Deletes every key of `keys`, as `delete` one by one would — the same locks, the
    /// same serialization check at REPEATABLE READ and above — but with the locks taken
    /// all together and the deletes written under one hold of the transaction's state:
    /// for emptying a table or a range, where taking both per key costs more than the
    /// write.
    pub fn delete_many(&self, keys: Vec<Bytes>) -> Result<()> {
        if self.inner.options.read_only {
            return Err(Error::ReadOnly {
                operation: "a delete",
            });
        }
        if self.inner.signal.is_none() {
            return Err(Error::ReadOnly {
                operation: "a write",
            });
        }
        drop(self.active_state()?);
        let engine = &self.inner.engine;
        let ids: Vec<LockId> = keys.iter().map(|key| engine.locks.lock_id(key)).collect();
        let (mut state, taken) = self.lock_all(&ids)?;
        if self.inner.options.isolation != IsolationLevel::ReadCommitted && !taken.is_empty() {
            // As in `lock_key_checked`, for the keys locked just now.
            let new: std::collections::HashSet<LockId> = taken.iter().copied().collect();
            let latest = engine.store.read_view();
            for (key, id) in keys.iter().zip(&ids) {
                let changed = new.contains(id)
                    && latest
                        .last_write(key)
                        .is_some_and(|lsn| lsn.0 > state.snapshot_lsn);
                if changed && (latest.contains_key(key) || state.view().contains_key(key)) {
                    return Err(Error::Serialization {
                        reason: "concurrent update",
                    });
                }
            }
        }
        state.writes_made += keys.len() as u64;
        for key in keys {
            state.writes.insert(key, None);
        }
        Ok(())
    }

    /// Defines a savepoint; a later one with the same name hides it until released.
    pub fn savepoint(&self, name: &str) -> Result<()> {
        let mut state = self.active_state()?;
        let savepoint = Savepoint {
            name: name.to_owned(),
            writes: state.writes.clone(),
            locks: state.locks.len(),
        };
        state.savepoints.push(savepoint);
        Ok(())
    }

    fn find_savepoint(state: &State, name: &str) -> Result<usize> {
        state
            .savepoints
            .iter()
            .rposition(|savepoint| savepoint.name == name)
            .ok_or_else(|| Error::NoSuchSavepoint(name.to_owned()))
    }

    /// Forgets the savepoint and every one defined after it; the writes stay.
    pub fn release_savepoint(&self, name: &str) -> Result<()> {
        let mut state = self.active_state()?;
        let position = Self::find_savepoint(&state, name)?;
        state.savepoints.truncate(position);
        Ok(())
    }

    /// Undoes every write since the savepoint and releases the locks taken since; the
    /// savepoint stays defined (savepoints defined after it are forgotten).
    pub fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        let mut state = self.active_state()?;
        let position = Self::find_savepoint(&state, name)?;
        state.savepoints.truncate(position + 1);
        let savepoint = &state.savepoints[position];
        let (writes, locks) = (savepoint.writes.clone(), savepoint.locks);
        state.writes = writes;
        let released: Vec<LockId> = state.locks.split_off(locks);
        drop(state);
        if let Some(signal) = &self.inner.signal {
            self.inner
                .engine
                .locks
                .release(self.inner.id, &released, signal);
        }
        Ok(())
    }

    /// Commits: the writes become visible atomically, under one LSN, once durable.
    /// Returns the commit's LSN (the snapshot's, for a transaction that wrote nothing).
    pub fn commit(&self) -> Result<Lsn> {
        let mut state = self.active_state()?;
        if state.writes.is_empty() {
            let lsn = state.view().lsn();
            self.finish(&mut state, Status::Committed);
            return Ok(lsn);
        }
        let writes = std::mem::take(&mut state.writes);
        let mut batch = WriteBatch::with_capacity(writes.len());
        let mut keys = Vec::with_capacity(writes.len());
        // The buffer is consumed: a value nothing else holds (no savepoint, no reader)
        // moves into the batch without a copy. The key stays shared with the commit log.
        for (key, value) in writes {
            match value {
                Some(value) => batch.put(key.to_vec(), Vec::from(value)),
                None => batch.delete(key.to_vec()),
            };
            keys.push(key);
        }
        // No more reads: the snapshot goes before the commit is applied, so the garbage
        // collector running then need not keep the versions it could see.
        state.view = None;
        let engine = &self.inner.engine;
        let submitted = {
            let mut log = engine.commit_log.lock();
            let validated = if self.inner.tracks_reads {
                log.validate(state.snapshot_lsn, &state.reads)
            } else {
                Ok(())
            };
            let submitted =
                validated.and_then(|()| engine.store.submit(batch).map_err(Error::from));
            if let Ok(ticket) = &submitted {
                log.record(ticket.lsn().0, keys);
            }
            log.prune(engine.store.visible_lsn().0);
            submitted
        };
        let ticket = match submitted {
            Ok(ticket) => ticket,
            Err(error) => {
                self.finish(&mut state, Status::RolledBack);
                return Err(error);
            }
        };
        // Locks are released only once the commit is applied, so the next holder of a key
        // reads this transaction's write.
        let outcome = ticket.wait();
        self.finish(&mut state, Status::Committed);
        Ok(outcome?)
    }

    /// Discards the writes and releases the locks.
    pub fn rollback(&self) -> Result<()> {
        let mut state = self.active_state()?;
        self.finish(&mut state, Status::RolledBack);
        Ok(())
    }

    fn finish(&self, state: &mut State, status: Status) {
        self.inner.finish(state, status);
    }
}

impl TxnInner {
    fn finish(&self, state: &mut State, status: Status) {
        debug_assert_eq!(state.status, Status::Active);
        state.status = status;
        state.view = None;
        state.writes = Writes::new();
        state.savepoints.clear();
        let locks = std::mem::take(&mut state.locks);
        if let Some(signal) = &self.signal {
            self.engine.locks.finish(self.id, &locks, signal);
        }
        if self.tracks_reads {
            let mut log = self.engine.commit_log.lock();
            log.unregister_serializable(state.snapshot_lsn);
            log.prune(self.engine.store.visible_lsn().0);
        }
        state.reads = ReadSet::default();
        self.engine.active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for TxnInner {
    fn drop(&mut self) {
        let mut state = self.state.lock();
        if state.status == Status::Active {
            self.finish(&mut state, Status::RolledBack);
        }
    }
}

/// See `Transaction::no_wait_scope`.
pub struct NoWaitScope<'a> {
    txn: &'a Transaction,
    writes_at_start: u64,
}

impl NoWaitScope<'_> {
    /// Whether a lock was refused that the transaction would otherwise have waited for.
    pub fn refused(&self) -> bool {
        self.txn.inner.refused.load(Ordering::Acquire)
    }

    /// Whether the transaction wrote anything since the scope began.
    pub fn wrote(&self) -> bool {
        self.txn.inner.state.lock().writes_made != self.writes_at_start
    }
}

impl Drop for NoWaitScope<'_> {
    fn drop(&mut self) {
        self.txn.inner.no_wait.store(false, Ordering::Release);
    }
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.inner.id)
            .field("isolation", &self.inner.options.isolation)
            .field("read_only", &self.inner.options.read_only)
            .finish()
    }
}

/// A transaction's reads frozen at one moment (see `Transaction::reader`). Reads are
/// still recorded for serializable validation.
#[derive(Clone)]
pub struct TxnReader {
    txn: Transaction,
    view: ReadView,
    writes: Writes,
}

impl TxnReader {
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.get_with(key, |value| value.map(Bytes::copy_from_slice))
    }

    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> Result<R> {
        self.txn.note_read(key);
        match self.writes.get(key) {
            Some(own) => Ok(f(own.as_deref())),
            None => Ok(self.view.get_with(key, f)?),
        }
    }

    pub fn scan(&self, range: impl bytedata_kv::KeyRange) -> TxnScan {
        self.open_scan(&range, false)
    }

    pub fn scan_rev(&self, range: impl bytedata_kv::KeyRange) -> TxnScan {
        self.open_scan(&range, true)
    }

    fn open_scan(&self, range: &impl bytedata_kv::KeyRange, reverse: bool) -> TxnScan {
        let (lower, upper) = owned_bounds(range);
        TxnScan::new(
            self.txn.clone(),
            self.view.clone(),
            self.writes.clone(),
            lower,
            upper,
            reverse,
        )
    }

    /// Keys that cut `range` into up to `parts` pieces of similar size in the snapshot,
    /// for scanning them in parallel; none when the range is too small to be worth it.
    /// The own writes do not move the cuts (every piece still merges them in).
    pub fn split_keys(&self, range: impl bytedata_kv::KeyRange, parts: usize) -> Vec<Vec<u8>> {
        self.view.split_keys(range, parts)
    }

    pub fn transaction(&self) -> &Transaction {
        &self.txn
    }
}
