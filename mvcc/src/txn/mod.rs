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
use crate::error::{Error, Result};
use crate::locks::{Acquired, LockId, LockWait, Signal, TxnId};
use crate::options::{IsolationLevel, TxnOptions};
use crate::shared::Shared;
mod reader;
mod scan;
mod writes;

pub use reader::TxnReader;
pub use scan::TxnScan;
use scan::{merged_for_each, owned_bounds, slice_bound};
pub use writes::NoWaitScope;

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
        let ended = match status {
            Status::Committed => &self.engine.committed,
            _ => &self.engine.rolled_back,
        };
        ended.fetch_add(1, Ordering::Relaxed);
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

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.inner.id)
            .field("isolation", &self.inner.options.isolation)
            .field("read_only", &self.inner.options.read_only)
            .finish()
    }
}
