//! Reclaiming retired storage: the keys of dropped and truncated tables, deleted in the
//! background, so that DROP TABLE and TRUNCATE take constant time.
//!
//! Neither statement deletes rows. Its transaction removes the table's descriptor (DROP)
//! or points it at a fresh storage id (TRUNCATE), and writes a *retired* marker naming
//! the old storage id — atomically. Once it commits, no snapshot taken later can address
//! the old keys: no descriptor names them, and storage ids are object ids, never reused.
//! Snapshots taken before the commit may still read them, so the reclaimer waits until
//! every live read view is at or past the LSN at which it found the marker; then it
//! deletes the range's keys straight in the store, `RECLAIM_BATCH_KEYS` per batch (no
//! transaction can lock, read or write them any more), and last removes the marker in a
//! transaction of its own.
//!
//! Crashes: the marker outlives every delete batch (a delete of a deleted key is
//! harmless), and its removal follows them in the WAL, so a durable removal means
//! durable deletes. `Catalog::open` wakes the reclaimer, which resumes whatever markers
//! it finds.
//!
//! The reclaimer runs on a thread of its own while there is work, and exits when there
//! is none; dropping the catalog stops it between batches. It yields to the work going on
//! meanwhile: it runs at the lowest scheduling priority, and while other transactions are
//! open it deletes one batch per `BUSY_BATCH_INTERVAL_MS` (deleting keys costs the store
//! an index rewrite now and a garbage-collection pass later, both under its apply lock,
//! which the statements' commits need too).

use std::ops::Bound;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytedata_kv::WriteBatch;
use bytedata_mvcc::{Engine, TxnOptions};
use parking_lot::{Condvar, Mutex};

use crate::keys::{self, storage_range};
use crate::{CatalogError, Result};

/// Keys deleted per store batch.
const RECLAIM_BATCH_KEYS: usize = 4096;
/// How often the reclaimer looks again whether old read views have ended.
const VIEW_POLL_MS: u64 = 5;
/// While other transactions are open, one batch per this long: their statements come
/// first, and reclaiming still goes on (4,096 keys per 100 ms) under constant load.
const BUSY_BATCH_INTERVAL_MS: u64 = 100;

#[derive(Default)]
struct State {
    /// Work may have arrived since the thread last looked.
    requested: bool,
    running: bool,
    stop: bool,
    thread: Option<JoinHandle<()>>,
    /// Storage ids reclaimed since the catalog opened.
    reclaimed: u64,
    last_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when the thread exits (idle) or a stop is asked.
    changed: Condvar,
}

pub(crate) struct Reclaimer {
    engine: Engine,
    shared: Arc<Shared>,
}

impl Reclaimer {
    pub fn new(engine: Engine) -> Self {
        Reclaimer {
            engine,
            shared: Arc::default(),
        }
    }

    /// Looks for retired storage soon: after a commit that may have retired some, and at
    /// open.
    pub fn wake(&self) {
        let mut state = self.shared.state.lock();
        state.requested = true;
        if state.running || state.stop {
            return;
        }
        // A previous thread that exited leaves its handle.
        if let Some(finished) = state.thread.take() {
            let _ = finished.join();
        }
        state.running = true;
        let engine = self.engine.clone();
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("bytedata-reclaim".into())
            .spawn(move || run(&engine, &shared));
        match spawned {
            Ok(handle) => state.thread = Some(handle),
            Err(error) => {
                state.running = false;
                state.last_error = Some(format!("could not start the reclaimer: {error}"));
            }
        }
    }

    /// Blocks until the reclaimer has nothing left to do (for tests and shutdown); the
    /// storage ids reclaimed so far, or the error that stopped the last attempt.
    pub fn wait_idle(&self) -> std::result::Result<u64, String> {
        let mut state = self.shared.state.lock();
        while state.running {
            self.shared.changed.wait(&mut state);
        }
        match &state.last_error {
            Some(error) => Err(error.clone()),
            None => Ok(state.reclaimed),
        }
    }
}

