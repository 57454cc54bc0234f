//! The write sets of recent commits, against which SERIALIZABLE transactions validate
//! what they read.
//!
//! Every read-write commit appends its keys here in the same critical section that gives
//! it its LSN, so the log is ordered by LSN and complete: a transaction validating with
//! the log locked sees every commit ordered before its own. An entry is kept while some
//! serializable transaction's snapshot is older than it, and while it is not yet visible
//! (a transaction starting now would have an older snapshot).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::ops::Bound;

use bytes::Bytes;

use crate::error::{Error, Result};

/// What a serializable transaction read: keys, and ranges it scanned (so that a key
/// written inside a scanned range — a phantom — counts as a conflict too).
#[derive(Clone, Default)]
pub(crate) struct ReadSet {
    pub keys: HashSet<Bytes>,
    pub ranges: Vec<(Bound<Bytes>, Bound<Bytes>)>,
}

impl ReadSet {
    fn conflicts_with(&self, written: &[Bytes]) -> bool {
        let keys_hit = if written.len() <= self.keys.len() {
            written.iter().any(|key| self.keys.contains(key))
        } else {
            self.keys
                .iter()
                .any(|key| written.binary_search(key).is_ok())
        };
        keys_hit
            || self.ranges.iter().any(|(start, end)| {
                // The first written key at or after the range start must be before its end.
                let first = match start {
                    Bound::Included(start) => written.partition_point(|key| key < start),
                    Bound::Excluded(start) => written.partition_point(|key| key <= start),
                    Bound::Unbounded => 0,
                };
                written.get(first).is_some_and(|key| match end {
                    Bound::Included(end) => key <= end,
                    Bound::Excluded(end) => key < end,
                    Bound::Unbounded => true,
                })
            })
    }
}

struct Committed {
    lsn: u64,
    /// Sorted.
    keys: Vec<Bytes>,
}

#[derive(Default)]
pub(crate) struct CommitLog {
    entries: VecDeque<Committed>,
    /// Snapshot LSNs of active serializable read-write transactions, with counts.
    serializable: BTreeMap<u64, usize>,
}

impl CommitLog {
    pub fn register_serializable(&mut self, snapshot: u64) {
        *self.serializable.entry(snapshot).or_insert(0) += 1;
    }

    pub fn unregister_serializable(&mut self, snapshot: u64) {
        if let Some(count) = self.serializable.get_mut(&snapshot) {
            *count -= 1;
            if *count == 0 {
                self.serializable.remove(&snapshot);
            }
        }
    }

    /// Fails if a commit after `snapshot` wrote something in `reads`.
    pub fn validate(&self, snapshot: u64, reads: &ReadSet) -> Result<()> {
        for entry in self
            .entries
            .iter()
            .rev()
            .take_while(|entry| entry.lsn > snapshot)
        {
            if reads.conflicts_with(&entry.keys) {
                return Err(Error::Serialization {
                    reason: "read/write dependencies among transactions",
                });
            }
        }
        Ok(())
    }

    /// Appends a commit; `keys` sorted. LSNs arrive in increasing order.
    pub fn record(&mut self, lsn: u64, keys: Vec<Bytes>) {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(
            self.entries.back().is_none_or(|last| last.lsn < lsn),
            "commit LSNs must increase"
        );
        self.entries.push_back(Committed { lsn, keys });
    }

    /// Drops entries no validation can need any more.
    pub fn prune(&mut self, visible: u64) {
        let keep_after = self
            .serializable
            .keys()
            .next()
            .map_or(visible, |&oldest| oldest.min(visible));
        while self
            .entries
            .front()
            .is_some_and(|entry| entry.lsn <= keep_after)
        {
            self.entries.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(keys: &[&str]) -> Vec<Bytes> {
        keys.iter()
            .map(|k| Bytes::copy_from_slice(k.as_bytes()))
            .collect()
    }

    #[test]
    fn a_read_key_or_a_key_in_a_scanned_range_conflicts() {
        let mut reads = ReadSet::default();
        reads.keys.insert(Bytes::from_static(b"b"));
        reads.ranges.push((
            Bound::Included(Bytes::from_static(b"m")),
            Bound::Excluded(Bytes::from_static(b"p")),
        ));
        assert!(reads.conflicts_with(&keys(&["a", "b"])));
        assert!(reads.conflicts_with(&keys(&["m"])));
        assert!(reads.conflicts_with(&keys(&["a", "o", "z"])));
        assert!(!reads.conflicts_with(&keys(&["a", "c", "l", "p", "z"])));
    }

    #[test]
    fn only_commits_after_the_snapshot_count_and_pruning_keeps_what_validators_need() {
        let mut log = CommitLog::default();
        let mut reads = ReadSet::default();
        reads.keys.insert(Bytes::from_static(b"x"));
        log.record(5, keys(&["x"]));
        log.record(7, keys(&["y"]));
        assert!(log.validate(5, &reads).is_ok());
        assert!(log.validate(4, &reads).is_err());

        log.register_serializable(4);
        log.prune(7);
        assert_eq!(log.len(), 2, "a transaction at snapshot 4 still needs both");
        log.unregister_serializable(4);
        log.prune(6);
        assert_eq!(log.len(), 1, "commit 7 is not visible yet");
        log.prune(7);
        assert_eq!(log.len(), 0);
    }
}
