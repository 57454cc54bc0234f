//! Write locks: every key a transaction writes is locked exclusively until it ends.
//!
//! The table maps a key to the transaction holding it, in shards to spread contention.
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
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
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

pub(crate) struct LockManager {
    shards: Box<[Mutex<HashMap<Bytes, TxnId, KeyHasher>>]>,
    /// Picks a key's shard; seeded apart from the shards' own hashers, whose bucket
    /// choice would otherwise repeat the bits every key in a shard shares.
    shard_hasher: KeyHasher,
    waits_for: Mutex<HashMap<TxnId, TxnId>>,
    signals: Mutex<HashMap<TxnId, Arc<Signal>>>,
}

impl LockManager {
    pub fn new() -> Self {
        LockManager {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::with_hasher(KeyHasher::default())))
                .collect(),
            shard_hasher: KeyHasher::default(),
            waits_for: Mutex::new(HashMap::new()),
            signals: Mutex::new(HashMap::new()),
        }
    }

    fn shard_index(&self, key: &[u8]) -> usize {
        self.shard_hasher.hash_one(key) as usize % SHARDS
    }

    fn shard(&self, key: &[u8]) -> &Mutex<HashMap<Bytes, TxnId, KeyHasher>> {
        &self.shards[self.shard_index(key)]
    }

    /// Removes `txn`'s locks on `keys`. Many keys (a bulk write) are grouped by shard,
    /// so each shard is locked once.
    fn remove(&self, txn: TxnId, keys: &[Bytes]) {
        if keys.len() < 4 * SHARDS {
            for key in keys {
                let mut shard = self.shard(key).lock();
                if shard.get(key) == Some(&txn) {
                    shard.remove(key);
                }
            }
            return;
        }
        let mut by_shard: Vec<Vec<&Bytes>> = vec![Vec::new(); SHARDS];
        for key in keys {
            by_shard[self.shard_index(key)].push(key);
        }
        for (shard, keys) in self.shards.iter().zip(by_shard) {
            let mut shard = shard.lock();
            for key in keys {
                if shard.get(key) == Some(&txn) {
                    shard.remove(key);
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

    /// Locks `key` for `txn`, waiting for the holder as `wait` says.
    pub fn acquire(
        &self,
        txn: TxnId,
        key: &Bytes,
        wait: LockWait,
        cancel: &AtomicBool,
    ) -> Result<Acquired> {
        let deadline = match wait {
            LockWait::Timeout(limit) => Some(Instant::now() + limit),
            LockWait::Block | LockWait::NoWait => None,
        };
        loop {
            let holder = match self.shard(key).lock().entry(key.clone()) {
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
            if self.shard(key).lock().get(key) != Some(&holder) {
                continue;
            }
            self.start_waiting(txn, holder)?;
            let waited = signal.wait_change(seen, deadline, cancel);
            self.waits_for.lock().remove(&txn);
            waited?;
        }
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
    pub fn release(&self, txn: TxnId, keys: &[Bytes], signal: &Signal) {
        self.remove(txn, keys);
        signal.bump(false);
    }

    /// Releases all of `txn`'s locks and forgets it: its waiters go on.
    pub fn finish(&self, txn: TxnId, keys: &[Bytes], signal: &Signal) {
        self.remove(txn, keys);
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
