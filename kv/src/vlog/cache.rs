//! A bounded cache of values read from the value log, so hot values cost a hash lookup
//! rather than a read and a checksum.
//!
//! The budget is in bytes (values plus a fixed overhead per entry) and is split across
//! shards, each behind its own lock, so concurrent readers rarely meet. Eviction is CLOCK
//! (second chance): an entry read since the hand last passed survives one more pass. A
//! value larger than a shard's budget is never cached.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::ValuePointer;

const SHARDS: usize = 16;
/// Bookkeeping per cached value, counted against the budget.
const ENTRY_OVERHEAD_BYTES: u64 = 64;

type Slot = (u64, u64);

struct Entry {
    value: Arc<[u8]>,
    referenced: bool,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Slot, Entry>,
    /// The clock: every cached slot once, the hand at the front.
    clock: VecDeque<Slot>,
    bytes: u64,
}

pub(crate) struct ValueCache {
    shards: Vec<Mutex<Shard>>,
    shard_budget_bytes: u64,
    hits: AtomicU64,
    misses: AtomicU64,
}

fn cost(value: &[u8]) -> u64 {
    value.len() as u64 + ENTRY_OVERHEAD_BYTES
}

impl ValueCache {
    pub fn new(budget_bytes: u64) -> Self {
        ValueCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_budget_bytes: budget_bytes / SHARDS as u64,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn shard(&self, slot: Slot) -> &Mutex<Shard> {
        let mixed = (slot.0 ^ slot.1.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        &self.shards[(mixed >> 59) as usize % SHARDS]
    }

    pub fn get(&self, pointer: &ValuePointer) -> Option<Arc<[u8]>> {
        let slot = (pointer.file_no, pointer.offset);
        let mut shard = self.shard(slot).lock();
        match shard.entries.get_mut(&slot) {
            Some(entry) => {
                entry.referenced = true;
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(entry.value.clone())
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    pub fn insert(&self, pointer: &ValuePointer, value: Arc<[u8]>) {
        let cost = cost(&value);
        if cost > self.shard_budget_bytes {
            return;
        }
        let slot = (pointer.file_no, pointer.offset);
        let mut shard = self.shard(slot).lock();
        if shard.entries.contains_key(&slot) {
            return;
        }
        while shard.bytes + cost > self.shard_budget_bytes {
            let Some(candidate) = shard.clock.pop_front() else {
                break;
            };
            let Some(entry) = shard.entries.get_mut(&candidate) else {
                continue;
            };
            if entry.referenced {
                entry.referenced = false;
                shard.clock.push_back(candidate);
            } else if let Some(evicted) = shard.entries.remove(&candidate) {
                shard.bytes -= self::cost(&evicted.value);
            }
        }
        shard.bytes += cost;
        shard.clock.push_back(slot);
        shard.entries.insert(
            slot,
            Entry {
                value,
                referenced: false,
            },
        );
        debug_assert!(shard.bytes <= self.shard_budget_bytes);
    }

    /// Bytes held now (never above the budget).
    pub fn bytes(&self) -> u64 {
        self.shards.iter().map(|shard| shard.lock().bytes).sum()
    }

    pub fn hits_and_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer(offset: u64) -> ValuePointer {
        ValuePointer {
            file_no: 1,
            offset,
            len: 0,
            crc: 0,
        }
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_keeps_what_is_read_again() {
        let cache = ValueCache::new(16 * 10 * (100 + ENTRY_OVERHEAD_BYTES));
        let value: Arc<[u8]> = vec![1u8; 100].into();
        cache.insert(&pointer(0), value.clone());
        for offset in 1..10_000u64 {
            cache.insert(&pointer(offset), value.clone());
            // Offset 0 is read between inserts: the clock gives it a second chance.
            assert!(cache.get(&pointer(0)).is_some(), "a hot value was evicted");
            assert!(cache.bytes() <= 16 * 10 * (100 + ENTRY_OVERHEAD_BYTES));
        }
        let cached = (1..10_000u64)
            .filter(|&offset| cache.get(&pointer(offset)).is_some())
            .count();
        assert!(cached < 200, "{cached} values cached");
        assert!(cache.hits_and_misses().0 >= 9_999);
    }

    #[test]
    fn a_value_larger_than_a_shard_is_not_cached() {
        let cache = ValueCache::new(16 * 1000);
        cache.insert(&pointer(5), vec![0u8; 2000].into());
        assert!(cache.get(&pointer(5)).is_none());
        assert_eq!(cache.bytes(), 0);
    }
}
