//! What the value log knows of its garbage, and what it does with files compaction
//! emptied.
//!
//! Each file counts the bytes of its entries and of those no version points at any more
//! ("dead"): trimmed versions report their pointers (`Index::take_dead_values`), and at
//! open the counts are rebuilt from the pointers the recovered index holds. A file whose
//! dead share reaches the configured percentage is due for compaction (`compaction`).
//! A compacted file is *retired*, then deleted after enough checkpoints that no kept
//! snapshot can point into it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{ValueLog, ValuePointer, file_name};
use crate::error::{Error, Result};

/// A file whose values were all moved; it is deleted once no kept snapshot can point
/// into it, that is after `checkpoints_left` more checkpoints.
pub(super) struct Retired {
    pub file_no: u64,
    pub checkpoints_left: usize,
}

/// The value log's size and garbage, for stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValueLogStats {
    pub files: usize,
    /// Bytes of entries in all files.
    pub bytes: u64,
    /// Of those, bytes no version points at: what compaction can reclaim.
    pub dead_bytes: u64,
    /// Files compacted and waiting for the checkpoints after which they are deleted.
    pub retired_files: usize,
    pub files_compacted: u64,
    pub files_deleted: u64,
    pub cache_bytes: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
}

impl ValueLogStats {
    /// The share of the value log's bytes that is garbage, 0.0 to 1.0.
    pub fn garbage_ratio(&self) -> f64 {
        if self.bytes == 0 {
            0.0
        } else {
            self.dead_bytes as f64 / self.bytes as f64
        }
    }
}

impl ValueLog {
    /// Counts the entries `pointers` name as garbage.
    pub fn note_dead(&self, pointers: &[ValuePointer]) {
        if pointers.is_empty() {
            return;
        }
        let segments = self.segments.read();
        for pointer in pointers {
            if let Some(segment) = segments.get(&pointer.file_no) {
                let dead = segment
                    .dead_bytes
                    .fetch_add(u64::from(pointer.len), Ordering::Relaxed)
                    + u64::from(pointer.len);
                debug_assert!(
                    dead <= segment.entry_bytes.load(Ordering::Relaxed),
                    "value log file {}: more bytes dead than written",
                    pointer.file_no
                );
            }
        }
    }

    /// Sets each file's garbage from the bytes the index points at in it (at open, when
    /// the index is complete and nothing else runs). A file the index does not point
    /// into is retired: an older snapshot kept may still point into it.
    pub fn account_live(&self, live_bytes: &BTreeMap<u64, u64>, snapshots_kept: usize) {
        let current = self.appender.lock().file_no;
        let segments = self.segments.read();
        let mut retired = self.retired.lock();
        for (&file_no, segment) in segments.iter() {
            let live = live_bytes.get(&file_no).copied().unwrap_or(0);
            let entries = segment.entry_bytes.load(Ordering::Relaxed);
            assert!(
                live <= entries,
                "value log file {file_no}: the index points at more bytes than it holds"
            );
            segment.dead_bytes.store(entries - live, Ordering::Relaxed);
            if live == 0 && file_no != current {
                retired.push(Retired {
                    file_no,
                    checkpoints_left: snapshots_kept,
                });
            }
        }
    }

    /// The oldest closed file with at least `gc_percent` percent garbage and not yet
    /// retired: the next to compact.
    pub fn compaction_candidate(&self, gc_percent: u8) -> Option<u64> {
        let current = self.appender.lock().file_no;
        let retired = self.retired.lock();
        let set_aside = self.set_aside.lock();
        let segments = self.segments.read();
        segments
            .iter()
            .filter(|(file_no, _)| **file_no != current && !set_aside.contains(file_no))
            .filter(|(_, segment)| !segment.removed.load(Ordering::Relaxed))
            .filter(|(file_no, _)| !retired.iter().any(|r| r.file_no == **file_no))
            .find(|(_, segment)| {
                let entries = segment.entry_bytes.load(Ordering::Relaxed);
                let dead = segment.dead_bytes.load(Ordering::Relaxed);
                dead * 100 >= entries * u64::from(gc_percent)
            })
            .map(|(file_no, _)| *file_no)
    }

    /// Excludes a file from compaction for the rest of the process's life.
    pub fn set_aside(&self, file_no: u64) {
        self.set_aside.lock().push(file_no);
    }

