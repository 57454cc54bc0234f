//! The registry of live read views: the LSN each reads at, counted, so the garbage
//! collector keeps every version some view can still see.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

#[derive(Default)]
pub(crate) struct ViewRegistry {
    views: Mutex<BTreeMap<u64, usize>>,
}

impl ViewRegistry {
    pub fn register(&self, visible: &AtomicU64) -> u64 {
        let mut views = self.views.lock();
        let lsn = visible.load(Ordering::Acquire);
        *views.entry(lsn).or_insert(0) += 1;
        lsn
    }

    pub fn unregister(&self, lsn: u64) {
        let mut views = self.views.lock();
        let count = views.get_mut(&lsn).expect("unregistering an unknown view");
        *count -= 1;
        if *count == 0 {
            views.remove(&lsn);
        }
    }

    /// The distinct LSNs of live views, ascending.
    pub fn lsns(&self) -> Vec<u64> {
        self.views.lock().keys().copied().collect()
    }

    pub fn count(&self) -> usize {
        self.views.lock().values().sum()
    }
}
