//! Garbage collection of versions no reader can see.
//!
//! Applying a batch queues every key whose chain gained a second version or a
//! tombstone. After each batch is published, the leader trims a bounded number of
//! queued keys (about twice what it applied, so collection keeps pace with writing), and
//! the maintenance thread drains the rest when writes pause. Keys whose old versions are
//! still needed by registered views are parked and looked at again once the oldest view
//! has moved on, or as soon as they get a new version (which may make the one below it
//! unneeded). Everything here runs under the apply lock.

use std::collections::{HashSet, VecDeque};

use crossbeam_epoch as epoch;

use crate::index::{Index, Trim};
use crate::view_registry::ViewRegistry;

#[derive(Default)]
pub(crate) struct Collector {
    ready: VecDeque<Box<[u8]>>,
    parked: HashSet<Box<[u8]>>,
    /// The oldest view when keys were last parked; `None` when nothing is parked.
    parked_at_view: Option<u64>,
}

impl Collector {
    /// Queues a key whose chain has something to collect (it may have been parked).
    pub fn enqueue(&mut self, key: &[u8]) {
        self.parked.remove(key);
        self.ready.push_back(key.into());
    }

    pub fn pending(&self) -> usize {
        self.ready.len() + self.parked.len()
    }

    /// Trims up to `budget` queued keys; returns how many were examined.
    pub fn collect(
        &mut self,
        index: &Index,
        views: &ViewRegistry,
        visible: u64,
        budget: usize,
    ) -> usize {
        let view_lsns = views.lsns();
        if let Some(parked_at) = self.parked_at_view
            && view_lsns.first().is_none_or(|&oldest| oldest > parked_at)
        {
            self.ready.extend(self.parked.drain());
            self.parked_at_view = None;
        }
        let guard = epoch::pin();
        let mut examined = 0;
        while examined < budget {
            let Some(key) = self.ready.pop_front() else {
                break;
            };
            examined += 1;
            if let Trim::Pinned(_) = index.collect(&key, &view_lsns, visible, &guard) {
                self.parked.insert(key);
                self.parked_at_view = Some(view_lsns.first().copied().unwrap_or(0));
            }
        }
        examined
    }
}