    /// Marks a file whose values were all moved (the index points nowhere into it) to
    /// be deleted after `checkpoints` more checkpoints.
    pub fn retire(&self, file_no: u64, checkpoints: usize) {
        self.files_compacted.fetch_add(1, Ordering::Relaxed);
        self.retired.lock().push(Retired {
            file_no,
            checkpoints_left: checkpoints,
        });
    }

    /// A checkpoint finished: deletes the retired files no kept snapshot can point into
    /// any more. A reader pinned before a file's values moved may still hold one of its
    /// pointers, so the file leaves the map only once those readers have unpinned; its
    /// name is unlinked at once (the open handle keeps it readable meanwhile).
    pub fn checkpoint_done(self: &Arc<Self>) -> Result<()> {
        let due: Vec<u64> = {
            let mut retired = self.retired.lock();
            for entry in retired.iter_mut() {
                entry.checkpoints_left = entry.checkpoints_left.saturating_sub(1);
            }
            let due = retired
                .iter()
                .filter(|r| r.checkpoints_left == 0)
                .map(|r| r.file_no)
                .collect();
            retired.retain(|r| r.checkpoints_left > 0);
            due
        };
        if due.is_empty() {
            return Ok(());
        }
        for &file_no in &due {
            if let Some(segment) = self.segments.read().get(&file_no) {
                segment.removed.store(true, Ordering::Relaxed);
            }
            let path = self.dir.join(file_name(file_no));
            self.fs
                .remove_file(&path)
                .map_err(|e| Error::io(format!("removing value log {}", path.display()), e))?;
            self.files_deleted.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(file = %path.display(), "compacted value log file removed");
        }
        self.fs
            .sync_dir(&self.dir)
            .map_err(|e| Error::io(format!("syncing directory {}", self.dir.display()), e))?;
        let log = self.clone();
        crossbeam_epoch::pin().defer(move || {
            let mut segments = log.segments.write();
            for file_no in due {
                segments.remove(&file_no);
            }
        });
        Ok(())
    }

    /// Checks the byte accounting against a recount: `live` (bytes the index points at,
    /// per file) and `pending` (bytes of trimmed versions the log has not been told of).
    /// No entry is counted twice — in every file, live + dead + pending bytes are at most
    /// the bytes of its entries — and no pointer leads into a file that is gone. With
    /// `exact` (no value being appended or moved) every entry is counted: equality.
    pub fn check_accounting(
        &self,
        live: &BTreeMap<u64, u64>,
        pending: &BTreeMap<u64, u64>,
        exact: bool,
    ) -> std::result::Result<(), String> {
        let segments = self.segments.read();
        for file_no in live.keys() {
            match segments.get(file_no) {
                Some(segment) if !segment.removed.load(Ordering::Relaxed) => {}
                _ => {
                    return Err(format!(
                        "the index points into value log file {file_no}, which is gone"
                    ));
                }
            }
        }
        for (&file_no, segment) in segments.iter() {
            if segment.removed.load(Ordering::Relaxed) {
                continue;
            }
            let entries = segment.entry_bytes.load(Ordering::Relaxed);
            let dead = segment.dead_bytes.load(Ordering::Relaxed);
            let live = live.get(&file_no).copied().unwrap_or(0);
            let pending = pending.get(&file_no).copied().unwrap_or(0);
            let counted = live + dead + pending;
            if counted > entries || (exact && counted != entries) {
                return Err(format!(
                    "value log file {file_no}: {entries} bytes of entries, but {live} live, \
                     {dead} dead and {pending} pending"
                ));
            }
        }
        Ok(())
    }

    pub fn stats(&self) -> ValueLogStats {
        let segments = self.segments.read();
        let on_disk = || {
            segments
                .values()
                .filter(|segment| !segment.removed.load(Ordering::Relaxed))
        };
        ValueLogStats {
            files: on_disk().count(),
            bytes: on_disk()
                .map(|s| s.entry_bytes.load(Ordering::Relaxed))
                .sum(),
            dead_bytes: on_disk()
                .map(|s| s.dead_bytes.load(Ordering::Relaxed))
                .sum(),
            retired_files: self.retired.lock().len(),
            files_compacted: self.files_compacted.load(Ordering::Relaxed),
            files_deleted: self.files_deleted.load(Ordering::Relaxed),
            ..ValueLogStats::default()
        }
    }
}
