//! Write locks: every key a transaction writes is locked exclusively until it ends.
//!
//! The table maps a key to the transaction holding it, in shards to spread contention.
//! A key is named in the table by its 64-bit hash (`LockManager::lock_id`), seeded at
//! random per process: two keys whose hashes collide share one lock. That is always safe
//! — a lock covering more than its key only makes writers of two different keys wait for
//! each other, never lets two write one key — and rare (about n²/2⁶⁵ for n keys locked at
//! once), and it keeps the table small and free of key copies however many keys a bulk
//! write locks.
//! A transaction that finds a key locked waits for the holder — on the holder's signal,
//! which changes whenever the holder releases locks or ends — and then tries again.
//!
//! Deadlocks: a waiting transaction waits for exactly one holder, so "who waits for
//! whom" is a set of chains. Before waiting, a transaction follows the chain from the
//! holder; if it leads back to itself, waiting would never end, and it fails with a
//! deadlock error instead (the other transactions keep waiting and go on once it rolls
//! back). Waits also end on the lock timeout, on cancellation, or at once with NOWAIT.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};

pub(crate) type TxnId = u64;

const SHARDS: usize = 64;
/// How often a waiting transaction looks at its cancellation flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// How a transaction waits for a lock another one holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWait {
    /// Wait until the holder ends (or a deadlock is found).
    Block,
    /// Wait at most this long, then fail with `LockNotAvailable`.
    Timeout(Duration),
    /// Fail at once with `LockNotAvailable` (`FOR UPDATE NOWAIT`).
    NoWait,
}

/// Changes whenever its transaction releases locks or ends.
pub(crate) struct Signal {
    state: Mutex<SignalState>,
    changed: Condvar,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct SignalState {
    generation: u64,
    finished: bool,
}

impl Signal {
    fn observe(&self) -> SignalState {
        *self.state.lock()
    }

    fn bump(&self, finished: bool) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.finished |= finished;
        self.changed.notify_all();
    }

    /// Waits until the state differs from `seen`; `Err` on timeout or cancellation.
    fn wait_change(
        &self,
        seen: SignalState,
        deadline: Option<Instant>,
        cancel: &AtomicBool,
    ) -> Result<()> {
        let mut state = self.state.lock();
        while *state == seen {
            if cancel.load(Ordering::Acquire) {
                return Err(Error::Canceled);
            }
            let mut slice = CANCEL_POLL;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::LockNotAvailable {
                        reason: "lock timeout expired",
                    });
                }
                slice = slice.min(left);
            }
            self.changed.wait_for(&mut state, slice);
        }
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// The lock was free and is now held.
    New,
    /// This transaction already held it.
    AlreadyHeld,
}

/// Hashes lock keys. Keys come from users, so the seed is random per process.
type KeyHasher = foldhash::fast::RandomState;

/// A key as the lock table names it: its hash under the process's seed.
pub(crate) type LockId = u64;

/// Lock ids are hashes already: the shards' tables use them as they are.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, _bytes: &[u8]) {
        unreachable!("lock ids are hashed as u64");
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id;
    }
}

type Shard = HashMap<LockId, TxnId, BuildHasherDefault<IdHasher>>;

pub(crate) struct LockManager {
    shards: Box<[Mutex<Shard>]>,
    key_hasher: KeyHasher,
    waits_for: Mutex<HashMap<TxnId, TxnId>>,
    signals: Mutex<HashMap<TxnId, Arc<Signal>>>,
}

impl LockManager {
    pub fn new() -> Self {
        LockManager {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            key_hasher: KeyHasher::default(),
            waits_for: Mutex::new(HashMap::new()),
            signals: Mutex::new(HashMap::new()),
        }
    }

    /// The lock that covers `key`.
    pub fn lock_id(&self, key: &[u8]) -> LockId {
        self.key_hasher.hash_one(key)
    }

    /// Bits the shards' tables use neither for their bucket (the low bits) nor for their
    /// tags (the top seven) pick the shard.
    fn shard_index(id: LockId) -> usize {
        (id >> 40) as usize % SHARDS
    }

    fn shard(&self, id: LockId) -> &Mutex<Shard> {
        &self.shards[Self::shard_index(id)]
    }

    /// Removes `txn`'s locks `ids`. Many locks (a bulk write) are grouped by shard, so
    /// each shard is locked once.
    fn remove(&self, txn: TxnId, ids: &[LockId]) {
        if ids.len() < 4 * SHARDS {
            for id in ids {
                let mut shard = self.shard(*id).lock();
                if shard.get(id) == Some(&txn) {
                    shard.remove(id);
                }
            }
            return;
        }
        let mut by_shard: Vec<Vec<LockId>> = vec![Vec::new(); SHARDS];
        for &id in ids {
            by_shard[Self::shard_index(id)].push(id);
        }
        for (shard, ids) in self.shards.iter().zip(by_shard) {
            let mut shard = shard.lock();
            for id in ids {
                if shard.get(&id) == Some(&txn) {
                    shard.remove(&id);
                }
            }
        }
    }

