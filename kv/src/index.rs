//! The in-memory index: a lock-free ordered map from key to a short chain of versions.
//!
//! The map is crossbeam's epoch-based skip list: readers never take a lock and never
//! block writers, and ordered iteration is a walk along the bottom level. Each key maps
//! to a `Chain`, a singly linked list of `Version`s, newest first, each stamped with the
//! LSN of the batch that wrote it. A reader at LSN `r` sees, for every key, the newest
//! version with `lsn <= r` (a tombstone means "absent"). That is what makes a read view
//! consistent while writers continue: versions of later batches are simply skipped.
//!
//! Invariants:
//! - Chains have a single writer at a time: batches are applied and versions trimmed
//!   only under the store's apply lock. Readers run concurrently with both.
//! - Within a chain, LSNs never increase from head to tail.
//! - A version is never modified after it is linked, except its `next` pointer, which
//!   trimming swings past versions no reader can need. Unlinked versions are freed
//!   through the epoch collector, so a reader still standing on one stays safe.
//! - A version `v` whose next-newer version is `w` is needed by a reader at `r` iff
//!   `v.lsn <= r < w.lsn`; readers are the registered views plus every future reader,
//!   which reads at or above the visible LSN. Trimming removes only unneeded versions.
//!
//! Why crossbeam-skiplist rather than our own structure: it gives lock-free ordered
//! reads, concurrent insertion and epoch reclamation, well tested; the only thing the
//! engine needs on top is per-key versions, which live in the map's values.

use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned, Shared};
use crossbeam_skiplist::SkipList;
use crossbeam_skiplist::base::Entry;

/// Approximate bytes of bookkeeping per version and per key, for memory accounting.
const VERSION_OVERHEAD_BYTES: u64 = 48;
const ENTRY_OVERHEAD_BYTES: u64 = 96;

pub(crate) enum Stored {
    Tombstone,
    Inline(Box<[u8]>),
}

pub(crate) struct Version {
    lsn: u64,
    value: Stored,
    next: Atomic<Version>,
}

impl Version {
    pub fn lsn(&self) -> u64 {
        self.lsn
    }

    /// The value, or `None` for a tombstone.
    pub fn value(&self) -> Option<&[u8]> {
        match &self.value {
            Stored::Tombstone => None,
            Stored::Inline(bytes) => Some(bytes),
        }
    }

    fn footprint(&self) -> u64 {
        VERSION_OVERHEAD_BYTES + self.value().map_or(0, |value| value.len() as u64)
    }
}

pub(crate) struct Chain {
    head: Atomic<Version>,
    /// Set while the key waits in the garbage collector's queue, to queue it once.
    pub queued: AtomicBool,
}

impl Chain {
    fn new() -> Self {
        Chain {
            head: Atomic::null(),
            queued: AtomicBool::new(false),
        }
    }

