//! Building a whole tree at once from sorted keys: loading a snapshot.

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64};

use parking_lot::Mutex;

use super::node::{CAP, Node};
use super::version::{Stored, Version};
use super::{ENTRY_OVERHEAD_BYTES, Index, build_levels, free_tree, new_leaf};

/// Builds an index from keys in strictly ascending order, all written at one LSN (a
/// snapshot being loaded). Leaves are filled to capacity.
pub(crate) struct BulkLoader {
    lsn: u64,
    keys: Vec<u8>,
    ends: Vec<usize>,
    slots: Vec<*mut u8>,
    leaves: Vec<*mut Node>,
    live: u64,
    bytes: u64,
}

impl BulkLoader {
    pub fn new(lsn: u64) -> Self {
        BulkLoader {
            lsn,
            keys: Vec::new(),
            ends: Vec::with_capacity(CAP),
            slots: Vec::with_capacity(CAP),
            leaves: Vec::new(),
            live: 0,
            bytes: 0,
        }
    }

    pub fn push(&mut self, key: &[u8], value: Stored<'_>) {
        self.keys.extend_from_slice(key);
        self.ends.push(self.keys.len());
        let version = Version::new(self.lsn, Some(value), ptr::null_mut());
        self.slots.push(version.cast());
        self.live += 1;
        // SAFETY: just allocated, not yet shared.
        self.bytes += ENTRY_OVERHEAD_BYTES + key.len() as u64 + unsafe { (*version).footprint() };
        if self.slots.len() == CAP {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.slots.is_empty() {
            return;
        }
        let mut start = 0;
        let entries: Vec<(&[u8], *mut u8)> = self
            .ends
            .iter()
            .zip(&self.slots)
            .map(|(&end, &slot)| {
                let key = &self.keys[start..end];
                start = end;
                (key, slot)
            })
            .collect();
        self.leaves.push(Node::build(true, &entries));
        self.keys.clear();
        self.ends.clear();
        self.slots.clear();
    }

    pub fn finish(mut self) -> Index {
        self.flush();
        let leaves = std::mem::take(&mut self.leaves);
        let root = match leaves.len() {
            0 => new_leaf(),
            _ => build_levels(leaves),
        };
        let index = Index {
            root: AtomicPtr::new(root),
            live_keys: AtomicU64::new(self.live),
            entries: AtomicU64::new(self.live),
            versions: AtomicU64::new(self.live),
            approx_bytes: AtomicU64::new(self.bytes),
            dead_values: Mutex::new(Vec::new()),
        };
        index.debug_check(true, &crossbeam_epoch::pin());
        index
    }
}

impl Drop for BulkLoader {
    fn drop(&mut self) {
        // Only a load abandoned half-way (a damaged snapshot) has anything left here.
        for &slot in &self.slots {
            // SAFETY: never shared.
            unsafe { Version::free(slot.cast()) };
        }
        for &leaf in &self.leaves {
            // SAFETY: never shared.
            unsafe { free_tree(leaf) };
        }
    }
}
