//! Checkpoints: write a snapshot from a read view while writers continue, then drop
//! what it makes unnecessary.
//!
//! Order of events, each step durable before the next:
//! 1. Take a read view at LSN `S`; make the log durable through `S` (so the log still
//!    covers everything the snapshot will hold, should the snapshot be lost).
//! 2. Write `S.snap.tmp` block by block from the view, fsync it, rename it to `S.snap`,
//!    fsync the directory.
//!    In a hybrid store the value log is synced before the rename: the snapshot holds
//!    pointers into it.
//! 3. Delete snapshots beyond the newest `snapshots_kept`, then the log segments whose
//!    every LSN is covered by the oldest snapshot kept, then the compacted value-log
//!    files no kept snapshot points into (see `compaction`).
//!
//! A crash anywhere leaves either the previous snapshots with a log covering them, or
//! the new snapshot as well; a leftover `.tmp` is removed at the next open.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::inner::{Durable, Inner};
use crate::snapshot::{SnapshotInfo, SnapshotWriter, parse_snapshot_name};
use crate::view::ReadView;

impl Inner {
    pub(crate) fn checkpoint(self: &Arc<Self>) -> Result<Option<SnapshotInfo>> {
        let Some(durable) = &self.durable else {
            return Ok(None);
        };
        let mut state = durable.checkpoints.lock();
        if let Some(error) = self.failure() {
            return Err(error);
        }
        let view = ReadView::new(self.clone());
        let lsn = view.lsn().0;
        if let Some(last) = &state.last
            && last.lsn >= lsn
        {
            return Ok(Some(last.clone()));
        }
        self.sync_wal()?;
        let bytes_before = durable
            .wal_bytes_since_snapshot
            .load(std::sync::atomic::Ordering::Relaxed);

        let sealing = durable.keyring.as_ref().map(|keyring| keyring.lock());
        let writer = SnapshotWriter::begin(
            durable.fs.clone(),
            &durable.snapshot_dir,
            lsn,
            sealing.as_deref(),
        );
        drop(sealing);
        let mut writer = writer?;
        let mut entries_added = 0u64;
        let failed = view.for_each_stored(.., false, |key, value| match writer.add(key, value) {
            Ok(()) => {
                entries_added += 1;
                ControlFlow::Continue(())
            }
            Err(error) => ControlFlow::Break(error),
        });
        drop(view);
        let failed = match (failed, &self.values) {
            (Some(error), _) => Some(error),
            (None, Some(values)) => values.log.sync().err(),
            (None, None) => None,
        };
        if let Some(error) = failed {
            writer.abandon();
            return Err(error);
        }
        let info = writer.finish()?;
        assert_eq!(
            info.lsn, lsn,
            "the snapshot holds the view it was written from"
        );
        assert_eq!(
            info.entries, entries_added,
            "every entry added is in the snapshot"
        );
        durable
            .wal_bytes_since_snapshot
            .fetch_sub(bytes_before, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            lsn,
            entries = info.entries,
            bytes = info.bytes,
            duration_ms = info.duration.as_millis() as u64,
            "snapshot written"
        );
        state.last = Some(info.clone());
        state.written += 1;
        state.last_at = Instant::now();
        state.retry_after = None;
        prune(durable, self.options.snapshots_kept)?;
        if let Some(values) = &self.values {
            values.log.note_dead(&self.index.take_dead_values());
            values.log.checkpoint_done()?;
        }
        drop(state);
        Ok(Some(info))
    }
}

/// Deletes snapshots beyond the newest `kept` and the log they made unnecessary.
fn prune(durable: &Durable, kept: usize) -> Result<()> {
    assert!(kept >= 1, "the newest snapshot is always kept");
    let names = durable
        .fs
        .list(&durable.snapshot_dir)
        .map_err(|e| Error::io("listing snapshots", e))?;
    let mut snapshots: Vec<u64> = names
        .iter()
        .filter_map(|n| parse_snapshot_name(n))
        .collect();
    snapshots.sort_unstable_by(|a, b| b.cmp(a));
    for &lsn in snapshots.iter().skip(kept) {
        let path = durable
            .snapshot_dir
            .join(crate::snapshot::snapshot_name(lsn));
        durable
            .fs
            .remove_file(&path)
            .map_err(|e| Error::io(format!("removing snapshot {}", path.display()), e))?;
    }
    if let Some(&oldest_kept) = snapshots[..kept.min(snapshots.len())].last() {
        let removed = durable.wal.lock().remove_through(oldest_kept)?;
        if removed > 0 {
            tracing::debug!(removed, through_lsn = oldest_kept, "removed WAL segments");
        }
    }
    Ok(())
}