    /// Registers a transaction that may take locks.
    pub fn register(&self, txn: TxnId) -> Arc<Signal> {
        let signal = Arc::new(Signal {
            state: Mutex::new(SignalState {
                generation: 0,
                finished: false,
            }),
            changed: Condvar::new(),
        });
        self.signals.lock().insert(txn, signal.clone());
        signal
    }

    /// Takes lock `id` for `txn`, waiting for the holder as `wait` says.
    pub fn acquire(
        &self,
        txn: TxnId,
        id: LockId,
        wait: LockWait,
        cancel: &AtomicBool,
    ) -> Result<Acquired> {
        let deadline = match wait {
            LockWait::Timeout(limit) => Some(Instant::now() + limit),
            LockWait::Block | LockWait::NoWait => None,
        };
        loop {
            let holder = match self.shard(id).lock().entry(id) {
                Entry::Vacant(entry) => {
                    entry.insert(txn);
                    return Ok(Acquired::New);
                }
                Entry::Occupied(entry) if *entry.get() == txn => return Ok(Acquired::AlreadyHeld),
                Entry::Occupied(entry) => *entry.get(),
            };
            if wait == LockWait::NoWait {
                return Err(Error::LockNotAvailable {
                    reason: "the row is locked by another transaction",
                });
            }
            let Some(signal) = self.signals.lock().get(&holder).cloned() else {
                continue; // the holder just ended
            };
            // Observe the signal before re-checking the table: a release after this point
            // changes the signal, so the wait below cannot miss it.
            let seen = signal.observe();
            if self.shard(id).lock().get(&id) != Some(&holder) {
                continue;
            }
            self.start_waiting(txn, holder)?;
            let waited = signal.wait_change(seen, deadline, cancel);
            self.waits_for.lock().remove(&txn);
            waited?;
        }
    }

    /// Takes every lock of `ids` for `txn`, as `acquire` one by one would, and pushes
    /// each newly taken one onto `taken` — also when it fails part-way, so the caller can
    /// release what it holds. Free locks are taken shard by shard, one shard lock for
    /// all of a shard's ids (a bulk write's locks fall in random shards, and locking and
    /// unlocking per id fences every cache miss in the table); ids another transaction
    /// holds are then waited for one at a time.
    pub fn acquire_many(
        &self,
        txn: TxnId,
        ids: &[LockId],
        wait: LockWait,
        cancel: &AtomicBool,
        taken: &mut Vec<LockId>,
    ) -> Result<()> {
        let mut by_shard: Vec<Vec<LockId>> = vec![Vec::new(); SHARDS];
        for &id in ids {
            by_shard[Self::shard_index(id)].push(id);
        }
        let mut held_by_others = Vec::new();
        for (shard, ids) in self.shards.iter().zip(by_shard) {
            if ids.is_empty() {
                continue;
            }
            let mut shard = shard.lock();
            for id in ids {
                match shard.entry(id) {
                    Entry::Vacant(entry) => {
                        entry.insert(txn);
                        taken.push(id);
                    }
                    Entry::Occupied(entry) if *entry.get() == txn => {}
                    Entry::Occupied(_) => held_by_others.push(id),
                }
            }
        }
        for id in held_by_others {
            if self.acquire(txn, id, wait, cancel)? == Acquired::New {
                taken.push(id);
            }
        }
        Ok(())
    }

    /// Records that `txn` waits for `holder`, unless that closes a cycle.
    fn start_waiting(&self, txn: TxnId, holder: TxnId) -> Result<()> {
        let mut waits_for = self.waits_for.lock();
        let mut current = holder;
        // Each transaction waits for one other at most, so the chain ends or loops within
        // as many steps as there are waiters.
        for _ in 0..=waits_for.len() {
            match waits_for.get(&current) {
                Some(&next) if next == txn => {
                    return Err(Error::Deadlock {
                        waiter: txn,
                        holder,
                    });
                }
                Some(&next) => current = next,
                None => break,
            }
        }
        waits_for.insert(txn, holder);
        Ok(())
    }

    /// Releases some of `txn`'s locks (rolling back to a savepoint).
    pub fn release(&self, txn: TxnId, ids: &[LockId], signal: &Signal) {
        self.remove(txn, ids);
        signal.bump(false);
    }

    /// Releases all of `txn`'s locks and forgets it: its waiters go on.
    pub fn finish(&self, txn: TxnId, ids: &[LockId], signal: &Signal) {
        self.remove(txn, ids);
        self.signals.lock().remove(&txn);
        signal.bump(true);
    }

    /// Transactions waiting for a lock right now.
    pub fn waiting(&self) -> usize {
        self.waits_for.lock().len()
    }

    pub fn held(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().len()).sum()
    }
}