    pub fn head<'g>(&self, guard: &'g Guard) -> Option<&'g Version> {
        // SAFETY: versions reachable from a chain are freed only through the epoch
        // collector, after every guard that could have seen them is dropped.
        unsafe { self.head.load(Ordering::Acquire, guard).as_ref() }
    }

    /// The newest version at or below `lsn`.
    pub fn at<'g>(&self, lsn: u64, guard: &'g Guard) -> Option<&'g Version> {
        let mut current = self.head(guard);
        while let Some(version) = current {
            if version.lsn <= lsn {
                return Some(version);
            }
            // SAFETY: as in `head`.
            current = unsafe { version.next.load(Ordering::Acquire, guard).as_ref() };
        }
        None
    }

    /// Links a new newest version. Caller holds the apply lock.
    fn push(&self, lsn: u64, value: Stored, guard: &Guard) {
        let head = self.head.load(Ordering::Acquire, guard);
        if let Some(current) = unsafe { head.as_ref() } {
            assert!(current.lsn <= lsn, "chain LSNs must not decrease");
        }
        let version = Owned::new(Version {
            lsn,
            value,
            next: Atomic::from(head),
        });
        self.head.store(version, Ordering::Release);
    }

    /// Unlinks the versions no reader can need (see the module invariants). Caller holds
    /// the apply lock and has published every version in the chain.
    fn trim(&self, views: &[u64], visible: u64, guard: &Guard) -> Trim {
        let head = self.head.load(Ordering::Acquire, guard);
        // SAFETY: as in `head`; a queued chain always has a head.
        let Some(head_ref) = (unsafe { head.as_ref() }) else {
            return Trim::Empty { freed_bytes: 0 };
        };
        debug_assert!(head_ref.lsn <= visible, "trimming an unpublished version");
        // Decide for every older version whether some reader still needs it.
        let mut kept: Vec<Shared<'_, Version>> = vec![head];
        let mut dropped: Vec<Shared<'_, Version>> = Vec::new();
        let mut newer_lsn = head_ref.lsn;
        let mut current = head_ref.next.load(Ordering::Acquire, guard);
        while let Some(version) = unsafe { current.as_ref() } {
            let needed = newer_lsn > visible || {
                let first = views.partition_point(|&view| view < version.lsn);
                views.get(first).is_some_and(|&view| view < newer_lsn)
            };
            if needed {
                kept.push(current);
            } else {
                dropped.push(current);
            }
            newer_lsn = version.lsn;
            current = version.next.load(Ordering::Acquire, guard);
        }
        // A tombstone with nothing older kept says the same as no version at all.
        while let Some(&oldest) = kept.last() {
            if unsafe { oldest.deref() }.value().is_some() {
                break;
            }
            if kept.len() == 1 {
                let freed_bytes = dropped
                    .iter()
                    .map(|v| unsafe { v.deref() }.footprint())
                    .sum();
                self.unlink_after(head, Shared::null(), &dropped, guard);
                return Trim::Empty { freed_bytes };
            }
            dropped.push(oldest);
            kept.pop();
        }
        let freed_bytes = dropped
            .iter()
            .map(|v| unsafe { v.deref() }.footprint())
            .sum();
        if !dropped.is_empty() {
            // Relink the kept versions in order; the last one ends the chain.
            for pair in kept.windows(2) {
                let (newer, older) = (pair[0], pair[1]);
                let newer = unsafe { newer.deref() };
                if newer.next.load(Ordering::Acquire, guard) != older {
                    newer.next.store(older, Ordering::Release);
                }
            }
            let last = *kept.last().expect("the head is always kept");
            self.unlink_after(last, Shared::null(), &dropped, guard);
        }
        if kept.len() == 1 {
            Trim::Clean { freed_bytes }
        } else {
            Trim::Pinned { freed_bytes }
        }
    }

    /// Ends the chain at `last` and hands the dropped versions to the epoch collector.
    fn unlink_after<'g>(
        &self,
        last: Shared<'g, Version>,
        end: Shared<'g, Version>,
        dropped: &[Shared<'g, Version>],
        guard: &'g Guard,
    ) {
        let last = unsafe { last.deref() };
        if last.next.load(Ordering::Acquire, guard) != end {
            last.next.store(end, Ordering::Release);
        }
        for &version in dropped {
            // SAFETY: the version is unreachable from the chain now; readers that still
            // hold it are pinned, and the collector waits for them.
            unsafe { guard.defer_destroy(version) };
        }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        // SAFETY: a chain is dropped when its skip-list node is destroyed, after every
        // guard that could reach it is gone; versions unlinked earlier are not reachable
        // from the head and are freed by the collector, never here.
        unsafe {
            let guard = epoch::unprotected();
            let mut current = self.head.load(Ordering::Relaxed, guard);
            while !current.is_null() {
                let next = current.deref().next.load(Ordering::Relaxed, guard);
                drop(current.into_owned());
                current = next;
            }
        }
    }
}

pub(crate) enum Trim {
    /// One live version remains.
    Clean { freed_bytes: u64 },
    /// Older versions are still needed by registered views.
    Pinned { freed_bytes: u64 },
    /// Nothing but an unneeded tombstone remains: the key can leave the map.
    Empty { freed_bytes: u64 },
}

pub(crate) struct Index {
    map: SkipList<Box<[u8]>, Chain>,
    live_keys: AtomicU64,
    approx_bytes: AtomicU64,
}

impl Index {
    pub fn new() -> Self {
        Index {
            map: SkipList::new(epoch::default_collector().clone()),
            live_keys: AtomicU64::new(0),
            approx_bytes: AtomicU64::new(0),
        }
    }

