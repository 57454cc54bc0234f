//! The hybrid store's side of the value log: which values go there, and reading them
//! back through the cache.
//!
//! A value goes to the value log when its batch is applied, if it has at least
//! `threshold_bytes` bytes; the index then holds a pointer. The WAL holds the value too,
//! so should the value log fail to take it, the value simply stays in memory: nothing is
//! lost, only the memory saving.

use std::sync::Arc;

use crate::error::Result;
use crate::index::{KeyOp, OpValue};
use crate::vlog::cache::ValueCache;
use crate::vlog::{ValueLog, ValueLogStats, ValuePointer};

/// A value to log: key, value, LSN of its batch.
type LoggedEntry<'a> = (&'a [u8], &'a [u8], u64);

pub(crate) struct HybridValues {
    pub log: Arc<ValueLog>,
    cache: ValueCache,
    threshold_bytes: usize,
}

impl HybridValues {
    pub fn new(log: Arc<ValueLog>, cache_bytes: u64, threshold_bytes: usize) -> Self {
        HybridValues {
            log,
            cache: ValueCache::new(cache_bytes),
            threshold_bytes,
        }
    }

    pub fn threshold_bytes(&self) -> usize {
        self.threshold_bytes
    }

    /// Writes the large values among `ops` to the value log (one write) and turns them
    /// into pointers.
    pub fn externalize(&self, ops: &mut [KeyOp]) {
        let large: Vec<(usize, LoggedEntry<'_>)> = ops
            .iter()
            .enumerate()
            .filter_map(|(i, op)| match &op.value {
                OpValue::Inline(value) if value.len() >= self.threshold_bytes => {
                    Some((i, (&op.key[..], &value[..], op.lsn)))
                }
                _ => None,
            })
            .collect();
        if large.is_empty() {
            return;
        }
        let entries: Vec<LoggedEntry<'_>> = large.iter().map(|(_, entry)| *entry).collect();
        let positions: Vec<usize> = large.iter().map(|(i, _)| *i).collect();
        let pointers = match self.log.append(&entries) {
            Ok(pointers) => pointers,
            Err(error) => {
                tracing::error!(
                    %error,
                    values = large.len(),
                    "the value log refused values; they stay in memory"
                );
                return;
            }
        };
        drop((entries, large));
        assert_eq!(pointers.len(), positions.len());
        for (i, pointer) in positions.into_iter().zip(pointers) {
            ops[i].value = OpValue::Pointer(pointer);
        }
    }

    /// The value `pointer` names, from the cache or the file.
    pub fn read(&self, pointer: &ValuePointer) -> Result<Arc<[u8]>> {
        if let Some(value) = self.cache.get(pointer) {
            return Ok(value);
        }
        let value: Arc<[u8]> = self.log.read(pointer)?.into();
        self.cache.insert(pointer, value.clone());
        Ok(value)
    }

    pub fn stats(&self) -> ValueLogStats {
        let (cache_hits, cache_misses) = self.cache.hits_and_misses();
        ValueLogStats {
            cache_bytes: self.cache.bytes(),
            cache_hits,
            cache_misses,
            ..self.log.stats()
        }
    }
}
