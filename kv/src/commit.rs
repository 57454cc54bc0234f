//! The commit pipeline and group commit.
//!
//! `submit` checks a batch, encodes it outside any lock, then takes the queue lock just
//! long enough to assign the next LSN and queue it. `wait` blocks until the batch is
//! applied. The first waiter to find no leader becomes the leader: it takes everything
//! queued, writes it to the log as one write, fdatasyncs once in `always` mode, applies
//! the batches to the index in LSN order, publishes the new visible LSN and wakes the
//! others. Committers that queued while it was syncing form the next group, so
//! concurrent committers share fsyncs without any timer.
//!
//! A batch becomes visible to readers only after it is in the log (and, in `always`
//! mode, durable), so no reader ever sees a write that a crash could take back.
//!
//! A failed write or fsync of the log is fatal: the store records the failure, every
//! waiter and every later writer gets `Error::Failed`, and nothing of the failed group is
//! applied. Retrying an fsync is not safe, since the kernel may have dropped the pages.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_epoch as epoch;

use crate::Lsn;
use crate::batch::WriteBatch;
use crate::error::{Error, Result};
use crate::index::{KeyOp, last_op_per_key};
use crate::inner::{Inner, Pending};
use crate::options::FsyncPolicy;
use crate::wal::LogItem;

/// A submitted batch. It commits whether or not anyone waits; dropping the ticket waits.
pub struct CommitTicket {
    store: Arc<Inner>,
    lsn: u64,
    waited: bool,
}

impl CommitTicket {
    pub fn lsn(&self) -> Lsn {
        Lsn(self.lsn)
    }

    /// Blocks until the batch is applied (and durable in `always` mode).
    pub fn wait(mut self) -> Result<Lsn> {
        self.waited = true;
        self.store.wait_applied(self.lsn)?;
        Ok(Lsn(self.lsn))
    }
}

impl Drop for CommitTicket {
    fn drop(&mut self) {
        if !self.waited {
            let _ = self.store.wait_applied(self.lsn);
        }
    }
}

impl Inner {
    pub(crate) fn failure(&self) -> Option<Error> {
        self.failure
            .get()
            .map(|message| Error::Failed(message.clone()))
    }

    pub(crate) fn submit(self: &Arc<Self>, batch: WriteBatch) -> Result<CommitTicket> {
        batch.check_limits(&self.options)?;
        if let Some(error) = self.failure() {
            return Err(error);
        }
        let mut encoded = Vec::new();
        if self.durable.is_some() {
            batch.encode_into(&mut encoded);
        }
        let charge_bytes = if self.options.memory_limit_bytes.is_some() {
            batch.memory_charge_bytes(self.values.as_ref().map(|values| values.threshold_bytes()))
        } else {
            0
        };
        let mut queue = self.queue.lock();
        if queue.closed {
            return Err(Error::Closed);
        }
        if let Some(limit_bytes) = self.options.memory_limit_bytes
            && charge_bytes > 0
        {
            // Batches queued ahead are not in the index yet; a group being written
            // right now (already off the queue) is missed, so the budget can be
            // overrun by at most one group of commits.
            let queued_bytes: u64 = queue.pending.iter().map(|p| p.charge_bytes).sum();
            let used_bytes = self.index.approx_bytes() + queued_bytes;
            if used_bytes.saturating_add(charge_bytes) > limit_bytes {
                return Err(Error::MemoryLimit {
                    needed_bytes: charge_bytes,
                    used_bytes,
                    limit_bytes,
                });
            }
        }
        let lsn = queue.next_lsn;
        queue.next_lsn += 1;
        queue.pending.push(Pending {
            lsn,
            encoded,
            batch,
            charge_bytes,
        });
        drop(queue);
        Ok(CommitTicket {
            store: self.clone(),
            lsn,
            waited: false,
        })
    }

