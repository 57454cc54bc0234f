//! A transaction's writes: every key it writes is locked first — waiting, failing on a
//! deadlock, a timeout, NOWAIT or cancellation — then checked against the snapshot at
//! REPEATABLE READ and above, then buffered; and the scope in which a lock held by
//! another transaction is refused at once instead of waited for.

use super::*;

impl Transaction {
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

    /// Writes `entries`, sorted by key and distinct, under keys no other transaction can
    /// reach — in storage this transaction made and has not committed (a rebuilt
    /// table's) — so without the locks and look-ups of `insert_absent_many`: a bulk
    /// load's own path. The caller vouches that none of the keys exists, committed or
    /// among this transaction's writes.
    pub fn put_fresh_sorted(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        if self.inner.options.read_only || self.inner.signal.is_none() {
            return Err(Error::ReadOnly {
                operation: "a write",
            });
        }
        assert!(
            entries.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "fresh entries come sorted and distinct"
        );
        let mut state = self.active_state()?;
        let written = entries.len() as u64;
        for (key, value) in entries {
            let previous = state.writes.insert(key, Some(value));
            debug_assert!(previous.is_none(), "a fresh key was written before");
        }
        state.writes_made += written;
        Ok(())
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