impl Drop for Reclaimer {
    fn drop(&mut self) {
        let thread = {
            let mut state = self.shared.state.lock();
            state.stop = true;
            self.shared.changed.notify_all();
            state.thread.take()
        };
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

fn stopping(shared: &Shared) -> bool {
    shared.state.lock().stop
}

/// Lowers the calling thread's scheduling priority to the least (nice 19).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority takes no pointers; on Linux `who = 0` with PRIO_PROCESS names
    // the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

fn run(engine: &Engine, shared: &Shared) {
    lower_priority();
    loop {
        {
            let mut state = shared.state.lock();
            if !state.requested || state.stop {
                state.running = false;
                shared.changed.notify_all();
                return;
            }
            state.requested = false;
        }
        let outcome = reclaim_all(engine, shared);
        let mut state = shared.state.lock();
        match outcome {
            Ok(count) => {
                state.reclaimed += count;
                state.last_error = None;
            }
            Err(error) => {
                tracing::warn!(%error, "reclaiming retired storage failed; it stays retired");
                state.last_error = Some(error.to_string());
            }
        }
    }
}

/// The retired storage ids, as of now.
fn retired(engine: &Engine) -> Result<Vec<u32>> {
    let txn = engine.begin(TxnOptions::default());
    let start = keys::index_prefix(keys::system::RETIRED, 1).to_vec();
    let end = keys::index_end(keys::system::RETIRED, 1).to_vec();
    let mut ids = Vec::new();
    for entry in txn.scan(start..end)? {
        let (key, _) = entry?;
        let id = key
            .get(8..12)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(|| CatalogError::Corrupt("a retired marker of the wrong length".into()))?;
        ids.push(u32::from_be_bytes(id));
    }
    txn.commit()?;
    Ok(ids)
}

fn reclaim_all(engine: &Engine, shared: &Shared) -> Result<u64> {
    let ids = retired(engine)?;
    if ids.is_empty() {
        return Ok(0);
    }
    let store = engine.store();
    // Every marker found was committed at or below this LSN.
    let found_at = store.visible_lsn();
    while store
        .oldest_view_lsn()
        .is_some_and(|oldest| oldest < found_at)
    {
        if stopping(shared) {
            return Ok(0);
        }
        let mut state = shared.state.lock();
        shared
            .changed
            .wait_for(&mut state, Duration::from_millis(VIEW_POLL_MS));
    }
    let mut reclaimed = 0;
    for id in ids {
        if stopping(shared) {
            break;
        }
        if delete_storage(engine, id, shared)? {
            let txn = engine.begin(TxnOptions::default());
            txn.delete(keys::retired_key(id).to_vec())?;
            txn.commit()?;
            reclaimed += 1;
        }
    }
    Ok(reclaimed)
}

/// Deletes every key of a storage id; `false` if stopped first.
fn delete_storage(engine: &Engine, id: u32, shared: &Shared) -> Result<bool> {
    let store = engine.store();
    let (start, end) = storage_range(id);
    let end = end.map_or(Bound::Unbounded, Bound::Excluded);
    // Each batch resumes after the last key deleted: the deleted keys' tombstones stay
    // until the garbage collector trims them, and are not walked again.
    let mut from = Bound::Included(start);
    loop {
        if stopping(shared) {
            return Ok(false);
        }
        if engine.stats().active_transactions > 0 {
            let mut state = shared.state.lock();
            if !state.stop {
                shared
                    .changed
                    .wait_for(&mut state, Duration::from_millis(BUSY_BATCH_INTERVAL_MS));
            }
        }
        let view = store.read_view();
        let mut batch = WriteBatch::new();
        let mut last = None;
        for entry in view
            .scan((from.clone(), end.clone()))
            .take(RECLAIM_BATCH_KEYS)
        {
            let (key, _) = entry?;
            assert!(
                key.starts_with(&id.to_be_bytes()),
                "a reclaimed key outside its storage"
            );
            batch.delete(key.to_vec());
            last = Some(key);
        }
        drop(view);
        let Some(last) = last else {
            return Ok(true);
        };
        store.write(batch)?;
        from = Bound::Excluded(last.to_vec());
    }
}