    /// Returns once `lsn` is applied, leading group commits while needed.
    pub(crate) fn wait_applied(&self, lsn: u64) -> Result<()> {
        let mut sync = self.sync.lock();
        loop {
            if sync.applied_lsn >= lsn {
                return Ok(());
            }
            if let Some(error) = self.failure() {
                return Err(error);
            }
            if sync.leader_active {
                self.group_done.wait(&mut sync);
                continue;
            }
            sync.leader_active = true;
            drop(sync);
            let outcome = self.lead_group();
            sync = self.sync.lock();
            sync.leader_active = false;
            match outcome {
                Ok(Some(applied)) => sync.applied_lsn = applied,
                Ok(None) if sync.applied_lsn < lsn => {
                    // Only a leader takes queued batches, and it publishes them before
                    // stepping down: a queued LSN that is neither queued nor applied is lost.
                    let _ = self
                        .failure
                        .set(format!("internal error: batch {lsn} was lost").into());
                }
                Ok(None) => {}
                Err(error) => {
                    let message: Arc<str> = error.to_string().into();
                    tracing::error!(error = %message, "the store stops accepting writes");
                    let _ = self.failure.set(message);
                }
            }
            self.group_done.notify_all();
        }
    }

    /// Logs and applies everything queued. Returns the last LSN applied, if any.
    fn lead_group(&self) -> Result<Option<u64>> {
        let group = std::mem::take(&mut self.queue.lock().pending);
        let Some(last) = group.last() else {
            return Ok(None);
        };
        let last_lsn = last.lsn;
        if let Some(durable) = &self.durable {
            let items: Vec<LogItem<'_>> = group
                .iter()
                .map(|pending| LogItem {
                    lsn: pending.lsn,
                    encoded: &pending.encoded,
                })
                .collect();
            let mut wal = durable.wal.lock();
            let written = wal.append(&items, self.options.group_commit_bytes)?;
            if self.options.fsync == FsyncPolicy::Always {
                wal.sync()?;
            }
            drop(wal);
            let since = durable
                .wal_bytes_since_snapshot
                .fetch_add(written, Ordering::Relaxed)
                + written;
            if since >= self.options.snapshot_after_wal_bytes {
                self.wake_maintenance();
            }
        }
        self.apply_group(group, last_lsn);
        Ok(Some(last_lsn))
    }

    fn apply_group(&self, group: Vec<Pending>, last_lsn: u64) {
        let mut batch_lens = Vec::with_capacity(group.len());
        let mut all_ops: Vec<KeyOp> = Vec::new();
        for pending in group {
            assert!(pending.lsn <= last_lsn);
            let lsn = pending.lsn;
            let mut ops: Vec<KeyOp> = pending
                .batch
                .into_ops()
                .into_iter()
                .map(|op| KeyOp::from_batch(op, lsn))
                .collect();
            if self.values.is_some() {
                // A batch's later operation on a key replaces its earlier one before any
                // value is logged: the value log never takes a value no version will
                // point at. (The index keeps only the last anyway.)
                last_op_per_key(&mut ops);
            }
            batch_lens.push(ops.len());
            all_ops.extend(ops);
        }
        let ops = all_ops.len();
        if let Some(values) = &self.values {
            // Outside the apply lock: one write to the value log for the whole group.
            values.externalize(&mut all_ops);
        }
        let mut collector = self.apply.lock();
        let guard = epoch::pin();
        let mut remaining = all_ops.into_iter();
        for len in batch_lens {
            let batch: Vec<KeyOp> = remaining.by_ref().take(len).collect();
            self.index
                .apply(batch, &guard, &mut |key| collector.enqueue(key));
        }
        drop(guard);
        let previous = self.visible_lsn.swap(last_lsn, Ordering::AcqRel);
        assert!(previous < last_lsn, "visible LSN must only grow");
        collector.collect(&self.index, &self.views, last_lsn, (2 * ops).max(64));
    }
}