    pub fn live_keys(&self) -> u64 {
        self.live_keys.load(Ordering::Relaxed)
    }

    /// Keys in the map, including deleted ones not yet collected.
    pub fn entries(&self) -> usize {
        self.map.len()
    }

    pub fn approx_bytes(&self) -> u64 {
        self.approx_bytes.load(Ordering::Relaxed)
    }

    pub fn get<'a: 'g, 'g>(&'a self, key: &[u8], guard: &'g Guard) -> Option<&'g Chain> {
        let entry = self.map.get(key, guard)?;
        // SAFETY of the lifetime: the entry borrows `self` and the guard, and the chain
        // lives as long as the node, which the guard keeps alive.
        Some(entry.value())
    }

    /// Writes a version of `key` (`value` `None` deletes). Calls `queue_for_gc` with the
    /// key when its chain newly holds garbage. Caller holds the apply lock.
    pub fn apply(
        &self,
        key: Box<[u8]>,
        value: Option<Box<[u8]>>,
        lsn: u64,
        guard: &Guard,
        queue_for_gc: impl FnOnce(&[u8]),
    ) {
        let key_len = key.len() as u64;
        let queue = |chain: &Chain, key: &[u8]| {
            if !chain.queued.swap(true, Ordering::Relaxed) {
                queue_for_gc(key);
            }
        };
        match value {
            Some(value) => {
                let value_len = value.len() as u64;
                let entry = self.map.get_or_insert_with(key, Chain::new, guard);
                let chain = entry.value();
                let previous = chain.head(guard);
                let was_live = previous.is_some_and(|v| v.value().is_some());
                if previous.is_none() {
                    self.approx_bytes
                        .fetch_add(ENTRY_OVERHEAD_BYTES + key_len, Ordering::Relaxed);
                }
                chain.push(lsn, Stored::Inline(value), guard);
                self.approx_bytes
                    .fetch_add(VERSION_OVERHEAD_BYTES + value_len, Ordering::Relaxed);
                if !was_live {
                    self.live_keys.fetch_add(1, Ordering::Relaxed);
                }
                if previous.is_some() {
                    queue(chain, entry.key());
                }
                entry.release(guard);
            }
            None => {
                let Some(entry) = self.map.get(&key, guard) else {
                    return;
                };
                let chain = entry.value();
                // Deleting an absent key changes nothing any reader could see.
                if !chain.head(guard).is_some_and(|v| v.value().is_some()) {
                    return;
                }
                chain.push(lsn, Stored::Tombstone, guard);
                self.approx_bytes
                    .fetch_add(VERSION_OVERHEAD_BYTES, Ordering::Relaxed);
                self.live_keys.fetch_sub(1, Ordering::Relaxed);
                queue(chain, entry.key());
            }
        }
    }

    /// Trims the chain of `key` (see `Chain::trim`), removing the key when nothing is left.
    /// Caller holds the apply lock.
    pub fn collect(&self, key: &[u8], views: &[u64], visible: u64, guard: &Guard) -> Trim {
        let Some(entry) = self.map.get(key, guard) else {
            return Trim::Empty { freed_bytes: 0 };
        };
        let chain = entry.value();
        let trim = chain.trim(views, visible, guard);
        let freed = match trim {
            Trim::Pinned { freed_bytes } => freed_bytes,
            Trim::Clean { freed_bytes } => {
                chain.queued.store(false, Ordering::Relaxed);
                freed_bytes
            }
            Trim::Empty { freed_bytes } => {
                entry.remove();
                let head = chain.head(guard).map_or(0, Version::footprint);
                freed_bytes + head + ENTRY_OVERHEAD_BYTES + key.len() as u64
            }
        };
        self.approx_bytes.fetch_sub(freed, Ordering::Relaxed);
        trim
    }

    /// The first entry at or after `bound` (forward) or at or before it (backward).
    pub fn seek<'a, 'g>(
        &'a self,
        bound: Bound<&[u8]>,
        reverse: bool,
        guard: &'g Guard,
    ) -> Option<Entry<'a, 'g, Box<[u8]>, Chain>> {
        if reverse {
            self.map.upper_bound(bound, guard)
        } else {
            self.map.lower_bound(bound, guard)
        }
    }
}
