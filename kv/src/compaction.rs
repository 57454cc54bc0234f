//! Value-log compaction: reclaiming the space of overwritten and deleted values in a
//! hybrid store.
//!
//! A closed value-log file whose garbage reaches `Options::value_log_gc_percent` is
//! compacted: its entries are read front to back; each one the index still points at
//! (the version of its key at its LSN holds exactly its pointer) is appended to the
//! newest file, and the version is replaced, under the apply lock, by a copy with the
//! same LSN pointing at the new entry. Readers never wait: one that already stands on
//! the old version reads the old entry, which stays readable until it unpins.
//!
//! When no version points into the file any more it is *retired*, and deleted only
//! after `snapshots_kept` further checkpoints, because until then a snapshot kept on
//! disk (the newest, or an older one recovery could fall back to) may point into it.
//! Compaction and checkpoints are serialized (the checkpoint lock), so a snapshot either
//! was written before a file's values moved — and the file outlives it — or after, and
//! then the checkpoint synced the value log before the snapshot became durable, so
//! every moved entry it points at is on disk.
//!
//! A crash at any step is harmless: until a durable snapshot points at the moved
//! copies, recovery loads one that points into the old file, which is still there; the
//! moved copies are unreferenced garbage that a later compaction reclaims. Nothing of
//! the WAL depends on the value log (replay writes its values afresh).

use std::collections::BTreeMap;

use crossbeam_epoch as epoch;

use crate::error::{Error, Result};
use crate::inner::Inner;
use crate::vlog::scan::{EntryBatch, LoggedValue};

/// Entries read from the file being compacted per step (and per apply-lock hold).
const COMPACTION_CHUNK_BYTES: usize = 1 << 20;

impl Inner {
    /// Compacts the next value-log file that is due; returns whether there was one.
    pub(crate) fn compact_value_log(&self) -> Result<bool> {
        let (Some(values), Some(durable)) = (&self.values, &self.durable) else {
            return Ok(false);
        };
        if let Some(error) = self.failure() {
            return Err(error);
        }
        values.log.note_dead(&self.index.take_dead_values());
        let Some(file_no) = values
            .log
            .compaction_candidate(self.options.value_log_gc_percent)
        else {
            return Ok(false);
        };
        let _no_checkpoint = durable.checkpoints.lock();
        if cfg!(debug_assertions) {
            let _apply = self.apply.lock();
            self.debug_check_value_accounting(false);
        }
        let mut offset = 0;
        let mut moved = 0u64;
        loop {
            let (entries, next_offset) =
                match values
                    .log
                    .read_entries(file_no, offset, COMPACTION_CHUNK_BYTES)?
                {
                    EntryBatch::More {
                        entries,
                        next_offset,
                    } => (entries, Some(next_offset)),
                    EntryBatch::End { entries } => (entries, None),
                };
            moved += self.move_live_values(entries)?;
            match next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        let mut left_behind = 0u64;
        {
            let guard = epoch::pin();
            self.index.for_each_pointer(&guard, |pointer| {
                if pointer.file_no == file_no {
                    left_behind += 1;
                }
            });
        }
        if left_behind > 0 {
            // An entry the index points at did not read back whole: keep the file, and
            // stop trying (a read of those values reports the damage).
            values.log.set_aside(file_no);
            return Err(Error::Failed(
                format!(
                    "value log file {file_no} still holds {left_behind} values that could not be moved; it is kept"
                )
                .into(),
            ));
        }
        values.log.retire(file_no, self.options.snapshots_kept);
        tracing::info!(file_no, moved, "value log file compacted");
        Ok(true)
    }

    /// Appends the entries the index still points at to the newest file and points the
    /// index at the copies; returns how many moved.
    fn move_live_values(&self, entries: Vec<LoggedValue>) -> Result<u64> {
        let Some(values) = &self.values else {
            return Ok(0);
        };
        let live: Vec<LoggedValue> = {
            let guard = epoch::pin();
            entries
                .into_iter()
                .filter(|entry| {
                    self.index
                        .read(&entry.key, entry.lsn, &guard)
                        .is_some_and(|version| {
                            version.lsn() == entry.lsn && version.pointer() == Some(entry.pointer)
                        })
                })
                .collect()
        };
        if live.is_empty() {
            return Ok(0);
        }
        let copies: Vec<(&[u8], &[u8], u64)> = live
            .iter()
            .map(|entry| (&entry.key[..], &entry.value[..], entry.lsn))
            .collect();
        let pointers = values.log.append(&copies)?;
        let mut moved = 0;
        let mut unused = Vec::new();
        {
            let _apply = self.apply.lock();
            self.debug_check_value_accounting(false);
            let guard = epoch::pin();
            for (entry, to) in live.iter().zip(pointers) {
                // Overwritten and trimmed since it was read: the copy is garbage.
                if self
                    .index
                    .relocate(&entry.key, entry.lsn, entry.pointer, to, &guard)
                {
                    moved += 1;
                } else {
                    unused.push(to);
                }
            }
            drop(guard);
            self.debug_check_value_accounting(false);
        }
        values.log.note_dead(&self.index.take_dead_values());
        values.log.note_dead(&unused);
        Ok(moved)
    }

    /// Sets the value log's garbage from what the recovered index points at.
    pub(crate) fn account_value_log(&self) {
        let Some(values) = &self.values else {
            return;
        };
        drop(self.index.take_dead_values());
        let mut live_bytes = BTreeMap::new();
        let guard = epoch::pin();
        self.index.for_each_pointer(&guard, |pointer| {
            *live_bytes.entry(pointer.file_no).or_insert(0) += u64::from(pointer.len);
        });
        values
            .log
            .account_live(&live_bytes, self.options.snapshots_kept);
        drop(guard);
        let _apply = self.apply.lock();
        self.debug_check_value_accounting(true);
    }

    /// The value log's accounting against a recount of the pointers the index holds
    /// (`ValueLog::check_accounting`); `exact` when no value is being appended or moved.
    /// Caller holds the apply lock.
    pub(crate) fn value_accounting_violation(&self, exact: bool) -> Option<String> {
        let values = self.values.as_ref()?;
        let guard = epoch::pin();
        let mut live = BTreeMap::new();
        self.index.for_each_pointer(&guard, |pointer| {
            *live.entry(pointer.file_no).or_insert(0) += u64::from(pointer.len);
        });
        let mut pending = BTreeMap::new();
        for pointer in self.index.pending_dead_values() {
            *pending.entry(pointer.file_no).or_insert(0) += u64::from(pointer.len);
        }
        values.log.check_accounting(&live, &pending, exact).err()
    }

    /// In debug builds, `value_accounting_violation`, panicking on one. Caller holds the
    /// apply lock.
    fn debug_check_value_accounting(&self, exact: bool) {
        if cfg!(debug_assertions)
            && let Some(violation) = self.value_accounting_violation(exact)
        {
            panic!("value log accounting: {violation}");
        }
    }
}
